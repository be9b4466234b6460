//! Accuracy of the inline `f32` math functions against the platform libm (Rust's std; libm's `erff`),
//! over a sweep of bit patterns across the whole float range, a dense sweep of the interesting range,
//! and the special values. Run with `--nocapture` for the table of maximum errors in ulps.

mod cpu_common;

use cpu_common::{Rng, run, ulp_distance_f32};
use smelt_codegen::cpu::{self, Options};
use smelt_codegen::eval::{HostData, libm_erff};
use smelt_codegen::kernel::{Access, Kernel, KernelBuilder, Stmt};
use smelt_codegen::{BinaryOp, DType, UnaryOp};

const SPECIALS: [f32; 14] = [
    0.0,
    -0.0,
    f32::INFINITY,
    f32::NEG_INFINITY,
    f32::NAN,
    1e-45,
    -1e-45,
    1e-39,
    -3e-40,
    f32::MIN_POSITIVE,
    1.0,
    -1.0,
    f32::MAX,
    f32::MIN,
];

/// Every 509th bit pattern (both signs, all exponents), a dense sweep of [lo, hi], and the specials.
fn sweep(lo: f32, hi: f32, dense: usize) -> Vec<f32> {
    let mut v: Vec<f32> = (0..=u32::MAX / 509)
        .map(|i| f32::from_bits(i * 509))
        .collect();
    v.extend((0..dense).map(|i| lo + (hi - lo) * (i as f32 / dense as f32)));
    v.extend(SPECIALS);
    v
}

/// The largest error in ulps of the JIT's `f(x)` against `reference`, over `xs` (NaN must match NaN,
/// infinities must match exactly), for every option set.
fn max_ulps(op: UnaryOp, xs: &[f32], reference: impl Fn(f32) -> f32) -> u64 {
    let n = xs.len() as u64;
    let mut b = KernelBuilder::new();
    let x = b.param(DType::F32, n, Access::Read);
    let out = b.param(DType::F32, n, Access::Write);
    let i = b.var(Kernel::PARALLEL);
    let l = b.load(x, i);
    let v = b.unary(op, l);
    let k = b.finish(
        op.name(),
        n,
        vec![Stmt::Store {
            buf: out,
            index: i,
            value: v,
        }],
    );
    let mut worst = 0;
    for opts in cpu_common::option_sets() {
        let prog = cpu::compile_with(&k, opts).unwrap();
        let mut bufs = vec![
            HostData::F32(xs.to_vec()),
            HostData::zeros(DType::F32, xs.len()),
        ];
        run(&prog, &k, &mut bufs, 0, n);
        let HostData::F32(got) = &bufs[1] else {
            unreachable!()
        };
        for (&x, &g) in xs.iter().zip(got) {
            let w = reference(x);
            let e = if w.is_nan() || g.is_nan() || w.is_infinite() || g.is_infinite() {
                if (w.is_nan() && g.is_nan()) || w == g {
                    0
                } else {
                    u64::MAX
                }
            } else {
                ulp_distance_f32(w, g)
            };
            assert!(
                e != u64::MAX,
                "{op}({x:e}) with {opts:?}: want {w:e}, got {g:e}"
            );
            worst = worst.max(e);
        }
    }
    worst
}

fn check(op: UnaryOp, lo: f32, hi: f32, reference: impl Fn(f32) -> f32, bound: u64) {
    let xs = sweep(lo, hi, 1 << 20);
    let e = max_ulps(op, &xs, reference);
    println!(
        "{:<6} max error {e} ulp over {} inputs",
        op.name(),
        xs.len()
    );
    assert!(e <= bound, "{op}: {e} ulp");
}

#[test]
fn exp_accuracy() {
    check(UnaryOp::Exp, -104.0, 89.0, f32::exp, 2);
}

#[test]
fn log_accuracy() {
    check(UnaryOp::Log, 0.0, 8.0, f32::ln, 2);
}

#[test]
fn sin_accuracy() {
    check(UnaryOp::Sin, -10000.0, 10000.0, f32::sin, 2);
}

#[test]
fn cos_accuracy() {
    check(UnaryOp::Cos, -10000.0, 10000.0, f32::cos, 2);
}

#[test]
fn tanh_accuracy() {
    check(UnaryOp::Tanh, -10.0, 10.0, f32::tanh, 3);
}

#[test]
fn erf_accuracy() {
    check(UnaryOp::Erf, -5.0, 5.0, libm_erff, 3);
}

#[test]
fn pow_accuracy() {
    // Bases and exponents: special values, integers (odd and even, signed), a spread of magnitudes.
    let mut rng = Rng(42);
    let mut bases: Vec<f32> = SPECIALS.to_vec();
    let mut exps: Vec<f32> = SPECIALS.to_vec();
    bases.extend([
        -2.0, -0.5, 2.0, 0.5, 10.0, -10.0, 3.0, -3.0, 1e-3, 1e30, -1e-30,
    ]);
    exps.extend([
        2.0, 3.0, -3.0, 0.5, -0.5, 1.5, 7.0, -7.0, 1e9, -1e9, 16777217.0, 0.1, 100.0, -100.0,
    ]);
    for _ in 0..700 {
        let m = rng.f64_in(-30.0, 30.0);
        bases.push((rng.f64_in(-1.0, 1.0) * 2f64.powf(m)) as f32);
        exps.push(if rng.below(3) == 0 {
            rng.f64_in(-60.0, 60.0).round() as f32
        } else {
            rng.f64_in(-40.0, 40.0) as f32
        });
    }
    let (mut xs, mut ys): (Vec<f32>, Vec<f32>) = bases
        .iter()
        .flat_map(|&x| exps.iter().map(move |&y| (x, y)))
        .unzip();
    // Finite results: bases from 1e-3 to 1e3 with moderate exponents, and bases near 1 with huge ones
    // (where log2 x must be very accurate).
    for _ in 0..400_000 {
        xs.push(10f64.powf(rng.f64_in(-3.0, 3.0)) as f32);
        ys.push(rng.f64_in(-12.0, 12.0) as f32);
        let near = (1.0 + rng.f64_in(-1e-3, 1e-3)) as f32;
        xs.push(near);
        ys.push((rng.f64_in(-80.0, 80.0) / (near as f64).ln().abs().max(1e-7)) as f32);
    }
    let n = xs.len() as u64;
    let mut b = KernelBuilder::new();
    let (x, y) = (
        b.param(DType::F32, n, Access::Read),
        b.param(DType::F32, n, Access::Read),
    );
    let out = b.param(DType::F32, n, Access::Write);
    let i = b.var(Kernel::PARALLEL);
    let (lx, ly) = (b.load(x, i), b.load(y, i));
    let v = b.binary(BinaryOp::Pow, lx, ly);
    let k = b.finish(
        "pow",
        n,
        vec![Stmt::Store {
            buf: out,
            index: i,
            value: v,
        }],
    );
    let mut worst = 0;
    for opts in [
        Options::default(),
        Options {
            vectorize: false,
            ..Options::default()
        },
    ] {
        let prog = cpu::compile_with(&k, opts).unwrap();
        let mut bufs = vec![
            HostData::F32(xs.clone()),
            HostData::F32(ys.clone()),
            HostData::zeros(DType::F32, xs.len()),
        ];
        run(&prog, &k, &mut bufs, 0, n);
        let HostData::F32(got) = &bufs[2] else {
            unreachable!()
        };
        for ((&x, &y), &g) in xs.iter().zip(&ys).zip(got) {
            let w = x.powf(y);
            if w.is_nan()
                || g.is_nan()
                || w.is_infinite()
                || g.is_infinite()
                || w == 0.0
                || g == 0.0
            {
                assert!(
                    (w.is_nan() && g.is_nan()) || w.to_bits() == g.to_bits(),
                    "pow({x:e}, {y:e}): want {w:e}, got {g:e}"
                );
            } else {
                worst = worst.max(ulp_distance_f32(w, g));
            }
        }
    }
    println!("pow    max error {worst} ulp over {} input pairs", xs.len());
    assert!(worst <= 1, "pow: {worst} ulp");
}
