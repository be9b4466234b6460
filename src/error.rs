//! smelt's error type: every fallible public function returns [`Result`].

use crate::DType;
use std::path::PathBuf;

pub type Result<T, E = Error> = std::result::Result<T, E>;

/// Everything that can go wrong, by kind. Messages name the op and the shapes involved.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// Operand shapes that do not fit the op (broadcasting, matmul, cat, reshape...).
    #[error("{op}: {what}")]
    Shape { op: &'static str, what: String },
    /// A dim argument out of range for the tensor's rank.
    #[error(
        "{op}: dim {dim} is out of range for a tensor of {ndim} dims (expected -{ndim}..{ndim})"
    )]
    Dim {
        op: &'static str,
        dim: isize,
        ndim: usize,
    },
    /// An operand dtype the op does not accept.
    #[error("{op}: {what}")]
    DType { op: &'static str, what: String },
    /// Asking for the data as the wrong Rust element type.
    #[error("{op}: the tensor holds {actual} elements, not {requested}")]
    ElementType {
        op: &'static str,
        actual: DType,
        requested: DType,
    },
    /// Data whose length does not match the shape given.
    #[error("{op}: {len} elements cannot have shape {shape:?} ({numel} elements)")]
    DataLength {
        op: &'static str,
        len: usize,
        shape: Vec<usize>,
        numel: usize,
    },
    /// Tensors on different devices in one op, or a device that does not exist or cannot do something.
    #[error("{0}")]
    Device(String),
    /// A bad argument value that is not about shapes (negative step, bad seed range...).
    #[error("{op}: {what}")]
    Argument { op: &'static str, what: String },
    /// An index out of range found while running a kernel (gather, index_select).
    #[error("{op}: index out of range for a dimension of size {size}")]
    IndexOutOfRange { op: &'static str, size: usize },
    /// Compilation failed (a backend limit, or a smelt bug: the message says which).
    #[error(transparent)]
    Codegen(#[from] smelt_codegen::CodegenError),
    /// A file could not be read or written.
    #[error("{path}: {source}")]
    Io {
        path: PathBuf,
        source: std::io::Error,
    },
    /// A file's contents are malformed; `what` says what is wrong.
    #[error("{path}: {format} file is malformed: {what}")]
    Format {
        path: PathBuf,
        format: &'static str,
        what: String,
    },
    /// A file's contents are valid but describe something smelt cannot hold (a dtype, a layout).
    #[error("{path}: {format} file is not supported: {what}")]
    Unsupported {
        path: PathBuf,
        format: &'static str,
        what: String,
    },
    /// An external tool (Graphviz's `dot`) failed or is missing.
    #[error("{0}")]
    Tool(String),
    /// A smelt bug: an internal invariant failed.
    #[error("internal error (a smelt bug, please report it): {0}")]
    Internal(String),
}
