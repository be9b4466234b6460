//! Shared by the GPU test files: the context (or a printed skip), host data of every dtype, and running a
//! hand-built kernel on the GPU.
#![allow(dead_code)]

use smelt::runtime::gpu::{self, GpuBuffer, GpuContext, GpuError};
use smelt_codegen::kernel::{Access, Kernel};
use smelt_codegen::wgsl;
use smelt_codegen::{DType, Scalar};

/// The first GPU, or `None` after printing why the test is skipped.
pub fn ctx() -> Option<&'static GpuContext> {
    match gpu::context(0) {
        Ok(c) => Some(c),
        Err(e) => {
            eprintln!("SKIPPED: no GPU to run on ({e})");
            None
        }
    }
}

/// Whether the adapter can run `d` (f64/i64 need features); prints a skip line when it cannot.
pub fn has(ctx: &GpuContext, d: DType) -> bool {
    let ok = ctx.caps().supports(d);
    if !ok {
        eprintln!("SKIPPED {d} cases: {} lacks {d}", ctx.name());
    }
    ok
}

/// Host data of one dtype.
#[derive(Clone, Debug, PartialEq)]
pub enum Data {
    Bool(Vec<bool>),
    U8(Vec<u8>),
    I32(Vec<i32>),
    I64(Vec<i64>),
    F32(Vec<f32>),
    F64(Vec<f64>),
}

impl Data {
    pub fn dtype(&self) -> DType {
        match self {
            Data::Bool(_) => DType::Bool,
            Data::U8(_) => DType::U8,
            Data::I32(_) => DType::I32,
            Data::I64(_) => DType::I64,
            Data::F32(_) => DType::F32,
            Data::F64(_) => DType::F64,
        }
    }

    pub fn len(&self) -> usize {
        match self {
            Data::Bool(v) => v.len(),
            Data::U8(v) => v.len(),
            Data::I32(v) => v.len(),
            Data::I64(v) => v.len(),
            Data::F32(v) => v.len(),
            Data::F64(v) => v.len(),
        }
    }

    pub fn bytes(&self) -> Vec<u8> {
        match self {
            Data::Bool(v) => v.iter().map(|&b| b as u8).collect(),
            Data::U8(v) => v.clone(),
            Data::I32(v) => v.iter().flat_map(|x| x.to_le_bytes()).collect(),
            Data::I64(v) => v.iter().flat_map(|x| x.to_le_bytes()).collect(),
            Data::F32(v) => v.iter().flat_map(|x| x.to_le_bytes()).collect(),
            Data::F64(v) => v.iter().flat_map(|x| x.to_le_bytes()).collect(),
        }
    }

    pub fn from_bytes(d: DType, b: &[u8]) -> Data {
        match d {
            DType::Bool => Data::Bool(b.iter().map(|&x| x != 0).collect()),
            DType::U8 => Data::U8(b.to_vec()),
            DType::I32 => Data::I32(
                b.chunks_exact(4)
                    .map(|c| i32::from_le_bytes(c.try_into().unwrap()))
                    .collect(),
            ),
            DType::I64 => Data::I64(
                b.chunks_exact(8)
                    .map(|c| i64::from_le_bytes(c.try_into().unwrap()))
                    .collect(),
            ),
            DType::F32 => Data::F32(
                b.chunks_exact(4)
                    .map(|c| f32::from_le_bytes(c.try_into().unwrap()))
                    .collect(),
            ),
            DType::F64 => Data::F64(
                b.chunks_exact(8)
                    .map(|c| f64::from_le_bytes(c.try_into().unwrap()))
                    .collect(),
            ),
        }
    }

    /// The values as scalars.
    pub fn scalars(&self) -> Vec<Scalar> {
        match self {
            Data::Bool(v) => v.iter().map(|&x| Scalar::Bool(x)).collect(),
            Data::U8(v) => v.iter().map(|&x| Scalar::U8(x)).collect(),
            Data::I32(v) => v.iter().map(|&x| Scalar::I32(x)).collect(),
            Data::I64(v) => v.iter().map(|&x| Scalar::I64(x)).collect(),
            Data::F32(v) => v.iter().map(|&x| Scalar::F32(x)).collect(),
            Data::F64(v) => v.iter().map(|&x| Scalar::F64(x)).collect(),
        }
    }

    pub fn from_scalars(d: DType, s: &[Scalar]) -> Data {
        let bytes: Vec<u8> = s
            .iter()
            .flat_map(|x| match *x {
                Scalar::Bool(v) => vec![v as u8],
                Scalar::U8(v) => vec![v],
                Scalar::I32(v) => v.to_le_bytes().to_vec(),
                Scalar::I64(v) => v.to_le_bytes().to_vec(),
                Scalar::F32(v) => v.to_le_bytes().to_vec(),
                Scalar::F64(v) => v.to_le_bytes().to_vec(),
            })
            .collect();
        Data::from_bytes(d, &bytes)
    }

    pub fn f32(&self) -> &[f32] {
        let Data::F32(v) = self else {
            panic!("{self:?} is not f32")
        };
        v
    }
    pub fn f64(&self) -> &[f64] {
        let Data::F64(v) = self else {
            panic!("{self:?} is not f64")
        };
        v
    }
    pub fn i32(&self) -> &[i32] {
        let Data::I32(v) = self else {
            panic!("{self:?} is not i32")
        };
        v
    }
}

/// Compiles `k` for the context, uploads `inputs` to the read parameters (in order), runs it and returns
/// the written parameters (in order).
pub fn try_run(ctx: &GpuContext, k: &Kernel, inputs: &[Data]) -> Result<Vec<Data>, GpuError> {
    let program = wgsl::compile(k, &ctx.caps())?;
    let mut inputs = inputs.iter();
    let mut bufs: Vec<GpuBuffer> = Vec::new();
    for p in &k.params {
        bufs.push(match p.access {
            Access::Read => {
                let data = inputs.next().expect("an input per read parameter");
                assert_eq!(
                    (data.dtype(), data.len() as u64),
                    (p.dtype, p.len),
                    "input for {}",
                    k.name
                );
                ctx.upload(p.dtype, &data.bytes())?
            }
            Access::Write => ctx.create_buffer(p.dtype, p.len)?,
        });
    }
    let refs: Vec<&GpuBuffer> = bufs.iter().collect();
    ctx.run(&program, &refs)?;
    let mut out = Vec::new();
    for (p, b) in k.params.iter().zip(&bufs) {
        if p.access == Access::Write {
            out.push(Data::from_bytes(p.dtype, &ctx.download(b)?));
        }
    }
    Ok(out)
}

pub fn run(ctx: &GpuContext, k: &Kernel, inputs: &[Data]) -> Vec<Data> {
    try_run(ctx, k, inputs).unwrap_or_else(|e| panic!("{}: {e}", k.name))
}

/// `|got - want| <= abs + rel·|want|`, with NaN only matching NaN and infinities matching exactly.
pub fn close(got: f64, want: f64, abs: f64, rel: f64) -> bool {
    if want.is_nan() || got.is_nan() {
        return want.is_nan() && got.is_nan();
    }
    if want.is_infinite() || got.is_infinite() {
        return got == want;
    }
    (got - want).abs() <= abs + rel * want.abs()
}

/// erf by composite Simpson integration of 2/√π·e^{-t²} (5·10^4 steps, Kahan summation): independent of
/// the series and continued fraction the backend uses, accurate to ~1e-16.
pub fn erf_reference(x: f64) -> f64 {
    if x.is_nan() {
        return x;
    }
    if x.abs() > 6.0 {
        return x.signum();
    }
    let n = 50_000;
    let h = x / n as f64;
    let (mut s, mut c) = (0.0f64, 0.0f64);
    for i in 0..=n {
        let t = i as f64 * h;
        let w = if i == 0 || i == n {
            1.0
        } else if i % 2 == 1 {
            4.0
        } else {
            2.0
        };
        let y = w * (-t * t).exp() - c;
        let tt = s + y;
        c = (tt - s) - y;
        s = tt;
    }
    s * h / 3.0 * std::f64::consts::FRAC_2_SQRT_PI
}
