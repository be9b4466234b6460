//! Movement: views that compose, views that do nothing, views of constants, and views moved through
//! elementwise ops.
//!
//! Which way views move, and why:
//! - **permute and reshape go down**, toward the leaves, through unary ops and casts, and through a
//!   binary op only when one operand absorbs the view for free (a broadcast constant, or a view of the
//!   same kind, which composes). Each such rewrite keeps the work and the node count, so the cost model's
//!   last field (views left above computed values) decides; a view that reaches a leaf is index math in
//!   the load, which is what fusion wants, and views that meet cancel (`permute-permute`).
//!   They never go through a value used twice in the input graph: that value would be computed once as
//!   it is and once permuted. Only the outermost view of a same-kind chain is pushed (the inner ones
//!   compose with it first).
//! - **expand goes up**: an elementwise op on a broadcast computes the same numbers many times, so
//!   `exp(expand(x))` becomes `expand(exp(x))` (less work by the broadcast factor).

use super::{
    Builder, Cond, Row, add_dims, always, and, build, constant, dims_of, known, rw, shape_of,
    ty_of, unshared, var,
};
use crate::simplify::lang::{Payloads, TensorLang};
use egg::Id;

#[rustfmt::skip]
pub fn rules() -> Vec<Row> {
    vec![
        // ---- views that compose ------------------------------------------------------------------------
        // reshape(reshape(x)) → reshape(x): both keep C order.
        rw("reshape-reshape", "(reshape (reshape ?x ?a) ?b)",             "(reshape ?x ?b)",            always()),
        // permute(permute(x, p), q) → permute(x, p∘q), or x when that is the identity.
        build("permute-permute", "(permute (permute ?x ?p) ?q)",          compose_permutes(),           always()),
        // expand(expand(x)) → expand(x) to the outer shape.
        rw("expand-expand",   "(expand (expand ?x ?a) ?b)",               "(expand ?x ?b)",             always()),
        // slice(slice(x)) → one slice: start a + c·b, step b·d.
        build("slice-slice",  "(slice (slice ?x ?a ?b ?s) ?c ?d ?t)",     compose_slices(),             always()),
        // pad(pad(x, v), v) → pad(x, v): with one fill value the widths add.
        build("pad-pad",      "(pad (pad ?x ?l ?h ?v) ?m ?k ?v)",         add_pads(),                   always()),

        // ---- views that do nothing vanish ----------------------------------------------------------------
        // reshape to the operand's own shape.
        rw("reshape-id",      "(reshape ?x ?s)",                          "?x",                         shape_is("?x", "?s")),
        // permute by the identity.
        rw("permute-id",      "(permute ?x ?p)",                          "?x",                         identity_perm("?p")),
        // expand to the operand's own shape.
        rw("expand-id",       "(expand ?x ?s)",                           "?x",                         shape_is("?x", "?s")),
        // slice from 0 with step 1 to the operand's own shape.
        rw("slice-id",        "(slice ?x ?a ?b ?s)",                      "?x",                         slice_is_id()),
        // pad by zero widths.
        rw("pad-id",          "(pad ?x ?l ?h ?v)",                        "?x",                         zero_widths()),

        // Views of constants stay constants (a reshape of an expanded constant, an expand of an expanded
        // 0-d constant): the analysis gives every view of a broadcast constant its value, and the class
        // then gets the canonical constant (`analysis::fold`).

        // ---- permute and reshape go down (same cost; never through a shared value) -----------------------
        // permute(f(x)) → f(permute(x)) for a unary f.
        rw("permute-unary",   "(permute (unary ?op ?x) ?p)",              "(unary ?op (permute ?x ?p))", push(is_permute, unshared(["?op", "?x"], unary))),
        // reshape(f(x)) → f(reshape(x)) for a unary f.
        rw("reshape-unary",   "(reshape (unary ?op ?x) ?s)",              "(unary ?op (reshape ?x ?s))", push(is_reshape, unshared(["?op", "?x"], unary))),
        // permute(cast(x)) → cast(permute(x)).
        rw("permute-cast",    "(permute (cast ?x ?d) ?p)",                "(cast (permute ?x ?p) ?d)",  push(is_permute, unshared(["?x", "?d"], cast))),
        // reshape(cast(x)) → cast(reshape(x)).
        rw("reshape-cast",    "(reshape (cast ?x ?d) ?s)",                "(cast (reshape ?x ?s) ?d)",  push(is_reshape, unshared(["?x", "?d"], cast))),
        // permute(a op b) → permute(a) op permute(b) when a or b takes the permute for free.
        rw("permute-binary",  "(permute (binary ?op ?a ?b) ?p)", "(binary ?op (permute ?a ?p) (permute ?b ?p))",
                                                                          push(is_permute, and(unshared(["?op", "?a", "?b"], binary), absorbs(is_permute)))),
        // reshape(a op b) → reshape(a) op reshape(b) when a or b takes the reshape for free.
        rw("reshape-binary",  "(reshape (binary ?op ?a ?b) ?s)", "(binary ?op (reshape ?a ?s) (reshape ?b ?s))",
                                                                          push(is_reshape, and(unshared(["?op", "?a", "?b"], binary), absorbs(is_reshape)))),

        // ---- expand goes up: compute before broadcasting ---------------------------------------------------
        // f(expand(x)) → expand(f(x)) for a unary f.
        rw("unary-expand",    "(unary ?op (expand ?x ?s))",               "(expand (unary ?op ?x) ?s)", always()),
        // cast(expand(x)) → expand(cast(x)).
        rw("cast-expand",     "(cast (expand ?x ?s) ?d)",                 "(expand (cast ?x ?d) ?s)",   always()),
        // expand(a) op expand(b) → expand(a op b) when a and b have one shape.
        rw("binary-expand",   "(binary ?op (expand ?a ?s) (expand ?b ?s))", "(expand (binary ?op ?a ?b) ?s)", same_shape("?a", "?b")),
        // expand(a) op c → expand(a op c') for a broadcast constant c (c' is c at a's shape).
        build("binary-expand-const", "(binary ?op (expand ?a ?s) ?c)",    hoist_expand(false),          known("?c")),
        // c op expand(a) → expand(c' op a).
        build("const-binary-expand", "(binary ?op ?c (expand ?a ?s))",    hoist_expand(true),           known("?c")),
    ]
}

fn unary([op, x]: [Id; 2]) -> TensorLang {
    TensorLang::Unary([op, x])
}

fn binary([op, a, b]: [Id; 3]) -> TensorLang {
    TensorLang::Binary([op, a, b])
}

fn cast([x, d]: [Id; 2]) -> TensorLang {
    TensorLang::Cast([x, d])
}

fn is_permute(n: &TensorLang) -> bool {
    matches!(n, TensorLang::Permute(_))
}

fn is_reshape(n: &TensorLang) -> bool {
    matches!(n, TensorLang::Reshape(_))
}

/// A push of the matched view (of kind `kind`) is allowed: `cond` holds, and the view is the outermost of
/// a chain of views of its kind. An inner view (`reshape(reshape(y))`'s inner one) composes with the
/// outer first, so pushing it too would only explore forms that the composed view makes moot.
fn push(kind: fn(&TensorLang) -> bool, cond: Cond) -> Cond {
    Box::new(move |eg, id, m| !eg[id].parents().any(|p| kind(eg.id_to_node(p))) && cond(eg, id, m))
}

/// The class bound to `x` has the shape of the payload bound to `s`.
fn shape_is(x: &str, s: &str) -> Cond {
    let (x, s) = (var(x), var(s));
    Box::new(move |eg, _, m| ty_of(eg, m[x]).is_some_and(|t| eg.dims(m[s]) == Some(&t.shape[..])))
}

fn same_shape(a: &str, b: &str) -> Cond {
    let (a, b) = (var(a), var(b));
    Box::new(
        move |eg, _, m| matches!((ty_of(eg, m[a]), ty_of(eg, m[b])), (Some(x), Some(y)) if x.shape == y.shape),
    )
}

fn identity_perm(p: &str) -> Cond {
    let p = var(p);
    Box::new(move |eg, _, m| {
        eg.dims(m[p])
            .is_some_and(|p| p.iter().enumerate().all(|(i, &a)| i == a))
    })
}

/// `(slice ?x ?a ?b ?s)` starts at 0, steps by 1 (or has one element) along every axis and keeps the
/// operand's shape.
fn slice_is_id() -> Cond {
    let [x, a, b, s] = ["?x", "?a", "?b", "?s"].map(var);
    Box::new(move |eg, _, m| {
        let (Some(start), Some(step), Some(out), Some(t)) =
            (eg.dims(m[a]), eg.dims(m[b]), eg.dims(m[s]), ty_of(eg, m[x]))
        else {
            return false;
        };
        let steps_ok = step.iter().zip(out).all(|(&st, &n)| st == 1 || n <= 1);
        start.iter().all(|&v| v == 0) && steps_ok && t.shape == out
    })
}

/// `(pad ?x ?l ?h ?v)` adds nothing.
fn zero_widths() -> Cond {
    let [l, h] = ["?l", "?h"].map(var);
    Box::new(move |eg, _, m| {
        let zero = |d: Option<&[usize]>| d.is_some_and(|d| d.iter().all(|&v| v == 0));
        zero(eg.dims(m[l])) && zero(eg.dims(m[h]))
    })
}

/// One of `?a`, `?b` takes a view for free: it is a broadcast constant, or a view of that kind.
fn absorbs(kind: fn(&TensorLang) -> bool) -> Cond {
    let [a, b] = ["?a", "?b"].map(var);
    Box::new(move |eg, _, m| {
        [m[a], m[b]]
            .into_iter()
            .any(|id| eg[id].data.value.is_some() || eg[id].nodes.iter().any(kind))
    })
}

/// `(permute (permute ?x ?p) ?q)`: output axis i is inner axis q[i], which is x's axis p[q[i]].
fn compose_permutes() -> Builder {
    let [x, p, q] = ["?x", "?p", "?q"].map(var);
    Box::new(move |eg, _, m| {
        let (p, q) = (dims_of(eg, m[p])?, dims_of(eg, m[q])?);
        let r: Vec<usize> = q
            .iter()
            .map(|&i| p.get(i).copied())
            .collect::<Option<_>>()?;
        if r.iter().enumerate().all(|(i, &a)| i == a) {
            return Some(m[x]);
        }
        let r = add_dims(eg, r);
        Some(eg.add(TensorLang::Permute([m[x], r])))
    })
}

/// `(slice (slice ?x ?a ?b ?s) ?c ?d ?t)`: element j of the outer slice is inner element c + j·d, which
/// is x's element a + (c + j·d)·b. Along an axis of output size 1 the step is never used and is set to 1,
/// so a slice that is the identity on a size-1 axis cannot compose with itself forever.
fn compose_slices() -> Builder {
    let [x, a, b, c, d, t] = ["?x", "?a", "?b", "?c", "?d", "?t"].map(var);
    Box::new(move |eg, _, m| {
        let [a, b, c, d, out] = [a, b, c, d, t].map(|v| dims_of(eg, m[v]));
        let (a, b, c, d, out) = (a?, b?, c?, d?, out?);
        let mut start = Vec::with_capacity(a.len());
        let mut step = Vec::with_capacity(a.len());
        for i in 0..a.len() {
            start.push(a[i].checked_add(c[i].checked_mul(b[i])?)?);
            step.push(if out[i] <= 1 {
                1
            } else {
                b[i].checked_mul(d[i])?
            });
        }
        let (start, step) = (add_dims(eg, start), add_dims(eg, step));
        Some(eg.add(TensorLang::Slice([m[x], start, step, m[t]])))
    })
}

/// `(pad (pad ?x ?l ?h ?v) ?m ?k ?v)` → widths l + m before and h + k after.
fn add_pads() -> Builder {
    let [x, l, h, lm, k, v] = ["?x", "?l", "?h", "?m", "?k", "?v"].map(var);
    Box::new(move |eg, _, m| {
        let sum =
            |a: Vec<usize>, b: Vec<usize>| a.iter().zip(&b).map(|(x, y)| x + y).collect::<Vec<_>>();
        let lo = sum(dims_of(eg, m[l])?, dims_of(eg, m[lm])?);
        let hi = sum(dims_of(eg, m[h])?, dims_of(eg, m[k])?);
        let (lo, hi) = (add_dims(eg, lo), add_dims(eg, hi));
        Some(eg.add(TensorLang::Pad([m[x], lo, hi, m[v]])))
    })
}

/// `(binary ?op (expand ?a ?s) ?c)` (or with the constant first) → `(expand (binary ?op ?a c') ?s)`,
/// where c' is the constant at a's shape.
fn hoist_expand(const_first: bool) -> Builder {
    let [op, a, s, c] = ["?op", "?a", "?s", "?c"].map(var);
    Box::new(move |eg, _, m| {
        let shape = shape_of(eg, m[a])?;
        let v = eg[m[c]].data.value?;
        let small = constant(eg, &shape, v);
        let operands = if const_first {
            [m[op], small, m[a]]
        } else {
            [m[op], m[a], small]
        };
        let inner = eg.add(TensorLang::Binary(operands));
        Some(eg.add(TensorLang::Expand([inner, m[s]])))
    })
}
