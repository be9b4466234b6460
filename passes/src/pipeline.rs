//! The compiler pipeline: one named step per line. Verification runs between steps, and each step's
//! result is kept for `explain`.
//!
//! ```text
//! collected ─ simplify (egg) ─▶ simplified ─ split ─▶ split ─ fuse / schedule ─▶ Schedule
//! ```
//!
//! Every graph step keeps `inputs` as they are (the runtime binds input buffers by `Op::Input` index)
//! and the outputs in the same order (the runtime hands out output buffers by position).

use crate::graph::Graph;
use crate::schedule::Schedule;
use crate::simplify::{self, SimplifyOptions, SimplifyReport};
use crate::{fuse, split};
use smelt_codegen::kernel;

/// Everything the pipeline produced, stage by stage.
#[derive(Clone, Debug)]
pub struct Compiled {
    /// The graph as collected.
    pub input: Graph,
    /// After algebraic simplification (equality saturation; see [`crate::simplify`]).
    pub simplified: Graph,
    /// What simplification did: the rules that fired, how often, and why the search stopped.
    pub simplify_report: SimplifyReport,
    /// After splitting large reductions.
    pub split: Graph,
    pub schedule: Schedule,
}

impl Compiled {
    /// The graph after each pass that rewrites it, in pipeline order, named for the pass: what
    /// `explain` and `SMELT_DEBUG` print. The last one is the graph the schedule's node ids refer to. A new
    /// graph pass adds its line here.
    pub fn stages(&self) -> Vec<(&'static str, &Graph)> {
        vec![
            ("collected", &self.input),
            ("simplified", &self.simplified),
            ("split", &self.split),
        ]
    }

    /// The rewrite passes' report (which rules fired, how often, and why the search stopped) as
    /// line-oriented text, or `None` when no rewrite pass ran.
    pub fn rewrites(&self) -> Option<String> {
        Some(self.simplify_report.to_string())
    }
}

/// The options `compile` simplifies with, chosen once per process by `SMELT_REWRITES` (see
/// [`options_named`]); unset means `default`. See the floating-point policy in [`crate::simplify`].
pub fn simplify_options() -> SimplifyOptions {
    static FROM_ENV: std::sync::OnceLock<SimplifyOptions> = std::sync::OnceLock::new();
    FROM_ENV
        .get_or_init(|| {
            let name = std::env::var("SMELT_REWRITES").unwrap_or_else(|_| "default".into());
            options_named(&name).unwrap_or_else(|| {
                eprintln!(
                    "smelt: SMELT_REWRITES={name:?} is not one of exact, default, finite, off; \
                     using default"
                );
                SimplifyOptions::default()
            })
        })
        .clone()
}

/// The named rewrite policies: `exact` (results bit-identical to the unsimplified program: no rule
/// that changes rounding or the sign of a zero), `default` (those allowed, as XLA's simplifier does;
/// nothing that is wrong for NaN or ±inf), `finite` (also rules that assume no NaN or ±inf), `off` (no
/// rewrites at all).
pub fn options_named(name: &str) -> Option<SimplifyOptions> {
    Some(match name {
        "exact" => SimplifyOptions::exact(),
        "default" => SimplifyOptions::default(),
        "finite" => SimplifyOptions {
            assume_finite: true,
            ..SimplifyOptions::default()
        },
        "off" => SimplifyOptions {
            rule_sets: crate::simplify::RuleSets {
                algebra: false,
                movement: false,
                reduce: false,
                fold: false,
            },
            ..SimplifyOptions::exact()
        },
        _ => return None,
    })
}

/// Runs every pass on a collected work graph.
pub fn compile(graph: &Graph) -> Result<Compiled, String> {
    compile_with(graph, &simplify_options())
}

/// [`compile`] with explicit simplify options.
pub fn compile_with(graph: &Graph, opts: &SimplifyOptions) -> Result<Compiled, String> {
    graph.verify()?;
    let simplified = simplify::simplify(graph, opts);
    check_simplified(graph, &simplified.graph)?;
    let (split, forced) = split::split_reduces(&simplified.graph);
    split.verify()?;
    let schedule = fuse::schedule(&split, &forced);
    for step in &schedule.steps {
        if let crate::schedule::Step::Kernel { kernel: k, .. } = step {
            kernel::verify(k).map_err(|e| e.to_string())?;
        }
    }
    Ok(Compiled {
        input: graph.clone(),
        simplified: simplified.graph,
        simplify_report: simplified.report,
        split,
        schedule,
    })
}

/// What the runtime relies on: the simplified graph verifies, binds the same input buffers and has one
/// output of the same type per original output, in order.
fn check_simplified(before: &Graph, after: &Graph) -> Result<(), String> {
    after
        .verify()
        .map_err(|e| format!("simplified graph: {e}"))?;
    if after.inputs != before.inputs {
        return Err("simplify changed the graph's inputs".into());
    }
    if after.outputs.len() != before.outputs.len() {
        return Err(format!(
            "simplify returned {} outputs for {}",
            after.outputs.len(),
            before.outputs.len()
        ));
    }
    for (k, (b, a)) in before.outputs.iter().zip(&after.outputs).enumerate() {
        let (tb, ta) = (&before.node(*b).ty, &after.node(*a).ty);
        if tb != ta {
            return Err(format!("simplify changed output {k} from {tb} to {ta}"));
        }
    }
    Ok(())
}
