//! The benchmark workloads of `shared/bench` (W1–W5), each beside the best peer's figure measured on the
//! reference machine (2 cores, AVX-512), and the ratio.
//!
//! ```sh
//! cargo run --release --example bench            # everything
//! cargo run --release --example bench -- w1 w3   # some workloads
//! ```
//!
//! Each figure is the median of several timed runs after warm-up, completion included: the result is
//! realized and its data is on the host. Machines are noisy: compare ratios measured in one run.

use smelt::nn::{self, Linear, Module};
use smelt::optim::{Optimizer, Sgd};
use smelt::prelude::*;
use std::time::{Duration, Instant};

/// Median of `runs` timings of `f` after `warmup` untimed runs.
fn median(warmup: usize, runs: usize, mut f: impl FnMut()) -> Duration {
    for _ in 0..warmup {
        f();
    }
    let mut t: Vec<Duration> = (0..runs)
        .map(|_| {
            let s = Instant::now();
            f();
            s.elapsed()
        })
        .collect();
    t.sort();
    t[runs / 2]
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1e3
}

/// One row: smelt's figure, the peer's, and smelt relative to the peer (> 1 means smelt is faster).
fn row(
    id: &str,
    what: &str,
    smelt: f64,
    peer: f64,
    peer_name: &str,
    unit: &str,
    higher_is_better: bool,
) {
    let speedup = if higher_is_better {
        smelt / peer
    } else {
        peer / smelt
    };
    println!(
        "{id:<5} {what:<34} {smelt:>10.3} {unit:<7} {peer:>10.3} {unit:<7} {peer_name:<16} {speedup:>6.2}x"
    );
}

fn realized(t: Tensor) -> Tensor {
    t.realize().expect("realize")
}

fn input(shape: &[usize]) -> Tensor {
    realized(Tensor::randn(shape.to_vec(), DType::F32))
}

/// Realizes `t` and brings one element to the host (completion included).
fn finish(t: &Tensor) {
    t.realize().expect("realize");
    let _ = t.as_slice::<f32>().expect("host data")[0];
}

fn w1() {
    let n = 1 << 24;
    let (a, b, c) = (input(&[n]), input(&[n]), input(&[n]));
    let d = median(2, 15, || finish(&(a.exp() * &b + &c)));
    row(
        "W1a",
        "exp(a)*b + c, 2^24",
        ms(d),
        21.2,
        "torch.compile",
        "ms",
        false,
    );
    let x = input(&[n]);
    let d = median(2, 15, || finish(&x.gelu_tanh()));
    row(
        "W1b",
        "gelu-tanh, 2^24",
        ms(d),
        29.1,
        "jax.jit",
        "ms",
        false,
    );
}

fn w2() {
    let v = input(&[1 << 24]);
    let d = median(3, 21, || finish(&v.sum()));
    row("W2a", "sum of 2^24", ms(d), 1.19, "torch", "ms", false);
    let m = input(&[4096, 4096]);
    let d = median(2, 15, || finish(&m.softmax(-1)));
    row(
        "W2b",
        "row softmax 4096x4096",
        ms(d),
        19.6,
        "jax.jit",
        "ms",
        false,
    );
    let d = median(3, 21, || finish(&m.mean_dim(&[0], false)));
    row(
        "W2c",
        "mean over axis 0, 4096x4096",
        ms(d),
        2.22,
        "jax.jit",
        "ms",
        false,
    );
}

fn w3() {
    let peers = [
        (64, 125.6, "numpy"),
        (256, 329.4, "torch"),
        (1024, 361.3, "torch"),
        (2048, 373.7, "torch"),
    ];
    for (n, peer, name) in peers {
        let (a, b) = (input(&[n, n]), input(&[n, n]));
        let runs = if n >= 2048 { 5 } else { 15 };
        let d = median(2, runs, || finish(&a.matmul(&b)));
        let gflops = 2.0 * (n as f64).powi(3) / d.as_secs_f64() / 1e9;
        row(
            "W3a",
            &format!("matmul {n}x{n}x{n}"),
            gflops,
            peer,
            name,
            "GFLOP/s",
            true,
        );
    }
    let n = 1024;
    let (a, w, b) = (input(&[n, n]), input(&[n, n]), input(&[n]));
    let d = median(2, 15, || finish(&(a.matmul(&w) + &b).relu()));
    let gflops = 2.0 * (n as f64).powi(3) / d.as_secs_f64() / 1e9;
    row(
        "W3b",
        "relu(A@W + b), 1024",
        gflops,
        2.0 * 1024f64.powi(3) / 6.15e-3 / 1e9,
        "torch",
        "GFLOP/s",
        true,
    );
}

fn w4() {
    smelt::manual_seed(0);
    let model = nn::Sequential::new()
        .append(Linear::new(784, 512))
        .append(nn::Activation::Relu)
        .append(Linear::new(512, 512))
        .append(nn::Activation::Relu)
        .append(Linear::new(512, 10));
    let mut opt = Sgd::new(model.parameters(), 0.01);
    let x = input(&[256, 784]);
    let y = realized(Tensor::from_vec(
        (0..256).map(|i| (i % 10) as i64).collect::<Vec<_>>(),
        [256],
    ));
    let mut step = || {
        opt.zero_grad();
        let loss = nn::cross_entropy(&model.forward(&x), &y);
        loss.backward();
        opt.step().expect("step");
    };
    let d = median(3, 20, &mut step);
    row(
        "W4",
        "MLP train step, batch 256",
        ms(d),
        3.39,
        "jax.jit",
        "ms",
        false,
    );
}

fn w5() {
    let x0 = realized(Tensor::zeros([16], DType::F32));
    let chain = || {
        let mut x = x0.clone();
        for _ in 0..100 {
            x = x + 1.0;
        }
        let v = x.to_vec::<f32>().expect("data");
        assert_eq!(v[0], 100.0);
    };
    let d = median(20, 201, chain);
    row(
        "W5a",
        "100 x (x + 1.0), 16 elements",
        d.as_secs_f64() * 1e6,
        4.8,
        "jax.jit",
        "us",
        false,
    );
    // W5b: first realize minus steady realize of gelu-tanh in a fresh process, median of 5 processes.
    let exe = std::env::current_exe().expect("own path");
    let mut costs: Vec<f64> = (0..5)
        .map(|_| {
            let out = std::process::Command::new(&exe)
                .arg("--w5b-child")
                .output()
                .expect("child");
            String::from_utf8_lossy(&out.stdout)
                .trim()
                .parse::<f64>()
                .expect("child prints ms")
        })
        .collect();
    costs.sort_by(f64::total_cmp);
    row(
        "W5b",
        "gelu first call - steady (compile)",
        costs[2],
        66.0,
        "jax.jit",
        "ms",
        false,
    );
}

/// In a fresh process: time the first gelu-tanh realize and a steady one; print the difference in ms.
fn w5b_child() {
    let x = input(&[1 << 24]);
    let s = Instant::now();
    finish(&x.gelu_tanh());
    let first = s.elapsed();
    let steady = median(1, 5, || finish(&x.gelu_tanh()));
    println!("{}", ms(first) - ms(steady));
}

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    if args.iter().any(|a| a == "--w5b-child") {
        return w5b_child();
    }
    let want = |w: &str| args.is_empty() || args.iter().any(|a| a == w);
    println!(
        "smelt {} on {} threads (median of timed runs; ratio > 1: smelt faster)",
        env!("CARGO_PKG_VERSION"),
        rayon_threads()
    );
    println!(
        "{:<5} {:<34} {:>18} {:>18} {:<16} {:>7}",
        "id", "workload", "smelt", "best peer", "peer", "ratio"
    );
    if want("w1") {
        w1();
    }
    if want("w2") {
        w2();
    }
    if want("w3") {
        w3();
    }
    if want("w4") {
        w4();
    }
    if want("w5") {
        w5();
    }
}

fn rayon_threads() -> usize {
    std::thread::available_parallelism().map_or(1, |n| n.get())
}
