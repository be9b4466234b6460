//! The schedule: ordered steps over a buffer plan, what the runtime executes.
//!
//! ```text
//! buffers
//!   #0 input 0 f32[4096,4096]
//!   #1 output 0 f32[4096,4096]  (%6)
//! steps
//!   kernel r_softmax_4096x4096 (#0, #1)
//! ```

use crate::graph::{Dist, NodeId, ShapeText, TypeInfo};
use smelt_codegen::kernel::Kernel;
use smelt_codegen::matmul::MatmulSpec;
use std::fmt;

/// An index into [`Schedule::buffers`]. Prints as `#3`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct BufIdx(pub u32);

impl fmt::Display for BufIdx {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "#{}", self.0)
    }
}

/// What a buffer is for.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum BufKind {
    /// A realized tensor feeding the graph (`Op::Input(n)`).
    Input(u32),
    /// An intermediate: written by one step, read by later ones, freed after its last use.
    Temp,
    /// A result the caller asked for.
    Output,
    /// An `i32[1]` flag a kernel sets when a data-dependent index is out of range (zeroed before).
    ErrorFlag { node: NodeId, size: usize },
}

/// One buffer of the plan.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct BufferDesc {
    pub ty: TypeInfo,
    pub kind: BufKind,
    /// The graph node whose value it holds.
    pub node: Option<NodeId>,
}

/// One launch.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum Step {
    /// Runs a kernel; `args[i]` is the buffer behind the kernel's parameter `b{i}`.
    Kernel { kernel: Kernel, args: Vec<BufIdx> },
    /// `out = a · b`, a contraction handed to a tuned matmul.
    Matmul {
        spec: MatmulSpec,
        a: BufIdx,
        b: BufIdx,
        out: BufIdx,
    },
    /// Fills `out` with counter-based random numbers (see [`crate::random`]).
    Rand {
        out: BufIdx,
        seed: u64,
        offset: u64,
        dist: Dist,
    },
}

/// Why a node got its own buffer instead of being computed inside its users' kernels.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Reason {
    /// The caller asked for it.
    Output,
    /// Random numbers are generated into a buffer.
    Random,
    /// It is a contraction (matmul) run by a tuned kernel.
    Contraction,
    /// It is an operand of a contraction and not a strided view of a buffer.
    ContractionOperand,
    /// A reduction whose users index it in a way one loop nest cannot follow, or that several loop nests
    /// read: computed once, so every use sees the same value.
    ReduceRecomputed,
    /// Used several times and too costly to recompute in each user.
    SharedExpensive,
    /// A large reduction split in two stages for parallelism.
    SplitReduce,
    /// A chain deeper than one kernel inlines.
    DepthLimit,
    /// A view whose index arithmetic would grow too large (views of views that do not compose).
    ComplexIndex,
}

/// The fusion decisions, for reports.
#[derive(Clone, Debug, Default, PartialEq, Eq, Hash)]
pub struct FusionReport {
    /// Every materialized node and why.
    pub materialized: Vec<(NodeId, Reason)>,
    /// Which graph nodes each kernel step computes (indexed like [`Schedule::steps`]).
    pub step_nodes: Vec<Vec<NodeId>>,
}

/// The ordered launches and buffer plan of one work graph.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct Schedule {
    pub buffers: Vec<BufferDesc>,
    pub steps: Vec<Step>,
    /// The buffer holding each graph output, in the graph's output order.
    pub outputs: Vec<BufIdx>,
    pub report: FusionReport,
}

impl Schedule {
    /// The number of kernel launches (matmuls count, random fills do not).
    pub fn kernel_count(&self) -> usize {
        self.steps
            .iter()
            .filter(|s| !matches!(s, Step::Rand { .. }))
            .count()
    }

    /// For each buffer, the index of the last step that reads or writes it (None if no step does).
    pub fn last_uses(&self) -> Vec<Option<usize>> {
        let mut last = vec![None; self.buffers.len()];
        for (i, s) in self.steps.iter().enumerate() {
            let bufs: Vec<BufIdx> = match s {
                Step::Kernel { args, .. } => args.clone(),
                Step::Matmul { a, b, out, .. } => vec![*a, *b, *out],
                Step::Rand { out, .. } => vec![*out],
            };
            for b in bufs {
                last[b.0 as usize] = Some(i);
            }
        }
        last
    }
}

impl fmt::Display for Reason {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Reason::Output => "output",
            Reason::Random => "random numbers are generated into a buffer",
            Reason::Contraction => "matmul result",
            Reason::ContractionOperand => "matmul operand that is not a strided view of a buffer",
            Reason::ReduceRecomputed => "reduction its users cannot share inside one loop nest (computed once, every use sees the same value)",
            Reason::SharedExpensive => "used several times and too costly to recompute at each use",
            Reason::SplitReduce => "first stage of a reduction split for parallelism",
            Reason::DepthLimit => "a chain deeper than one kernel inlines",
            Reason::ComplexIndex => "a view whose index arithmetic would grow too large",
        })
    }
}

impl fmt::Display for Schedule {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(f, "buffers")?;
        for (i, b) in self.buffers.iter().enumerate() {
            let kind = match &b.kind {
                BufKind::Input(n) => format!("input {n}"),
                BufKind::Temp => "temp".into(),
                BufKind::Output => "output".into(),
                BufKind::ErrorFlag { node, .. } => format!("index flag of {node}"),
            };
            write!(f, "  #{i} {kind} {}{}", b.ty.dtype, ShapeText(&b.ty.shape))?;
            if let Some(n) = b.node {
                write!(f, "  ({n})")?;
            }
            writeln!(f)?;
        }
        writeln!(f, "steps")?;
        for s in &self.steps {
            match s {
                Step::Kernel { kernel, args } => {
                    let args: Vec<String> = args.iter().map(|a| a.to_string()).collect();
                    writeln!(f, "  kernel {} ({})", kernel.name, args.join(", "))?;
                }
                Step::Matmul { spec, a, b, out } => writeln!(f, "  {spec} ({a}, {b}) -> {out}")?,
                Step::Rand {
                    out,
                    seed,
                    offset,
                    dist,
                } => writeln!(f, "  rand {dist:?} seed {seed} offset {offset} -> {out}")?,
            }
        }
        write!(f, "outputs")?;
        for o in &self.outputs {
            write!(f, " {o}")?;
        }
        writeln!(f)?;
        if !self.report.materialized.is_empty() {
            writeln!(f, "materialized")?;
            for (n, r) in &self.report.materialized {
                writeln!(f, "  {n}: {r}")?;
            }
        }
        Ok(())
    }
}
