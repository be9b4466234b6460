//! WGSL from the whole pipeline: the shader text of kernels that real programs lower to, for a device
//! with f64 and i64 (the same text on every machine), validated by naga. Snapshotted in the top-level
//! `snapshots/`. Hand-built kernels (elementwise, softmax, masked loads, matmul) are snapshotted by
//! `codegen/tests/wgsl_snapshots.rs` and not repeated here.

mod programs;

use programs::*;
use smelt::prelude::*;
use smelt::{ClifMode, ExplainOptions, WgslMode};

/// Snapshots the WGSL of every kernel of `t` as `wgsl_<name>`.
fn check(name: &str, t: &Tensor) {
    let options = ExplainOptions {
        clif: ClifMode::Off,
        wgsl: WgslMode::Portable,
    };
    let e = smelt::explain_with(&[t], options);
    let steps = e.schedule().expect("a schedule").steps.len();
    let mut text = String::new();
    for i in 0..steps {
        if matches!(
            e.schedule().unwrap().steps[i],
            smelt_passes::schedule::Step::Matmul { .. }
        ) {
            continue; // the matmul shader has its own snapshot (wgsl_matmul)
        }
        for code in e.code(i) {
            let wgsl = code.text.as_ref().expect("valid WGSL");
            text += &format!("// step {i}\n{wgsl}\n");
        }
    }
    assert!(!text.is_empty(), "{name}: no kernels");
    insta::with_settings!({ snapshot_path => "../snapshots", prepend_module_to_snapshot => false }, {
        insta::assert_snapshot!(format!("wgsl_program_{name}"), text);
    });
}

#[test]
fn reductions_and_movement() {
    check("column_sum", &column_sum());
    check("layernorm", &layernorm());
    check("movement", &movement());
}

#[test]
fn gather_dtypes_and_epilogue() {
    check("cross_entropy", &cross_entropy());
    check("cast_where", &cast_where());
    check("linear_relu_epilogue", &linear_relu());
}
