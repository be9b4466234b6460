//! `explain`: every stage of compiling a realize, as text, without running anything.
//!
//! ```text
//! explain: 1 target on cpu
//! == graph: collected
//! %0 = input 0 : f32[4,8]  # x
//! ...
//! == graph: simplified (unchanged)
//! == graph: split (unchanged)
//! == rewrites
//! nodes 8 -> 8
//! ...
//! == schedule
//! buffers ... steps ... outputs
//! == fusion: 1 kernel
//! step 0 kernel R_4x8_n9 (reads #0, writes #1): %1 reduce_max, %2 reshape, ...
//! materialized
//!   %10 reshape f32[4,8] in #1, written by step 0: output
//! == step 0: kernel R_4x8_n9
//! kernel R_4x8_n9(b0: f32[32], b1: out f32[32]) ...
//! -- clif (host)
//! function u0:6(i64, i64, i64) system_v { ...
//! ```
//!
//! The sections are the stable `Display` of each IR (graph, schedule, kernel), the Cranelift IR and the
//! WGSL. `SMELT_DEBUG` prints the same text on realize (see `debug.rs`). The text is deterministic except
//! the parts that depend on the machine by nature, which [`ExplainOptions`] can leave out or pin: the
//! host's CLIF (its ISA flags) and WGSL for a real adapter's capabilities.

use crate::realize::traverse_with;
use crate::runtime::on_big_stack;
use crate::{Device, Tensor};
use smelt_codegen::kernel::{Access, Kernel};
use smelt_codegen::wgsl::{self, Caps};
use smelt_passes::pipeline::{self, Compiled};
use smelt_passes::schedule::{BufIdx, Schedule, Step};
use smelt_passes::{Graph, NodeId};
use std::fmt::{self, Write as _};

/// Which Cranelift IR to show for CPU kernels.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Default)]
pub enum ClifMode {
    /// The CLIF the runtime compiles on this machine (its ISA flags decide, e.g., fused multiply-add),
    /// for targets on the CPU.
    #[default]
    Host,
    /// The CLIF for a pinned x86-64 target (SSE4.2, AVX2, FMA): the same text on every machine.
    Pinned,
    /// No CLIF.
    Off,
}

/// When to show WGSL for kernels (generating it needs no GPU).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Default)]
pub enum WgslMode {
    /// Only when the targets live on a GPU, for that adapter's capabilities.
    #[default]
    OnGpu,
    /// Always: for the adapter's capabilities when the targets live on a GPU, else for a device with
    /// f64 and i64.
    Always,
    /// Always, for a device with f64 and i64, wherever the targets live: the same text on every machine.
    Portable,
    /// No WGSL.
    Off,
}

/// What [`explain_with`] generates beyond the passes' own output.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Default)]
pub struct ExplainOptions {
    pub clif: ClifMode,
    pub wgsl: WgslMode,
}

impl ExplainOptions {
    /// Text that is the same on every machine (for snapshot tests and bug reports): pinned CLIF, no
    /// WGSL. Set `wgsl` to [`WgslMode::Portable`] to add WGSL.
    pub fn deterministic() -> ExplainOptions {
        ExplainOptions {
            clif: ClifMode::Pinned,
            wgsl: WgslMode::Off,
        }
    }
}

/// Generated code for one step: the language (`clif (host)`, `clif (pinned x86-64)`, `wgsl`) and the
/// text, or the backend's error message.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Code {
    pub lang: String,
    pub text: Result<String, String>,
}

/// Which sections a report prints (`SMELT_DEBUG` levels print growing subsets).
#[derive(Clone, Copy, Debug)]
pub(crate) struct Sections {
    pub graphs: bool,
    pub schedule: bool,
    pub kernels: bool,
    pub code: bool,
}

impl Sections {
    pub(crate) const ALL: Sections = Sections {
        graphs: true,
        schedule: true,
        kernels: true,
        code: true,
    };
}

/// The report of [`explain`]: the graph after each pass, the rules that fired, the schedule and fusion
/// decisions, each kernel's IR and the code it became. `Display` prints it all; the accessors give the
/// parts.
#[derive(Clone, Debug)]
pub struct Explanation {
    device: Option<Device>,
    /// Targets explained (already realized ones are left out: realizing them computes nothing).
    targets: usize,
    compiled: Option<Compiled>,
    /// Per schedule step.
    code: Vec<Vec<Code>>,
    notes: Vec<String>,
}

/// Explains what realizing `targets` would do, with the default [`ExplainOptions`] (host CLIF; WGSL
/// when the targets live on a GPU). Runs nothing and leaves every cache as it was; a failure (a compiler
/// bug, a kernel a backend rejects) is reported in the text.
pub fn explain(targets: &[&Tensor]) -> Explanation {
    explain_with(targets, ExplainOptions::default())
}

/// [`explain`] with options.
pub fn explain_with(targets: &[&Tensor], options: ExplainOptions) -> Explanation {
    let mut notes = vec![];
    let mut todo: Vec<&Tensor> = targets
        .iter()
        .copied()
        .filter(|t| !t.is_realized())
        .collect();
    let Some(device) = todo.first().map(|t| t.device()) else {
        notes.push("nothing to compute: every target is realized".into());
        return Explanation {
            device: None,
            targets: 0,
            compiled: None,
            code: vec![],
            notes,
        };
    };
    if todo.iter().any(|t| t.device() != device) {
        notes.push(format!(
            "the targets live on several devices, realized one device at a time; only those on {device} \
             are explained"
        ));
        todo.retain(|t| t.device() == device);
    }
    let n = todo.len();
    let compiled = on_big_stack(|| -> Result<(Compiled, Vec<Vec<Code>>), String> {
        let tr = traverse_with(&todo, false).map_err(|e| e.to_string())?;
        let compiled = pipeline::compile(&tr.graph())?;
        let code = generate(&compiled.schedule, device, options, &mut notes);
        Ok((compiled, code))
    });
    match compiled {
        Ok((compiled, code)) => Explanation {
            device: Some(device),
            targets: n,
            compiled: Some(compiled),
            code,
            notes,
        },
        Err(e) => {
            notes.push(format!("error: {e}"));
            Explanation {
                device: Some(device),
                targets: n,
                compiled: None,
                code: vec![],
                notes,
            }
        }
    }
}

/// The code of each step under `options`.
fn generate(
    s: &Schedule,
    device: Device,
    options: ExplainOptions,
    notes: &mut Vec<String>,
) -> Vec<Vec<Code>> {
    let caps = match (options.wgsl, device) {
        (WgslMode::Off, _) | (WgslMode::OnGpu, Device::Cpu) => None,
        (WgslMode::Portable, _) | (WgslMode::Always, Device::Cpu) => Some(Caps::ALL),
        (_, Device::Gpu(i)) => match crate::runtime::gpu::context(i) {
            Ok(ctx) => Some(ctx.caps()),
            Err(e) => {
                notes.push(format!("no WGSL: gpu:{i}: {e}"));
                None
            }
        },
    };
    s.steps
        .iter()
        .map(|step| {
            let mut code = vec![];
            match step {
                Step::Kernel { kernel, .. } => {
                    let clif = match options.clif {
                        ClifMode::Host if device != Device::Cpu => None,
                        ClifMode::Host => Some((
                            "clif (host)",
                            smelt_codegen::cpu::compile(kernel).map(|p| p.clif().to_string()),
                        )),
                        ClifMode::Pinned => Some((
                            "clif (pinned x86-64)",
                            smelt_codegen::cpu::clif_for_snapshot(kernel),
                        )),
                        ClifMode::Off => None,
                    };
                    if let Some((lang, text)) = clif {
                        code.push(Code {
                            lang: lang.into(),
                            text: text.map_err(|e| e.to_string()),
                        });
                    }
                    if let Some(caps) = caps {
                        code.push(Code {
                            lang: "wgsl".into(),
                            text: wgsl::compile(kernel, &caps)
                                .map(|p| p.source)
                                .map_err(|e| e.to_string()),
                        });
                    }
                }
                Step::Matmul { spec, .. } => {
                    if let Some(caps) = caps {
                        code.push(Code {
                            lang: "wgsl".into(),
                            text: wgsl::matmul(spec, &caps)
                                .map(|p| p.source)
                                .map_err(|e| e.to_string()),
                        });
                    }
                }
                Step::Rand { .. } => {}
            }
            code
        })
        .collect()
}

impl Explanation {
    /// A report of what a realize compiled (for `SMELT_DEBUG`): `code` per step, as the runtime has it.
    pub(crate) fn from_compiled(
        device: Device,
        compiled: &Compiled,
        code: Vec<Vec<Code>>,
    ) -> Explanation {
        Explanation {
            device: Some(device),
            targets: compiled.input.outputs.len(),
            compiled: Some(compiled.clone()),
            code,
            notes: vec![],
        }
    }

    /// The device whose realize is explained (`None` when every target was realized).
    pub fn device(&self) -> Option<Device> {
        self.device
    }

    /// Everything the pipeline produced (`None` when there was nothing to compile or it failed).
    pub fn compiled(&self) -> Option<&Compiled> {
        self.compiled.as_ref()
    }

    /// The graph after each pass, named for the pass, in pipeline order (`collected` first). The last is
    /// the graph the schedule's node ids refer to.
    pub fn stages(&self) -> Vec<(&'static str, &Graph)> {
        self.compiled
            .as_ref()
            .map(|c| c.stages())
            .unwrap_or_default()
    }

    /// The graph after the named pass.
    pub fn graph(&self, stage: &str) -> Option<&Graph> {
        self.stages()
            .into_iter()
            .find(|(name, _)| *name == stage)
            .map(|(_, g)| g)
    }

    /// The rewrite passes' report (which rules fired), when a rewrite pass ran.
    pub fn rewrites(&self) -> Option<String> {
        self.compiled.as_ref().and_then(|c| c.rewrites())
    }

    pub fn schedule(&self) -> Option<&Schedule> {
        self.compiled.as_ref().map(|c| &c.schedule)
    }

    /// Kernel launches (matmuls count, random fills do not), as [`Schedule::kernel_count`].
    pub fn kernel_count(&self) -> usize {
        self.schedule().map_or(0, |s| s.kernel_count())
    }

    /// The kernel IR of every kernel step, in launch order.
    pub fn kernels(&self) -> Vec<&Kernel> {
        self.schedule()
            .map(|s| {
                s.steps
                    .iter()
                    .filter_map(|step| match step {
                        Step::Kernel { kernel, .. } => Some(kernel),
                        _ => None,
                    })
                    .collect()
            })
            .unwrap_or_default()
    }

    /// The generated code of schedule step `step` (empty for steps without code, or when not asked for).
    pub fn code(&self, step: usize) -> &[Code] {
        self.code.get(step).map_or(&[], |c| c.as_slice())
    }

    /// Remarks: nothing to compute, devices left out, errors.
    pub fn notes(&self) -> &[String] {
        &self.notes
    }

    /// The fusion section: which graph nodes each step computes, and why each materialized node got a
    /// buffer instead of being computed inside the kernels that use it.
    pub fn fusion(&self) -> String {
        let mut out = String::new();
        if let Some(c) = &self.compiled {
            let graph = c.stages().last().map(|(_, g)| *g).unwrap_or(&c.input);
            write_fusion(&mut out, graph, &c.schedule);
        }
        out
    }

    /// The report with only some sections.
    pub(crate) fn text(&self, sections: Sections) -> String {
        let mut out = String::new();
        let _ = self.write(&mut out, sections);
        out
    }

    fn write(&self, f: &mut String, sections: Sections) -> fmt::Result {
        if let Some(d) = self.device {
            let plural = if self.targets == 1 { "" } else { "s" };
            writeln!(f, "explain: {} target{plural} on {d}", self.targets)?;
        }
        for n in &self.notes {
            writeln!(f, "note: {n}")?;
        }
        let Some(c) = &self.compiled else {
            return Ok(());
        };
        if sections.graphs {
            let mut previous: Option<String> = None;
            for (name, g) in c.stages() {
                let text = g.to_string();
                if previous.as_ref() == Some(&text) {
                    writeln!(f, "== graph: {name} (unchanged)")?;
                } else {
                    writeln!(f, "== graph: {name}")?;
                    f.push_str(&text);
                }
                previous = Some(text);
            }
            if let Some(r) = c.rewrites() {
                writeln!(f, "== rewrites")?;
                f.push_str(&r);
                if !r.ends_with('\n') {
                    f.push('\n');
                }
            }
        }
        if sections.schedule {
            writeln!(f, "== schedule")?;
            // The schedule's own list of materialized nodes is left out: the fusion section repeats it
            // with buffers, steps and reasons.
            let text = c.schedule.to_string();
            f.push_str(text.split("\nmaterialized\n").next().unwrap_or(&text));
            if !f.ends_with('\n') {
                f.push('\n');
            }
            f.push_str(&self.fusion());
        }
        if sections.kernels || sections.code {
            for (i, step) in c.schedule.steps.iter().enumerate() {
                let code = self.code(i);
                if !sections.kernels && code.is_empty() {
                    continue;
                }
                match step {
                    Step::Kernel { kernel, .. } => {
                        writeln!(f, "== step {i}: kernel {}", kernel.name)?;
                        if sections.kernels {
                            write!(f, "{kernel}")?;
                        }
                    }
                    Step::Matmul { spec, .. } => {
                        writeln!(f, "== step {i}: {spec}")?;
                        if sections.kernels {
                            writeln!(
                                f,
                                "a tuned microkernel (the gemm crate) on the CPU, a tiled WGSL kernel on the GPU"
                            )?;
                        }
                    }
                    Step::Rand { dist, .. } => {
                        writeln!(f, "== step {i}: rand {dist:?}")?;
                        if sections.kernels {
                            writeln!(f, "counter-based Philox numbers, drawn on the host")?;
                        }
                    }
                }
                if sections.code {
                    for Code { lang, text } in code {
                        writeln!(f, "-- {lang}")?;
                        match text {
                            Ok(t) => {
                                f.push_str(t);
                                if !t.ends_with('\n') {
                                    f.push('\n');
                                }
                            }
                            Err(e) => writeln!(f, "error: {e}")?,
                        }
                    }
                }
            }
        }
        Ok(())
    }
}

impl fmt::Display for Explanation {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.text(Sections::ALL))
    }
}

/// The buffers a step reads and writes.
fn step_io(step: &Step) -> (Vec<BufIdx>, Vec<BufIdx>) {
    match step {
        Step::Kernel { kernel, args } => {
            let (mut reads, mut writes) = (vec![], vec![]);
            for (p, &b) in kernel.params.iter().zip(args) {
                match p.access {
                    Access::Read => reads.push(b),
                    Access::Write => writes.push(b),
                }
            }
            (reads, writes)
        }
        Step::Matmul { a, b, out, .. } => (vec![*a, *b], vec![*out]),
        Step::Rand { out, .. } => (vec![], vec![*out]),
    }
}

fn list<T: fmt::Display>(items: &[T]) -> String {
    items
        .iter()
        .map(|i| i.to_string())
        .collect::<Vec<_>>()
        .join(", ")
}

/// Appends `items` to `f` after `head`, separated by `, `, wrapping lines at about 110 columns.
fn wrapped(f: &mut String, head: &str, items: &[String]) {
    const WIDTH: usize = 110;
    let mut line = head.to_string();
    for (i, item) in items.iter().enumerate() {
        let piece = if i + 1 < items.len() {
            format!("{item},")
        } else {
            item.clone()
        };
        if line.len() + 1 + piece.len() > WIDTH && line.len() > 4 {
            f.push_str(&line);
            f.push('\n');
            line = format!("    {piece}");
        } else {
            if !line.is_empty() && !line.ends_with(' ') {
                line.push(' ');
            }
            line.push_str(&piece);
        }
    }
    f.push_str(&line);
    f.push('\n');
}

/// The fusion section (see [`Explanation::fusion`]).
fn write_fusion(f: &mut String, g: &Graph, s: &Schedule) {
    let kernels = s.kernel_count();
    let _ = writeln!(
        f,
        "== fusion: {kernels} kernel{}",
        if kernels == 1 { "" } else { "s" }
    );
    let io: Vec<(Vec<BufIdx>, Vec<BufIdx>)> = s.steps.iter().map(step_io).collect();
    for (i, step) in s.steps.iter().enumerate() {
        let what = match step {
            Step::Kernel { kernel, .. } => format!("kernel {}", kernel.name),
            Step::Matmul { .. } => "matmul".into(),
            Step::Rand { .. } => "rand".into(),
        };
        let (mut reads, writes) = io[i].clone();
        let mut seen = vec![];
        reads.retain(|b| {
            let first = !seen.contains(b);
            seen.push(*b);
            first
        });
        let mut head = format!("step {i} {what} (");
        if !reads.is_empty() {
            let _ = write!(head, "reads {}, ", list(&reads));
        }
        let _ = write!(head, "writes {}):", list(&writes));
        let nodes: Vec<String> = step_nodes(g, s, i)
            .into_iter()
            .map(|n| format!("{n} {}", g.node(n).op.name()))
            .collect();
        wrapped(f, &head, &nodes);
    }
    if s.report.materialized.is_empty() {
        return;
    }
    let _ = writeln!(f, "materialized");
    for &(n, reason) in &s.report.materialized {
        if n.index() >= g.len() {
            continue;
        }
        let node = g.node(n);
        let _ = write!(f, "  {n} {} {}", node.op.name(), node.ty);
        match buffer_of(g, s, n) {
            Some(b) => {
                let _ = write!(f, " in {b}");
                let writers: Vec<usize> = (0..io.len()).filter(|&i| io[i].1.contains(&b)).collect();
                let readers: Vec<usize> = (0..io.len()).filter(|&i| io[i].0.contains(&b)).collect();
                if !writers.is_empty() {
                    let _ = write!(f, ", written by step {}", list(&writers));
                }
                if !readers.is_empty() {
                    let plural = if readers.len() == 1 { "" } else { "s" };
                    let _ = write!(f, ", read by step{plural} {}", list(&readers));
                }
            }
            None => {
                let _ = write!(f, " (no buffer)");
            }
        }
        let _ = writeln!(f, ": {reason}");
    }
}

/// The graph nodes schedule step `i` computes: the fusion report's list, plus, for a matmul, the
/// multiply and the views of its operands, which it reads through strides.
pub(crate) fn step_nodes(g: &Graph, s: &Schedule, i: usize) -> Vec<NodeId> {
    let mut nodes: Vec<NodeId> = s
        .report
        .step_nodes
        .get(i)
        .map(|ns| ns.iter().copied().filter(|n| n.index() < g.len()).collect())
        .unwrap_or_default();
    if let (Some(Step::Matmul { .. }), Some(&root)) = (s.steps.get(i), nodes.first()) {
        let buffered = |n: NodeId| {
            matches!(g.node(n).op, smelt_passes::Op::Input(_))
                || s.report.materialized.iter().any(|&(m, _)| m == n)
        };
        let mut stack = vec![root];
        while let Some(n) = stack.pop() {
            for &src in &g.node(n).srcs {
                if !buffered(src) && !nodes.contains(&src) {
                    nodes.push(src);
                    stack.push(src);
                }
            }
        }
        nodes.sort();
    }
    nodes
}

/// The buffer holding node `n`'s value: its own, the output slot it fills, or its reshape source's.
fn buffer_of(g: &Graph, s: &Schedule, n: NodeId) -> Option<BufIdx> {
    if let Some(i) = s.buffers.iter().position(|b| b.node == Some(n)) {
        return Some(BufIdx(i as u32));
    }
    if let Some(pos) = g.outputs.iter().position(|&o| o == n) {
        return s.outputs.get(pos).copied();
    }
    match g.node(n).op {
        smelt_passes::Op::Reshape(_) => buffer_of(g, s, g.node(n).srcs[0]),
        _ => None,
    }
}

impl Tensor {
    /// Explains what realizing this tensor would do: see [`explain`].
    pub fn explain(&self) -> Explanation {
        explain(&[self])
    }
}
