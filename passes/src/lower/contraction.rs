//! Recognizing contractions: `sum_k(X · Y)` where X and Y are strided views of two buffers is a
//! (batched) matmul, handed to a tuned kernel instead of a loop nest.
//!
//! The test is on index maps, not on the shape of the graph, so it survives whatever the rewrites did to
//! the views: each operand is followed down its movement ops to a *base* node, and the map from the
//! product's index to the base's linear index must be affine in the loop variables (a strided view).
//! Dims the left operand ignores are the output's columns, dims the right one ignores are its rows.

use super::index::{Affine, ravel, unravel};
use crate::graph::{Graph, NodeId, Op};
use smelt_codegen::kernel::LoopVar;
use smelt_codegen::matmul::{MatmulSpec, Strided};
use smelt_codegen::{BinaryOp, DType, ReduceOp};

/// A recognized contraction: the spec and the nodes whose buffers are its operands.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Contraction {
    pub spec: MatmulSpec,
    /// The base node of the spec's `a` operand.
    pub a: NodeId,
    /// The base node of the spec's `b` operand.
    pub b: NodeId,
}

/// An operand followed down its views: the base node and its linear index as a function of the
/// product's index, and the node to materialize if that index is not a strided view.
struct Operand {
    base: NodeId,
    linear: Affine,
    compact: NodeId,
}

fn follow(g: &Graph, mut id: NodeId, vars: &[Affine]) -> Operand {
    let mut idx = vars.to_vec();
    // The last node below only broadcasting views: materializing it never costs more than the operand.
    let mut compact = None;
    loop {
        let n = g.node(id);
        let from = match n.srcs.first() {
            Some(&s) => g.node(s).ty.shape.clone(),
            None => vec![],
        };
        idx = match &n.op {
            Op::Reshape(_) => {
                let strips_ones =
                    from.iter()
                        .filter(|&&d| d != 1)
                        .eq(n.ty.shape.iter().filter(|&&d| d != 1));
                if !strips_ones && compact.is_none() {
                    compact = Some(id);
                }
                let inner = unravel(&ravel(&idx, &n.ty.shape), &from);
                if inner.iter().map(Affine::size).sum::<usize>() > 48 {
                    // Not a strided view; stop before the index grows further.
                    compact.get_or_insert(id);
                    break;
                }
                inner
            }
            Op::Expand(_) => idx
                .iter()
                .zip(&from)
                .map(|(a, &d)| {
                    if d == 1 {
                        Affine::constant(0)
                    } else {
                        a.clone()
                    }
                })
                .collect(),
            Op::Permute(perm) => {
                compact.get_or_insert(id);
                let mut inner = vec![Affine::constant(0); perm.len()];
                for (i, &p) in perm.iter().enumerate() {
                    inner[p] = idx[i].clone();
                }
                inner
            }
            Op::Slice { start, step } => {
                compact.get_or_insert(id);
                idx.iter()
                    .enumerate()
                    .map(|(d, a)| a.scale(step[d] as i64).add_const(start[d] as i64))
                    .collect()
            }
            _ => break,
        };
        id = n.srcs[0];
    }
    let linear = ravel(&idx, &g.node(id).ty.shape);
    Operand {
        base: id,
        linear,
        compact: compact.unwrap_or(id),
    }
}

/// What [`recognize`] found.
pub enum Found {
    Contraction(Contraction),
    /// It is a contraction once this operand node has a buffer.
    NeedsBuffer(NodeId),
}

/// Merges runs of dims into one (size, stride) pair per operand, if each run is contiguous in every
/// operand; `dims` are in the product's order.
fn merge(dims: &[usize], shape: &[usize], strides: &[&[i64]]) -> Option<(u64, Vec<u64>)> {
    let mut size = 1u64;
    for w in dims.windows(2) {
        if w[1] != w[0] + 1 && shape[w[0] + 1..w[1]].iter().any(|&d| d != 1) {
            return None;
        }
        for s in strides {
            if s[w[0]] != s[w[1]] * shape[w[1]] as i64 {
                return None;
            }
        }
    }
    for &d in dims {
        size *= shape[d] as u64;
    }
    let inner = dims.last();
    Some((
        size,
        strides
            .iter()
            .map(|s| inner.map_or(0, |&d| s[d] as u64))
            .collect(),
    ))
}

/// Recognizes `reduce_sum(mul(X, Y))` over one axis as a matmul.
pub fn recognize(g: &Graph, id: NodeId) -> Option<Found> {
    let n = g.node(id);
    let Op::Reduce {
        op: ReduceOp::Sum,
        axes,
    } = &n.op
    else {
        return None;
    };
    let [k] = axes[..] else { return None };
    if !matches!(n.ty.dtype, DType::F32 | DType::F64) {
        return None;
    }
    let prod = g.node(n.srcs[0]);
    if prod.op != Op::Binary(BinaryOp::Mul) {
        return None;
    }
    let shape = &prod.ty.shape;
    if shape.contains(&0) {
        return None;
    }
    let vars: Vec<Affine> = shape
        .iter()
        .enumerate()
        .map(|(j, &e)| Affine::var(LoopVar(j as u32), e as u64))
        .collect();
    let (ox, oy) = (
        follow(g, prod.srcs[0], &vars),
        follow(g, prod.srcs[1], &vars),
    );
    // A matmul needs a row dim only X reads and a column dim only Y reads; otherwise (dot products,
    // matrix-vector) the loop nest is as good and needs no buffers.
    let (mut vx, mut vy) = (vec![], vec![]);
    ox.linear.vars(&mut vx);
    oy.linear.vars(&mut vy);
    let only = |a: &[u32], b: &[u32]| {
        (0..shape.len()).any(|j| j != k && a.contains(&(j as u32)) && !b.contains(&(j as u32)))
    };
    if !only(&vx, &vy) || !only(&vy, &vx) {
        return None;
    }
    for o in [&ox, &oy] {
        if !o.linear.is_strided() {
            return Some(Found::NeedsBuffer(o.compact));
        }
    }
    let (x, y) = ((ox.base, ox.linear), (oy.base, oy.linear));
    if x.1.c < 0 || y.1.c < 0 {
        return None;
    }
    let sx: Vec<i64> = (0..shape.len())
        .map(|j| x.1.coef(LoopVar(j as u32)))
        .collect();
    let sy: Vec<i64> = (0..shape.len())
        .map(|j| y.1.coef(LoopVar(j as u32)))
        .collect();
    if sx.iter().chain(&sy).any(|&s| s < 0) {
        return None;
    }
    // Classify the dims that are not reduced and not of size 1.
    let (mut batch, mut xs, mut ys) = (vec![], vec![], vec![]);
    for j in (0..shape.len()).filter(|&j| j != k && shape[j] > 1) {
        match (sx[j] != 0, sy[j] != 0) {
            (true, false) => xs.push(j),
            (false, true) => ys.push(j),
            _ => batch.push(j),
        }
    }
    // The output is [batch, rows, cols] in the product's dim order: batch dims first, then the rows
    // operand's dims, then the columns operand's.
    let last = |v: &[usize]| v.last().copied();
    let first = |v: &[usize]| v.first().copied();
    let ordered = |a: &[usize], b: &[usize]| match (last(a), first(b)) {
        (Some(p), Some(q)) => p < q,
        _ => true,
    };
    if !ordered(&batch, &xs) || !ordered(&batch, &ys) {
        return None;
    }
    let x_first = ordered(&xs, &ys);
    if !x_first && !ordered(&ys, &xs) {
        return None;
    }
    let ((ra, la, sa), rows, (rb, lb, sb), cols) = if x_first {
        ((x.0, &x.1, &sx), &xs, (y.0, &y.1, &sy), &ys)
    } else {
        ((y.0, &y.1, &sy), &ys, (x.0, &x.1, &sx), &xs)
    };
    let (nb, bstr) = merge(&batch, shape, &[sa, sb])?;
    let (m, astr) = merge(rows, shape, &[sa])?;
    let (ncols, bcol) = merge(cols, shape, &[sb])?;
    let spec = MatmulSpec {
        dtype: n.ty.dtype,
        batch: nb,
        m,
        n: ncols,
        k: shape[k] as u64,
        a: Strided {
            offset: la.c as u64,
            batch_stride: bstr[0],
            row_stride: astr[0],
            col_stride: sa[k] as u64,
        },
        b: Strided {
            offset: lb.c as u64,
            batch_stride: bstr[1],
            row_stride: sb[k] as u64,
            col_stride: bcol[0],
        },
    };
    Some(Found::Contraction(Contraction { spec, a: ra, b: rb }))
}
