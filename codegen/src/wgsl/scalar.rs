//! Scalar operations per dtype, as WGSL expressions: literals, unary and binary ops, casts.
//!
//! Register types: f32, f64, i32, i64 are themselves; `u8` is a `u32` kept in `0..=255` (wrapping ops
//! mask with `& 255u`); `bool` is a WGSL `bool`. Functions here return `Err(what)` for an op the dtype
//! does not have (the caller turns it into `CodegenError::Unsupported`).

use super::library::{Func, Library};
use crate::dtype::{Category, DType, Scalar};
use crate::ops::{BinaryOp, UnaryOp};

/// The WGSL register type of a dtype.
pub(super) const fn wgsl_ty(d: DType) -> &'static str {
    match d {
        DType::Bool => "bool",
        DType::U8 => "u32",
        DType::I32 => "i32",
        DType::I64 => "i64",
        DType::F32 => "f32",
        DType::F64 => "f64",
    }
}

/// The literal suffix of a dtype.
pub(super) const fn suffix(d: DType) -> &'static str {
    match d {
        DType::Bool => "",
        DType::U8 => "u",
        DType::I32 => "i",
        DType::I64 => "li",
        DType::F32 => "f",
        DType::F64 => "lf",
    }
}

/// A finite float literal of dtype `d` (f32 or f64) that reads back to the same value.
pub(super) fn flit(v: f64, d: DType) -> String {
    if d == DType::F64 {
        format!("{v:?}lf")
    } else {
        format!("{:?}f", v as f32)
    }
}

/// Infinity of a float dtype. WGSL has no literal for it and naga rejects non-finite constant
/// expressions, so it is a bit cast (which naga leaves to run time).
pub(super) fn inf(d: DType) -> String {
    let f = "bitcast<f32>(0x7f800000u)";
    if d == DType::F64 {
        format!("f64({f})")
    } else {
        f.into()
    }
}

/// A quiet NaN of a float dtype (see [`inf`]).
pub(super) fn nan(d: DType) -> String {
    let f = "bitcast<f32>(0x7fc00000u)";
    if d == DType::F64 {
        format!("f64({f})")
    } else {
        f.into()
    }
}

/// A constant as a WGSL expression.
pub(super) fn literal(s: Scalar) -> String {
    match s {
        Scalar::Bool(b) => b.to_string(),
        Scalar::U8(v) => format!("{v}u"),
        Scalar::I32(i32::MIN) => "(-2147483647i - 1i)".into(),
        Scalar::I32(v) => format!("{v}i"),
        Scalar::I64(i64::MIN) => "(-9223372036854775807li - 1li)".into(),
        Scalar::I64(v) => format!("{v}li"),
        Scalar::F32(v) if v.is_finite() => format!("{v:?}f"),
        Scalar::F32(v) => format!("bitcast<f32>(0x{:08x}u)", v.to_bits()),
        Scalar::F64(v) if v.is_finite() => format!("{v:?}lf"),
        Scalar::F64(v) => format!("f64(bitcast<f32>(0x{:08x}u))", (v as f32).to_bits()),
    }
}

/// `op(a)` for an operand of dtype `d`.
pub(super) fn unary(lib: &mut Library, op: UnaryOp, d: DType, a: &str) -> Result<String, String> {
    let float = d.is_float();
    let s = suffix(d);
    let no = || Err(format!("{op} of {d}"));
    Ok(match op {
        // neg, abs and sign leave a bool unchanged (0 and 1 map to themselves, as integers).
        UnaryOp::Neg | UnaryOp::Abs | UnaryOp::Sign if d == DType::Bool => a.to_string(),
        UnaryOp::Neg if d == DType::U8 => format!("((0u - {a}) & 255u)"),
        UnaryOp::Neg => format!("(-{a})"),
        UnaryOp::Recip if float => format!("(1.0{s} / {a})"),
        UnaryOp::Sqrt if float => lib.call(Func::Sqrt, d, &[a]),
        UnaryOp::Exp if float => lib.call(Func::Exp, d, &[a]),
        UnaryOp::Log if float => lib.call(Func::Log, d, &[a]),
        UnaryOp::Sin if float => lib.call(Func::Sin, d, &[a]),
        UnaryOp::Cos if float => lib.call(Func::Cos, d, &[a]),
        UnaryOp::Tanh if float => lib.call(Func::Tanh, d, &[a]),
        UnaryOp::Erf if float => lib.call(Func::Erf, d, &[a]),
        UnaryOp::Abs if d == DType::U8 => a.to_string(),
        UnaryOp::Abs => format!("abs({a})"),
        UnaryOp::Sign if d == DType::U8 => format!("select(0u, 1u, {a} != 0u)"),
        UnaryOp::Sign => lib.call(Func::Sign, d, &[a]),
        UnaryOp::Floor if float => format!("floor({a})"),
        UnaryOp::Ceil if float => format!("ceil({a})"),
        // WGSL's round() rounds half to even, as torch.round.
        UnaryOp::Round if float => format!("round({a})"),
        UnaryOp::Trunc if float => format!("trunc({a})"),
        UnaryOp::Not if d == DType::Bool => format!("(!{a})"),
        _ => return no(),
    })
}

/// `op(a, b)` for operands of dtype `d`.
pub(super) fn binary(
    lib: &mut Library,
    op: BinaryOp,
    d: DType,
    a: &str,
    b: &str,
) -> Result<String, String> {
    use BinaryOp::*;
    let no = || Err(format!("{op} of {d}"));
    let infix = |sym: &str| format!("({a} {sym} {b})");
    // Bool arithmetic is integer arithmetic on 0 and 1, cast back to bool (nonzero is true).
    if d == DType::Bool {
        return Ok(match op {
            Add | Max | Or => infix("|"),
            Mul | Min | And | Div => infix("&"),
            Sub | Xor | CmpNe => infix("!="),
            CmpEq => infix("=="),
            CmpLt => format!("(!{a} & {b})"),
            CmpLe => format!("(!{a} | {b})"),
            Rem => "false".into(),
            Pow => format!("({a} | !{b})"),
        });
    }
    let wrap_u8 = |sym: &str| format!("(({a} {sym} {b}) & 255u)");
    Ok(match (op, d.category()) {
        (Add, _) if d == DType::U8 => wrap_u8("+"),
        (Sub, _) if d == DType::U8 => wrap_u8("-"),
        (Mul, _) if d == DType::U8 => wrap_u8("*"),
        (Add, _) => infix("+"),
        (Sub, _) => infix("-"),
        (Mul, _) => infix("*"),
        (Div, Category::Float) => infix("/"),
        (Div, _) => lib.call(Func::Div, d, &[a, b]),
        (Rem, _) => lib.call(Func::Rem, d, &[a, b]),
        (Pow, _) => lib.call(Func::Pow, d, &[a, b]),
        (Max, Category::Float) => lib.call(Func::Max, d, &[a, b]),
        (Min, Category::Float) => lib.call(Func::Min, d, &[a, b]),
        (Max, _) => format!("max({a}, {b})"),
        (Min, _) => format!("min({a}, {b})"),
        (CmpEq, _) => infix("=="),
        // naga lowers float `!=` to an ordered comparison (false for NaN); smelt's `ne` is true there.
        (CmpNe, Category::Float) => format!("(!({a} == {b}))"),
        (CmpNe, _) => infix("!="),
        (CmpLt, _) => infix("<"),
        (CmpLe, _) => infix("<="),
        (And | Or | Xor, Category::Float) => return no(),
        (And, _) => infix("&"),
        (Or, _) => infix("|"),
        (Xor, _) => infix("^"),
    })
}

/// `a` (of dtype `from`) converted to `to`, with the semantics of `Expr::Cast`: floats to integers
/// truncate toward zero and saturate (NaN gives 0), integers wrap, nonzero gives `true`.
pub(super) fn cast(lib: &mut Library, from: DType, to: DType, a: &str) -> String {
    if from == to {
        return a.to_string();
    }
    let zero = literal(Scalar::zero(to));
    let one = literal(Scalar::one(to));
    match (from.category(), to) {
        (Category::Bool, _) => format!("select({zero}, {one}, {a})"),
        // `!(x == 0)`, not `x != 0`: naga's `!=` on floats is ordered (false for NaN), and NaN is true.
        (_, DType::Bool) => format!("(!({a} == {}))", literal(Scalar::zero(from))),
        (_, DType::F32 | DType::F64) => format!("{}({a})", wgsl_ty(to)),
        (Category::Float, DType::I32) => lib.call(Func::ToI32, from, &[a]),
        (Category::Float, DType::I64) => lib.call(Func::ToI64, from, &[a]),
        (Category::Float, _) => lib.call(Func::ToU8, from, &[a]),
        // Integer to integer: wrap. `i32(i64)` keeps the low bits; u8 is the low byte.
        (_, DType::I64) if from == DType::I32 => widen_i32(a),
        (_, DType::I64) => format!("i64(u64({a}))"),
        (_, DType::I32) => format!("i32({a})"),
        (_, _) if from == DType::I64 => format!("(u32(i32({a})) & 255u)"),
        (_, _) => format!("(u32({a}) & 255u)"),
    }
}

/// An `i32` index converted to a value of dtype `to` (not bool).
pub(super) fn index_cast(to: DType, a: &str) -> String {
    match to {
        DType::I32 => a.to_string(),
        DType::I64 => widen_i32(a),
        DType::U8 => format!("(u32({a}) & 255u)"),
        _ => format!("{}({a})", wgsl_ty(to)),
    }
}

/// An `i32` sign-extended to `i64` without `i64(x)`: naga emits `OpSConvert` for it, and Mesa 22.3's
/// lavapipe miscompiles ordered comparisons of such a value with a constant (`i64(-7) > 0` is true).
/// Zero-extend through `u64` (`OpUConvert`) and sign-extend by hand instead.
fn widen_i32(a: &str) -> String {
    format!("((i64(u64(u32({a}))) ^ 2147483648li) - 2147483648li)")
}

/// The register value of an element read from a buffer of dtype `d` (`bool` is stored as a `u32`).
pub(super) fn from_storage(d: DType, word: &str) -> String {
    if d == DType::Bool {
        format!("({word} != 0u)")
    } else {
        word.to_string()
    }
}

/// The storage word for a register value of dtype `d`.
pub(super) fn to_storage(d: DType, value: &str) -> String {
    if d == DType::Bool {
        format!("select(0u, 1u, {value})")
    } else {
        value.to_string()
    }
}
