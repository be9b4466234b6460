pub mod error;
// The readers and writers work on a neutral `RawArray`; the Tensor glue calls them. Until that glue
// exists nothing in the library uses them, hence the allow.
#[allow(dead_code)]
mod io;

pub use error::{Error, Result};
pub use smelt_codegen::DType;
