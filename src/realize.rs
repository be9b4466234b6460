//! The realize driver: collect the needed part of the lazy DAG into a work graph, compile and run it,
//! attach the results.

use crate::runtime::{self, Buffer};
use crate::{Device, Error, Result, Tensor};
use smelt_passes::{Graph, NodeId, TypeInfo};
use std::collections::HashMap;

/// The work graph of one realize and the tensors at its ends.
pub(crate) struct Work {
    pub graph: Graph,
    /// Realized tensors feeding the graph, in `Op::Input` order.
    pub inputs: Vec<Tensor>,
}

/// Collects the unrealized part of the DAG reachable from `targets` into a work graph; realized tensors
/// become input leaves and identical nodes are merged. Iterative, so long chains do not overflow the
/// stack. Transfers from other devices are realized first.
pub(crate) fn collect(targets: &[&Tensor]) -> Result<Work> {
    let mut graph = Graph::new();
    let mut inputs = Vec::new();
    let mut ids: HashMap<u64, NodeId> = HashMap::new();
    for target in targets {
        let mut stack: Vec<(Tensor, bool)> = vec![((*target).clone(), false)];
        while let Some((t, expanded)) = stack.pop() {
            if ids.contains_key(&t.id()) {
                continue;
            }
            if t.is_transfer() && !t.is_realized() {
                runtime::transfer(&t)?;
            }
            let ty = TypeInfo { shape: t.dims().to_vec(), dtype: t.dtype() };
            if t.is_realized() {
                let id = graph.input(ty);
                if let Some(name) = t.name() {
                    graph.labels.insert(id, name);
                }
                ids.insert(t.id(), id);
                inputs.push(t);
                continue;
            }
            let srcs = t.srcs();
            if !expanded {
                stack.push((t, true));
                for s in srcs.iter().rev() {
                    if !ids.contains_key(&s.id()) {
                        stack.push((s.clone(), false));
                    }
                }
                continue;
            }
            let src_ids: Vec<NodeId> = srcs.iter().map(|s| ids[&s.id()]).collect();
            let id = graph.add_typed(t.op().clone(), &src_ids, ty);
            if let Some(name) = t.name() {
                graph.labels.entry(id).or_insert(name);
            }
            ids.insert(t.id(), id);
        }
        graph.outputs.push(ids[&target.id()]);
    }
    debug_assert_eq!(graph.verify(), Ok(()));
    Ok(Work { graph, inputs })
}

/// Realizes every target (shared work runs once). Targets on several devices are realized device by
/// device.
pub(crate) fn realize_all(targets: &[&Tensor]) -> Result<()> {
    let mut devices: Vec<Device> = targets.iter().filter(|t| !t.is_realized()).map(|t| t.device()).collect();
    devices.sort();
    devices.dedup();
    for device in devices {
        let todo: Vec<&Tensor> = targets.iter().copied().filter(|t| !t.is_realized() && t.device() == device).collect();
        let work = collect(&todo)?;
        if let Err(e) = work.graph.verify() {
            return Err(Error::Internal(format!("collected graph does not verify: {e}\n{}", work.graph)));
        }
        let buffers = runtime::run(device, &work)?;
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
        self.buffer().cloned().ok_or_else(|| Error::Internal("realized tensor has no buffer".into()))
    }
}
