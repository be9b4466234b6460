//! Lowering: the kernel IR of every kernel each program schedules, snapshotted in the top-level
//! `snapshots/`. The kernels' values are checked against the reference interpreter in `fusion.rs` and
//! `differential.rs`; these snapshots show the loop nests and index arithmetic.

mod programs;

use programs::*;
use smelt::prelude::*;
use smelt::{ClifMode, ExplainOptions, WgslMode};

/// Snapshots the kernel IR of every kernel of `t` as `lower_<name>`.
fn check(name: &str, t: &Tensor) {
    let options = ExplainOptions {
        clif: ClifMode::Off,
        wgsl: WgslMode::Off,
    };
    let e = smelt::explain_with(&[t], options);
    let kernels = e.kernels();
    assert!(!kernels.is_empty(), "{name}: no kernels");
    let text: String = kernels.iter().map(|k| k.to_string()).collect();
    insta::with_settings!({ snapshot_path => "../snapshots", prepend_module_to_snapshot => false }, {
        insta::assert_snapshot!(format!("lower_{name}"), text);
    });
}

#[test]
fn elementwise_and_reductions() {
    check("elementwise", &elementwise());
    check("softmax", &softmax());
    check("softmax_columns", &softmax_columns());
    check("layernorm", &layernorm());
    check("column_sum", &column_sum());
    check("big_sum", &big_sum());
}

#[test]
fn movement_gather_and_dtypes() {
    check("movement", &movement());
    check("cross_entropy", &cross_entropy());
    check("cast_where", &cast_where());
    check("linear_relu_epilogue", &linear_relu());
}
