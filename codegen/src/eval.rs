//! The reference evaluator of the kernel IR: naive, slow and obviously correct. Every backend is tested
//! against it.
//!
//! It runs the parallel loop's iterations in order and, at every statement, evaluates the expressions the
//! statement needs from scratch, with the current loop variables and accumulators. Nothing is hoisted,
//! vectorized or reassociated, so a sum is the sequential sum in the accumulator's dtype.
//!
//! # Semantics (the specification the backends implement)
//! - Arithmetic happens in the operands' dtype: `f32` ops round to `f32`, integers wrap.
//! - Transcendental functions are the platform's libm (Rust's `std`, and libm's `erf`/`erff`).
//! - Integer `div` is floor division and `rem` the floor modulus (sign of the divisor); `x / 0 == 0` and
//!   `x % 0 == 0`. `i32::MIN / -1` wraps to `i32::MIN`.
//! - Float `rem` is `x - y * floor(x / y)`, each step rounded (no fused multiply-add).
//! - Integer `pow` is repeated (wrapping) multiplication; a negative exponent gives 0, except for base 1
//!   (gives 1) and base -1 (gives ±1 by the exponent's parity).
//! - `max`/`min` of floats: NaN if either operand is NaN; `max(-0, +0) = +0`, `min(-0, +0) = -0`.
//! - `sign` of a float: NaN stays NaN, ±0 gives +0. `round` is half to even.
//! - Bool arithmetic is integer arithmetic on 0/1 cast back to bool (nonzero is true): `add`/`max` are or,
//!   `mul`/`min`/`div` are and, `sub` is xor, `rem` is false, `pow(a, b)` is `a | !b`, and
//!   `neg`/`abs`/`sign` leave a bool unchanged. Comparisons order `false < true`.
//! - Casts: floats to integers truncate toward zero and saturate (NaN gives 0); integers to integers wrap
//!   (u8 is zero-extended, bool is 0/1); anything nonzero (NaN included) is `true`.
//! - A masked load reads nothing where its mask is false and gives 0 there. A checked index out of range
//!   gives 0 and stores `1i32` into its flag buffer.
//! - Every expression a statement uses is evaluated each time the statement runs: `where` evaluates both
//!   sides and a masked load its index, so a checked index flags even where its value is not used.

use crate::dtype::{DType, Scalar};
use crate::kernel::{self, AccId, ExprId, Kernel, LoopVar, Stmt};
use crate::ops::{BinaryOp, ReduceOp, UnaryOp};
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

/// A host buffer of one dtype.
#[derive(Clone, Debug, PartialEq)]
pub enum HostData {
    Bool(Vec<bool>),
    U8(Vec<u8>),
    I32(Vec<i32>),
    I64(Vec<i64>),
    F32(Vec<f32>),
    F64(Vec<f64>),
}

impl HostData {
    /// `len` zeros of `dtype`.
    pub fn zeros(dtype: DType, len: usize) -> HostData {
        match dtype {
            DType::Bool => HostData::Bool(vec![false; len]),
            DType::U8 => HostData::U8(vec![0; len]),
            DType::I32 => HostData::I32(vec![0; len]),
            DType::I64 => HostData::I64(vec![0; len]),
            DType::F32 => HostData::F32(vec![0.0; len]),
            DType::F64 => HostData::F64(vec![0.0; len]),
        }
    }

    pub fn dtype(&self) -> DType {
        match self {
            HostData::Bool(_) => DType::Bool,
            HostData::U8(_) => DType::U8,
            HostData::I32(_) => DType::I32,
            HostData::I64(_) => DType::I64,
            HostData::F32(_) => DType::F32,
            HostData::F64(_) => DType::F64,
        }
    }

    pub fn len(&self) -> usize {
        match self {
            HostData::Bool(v) => v.len(),
            HostData::U8(v) => v.len(),
            HostData::I32(v) => v.len(),
            HostData::I64(v) => v.len(),
            HostData::F32(v) => v.len(),
            HostData::F64(v) => v.len(),
        }
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Element `i` as a scalar.
    pub fn get(&self, i: usize) -> Scalar {
        match self {
            HostData::Bool(v) => S::Bool(v[i]),
            HostData::U8(v) => S::U8(v[i]),
            HostData::I32(v) => S::I32(v[i]),
            HostData::I64(v) => S::I64(v[i]),
            HostData::F32(v) => S::F32(v[i]),
            HostData::F64(v) => S::F64(v[i]),
        }
    }

    /// Sets element `i`; the scalar must have the buffer's dtype.
    pub fn set(&mut self, i: usize, s: Scalar) {
        match (self, s) {
            (HostData::Bool(v), S::Bool(x)) => v[i] = x,
            (HostData::U8(v), S::U8(x)) => v[i] = x,
            (HostData::I32(v), S::I32(x)) => v[i] = x,
            (HostData::I64(v), S::I64(x)) => v[i] = x,
            (HostData::F32(v), S::F32(x)) => v[i] = x,
            (HostData::F64(v), S::F64(x)) => v[i] = x,
            (buf, s) => panic!("storing a {} into a {} buffer", s.dtype(), buf.dtype()),
        }
    }

    /// The base pointer of the elements (bool is one byte holding 0 or 1, as kernels expect).
    pub fn as_mut_ptr(&mut self) -> *mut u8 {
        match self {
            HostData::Bool(v) => v.as_mut_ptr().cast(),
            HostData::U8(v) => v.as_mut_ptr(),
            HostData::I32(v) => v.as_mut_ptr().cast(),
            HostData::I64(v) => v.as_mut_ptr().cast(),
            HostData::F32(v) => v.as_mut_ptr().cast(),
            HostData::F64(v) => v.as_mut_ptr().cast(),
        }
    }
}

/// Checks that `bufs` match the kernel's parameters (count, dtype, length).
pub fn check_buffers(kernel: &Kernel, bufs: &[HostData]) -> Result<(), String> {
    if bufs.len() != kernel.params.len() {
        return Err(format!(
            "kernel `{}` takes {} buffers, got {}",
            kernel.name,
            kernel.params.len(),
            bufs.len()
        ));
    }
    for (i, (p, b)) in kernel.params.iter().zip(bufs).enumerate() {
        if p.dtype != b.dtype() || p.len != b.len() as u64 {
            return Err(format!(
                "kernel `{}`: b{i} is {}[{}], got {}[{}]",
                kernel.name,
                p.dtype,
                p.len,
                b.dtype(),
                b.len()
            ));
        }
    }
    Ok(())
}

/// Runs the whole kernel (iterations `0..extent`) on `bufs`.
pub fn eval(kernel: &Kernel, bufs: &mut [HostData]) -> Result<(), String> {
    eval_range(kernel, bufs, 0, kernel.extent)
}

/// Runs parallel-loop iterations `start..end` of the kernel on `bufs`.
pub fn eval_range(
    kernel: &Kernel,
    bufs: &mut [HostData],
    start: u64,
    end: u64,
) -> Result<(), String> {
    kernel::verify(kernel).map_err(|e| e.to_string())?;
    check_buffers(kernel, bufs)?;
    if start > end || end > kernel.extent {
        return Err(format!(
            "range {start}..{end} is not within 0..{}",
            kernel.extent
        ));
    }
    let mut m = Machine {
        k: kernel,
        bufs,
        vars: vec![0; kernel.loop_count() as usize],
        accs: vec![None; kernel.acc_count() as usize],
        vals: vec![None; kernel.exprs.len()],
    };
    for i in start..end {
        m.vars[0] = i as i64;
        m.block(&kernel.body);
    }
    Ok(())
}

/// An evaluated expression: an index or a value.
#[derive(Clone, Copy, Debug)]
enum Val {
    Index(i64),
    Value(Scalar),
}

struct Machine<'a> {
    k: &'a Kernel,
    bufs: &'a mut [HostData],
    vars: Vec<i64>,
    accs: Vec<Option<(ReduceOp, Scalar)>>,
    /// Scratch for one statement's evaluation.
    vals: Vec<Option<Val>>,
}

impl Machine<'_> {
    fn block(&mut self, stmts: &[Stmt]) {
        for s in stmts {
            match s {
                Stmt::Loop { var, extent, body } => {
                    for i in 0..*extent {
                        self.vars[var.index()] = i as i64;
                        self.block(body);
                    }
                }
                Stmt::DefAcc { acc, op, dtype } => {
                    self.accs[acc.index()] = Some((*op, op.identity(*dtype)))
                }
                Stmt::Accumulate { acc, value } => {
                    let v = self.value(*value);
                    let (op, old) = self.accs[acc.index()].expect("verified: accumulator defined");
                    self.accs[acc.index()] = Some((op, binary(op.combine(), old, v)));
                }
                Stmt::Store { buf, index, value } => {
                    let i = self.index(*index);
                    let v = self.value(*value);
                    self.bufs[buf.index()].set(i as usize, v);
                }
            }
        }
    }

    fn value(&mut self, id: ExprId) -> Scalar {
        self.vals.iter_mut().for_each(|v| *v = None);
        match self.eval(id) {
            Val::Value(s) => s,
            Val::Index(_) => unreachable!("verified: {id} is a value"),
        }
    }

    fn index(&mut self, id: ExprId) -> i64 {
        self.vals.iter_mut().for_each(|v| *v = None);
        match self.eval(id) {
            Val::Index(i) => i,
            Val::Value(_) => unreachable!("verified: {id} is an index"),
        }
    }

    /// Evaluates `id` with the current variables and accumulators (memoized within one statement).
    fn eval(&mut self, id: ExprId) -> Val {
        if let Some(v) = self.vals[id.index()] {
            return v;
        }
        let v = self.eval_uncached(id);
        self.vals[id.index()] = Some(v);
        v
    }

    fn idx(&mut self, id: ExprId) -> i64 {
        match self.eval(id) {
            Val::Index(i) => i,
            Val::Value(_) => unreachable!("verified: {id} is an index"),
        }
    }

    fn val(&mut self, id: ExprId) -> Scalar {
        match self.eval(id) {
            Val::Value(s) => s,
            Val::Index(_) => unreachable!("verified: {id} is a value"),
        }
    }

    fn eval_uncached(&mut self, id: ExprId) -> Val {
        use kernel::Expr as E;
        match *self.k.expr(id) {
            E::Var(LoopVar(v)) => Val::Index(self.vars[v as usize]),
            E::Index(c) => Val::Index(c),
            E::IAdd(a, b) => Val::Index(self.idx(a).wrapping_add(self.idx(b))),
            E::IMul(a, c) => Val::Index(self.idx(a).wrapping_mul(c)),
            E::IDiv(a, c) => Val::Index(self.idx(a).div_euclid(c)),
            E::IMod(a, c) => Val::Index(self.idx(a).rem_euclid(c)),
            E::CheckedIndex { value, len, flag } => {
                let v = int_value(self.val(value));
                if v >= 0 && (v as u64) < len {
                    Val::Index(v)
                } else {
                    self.bufs[flag.index()].set(0, S::I32(1));
                    Val::Index(0)
                }
            }
            E::Const(s) => Val::Value(s),
            E::IndexCast(a, d) => Val::Value(cast(S::I64(self.idx(a)), d)),
            E::InRange { index, lo, hi } => {
                let i = self.idx(index);
                Val::Value(S::Bool(lo <= i && i < hi))
            }
            E::Load { buf, index, mask } => {
                // The index is evaluated even where the mask is false (a checked index in it still flags).
                let i = self.idx(index);
                let on = match mask {
                    Some(m) => matches!(self.val(m), S::Bool(true)),
                    None => true,
                };
                if on {
                    Val::Value(self.bufs[buf.index()].get(i as usize))
                } else {
                    Val::Value(Scalar::zero(self.k.params[buf.index()].dtype))
                }
            }
            E::Acc(AccId(a)) => Val::Value(
                self.accs[a as usize]
                    .expect("verified: accumulator defined")
                    .1,
            ),
            E::Unary(op, a) => Val::Value(unary(op, self.val(a))),
            E::Binary(op, a, b) => {
                let (x, y) = (self.val(a), self.val(b));
                Val::Value(binary(op, x, y))
            }
            E::Where(c, a, b) => {
                // Both sides are evaluated: expressions are pure, except that a checked index flags.
                let (c, x, y) = (self.val(c), self.val(a), self.val(b));
                Val::Value(if matches!(c, S::Bool(true)) { x } else { y })
            }
            E::Cast(a, d) => Val::Value(cast(self.val(a), d)),
        }
    }
}

/// An integer or bool scalar as i64 (u8 zero-extends, bool is 0/1).
fn int_value(s: Scalar) -> i64 {
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
    use crate::kernel::{Access, Expr, KernelBuilder};

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

    /// out[i] = sum_j a[i*3 + j] over a 2x3 matrix, then a masked, checked gather.
    #[test]
    fn runs_a_reduction_and_reports_bad_indices() {
        let mut b = KernelBuilder::new();
        let a = b.param(DType::F32, 6, Access::Read);
        let idx = b.param(DType::I64, 2, Access::Read);
        let out = b.param(DType::F32, 2, Access::Write);
        let gathered = b.param(DType::F32, 2, Access::Write);
        let flag = b.param(DType::I32, 1, Access::Write);
        let i = b.var(Kernel::PARALLEL);
        let j = b.new_var();
        let jv = b.var(j);
        let row = b.imul(i, 3);
        let at = b.iadd(row, jv);
        let x = b.load(a, at);
        let acc = b.new_acc();
        let accv = b.expr(Expr::Acc(acc));
        let iv = b.load(idx, i);
        let ci = b.expr(Expr::CheckedIndex {
            value: iv,
            len: 6,
            flag,
        });
        let g = b.load(a, ci);
        let k = b.finish(
            "reduce",
            2,
            vec![
                Stmt::DefAcc {
                    acc,
                    op: ReduceOp::Sum,
                    dtype: DType::F32,
                },
                Stmt::Loop {
                    var: j,
                    extent: 3,
                    body: vec![Stmt::Accumulate { acc, value: x }],
                },
                Stmt::Store {
                    buf: out,
                    index: i,
                    value: accv,
                },
                Stmt::Store {
                    buf: gathered,
                    index: i,
                    value: g,
                },
            ],
        );
        let mut bufs = vec![
            HostData::F32(vec![1.0, 2.0, 3.0, 4.0, 5.0, 6.0]),
            HostData::I64(vec![4, 9]),
            HostData::zeros(DType::F32, 2),
            HostData::zeros(DType::F32, 2),
            HostData::zeros(DType::I32, 1),
        ];
        eval(&k, &mut bufs).unwrap();
        assert_eq!(bufs[2], HostData::F32(vec![6.0, 15.0]));
        assert_eq!(bufs[3], HostData::F32(vec![5.0, 1.0]));
        assert_eq!(bufs[4], HostData::I32(vec![1]));
        assert!(
            eval_range(&k, &mut bufs, 1, 3)
                .unwrap_err()
                .contains("0..2")
        );
    }
}
