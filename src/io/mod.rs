//! Files: NumPy's `.npy` and `.npz`, and safetensors.
//!
//! Everything here works on a [`RawArray`], a neutral dtype + shape + bytes triple; the Tensor API turns
//! tensors into raw arrays and back. Two rules hold for every reader and writer:
//!
//! - **A bad file is an [`Error`], never a panic and never a huge allocation.** Sizes declared in a header
//!   are checked against the bytes actually present before any buffer is allocated.
//! - **Writes are atomic.** [`write_atomic`] writes a temporary file next to the target, syncs it and
//!   renames it over the target, so a reader never sees a half-written file and a failed write leaves no
//!   stray file behind.

pub(crate) mod npy;
pub(crate) mod npz;
mod pylit;
pub(crate) mod safetensors;

use crate::{DType, Error, Result};
use std::fs::{File, OpenOptions};
use std::io::{BufWriter, Write};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};

/// An array as files store it: C order (last index fastest), native-endian element bytes (little-endian on
/// every target smelt supports), bool as one byte holding 0 or 1.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct RawArray {
    pub dtype: DType,
    pub shape: Vec<usize>,
    pub data: Vec<u8>,
}

impl RawArray {
    /// Checks that `data` holds exactly the bytes `shape` and `dtype` call for.
    pub fn new(dtype: DType, shape: Vec<usize>, data: Vec<u8>) -> Result<RawArray> {
        let numel = numel(&shape);
        let want = numel.and_then(|n| n.checked_mul(dtype.size_bytes()));
        if want != Some(data.len()) {
            return Err(Error::DataLength {
                op: "RawArray::new",
                len: data.len() / dtype.size_bytes(),
                numel: numel.unwrap_or(usize::MAX),
                shape,
            });
        }
        Ok(RawArray { dtype, shape, data })
    }

    /// The number of elements (1 for a 0-d array).
    pub fn numel(&self) -> usize {
        self.shape.iter().product()
    }

    /// An internal consistency check for writers: a mismatch is a smelt bug, not a user error.
    pub(crate) fn check(&self, op: &str) -> Result<()> {
        let want = numel(&self.shape).and_then(|n| n.checked_mul(self.dtype.size_bytes()));
        if want != Some(self.data.len()) {
            return Err(Error::Internal(format!(
                "{op}: a {} array of shape {:?} holds {} bytes",
                self.dtype,
                self.shape,
                self.data.len()
            )));
        }
        Ok(())
    }
}

/// The product of `shape`, or `None` when it overflows.
pub(crate) fn numel(shape: &[usize]) -> Option<usize> {
    shape.iter().try_fold(1usize, |acc, &d| acc.checked_mul(d))
}

/// Sets every nonzero byte of a bool buffer to 1: files may hold any nonzero byte for `True` (NumPy reads
/// them all as `True`), while smelt's bool buffers hold only 0 and 1.
pub(crate) fn normalize_bools(data: &mut [u8]) {
    for b in data {
        *b = (*b != 0) as u8;
    }
}

/// Reverses the bytes of every `size`-byte element (between little- and big-endian).
pub(crate) fn byteswap(data: &mut [u8], size: usize) {
    for chunk in data.chunks_exact_mut(size) {
        chunk.reverse();
    }
}

/// Reads a whole file, mapping failures to [`Error::Io`] naming `path`.
pub(crate) fn read_file(path: &Path) -> Result<Vec<u8>> {
    std::fs::read(path).map_err(|source| io_error(path, source))
}

pub(crate) fn io_error(path: &Path, source: std::io::Error) -> Error {
    Error::Io {
        path: path.to_path_buf(),
        source,
    }
}

/// Writes `path` atomically: `write` fills a temporary file in the same directory, which is then synced
/// to disk and renamed over `path`. On any failure the temporary file is removed and the error (naming
/// `path`, with the step that failed in its message) is returned; `path` itself is then untouched.
pub(crate) fn write_atomic(
    path: &Path,
    write: impl FnOnce(&mut BufWriter<File>) -> std::io::Result<()>,
) -> Result<()> {
    let (tmp, file) = create_temp_beside(path).map_err(|e| io_error(path, e))?;
    let result = (|| {
        let mut w = BufWriter::new(file);
        write(&mut w).map_err(|e| context(e, "writing the temporary file", &tmp))?;
        w.flush()
            .map_err(|e| context(e, "writing the temporary file", &tmp))?;
        let file = w
            .into_inner()
            .map_err(|e| context(e.into_error(), "writing the temporary file", &tmp))?;
        file.sync_all()
            .map_err(|e| context(e, "syncing the temporary file", &tmp))?;
        drop(file);
        std::fs::rename(&tmp, path).map_err(|e| context(e, "renaming the temporary file", &tmp))
    })();
    match result {
        Ok(()) => {
            sync_parent(path);
            Ok(())
        }
        Err(e) => {
            let _ = std::fs::remove_file(&tmp);
            Err(io_error(path, e))
        }
    }
}

/// Creates a fresh file `.<name>.<pid>-<n>.tmp` next to `path` (never one that already exists).
fn create_temp_beside(path: &Path) -> std::io::Result<(PathBuf, File)> {
    static COUNTER: AtomicU64 = AtomicU64::new(0);
    let name = path.file_name().ok_or_else(|| {
        std::io::Error::new(
            std::io::ErrorKind::InvalidInput,
            "the path does not name a file",
        )
    })?;
    let dir = match path.parent() {
        Some(p) if !p.as_os_str().is_empty() => p,
        _ => Path::new("."),
    };
    loop {
        let n = COUNTER.fetch_add(1, Ordering::Relaxed);
        let mut tmp_name = std::ffi::OsString::from(".");
        tmp_name.push(name);
        tmp_name.push(format!(".{}-{n}.tmp", std::process::id()));
        let tmp = dir.join(tmp_name);
        match OpenOptions::new().write(true).create_new(true).open(&tmp) {
            Ok(file) => return Ok((tmp, file)),
            Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => continue,
            Err(e) => return Err(context(e, "creating a temporary file", &tmp)),
        }
    }
}

/// Makes the rename durable on Unix by syncing the directory; best effort (not every platform or file
/// system allows opening a directory).
fn sync_parent(path: &Path) {
    #[cfg(unix)]
    {
        let dir = match path.parent() {
            Some(p) if !p.as_os_str().is_empty() => p,
            _ => Path::new("."),
        };
        if let Ok(d) = File::open(dir) {
            let _ = d.sync_all();
        }
    }
    #[cfg(not(unix))]
    let _ = path;
}

/// The same error kind, with the step and the temporary file named in the message.
fn context(e: std::io::Error, step: &str, tmp: &Path) -> std::io::Error {
    std::io::Error::new(e.kind(), format!("{step} {}: {e}", tmp.display()))
}
