//! The e-class analysis: each class's tensor type and, where every element is the same known value,
//! that value.
//!
//! Types come from the graph's own inference ([`crate::infer`]), so the e-graph and the verifier agree
//! on what is well typed. Rules use the type and the value in their conditions (`x + 0 → x` needs to
//! know that the other operand is a broadcast zero). A node that a rule built wrongly gets no type; the
//! class keeps the type of its well-typed members, and extraction never picks the bad node.
//!
//! Values are folded with the reference interpreter on 0-d graphs, so a folded constant is exactly what
//! [`crate::interp`] computes for that op in that dtype (an f32 op is rounded to f32 once).

use super::lang::{Dims, Lit, OpView, Payloads, TensorLang, op_view};
use crate::graph::{Graph, NodeId, Op, TypeInfo};
use crate::{infer, interp};
use egg::{Analysis, DidMerge, Id};
use smelt_codegen::{DType, ReduceOp, Scalar};

pub type EGraph = egg::EGraph<TensorLang, TensorAnalysis>;
pub type Rewrite = egg::Rewrite<TensorLang, TensorAnalysis>;

/// The floating-point freedoms the rules may use (see the policy in the module docs of `simplify`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct FpPolicy {
    pub signed_zero: bool,
    pub rounding: bool,
    pub assume_finite: bool,
}

/// The analysis state: what `make` needs beyond the node itself.
#[derive(Clone, Debug)]
pub struct TensorAnalysis {
    /// Types of the graph's input buffers (an `Input` leaf's type).
    pub inputs: Vec<TypeInfo>,
    pub fp: FpPolicy,
    /// Give classes whose value is known their canonical constant (`modify`).
    pub fold: bool,
    /// How many classes folding merged with a new constant (reported as `fold-const`).
    pub folds: usize,
}

/// What is known about one e-class.
#[derive(Clone, Debug, PartialEq)]
pub struct ClassData {
    /// The tensor type; `None` for payloads, `roots`, and a class holding only an ill-typed node.
    pub ty: Option<TypeInfo>,
    /// Every element equals this value (a broadcast constant, possibly folded).
    pub value: Option<Scalar>,
    /// Used by more than one node or output of the input graph: a rule that would recompute it under
    /// another form (a view pushed through it, two reductions merged) leaves it alone.
    pub shared: bool,
    /// The class holds the canonical constant of its value (set by `modify`).
    pub folded: bool,
    /// Computing the value may fail at run time: it reads a gather, whose index may be out of range
    /// (an error, not a value). A rule never drops such a subexpression (`pow(gather(..), 0) → 1` would
    /// turn the error into a value), so every form in a class fails where the input graph failed.
    pub may_fail: bool,
}

impl Payloads for EGraph {
    fn payload(&self, id: Id) -> Option<&TensorLang> {
        self[id].nodes.iter().find(|n| n.is_payload())
    }
}

impl Analysis<TensorLang> for TensorAnalysis {
    type Data = ClassData;

    fn make(egraph: &mut EGraph, enode: &TensorLang, _id: Id) -> ClassData {
        let Some(view) = op_view(enode, egraph) else {
            return ClassData {
                ty: None,
                value: None,
                shared: false,
                folded: false,
                may_fail: false,
            };
        };
        let ty = view_type(egraph, &view);
        let value = ty.as_ref().and_then(|ty| fold(egraph, &view, ty));
        let may_fail = matches!(view.op, Op::Gather { .. })
            || view.srcs.iter().any(|s| egraph[*s].data.may_fail);
        ClassData {
            ty,
            value,
            shared: false,
            folded: false,
            may_fail,
        }
    }

    fn merge(&mut self, a: &mut ClassData, b: ClassData) -> DidMerge {
        let before = a.clone();
        match (&a.ty, &b.ty) {
            (None, Some(_)) => a.ty = b.ty.clone(),
            (Some(x), Some(y)) => {
                debug_assert_eq!(x, y, "a rewrite merged classes of different types")
            }
            _ => {}
        }
        // Two known values differ only where the policy let a rule equate them (-0.0 and +0.0): keep one.
        if a.value.is_none() {
            a.value = b.value;
        }
        a.shared |= b.shared;
        a.folded |= b.folded;
        a.may_fail |= b.may_fail;
        DidMerge(*a != before, *a != b)
    }

    /// Constant folding: a class whose every element is a known value gets the canonical broadcast
    /// constant of that value (one `const` node of the class's shape), which extraction then prefers.
    fn modify(egraph: &mut EGraph, id: Id) {
        let data = &egraph[id].data;
        if !egraph.analysis.fold || data.folded {
            return;
        }
        let (Some(v), Some(ty)) = (data.value, &data.ty) else {
            return;
        };
        if v.dtype() != ty.dtype {
            return;
        }
        let shape = ty.shape.clone();
        let c = constant(egraph, &shape, v);
        if egraph.union(id, c) {
            egraph.analysis.folds += 1;
        }
        let root = egraph.find(id);
        egraph[root].data.folded = true;
    }
}

/// The canonical constant of `shape` filled with `v`: `(const v shape)`, one leaf (a graph `Const` is
/// broadcast to its node's shape and needs no memory).
pub fn constant(eg: &mut EGraph, shape: &[usize], v: Scalar) -> Id {
    let lit = eg.add(TensorLang::Lit(Lit(v)));
    let s = eg.add(TensorLang::Dims(Dims::new(shape)));
    eg.add(TensorLang::Const([lit, s]))
}

/// The type of a node (read as an op) in the e-graph, or `None` if it is not well typed.
pub fn view_type(egraph: &EGraph, view: &OpView) -> Option<TypeInfo> {
    let tys: Vec<&TypeInfo> = view
        .srcs
        .iter()
        .map(|s| egraph[*s].data.ty.as_ref())
        .collect::<Option<_>>()?;
    type_of(view, &tys, &egraph.analysis.inputs)
}

/// The type of an op on operands of types `tys`, by the graph's inference rules.
pub fn type_of(view: &OpView, tys: &[&TypeInfo], inputs: &[TypeInfo]) -> Option<TypeInfo> {
    match &view.op {
        Op::Input(i) => inputs.get(*i as usize).cloned(),
        Op::Const(_) | Op::Iota { .. } | Op::Rand { .. } => view.leaf_ty.clone(),
        Op::Slice { start, step } => {
            let shape = view.slice_shape.clone()?;
            infer::check_slice(&tys.first()?.shape, start, step, &shape).ok()?;
            Some(TypeInfo {
                shape,
                dtype: tys[0].dtype,
            })
        }
        op => infer::infer(op, tys).ok(),
    }
}

/// The single value of every element of the node's result, when its operands' values make it known:
/// constant folding of elementwise ops, views of constants, reductions of constants.
fn fold(egraph: &EGraph, view: &OpView, ty: &TypeInfo) -> Option<Scalar> {
    let val = |id: Id| egraph[id].data.value;
    match &view.op {
        Op::Const(s) => Some(*s),
        Op::Unary(_) | Op::Binary(_) | Op::Cast(_) => {
            let args: Vec<Scalar> = view.srcs.iter().map(|s| val(*s)).collect::<Option<_>>()?;
            eval_scalar(&view.op, &args)
        }
        // The branch not taken is dropped: only when computing it cannot fail.
        Op::Where => match val(view.srcs[0])? {
            Scalar::Bool(true) if !egraph[view.srcs[2]].data.may_fail => val(view.srcs[1]),
            Scalar::Bool(false) if !egraph[view.srcs[1]].data.may_fail => val(view.srcs[2]),
            _ => None,
        },
        Op::Reshape(_) | Op::Permute(_) | Op::Expand(_) | Op::Slice { .. } => val(view.srcs[0]),
        Op::Pad { value, .. } => val(view.srcs[0]).filter(|v| v == value),
        Op::Cat { .. } => {
            let first = val(view.srcs[0])?;
            view.srcs
                .iter()
                .all(|s| val(*s) == Some(first))
                .then_some(first)
        }
        Op::Reduce { op, axes } => {
            let src = egraph[view.srcs[0]].data.ty.as_ref()?;
            let count = axes.iter().map(|&a| src.shape[a]).product();
            reduce_value(*op, val(view.srcs[0])?, count, ty.dtype, egraph.analysis.fp)
        }
        // A gather of a constant is still an error when an index is out of range: not folded.
        Op::Input(_) | Op::Iota { .. } | Op::Rand { .. } | Op::Gather { .. } => None,
    }
}

/// An elementwise op on scalar operands, evaluated by the reference interpreter on a 0-d graph (the
/// single definition of every op's meaning; no second copy to drift).
pub fn eval_scalar(op: &Op, args: &[Scalar]) -> Option<Scalar> {
    let mut g = Graph::new();
    let srcs: Vec<NodeId> = args
        .iter()
        .map(|a| {
            g.add_typed(
                Op::Const(*a),
                &[],
                TypeInfo {
                    shape: vec![],
                    dtype: a.dtype(),
                },
            )
        })
        .collect();
    let ty = g.infer(op, &srcs).ok()?;
    let out = g.add_typed(op.clone(), &srcs, ty.clone());
    g.outputs = vec![out];
    let result = interp::eval(&g, &[]).ok()?;
    Some(result[0].data.get(0, ty.dtype))
}

/// The value of a reduction over `count` copies of `c`. Exact for integers, bool, max and min; float
/// sums and products are computed with one rounding (the interpreter accumulates in f64 and rounds once
/// too, but a backend may not), so they are folded only when rounding changes are allowed.
fn reduce_value(
    op: ReduceOp,
    c: Scalar,
    count: usize,
    dtype: DType,
    fp: FpPolicy,
) -> Option<Scalar> {
    if count == 0 {
        return Some(op.identity(dtype));
    }
    match op {
        ReduceOp::Max | ReduceOp::Min => Some(c),
        // Bool sum is `or` and bool product is `and`: copies of one value give that value.
        _ if dtype == DType::Bool => Some(c),
        _ if dtype.is_float() => {
            if !fp.rounding {
                return None;
            }
            let x = c.to_f64();
            // `0.0 +` as the accumulator starts: a sum of -0.0s is +0.0.
            let v = if op == ReduceOp::Sum {
                0.0 + x * count as f64
            } else {
                x.powf(count as f64)
            };
            Some(Scalar::from_f64(v, dtype))
        }
        ReduceOp::Sum => Some(Scalar::from_i64(
            c.to_i64().wrapping_mul(count as i64),
            dtype,
        )),
        ReduceOp::Prod => Some(Scalar::from_i64(wrapping_pow(c.to_i64(), count), dtype)),
    }
}

/// `base^exp` with wrapping multiplication (what repeated wrapping products give, modulo 2^64).
fn wrapping_pow(base: i64, mut exp: usize) -> i64 {
    let (mut result, mut b) = (1i64, base);
    while exp > 0 {
        if exp & 1 == 1 {
            result = result.wrapping_mul(b);
        }
        b = b.wrapping_mul(b);
        exp >>= 1;
    }
    result
}

#[cfg(test)]
mod tests {
    use super::*;
    use smelt_codegen::{BinaryOp, UnaryOp};

    #[test]
    fn folds_in_the_ops_dtype() {
        // 0.1f32 + 0.2f32 rounds to f32 once: 0.3 as the nearest f32 of the exact sum of the two f32s.
        let want = (0.1f32 as f64 + 0.2f32 as f64) as f32;
        let got = eval_scalar(
            &Op::Binary(BinaryOp::Add),
            &[Scalar::F32(0.1), Scalar::F32(0.2)],
        );
        assert_eq!(got, Some(Scalar::F32(want)));
        // Integer division floors and wraps at the dtype's width.
        let got = eval_scalar(
            &Op::Binary(BinaryOp::Div),
            &[Scalar::I32(-7), Scalar::I32(2)],
        );
        assert_eq!(got, Some(Scalar::I32(-4)));
        // i64::MIN / -1 wraps (and folding it does not panic).
        let got = eval_scalar(
            &Op::Binary(BinaryOp::Div),
            &[Scalar::I64(i64::MIN), Scalar::I64(-1)],
        );
        assert_eq!(got, Some(Scalar::I64(i64::MIN)));
        let got = eval_scalar(
            &Op::Binary(BinaryOp::Add),
            &[Scalar::U8(250), Scalar::U8(10)],
        );
        assert_eq!(got, Some(Scalar::U8(4)));
        let got = eval_scalar(&Op::Unary(UnaryOp::Neg), &[Scalar::F64(0.0)]);
        assert_eq!(got, Some(Scalar::F64(-0.0)));
        let got = eval_scalar(
            &Op::Binary(BinaryOp::CmpLt),
            &[Scalar::F32(1.0), Scalar::F32(f32::NAN)],
        );
        assert_eq!(got, Some(Scalar::Bool(false)));
        // erf(±0) = ±0 (the interpreter's series stops at once on 0).
        assert_eq!(
            eval_scalar(&Op::Unary(UnaryOp::Erf), &[Scalar::F32(-0.0)]),
            Some(Scalar::F32(-0.0))
        );
    }

    #[test]
    fn reduce_of_copies() {
        let fp = FpPolicy {
            signed_zero: true,
            rounding: true,
            assume_finite: false,
        };
        assert_eq!(
            reduce_value(ReduceOp::Sum, Scalar::U8(100), 3, DType::U8, fp),
            Some(Scalar::U8(44))
        );
        assert_eq!(
            reduce_value(ReduceOp::Prod, Scalar::I32(3), 4, DType::I32, fp),
            Some(Scalar::I32(81))
        );
        assert_eq!(
            reduce_value(ReduceOp::Sum, Scalar::F32(-0.0), 5, DType::F32, fp),
            Some(Scalar::F32(0.0))
        );
        assert_eq!(
            reduce_value(ReduceOp::Sum, Scalar::F32(1.5), 0, DType::F32, fp),
            Some(Scalar::F32(0.0))
        );
        assert_eq!(
            reduce_value(ReduceOp::Max, Scalar::F32(2.0), 0, DType::F32, fp),
            Some(Scalar::F32(f32::NEG_INFINITY))
        );
        let exact = FpPolicy {
            rounding: false,
            ..fp
        };
        assert_eq!(
            reduce_value(ReduceOp::Sum, Scalar::F32(0.1), 3, DType::F32, exact),
            None
        );
        assert_eq!(
            reduce_value(ReduceOp::Min, Scalar::F32(0.1), 3, DType::F32, exact),
            Some(Scalar::F32(0.1))
        );
    }
}
