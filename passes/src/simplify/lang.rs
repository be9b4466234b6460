//! The rewrite language: the graph IR as one egg `define_language!`, and the translation both ways.
//!
//! Every graph op has one tensor variant; its parameters (shapes, axes, permutations, dtypes, scalars,
//! the op kind of an elementwise or reduce node) are **payload leaves**, separate e-classes that rules
//! bind with pattern variables:
//!
//! ```text
//! %0 = input 0 : f32[4,8]                (binary add in0 (const 0.0f32 [4,8]))
//! %1 = const 0.0f32 : f32[4,8]
//! %2 = add %0, %1 : f32[4,8]             a rule reads: (binary add ?x ?z) => ?x  if ?z is zero
//! ```
//!
//! One op kind per elementwise family (`unary`, `binary`, `reduce`) with the kind as a payload means a
//! rule such as "push a permute through any unary op" is one pattern, not sixteen. All outputs hang off
//! one `roots` node, so one e-graph and one extraction serve a graph with many outputs.

use crate::graph::{Dist, Graph, Op, TypeInfo};
use egg::{Id, RecExpr, define_language};
use smelt_codegen::{BinaryOp, DType, ReduceOp, Scalar, UnaryOp};
use std::collections::HashMap;
use std::fmt;
use std::str::FromStr;

define_language! {
    /// The graph IR as an egg language. Children that are payloads come after the tensor operands.
    pub enum TensorLang {
        // ---- leaves ----
        "const"   = Const([Id; 2]),     // (const 2.0f32 [4,8]): one value broadcast to a shape
        Input(InputRef),                // in0: input buffer 0
        Leaf(Leaf),                     // iota / rand leaves, opaque to the rules
        // ---- elementwise ----
        "unary"   = Unary([Id; 2]),     // (unary exp ?x)
        "binary"  = Binary([Id; 3]),    // (binary add ?a ?b)
        "where"   = Where([Id; 3]),     // (where ?cond ?a ?b)
        "cast"    = Cast([Id; 2]),      // (cast ?x f64)
        // ---- reduce ----
        "reduce"  = Reduce([Id; 3]),    // (reduce sum ?x [1])
        // ---- movement ----
        "reshape" = Reshape([Id; 2]),   // (reshape ?x [2,3])
        "permute" = Permute([Id; 2]),   // (permute ?x [1,0])
        "expand"  = Expand([Id; 2]),    // (expand ?x [4,8])
        "pad"     = Pad([Id; 4]),       // (pad ?x lo hi value)
        "slice"   = Slice([Id; 4]),     // (slice ?x start step out_shape)
        // ---- data-dependent ----
        "gather"  = Gather([Id; 3]),    // (gather ?data ?index [axis])
        "cat"     = Cat(Box<[Id]>),     // (cat [axis] ?x0 ?x1 ...)
        // ---- the graph's outputs, in order ----
        "roots"   = Roots(Box<[Id]>),
        // ---- payloads ----
        Dims(Dims),
        Dt(Dt),
        Lit(Lit),
        UOp(UOp),
        BOp(BOp),
        ROp(ROp),
    }
}

impl TensorLang {
    /// True for payload leaves (no tensor value).
    pub fn is_payload(&self) -> bool {
        matches!(
            self,
            Self::Dims(_) | Self::Dt(_) | Self::Lit(_) | Self::UOp(_) | Self::BOp(_) | Self::ROp(_)
        )
    }

    pub fn is_movement(&self) -> bool {
        matches!(
            self,
            Self::Reshape(_) | Self::Permute(_) | Self::Expand(_) | Self::Pad(_) | Self::Slice(_)
        )
    }

    /// Leaves that are tensors: inputs, constants, iota and random numbers.
    pub fn is_tensor_leaf(&self) -> bool {
        matches!(self, Self::Const(_) | Self::Input(_) | Self::Leaf(_))
    }
}

// ---------------------------------------------------------------------------------------------------
// 1. Payload types. Each prints so that it reads back (`FromStr`), except the opaque `Leaf`.
// ---------------------------------------------------------------------------------------------------

/// A list of integers: a shape, axes, a permutation, pad widths or slice parameters. Prints `[4,8]`.
/// (A boxed slice keeps e-nodes small: e-matching scans them.)
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Dims(pub Box<[usize]>);

impl Dims {
    pub fn new(d: &[usize]) -> Self {
        Dims(d.into())
    }
}

impl fmt::Display for Dims {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        crate::graph::ShapeText(&self.0).fmt(f)
    }
}

impl FromStr for Dims {
    type Err = ();
    fn from_str(s: &str) -> Result<Self, ()> {
        let inner = s
            .strip_prefix('[')
            .and_then(|s| s.strip_suffix(']'))
            .ok_or(())?;
        if inner.is_empty() {
            return Ok(Dims::new(&[]));
        }
        inner
            .split(',')
            .map(|d| d.parse().map_err(|_| ()))
            .collect::<Result<Vec<usize>, _>>()
            .map(|v| Dims::new(&v))
    }
}

/// An element type. Prints `f32`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Dt(pub DType);

impl fmt::Display for Dt {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.0.name())
    }
}

impl FromStr for Dt {
    type Err = ();
    fn from_str(s: &str) -> Result<Self, ()> {
        DType::ALL
            .into_iter()
            .find(|d| d.name() == s)
            .map(Dt)
            .ok_or(())
    }
}

/// A scalar literal, compared bitwise (as `Scalar` is). Prints as `Scalar` does: `1.5f32`, `3i64`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Lit(pub Scalar);

impl Lit {
    fn key(&self) -> (DType, u64) {
        let bits = match self.0 {
            Scalar::Bool(b) => b as u64,
            Scalar::U8(v) => v as u64,
            Scalar::I32(v) => v as u32 as u64,
            Scalar::I64(v) => v as u64,
            Scalar::F32(v) => v.to_bits() as u64,
            Scalar::F64(v) => v.to_bits(),
        };
        (self.0.dtype(), bits)
    }
}

impl PartialOrd for Lit {
    fn partial_cmp(&self, other: &Self) -> Option<std::cmp::Ordering> {
        Some(self.cmp(other))
    }
}

impl Ord for Lit {
    fn cmp(&self, other: &Self) -> std::cmp::Ordering {
        self.key().cmp(&other.key())
    }
}

impl fmt::Display for Lit {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.fmt(f)
    }
}

impl FromStr for Lit {
    type Err = ();
    fn from_str(s: &str) -> Result<Self, ()> {
        match s {
            "true" => return Ok(Lit(Scalar::Bool(true))),
            "false" => return Ok(Lit(Scalar::Bool(false))),
            _ => {}
        }
        let float = |body: &str| -> Result<f64, ()> {
            match body.strip_suffix('_').unwrap_or(body) {
                "nan" => Ok(f64::NAN),
                "inf" => Ok(f64::INFINITY),
                "-inf" => Ok(f64::NEG_INFINITY),
                b => b.parse().map_err(|_| ()),
            }
        };
        let int = |body: &str| body.parse::<i64>().map_err(|_| ());
        if let Some(b) = s.strip_suffix("f32") {
            return Ok(Lit(Scalar::F32(float(b)? as f32)));
        }
        if let Some(b) = s.strip_suffix("f64") {
            return Ok(Lit(Scalar::F64(float(b)?)));
        }
        if let Some(b) = s.strip_suffix("i32") {
            return Ok(Lit(Scalar::I32(i32::try_from(int(b)?).map_err(|_| ())?)));
        }
        if let Some(b) = s.strip_suffix("i64") {
            return Ok(Lit(Scalar::I64(int(b)?)));
        }
        if let Some(b) = s.strip_suffix("u8") {
            return Ok(Lit(Scalar::U8(u8::try_from(int(b)?).map_err(|_| ())?)));
        }
        Err(())
    }
}

/// The kind of a unary node. Prints as the graph dump does: `exp`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct UOp(pub UnaryOp);

/// The kind of a binary node: `add`, `cmplt`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct BOp(pub BinaryOp);

/// The kind of a reduce node. Prints `sum`, `prod`, `amax`, `amin` (NumPy's names), so that it never reads
/// back as the binary `max` / `min`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct ROp(pub ReduceOp);

const UNARY: [UnaryOp; 16] = UnaryOp::ALL;

const BINARY: [BinaryOp; 15] = BinaryOp::ALL;

const REDUCE: [(ReduceOp, &str); 4] = [
    (ReduceOp::Sum, "sum"),
    (ReduceOp::Prod, "prod"),
    (ReduceOp::Max, "amax"),
    (ReduceOp::Min, "amin"),
];

impl fmt::Display for UOp {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.0.name())
    }
}

impl FromStr for UOp {
    type Err = ();
    fn from_str(s: &str) -> Result<Self, ()> {
        UNARY.into_iter().find(|u| u.name() == s).map(UOp).ok_or(())
    }
}

impl fmt::Display for BOp {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.0.name())
    }
}

impl FromStr for BOp {
    type Err = ();
    fn from_str(s: &str) -> Result<Self, ()> {
        BINARY
            .into_iter()
            .find(|b| b.name() == s)
            .map(BOp)
            .ok_or(())
    }
}

impl fmt::Display for ROp {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(
            REDUCE
                .iter()
                .find(|(r, _)| *r == self.0)
                .map_or("?", |(_, n)| n),
        )
    }
}

impl FromStr for ROp {
    type Err = ();
    fn from_str(s: &str) -> Result<Self, ()> {
        REDUCE
            .iter()
            .find(|(_, n)| *n == s)
            .map(|(r, _)| ROp(*r))
            .ok_or(())
    }
}

/// An input buffer by its position in `Graph::inputs`. Prints `in0`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct InputRef(pub u32);

impl fmt::Display for InputRef {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "in{}", self.0)
    }
}

impl FromStr for InputRef {
    type Err = ();
    fn from_str(s: &str) -> Result<Self, ()> {
        s.strip_prefix("in")
            .and_then(|n| n.parse().ok())
            .map(InputRef)
            .ok_or(())
    }
}

/// A leaf the rules never look inside, with the type it was given (iota and random tensors need one).
/// Boxed, so that the rare leaf does not make every e-node large.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Leaf(pub Box<LeafKind>);

#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum LeafKind {
    Iota {
        axis: usize,
        shape: Vec<usize>,
        dtype: DType,
    },
    Rand {
        seed: u64,
        offset: u64,
        dist: Dist,
        shape: Vec<usize>,
        dtype: DType,
    },
}

impl Leaf {
    pub fn op(&self) -> Op {
        match &*self.0 {
            LeafKind::Iota { axis, .. } => Op::Iota { axis: *axis },
            LeafKind::Rand {
                seed, offset, dist, ..
            } => Op::Rand {
                seed: *seed,
                offset: *offset,
                dist: *dist,
            },
        }
    }

    pub fn ty(&self) -> TypeInfo {
        match &*self.0 {
            LeafKind::Iota { shape, dtype, .. } | LeafKind::Rand { shape, dtype, .. } => TypeInfo {
                shape: shape.clone(),
                dtype: *dtype,
            },
        }
    }
}

impl fmt::Display for Leaf {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &*self.0 {
            LeafKind::Iota { axis, .. } => write!(f, "iota.{axis}:{}", self.ty()),
            LeafKind::Rand {
                seed, offset, dist, ..
            } => write!(f, "rand.{dist:?}.{seed}.{offset}:{}", self.ty()),
        }
    }
}

impl FromStr for Leaf {
    type Err = ();
    /// Leaves are built from graphs, never parsed: no pattern can name one.
    fn from_str(_: &str) -> Result<Self, ()> {
        Err(())
    }
}

// ---------------------------------------------------------------------------------------------------
// 2. Reading payloads back, from a RecExpr or an e-graph.
// ---------------------------------------------------------------------------------------------------

/// Where payload leaves are looked up: a `RecExpr` (by index) or an e-graph (by class).
pub trait Payloads {
    /// The payload leaf of `id`, if it is one.
    fn payload(&self, id: Id) -> Option<&TensorLang>;

    fn dims(&self, id: Id) -> Option<&[usize]> {
        match self.payload(id)? {
            TensorLang::Dims(d) => Some(&d.0),
            _ => None,
        }
    }

    fn dtype(&self, id: Id) -> Option<DType> {
        match self.payload(id)? {
            TensorLang::Dt(d) => Some(d.0),
            _ => None,
        }
    }

    fn lit(&self, id: Id) -> Option<Scalar> {
        match self.payload(id)? {
            TensorLang::Lit(l) => Some(l.0),
            _ => None,
        }
    }

    /// A one-element `Dims` payload: an axis.
    fn axis(&self, id: Id) -> Option<usize> {
        match self.dims(id)? {
            [a] => Some(*a),
            _ => None,
        }
    }
}

impl Payloads for RecExpr<TensorLang> {
    fn payload(&self, id: Id) -> Option<&TensorLang> {
        Some(&self[id]).filter(|n| n.is_payload())
    }
}

/// A tensor node read as a graph op: the op, its tensor operands, and what the op alone does not say
/// about the result (a slice's shape, a constant's, iota's or random leaf's type).
pub struct OpView {
    pub op: Op,
    pub srcs: Vec<Id>,
    pub slice_shape: Option<Vec<usize>>,
    pub leaf_ty: Option<TypeInfo>,
}

/// The graph op a tensor node stands for, or `None` for payloads, `roots`, and nodes whose payload
/// children are missing or of the wrong kind (a rule bug, which extraction then never picks).
pub fn op_view(node: &TensorLang, p: &impl Payloads) -> Option<OpView> {
    use TensorLang as T;
    let plain = |op: Op, srcs: &[Id]| {
        Some(OpView {
            op,
            srcs: srcs.to_vec(),
            slice_shape: None,
            leaf_ty: None,
        })
    };
    let kind = |id: Id| p.payload(id);
    match node {
        T::Const([l, s]) => {
            let v = p.lit(*l)?;
            let ty = TypeInfo {
                shape: p.dims(*s)?.to_vec(),
                dtype: v.dtype(),
            };
            Some(OpView {
                op: Op::Const(v),
                srcs: vec![],
                slice_shape: None,
                leaf_ty: Some(ty),
            })
        }
        T::Input(i) => plain(Op::Input(i.0), &[]),
        T::Leaf(l) => Some(OpView {
            op: l.op(),
            srcs: vec![],
            slice_shape: None,
            leaf_ty: Some(l.ty()),
        }),
        T::Unary([op, x]) => match kind(*op)? {
            T::UOp(u) => plain(Op::Unary(u.0), &[*x]),
            _ => None,
        },
        T::Binary([op, a, b]) => match kind(*op)? {
            T::BOp(o) => plain(Op::Binary(o.0), &[*a, *b]),
            _ => None,
        },
        T::Where([c, a, b]) => plain(Op::Where, &[*c, *a, *b]),
        T::Cast([x, d]) => plain(Op::Cast(p.dtype(*d)?), &[*x]),
        T::Reduce([op, x, axes]) => match kind(*op)? {
            T::ROp(r) => plain(
                Op::Reduce {
                    op: r.0,
                    axes: p.dims(*axes)?.to_vec(),
                },
                &[*x],
            ),
            _ => None,
        },
        T::Reshape([x, s]) => plain(Op::Reshape(p.dims(*s)?.to_vec()), &[*x]),
        T::Permute([x, s]) => plain(Op::Permute(p.dims(*s)?.to_vec()), &[*x]),
        T::Expand([x, s]) => plain(Op::Expand(p.dims(*s)?.to_vec()), &[*x]),
        T::Pad([x, lo, hi, v]) => plain(
            Op::Pad {
                lo: p.dims(*lo)?.to_vec(),
                hi: p.dims(*hi)?.to_vec(),
                value: p.lit(*v)?,
            },
            &[*x],
        ),
        T::Slice([x, start, step, shape]) => Some(OpView {
            op: Op::Slice {
                start: p.dims(*start)?.to_vec(),
                step: p.dims(*step)?.to_vec(),
            },
            srcs: vec![*x],
            slice_shape: Some(p.dims(*shape)?.to_vec()),
            leaf_ty: None,
        }),
        T::Gather([d, i, axis]) => plain(
            Op::Gather {
                axis: p.axis(*axis)?,
            },
            &[*d, *i],
        ),
        T::Cat(ids) => plain(
            Op::Cat {
                axis: p.axis(*ids.first()?)?,
            },
            &ids[1..],
        ),
        T::Roots(_) | T::Dims(_) | T::Dt(_) | T::Lit(_) | T::UOp(_) | T::BOp(_) | T::ROp(_) => None,
    }
}

// ---------------------------------------------------------------------------------------------------
// 3. Graph → RecExpr.
// ---------------------------------------------------------------------------------------------------

/// A graph as one expression: `nodes[i]` is the index of graph node `%i`, `root` the `roots` node.
pub struct GraphExpr {
    pub expr: RecExpr<TensorLang>,
    pub nodes: Vec<Id>,
    pub root: Id,
}

/// Builds the expression of a graph, sharing what the graph shares (the expression is a DAG).
pub fn from_graph(graph: &Graph) -> GraphExpr {
    let mut b = ExprBuilder::default();
    let mut nodes = Vec::with_capacity(graph.len());
    for id in graph.ids() {
        let n = graph.node(id);
        let s: Vec<Id> = n.srcs.iter().map(|s| nodes[s.index()]).collect();
        let node = match &n.op {
            Op::Input(i) => TensorLang::Input(InputRef(*i)),
            Op::Const(v) => TensorLang::Const([b.lit(*v), b.dims(&n.ty.shape)]),
            Op::Iota { axis } => TensorLang::Leaf(Leaf(Box::new(LeafKind::Iota {
                axis: *axis,
                shape: n.ty.shape.clone(),
                dtype: n.ty.dtype,
            }))),
            Op::Rand { seed, offset, dist } => TensorLang::Leaf(Leaf(Box::new(LeafKind::Rand {
                seed: *seed,
                offset: *offset,
                dist: *dist,
                shape: n.ty.shape.clone(),
                dtype: n.ty.dtype,
            }))),
            Op::Unary(u) => TensorLang::Unary([b.add(TensorLang::UOp(UOp(*u))), s[0]]),
            Op::Binary(o) => TensorLang::Binary([b.add(TensorLang::BOp(BOp(*o))), s[0], s[1]]),
            Op::Where => TensorLang::Where([s[0], s[1], s[2]]),
            Op::Cast(d) => TensorLang::Cast([s[0], b.add(TensorLang::Dt(Dt(*d)))]),
            Op::Reduce { op, axes } => {
                TensorLang::Reduce([b.add(TensorLang::ROp(ROp(*op))), s[0], b.dims(axes)])
            }
            Op::Reshape(d) => TensorLang::Reshape([s[0], b.dims(d)]),
            Op::Permute(d) => TensorLang::Permute([s[0], b.dims(d)]),
            Op::Expand(d) => TensorLang::Expand([s[0], b.dims(d)]),
            Op::Pad { lo, hi, value } => {
                TensorLang::Pad([s[0], b.dims(lo), b.dims(hi), b.lit(*value)])
            }
            Op::Slice { start, step } => {
                TensorLang::Slice([s[0], b.dims(start), b.dims(step), b.dims(&n.ty.shape)])
            }
            Op::Gather { axis } => TensorLang::Gather([s[0], s[1], b.dims(&[*axis])]),
            Op::Cat { axis } => {
                let mut ids = vec![b.dims(&[*axis])];
                ids.extend(&s);
                TensorLang::Cat(ids.into())
            }
        };
        nodes.push(b.add(node));
    }
    let root = b.add(TensorLang::Roots(
        graph.outputs.iter().map(|o| nodes[o.index()]).collect(),
    ));
    GraphExpr {
        expr: b.expr,
        nodes,
        root,
    }
}

/// Appends nodes to a RecExpr, reusing identical ones (the graph already shares its nodes; this shares
/// the payloads).
#[derive(Default)]
struct ExprBuilder {
    expr: RecExpr<TensorLang>,
    seen: HashMap<TensorLang, Id>,
}

impl ExprBuilder {
    fn add(&mut self, node: TensorLang) -> Id {
        if let Some(&id) = self.seen.get(&node) {
            return id;
        }
        let id = self.expr.add(node.clone());
        self.seen.insert(node, id);
        id
    }

    fn dims(&mut self, d: &[usize]) -> Id {
        self.add(TensorLang::Dims(Dims::new(d)))
    }

    fn lit(&mut self, v: Scalar) -> Id {
        self.add(TensorLang::Lit(Lit(v)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn payloads_read_back() {
        for s in ["[]", "[4,8]", "[0]"] {
            assert_eq!(s.parse::<Dims>().unwrap().to_string(), s);
        }
        for s in [
            "1.5f32", "-0.0f64", "nan_f32", "-inf_f64", "3i64", "255u8", "-7i32", "true",
        ] {
            assert_eq!(s.parse::<Lit>().unwrap().to_string(), s);
        }
        assert!("256u8".parse::<Lit>().is_err());
        assert_eq!("amax".parse::<ROp>().unwrap().0, ReduceOp::Max);
        assert_eq!("max".parse::<BOp>().unwrap().0, BinaryOp::Max);
        assert!("max".parse::<ROp>().is_err());
        let e: RecExpr<TensorLang> = "(binary add in0 (const 0.0f32 [4,8]))".parse().unwrap();
        assert_eq!(e.to_string(), "(binary add in0 (const 0.0f32 [4,8]))");
    }
}
