//! The CPU executor: runs a schedule's steps in order on host buffers.
//!
//! Kernels run on all cores: the parallel loop's range is cut into chunks that rayon's workers take
//! (`fn(args, start, end)` is the one kernel ABI). Matmuls go to the `gemm` crate's tuned microkernels
//! (AVX-512 when the CPU has it, detected at run time), random fills to counter-based Philox in parallel.
//! Buffers are freed after their last use.

use super::storage::Storage;
use super::{Buffer, HostBuffer};
use crate::{DType, Error, Result};
use rayon::prelude::*;
use smelt_codegen::cpu::{CpuProgram, KernelFn};
use smelt_codegen::eval::HostData;
use smelt_codegen::kernel::{Kernel, Stmt};
use smelt_codegen::matmul::MatmulSpec;
use smelt_passes::schedule::{BufIdx, BufKind, Schedule, Step};
use smelt_passes::{Dist, random};
use std::collections::HashMap;
use std::sync::{Arc, Mutex, OnceLock};

/// How a kernel step runs.
pub(crate) enum Exec {
    /// The kernel IR's reference evaluator (slow; for debugging and differential tests).
    Eval,
    /// Machine code from Cranelift.
    Jit(Arc<CpuProgram>),
}

/// Compiled kernels by their IR: the same kernel in two schedules compiles once.
fn kernel_cache() -> &'static Mutex<HashMap<Kernel, Arc<CpuProgram>>> {
    static CACHE: OnceLock<Mutex<HashMap<Kernel, Arc<CpuProgram>>>> = OnceLock::new();
    CACHE.get_or_init(Default::default)
}

/// The Cranelift program for a kernel, compiled once per process.
pub(crate) fn jit(kernel: &Kernel) -> Result<Exec> {
    if let Some(p) = kernel_cache()
        .lock()
        .unwrap_or_else(|e| e.into_inner())
        .get(kernel)
    {
        return Ok(Exec::Jit(p.clone()));
    }
    let program = Arc::new(smelt_codegen::cpu::compile(kernel)?);
    kernel_cache()
        .lock()
        .unwrap_or_else(|e| e.into_inner())
        .insert(kernel.clone(), program.clone());
    Ok(Exec::Jit(program))
}

/// Below this much work (parallel iterations × inner trip counts) a kernel runs on the calling thread:
/// handing it to workers would cost more than it saves.
const MIN_PARALLEL_WORK: u64 = 1 << 15;

/// The kernel's argument pointers, shared with the workers that run its chunks.
struct Args(Vec<*mut u8>);
// SAFETY: the pointers are to buffers that outlive the launch; chunks write disjoint parts of the
// outputs (the parallel loop's iterations are independent) and only read the inputs.
unsafe impl Send for Args {}
unsafe impl Sync for Args {}

/// Runs `f` over `0..extent`, split across rayon's workers when there is enough work.
fn launch(f: KernelFn, args: &Args, extent: u64, work: u64) {
    let threads = rayon::current_num_threads() as u64;
    if threads <= 1 || extent <= 1 || extent.saturating_mul(work) < MIN_PARALLEL_WORK {
        // SAFETY: see `Args`; the range is the whole parallel loop.
        unsafe { f(args.0.as_ptr(), 0, extent) };
        return;
    }
    // A few chunks per worker balance uneven work; chunk starts stay multiples of 16 so vector loops
    // keep their alignment.
    let chunks = (threads * 4).min(extent);
    let mut per = extent.div_ceil(chunks);
    if per > 64 {
        per = per.div_ceil(16) * 16;
    }
    let n = extent.div_ceil(per);
    (0..n).into_par_iter().for_each(|c| {
        let (start, end) = (c * per, ((c + 1) * per).min(extent));
        // SAFETY: see `Args`; 0 <= start < end <= extent.
        unsafe { f(args.0.as_ptr(), start, end) };
    });
}

/// A schedule with every kernel ready to run.
pub(crate) struct Plan {
    pub schedule: Schedule,
    pub execs: Vec<Option<Exec>>,
    /// Per step: the work of one parallel iteration (inner loop trip counts), to size chunks.
    pub work: Vec<u64>,
    pub last_use: Vec<Option<usize>>,
}

fn inner_work(stmts: &[Stmt]) -> u64 {
    stmts
        .iter()
        .map(|s| match s {
            Stmt::Loop { extent, body, .. } => extent.saturating_mul(inner_work(body)),
            _ => 1,
        })
        .fold(0u64, |a, b| a.saturating_add(b))
        .max(1)
}

impl Plan {
    pub(crate) fn new(schedule: Schedule, exec: impl Fn(&Kernel) -> Result<Exec>) -> Result<Plan> {
        let mut execs = vec![];
        let mut work = vec![];
        for s in &schedule.steps {
            match s {
                Step::Kernel { kernel, .. } => {
                    execs.push(Some(exec(kernel)?));
                    work.push(inner_work(&kernel.body));
                }
                _ => {
                    execs.push(None);
                    work.push(1);
                }
            }
        }
        let last_use = schedule.last_uses();
        Ok(Plan {
            schedule,
            execs,
            work,
            last_use,
        })
    }

    /// Runs the plan on `inputs` (one per graph input) and returns one buffer per graph output.
    pub(crate) fn run(&self, inputs: &[Arc<HostBuffer>]) -> Result<Vec<Buffer>> {
        let s = &self.schedule;
        let mut bufs: Vec<Option<Arc<HostBuffer>>> = vec![None; s.buffers.len()];
        for (i, b) in s.buffers.iter().enumerate() {
            if let BufKind::Input(n) = b.kind {
                bufs[i] = Some(inputs[n as usize].clone());
            }
        }
        let keep: Vec<bool> = (0..s.buffers.len())
            .map(|i| s.outputs.contains(&BufIdx(i as u32)))
            .collect();
        let timing = crate::debug::timing();
        for (i, step) in s.steps.iter().enumerate() {
            let start = timing.then(std::time::Instant::now);
            match step {
                Step::Kernel { kernel, args } => {
                    self.run_kernel(i, kernel, args, &mut bufs)?;
                }
                Step::Matmul { spec, a, b, out } => {
                    let (a, b) = (host(&bufs, *a)?, host(&bufs, *b)?);
                    let storage = matmul(spec, a.storage(), b.storage())?;
                    bufs[out.0 as usize] = Some(HostBuffer::new(storage));
                }
                Step::Rand {
                    out,
                    seed,
                    offset,
                    dist,
                } => {
                    let ty = &s.buffers[out.0 as usize].ty;
                    bufs[out.0 as usize] = Some(HostBuffer::new(rand(
                        ty.dtype,
                        ty.numel(),
                        *seed,
                        *offset,
                        *dist,
                    )));
                }
            }
            if let Some(start) = start {
                crate::debug::launch(crate::Device::Cpu, i, step, start.elapsed());
            }
            // Free intermediates after their last use.
            for (j, last) in self.last_use.iter().enumerate() {
                if *last == Some(i) && !keep[j] && !matches!(s.buffers[j].kind, BufKind::Input(_)) {
                    bufs[j] = None;
                }
            }
        }
        s.outputs
            .iter()
            .map(|o| {
                let b = match &bufs[o.0 as usize] {
                    Some(b) => b.clone(),
                    // An empty output no step wrote.
                    None => {
                        let ty = &s.buffers[o.0 as usize].ty;
                        HostBuffer::new(Storage::zeros(ty.dtype, ty.numel()))
                    }
                };
                Ok(Buffer::Cpu(b))
            })
            .collect()
    }

    fn run_kernel(
        &self,
        step: usize,
        kernel: &Kernel,
        args: &[BufIdx],
        bufs: &mut [Option<Arc<HostBuffer>>],
    ) -> Result<()> {
        let s = &self.schedule;
        match self.execs[step]
            .as_ref()
            .expect("kernel steps have an exec")
        {
            Exec::Eval => {
                let mut data: Vec<HostData> = args
                    .iter()
                    .map(|a| {
                        let d = &s.buffers[a.0 as usize];
                        Ok(match &bufs[a.0 as usize] {
                            Some(b) => to_host_data(b.storage()),
                            None => HostData::zeros(d.ty.dtype, d.ty.numel()),
                        })
                    })
                    .collect::<Result<_>>()?;
                smelt_codegen::eval::eval(kernel, &mut data).map_err(Error::Internal)?;
                for (a, d) in args.iter().zip(data) {
                    let desc = &s.buffers[a.0 as usize];
                    match desc.kind {
                        BufKind::ErrorFlag { size, .. } => {
                            if matches!(d, HostData::I32(ref v) if v[0] != 0) {
                                return Err(Error::IndexOutOfRange { op: "gather", size });
                            }
                        }
                        _ if bufs[a.0 as usize].is_none() => {
                            bufs[a.0 as usize] = Some(HostBuffer::new(from_host_data(d)));
                        }
                        _ => {}
                    }
                }
                Ok(())
            }
            Exec::Jit(program) => {
                // Fresh outputs, not zeroed (the kernel stores every element of its output), and error
                // flags, zeroed (a kernel only sets them).
                let mut fresh: Vec<(usize, Storage)> = vec![];
                for (pos, a) in args.iter().enumerate() {
                    if bufs[a.0 as usize].is_none() {
                        let d = &s.buffers[a.0 as usize];
                        fresh.push((
                            pos,
                            match d.kind {
                                BufKind::ErrorFlag { .. } => {
                                    Storage::zeros(d.ty.dtype, d.ty.numel())
                                }
                                _ => Storage::for_writing(d.ty.dtype, d.ty.numel()),
                            },
                        ));
                    }
                }
                let mut ptrs: Vec<*mut u8> = Vec::with_capacity(args.len());
                let mut k = 0;
                for (pos, a) in args.iter().enumerate() {
                    if k < fresh.len() && fresh[k].0 == pos {
                        ptrs.push(fresh[k].1.as_mut_ptr());
                        k += 1;
                    } else {
                        let b = bufs[a.0 as usize]
                            .as_ref()
                            .expect("inputs are written before use");
                        ptrs.push(b.storage().as_ptr() as *mut u8);
                    }
                }
                launch(program.entry(), &Args(ptrs), kernel.extent, self.work[step]);
                for (pos, mut storage) in fresh {
                    let a = args[pos];
                    match s.buffers[a.0 as usize].kind {
                        BufKind::ErrorFlag { size, .. } => {
                            if matches!(storage, Storage::I32(ref v) if v[0] != 0) {
                                return Err(Error::IndexOutOfRange { op: "gather", size });
                            }
                        }
                        _ => {
                            // SAFETY: a kernel stores every element of its output (its loop nest is
                            // the output's shape; see `passes::lower`).
                            unsafe { storage.assume_written(s.buffers[a.0 as usize].ty.numel()) };
                            bufs[a.0 as usize] = Some(HostBuffer::new(storage));
                        }
                    }
                }
                Ok(())
            }
        }
    }
}

fn host(bufs: &[Option<Arc<HostBuffer>>], b: BufIdx) -> Result<Arc<HostBuffer>> {
    bufs[b.0 as usize]
        .clone()
        .ok_or_else(|| Error::Internal(format!("buffer {b} read before it is written")))
}

fn to_host_data(s: &Storage) -> HostData {
    match s {
        Storage::Bool(v) => HostData::Bool(v.clone()),
        Storage::U8(v) => HostData::U8(v.clone()),
        Storage::I32(v) => HostData::I32(v.clone()),
        Storage::I64(v) => HostData::I64(v.clone()),
        Storage::F32(v) => HostData::F32(v.clone()),
        Storage::F64(v) => HostData::F64(v.clone()),
    }
}

fn from_host_data(d: HostData) -> Storage {
    match d {
        HostData::Bool(v) => Storage::Bool(v),
        HostData::U8(v) => Storage::U8(v),
        HostData::I32(v) => Storage::I32(v),
        HostData::I64(v) => Storage::I64(v),
        HostData::F32(v) => Storage::F32(v),
        HostData::F64(v) => Storage::F64(v),
    }
}

/// Fills a buffer with Philox random numbers, in parallel chunks (values do not depend on the split).
pub(crate) fn rand(dtype: DType, n: usize, seed: u64, offset: u64, dist: Dist) -> Storage {
    const CHUNK: usize = 1 << 14;
    match dtype {
        DType::F64 => {
            let mut v = vec![0f64; n];
            v.par_chunks_mut(CHUNK).enumerate().for_each(|(c, out)| {
                for (i, x) in out.iter_mut().enumerate() {
                    *x = random::sample(seed, offset + (c * CHUNK + i) as u64, dist, dtype);
                }
            });
            Storage::F64(v)
        }
        _ => {
            let mut v = vec![0f32; n];
            v.par_chunks_mut(CHUNK).enumerate().for_each(|(c, out)| {
                for (i, x) in out.iter_mut().enumerate() {
                    *x = random::sample(seed, offset + (c * CHUNK + i) as u64, dist, dtype) as f32;
                }
            });
            Storage::F32(v)
        }
    }
}

/// Runs a matmul spec with the `gemm` crate; the result is a fresh `[batch, m, n]` buffer.
fn matmul(spec: &MatmulSpec, a: &Storage, b: &Storage) -> Result<Storage> {
    let (m, n, k, batch) = (
        spec.m as usize,
        spec.n as usize,
        spec.k as usize,
        spec.batch as usize,
    );
    // Threads pay off for enough work in both output dims: a 10-row product (a classifier layer's
    // weight gradient) ran ~2x faster on one thread than split across two.
    let big = m * n * k >= 1 << 18 && m.min(n) >= 32;
    let par = if big {
        gemm::Parallelism::Rayon(rayon::current_num_threads())
    } else {
        gemm::Parallelism::None
    };
    let total = batch * m * n;
    if k == 0 || m * n == 0 {
        return Ok(Storage::zeros(spec.dtype, total));
    }
    // Not zeroed: gemm writes every element without reading it (`read_dst` is false).
    let mut out = Storage::for_writing(spec.dtype, total);
    macro_rules! run {
        ($t:ty, $va:expr, $vb:expr) => {{
            let (va, vb) = ($va, $vb);
            // Every element the strides reach must lie in the operands: checked, never assumed.
            if spec.a.max_index(spec.batch, spec.m, spec.k) >= va.len() as u64
                || spec.b.max_index(spec.batch, spec.k, spec.n) >= vb.len() as u64
            {
                return Err(Error::Internal(format!(
                    "{spec} reaches outside its operands"
                )));
            }
            let dst = out.as_mut_ptr() as *mut $t;
            for bi in 0..batch {
                let ao = spec.a.offset as usize + bi * spec.a.batch_stride as usize;
                let bo = spec.b.offset as usize + bi * spec.b.batch_stride as usize;
                // Wide products (n >= 2m: a batch of 256 rows times a 512-wide layer) run as one
                // single-threaded gemm per column block, one block per worker: measured on the MLP
                // step, 256x512x784 went 0.97 -> 0.73 ms against gemm's own two-thread split. Others
                // use gemm's threading. Pointers cross threads as addresses.
                let parts = if big && n >= 2 * m {
                    rayon::current_num_threads().min(n / 64).max(1)
                } else {
                    1
                };
                let per = n.div_ceil(parts).next_multiple_of(16);
                let (d0, a0, b0) = (dst as usize, va.as_ptr() as usize, vb.as_ptr() as usize);
                let block = |p: usize| {
                    let j0 = (p * per).min(n);
                    let w = per.min(n - j0);
                    if w == 0 {
                        return;
                    }
                    let threads = if parts > 1 { gemm::Parallelism::None } else { par };
                    // SAFETY: every element the strides reach lies in the operands (checked above);
                    // `out` has room for batch*m*n elements, this batch's m*n with row stride n, and
                    // the blocks write disjoint columns j0..j0+w of it.
                    unsafe {
                        gemm::gemm(
                            m,
                            w,
                            k,
                            (d0 as *mut $t).add(bi * m * n + j0),
                            1,
                            n as isize,
                            false,
                            (a0 as *const $t).add(ao),
                            spec.a.col_stride as isize,
                            spec.a.row_stride as isize,
                            (b0 as *const $t)
                                .add(bo)
                                .offset(j0 as isize * spec.b.col_stride as isize),
                            spec.b.col_stride as isize,
                            spec.b.row_stride as isize,
                            0.0,
                            1.0,
                            false,
                            false,
                            false,
                            threads,
                        );
                    }
                };
                // One block runs here: handing a single job to rayon would only add a wake-up.
                if parts == 1 {
                    block(0);
                } else {
                    (0..parts).into_par_iter().for_each(block);
                }
            }
        }};
    }
    match (spec.dtype, a, b) {
        (DType::F32, Storage::F32(va), Storage::F32(vb)) => run!(f32, va, vb),
        (DType::F64, Storage::F64(va), Storage::F64(vb)) => run!(f64, va, vb),
        _ => {
            return Err(Error::Internal(format!(
                "matmul of {} with operands {} and {}",
                spec.dtype,
                a.dtype(),
                b.dtype()
            )));
        }
    }
    // SAFETY: the gemm calls above wrote all batch*m*n elements.
    unsafe { out.assume_written(total) };
    Ok(out)
}
