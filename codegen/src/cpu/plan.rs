//! Analysis before translation: what each expression depends on, how index expressions move with a loop
//! variable (their stride), and which loops run several lanes at once.
//!
//! A loop `for v` is vectorized when every store inside it writes consecutive addresses as `v` advances
//! (stride 1), no two iterations can write one address (so running lanes side by side keeps the last
//! write of each address), and no value read inside depends on a reduction that crosses lanes. Among
//! the legal loops of a nest the outermost one that needs no gathers wins (a column reduction
//! vectorizes its output loop, a row reduction its inner loop); otherwise the innermost legal ones.

use super::Options;
use super::lower::vector_layout;
use crate::dtype::DType;
use crate::kernel::{self, AccId, BufId, Expr, ExprId, Interval, Kernel, LoopVar, Stmt, Ty};
use indexmap::IndexMap;

/// A small set of indices (loop variables, accumulators or expressions).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub(super) struct BitSet {
    words: Vec<u64>,
}

impl BitSet {
    pub fn new(n: usize) -> Self {
        BitSet {
            words: vec![0; n.div_ceil(64)],
        }
    }
    pub fn insert(&mut self, i: usize) {
        if i / 64 >= self.words.len() {
            self.words.resize(i / 64 + 1, 0);
        }
        self.words[i / 64] |= 1 << (i % 64);
    }
    pub fn remove(&mut self, i: usize) {
        if let Some(w) = self.words.get_mut(i / 64) {
            *w &= !(1 << (i % 64));
        }
    }
    pub fn contains(&self, i: usize) -> bool {
        self.words
            .get(i / 64)
            .is_some_and(|w| w & (1 << (i % 64)) != 0)
    }
    pub fn union_with(&mut self, o: &BitSet) {
        if o.words.len() > self.words.len() {
            self.words.resize(o.words.len(), 0);
        }
        for (a, b) in self.words.iter_mut().zip(&o.words) {
            *a |= b;
        }
    }
    pub fn is_subset(&self, o: &BitSet) -> bool {
        self.words
            .iter()
            .enumerate()
            .all(|(i, w)| w & !o.words.get(i).copied().unwrap_or(0) == 0)
    }
    pub fn intersects(&self, o: &BitSet) -> bool {
        self.words.iter().zip(&o.words).any(|(a, b)| a & b != 0)
    }
    pub fn is_empty(&self) -> bool {
        self.words.iter().all(|w| *w == 0)
    }
    pub fn iter(&self) -> impl Iterator<Item = usize> + '_ {
        self.words.iter().enumerate().flat_map(|(i, &w)| {
            (0..64)
                .filter(move |b| w & (1 << b) != 0)
                .map(move |b| i * 64 + b)
        })
    }
}

/// How a vectorized loop runs.
#[derive(Clone, Debug)]
pub(super) struct VecLoop {
    /// Lanes per iteration of the main loop (4, 8 or 16; a 4-lane loop and a scalar loop finish).
    pub lanes: u32,
    /// Accumulators defined outside the loop and accumulated inside it: each lane (and each unrolled
    /// register) keeps its own partial result, combined into the accumulator after the loop.
    pub shadows: Vec<AccId>,
    /// Run as tiles with the reduction loops interchanged (see [`tileable`]).
    pub tile: bool,
}

/// Lanes of the vectorized loop per tile in the interchanged form.
pub(super) const TILE_LANES: u32 = 1024;

/// Whether a vectorized loop's body is a column reduction that may run interchanged: per tile of lanes,
/// the reduction loops run outermost and the lanes inner, the accumulators kept in a stack array. The
/// body must be accumulator definitions, loops containing only accumulations into those accumulators
/// and stores, and statements using them; the accumulators need a vector layout.
fn tileable(body: &[Stmt]) -> bool {
    let mut defined: Vec<(AccId, DType)> = Vec::new();
    let mut has_loop = false;
    for s in body {
        match s {
            Stmt::DefAcc { acc, dtype, .. } => {
                if vector_layout(*dtype).is_none() {
                    return false;
                }
                defined.push((*acc, *dtype));
            }
            Stmt::Loop { body, .. } => {
                has_loop = true;
                for t in body {
                    match t {
                        Stmt::Accumulate { acc, .. } if defined.iter().any(|(a, _)| a == acc) => {}
                        Stmt::Store { .. } => {}
                        _ => return false,
                    }
                }
            }
            Stmt::Accumulate { acc, .. } if defined.iter().any(|(a, _)| a == acc) => {}
            Stmt::Accumulate { .. } => return false,
            Stmt::Store { .. } => {}
        }
    }
    has_loop
}

pub(super) struct Plan {
    pub tys: Vec<Ty>,
    pub ranges: Vec<Option<Interval>>,
    /// The loop variables each expression depends on.
    pub vars: Vec<BitSet>,
    /// The accumulators each expression reads.
    pub accs: Vec<BitSet>,
    /// The vectorized loops.
    pub vloops: IndexMap<LoopVar, VecLoop>,
}

/// Why a loop can be vectorized, and at what cost.
struct Legal {
    gathers: usize,
    lanes: u32,
    shadows: Vec<AccId>,
    tile: bool,
}

impl Plan {
    pub fn new(k: &Kernel, options: Options) -> Plan {
        let n = k.exprs.len();
        let mut vars: Vec<BitSet> = Vec::with_capacity(n);
        let mut accs: Vec<BitSet> = Vec::with_capacity(n);
        for e in &k.exprs {
            let (mut v, mut a) = (BitSet::default(), BitSet::default());
            match e {
                Expr::Var(x) => v.insert(x.index()),
                Expr::Acc(x) => a.insert(x.index()),
                _ => {}
            }
            for op in kernel::operands(e) {
                v.union_with(&vars[op.index()]);
                a.union_with(&accs[op.index()]);
            }
            vars.push(v);
            accs.push(a);
        }
        let mut plan = Plan {
            tys: k.types(),
            ranges: kernel::index_ranges(k),
            vars,
            accs,
            vloops: IndexMap::new(),
        };
        if options.vectorize {
            plan.choose(k, Kernel::PARALLEL, k.extent, &k.body);
        }
        plan
    }

    /// The expressions `stmts` use, directly or through operands, at any depth (loops that never run
    /// use nothing: a checked index there must not flag).
    pub fn needed(&self, k: &Kernel, stmts: &[Stmt]) -> BitSet {
        let mut set = BitSet::new(k.exprs.len());
        let mut stack = Vec::new();
        fn roots(stmts: &[Stmt], out: &mut Vec<ExprId>) {
            for s in stmts {
                match s {
                    Stmt::Loop { extent: 0, .. } => {}
                    Stmt::Loop { body, .. } => roots(body, out),
                    Stmt::DefAcc { .. } => {}
                    Stmt::Accumulate { value, .. } => out.push(*value),
                    Stmt::Store { index, value, .. } => out.extend([*index, *value]),
                }
            }
        }
        roots(stmts, &mut stack);
        while let Some(e) = stack.pop() {
            if !set.contains(e.index()) {
                set.insert(e.index());
                stack.extend(kernel::operands(k.expr(e)));
            }
        }
        set
    }

    /// The accumulators `stmts` accumulate into, at any depth.
    pub fn modified(stmts: &[Stmt]) -> BitSet {
        let mut set = BitSet::default();
        fn walk(stmts: &[Stmt], set: &mut BitSet) {
            for s in stmts {
                match s {
                    Stmt::Loop { body, .. } => walk(body, set),
                    Stmt::Accumulate { acc, .. } => set.insert(acc.index()),
                    _ => {}
                }
            }
        }
        walk(stmts, &mut set);
        set
    }

    /// The stride of every index expression with respect to `v`: how much it grows when `v` grows by one
    /// (`None` where that is not a constant, as for divisions of a varying index).
    pub fn strides(&self, k: &Kernel, v: LoopVar) -> Vec<Option<i64>> {
        let mut out: Vec<Option<i64>> = Vec::with_capacity(k.exprs.len());
        for (i, e) in k.exprs.iter().enumerate() {
            let s = if !self.vars[i].contains(v.index()) {
                Some(0)
            } else {
                match *e {
                    Expr::Var(_) => Some(1),
                    Expr::IAdd(a, b) => out[a.index()]
                        .zip(out[b.index()])
                        .and_then(|(x, y)| x.checked_add(y)),
                    Expr::IMul(a, c) => out[a.index()].and_then(|x| x.checked_mul(c)),
                    _ => None,
                }
            };
            out.push(s);
        }
        out
    }

    /// Picks the vectorized loops inside (and including) `for var in 0..extent { body }`. Returns whether
    /// one was picked.
    fn choose(&mut self, k: &Kernel, var: LoopVar, extent: u64, body: &[Stmt]) -> bool {
        let legal = if extent >= 4 {
            self.legal(k, var, extent, body)
        } else {
            None
        };
        if let Some(l) = &legal
            && l.gathers == 0
        {
            self.vloops.insert(
                var,
                VecLoop {
                    lanes: l.lanes,
                    shadows: l.shadows.clone(),
                    tile: l.tile,
                },
            );
            return true;
        }
        let mut any = false;
        for s in body {
            if let Stmt::Loop { var, extent, body } = s {
                any |= self.choose(k, *var, *extent, body);
            }
        }
        if !any && let Some(l) = legal {
            self.vloops.insert(
                var,
                VecLoop {
                    lanes: l.lanes,
                    shadows: l.shadows,
                    tile: l.tile,
                },
            );
            return true;
        }
        any
    }

    /// Whether `for v in 0..extent { body }` may run lanes side by side (see the module docs).
    fn legal(&self, k: &Kernel, v: LoopVar, extent: u64, body: &[Stmt]) -> Option<Legal> {
        /// A store: its buffer, its index and the loops (inside `v`'s) around it.
        type StoreSite = (BufId, ExprId, Vec<(LoopVar, u64)>);
        struct Walk {
            stores: Vec<StoreSite>,
            accumulates: Vec<(AccId, ExprId)>,
            defined: BitSet,
            inner_loops: bool,
        }
        fn walk(stmts: &[Stmt], inner: &mut Vec<(LoopVar, u64)>, w: &mut Walk) {
            for s in stmts {
                match s {
                    Stmt::Loop { var, extent, body } => {
                        w.inner_loops = true;
                        inner.push((*var, *extent));
                        walk(body, inner, w);
                        inner.pop();
                    }
                    Stmt::DefAcc { acc, .. } => w.defined.insert(acc.index()),
                    Stmt::Accumulate { acc, value } => w.accumulates.push((*acc, *value)),
                    Stmt::Store { buf, index, .. } => w.stores.push((*buf, *index, inner.clone())),
                }
            }
        }
        let mut w = Walk {
            stores: vec![],
            accumulates: vec![],
            defined: BitSet::default(),
            inner_loops: false,
        };
        walk(body, &mut vec![], &mut w);

        let sv = self.strides(k, v);
        let mut inner_strides: IndexMap<LoopVar, Vec<Option<i64>>> = IndexMap::new();
        let mut index_of: IndexMap<BufId, ExprId> = IndexMap::new();
        for (buf, index, inner) in &w.stores {
            if sv[index.index()] != Some(1) || *index_of.entry(*buf).or_insert(*index) != *index {
                return None;
            }
            // Distinct iterations (v and the inner loops around the store) must write distinct addresses:
            // sorted by stride, each stride exceeds the span of all smaller ones.
            let mut dims: Vec<(i128, u64)> = vec![(1, extent)];
            for (u, n) in inner {
                let su = inner_strides
                    .entry(*u)
                    .or_insert_with(|| self.strides(k, *u))[index.index()]?;
                if su != 0 {
                    dims.push(((su as i128).abs(), *n));
                }
            }
            dims.sort();
            let mut span: i128 = 0;
            for (s, n) in dims {
                if s <= span {
                    return None;
                }
                span += s * (n.max(1) as i128 - 1);
            }
        }
        let mut shadows: Vec<AccId> = Vec::new();
        for (acc, _) in &w.accumulates {
            if !w.defined.contains(acc.index()) && !shadows.contains(acc) {
                shadows.push(*acc);
            }
        }
        let needed = self.needed(k, body);
        let shadow_set = {
            let mut s = BitSet::default();
            shadows.iter().for_each(|a| s.insert(a.index()));
            s
        };
        if needed.iter().any(|e| self.accs[e].intersects(&shadow_set)) {
            return None;
        }
        let lane_work = w.accumulates.iter().any(|(acc, value)| {
            !w.defined.contains(acc.index()) && self.vars[value.index()].contains(v.index())
        });
        if w.stores.is_empty() && !lane_work {
            return None;
        }
        let gathers = needed
            .iter()
            .filter(|&e| {
                matches!(k.exprs[e], Expr::Load { index, mask, .. }
                    if self.vars[e].contains(v.index())
                        && (mask.is_some() || !matches!(sv[index.index()], Some(0 | 1))))
            })
            .count();
        // Pure reductions (no stores, no inner loops: a row's max or sum) run eight registers per value,
        // eight independent accumulator chains (the 16 xmm registers hold them and their loads; measured:
        // row softmax 4096² 25 → 17.5 ms against four). Loops around inner loops run four: whole cache
        // lines per row in column reductions. Elementwise loops run two, which lets the out-of-order core
        // overlap two math chains without spilling.
        let lanes = if w.stores.is_empty() && !w.inner_loops {
            32
        } else if w.inner_loops || w.stores.is_empty() {
            16
        } else {
            8
        };
        let tile = w.inner_loops && shadows.is_empty() && tileable(body);
        Some(Legal {
            gathers,
            lanes,
            shadows,
            tile,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::kernel::{Access, KernelBuilder};
    use crate::ops::ReduceOp;

    /// `out[o] = sum_i x[i*a + o*b]` over a `rows x cols` buffer: (a, b) = (cols, 1) reduces columns,
    /// (1, cols) rows.
    fn reduce(rows: u64, cols: u64, column: bool) -> Kernel {
        let mut b = KernelBuilder::new();
        let x = b.param(DType::F32, rows * cols, Access::Read);
        let (outer, inner) = if column { (cols, rows) } else { (rows, cols) };
        let out = b.param(DType::F32, outer, Access::Write);
        let o = b.var(Kernel::PARALLEL);
        let v = b.new_var();
        let iv = b.var(v);
        let at = if column {
            let r = b.imul(iv, cols as i64);
            b.iadd(r, o)
        } else {
            let r = b.imul(o, cols as i64);
            b.iadd(r, iv)
        };
        let l = b.load(x, at);
        let acc = b.new_acc();
        let a = b.expr(Expr::Acc(acc));
        b.finish(
            "reduce",
            outer,
            vec![
                Stmt::DefAcc {
                    acc,
                    op: ReduceOp::Sum,
                    dtype: DType::F32,
                },
                Stmt::Loop {
                    var: v,
                    extent: inner,
                    body: vec![Stmt::Accumulate { acc, value: l }],
                },
                Stmt::Store {
                    buf: out,
                    index: o,
                    value: a,
                },
            ],
        )
    }

    #[test]
    fn column_reductions_vectorize_the_output_loop_tiled() {
        let plan = Plan::new(&reduce(64, 64, true), Options::default());
        assert_eq!(
            plan.vloops.keys().copied().collect::<Vec<_>>(),
            vec![Kernel::PARALLEL]
        );
        assert!(plan.vloops[&Kernel::PARALLEL].tile);
    }

    #[test]
    fn row_reductions_vectorize_the_reduction_loop_with_shadows() {
        let plan = Plan::new(&reduce(64, 64, false), Options::default());
        assert_eq!(
            plan.vloops.keys().copied().collect::<Vec<_>>(),
            vec![LoopVar(1)]
        );
        let l = &plan.vloops[&LoopVar(1)];
        assert_eq!(
            (l.lanes, l.shadows.clone(), l.tile),
            (32, vec![AccId(0)], false)
        );
    }

    #[test]
    fn nothing_is_vectorized_when_asked_not_to() {
        let plan = Plan::new(
            &reduce(64, 64, true),
            Options {
                vectorize: false,
                ..Options::default()
            },
        );
        assert!(plan.vloops.is_empty());
    }

    #[test]
    fn colliding_stores_are_not_vectorized() {
        // out[i0 + i1] for i1 in 0..2: iteration (i0, 1) and (i0 + 1, 0) write the same address.
        let mut b = KernelBuilder::new();
        let out = b.param(DType::F32, 65, Access::Write);
        let i = b.var(Kernel::PARALLEL);
        let j = b.new_var();
        let jv = b.var(j);
        let at = b.iadd(i, jv);
        let v = b.constant(crate::Scalar::F32(1.0));
        let k = b.finish(
            "collide",
            64,
            vec![Stmt::Loop {
                var: j,
                extent: 2,
                body: vec![Stmt::Store {
                    buf: out,
                    index: at,
                    value: v,
                }],
            }],
        );
        assert!(Plan::new(&k, Options::default()).vloops.is_empty());
    }
}
