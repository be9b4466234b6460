//! NumPy's `.npz` format: a zip archive of `.npy` members, one per array, named `<key>.npy`.
//! `numpy.savez` stores the members uncompressed and `numpy.savez_compressed` deflates them; both read.
//!
//! Hostile archives: every member's declared size is checked before it is read (against the deflate
//! ratio limit and a total limit), decompression never produces more than the declared size, archives
//! whose members share bytes (the overlapping-entry zip bomb) are refused, and member names must be
//! plain relative paths (no `..`, no absolute paths, no backslashes or control characters).

use super::npy::{read_npy, write_npy};
use super::{RawArray, io_error, write_atomic};
use crate::{Error, Result};
use std::io::{Cursor, Read, Seek, Write};
use std::path::Path;
use zip::result::ZipError;
use zip::write::SimpleFileOptions;
use zip::{CompressionMethod, DateTime, ZipArchive, ZipWriter};

/// How members are written: `Stored` as `numpy.savez`, `Deflated` as `numpy.savez_compressed`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Compression {
    Stored,
    Deflated,
}

/// The default cap on the total uncompressed size of an archive's members (16 GiB).
pub(crate) const DEFAULT_LIMIT: u64 = 16 << 30;

/// Deflate cannot expand data by more than about 1032:1 (258-byte matches coded in 2 bits); a member
/// that declares more is lying about its size.
const MAX_DEFLATE_RATIO: u64 = 1032;

/// Buffers start at most this large and grow as bytes actually arrive, so a declared size alone never
/// allocates much.
const INITIAL_CAPACITY: u64 = 64 << 20;

/// Reads a `.npz` archive held in memory: `(key, array)` pairs in archive order, keys without `.npy`.
#[allow(dead_code)] // the io tests compile this module directly and call it
pub(crate) fn read_npz(bytes: &[u8], path: &Path) -> Result<Vec<(String, RawArray)>> {
    read_npz_from(Cursor::new(bytes), path, DEFAULT_LIMIT)
}

/// Reads a `.npz` archive from disk.
pub(crate) fn load_npz(path: &Path) -> Result<Vec<(String, RawArray)>> {
    let file = std::fs::File::open(path).map_err(|e| io_error(path, e))?;
    read_npz_from(std::io::BufReader::new(file), path, DEFAULT_LIMIT)
}

/// Reads an archive whose members may decompress to at most `limit` bytes in total.
pub(crate) fn read_npz_from<R: Read + Seek>(
    reader: R,
    path: &Path,
    limit: u64,
) -> Result<Vec<(String, RawArray)>> {
    let mut zip = ZipArchive::new(reader).map_err(|e| zip_error(path, e))?;
    if zip.has_duplicate_names() {
        return Err(format_error(path, "two members have the same name".into()));
    }
    if zip
        .has_overlapping_entries()
        .map_err(|e| zip_error(path, e))?
    {
        return Err(format_error(
            path,
            "members share bytes (overlapping entries, a zip bomb trick)".into(),
        ));
    }
    // Check every member's name and declared size before decompressing anything.
    let mut members = Vec::with_capacity(zip.len());
    let mut total = 0u64;
    for i in 0..zip.len() {
        let entry = zip.by_index_data(i).map_err(|e| zip_error(path, e))?;
        let raw_name = String::from_utf8_lossy(entry.name_raw()).into_owned();
        let name = entry.name().map_err(|e| zip_error(path, e))?.into_owned();
        let key = member_key(&name)
            .map_err(|what| format_error(path, format!("member '{raw_name}': {what}")))?;
        let (size, packed) = (entry.size(), entry.compressed_size());
        if entry.encrypted() {
            return Err(unsupported(path, format!("member '{name}' is encrypted")));
        }
        match entry.compression() {
            CompressionMethod::Stored if size != packed => {
                return Err(format_error(
                    path,
                    format!("stored member '{name}' declares {size} bytes but holds {packed}"),
                ));
            }
            CompressionMethod::Stored => {}
            CompressionMethod::Deflated
                if size
                    > packed
                        .saturating_mul(MAX_DEFLATE_RATIO)
                        .saturating_add(1024) =>
            {
                return Err(format_error(
                    path,
                    format!(
                        "member '{name}' declares {size} bytes from {packed} compressed bytes, more than deflate can produce"
                    ),
                ));
            }
            CompressionMethod::Deflated => {}
            other => {
                return Err(unsupported(
                    path,
                    format!(
                        "member '{name}' uses compression {other:?} (smelt reads stored and deflated members)"
                    ),
                ));
            }
        }
        total = total.saturating_add(size);
        if total > limit {
            return Err(unsupported(
                path,
                format!("the members decompress to more than the limit of {limit} bytes"),
            ));
        }
        members.push((key, name, size));
    }
    let mut out = Vec::with_capacity(members.len());
    for (i, (key, name, size)) in members.into_iter().enumerate() {
        let member = zip.by_index(i).map_err(|e| zip_error(path, e))?;
        // Never more than the declared size (checked above) plus one byte to detect a lie; reading to
        // the end also makes the zip reader verify the CRC.
        let mut bytes = Vec::with_capacity(size.min(INITIAL_CAPACITY) as usize);
        member
            .take(size.saturating_add(1))
            .read_to_end(&mut bytes)
            .map_err(|e| {
                format_error(path, format!("member '{name}' cannot be decompressed: {e}"))
            })?;
        if bytes.len() as u64 != size {
            return Err(format_error(
                path,
                format!(
                    "member '{name}' declares {size} bytes but decompresses to {}{}",
                    bytes.len(),
                    if bytes.len() as u64 > size {
                        " or more"
                    } else {
                        ""
                    }
                ),
            ));
        }
        let array = read_npy(&bytes, path).map_err(|e| in_member(e, &name))?;
        out.push((key, array));
    }
    Ok(out)
}

/// Writes arrays as a `.npz` archive held in memory.
#[allow(dead_code)] // the io tests compile this module directly and call it
pub(crate) fn write_npz(arrays: &[(&str, &RawArray)], compression: Compression) -> Result<Vec<u8>> {
    check_keys(arrays)?;
    let mut out = Cursor::new(Vec::new());
    write_members(&mut out, arrays, compression)
        .map_err(|e| Error::Internal(format!("writing a .npz archive to memory failed: {e}")))?;
    Ok(out.into_inner())
}

/// Writes arrays as a `.npz` archive at `path`, atomically.
pub(crate) fn save_npz(
    path: &Path,
    arrays: &[(&str, &RawArray)],
    compression: Compression,
) -> Result<()> {
    check_keys(arrays)?;
    write_atomic(path, |w| write_members(w, arrays, compression))
}

fn write_members<W: Write + Seek>(
    w: W,
    arrays: &[(&str, &RawArray)],
    compression: Compression,
) -> std::io::Result<()> {
    let method = match compression {
        Compression::Stored => CompressionMethod::Stored,
        Compression::Deflated => CompressionMethod::Deflated,
    };
    let mut zip = ZipWriter::new(w);
    for (key, array) in arrays {
        let npy = write_npy(array);
        // Fixed time and permissions keep the output the same from run to run.
        let options = SimpleFileOptions::default()
            .compression_method(method)
            .last_modified_time(DateTime::default())
            .unix_permissions(0o644)
            .large_file(npy.len() as u64 >= u32::MAX as u64);
        zip.start_file(format!("{key}.npy"), options)
            .map_err(zip_io)?;
        zip.write_all(&npy)?;
    }
    zip.finish().map_err(zip_io)?;
    Ok(())
}

/// Write-side key checks: the same rules as on reading, plus no duplicates.
fn check_keys(arrays: &[(&str, &RawArray)]) -> Result<()> {
    let mut seen = std::collections::BTreeSet::new();
    for (key, array) in arrays {
        array.check("save_npz")?;
        let name = format!("{key}.npy");
        member_key(&name).map_err(|what| Error::Argument {
            op: "save_npz",
            what: format!("key '{key}': {what}"),
        })?;
        if !seen.insert(*key) {
            return Err(Error::Argument {
                op: "save_npz",
                what: format!("key '{key}' appears twice"),
            });
        }
    }
    Ok(())
}

/// The array key of a member name (`"w.npy"` → `"w"`), or what is wrong with the name.
fn member_key(name: &str) -> std::result::Result<String, String> {
    let Some(key) = name.strip_suffix(".npy") else {
        return Err(
            "the name does not end in '.npy' (a .npz archive holds only .npy members)".into(),
        );
    };
    if key.is_empty() {
        return Err("the name is empty before '.npy'".into());
    }
    if let Some(c) = name.chars().find(|&c| c.is_control() || c == '\\') {
        return Err(format!("the name contains the character {c:?}"));
    }
    if name.starts_with('/') || name.as_bytes().get(1) == Some(&b':') {
        return Err("the name is an absolute path".into());
    }
    if name
        .split('/')
        .any(|part| part.is_empty() || part == "." || part == "..")
    {
        return Err("the name has an empty, '.' or '..' path component".into());
    }
    Ok(key.to_owned())
}

fn format_error(path: &Path, what: String) -> Error {
    Error::Format {
        path: path.to_path_buf(),
        format: "npz",
        what,
    }
}

fn unsupported(path: &Path, what: String) -> Error {
    Error::Unsupported {
        path: path.to_path_buf(),
        format: "npz",
        what,
    }
}

fn zip_error(path: &Path, e: ZipError) -> Error {
    match e {
        ZipError::Io(e)
            if e.kind() != std::io::ErrorKind::UnexpectedEof
                && e.kind() != std::io::ErrorKind::InvalidData =>
        {
            io_error(path, e)
        }
        ZipError::UnsupportedArchive(what) => {
            unsupported(path, format!("unsupported zip archive: {what}"))
        }
        e => format_error(path, e.to_string()),
    }
}

fn zip_io(e: ZipError) -> std::io::Error {
    match e {
        ZipError::Io(e) => e,
        e => std::io::Error::other(e),
    }
}

/// Re-labels an error from a member's `.npy` reader as an error in the archive, naming the member.
fn in_member(e: Error, member: &str) -> Error {
    match e {
        Error::Format { path, what, .. } => Error::Format {
            path,
            format: "npz",
            what: format!("member '{member}': {what}"),
        },
        Error::Unsupported { path, what, .. } => Error::Unsupported {
            path,
            format: "npz",
            what: format!("member '{member}': {what}"),
        },
        e => e,
    }
}
