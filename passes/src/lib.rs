//! `smelt-passes`: the graph IR and every pass over it.
//!
//! ```text
//! Graph (petgraph) ─ simplify (egg) ─ split ─ fuse ─ schedule ─ lower ──▶ codegen::Kernel / MatmulSpec
//! ```
//!
//! # Invariants
//! - [`Graph`] ops are strict (operands already broadcast and promoted) and node ids are topological.
//! - Every pass keeps meaning: the reference interpreter ([`interp`]) gives the same values before and
//!   after it (up to float rounding), and the tests check exactly that on random inputs.
//! - Output is deterministic: nothing iterates a `std` hash map where order reaches a dump or a kernel.

pub mod fuse;
pub mod graph;
pub mod infer;
pub mod interp;
pub mod lower;
pub mod pipeline;
pub mod random;
pub mod schedule;
pub mod simplify;
pub mod split;

pub use graph::{Dist, Graph, Node, NodeId, Op, TypeInfo};
pub use smelt_codegen as codegen;
pub use smelt_codegen::{BinaryOp, DType, ReduceOp, Scalar, UnaryOp};
