//! The search always stops: node, iteration and time limits, with the stop reason reported; the
//! default limits let a 1,000-node graph saturate; a pathological graph stops at a limit and still
//! gives a valid, equivalent graph.

mod simplify_common;

use simplify_common::{Compare, Rng, check_sound, layered_graph};
use smelt_passes::simplify::{Limits, SimplifyOptions, Stop, simplify};
use smelt_passes::{DType, Graph, Op, TypeInfo};
use std::time::{Duration, Instant};

/// A chain of `n` permutes of a rank-6 tensor: every run of consecutive permutes composes into one,
/// so the e-graph grows with the square of `n` (about n²/2 permute nodes).
fn permute_chain(n: usize) -> Graph {
    let mut g = Graph::new();
    let mut x = g.input(TypeInfo {
        shape: vec![1, 2, 1, 2, 1, 2],
        dtype: DType::F32,
    });
    let perms = [
        [1, 2, 3, 4, 5, 0],
        [0, 2, 1, 3, 5, 4],
        [5, 4, 3, 2, 1, 0],
        [2, 0, 1, 5, 3, 4],
    ];
    for i in 0..n {
        x = g.add(Op::Permute(perms[i % perms.len()].to_vec()), &[x]);
    }
    g.outputs = vec![x];
    g
}

/// The fewest layers of [`layered_graph`] that make at least 1,000 nodes (33 a layer, the three
/// constants once).
const THOUSAND_LAYERS: usize = 31;

fn with_limits(nodes: usize, iterations: usize, time: Duration) -> SimplifyOptions {
    SimplifyOptions {
        limits: Limits {
            nodes,
            iterations,
            time,
        },
        ..SimplifyOptions::default()
    }
}

#[test]
fn pathological_graph_stops_at_the_default_limits() {
    let g = permute_chain(400);
    let s = check_sound(
        &g,
        &SimplifyOptions::default(),
        &mut Rng::new(1),
        3,
        true,
        Compare::Bitwise,
    )
    .unwrap();
    let limits = Limits::default();
    eprintln!("{}{:?}", s.report, s.report.time);
    match s.report.stop {
        Stop::NodeLimit(n) => assert!(n > limits.nodes, "{}", s.report),
        Stop::TimeLimit => {}
        _ => panic!("expected a node or time limit:\n{}", s.report),
    }
    assert!(
        s.graph.len() < g.len(),
        "some permutes still compose before the limit:\n{}",
        s.report
    );
}

#[test]
fn node_limit() {
    let g = permute_chain(60);
    let s = check_sound(
        &g,
        &with_limits(200, 100, Duration::from_secs(60)),
        &mut Rng::new(2),
        3,
        true,
        Compare::Bitwise,
    )
    .unwrap();
    assert!(
        matches!(s.report.stop, Stop::NodeLimit(n) if n > 200),
        "{}",
        s.report
    );
}

#[test]
fn iteration_limit() {
    let g = permute_chain(60);
    let s = check_sound(
        &g,
        &with_limits(1_000_000, 2, Duration::from_secs(60)),
        &mut Rng::new(3),
        3,
        true,
        Compare::Bitwise,
    )
    .unwrap();
    assert_eq!(s.report.stop, Stop::IterationLimit(2), "{}", s.report);
    assert_eq!(s.report.iterations, 2);
}

#[test]
fn time_limit() {
    let g = permute_chain(300);
    let s = check_sound(
        &g,
        &with_limits(10_000_000, 1000, Duration::ZERO),
        &mut Rng::new(4),
        3,
        true,
        Compare::Bitwise,
    )
    .unwrap();
    assert_eq!(s.report.stop, Stop::TimeLimit, "{}", s.report);
}

#[test]
fn a_short_chain_saturates() {
    // 8 permutes of rank 6 compose to one permute (or none): checked by hand below.
    let g = permute_chain(8);
    let s = check_sound(
        &g,
        &SimplifyOptions::default(),
        &mut Rng::new(5),
        3,
        true,
        Compare::Bitwise,
    )
    .unwrap();
    assert_eq!(s.report.stop, Stop::Saturated);
    // The four permutations, applied twice, compose to the identity or a single permute.
    assert!(s.graph.len() <= 2, "{}", s.graph);
}

#[test]
fn thousand_node_graph_saturates_within_the_default_limits() {
    let g = layered_graph(THOUSAND_LAYERS);
    assert_eq!(g.len(), 1027);
    let s = check_sound(
        &g,
        &SimplifyOptions::default(),
        &mut Rng::new(6),
        1,
        false,
        Compare::Close,
    )
    .unwrap();
    assert_eq!(s.report.stop, Stop::Saturated, "{}", s.report);
    // Per layer (33 nodes): x*1, +0, a double transpose, f32→f64→f32, a double negation and a reshape
    // pair go (10 nodes); recip(expand(s)) becomes expand(recip(s)) (fewer elements). 23 nodes a layer,
    // with the input and the two constants still used: 1 + 31 × 23 + 2.
    assert_eq!(s.graph.len(), 716, "{}", s.report);
}

/// Run with `cargo test --release -p smelt-passes --test simplify_limits -- --ignored --nocapture`.
#[test]
#[ignore = "timing: meaningful in release only"]
fn thousand_node_graph_under_5ms() {
    let g = layered_graph(THOUSAND_LAYERS);
    assert!(g.len() >= 1000);
    let opts = SimplifyOptions::default();
    simplify(&g, &opts);
    let mut times: Vec<Duration> = (0..50)
        .map(|_| {
            let t = Instant::now();
            simplify(&g, &opts);
            t.elapsed()
        })
        .collect();
    times.sort();
    let median = times[times.len() / 2];
    eprintln!("1,000-node graph: min {:?}, median {median:?}", times[0]);
    if !cfg!(debug_assertions) {
        assert!(median < Duration::from_millis(5), "median {median:?}");
    }
}
