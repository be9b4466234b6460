//! Shared by the `cpu_*` tests: run a compiled kernel on host buffers, random data, and the one `check`
//! that compares the JIT (vectorized and scalar) with the reference evaluator.
#![allow(dead_code)]

pub mod kernels;

use smelt_codegen::cpu::{self, CpuProgram, Options};
use smelt_codegen::eval::{self, HostData};
use smelt_codegen::kernel::{Access, Kernel};
use smelt_codegen::{DType, Scalar};

/// Runs iterations `start..end` of a compiled kernel on `bufs` (checked against the kernel's params).
pub fn run(prog: &CpuProgram, kernel: &Kernel, bufs: &mut [HostData], start: u64, end: u64) {
    eval::check_buffers(kernel, bufs).unwrap();
    assert!(start <= end && end <= kernel.extent);
    let args: Vec<*mut u8> = bufs.iter_mut().map(|b| b.as_mut_ptr()).collect();
    // SAFETY: the buffers match the kernel's parameters (dtype and length), and the range is valid.
    unsafe { (prog.entry())(args.as_ptr(), start, end) };
}

/// A small deterministic generator (splitmix64).
pub struct Rng(pub u64);

impl Rng {
    pub fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }
    /// Uniform in [0, n).
    pub fn below(&mut self, n: u64) -> u64 {
        self.next_u64() % n.max(1)
    }
    /// Uniform in [lo, hi).
    pub fn f64_in(&mut self, lo: f64, hi: f64) -> f64 {
        lo + (hi - lo) * ((self.next_u64() >> 11) as f64 / (1u64 << 53) as f64)
    }
}

/// How input values are drawn.
#[derive(Clone, Copy, Debug)]
pub enum Fill {
    /// Floats uniform in [lo, hi); integers uniform in [lo, hi] (clamped to the dtype).
    Range(f64, f64),
    /// Like `Range`, with one value in eight replaced by an edge case (NaN, ±inf, ±0, subnormal, the
    /// dtype's extremes, -1, 1).
    Edgy(f64, f64),
}

pub fn random(d: DType, len: usize, fill: Fill, rng: &mut Rng) -> HostData {
    let mut out = HostData::zeros(d, len);
    for i in 0..len {
        let (lo, hi, edgy) = match fill {
            Fill::Range(lo, hi) => (lo, hi, false),
            Fill::Edgy(lo, hi) => (lo, hi, true),
        };
        let edge = edgy && rng.below(8) == 0;
        let s = if edge {
            edge_value(d, rng)
        } else {
            plain_value(d, lo, hi, rng)
        };
        out.set(i, s);
    }
    out
}

fn plain_value(d: DType, lo: f64, hi: f64, rng: &mut Rng) -> Scalar {
    match d {
        DType::F32 => Scalar::F32(rng.f64_in(lo, hi) as f32),
        DType::F64 => Scalar::F64(rng.f64_in(lo, hi)),
        DType::Bool => Scalar::Bool(rng.below(2) == 1),
        _ => {
            let (lo, hi) = (lo.floor() as i64, hi.floor() as i64);
            let v = lo + rng.below((hi - lo + 1) as u64) as i64;
            Scalar::I64(v).cast(d)
        }
    }
}

fn edge_value(d: DType, rng: &mut Rng) -> Scalar {
    match d {
        DType::F32 => {
            let e = [
                f32::NAN,
                f32::INFINITY,
                f32::NEG_INFINITY,
                0.0,
                -0.0,
                1e-40,
                -3e-42,
                f32::MAX,
                f32::MIN,
                1.0,
                -1.0,
                0.5,
                2.5,
            ];
            Scalar::F32(e[rng.below(e.len() as u64) as usize])
        }
        DType::F64 => {
            let e = [
                f64::NAN,
                f64::INFINITY,
                f64::NEG_INFINITY,
                0.0,
                -0.0,
                1e-310,
                f64::MAX,
                f64::MIN,
                1.0,
                -1.0,
                0.5,
                2.5,
            ];
            Scalar::F64(e[rng.below(e.len() as u64) as usize])
        }
        DType::Bool => Scalar::Bool(rng.below(2) == 1),
        DType::U8 => Scalar::U8([0u8, 1, 255, 128, 127][rng.below(5) as usize]),
        DType::I32 => Scalar::I32([0, 1, -1, i32::MIN, i32::MAX, 2, -2][rng.below(7) as usize]),
        DType::I64 => Scalar::I64([0, 1, -1, i64::MIN, i64::MAX, 2, -2][rng.below(7) as usize]),
    }
}

/// How close a JIT float must be to the evaluator's.
#[derive(Clone, Copy, Debug)]
pub struct Tol {
    /// Allowed distance in units in the last place.
    pub ulps: u64,
    /// Allowed absolute error (for reassociated sums: a multiple of the sum of magnitudes).
    pub abs: f64,
}

pub const EXACT: Tol = Tol { ulps: 0, abs: 0.0 };

pub fn ulps(tol: u64) -> Tol {
    Tol {
        ulps: tol,
        abs: 0.0,
    }
}

/// Distance in ulps between two finite or infinite floats of the same sign class (as ordered integers).
pub fn ulp_distance_f32(a: f32, b: f32) -> u64 {
    let key = |x: f32| {
        let b = x.to_bits() as i32;
        if b < 0 {
            i32::MIN as i64 - b as i64
        } else {
            b as i64
        }
    };
    (key(a) - key(b)).unsigned_abs()
}

pub fn ulp_distance_f64(a: f64, b: f64) -> u64 {
    let key = |x: f64| {
        let b = x.to_bits() as i64;
        if b < 0 {
            i64::MIN as i128 - b as i128
        } else {
            b as i128
        }
    };
    (key(a) - key(b)).unsigned_abs().min(u64::MAX as u128) as u64
}

/// Compares two buffers element by element; returns a description of the first mismatch.
pub fn compare(want: &HostData, got: &HostData, tol: Tol) -> Result<(), String> {
    assert_eq!(want.len(), got.len());
    for i in 0..want.len() {
        let ok = match (want.get(i), got.get(i)) {
            (Scalar::F32(a), Scalar::F32(b)) => {
                (a.is_nan() && b.is_nan())
                    || a.to_bits() == b.to_bits()
                    || (a == b && tol.ulps > 0)
                    || (!a.is_nan() && !b.is_nan() && ulp_distance_f32(a, b) <= tol.ulps)
                    || ((a - b).abs() as f64) <= tol.abs
            }
            (Scalar::F64(a), Scalar::F64(b)) => {
                (a.is_nan() && b.is_nan())
                    || a.to_bits() == b.to_bits()
                    || (a == b && tol.ulps > 0)
                    || (!a.is_nan() && !b.is_nan() && ulp_distance_f64(a, b) <= tol.ulps)
                    || (a - b).abs() <= tol.abs
            }
            (a, b) => a == b,
        };
        if !ok {
            return Err(format!(
                "element {i}: want {}, got {}",
                want.get(i),
                got.get(i)
            ));
        }
    }
    Ok(())
}

/// Option sets every kernel is checked with: the default (vectorized, inline math), all-scalar, and
/// vectorized without fused multiply-add.
pub fn option_sets() -> Vec<Options> {
    vec![
        Options::default(),
        Options {
            vectorize: false,
            ..Options::default()
        },
        Options {
            fma: false,
            ..Options::default()
        },
    ]
}

/// Runs `kernel` on `inputs` (all buffers, outputs zeroed or pre-filled) with the evaluator and the JIT
/// under every option set, over the whole range and over sub-ranges; compares the written buffers.
pub fn check(kernel: &Kernel, inputs: &[HostData], tol: Tol) {
    check_with(kernel, inputs, tol, &option_sets());
}

/// [`check`] with the given option sets.
pub fn check_with(kernel: &Kernel, inputs: &[HostData], tol: Tol, options: &[Options]) {
    let written: Vec<usize> = kernel
        .params
        .iter()
        .enumerate()
        .filter(|(_, p)| p.access == Access::Write)
        .map(|(i, _)| i)
        .collect();
    let n = kernel.extent;
    let mut ranges = vec![(0, n)];
    if n > 2 {
        ranges.push((1, n - 1));
        ranges.push((n / 3, n / 3 + 1));
        ranges.push((n / 2, n));
    }
    for (start, end) in ranges {
        let mut want = inputs.to_vec();
        eval::eval_range(kernel, &mut want, start, end).unwrap();
        for &opts in options {
            let prog = cpu::compile_with(kernel, opts).unwrap_or_else(|e| panic!("{e}\n{kernel}"));
            let mut got = inputs.to_vec();
            run(&prog, kernel, &mut got, start, end);
            for &w in &written {
                if let Err(e) = compare(&want[w], &got[w], tol) {
                    panic!(
                        "kernel {} b{w} range {start}..{end} options {opts:?}: {e}\n{kernel}",
                        kernel.name
                    );
                }
            }
        }
    }
}

/// The bytes of a buffer as kernels see them (little-endian, bool as 0/1).
pub fn to_bytes(h: &HostData) -> Vec<u8> {
    match h {
        HostData::Bool(v) => v.iter().map(|&b| b as u8).collect(),
        HostData::U8(v) => v.clone(),
        HostData::I32(v) => v.iter().flat_map(|x| x.to_le_bytes()).collect(),
        HostData::I64(v) => v.iter().flat_map(|x| x.to_le_bytes()).collect(),
        HostData::F32(v) => v.iter().flat_map(|x| x.to_le_bytes()).collect(),
        HostData::F64(v) => v.iter().flat_map(|x| x.to_le_bytes()).collect(),
    }
}

/// The inverse of [`to_bytes`]; panics on a bool byte other than 0 or 1.
pub fn from_bytes(d: DType, bytes: &[u8]) -> HostData {
    match d {
        DType::Bool => HostData::Bool(
            bytes
                .iter()
                .map(|&b| {
                    assert!(b <= 1, "a bool byte holds {b}");
                    b == 1
                })
                .collect(),
        ),
        DType::U8 => HostData::U8(bytes.to_vec()),
        DType::I32 => HostData::I32(
            bytes
                .chunks(4)
                .map(|c| i32::from_le_bytes(c.try_into().unwrap()))
                .collect(),
        ),
        DType::I64 => HostData::I64(
            bytes
                .chunks(8)
                .map(|c| i64::from_le_bytes(c.try_into().unwrap()))
                .collect(),
        ),
        DType::F32 => HostData::F32(
            bytes
                .chunks(4)
                .map(|c| f32::from_le_bytes(c.try_into().unwrap()))
                .collect(),
        ),
        DType::F64 => HostData::F64(
            bytes
                .chunks(8)
                .map(|c| f64::from_le_bytes(c.try_into().unwrap()))
                .collect(),
        ),
    }
}
