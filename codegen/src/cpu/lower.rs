//! Lowering of single operations to Cranelift instructions, per dtype.
//!
//! Most functions here take either scalars or 128-bit vector registers: Cranelift's arithmetic is
//! polymorphic, so one body serves the scalar loop and the vector loop (a value's Cranelift type says
//! which). The differences are handled by a few helpers: a bool is an `i8` holding 0/1 as a scalar and
//! an all-ones/all-zeros lane mask in a vector; `sel` is `select` or `bitselect` accordingly.
//!
//! Which operations have a vector form is stated by [`FunctionTranslator::vector_native_unary`] and
//! [`FunctionTranslator::vector_native_binary`]; the others run lane by lane (integer division, `f64`
//! libm calls, anything on `u8`).

use super::MathImpl;
use super::translate::FunctionTranslator;
use crate::dtype::{DType, Scalar};
use crate::ops::{BinaryOp, UnaryOp};
use cranelift_codegen::ir::condcodes::{FloatCC, IntCC};
use cranelift_codegen::ir::{InstBuilder, MemFlagsData, Type, Value, types};

/// The Cranelift type of a scalar of `d` (bool and u8 are bytes).
pub(super) fn scalar_type(d: DType) -> Type {
    match d {
        DType::Bool | DType::U8 => types::I8,
        DType::I32 => types::I32,
        DType::I64 => types::I64,
        DType::F32 => types::F32,
        DType::F64 => types::F64,
    }
}

/// The vector register of `d` and its lanes per register; `None` for u8, which runs lane by lane.
/// Bools are `i32x4` masks whatever they came from.
pub(super) fn vector_layout(d: DType) -> Option<(Type, u32)> {
    match d {
        DType::F32 => Some((types::F32X4, 4)),
        DType::I32 | DType::Bool => Some((types::I32X4, 4)),
        DType::F64 => Some((types::F64X2, 2)),
        DType::I64 => Some((types::I64X2, 2)),
        DType::U8 => None,
    }
}

/// Loads and stores: the verifier proved them in bounds; they never trap.
pub(super) fn mem() -> MemFlagsData {
    MemFlagsData::new().with_notrap()
}

impl FunctionTranslator<'_> {
    pub(super) fn ty(&self, v: Value) -> Type {
        self.b.func.dfg.value_type(v)
    }

    /// A float constant of type `ty`, splatted for vectors.
    pub(super) fn fk(&mut self, ty: Type, v: f64) -> Value {
        let s = if ty.lane_type() == types::F32 {
            self.b.ins().f32const(v as f32)
        } else {
            self.b.ins().f64const(v)
        };
        if ty.is_vector() {
            self.b.ins().splat(ty, s)
        } else {
            s
        }
    }

    /// An integer constant of type `ty`, splatted for vectors.
    pub(super) fn ik(&mut self, ty: Type, v: i64) -> Value {
        let s = self.b.ins().iconst(ty.lane_type(), v);
        if ty.is_vector() {
            self.b.ins().splat(ty, s)
        } else {
            s
        }
    }

    /// `c ? a : b` where `c` comes from a comparison of the same shape (i8 or lane mask).
    pub(super) fn sel(&mut self, c: Value, a: Value, b: Value) -> Value {
        let ty = self.ty(a);
        if ty.is_vector() {
            let c = if self.ty(c) == ty {
                c
            } else {
                self.b.ins().bitcast(ty, MemFlagsData::new(), c)
            };
            self.b.ins().bitselect(c, a, b)
        } else {
            self.b.ins().select(c, a, b)
        }
    }

    /// Logical not of a bool (i8 0/1) or a lane mask.
    pub(super) fn not_bool(&mut self, c: Value) -> Value {
        if self.ty(c).is_vector() {
            self.b.ins().bnot(c)
        } else {
            self.b.ins().bxor_imm_u(c, 1)
        }
    }

    /// `a * b + c`, fused where the CPU has it.
    pub(super) fn fmadd(&mut self, a: Value, b: Value, c: Value) -> Value {
        if self.target.fma && self.options.fma {
            self.b.ins().fma(a, b, c)
        } else {
            let p = self.b.ins().fmul(a, b);
            self.b.ins().fadd(p, c)
        }
    }

    /// Horner evaluation of `c[0] + x*(c[1] + x*(...))`.
    pub(super) fn poly(&mut self, x: Value, c: &[f64]) -> Value {
        let ty = self.ty(x);
        let mut acc = self.fk(ty, c[c.len() - 1]);
        for &k in c[..c.len() - 1].iter().rev() {
            let k = self.fk(ty, k);
            acc = self.fmadd(acc, x, k);
        }
        acc
    }

    /// Shifts by a constant amount (vector shifts take a scalar amount).
    pub(super) fn shl(&mut self, x: Value, n: i64) -> Value {
        let n = self.b.ins().iconst(types::I32, n);
        self.b.ins().ishl(x, n)
    }
    pub(super) fn sshr(&mut self, x: Value, n: i64) -> Value {
        let n = self.b.ins().iconst(types::I32, n);
        self.b.ins().sshr(x, n)
    }
    pub(super) fn ushr(&mut self, x: Value, n: i64) -> Value {
        let n = self.b.ins().iconst(types::I32, n);
        self.b.ins().ushr(x, n)
    }

    /// Reinterprets the bits of `x` as `ty` (same lane count).
    pub(super) fn bits_as(&mut self, ty: Type, x: Value) -> Value {
        self.b.ins().bitcast(ty, MemFlagsData::new(), x)
    }

    pub(super) fn scalar_const(&mut self, s: Scalar) -> Value {
        match s {
            Scalar::Bool(v) => self.b.ins().iconst(types::I8, v as i64),
            Scalar::U8(v) => self.b.ins().iconst(types::I8, v as i64),
            Scalar::I32(v) => self.b.ins().iconst(types::I32, v as i64),
            Scalar::I64(v) => self.b.ins().iconst(types::I64, v),
            Scalar::F32(v) => self.b.ins().f32const(v),
            Scalar::F64(v) => self.b.ins().f64const(v),
        }
    }

    /// Whether `op` on `d` has a vector form (otherwise it runs lane by lane).
    pub(super) fn vector_native_unary(&self, op: UnaryOp, d: DType) -> bool {
        match d {
            DType::U8 => false,
            DType::F32 => !(is_libm(op) && self.options.math == MathImpl::Libm),
            DType::F64 => !is_libm(op),
            _ => true,
        }
    }

    pub(super) fn vector_native_binary(&self, op: BinaryOp, d: DType) -> bool {
        use BinaryOp as B;
        match d {
            DType::U8 => false,
            DType::F32 => !(op == B::Pow && self.options.math == MathImpl::Libm),
            DType::F64 => op != B::Pow,
            DType::I32 | DType::I64 => !matches!(op, B::Div | B::Rem | B::Pow),
            DType::Bool => true,
        }
    }

    /// `op(x)` for a scalar or vector register of dtype `d`.
    pub(super) fn lower_unary(&mut self, op: UnaryOp, d: DType, x: Value) -> Value {
        use UnaryOp as U;
        let ty = self.ty(x);
        if d == DType::Bool {
            return if op == U::Not { self.not_bool(x) } else { x };
        }
        if d.is_float() {
            return match op {
                U::Neg => self.b.ins().fneg(x),
                U::Recip => {
                    let one = self.fk(ty, 1.0);
                    self.b.ins().fdiv(one, x)
                }
                U::Sqrt => self.b.ins().sqrt(x),
                U::Abs => self.b.ins().fabs(x),
                U::Floor => self.b.ins().floor(x),
                U::Ceil => self.b.ins().ceil(x),
                U::Round => self.b.ins().nearest(x),
                U::Trunc => self.b.ins().trunc(x),
                U::Sign => {
                    let (zero, one, minus) =
                        (self.fk(ty, 0.0), self.fk(ty, 1.0), self.fk(ty, -1.0));
                    let gt = self.b.ins().fcmp(FloatCC::GreaterThan, x, zero);
                    let lt = self.b.ins().fcmp(FloatCC::LessThan, x, zero);
                    let r = self.sel(lt, minus, zero);
                    let r = self.sel(gt, one, r);
                    let nan = self.b.ins().fcmp(FloatCC::Unordered, x, x);
                    self.sel(nan, x, r)
                }
                U::Exp | U::Log | U::Sin | U::Cos | U::Tanh | U::Erf => {
                    if d == DType::F32 && self.options.math == MathImpl::Inline {
                        self.math_f32(op, x)
                    } else {
                        self.call_libm(op.name(), d, &[x])
                    }
                }
                U::Not => unreachable!("verified: not of a float"),
            };
        }
        match op {
            U::Neg => self.b.ins().ineg(x),
            U::Abs if d == DType::U8 => x,
            U::Abs => self.b.ins().iabs(x),
            U::Sign if d == DType::U8 => {
                let one = self.ik(ty, 1);
                self.b.ins().umin(x, one)
            }
            U::Sign => {
                let (one, minus) = (self.ik(ty, 1), self.ik(ty, -1));
                let m = self.b.ins().smax(x, minus);
                self.b.ins().smin(m, one)
            }
            _ => unreachable!("verified: {op} of {d}"),
        }
    }

    /// `op(a, b)` for scalars or vector registers of dtype `d`. Comparisons give an i8 0/1 for scalars and
    /// a lane mask of the operands' lane width for vectors.
    pub(super) fn lower_binary(&mut self, op: BinaryOp, d: DType, a: Value, b: Value) -> Value {
        use BinaryOp as B;
        if d == DType::Bool {
            // Integer arithmetic on 0/1, cast back to bool.
            return match op {
                B::Add | B::Max | B::Or => self.b.ins().bor(a, b),
                B::Mul | B::Min | B::Div | B::And => self.b.ins().band(a, b),
                B::Sub | B::Xor | B::CmpNe => self.b.ins().bxor(a, b),
                B::Rem => {
                    let ty = self.ty(a);
                    self.ik(ty, 0)
                }
                B::Pow => {
                    let nb = self.not_bool(b);
                    self.b.ins().bor(a, nb)
                }
                B::CmpEq => {
                    let x = self.b.ins().bxor(a, b);
                    self.not_bool(x)
                }
                B::CmpLt => {
                    let na = self.not_bool(a);
                    self.b.ins().band(na, b)
                }
                B::CmpLe => {
                    let na = self.not_bool(a);
                    self.b.ins().bor(na, b)
                }
            };
        }
        if d.is_float() {
            return match op {
                B::Add => self.b.ins().fadd(a, b),
                B::Sub => self.b.ins().fsub(a, b),
                B::Mul => self.b.ins().fmul(a, b),
                B::Div => self.b.ins().fdiv(a, b),
                B::Rem => {
                    let q = self.b.ins().fdiv(a, b);
                    let f = self.b.ins().floor(q);
                    let p = self.b.ins().fmul(b, f);
                    self.b.ins().fsub(a, p)
                }
                B::Pow => {
                    if d == DType::F32 && self.options.math == MathImpl::Inline {
                        self.pow_f32(a, b)
                    } else {
                        self.call_libm("pow", d, &[a, b])
                    }
                }
                B::Max => self.b.ins().fmax(a, b),
                B::Min => self.b.ins().fmin(a, b),
                B::CmpEq => self.b.ins().fcmp(FloatCC::Equal, a, b),
                B::CmpNe => self.b.ins().fcmp(FloatCC::NotEqual, a, b),
                B::CmpLt => self.b.ins().fcmp(FloatCC::LessThan, a, b),
                B::CmpLe => self.b.ins().fcmp(FloatCC::LessThanOrEqual, a, b),
                B::And | B::Or | B::Xor => unreachable!("verified: {op} of a float"),
            };
        }
        let unsigned = d == DType::U8;
        match op {
            B::Add => self.b.ins().iadd(a, b),
            B::Sub => self.b.ins().isub(a, b),
            B::Mul => self.b.ins().imul(a, b),
            B::Div => self.int_div(a, b, unsigned),
            B::Rem => self.int_rem(a, b, unsigned),
            B::Pow => self.int_pow(a, b, unsigned),
            B::Max if unsigned => self.b.ins().umax(a, b),
            B::Max => self.b.ins().smax(a, b),
            B::Min if unsigned => self.b.ins().umin(a, b),
            B::Min => self.b.ins().smin(a, b),
            B::CmpEq => self.b.ins().icmp(IntCC::Equal, a, b),
            B::CmpNe => self.b.ins().icmp(IntCC::NotEqual, a, b),
            B::CmpLt if unsigned => self.b.ins().icmp(IntCC::UnsignedLessThan, a, b),
            B::CmpLt => self.b.ins().icmp(IntCC::SignedLessThan, a, b),
            B::CmpLe if unsigned => self.b.ins().icmp(IntCC::UnsignedLessThanOrEqual, a, b),
            B::CmpLe => self.b.ins().icmp(IntCC::SignedLessThanOrEqual, a, b),
            B::And => self.b.ins().band(a, b),
            B::Or => self.b.ins().bor(a, b),
            B::Xor => self.b.ins().bxor(a, b),
        }
    }

    /// A scalar cast with the semantics of [`crate::eval::cast`].
    pub(super) fn lower_cast(&mut self, x: Value, from: DType, to: DType) -> Value {
        use DType as D;
        if from == to {
            return x;
        }
        let to_ty = scalar_type(to);
        if to == D::Bool {
            return if from.is_float() {
                let zero = self.fk(self.ty(x), 0.0);
                self.b.ins().fcmp(FloatCC::NotEqual, x, zero)
            } else {
                self.b.ins().icmp_imm_s(IntCC::NotEqual, x, 0)
            };
        }
        if from.is_float() {
            return match to {
                D::F32 => self.b.ins().fdemote(to_ty, x),
                D::F64 => self.b.ins().fpromote(to_ty, x),
                D::I32 | D::I64 => self.b.ins().fcvt_to_sint_sat(to_ty, x),
                D::U8 => {
                    let i = self.b.ins().fcvt_to_sint_sat(types::I32, x);
                    let (lo, hi) = (self.ik(types::I32, 0), self.ik(types::I32, 255));
                    let i = self.b.ins().smax(i, lo);
                    let i = self.b.ins().smin(i, hi);
                    self.b.ins().ireduce(types::I8, i)
                }
                D::Bool => unreachable!(),
            };
        }
        // From an integer or bool: u8 and bool are unsigned, i32 and i64 signed.
        let signed = matches!(from, D::I32 | D::I64);
        let from_ty = scalar_type(from);
        match to {
            D::F32 | D::F64 if signed => self.b.ins().fcvt_from_sint(to_ty, x),
            D::F32 | D::F64 => self.b.ins().fcvt_from_uint(to_ty, x),
            _ if to_ty.bits() < from_ty.bits() => self.b.ins().ireduce(to_ty, x),
            _ if to_ty.bits() == from_ty.bits() => x,
            _ if signed => self.b.ins().sextend(to_ty, x),
            _ => self.b.ins().uextend(to_ty, x),
        }
    }
}

/// The transcendental functions that come from libm (or inline polynomials for f32).
fn is_libm(op: UnaryOp) -> bool {
    matches!(
        op,
        UnaryOp::Exp | UnaryOp::Log | UnaryOp::Sin | UnaryOp::Cos | UnaryOp::Tanh | UnaryOp::Erf
    )
}
