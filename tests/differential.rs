//! Differential testing: random programs, every CPU backend against the reference interpreter.
//!
//! A seeded generator builds programs from a menu of ops (elementwise, broadcasting, views, reductions,
//! matmuls, casts, softmax, where, cat, pad) over awkward sizes (0, 1, 7, 33, odd tails). Each program
//! is realized on the interpreter and on every other backend, and the values must agree within a
//! tolerance scaled to their magnitude. `SMELT_DIFF_CASES=N` runs more (e.g. millions, with
//! `--ignored`).

use smelt::prelude::*;
use smelt::{Backend, with_backend};

/// A small deterministic generator (xorshift64*), so every case is reproducible from its seed.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }
    fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }
    fn pick<T: Copy>(&mut self, xs: &[T]) -> T {
        xs[self.below(xs.len())]
    }
    fn chance(&mut self, p: f64) -> bool {
        (self.next() % 1000) as f64 / 1000.0 < p
    }
}

const SIZES: [usize; 8] = [1, 2, 3, 5, 7, 16, 33, 0];

fn random_shape(r: &mut Rng, max_rank: usize) -> Vec<usize> {
    let rank = r.below(max_rank + 1);
    (0..rank)
        .map(|_| {
            if r.chance(0.05) {
                0
            } else {
                r.pick(&SIZES[..7])
            }
        })
        .collect()
}

fn random_input(r: &mut Rng, shape: Vec<usize>) -> Tensor {
    let n: usize = shape.iter().product();
    let v: Vec<f32> = (0..n)
        .map(|_| ((r.next() % 20_000) as f32 - 10_000.0) / 2_500.0)
        .collect();
    Tensor::from_vec(v, shape)
}

/// A divisor pair for reshaping `n` elements into two dims.
fn factor(r: &mut Rng, n: usize) -> Vec<usize> {
    if n == 0 {
        return vec![0, r.pick(&[1, 3])];
    }
    let divs: Vec<usize> = (1..=n).filter(|d| n.is_multiple_of(*d)).collect();
    let d = r.pick(&divs);
    vec![d, n / d]
}

/// One random op applied to `x` (and sometimes a fresh operand).
fn step(r: &mut Rng, x: &Tensor) -> Tensor {
    let nd = x.ndim() as isize;
    let dim = |r: &mut Rng| {
        if nd == 0 {
            0
        } else {
            r.below(nd as usize) as isize - if r.chance(0.3) { nd } else { 0 }
        }
    };
    match r.below(20) {
        0 => x.exp().clamp_max(1e4),
        1 => (x.abs() + 1.0).log(),
        2 => x.tanh() * 3.0,
        3 => x.sigmoid() - 0.5,
        4 => x.relu() - x * 0.5,
        5 => {
            // Broadcast against a fresh tensor of a compatible shape (some dims set to 1).
            let shape: Vec<usize> = x
                .dims()
                .iter()
                .map(|&d| if r.chance(0.4) { 1 } else { d })
                .collect();
            let y = random_input(r, shape).to(x.device());
            match r.below(4) {
                0 => x + &y,
                1 => x * &y,
                2 => x / &(y.abs() + 1.0),
                _ => x.maximum(&y),
            }
        }
        6 if nd > 0 => x.sum_dim(&[dim(r)], r.chance(0.5)),
        7 if nd > 0 && x.dims().iter().all(|&d| d > 0) => {
            x.max_dim(&[dim(r)], r.chance(0.5)).clamp(-1e4, 1e4)
        }
        8 if nd > 0 => x.mean_dim(&[dim(r)], r.chance(0.5)),
        9 if nd >= 2 => {
            let mut p: Vec<isize> = (0..nd).collect();
            p.reverse();
            x.permute(&p)
        }
        10 => x.reshape(factor(r, x.numel())),
        11 if nd > 0 => {
            let d = dim(r);
            let n = x.size(d) as isize;
            x.slice(
                d,
                r.below(2) as isize,
                n - r.below(2) as isize,
                1 + r.below(2),
            )
        }
        12 if nd > 0 => {
            let w: Vec<isize> = (0..2)
                .map(|_| r.below(3) as isize - if r.chance(0.2) { 1 } else { 0 })
                .collect();
            let w: Vec<isize> = w
                .iter()
                .map(|&v| v.max(-(x.size(-1) as isize) / 2))
                .collect();
            x.pad(&w, 0.25)
        }
        13 if nd > 0 && x.dims().iter().all(|&d| d > 0) => x.softmax(dim(r)),
        14 if nd > 0 => Tensor::cat(&[x, &(x * 2.0)], dim(r)),
        15 if nd >= 1 && x.size(-1) > 0 => {
            let k = x.size(-1);
            let n = r.pick(&[1, 3, 8]);
            let w = random_input(r, vec![k, n]).to(x.device());
            x.matmul(&w) / (k as f64).sqrt()
        }
        16 => {
            let c = x.gt_scalar(0.1);
            Tensor::where_cond(&c, x, &(x * -2.0))
        }
        17 => x
            .to_dtype(DType::F64)
            .sqrt()
            .nan_to(0.0)
            .to_dtype(DType::F32),
        18 if nd > 0 && x.dims().iter().all(|&d| d > 0) => {
            x.argmax(dim(r), false).to_dtype(DType::F32)
        }
        _ => x.unsqueeze(0).expand({
            let mut s = vec![2];
            s.extend_from_slice(x.dims());
            s
        }),
    }
}

trait NanTo {
    fn nan_to(&self, v: f64) -> Tensor;
}

impl NanTo for Tensor {
    fn nan_to(&self, v: f64) -> Tensor {
        Tensor::where_cond(&self.isnan(), &Tensor::full_like(self, v), self)
    }
}

/// A random program on `device`: one or two inputs, 1..=6 ops.
fn program(seed: u64, device: Device) -> Tensor {
    let mut r = Rng(seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1);
    let shape = random_shape(&mut r, 3);
    let mut x = random_input(&mut r, shape).to(device);
    for _ in 0..1 + r.below(6) {
        x = step(&mut r, &x);
        if x.numel() > 50_000 {
            x = x.sum_dim(&[0], false);
        }
    }
    x
}

fn values(t: &Tensor, backend: Backend) -> Result<Vec<f64>> {
    // detach() makes a new node for the same computation, so each backend computes it afresh.
    with_backend(backend, || t.detach().to_dtype(DType::F64).to_vec::<f64>())
}

fn check_case(seed: u64, backends: &[Backend], gpu: bool) {
    let t = program(seed, Device::Cpu);
    let want = values(&t, Backend::Interp)
        .unwrap_or_else(|e| panic!("seed {seed}: interpreter failed: {e}"));
    let scale = want
        .iter()
        .filter(|v| v.is_finite())
        .fold(1.0f64, |m, v| m.max(v.abs()));
    let mut runs: Vec<(String, Vec<f64>)> = vec![];
    for &b in backends {
        let got = values(&t, b).unwrap_or_else(|e| panic!("seed {seed}: {b:?} failed: {e}"));
        runs.push((format!("{b:?}"), got));
    }
    if gpu {
        let on_gpu = program(seed, Device::Gpu(0));
        let got = on_gpu
            .to_dtype(DType::F64)
            .to_vec::<f64>()
            .unwrap_or_else(|e| panic!("seed {seed}: gpu failed: {e}"));
        runs.push(("gpu".into(), got));
    }
    for (b, got) in runs {
        assert_eq!(got.len(), want.len(), "seed {seed}: {b} length");
        for (i, (w, g)) in want.iter().zip(&got).enumerate() {
            let ok = (w.is_nan() && g.is_nan()) || w == g || (w - g).abs() <= 2e-4 * scale;
            assert!(
                ok,
                "seed {seed}: {b} element {i}: interpreter {w}, got {g}\nprogram shape {:?}",
                t.shape()
            );
        }
    }
}

fn cases() -> u64 {
    std::env::var("SMELT_DIFF_CASES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(300)
}

#[test]
fn random_programs_agree_across_backends() {
    for seed in 0..cases() {
        check_case(seed, &[Backend::Eval, Backend::Jit], false);
    }
}

#[test]
fn random_programs_agree_on_the_gpu() {
    if !smelt::gpu_available() {
        eprintln!("SKIPPED: no GPU adapter");
        return;
    }
    for seed in 0..cases() / 2 {
        check_case(seed, &[], true);
    }
}

#[test]
#[ignore = "long: set SMELT_DIFF_CASES for the number of programs"]
fn many_random_programs() {
    for seed in 1_000_000..1_000_000 + cases() {
        check_case(seed, &[Backend::Eval, Backend::Jit], smelt::gpu_available());
    }
}

/// Programs from long runs that once disagreed, kept as regression cases.
#[test]
fn seeds_that_found_bugs() {
    for seed in [1_001_732, 1_001_584] {
        if std::env::var("SMELT_DIFF_SHOW").is_ok() {
            eprintln!(
                "seed {seed}:\n{}",
                smelt::explain(&[&program(seed, Device::Cpu)])
            );
        }
        check_case(seed, &[Backend::Eval, Backend::Jit], smelt::gpu_available());
    }
}
