//! The compiler pipeline: one named step per line. Verification runs between steps, and each step's
//! result is kept for `explain`.

use crate::graph::Graph;
use crate::schedule::Schedule;
use crate::{fuse, split};
use smelt_codegen::kernel;

/// Everything the pipeline produced, stage by stage.
#[derive(Clone, Debug)]
pub struct Compiled {
    /// The graph as collected.
    pub input: Graph,
    /// After splitting large reductions.
    pub split: Graph,
    pub schedule: Schedule,
}

impl Compiled {
    /// The graph after each pass that rewrites it, in pipeline order, named for the pass: what
    /// `explain` and `SMELT_DEBUG` print. The last one is the graph the schedule's node ids refer to. A new
    /// graph pass adds its line here.
    pub fn stages(&self) -> Vec<(&'static str, &Graph)> {
        vec![("collected", &self.input), ("split", &self.split)]
    }

    /// The rewrite passes' report (which rules fired, how often, and why the search stopped) as
    /// line-oriented text, or `None` when no rewrite pass ran.
    pub fn rewrites(&self) -> Option<String> {
        None
    }
}

/// Runs every pass on a collected work graph.
pub fn compile(graph: &Graph) -> Result<Compiled, String> {
    graph.verify()?;
    let (split, forced) = split::split_reduces(graph);
    split.verify()?;
    let schedule = fuse::schedule(&split, &forced);
    for step in &schedule.steps {
        if let crate::schedule::Step::Kernel { kernel: k, .. } = step {
            kernel::verify(k).map_err(|e| e.to_string())?;
        }
    }
    Ok(Compiled {
        input: graph.clone(),
        split,
        schedule,
    })
}
