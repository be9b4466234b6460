//! # smelt: a lazy tensor compiler
//!
//! Write PyTorch/NumPy-style tensor code; nothing runs as you write it. Every op records a node of a lazy
//! DAG, and [`Tensor::realize`] (or reading data) compiles just the part that is needed: equality
//! saturation simplifies it, fusion groups it into few kernels, and each kernel is JIT-compiled (Cranelift
//! on the CPU, WGSL on the GPU).
//!
//! ```
//! use smelt::prelude::*;
//!
//! let a = Tensor::new([[1f32, 2.], [3., 4.]]);
//! let b = Tensor::new([[5f32, 6.], [7., 8.]]);
//! let c = a.matmul(&b) + 1.0;          // recorded, not computed
//! assert_eq!(c.to_vec::<f32>().unwrap(), vec![20., 23., 44., 51.]);
//! ```
//!
//! # Seeing inside
//! [`explain`] (or [`Tensor::explain`]) reports every stage of compiling a realize without running it:
//! the graph after each pass, the schedule and why each buffer was not fused, each kernel's IR and the
//! Cranelift IR / WGSL it becomes. `SMELT_DEBUG=1..4` prints the same on realize, from one timed line per
//! kernel launch (1) to full CLIF/WGSL (4). [`viz`] draws the graph with Graphviz (DOT, PNG, SVG).
//!
//! # Environment
//! - `SMELT_DEBUG=1..4`: what realize prints (above).
//! - `SMELT_BACKEND=jit|eval|interp`: the CPU backend (Cranelift, the kernel-IR evaluator, or the
//!   reference interpreter over the graph, the oracle).
//! - `SMELT_REWRITES=default|exact|finite|off`: the floating-point policy of the rewrite pass. `exact`
//!   keeps results bit-identical to the unsimplified program; `default` lets rules change rounding and the
//!   sign of a zero, never NaN/inf behaviour; `finite` also assumes no NaN/inf.
//!
//! # Invariants
//! - A [`Tensor`] is an immutable, `Send + Sync` handle; ops never mutate their operands.
//! - Shape and dtype mistakes panic at the caller's line naming the op and the shapes; every such op has
//!   a `try_` twin returning [`Result`]. Realizing, data access, files and devices return [`Result`].
//! - Same program, same kernels, same values: on any machine and thread count.

mod autograd;
mod data;
mod debug;
mod device;
mod element;
mod error;
mod explain;
mod files;
mod io;
pub mod nn;
mod ops;
pub mod optim;
mod random;
mod realize;
pub use realize::compile_debug;
pub mod runtime;
mod shape;
mod tensor;
pub mod viz;

pub use autograd::{grad, is_grad_enabled, no_grad, try_grad};
pub use data::SliceGuard;
pub use device::{Device, default_device, set_default_device};
pub use element::Element;
pub use error::{Error, Result};
pub use explain::{ClifMode, Code, ExplainOptions, WgslMode, explain_with};
pub use explain::{Explanation, explain};
pub use files::{
    load_npz, load_safetensors, load_safetensors_with_metadata, save_npz, save_safetensors,
    save_safetensors_with_metadata,
};
pub use ops::creation::NestedData;
pub use ops::elementwise::DEFAULT_FLOAT;
pub use random::manual_seed;
#[doc(hidden)]
pub use realize::debug_graph;
pub use runtime::{Backend, cpu_backend, with_backend};
pub use shape::Shape;
pub use smelt_codegen::{Category, DType, Scalar};
pub use tensor::{Tensor, live_tensors};

/// Debugging counters: live tensor nodes and buffers in the process.
pub mod stats {
    pub use crate::runtime::live_buffers;
    pub use crate::tensor::live_tensors;
}

pub use runtime::gpu_available;

/// Everything most programs need: `use smelt::prelude::*;`.
pub mod prelude {
    pub use crate::{DType, Device, Error, Result, Shape, Tensor};
}

/// Unwraps an op's result, panicking at the caller's line with the error's message (the panicking twin
/// of every `try_` op).
#[track_caller]
pub(crate) fn ok<T>(r: Result<T>) -> T {
    match r {
        Ok(v) => v,
        Err(e) => panic!("{e}"),
    }
}
