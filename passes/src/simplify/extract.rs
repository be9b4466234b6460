//! Extraction: the cheapest well-typed node of every e-class, then the graph they spell.
//!
//! egg's `Extractor` breaks ties by node order, which depends on e-class ids; this one breaks them by a
//! structural fingerprint (a hash of ops, payloads and the operands' fingerprints, never of ids), so the
//! same e-graph content gives the same graph however it was built. It also:
//! - skips nodes whose type, re-inferred from their operands' classes, is not their class's type (a rule
//!   that built something ill-typed can never reach the output graph);
//! - counts an operand class once per node, so `x * x` is not charged for `x` twice;
//! - then repairs what tree costs get wrong about sharing ([`Extraction::share`]).

use super::analysis::{EGraph, type_of, view_type};
use super::cost::{self, Cost};
use super::lang::{TensorLang, op_view};
use crate::graph::{Graph, NodeId, Op, TypeInfo};
use egg::{Id, Language};
use std::cmp::Reverse;
use std::collections::{BinaryHeap, HashMap};
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

    /// The own (work, nodes) of node `node` of class `id`, as signed numbers for differences.
    fn own(&self, id: Id, node: usize) -> (i64, i64) {
        let c = self.infos[self.index[usize::from(id)]][node].own;
        (c.work.min(i64::MAX as u64) as i64, c.nodes as i64)
    }

    /// The classes the current choices reach from `root`, operands before users; `None` if they form
    /// a cycle or reach a class without a choice.
    fn live(&self, egraph: &EGraph, root: Id) -> Option<Vec<Id>> {
        const NEW: u8 = 0;
        const OPEN: u8 = 1;
        const DONE: u8 = 2;
        let mut state = vec![NEW; self.best.len()];
        let mut order = Vec::new();
        let mut stack = vec![(egraph.find(root), false)];
        while let Some((id, ready)) = stack.pop() {
            let i = usize::from(id);
            if ready {
                state[i] = DONE;
                order.push(id);
                continue;
            }
            match state[i] {
                DONE => continue,
                OPEN => return None,
                _ => {}
            }
            state[i] = OPEN;
            stack.push((id, true));
            for ch in self.node(egraph, id)?.children().iter().rev() {
                let ch = egraph.find(*ch);
                match state[usize::from(ch)] {
                    DONE => {}
                    OPEN => return None,
                    _ => stack.push((ch, false)),
                }
            }
        }
        Some(order)
    }

    /// Repairs sharing. Tree costs charge a value once per user, so two users of one value can pick two
    /// forms of it (`abs(reshape(p))` here, `abs(p)` there) and the graph computes it twice. This pass
    /// keeps use counts over the graph the choices spell and switches a class to another of its nodes
    /// whose operands that graph computes anyway (and that do not depend on the class, so no cycle can
    /// form) whenever the graph's total work (then node count) goes down. Deterministic: classes in
    /// operand-first order, nodes in class order, repeated until no switch helps.
    pub fn share(&mut self, egraph: &EGraph, root: Id) {
        let Some(mut order) = self.live(egraph, root) else {
            return;
        };
        let n = self.best.len();
        let mut pos = vec![usize::MAX; n];
        let mut uses = vec![0u32; n];
        for (k, id) in order.iter().enumerate() {
            pos[usize::from(*id)] = k;
        }
        uses[usize::from(egraph.find(root))] = 1;
        for id in &order {
            for ch in self.node(egraph, *id).expect("live").children() {
                uses[usize::from(egraph.find(*ch))] += 1;
            }
        }
        // Payload leaves (shapes, op kinds) cost nothing and are never computed: a node may switch to
        // them whether or not the current choices use them yet.
        let payload = |id: Id| egraph[id].nodes.iter().all(|n| n.is_payload());
        let mut undo: Vec<usize> = Vec::new();
        // Each pass that switches something goes again; a switch to an operand computed later in the
        // current order reorders the graph and starts a new pass at once.
        for _ in 0..16 {
            let mut improved = false;
            let mut reordered = false;
            'classes: for &c in &order {
                let ci = usize::from(c);
                if uses[ci] == 0 {
                    continue;
                }
                let current = self.best[ci].expect("live");
                let k = self.index[ci];
                for (i, node) in egraph[c].nodes.iter().enumerate() {
                    if i == current.node || !self.infos[k][i].valid {
                        continue;
                    }
                    let children_live = node.children().iter().all(|ch| {
                        let ch = egraph.find(*ch);
                        payload(ch) || uses[usize::from(ch)] > 0
                    });
                    if !children_live {
                        continue;
                    }
                    let later: Vec<Id> = node
                        .children()
                        .iter()
                        .map(|ch| egraph.find(*ch))
                        .filter(|&ch| !payload(ch) && pos[usize::from(ch)] >= pos[ci])
                        .collect();
                    if later.iter().any(|&ch| self.reaches(egraph, ch, c)) {
                        continue;
                    }
                    // Tentatively switch: the new node's operands gain a use, the old node's lose one,
                    // and whatever no longer has a use drops out with its cost.
                    undo.clear();
                    for ch in node.children() {
                        uses[usize::from(egraph.find(*ch))] += 1;
                    }
                    let (nw, nn) = self.own(c, i);
                    let (ow, on) = self.own(c, current.node);
                    let mut delta = (nw - ow, nn - on);
                    let mut dying: Vec<Id> =
                        self.node(egraph, c).expect("live").children().to_vec();
                    while let Some(ch) = dying.pop() {
                        let ch = egraph.find(ch);
                        let chi = usize::from(ch);
                        uses[chi] -= 1;
                        undo.push(chi);
                        if uses[chi] == 0 {
                            let node = self.best[chi].expect("live").node;
                            let (w, nodes) = self.own(ch, node);
                            delta = (delta.0 - w, delta.1 - nodes);
                            dying.extend(egraph[ch].nodes[node].children().iter().copied());
                        }
                    }
                    if delta < (0, 0) {
                        self.best[ci] = Some(Choice { node: i, ..current });
                        improved = true;
                        if !later.is_empty() {
                            reordered = true;
                            break 'classes;
                        }
                        break;
                    }
                    for &chi in &undo {
                        uses[chi] += 1;
                    }
                    for ch in node.children() {
                        uses[usize::from(egraph.find(*ch))] -= 1;
                    }
                }
            }
            if reordered {
                let Some(o) = self.live(egraph, root) else {
                    return;
                };
                order = o;
                pos.fill(usize::MAX);
                for (k, id) in order.iter().enumerate() {
                    pos[usize::from(*id)] = k;
                }
            }
            if !improved {
                break;
            }
        }
    }

    /// Whether the current choices make `from` depend on `target` (or be it).
    fn reaches(&self, egraph: &EGraph, from: Id, target: Id) -> bool {
        let mut seen = vec![false; self.best.len()];
        let mut stack = vec![egraph.find(from)];
        while let Some(id) = stack.pop() {
            if id == target {
                return true;
            }
            if std::mem::replace(&mut seen[usize::from(id)], true) {
                continue;
            }
            if let Some(node) = self.node(egraph, id) {
                stack.extend(node.children().iter().map(|ch| egraph.find(*ch)));
            }
        }
        false
    }
}

/// Picks the cheapest node of every class the root reaches, by Knuth's generalization of Dijkstra's
/// algorithm: a node becomes a candidate once all its operand classes are settled, the cheapest
/// candidate settles its class, and so on. A node's operands are always settled before it, so the
/// choices never form a cycle, whatever the costs (they saturate on very deep graphs).
///
/// A class used more than once in the input graph (`shared`) is charged to none of its users: it is
/// computed once whatever they choose. This keeps costs from doubling at every reconvergent path of a
/// deep graph and makes users prefer forms that reuse what is computed anyway.
pub fn extract(egraph: &EGraph, root: Id) -> Extraction {
    let size = egraph
        .classes()
        .map(|c| usize::from(c.id) + 1)
        .max()
        .unwrap_or(0);
    let order = postorder(egraph, root, size);
    let mut index = vec![usize::MAX; size];
    for (k, id) in order.iter().enumerate() {
        index[usize::from(*id)] = k;
    }
    let infos: Vec<Vec<NodeInfo>> = order
        .iter()
        .map(|&id| {
            egraph[id]
                .nodes
                .iter()
                .map(|n| info(egraph, id, n))
                .collect()
        })
        .collect();
    // Users of each class (as class position and node index) and, per node, its unsettled operands.
    let mut users: Vec<Vec<(usize, usize)>> = vec![vec![]; order.len()];
    let mut pending: Vec<Vec<usize>> = Vec::with_capacity(order.len());
    let mut heap = BinaryHeap::new();
    let mut best: Vec<Option<Choice>> = vec![None; size];
    for (k, &id) in order.iter().enumerate() {
        let mut counts = Vec::with_capacity(egraph[id].nodes.len());
        for (i, node) in egraph[id].nodes.iter().enumerate() {
            let mut distinct: Vec<usize> = node
                .children()
                .iter()
                .map(|c| index[usize::from(egraph.find(*c))])
                .collect();
            distinct.sort_unstable();
            distinct.dedup();
            for &c in &distinct {
                users[c].push((k, i));
            }
            counts.push(distinct.len());
            if distinct.is_empty() && infos[k][i].valid {
                let (cost, fp) =
                    node_cost(egraph, &best, node, &infos[k][i]).expect("a leaf has no operands");
                heap.push(Reverse((cost, fp, k, i)));
            }
        }
        pending.push(counts);
    }
    while let Some(Reverse((cost, fp, k, i))) = heap.pop() {
        let slot = &mut best[usize::from(order[k])];
        if slot.is_some() {
            continue;
        }
        *slot = Some(Choice { cost, fp, node: i });
        for &(uk, ui) in &users[k] {
            pending[uk][ui] -= 1;
            if pending[uk][ui] == 0 && best[usize::from(order[uk])].is_none() && infos[uk][ui].valid
            {
                let node = &egraph[order[uk]].nodes[ui];
                if let Some((cost, fp)) = node_cost(egraph, &best, node, &infos[uk][ui]) {
                    heap.push(Reverse((cost, fp, uk, ui)));
                }
            }
        }
    }
    Extraction { best, infos, index }
}

/// The classes reachable from `root` through any node, each after the classes its nodes use (except
/// along cycles).
fn postorder(egraph: &EGraph, root: Id, size: usize) -> Vec<Id> {
    let mut seen = vec![false; size];
    let mut order = Vec::new();
    let root = egraph.find(root);
    seen[usize::from(root)] = true;
    let mut stack = vec![(root, false)];
    while let Some((id, ready)) = stack.pop() {
        if ready {
            order.push(id);
            continue;
        }
        stack.push((id, true));
        for node in egraph[id].nodes.iter().rev() {
            for ch in node.children().iter().rev() {
                let ch = egraph.find(*ch);
                if !std::mem::replace(&mut seen[usize::from(ch)], true) {
                    stack.push((ch, false));
                }
            }
        }
    }
    order
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
    let invalid = NodeInfo {
        valid: false,
        own: Cost::default(),
        movement: false,
        key,
    };
    let class_ty = egraph[class].data.ty.as_ref();
    if node.is_payload() || matches!(node, TensorLang::Roots(_)) {
        return NodeInfo {
            valid: class_ty.is_none(),
            ..invalid
        };
    }
    let (Some(view), Some(class_ty)) = (op_view(node, egraph), class_ty) else {
        return invalid;
    };
    // A class's first node gave it its type (`make`), so a lone node is well typed; where rules merged
    // nodes into a class, each is checked.
    if egraph[class].nodes.len() > 1 && view_type(egraph, &view).as_ref() != Some(class_ty) {
        return invalid;
    }
    let src = view.srcs.first().and_then(|s| egraph[*s].data.ty.as_ref());
    let computes = !(node.is_movement() || node.is_tensor_leaf()) as u64;
    let own = Cost {
        work: cost::work(&view.op, class_ty, src),
        nodes: 1,
        view_height: 0,
        computes,
    };
    NodeInfo {
        valid: true,
        own,
        movement: node.is_movement(),
        key,
    }
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
        let charged = if egraph[child].data.shared {
            Cost {
                computes: c.cost.computes.min(1),
                ..Cost::default()
            }
        } else {
            c.cost
        };
        cost = cost.saturating_add(charged);
        if info.movement && slot == 0 {
            cost.view_height = cost.view_height.saturating_add(charged.computes);
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
    // By class id: the graph node built for the class, and whether it is on the stack.
    let classes = ext.best.len();
    let mut done: Vec<Option<NodeId>> = vec![None; classes];
    let mut open: Vec<bool> = vec![false; classes];
    // The inputs the result uses come first, in input order, as a front end adds them.
    let live = ext
        .live(egraph, root)
        .ok_or("the extracted choices form a cycle")?;
    let mut used: Vec<(u32, Id)> = live
        .iter()
        .filter_map(|&id| match ext.node(egraph, id) {
            Some(TensorLang::Input(i)) => Some((i.0, id)),
            _ => None,
        })
        .collect();
    used.sort();
    for (i, id) in used {
        let ty = inputs
            .get(i as usize)
            .ok_or_else(|| format!("no input {i}"))?
            .clone();
        let nid = g.add_typed(Op::Input(i), &[], ty);
        if let Some(l) = labels.get(&id) {
            g.labels.entry(nid).or_insert_with(|| l.clone());
        }
        done[usize::from(id)] = Some(nid);
    }
    let mut outputs = Vec::with_capacity(outs.len());
    for &out in outs.iter() {
        let mut stack = vec![(egraph.find(out), false)];
        while let Some((id, ready)) = stack.pop() {
            if done[usize::from(id)].is_some() {
                continue;
            }
            let node = ext
                .node(egraph, id)
                .ok_or_else(|| format!("class {id} has no well-typed node"))?;
            let view = op_view(node, egraph)
                .ok_or_else(|| format!("class {id}: {node} is not a tensor op"))?;
            if !ready {
                if std::mem::replace(&mut open[usize::from(id)], true) {
                    return Err(format!("class {id} depends on itself"));
                }
                stack.push((id, true));
                stack.extend(view.srcs.iter().rev().map(|s| (egraph.find(*s), false)));
                continue;
            }
            let srcs: Vec<NodeId> = view
                .srcs
                .iter()
                .map(|s| {
                    done[usize::from(egraph.find(*s))]
                        .ok_or_else(|| format!("class {id}: an operand is not built"))
                })
                .collect::<Result<_, String>>()?;
            let ty = egraph[id]
                .data
                .ty
                .clone()
                .ok_or_else(|| format!("class {id} has no type"))?;
            let src_tys: Vec<&TypeInfo> = srcs.iter().map(|s| &g.node(*s).ty).collect();
            if type_of(&view, &src_tys, inputs).as_ref() != Some(&ty) {
                return Err(format!("class {id}: {} does not give {ty}", view.op));
            }
            let op: Op = view.op;
            let nid = g.add_typed(op, &srcs, ty);
            if let Some(l) = labels.get(&id) {
                g.labels.entry(nid).or_insert_with(|| l.clone());
            }
            done[usize::from(id)] = Some(nid);
        }
        outputs.push(done[usize::from(egraph.find(out))].ok_or("an output is not built")?);
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
