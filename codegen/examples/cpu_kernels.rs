//! Benchmarks of hand-built kernels on the CPU JIT, run the way the runtime runs them: the parallel range
//! split into chunks across a rayon pool of 2 threads. Prints the median of several runs.
//!
//! `cargo run --release -p smelt-codegen --example cpu_kernels [filter]`

use rayon::prelude::*;
use smelt_codegen::cpu::{self, CpuProgram, MathImpl, Options};
use smelt_codegen::kernel::{Access, Expr, Kernel, KernelBuilder, Stmt};
use smelt_codegen::{BinaryOp, DType, ReduceOp, Scalar, UnaryOp};
use std::time::Instant;

// The kernels the tests build, shared (W2b's softmax is one of them).
#[allow(dead_code)]
#[path = "../tests/cpu_common/kernels.rs"]
mod kernels;

const RUNS: usize = 15;
const THREADS: usize = 2;

/// A buffer the kernel may write: its base pointer is passed in `args`.
struct Buf(Vec<f32>);

/// Runs `prog` over `0..extent` in `chunks` pieces on the pool.
fn launch(pool: &rayon::ThreadPool, prog: &CpuProgram, args: &[*mut u8], extent: u64, chunks: u64) {
    let f = prog.entry();
    let args = args.iter().map(|p| *p as usize).collect::<Vec<_>>();
    let step = extent.div_ceil(chunks);
    pool.install(|| {
        (0..chunks).into_par_iter().for_each(|c| {
            let (s, e) = (c * step, ((c + 1) * step).min(extent));
            if s < e {
                let ptrs: Vec<*mut u8> = args.iter().map(|&p| p as *mut u8).collect();
                // SAFETY: the buffers match the kernel's parameters; chunks are disjoint ranges.
                unsafe { f(ptrs.as_ptr(), s, e) };
            }
        })
    });
}

/// CPU time of the whole process in ms (all threads): on a shared machine, `cpu / THREADS` estimates
/// what the wall time would be without other load.
fn cpu_ms() -> f64 {
    #[repr(C)]
    struct Timespec {
        sec: i64,
        nsec: i64,
    }
    unsafe extern "C" {
        fn clock_gettime(clock: i32, ts: *mut Timespec) -> i32;
    }
    let mut ts = Timespec { sec: 0, nsec: 0 };
    // SAFETY: CLOCK_PROCESS_CPUTIME_ID (2) into a valid timespec.
    unsafe { clock_gettime(2, &mut ts) };
    ts.sec as f64 * 1e3 + ts.nsec as f64 / 1e6
}

fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(|a, b| a.partial_cmp(b).unwrap());
    v[v.len() / 2]
}

/// Times `run` (given a fresh output buffer each time when `fresh`): medians in ms of the wall time with
/// a reused output, with a fresh one, and of the CPU time per thread with a reused output.
fn time(mut run: impl FnMut(bool)) -> (f64, f64, f64) {
    run(false); // warm up (page in inputs and the reused output)
    let mut wall = Vec::new();
    let mut cpu = Vec::new();
    for _ in 0..RUNS {
        let (t, c) = (Instant::now(), cpu_ms());
        run(false);
        wall.push(t.elapsed().as_secs_f64() * 1e3);
        cpu.push((cpu_ms() - c) / THREADS as f64);
    }
    let fresh = median(
        (0..RUNS)
            .map(|_| {
                let t = Instant::now();
                run(true);
                t.elapsed().as_secs_f64() * 1e3
            })
            .collect(),
    );
    (median(wall), fresh, median(cpu))
}

fn data(n: usize, seed: u32) -> Vec<f32> {
    let mut s = seed.wrapping_mul(2654435761) | 1;
    (0..n)
        .map(|_| {
            s ^= s << 13;
            s ^= s >> 17;
            s ^= s << 5;
            (s as f32 / u32::MAX as f32) * 4.0 - 2.0
        })
        .collect()
}

fn elementwise(
    name: &str,
    n: u64,
    inputs: usize,
    f: impl FnOnce(
        &mut KernelBuilder,
        &[smelt_codegen::kernel::ExprId],
    ) -> smelt_codegen::kernel::ExprId,
) -> Kernel {
    let mut b = KernelBuilder::new();
    let bufs: Vec<_> = (0..inputs)
        .map(|_| b.param(DType::F32, n, Access::Read))
        .collect();
    let out = b.param(DType::F32, n, Access::Write);
    let i = b.var(Kernel::PARALLEL);
    let loads: Vec<_> = bufs.iter().map(|&x| b.load(x, i)).collect();
    let v = f(&mut b, &loads);
    b.finish(
        name,
        n,
        vec![Stmt::Store {
            buf: out,
            index: i,
            value: v,
        }],
    )
}

fn exp_mul_add(n: u64) -> Kernel {
    elementwise("W1a_exp_mul_add", n, 3, |b, l| {
        let e = b.unary(UnaryOp::Exp, l[0]);
        let m = b.binary(BinaryOp::Mul, e, l[1]);
        b.binary(BinaryOp::Add, m, l[2])
    })
}

fn gelu_tanh(n: u64) -> Kernel {
    elementwise("W1b_gelu_tanh", n, 1, |b, l| {
        let x = l[0];
        let c = |b: &mut KernelBuilder, v: f32| b.constant(Scalar::F32(v));
        let three = c(b, 3.0);
        let x3 = b.binary(BinaryOp::Pow, x, three);
        let k = c(b, 0.044715);
        let t = b.binary(BinaryOp::Mul, k, x3);
        let s = b.binary(BinaryOp::Add, x, t);
        let k2 = c(b, 0.797_884_6);
        let u = b.binary(BinaryOp::Mul, k2, s);
        let th = b.unary(UnaryOp::Tanh, u);
        let one = c(b, 1.0);
        let p = b.binary(BinaryOp::Add, one, th);
        let half = c(b, 0.5);
        let hx = b.binary(BinaryOp::Mul, half, x);
        b.binary(BinaryOp::Mul, hx, p)
    })
}

/// `out[p] = sum_j x[p*chunk + j]`.
fn partial_sums(n: u64, parts: u64) -> Kernel {
    let chunk = n / parts;
    let mut b = KernelBuilder::new();
    let x = b.param(DType::F32, n, Access::Read);
    let out = b.param(DType::F32, parts, Access::Write);
    let p = b.var(Kernel::PARALLEL);
    let j = b.new_var();
    let jv = b.var(j);
    let base = b.imul(p, chunk as i64);
    let at = b.iadd(base, jv);
    let v = b.load(x, at);
    let acc = b.new_acc();
    let a = b.expr(Expr::Acc(acc));
    b.finish(
        "W2a_partial_sum",
        parts,
        vec![
            Stmt::DefAcc {
                acc,
                op: ReduceOp::Sum,
                dtype: DType::F32,
            },
            Stmt::Loop {
                var: j,
                extent: chunk,
                body: vec![Stmt::Accumulate { acc, value: v }],
            },
            Stmt::Store {
                buf: out,
                index: p,
                value: a,
            },
        ],
    )
}

fn column_mean(rows: u64, cols: u64) -> Kernel {
    let mut b = KernelBuilder::new();
    let x = b.param(DType::F32, rows * cols, Access::Read);
    let out = b.param(DType::F32, cols, Access::Write);
    let c = b.var(Kernel::PARALLEL);
    let r = b.new_var();
    let rv = b.var(r);
    let base = b.imul(rv, cols as i64);
    let at = b.iadd(base, c);
    let v = b.load(x, at);
    let acc = b.new_acc();
    let a = b.expr(Expr::Acc(acc));
    let inv = b.constant(Scalar::F32(1.0 / rows as f32));
    let m = b.binary(BinaryOp::Mul, a, inv);
    b.finish(
        "W2c_column_mean",
        cols,
        vec![
            Stmt::DefAcc {
                acc,
                op: ReduceOp::Sum,
                dtype: DType::F32,
            },
            Stmt::Loop {
                var: r,
                extent: rows,
                body: vec![Stmt::Accumulate { acc, value: v }],
            },
            Stmt::Store {
                buf: out,
                index: c,
                value: m,
            },
        ],
    )
}

/// Times one kernel: inputs fixed, one output of `out_len` (fresh or reused).
fn bench(
    pool: &rayon::ThreadPool,
    name: &str,
    k: &Kernel,
    opts: Options,
    inputs: &mut [Buf],
    out_len: usize,
    chunks: u64,
) {
    let t = Instant::now();
    let prog = cpu::compile_with(k, opts).unwrap();
    let compile_ms = t.elapsed().as_secs_f64() * 1e3;
    let mut out = Buf(vec![0.0; out_len]);
    let in_ptrs: Vec<*mut u8> = inputs.iter_mut().map(|b| b.0.as_mut_ptr().cast()).collect();
    let (reused, fresh, cpu) = time(|fresh| {
        let mut args = in_ptrs.clone();
        if fresh {
            let mut v: Vec<f32> = Vec::with_capacity(out_len);
            args.push(v.as_mut_ptr().cast());
            launch(pool, &prog, &args, k.extent, chunks);
            // SAFETY: the kernel wrote every element.
            unsafe { v.set_len(out_len) };
            std::hint::black_box(&v);
        } else {
            args.push(out.0.as_mut_ptr().cast());
            launch(pool, &prog, &args, k.extent, chunks);
        }
    });
    println!(
        "{name:<38} {reused:>7.2} ms wall  {cpu:>7.2} ms cpu/thread  {fresh:>7.2} ms wall fresh-out  compile {compile_ms:.2} ms"
    );
    std::hint::black_box(&out);
}

fn main() {
    let filter = std::env::args().nth(1).unwrap_or_default();
    let pool = rayon::ThreadPoolBuilder::new()
        .num_threads(THREADS)
        .build()
        .unwrap();
    let n = 1u64 << 24;
    let inline = Options::default();
    let libm = Options {
        math: MathImpl::Libm,
        ..Options::default()
    };
    let scalar = Options {
        vectorize: false,
        ..Options::default()
    };
    let want = |s: &str| filter.is_empty() || s.contains(&filter);

    if want("W1a") {
        let mut ins: Vec<Buf> = (0..3).map(|s| Buf(data(n as usize, s))).collect();
        let k = exp_mul_add(n);
        bench(
            &pool,
            "W1a exp(a)*b+c 2^24 (vector)",
            &k,
            inline,
            &mut ins,
            n as usize,
            64,
        );
        bench(
            &pool,
            "W1a exp(a)*b+c 2^24 (scalar loop)",
            &k,
            scalar,
            &mut ins,
            n as usize,
            64,
        );
        bench(
            &pool,
            "W1a exp(a)*b+c 2^24 (libm calls)",
            &k,
            libm,
            &mut ins,
            n as usize,
            64,
        );
    }
    if want("W1b") {
        let mut ins = vec![Buf(data(n as usize, 7))];
        let k = gelu_tanh(n);
        bench(
            &pool,
            "W1b gelu_tanh 2^24 (vector)",
            &k,
            inline,
            &mut ins,
            n as usize,
            64,
        );
        bench(
            &pool,
            "W1b gelu_tanh 2^24 (libm calls)",
            &k,
            libm,
            &mut ins,
            n as usize,
            64,
        );
    }
    if want("W2a") {
        let mut ins = [Buf(data(n as usize, 9))];
        for parts in [64u64, 128, 256] {
            let k1 = partial_sums(n, parts);
            let k2 = partial_sums(parts, 1);
            let p1 = cpu::compile(&k1).unwrap();
            let p2 = cpu::compile(&k2).unwrap();
            let mut partial = vec![0f32; parts as usize];
            let mut total = [0f32; 1];
            let x = ins[0].0.as_mut_ptr().cast::<u8>();
            let (ms, _, cpu) = time(|_| {
                launch(&pool, &p1, &[x, partial.as_mut_ptr().cast()], parts, parts);
                launch(
                    &pool,
                    &p2,
                    &[partial.as_mut_ptr().cast(), total.as_mut_ptr().cast()],
                    1,
                    1,
                );
            });
            let exact: f64 = ins[0].0.iter().map(|&v| v as f64).sum();
            println!(
                "W2a sum 2^24 as {parts:>3} partials + 1       {ms:>7.2} ms wall  {cpu:>7.2} ms cpu/thread  (sum {} vs f64 {exact:.3})",
                total[0]
            );
        }
    }
    if want("W2b") {
        let (r, c) = (4096u64, 4096u64);
        let mut ins = vec![Buf(data((r * c) as usize, 11))];
        bench(
            &pool,
            "W2b softmax 4096x4096",
            &kernels::softmax(r, c),
            inline,
            &mut ins,
            (r * c) as usize,
            64,
        );
    }
    if want("W2c") {
        let (r, c) = (4096u64, 4096u64);
        let mut ins = vec![Buf(data((r * c) as usize, 13))];
        for chunks in [2u64, 16, 64] {
            bench(
                &pool,
                &format!("W2c mean axis 0 4096^2 ({chunks} chunks)"),
                &column_mean(r, c),
                inline,
                &mut ins,
                c as usize,
                chunks,
            );
        }
    }
    if want("math") {
        // Compute-bound: 2^16 inputs (in L2), one thread, ns per element.
        let n = 1u64 << 16;
        let xs = data(n as usize, 17);
        let ys = data(n as usize, 19);
        let ops: [(&str, Option<UnaryOp>); 7] = [
            ("exp", Some(UnaryOp::Exp)),
            ("log", Some(UnaryOp::Log)),
            ("sin", Some(UnaryOp::Sin)),
            ("cos", Some(UnaryOp::Cos)),
            ("tanh", Some(UnaryOp::Tanh)),
            ("erf", Some(UnaryOp::Erf)),
            ("pow", None),
        ];
        println!(
            "math f32, ns/element, 1 thread, data in cache: vector-inline  scalar-inline  libm-calls  (libm/vector)"
        );
        for (name, op) in ops {
            let k = elementwise(name, n, 2, |b, l| match op {
                Some(op) => {
                    // log of |x|, so most inputs are in the domain.
                    let a = if op == UnaryOp::Log {
                        b.unary(UnaryOp::Abs, l[0])
                    } else {
                        l[0]
                    };
                    b.unary(op, a)
                }
                None => {
                    let a = b.unary(UnaryOp::Abs, l[0]);
                    b.binary(BinaryOp::Pow, a, l[1])
                }
            });
            let mut ins = [Buf(xs.clone()), Buf(ys.clone())];
            let mut out = vec![0f32; n as usize];
            let mut per = Vec::new();
            for opts in [inline, scalar, libm] {
                let prog = cpu::compile_with(&k, opts).unwrap();
                let args = [
                    ins[0].0.as_mut_ptr().cast(),
                    ins[1].0.as_mut_ptr().cast(),
                    out.as_mut_ptr().cast::<u8>(),
                ];
                let reps = 20;
                // CPU time (one busy thread): robust to other load on the machine.
                let (_, _, cpu) = time(|_| {
                    for _ in 0..reps {
                        launch(&pool, &prog, &args, n, 1);
                    }
                });
                per.push(cpu * THREADS as f64 * 1e6 / (reps as f64 * n as f64));
            }
            println!(
                "  {name:<5} {:>8.2} {:>14.2} {:>11.2}   ({:.1}x)",
                per[0],
                per[1],
                per[2],
                per[2] / per[0]
            );
        }
    }
    if want("compile") {
        let k = gelu_tanh(n);
        let t = Instant::now();
        let runs = 20;
        for _ in 0..runs {
            std::hint::black_box(cpu::compile(&k).unwrap());
        }
        println!(
            "compile gelu_tanh: {:.2} ms per kernel",
            t.elapsed().as_secs_f64() * 1e3 / runs as f64
        );
    }
}
