//! Errors at the codegen boundary.

use crate::kernel::VerifyError;

/// Why a kernel could not be compiled. `Verify` and `Backend` are smelt bugs; `Unsupported` says what the
/// target cannot do (for example f64 on a GPU without it), which the user can act on.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CodegenError {
    #[error(transparent)]
    Verify(#[from] VerifyError),
    /// The backend rejected what smelt generated (Cranelift's verifier, naga's validator): a smelt bug.
    #[error("{backend} rejected kernel `{kernel}` (a smelt bug, please report it): {message}")]
    Backend {
        backend: &'static str,
        kernel: String,
        message: String,
    },
    /// The target cannot do this (a dtype, a size beyond a device limit).
    #[error("kernel `{kernel}` cannot run on {target}: {what}")]
    Unsupported {
        target: &'static str,
        kernel: String,
        what: String,
    },
}
