//! Shared by the `io_*` tests: temporary directories, fixture paths, element bytes.
#![allow(dead_code)]

use smelt::DType;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};

/// A fresh directory under the system temp dir, removed on drop.
pub struct TempDir(PathBuf);

impl TempDir {
    pub fn new(tag: &str) -> TempDir {
        static N: AtomicU64 = AtomicU64::new(0);
        let n = N.fetch_add(1, Ordering::Relaxed);
        let dir = std::env::temp_dir().join(format!("smelt-io-{tag}-{}-{n}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        TempDir(dir)
    }

    pub fn path(&self) -> &Path {
        &self.0
    }

    pub fn join(&self, name: &str) -> PathBuf {
        self.0.join(name)
    }

    /// The names in the directory, sorted.
    pub fn entries(&self) -> Vec<String> {
        let mut names: Vec<String> = std::fs::read_dir(&self.0)
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .collect();
        names.sort();
        names
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

pub fn fixture(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/io")
        .join(name)
}

pub fn f32s(v: &[f32]) -> Vec<u8> {
    v.iter().flat_map(|x| x.to_ne_bytes()).collect()
}
pub fn f64s(v: &[f64]) -> Vec<u8> {
    v.iter().flat_map(|x| x.to_ne_bytes()).collect()
}
pub fn i32s(v: &[i32]) -> Vec<u8> {
    v.iter().flat_map(|x| x.to_ne_bytes()).collect()
}
pub fn i64s(v: &[i64]) -> Vec<u8> {
    v.iter().flat_map(|x| x.to_ne_bytes()).collect()
}

/// Element `i` of native-endian `data` as f64 (bool and ints exactly; i64 beyond 2^53 rounds).
pub fn element(dtype: DType, data: &[u8], i: usize) -> f64 {
    let s = dtype.size_bytes();
    let b = &data[i * s..(i + 1) * s];
    match dtype {
        DType::Bool | DType::U8 => b[0] as f64,
        DType::I32 => i32::from_ne_bytes(b.try_into().unwrap()) as f64,
        DType::I64 => i64::from_ne_bytes(b.try_into().unwrap()) as f64,
        DType::F32 => f32::from_ne_bytes(b.try_into().unwrap()) as f64,
        DType::F64 => f64::from_ne_bytes(b.try_into().unwrap()),
    }
}

/// A deterministic array of `dtype` and `shape` whose values cover the dtype's range and, for floats,
/// NaN, infinities and -0.0.
pub fn pattern(dtype: DType, shape: &[usize], seed: u64) -> Vec<u8> {
    let n: usize = shape.iter().product();
    let mut state = seed
        .wrapping_mul(6364136223846793005)
        .wrapping_add(1442695040888963407);
    let mut next = move || {
        state = state
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        state
    };
    let mut out = Vec::with_capacity(n * dtype.size_bytes());
    for i in 0..n {
        let r = next();
        match dtype {
            DType::Bool => out.push((r >> 63) as u8),
            DType::U8 => out.push((r >> 56) as u8),
            DType::I32 => out.extend_from_slice(&((r >> 32) as i32).to_ne_bytes()),
            DType::I64 => out.extend_from_slice(&(r as i64).to_ne_bytes()),
            DType::F32 => {
                let specials = [
                    f32::NAN,
                    f32::INFINITY,
                    f32::NEG_INFINITY,
                    -0.0,
                    f32::MIN_POSITIVE / 8.0,
                ];
                let v = if i % 7 == 3 {
                    specials[(r % 5) as usize]
                } else {
                    ((r >> 40) as f32 - 8e6) / 1024.0
                };
                out.extend_from_slice(&v.to_ne_bytes());
            }
            DType::F64 => {
                let specials = [f64::NAN, f64::INFINITY, f64::NEG_INFINITY, -0.0, 5e-324];
                let v = if i % 7 == 3 {
                    specials[(r % 5) as usize]
                } else {
                    ((r >> 11) as f64 - 4e15) / 3.0
                };
                out.extend_from_slice(&v.to_ne_bytes());
            }
        }
    }
    out
}
