//! The translator: one kernel → one Cranelift function, statement by statement.
//!
//! ```text
//! entry(args, start, end):  load the buffer pointers; if start >= end return
//!   [expressions that depend on nothing]
//!   for i0 in start..end        (or: 16/8 lanes at a time, then 4, then one: see `translate_loop`)
//!     [expressions that depend on i0]
//!     for i1 in 0..n             header: guard; body: ...; latch: i1 += 1, branch back; exit
//!       ...
//! ```
//!
//! Expressions are pure, so each is computed once per scope, at the outermost point where its loop
//! variables and accumulators are known: before each statement, `hoist` computes every expression that
//! statement needs (at any depth) whose inputs are available there and that the statement itself does
//! not change (an expression reading an accumulator waits until the loop that accumulates is done). The
//! results are memoized per scope (a loop body), so an expression shared by several statements is
//! computed once.

use super::lower::vector_layout;
use super::plan::{BitSet, Plan};
use super::vector::Val;
use super::{Options, Target};
use crate::dtype::DType;
use crate::kernel::{AccId, BufId, Expr, ExprId, Kernel, LoopVar, Stmt, Ty};
use crate::ops::ReduceOp;
use cranelift_codegen::ir::condcodes::IntCC;
use cranelift_codegen::ir::{FuncRef, InstBuilder, MemFlagsData, StackSlot, Value, types};
use cranelift_frontend::{FunctionBuilder, Variable};
use indexmap::IndexMap;

/// Where an accumulator lives: one variable, or one per vector register or lane inside a vector loop.
#[derive(Clone, Debug)]
pub(super) struct AccSlot {
    pub op: ReduceOp,
    pub dtype: DType,
    pub form: AccForm,
    pub vars: Vec<Variable>,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum AccForm {
    Scalar,
    /// Vector registers in the dtype's layout.
    Parts,
    /// One scalar per lane (dtypes without a vector layout).
    Lanes,
    /// One element per lane of a tile, in a stack array (see `tile.rs`).
    Tile(StackSlot),
}

/// The loop being vectorized, while its body is translated.
pub(super) struct VecCtx {
    pub var: LoopVar,
    pub lanes: u32,
    /// The loop variable's value in lane 0.
    pub base: Value,
    /// Partial results of accumulators defined outside the loop.
    pub shadows: IndexMap<AccId, AccSlot>,
    /// In a tile (see `tile.rs`): lane 0's offset from the tile's start.
    pub tile_offset: Option<Value>,
}

pub(super) struct FunctionTranslator<'a> {
    pub k: &'a Kernel,
    pub plan: &'a Plan,
    pub b: FunctionBuilder<'a>,
    pub target: Target,
    pub options: Options,
    /// Base pointers of the buffers.
    pub bufs: Vec<Value>,
    pub counters: Vec<Option<Variable>>,
    pub accs: Vec<Option<AccSlot>>,
    memo: Vec<Option<Val>>,
    /// Per open scope, the memo entries it set (cleared when it closes).
    scopes: Vec<Vec<ExprId>>,
    pub open_vars: BitSet,
    pub declared: BitSet,
    pub vec: Option<VecCtx>,
    pub imports: Vec<Option<FuncRef>>,
}

/// The range of a loop: a constant extent, or the `start..end` of the parallel loop.
#[derive(Clone, Copy)]
pub(super) enum Bounds {
    Static(u64),
    Dynamic(Value, Value),
}

impl<'a> FunctionTranslator<'a> {
    pub fn new(
        k: &'a Kernel,
        plan: &'a Plan,
        b: FunctionBuilder<'a>,
        target: Target,
        options: Options,
    ) -> Self {
        FunctionTranslator {
            k,
            plan,
            b,
            target,
            options,
            bufs: Vec::new(),
            counters: vec![None; k.loop_count() as usize],
            accs: vec![None; k.acc_count() as usize],
            memo: vec![None; k.exprs.len()],
            scopes: Vec::new(),
            open_vars: BitSet::default(),
            declared: BitSet::default(),
            vec: None,
            imports: vec![None; super::math::LIBM.len()],
        }
    }

    /// Builds the whole function.
    pub fn translate(mut self) {
        let entry = self.b.create_block();
        self.b.append_block_params_for_function_params(entry);
        self.b.switch_to_block(entry);
        self.b.seal_block(entry);
        let params = self.b.block_params(entry).to_vec();
        let (args, start, end) = (params[0], params[1], params[2]);
        let flags = MemFlagsData::trusted().with_readonly();
        for i in 0..self.k.params.len() {
            let p = self.b.ins().load(
                self.target.frontend.pointer_type(),
                flags,
                args,
                (i * 8) as i32,
            );
            self.bufs.push(p);
        }
        let body = self.b.create_block();
        let exit = self.b.create_block();
        let nonempty = self.b.ins().icmp(IntCC::UnsignedLessThan, start, end);
        self.b.ins().brif(nonempty, body, &[], exit, &[]);
        self.b.switch_to_block(body);
        self.b.seal_block(body);
        self.scopes.push(Vec::new());
        // The parallel loop is one statement of the function body: hoist what it needs that depends on
        // nothing, then run it.
        let k = self.k;
        let whole = [Stmt::Loop {
            var: Kernel::PARALLEL,
            extent: k.extent,
            body: k.body.clone(),
        }];
        self.hoist(&whole);
        self.translate_loop(Kernel::PARALLEL, Bounds::Dynamic(start, end), &k.body);
        self.b.ins().jump(exit, &[]);
        self.b.switch_to_block(exit);
        self.b.seal_block(exit);
        self.b.ins().return_(&[]);
        self.b.finalize(self.target.frontend);
    }

    pub fn translate_block(&mut self, stmts: &[Stmt]) {
        for s in stmts {
            if matches!(s, Stmt::Loop { extent: 0, .. }) {
                continue; // never runs: compute nothing for it
            }
            let one = std::slice::from_ref(s);
            self.hoist(one);
            match s {
                Stmt::Loop { var, extent, body } => {
                    self.translate_loop(*var, Bounds::Static(*extent), body)
                }
                Stmt::DefAcc { acc, op, dtype } => self.translate_def_acc(*acc, *op, *dtype),
                Stmt::Accumulate { acc, value } => self.translate_accumulate(*acc, *value),
                Stmt::Store { buf, index, value } => self.translate_store(*buf, *index, *value),
            }
            // Values read from accumulators this statement changed are stale now.
            let mut touched = Plan::modified(one);
            if let Stmt::DefAcc { acc, .. } = s {
                touched.insert(acc.index());
            }
            if !touched.is_empty() {
                for e in 0..self.memo.len() {
                    if self.memo[e].is_some() && self.plan.accs[e].intersects(&touched) {
                        self.memo[e] = None;
                    }
                }
            }
        }
    }

    /// Computes now every expression `stmts` need whose inputs are available here and unchanged by them.
    pub fn hoist(&mut self, stmts: &[Stmt]) {
        let needed = self.plan.needed(self.k, stmts);
        let mut touched = Plan::modified(stmts);
        for s in stmts {
            if let Stmt::DefAcc { acc, .. } = s {
                touched.insert(acc.index());
            }
        }
        // Tile accumulators hold one value per lane: readable only inside a tile's lane loop.
        let in_tile = self.vec.as_ref().is_some_and(|v| v.tile_offset.is_some());
        for e in needed.iter() {
            if self.memo[e].is_none()
                && self.plan.vars[e].is_subset(&self.open_vars)
                && self.plan.accs[e].is_subset(&self.declared)
                && !self.plan.accs[e].intersects(&touched)
                && (in_tile
                    || !self.plan.accs[e].iter().any(
                        |a| matches!(&self.accs[a], Some(s) if matches!(s.form, AccForm::Tile(_))),
                    ))
            {
                self.eval(ExprId(e as u32));
            }
        }
    }

    pub fn push_scope(&mut self) {
        self.scopes.push(Vec::new());
    }

    pub fn pop_scope(&mut self) {
        for e in self.scopes.pop().expect("open scope") {
            self.memo[e.index()] = None;
        }
    }

    /// The value of an expression, computed here unless this scope or an enclosing one already did.
    pub fn eval(&mut self, id: ExprId) -> Val {
        if let Some(v) = &self.memo[id.index()] {
            return v.clone();
        }
        let v = self.translate_expr(id);
        self.memo[id.index()] = Some(v.clone());
        self.scopes.last_mut().expect("open scope").push(id);
        v
    }

    pub fn dtype_of(&self, id: ExprId) -> DType {
        match self.plan.tys[id.index()] {
            Ty::Value(d) => d,
            Ty::Index => DType::I64,
        }
    }

    // ---- statements ----

    /// A fresh accumulator holding the identity of `op`: scalar for `w == 1`, else `w` lanes.
    pub(super) fn new_acc(&mut self, op: ReduceOp, dtype: DType, w: u32) -> AccSlot {
        let identity = op.identity(dtype);
        let s = self.scalar_const(identity);
        let (form, init, count) = if w == 1 {
            (AccForm::Scalar, s, 1)
        } else if let Some((vty, per)) = vector_layout(dtype) {
            let s = if dtype == DType::Bool {
                self.b.ins().bmask(types::I32, s)
            } else {
                s
            };
            (
                AccForm::Parts,
                self.b.ins().splat(vty, s),
                (w / per) as usize,
            )
        } else {
            (AccForm::Lanes, s, w as usize)
        };
        let ty = self.ty(init);
        let vars = (0..count)
            .map(|_| {
                let v = self.b.declare_var(ty);
                self.b.def_var(v, init);
                v
            })
            .collect();
        AccSlot {
            op,
            dtype,
            form,
            vars,
        }
    }

    fn translate_def_acc(&mut self, acc: AccId, op: ReduceOp, dtype: DType) {
        let w = self.vec.as_ref().map_or(1, |c| c.lanes);
        let slot = self.new_acc(op, dtype, w);
        self.accs[acc.index()] = Some(slot);
        self.declared.insert(acc.index());
    }

    fn translate_accumulate(&mut self, acc: AccId, value: ExprId) {
        let v = self.eval(value);
        let slot = match self.vec.as_ref().and_then(|c| c.shadows.get(&acc)) {
            Some(s) => s.clone(),
            None => self.accs[acc.index()]
                .clone()
                .expect("verified: accumulator defined"),
        };
        let op = slot.op.combine();
        if let AccForm::Tile(_) = slot.form {
            let old = self.tile_load(acc);
            let x = self.parts(&v, slot.dtype);
            let new: Vec<Value> = old
                .into_iter()
                .zip(x)
                .map(|(o, x)| self.lower_binary(op, slot.dtype, o, x))
                .collect();
            self.tile_store(acc, &new);
            return;
        }
        let vals = match slot.form {
            AccForm::Scalar => vec![self.scalar_of(&v)],
            AccForm::Parts => self.parts(&v, slot.dtype),
            AccForm::Lanes => self.lanes(&v, Ty::Value(slot.dtype)),
            AccForm::Tile(_) => unreachable!(),
        };
        for (var, x) in slot.vars.iter().zip(vals) {
            let old = self.b.use_var(*var);
            let new = self.lower_binary(op, slot.dtype, old, x);
            self.b.def_var(*var, new);
        }
    }

    pub fn read_acc(&mut self, acc: AccId) -> Val {
        let slot = self.accs[acc.index()]
            .clone()
            .expect("verified: accumulator defined");
        if let AccForm::Tile(_) = slot.form {
            return Val::P(self.tile_load(acc));
        }
        let vals: Vec<Value> = slot.vars.iter().map(|v| self.b.use_var(*v)).collect();
        match slot.form {
            AccForm::Scalar => Val::S(vals[0]),
            AccForm::Parts | AccForm::Tile(_) => Val::P(vals),
            AccForm::Lanes => Val::L(vals),
        }
    }

    fn translate_store(&mut self, buf: BufId, index: ExprId, value: ExprId) {
        let i = self.eval(index);
        let v = self.eval(value);
        match (&i, &v) {
            (Val::S(i), Val::S(v)) => self.store_scalar(buf, *i, *v),
            _ => self.store_vector(buf, &i, &v),
        }
    }

    // ---- expressions ----

    fn translate_expr(&mut self, id: ExprId) -> Val {
        let nonneg = |t: &Self, e: ExprId| t.plan.ranges[e.index()].is_some_and(|r| r.lo >= 0);
        match *self.k.expr(id) {
            Expr::Var(v) => {
                match &self.vec {
                    Some(c) if c.var == v => Val::A(c.base, 1),
                    _ => Val::S(self.b.use_var(
                        self.counters[v.index()].expect("verified: loop variable in scope"),
                    )),
                }
            }
            Expr::Index(c) => Val::S(self.b.ins().iconst(types::I64, c)),
            Expr::IAdd(a, b) => {
                let (x, y) = (self.eval(a), self.eval(b));
                self.index_add(x, y)
            }
            Expr::IMul(a, c) => {
                let x = self.eval(a);
                self.index_mul(x, c)
            }
            Expr::IDiv(a, c) => {
                let (x, nn) = (self.eval(a), nonneg(self, a));
                self.index_map(x, |t, v| t.index_div(v, c, nn))
            }
            Expr::IMod(a, c) => {
                let (x, nn) = (self.eval(a), nonneg(self, a));
                self.index_map(x, |t, v| t.index_mod(v, c, nn))
            }
            Expr::CheckedIndex { value, len, flag } => {
                let (x, d) = (self.eval(value), self.dtype_of(value));
                match x {
                    Val::S(v) => Val::S(self.checked_scalar(v, d, len, flag)),
                    x => self.checked_vector(&x, d, len, flag),
                }
            }
            Expr::Const(s) => Val::S(self.scalar_const(s)),
            Expr::IndexCast(a, d) => match self.eval(a) {
                Val::S(v) => Val::S(self.cast_index(v, d)),
                x => self.index_cast_vector(&x, d, a),
            },
            Expr::InRange { index, lo, hi } => match self.eval(index) {
                Val::S(v) => {
                    let ge = self
                        .b
                        .ins()
                        .icmp_imm_s(IntCC::SignedGreaterThanOrEqual, v, lo);
                    let lt = self.b.ins().icmp_imm_s(IntCC::SignedLessThan, v, hi);
                    Val::S(self.b.ins().band(ge, lt))
                }
                x => self.in_range_vector(&x, lo, hi, index),
            },
            Expr::Load { buf, index, mask } => {
                let i = self.eval(index);
                let m = mask.map(|m| self.eval(m));
                match (&i, &m) {
                    (Val::S(i), None) => Val::S(self.load_scalar(buf, *i, None)),
                    (Val::S(i), Some(Val::S(m))) => Val::S(self.load_scalar(buf, *i, Some(*m))),
                    _ => self.load_vector(buf, &i, m.as_ref()),
                }
            }
            Expr::Acc(a) => self.read_acc(a),
            Expr::Unary(op, a) => {
                let (x, d) = (self.eval(a), self.dtype_of(a));
                match x {
                    Val::S(v) => Val::S(self.lower_unary(op, d, v)),
                    x => self.unary_vector(op, d, &x),
                }
            }
            Expr::Binary(op, a, b) => {
                let (x, y, d) = (self.eval(a), self.eval(b), self.dtype_of(a));
                match (&x, &y) {
                    (Val::S(p), Val::S(q)) => Val::S(self.lower_binary(op, d, *p, *q)),
                    _ => self.binary_vector(op, d, &x, &y),
                }
            }
            Expr::Where(c, a, b) => {
                let (cv, x, y, d) = (self.eval(c), self.eval(a), self.eval(b), self.dtype_of(a));
                match (&cv, &x, &y) {
                    (Val::S(c), Val::S(p), Val::S(q)) => Val::S(self.b.ins().select(*c, *p, *q)),
                    _ => self.where_vector(&cv, &x, &y, d),
                }
            }
            Expr::Cast(a, to) => {
                let (x, from) = (self.eval(a), self.dtype_of(a));
                match x {
                    Val::S(v) => Val::S(self.lower_cast(v, from, to)),
                    x => self.cast_vector(&x, from, to),
                }
            }
        }
    }

    /// The scalar of a uniform value (a scalar accumulator only ever receives scalars).
    fn scalar_of(&mut self, v: &Val) -> Value {
        match v {
            Val::S(x) => *x,
            other => {
                unreachable!("a lane-varying value {other:?} accumulated into a scalar accumulator")
            }
        }
    }
}
