//! The graph IR: the work graph of one realize, a DAG of tensor ops on petgraph.
//!
//! ```text
//! %0 = input 0 : f32[4,8]
//! %1 = const 2.0f32 : f32[4,8]
//! %2 = mul %0, %1 : f32[4,8]
//! %3 = reduce_sum %2 axes [1] : f32[4,1]
//! %4 = reshape %3 [4] : f32[4]
//! outputs %2, %4
//! ```
//!
//! # Invariants
//! - Ops are strict: elementwise operands have the node's shape exactly and one dtype (the Tensor API
//!   inserts the broadcasts and casts), so every pass can rely on shapes without re-deriving them.
//! - Node ids are a topological order: operands are always added before their users.
//! - Reductions keep the reduced axes with size 1; a reshape removes them when the user asked so.

use crate::infer;
use petgraph::graph::{DiGraph, NodeIndex};
use smelt_codegen::{BinaryOp, DType, ReduceOp, Scalar, UnaryOp};
use std::collections::HashMap;
use std::fmt::{self, Write as _};

/// A node of the work graph. Prints as `%12`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct NodeId(pub u32);

impl NodeId {
    pub fn index(self) -> usize {
        self.0 as usize
    }
}

impl fmt::Display for NodeId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "%{}", self.0)
    }
}

/// The distribution of a [`Op::Rand`] leaf.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Dist {
    /// Uniform on [0, 1).
    Uniform,
    /// Standard normal.
    Normal,
}

/// One tensor operation. The closed vocabulary of the graph level, grouped as tinygrad groups its ops.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum Op {
    // ---- leaves ----
    /// A realized buffer, by its position in [`Graph::inputs`].
    Input(u32),
    /// A constant of the node's dtype, broadcast to the node's shape (no memory: it is index-free).
    Const(Scalar),
    /// Each element is its index along `axis`, as the node's dtype (`arange`, `eye` and `argmax` use it).
    Iota {
        axis: usize,
    },
    /// Counter-based random numbers: element `i` (in C order) is drawn from Philox-4x32-10 keyed by `seed`
    /// at counter `offset + i`, so the values do not depend on the device or on how work is split.
    Rand {
        seed: u64,
        offset: u64,
        dist: Dist,
    },

    // ---- elementwise: operands have the node's shape ----
    Unary(UnaryOp),
    /// Both operands share a dtype; comparisons give bool.
    Binary(BinaryOp),
    /// `where(cond, a, b)`: cond is bool, `a` and `b` share the node's dtype.
    Where,
    /// A conversion to the node's dtype.
    Cast(DType),

    // ---- reduce ----
    /// Reduces `axes` (sorted, unique) to size 1.
    Reduce {
        op: ReduceOp,
        axes: Vec<usize>,
    },

    // ---- movement: views, index arithmetic only ----
    /// Same elements in C order, new shape.
    Reshape(Vec<usize>),
    /// Output axis `i` is input axis `perm[i]`.
    Permute(Vec<usize>),
    /// Size-1 axes broadcast to the given shape (same rank).
    Expand(Vec<usize>),
    /// `lo[i]` and `hi[i]` elements of `value` added before and after each axis.
    Pad {
        lo: Vec<usize>,
        hi: Vec<usize>,
        value: Scalar,
    },
    /// Output element `j` along axis `i` is input element `start[i] + j * step[i]`; the output shape is
    /// the node's shape.
    Slice {
        start: Vec<usize>,
        step: Vec<usize>,
    },

    // ---- data-dependent ----
    /// `out[..., j, ...] = data[..., index[..., j, ...], ...]` along `axis` (`torch.gather`): operands
    /// `[data, index]`, the output has the index's shape; an index out of range is an error at run time.
    Gather {
        axis: usize,
    },
    /// Operands joined along `axis`.
    Cat {
        axis: usize,
    },
}

impl Op {
    pub fn is_elementwise(&self) -> bool {
        matches!(self, Op::Unary(_) | Op::Binary(_) | Op::Where | Op::Cast(_))
    }

    pub fn is_movement(&self) -> bool {
        matches!(
            self,
            Op::Reshape(_) | Op::Permute(_) | Op::Expand(_) | Op::Pad { .. } | Op::Slice { .. }
        )
    }

    pub fn is_leaf(&self) -> bool {
        matches!(
            self,
            Op::Input(_) | Op::Const(_) | Op::Iota { .. } | Op::Rand { .. }
        )
    }

    pub fn is_reduce(&self) -> bool {
        matches!(self, Op::Reduce { .. })
    }

    /// The op's name in dumps.
    pub fn name(&self) -> &'static str {
        match self {
            Op::Input(_) => "input",
            Op::Const(_) => "const",
            Op::Iota { .. } => "iota",
            Op::Rand { .. } => "rand",
            Op::Unary(u) => u.name(),
            Op::Binary(b) => b.name(),
            Op::Where => "where",
            Op::Cast(_) => "cast",
            Op::Reduce { op, .. } => match op {
                ReduceOp::Sum => "reduce_sum",
                ReduceOp::Prod => "reduce_prod",
                ReduceOp::Max => "reduce_max",
                ReduceOp::Min => "reduce_min",
            },
            Op::Reshape(_) => "reshape",
            Op::Permute(_) => "permute",
            Op::Expand(_) => "expand",
            Op::Pad { .. } => "pad",
            Op::Slice { .. } => "slice",
            Op::Gather { .. } => "gather",
            Op::Cat { .. } => "cat",
        }
    }
}

/// The shape and dtype of a node.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct TypeInfo {
    pub shape: Vec<usize>,
    pub dtype: DType,
}

impl TypeInfo {
    pub fn numel(&self) -> usize {
        self.shape.iter().product()
    }
}

impl fmt::Display for TypeInfo {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}{}", self.dtype, ShapeText(&self.shape))
    }
}

/// Prints a shape as `[4,8]`.
pub struct ShapeText<'a>(pub &'a [usize]);

impl fmt::Display for ShapeText<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_char('[')?;
        for (i, d) in self.0.iter().enumerate() {
            if i > 0 {
                f.write_char(',')?;
            }
            write!(f, "{d}")?;
        }
        f.write_char(']')
    }
}

/// A node: an op, its operands and its type.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct Node {
    pub op: Op,
    pub srcs: Vec<NodeId>,
    pub ty: TypeInfo,
}

/// The work graph of one realize.
#[derive(Clone, Debug, Default)]
pub struct Graph {
    /// Edges run from operand to user, weighted by the operand's position.
    pub dag: DiGraph<Node, u32>,
    /// Types of the input buffers, indexed by `Op::Input`.
    pub inputs: Vec<TypeInfo>,
    /// The nodes to compute, in the order the caller asked for them.
    pub outputs: Vec<NodeId>,
    /// Optional labels (from `Tensor::named`) for dumps and pictures.
    pub labels: HashMap<NodeId, String>,
    interned: HashMap<Node, NodeId>,
}

impl Graph {
    pub fn new() -> Self {
        Self::default()
    }

    /// Declares an input buffer and returns its leaf node.
    pub fn input(&mut self, ty: TypeInfo) -> NodeId {
        self.inputs.push(ty.clone());
        self.push(Node {
            op: Op::Input(self.inputs.len() as u32 - 1),
            srcs: vec![],
            ty,
        })
    }

    /// Adds a node whose type is inferred from its operands; an identical existing node is reused.
    /// Panics if the op does not fit its operands: callers build valid graphs (the Tensor API checks user
    /// input before it gets here).
    pub fn add(&mut self, op: Op, srcs: &[NodeId]) -> NodeId {
        let ty = self
            .infer(&op, srcs)
            .unwrap_or_else(|e| panic!("graph: {e}"));
        self.add_typed(op, srcs, ty)
    }

    /// Adds a node whose type is given (leaves need it; for other ops it must match inference).
    pub fn add_typed(&mut self, op: Op, srcs: &[NodeId], ty: TypeInfo) -> NodeId {
        let node = Node {
            op,
            srcs: srcs.to_vec(),
            ty,
        };
        if let Some(&id) = self.interned.get(&node) {
            return id;
        }
        self.push(node)
    }

    fn push(&mut self, node: Node) -> NodeId {
        let srcs = node.srcs.clone();
        let id = NodeId(self.dag.add_node(node.clone()).index() as u32);
        for (slot, s) in srcs.iter().enumerate() {
            debug_assert!(s.0 < id.0, "operands come before users");
            self.dag.add_edge(
                NodeIndex::new(s.index()),
                NodeIndex::new(id.index()),
                slot as u32,
            );
        }
        self.interned.insert(node, id);
        id
    }

    /// The type an op would have on these operands.
    pub fn infer(&self, op: &Op, srcs: &[NodeId]) -> Result<TypeInfo, String> {
        let tys: Vec<&TypeInfo> = srcs.iter().map(|&s| &self.node(s).ty).collect();
        infer::infer(op, &tys)
    }

    pub fn node(&self, id: NodeId) -> &Node {
        &self.dag[NodeIndex::new(id.index())]
    }

    pub fn len(&self) -> usize {
        self.dag.node_count()
    }

    pub fn is_empty(&self) -> bool {
        self.dag.node_count() == 0
    }

    /// Node ids in topological order.
    pub fn ids(&self) -> impl Iterator<Item = NodeId> + use<> {
        (0..self.dag.node_count() as u32).map(NodeId)
    }

    /// How many times each node is used as an operand (or as an output).
    pub fn use_counts(&self) -> Vec<usize> {
        let mut uses = vec![0; self.len()];
        for id in self.ids() {
            for s in &self.node(id).srcs {
                uses[s.index()] += 1;
            }
        }
        for o in &self.outputs {
            uses[o.index()] += 1;
        }
        uses
    }

    /// The users of every node, in id order.
    pub fn users(&self) -> Vec<Vec<NodeId>> {
        let mut users = vec![vec![]; self.len()];
        for id in self.ids() {
            for s in &self.node(id).srcs {
                if users[s.index()].last() != Some(&id) {
                    users[s.index()].push(id);
                }
            }
        }
        users
    }

    /// Checks every node's type against inference, operand order and outputs.
    pub fn verify(&self) -> Result<(), String> {
        for id in self.ids() {
            let n = self.node(id);
            for s in &n.srcs {
                if s.0 >= id.0 {
                    return Err(format!("{id} uses {s}, which is not before it"));
                }
            }
            if let Op::Input(i) = n.op {
                let want = self
                    .inputs
                    .get(i as usize)
                    .ok_or(format!("{id}: no input {i}"))?;
                if *want != n.ty {
                    return Err(format!("{id}: input {i} is {want}, node says {}", n.ty));
                }
                continue;
            }
            match &n.op {
                Op::Iota { axis }
                    if n.srcs.is_empty() && (*axis < n.ty.shape.len()) && !n.ty.dtype.is_bool() =>
                {
                    continue;
                }
                Op::Rand { .. } if n.srcs.is_empty() && n.ty.dtype.is_float() => continue,
                Op::Const(c) if n.srcs.is_empty() && c.dtype() == n.ty.dtype => continue,
                Op::Slice { start, step } if n.srcs.len() == 1 => {
                    let from = &self.node(n.srcs[0]);
                    infer::check_slice(&from.ty.shape, start, step, &n.ty.shape)
                        .map_err(|e| format!("{id}: {e}"))?;
                    if from.ty.dtype != n.ty.dtype {
                        return Err(format!("{id}: slice changes dtype"));
                    }
                    continue;
                }
                _ => {}
            }
            let ty = self
                .infer(&n.op, &n.srcs)
                .map_err(|e| format!("{id}: {e}"))?;
            if ty != n.ty {
                return Err(format!(
                    "{id} = {}: inferred {ty}, node says {}",
                    n.op.name(),
                    n.ty
                ));
            }
        }
        for o in &self.outputs {
            if o.index() >= self.len() {
                return Err(format!("output {o} is not a node"));
            }
        }
        Ok(())
    }

    /// A structural hash: ops, shapes, dtypes, wiring, inputs and outputs, not data. Two graphs with the
    /// same hash compile to the same schedule (the schedule cache's key).
    pub fn structural_hash(&self) -> u64 {
        use std::hash::{Hash, Hasher};
        // FNV-style fixed hasher: the same on every run and machine.
        struct Fnv(u64);
        impl Hasher for Fnv {
            fn finish(&self) -> u64 {
                self.0
            }
            fn write(&mut self, bytes: &[u8]) {
                for b in bytes {
                    self.0 ^= *b as u64;
                    self.0 = self.0.wrapping_mul(0x100000001b3);
                }
            }
        }
        let mut h = Fnv(0xcbf29ce484222325);
        self.inputs.hash(&mut h);
        for id in self.ids() {
            self.node(id).hash(&mut h);
        }
        self.outputs.hash(&mut h);
        h.finish()
    }
}

impl Op {
    /// The op's parameters as printed after its operands (empty for most ops).
    pub fn params(&self) -> String {
        let list = |v: &[usize]| ShapeText(v).to_string();
        match self {
            Op::Input(i) => format!("{i}"),
            Op::Const(s) => format!("{s}"),
            Op::Iota { axis } => format!("axis {axis}"),
            Op::Rand { seed, offset, dist } => format!("{dist:?} seed {seed} offset {offset}"),
            Op::Cast(d) => format!("to {d}"),
            Op::Reduce { axes, .. } => format!("axes {}", list(axes)),
            Op::Reshape(s) | Op::Expand(s) => list(s),
            Op::Permute(p) => list(p),
            Op::Pad { lo, hi, value } => format!("lo {} hi {} value {value}", list(lo), list(hi)),
            Op::Slice { start, step } => format!("start {} step {}", list(start), list(step)),
            Op::Gather { axis } | Op::Cat { axis } => format!("axis {axis}"),
            _ => String::new(),
        }
    }
}

impl fmt::Display for Op {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let params = self.params();
        if params.is_empty() {
            f.write_str(self.name())
        } else {
            write!(f, "{} {params}", self.name())
        }
    }
}

impl fmt::Display for Graph {
    /// One line per node: `%3 = add %1, %2 : f32[4,8]`, then the outputs.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for id in self.ids() {
            let n = self.node(id);
            write!(f, "{id} = {}", n.op.name())?;
            for (i, s) in n.srcs.iter().enumerate() {
                write!(f, "{}{s}", if i == 0 { " " } else { ", " })?;
            }
            let params = n.op.params();
            if !params.is_empty() {
                write!(f, " {params}")?;
            }
            write!(f, " : {}", n.ty)?;
            if let Some(l) = self.labels.get(&id) {
                write!(f, "  # {l}")?;
            }
            writeln!(f)?;
        }
        write!(f, "outputs")?;
        for (i, o) in self.outputs.iter().enumerate() {
            write!(f, "{}{o}", if i == 0 { " " } else { ", " })?;
        }
        writeln!(f)
    }
}
