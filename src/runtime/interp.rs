//! The reference interpreter as a backend: copies inputs into f64/i64 arrays, evaluates the graph
//! naively, copies results back. Slow and obviously correct; `SMELT_BACKEND=interp` selects it.

use super::storage::Storage;
use super::{Buffer, HostBuffer};
use crate::{Error, Result, Tensor};
use smelt_passes::Graph;
use smelt_passes::interp::{self, EvalError};

pub(crate) fn run(graph: &Graph, inputs: &[Tensor]) -> Result<Vec<Buffer>> {
    let arrays = inputs
        .iter()
        .map(|t| {
            let s = t
                .host_storage()
                .ok_or_else(|| Error::Internal("interpreter input is not on the host".into()))?;
            Ok(s.to_array(t.dims()))
        })
        .collect::<Result<Vec<_>>>()?;
    let outs = interp::eval(graph, &arrays).map_err(|e| match e {
        EvalError::IndexOutOfRange { size, .. } => Error::IndexOutOfRange { op: "gather", size },
        other => Error::Internal(other.to_string()),
    })?;
    Ok(outs
        .iter()
        .map(|a| Buffer::Cpu(HostBuffer::new(Storage::from_array(a))))
        .collect())
}
