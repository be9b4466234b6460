//! Saving and loading tensors: NumPy's `.npy` and `.npz`, and safetensors.
//!
//! Writes are atomic (a temporary file renamed over the target). A malformed or truncated file is an
//! [`Error`] that says what is wrong, never a panic or a huge allocation (see `src/io`).

use crate::io::{self, RawArray};
use crate::runtime::storage::Storage;
use crate::{Device, Error, Result, Shape, Tensor};
use std::collections::BTreeMap;
use std::path::Path;

impl Tensor {
    /// The tensor as C-order little-endian bytes (realizing it first; GPU data comes back to the host).
    pub(crate) fn to_raw(&self) -> Result<RawArray> {
        let host = self.to(Device::Cpu);
        let buffer = host.realized_buffer()?;
        let h = buffer
            .host()
            .ok_or_else(|| Error::Internal("host tensor without host memory".into()))?;
        RawArray::new(self.dtype(), self.dims().to_vec(), h.storage().to_bytes())
    }

    /// A realized CPU tensor holding a raw array's values.
    pub(crate) fn from_raw(raw: RawArray) -> Result<Tensor> {
        let storage = Storage::from_bytes(raw.dtype, &raw.data);
        if storage.len() != raw.numel() {
            return Err(Error::Internal(
                "raw array length does not match its shape".into(),
            ));
        }
        Ok(Tensor::from_storage(storage, Shape::from(raw.shape)))
    }

    /// Writes NumPy's `.npy` format (what `numpy.save` writes; `numpy.load` reads it).
    pub fn save_npy(&self, path: impl AsRef<Path>) -> Result<()> {
        io::npy::save_npy(path.as_ref(), &self.to_raw()?)
    }

    /// Reads a `.npy` file: every dtype smelt has, C or Fortran order, either byte order, versions 1–3.
    pub fn load_npy(path: impl AsRef<Path>) -> Result<Tensor> {
        Tensor::from_raw(io::npy::load_npy(path.as_ref())?)
    }
}

fn raws<'a>(tensors: &[(&'a str, &Tensor)]) -> Result<Vec<(&'a str, RawArray)>> {
    tensors.iter().map(|(n, t)| Ok((*n, t.to_raw()?))).collect()
}

fn refs<'a>(raws: &'a [(&'a str, RawArray)]) -> Vec<(&'a str, &'a RawArray)> {
    raws.iter().map(|(n, r)| (*n, r)).collect()
}

/// Writes several named tensors as a `.npz` archive (as `numpy.savez`; `compressed` as
/// `numpy.savez_compressed`).
pub fn save_npz(
    path: impl AsRef<Path>,
    tensors: &[(&str, &Tensor)],
    compressed: bool,
) -> Result<()> {
    let raws = raws(tensors)?;
    let c = if compressed {
        io::npz::Compression::Deflated
    } else {
        io::npz::Compression::Stored
    };
    io::npz::save_npz(path.as_ref(), &refs(&raws), c)
}

/// Reads a `.npz` archive: the named tensors in archive order.
pub fn load_npz(path: impl AsRef<Path>) -> Result<Vec<(String, Tensor)>> {
    io::npz::load_npz(path.as_ref())?
        .into_iter()
        .map(|(n, r)| Ok((n, Tensor::from_raw(r)?)))
        .collect()
}

/// Writes named tensors in the safetensors format.
pub fn save_safetensors(path: impl AsRef<Path>, tensors: &[(&str, &Tensor)]) -> Result<()> {
    save_safetensors_with_metadata(path, tensors, &BTreeMap::new())
}

/// Writes named tensors and a string map of metadata (`__metadata__`) in the safetensors format.
pub fn save_safetensors_with_metadata(
    path: impl AsRef<Path>,
    tensors: &[(&str, &Tensor)],
    metadata: &BTreeMap<String, String>,
) -> Result<()> {
    let raws = raws(tensors)?;
    let meta = (!metadata.is_empty()).then_some(metadata);
    io::safetensors::save_safetensors(path.as_ref(), &refs(&raws), meta)
}

/// Reads a safetensors file: the named tensors (in the file's order).
pub fn load_safetensors(path: impl AsRef<Path>) -> Result<Vec<(String, Tensor)>> {
    Ok(load_safetensors_with_metadata(path)?.0)
}

/// Named tensors and string metadata, as a safetensors file holds them.
type TensorsWithMetadata = (Vec<(String, Tensor)>, BTreeMap<String, String>);

/// Reads a safetensors file with its metadata.
pub fn load_safetensors_with_metadata(path: impl AsRef<Path>) -> Result<TensorsWithMetadata> {
    let (tensors, meta) = io::safetensors::load_safetensors(path.as_ref())?;
    let tensors = tensors
        .into_iter()
        .map(|(n, r)| Ok((n, Tensor::from_raw(r)?)))
        .collect::<Result<_>>()?;
    Ok((tensors, meta.unwrap_or_default()))
}
