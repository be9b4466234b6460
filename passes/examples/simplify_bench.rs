//! Times `simplify` on a model-like graph of 1,027 nodes (31 layers) and prints the report.
//!
//! ```text
//! cargo run --release -p smelt-passes --example simplify_bench [layers]
//! ```
//!
//! Prints wall times (min and median over the runs) and, on Linux, the process CPU time per run from
//! `/proc/self/stat`, which a busy machine inflates less than wall time.

#[path = "../tests/simplify_common/mod.rs"]
mod simplify_common;

use smelt_passes::simplify::{SimplifyOptions, simplify};
use std::time::{Duration, Instant};

/// User + system CPU time of this process, in seconds (Linux; `None` elsewhere).
fn cpu_seconds() -> Option<f64> {
    let stat = std::fs::read_to_string("/proc/self/stat").ok()?;
    let fields: Vec<&str> = stat.rsplit_once(')')?.1.split_whitespace().collect();
    let ticks: f64 = fields.get(11)?.parse::<f64>().ok()? + fields.get(12)?.parse::<f64>().ok()?;
    Some(ticks / 100.0)
}

fn main() {
    let layers: usize = std::env::args()
        .nth(1)
        .and_then(|s| s.parse().ok())
        .unwrap_or(31);
    let g = simplify_common::layered_graph(layers);
    let mut opts = SimplifyOptions::default();
    if let Ok(n) = std::env::var("ITERS") {
        opts.limits.iterations = n.parse().unwrap();
    }
    let first = simplify(&g, &opts); // builds the rule tables once
    let runs = 200;
    let cpu0 = cpu_seconds();
    let mut times: Vec<Duration> = (0..runs)
        .map(|_| {
            let t = Instant::now();
            let s = simplify(&g, &opts);
            let dt = t.elapsed();
            assert_eq!(s.graph.len(), first.graph.len());
            dt
        })
        .collect();
    let cpu = cpu0.zip(cpu_seconds()).map(|(a, b)| (b - a) / runs as f64);
    times.sort();
    println!("graph: {} nodes ({layers} layers)", g.len());
    print!("{}", first.report);
    let ms = |d: Duration| d.as_secs_f64() * 1e3;
    println!(
        "wall over {runs} runs: min {:.3} ms, median {:.3} ms",
        ms(times[0]),
        ms(times[runs / 2])
    );
    if let Some(cpu) = cpu {
        println!("cpu per run: {:.3} ms", cpu * 1e3);
    }
}
