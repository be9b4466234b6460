//! Splitting large reductions with few outputs into two stages, so both cores have work.
//!
//! `sum` of 2^24 elements has one output, and a kernel parallelizes over its outputs: one thread would
//! do it all. The reduced elements are regrouped as `[outputs, parts, len]` (padding with the
//! reduction's identity when no divisor fits), reduced over `len` into a buffer of partial results
//! (forced to materialize: fused, it would be one loop again), then over `parts`.

use crate::graph::{Graph, NodeId, Op, TypeInfo};
use crate::schedule::Reason;
use smelt_codegen::ReduceOp;

/// Outputs below which a reduction is split.
const FEW_OUTPUTS: usize = 64;
/// Reduced elements per output above which it is split.
const LARGE: usize = 1 << 15;
/// The parts a split reduction aims for.
const PARTS: usize = 256;

/// The graph with large reductions split, and the partial-result nodes that must be materialized.
pub fn split_reduces(g: &Graph) -> (Graph, Vec<(NodeId, Reason)>) {
    let uses = g.use_counts();
    let candidates: Vec<NodeId> = g
        .ids()
        .filter(|&id| {
            let n = g.node(id);
            let Op::Reduce { axes, .. } = &n.op else {
                return false;
            };
            let from = &g.node(n.srcs[0]).ty.shape;
            let count: usize = axes.iter().map(|&a| from[a]).product();
            uses[id.index()] > 0 && n.ty.numel() < FEW_OUTPUTS && count >= LARGE
        })
        .collect();
    if candidates.is_empty() {
        return (g.clone(), vec![]);
    }
    let mut out = Graph::new();
    for ty in &g.inputs {
        out.inputs.push(ty.clone());
    }
    let mut map: Vec<NodeId> = Vec::with_capacity(g.len());
    let mut forced = vec![];
    for id in g.ids() {
        let n = g.node(id);
        let srcs: Vec<NodeId> = n.srcs.iter().map(|s| map[s.index()]).collect();
        let new = if candidates.contains(&id) {
            let Op::Reduce { op, axes } = &n.op else {
                unreachable!("candidates are reductions")
            };
            let (new, partial) = split_one(&mut out, srcs[0], *op, axes, &n.ty);
            forced.push((partial, Reason::SplitReduce));
            new
        } else {
            out.add_typed(n.op.clone(), &srcs, n.ty.clone())
        };
        map.push(new);
    }
    out.outputs = g.outputs.iter().map(|o| map[o.index()]).collect();
    for (k, v) in &g.labels {
        out.labels.insert(map[k.index()], v.clone());
    }
    (out, forced)
}

/// Builds `reduce(src)` as two stages; returns the result (of `ty`) and the partial-result node.
fn split_one(
    g: &mut Graph,
    src: NodeId,
    op: ReduceOp,
    axes: &[usize],
    ty: &TypeInfo,
) -> (NodeId, NodeId) {
    let from = g.node(src).ty.shape.clone();
    let kept: Vec<usize> = (0..from.len()).filter(|d| !axes.contains(d)).collect();
    let outputs: usize = kept.iter().map(|&d| from[d]).product();
    let count: usize = axes.iter().map(|&a| from[a]).product();
    // Reduced axes last, then [outputs, count].
    let perm: Vec<usize> = kept.iter().chain(axes).copied().collect();
    let mut x = src;
    if perm.iter().enumerate().any(|(i, &p)| i != p) {
        x = g.add(Op::Permute(perm), &[x]);
    }
    x = g.add(Op::Reshape(vec![outputs, count]), &[x]);
    // Parts: the divisor of count nearest below PARTS (at least PARTS/4), else pad to a multiple.
    let parts = (PARTS / 4..=PARTS)
        .rev()
        .find(|p| count.is_multiple_of(*p))
        .unwrap_or(PARTS);
    let len = count.div_ceil(parts);
    if parts * len != count {
        let value = op.identity(ty.dtype);
        x = g.add(
            Op::Pad {
                lo: vec![0, 0],
                hi: vec![0, parts * len - count],
                value,
            },
            &[x],
        );
    }
    x = g.add(Op::Reshape(vec![outputs, parts, len]), &[x]);
    let partial = g.add(Op::Reduce { op, axes: vec![2] }, &[x]);
    let total = g.add(Op::Reduce { op, axes: vec![1] }, &[partial]);
    let result = g.add(Op::Reshape(ty.shape.clone()), &[total]);
    (result, partial)
}
