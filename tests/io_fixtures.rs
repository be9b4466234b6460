//! Files written by NumPy (and one safetensors file written by hand in Python), committed under
//! tests/fixtures/io/ by scripts/gen_io_fixtures.py. The expected values are that script's formulas,
//! recomputed here, so the read path meets real NumPy output even where Python is not installed.

#[allow(dead_code)]
#[path = "../src/io/mod.rs"]
mod io;
mod io_support;

use io::RawArray;
use io::npy::load_npy;
use io::npz::load_npz;
use io::safetensors::load_safetensors;
use io_support::*;
use smelt::{DType, Error, Result};

fn raw(dtype: DType, shape: &[usize], data: Vec<u8>) -> RawArray {
    RawArray::new(dtype, shape.to_vec(), data).unwrap()
}

fn load(name: &str) -> RawArray {
    load_npy(&fixture(name)).unwrap_or_else(|e| panic!("{name}: {e}"))
}

#[test]
fn numpy_npy_files() {
    assert_eq!(
        load("f32_2x3.npy"),
        raw(DType::F32, &[2, 3], f32s(&[0., 1., 2., 3., 4., 5.]))
    );

    let s = load("f64_specials.npy");
    assert_eq!((s.dtype, s.shape.as_slice()), (DType::F64, &[7][..]));
    let v: Vec<f64> = (0..7).map(|i| element(DType::F64, &s.data, i)).collect();
    assert_eq!(v[0].to_bits(), 0f64.to_bits());
    assert_eq!(v[1].to_bits(), (-0f64).to_bits());
    assert_eq!((v[2], v[3]), (f64::INFINITY, f64::NEG_INFINITY));
    assert!(v[4].is_nan());
    assert_eq!(v[5].to_bits(), 1, "the smallest subnormal");
    assert_eq!(v[6], 1.5);

    // np.asfortranarray(np.arange(6).reshape(3, 2) - 3): C order is -3..3.
    assert_eq!(
        load("i64_fortran_3x2.npy"),
        raw(DType::I64, &[3, 2], i64s(&[-3, -2, -1, 0, 1, 2]))
    );
    assert_eq!(
        load("i32_big_endian.npy"),
        raw(DType::I32, &[4], i32s(&[1, -2, i32::MAX, i32::MIN]))
    );
    assert_eq!(load("bool_0d.npy"), raw(DType::Bool, &[], vec![1]));
    assert_eq!(load("u8_empty_0x4.npy"), raw(DType::U8, &[0, 4], vec![]));
    assert_eq!(
        load("f64_v2.npy"),
        raw(DType::F64, &[4], f64s(&[0.0, 0.25, 0.5, 0.75]))
    );
    let c: Vec<f32> = (0..12).map(|i| i as f32).collect();
    assert_eq!(
        load("f32_fortran_v3_2x3x2.npy"),
        raw(DType::F32, &[2, 3, 2], f32s(&c))
    );
}

#[test]
fn numpy_npz_files() {
    let a = raw(DType::I32, &[2, 3], i32s(&[0, 1, 2, 3, 4, 5]));
    let stored = load_npz(&fixture("stored.npz")).unwrap();
    assert_eq!(
        stored,
        vec![
            ("a".to_string(), a.clone()),
            ("b".to_string(), raw(DType::Bool, &[3], vec![1, 0, 1]))
        ]
    );
    let compressed = load_npz(&fixture("compressed.npz")).unwrap();
    assert_eq!(
        compressed,
        vec![
            ("zeros".to_string(), raw(DType::F64, &[1000], vec![0; 8000])),
            ("a".to_string(), a)
        ]
    );
}

#[test]
fn a_hand_written_safetensors_file() {
    let (tensors, metadata) = load_safetensors(&fixture("small.safetensors")).unwrap();
    assert_eq!(
        tensors,
        vec![
            ("idx".to_string(), raw(DType::I64, &[3], i64s(&[7, -1, 0]))),
            ("mask".to_string(), raw(DType::Bool, &[2], vec![1, 0])),
            (
                "w".to_string(),
                raw(DType::F32, &[2, 2], f32s(&[1., 2., 3., 4.]))
            ),
        ]
    );
    let metadata = metadata.unwrap();
    assert_eq!(metadata.len(), 2);
    assert_eq!(metadata["format"], "pt");
    assert_eq!(metadata["note"], "fixture");
}

#[test]
fn the_fixtures_are_not_readable_as_the_wrong_format() {
    // Each reader names the format it expected.
    let e = load_npy(&fixture("stored.npz")).unwrap_err();
    assert!(matches!(e, Error::Format { format: "npy", .. }), "{e}");
    let e = load_npz(&fixture("f32_2x3.npy")).unwrap_err();
    assert!(matches!(e, Error::Format { format: "npz", .. }), "{e}");
    let r: Result<_> = load_safetensors(&fixture("f32_2x3.npy"));
    assert!(matches!(
        r,
        Err(Error::Format {
            format: "safetensors",
            ..
        })
    ));
}
