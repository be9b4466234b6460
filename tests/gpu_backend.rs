//! The WGSL backend on a real adapter (lavapipe in CI): every op × dtype and every cast against plain
//! Rust references written from the op docs. Skips, with a message, where no GPU exists.

mod gpu_support;

use gpu_support::{Data, close, ctx, erf_reference, has, run};
use smelt_codegen::kernel::{Access, Expr, Kernel, KernelBuilder, Stmt};
use smelt_codegen::{BinaryOp, DType, Scalar, UnaryOp};

fn unary_kernel(op: UnaryOp, d: DType, n: u64) -> Kernel {
    let mut b = KernelBuilder::new();
    let a = b.param(d, n, Access::Read);
    let out = b.param(d, n, Access::Write);
    let i = b.var(Kernel::PARALLEL);
    let x = b.load(a, i);
    let y = b.unary(op, x);
    b.finish(
        format!("{op}_{d}"),
        n,
        vec![Stmt::Store {
            buf: out,
            index: i,
            value: y,
        }],
    )
}

fn binary_kernel(op: BinaryOp, d: DType, n: u64) -> Kernel {
    let mut b = KernelBuilder::new();
    let (pa, pb) = (b.param(d, n, Access::Read), b.param(d, n, Access::Read));
    let out = b.param(op.result_dtype(d), n, Access::Write);
    let i = b.var(Kernel::PARALLEL);
    let (x, y) = (b.load(pa, i), b.load(pb, i));
    let z = b.binary(op, x, y);
    b.finish(
        format!("{op}_{d}"),
        n,
        vec![Stmt::Store {
            buf: out,
            index: i,
            value: z,
        }],
    )
}

fn cast_kernel(from: DType, to: DType, n: u64) -> Kernel {
    let mut b = KernelBuilder::new();
    let a = b.param(from, n, Access::Read);
    let out = b.param(to, n, Access::Write);
    let i = b.var(Kernel::PARALLEL);
    let x = b.load(a, i);
    let y = b.expr(Expr::Cast(x, to));
    b.finish(
        format!("cast_{from}_{to}"),
        n,
        vec![Stmt::Store {
            buf: out,
            index: i,
            value: y,
        }],
    )
}

/// Float test inputs: specials, small and large magnitudes, both signs.
fn float_inputs() -> Vec<f64> {
    let mut v = vec![
        0.0,
        -0.0,
        f64::NAN,
        f64::INFINITY,
        f64::NEG_INFINITY,
        1e-30,
        -1e-30,
        1e-7,
        0.5,
        -0.5,
        1.5,
        2.5,
    ];
    v.extend([
        -2.5, 3.0, -3.0, 0.999, 1.0, -1.0, 7.25, -7.25, 20.0, -20.0, 88.0, -100.0, 700.0, 1e4,
        -1e4, 3e38,
    ]);
    v.extend((0..40).map(|i| -10.0 + 0.513 * i as f64));
    v
}

fn float_data(d: DType, v: &[f64]) -> Data {
    if d == DType::F64 {
        Data::F64(v.to_vec())
    } else {
        Data::F32(v.iter().map(|&x| x as f32).collect())
    }
}

fn floats(d: &Data) -> Vec<f64> {
    match d {
        Data::F32(v) => v.iter().map(|&x| x as f64).collect(),
        Data::F64(v) => v.clone(),
        _ => panic!("{d:?}"),
    }
}

/// (reference, abs tolerance, rel tolerance) for f32 and f64.
/// An (absolute, relative) tolerance.
type Tol = (f64, f64);

fn float_unary(op: UnaryOp) -> (fn(f64) -> f64, [Tol; 2]) {
    let exact = [(0.0, 0.0), (0.0, 0.0)];
    match op {
        UnaryOp::Neg => (|x| -x, exact),
        UnaryOp::Recip => (|x| 1.0 / x, [(0.0, 3e-7), (0.0, 1e-15)]),
        UnaryOp::Sqrt => (f64::sqrt, [(0.0, 3e-7), (0.0, 1e-15)]),
        UnaryOp::Exp => (f64::exp, [(0.0, 2e-6), (0.0, 1e-14)]),
        UnaryOp::Log => (f64::ln, [(1e-7, 1e-6), (1e-15, 1e-15)]),
        UnaryOp::Sin => (f64::sin, [(1e-6, 0.0), (2e-15, 0.0)]),
        UnaryOp::Cos => (f64::cos, [(1e-6, 0.0), (2e-15, 0.0)]),
        UnaryOp::Tanh => (f64::tanh, [(1e-7, 1e-6), (1e-16, 1e-15)]),
        UnaryOp::Erf => (erf_reference, [(2e-7, 0.0), (2e-15, 0.0)]),
        UnaryOp::Abs => (f64::abs, exact),
        // torch.sign: 0 for ±0, NaN stays NaN.
        UnaryOp::Sign => (
            |x| {
                if x > 0.0 {
                    1.0
                } else if x < 0.0 {
                    -1.0
                } else if x.is_nan() {
                    x
                } else {
                    0.0
                }
            },
            exact,
        ),
        UnaryOp::Floor => (f64::floor, exact),
        UnaryOp::Ceil => (f64::ceil, exact),
        UnaryOp::Round => (f64::round_ties_even, exact),
        UnaryOp::Trunc => (f64::trunc, exact),
        UnaryOp::Not => unreachable!(),
    }
}

#[test]
fn float_unary_ops_match_references() {
    let Some(ctx) = ctx() else { return };
    let ops = [
        UnaryOp::Neg,
        UnaryOp::Recip,
        UnaryOp::Sqrt,
        UnaryOp::Exp,
        UnaryOp::Log,
        UnaryOp::Sin,
        UnaryOp::Cos,
        UnaryOp::Tanh,
        UnaryOp::Erf,
        UnaryOp::Abs,
        UnaryOp::Sign,
        UnaryOp::Floor,
        UnaryOp::Ceil,
        UnaryOp::Round,
        UnaryOp::Trunc,
    ];
    let inputs = float_inputs();
    let mut failures = Vec::new();
    for (di, d) in [DType::F32, DType::F64].into_iter().enumerate() {
        if !has(ctx, d) {
            continue;
        }
        let data = float_data(d, &inputs);
        let xs = floats(&data);
        for op in ops {
            let (reference, tol) = float_unary(op);
            let (abs, rel) = tol[di];
            let got = floats(
                &run(
                    ctx,
                    &unary_kernel(op, d, xs.len() as u64),
                    std::slice::from_ref(&data),
                )[0],
            );
            for (&x, &g) in xs.iter().zip(&got) {
                // The reference in f64 on the (rounded) input, then rounded to the result dtype.
                let mut want = reference(x);
                if d == DType::F32 {
                    want = want as f32 as f64;
                }
                // sin/cos reduce arguments exactly up to ~1e5 (f32) / ~1e6 (f64): documented range.
                if matches!(op, UnaryOp::Sin | UnaryOp::Cos) && x.abs() > 1e5 {
                    continue;
                }
                // GPUs may flush subnormal results to zero.
                let tiny = if d == DType::F32 {
                    f32::MIN_POSITIVE as f64
                } else {
                    f64::MIN_POSITIVE
                };
                if !close(g, want, abs.max(tiny), rel) {
                    failures.push(format!("{op} {d} of {x:e}: got {g:e}, want {want:e}"));
                }
            }
        }
    }
    assert!(
        failures.is_empty(),
        "{} failures:\n{}",
        failures.len(),
        failures.join("\n")
    );
}

#[test]
fn transcendentals_are_accurate_over_a_dense_grid() {
    let Some(ctx) = ctx() else { return };
    // (op, range, f32 (abs, rel) tolerance, f64 (abs, rel) tolerance).
    let cases: [(UnaryOp, f64, Tol, Tol); 6] = [
        (UnaryOp::Sin, 1e4, (3e-7, 0.0), (5e-16, 0.0)),
        (UnaryOp::Cos, 1e4, (3e-7, 0.0), (5e-16, 0.0)),
        (UnaryOp::Tanh, 12.0, (2e-7, 0.0), (3e-16, 0.0)),
        (UnaryOp::Erf, 5.0, (2e-7, 0.0), (2e-15, 0.0)),
        (UnaryOp::Exp, 80.0, (0.0, 5e-7), (0.0, 1e-15)),
        (UnaryOp::Log, 1e6, (1e-7, 2e-7), (1e-16, 4e-16)),
    ];
    let mut worst = Vec::new();
    for (op, range, tol32, tol64) in cases {
        let n = if op == UnaryOp::Erf { 501 } else { 2001 };
        let xs: Vec<f64> = (0..n)
            .map(|i| -range + 2.0 * range * i as f64 / (n - 1) as f64)
            .collect();
        let xs: Vec<f64> = if op == UnaryOp::Log {
            xs.iter().map(|x| x.abs() + 1e-3).collect()
        } else {
            xs
        };
        for (d, (abs, rel)) in [(DType::F32, tol32), (DType::F64, tol64)] {
            if !has(ctx, d) {
                continue;
            }
            let data = float_data(d, &xs);
            let exact = floats(&data);
            let got = floats(&run(ctx, &unary_kernel(op, d, n as u64), &[data])[0]);
            let reference = float_unary(op).0;
            // The error in units of the tolerance: <= 1 passes.
            let (mut err, mut at) = (0.0f64, 0.0);
            for (&x, &g) in exact.iter().zip(&got) {
                let w = reference(x);
                let e = (g - w).abs() / (abs + rel * w.abs());
                if e > err {
                    (err, at) = (e, x);
                }
            }
            worst.push(format!("{op} {d} on ±{range}: worst at {at:e}: {err:.2} × tolerance (abs {abs:.0e}, rel {rel:.0e})"));
            assert!(err <= 1.0, "{}", worst.last().unwrap());
        }
    }
    println!("{}", worst.join("\n"));
}

fn int_values(d: DType) -> Vec<Scalar> {
    let raw: Vec<i64> = match d {
        DType::U8 => vec![0, 1, 2, 3, 7, 100, 127, 128, 200, 254, 255],
        DType::I32 => vec![
            0,
            1,
            -1,
            2,
            -2,
            3,
            -3,
            7,
            -7,
            100,
            -100,
            i32::MAX as i64,
            i32::MIN as i64,
            65536,
        ],
        _ => vec![
            0,
            1,
            -1,
            2,
            -2,
            3,
            -7,
            100,
            -100,
            5_000_000_000,
            i64::MAX,
            i64::MIN,
            i32::MIN as i64,
        ],
    };
    raw.into_iter().map(|v| Scalar::from_i64(v, d)).collect()
}

/// The integer semantics of `BinaryOp` on i64 (wrapping) for a dtype's values, then wrapped to the dtype.
fn int_binary(op: BinaryOp, d: DType, a: i64, b: i64) -> Scalar {
    let wrap = |v: i64| Scalar::from_i64(v, d);
    // Exact in i128, then wrapped to the dtype.
    let w = |v: i128| wrap(v as i64);
    let signed = |s: Scalar| s.to_i64();
    let (a128, b128) = (a as i128, b as i128);
    match op {
        BinaryOp::Add => w(a128 + b128),
        BinaryOp::Sub => w(a128 - b128),
        BinaryOp::Mul => w(a128.wrapping_mul(b128)),
        BinaryOp::Div => {
            if b == 0 {
                wrap(0)
            } else {
                let q = a128 / b128;
                w(if a128 % b128 != 0 && ((a < 0) != (b < 0)) {
                    q - 1
                } else {
                    q
                })
            }
        }
        BinaryOp::Rem => {
            if b == 0 {
                wrap(0)
            } else {
                let r = a128 % b128;
                w(if r != 0 && ((r < 0) != (b < 0)) {
                    r + b128
                } else {
                    r
                })
            }
        }
        BinaryOp::Pow => {
            if b < 0 {
                wrap(match a {
                    1 => 1,
                    -1 if b % 2 != 0 => -1,
                    -1 => 1,
                    _ => 0,
                })
            } else {
                let (mut r, mut base, mut e) = (wrap(1), wrap(a), b);
                while e > 0 {
                    if e & 1 == 1 {
                        r = int_binary(BinaryOp::Mul, d, signed(r), signed(base));
                    }
                    base = int_binary(BinaryOp::Mul, d, signed(base), signed(base));
                    e >>= 1;
                }
                r
            }
        }
        BinaryOp::Max => wrap(a.max(b)),
        BinaryOp::Min => wrap(a.min(b)),
        BinaryOp::CmpEq => Scalar::Bool(a == b),
        BinaryOp::CmpNe => Scalar::Bool(a != b),
        BinaryOp::CmpLt => Scalar::Bool(a < b),
        BinaryOp::CmpLe => Scalar::Bool(a <= b),
        BinaryOp::And => wrap(a & b),
        BinaryOp::Or => wrap(a | b),
        BinaryOp::Xor => wrap(a ^ b),
    }
}

const ALL_BINARY: [BinaryOp; 15] = BinaryOp::ALL;

#[test]
fn integer_binary_ops_match_references() {
    let Some(ctx) = ctx() else { return };
    for d in [DType::U8, DType::I32, DType::I64] {
        if !has(ctx, d) {
            continue;
        }
        let vals = int_values(d);
        let (xs, ys): (Vec<Scalar>, Vec<Scalar>) = vals
            .iter()
            .flat_map(|&x| vals.iter().map(move |&y| (x, y)))
            .unzip();
        let pow_exps: Vec<Scalar> = (0..xs.len())
            .map(|i| Scalar::from_i64(i as i64 % 9 - 2, d))
            .collect();
        for op in ALL_BINARY {
            let ys = if op == BinaryOp::Pow { &pow_exps } else { &ys };
            let k = binary_kernel(op, d, xs.len() as u64);
            let got = run(
                ctx,
                &k,
                &[Data::from_scalars(d, &xs), Data::from_scalars(d, ys)],
            )[0]
            .scalars();
            for ((x, y), g) in xs.iter().zip(ys).zip(got) {
                let want = int_binary(op, d, x.to_i64(), y.to_i64());
                assert_eq!(g, want, "{op} {d}: {x} {y}");
            }
        }
    }
}

/// `+ - * / %` of `BinaryOp` on floats, in the precision of `T`.
fn float_arith<
    T: std::ops::Add<Output = T>
        + std::ops::Sub<Output = T>
        + std::ops::Mul<Output = T>
        + std::ops::Div<Output = T>
        + Copy
        + Floor,
>(
    op: BinaryOp,
    a: T,
    b: T,
) -> T {
    match op {
        BinaryOp::Add => a + b,
        BinaryOp::Sub => a - b,
        BinaryOp::Mul => a * b,
        BinaryOp::Div => a / b,
        BinaryOp::Rem => a - b * (a / b).floor(),
        _ => unreachable!(),
    }
}

trait Floor {
    fn floor(self) -> Self;
}
impl Floor for f32 {
    fn floor(self) -> f32 {
        f32::floor(self)
    }
}
impl Floor for f64 {
    fn floor(self) -> f64 {
        f64::floor(self)
    }
}

/// NaN if either is NaN; of two zeros, max is +0 unless both are -0 and min is -0 unless both are +0.
fn max_min(x: f64, y: f64, max: bool) -> f64 {
    if x.is_nan() || y.is_nan() {
        f64::NAN
    } else if x == y {
        if x.is_sign_negative() == max { y } else { x }
    } else if (x > y) == max {
        x
    } else {
        y
    }
}

#[test]
fn float_binary_ops_match_references() {
    let Some(ctx) = ctx() else { return };
    let specials = [
        0.0,
        -0.0,
        1.0,
        -1.0,
        2.0,
        -2.0,
        0.5,
        -3.0,
        7.5,
        -7.5,
        1e30,
        f64::INFINITY,
        f64::NEG_INFINITY,
        f64::NAN,
    ];
    let (xs, ys): (Vec<f64>, Vec<f64>) = specials
        .iter()
        .flat_map(|&x| specials.iter().map(move |&y| (x, y)))
        .unzip();
    for d in [DType::F32, DType::F64] {
        if !has(ctx, d) {
            continue;
        }
        let (dx, dy) = (float_data(d, &xs), float_data(d, &ys));
        let (xs, ys) = (floats(&dx), floats(&dy));
        for op in &ALL_BINARY[..12] {
            let k = binary_kernel(*op, d, xs.len() as u64);
            let out = &run(ctx, &k, &[dx.clone(), dy.clone()])[0];
            for (i, (&x, &y)) in xs.iter().zip(&ys).enumerate() {
                // Arithmetic in the dtype's own precision (f32 ops on f32 values), as the GPU does it.
                let fl = |v: f64| Scalar::from_f64(v, d);
                let arith = |op: BinaryOp| {
                    if d == DType::F32 {
                        fl(float_arith(op, x as f32, y as f32) as f64)
                    } else {
                        fl(float_arith(op, x, y))
                    }
                };
                // The remainder formula loses all precision once |x/y| is huge; the contract is the formula.
                if *op == BinaryOp::Rem && !(x / y).is_nan() && (x / y).abs() > 1e6 {
                    continue;
                }
                let want = match op {
                    BinaryOp::Add
                    | BinaryOp::Sub
                    | BinaryOp::Mul
                    | BinaryOp::Div
                    | BinaryOp::Rem => arith(*op),
                    BinaryOp::Pow => fl(x.powf(y)),
                    BinaryOp::Max => fl(max_min(x, y, true)),
                    BinaryOp::Min => fl(max_min(x, y, false)),
                    BinaryOp::CmpEq => Scalar::Bool(x == y),
                    BinaryOp::CmpNe => Scalar::Bool(x != y),
                    BinaryOp::CmpLt => Scalar::Bool(x < y),
                    BinaryOp::CmpLe => Scalar::Bool(x <= y),
                    _ => unreachable!(),
                };
                let got = out.scalars()[i];
                let ok = match (got, want) {
                    (Scalar::Bool(g), Scalar::Bool(w)) => g == w,
                    // Zero signs are not part of the contract (max(-0, 0), 0 * -x).
                    (g, w) => {
                        let rel = match (op, d) {
                            (BinaryOp::Pow, DType::F32) => 1e-5,
                            (BinaryOp::Pow, _) => 1e-13,
                            (_, DType::F32) => 1e-6,
                            _ => 1e-15,
                        };
                        close(g.to_f64(), w.to_f64(), 0.0, rel)
                    }
                };
                // max(-0, +0) = +0, min(-0, +0) = -0.
                let both_zero = matches!(op, BinaryOp::Max | BinaryOp::Min) && x == 0.0 && y == 0.0;
                let ok = ok
                    && (!both_zero
                        || got.to_f64().is_sign_negative() == want.to_f64().is_sign_negative());
                // pow(-0, odd negative) is -inf in C; the GPU gives +inf (documented gap).
                let pow_neg_zero = *op == BinaryOp::Pow && x == 0.0 && x.is_sign_negative();
                assert!(
                    ok || pow_neg_zero,
                    "{op} {d}: {x} {y}: got {got}, want {want}"
                );
            }
        }
    }
}

#[test]
fn pow_of_negative_bases_and_fractional_exponents() {
    let Some(ctx) = ctx() else { return };
    let xs = [
        -2.0, -2.0, -2.0, -0.5, 3.0, 10.0, 0.0, 0.0, -1.0, -1.0, 1.0, 2.0,
    ];
    let ys = [
        3.0,
        2.0,
        0.5,
        -3.0,
        0.5,
        -2.0,
        -1.0,
        2.0,
        f64::INFINITY,
        1e10,
        f64::NAN,
        0.0,
    ];
    for d in [DType::F32, DType::F64] {
        if !has(ctx, d) {
            continue;
        }
        let out = floats(
            &run(
                ctx,
                &binary_kernel(BinaryOp::Pow, d, 12),
                &[float_data(d, &xs), float_data(d, &ys)],
            )[0],
        );
        for ((x, y), g) in xs.iter().zip(&ys).zip(out) {
            assert!(close(g, x.powf(*y), 0.0, 2e-6), "pow {d} {x} {y}: {g}");
        }
    }
}

#[test]
fn bool_ops_and_int_unary_ops() {
    let Some(ctx) = ctx() else { return };
    let (xs, ys) = (
        vec![false, false, true, true],
        vec![false, true, false, true],
    );
    // Integer arithmetic on 0 and 1, cast back to bool.
    type Logic = fn(bool, bool) -> bool;
    let cases: [(BinaryOp, Logic); 15] = [
        (BinaryOp::Add, |a, b| a | b),
        (BinaryOp::Sub, |a, b| a ^ b),
        (BinaryOp::Mul, |a, b| a & b),
        (BinaryOp::Div, |a, b| a & b),
        (BinaryOp::Rem, |_, _| false),
        (BinaryOp::Pow, |a, b| a | !b),
        (BinaryOp::Max, |a, b| a | b),
        (BinaryOp::Min, |a, b| a & b),
        (BinaryOp::And, |a, b| a & b),
        (BinaryOp::Or, |a, b| a | b),
        (BinaryOp::Xor, |a, b| a ^ b),
        (BinaryOp::CmpEq, |a, b| a == b),
        (BinaryOp::CmpNe, |a, b| a != b),
        (BinaryOp::CmpLt, |a, b| !a & b),
        (BinaryOp::CmpLe, |a, b| !a | b),
    ];
    for (op, f) in cases {
        let out = run(
            ctx,
            &binary_kernel(op, DType::Bool, 4),
            &[Data::Bool(xs.clone()), Data::Bool(ys.clone())],
        );
        let want: Vec<bool> = xs.iter().zip(&ys).map(|(&a, &b)| f(a, b)).collect();
        assert_eq!(out[0], Data::Bool(want), "{op}");
    }
    let out = run(
        ctx,
        &unary_kernel(UnaryOp::Not, DType::Bool, 4),
        &[Data::Bool(ys.clone())],
    );
    assert_eq!(out[0], Data::Bool(vec![true, false, true, false]));
    for op in [UnaryOp::Neg, UnaryOp::Abs, UnaryOp::Sign] {
        let out = run(
            ctx,
            &unary_kernel(op, DType::Bool, 4),
            &[Data::Bool(ys.clone())],
        );
        assert_eq!(
            out[0],
            Data::Bool(ys.clone()),
            "{op} leaves a bool unchanged"
        );
    }
    for d in [DType::U8, DType::I32, DType::I64] {
        if !has(ctx, d) {
            continue;
        }
        let vals = int_values(d);
        for op in [UnaryOp::Neg, UnaryOp::Abs, UnaryOp::Sign] {
            let out = run(
                ctx,
                &unary_kernel(op, d, vals.len() as u64),
                &[Data::from_scalars(d, &vals)],
            )[0]
            .scalars();
            for (x, g) in vals.iter().zip(out) {
                let v = x.to_i64();
                let want = match op {
                    UnaryOp::Neg => Scalar::from_i64(v.wrapping_neg(), d),
                    UnaryOp::Abs => Scalar::from_i64(v.wrapping_abs(), d),
                    _ => Scalar::from_i64(v.signum(), d),
                };
                let want = if d == DType::U8 && op == UnaryOp::Sign {
                    Scalar::U8((v != 0) as u8)
                } else {
                    want
                };
                let want = if d == DType::U8 && op == UnaryOp::Abs {
                    *x
                } else {
                    want
                };
                assert_eq!(g, want, "{op} {d} of {x}");
            }
        }
    }
}

/// `Expr::Cast` semantics: floats truncate toward zero and saturate (NaN → 0), integers wrap, nonzero is
/// true — which is what Rust's `as` does for every pair but to/from bool.
fn cast_reference(x: Scalar, to: DType) -> Scalar {
    macro_rules! conv {
        ($v:expr) => {
            match to {
                DType::Bool => unreachable!(),
                DType::U8 => Scalar::U8($v as u8),
                DType::I32 => Scalar::I32($v as i32),
                DType::I64 => Scalar::I64($v as i64),
                DType::F32 => Scalar::F32($v as f32),
                DType::F64 => Scalar::F64($v as f64),
            }
        };
    }
    if to == DType::Bool {
        return Scalar::Bool(x.to_f64() != 0.0 || x.to_f64().is_nan());
    }
    match x {
        Scalar::Bool(b) => conv!(b as u8),
        Scalar::U8(v) => conv!(v),
        Scalar::I32(v) => conv!(v),
        Scalar::I64(v) => conv!(v),
        Scalar::F32(v) => conv!(v),
        Scalar::F64(v) => conv!(v),
    }
}

#[test]
fn every_cast_matches_the_reference() {
    let Some(ctx) = ctx() else { return };
    let floats = [
        0.0,
        -0.0,
        0.7,
        -0.7,
        1.5,
        -2.5,
        255.9,
        256.0,
        300.0,
        -1.0,
        3e9,
        -3e9,
        1e19,
        -1e19,
        16777217.0,
        1e40,
        f64::NAN,
        f64::INFINITY,
        f64::NEG_INFINITY,
    ];
    let source = |d: DType| -> Vec<Scalar> {
        match d {
            DType::Bool => vec![Scalar::Bool(false), Scalar::Bool(true)],
            DType::F32 | DType::F64 => floats.iter().map(|&v| Scalar::from_f64(v, d)).collect(),
            _ => int_values(d)
                .into_iter()
                .chain([Scalar::from_i64(16777217, d), Scalar::from_i64(-300, d)])
                .collect(),
        }
    };
    for from in DType::ALL {
        if !has(ctx, from) {
            continue;
        }
        let xs = source(from);
        for to in DType::ALL {
            if !has(ctx, to) {
                continue;
            }
            let out = run(
                ctx,
                &cast_kernel(from, to, xs.len() as u64),
                &[Data::from_scalars(from, &xs)],
            );
            for (x, g) in xs.iter().zip(out[0].scalars()) {
                let want = cast_reference(*x, to);
                let (gv, wv) = (g.to_f64(), want.to_f64());
                let same = g == want || (gv == 0.0 && wv == 0.0) || (gv.is_nan() && wv.is_nan());
                assert!(same, "cast {x} to {to}: got {g}, want {want}");
            }
        }
    }
}

/// Regressions found by comparing random kernels with the reference evaluator.
#[test]
fn regressions_from_random_kernels() {
    let Some(ctx) = ctx() else { return };
    // Mesa 22.3's lavapipe miscompiled `i64(x) > 0` for an i32 `x` (true for every x).
    if has(ctx, DType::I64) {
        let mut b = KernelBuilder::new();
        let a = b.param(DType::I32, 4, Access::Read);
        let (o1, o2) = (
            b.param(DType::I64, 4, Access::Write),
            b.param(DType::Bool, 4, Access::Write),
        );
        let i = b.var(Kernel::PARALLEL);
        let x = b.load(a, i);
        let w = b.expr(Expr::Cast(x, DType::I64));
        let s = b.unary(UnaryOp::Sign, w);
        let zero = b.constant(Scalar::I64(0));
        let lt = b.binary(BinaryOp::CmpLt, w, zero);
        let k = b.finish(
            "widen",
            4,
            vec![
                Stmt::Store {
                    buf: o1,
                    index: i,
                    value: s,
                },
                Stmt::Store {
                    buf: o2,
                    index: i,
                    value: lt,
                },
            ],
        );
        let out = run(ctx, &k, &[Data::I32(vec![-7, 7, 0, i32::MIN])]);
        assert_eq!(out[0], Data::I64(vec![-1, 1, 0, -1]));
        assert_eq!(out[1], Data::Bool(vec![true, false, false, true]));
    }
    // tanh rounds to 1 only past ~9.01 in f32.
    let out = run(
        ctx,
        &unary_kernel(UnaryOp::Tanh, DType::F32, 3),
        &[Data::F32(vec![8.71, 9.0, -9.0])],
    );
    assert_eq!(out[0], Data::F32(vec![0.99999994, 0.99999994, -0.99999994]));
    // Small integer powers are exact where the result is representable.
    let xs = vec![3.0f32, -2.0, 2.0, 10.0, -5.0];
    let ys = vec![4.0f32, 3.0, -2.0, 10.0, -5.0];
    let out = run(
        ctx,
        &binary_kernel(BinaryOp::Pow, DType::F32, 5),
        &[Data::F32(xs), Data::F32(ys)],
    );
    assert_eq!(
        out[0],
        Data::F32(vec![81.0, -8.0, 0.25, 1e10, (-5.0f32).powi(-5)])
    );
}
