//! Canaries: generated code touches nothing outside its buffers. Every buffer is surrounded by guard
//! elements holding a sentinel (which must survive), and, on Linux, by inaccessible guard pages right
//! before its first byte or right after its last (any stray read or write faults).

mod cpu_common;

use cpu_common::kernels::{column_reduce, exp_mul_add, gather, negate, pad, row_reduce, softmax};
use cpu_common::{Fill, Rng, compare, from_bytes, random, to_bytes};
use smelt_codegen::cpu::{self, CpuProgram};
use smelt_codegen::eval::{self, HostData};
use smelt_codegen::kernel::{Access, Kernel};
use smelt_codegen::{DType, ReduceOp, Scalar};

const GUARD: usize = 32; // elements each side
const SENTINEL: u8 = 0xA5;

/// Runs `prog` on copies of `bufs` placed `GUARD` elements into sentinel-filled allocations; checks the
/// sentinels and returns the buffers.
fn run_with_sentinels(
    prog: &CpuProgram,
    k: &Kernel,
    bufs: &[HostData],
    start: u64,
    end: u64,
) -> Vec<HostData> {
    let mut storage: Vec<Vec<u64>> = Vec::new();
    let mut ptrs = Vec::new();
    for b in bufs {
        let size = b.dtype().size_bytes();
        let bytes = to_bytes(b);
        let total = bytes.len() + 2 * GUARD * size;
        let mut v = vec![0u64; total.div_ceil(8)];
        // SAFETY: viewing the u64 storage as bytes.
        let raw = unsafe { std::slice::from_raw_parts_mut(v.as_mut_ptr().cast::<u8>(), total) };
        raw.fill(SENTINEL);
        raw[GUARD * size..GUARD * size + bytes.len()].copy_from_slice(&bytes);
        ptrs.push(unsafe { v.as_mut_ptr().cast::<u8>().add(GUARD * size) });
        storage.push(v);
    }
    // SAFETY: every pointer has its buffer's length of valid elements.
    unsafe { (prog.entry())(ptrs.as_ptr(), start, end) };
    let mut out = Vec::new();
    for (b, v) in bufs.iter().zip(&storage) {
        let size = b.dtype().size_bytes();
        let len = b.len() * size;
        let raw =
            unsafe { std::slice::from_raw_parts(v.as_ptr().cast::<u8>(), len + 2 * GUARD * size) };
        let (before, rest) = raw.split_at(GUARD * size);
        let (data, after) = rest.split_at(len);
        assert!(
            before.iter().chain(after).all(|&x| x == SENTINEL),
            "kernel {} wrote outside a buffer",
            k.name
        );
        out.push(from_bytes(b.dtype(), data));
    }
    out
}

#[cfg(target_os = "linux")]
mod pages {
    use std::ffi::c_void;
    unsafe extern "C" {
        fn mmap(
            addr: *mut c_void,
            len: usize,
            prot: i32,
            flags: i32,
            fd: i32,
            off: i64,
        ) -> *mut c_void;
        fn mprotect(addr: *mut c_void, len: usize, prot: i32) -> i32;
        fn munmap(addr: *mut c_void, len: usize) -> i32;
        fn sysconf(name: i32) -> i64;
    }
    const PROT_NONE: i32 = 0;
    const PROT_RW: i32 = 1 | 2;
    const MAP_PRIVATE_ANONYMOUS: i32 = 0x02 | 0x20;
    const SC_PAGESIZE: i32 = 30;

    /// `bytes` of memory with an inaccessible page before and after; the data touches one of them.
    pub struct Guarded {
        base: *mut u8,
        total: usize,
        pub data: *mut u8,
    }

    impl Guarded {
        pub fn new(bytes: usize, flush_end: bool) -> Guarded {
            // SAFETY: plain anonymous mappings, checked for failure.
            unsafe {
                let page = sysconf(SC_PAGESIZE) as usize;
                let data_pages = bytes.div_ceil(page).max(1);
                let total = (data_pages + 2) * page;
                let base = mmap(
                    std::ptr::null_mut(),
                    total,
                    PROT_RW,
                    MAP_PRIVATE_ANONYMOUS,
                    -1,
                    0,
                )
                .cast::<u8>();
                assert!(!base.is_null() && base as isize != -1, "mmap failed");
                assert_eq!(mprotect(base.cast(), page, PROT_NONE), 0);
                assert_eq!(
                    mprotect(base.add((data_pages + 1) * page).cast(), page, PROT_NONE),
                    0
                );
                let data = if flush_end {
                    base.add((data_pages + 1) * page - bytes)
                } else {
                    base.add(page)
                };
                Guarded { base, total, data }
            }
        }
    }

    impl Drop for Guarded {
        fn drop(&mut self) {
            // SAFETY: the mapping made in `new`.
            unsafe { munmap(self.base.cast(), self.total) };
        }
    }
}

/// Runs `prog` on copies of `bufs` placed against guard pages (before or after); returns the buffers.
#[cfg(target_os = "linux")]
fn run_against_pages(
    prog: &CpuProgram,
    bufs: &[HostData],
    start: u64,
    end: u64,
    flush_end: bool,
) -> Vec<HostData> {
    let mut mem = Vec::new();
    for b in bufs {
        let bytes = to_bytes(b);
        let g = pages::Guarded::new(bytes.len(), flush_end);
        // SAFETY: the data region has room for the bytes.
        unsafe { std::ptr::copy_nonoverlapping(bytes.as_ptr(), g.data, bytes.len()) };
        mem.push(g);
    }
    let ptrs: Vec<*mut u8> = mem.iter().map(|g| g.data).collect();
    // SAFETY: every pointer has its buffer's length of valid elements.
    unsafe { (prog.entry())(ptrs.as_ptr(), start, end) };
    bufs.iter()
        .zip(&mem)
        .map(|(b, g)| {
            let len = b.len() * b.dtype().size_bytes();
            from_bytes(b.dtype(), unsafe {
                std::slice::from_raw_parts(g.data, len)
            })
        })
        .collect()
}

/// Checks a kernel under every option set and several ranges: results equal the evaluator's, sentinels
/// intact, no fault against guard pages.
fn canary(k: &Kernel, inputs: &[HostData], tol: cpu_common::Tol) {
    let n = k.extent;
    let mut ranges = vec![(0, n)];
    if n > 1 {
        ranges.extend([(1, n), (0, n - 1), (n / 2, n / 2 + 1)]);
    }
    for opts in cpu_common::option_sets() {
        let prog = cpu::compile_with(k, opts).unwrap();
        for &(start, end) in &ranges {
            let mut want = inputs.to_vec();
            eval::eval_range(k, &mut want, start, end).unwrap();
            let mut results = vec![run_with_sentinels(&prog, k, inputs, start, end)];
            #[cfg(target_os = "linux")]
            results.extend([
                run_against_pages(&prog, inputs, start, end, true),
                run_against_pages(&prog, inputs, start, end, false),
            ]);
            for got in results {
                for (i, p) in k.params.iter().enumerate() {
                    if p.access == Access::Write {
                        compare(&want[i], &got[i], tol)
                            .unwrap_or_else(|e| panic!("{} b{i} {start}..{end}: {e}", k.name));
                    }
                }
            }
        }
    }
}

fn zeros_for(k: &Kernel, i: usize) -> HostData {
    HostData::zeros(k.params[i].dtype, k.params[i].len as usize)
}

#[test]
fn elementwise_tails_stay_inside() {
    let mut rng = Rng(21);
    for n in [1u64, 3, 7, 8, 9, 16, 33, 4097] {
        let k = exp_mul_add(n);
        let mut ins: Vec<HostData> = (0..3)
            .map(|_| random(DType::F32, n as usize, Fill::Range(0.0, 2.0), &mut rng))
            .collect();
        ins.push(zeros_for(&k, 3));
        canary(&k, &ins, cpu_common::ulps(4));
        for d in DType::ALL {
            let k = negate(d, n);
            canary(
                &k,
                &[
                    random(d, n as usize, Fill::Edgy(-5.0, 5.0), &mut rng),
                    zeros_for(&k, 1),
                ],
                cpu_common::EXACT,
            );
        }
    }
}

#[test]
fn reductions_stay_inside() {
    let mut rng = Rng(22);
    for (rows, cols) in [(1u64, 1u64), (3, 7), (2, 33), (2, 4097)] {
        for d in [DType::F32, DType::F64, DType::I32, DType::U8] {
            for k in [
                row_reduce(ReduceOp::Max, d, rows, cols),
                column_reduce(ReduceOp::Min, d, cols, rows),
            ] {
                let ins = vec![
                    random(d, (rows * cols) as usize, Fill::Edgy(-5.0, 5.0), &mut rng),
                    zeros_for(&k, 1),
                ];
                canary(&k, &ins, cpu_common::EXACT);
            }
        }
        let k = softmax(rows, cols);
        let ins = vec![
            random(
                DType::F32,
                (rows * cols) as usize,
                Fill::Range(-3.0, 3.0),
                &mut rng,
            ),
            zeros_for(&k, 1),
        ];
        canary(
            &k,
            &ins,
            cpu_common::Tol {
                ulps: 16 + cols / 4,
                abs: 1e-7,
            },
        );
    }
}

#[test]
fn masked_and_checked_loads_stay_inside() {
    let mut rng = Rng(23);
    for n in [1u64, 3, 7, 33] {
        for d in [DType::F32, DType::F64, DType::U8, DType::Bool] {
            let k = pad(d, n);
            canary(
                &k,
                &[
                    random(d, n as usize, Fill::Range(-5.0, 5.0), &mut rng),
                    zeros_for(&k, 1),
                ],
                cpu_common::EXACT,
            );
        }
        for (d, bad) in [
            (DType::I32, Scalar::I32(-5)),
            (DType::I64, Scalar::I64(1 << 40)),
            (DType::U8, Scalar::U8(200)),
        ] {
            let len = 10u64;
            let k = gather(d, n, len);
            let mut idx = random(d, n as usize, Fill::Range(0.0, 9.0), &mut rng);
            idx.set((n / 2) as usize, bad);
            let ins = vec![
                random(DType::F32, len as usize, Fill::Range(-1.0, 1.0), &mut rng),
                idx,
                zeros_for(&k, 2),
                zeros_for(&k, 3),
            ];
            canary(&k, &ins, cpu_common::EXACT);
        }
    }
}
