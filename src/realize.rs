//! The realize driver: collect the needed part of the lazy DAG into a work graph, compile and run it,
//! attach the results.

use crate::runtime::{self, Buffer};
use crate::{Device, Error, Result, Tensor};
use rustc_hash::{FxHashMap, FxHasher};
use smelt_passes::{Graph, NodeId, TypeInfo};

/// The work graph of one realize and the tensors at its ends.
pub(crate) struct Work {
    pub graph: Graph,
    /// Realized tensors feeding the graph, in `Op::Input` order.
    #[allow(dead_code)] // kept with the graph for debugging tools
    pub inputs: Vec<Tensor>,
}

/// An operand in a traversal: an earlier unrealized node or a realized input.
#[derive(Clone, Copy, Hash)]
enum Ref {
    Node(u32),
    Input(u32),
}

/// The unrealized part of the DAG reachable from some targets, in topological order, with a structural
/// key (ops, shapes, dtypes, wiring and input types; not data) that identifies its compiled plan. It is
/// cheap: a realize whose plan is cached never builds a petgraph graph.
pub(crate) struct Traversal {
    nodes: Vec<Tensor>,
    /// The operands of node `i` are `refs[offsets[i]..offsets[i + 1]]`.
    refs: Vec<Ref>,
    offsets: Vec<u32>,
    pub inputs: Vec<Tensor>,
    outputs: Vec<Ref>,
    pub key: u64,
}

/// Walks the unrealized DAG from `targets` (iteratively: long chains do not overflow the stack).
/// Transfers from other devices are realized on the way. Allocates nothing per node beyond the arrays
/// it returns: this is the whole cost of a realize whose plan is cached.
pub(crate) fn traverse(targets: &[&Tensor]) -> Result<Traversal> {
    traverse_with(targets, true)
}

/// [`traverse`]; with `realize_transfers` false, an unrealized transfer is an input leaf, as it will be
/// once realized (for `explain` and pictures, which must run nothing).
pub(crate) fn traverse_with(targets: &[&Tensor], realize_transfers: bool) -> Result<Traversal> {
    use std::hash::{Hash, Hasher};
    thread_local! {
        // The size of this thread's last traversal: loops realize graphs of one size, so the arrays are
        // allocated once at the right size instead of growing by doubling.
        static HINT: std::cell::Cell<usize> = const { std::cell::Cell::new(16) };
    }
    let hint = HINT.with(|h| h.get());
    let mut seen: FxHashMap<u64, Ref> =
        FxHashMap::with_capacity_and_hasher(hint + hint / 4, Default::default());
    let mut tr = Traversal {
        nodes: Vec::with_capacity(hint),
        refs: Vec::with_capacity(2 * hint),
        offsets: Vec::with_capacity(hint + 1),
        inputs: vec![],
        outputs: vec![],
        key: 0,
    };
    tr.offsets.push(0);
    let mut h = FxHasher::default();
    let mut stack: Vec<(Tensor, bool)> = Vec::with_capacity(hint);
    for target in targets {
        stack.push(((*target).clone(), false));
        while let Some((t, expanded)) = stack.pop() {
            if seen.contains_key(&t.id()) {
                continue;
            }
            if realize_transfers && t.is_transfer() && !t.is_realized() {
                runtime::transfer(&t)?;
            }
            if t.is_realized() || t.is_transfer() {
                let r = Ref::Input(tr.inputs.len() as u32);
                (1u8, t.dims(), t.dtype()).hash(&mut h);
                seen.insert(t.id(), r);
                tr.inputs.push(t);
                continue;
            }
            if !expanded {
                let node = t.0.clone();
                stack.push((t, true));
                for s in node
                    .srcs
                    .read()
                    .unwrap_or_else(|e| e.into_inner())
                    .iter()
                    .rev()
                {
                    if !seen.contains_key(&s.id()) {
                        stack.push((s.clone(), false));
                    }
                }
                continue;
            }
            let start = tr.refs.len();
            for s in t.0.srcs.read().unwrap_or_else(|e| e.into_inner()).iter() {
                tr.refs.push(seen[&s.id()]);
            }
            (2u8, t.op(), t.dims(), t.dtype(), &tr.refs[start..]).hash(&mut h);
            tr.offsets.push(tr.refs.len() as u32);
            seen.insert(t.id(), Ref::Node(tr.nodes.len() as u32));
            tr.nodes.push(t);
        }
        let out = seen[&target.id()];
        out.hash(&mut h);
        tr.outputs.push(out);
    }
    tr.key = h.finish();
    HINT.with(|h| h.set(tr.nodes.len() + tr.inputs.len()));
    Ok(tr)
}

impl Traversal {
    /// The work graph (identical nodes merged), with labels from `Tensor::named`.
    pub(crate) fn graph(&self) -> Graph {
        self.graph_mapped().0
    }

    /// The work graph, and every tensor of the traversal with the node it became (several tensors may
    /// become one node: identical nodes are merged).
    pub(crate) fn graph_mapped(&self) -> (Graph, Vec<(NodeId, &Tensor)>) {
        let mut graph = Graph::new();
        let inputs: Vec<NodeId> = self
            .inputs
            .iter()
            .map(|t| {
                let id = graph.input(TypeInfo {
                    shape: t.dims().to_vec(),
                    dtype: t.dtype(),
                });
                if let Some(name) = t.name() {
                    graph.labels.entry(id).or_insert(name);
                }
                id
            })
            .collect();
        let mut ids: Vec<NodeId> = Vec::with_capacity(self.nodes.len());
        let resolve = |r: &Ref, ids: &[NodeId]| match *r {
            Ref::Node(i) => ids[i as usize],
            Ref::Input(i) => inputs[i as usize],
        };
        for (i, t) in self.nodes.iter().enumerate() {
            let srcs = &self.refs[self.offsets[i] as usize..self.offsets[i + 1] as usize];
            let src_ids: Vec<NodeId> = srcs.iter().map(|r| resolve(r, &ids)).collect();
            let ty = TypeInfo {
                shape: t.dims().to_vec(),
                dtype: t.dtype(),
            };
            let id = graph.add_typed(t.op().clone(), &src_ids, ty);
            if let Some(name) = t.name() {
                graph.labels.entry(id).or_insert(name);
            }
            ids.push(id);
        }
        graph.outputs = self.outputs.iter().map(|r| resolve(r, &ids)).collect();
        let tensors = inputs
            .iter()
            .zip(&self.inputs)
            .chain(ids.iter().zip(&self.nodes))
            .map(|(&id, t)| (id, t))
            .collect();
        (graph, tensors)
    }
}

/// Collects the unrealized part of the DAG reachable from `targets` into a work graph.
pub(crate) fn collect(targets: &[&Tensor]) -> Result<Work> {
    let tr = traverse(targets)?;
    let graph = tr.graph();
    Ok(Work {
        graph,
        inputs: tr.inputs,
    })
}

/// The work graph that realizing `targets` would run, as text (for snapshot tests and debugging).
/// Transfers from other devices are realized first; a failure is returned as the text `error: ...`.
#[doc(hidden)]
pub fn debug_graph(targets: &[&Tensor]) -> String {
    match collect(targets) {
        Ok(work) => work.graph.to_string(),
        Err(e) => format!("error: {e}"),
    }
}

/// Realizes every target (shared work runs once). Targets on several devices are realized device by
/// device.
pub(crate) fn realize_all(targets: &[&Tensor]) -> Result<()> {
    let mut devices: Vec<Device> = targets
        .iter()
        .filter(|t| !t.is_realized())
        .map(|t| t.device())
        .collect();
    devices.sort();
    devices.dedup();
    for device in devices {
        let todo: Vec<&Tensor> = targets
            .iter()
            .copied()
            .filter(|t| !t.is_realized() && t.device() == device)
            .collect();
        let tr = traverse(&todo)?;
        let buffers = runtime::run(device, &tr)?;
        for (t, b) in todo.iter().zip(buffers) {
            // A target listed twice gets its buffer once.
            if !t.is_realized() {
                t.set_buffer(b);
            }
        }
    }
    Ok(())
}

impl Tensor {
    /// Computes this tensor (and only what it needs); returns the same tensor, now backed by a buffer.
    pub fn realize(&self) -> Result<Tensor> {
        realize_all(&[self])?;
        Ok(self.clone())
    }

    /// Computes several tensors together, so work they share runs once.
    pub fn realize_all(tensors: &[&Tensor]) -> Result<()> {
        realize_all(tensors)
    }

    /// The work graph that realizing `targets` would run now, as text (`smelt_passes::Graph`'s dump):
    /// realized tensors appear as inputs, identical nodes are merged. For tests and debugging: nothing is
    /// computed (pending copies between devices excepted).
    #[doc(hidden)]
    pub fn debug_graph(targets: &[&Tensor]) -> Result<String> {
        Ok(collect(targets)?.graph.to_string())
    }

    /// The buffer, realizing first if needed.
    pub(crate) fn realized_buffer(&self) -> Result<Buffer> {
        self.realize()?;
        self.buffer()
            .cloned()
            .ok_or_else(|| Error::Internal("realized tensor has no buffer".into()))
    }
}

/// The compiler's output for realizing `targets` now (nothing is run): every stage, for tests and
/// `explain`.
#[doc(hidden)]
pub fn compile_debug(targets: &[&Tensor]) -> Result<smelt_passes::pipeline::Compiled> {
    let todo: Vec<&Tensor> = targets
        .iter()
        .copied()
        .filter(|t| !t.is_realized())
        .collect();
    let work = collect(&todo)?;
    smelt_passes::pipeline::compile(&work.graph).map_err(Error::Internal)
}
