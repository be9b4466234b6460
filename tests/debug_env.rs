//! `SMELT_DEBUG`: the variable is read once per process, so each level runs this test binary's `child`
//! test in a subprocess and checks what it printed to stderr.

use smelt::prelude::*;
use std::process::Command;

/// Runs `child` with `SMELT_DEBUG` set to `level` (or unset) and returns its stderr.
fn stderr_at(level: Option<&str>) -> String {
    let mut cmd = Command::new(std::env::current_exe().unwrap());
    cmd.args(["child", "--exact", "--nocapture", "--test-threads=1"])
        .env("SMELT_DEBUG_CHILD", "1")
        .env_remove("SMELT_DEBUG")
        .env_remove("SMELT_BACKEND");
    if let Some(l) = level {
        cmd.env("SMELT_DEBUG", l);
    }
    let out = cmd.output().unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
    assert!(
        out.status.success() && stdout.contains("1 passed"),
        "child failed:\n{stdout}\n{stderr}"
    );
    stderr
}

/// The program the child realizes: an explain first (which must not fill the plan cache), then a row
/// softmax (one kernel) realized twice with the same structure (the second is a cache hit), then a
/// matmul.
#[test]
fn child() {
    if std::env::var_os("SMELT_DEBUG_CHILD").is_none() {
        return;
    }
    let x = Tensor::new([[1f32, 2., 3.], [4., 5., 6.]]).named("x");
    let _ = x.softmax(-1).explain();
    let p = x.softmax(-1).to_vec::<f32>().unwrap();
    let q = x.softmax(-1).to_vec::<f32>().unwrap();
    assert_eq!(p, q);
    let m = x.matmul(&x.t()).to_vec::<f32>().unwrap();
    assert_eq!(m, vec![14., 32., 32., 77.]);
}

/// The lines that start with `smelt:`.
fn smelt_lines(stderr: &str) -> Vec<&str> {
    stderr.lines().filter(|l| l.starts_with("smelt:")).collect()
}

#[test]
fn unset_prints_nothing() {
    assert_eq!(smelt_lines(&stderr_at(None)), Vec::<&str>::new());
    assert_eq!(smelt_lines(&stderr_at(Some("0"))), Vec::<&str>::new());
}

#[test]
fn level_1_one_line_per_launch() {
    let err = stderr_at(Some("1"));
    let lines = smelt_lines(&err);
    // Softmax twice (one kernel each), then the matmul.
    assert_eq!(lines.len(), 3, "{err}");
    for l in &lines[..2] {
        assert!(l.starts_with("smelt: cpu step 0 kernel R_2x3_n"), "{l}");
        assert!(l.contains(" domain 2: ") && l.ends_with(" ms"), "{l}");
        let ms: f64 = l.rsplit(' ').nth(1).unwrap().parse().unwrap();
        assert!((0.0..10_000.0).contains(&ms), "{l}");
    }
    assert!(
        lines[2].starts_with("smelt: cpu step 0 matmul f32 domain 1x2x2 k 3: "),
        "{}",
        lines[2]
    );
    assert!(!err.contains("== schedule"));
}

#[test]
fn level_2_adds_the_schedule_on_each_compile() {
    let err = stderr_at(Some("2"));
    // Two compiles (softmax, matmul): the explain before them did not fill the cache, and the second
    // softmax is a cache hit.
    assert_eq!(
        err.matches("smelt: compiled a plan for cpu (cache miss)")
            .count(),
        2,
        "{err}"
    );
    assert_eq!(err.matches("== schedule").count(), 2);
    assert_eq!(err.matches("== fusion: 1 kernel\n").count(), 2);
    assert!(!err.contains("== graph"));
    assert!(!err.contains("kernel R_2x3_n7(b0"));
    assert_eq!(
        smelt_lines(&err)
            .iter()
            .filter(|l| l.contains(" ms"))
            .count(),
        3
    );
}

#[test]
fn level_3_adds_graphs_and_kernel_ir() {
    let err = stderr_at(Some("3"));
    assert_eq!(err.matches("== graph: collected").count(), 2, "{err}");
    assert!(err.contains("%0 = input 0 : f32[2,3]  # x"));
    assert!(err.contains("parallel i0 in 0..2:"));
    assert!(!err.contains("-- clif"));
}

#[test]
fn level_4_adds_clif() {
    let err = stderr_at(Some("4"));
    assert_eq!(err.matches("-- clif (host)").count(), 1, "{err}");
    assert!(err.contains("function u0:"));
    // Larger levels are level 4; garbage is off, with a warning.
    assert_eq!(stderr_at(Some("7")).matches("-- clif (host)").count(), 1);
    let bad = stderr_at(Some("lots"));
    assert!(bad.contains("ignoring SMELT_DEBUG=\"lots\""), "{bad}");
    assert!(!bad.contains("== schedule"));
}

/// The GPU child: a row softmax on the first GPU, realized once.
#[test]
fn gpu_child() {
    if std::env::var_os("SMELT_DEBUG_CHILD").is_none() {
        return;
    }
    let x = Tensor::new([[1f32, 2., 3.], [4., 5., 6.]]).to(Device::Gpu(0));
    let p = x.softmax(-1).to_vec::<f32>().unwrap();
    let want: Vec<f32> = [1f32, 2., 3., 4., 5., 6.]
        .chunks(3)
        .flat_map(|r| {
            let s: f32 = r.iter().map(|v| (v - r[2]).exp()).sum();
            r.iter()
                .map(move |v| (v - r[2]).exp() / s)
                .collect::<Vec<_>>()
        })
        .collect();
    for (a, b) in p.iter().zip(&want) {
        assert!((a - b).abs() < 1e-6, "{p:?} vs {want:?}");
    }
}

#[test]
fn gpu_launches_are_timed_and_reported() {
    if !smelt::gpu_available() {
        eprintln!("SKIPPED: no GPU adapter");
        return;
    }
    let out = Command::new(std::env::current_exe().unwrap())
        .args(["gpu_child", "--exact", "--nocapture", "--test-threads=1"])
        .env("SMELT_DEBUG_CHILD", "1")
        .env("SMELT_DEBUG", "4")
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{err}");
    assert!(
        err.contains("smelt: compiled a plan for gpu:0 (cache miss)"),
        "{err}"
    );
    assert!(err.contains("-- wgsl\n// smelt kernel R_2x3_n"), "{err}");
    assert!(!err.contains("-- clif"));
    let launches: Vec<&str> = smelt_lines(&err)
        .into_iter()
        .filter(|l| l.starts_with("smelt: gpu:0 step 0 kernel R_2x3_n"))
        .collect();
    assert_eq!(launches.len(), 1, "{err}");
    assert!(launches[0].contains(" domain 2: ") && launches[0].ends_with(" ms"));
}
