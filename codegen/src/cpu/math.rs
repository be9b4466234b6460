//! Math functions: inline polynomials for `f32` (one body for scalars and `f32x4`), libm calls otherwise.
//!
//! Each `f32` function reduces its argument to a small interval (Cody-Waite style: subtract a multiple of
//! ln 2 or π/2 split into parts so the products are exact), evaluates a polynomial there, and
//! reconstructs. The polynomial coefficients were fitted for this file (near-minimax Chebyshev fits, or
//! Taylor coefficients where that suffices); the accuracy test in `tests/cpu_math.rs` measures the
//! error against the platform libm. Special values (±0, ±inf, NaN, subnormals) are handled by selects,
//! so the code has no branches except the rare large-argument path of `sin`/`cos`.

use super::lower::scalar_type;
use super::translate::FunctionTranslator;
use crate::dtype::DType;
use crate::ops::UnaryOp;
use cranelift_codegen::ir::condcodes::{FloatCC, IntCC};
use cranelift_codegen::ir::{
    AbiParam, ExtFuncData, ExternalName, InstBuilder, Signature, Type, UserExternalName, Value,
    types,
};
use cranelift_codegen::isa::CallConv;

/// A libm function a kernel may call. Its position in [`LIBM`] is its function id in the module.
#[derive(Clone, Copy, Debug)]
pub(super) struct Libm {
    pub name: &'static str,
    /// `exp`, `log`, ... or `pow`.
    pub op: &'static str,
    pub ty: Type,
    pub arity: usize,
    pub address: fn() -> *const u8,
}

impl Libm {
    pub(super) fn signature(&self, call_conv: CallConv) -> Signature {
        let mut sig = Signature::new(call_conv);
        for _ in 0..self.arity {
            sig.params.push(AbiParam::new(self.ty));
        }
        sig.returns.push(AbiParam::new(self.ty));
        sig
    }
}

/// Defines the wrappers (the same functions `eval` uses) and the table of them.
macro_rules! libm {
    ($($f:ident: $op:literal ($($arg:ident),+): $t:ident $ty:ident => $body:expr;)*) => {
        $(extern "C" fn $f($($arg: $t),+) -> $t { $body })*
        pub(super) const LIBM: &[Libm] = &[$(Libm {
            name: concat!("smelt_", stringify!($f)),
            op: $op,
            ty: types::$ty,
            arity: [$(stringify!($arg)),+].len(),
            address: || $f as *const u8,
        }),*];
    };
}

libm! {
    exp_f32: "exp" (x): f32 F32 => x.exp();
    log_f32: "log" (x): f32 F32 => x.ln();
    sin_f32: "sin" (x): f32 F32 => x.sin();
    cos_f32: "cos" (x): f32 F32 => x.cos();
    tanh_f32: "tanh" (x): f32 F32 => x.tanh();
    erf_f32: "erf" (x): f32 F32 => crate::eval::libm_erff(x);
    pow_f32: "pow" (x, y): f32 F32 => x.powf(y);
    exp_f64: "exp" (x): f64 F64 => x.exp();
    log_f64: "log" (x): f64 F64 => x.ln();
    sin_f64: "sin" (x): f64 F64 => x.sin();
    cos_f64: "cos" (x): f64 F64 => x.cos();
    tanh_f64: "tanh" (x): f64 F64 => x.tanh();
    erf_f64: "erf" (x): f64 F64 => crate::eval::libm_erf(x);
    pow_f64: "pow" (x, y): f64 F64 => x.powf(y);
}

// Coefficients (see the module docs). exp: e^r = 1 + r + r²·E(r) on |r| <= ln2/2.
const EXP: [f64; 5] = [
    0.5,
    0.16666576266288757,
    0.04166646674275398,
    0.008363175205886364,
    0.0013933643931522965,
];
// sin r = r + r³·S(r²), cos r = 1 - r²/2 + r⁴·C(r²) on |r| <= π/4.
const SIN: [f64; 3] = [
    -0.166666641831398,
    0.008332748897373676,
    -0.00019587950373534113,
];
const COS: [f64; 3] = [
    0.0416666641831398,
    -0.001388830365613103,
    2.4547991415602155e-05,
];
// erf x = x·P(x²) on |x| <= 0.921875.
const ERF_SMALL: [f64; 7] = [
    1.128379225730896,
    -0.37612634897232056,
    0.11283700168132782,
    -0.026859646663069725,
    0.005201591644436121,
    -0.0008148506167344749,
    8.392696327064186e-05,
];
// erfc x = e^(-x²)·R(x - ERFC_MID) on 0.921875 <= x <= 3.92 (weighted fit: absolute error of erfc).
const ERFC_MID: f64 = 2.4209375;
const ERFC: [f64; 9] = [
    0.21684573590755463,
    -0.07843591272830963,
    0.026925809681415558,
    -0.008957910351455212,
    0.00254877214320004,
    -0.0008681449689902365,
    0.0005365708493627608,
    0.000226816235226579,
    0.000122605764772743,
];
/// `1.5 · 2^23`: adding it rounds an `f32` below 2^22 in magnitude to an integer.
const MAGIC_F32: f32 = 12582912.0;
const LN2_HI: f64 = 0.693359375; // few bits: n * LN2_HI is exact for the n that occur
const LN2_LO: f64 = -2.12194440e-4;
const LOG2E: f64 = std::f64::consts::LOG2_E;
const SQRT2: f64 = std::f64::consts::SQRT_2;
/// Beyond this |x|, `sin`/`cos` call libm (the three-part reduction is exact below it).
const TRIG_FAST_LIMIT: f64 = 8192.0;

impl FunctionTranslator<'_> {
    /// A call to a libm function for scalars of `d` (`name` is `exp`, `log`, ... or `pow`).
    pub(super) fn call_libm(&mut self, name: &str, d: DType, args: &[Value]) -> Value {
        let ty = scalar_type(d);
        let i = LIBM
            .iter()
            .position(|f| f.op == name && f.ty == ty)
            .expect("a libm function for this op and type");
        let fref = match self.imports[i] {
            Some(f) => f,
            None => {
                let sig = self
                    .b
                    .import_signature(LIBM[i].signature(self.target.frontend.default_call_conv));
                let name = self
                    .b
                    .func
                    .declare_imported_user_function(UserExternalName {
                        namespace: 0,
                        index: i as u32,
                    });
                let f = self.b.import_function(ExtFuncData {
                    name: ExternalName::user(name),
                    signature: sig,
                    colocated: false,
                    patchable: false,
                });
                self.imports[i] = Some(f);
                f
            }
        };
        let call = self.b.ins().call(fref, args);
        self.b.inst_results(call)[0]
    }

    /// `op(x)` for an `f32` scalar or `f32x4`, inline.
    pub(super) fn math_f32(&mut self, op: UnaryOp, x: Value) -> Value {
        match op {
            UnaryOp::Exp => self.exp_f32(x),
            UnaryOp::Log => self.log_f32(x),
            UnaryOp::Sin => self.sin_cos_f32(x, false),
            UnaryOp::Cos => self.sin_cos_f32(x, true),
            UnaryOp::Tanh => self.tanh_f32(x),
            UnaryOp::Erf => self.erf_f32(x),
            _ => unreachable!("{op} is not a libm function"),
        }
    }

    /// `min(x, hi)` and `max(x, lo)` that keep NaN (a compare and a blend, where `fmin`/`fmax` cost
    /// several instructions to order zeros and NaNs).
    fn clamp_above(&mut self, x: Value, hi: f64) -> Value {
        let ty = self.ty(x);
        let h = self.fk(ty, hi);
        let over = self.b.ins().fcmp(FloatCC::GreaterThan, x, h);
        self.sel(over, h, x)
    }
    fn clamp_below(&mut self, x: Value, lo: f64) -> Value {
        let ty = self.ty(x);
        let l = self.fk(ty, lo);
        let under = self.b.ins().fcmp(FloatCC::LessThan, x, l);
        self.sel(under, l, x)
    }

    /// Rounds `a·b` to an integer by adding `1.5·2^23` (|a·b| < 2^22): returns the integral float and,
    /// as an integer, the low mantissa bits that hold it in two's complement.
    fn round_mul(&mut self, a: Value, b: f64) -> (Value, Value) {
        let ty = self.ty(a);
        let (k, magic) = (self.fk(ty, b), self.fk(ty, MAGIC_F32 as f64));
        let t = self.fmadd(a, k, magic);
        let n = self.b.ins().fsub(t, magic);
        let bits = self.bits_as(ty.as_int(), t);
        let magic_bits = self.ik(ty.as_int(), MAGIC_F32.to_bits() as i64);
        (n, self.b.ins().isub(bits, magic_bits))
    }

    /// `r = y - n·ln2` (two parts) and `n = round(y / ln2)`, as a float and an integer.
    fn reduce_ln2(&mut self, y: Value) -> (Value, Value, Value) {
        let ty = self.ty(y);
        let (n, ni) = self.round_mul(y, LOG2E);
        let (hi, lo) = (self.fk(ty, -LN2_HI), self.fk(ty, -LN2_LO));
        let r = self.fmadd(n, hi, y);
        let r = self.fmadd(n, lo, r);
        (ni, r, n)
    }

    /// `2^n` for an integer `n` in the normal exponent range.
    fn pow2_f32(&mut self, ni: Value) -> Value {
        let ity = self.ty(ni);
        let bias = self.ik(ity, 127);
        let e = self.b.ins().iadd(ni, bias);
        let e = self.shl(e, 23);
        let ty = if ity.is_vector() {
            types::F32X4
        } else {
            types::F32
        };
        self.bits_as(ty, e)
    }

    /// `e^r - 1` on |r| <= ln2/2.
    fn expm1_reduced(&mut self, r: Value) -> Value {
        let p = self.poly(r, &EXP);
        let r2 = self.b.ins().fmul(r, r);
        self.fmadd(r2, p, r)
    }

    /// e^x. For -87 <= x <= 88 (every lane, the common case) the result is normal and 2^n is added to
    /// the exponent bits directly; otherwise (some lane underflows, overflows or is NaN) a branch takes
    /// the careful path, which clamps and scales by 2^n in two halves.
    fn exp_f32(&mut self, x: Value) -> Value {
        let ty = self.ty(x);
        let ity = ty.as_int();
        let (ni, r, _) = self.reduce_ln2(x);
        let p = self.expm1_reduced(r);
        let one = self.fk(ty, 1.0);
        let p = self.b.ins().fadd(p, one);
        let pb = self.bits_as(ity, p);
        let e = self.shl(ni, 23);
        let fast = self.b.ins().iadd(pb, e);
        let fast = self.bits_as(ty, fast);
        let (lo, hi) = (self.fk(ty, -87.0), self.fk(ty, 88.0));
        let under = self.b.ins().fcmp(FloatCC::UnorderedOrLessThan, x, lo);
        let over = self.b.ins().fcmp(FloatCC::GreaterThan, x, hi);
        let odd = self.b.ins().bor(under, over);
        self.unless_any(odd, fast, |t| {
            let slow = t.exp_f32_careful(x);
            if ty.is_vector() {
                t.sel(odd, slow, fast)
            } else {
                slow
            }
        })
    }

    /// `fast`, unless `odd` holds (in any lane): then a cold block computes the result with
    /// `careful`, which gives the value of every lane.
    fn unless_any(
        &mut self,
        odd: Value,
        fast: Value,
        careful: impl FnOnce(&mut Self) -> Value,
    ) -> Value {
        let ty = self.ty(fast);
        let any = if self.ty(odd).is_vector() {
            self.b.ins().vany_true(odd)
        } else {
            odd
        };
        let slow = self.b.create_block();
        let done = self.b.create_block();
        let out = self.b.append_block_param(done, ty);
        self.b.set_cold_block(slow);
        self.b.ins().brif(any, slow, &[], done, &[fast.into()]);
        self.b.switch_to_block(slow);
        self.b.seal_block(slow);
        let v = careful(self);
        self.b.ins().jump(done, &[v.into()]);
        self.b.switch_to_block(done);
        self.b.seal_block(done);
        out
    }

    /// e^x for any x, subnormal and infinite results included.
    fn exp_f32_careful(&mut self, x: Value) -> Value {
        let ty = self.ty(x);
        // Clamp (NaN passes through): below -104 the result is 0, above 89 it is inf.
        let x = self.clamp_below(x, -104.0);
        let x = self.clamp_above(x, 89.0);
        let (ni, r, _) = self.reduce_ln2(x);
        let p = self.expm1_reduced(r);
        let one = self.fk(ty, 1.0);
        let p = self.b.ins().fadd(p, one);
        // 2^n in two halves, so n from -150 to 128 (subnormal and overflowing results) stays exact.
        let n1 = self.sshr(ni, 1);
        let n2 = self.b.ins().isub(ni, n1);
        let mut out = p;
        for h in [n1, n2] {
            let s = self.pow2_f32(h);
            out = self.b.ins().fmul(out, s);
        }
        out
    }

    /// ln x. For normal positive finite x (every lane, the common case) the core runs alone; otherwise
    /// a branch takes the careful path (subnormals scaled first; 0, infinity, negatives and NaN).
    fn log_f32(&mut self, x: Value) -> Value {
        let ty = self.ty(x);
        let zero = self.fk(ty, 0.0);
        let fast = self.log_core(x, None);
        let (min_normal, inf) = (
            self.fk(ty, f32::MIN_POSITIVE as f64),
            self.fk(ty, f64::INFINITY),
        );
        let low = self
            .b
            .ins()
            .fcmp(FloatCC::UnorderedOrLessThan, x, min_normal);
        let high = self.b.ins().fcmp(FloatCC::Equal, x, inf);
        let odd = self.b.ins().bor(low, high);
        self.unless_any(odd, fast, |t| {
            // Subnormals: scale by 2^23 first.
            let tiny = t.b.ins().fcmp(FloatCC::LessThan, x, min_normal);
            let scale = t.fk(ty, 8388608.0);
            let scaled = t.b.ins().fmul(x, scale);
            let xs = t.sel(tiny, scaled, x);
            let m23 = t.fk(ty, -23.0);
            let eadj = t.sel(tiny, m23, zero);
            let mut slow = t.log_core(xs, Some(eadj));
            // 0 → -inf, +inf → +inf, negative → NaN, NaN → NaN.
            let (ninf, nan) = (t.fk(ty, f64::NEG_INFINITY), t.fk(ty, f64::NAN));
            let is0 = t.b.ins().fcmp(FloatCC::Equal, x, zero);
            slow = t.sel(is0, ninf, slow);
            slow = t.sel(high, inf, slow);
            let neg = t.b.ins().fcmp(FloatCC::UnorderedOrLessThan, x, zero);
            t.sel(neg, nan, slow)
        })
    }

    /// ln x for a normal positive finite `x`, plus `eadj` in the exponent (for pre-scaled subnormals).
    fn log_core(&mut self, x: Value, eadj: Option<Value>) -> Value {
        let ty = self.ty(x);
        let ity = ty.as_int();
        // x = 2^e · m, m in [1, 2), then m in [√2/2, √2).
        let bits = self.bits_as(ity, x);
        let e = self.ushr(bits, 23);
        let bias = self.ik(ity, 127);
        let e = self.b.ins().isub(e, bias);
        let e = self.b.ins().fcvt_from_sint(ty, e);
        let e = match eadj {
            Some(a) => self.b.ins().fadd(e, a),
            None => e,
        };
        let (mant, one_bits) = (self.ik(ity, 0x007f_ffff), self.ik(ity, 0x3f80_0000));
        let m = self.b.ins().band(bits, mant);
        let m = self.b.ins().bor(m, one_bits);
        let m = self.bits_as(ty, m);
        let sqrt2 = self.fk(ty, SQRT2);
        let big = self.b.ins().fcmp(FloatCC::GreaterThan, m, sqrt2);
        let half = self.fk(ty, 0.5);
        let mh = self.b.ins().fmul(m, half);
        let m = self.sel(big, mh, m);
        let one = self.fk(ty, 1.0);
        let e1 = self.b.ins().fadd(e, one);
        let e = self.sel(big, e1, e);
        // log(1+f) = f - s·(f - R(s²)) with s = f/(2+f), R the atanh series.
        let f = self.b.ins().fsub(m, one);
        let two = self.fk(ty, 2.0);
        let d = self.b.ins().fadd(f, two);
        let s = self.b.ins().fdiv(f, d);
        let z = self.b.ins().fmul(s, s);
        let r = self.poly(z, &[2.0 / 3.0, 2.0 / 5.0, 2.0 / 7.0, 2.0 / 9.0]);
        let r = self.b.ins().fmul(r, z);
        let fr = self.b.ins().fsub(f, r);
        let sfr = self.b.ins().fmul(s, fr);
        let l = self.b.ins().fsub(f, sfr);
        let (hi, lo) = (self.fk(ty, LN2_HI), self.fk(ty, LN2_LO));
        let l = self.fmadd(e, lo, l);
        self.fmadd(e, hi, l)
    }

    /// `sin` or `cos`: reduce by π/2, evaluate the sine or cosine polynomial by quadrant.
    fn sin_cos_core(&mut self, x: Value, cos: bool) -> Value {
        let ty = self.ty(x);
        let ity = ty.as_int();
        // k = round(x·2/π); its low bits give the quadrant (|k| < 2^22 on the fast path).
        let (k, q) = self.round_mul(x, std::f64::consts::FRAC_2_PI);
        let parts: &[f64] = if self.target.fma && self.options.fma {
            &[
                1.5707963705062866,
                -4.371138828673793e-08,
                -1.7151245100058819e-15,
            ]
        } else {
            // 11-bit pieces: k·piece is exact for |k| < 2^13.
            &[
                1.5703125,
                0.0004837512969970703,
                7.549533620476723e-08,
                2.5633440682570896e-12,
            ]
        };
        let mut r = x;
        for &p in parts {
            let p = self.fk(ty, -p);
            r = self.fmadd(k, p, r);
        }
        let q = if cos {
            let one = self.ik(ity, 1);
            self.b.ins().iadd(q, one)
        } else {
            q
        };
        let z = self.b.ins().fmul(r, r);
        let sp = self.poly(z, &SIN);
        let rz = self.b.ins().fmul(r, z);
        let sin = self.fmadd(rz, sp, r);
        let cp = self.poly(z, &COS);
        let (mhalf, one) = (self.fk(ty, -0.5), self.fk(ty, 1.0));
        let c0 = self.fmadd(z, mhalf, one);
        let z2 = self.b.ins().fmul(z, z);
        let cosr = self.fmadd(z2, cp, c0);
        let (one_i, two_i, zero_i) = (self.ik(ity, 1), self.ik(ity, 2), self.ik(ity, 0));
        let odd = self.b.ins().band(q, one_i);
        let use_cos = self.b.ins().icmp(IntCC::NotEqual, odd, zero_i);
        let v = self.sel(use_cos, cosr, sin);
        // Quadrants 2 and 3 negate: move bit 1 of q to the sign bit.
        let neg = self.b.ins().band(q, two_i);
        let neg = self.shl(neg, 30);
        let bits = self.bits_as(ity, v);
        let bits = self.b.ins().bxor(bits, neg);
        self.bits_as(ty, bits)
    }

    /// `sin`/`cos` with a libm fallback for |x| >= 8192 (and inf), taken only when some lane needs it.
    fn sin_cos_f32(&mut self, x: Value, cos: bool) -> Value {
        let ty = self.ty(x);
        let fast = self.sin_cos_core(x, cos);
        let ax = self.b.ins().fabs(x);
        let limit = self.fk(ty, TRIG_FAST_LIMIT);
        let big = self.b.ins().fcmp(FloatCC::GreaterThanOrEqual, ax, limit);
        let name = if cos { "cos" } else { "sin" };
        self.unless_any(big, fast, |t| {
            if ty.is_vector() {
                let mut v = fast;
                for l in 0..ty.lane_count() {
                    let xl = t.b.ins().extractlane(x, l as u8);
                    let y = t.call_libm(name, DType::F32, &[xl]);
                    v = t.b.ins().insertlane(v, y, l as u8);
                }
                t.sel(big, v, fast)
            } else {
                t.call_libm(name, DType::F32, &[x])
            }
        })
    }

    /// tanh x = em / (em + 2) with em = e^(2|x|) - 1, sign restored; x itself for tiny |x|.
    fn tanh_f32(&mut self, x: Value) -> Value {
        let ty = self.ty(x);
        let ity = ty.as_int();
        let ax = self.b.ins().fabs(x);
        let c = self.clamp_above(ax, 9.0);
        let y = self.b.ins().fadd(c, c);
        let (ni, r, _) = self.reduce_ln2(y);
        let p = self.expm1_reduced(r);
        let s = self.pow2_f32(ni);
        let one = self.fk(ty, 1.0);
        let sm1 = self.b.ins().fsub(s, one);
        let em = self.fmadd(s, p, sm1);
        let two = self.fk(ty, 2.0);
        let d = self.b.ins().fadd(em, two);
        let t = self.b.ins().fdiv(em, d);
        let sign = self.ik(ity, i32::MIN as i64);
        let xb = self.bits_as(ity, x);
        let sb = self.b.ins().band(xb, sign);
        let tb = self.bits_as(ity, t);
        let tb = self.b.ins().bor(tb, sb);
        let t = self.bits_as(ty, tb);
        let tiny = self.fk(ty, 1.0 / 4096.0);
        let small = self.b.ins().fcmp(FloatCC::LessThan, ax, tiny);
        self.sel(small, x, t)
    }

    /// erf: a polynomial near 0; 1 - e^(-x²)·R(x) beyond, sign restored.
    fn erf_f32(&mut self, x: Value) -> Value {
        let ty = self.ty(x);
        let ity = ty.as_int();
        let ax = self.b.ins().fabs(x);
        let z = self.b.ins().fmul(x, x);
        let p = self.poly(z, &ERF_SMALL);
        let small = self.b.ins().fmul(x, p);
        let c = self.clamp_above(ax, 3.92);
        let mid = self.fk(ty, ERFC_MID);
        let u = self.b.ins().fsub(c, mid);
        let q = self.poly(u, &ERFC);
        let c2 = self.b.ins().fmul(c, c);
        let nc2 = self.b.ins().fneg(c2);
        let e = self.exp_f32(nc2);
        let ne = self.b.ins().fneg(e);
        let one = self.fk(ty, 1.0);
        let large = self.fmadd(ne, q, one);
        let sign = self.ik(ity, i32::MIN as i64);
        let xb = self.bits_as(ity, x);
        let sb = self.b.ins().band(xb, sign);
        let lb = self.bits_as(ity, large);
        let lb = self.b.ins().bor(lb, sb);
        let large = self.bits_as(ty, lb);
        let edge = self.fk(ty, 0.921875);
        let is_small = self.b.ins().fcmp(FloatCC::LessThan, ax, edge);
        self.sel(is_small, small, large)
    }
}
