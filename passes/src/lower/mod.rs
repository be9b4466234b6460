//! Lowering: one materialized node and everything it inlines → one `codegen::Kernel`.
//!
//! The kernel iterates over the node's shape (a *domain*, possibly with adjacent dims merged). Each
//! graph node is lowered at an index (one [`Affine`] per dim): movement ops map the index, elementwise
//! ops combine their operands' values at the same index, materialized nodes are loads. A reduction
//! becomes an accumulator and a loop nest placed at the outermost loop level where its kept indices are
//! known; if that would compute it more than once per value (its users index it in a way one loop nest
//! cannot follow), lowering fails with [`Fail::Materialize`] and the scheduler gives it its own buffer.
//!
//! # Sections
//! 1. frames and levels  2. the lowering of each op  3. loads and masks  4. domains

pub mod contraction;
pub mod index;

use crate::graph::{Graph, NodeId, Op, TypeInfo};
use crate::schedule::{BufIdx, Reason};
use index::{Affine, ravel, unravel};
use smelt_codegen::kernel::{Access, BufId, Expr, ExprId, Kernel, KernelBuilder, LoopVar, Stmt};
use smelt_codegen::{BinaryOp, DType, Scalar};
use std::collections::{BTreeMap, HashMap};

/// The most atoms an index may have before the view chain computing it gets a buffer.
const INDEX_SIZE_LIMIT: usize = 48;

/// Why a kernel could not be lowered as asked.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Fail {
    /// This node must get its own buffer first.
    Materialize(NodeId, Reason),
    /// The domain (a merge of dims) does not work; the natural one does.
    Domain,
}

/// A lowered kernel and what its parameters are bound to.
#[derive(Clone, Debug)]
pub struct Lowered {
    pub kernel: Kernel,
    /// The schedule buffer behind each parameter; error flags are `None` (the scheduler adds them).
    pub args: Vec<Option<BufIdx>>,
    /// For each flag parameter: the gather node and its dim size.
    pub flags: Vec<(BufId, NodeId, usize)>,
}

// ---------------------------------------------------------------------------------------------------
// 1. Frames and levels

/// An open loop body: its variable and the statements emitted into it so far.
struct Frame {
    var: LoopVar,
    extent: u64,
    stmts: Vec<Stmt>,
}

struct Lowerer<'a> {
    g: &'a Graph,
    /// Materialized nodes (and inputs) and their buffers.
    bufs: &'a BTreeMap<NodeId, BufIdx>,
    /// The node this kernel computes.
    out: NodeId,
    kb: KernelBuilder,
    params: HashMap<BufIdx, BufId>,
    args: Vec<Option<BufIdx>>,
    flags: Vec<(BufId, NodeId, usize)>,
    /// Open loops, outermost first; level `l` is `frames[l]`.
    frames: Vec<Frame>,
    var_level: HashMap<u32, usize>,
    memo: HashMap<(NodeId, Vec<Affine>, Option<ExprId>), ExprId>,
    /// Reductions already emitted in this kernel. A second emission (at other indices, in another loop
    /// nest) would compute the same values again, perhaps in another order of rounding: then `x ==
    /// max(x)` could be false everywhere. Such a reduction is materialized instead.
    reduced: std::collections::HashSet<NodeId>,
}

impl<'a> Lowerer<'a> {
    fn push_frame(&mut self, extent: u64) -> LoopVar {
        let var = if self.frames.is_empty() {
            Kernel::PARALLEL
        } else {
            self.kb.new_var()
        };
        self.var_level.insert(var.0, self.frames.len());
        self.frames.push(Frame {
            var,
            extent,
            stmts: vec![],
        });
        var
    }

    /// Closes the innermost loop, appending it to its parent.
    fn pop_frame(&mut self) {
        let f = self.frames.pop().expect("an open frame");
        self.var_level.remove(&f.var.0);
        let parent = self
            .frames
            .last_mut()
            .expect("the parallel frame stays open");
        parent.stmts.push(Stmt::Loop {
            var: f.var,
            extent: f.extent,
            body: f.stmts,
        });
    }

    fn node(&self, id: NodeId) -> &'a crate::graph::Node {
        self.g.node(id)
    }

    // -----------------------------------------------------------------------------------------------
    // 2. The lowering of each op

    fn lower(&mut self, id: NodeId, idx: &[Affine], mask: Option<ExprId>) -> Result<ExprId, Fail> {
        let key = (id, idx.to_vec(), mask);
        if let Some(&e) = self.memo.get(&key) {
            return Ok(e);
        }
        let e = self.lower_uncached(id, idx, mask)?;
        self.memo.insert(key, e);
        Ok(e)
    }

    fn lower_uncached(
        &mut self,
        id: NodeId,
        idx: &[Affine],
        mask: Option<ExprId>,
    ) -> Result<ExprId, Fail> {
        let node = self.node(id);
        if id != self.out
            && let Some(&buf) = self.bufs.get(&id)
        {
            return Ok(self.load(buf, &node.ty, idx, mask));
        }
        let dtype = node.ty.dtype;
        let src_shape = |i: usize| &self.node(node.srcs[i]).ty.shape;
        Ok(match &node.op {
            Op::Input(_) | Op::Rand { .. } => {
                return Err(Fail::Materialize(id, Reason::Random));
            }
            Op::Const(s) => self.kb.constant(*s),
            Op::Iota { axis } => {
                let i = idx[*axis].emit(&mut self.kb);
                self.kb.expr(Expr::IndexCast(i, dtype))
            }
            Op::Unary(u) => {
                let a = self.lower(node.srcs[0], idx, mask)?;
                self.kb.unary(*u, a)
            }
            Op::Binary(b) => {
                let x = self.lower(node.srcs[0], idx, mask)?;
                let y = self.lower(node.srcs[1], idx, mask)?;
                self.kb.binary(*b, x, y)
            }
            Op::Where => {
                let c = self.lower(node.srcs[0], idx, mask)?;
                let x = self.lower(node.srcs[1], idx, mask)?;
                let y = self.lower(node.srcs[2], idx, mask)?;
                self.kb.expr(Expr::Where(c, x, y))
            }
            Op::Cast(d) => {
                let a = self.lower(node.srcs[0], idx, mask)?;
                self.kb.expr(Expr::Cast(a, *d))
            }
            Op::Reduce { op, axes } => return self.lower_reduce(id, *op, axes, idx),
            Op::Reshape(_) => {
                let linear = ravel(idx, &node.ty.shape);
                let inner = unravel(&linear, src_shape(0));
                if inner.iter().map(Affine::size).sum::<usize>() > INDEX_SIZE_LIMIT {
                    // Views of views (reshapes of transposes, repeatedly) nest divisions: cut the chain
                    // with a buffer so index math stays small.
                    let cut = if id != self.out { id } else { node.srcs[0] };
                    return Err(Fail::Materialize(cut, Reason::ComplexIndex));
                }
                self.lower(node.srcs[0], &inner, mask)?
            }
            Op::Permute(perm) => {
                let mut inner = vec![Affine::constant(0); perm.len()];
                for (i, &p) in perm.iter().enumerate() {
                    inner[p] = idx[i].clone();
                }
                self.lower(node.srcs[0], &inner, mask)?
            }
            Op::Expand(_) => {
                let from = src_shape(0);
                let inner: Vec<Affine> = idx
                    .iter()
                    .zip(from)
                    .map(|(a, &n)| {
                        if n == 1 {
                            Affine::constant(0)
                        } else {
                            a.clone()
                        }
                    })
                    .collect();
                self.lower(node.srcs[0], &inner, mask)?
            }
            Op::Slice { start, step } => {
                let inner: Vec<Affine> = idx
                    .iter()
                    .enumerate()
                    .map(|(d, a)| a.scale(step[d] as i64).add_const(start[d] as i64))
                    .collect();
                self.lower(node.srcs[0], &inner, mask)?
            }
            Op::Pad { lo, value, .. } => {
                let from = src_shape(0).clone();
                let inner: Vec<Affine> = idx
                    .iter()
                    .enumerate()
                    .map(|(d, a)| a.add_const(-(lo[d] as i64)))
                    .collect();
                let mut cond = None;
                for (d, a) in inner.iter().enumerate() {
                    let (l, h) = a.range();
                    if l < 0 || h >= from[d] as i64 {
                        let i = idx[d].emit(&mut self.kb);
                        let c = self.kb.expr(Expr::InRange {
                            index: i,
                            lo: lo[d] as i64,
                            hi: (lo[d] + from[d]) as i64,
                        });
                        cond = Some(self.and(cond, c));
                    }
                }
                match cond {
                    None => self.lower(node.srcs[0], &inner, mask)?,
                    Some(c) => {
                        let m = self.and(mask, c);
                        let v = self.lower(node.srcs[0], &inner, Some(m))?;
                        let p = self.kb.constant(*value);
                        self.kb.expr(Expr::Where(c, v, p))
                    }
                }
            }
            Op::Gather { axis } => {
                let size = src_shape(0)[*axis];
                let value = self.lower(node.srcs[1], idx, mask)?;
                let flag = self.flag_param(id, size);
                let checked = self.kb.expr(Expr::CheckedIndex {
                    value,
                    len: size as u64,
                    flag,
                });
                let mut inner = idx.to_vec();
                inner[*axis] = Affine::data(checked, size as u64);
                let v = self.lower(node.srcs[0], &inner, mask)?;
                if self.reaches(v, checked) {
                    v
                } else {
                    // The value does not depend on the index (the data is broadcast along the axis), but
                    // an index out of range is still an error: tie the check to the value.
                    let ok = self.kb.expr(Expr::InRange {
                        index: checked,
                        lo: 0,
                        hi: size as i64,
                    });
                    self.kb.expr(Expr::Where(ok, v, v))
                }
            }
            Op::Cat { axis } => return self.lower_cat(id, *axis, idx, mask),
        })
    }

    /// Whether expression `from` uses `target`.
    fn reaches(&self, from: ExprId, target: ExprId) -> bool {
        let mut stack = vec![from];
        let mut seen = std::collections::HashSet::new();
        while let Some(e) = stack.pop() {
            if e == target {
                return true;
            }
            if seen.insert(e) {
                stack.extend(smelt_codegen::kernel::operands(self.kb.get(e)));
            }
        }
        false
    }

    fn and(&mut self, a: Option<ExprId>, b: ExprId) -> ExprId {
        match a {
            None => b,
            Some(a) => self.kb.binary(BinaryOp::And, a, b),
        }
    }

    fn lower_cat(
        &mut self,
        id: NodeId,
        axis: usize,
        idx: &[Affine],
        mask: Option<ExprId>,
    ) -> Result<ExprId, Fail> {
        let node = self.node(id);
        let (lo, hi) = idx[axis].range();
        // The parts the index can reach, with their offsets.
        let mut parts = vec![];
        let mut off = 0i64;
        for &s in &node.srcs {
            let n = self.node(s).ty.shape[axis] as i64;
            if off <= hi && off + n > lo {
                parts.push((s, off, n));
            }
            off += n;
        }
        let shifted = |o: i64| -> Vec<Affine> {
            let mut v = idx.to_vec();
            v[axis] = idx[axis].add_const(-o);
            v
        };
        if let [(s, o, _)] = parts[..] {
            return self.lower(s, &shifted(o), mask);
        }
        let i = idx[axis].emit(&mut self.kb);
        let mut result = None;
        for &(s, o, n) in parts.iter().rev() {
            let c = self.kb.expr(Expr::InRange {
                index: i,
                lo: o,
                hi: o + n,
            });
            let m = self.and(mask, c);
            let v = self.lower(s, &shifted(o), Some(m))?;
            result = Some(match result {
                None => v,
                Some(rest) => self.kb.expr(Expr::Where(c, v, rest)),
            });
        }
        Ok(result.expect("a cat index reaches at least one part"))
    }

    /// A reduction: an accumulator and loops over the reduced axes, placed at the outermost level where
    /// the kept indices are known.
    fn lower_reduce(
        &mut self,
        id: NodeId,
        op: smelt_codegen::ReduceOp,
        axes: &[usize],
        idx: &[Affine],
    ) -> Result<ExprId, Fail> {
        let node = self.node(id);
        let src = node.srcs[0];
        let from = self.node(src).ty.shape.clone();
        if axes.iter().any(|&a| from[a] == 0) {
            // Nothing to reduce: the identity (sum of nothing is 0, product 1).
            return Ok(self.kb.constant(op.identity(node.ty.dtype)));
        }
        if !self.reduced.insert(id) {
            return Err(Fail::Materialize(id, Reason::ReduceRecomputed));
        }
        // The kept indices must be plain loop variables (or constants), each variable of every enclosing
        // level used once: then the accumulator is computed exactly once per value.
        let mut used = vec![];
        for (d, a) in idx.iter().enumerate() {
            if axes.contains(&d) {
                continue;
            }
            let (l, h) = a.range();
            if l < 0 || h >= from[d] as i64 {
                return Err(Fail::Materialize(id, Reason::ReduceRecomputed));
            }
            match a.terms.as_slice() {
                [] => {}
                [(index::Atom::Var { var, .. }, 1)] if !used.contains(var) => used.push(*var),
                _ => return Err(Fail::Materialize(id, Reason::ReduceRecomputed)),
            }
        }
        let place = used.iter().map(|v| self.var_level[v]).max().unwrap_or(0);
        for f in &self.frames[..=place] {
            if f.extent > 1 && !used.contains(&f.var.0) {
                return Err(Fail::Materialize(id, Reason::ReduceRecomputed));
            }
        }
        // Emit at `place`: detach the deeper frames, open the reduce loops there, re-attach after.
        let saved = self.frames.split_off(place + 1);
        let saved_levels: Vec<(u32, usize)> = saved
            .iter()
            .map(|f| (f.var.0, self.var_level[&f.var.0]))
            .collect();
        for f in &saved {
            self.var_level.remove(&f.var.0);
        }
        let acc = self.kb.new_acc();
        self.frames[place].stmts.push(Stmt::DefAcc {
            acc,
            op,
            dtype: node.ty.dtype,
        });
        let mut inner = idx.to_vec();
        for &a in axes {
            let var = self.push_frame(from[a] as u64);
            inner[a] = Affine::var(var, from[a] as u64);
        }
        let value = self.lower(src, &inner, None);
        if let Ok(v) = value {
            self.frames
                .last_mut()
                .expect("frame")
                .stmts
                .push(Stmt::Accumulate { acc, value: v });
        }
        for _ in axes {
            self.pop_frame();
        }
        self.frames.extend(saved);
        self.var_level.extend(saved_levels);
        value?;
        Ok(self.kb.expr(Expr::Acc(acc)))
    }

    // -----------------------------------------------------------------------------------------------
    // 3. Loads and masks

    fn param(&mut self, buf: BufIdx, ty: &TypeInfo) -> BufId {
        if let Some(&p) = self.params.get(&buf) {
            return p;
        }
        let p = self.kb.param(ty.dtype, ty.numel() as u64, Access::Read);
        self.params.insert(buf, p);
        self.args.push(Some(buf));
        p
    }

    fn flag_param(&mut self, node: NodeId, size: usize) -> BufId {
        if let Some(&(p, _, _)) = self.flags.iter().find(|f| f.1 == node) {
            return p;
        }
        let p = self.kb.param(DType::I32, 1, Access::Write);
        self.args.push(None);
        self.flags.push((p, node, size));
        p
    }

    /// A load of a materialized node at `idx`; masked only where the index may leave the buffer.
    fn load(&mut self, buf: BufIdx, ty: &TypeInfo, idx: &[Affine], mask: Option<ExprId>) -> ExprId {
        if ty.numel() == 0 {
            // Only reachable under a mask that is false everywhere (padding an empty tensor).
            return self.kb.constant(Scalar::zero(ty.dtype));
        }
        let in_bounds = idx.iter().zip(&ty.shape).all(|(a, &n)| {
            let (l, h) = a.range();
            l >= 0 && h < n as i64
        });
        let p = self.param(buf, ty);
        let index = ravel(idx, &ty.shape).emit(&mut self.kb);
        let mask = if in_bounds { None } else { mask };
        debug_assert!(
            in_bounds || mask.is_some(),
            "an unmasked load may leave its buffer"
        );
        self.kb.expr(Expr::Load {
            buf: p,
            index,
            mask,
        })
    }
}

// ---------------------------------------------------------------------------------------------------
// 4. Domains

/// Lowers `out` over `domain` (its shape with dims merged; same element count).
pub fn lower_kernel(
    g: &Graph,
    bufs: &BTreeMap<NodeId, BufIdx>,
    out: NodeId,
    out_buf: BufIdx,
    domain: &[usize],
    name: &str,
) -> Result<Lowered, Fail> {
    let mut l = Lowerer {
        g,
        bufs,
        out,
        kb: KernelBuilder::new(),
        params: HashMap::new(),
        args: vec![],
        flags: vec![],
        frames: vec![],
        var_level: HashMap::new(),
        memo: HashMap::new(),
        reduced: Default::default(),
    };
    let ty = g.node(out).ty.clone();
    let vars: Vec<Affine> = domain
        .iter()
        .map(|&n| {
            let v = l.push_frame(n as u64);
            Affine::var(v, n as u64)
        })
        .collect();
    let linear = ravel(&vars, domain);
    let idx = unravel(&linear, &ty.shape);
    let value = l.lower(out, &idx, None)?;
    let out_param = l.kb.param(ty.dtype, ty.numel() as u64, Access::Write);
    l.args.push(Some(out_buf));
    let index = linear.emit(&mut l.kb);
    l.frames.last_mut().expect("frame").stmts.push(Stmt::Store {
        buf: out_param,
        index,
        value,
    });
    while l.frames.len() > 1 {
        l.pop_frame();
    }
    let top = l.frames.pop().expect("the parallel frame");
    let kernel = l.kb.finish(name, top.extent, top.stmts);
    Ok(Lowered {
        kernel,
        args: l.args,
        flags: l.flags,
    })
}

/// Counts the index divisions and remainders a kernel computes (a proxy for index cost).
fn divmod_count(k: &Kernel) -> usize {
    k.exprs
        .iter()
        .filter(|e| matches!(e, Expr::IDiv(..) | Expr::IMod(..)))
        .count()
}

/// Lowers `out` over the best domain: its shape without size-1 dims, with adjacent dims merged wherever
/// that does not add index divisions (so contiguous work becomes one long vectorizable loop).
pub fn lower_best(
    g: &Graph,
    bufs: &BTreeMap<NodeId, BufIdx>,
    out: NodeId,
    out_buf: BufIdx,
    name: &str,
) -> Result<Lowered, Fail> {
    let mut domain: Vec<usize> = g
        .node(out)
        .ty
        .shape
        .iter()
        .copied()
        .filter(|&d| d != 1)
        .collect();
    if domain.is_empty() {
        domain.push(1);
    }
    let mut best = lower_kernel(g, bufs, out, out_buf, &domain, name)?;
    let mut i = domain.len();
    while i >= 2 {
        let mut cand = domain.clone();
        let merged = cand[i - 2] * cand[i - 1];
        cand.splice(i - 2..i, [merged]);
        if let Ok(k) = lower_kernel(g, bufs, out, out_buf, &cand, name)
            && divmod_count(&k.kernel) <= divmod_count(&best.kernel)
        {
            best = k;
            domain = cand;
        }
        i -= 1;
    }
    Ok(best)
}
