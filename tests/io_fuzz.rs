//! Fuzzing with proptest: random bytes and mutated valid files (bit flips, byte sets, truncations,
//! insertions, header edits with meaningful tokens) through every reader. Each must return a `Result`,
//! never panic, and an `Ok` array must be consistent. 3500 cases in all, a few seconds.

#[allow(dead_code)]
#[path = "../src/io/mod.rs"]
mod io;
mod io_support;

use io::RawArray;
use io::npy::{read_npy, write_npy};
use io::npz::{Compression, read_npz};
use io::safetensors::{Metadata, read_safetensors, write_safetensors};
use io_support::*;
use proptest::prelude::*;
use smelt::{DType, Error, Result};
use std::path::Path;

/// 500 cases per property; `IO_FUZZ_CASES=100000` for a longer hunt.
fn cases() -> u32 {
    std::env::var("IO_FUZZ_CASES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(500)
}

/// An `Ok` array must hold exactly its shape's bytes, with bools 0 or 1.
fn consistent(a: &RawArray) {
    let numel = a
        .shape
        .iter()
        .try_fold(1usize, |n, &d| n.checked_mul(d))
        .expect("shape overflows");
    assert_eq!(a.data.len(), numel * a.dtype.size_bytes());
    if a.dtype == DType::Bool {
        assert!(a.data.iter().all(|&b| b <= 1));
    }
}

fn all_readers(bytes: &[u8]) {
    if let Ok(a) = read_npy(bytes, Path::new("f.npy")) {
        consistent(&a);
    }
    if let Ok(v) = read_npz(bytes, Path::new("f.npz")) {
        v.iter().for_each(|(_, a)| consistent(a));
    }
    let r: Result<_> = read_safetensors(bytes, Path::new("f.safetensors"));
    if let Ok((v, _)) = r {
        v.iter().for_each(|(_, a)| consistent(a));
    }
}

fn raw(dtype: DType, shape: &[usize]) -> RawArray {
    RawArray::new(
        dtype,
        shape.to_vec(),
        pattern(dtype, shape, shape.len() as u64),
    )
    .unwrap()
}

fn npy_seeds() -> Vec<Vec<u8>> {
    let mut seeds: Vec<Vec<u8>> = [
        (DType::F32, &[2, 3][..]),
        (DType::Bool, &[]),
        (DType::I64, &[0, 4]),
        (DType::U8, &[5]),
        (DType::F64, &[2, 1, 2]),
        (DType::I32, &[3, 2]),
    ]
    .iter()
    .map(|(d, s)| write_npy(&raw(*d, s)))
    .collect();
    // Fortran order, big-endian and versions 2.0 / 3.0, by hand.
    for (version, header, data) in [
        (
            (1u8, 0u8),
            "{'descr': '>f8', 'fortran_order': True, 'shape': (2, 2), }",
            vec![0u8; 32],
        ),
        (
            (2, 0),
            "{'descr': '<i4', 'fortran_order': True, 'shape': (2, 3, 1), }",
            vec![1; 24],
        ),
        (
            (3, 0),
            "{'descr': '|b1', 'fortran_order': False, 'shape': (3L,), }",
            vec![0, 1, 2],
        ),
    ] {
        let mut f = b"\x93NUMPY".to_vec();
        f.extend_from_slice(&[version.0, version.1]);
        if version.0 == 1 {
            f.extend_from_slice(&(header.len() as u16).to_le_bytes());
        } else {
            f.extend_from_slice(&(header.len() as u32).to_le_bytes());
        }
        f.extend_from_slice(header.as_bytes());
        f.extend_from_slice(&data);
        seeds.push(f);
    }
    seeds
}

fn npz_seeds() -> Vec<Vec<u8>> {
    let a = raw(DType::F32, &[2, 3]);
    let b = raw(DType::Bool, &[4]);
    let z = RawArray::new(DType::F64, vec![64], vec![0; 512]).unwrap();
    vec![
        io::npz::write_npz(&[("a", &a), ("b", &b)], Compression::Stored).unwrap(),
        io::npz::write_npz(&[("a", &a), ("z", &z)], Compression::Deflated).unwrap(),
    ]
}

fn safetensors_seeds() -> Vec<Vec<u8>> {
    let a = raw(DType::F32, &[2, 3]);
    let b = raw(DType::Bool, &[4]);
    let c = raw(DType::I64, &[]);
    let m: Metadata = [("k".to_string(), "v".to_string())].into_iter().collect();
    vec![
        write_safetensors(&[("a", &a), ("b", &b), ("c", &c)], Some(&m)).unwrap(),
        write_safetensors(&[("x", &raw(DType::U8, &[0, 2]))], None).unwrap(),
    ]
}

/// Tokens that mean something in a .npy or safetensors header.
const TOKENS: &[&str] = &[
    "(",
    ")",
    ",",
    "'",
    "\"",
    "-1",
    "0",
    "3",
    "99999999999999999999",
    "4294967296",
    "True",
    "False",
    "None",
    "'<f8'",
    "'>i4'",
    "'|b1'",
    "'<f2'",
    "{",
    "}",
    ":",
    "[",
    "]",
    " ",
    "\n",
    "L",
    "\\",
    "'shape'",
    "'descr'",
    "'fortran_order'",
    "\"dtype\"",
    "\"shape\"",
    "\"data_offsets\"",
    "[0,4]",
    "\"F16\"",
    "\"BOOL\"",
    "18446744073709551615",
    "\u{0}",
    "\u{ff}",
    "[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[",
];

#[derive(Clone, Debug)]
enum Mutation {
    Flip(usize, u8),
    Set(usize, u8),
    Truncate(usize),
    Insert(usize, Vec<u8>),
    /// Replaces `len` bytes at a position with a token.
    Token(usize, usize, usize),
}

fn mutation() -> impl Strategy<Value = Mutation> {
    prop_oneof![
        (any::<usize>(), 0u8..8).prop_map(|(i, b)| Mutation::Flip(i, b)),
        (any::<usize>(), any::<u8>()).prop_map(|(i, b)| Mutation::Set(i, b)),
        any::<usize>().prop_map(Mutation::Truncate),
        (
            any::<usize>(),
            proptest::collection::vec(any::<u8>(), 1..16)
        )
            .prop_map(|(i, v)| Mutation::Insert(i, v)),
        (any::<usize>(), 0usize..6, 0..TOKENS.len()).prop_map(|(i, l, t)| Mutation::Token(i, l, t)),
    ]
}

/// Positions land in the first 160 bytes (the headers) half of the time.
fn apply(mut bytes: Vec<u8>, mutations: &[Mutation]) -> Vec<u8> {
    let pos = |i: usize, len: usize| {
        if len == 0 {
            0
        } else if i.is_multiple_of(2) {
            (i / 2) % len.min(160)
        } else {
            (i / 2) % len
        }
    };
    for m in mutations {
        let len = bytes.len();
        match m {
            Mutation::Flip(i, b) if len > 0 => bytes[pos(*i, len)] ^= 1 << b,
            Mutation::Set(i, v) if len > 0 => bytes[pos(*i, len)] = *v,
            Mutation::Truncate(i) => bytes.truncate(i % (len + 1)),
            Mutation::Insert(i, v) => {
                let at = pos(*i, len + 1);
                bytes.splice(at..at, v.iter().copied());
            }
            Mutation::Token(i, l, t) => {
                let at = pos(*i, len + 1);
                let end = (at + l).min(len);
                bytes.splice(at..end, TOKENS[*t].bytes());
            }
            _ => {}
        }
    }
    bytes
}

proptest! {
    #![proptest_config(ProptestConfig { cases: cases(), ..ProptestConfig::default() })]

    #[test]
    fn random_bytes(bytes in proptest::collection::vec(any::<u8>(), 0..400), prefix in 0usize..4) {
        // Random tails behind each format's real opening, so the readers get past their first check.
        let openings: [&[u8]; 4] = [b"", b"\x93NUMPY\x01\x00", b"PK\x03\x04", b"\x40\x00\x00\x00\x00\x00\x00\x00{"];
        let mut f = openings[prefix].to_vec();
        f.extend_from_slice(&bytes);
        all_readers(&f);
    }

    #[test]
    fn mutated_npy(seed in 0usize..9, mutations in proptest::collection::vec(mutation(), 1..5)) {
        let seeds = npy_seeds();
        all_readers(&apply(seeds[seed % seeds.len()].clone(), &mutations));
    }

    #[test]
    fn mutated_safetensors(seed in 0usize..2, mutations in proptest::collection::vec(mutation(), 1..5)) {
        let seeds = safetensors_seeds();
        all_readers(&apply(seeds[seed].clone(), &mutations));
    }
}

/// Splits a seed into (length-field prefix, header, rest) so a header can be edited and re-framed with a
/// correct length: the edits then reach the header's meaning, not just its framing.
fn split_header(f: &[u8]) -> (Vec<u8>, Vec<u8>, Vec<u8>) {
    if f.starts_with(b"\x93NUMPY") {
        let w = if f[6] == 1 { 2 } else { 4 };
        let mut n = [0u8; 4];
        n[..w].copy_from_slice(&f[8..8 + w]);
        let n = u32::from_le_bytes(n) as usize;
        (
            f[..8].to_vec(),
            f[8 + w..8 + w + n].to_vec(),
            f[8 + w + n..].to_vec(),
        )
    } else {
        let n = u64::from_le_bytes(f[..8].try_into().unwrap()) as usize;
        (vec![], f[8..8 + n].to_vec(), f[8 + n..].to_vec())
    }
}

fn reframe(prefix: &[u8], header: &[u8], rest: &[u8]) -> Vec<u8> {
    let mut out = prefix.to_vec();
    match prefix.get(6) {
        Some(1) => out.extend_from_slice(&(header.len() as u16).to_le_bytes()),
        Some(_) => out.extend_from_slice(&(header.len() as u32).to_le_bytes()),
        None => out.extend_from_slice(&(header.len() as u64).to_le_bytes()),
    }
    out.extend_from_slice(header);
    out.extend_from_slice(rest);
    out
}

proptest! {
    #![proptest_config(ProptestConfig { cases: cases(), ..ProptestConfig::default() })]

    #[test]
    fn edited_headers(
        seed in 0usize..11,
        edits in proptest::collection::vec((any::<usize>(), 0usize..6, 0..TOKENS.len()), 1..4),
        data_delta in -9isize..9,
    ) {
        let mut seeds = npy_seeds();
        seeds.extend(safetensors_seeds());
        let (prefix, mut header, mut rest) = split_header(&seeds[seed]);
        for (i, len, t) in edits {
            let at = i % (header.len() + 1);
            let end = (at + len).min(header.len());
            header.splice(at..end, TOKENS[t].bytes());
        }
        // Sometimes also a little more or less data.
        if data_delta < 0 {
            rest.truncate(rest.len().saturating_sub(data_delta.unsigned_abs()));
        } else {
            rest.extend(std::iter::repeat_n(1u8, data_delta as usize));
        }
        all_readers(&reframe(&prefix, &header, &rest));
    }
}

/// Integers that probe the shape and offset checks.
fn int_text() -> impl Strategy<Value = String> {
    prop_oneof![
        (0u64..6).prop_map(|n| n.to_string()),
        Just("-1".to_string()),
        Just("4294967296".to_string()),
        Just("9223372036854775807".to_string()),
        Just("18446744073709551615".to_string()),
        Just("99999999999999999999".to_string()),
        Just("3L".to_string()),
    ]
}

/// Python literals for a .npy header value, well-formed but of any meaning.
fn py_value() -> impl Strategy<Value = String> {
    let leaf = prop_oneof![
        prop::sample::select(vec![
            "'<f4'", "'>f8'", "'|b1'", "'<i8'", "'|u1'", "'<f2'", "'|O'", "'x'", "''"
        ])
        .prop_map(String::from),
        prop::sample::select(vec!["True", "False", "None"]).prop_map(String::from),
        int_text(),
    ];
    leaf.prop_recursive(3, 12, 4, |inner| {
        prop_oneof![
            proptest::collection::vec(inner.clone(), 0..4).prop_map(|v| match v.len() {
                1 => format!("({},)", v[0]),
                _ => format!("({})", v.join(", ")),
            }),
            proptest::collection::vec(inner, 0..3).prop_map(|v| format!("[{}]", v.join(", "))),
        ]
    })
}

fn npy_header() -> impl Strategy<Value = String> {
    let key = prop::sample::select(vec![
        "'descr'",
        "'fortran_order'",
        "'shape'",
        "'extra'",
        "3",
    ]);
    let plausible = (
        prop::sample::select(vec!["'<f4'", "'>f8'", "'|b1'", "'<i8'", "'|u1'", "'>i4'"]),
        any::<bool>(),
        proptest::collection::vec(int_text(), 0..4),
    )
        .prop_map(|(d, f, dims)| {
            let shape = if dims.len() == 1 {
                format!("({},)", dims[0])
            } else {
                format!("({})", dims.join(", "))
            };
            format!(
                "{{'descr': {d}, 'fortran_order': {}, 'shape': {shape}, }}",
                if f { "True" } else { "False" }
            )
        });
    let arbitrary = proptest::collection::vec((key, py_value()), 0..5).prop_map(|pairs| {
        let body: Vec<String> = pairs.iter().map(|(k, v)| format!("{k}: {v}")).collect();
        format!("{{{}}}", body.join(", "))
    });
    prop_oneof![plausible, arbitrary]
}

fn safetensors_header() -> impl Strategy<Value = String> {
    let dims =
        proptest::collection::vec(int_text(), 0..4).prop_map(|d| format!("[{}]", d.join(",")));
    let dtype = prop::sample::select(vec![
        "BOOL", "U8", "I32", "I64", "F32", "F64", "F16", "BF16", "X",
    ]);
    let tensor = (
        prop::sample::select(vec!["a", "b", "__metadata__"]),
        dtype,
        dims,
        int_text(),
        int_text(),
    )
        .prop_map(|(n, d, s, o0, o1)| {
            format!("\"{n}\":{{\"dtype\":\"{d}\",\"shape\":{s},\"data_offsets\":[{o0},{o1}]}}")
        });
    (proptest::collection::vec(tensor, 0..3), any::<bool>()).prop_map(|(ts, meta)| {
        let mut parts = ts;
        if meta {
            parts.insert(0, "\"__metadata__\":{\"k\":\"v\"}".to_string());
        }
        format!("{{{}}}", parts.join(","))
    })
}

proptest! {
    #![proptest_config(ProptestConfig { cases: cases(), ..ProptestConfig::default() })]

    #[test]
    fn generated_npy_headers(header in npy_header(), version in 1u8..4, data in proptest::collection::vec(any::<u8>(), 0..40)) {
        let prefix = [&b"\x93NUMPY"[..], &[version, 0]].concat();
        all_readers(&reframe(&prefix, header.as_bytes(), &data));
    }

    #[test]
    fn generated_safetensors_headers(header in safetensors_header(), data in proptest::collection::vec(any::<u8>(), 0..24)) {
        all_readers(&reframe(&[], header.as_bytes(), &data));
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: cases(), ..ProptestConfig::default() })]

    #[test]
    fn mutated_npz(seed in 0usize..2, mutations in proptest::collection::vec(mutation(), 1..4)) {
        let seeds = npz_seeds();
        all_readers(&apply(seeds[seed].clone(), &mutations));
    }
}
