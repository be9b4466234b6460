//! `explain`: the report's parts agree with the compiler's own output, it runs nothing, it is
//! deterministic, and the whole text for two programs is snapshotted in the top-level `snapshots/`.

mod programs;

use programs::*;
use smelt::prelude::*;
use smelt::{ClifMode, Device, ExplainOptions, WgslMode};

/// Snapshots the deterministic explanation of `t` (pinned CLIF; WGSL too when `wgsl`) as
/// `explain_<name>`, after checking that it is the same text twice.
fn check(name: &str, t: &Tensor, wgsl: bool) {
    let options = ExplainOptions {
        clif: ClifMode::Pinned,
        wgsl: if wgsl {
            WgslMode::Portable
        } else {
            WgslMode::Off
        },
    };
    let text = smelt::explain_with(&[t], options).to_string();
    assert_eq!(text, smelt::explain_with(&[t], options).to_string());
    insta::with_settings!({ snapshot_path => "../snapshots", prepend_module_to_snapshot => false }, {
        insta::assert_snapshot!(format!("explain_{name}"), text);
    });
}

#[test]
fn snapshots() {
    check("softmax", &softmax(), true);
    check("linear_relu", &linear_relu(), false);
}

#[test]
fn parts_agree_with_the_compiler() {
    let t = linear_relu();
    let e = t.explain();
    let compiled = smelt::compile_debug(&[&t]).unwrap();
    assert_eq!(e.device(), Some(Device::Cpu));
    assert_eq!(e.schedule(), Some(&compiled.schedule));
    assert_eq!(e.kernel_count(), 2);
    let names: Vec<&str> = e.stages().iter().map(|(n, _)| *n).collect();
    assert_eq!(names.first(), Some(&"collected"));
    assert_eq!(
        e.graph("collected").unwrap().to_string(),
        smelt::debug_graph(&[&t])
    );
    // One kernel step (the epilogue) and one matmul step: host CLIF only for the kernel, no WGSL on
    // the CPU by default.
    let kernel_steps: Vec<usize> = (0..compiled.schedule.steps.len())
        .filter(|&i| !e.code(i).is_empty())
        .collect();
    assert_eq!(kernel_steps.len(), 1);
    let code = e.code(kernel_steps[0]);
    assert_eq!(code.len(), 1);
    assert_eq!(code[0].lang, "clif (host)");
    assert!(code[0].text.as_ref().unwrap().starts_with("function "));
    // The text holds every section, and the fusion report names every node the kernels compute.
    let text = e.to_string();
    for section in [
        "== graph: collected",
        "== schedule",
        "== fusion: 2 kernels",
        "== step 0: matmul",
        "== step 1: kernel",
        "-- clif (host)",
    ] {
        assert!(text.contains(section), "missing {section:?} in\n{text}");
    }
    let fusion = e.fusion();
    for nodes in &compiled.schedule.report.step_nodes {
        for n in nodes {
            assert!(fusion.contains(&format!("{n} ")), "{n} not in\n{fusion}");
        }
    }
    for (n, reason) in &compiled.schedule.report.materialized {
        assert!(fusion.contains(&format!("{n} ")) && fusion.contains(&reason.to_string()));
    }
}

#[test]
fn wgsl_is_generated_without_a_gpu() {
    let options = ExplainOptions {
        clif: ClifMode::Off,
        wgsl: WgslMode::Always,
    };
    let e = smelt::explain_with(&[&softmax()], options);
    assert_eq!(e.code(0).len(), 1);
    assert_eq!(e.code(0)[0].lang, "wgsl");
    assert!(e.code(0)[0].text.as_ref().unwrap().contains("@compute"));
    let none = smelt::explain_with(&[&softmax()], ExplainOptions::deterministic());
    assert!(none.to_string().contains("-- clif (pinned x86-64)"));
    assert!(!none.to_string().contains("-- wgsl"));
}

#[test]
fn explaining_runs_nothing() {
    let x = f32_input("x", &[3, 4]);
    let y = x.exp().sum_dim(&[1], false);
    // (That explaining leaves the plan cache empty is checked in `debug_env.rs`: the realize after an
    // explain still reports a cache miss.)
    let e = y.explain();
    assert!(!y.is_realized());
    assert_eq!(e.kernel_count(), 1);
    // Realizing afterwards gives the right values: e^0 summed over 4 columns.
    assert_eq!(y.to_vec::<f32>().unwrap(), vec![4.0; 3]);
    // A realized target has nothing to explain.
    let done = y.explain();
    assert!(done.schedule().is_none());
    assert_eq!(
        done.notes(),
        &["nothing to compute: every target is realized".to_string()]
    );
    assert_eq!(
        done.to_string(),
        "note: nothing to compute: every target is realized\n"
    );
}

#[test]
fn a_pending_transfer_is_not_run() {
    // A copy to a GPU that does not exist: explaining must not try it (realizing would fail).
    let x = f32_input("x", &[4]);
    let on_gpu = x.to(Device::Gpu(99));
    let y = on_gpu.exp();
    let e = smelt::explain_with(
        &[&y],
        ExplainOptions {
            clif: ClifMode::Off,
            wgsl: WgslMode::Off,
        },
    );
    assert!(!on_gpu.is_realized());
    assert_eq!(e.device(), Some(Device::Gpu(99)));
    assert_eq!(e.kernel_count(), 1);
    assert!(
        e.graph("collected")
            .unwrap()
            .to_string()
            .starts_with("%0 = input 0 : f32[4]\n%1 = exp %0")
    );
    // The default options want WGSL for that GPU's capabilities: a note says why there is none.
    let e = y.explain();
    assert!(e.notes().iter().any(|n| n.starts_with("no WGSL: gpu:99")));
    assert!(y.realize().is_err());
}

#[test]
fn targets_on_several_devices_explain_the_first() {
    let a = f32_input("a", &[2]).exp();
    let b = f32_input("b", &[2]).to(Device::Gpu(99)).exp();
    let e = smelt::explain_with(&[&a, &b], ExplainOptions::deterministic());
    assert_eq!(e.device(), Some(Device::Cpu));
    assert!(e.notes()[0].contains("several devices"));
    assert_eq!(e.kernel_count(), 1);
}

#[test]
fn gpu_targets_show_wgsl_for_the_adapter() {
    if !smelt::gpu_available() {
        eprintln!("SKIPPED: no GPU adapter");
        return;
    }
    let x = f32_input("x", &[4, 8]).to(Device::Gpu(0));
    let y = x.softmax(-1);
    let e = y.explain();
    assert!(!x.is_realized() && !y.is_realized());
    assert_eq!(e.device(), Some(Device::Gpu(0)));
    assert_eq!(e.code(0).len(), 1, "{e}");
    assert_eq!(e.code(0)[0].lang, "wgsl");
    // The adapter's WGSL for an f32 kernel is the portable text.
    let portable = smelt::explain_with(
        &[&y],
        ExplainOptions {
            clif: ClifMode::Off,
            wgsl: WgslMode::Portable,
        },
    );
    assert_eq!(e.code(0)[0].text, portable.code(0)[0].text);
    assert_eq!(y.to_vec::<f32>().unwrap(), vec![0.125; 32]);
}
