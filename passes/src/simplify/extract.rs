//! Extraction: the cheapest well-typed node of every e-class, then the graph they spell.
//!
//! egg's `Extractor` breaks ties by node order, which depends on e-class ids; this one breaks them by a
//! structural fingerprint (a hash of ops, payloads and the operands' fingerprints, never of ids), so the
//! same e-graph content gives the same graph however it was built. It also:
//! - skips nodes whose type, re-inferred from their operands' classes, is not their class's type (a rule
//!   that built something ill-typed can never reach the output graph);
//! - counts an operand class once per node, so `x * x` is not charged for `x` twice;
//! - then repairs what tree costs get wrong about sharing ([`Extraction::share`]).

use super::analysis::{EGraph, node_type, type_of};
use super::cost::{self, Cost};
use super::lang::{TensorLang, op_view};
use crate::graph::{Graph, NodeId, Op, TypeInfo};
use egg::{Id, Language};
use std::collections::{HashMap, HashSet};
use std::hash::{Hash, Hasher};

/// What is fixed about one e-node before the search: whether it may be picked and its own cost.
struct NodeInfo {
    valid: bool,
    own: Cost,
    movement: bool,
    /// Hash of the op and its payload data, without children.
    key: u64,
}

#[derive(Clone, Copy)]
struct Choice {
    cost: Cost,
    fp: u64,
    node: usize,
}

/// The chosen node of every class that has a finite cost.
pub struct Extraction {
    best: Vec<Option<Choice>>,
    /// Per class (by position in `index`), per node: what `extract` fixed about it.
    infos: Vec<Vec<NodeInfo>>,
    /// Class id → position in `infos`.
    index: Vec<usize>,
}

impl Extraction {
    fn node<'a>(&self, egraph: &'a EGraph, id: Id) -> Option<&'a TensorLang> {
        let id = egraph.find(id);
        let choice = (*self.best.get(usize::from(id))?)?;
        Some(&egraph[id].nodes[choice.node])
    }

    fn own(&self, id: Id) -> Cost {
        let c = self.best[usize::from(id)].expect("a live class has a choice");
        self.infos[self.index[usize::from(id)]][c.node].own
    }

    /// The classes the current choices reach from `root`, operands first; `None` if they form a cycle
    /// or reach a class without a choice.
    fn live(&self, egraph: &EGraph, root: Id) -> Option<Vec<Id>> {
        let mut order = Vec::new();
        let mut state: HashMap<Id, bool> = HashMap::new(); // false: open, true: done
        let mut stack = vec![(egraph.find(root), false)];
        while let Some((id, ready)) = stack.pop() {
            if ready {
                state.insert(id, true);
                order.push(id);
                continue;
            }
            match state.get(&id) {
                Some(true) => continue,
                Some(false) => return None,
                None => {}
            }
            state.insert(id, false);
            stack.push((id, true));
            for ch in self.node(egraph, id)?.children().iter().rev() {
                let ch = egraph.find(*ch);
                match state.get(&ch) {
                    Some(true) => {}
                    Some(false) => return None,
                    None => stack.push((ch, false)),
                }
            }
        }
        Some(order)
    }

    /// The DAG cost of the live classes: work and nodes, each class once.
    fn dag_cost(&self, live: &[Id]) -> (u64, u64) {
        live.iter().fold((0, 0), |(w, n), &id| {
            let c = self.own(id);
            (w.saturating_add(c.work), n + c.nodes)
        })
    }

    /// Repairs sharing. Tree costs charge a value once per user, so two users of one value can pick two
    /// forms of it (`abs(reshape(p))` here, `abs(p)` there) and the graph computes it twice. This pass
    /// walks the graph the choices spell and switches a class to another of its nodes whose operands
    /// that graph computes anyway, whenever the graph's total work (then node count) goes down, until
    /// no switch helps. Deterministic: classes in operand-first order, nodes in class order.
    pub fn share(&mut self, egraph: &EGraph, root: Id) {
        let Some(mut live) = self.live(egraph, root) else { return };
        let mut total = self.dag_cost(&live);
        for _ in 0..8 {
            let mut improved = false;
            for c in live.clone() {
                let live_set: HashSet<Id> = live.iter().copied().collect();
                let (Some(current), k) = (self.best[usize::from(c)], self.index[usize::from(c)]) else { continue };
                if !live_set.contains(&c) {
                    continue;
                }
                for (i, node) in egraph[c].nodes.iter().enumerate() {
                    let reuses = node.children().iter().all(|ch| live_set.contains(&egraph.find(*ch)));
                    if i == current.node || !self.infos[k][i].valid || !reuses {
                        continue;
                    }
                    self.best[usize::from(c)] = Some(Choice { node: i, ..current });
                    match self.live(egraph, root) {
                        Some(l) if self.dag_cost(&l) < total => {
                            total = self.dag_cost(&l);
                            live = l;
                            improved = true;
                            break;
                        }
                        _ => self.best[usize::from(c)] = Some(current),
                    }
                }
            }
            if !improved {
                break;
            }
        }
    }
}

/// Picks the cheapest node of every class: a fixpoint over all classes, each node costed from its
/// operands' current best (a node is taken only when strictly better, so the loop ends).
pub fn extract(egraph: &EGraph) -> Extraction {
    let mut ids: Vec<Id> = egraph.classes().map(|c| c.id).collect();
    ids.sort();
    let size = ids.last().map_or(0, |&i| usize::from(i) + 1);
    let infos: Vec<Vec<NodeInfo>> = ids.iter().map(|&id| egraph[id].nodes.iter().map(|n| info(egraph, id, n)).collect()).collect();
    let mut best: Vec<Option<Choice>> = vec![None; size];
    loop {
        let mut changed = false;
        for (k, &id) in ids.iter().enumerate() {
            for (i, node) in egraph[id].nodes.iter().enumerate() {
                let info = &infos[k][i];
                if !info.valid {
                    continue;
                }
                let Some((cost, fp)) = node_cost(egraph, &best, node, info) else { continue };
                let slot = &mut best[usize::from(id)];
                if slot.is_none_or(|b| (cost, fp) < (b.cost, b.fp)) {
                    *slot = Some(Choice { cost, fp, node: i });
                    changed = true;
                }
            }
        }
        if !changed {
            let mut index = vec![usize::MAX; size];
            for (k, id) in ids.iter().enumerate() {
                index[usize::from(*id)] = k;
            }
            return Extraction { best, infos, index };
        }
    }
}

fn info(egraph: &EGraph, class: Id, node: &TensorLang) -> NodeInfo {
    let key = {
        let mut h = Fnv::default();
        std::mem::discriminant(node).hash(&mut h);
        match node {
            TensorLang::Input(i) => i.hash(&mut h),
            TensorLang::Leaf(l) => l.hash(&mut h),
            TensorLang::Dims(d) => d.hash(&mut h),
            TensorLang::Dt(d) => d.hash(&mut h),
            TensorLang::Lit(l) => l.hash(&mut h),
            TensorLang::UOp(o) => o.hash(&mut h),
            TensorLang::BOp(o) => o.hash(&mut h),
            TensorLang::ROp(o) => o.hash(&mut h),
            _ => node.len().hash(&mut h),
        }
        h.finish()
    };
    let invalid = NodeInfo { valid: false, own: Cost::default(), movement: false, key };
    let class_ty = egraph[class].data.ty.as_ref();
    if node.is_payload() || matches!(node, TensorLang::Roots(_)) {
        return NodeInfo { valid: class_ty.is_none(), ..invalid };
    }
    let (Some(view), Some(class_ty)) = (op_view(node, egraph), class_ty) else { return invalid };
    if node_type(egraph, node).as_ref() != Some(class_ty) {
        return invalid;
    }
    let src = view.srcs.first().and_then(|s| egraph[*s].data.ty.as_ref());
    let computes = !(node.is_movement() || node.is_tensor_leaf()) as u64;
    let own = Cost { work: cost::work(&view.op, class_ty, src), nodes: 1, view_height: 0, computes };
    NodeInfo { valid: true, own, movement: node.is_movement(), key }
}

fn node_cost(
    egraph: &EGraph,
    best: &[Option<Choice>],
    node: &TensorLang,
    info: &NodeInfo,
) -> Option<(Cost, u64)> {
    let mut cost = info.own;
    let mut h = Fnv(info.key);
    let mut seen: Vec<Id> = Vec::with_capacity(4);
    for (slot, child) in node.children().iter().enumerate() {
        let child = egraph.find(*child);
        let c = (*best.get(usize::from(child))?)?;
        c.fp.hash(&mut h);
        if seen.contains(&child) {
            continue;
        }
        seen.push(child);
        cost = cost.saturating_add(c.cost);
        if info.movement && slot == 0 {
            cost.view_height = cost.view_height.saturating_add(c.cost.computes);
        }
    }
    Some((cost, h.finish()))
}

/// Rebuilds a graph from the extraction: the nodes the roots need, operands first, each class once.
/// `labels` names classes whose input node had a label.
pub fn to_graph(
    egraph: &EGraph,
    ext: &Extraction,
    root: Id,
    inputs: &[TypeInfo],
    labels: &HashMap<Id, String>,
) -> Result<Graph, String> {
    let mut g = Graph::new();
    g.inputs = inputs.to_vec();
    let Some(TensorLang::Roots(outs)) = ext.node(egraph, root) else {
        return Err("the roots class has no extracted node".into());
    };
    let mut done: HashMap<Id, NodeId> = HashMap::new();
    let mut open: HashSet<Id> = HashSet::new();
    let mut outputs = Vec::with_capacity(outs.len());
    for &out in outs.iter() {
        let mut stack = vec![(egraph.find(out), false)];
        while let Some((id, ready)) = stack.pop() {
            if done.contains_key(&id) {
                continue;
            }
            let node = ext.node(egraph, id).ok_or_else(|| format!("class {id} has no well-typed node"))?;
            let view = op_view(node, egraph).ok_or_else(|| format!("class {id}: {node} is not a tensor op"))?;
            if !ready {
                if !open.insert(id) {
                    return Err(format!("class {id} depends on itself"));
                }
                stack.push((id, true));
                stack.extend(view.srcs.iter().rev().map(|s| (egraph.find(*s), false)));
                continue;
            }
            let srcs: Vec<NodeId> = view.srcs.iter().map(|s| done[&egraph.find(*s)]).collect();
            let ty = egraph[id].data.ty.clone().ok_or_else(|| format!("class {id} has no type"))?;
            let src_tys: Vec<&TypeInfo> = srcs.iter().map(|s| &g.node(*s).ty).collect();
            if type_of(&view, &src_tys, inputs).as_ref() != Some(&ty) {
                return Err(format!("class {id}: {} does not give {ty}", view.op));
            }
            let op: Op = view.op;
            let nid = g.add_typed(op, &srcs, ty);
            if let Some(l) = labels.get(&id) {
                g.labels.entry(nid).or_insert_with(|| l.clone());
            }
            done.insert(id, nid);
        }
        outputs.push(done[&egraph.find(out)]);
    }
    g.outputs = outputs;
    Ok(g)
}

/// FNV-1a: a fixed hash, the same on every run and machine.
struct Fnv(u64);

impl Default for Fnv {
    fn default() -> Self {
        Fnv(0xcbf2_9ce4_8422_2325)
    }
}

impl Hasher for Fnv {
    fn finish(&self) -> u64 {
        self.0
    }
    fn write(&mut self, bytes: &[u8]) {
        for b in bytes {
            self.0 ^= *b as u64;
            self.0 = self.0.wrapping_mul(0x100_0000_01b3);
        }
    }
}
