//! The GPU executor: the same schedule as the CPU, with kernels as validated WGSL run by wgpu.
//!
//! Random numbers are drawn on the host with the same counter-based generator and uploaded, so a
//! program gives the same values on every device.

use super::gpu::{self, GpuBuffer, GpuContext, GpuError};
use super::storage::Storage;
use super::{Buffer, HostBuffer};
use crate::realize::Traversal;
use crate::{DType, Device, Error, Result, Tensor};
use smelt_codegen::wgsl::{self, WgslProgram};
use smelt_passes::schedule::{BufKind, Schedule, Step};
use std::collections::HashMap;
use std::sync::{Arc, Mutex, OnceLock};

/// A schedule with every kernel compiled to WGSL for one adapter.
pub(crate) struct GpuPlan {
    schedule: Schedule,
    programs: Vec<Option<WgslProgram>>,
}

/// Maps a GPU runtime error into smelt's error type.
pub(crate) fn map_err(index: usize, e: GpuError) -> Error {
    match e {
        GpuError::IndexOutOfRange { .. } => Error::IndexOutOfRange {
            op: "gather",
            size: 0,
        },
        GpuError::Codegen(c) => Error::Codegen(c),
        GpuError::Mismatch { .. } | GpuError::Wgpu(_) => {
            Error::Internal(format!("gpu:{index}: {e}"))
        }
        other => Error::Device(format!("gpu:{index}: {other}")),
    }
}

/// The adapter behind `Device::Gpu(index)`.
pub(crate) fn context(index: usize) -> Result<&'static GpuContext> {
    gpu::context(index).map_err(|e| map_err(index, e))
}

/// Checks that the adapter can hold `dtype` (f64 and i64 need adapter features).
fn check_dtype(index: usize, ctx: &GpuContext, dtype: DType) -> Result<()> {
    if !ctx.caps().supports(dtype) {
        return Err(Error::Device(format!(
            "gpu:{index} ({}) cannot hold {dtype} tensors: the adapter lacks {dtype} support in shaders",
            ctx.name()
        )));
    }
    Ok(())
}

/// Compiled GPU plans by the work graph's structure key and the adapter index.
type PlanCache = Mutex<HashMap<(u64, usize), Arc<GpuPlan>>>;

fn plan_cache() -> &'static PlanCache {
    static CACHE: OnceLock<PlanCache> = OnceLock::new();
    CACHE.get_or_init(Default::default)
}

fn plan(tr: &Traversal, index: usize, ctx: &GpuContext) -> Result<Arc<GpuPlan>> {
    let key = (tr.key, index);
    if let Some(p) = plan_cache()
        .lock()
        .unwrap_or_else(|e| e.into_inner())
        .get(&key)
    {
        return Ok(p.clone());
    }
    let plan = super::on_big_stack(|| -> Result<GpuPlan> {
        let graph = tr.graph();
        for ty in graph.inputs.iter() {
            check_dtype(index, ctx, ty.dtype)?;
        }
        let compiled = smelt_passes::pipeline::compile(&graph).map_err(Error::Internal)?;
        let mut programs = vec![];
        for step in &compiled.schedule.steps {
            programs.push(match step {
                Step::Kernel { kernel, .. } => Some(wgsl::compile(kernel, &ctx.caps())?),
                _ => None,
            });
        }
        for b in &compiled.schedule.buffers {
            check_dtype(index, ctx, b.ty.dtype)?;
        }
        // SMELT_DEBUG=2..4: the compile report.
        crate::debug::compiled(Device::Gpu(index), &compiled, |i| {
            let text = match (&compiled.schedule.steps[i], &programs[i]) {
                (_, Some(p)) => Ok(p.source.clone()),
                (Step::Matmul { spec, .. }, None) => wgsl::matmul(spec, &ctx.caps())
                    .map(|p| p.source)
                    .map_err(|e| e.to_string()),
                _ => return vec![],
            };
            vec![crate::explain::Code {
                lang: "wgsl".into(),
                text,
            }]
        });
        Ok(GpuPlan {
            schedule: compiled.schedule,
            programs,
        })
    })?;
    let plan = Arc::new(plan);
    plan_cache()
        .lock()
        .unwrap_or_else(|e| e.into_inner())
        .insert(key, plan.clone());
    Ok(plan)
}

/// Runs a traversal on GPU `index`, returning one buffer per output.
pub(crate) fn run(index: usize, tr: &Traversal) -> Result<Vec<Buffer>> {
    let ctx = context(index)?;
    let plan = plan(tr, index, ctx)?;
    let s = &plan.schedule;
    let err = |e| map_err(index, e);
    let mut bufs: Vec<Option<Arc<GpuBuffer>>> = vec![None; s.buffers.len()];
    for (i, b) in s.buffers.iter().enumerate() {
        if let BufKind::Input(n) = b.kind {
            bufs[i] = match tr.inputs[n as usize].buffer() {
                Some(Buffer::Gpu(g)) => Some(g.clone()),
                _ => {
                    return Err(Error::Internal(
                        "GPU graph input is not in GPU memory".into(),
                    ));
                }
            };
        }
    }
    let fresh = |bufs: &mut Vec<Option<Arc<GpuBuffer>>>, i: usize| -> Result<Arc<GpuBuffer>> {
        if let Some(b) = &bufs[i] {
            return Ok(b.clone());
        }
        let ty = &s.buffers[i].ty;
        let b = Arc::new(
            ctx.create_buffer(ty.dtype, ty.numel().max(1) as u64)
                .map_err(err)?,
        );
        bufs[i] = Some(b.clone());
        Ok(b)
    };
    // SMELT_DEBUG=1: time each launch to its completion (the queue is idle before each one).
    let timing = crate::debug::timing();
    if timing {
        ctx.wait_idle().map_err(err)?;
    }
    for (i, (step, program)) in s.steps.iter().zip(&plan.programs).enumerate() {
        let start = timing.then(std::time::Instant::now);
        match step {
            Step::Kernel { args, .. } => {
                let program = program.as_ref().expect("kernel steps have a program");
                let mut bound = Vec::with_capacity(program.bindings.len());
                for binding in &program.bindings {
                    bound.push(fresh(&mut bufs, args[binding.buf.index()].0 as usize)?);
                }
                let refs: Vec<&GpuBuffer> = bound.iter().map(|b| b.as_ref()).collect();
                ctx.run(program, &refs).map_err(err)?;
            }
            Step::Matmul { spec, a, b, out } => {
                let (a, b) = (
                    fresh(&mut bufs, a.0 as usize)?,
                    fresh(&mut bufs, b.0 as usize)?,
                );
                let out = fresh(&mut bufs, out.0 as usize)?;
                ctx.run_matmul(spec, &a, &b, &out).map_err(err)?;
            }
            Step::Rand {
                out,
                seed,
                offset,
                dist,
            } => {
                let ty = &s.buffers[out.0 as usize].ty;
                let host = super::cpu::rand(ty.dtype, ty.numel(), *seed, *offset, *dist);
                bufs[out.0 as usize] = Some(Arc::new(
                    ctx.upload(ty.dtype, &host.to_bytes()).map_err(err)?,
                ));
            }
        }
        if let Some(start) = start {
            ctx.wait_idle().map_err(err)?;
            crate::debug::launch(Device::Gpu(index), i, step, start.elapsed());
        }
    }
    s.outputs
        .iter()
        .map(|o| Ok(Buffer::Gpu(fresh(&mut bufs, o.0 as usize)?)))
        .collect()
}

/// Copies a realized tensor's buffer onto `to`.
pub(crate) fn copy(src: &Tensor, to: Device) -> Result<Buffer> {
    let buffer = src.realized_buffer()?;
    let host: Storage = match &buffer {
        Buffer::Cpu(h) => {
            if to == Device::Cpu {
                return Ok(buffer.clone());
            }
            Storage::from_bytes(h.storage().dtype(), &h.storage().to_bytes())
        }
        Buffer::Gpu(g) => {
            let Device::Gpu(from) = src.device() else {
                unreachable!("GPU buffers live on GPUs")
            };
            let bytes = context(from)?.download(g).map_err(|e| map_err(from, e))?;
            Storage::from_bytes(
                src.dtype(),
                &bytes[..src.numel() * src.dtype().size_bytes()],
            )
        }
    };
    match to {
        Device::Cpu => Ok(Buffer::Cpu(HostBuffer::new(host))),
        Device::Gpu(i) => {
            let ctx = context(i)?;
            check_dtype(i, ctx, src.dtype())?;
            let bytes = host.to_bytes();
            let g = if bytes.is_empty() {
                ctx.create_buffer(src.dtype(), 1)
            } else {
                ctx.upload(src.dtype(), &bytes)
            };
            Ok(Buffer::Gpu(Arc::new(g.map_err(|e| map_err(i, e))?)))
        }
    }
}
