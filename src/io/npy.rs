//! NumPy's `.npy` format: a magic string, a version, a header holding a Python dict literal
//! (`{'descr': '<f4', 'fortran_order': False, 'shape': (2, 3), }`), then the raw elements.
//!
//! Reading accepts versions 1.0, 2.0 and 3.0, either byte order and Fortran order (converted to smelt's
//! native-endian C order). Writing produces exactly the bytes `numpy.save` produces for the same array:
//! version 1.0 unless the header is too long for it, the header padded with spaces so the data starts at
//! a multiple of 64 bytes. Bytes after the array data are an error (NumPy ignores them; smelt does not
//! guess whether a shorter array than the file holds was meant).

use super::pylit::{self, Value};
use super::{RawArray, byteswap, io_error, normalize_bools, write_atomic};
use crate::{DType, Error, Result};
use std::fmt::Write as _;
use std::io::{Read, Write};
use std::path::Path;

const MAGIC: &[u8; 6] = b"\x93NUMPY";
/// Data starts at a multiple of this, as NumPy pads it.
const ALIGN: usize = 64;
/// NumPy leaves room after the shape so the first (C) or last (Fortran) dim can grow in place.
const GROWTH_AXIS_MAX_DIGITS: usize = 21;

/// Reads a `.npy` file held in memory. `path` only names the file in errors.
pub(crate) fn read_npy(bytes: &[u8], path: &Path) -> Result<RawArray> {
    read_npy_from(&mut &bytes[..], Some(bytes.len() as u64), path)
}

/// Reads a `.npy` file from disk, allocating once (for the data) after checking the file's size.
pub(crate) fn load_npy(path: &Path) -> Result<RawArray> {
    let file = std::fs::File::open(path).map_err(|e| io_error(path, e))?;
    let meta = file.metadata().map_err(|e| io_error(path, e))?;
    let len = meta.is_file().then_some(meta.len());
    read_npy_from(&mut std::io::BufReader::new(file), len, path)
}

/// Writes `a` as a `.npy` file, byte for byte what `numpy.save` writes for the same array.
pub(crate) fn write_npy(a: &RawArray) -> Vec<u8> {
    let header = header_bytes(a);
    let mut out = Vec::with_capacity(header.len() + a.data.len());
    out.extend_from_slice(&header);
    out.extend_from_slice(&a.data);
    out
}

/// Writes `a` to `path` atomically.
pub(crate) fn save_npy(path: &Path, a: &RawArray) -> Result<()> {
    a.check("save_npy")?;
    write_atomic(path, |w| {
        w.write_all(&header_bytes(a))?;
        w.write_all(&a.data)
    })
}

fn format_error(path: &Path, what: String) -> Error {
    Error::Format {
        path: path.to_path_buf(),
        format: "npy",
        what,
    }
}

fn unsupported(path: &Path, what: String) -> Error {
    Error::Unsupported {
        path: path.to_path_buf(),
        format: "npy",
        what,
    }
}

/// Reads one array from `r`. `len` is the number of bytes `r` holds, when known: then sizes are checked
/// against it before anything is allocated; when unknown, buffers grow only as bytes actually arrive.
pub(crate) fn read_npy_from(r: &mut impl Read, len: Option<u64>, path: &Path) -> Result<RawArray> {
    let io = |e| io_error(path, e);
    // Magic (6 bytes) and version (2 bytes).
    let mut pre = [0u8; 8];
    let got = read_up_to(r, &mut pre).map_err(io)?;
    if got < MAGIC.len() && pre[..got] == MAGIC[..got] {
        return Err(format_error(
            path,
            format!("truncated: the file is {got} bytes, too short for the magic string"),
        ));
    }
    if got < MAGIC.len() || &pre[..6] != MAGIC {
        let shown: String = pre[..got.min(6)]
            .iter()
            .map(|b| b.escape_ascii().to_string())
            .collect();
        let hint = if pre.starts_with(b"PK\x03\x04") {
            " (a zip archive: is it a .npz?)"
        } else {
            ""
        };
        return Err(format_error(
            path,
            format!("bad magic: expected \\x93NUMPY, found '{shown}'{hint}"),
        ));
    }
    if got < 8 {
        return Err(format_error(
            path,
            "truncated: the file ends inside the format version".into(),
        ));
    }
    let (major, minor) = (pre[6], pre[7]);
    let len_bytes = match (major, minor) {
        (1, 0) => 2,
        (2, 0) | (3, 0) => 4,
        _ => {
            return Err(unsupported(
                path,
                format!("format version {major}.{minor} (smelt reads 1.0, 2.0 and 3.0)"),
            ));
        }
    };
    let mut hl = [0u8; 4];
    if read_up_to(r, &mut hl[..len_bytes]).map_err(io)? < len_bytes {
        return Err(format_error(
            path,
            "truncated: the file ends inside the header length".into(),
        ));
    }
    let header_len = u32::from_le_bytes(hl) as u64;
    let mut consumed = 8 + len_bytes as u64;
    let available = len.map(|l| l.saturating_sub(consumed));
    if let Some(avail) = available
        && header_len > avail
    {
        return Err(format_error(
            path,
            format!("truncated header: it declares {header_len} bytes but only {avail} follow"),
        ));
    }
    let mut raw_header = Vec::new();
    r.by_ref()
        .take(header_len)
        .read_to_end(&mut raw_header)
        .map_err(io)?;
    if (raw_header.len() as u64) < header_len {
        return Err(format_error(
            path,
            format!(
                "truncated header: it declares {header_len} bytes but only {} follow",
                raw_header.len()
            ),
        ));
    }
    consumed += header_len;
    let header = parse_header(&raw_header, major, path)?;

    // The data: checked against what the file holds before allocating.
    let need = header.data_bytes;
    let mut data = match len.map(|l| l.saturating_sub(consumed)) {
        Some(avail) if avail < need as u64 => return Err(truncated_data(path, &header, avail)),
        Some(avail) if avail > need as u64 => {
            return Err(trailing(path, &header, avail - need as u64));
        }
        Some(_) => {
            let mut data = vec![0u8; need];
            r.read_exact(&mut data).map_err(|e| match e.kind() {
                std::io::ErrorKind::UnexpectedEof => truncated_data(path, &header, 0),
                _ => io_error(path, e),
            })?;
            data
        }
        None => {
            let mut data = Vec::new();
            r.by_ref()
                .take(need as u64)
                .read_to_end(&mut data)
                .map_err(io)?;
            if data.len() < need {
                return Err(truncated_data(path, &header, data.len() as u64));
            }
            data
        }
    };
    // Anything left (a file that grew, or a reader of unknown length) is trailing garbage.
    let extra = std::io::copy(r, &mut std::io::sink()).map_err(io)?;
    if extra > 0 {
        return Err(trailing(path, &header, extra));
    }
    if header.swap {
        byteswap(&mut data, header.dtype.size_bytes());
    }
    if header.dtype == DType::Bool {
        normalize_bools(&mut data);
    }
    if header.fortran_order && header.shape.len() > 1 {
        data = fortran_to_c(&data, &header.shape, header.dtype.size_bytes());
    }
    Ok(RawArray {
        dtype: header.dtype,
        shape: header.shape,
        data,
    })
}

fn truncated_data(path: &Path, h: &Header, avail: u64) -> Error {
    format_error(
        path,
        format!(
            "truncated data: shape {} of {} needs {} bytes but only {avail} follow the header",
            shape_str(&h.shape),
            h.dtype,
            h.data_bytes
        ),
    )
}

fn trailing(path: &Path, h: &Header, extra: u64) -> Error {
    format_error(
        path,
        format!(
            "{extra} unexpected byte{} after the array data (shape {} of {} is {} bytes)",
            if extra == 1 { "" } else { "s" },
            shape_str(&h.shape),
            h.dtype,
            h.data_bytes
        ),
    )
}

/// Fills as much of `buf` as `r` has, returning how many bytes it got.
fn read_up_to(r: &mut impl Read, buf: &mut [u8]) -> std::io::Result<usize> {
    let mut got = 0;
    while got < buf.len() {
        match r.read(&mut buf[got..]) {
            Ok(0) => break,
            Ok(n) => got += n,
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
            Err(e) => return Err(e),
        }
    }
    Ok(got)
}

/// What a header says.
struct Header {
    dtype: DType,
    /// The file's byte order differs from this machine's.
    swap: bool,
    fortran_order: bool,
    shape: Vec<usize>,
    data_bytes: usize,
}

fn parse_header(raw: &[u8], major: u8, path: &Path) -> Result<Header> {
    let text: String = if major >= 3 {
        std::str::from_utf8(raw)
            .map_err(|e| {
                format_error(
                    path,
                    format!("the version 3.0 header is not valid UTF-8: {e}"),
                )
            })?
            .to_owned()
    } else {
        raw.iter().map(|&b| b as char).collect() // latin-1
    };
    let value = pylit::parse(&text, major <= 2)
        .map_err(|e| format_error(path, format!("header is not a Python literal: {e}")))?;
    let Value::Dict(pairs) = value else {
        return Err(format_error(
            path,
            format!("header is {}, not a dict", value.describe()),
        ));
    };
    let (mut descr, mut fortran, mut shape) = (None, None, None);
    for (key, value) in pairs {
        let slot = match &key {
            Value::Str(k) if k == "descr" => &mut descr,
            Value::Str(k) if k == "fortran_order" => &mut fortran,
            Value::Str(k) if k == "shape" => &mut shape,
            _ => {
                return Err(format_error(
                    path,
                    format!("header has an unexpected key {key}"),
                ));
            }
        };
        if slot.replace(value).is_some() {
            return Err(format_error(
                path,
                format!("header has the key {key} twice"),
            ));
        }
    }
    let missing = |k: &str| format_error(path, format!("header has no '{k}' key"));
    let (descr, fortran, shape) = (
        descr.ok_or_else(|| missing("descr"))?,
        fortran.ok_or_else(|| missing("fortran_order"))?,
        shape.ok_or_else(|| missing("shape"))?,
    );
    let (dtype, swap) = parse_descr(&descr, path)?;
    let Value::Bool(fortran_order) = fortran else {
        return Err(format_error(
            path,
            format!(
                "'fortran_order' is {}, not True or False",
                fortran.describe()
            ),
        ));
    };
    let Value::Tuple(dims) = shape else {
        return Err(format_error(
            path,
            format!("'shape' is {}, not a tuple of integers", shape.describe()),
        ));
    };
    let mut shape = Vec::with_capacity(dims.len());
    for d in &dims {
        let Value::Int(text) = d else {
            return Err(format_error(
                path,
                format!("'shape' holds {}, not an integer", d.describe()),
            ));
        };
        if text.starts_with('-') {
            return Err(format_error(
                path,
                format!("'shape' has a negative dimension {text}"),
            ));
        }
        let dim = text.parse::<usize>().map_err(|_| {
            format_error(
                path,
                format!("'shape' has a dimension {text} too large for this machine"),
            )
        })?;
        shape.push(dim);
    }
    // Bytes the data needs; shapes with a zero dim still must not overflow in their other dims, so later
    // stride arithmetic on them is safe.
    let nonzero = shape
        .iter()
        .filter(|&&d| d != 0)
        .try_fold(dtype.size_bytes(), |acc, &d| acc.checked_mul(d));
    let data_bytes = match nonzero {
        Some(n) if n <= isize::MAX as usize => {
            if shape.contains(&0) {
                0
            } else {
                n
            }
        }
        _ => {
            return Err(format_error(
                path,
                format!(
                    "shape {} of {dtype} is too large to address",
                    shape_str(&shape)
                ),
            ));
        }
    };
    Ok(Header {
        dtype,
        swap,
        fortran_order,
        shape,
        data_bytes,
    })
}

/// Maps a descr such as `'<f4'` to a dtype and whether the bytes need swapping.
fn parse_descr(descr: &Value, path: &Path) -> Result<(DType, bool)> {
    let text = match descr {
        Value::Str(s) => s.as_str(),
        Value::List(_) => {
            return Err(unsupported(
                path,
                format!("structured dtype {descr} (smelt holds plain arrays only)"),
            ));
        }
        other => {
            return Err(format_error(
                path,
                format!("'descr' is {}, not a dtype string", other.describe()),
            ));
        }
    };
    let (order, code) = match text.as_bytes().first() {
        Some(c @ (b'<' | b'>' | b'|' | b'=')) => (*c, &text[1..]),
        _ => (b'=', text),
    };
    let dtype = match code {
        "b1" => DType::Bool,
        "u1" => DType::U8,
        "i4" => DType::I32,
        "i8" => DType::I64,
        "f4" => DType::F32,
        "f8" => DType::F64,
        _ => {
            let hint = match code {
                "O" => " (pickled Python objects)",
                "f2" => " (float16)",
                "i1" => " (int8)",
                "i2" | "u2" | "u4" | "u8" => " (an integer width smelt does not hold)",
                "c8" | "c16" => " (complex)",
                _ if code.starts_with('U') || code.starts_with('S') => " (strings)",
                _ => "",
            };
            return Err(unsupported(
                path,
                format!(
                    "dtype '{text}'{hint} is not one of smelt's dtypes (bool, u8, i32, i64, f32, f64)"
                ),
            ));
        }
    };
    let file_little = match order {
        b'<' => true,
        b'>' => false,
        // '|' (not applicable) and '=' (native) are read as this machine's order, as NumPy reads them.
        _ => cfg!(target_endian = "little"),
    };
    let swap = dtype.size_bytes() > 1 && file_little != cfg!(target_endian = "little");
    Ok((dtype, swap))
}

/// The header NumPy writes for `a`: version 1.0 when its length fits in 16 bits, else 2.0.
fn header_bytes(a: &RawArray) -> Vec<u8> {
    let descr = match (a.dtype, cfg!(target_endian = "little")) {
        (DType::Bool, _) => "|b1",
        (DType::U8, _) => "|u1",
        (DType::I32, true) => "<i4",
        (DType::I64, true) => "<i8",
        (DType::F32, true) => "<f4",
        (DType::F64, true) => "<f8",
        (DType::I32, false) => ">i4",
        (DType::I64, false) => ">i8",
        (DType::F32, false) => ">f4",
        (DType::F64, false) => ">f8",
    };
    let mut dict = format!(
        "{{'descr': '{descr}', 'fortran_order': False, 'shape': {}, }}",
        shape_str(&a.shape)
    );
    if let Some(first) = a.shape.first() {
        let digits = first.to_string().len();
        dict.extend(std::iter::repeat_n(
            ' ',
            GROWTH_AXIS_MAX_DIGITS.saturating_sub(digits),
        ));
    }
    // Magic + version + length field + dict + padding + '\n' is a multiple of ALIGN.
    let wrap = |len_bytes: usize| {
        let unpadded = MAGIC.len() + 2 + len_bytes + dict.len() + 1;
        // Like NumPy, an already aligned header still gets a full ALIGN of padding.
        let header_len = dict.len() + 1 + (ALIGN - unpadded % ALIGN);
        (header_len, MAGIC.len() + 2 + len_bytes + header_len)
    };
    let (header_len, total, major) = match wrap(2) {
        (hl, total) if hl <= u16::MAX as usize => (hl, total, 1u8),
        _ => {
            let (hl, total) = wrap(4);
            (hl, total, 2u8)
        }
    };
    let mut out = Vec::with_capacity(total);
    out.extend_from_slice(MAGIC);
    out.extend_from_slice(&[major, 0]);
    if major == 1 {
        out.extend_from_slice(&(header_len as u16).to_le_bytes());
    } else {
        out.extend_from_slice(&(header_len as u32).to_le_bytes());
    }
    out.extend_from_slice(dict.as_bytes());
    out.resize(total - 1, b' ');
    out.push(b'\n');
    out
}

/// A shape as Python writes a tuple: `()`, `(3,)`, `(2, 3)`.
fn shape_str(shape: &[usize]) -> String {
    let mut s = String::from("(");
    for (i, d) in shape.iter().enumerate() {
        let _ = write!(s, "{}{d}", if i > 0 { ", " } else { "" });
    }
    if shape.len() == 1 {
        s.push(',');
    }
    s.push(')');
    s
}

/// Reorders elements stored in Fortran order (first index fastest) into C order (last index fastest).
fn fortran_to_c(src: &[u8], shape: &[usize], size: usize) -> Vec<u8> {
    let mut out = Vec::with_capacity(src.len());
    if src.is_empty() {
        return out;
    }
    // Fortran strides, in elements: dim k advances by the product of the dims before it.
    let mut fstride = Vec::with_capacity(shape.len());
    let mut acc = 1usize;
    for &d in shape {
        fstride.push(acc);
        acc *= d;
    }
    // Walk the C order with an odometer over the index, tracking the Fortran offset.
    let mut index = vec![0usize; shape.len()];
    let mut offset = 0usize;
    for _ in 0..src.len() / size {
        out.extend_from_slice(&src[offset * size..(offset + 1) * size]);
        for k in (0..shape.len()).rev() {
            index[k] += 1;
            offset += fstride[k];
            if index[k] < shape[k] {
                break;
            }
            offset -= fstride[k] * shape[k];
            index[k] = 0;
        }
    }
    out
}
