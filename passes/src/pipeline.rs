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
