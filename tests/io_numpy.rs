//! Cross-checks with real NumPy, run when `python3 -c 'import numpy'` works (otherwise each test says it
//! skipped). Both directions: NumPy writes every dtype, shape, memory order, byte order and format
//! version (and `.npz` both ways) and smelt reads them; smelt writes `.npy`, `.npz` and safetensors files
//! and NumPy loads them. Values travel separately as text (decimal integers, Python float reprs), so the
//! comparison never trusts either side's binary writer.

#[allow(dead_code)]
#[path = "../src/io/mod.rs"]
mod io;
mod io_support;

use io::RawArray;
use io::npy::{load_npy, read_npy, save_npy};
use io::npz::{Compression, load_npz, save_npz};
use io::safetensors::{Metadata, save_safetensors};
use io_support::*;
use smelt::{DType, Error, Result};
use std::fmt::Write as _;
use std::path::Path;
use std::process::Command;

fn numpy_available() -> bool {
    let ok = Command::new("python3")
        .args(["-c", "import numpy"])
        .output()
        .map(|o| o.status.success())
        .unwrap_or(false);
    if !ok {
        eprintln!("skipped: python3 with numpy is not available");
    }
    ok
}

fn python(script: &str, dir: &Path) -> String {
    let out = Command::new("python3")
        .arg("-c")
        .arg(script)
        .arg(dir)
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
    assert!(
        out.status.success(),
        "python failed:\n{stdout}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    stdout
}

fn dtype_from_numpy(name: &str) -> DType {
    match name {
        "bool" => DType::Bool,
        "uint8" => DType::U8,
        "int32" => DType::I32,
        "int64" => DType::I64,
        "float32" => DType::F32,
        "float64" => DType::F64,
        other => panic!("unexpected dtype {other}"),
    }
}

fn numpy_name(dtype: DType) -> &'static str {
    match dtype {
        DType::Bool => "bool",
        DType::U8 => "uint8",
        DType::I32 => "int32",
        DType::I64 => "int64",
        DType::F32 => "float32",
        DType::F64 => "float64",
    }
}

/// Element `i` exactly, as an integer or as the f64 bits of a float.
fn exact(dtype: DType, data: &[u8], i: usize) -> Result<i64, f64> {
    let s = dtype.size_bytes();
    let b = &data[i * s..(i + 1) * s];
    match dtype {
        DType::Bool | DType::U8 => Ok(b[0] as i64),
        DType::I32 => Ok(i32::from_ne_bytes(b.try_into().unwrap()) as i64),
        DType::I64 => Ok(i64::from_ne_bytes(b.try_into().unwrap())),
        DType::F32 => Err(f32::from_ne_bytes(b.try_into().unwrap()) as f64),
        DType::F64 => Err(f64::from_ne_bytes(b.try_into().unwrap())),
    }
}

/// Compares an array with a manifest line's dtype, shape and values.
fn check(what: &str, a: &RawArray, dtype: &str, shape: &str, values: &str) {
    assert_eq!(a.dtype, dtype_from_numpy(dtype), "{what}");
    let shape: Vec<usize> = shape
        .split(',')
        .filter(|s| !s.is_empty())
        .map(|s| s.parse().unwrap())
        .collect();
    assert_eq!(a.shape, shape, "{what}");
    let want: Vec<&str> = values.split(' ').filter(|s| !s.is_empty()).collect();
    assert_eq!(a.numel(), want.len(), "{what}");
    for (i, w) in want.iter().enumerate() {
        match exact(a.dtype, &a.data, i) {
            Ok(got) => assert_eq!(got, w.parse::<i64>().unwrap(), "{what}[{i}]"),
            Err(got) => {
                let w: f64 = w.parse().unwrap();
                assert!(
                    got.to_bits() == w.to_bits() || (got.is_nan() && w.is_nan()),
                    "{what}[{i}]: {got} vs {w}"
                );
            }
        }
    }
}

const NUMPY_WRITES: &str = r#"
import os, sys
import numpy as np
from numpy.lib import format as fmt

out = sys.argv[1]
rng = np.random.default_rng(1234)
lines = []

def text(a):
    flat = a.reshape(-1).tolist()  # logical C order, whatever the memory order
    if a.dtype == bool:
        return " ".join("1" if x else "0" for x in flat)
    if a.dtype.kind in "iu":
        return " ".join(str(x) for x in flat)
    return " ".join(repr(float(x)) for x in flat)

def record(fname, member, a):
    lines.append("\t".join([fname, member, a.dtype.name, ",".join(map(str, a.shape)), text(a)]))

def make(dt, shape):
    n = int(np.prod(shape))
    if dt == "?":
        v = rng.integers(0, 2, n).astype(bool)
    elif dt == "u1":
        v = rng.integers(0, 256, n).astype("u1")
    elif dt == "i4":
        v = rng.integers(-2**31, 2**31, n, dtype="i8").astype("i4")
    elif dt == "i8":
        v = rng.integers(-2**63, 2**63 - 1, n, dtype="i8", endpoint=True)
    else:
        v = (rng.standard_normal(n) * 1e3).astype(dt)
        specials = [np.nan, np.inf, -np.inf, -0.0, np.finfo(dt).tiny / 4, np.finfo(dt).max]
        for k in range(0, n, 3):
            v[k] = specials[(k // 3) % len(specials)]
    return v.reshape(shape)

shapes = [(), (0,), (1,), (7,), (2, 3), (3, 0, 2), (2, 3, 4), (1, 5, 1, 2)]
count = 0
keep = []
for dt in ["?", "u1", "i4", "i8", "f4", "f8"]:
    for shape in shapes:
        base = make(dt, shape)
        for order in "CF":
            for bo in "<>":
                a = np.asfortranarray(base) if order == "F" else np.ascontiguousarray(base)
                if a.dtype.itemsize > 1:
                    a = a.astype(a.dtype.newbyteorder(bo))
                variants = [None] if (order, bo) != ("F", ">") else [None, (2, 0), (3, 0)]
                for version in variants:
                    name = "a%d.npy" % count
                    count += 1
                    with open(os.path.join(out, name), "wb") as f:
                        if version is None:
                            np.save(f, a)
                        else:
                            fmt.write_array(f, a, version=version)
                    record(name, "-", a)
                keep.append(a)

picked = {"k%d" % i: a for i, a in enumerate(keep[::7])}
np.savez(os.path.join(out, "s.npz"), **picked)
np.savez_compressed(os.path.join(out, "c.npz"), **picked)
np.savez(os.path.join(out, "p.npz"), keep[5], keep[40])
for fname in ["s.npz", "c.npz"]:
    for k, a in picked.items():
        record(fname, k, a)
record("p.npz", "arr_0", keep[5])
record("p.npz", "arr_1", keep[40])
with open(os.path.join(out, "manifest.txt"), "w") as f:
    f.write("\n".join(lines) + "\n")
print(count)
"#;

#[test]
fn numpy_writes_smelt_reads() {
    if !numpy_available() {
        return;
    }
    let dir = TempDir::new("numpy-writes");
    let npy_count: usize = python(NUMPY_WRITES, dir.path()).trim().parse().unwrap();
    assert_eq!(npy_count, 6 * 8 * 6);
    let manifest = std::fs::read_to_string(dir.join("manifest.txt")).unwrap();
    let mut npz: Vec<(String, Vec<(String, RawArray)>)> = Vec::new();
    let (mut npy_checked, mut npz_checked) = (0, 0);
    for line in manifest.lines() {
        let f: Vec<&str> = line.split('\t').collect();
        let (file, member, dtype, shape, values) = (f[0], f[1], f[2], f[3], f[4]);
        let path = dir.join(file);
        if member == "-" {
            let a = load_npy(&path).unwrap_or_else(|e| panic!("{e}"));
            assert_eq!(read_npy(&std::fs::read(&path).unwrap(), &path).unwrap(), a);
            check(file, &a, dtype, shape, values);
            npy_checked += 1;
        } else {
            if npz.last().is_none_or(|(name, _)| name != file) {
                npz.push((
                    file.to_string(),
                    load_npz(&path).unwrap_or_else(|e| panic!("{e}")),
                ));
            }
            let arrays = &npz.last().unwrap().1;
            let (_, a) = arrays
                .iter()
                .find(|(k, _)| k == member)
                .unwrap_or_else(|| panic!("{file} has no {member}"));
            check(&format!("{file}:{member}"), a, dtype, shape, values);
            npz_checked += 1;
        }
    }
    assert_eq!(npy_checked, npy_count);
    // 192 arrays kept (one per dtype, shape, order and byte order), every 7th picked (28) into two
    // archives, plus 2 positional.
    assert_eq!(npz_checked, 2 * 28 + 2);
    // Archive order is NumPy's order.
    let keys: Vec<&str> = npz[0].1.iter().map(|(k, _)| k.as_str()).collect();
    let want: Vec<String> = (0..28).map(|i| format!("k{i}")).collect();
    assert_eq!(keys, want);
}

const NUMPY_READS: &str = r#"
import io, json, math, struct, sys, zipfile
import numpy as np

d = sys.argv[1]
ST = {"BOOL": "?", "U8": "u1", "I32": "<i4", "I64": "<i8", "F32": "<f4", "F64": "<f8"}
n = 0
for line in open(d + "/manifest.txt"):
    fname, member, dt, shape, vals = line.rstrip("\n").split("\t")
    shape = tuple(int(x) for x in shape.split(",") if x)
    path = d + "/" + fname
    if fname.endswith(".npy"):
        a = np.load(path)
        buf = io.BytesIO()
        np.save(buf, a)
        assert buf.getvalue() == open(path, "rb").read(), "np.save writes other bytes for " + fname
    elif fname.endswith(".npz"):
        with np.load(path) as z:
            a = z[member]
    else:
        raw = open(path, "rb").read()
        hl = struct.unpack("<Q", raw[:8])[0]
        h = json.loads(raw[8:8 + hl])
        assert h["__metadata__"] == {"format": "pt", "made by": "smelt \"io\" test"}, h["__metadata__"]
        info = h[member]
        s, e = info["data_offsets"]
        a = np.frombuffer(raw[8 + hl + s:8 + hl + e], dtype=ST[info["dtype"]]).reshape(info["shape"])
    assert a.dtype.name == dt, (fname, member, a.dtype, dt)
    assert a.shape == shape, (fname, member, a.shape, shape)
    want = vals.split(" ") if vals else []
    flat = a.reshape(-1).tolist()
    assert len(flat) == len(want), (fname, member)
    for x, w in zip(flat, want):
        if dt == "bool":
            ok = int(x) == int(w)
        elif dt.startswith(("int", "uint")):
            ok = x == int(w)
        else:
            wf = float(w)
            ok = (math.isnan(x) and math.isnan(wf)) or (x == wf and math.copysign(1, x) == math.copysign(1, wf))
        assert ok, (fname, member, x, w)
    n += 1
for fname in ["s.npz", "c.npz"]:
    with np.load(d + "/" + fname) as z:
        order = list(z.files)
    want = open(d + "/order.txt").read().split()
    assert order == want, (fname, order, want)
    methods = {i.compress_type for i in zipfile.ZipFile(d + "/" + fname).infolist()}
    assert methods == ({zipfile.ZIP_STORED} if fname == "s.npz" else {zipfile.ZIP_DEFLATED}), methods
print("checked", n)
"#;

fn text(a: &RawArray) -> String {
    let mut s = String::new();
    for i in 0..a.numel() {
        if i > 0 {
            s.push(' ');
        }
        match exact(a.dtype, &a.data, i) {
            Ok(v) => write!(s, "{v}").unwrap(),
            Err(v) => write!(s, "{v:?}").unwrap(),
        }
    }
    s
}

#[test]
fn smelt_writes_numpy_reads() {
    if !numpy_available() {
        return;
    }
    let dir = TempDir::new("numpy-reads");
    let shapes: &[&[usize]] = &[
        &[],
        &[0],
        &[1],
        &[6],
        &[2, 3],
        &[4, 0],
        &[2, 3, 4],
        &[1, 2, 1, 3],
    ];
    let mut arrays = Vec::new();
    for dtype in DType::ALL {
        for shape in shapes {
            let seed = arrays.len() as u64;
            arrays.push((
                format!("t{}", arrays.len()),
                RawArray::new(dtype, shape.to_vec(), pattern(dtype, shape, seed)).unwrap(),
            ));
        }
    }
    let mut manifest = String::new();
    let mut line = |file: &str, member: &str, a: &RawArray| {
        let shape: Vec<String> = a.shape.iter().map(|d| d.to_string()).collect();
        writeln!(
            manifest,
            "{file}\t{member}\t{}\t{}\t{}",
            numpy_name(a.dtype),
            shape.join(","),
            text(a)
        )
        .unwrap();
    };
    for (name, a) in &arrays {
        save_npy(&dir.join(&format!("{name}.npy")), a).unwrap();
        line(&format!("{name}.npy"), "-", a);
    }
    let refs: Vec<(&str, &RawArray)> = arrays.iter().rev().map(|(k, a)| (k.as_str(), a)).collect();
    save_npz(&dir.join("s.npz"), &refs, Compression::Stored).unwrap();
    save_npz(&dir.join("c.npz"), &refs, Compression::Deflated).unwrap();
    let metadata: Metadata = [("format", "pt"), ("made by", "smelt \"io\" test")]
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
    save_safetensors(&dir.join("m.safetensors"), &refs, Some(&metadata)).unwrap();
    for (name, a) in &arrays {
        line("s.npz", name, a);
        line("c.npz", name, a);
        line("m.safetensors", name, a);
    }
    std::fs::write(dir.join("manifest.txt"), manifest).unwrap();
    let order: Vec<&str> = refs.iter().map(|(k, _)| *k).collect();
    std::fs::write(dir.join("order.txt"), order.join("\n")).unwrap();
    let out = python(NUMPY_READS, dir.path());
    assert_eq!(out.trim(), format!("checked {}", 4 * arrays.len()));
}
