//! Pictures of the graph: Graphviz DOT text, and PNG/SVG/PDF files through Graphviz's `dot`.
//!
//! The picture is the work graph a realize would compile (the same nodes and `%` ids as
//! [`explain`](crate::explain)'s text). Nothing is run to draw it.
//!
//! | style                        | meaning                                                      |
//! |------------------------------|--------------------------------------------------------------|
//! | blue fill                    | a parameter: an input leaf that requires grad                |
//! | gray fill                    | any other input (realized data)                              |
//! | dashed border                | a constant, `iota` or random leaf (no memory read)           |
//! | bold orange border           | requires grad: on the path gradients flow through            |
//! | green fill                   | an output (a target)                                         |
//! | double border, `-> #b` line  | (scheduled) materialized in buffer `#b`, with the reason     |
//! | box around nodes             | (scheduled) one kernel launch: the nodes it computes         |
//!
//! Leaves show their [`Tensor::named`] label, other nodes their op; every node shows its dtype and
//! shape. Operands of ops whose operand order matters are numbered on the edges.
//!
//! ```no_run
//! use smelt::prelude::*;
//! let x = Tensor::randn([4, 8], DType::F32).named("x");
//! let p = x.softmax(-1);
//! println!("{}", p.to_dot());
//! smelt::viz::render(&p, "softmax.png")?;          // needs Graphviz's `dot`
//! # Ok::<(), smelt::Error>(())
//! ```

use crate::realize::traverse_with;
use crate::{Error, Result, Tensor};
use smelt_codegen::BinaryOp;
use smelt_passes::schedule::{BufIdx, Reason, Schedule};
use smelt_passes::{Graph, NodeId, Op};
use std::fmt::Write as _;
use std::io::Write as _;
use std::path::Path;
use std::process::{Command, Stdio};

/// The environment variable naming the Graphviz program [`render`] runs (default `dot` on the `PATH`).
pub const DOT_PROGRAM_VAR: &str = "SMELT_DOT";

impl Tensor {
    /// The graph that realizing this tensor would compile, in Graphviz DOT: see [`to_dot`].
    pub fn to_dot(&self) -> String {
        to_dot(&[self])
    }
}

/// The work graph of `targets` in Graphviz DOT (leaves by name, like torchviz; see the module docs for
/// the styles). Deterministic: the same program gives the same text.
pub fn to_dot(targets: &[&Tensor]) -> String {
    match collect(targets) {
        Ok((graph, grad)) => write_dot(&graph, &grad, None),
        Err(e) => error_dot(&e.to_string()),
    }
}

/// [`to_dot`] after scheduling: the graph the schedule computes (after every graph pass), each kernel
/// launch as a cluster of the nodes it computes, materialized nodes with their buffer and the reason.
/// Realized targets are left out, as a realize leaves them.
pub fn to_dot_scheduled(targets: &[&Tensor]) -> String {
    let todo: Vec<&Tensor> = targets
        .iter()
        .copied()
        .filter(|t| !t.is_realized())
        .collect();
    let (collected, grad) = match collect(&todo) {
        Ok(x) => x,
        Err(e) => return error_dot(&e.to_string()),
    };
    let compiled =
        match crate::runtime::on_big_stack(|| smelt_passes::pipeline::compile(&collected)) {
            Ok(c) => c,
            Err(e) => return error_dot(&e),
        };
    let Some(&(_, last)) = compiled.stages().last() else {
        return error_dot("the pipeline produced no graph");
    };
    // Which nodes require grad is known for the collected graph's ids; passes that rewrite the graph
    // renumber it, so the marks are kept only where the graph is unchanged.
    let grad = if last.to_string() == collected.to_string() {
        grad
    } else {
        vec![false; last.len()]
    };
    write_dot(last, &grad, Some(&compiled.schedule))
}

/// The collected graph (transfers not realized) and, per node, whether it requires grad.
fn collect(targets: &[&Tensor]) -> Result<(Graph, Vec<bool>)> {
    let tr = traverse_with(targets, false)?;
    let (graph, tensors) = tr.graph_mapped();
    let mut grad = vec![false; graph.len()];
    for (id, t) in tensors {
        grad[id.index()] |= t.requires_grad();
    }
    Ok((graph, grad))
}

/// A one-node picture saying what went wrong.
fn error_dot(message: &str) -> String {
    format!(
        "digraph smelt {{\n  error [shape=box, color=red, label=\"{}\"];\n}}\n",
        escape(&format!("error: {message}"))
    )
}

/// Escapes text for a double-quoted DOT string (`\n` in the result is DOT's centered line break).
fn escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => {}
            c => out.push(c),
        }
    }
    out
}

/// Whether an op's operands can be swapped without changing its value (their order is then not drawn).
fn commutative(op: &Op) -> bool {
    match op {
        Op::Binary(b) => matches!(
            b,
            BinaryOp::Add
                | BinaryOp::Mul
                | BinaryOp::Max
                | BinaryOp::Min
                | BinaryOp::CmpEq
                | BinaryOp::CmpNe
                | BinaryOp::And
                | BinaryOp::Or
                | BinaryOp::Xor
        ),
        _ => false,
    }
}

/// A short reason for a buffer, for a picture's label (the full sentence is in `explain`).
fn short_reason(r: Reason) -> String {
    match r {
        Reason::Output => "output".into(),
        Reason::Random => "random".into(),
        Reason::Contraction => "matmul".into(),
        Reason::ContractionOperand => "matmul operand".into(),
        Reason::ReduceRecomputed => "reduce not shareable".into(),
        Reason::SharedExpensive => "shared, costly".into(),
        Reason::SplitReduce => "split reduce".into(),
        Reason::DepthLimit => "depth limit".into(),
        #[allow(unreachable_patterns)]
        other => format!("{other:?}"),
    }
}

/// The DOT text of `g`; `grad[i]` marks nodes that require grad; with a schedule, kernels are clusters.
fn write_dot(g: &Graph, grad: &[bool], schedule: Option<&Schedule>) -> String {
    let mut out = String::new();
    out.push_str("digraph smelt {\n");
    out.push_str("  graph [rankdir=TB, fontname=\"Helvetica\", fontsize=10];\n");
    out.push_str(
        "  node [shape=box, style=\"rounded,filled\", fillcolor=white, fontname=\"Helvetica\", \
         fontsize=10];\n",
    );
    out.push_str("  edge [fontname=\"Helvetica\", fontsize=8, arrowsize=0.6];\n");

    // Per node: the steps computing it (the first one holds it in the picture) and its buffer.
    let mut steps_of: Vec<Vec<usize>> = vec![vec![]; g.len()];
    let mut buffer: Vec<Option<(BufIdx, Reason)>> = vec![None; g.len()];
    if let Some(s) = schedule {
        for i in 0..s.steps.len() {
            for n in crate::explain::step_nodes(g, s, i) {
                steps_of[n.index()].push(i);
            }
        }
        for &(n, r) in &s.report.materialized {
            if n.index() < g.len() {
                let b = s
                    .buffers
                    .iter()
                    .position(|b| b.node == Some(n))
                    .map(|i| BufIdx(i as u32))
                    .or_else(|| {
                        let pos = g.outputs.iter().position(|&o| o == n)?;
                        s.outputs.get(pos).copied()
                    });
                if let Some(b) = b {
                    buffer[n.index()] = Some((b, r));
                }
            }
        }
    }

    let node_line = |id: NodeId| -> String {
        let n = g.node(id);
        let name = g.labels.get(&id);
        let mut label = String::new();
        if let Some(name) = name {
            label.push_str(name);
            label.push('\n');
        }
        if !(matches!(n.op, Op::Input(_)) && name.is_some()) {
            let _ = writeln!(label, "{id} {}", n.op);
        }
        let _ = write!(label, "{}", n.ty);
        let steps = &steps_of[id.index()];
        if steps.len() > 1 {
            let also: Vec<String> = steps[1..].iter().map(|s| s.to_string()).collect();
            let _ = write!(label, "\nalso in step {}", also.join(", "));
        }
        if let Some((b, r)) = buffer[id.index()] {
            let _ = write!(label, "\n-> {b} ({})", short_reason(r));
        }
        let mut attrs = vec![format!("label=\"{}\"", escape(&label))];
        let is_output = g.outputs.contains(&id);
        let requires_grad = grad.get(id.index()).copied().unwrap_or(false);
        let mut style = "rounded,filled".to_string();
        let fill = if is_output {
            Some("darkolivegreen1")
        } else {
            match n.op {
                Op::Input(_) if requires_grad => Some("lightblue"),
                Op::Input(_) => Some("gray90"),
                _ => None,
            }
        };
        if matches!(n.op, Op::Const(_) | Op::Iota { .. } | Op::Rand { .. }) {
            style.push_str(",dashed");
        }
        if style != "rounded,filled" {
            attrs.push(format!("style=\"{style}\""));
        }
        if let Some(fill) = fill {
            attrs.push(format!("fillcolor={fill}"));
        }
        if requires_grad && !matches!(n.op, Op::Input(_)) {
            attrs.push("color=orangered".into());
            attrs.push("penwidth=2".into());
        }
        if buffer[id.index()].is_some() {
            attrs.push("peripheries=2".into());
        }
        format!("n{} [{}];\n", id.0, attrs.join(", "))
    };

    // Nodes outside every kernel first (inputs, and everything when not scheduled), then one cluster per
    // step with the nodes it computes first.
    for id in g.ids() {
        if steps_of[id.index()].is_empty() {
            out.push_str("  ");
            out.push_str(&node_line(id));
        }
    }
    if let Some(s) = schedule {
        for (i, step) in s.steps.iter().enumerate() {
            let title = match step {
                smelt_passes::schedule::Step::Kernel { kernel, .. } => {
                    format!("step {i}: kernel {}", kernel.name)
                }
                smelt_passes::schedule::Step::Matmul { spec, .. } => format!("step {i}: {spec}"),
                smelt_passes::schedule::Step::Rand { dist, .. } => {
                    format!("step {i}: rand {dist:?}")
                }
            };
            let _ = writeln!(out, "  subgraph cluster_k{i} {{");
            let _ = writeln!(
                out,
                "    label=\"{}\"; style=\"rounded,dashed\"; color=gray40; fontsize=9;",
                escape(&title)
            );
            for id in g.ids() {
                if steps_of[id.index()].first() == Some(&i) {
                    out.push_str("    ");
                    out.push_str(&node_line(id));
                }
            }
            out.push_str("  }\n");
        }
    }

    for id in g.ids() {
        let n = g.node(id);
        let numbered = n.srcs.len() > 1 && !commutative(&n.op);
        for (slot, s) in n.srcs.iter().enumerate() {
            if numbered {
                let _ = writeln!(out, "  n{} -> n{} [label=\"{slot}\"];", s.0, id.0);
            } else {
                let _ = writeln!(out, "  n{} -> n{};", s.0, id.0);
            }
        }
    }
    out.push_str("}\n");
    out
}

/// Draws the graph of `t` into `path` with Graphviz's `dot`: PNG, SVG or PDF by the extension. The
/// program is `dot` on the `PATH`, or the one `SMELT_DOT` names. A missing or failing `dot` is an
/// [`Error::Tool`] saying so; the file is written atomically.
pub fn render(t: &Tensor, path: impl AsRef<Path>) -> Result<()> {
    render_dot(&t.to_dot(), path)
}

/// Renders any DOT text (for example from [`to_dot_scheduled`]) into `path`, as [`render`] does.
pub fn render_dot(dot: &str, path: impl AsRef<Path>) -> Result<()> {
    let path = path.as_ref();
    let ext = path
        .extension()
        .and_then(|e| e.to_str())
        .map(|e| e.to_ascii_lowercase());
    let format = match ext.as_deref() {
        Some(f @ ("png" | "svg" | "pdf")) => f.to_string(),
        _ => {
            return Err(Error::Argument {
                op: "render",
                what: format!(
                    "cannot tell the picture format of {}: use a .png, .svg or .pdf path",
                    path.display()
                ),
            });
        }
    };
    let program = std::env::var_os(DOT_PROGRAM_VAR).unwrap_or_else(|| "dot".into());
    let shown = Path::new(&program).display().to_string();
    let mut child = Command::new(&program)
        .arg(format!("-T{format}"))
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .map_err(|e| {
            Error::Tool(if e.kind() == std::io::ErrorKind::NotFound {
                format!(
                    "render: Graphviz's `dot` was not found (tried `{shown}`): install Graphviz \
                     (e.g. `apt install graphviz`), or set {DOT_PROGRAM_VAR} to the program's path"
                )
            } else {
                format!("render: could not start `{shown}`: {e}")
            })
        })?;
    let mut stdin = child.stdin.take().expect("stdin is piped");
    // Feed the text from another thread: `dot` may fill its output pipe before it has read all input.
    let (wrote, output) = std::thread::scope(|s| {
        let writer = s.spawn(move || stdin.write_all(dot.as_bytes()));
        let output = child.wait_with_output();
        (writer.join(), output)
    });
    let output = output.map_err(|e| Error::Tool(format!("render: running `{shown}`: {e}")))?;
    if !output.status.success() {
        let stderr = String::from_utf8_lossy(&output.stderr);
        return Err(Error::Tool(format!(
            "render: `{shown} -T{format}` failed ({}): {}",
            output.status,
            stderr.trim()
        )));
    }
    if !matches!(wrote, Ok(Ok(()))) || output.stdout.is_empty() {
        return Err(Error::Tool(format!(
            "render: `{shown} -T{format}` produced no picture (it did not read the whole graph)"
        )));
    }
    crate::io::write_atomic(path, |w| w.write_all(&output.stdout))
}
