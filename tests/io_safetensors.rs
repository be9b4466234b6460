//! safetensors: round trips, exact bytes with metadata, determinism, and bad files.

#[allow(dead_code)]
#[path = "../src/io/mod.rs"]
mod io;
mod io_support;

use io::RawArray;
use io::safetensors::{
    Metadata, load_safetensors, read_safetensors, save_safetensors, write_safetensors,
};
use io_support::*;
use smelt::{DType, Error, Result};
use std::path::Path;

fn raw(dtype: DType, shape: &[usize], data: Vec<u8>) -> RawArray {
    RawArray::new(dtype, shape.to_vec(), data).unwrap()
}

fn read(bytes: &[u8]) -> Result<io::safetensors::Contents> {
    read_safetensors(bytes, Path::new("bad.safetensors"))
}

/// A file from a JSON header (padded to 8 bytes) and data bytes.
fn st(header: &str, data: &[u8]) -> Vec<u8> {
    let mut h = header.to_string();
    while !h.len().is_multiple_of(8) {
        h.push(' ');
    }
    let mut out = (h.len() as u64).to_le_bytes().to_vec();
    out.extend_from_slice(h.as_bytes());
    out.extend_from_slice(data);
    out
}

fn meta(pairs: &[(&str, &str)]) -> Metadata {
    pairs
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect()
}

#[test]
fn writes_the_exact_bytes_by_hand() {
    // The crate orders tensors by dtype alignment (F32 before U8), then name; metadata comes first.
    let a = raw(DType::F32, &[], f32s(&[1.0]));
    let b = raw(DType::U8, &[2], vec![1, 2]);
    let bytes = write_safetensors(&[("b", &b), ("a", &a)], Some(&meta(&[("k", "v")]))).unwrap();
    let header = r#"{"__metadata__":{"k":"v"},"a":{"dtype":"F32","shape":[],"data_offsets":[0,4]},"b":{"dtype":"U8","shape":[2],"data_offsets":[4,6]}}"#;
    let mut data = 1.0f32.to_le_bytes().to_vec();
    data.extend_from_slice(&[1, 2]);
    assert_eq!(bytes, st(header, &data));

    // Without metadata, and with no tensors at all.
    let bytes = write_safetensors(&[("a", &a)], None).unwrap();
    assert_eq!(
        bytes,
        st(
            r#"{"a":{"dtype":"F32","shape":[],"data_offsets":[0,4]}}"#,
            &data[..4]
        )
    );
    assert_eq!(write_safetensors(&[], None).unwrap(), st("{}", &[]));
    assert_eq!(
        write_safetensors(&[], Some(&meta(&[("x", "1")]))).unwrap(),
        st(r#"{"__metadata__":{"x":"1"}}"#, &[])
    );
}

#[test]
fn round_trips_every_dtype_sorted_by_name() {
    let mut arrays = Vec::new();
    for (i, dtype) in DType::ALL.into_iter().enumerate() {
        let shape: &[usize] = [&[][..], &[0], &[3], &[2, 3], &[1, 2, 2], &[4, 1]][i];
        arrays.push((
            format!("t{}_{dtype}", 9 - i),
            raw(dtype, shape, pattern(dtype, shape, i as u64)),
        ));
    }
    let refs: Vec<(&str, &RawArray)> = arrays.iter().map(|(k, a)| (k.as_str(), a)).collect();
    let metadata = meta(&[
        ("format", "pt"),
        ("zeta", "last"),
        ("alpha", "first"),
        ("q\"uote", "back\\slash\nnew\tline\u{1}é"),
    ]);
    let bytes = write_safetensors(&refs, Some(&metadata)).unwrap();
    let (back, m) = read(&bytes).unwrap();
    let mut want = arrays.clone();
    want.sort_by(|a, b| a.0.cmp(&b.0));
    assert_eq!(back, want);
    assert_eq!(m, Some(metadata.clone()));
    // Deterministic, with the metadata keys in sorted order.
    assert_eq!(bytes, write_safetensors(&refs, Some(&metadata)).unwrap());
    let text = String::from_utf8_lossy(&bytes);
    let (alpha, format, zeta) = (
        text.find("alpha").unwrap(),
        text.find("format").unwrap(),
        text.find("zeta").unwrap(),
    );
    assert!(alpha < format && format < zeta);
    // An empty metadata map survives as an empty map.
    let (_, m) = read(&write_safetensors(&refs, Some(&Metadata::new())).unwrap()).unwrap();
    assert_eq!(m, Some(Metadata::new()));
    let (_, m) = read(&write_safetensors(&refs, None).unwrap()).unwrap();
    assert_eq!(m, None);
}

#[test]
fn bool_bytes_other_than_0_and_1_read_as_true() {
    let f = st(
        r#"{"m":{"dtype":"BOOL","shape":[3],"data_offsets":[0,3]}}"#,
        &[0, 7, 1],
    );
    assert_eq!(
        read(&f).unwrap().0,
        vec![("m".to_string(), raw(DType::Bool, &[3], vec![0, 1, 1]))]
    );
}

#[test]
fn bad_names_are_refused_before_writing() {
    let a = raw(DType::U8, &[1], vec![1]);
    assert_eq!(
        write_safetensors(&[("__metadata__", &a)], None)
            .unwrap_err()
            .to_string(),
        "save_safetensors: the name '__metadata__' is reserved for the metadata map"
    );
    assert_eq!(
        write_safetensors(&[("x", &a), ("x", &a)], None)
            .unwrap_err()
            .to_string(),
        "save_safetensors: the name 'x' appears twice"
    );
}

#[test]
fn bad_files_say_what_is_wrong() {
    let m = "bad.safetensors: safetensors file is malformed: ";
    let mut huge = st("{}", &[]);
    huge[..8].copy_from_slice(&u64::MAX.to_le_bytes());
    let mut past_end = st("{}", &[]);
    past_end[..8].copy_from_slice(&64u64.to_le_bytes());
    let f32x2 = f32s(&[1.0, 2.0]);
    let cases: Vec<(Vec<u8>, String)> = vec![
        (vec![], format!("{m}header too small")),
        (vec![1, 0, 0], format!("{m}header too small")),
        (huge, format!("{m}header too large")),
        (past_end, format!("{m}invalid header length")),
        (st("[1, 2]", &[]), format!("{m}invalid JSON in header: invalid type: sequence, expected struct HashMetadata at line 1 column 0")),
        (st("{\"a\":", &[]), format!("{m}invalid JSON in header: EOF while parsing a value at line 1 column 8")),
        (
            st(r#"{"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]}}"#, &f32x2[..4]),
            format!("{m}incomplete metadata, file not fully covered"),
        ),
        (
            st(r#"{"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]}}"#, &[f32x2.clone(), vec![0; 4]].concat()),
            format!("{m}incomplete metadata, file not fully covered"),
        ),
        (
            st(r#"{"a":{"dtype":"F32","shape":[3],"data_offsets":[0,8]}}"#, &f32x2),
            format!("{m}invalid shape, data type, or offset for tensor"),
        ),
        (
            st(r#"{"a":{"dtype":"F32","shape":[2],"data_offsets":[4,12]}}"#, &[f32x2.clone(), vec![0; 4]].concat()),
            format!("{m}invalid offset for tensor `a`"),
        ),
        (
            st(r#"{"a":{"dtype":"F32","shape":[4294967296,4294967296,4294967296],"data_offsets":[0,8]}}"#, &f32x2),
            format!("{m}overflow computing buffer size from shape and/or element type"),
        ),
        (
            st(r#"{"a":{"dtype":"Q7","shape":[2],"data_offsets":[0,8]}}"#, &f32x2),
            format!("{m}invalid JSON in header: unknown variant `Q7`, expected one of `BOOL`, `F4`, `F6_E2M3`, `F6_E3M2`, `U8`, `I8`, `F8_E5M2`, `F8_E4M3`, `F8_E8M0`, `F8_E4M3FNUZ`, `F8_E5M2FNUZ`, `I16`, `U16`, `F16`, `BF16`, `I32`, `U32`, `F32`, `C64`, `F64`, `I64`, `U64` at line 1 column 53"),
        ),
        (
            st(r#"{"h":{"dtype":"F16","shape":[2],"data_offsets":[0,4]}}"#, &[0; 4]),
            "bad.safetensors: safetensors file is not supported: tensor 'h' has dtype F16, not one of smelt's dtypes (BOOL, U8, I32, I64, F32, F64)".to_string(),
        ),
    ];
    for (bytes, want) in &cases {
        match read(bytes) {
            Ok(_) => panic!("expected the error {want:?}"),
            Err(e) => assert_eq!(&e.to_string(), want),
        }
    }
}

#[test]
fn save_and_load_through_the_file_system() {
    let dir = TempDir::new("st");
    let w = raw(DType::F64, &[2], f64s(&[0.5, -1.0]));
    let p = dir.join("m.safetensors");
    save_safetensors(&p, &[("w", &w)], Some(&meta(&[("a", "b")]))).unwrap();
    assert_eq!(
        load_safetensors(&p).unwrap(),
        (vec![("w".to_string(), w)], Some(meta(&[("a", "b")])))
    );
    assert_eq!(dir.entries(), ["m.safetensors"]);
    match load_safetensors(&dir.join("nope.safetensors")) {
        Err(Error::Io { source, .. }) => assert_eq!(source.kind(), std::io::ErrorKind::NotFound),
        other => panic!("{other:?}"),
    }
}
