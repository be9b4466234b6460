//! Algebra: identities, canonical forms, casts, `where`, and constant folding of elementwise ops.
//!
//! A rule that drops an operand (`pow-zero`, `sub-self`, the `where` rules) needs it to be `total`: a
//! gather's out-of-range index is an error, which the rewrite must not turn into a value.
//!
//! Left out on purpose:
//! - `x * 0 → 0`: wrong for NaN and ±inf (and kept out for integers too, as the design says "never").
//! - `exp(log(x)) → x`: wrong for x < 0 (NaN) and -0.0.
//! - `x * 2 → x + x`: no win. In a fused kernel the 2 is an immediate, so a multiply costs what an add
//!   does, and `x + x` reads `x` twice; both are exact, so the graph keeps what the user wrote.
//! - commutativity and associativity: each commuted form a rule needs is its own row (`add-zero`,
//!   `zero-add`), so the e-graph never fills with permutations of sums.

use super::{
    Cond, Row, add_identity, always, and, build, constant_like, float, is_false, is_half,
    is_minus_one, is_one, is_true, is_two, is_zero, neg_identity, policy, rw, sub_identity, total,
    ty_of, value, var,
};
use crate::simplify::lang::{Payloads, TensorLang, UOp};
use smelt_codegen::{DType, Scalar, UnaryOp};

#[rustfmt::skip]
pub fn rules() -> Vec<Row> {
    vec![
        // ---- identities --------------------------------------------------------------------------------
        // x + 0 → x: exact for integer 0 and -0.0; +0.0 turns -0.0 + 0.0 (= +0.0) into -0.0 (signed-zero switch).
        rw("add-zero",     "(binary add ?x ?z)",                         "?x",                  value("?z", add_identity)),
        // 0 + x → x: as add-zero.
        rw("zero-add",     "(binary add ?z ?x)",                         "?x",                  value("?z", add_identity)),
        // x - 0 → x: exact for integer 0 and +0.0; x - (-0.0) is x + 0.0 (signed-zero switch).
        rw("sub-zero",     "(binary sub ?x ?z)",                         "?x",                  value("?z", sub_identity)),
        // 0 - x → -x: exact for integer 0 and -0.0; 0.0 - 0.0 is +0.0, -x is -0.0 (signed-zero switch).
        rw("zero-sub",     "(binary sub ?z ?x)",                         "(unary neg ?x)",      value("?z", neg_identity)),
        // x * 1 → x: exact in every dtype (NaN stays NaN, -0.0 stays -0.0; bool: x and true).
        rw("mul-one",      "(binary mul ?x ?o)",                         "?x",                  value("?o", is_one)),
        // 1 * x → x: as mul-one.
        rw("one-mul",      "(binary mul ?o ?x)",                         "?x",                  value("?o", is_one)),
        // x / 1 → x: exact (float division and integer floor division).
        rw("div-one",      "(binary div ?x ?o)",                         "?x",                  value("?o", is_one)),
        // x * -1 → -x: exact (the sign flips before any rounding; integers wrap alike, u8's -1 is 255).
        rw("mul-neg-one",  "(binary mul ?x ?m)",                         "(unary neg ?x)",      value("?m", is_minus_one)),
        // x ^ 1 → x: pow(x, 1) is x for every x, NaN and inf included.
        rw("pow-one",      "(binary pow ?x ?o)",                         "?x",                  value("?o", is_one)),
        // x ^ 0 → 1: pow(x, ±0) is 1 for every x, NaN included (IEEE 754 pow; integer pow too).
        build("pow-zero",  "(binary pow ?x ?z)",                         ones_like("?x"),       and(value("?z", is_zero), total("?x"))),
        // x ^ 2 → x * x: exact for integers; floats: x * x is the correctly rounded square, a libm pow may be an ulp off (rounding switch).
        rw("pow-two",      "(binary pow ?x ?t)",                         "(binary mul ?x ?x)",  value("?t", is_two)),
        // x ^ 0.5 → sqrt(x): pow(-0.0, 0.5) = +0.0 but sqrt gives -0.0; pow(-inf, 0.5) = +inf but sqrt gives NaN (assume_finite and signed-zero switches).
        rw("pow-half",     "(binary pow ?x ?h)",                         "(unary sqrt ?x)",     value("?h", is_half)),

        // ---- involutions and idempotence ---------------------------------------------------------------
        // --x → x: exact (integers wrap: -(-MIN) = MIN).
        rw("neg-neg",      "(unary neg (unary neg ?x))",                 "?x",                  always()),
        // not(not(x)) → x.
        rw("not-not",      "(unary not (unary not ?x))",                 "?x",                  always()),
        // |-x| → |x|: exact for floats and signed integers (abs wraps alike: |MIN| = MIN). Not u8, where
        // abs is the identity and -x wraps (|-1u8| = 255).
        rw("abs-neg",      "(unary abs (unary neg ?x))",                 "(unary abs ?x)",      signed("?x")),
        // ||x|| → |x|.
        rw("abs-abs",      "(unary abs (unary abs ?x))",                 "(unary abs ?x)",      always()),
        // max(x, x) → x: NaN stays NaN.
        rw("max-self",     "(binary max ?x ?x)",                         "?x",                  always()),
        // min(x, x) → x.
        rw("min-self",     "(binary min ?x ?x)",                         "?x",                  always()),
        // x & x → x (bitwise, or logical for bool).
        rw("and-self",     "(binary and ?x ?x)",                         "?x",                  always()),
        // x | x → x.
        rw("or-self",      "(binary or ?x ?x)",                          "?x",                  always()),
        // x - x → 0: integers exact; floats only with assume_finite (inf - inf and NaN - NaN are NaN).
        build("sub-self",  "(binary sub ?x ?x)",                         zeros_like("?x"),      and(int_or_finite("?x"), total("?x"))),
        // log(exp(x)) → x: right for NaN and ±inf inputs, but where exp overflows (x > 88.7 in f32) the
        // original is inf: needs assume_finite (and the rounding switch: exp and log each round).
        rw("log-exp",      "(unary log (unary exp ?x))",                 "?x",                  policy(|fp| fp.rounding && fp.assume_finite)),

        // ---- canonical forms: fewer, cheaper ops -------------------------------------------------------
        // a + (-b) → a - b: IEEE 754 defines a - b as a + (-b): exact, integers too.
        rw("add-neg",      "(binary add ?a (unary neg ?b))",             "(binary sub ?a ?b)",  always()),
        // (-a) + b → b - a: as add-neg (addition commutes exactly, zeros included).
        rw("neg-add",      "(binary add (unary neg ?a) ?b)",             "(binary sub ?b ?a)",  always()),
        // a - (-b) → a + b: as add-neg.
        rw("sub-neg",      "(binary sub ?a (unary neg ?b))",             "(binary add ?a ?b)",  always()),
        // (-a) * (-b) → a * b: the signs cancel before rounding: exact.
        rw("neg-mul-neg",  "(binary mul (unary neg ?a) (unary neg ?b))", "(binary mul ?a ?b)",  always()),
        // a * recip(b) → a / b: one rounding instead of two (rounding switch); for a subnormal b, 1/b
        // overflowed to inf in the original.
        // Not when recip(b) is used elsewhere: it is computed anyway, and a multiply is cheaper than a divide.
        rw("mul-recip",    "(binary mul ?a (unary recip ?b))",           "(binary div ?a ?b)",  and(policy(|fp| fp.rounding), unshared_recip())),
        // recip(b) * a → a / b: as mul-recip.
        rw("recip-mul",    "(binary mul (unary recip ?b) ?a)",           "(binary div ?a ?b)",  and(policy(|fp| fp.rounding), unshared_recip())),
        // 1 / x → recip(x): recip is 1 / x, exact (floats only: integers have no recip).
        rw("one-div",      "(binary div ?o ?x)",                         "(unary recip ?x)",    and(float("?x"), value("?o", is_one))),

        // ---- casts -------------------------------------------------------------------------------------
        // cast(x, d) → x when x already has dtype d.
        rw("cast-same",    "(cast ?x ?d)",                               "?x",                  dtype_is("?x", "?d")),
        // cast(cast(x, m), d) → cast(x, d) when x → m is exact and m → d treats those values as x → d
        // does (float-to-integer casts saturate where integer casts wrap: i32 → f64 → u8 is not i32 → u8).
        rw("cast-cast",    "(cast (cast ?x ?m) ?d)",                     "(cast ?x ?d)",        cast_chain_exact("?x", "?m", "?d")),

        // ---- where -------------------------------------------------------------------------------------
        // where(c, x, x) → x.
        rw("where-same",   "(where ?c ?x ?x)",                           "?x",                  total("?c")),
        // where(true, a, b) → a.
        rw("where-true",   "(where ?c ?a ?b)",                           "?a",                  and(value("?c", is_true), total("?b"))),
        // where(false, a, b) → b.
        rw("where-false",  "(where ?c ?a ?b)",                           "?b",                  and(value("?c", is_false), total("?a"))),
        // Constant folding (an elementwise op on broadcast constants becomes one constant, computed by
        // the reference interpreter in the op's dtype) happens in the analysis: see `analysis::fold`.
    ]
}

/// The `recip(?b)` node is used once in the input graph.
fn unshared_recip() -> Cond {
    let b = var("?b");
    Box::new(move |eg, _, s| {
        let Some(op) = eg.lookup(TensorLang::UOp(UOp(UnaryOp::Recip))) else {
            return false;
        };
        eg.lookup(TensorLang::Unary([op, s[b]]))
            .is_some_and(|id| !eg[id].data.shared)
    })
}

fn ones_like(v: &str) -> super::Builder {
    constant_like(v, Scalar::one)
}

fn zeros_like(v: &str) -> super::Builder {
    constant_like(v, Scalar::zero)
}

/// The class bound to `x` has a signed dtype (a float, i32 or i64).
fn signed(x: &str) -> Cond {
    let x = var(x);
    Box::new(move |eg, _, s| {
        ty_of(eg, s[x])
            .is_some_and(|t| matches!(t.dtype, DType::F32 | DType::F64 | DType::I32 | DType::I64))
    })
}

/// The class bound to `x` has an integer (or bool) dtype, or the policy assumes finite values.
fn int_or_finite(x: &str) -> Cond {
    let x = var(x);
    Box::new(move |eg, _, s| {
        ty_of(eg, s[x]).is_some_and(|t| !t.dtype.is_float() || eg.analysis.fp.assume_finite)
    })
}

/// The class bound to `x` has the dtype named by the payload bound to `d`.
fn dtype_is(x: &str, d: &str) -> Cond {
    let (x, d) = (var(x), var(d));
    Box::new(move |eg, _, s| match (ty_of(eg, s[x]), eg.dtype(s[d])) {
        (Some(t), Some(d)) => t.dtype == d,
        _ => false,
    })
}

/// `cast(cast(x, m), d)` is `cast(x, d)` for the dtypes of `x` and the payloads `m`, `d`.
fn cast_chain_exact(x: &str, m: &str, d: &str) -> Cond {
    let (x, m, d) = (var(x), var(m), var(d));
    Box::new(
        move |eg, _, s| match (ty_of(eg, s[x]), eg.dtype(s[m]), eg.dtype(s[d])) {
            (Some(t), Some(m), Some(d)) => cast_chain(t.dtype, m, d),
            _ => false,
        },
    )
}

/// Casting `from → m → d` gives what `from → d` gives, for every value of `from`: `from → m` is exact,
/// and if it turned integers into floats while `d` is an integer type (a saturating float-to-integer
/// cast after, a wrapping integer cast in the direct form), every value of `from` fits in `d`.
pub fn cast_chain(from: DType, m: DType, d: DType) -> bool {
    let int_into_float = !from.is_float() && m.is_float();
    exact_widening(from, m) && !(int_into_float && d.is_int() && !exact_widening(from, d))
}

/// Every value of `from` is exactly a value of `to` (so a later cast from `to` sees the same number).
pub fn exact_widening(from: DType, to: DType) -> bool {
    use DType::*;
    from == to
        || match from {
            Bool => true,
            U8 => matches!(to, I32 | I64 | F32 | F64),
            I32 => matches!(to, I64 | F64),
            F32 => to == F64,
            I64 | F64 => false,
        }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cast_chains() {
        use DType::*;
        // -3i32 → f64 → u8 saturates to 0, -3i32 → u8 wraps to 253: not the same cast.
        assert!(!cast_chain(I32, F64, U8));
        assert!(cast_chain(I32, F64, I64));
        assert!(cast_chain(I32, F64, F32));
        assert!(cast_chain(U8, F32, U8));
        assert!(cast_chain(I32, I64, U8));
        assert!(cast_chain(F32, F64, U8));
        assert!(cast_chain(Bool, F32, I32));
        assert!(!cast_chain(F64, F32, F64));
    }

    #[test]
    fn widening_table() {
        use DType::*;
        // Hand-checked: u8 fits in f32's 24-bit mantissa, i32 does not; i32 fits in f64's 53 bits.
        assert!(exact_widening(U8, F32));
        assert!(!exact_widening(I32, F32));
        assert!(exact_widening(I32, F64));
        assert!(!exact_widening(I64, F64));
        assert!(!exact_widening(F64, F32));
        assert!(!exact_widening(I32, U8));
        assert!(exact_widening(Bool, U8));
        assert!(!exact_widening(U8, Bool));
    }
}
