//! Fusion and scheduling: which nodes get buffers, and the ordered steps that fill them.
//!
//! Policy (DESIGN.md): everything is computed inside the kernels that use it (elementwise chains, views
//! as index arithmetic, reductions as loop nests) except nodes that must be materialized: outputs,
//! random numbers, contractions and their operands when those are not strided views, reductions their
//! users cannot share inside one loop nest, and large shared subexpressions. Lowering is tried, and
//! each failure names one more node to materialize, until every kernel lowers. Every materialized node
//! is recorded with its [`Reason`].

use crate::graph::{Graph, NodeId, Op};
use crate::lower::contraction::{self, Found};
use crate::lower::{self, Fail};
use crate::schedule::{BufIdx, BufKind, BufferDesc, FusionReport, Reason, Schedule, Step};
use std::collections::BTreeMap;

/// How many graph nodes a subexpression may hold before a node used by several kernels gets a buffer
/// instead of being recomputed in each.
const RECOMPUTE_LIMIT: usize = 24;

/// The deepest chain of ops one kernel inlines; deeper chains are cut into several kernels (a
/// 20,000-op chain must not become one 20,000-deep expression).
const DEPTH_LIMIT: usize = 256;

/// Schedules a verified graph. `forced` names nodes that must be materialized (from earlier passes).
pub fn schedule(g: &Graph, forced: &[(NodeId, Reason)]) -> Schedule {
    let uses = g.use_counts();
    let mut mat: BTreeMap<NodeId, Reason> = BTreeMap::new();
    for &o in &g.outputs {
        mat.insert(o, Reason::Output);
    }
    for &(n, r) in forced {
        mat.entry(n).or_insert(r);
    }
    for id in g.ids() {
        if uses[id.index()] > 0 && matches!(g.node(id).op, Op::Rand { .. }) {
            mat.entry(id).or_insert(Reason::Random);
        }
    }
    let mut sized = false;
    loop {
        // Contractions and their operands.
        let mut contractions = BTreeMap::new();
        let mut changed = false;
        for id in g.ids() {
            if uses[id.index()] == 0 {
                continue;
            }
            match contraction::recognize(g, id) {
                Some(Found::Contraction(c)) => {
                    mat.insert(id, Reason::Contraction);
                    contractions.insert(id, c);
                }
                Some(Found::NeedsBuffer(b)) => {
                    if !mat.contains_key(&b) && !matches!(g.node(b).op, Op::Input(_)) {
                        mat.insert(b, Reason::ContractionOperand);
                        changed = true;
                    }
                }
                None => {}
            }
        }
        if changed {
            continue;
        }
        for c in contractions.values() {
            for base in [c.a, c.b] {
                if !matches!(g.node(base).op, Op::Input(_)) {
                    mat.entry(base).or_insert(Reason::ContractionOperand);
                }
            }
        }
        // Sizes are measured once the contractions (which stop inlining) are known.
        if !sized {
            shared_expensive(g, &uses, &mut mat);
            sized = true;
        }
        match build(g, &mat, &contractions) {
            Ok(s) => return s,
            Err((n, r)) => {
                assert!(
                    !mat.contains_key(&n) || n == NodeId(u32::MAX),
                    "lowering asked again for {n}"
                );
                mat.insert(n, r);
            }
        }
    }
}

/// Marks nodes used several times whose subexpression is large, so it is computed once, and cuts chains
/// deeper than one kernel should inline.
fn shared_expensive(g: &Graph, uses: &[usize], mat: &mut BTreeMap<NodeId, Reason>) {
    // Size of each node's subexpression (shared parts counted once per path) and its depth, up to the
    // next buffer.
    let mut size = vec![0usize; g.len()];
    let mut depth = vec![0usize; g.len()];
    for id in g.ids() {
        let n = g.node(id);
        let (mut s, mut d) = (1, 1);
        for src in &n.srcs {
            let inlined = !mat.contains_key(src);
            s += if inlined { size[src.index()] } else { 1 };
            d = d.max(1 + if inlined { depth[src.index()] } else { 1 });
        }
        if uses[id.index()] > 1 && s > RECOMPUTE_LIMIT && !n.op.is_movement() {
            mat.entry(id).or_insert(Reason::SharedExpensive);
        } else if d >= DEPTH_LIMIT && !n.op.is_movement() {
            mat.entry(id).or_insert(Reason::DepthLimit);
        }
        if mat.contains_key(&id) {
            (s, d) = (1, 1);
        }
        size[id.index()] = s;
        depth[id.index()] = d;
    }
}

/// The buffer plan and steps for a materialization set, or the next node lowering needs materialized.
fn build(
    g: &Graph,
    mat: &BTreeMap<NodeId, Reason>,
    contractions: &BTreeMap<NodeId, contraction::Contraction>,
) -> Result<Schedule, (NodeId, Reason)> {
    let mut buffers: Vec<BufferDesc> = g
        .inputs
        .iter()
        .enumerate()
        .map(|(i, ty)| BufferDesc {
            ty: ty.clone(),
            kind: BufKind::Input(i as u32),
            node: None,
        })
        .collect();
    let mut bufs: BTreeMap<NodeId, BufIdx> = BTreeMap::new();
    for id in g.ids() {
        let n = g.node(id);
        if let Op::Input(i) = n.op {
            bufs.insert(id, BufIdx(i));
            buffers[i as usize].node = Some(id);
        }
    }
    for &id in mat.keys() {
        if bufs.contains_key(&id) {
            continue;
        }
        // A reshape of a buffer is the same bytes: share the buffer instead of copying.
        if let Some(src) = reshape_source(g, id)
            && let Some(&b) = bufs.get(&src)
        {
            bufs.insert(id, b);
            continue;
        }
        let kind = if g.outputs.contains(&id) {
            BufKind::Output
        } else {
            BufKind::Temp
        };
        bufs.insert(id, BufIdx(buffers.len() as u32));
        buffers.push(BufferDesc {
            ty: g.node(id).ty.clone(),
            kind,
            node: Some(id),
        });
    }
    let mut steps = vec![];
    let mut step_nodes = vec![];
    for (&id, _) in mat.iter() {
        let n = g.node(id);
        let out = bufs[&id];
        if matches!(n.op, Op::Input(_))
            || n.ty.numel() == 0
            || buffers[out.0 as usize].node != Some(id)
        {
            continue;
        }
        if let Op::Rand { seed, offset, dist } = n.op {
            steps.push(Step::Rand {
                out,
                seed,
                offset,
                dist,
            });
            step_nodes.push(vec![id]);
            continue;
        }
        if let Some(c) = contractions.get(&id) {
            steps.push(Step::Matmul {
                spec: c.spec,
                a: bufs[&c.a],
                b: bufs[&c.b],
                out,
            });
            step_nodes.push(vec![id]);
            continue;
        }
        let name = kernel_name(g, id, &bufs);
        let lowered = match lower::lower_best(g, &bufs, id, out, &name) {
            Ok(l) => l,
            Err(Fail::Materialize(n, r)) => return Err((n, r)),
            Err(Fail::Domain) => unreachable!("the natural domain always applies"),
        };
        let mut args = vec![];
        let mut flags = lowered.flags.iter();
        for a in &lowered.args {
            args.push(match a {
                Some(b) => *b,
                None => {
                    let &(_, node, size) = flags.next().expect("one flag per flag parameter");
                    let b = BufIdx(buffers.len() as u32);
                    buffers.push(BufferDesc {
                        ty: crate::graph::TypeInfo {
                            shape: vec![1],
                            dtype: smelt_codegen::DType::I32,
                        },
                        kind: BufKind::ErrorFlag { node, size },
                        node: None,
                    });
                    b
                }
            });
        }
        step_nodes.push(kernel_nodes(g, &lowered.kernel, id, &bufs));
        steps.push(Step::Kernel {
            kernel: lowered.kernel,
            args,
        });
    }
    let outputs = g.outputs.iter().map(|o| bufs[o]).collect();
    let materialized = mat.iter().map(|(&n, &r)| (n, r)).collect();
    Ok(Schedule {
        buffers,
        steps,
        outputs,
        report: FusionReport {
            materialized,
            step_nodes,
        },
    })
}

/// The node below a chain of reshapes (C-order layout is kept by every reshape).
fn reshape_source(g: &Graph, mut id: NodeId) -> Option<NodeId> {
    let mut found = None;
    while let Op::Reshape(_) = g.node(id).op {
        id = g.node(id).srcs[0];
        found = Some(id);
    }
    found
}

/// The graph nodes a kernel computes: its output and everything inlined up to other buffers.
fn kernel_nodes(
    g: &Graph,
    _k: &smelt_codegen::kernel::Kernel,
    out: NodeId,
    bufs: &BTreeMap<NodeId, BufIdx>,
) -> Vec<NodeId> {
    let mut seen = std::collections::BTreeSet::from([out]);
    let mut stack = vec![out];
    while let Some(id) = stack.pop() {
        for &s in &g.node(id).srcs {
            if !bufs.contains_key(&s) && seen.insert(s) {
                stack.push(s);
            }
        }
    }
    seen.into_iter().collect()
}

/// A kernel's name, tinygrad style: `E_` for elementwise, `R_` when it reduces, then the output shape.
fn kernel_name(g: &Graph, id: NodeId, bufs: &BTreeMap<NodeId, BufIdx>) -> String {
    let n = g.node(id);
    let mut reduces = false;
    let mut stack = vec![id];
    let mut seen = std::collections::BTreeSet::new();
    while let Some(i) = stack.pop() {
        if !seen.insert(i) {
            continue;
        }
        if g.node(i).op.is_reduce() {
            reduces = true;
            break;
        }
        stack.extend(
            g.node(i)
                .srcs
                .iter()
                .copied()
                .filter(|s| !bufs.contains_key(s)),
        );
    }
    let dims: Vec<String> = n.ty.shape.iter().map(|d| d.to_string()).collect();
    let dims = if dims.is_empty() {
        "scalar".to_string()
    } else {
        dims.join("x")
    };
    format!("{}_{}_n{}", if reduces { "R" } else { "E" }, dims, id.0)
}
