//! Fusion: the kernel count of each program (asserted, as tinygrad's `check_schedule`) and its schedule
//! and fusion report (which nodes each kernel computes, why each buffer exists), snapshotted in the
//! top-level `snapshots/`. Values through the pipeline are checked in `fusion.rs`.

mod programs;

use programs::*;
use smelt::prelude::*;
use smelt::{ClifMode, ExplainOptions, WgslMode};

/// Asserts that realizing `t` launches `kernels` kernels and snapshots the schedule as `fusion_<name>`.
#[track_caller]
fn check(name: &str, t: &Tensor, kernels: usize) {
    let options = ExplainOptions {
        clif: ClifMode::Off,
        wgsl: WgslMode::Off,
    };
    let e = smelt::explain_with(&[t], options);
    let schedule = e.schedule().expect("a schedule");
    assert_eq!(e.kernel_count(), kernels, "kernel count\n{schedule}");
    // The schedule's own `materialized` list is left out: the fusion report repeats it with reasons.
    let schedule = schedule.to_string();
    let schedule = schedule.split("materialized\n").next().unwrap();
    let text = format!("{schedule}{}", e.fusion());
    insta::with_settings!({ snapshot_path => "../snapshots", prepend_module_to_snapshot => false }, {
        insta::assert_snapshot!(format!("fusion_{name}"), text);
    });
}

#[test]
fn one_kernel_programs() {
    check("elementwise", &elementwise(), 1);
    check("softmax", &softmax(), 1);
    check("layernorm", &layernorm(), 1);
    check("column_sum", &column_sum(), 1);
    check("movement", &movement(), 1);
    check("cast_where", &cast_where(), 1);
    // log_softmax, the gather of each label's log-probability and the mean: one kernel.
    check("cross_entropy", &cross_entropy(), 1);
}

#[test]
fn programs_with_buffers() {
    // Column reductions under a row-major loop nest get buffers of their own.
    check("softmax_columns", &softmax_columns(), 3);
    // The matmul runs as a tuned microkernel; the bias and relu are a kernel after it.
    check("linear_relu", &linear_relu(), 2);
    // Two stages: 256 partial sums, then their sum.
    check("big_sum", &big_sum(), 2);
}
