//! `pow`: integers by squaring in a loop; `f32` through `f64` (log2 and exp2 with relative error near
//! 1e-10, far below an `f32` ulp, so the rounded result is within an ulp), with the special cases of
//! C99's `powf`.

use super::translate::FunctionTranslator;
use cranelift_codegen::ir::condcodes::{FloatCC, IntCC};
use cranelift_codegen::ir::{InstBuilder, InstructionData, Opcode, Value, ValueDef, types};

/// `1.5 · 2^52`: adding it to a small integral `f64` puts the integer in the low mantissa bits.
const MAGIC: f64 = 6755399441055744.0;
const MAGIC_BITS: i64 = 0x4338_0000_0000_0000;

impl FunctionTranslator<'_> {
    /// The constant an `f32` scalar or splat was built from, if it is one.
    fn constant_f32(&self, v: Value) -> Option<f32> {
        let ValueDef::Result(inst, _) = self.b.func.dfg.value_def(v) else {
            return None;
        };
        match self.b.func.dfg.insts[inst] {
            InstructionData::UnaryIeee32 {
                opcode: Opcode::F32const,
                imm,
            } => Some(f32::from_bits(imm.bits())),
            InstructionData::Unary {
                opcode: Opcode::Splat,
                arg,
            } => self.constant_f32(arg),
            _ => None,
        }
    }

    /// `x^y` for an `f32` scalar or `f32x4`.
    pub(super) fn pow_f32(&mut self, x: Value, y: Value) -> Value {
        let ty = self.ty(x);
        // Small integral constant exponents are products (within an ulp or so of powf).
        match self.constant_f32(y) {
            Some(0.0) => return self.fk(ty, 1.0),
            Some(1.0) => return x,
            Some(2.0) => return self.b.ins().fmul(x, x),
            Some(3.0) => {
                let x2 = self.b.ins().fmul(x, x);
                return self.b.ins().fmul(x2, x);
            }
            Some(4.0) => {
                let x2 = self.b.ins().fmul(x, x);
                return self.b.ins().fmul(x2, x2);
            }
            Some(-1.0) => {
                let one = self.fk(ty, 1.0);
                return self.b.ins().fdiv(one, x);
            }
            _ => {}
        }
        let mut r = if ty.is_vector() {
            let [xl, xh] = self.promote_halves(x);
            let [yl, yh] = self.promote_halves(y);
            let rl = self.pow_core_f64(xl, yl);
            let rh = self.pow_core_f64(xh, yh);
            self.demote_concat(rl, rh)
        } else {
            let xd = self.b.ins().fpromote(types::F64, x);
            let yd = self.b.ins().fpromote(types::F64, y);
            let r = self.pow_core_f64(xd, yd);
            self.b.ins().fdemote(types::F32, r)
        };
        // Special cases, as powf.
        let ity = ty.as_int();
        let (zero, one, inf, nan) = (
            self.fk(ty, 0.0),
            self.fk(ty, 1.0),
            self.fk(ty, f64::INFINITY),
            self.fk(ty, f64::NAN),
        );
        let (ax, ay) = (self.b.ins().fabs(x), self.b.ins().fabs(y));
        let ty_ = self.b.ins().trunc(y);
        let is_int = self.b.ins().fcmp(FloatCC::Equal, ty_, y);
        let half = self.fk(ty, 0.5);
        let hy = self.b.ins().fmul(y, half);
        let thy = self.b.ins().trunc(hy);
        let even = self.b.ins().fcmp(FloatCC::Equal, thy, hy);
        let not_even = self.not_bool(even);
        let odd = self.b.ins().band(is_int, not_even);
        // A negative base (-0 included) with an odd integer exponent keeps its sign.
        let xb = self.bits_as(ity, x);
        let zero_i = self.ik(ity, 0);
        let x_sign = self.b.ins().icmp(IntCC::SignedLessThan, xb, zero_i);
        let negate = self.b.ins().band(x_sign, odd);
        let neg = self.b.ins().fneg(r);
        r = self.sel(negate, neg, r);
        // A finite negative base with a finite non-integer exponent has no real power.
        let x_lt0 = self.b.ins().fcmp(FloatCC::LessThan, x, zero);
        let x_fin = self.b.ins().fcmp(FloatCC::LessThan, ax, inf);
        let y_fin = self.b.ins().fcmp(FloatCC::LessThan, ay, inf);
        let not_int = self.not_bool(is_int);
        let bad = self.b.ins().band(x_lt0, x_fin);
        let bad = self.b.ins().band(bad, y_fin);
        let bad = self.b.ins().band(bad, not_int);
        r = self.sel(bad, nan, r);
        // pow(x, ±0) = 1, pow(1, y) = 1 (even for NaN), pow(-1, ±inf) = 1.
        let y0 = self.b.ins().fcmp(FloatCC::Equal, y, zero);
        let x1 = self.b.ins().fcmp(FloatCC::Equal, x, one);
        let ax1 = self.b.ins().fcmp(FloatCC::Equal, ax, one);
        let yinf = self.b.ins().fcmp(FloatCC::Equal, ay, inf);
        let m1inf = self.b.ins().band(ax1, yinf);
        let ones = self.b.ins().bor(y0, x1);
        let ones = self.b.ins().bor(ones, m1inf);
        self.sel(ones, one, r)
    }

    /// `2^(y·log2|x|)` in `f64` (scalar or `f64x2`), the exponent clamped to ±200 (NaN passes).
    fn pow_core_f64(&mut self, x: Value, y: Value) -> Value {
        let ty = self.ty(x);
        let ax = self.b.ins().fabs(x);
        let lx = self.log2_f64(ax);
        let t = self.b.ins().fmul(y, lx);
        let (lo, hi) = (self.fk(ty, -200.0), self.fk(ty, 200.0));
        let under = self.b.ins().fcmp(FloatCC::LessThan, t, lo);
        let t = self.sel(under, lo, t);
        let over = self.b.ins().fcmp(FloatCC::GreaterThan, t, hi);
        let t = self.sel(over, hi, t);
        self.exp2_f64(t)
    }

    /// log2 of a non-negative `f64` (0 → -inf, inf → inf, NaN → NaN) to about 1e-10 relative.
    fn log2_f64(&mut self, a: Value) -> Value {
        let ty = self.ty(a);
        let ity = ty.as_int();
        let bits = self.bits_as(ity, a);
        let e = self.ushr(bits, 52);
        let (bias, magic_bits) = (self.ik(ity, 1023), self.ik(ity, MAGIC_BITS));
        let e = self.b.ins().isub(e, bias);
        let e = self.b.ins().iadd(e, magic_bits);
        let e = self.bits_as(ty, e);
        let magic = self.fk(ty, MAGIC);
        let e = self.b.ins().fsub(e, magic);
        let (mant, one_bits) = (
            self.ik(ity, 0x000f_ffff_ffff_ffff),
            self.ik(ity, 0x3ff0_0000_0000_0000),
        );
        let m = self.b.ins().band(bits, mant);
        let m = self.b.ins().bor(m, one_bits);
        let m = self.bits_as(ty, m);
        let sqrt2 = self.fk(ty, std::f64::consts::SQRT_2);
        let big = self.b.ins().fcmp(FloatCC::GreaterThan, m, sqrt2);
        let half = self.fk(ty, 0.5);
        let mh = self.b.ins().fmul(m, half);
        let m = self.sel(big, mh, m);
        let one = self.fk(ty, 1.0);
        let e1 = self.b.ins().fadd(e, one);
        let e = self.sel(big, e1, e);
        let f = self.b.ins().fsub(m, one);
        let two = self.fk(ty, 2.0);
        let d = self.b.ins().fadd(f, two);
        let s = self.b.ins().fdiv(f, d);
        let z = self.b.ins().fmul(s, s);
        // atanh series to s^11: relative error below 1e-10, ample for f32 results.
        let series: Vec<f64> = (1..=5).map(|k| 2.0 / (2 * k + 1) as f64).collect();
        let r = self.poly(z, &series);
        let r = self.b.ins().fmul(r, z);
        let fr = self.b.ins().fsub(f, r);
        let sfr = self.b.ins().fmul(s, fr);
        let l = self.b.ins().fsub(f, sfr);
        let inv_ln2 = self.fk(ty, std::f64::consts::LOG2_E);
        let out = self.fmadd(l, inv_ln2, e);
        let (zero, ninf, inf) = (
            self.fk(ty, 0.0),
            self.fk(ty, f64::NEG_INFINITY),
            self.fk(ty, f64::INFINITY),
        );
        let is0 = self.b.ins().fcmp(FloatCC::Equal, a, zero);
        let out = self.sel(is0, ninf, out);
        let isinf = self.b.ins().fcmp(FloatCC::Equal, a, inf);
        let out = self.sel(isinf, inf, out);
        let nan = self.b.ins().fcmp(FloatCC::Unordered, a, a);
        self.sel(nan, a, out)
    }

    /// 2^t for `f64` t in [-200, 200] (or NaN), to about 2e-10 relative.
    fn exp2_f64(&mut self, t: Value) -> Value {
        let ty = self.ty(t);
        let ity = ty.as_int();
        let n = self.b.ins().nearest(t);
        let f = self.b.ins().fsub(t, n);
        let ln2 = self.fk(ty, std::f64::consts::LN_2);
        let u = self.b.ins().fmul(f, ln2);
        // Taylor to degree 8 on |u| <= ln2/2: relative error 2e-10.
        let mut taylor = vec![1.0f64];
        for k in 1..=8 {
            taylor.push(taylor[k - 1] / k as f64);
        }
        let p = self.poly(u, &taylor);
        let magic = self.fk(ty, MAGIC);
        let k = self.b.ins().fadd(n, magic);
        let k = self.bits_as(ity, k);
        let (magic_bits, bias) = (self.ik(ity, MAGIC_BITS), self.ik(ity, 1023));
        let k = self.b.ins().isub(k, magic_bits);
        let k = self.b.ins().iadd(k, bias);
        let k = self.shl(k, 52);
        let scale = self.bits_as(ty, k);
        self.b.ins().fmul(p, scale)
    }
}
