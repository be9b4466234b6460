//! The cost model extraction minimizes: work first, then node count, then how high views sit.
//!
//! ```text
//! work         elementwise and reduce ops: weight × elements touched (2 cheap, 4 div/sqrt/recip,
//!              8 transcendental); leaves and views: a flat 1 (index arithmetic, never a copy)
//! nodes        one per graph node
//! view_height  for each view, the computing ops below it (a view at a leaf is 0): pushing views toward
//!              the leaves helps fusion, and among equal-work forms the lower views win
//! ```
//!
//! Work scales with the number of elements so that `exp(expand(x))` costs more than `expand(exp(x))`
//! and `sum(expand(x))` more than `x * n`. Costs compare lexicographically, so a rewrite never trades a
//! cheaper op for a more expensive one to save nodes, and among equal work the fewer nodes win.

use crate::graph::{Graph, Op, TypeInfo};
use smelt_codegen::{BinaryOp, UnaryOp};

/// A cost, compared field by field in order.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Cost {
    pub work: u64,
    pub nodes: u64,
    pub view_height: u64,
    /// Computing (non-leaf, non-view) nodes: what a view above this value adds to its height.
    pub computes: u64,
}

impl Cost {
    pub fn saturating_add(self, o: Cost) -> Cost {
        Cost {
            work: self.work.saturating_add(o.work),
            nodes: self.nodes.saturating_add(o.nodes),
            view_height: self.view_height.saturating_add(o.view_height),
            computes: self.computes.saturating_add(o.computes),
        }
    }

    /// The part of the cost that is real work (what `simplify` must never make worse): work, then nodes.
    pub fn work_and_nodes(self) -> (u64, u64) {
        (self.work, self.nodes)
    }
}

/// Work per element of an elementwise op.
fn weight(op: &Op) -> u64 {
    match op {
        Op::Unary(u) => match u {
            UnaryOp::Recip | UnaryOp::Sqrt => 4,
            UnaryOp::Exp
            | UnaryOp::Log
            | UnaryOp::Sin
            | UnaryOp::Cos
            | UnaryOp::Tanh
            | UnaryOp::Erf => 8,
            _ => 2,
        },
        Op::Binary(b) => match b {
            BinaryOp::Div => 4,
            BinaryOp::Rem | BinaryOp::Pow => 8,
            _ => 2,
        },
        _ => 2,
    }
}

/// The work of one node: `out` is its type, `src` its first operand's type (a reduce reads all of it).
pub fn work(op: &Op, out: &TypeInfo, src: Option<&TypeInfo>) -> u64 {
    let n = out.numel() as u64;
    let w = match op {
        Op::Input(_) | Op::Const(_) | Op::Iota { .. } => 1,
        Op::Rand { .. } => 8 * n,
        Op::Reshape(_) | Op::Permute(_) | Op::Expand(_) | Op::Pad { .. } | Op::Slice { .. } => 1,
        Op::Reduce { .. } => 2 * src.map_or(n, |s| s.numel() as u64),
        Op::Gather { .. } => 4 * n,
        Op::Cat { .. } => n,
        Op::Unary(_) | Op::Binary(_) | Op::Where | Op::Cast(_) => weight(op).saturating_mul(n),
    };
    w.max(1)
}

/// The work and node count of a whole graph, each node reachable from an output counted once (the DAG
/// cost; extraction minimizes a tree cost, and `simplify` keeps its input when its result would do more
/// work than this). View heights are left at 0.
pub fn graph_cost(g: &Graph) -> Cost {
    let mut live = vec![false; g.len()];
    for o in &g.outputs {
        live[o.index()] = true;
    }
    let mut total = Cost::default();
    for id in g.ids().collect::<Vec<_>>().into_iter().rev() {
        if !live[id.index()] {
            continue;
        }
        let n = g.node(id);
        for s in &n.srcs {
            live[s.index()] = true;
        }
        let src = n.srcs.first().map(|s| &g.node(*s).ty);
        total = total.saturating_add(Cost {
            work: work(&n.op, &n.ty, src),
            nodes: 1,
            ..Cost::default()
        });
    }
    total
}
