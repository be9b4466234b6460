//! `.npy` reading and writing: round trips, exact bytes, every layout NumPy writes, and a corpus of bad
//! files each of which must give its own error message (never a panic).

#[allow(dead_code)]
#[path = "../src/io/mod.rs"]
mod io;
mod io_support;

use io::RawArray;
use io::npy::{load_npy, read_npy, read_npy_from, save_npy, write_npy};
use io_support::*;
use smelt::{DType, Error, Result};
use std::path::Path;

fn raw(dtype: DType, shape: &[usize], data: Vec<u8>) -> RawArray {
    RawArray::new(dtype, shape.to_vec(), data).unwrap()
}

/// A `.npy` file with the given version and header text (no padding), followed by `data`.
fn npy(version: (u8, u8), header: &str, data: &[u8]) -> Vec<u8> {
    let mut out = b"\x93NUMPY".to_vec();
    out.extend_from_slice(&[version.0, version.1]);
    if version.0 == 1 {
        out.extend_from_slice(&(header.len() as u16).to_le_bytes());
    } else {
        out.extend_from_slice(&(header.len() as u32).to_le_bytes());
    }
    out.extend_from_slice(header.as_bytes());
    out.extend_from_slice(data);
    out
}

fn v1(header: &str, data: &[u8]) -> Vec<u8> {
    npy((1, 0), header, data)
}

fn read(bytes: &[u8]) -> Result<RawArray> {
    read_npy(bytes, Path::new("bad.npy"))
}

/// The file must be rejected with exactly this message.
fn check_bad(bytes: &[u8], want: &str) {
    match read(bytes) {
        Ok(a) => panic!(
            "expected the error {want:?}, got an array {:?} {:?}",
            a.dtype, a.shape
        ),
        Err(e) => assert_eq!(e.to_string(), want),
    }
}

const SHAPES: &[&[usize]] = &[
    &[],
    &[0],
    &[1],
    &[5],
    &[2, 3],
    &[3, 0, 2],
    &[2, 3, 4],
    &[1, 1, 1, 7],
];

#[test]
fn round_trips_every_dtype_and_shape() {
    for dtype in DType::ALL {
        for (seed, shape) in SHAPES.iter().enumerate() {
            let a = raw(dtype, shape, pattern(dtype, shape, seed as u64));
            let bytes = write_npy(&a);
            let header_len = bytes.len() - a.data.len();
            assert_eq!(
                header_len % 64,
                0,
                "{dtype} {shape:?}: data must start on a 64-byte boundary"
            );
            assert_eq!(&bytes[..8], b"\x93NUMPY\x01\x00");
            assert_eq!(read(&bytes).unwrap(), a, "{dtype} {shape:?}");
        }
    }
}

#[test]
fn writes_exactly_what_numpy_save_writes() {
    // np.save(f, np.arange(6, dtype='<f4').reshape(2, 3)): the dict, 21 - len('2') growth spaces, padding
    // to 128 bytes (10-byte preamble + 118-byte header), a newline, then the data.
    let a = raw(DType::F32, &[2, 3], f32s(&[0.0, 1.0, 2.0, 3.0, 4.0, 5.0]));
    let dict = "{'descr': '<f4', 'fortran_order': False, 'shape': (2, 3), }";
    let mut want = b"\x93NUMPY\x01\x00\x76\x00".to_vec();
    want.extend_from_slice(dict.as_bytes());
    want.resize(127, b' ');
    want.push(b'\n');
    want.extend_from_slice(&a.data);
    assert_eq!(write_npy(&a), want);

    // 0-d: no growth spaces; '|b1' for bool.
    let b = raw(DType::Bool, &[], vec![1]);
    let dict = "{'descr': '|b1', 'fortran_order': False, 'shape': (), }";
    let mut want = b"\x93NUMPY\x01\x00\x76\x00".to_vec();
    want.extend_from_slice(dict.as_bytes());
    want.resize(127, b' ');
    want.extend_from_slice(b"\n\x01");
    assert_eq!(write_npy(&b), want);
}

#[test]
fn a_header_too_long_for_version_1_is_written_as_version_2() {
    // 30000 dims of 1 write "(1, 1, ..., 1)": about 90000 bytes, more than a u16 can count.
    let shape = vec![1usize; 30000];
    let a = raw(DType::I64, &shape, i64s(&[-5]));
    let bytes = write_npy(&a);
    assert_eq!(&bytes[6..8], &[2, 0]);
    let header_len = u32::from_le_bytes(bytes[8..12].try_into().unwrap()) as usize;
    assert_eq!((12 + header_len) % 64, 0);
    assert_eq!(bytes.len(), 12 + header_len + 8);
    assert_eq!(read(&bytes).unwrap(), a);
}

#[test]
fn reads_fortran_order_big_endian_and_every_version() {
    // Fortran order, shape (2, 3): memory holds column after column.
    let f = v1(
        "{'descr': '<f8', 'fortran_order': True, 'shape': (2, 3), }",
        &f64s(&[0., 3., 1., 4., 2., 5.]),
    );
    assert_eq!(
        read(&f).unwrap(),
        raw(DType::F64, &[2, 3], f64s(&[0., 1., 2., 3., 4., 5.]))
    );

    // Fortran, shape (2, 3, 2): element (i, j, k) sits at i + 2j + 6k and holds 100i + 10j + k.
    let mut fdata = [0i32; 12];
    let mut cdata = Vec::new();
    for i in 0..2 {
        for j in 0..3 {
            for k in 0..2 {
                fdata[i + 2 * j + 6 * k] = (100 * i + 10 * j + k) as i32;
                cdata.push((100 * i + 10 * j + k) as i32);
            }
        }
    }
    let fdata: Vec<u8> = fdata.iter().flat_map(|x| x.to_le_bytes()).collect();
    let f3 = npy(
        (3, 0),
        "{'descr': '<i4', 'fortran_order': True, 'shape': (2, 3, 2), }",
        &fdata,
    );
    assert_eq!(
        read(&f3).unwrap(),
        raw(DType::I32, &[2, 3, 2], i32s(&cdata))
    );

    // Fortran with a zero dim and 1-d Fortran (the same as C).
    let fe = v1(
        "{'descr': '<f4', 'fortran_order': True, 'shape': (0, 3), }",
        &[],
    );
    assert_eq!(read(&fe).unwrap(), raw(DType::F32, &[0, 3], vec![]));
    let f1 = v1(
        "{'descr': '<i8', 'fortran_order': True, 'shape': (2,), }",
        &i64s(&[7, 8]),
    );
    assert_eq!(read(&f1).unwrap(), raw(DType::I64, &[2], i64s(&[7, 8])));

    // Big-endian, by hand.
    let be = v1(
        "{'descr': '>i4', 'fortran_order': False, 'shape': (2,), }",
        &[0, 0, 1, 2, 0xff, 0xff, 0xff, 0xfe],
    );
    assert_eq!(
        read(&be).unwrap(),
        raw(DType::I32, &[2], i32s(&[0x0102, -2]))
    );
    let be = v1(
        "{'descr': '>f8', 'fortran_order': False, 'shape': (), }",
        &1.5f64.to_be_bytes(),
    );
    assert_eq!(read(&be).unwrap(), raw(DType::F64, &[], f64s(&[1.5])));
    let be = v1(
        "{'descr': '>f4', 'fortran_order': True, 'shape': (2, 2), }",
        &[1f32, 3., 2., 4.].map(f32::to_be_bytes).concat(),
    );
    assert_eq!(
        read(&be).unwrap(),
        raw(DType::F32, &[2, 2], f32s(&[1., 2., 3., 4.]))
    );

    // Versions 2.0 and 3.0, double quotes, keys in another order, no trailing comma.
    let v2 = npy(
        (2, 0),
        "{\"shape\": (3,), \"fortran_order\": False, \"descr\": \"<i8\"}\n",
        &i64s(&[1, 2, 3]),
    );
    assert_eq!(read(&v2).unwrap(), raw(DType::I64, &[3], i64s(&[1, 2, 3])));
    let v3 = npy(
        (3, 0),
        "{'descr': '<f4', 'fortran_order': False, 'shape': (1,), }",
        &f32s(&[2.5]),
    );
    assert_eq!(read(&v3).unwrap(), raw(DType::F32, &[1], f32s(&[2.5])));

    // One-byte types in any byte order, and Python 2's long integers in a version 1.0 header.
    for descr in ["|u1", "<u1", ">u1", "=u1", "u1"] {
        let h = format!("{{'descr': '{descr}', 'fortran_order': False, 'shape': (2L,), }}");
        assert_eq!(
            read(&v1(&h, &[7, 9])).unwrap(),
            raw(DType::U8, &[2], vec![7, 9]),
            "{descr}"
        );
    }
}

#[test]
fn bool_bytes_other_than_0_and_1_read_as_true() {
    let b = v1(
        "{'descr': '|b1', 'fortran_order': False, 'shape': (4,), }",
        &[0, 1, 2, 255],
    );
    assert_eq!(read(&b).unwrap(), raw(DType::Bool, &[4], vec![0, 1, 1, 1]));
}

#[test]
fn a_reader_of_unknown_length_gets_the_same_checks() {
    let path = Path::new("stream.npy");
    let good = write_npy(&raw(DType::I32, &[3], i32s(&[1, 2, 3])));
    assert_eq!(
        read_npy_from(&mut &good[..], None, path).unwrap().data,
        i32s(&[1, 2, 3])
    );
    let short = &good[..good.len() - 1];
    assert_eq!(
        read_npy_from(&mut &short[..], None, path)
            .unwrap_err()
            .to_string(),
        "stream.npy: npy file is malformed: truncated data: shape (3,) of i32 needs 12 bytes but only 11 follow the header"
    );
    let mut long = good.clone();
    long.extend_from_slice(b"xyz");
    assert_eq!(
        read_npy_from(&mut &long[..], None, path)
            .unwrap_err()
            .to_string(),
        "stream.npy: npy file is malformed: 3 unexpected bytes after the array data (shape (3,) of i32 is 12 bytes)"
    );
}

#[test]
fn bad_files_say_what_is_wrong() {
    let m = "bad.npy: npy file is malformed: ";
    let u = "bad.npy: npy file is not supported: ";
    let h = |descr: &str, fortran: &str, shape: &str| {
        format!("{{'descr': {descr}, 'fortran_order': {fortran}, 'shape': {shape}, }}")
    };
    let f4 = |shape: &str| h("'<f4'", "False", shape);
    let mut huge_v2 = npy((2, 0), "", &[]);
    huge_v2[8..12].copy_from_slice(&0xffff_ffffu32.to_le_bytes());
    let mut long_claim = v1(&f4("(2,)"), &[]);
    long_claim[8] = 200;
    let bad_utf8 = {
        let mut b = npy((3, 0), &h("'<f4'", "False", "()"), &f32s(&[1.0]));
        b[14] = 0xff; // inside 'descr'
        b
    };
    let deep = format!(
        "{{'descr': {}, 'fortran_order': False, 'shape': (), }}",
        "[".repeat(100)
    );
    let cases: Vec<(Vec<u8>, String)> = vec![
        (
            vec![],
            format!("{m}truncated: the file is 0 bytes, too short for the magic string"),
        ),
        (
            b"\x93NUM".to_vec(),
            format!("{m}truncated: the file is 4 bytes, too short for the magic string"),
        ),
        (
            b"PK\x03\x04\x00\x00\x00\x00".to_vec(),
            format!(
                "{m}bad magic: expected \\x93NUMPY, found 'PK\\x03\\x04\\x00\\x00' (a zip archive: is it a .npz?)"
            ),
        ),
        (
            b"\x93NUMPZ\x01\x00".to_vec(),
            format!("{m}bad magic: expected \\x93NUMPY, found '\\x93NUMPZ'"),
        ),
        (
            b"\x93NUMPY\x01".to_vec(),
            format!("{m}truncated: the file ends inside the format version"),
        ),
        (
            b"\x93NUMPY\x04\x00\x10\x00".to_vec(),
            format!("{u}format version 4.0 (smelt reads 1.0, 2.0 and 3.0)"),
        ),
        (
            b"\x93NUMPY\x01\x01\x10\x00".to_vec(),
            format!("{u}format version 1.1 (smelt reads 1.0, 2.0 and 3.0)"),
        ),
        (
            b"\x93NUMPY\x01\x00\x10".to_vec(),
            format!("{m}truncated: the file ends inside the header length"),
        ),
        (
            b"\x93NUMPY\x02\x00\x10\x00\x00".to_vec(),
            format!("{m}truncated: the file ends inside the header length"),
        ),
        (
            long_claim,
            format!("{m}truncated header: it declares 200 bytes but only 57 follow"),
        ),
        (
            huge_v2,
            format!("{m}truncated header: it declares 4294967295 bytes but only 0 follow"),
        ),
        (
            v1("[1, 2]", &[]),
            format!("{m}header is a list, not a dict"),
        ),
        (
            v1("{'descr': '<f4' 'shape': ()}", &[]),
            format!(
                "{m}header is not a Python literal: expected ',' or '}}' in a dict at offset 16, found '''"
            ),
        ),
        (
            v1(
                "{'descr': '<f4', 'fortran_order': False, 'shape': (2,)",
                &[],
            ),
            format!(
                "{m}header is not a Python literal: expected ',' or '}}' in a dict at offset 54, found the end of the header"
            ),
        ),
        (
            v1("{'descr': '<f4', 'fortran_order': False}", &[]),
            format!("{m}header has no 'shape' key"),
        ),
        (
            v1("{'fortran_order': False, 'shape': ()}", &[]),
            format!("{m}header has no 'descr' key"),
        ),
        (
            v1(
                "{'descr': '<f4', 'fortran_order': False, 'shape': (), 'foo': 1}",
                &[],
            ),
            format!("{m}header has an unexpected key 'foo'"),
        ),
        (
            v1(
                "{'descr': '<f4', 'descr': '<f4', 'fortran_order': False, 'shape': ()}",
                &[],
            ),
            format!("{m}header has the key 'descr' twice"),
        ),
        (
            v1("{'descr': '<f4', 'fortran_order': 1, 'shape': ()}", &[]),
            format!("{m}'fortran_order' is the integer 1, not True or False"),
        ),
        (
            v1(&f4("[2, 3]"), &[]),
            format!("{m}'shape' is a list, not a tuple of integers"),
        ),
        (
            v1(&f4("(3)"), &[]),
            format!("{m}'shape' is the integer 3, not a tuple of integers"),
        ),
        (
            v1(&f4("(-1,)"), &[]),
            format!("{m}'shape' has a negative dimension -1"),
        ),
        (
            v1(&f4("(2, -3)"), &[]),
            format!("{m}'shape' has a negative dimension -3"),
        ),
        (
            v1(&f4("('a',)"), &[]),
            format!("{m}'shape' holds the string 'a', not an integer"),
        ),
        (
            v1(&f4("(True,)"), &[]),
            format!("{m}'shape' holds True, not an integer"),
        ),
        (
            v1(&f4("(2.0,)"), &[]),
            format!(
                "{m}header is not a Python literal: only decimal integers are supported, found '.' after the digits at offset 52"
            ),
        ),
        (
            v1(&f4("(99999999999999999999999,)"), &[]),
            format!(
                "{m}'shape' has a dimension 99999999999999999999999 too large for this machine"
            ),
        ),
        (
            v1(&f4("(4294967296, 4294967296)"), &[]),
            format!("{m}shape (4294967296, 4294967296) of f32 is too large to address"),
        ),
        (
            v1(&f4("(0, 9223372036854775807, 2)"), &[]),
            format!("{m}shape (0, 9223372036854775807, 2) of f32 is too large to address"),
        ),
        (
            v1(&h("'<f8'", "False", "(1000000000000,)"), &[]),
            format!(
                "{m}truncated data: shape (1000000000000,) of f64 needs 8000000000000 bytes but only 0 follow the header"
            ),
        ),
        (
            v1(&f4("(2, 3)"), &[0; 20]),
            format!(
                "{m}truncated data: shape (2, 3) of f32 needs 24 bytes but only 20 follow the header"
            ),
        ),
        (
            v1(&h("'<i4'", "False", "(2,)"), &[0; 12]),
            format!("{m}4 unexpected bytes after the array data (shape (2,) of i32 is 8 bytes)"),
        ),
        (
            v1(&h("'<i4'", "False", "()"), &[0; 5]),
            format!("{m}1 unexpected byte after the array data (shape () of i32 is 4 bytes)"),
        ),
        (
            v1(&h("'<f2'", "False", "()"), &[0; 2]),
            format!(
                "{u}dtype '<f2' (float16) is not one of smelt's dtypes (bool, u8, i32, i64, f32, f64)"
            ),
        ),
        (
            v1(&h("'|O'", "False", "()"), &[0; 8]),
            format!(
                "{u}dtype '|O' (pickled Python objects) is not one of smelt's dtypes (bool, u8, i32, i64, f32, f64)"
            ),
        ),
        (
            v1(&h("'|i1'", "False", "()"), &[0]),
            format!(
                "{u}dtype '|i1' (int8) is not one of smelt's dtypes (bool, u8, i32, i64, f32, f64)"
            ),
        ),
        (
            v1(&h("'<u4'", "False", "()"), &[0; 4]),
            format!(
                "{u}dtype '<u4' (an integer width smelt does not hold) is not one of smelt's dtypes (bool, u8, i32, i64, f32, f64)"
            ),
        ),
        (
            v1(&h("'<c16'", "False", "()"), &[0; 16]),
            format!(
                "{u}dtype '<c16' (complex) is not one of smelt's dtypes (bool, u8, i32, i64, f32, f64)"
            ),
        ),
        (
            v1(&h("'<U3'", "False", "()"), &[0; 12]),
            format!(
                "{u}dtype '<U3' (strings) is not one of smelt's dtypes (bool, u8, i32, i64, f32, f64)"
            ),
        ),
        (
            v1(&h("'float32'", "False", "()"), &[0; 4]),
            format!(
                "{u}dtype 'float32' is not one of smelt's dtypes (bool, u8, i32, i64, f32, f64)"
            ),
        ),
        (
            v1(&h("5", "False", "()"), &[]),
            format!("{m}'descr' is the integer 5, not a dtype string"),
        ),
        (
            v1(&h("[('a', '<f4')]", "False", "()"), &[0; 4]),
            format!("{u}structured dtype [('a', '<f4')] (smelt holds plain arrays only)"),
        ),
        (
            v1(&h("f4", "False", "()"), &[]),
            format!(
                "{m}header is not a Python literal: unknown name 'f4' at offset 10 (a header holds only literals)"
            ),
        ),
        (
            bad_utf8,
            format!(
                "{m}the version 3.0 header is not valid UTF-8: invalid utf-8 sequence of 1 bytes from index 2"
            ),
        ),
        (
            npy((3, 0), &f4("(2L,)"), &[0; 8]),
            format!(
                "{m}header is not a Python literal: only decimal integers are supported, found 'L' after the digits at offset 52"
            ),
        ),
        (
            v1(&deep, &[]),
            format!(
                "{m}header is not a Python literal: literals nested more than 32 deep at offset 41"
            ),
        ),
    ];
    for (bytes, want) in &cases {
        check_bad(bytes, want);
    }
}

#[test]
fn save_and_load_through_the_file_system() {
    let dir = TempDir::new("npy");
    let a = raw(DType::F64, &[2, 2], f64s(&[1.0, -2.0, f64::INFINITY, 0.5]));
    let p = dir.join("a.npy");
    save_npy(&p, &a).unwrap();
    assert_eq!(std::fs::read(&p).unwrap(), write_npy(&a));
    assert_eq!(load_npy(&p).unwrap(), a);
    // Overwriting replaces the file and leaves nothing else behind.
    let b = raw(DType::U8, &[3], vec![1, 2, 3]);
    save_npy(&p, &b).unwrap();
    assert_eq!(load_npy(&p).unwrap(), b);
    assert_eq!(dir.entries(), ["a.npy"]);

    // Disk errors are Error::Io naming the path.
    let missing = dir.join("missing.npy");
    match load_npy(&missing) {
        Err(Error::Io { path, source }) => {
            assert_eq!(path, missing);
            assert_eq!(source.kind(), std::io::ErrorKind::NotFound);
        }
        other => panic!("expected Error::Io, got {other:?}"),
    }
    // A truncated file on disk gives the same message as in memory.
    let bytes = write_npy(&a);
    std::fs::write(&p, &bytes[..bytes.len() - 3]).unwrap();
    assert_eq!(
        load_npy(&p).unwrap_err().to_string(),
        format!(
            "{}: npy file is malformed: truncated data: shape (2, 2) of f64 needs 32 bytes but only 29 follow the header",
            p.display()
        )
    );
}
