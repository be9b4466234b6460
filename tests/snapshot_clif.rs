//! CPU code generation: the Cranelift IR of each program's kernels for the pinned x86-64 target (SSE4.2,
//! AVX2, FMA; the same text on every machine), never machine code. Snapshotted in the top-level
//! `snapshots/`.

mod programs;

use programs::*;
use smelt::prelude::*;
use smelt::{ClifMode, ExplainOptions, WgslMode};

/// Snapshots the pinned CLIF of every kernel of `t` as `clif_<name>`.
fn check(name: &str, t: &Tensor) {
    let options = ExplainOptions {
        clif: ClifMode::Pinned,
        wgsl: WgslMode::Off,
    };
    let e = smelt::explain_with(&[t], options);
    let steps = e.schedule().expect("a schedule").steps.len();
    let mut text = String::new();
    for i in 0..steps {
        for code in e.code(i) {
            let clif = code.text.as_ref().expect("CLIF for the pinned target");
            text += &format!("; step {i}: {}\n{clif}\n", code.lang);
        }
    }
    assert!(!text.is_empty(), "{name}: no kernels");
    insta::with_settings!({ snapshot_path => "../snapshots", prepend_module_to_snapshot => false }, {
        insta::assert_snapshot!(format!("clif_{name}"), text);
    });
}

#[test]
fn elementwise() {
    check("elementwise", &programs::elementwise());
    check("cast_where", &cast_where());
}

#[test]
fn reductions() {
    check("softmax", &softmax());
    check("column_sum", &column_sum());
}

#[test]
fn gather_with_checked_index() {
    check("cross_entropy", &cross_entropy());
}
