//! Reduce: reductions that merge, reductions that do nothing, reductions of broadcasts and constants.
//!
//! Reductions keep the reduced axes with size 1, so axis numbers mean the same before and after a
//! reduce, and a reduce over axes that are already 1 is the identity.

use super::{
    Builder, Cond, Row, add_dims, and, build, constant, dims_of, rw, ty_of, unshared, var,
};
use crate::simplify::lang::{Payloads, TensorLang};
use egg::{Id, Subst, Var};
use smelt_codegen::{ReduceOp, Scalar};

#[rustfmt::skip]
pub fn rules() -> Vec<Row> {
    vec![
        // r(r(x, a), b) → r(x, a ∪ b) for one op r (axes the inner reduce took are size 1 for the outer).
        // Exact for max, min, integers and bool; float sum/prod reassociate (rounding switch). Not when the
        // inner result is shared: the merged reduce would read all of x a second time.
        build("reduce-reduce", "(reduce ?op (reduce ?op ?x ?a) ?b)", merge_axes(),
                               and(unshared(["?op", "?x", "?a"], reduce), exact_or_rounding())),
        // r(x, axes) → x when every reduced axis has size 1. Float sum: 0.0 + (-0.0) is +0.0 (signed-zero switch).
        rw("reduce-unit",      "(reduce ?op ?x ?a)",                "?x",           unit_axes()),
        // sum over broadcast axes of size n → x * n (broadcast to the output). Integers exact (wrapping);
        // floats: one rounding instead of n, and -0.0 * n stays -0.0 where the sum gives +0.0 (rounding and signed-zero switches).
        build("sum-expand",    "(reduce sum (expand ?x ?s) ?a)",    sum_expand(),   over_broadcast(true)),
        // max over broadcast axes: copies of one value; only the broadcast of the other axes remains.
        build("amax-expand",   "(reduce amax (expand ?x ?s) ?a)",   drop_reduce(),  over_broadcast(false)),
        // min over broadcast axes: as amax-expand.
        build("amin-expand",   "(reduce amin (expand ?x ?s) ?a)",   drop_reduce(),  over_broadcast(false)),
        // A reduce of a broadcast constant c over n elements is n·c, c^n (float sums and products only
        // under the rounding switch) or c: folded by the analysis (`analysis::fold`).
    ]
}

fn reduce([op, x, a]: [Id; 3]) -> TensorLang {
    TensorLang::Reduce([op, x, a])
}

fn reduce_op(eg: &super::super::analysis::EGraph, id: Id) -> Option<ReduceOp> {
    match eg.payload(id)? {
        TensorLang::ROp(r) => Some(r.0),
        _ => None,
    }
}

/// Merging two reductions of this op and dtype is exact, or the policy allows the reassociation.
fn exact_or_rounding() -> Cond {
    let [op, x] = ["?op", "?x"].map(var);
    Box::new(move |eg, _, m| {
        let (Some(r), Some(t)) = (reduce_op(eg, m[op]), ty_of(eg, m[x])) else {
            return false;
        };
        matches!(r, ReduceOp::Max | ReduceOp::Min) || !t.dtype.is_float() || eg.analysis.fp.rounding
    })
}

/// `(reduce ?op ?x ?a) ?b)` → `(reduce ?op ?x a ∪ b)`.
fn merge_axes() -> Builder {
    let [op, x, a, b] = ["?op", "?x", "?a", "?b"].map(var);
    Box::new(move |eg, _, m| {
        let mut axes = dims_of(eg, m[a])?;
        axes.extend(dims_of(eg, m[b])?);
        axes.sort_unstable();
        axes.dedup();
        let axes = add_dims(eg, axes);
        Some(eg.add(TensorLang::Reduce([m[op], m[x], axes])))
    })
}

/// Every axis in `?a` has size 1 in `?x`; for a float sum the signed-zero switch must be on.
fn unit_axes() -> Cond {
    let [op, x, a] = ["?op", "?x", "?a"].map(var);
    Box::new(move |eg, _, m| {
        let (Some(r), Some(t), Some(axes)) = (reduce_op(eg, m[op]), ty_of(eg, m[x]), eg.dims(m[a]))
        else {
            return false;
        };
        let units = axes.iter().all(|&i| t.shape.get(i) == Some(&1));
        units && (r != ReduceOp::Sum || !t.dtype.is_float() || eg.analysis.fp.signed_zero)
    })
}

/// The reduced axes `?a` of `(expand ?x ?s)` are all broadcast (size 1 in x) and hold at least one
/// element; `sum` on floats also needs the rounding and signed-zero switches.
fn over_broadcast(sum: bool) -> Cond {
    let [x, s, a] = ["?x", "?s", "?a"].map(var);
    Box::new(move |eg, _, m| {
        let Some(b) = broadcast(eg, m, x, s, a) else {
            return false;
        };
        let fp = eg.analysis.fp;
        b.count >= 1 && (!sum || !b.float || (fp.rounding && fp.signed_zero))
    })
}

struct Broadcast {
    /// Elements per output element: the product of the reduced axes of the expanded shape.
    count: usize,
    /// The reduce's output shape.
    out: Vec<usize>,
    x_shape: Vec<usize>,
    float: bool,
}

fn broadcast(
    eg: &super::super::analysis::EGraph,
    m: &Subst,
    x: Var,
    s: Var,
    a: Var,
) -> Option<Broadcast> {
    let t = ty_of(eg, m[x])?;
    let (shape, axes) = (dims_of(eg, m[s])?, dims_of(eg, m[a])?);
    if axes
        .iter()
        .any(|&i| t.shape.get(i) != Some(&1) || i >= shape.len())
    {
        return None;
    }
    let count = axes.iter().map(|&i| shape[i]).product();
    let mut out = shape;
    for &i in &axes {
        out[i] = 1;
    }
    Some(Broadcast {
        count,
        out,
        x_shape: t.shape.clone(),
        float: t.dtype.is_float(),
    })
}

/// `x` broadcast to the reduce's output shape (no expand when x already has it).
fn expand_to(
    eg: &mut super::super::analysis::EGraph,
    x: Id,
    x_shape: &[usize],
    out: Vec<usize>,
) -> Id {
    if x_shape == out.as_slice() {
        return x;
    }
    let out = add_dims(eg, out);
    eg.add(TensorLang::Expand([x, out]))
}

/// `(reduce sum (expand ?x ?s) ?a)` → `expand(x * n)`.
fn sum_expand() -> Builder {
    let [x, s, a] = ["?x", "?s", "?a"].map(var);
    Box::new(move |eg, _, m| {
        let b = broadcast(eg, m, x, s, a)?;
        let dtype = ty_of(eg, m[x])?.dtype;
        let n = constant(eg, &b.x_shape, Scalar::from_i64(b.count as i64, dtype));
        let mul = eg.add(TensorLang::BOp(crate::simplify::lang::BOp(
            smelt_codegen::BinaryOp::Mul,
        )));
        let prod = eg.add(TensorLang::Binary([mul, m[x], n]));
        Some(expand_to(eg, prod, &b.x_shape, b.out))
    })
}

/// `(reduce amax|amin (expand ?x ?s) ?a)` → `expand(x)`.
fn drop_reduce() -> Builder {
    let [x, s, a] = ["?x", "?s", "?a"].map(var);
    Box::new(move |eg, _, m| {
        let b = broadcast(eg, m, x, s, a)?;
        Some(expand_to(eg, m[x], &b.x_shape, b.out))
    })
}
