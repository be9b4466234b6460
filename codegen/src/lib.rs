//! `smelt-codegen`: the kernel IR and its backends.
//!
//! This crate knows nothing of tensors, graphs or egg. It takes a [`kernel::Kernel`] (a loop nest over an
//! expression arena) or a [`matmul::MatmulSpec`] and returns an artifact: machine code from Cranelift for
//! the CPU, WGSL text validated by naga for the GPU. It never runs them; `smelt`'s runtime does.
//!
//! The scalar vocabulary shared with the graph level ([`DType`], [`Scalar`], [`UnaryOp`], [`BinaryOp`],
//! [`ReduceOp`]) is defined here, once.

pub mod cpu;
pub mod dtype;
pub mod error;
pub mod eval;
pub mod kernel;
pub mod matmul;
pub mod ops;
pub mod wgsl;

pub use dtype::{Category, DType, Scalar};
pub use error::CodegenError;
pub use ops::{BinaryOp, ReduceOp, UnaryOp};
