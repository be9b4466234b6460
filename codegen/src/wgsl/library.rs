//! WGSL helper functions, emitted on demand: where a WGSL built-in does not have smelt's semantics
//! (floor division, NaN-propagating max, saturating casts, `pow` special cases) or is not precise
//! enough (`exp`, `sin`, `cos`, `tanh`), or does not exist (`erf`; every transcendental in f64).
//!
//! Signed remainders are written `a - (a / b) * b`, never `%`: naga's GLSL backend (wgpu's GL fallback)
//! emits `%`, which GLSL leaves undefined for negative operands.
//!
//! A kernel's translator asks for helpers by [`Helper`]; [`Library::text`] emits each used helper (and
//! what it calls) once, in a fixed order, so the WGSL text is deterministic.

use super::scalar::{flit, inf, nan, suffix, wgsl_ty};
use crate::dtype::DType;
use std::collections::BTreeSet;

/// What a helper computes. Each is instantiated per dtype.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub(super) enum Func {
    /// Floor division of an `i32` index by a positive constant.
    IndexDiv,
    /// Floor modulo of an `i32` index by a positive constant.
    IndexMod,
    Div,
    Rem,
    Pow,
    Max,
    Min,
    Sign,
    Sqrt,
    Exp,
    Log,
    Expm1,
    /// `sin(x + q·π/2)`, shared by `Sin` and `Cos`.
    Trig,
    Sin,
    Cos,
    Tanh,
    Erf,
    /// Float → i32, saturating, NaN → 0.
    ToI32,
    /// Float → i64, saturating, NaN → 0.
    ToI64,
    /// Float → u8, saturating, NaN → 0.
    ToU8,
}

/// A helper function for one operand dtype (for casts: the source dtype).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub(super) struct Helper {
    pub func: Func,
    pub dtype: DType,
}

/// The helpers a program uses.
#[derive(Default)]
pub(super) struct Library {
    used: BTreeSet<Helper>,
}

impl Library {
    /// A call of helper `func` for `dtype` on `args`; records the helper (and its dependencies).
    pub fn call(&mut self, func: Func, dtype: DType, args: &[&str]) -> String {
        let h = Helper { func, dtype };
        self.add(h);
        format!("{}({})", name(h), args.join(", "))
    }

    fn add(&mut self, h: Helper) {
        if self.used.insert(h) {
            for d in deps(h) {
                self.add(d);
            }
        }
    }

    /// The WGSL text of every helper used, in a fixed order.
    pub fn text(&self) -> String {
        self.used.iter().map(|&h| source(h)).collect()
    }
}

fn name(h: Helper) -> String {
    let f = match h.func {
        Func::IndexDiv => return "floor_div_index".into(),
        Func::IndexMod => return "floor_mod_index".into(),
        Func::Div => "div",
        Func::Rem => "rem",
        Func::Pow => "pow",
        Func::Max => "max",
        Func::Min => "min",
        Func::Sign => "sign",
        Func::Sqrt => "sqrt",
        Func::Exp => "exp",
        Func::Log => "log",
        Func::Expm1 => "expm1",
        Func::Trig => "trig",
        Func::Sin => "sin",
        Func::Cos => "cos",
        Func::Tanh => "tanh",
        Func::Erf => "erf",
        Func::ToI32 => "to_i32",
        Func::ToI64 => "to_i64",
        Func::ToU8 => "to_u8",
    };
    format!("{f}_{}", h.dtype.name())
}

fn deps(h: Helper) -> Vec<Helper> {
    let d = h.dtype;
    let on = |funcs: &[Func]| {
        funcs
            .iter()
            .map(|&func| Helper { func, dtype: d })
            .collect()
    };
    match h.func {
        Func::Pow if d == DType::F64 => on(&[Func::Exp, Func::Log]),
        Func::Sin | Func::Cos => on(&[Func::Trig]),
        Func::Tanh => on(&[Func::Expm1]),
        Func::Expm1 | Func::Erf => on(&[Func::Exp]),
        _ => vec![],
    }
}

/// `c[0] + x * (c[1] + x * (...))`, with literals of dtype `d`.
fn horner(x: &str, coeffs: &[f64], d: DType) -> String {
    let mut s = flit(coeffs[coeffs.len() - 1], d);
    for &c in coeffs[..coeffs.len() - 1].iter().rev() {
        s = format!("{} + {x} * ({s})", flit(c, d));
    }
    s
}

/// `1/n!` for `n` in `from..=to`, with alternating signs if `alternate` (starting positive).
fn inverse_factorials(from: u32, to: u32, step: u32, alternate: bool) -> Vec<f64> {
    let fact = |n: u32| (1..=n).map(f64::from).product::<f64>();
    (from..=to)
        .step_by(step as usize)
        .enumerate()
        .map(|(i, n)| {
            if alternate && i % 2 == 1 {
                -1.0 / fact(n)
            } else {
                1.0 / fact(n)
            }
        })
        .collect()
}

/// Rounds `v` to `bits` significant bits (for Cody–Waite constants whose products with small integers
/// are exact).
fn head(v: f64, bits: i32) -> f64 {
    let scale = 2f64.powi(bits - 1 - v.abs().log2().floor() as i32);
    (v * scale).round() / scale
}

/// The WGSL text of one helper. `$T` is the WGSL type, `$S` the literal suffix, `$N` the dtype name.
fn source(h: Helper) -> String {
    let d = h.dtype;
    let t = match h.func {
        Func::IndexDiv => "fn floor_div_index(a: i32, c: i32) -> i32 {\n    let q = a / c;\n    return select(q, q - 1i, a - q * c < 0i);\n}\n".to_string(),
        Func::IndexMod => "fn floor_mod_index(a: i32, c: i32) -> i32 {\n    let r = a - (a / c) * c;\n    return select(r, r + c, r < 0i);\n}\n".to_string(),
        Func::Div if d == DType::U8 => "fn div_u8(a: u32, b: u32) -> u32 {\n    return select(a / max(b, 1u), 0u, b == 0u);\n}\n".into(),
        Func::Rem if d == DType::U8 => "fn rem_u8(a: u32, b: u32) -> u32 {\n    return select(a % max(b, 1u), 0u, b == 0u);\n}\n".into(),
        // Signed floor division and modulo; `x / 0 = x % 0 = 0`; `MIN / -1` wraps to `MIN`.
        Func::Div if d.is_int() => "fn div_$N(a: $T, b: $T) -> $T {
    if (b == 0$S) { return 0$S; }
    if (b == -1$S) { return 0$S - a; }
    let q = a / b;
    let r = a - q * b;
    return select(q, q - 1$S, r != 0$S && ((r < 0$S) != (b < 0$S)));
}
".into(),
        Func::Rem if d.is_int() => "fn rem_$N(a: $T, b: $T) -> $T {
    if (b == 0$S || b == -1$S) { return 0$S; }
    let r = a - (a / b) * b;
    return select(r, r + b, r != 0$S && ((r < 0$S) != (b < 0$S)));
}
".into(),
        // Wrapping exponentiation by squaring.
        Func::Pow if d.is_int() => {
            // A negative exponent gives 0, except for base 1 (1) and base -1 (±1 by parity).
            let neg = if d == DType::U8 {
                ""
            } else {
                "    if (b < 0$S) {
        if (a == 1$S) { return 1$S; }
        if (a == -1$S) { return select(1$S, -1$S, (b & 1$S) != 0$S); }
        return 0$S;
    }\n"
            };
            let ret = if d == DType::U8 { "r & 255u" } else { "r" };
            format!("fn pow_$N(a: $T, b: $T) -> $T {{
{neg}    var r = 1$S;
    var base = a;
    var e = b;
    while (e != 0$S) {{
        if ((e & 1$S) != 0$S) {{ r = r * base; }}
        base = base * base;
        e = e >> 1u;
    }}
    return {ret};
}}
")
        }
        Func::Sign if d.is_int() => "fn sign_$N(a: $T) -> $T {\n    return select(select(0$S, -1$S, a < 0$S), 1$S, a > 0$S);\n}\n".into(),
        Func::Sign => "fn sign_$N(a: $T) -> $T {\n    return select(select(select(0.0$S, -1.0$S, a < 0.0$S), 1.0$S, a > 0.0$S), a, !(a == a));\n}\n".into(),
        Func::Rem => "fn rem_$N(a: $T, b: $T) -> $T {\n    return a - b * floor(a / b);\n}\n".into(),
        // NaN if either is NaN (GLSL's max leaves it undefined); max(-0, +0) = +0 and min(-0, +0) = -0,
        // which for equal zeros is what `a + b` and `-(-a - b)` give.
        Func::Max => "fn max_$N(a: $T, b: $T) -> $T {
    if (!(a == a) || !(b == b)) { return a + b; }
    if (a == b) { return select(a, a + b, a == 0.0$S); }
    return select(b, a, a > b);
}
".into(),
        Func::Min => "fn min_$N(a: $T, b: $T) -> $T {
    if (!(a == a) || !(b == b)) { return a + b; }
    if (a == b) { return select(a, -(-a - b), a == 0.0$S); }
    return select(b, a, a < b);
}
".into(),
        // GLSL leaves sqrt and log of negative numbers undefined; smelt wants NaN.
        Func::Sqrt => "fn sqrt_$N(x: $T) -> $T {\n    return select(sqrt(x), $NAN, x < 0.0$S);\n}\n".into(),
        Func::Log if d == DType::F32 => "fn log_f32(x: f32) -> f32 {
    if (!(x == x) || x < 0.0f) { return $NAN; }
    if (x == 0.0f) { return -$INF; }
    return log(x);
}
".into(),
        Func::Pow => {
            let core = if d == DType::F64 { "exp_f64(y * log_f64(ax))" } else { "exp2(y * log2(ax))" };
            format!("fn pow_$N(x: $T, y: $T) -> $T {{
    if (y == 0.0$S || x == 1.0$S) {{ return 1.0$S; }}
    if (!(x == x) || !(y == y)) {{ return x + y; }}
    let ax = abs(x);
    if (ax == 1.0$S && abs(y) > $MAX) {{ return 1.0$S; }}
    var r = {core};
    if (floor(y) == y && abs(y) <= 64.0$S) {{
        // Small integer exponents by repeated squaring: a few ulp, where exp2(y·log2 x) loses
        // |y·log2 x| ulp.
        var b = ax;
        var e = u32(abs(y));
        var p = 1.0$S;
        while (e != 0u) {{
            if ((e & 1u) != 0u) {{ p = p * b; }}
            b = b * b;
            e = e >> 1u;
        }}
        r = select(p, 1.0$S / p, y < 0.0$S);
    }}
    if (ax == 0.0$S) {{ r = select($INF, 0.0$S, y > 0.0$S); }}
    if (x < 0.0$S) {{
        if (!(floor(y) == y)) {{ return select($NAN, r, ax > $MAX); }}
        let h = y * 0.5$S;
        if (!(floor(h) == h)) {{ r = -r; }}
    }}
    return r;
}}
")
        }
        // exp(x) = 2^k · exp(r), r = x - k·ln2 (Cody–Waite: ln2 in two parts so k·ln2_hi is exact),
        // exp(r) for |r| <= ln2/2 by Taylor (to r^7 in f32, r^13 in f64), 2^k by two ldexp steps (2^k
        // alone may overflow where the product does not). Vulkan lets the built-in exp err by 3 + 2|x| ulp.
        Func::Exp => {
            let ln2 = std::f64::consts::LN_2;
            let (ln2_hi, lim_hi, lim_lo, terms) = if d == DType::F64 {
                (0.6931471803691238, 709.782712893384, -745.2, 13)
            } else {
                (head(ln2, 12), 88.72283, -103.98, 7)
            };
            let ln2_lo = if d == DType::F64 { 1.9082149292705877e-10 } else { ln2 - ln2_hi };
            format!(
                "fn exp_$N(x: $T) -> $T {{
    if (!(x == x)) {{ return x; }}
    if (x > {hi}) {{ return $INF; }}
    if (x < {lo}) {{ return 0.0$S; }}
    let k = round(x * {log2e});
    let r = (x - k * {ln2_hi}) - k * {ln2_lo};
    let p = {poly};
    let ki = i32(k);
    let h = ki / 2i;
    return ldexp(ldexp(p, h), ki - h);
}}
",
                hi = flit(lim_hi, d),
                lo = flit(lim_lo, d),
                log2e = flit(std::f64::consts::LOG2_E, d),
                ln2_hi = flit(ln2_hi, d),
                ln2_lo = flit(ln2_lo, d),
                poly = horner("r", &inverse_factorials(0, terms, 1, false), d)
            )
        }
        // log(x) = e·ln2 + log(m), m in [√½, √2); log(m) = 2·atanh(s), s = (m-1)/(m+1), odd series to s^21.
        Func::Log => {
            let coeffs: Vec<f64> = (0..11).map(|n| 2.0 / f64::from(2 * n + 1)).collect();
            format!(
                "fn log_f64(x: f64) -> f64 {{
    if (!(x == x) || x < 0.0lf) {{ return $NAN; }}
    if (x == 0.0lf) {{ return -$INF; }}
    if (x > $MAX) {{ return x; }}
    let fr = frexp(x);
    var m = fr.fract;
    var e = f64(fr.exp);
    if (m < 0.7071067811865476lf) {{
        m = m * 2.0lf;
        e = e - 1.0lf;
    }}
    let f = m - 1.0lf;
    let s = f / (2.0lf + f);
    let z = s * s;
    return e * 6.93147180369123816490e-01lf + (s * ({}) + e * 1.90821492927058770002e-10lf);
}}
",
                horner("z", &coeffs, d)
            )
        }
        Func::Expm1 => {
            let terms = if d == DType::F64 { 17 } else { 9 };
            format!(
                "fn expm1_$N(x: $T) -> $T {{
    if (abs(x) < 0.5$S) {{ return x * ({}); }}
    return exp_$N(x) - 1.0$S;
}}
",
                horner("x", &inverse_factorials(1, terms, 1, false), d)
            )
        }
        Func::Trig => trig(d),
        Func::Sin => "fn sin_$N(x: $T) -> $T {\n    return trig_$N(x, 0.0$S);\n}\n".into(),
        Func::Cos => "fn cos_$N(x: $T) -> $T {\n    return trig_$N(x, 1.0$S);\n}\n".into(),
        // tanh(a) = e / (e + 2) = 1 - 2 / (e + 2) with e = expm1(2a): no cancellation near 0, no
        // inf/inf for large a.
        Func::Tanh => {
            // Past `lim`, tanh rounds to ±1. Below 0.55, e / (e + 2) has no cancellation; above,
            // 1 - 2 / (e + 2) rounds correctly next to 1 (e / (e + 2) would round to 1 too early).
            let lim = if d == DType::F64 { "19.5lf" } else { "9.1f" };
            format!("fn tanh_$N(x: $T) -> $T {{
    if (!(x == x)) {{ return x; }}
    let a = abs(x);
    if (a > {lim}) {{ return select(-1.0$S, 1.0$S, x > 0.0$S); }}
    let e = expm1_$N(2.0$S * a);
    let t = select(1.0$S - 2.0$S / (e + 2.0$S), e / (e + 2.0$S), a < 0.55$S);
    return select(t, -t, x < 0.0$S);
}}
")
        }
        Func::Erf => erf(d),
        Func::ToI32 => "fn to_i32_$N(x: $T) -> i32 {
    if (!(x == x)) { return 0i; }
    if (x >= 2147483648.0$S) { return 2147483647i; }
    if (x <= -2147483648.0$S) { return -2147483647i - 1i; }
    return i32(x);
}
".into(),
        Func::ToI64 => "fn to_i64_$N(x: $T) -> i64 {
    if (!(x == x)) { return 0li; }
    if (x >= 9223372036854775808.0$S) { return 9223372036854775807li; }
    if (x <= -9223372036854775808.0$S) { return -9223372036854775807li - 1li; }
    return i64(x);
}
".into(),
        Func::ToU8 => "fn to_u8_$N(x: $T) -> u32 {
    if (!(x == x)) { return 0u; }
    return u32(clamp(x, 0.0$S, 255.0$S));
}
".into(),
        Func::Div => unreachable!("{h:?} is covered above"),
    };
    let max = if d == DType::F64 {
        "1.7976931348623157e308lf"
    } else {
        "3.4028234663852886e38f"
    };
    let (nan_text, inf_text) = if d.is_float() {
        (nan(d), inf(d))
    } else {
        (String::new(), String::new())
    };
    // The long markers first: `$N` is a prefix of `$NAN`.
    t.replace("$MAX", max)
        .replace("$NAN", &nan_text)
        .replace("$INF", &inf_text)
        .replace("$T", wgsl_ty(d))
        .replace("$S", suffix(d))
        .replace("$N", d.name())
}

/// `sin(x + q0·π/2)`: `x = k·π/2 + r` with π/2 in parts whose products with `k` are exact (f32: three
/// 8-bit parts and a 24-bit tail, exact for |x| < ~1e5; f64: three 33-bit parts, exact for |x| < ~1e6;
/// beyond that the error grows with |x|), then Taylor polynomials on |r| <= π/4 picked by quadrant.
fn trig(d: DType) -> String {
    let half_pi = std::f64::consts::FRAC_PI_2;
    let (parts, sin_to, cos_to) = if d == DType::F64 {
        (
            vec![
                1.5707963267341256,
                6.077100506303966e-11,
                2.0222662487111665e-21,
            ],
            17,
            18,
        )
    } else {
        let p1 = head(half_pi, 8);
        let p2 = head(half_pi - p1, 8);
        let p3 = head(half_pi - p1 - p2, 8);
        let p4 = ((half_pi - p1 - p2 - p3) as f32) as f64;
        (vec![p1, p2, p3, p4], 9, 10)
    };
    let mut reduce = "x".to_string();
    for p in &parts {
        reduce = format!("({reduce} - k * {})", flit(*p, d));
    }
    let sin_poly = horner(
        "z",
        &inverse_factorials(3, sin_to, 2, true)
            .iter()
            .map(|c| -c)
            .collect::<Vec<_>>(),
        d,
    );
    let cos_poly = horner("z", &inverse_factorials(4, cos_to, 2, true), d);
    format!(
        "fn trig_$N(x: $T, q0: $T) -> $T {{
    if (!(abs(x) <= $MAX)) {{ return $NAN; }}
    let k = round(x * {two_over_pi});
    let r = {reduce};
    let q = k + q0;
    let m = q - 4.0$S * floor(q * 0.25$S);
    let z = r * r;
    let s = r + r * z * ({sin_poly});
    let c = 1.0$S - 0.5$S * z + z * z * ({cos_poly});
    let v = select(s, c, m == 1.0$S || m == 3.0$S);
    return clamp(select(v, -v, m >= 2.0$S), -1.0$S, 1.0$S);
}}
",
        two_over_pi = flit(std::f64::consts::FRAC_2_PI, d),
    )
}

/// erf: f32 uses the Maclaurin series below 1 and a continued fraction for erfc above (max abs error
/// ~1e-7); f64 uses erf(a) = 2/√π · e^{-a²} · Σ (2a²)^n a / (2n+1)!! (positive terms, no cancellation)
/// below 2 and the continued fraction above (~1e-15).
fn erf(d: DType) -> String {
    let cf = "        var f = a;
        for (var j = 40; j >= 1; j--) {
            f = a + ($T(j) * 0.5$S) / f;
        }
        r = 1.0$S - EXP(-a * a) / (1.7724538509055159$S * f);
";
    let (small, big) = if d == DType::F64 {
        (
            "    if (a < 2.0lf) {
        let t = 2.0lf * a * a;
        var term = a;
        var sum = a;
        for (var n = 1; n < 40; n++) {
            term = term * t / f64(2 * n + 1);
            sum = sum + term;
        }
        r = 1.1283791670955126lf * exp_f64(-a * a) * sum;
"
            .to_string(),
            "6.0lf",
        )
    } else {
        let fact = |n: u32| (1..=n).map(f64::from).product::<f64>();
        let coeffs: Vec<f64> = (0..=10u32)
            .map(|n| {
                let sign = if n % 2 == 0 { 1.0 } else { -1.0 };
                std::f64::consts::FRAC_2_SQRT_PI * sign / (fact(n) * f64::from(2 * n + 1))
            })
            .collect();
        let poly = horner("z", &coeffs, d);
        (
            format!("    if (a < 1.0f) {{\n        let z = a * a;\n        r = a * ({poly});\n"),
            "4.0f",
        )
    };
    format!(
        "fn erf_$N(x: $T) -> $T {{
    if (!(x == x)) {{ return x; }}
    let a = abs(x);
    var r = 1.0$S;
{small}    }} else if (a < {big}) {{
{cf}    }}
    return select(r, -r, x < 0.0$S);
}}
",
        cf = cf.replace("EXP", "exp_$N"),
    )
}
