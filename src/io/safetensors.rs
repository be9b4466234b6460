//! safetensors files, through the `safetensors` crate: an 8-byte header length, a JSON header naming each
//! tensor's dtype, shape and byte range (plus an optional `__metadata__` string map), then the bytes.
//!
//! The crate validates everything on reading (offsets cover the data exactly, sizes match shapes) and
//! smelt reports its message. Output is deterministic: the crate orders tensors by dtype alignment, then
//! name; the `__metadata__` map is written here, keys sorted (the crate would write it in hash order).

use super::{RawArray, byteswap, normalize_bools, read_file, write_atomic};
use crate::{DType, Error, Result};
use ::safetensors::tensor::{Dtype, SafeTensors, View};
use std::borrow::Cow;
use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::io::Write as _;
use std::path::Path;

/// The `__metadata__` string map.
pub(crate) type Metadata = BTreeMap<String, String>;

/// Tensors sorted by name, and the metadata map if the file has one.
pub(crate) type Contents = (Vec<(String, RawArray)>, Option<Metadata>);

/// Reads a safetensors file held in memory. `path` only names the file in errors.
pub(crate) fn read_safetensors(bytes: &[u8], path: &Path) -> Result<Contents> {
    let format_error = |what: String| Error::Format {
        path: path.to_path_buf(),
        format: "safetensors",
        what,
    };
    let (header_len, meta) =
        SafeTensors::read_metadata(bytes).map_err(|e| format_error(e.to_string()))?;
    // read_metadata checked that the header and every tensor's range lie inside `bytes`.
    let data = &bytes[8 + header_len..];
    let infos = meta.tensors();
    let mut names: Vec<&String> = infos.keys().collect();
    names.sort();
    let mut tensors = Vec::with_capacity(names.len());
    for name in names {
        let info = infos[name];
        let dtype = match info.dtype {
            Dtype::BOOL => DType::Bool,
            Dtype::U8 => DType::U8,
            Dtype::I32 => DType::I32,
            Dtype::I64 => DType::I64,
            Dtype::F32 => DType::F32,
            Dtype::F64 => DType::F64,
            other => {
                return Err(Error::Unsupported {
                    path: path.to_path_buf(),
                    format: "safetensors",
                    what: format!(
                        "tensor '{name}' has dtype {other}, not one of smelt's dtypes (BOOL, U8, I32, I64, F32, F64)"
                    ),
                });
            }
        };
        let (start, end) = info.data_offsets;
        let mut bytes = data
            .get(start..end)
            .ok_or_else(|| format_error(format!("invalid offset for tensor `{name}`")))?
            .to_vec();
        if cfg!(target_endian = "big") {
            byteswap(&mut bytes, dtype.size_bytes());
        }
        if dtype == DType::Bool {
            normalize_bools(&mut bytes);
        }
        let array = RawArray::new(dtype, info.shape.clone(), bytes).map_err(|_| {
            format_error(format!(
                "tensor `{name}`: its byte range does not fit its shape"
            ))
        })?;
        tensors.push((name.clone(), array));
    }
    let metadata = meta
        .metadata()
        .as_ref()
        .map(|m| m.iter().map(|(k, v)| (k.clone(), v.clone())).collect());
    Ok((tensors, metadata))
}

/// Reads a safetensors file from disk.
pub(crate) fn load_safetensors(path: &Path) -> Result<Contents> {
    read_safetensors(&read_file(path)?, path)
}

/// Writes named tensors (and optional metadata) as safetensors bytes.
pub(crate) fn write_safetensors(
    tensors: &[(&str, &RawArray)],
    metadata: Option<&Metadata>,
) -> Result<Vec<u8>> {
    let mut seen = std::collections::BTreeSet::new();
    for (name, array) in tensors {
        array.check("save_safetensors")?;
        if *name == "__metadata__" {
            return Err(argument(
                "the name '__metadata__' is reserved for the metadata map".into(),
            ));
        }
        if !seen.insert(*name) {
            return Err(argument(format!("the name '{name}' appears twice")));
        }
    }
    let views = tensors.iter().map(|(name, array)| (*name, RawView(array)));
    let plain = ::safetensors::serialize(views, None).map_err(|e| argument(e.to_string()))?;
    let out = match metadata {
        None => plain,
        Some(m) => with_metadata(&plain, m)?,
    };
    // The bytes must read back as written: a cheap check of the header we spliced.
    let (_, meta) = SafeTensors::read_metadata(&out).map_err(|e| {
        Error::Internal(format!("save_safetensors wrote an unreadable header: {e}"))
    })?;
    let back: Option<Metadata> = meta
        .metadata()
        .as_ref()
        .map(|m| m.clone().into_iter().collect());
    if back.as_ref() != metadata {
        return Err(Error::Internal(
            "save_safetensors: the metadata does not read back as written".into(),
        ));
    }
    Ok(out)
}

/// Writes named tensors (and optional metadata) to `path`, atomically.
pub(crate) fn save_safetensors(
    path: &Path,
    tensors: &[(&str, &RawArray)],
    metadata: Option<&Metadata>,
) -> Result<()> {
    let bytes = write_safetensors(tensors, metadata)?;
    write_atomic(path, |w| w.write_all(&bytes))
}

fn argument(what: String) -> Error {
    Error::Argument {
        op: "save_safetensors",
        what,
    }
}

/// A RawArray as the crate's `View` (safetensors is little-endian; smelt's bytes are native).
struct RawView<'a>(&'a RawArray);

impl View for RawView<'_> {
    fn dtype(&self) -> Dtype {
        match self.0.dtype {
            DType::Bool => Dtype::BOOL,
            DType::U8 => Dtype::U8,
            DType::I32 => Dtype::I32,
            DType::I64 => Dtype::I64,
            DType::F32 => Dtype::F32,
            DType::F64 => Dtype::F64,
        }
    }

    fn shape(&self) -> &[usize] {
        &self.0.shape
    }

    fn data(&self) -> Cow<'_, [u8]> {
        if cfg!(target_endian = "big") {
            let mut bytes = self.0.data.clone();
            byteswap(&mut bytes, self.0.dtype.size_bytes());
            Cow::Owned(bytes)
        } else {
            Cow::Borrowed(&self.0.data)
        }
    }

    fn data_len(&self) -> usize {
        self.0.data.len()
    }
}

/// Inserts `"__metadata__": {...}` (keys sorted) at the front of the JSON header of `plain`, a file
/// the crate wrote without metadata, and re-pads the header to a multiple of 8 bytes.
fn with_metadata(plain: &[u8], metadata: &Metadata) -> Result<Vec<u8>> {
    let bug =
        || Error::Internal("save_safetensors: unexpected header from the safetensors crate".into());
    let len = u64::from_le_bytes(
        plain
            .get(..8)
            .ok_or_else(bug)?
            .try_into()
            .map_err(|_| bug())?,
    ) as usize;
    let header = std::str::from_utf8(plain.get(8..8 + len).ok_or_else(bug)?)
        .map_err(|_| bug())?
        .trim_end();
    let rest = header.strip_prefix('{').ok_or_else(bug)?;
    let mut json = String::from("{\"__metadata__\":{");
    for (i, (k, v)) in metadata.iter().enumerate() {
        if i > 0 {
            json.push(',');
        }
        json_string(&mut json, k);
        json.push(':');
        json_string(&mut json, v);
    }
    json.push('}');
    if rest != "}" {
        json.push(',');
    }
    json.push_str(rest);
    while json.len() % 8 != 0 {
        json.push(' ');
    }
    let mut out = Vec::with_capacity(8 + json.len() + plain.len() - 8 - len);
    out.extend_from_slice(&(json.len() as u64).to_le_bytes());
    out.extend_from_slice(json.as_bytes());
    out.extend_from_slice(&plain[8 + len..]);
    Ok(out)
}

/// Appends `s` as a JSON string literal.
fn json_string(out: &mut String, s: &str) {
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            c if (c as u32) < 0x20 => {
                let _ = write!(out, "\\u{:04x}", c as u32);
            }
            c => out.push(c),
        }
    }
    out.push('"');
}
