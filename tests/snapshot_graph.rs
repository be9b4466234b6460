//! Graph building: the work graph each program collects, and the graph after every pass that changed
//! it, snapshotted in the top-level `snapshots/` (reviewed by hand).

mod programs;

use programs::*;
use smelt::prelude::*;
use smelt::{ClifMode, ExplainOptions, WgslMode};

/// Snapshots the graph after each stage of realizing `t` as `graph_<name>` (an unchanged stage is one
/// line).
fn check(name: &str, t: &Tensor) {
    let options = ExplainOptions {
        clif: ClifMode::Off,
        wgsl: WgslMode::Off,
    };
    let e = smelt::explain_with(&[t], options);
    assert!(e.notes().is_empty(), "{:?}", e.notes());
    let mut text = String::new();
    let mut previous = String::new();
    for (stage, graph) in e.stages() {
        let g = graph.to_string();
        if g == previous {
            text += &format!("== {stage} (unchanged)\n");
        } else {
            text += &format!("== {stage}\n{g}");
        }
        previous = g;
    }
    insta::with_settings!({ snapshot_path => "../snapshots", prepend_module_to_snapshot => false }, {
        insta::assert_snapshot!(format!("graph_{name}"), text);
    });
}

#[test]
fn elementwise_and_reductions() {
    check("elementwise", &elementwise());
    check("softmax", &softmax());
    check("layernorm", &layernorm());
    check("column_sum", &column_sum());
}

#[test]
fn matmul_is_multiply_and_reduce() {
    check("linear_relu", &linear_relu());
}

#[test]
fn large_reduction_is_split() {
    check("big_sum", &big_sum());
}

#[test]
fn movement_gather_and_dtypes() {
    check("movement", &movement());
    check("cross_entropy", &cross_entropy());
    check("cast_where", &cast_where());
}

#[test]
fn shared_nodes_are_merged() {
    // `a * b` written twice is one node; the sum of both uses reads it twice.
    let (a, b) = (f32_input("a", &[3]), f32_input("b", &[3]));
    check("merged", &(&a * &b + &a * &b));
}
