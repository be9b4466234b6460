//! The meaning of every scalar operation on every dtype (see the module docs of [`crate::eval`]).

use crate::dtype::{DType, Scalar};
use crate::ops::{BinaryOp, UnaryOp};
use Scalar as S;

unsafe extern "C" {
    fn erf(x: f64) -> f64;
    fn erff(x: f32) -> f32;
}

/// The platform libm's `erf` (Rust's `f64::erf` is not stable yet).
pub fn libm_erf(x: f64) -> f64 {
    // SAFETY: a pure libm function of one double.
    unsafe { erf(x) }
}

/// The platform libm's `erff`.
pub fn libm_erff(x: f32) -> f32 {
    // SAFETY: a pure libm function of one float.
    unsafe { erff(x) }
}

/// An integer or bool scalar as i64 (u8 zero-extends, bool is 0/1).
pub(super) fn int_value(s: Scalar) -> i64 {
    match s {
        S::Bool(b) => b as i64,
        S::U8(v) => v as i64,
        S::I32(v) => v as i64,
        S::I64(v) => v,
        S::F32(_) | S::F64(_) => unreachable!("not an integer: {s}"),
    }
}

/// `op(x)` with the semantics of [`UnaryOp`] (see the module docs).
pub fn unary(op: UnaryOp, x: Scalar) -> Scalar {
    use UnaryOp as U;
    macro_rules! float {
        ($v:expr, $t:ident, $erf:path) => {{
            let v = $v;
            S::$t(match op {
                U::Neg => -v,
                U::Recip => 1.0 / v,
                U::Sqrt => v.sqrt(),
                U::Exp => v.exp(),
                U::Log => v.ln(),
                U::Sin => v.sin(),
                U::Cos => v.cos(),
                U::Tanh => v.tanh(),
                U::Erf => $erf(v),
                U::Abs => v.abs(),
                U::Sign => {
                    if v.is_nan() {
                        v
                    } else if v > 0.0 {
                        1.0
                    } else if v < 0.0 {
                        -1.0
                    } else {
                        0.0
                    }
                }
                U::Floor => v.floor(),
                U::Ceil => v.ceil(),
                U::Round => v.round_ties_even(),
                U::Trunc => v.trunc(),
                U::Not => unreachable!("verified: not of a float"),
            })
        }};
    }
    macro_rules! int {
        ($v:expr, $t:ident) => {{
            let v = $v;
            S::$t(match op {
                U::Neg => v.wrapping_neg(),
                U::Abs => v.wrapping_abs(),
                U::Sign => v.signum(),
                _ => unreachable!("verified: {op} of an integer"),
            })
        }};
    }
    match x {
        S::F32(v) => float!(v, F32, libm_erff),
        S::F64(v) => float!(v, F64, libm_erf),
        S::I32(v) => int!(v, I32),
        S::I64(v) => int!(v, I64),
        S::U8(v) => S::U8(match op {
            U::Neg => v.wrapping_neg(),
            U::Abs => v,
            U::Sign => (v != 0) as u8,
            _ => unreachable!("verified: {op} of u8"),
        }),
        S::Bool(b) => S::Bool(match op {
            U::Not => !b,
            U::Neg | U::Abs | U::Sign => b,
            _ => unreachable!("verified: {op} of bool"),
        }),
    }
}

/// Float max/min: NaN if either is NaN; `max(-0, +0) = +0`, `min(-0, +0) = -0`.
macro_rules! float_max_min {
    ($name:ident, $t:ty) => {
        fn $name(a: $t, b: $t, max: bool) -> $t {
            if a.is_nan() || b.is_nan() {
                <$t>::NAN
            } else if a == b {
                // Equal values, possibly zeros of different signs: max prefers +0, min prefers -0.
                if a.is_sign_negative() != max { a } else { b }
            } else if (a > b) == max {
                a
            } else {
                b
            }
        }
    };
}
float_max_min!(max_min_f32, f32);
float_max_min!(max_min_f64, f64);

/// Integer power by squaring (the same as repeated wrapping multiplication).
fn ipow(base: i64, exp: i64, mul: impl Fn(i64, i64) -> i64) -> i64 {
    if exp < 0 {
        return match base {
            1 => 1,
            -1 => {
                if exp % 2 == 0 {
                    1
                } else {
                    -1
                }
            }
            _ => 0,
        };
    }
    let (mut acc, mut b, mut e) = (1i64, base, exp as u64);
    while e > 0 {
        if e & 1 == 1 {
            acc = mul(acc, b);
        }
        b = mul(b, b);
        e >>= 1;
    }
    acc
}

/// `op(a, b)` with the semantics of [`BinaryOp`] (see the module docs). Both operands share a dtype.
#[allow(unused_comparisons)] // the integer macro also serves u8, where `< 0` is always false
pub fn binary(op: BinaryOp, a: Scalar, b: Scalar) -> Scalar {
    use BinaryOp as B;
    macro_rules! float {
        ($x:expr, $y:expr, $t:ident, $mm:ident) => {{
            let (x, y) = ($x, $y);
            match op {
                B::Add => S::$t(x + y),
                B::Sub => S::$t(x - y),
                B::Mul => S::$t(x * y),
                B::Div => S::$t(x / y),
                B::Rem => S::$t(x - y * (x / y).floor()),
                B::Pow => S::$t(x.powf(y)),
                B::Max => S::$t($mm(x, y, true)),
                B::Min => S::$t($mm(x, y, false)),
                B::CmpEq => S::Bool(x == y),
                B::CmpNe => S::Bool(x != y),
                B::CmpLt => S::Bool(x < y),
                B::CmpLe => S::Bool(x <= y),
                B::And | B::Or | B::Xor => unreachable!("verified: {op} of a float"),
            }
        }};
    }
    // Signed and unsigned integers: floor division and modulus, x/0 = x%0 = 0.
    macro_rules! int {
        ($x:expr, $y:expr, $t:ident, $ty:ty) => {{
            let (x, y): ($ty, $ty) = ($x, $y);
            match op {
                B::Add => S::$t(x.wrapping_add(y)),
                B::Sub => S::$t(x.wrapping_sub(y)),
                B::Mul => S::$t(x.wrapping_mul(y)),
                B::Div => S::$t(if y == 0 {
                    0
                } else {
                    let q = x.wrapping_div(y);
                    if x.wrapping_rem(y) != 0 && ((x.wrapping_rem(y) < 0) != (y < 0)) {
                        q.wrapping_sub(1)
                    } else {
                        q
                    }
                }),
                B::Rem => S::$t(if y == 0 {
                    0
                } else {
                    let r = x.wrapping_rem(y);
                    if r != 0 && ((r < 0) != (y < 0)) {
                        r.wrapping_add(y)
                    } else {
                        r
                    }
                }),
                B::Pow => S::$t(ipow(x as i64, y as i64, |p, q| {
                    (p as $ty).wrapping_mul(q as $ty) as i64
                }) as $ty),
                B::Max => S::$t(x.max(y)),
                B::Min => S::$t(x.min(y)),
                B::CmpEq => S::Bool(x == y),
                B::CmpNe => S::Bool(x != y),
                B::CmpLt => S::Bool(x < y),
                B::CmpLe => S::Bool(x <= y),
                B::And => S::$t(x & y),
                B::Or => S::$t(x | y),
                B::Xor => S::$t(x ^ y),
            }
        }};
    }
    match (a, b) {
        (S::F32(x), S::F32(y)) => float!(x, y, F32, max_min_f32),
        (S::F64(x), S::F64(y)) => float!(x, y, F64, max_min_f64),
        (S::I32(x), S::I32(y)) => int!(x, y, I32, i32),
        (S::I64(x), S::I64(y)) => int!(x, y, I64, i64),
        (S::U8(x), S::U8(y)) => int!(x, y, U8, u8),
        (S::Bool(x), S::Bool(y)) => {
            // Integer arithmetic on 0/1, cast back to bool.
            let r = binary(op, S::I32(x as i32), S::I32(y as i32));
            match r {
                S::I32(v) => S::Bool(v != 0),
                other => other,
            }
        }
        _ => panic!("{op} of {} and {}", a.dtype(), b.dtype()),
    }
}

/// `x` cast to `to` (see the module docs).
pub fn cast(x: Scalar, to: DType) -> Scalar {
    match x {
        S::F32(v) => cast_float(v as f64, v.is_nan(), to, Some(v)),
        S::F64(v) => cast_float(v, v.is_nan(), to, None),
        _ => {
            let v = int_value(x);
            match to {
                DType::Bool => S::Bool(v != 0),
                DType::U8 => S::U8(v as u8),
                DType::I32 => S::I32(v as i32),
                DType::I64 => S::I64(v),
                DType::F32 => S::F32(v as f32),
                DType::F64 => S::F64(v as f64),
            }
        }
    }
}

/// Casts a float (`f32` values arrive widened exactly; `narrow` keeps the original for `f32 → f32`).
fn cast_float(v: f64, nan: bool, to: DType, narrow: Option<f32>) -> Scalar {
    match to {
        DType::Bool => S::Bool(nan || v != 0.0),
        // Rust's float-to-int `as` truncates toward zero, saturates and maps NaN to 0.
        DType::U8 => S::U8(v as u8),
        DType::I32 => S::I32(v as i32),
        DType::I64 => S::I64(v as i64),
        DType::F32 => S::F32(narrow.unwrap_or(v as f32)),
        DType::F64 => S::F64(v),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn integer_division_is_floor_division_with_zero_divisor_zero() {
        let d = |a: i32, b: i32| binary(BinaryOp::Div, S::I32(a), S::I32(b));
        let r = |a: i32, b: i32| binary(BinaryOp::Rem, S::I32(a), S::I32(b));
        assert_eq!(d(7, 2), S::I32(3));
        assert_eq!(d(-7, 2), S::I32(-4));
        assert_eq!(d(7, -2), S::I32(-4));
        assert_eq!(d(-7, -2), S::I32(3));
        assert_eq!(d(5, 0), S::I32(0));
        assert_eq!(d(i32::MIN, -1), S::I32(i32::MIN));
        assert_eq!(r(-7, 2), S::I32(1));
        assert_eq!(r(7, -2), S::I32(-1));
        assert_eq!(r(7, 0), S::I32(0));
        assert_eq!(r(i32::MIN, -1), S::I32(0));
        assert_eq!(binary(BinaryOp::Div, S::U8(200), S::U8(7)), S::U8(28));
        assert_eq!(binary(BinaryOp::Rem, S::U8(200), S::U8(0)), S::U8(0));
    }

    #[test]
    fn integer_pow() {
        let p = |a: i32, b: i32| binary(BinaryOp::Pow, S::I32(a), S::I32(b));
        assert_eq!(p(3, 4), S::I32(81));
        assert_eq!(p(2, 31), S::I32(i32::MIN));
        assert_eq!(p(2, 32), S::I32(0));
        assert_eq!(p(5, -1), S::I32(0));
        assert_eq!(p(1, -7), S::I32(1));
        assert_eq!(p(-1, -7), S::I32(-1));
        assert_eq!(p(-1, -8), S::I32(1));
        assert_eq!(p(0, 0), S::I32(1));
        assert_eq!(binary(BinaryOp::Pow, S::U8(3), S::U8(5)), S::U8(243));
        assert_eq!(
            binary(BinaryOp::Pow, S::U8(3), S::U8(6)),
            S::U8((729u32 % 256) as u8)
        );
    }

    #[test]
    fn float_semantics() {
        let mx = |a: f32, b: f32| binary(BinaryOp::Max, S::F32(a), S::F32(b));
        let mn = |a: f32, b: f32| binary(BinaryOp::Min, S::F32(a), S::F32(b));
        assert!(matches!(mx(f32::NAN, 1.0), S::F32(v) if v.is_nan()));
        assert!(matches!(mn(1.0, f32::NAN), S::F32(v) if v.is_nan()));
        assert!(matches!(mx(-0.0, 0.0), S::F32(v) if v == 0.0 && v.is_sign_positive()));
        assert!(matches!(mx(0.0, -0.0), S::F32(v) if v == 0.0 && v.is_sign_positive()));
        assert!(matches!(mn(0.0, -0.0), S::F32(v) if v == 0.0 && v.is_sign_negative()));
        assert!(matches!(mx(-0.0, -0.0), S::F32(v) if v == 0.0 && v.is_sign_negative()));
        assert!(matches!(mn(0.0, 0.0), S::F32(v) if v == 0.0 && v.is_sign_positive()));
        assert_eq!(mx(2.0, 3.0), S::F32(3.0));
        assert_eq!(mn(2.0, 3.0), S::F32(2.0));
        assert_eq!(
            binary(BinaryOp::Rem, S::F32(-7.5), S::F32(2.0)),
            S::F32(0.5)
        );
        assert_eq!(
            binary(BinaryOp::Rem, S::F64(7.5), S::F64(-2.0)),
            S::F64(-0.5)
        );
        assert_eq!(unary(UnaryOp::Round, S::F32(2.5)), S::F32(2.0));
        assert_eq!(unary(UnaryOp::Round, S::F32(-3.5)), S::F32(-4.0));
        assert_eq!(unary(UnaryOp::Sign, S::F32(-0.0)), S::F32(0.0));
        assert!(matches!(unary(UnaryOp::Sign, S::F64(f64::NAN)), S::F64(v) if v.is_nan()));
        assert!((libm_erf(0.5) - 0.520_499_877_813_046_5).abs() < 1e-15);
    }

    #[test]
    fn casts() {
        assert_eq!(cast(S::F32(-2.7), DType::I32), S::I32(-2));
        assert_eq!(cast(S::F32(f32::NAN), DType::I64), S::I64(0));
        assert_eq!(cast(S::F64(1e20), DType::I32), S::I32(i32::MAX));
        assert_eq!(cast(S::F64(-1e20), DType::I64), S::I64(i64::MIN));
        assert_eq!(cast(S::F32(300.0), DType::U8), S::U8(255));
        assert_eq!(cast(S::F32(-5.0), DType::U8), S::U8(0));
        assert_eq!(cast(S::F32(f32::NAN), DType::Bool), S::Bool(true));
        assert_eq!(cast(S::F32(-0.0), DType::Bool), S::Bool(false));
        assert_eq!(cast(S::I32(300), DType::U8), S::U8(44));
        assert_eq!(cast(S::I32(-1), DType::U8), S::U8(255));
        assert_eq!(cast(S::U8(255), DType::I32), S::I32(255));
        assert_eq!(cast(S::I64(1 << 40), DType::I32), S::I32(0));
        assert_eq!(cast(S::Bool(true), DType::F32), S::F32(1.0));
        assert_eq!(cast(S::I64(i64::MAX), DType::F32), S::F32(9.223_372e18));
    }

    #[test]
    fn bool_arithmetic_is_arithmetic_on_zero_and_one() {
        let t = |op, a, b| binary(op, S::Bool(a), S::Bool(b));
        assert_eq!(t(BinaryOp::Add, true, true), S::Bool(true));
        assert_eq!(t(BinaryOp::Sub, true, true), S::Bool(false));
        assert_eq!(t(BinaryOp::Mul, true, false), S::Bool(false));
        assert_eq!(t(BinaryOp::Pow, false, false), S::Bool(true));
        assert_eq!(t(BinaryOp::CmpLt, false, true), S::Bool(true));
    }
}
