//! Realize overhead of a small cached graph (W5a's shape): build a 100-op chain, realize, read.
use smelt::prelude::*;
use std::time::Instant;
fn main() {
    let n: usize = std::env::args()
        .nth(1)
        .and_then(|a| a.parse().ok())
        .unwrap_or(2000);
    let x0 = Tensor::zeros([16], DType::F32).realize().unwrap();
    let build = || {
        let mut x = x0.clone();
        for _ in 0..100 {
            x = x + 1.0;
        }
        x
    };
    for _ in 0..20 {
        build().to_vec::<f32>().unwrap();
    }
    let s = Instant::now();
    let mut keep = vec![];
    for _ in 0..n {
        keep.push(build());
    }
    let t_build = s.elapsed().as_secs_f64() / n as f64;
    let s = Instant::now();
    for t in &keep {
        t.realize().unwrap();
    }
    let t_real = s.elapsed().as_secs_f64() / n as f64;
    println!(
        "build {:.1} us, realize {:.1} us per 100-op chain",
        t_build * 1e6,
        t_real * 1e6
    );
}
