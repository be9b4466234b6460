//! Pictures: DOT text (snapshotted in the top-level `snapshots/`, read by Graphviz where it is
//! installed), PNG/SVG files through `dot`, and clear errors when `dot` is missing or fails.

mod programs;

use programs::*;
use smelt::prelude::*;
use std::path::PathBuf;
use std::process::Command;

/// Snapshots DOT text as `dot_<name>` after checking it is the same twice and, where Graphviz is
/// installed, that `dot` accepts it.
fn check(name: &str, dot: impl Fn() -> String) {
    let text = dot();
    assert_eq!(text, dot());
    if let Some(dot) = graphviz() {
        let svg = render_with(&dot, &text, "svg");
        assert!(svg.contains("<svg"), "dot rejected the text of {name}");
    }
    insta::with_settings!({ snapshot_path => "../snapshots", prepend_module_to_snapshot => false }, {
        insta::assert_snapshot!(format!("dot_{name}"), text);
    });
}

/// `dot` on the PATH, if Graphviz is installed (else a printed skip).
fn graphviz() -> Option<PathBuf> {
    match Command::new("dot").arg("-V").output() {
        Ok(o) if o.status.success() => Some("dot".into()),
        _ => {
            eprintln!("SKIPPED: Graphviz's `dot` is not installed");
            None
        }
    }
}

/// Runs `dot -T<format>` on `text` directly (independently of smelt's renderer).
fn render_with(dot: &PathBuf, text: &str, format: &str) -> String {
    use std::io::Write;
    let mut child = Command::new(dot)
        .arg(format!("-T{format}"))
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    child
        .stdin
        .take()
        .unwrap()
        .write_all(text.as_bytes())
        .unwrap();
    let out = child.wait_with_output().unwrap();
    assert!(out.status.success());
    String::from_utf8(out.stdout).unwrap()
}

/// A training graph: `loss = sum(relu(x w + b))` with `w` and `b` parameters, and its gradients.
fn grads() -> Vec<Tensor> {
    let x = f32_input("x", &[2, 3]);
    let w = f32_input("w", &[3, 2]).requires_grad_(true);
    let b = f32_input("b", &[2]).requires_grad_(true);
    let loss = (x.matmul(&w) + &b).relu().sum().named("loss");
    smelt::grad(&loss, &[&w, &b])
}

#[test]
fn dot_snapshots() {
    check("softmax", || softmax().named("probs").to_dot());
    check("cross_entropy", || cross_entropy().to_dot());
    check("gradients", || {
        let g = grads();
        smelt::viz::to_dot(&[&g[0], &g[1]])
    });
    check("softmax_columns_scheduled", || {
        smelt::viz::to_dot_scheduled(&[&softmax_columns()])
    });
    check("gradients_scheduled", || {
        let g = grads();
        smelt::viz::to_dot_scheduled(&[&g[0], &g[1]])
    });
}

#[test]
fn styles_mark_parameters_gradient_path_and_outputs() {
    let x = f32_input("x", &[3]);
    let w = f32_input("w", &[3]).requires_grad_(true);
    let y = (&x * &w).exp();
    let dot = y.to_dot();
    assert!(
        dot.contains("n0 [label=\"x\\nf32[3]\", fillcolor=gray90];"),
        "{dot}"
    );
    assert!(
        dot.contains("n1 [label=\"w\\nf32[3]\", fillcolor=lightblue];"),
        "{dot}"
    );
    assert!(
        dot.contains("n2 [label=\"%2 mul\\nf32[3]\", color=orangered, penwidth=2];"),
        "{dot}"
    );
    assert!(
        dot.contains("n3 [label=\"%3 exp\\nf32[3]\", fillcolor=darkolivegreen1, color=orangered, penwidth=2];"),
        "{dot}"
    );
    // Without gradients nothing is orange.
    let z = (&x * &x).exp();
    assert!(!z.to_dot().contains("orangered"));
    // Operand order is drawn only where it matters.
    let d = (&x - &x.exp()).to_dot();
    assert!(
        d.contains("n0 -> n2 [label=\"0\"];") && d.contains("n1 -> n2 [label=\"1\"];"),
        "{d}"
    );
}

#[test]
fn names_are_escaped() {
    let x = f32_input("a \"quoted\" \\ name", &[2]);
    let dot = x.exp().to_dot();
    assert!(
        dot.contains(r#"label="a \"quoted\" \\ name\nf32[2]""#),
        "{dot}"
    );
}

#[test]
fn scheduled_clusters_cover_every_kernel() {
    let t = softmax_columns();
    let dot = smelt::viz::to_dot_scheduled(&[&t]);
    let kernels = smelt::compile_debug(&[&t]).unwrap().schedule.kernel_count();
    assert_eq!(dot.matches("subgraph cluster_k").count(), kernels);
    assert!(dot.contains("peripheries=2"));
}

fn temp_dir(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("smelt-viz-{}-{name}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

#[test]
fn render_writes_png_and_svg() {
    if graphviz().is_none() {
        return;
    }
    let dir = temp_dir("render");
    let t = softmax();
    let png = dir.join("softmax.png");
    smelt::viz::render(&t, &png).unwrap();
    let bytes = std::fs::read(&png).unwrap();
    assert_eq!(&bytes[..8], b"\x89PNG\r\n\x1a\n", "PNG magic bytes");
    let svg = dir.join("softmax.SVG");
    smelt::viz::render(&t, &svg).unwrap();
    assert!(
        String::from_utf8(std::fs::read(&svg).unwrap())
            .unwrap()
            .contains("<svg")
    );
    // Text `dot` cannot parse is a tool error carrying dot's message, and no file is written.
    let bad = dir.join("bad.png");
    let err = smelt::viz::render_dot("digraph {", &bad).unwrap_err();
    assert!(matches!(err, Error::Tool(_)), "{err:?}");
    assert!(err.to_string().contains("failed"), "{err}");
    assert!(!bad.exists());
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn unknown_extension_is_an_argument_error() {
    let err = smelt::viz::render(&softmax(), temp_dir("ext").join("graph.bmp")).unwrap_err();
    assert!(
        matches!(err, Error::Argument { op: "render", .. }),
        "{err:?}"
    );
    assert!(err.to_string().contains(".png, .svg or .pdf"), "{err}");
}

/// Runs this test binary's `child` test in a subprocess with `SMELT_DOT` set (the variable is read on
/// each call, but setting it in this process would race with the other tests).
fn run_child(child: &str, dot: &str) {
    let out = Command::new(std::env::current_exe().unwrap())
        .args([child, "--exact", "--nocapture", "--test-threads=1"])
        .env("SMELT_DOT", dot)
        .env("SMELT_VIZ_CHILD", "1")
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success() && stdout.contains("1 passed"),
        "{child} failed:\n{stdout}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

#[test]
fn missing_dot_is_a_clear_error() {
    run_child("child_missing_dot", "/nonexistent/graphviz/dot");
}

#[test]
fn child_missing_dot() {
    if std::env::var_os("SMELT_VIZ_CHILD").is_none() {
        return;
    }
    let path = temp_dir("missing").join("g.png");
    let err = smelt::viz::render(&softmax(), &path).unwrap_err();
    let Error::Tool(msg) = &err else {
        panic!("expected a tool error, got {err:?}")
    };
    assert!(msg.contains("Graphviz's `dot` was not found"), "{msg}");
    assert!(
        msg.contains("/nonexistent/graphviz/dot") && msg.contains("SMELT_DOT"),
        "{msg}"
    );
    assert!(!path.exists());
}

#[test]
fn failing_dot_is_a_clear_error() {
    run_child("child_failing_dot", "false");
}

#[test]
fn child_failing_dot() {
    if std::env::var_os("SMELT_VIZ_CHILD").is_none() {
        return;
    }
    let path = temp_dir("failing").join("g.svg");
    let err = smelt::viz::render(&softmax(), &path).unwrap_err();
    assert!(matches!(err, Error::Tool(_)), "{err:?}");
    assert!(err.to_string().contains("`false -Tsvg` failed"), "{err}");
    assert!(!path.exists());
}
