//! The kernel IR: one kernel is a loop nest over an expression arena.
//!
//! ```text
//! kernel E_exp_mul_add(b0: f32[1024], b1: f32[1024], b2: f32[1024], b3: out f32[1024])
//! parallel i0 in 0..1024:
//!   e0 = i0
//!   e1 = load b0[e0] : f32
//!   ...
//!   store b3[e0] = e6
//! ```
//!
//! # Invariants
//! - A kernel is one *parallel* loop `i0 in 0..extent` whose iterations are independent: the runtime hands
//!   `[start, end)` sub-ranges of it to workers (CPU ABI: `fn(args, start, end)`). Inside it, statements
//!   nest sequential loops, accumulators and stores.
//! - Expressions live in one arena, operands before users, and are pure: a backend may evaluate an
//!   expression once at the outermost point where all its loop variables and accumulators are known.
//!   Loads are pure too: a kernel never reads a buffer it writes.
//! - Two sorts of expression: *index* expressions (loop variables and integer arithmetic on them; `i64`
//!   on the CPU, `i32` on the GPU) address memory; *value* expressions carry a [`DType`]. They meet only in
//!   [`Expr::IndexCast`] (index → value), [`Expr::InRange`] (index → bool) and [`Expr::CheckedIndex`]
//!   (value → index).
//! - Every unmasked load and every store is in bounds for every iteration; [`verify`] proves it by interval
//!   arithmetic, so generated code never touches memory outside its buffers. Masked loads read nothing
//!   where the mask is false; data-dependent indices go through [`Expr::CheckedIndex`].

use crate::dtype::{DType, Scalar};
use crate::ops::{BinaryOp, ReduceOp, UnaryOp};
use indexmap::IndexMap;
use std::fmt::{self, Write as _};

macro_rules! id_type {
    ($(#[$doc:meta])* $name:ident, $prefix:literal) => {
        $(#[$doc])*
        #[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
        pub struct $name(pub u32);

        impl $name {
            pub fn index(self) -> usize {
                self.0 as usize
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                write!(f, concat!($prefix, "{}"), self.0)
            }
        }
    };
}

id_type!(
    /// A kernel parameter (a buffer), by position in [`Kernel::params`]. Prints as `b3`.
    BufId,
    "b"
);
id_type!(
    /// A loop variable. Prints as `i0`; `i0` is always the parallel loop.
    LoopVar,
    "i"
);
id_type!(
    /// An accumulator register. Prints as `acc0`.
    AccId,
    "acc"
);
id_type!(
    /// An expression in [`Kernel::exprs`]. Prints as `e12`.
    ExprId,
    "e"
);

/// Whether a kernel reads or writes a buffer (never both).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Access {
    Read,
    Write,
}

/// A buffer parameter: its element type and its length in elements.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Param {
    pub dtype: DType,
    pub len: u64,
    pub access: Access,
}

/// The type of an expression.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Ty {
    /// An index: `i64` on the CPU, `i32` on the GPU.
    Index,
    Value(DType),
}

/// One expression. Operands are earlier entries of the arena.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum Expr {
    // ---- index expressions (type `index`) ----
    /// The current iteration of a loop.
    Var(LoopVar),
    /// An index constant.
    Index(i64),
    /// `a + b`, both indices.
    IAdd(ExprId, ExprId),
    /// `a * c` for a constant `c`.
    IMul(ExprId, i64),
    /// `floor(a / c)` for a constant `c > 0`.
    IDiv(ExprId, i64),
    /// `a mod c` for a constant `c > 0`, in `[0, c)` (floor semantics, also for negative `a`).
    IMod(ExprId, i64),
    /// A value of an integer dtype used as an index into a buffer of `len` elements. In range
    /// (`0 <= value < len`) it is that index; otherwise it is 0 and the kernel stores 1 into `flag` (an
    /// `i32` buffer of length 1, written only in that case), so the runtime can report the bad index.
    CheckedIndex {
        value: ExprId,
        len: u64,
        flag: BufId,
    },

    // ---- value expressions (type `DType`) ----
    /// A constant.
    Const(Scalar),
    /// An index converted to a value of an integer or float dtype.
    IndexCast(ExprId, DType),
    /// `lo <= index < hi`, a bool.
    InRange { index: ExprId, lo: i64, hi: i64 },
    /// `buf[index]`, of the buffer's dtype. With a mask (a bool), the result is 0 where the mask is false
    /// and memory is not touched there.
    Load {
        buf: BufId,
        index: ExprId,
        mask: Option<ExprId>,
    },
    /// An accumulator's value. Used after the loop that accumulates into it, in the block that defines it.
    Acc(AccId),
    /// `op(a)`, see [`UnaryOp`] for each op's dtypes.
    Unary(UnaryOp, ExprId),
    /// `op(a, b)`, both of one dtype; comparisons give bool.
    Binary(BinaryOp, ExprId, ExprId),
    /// `cond ? a : b`; `cond` is bool, `a` and `b` share a dtype.
    Where(ExprId, ExprId, ExprId),
    /// A conversion between dtypes (floats to integers truncate toward zero; NaN to integer gives 0;
    /// out-of-range floats saturate; integers wrap; nonzero to bool gives true).
    Cast(ExprId, DType),
}

/// One statement of a loop body.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum Stmt {
    /// `for var in 0..extent { body }`, sequential.
    Loop {
        var: LoopVar,
        extent: u64,
        body: Vec<Stmt>,
    },
    /// Declares `acc` of `dtype`, set to the identity of `op`; visible in the rest of the enclosing block.
    DefAcc {
        acc: AccId,
        op: ReduceOp,
        dtype: DType,
    },
    /// `acc = op(acc, value)`.
    Accumulate { acc: AccId, value: ExprId },
    /// `buf[index] = value`.
    Store {
        buf: BufId,
        index: ExprId,
        value: ExprId,
    },
}

/// A kernel: buffers, an expression arena and a parallel loop.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct Kernel {
    pub name: String,
    pub params: Vec<Param>,
    pub exprs: Vec<Expr>,
    /// The extent of the parallel loop `i0`.
    pub extent: u64,
    /// The body of the parallel loop.
    pub body: Vec<Stmt>,
}

impl Kernel {
    pub fn expr(&self, id: ExprId) -> &Expr {
        &self.exprs[id.index()]
    }

    /// The parallel loop's variable.
    pub const PARALLEL: LoopVar = LoopVar(0);

    /// Number of loop variables used (`i0` through `i{n-1}`).
    pub fn loop_count(&self) -> u32 {
        fn walk(stmts: &[Stmt], max: &mut u32) {
            for s in stmts {
                if let Stmt::Loop { var, body, .. } = s {
                    *max = (*max).max(var.0 + 1);
                    walk(body, max);
                }
            }
        }
        let mut max = 1;
        walk(&self.body, &mut max);
        max
    }

    /// Number of accumulators declared (`acc0` through `acc{n-1}`).
    pub fn acc_count(&self) -> u32 {
        fn walk(stmts: &[Stmt], max: &mut u32) {
            for s in stmts {
                match s {
                    Stmt::Loop { body, .. } => walk(body, max),
                    Stmt::DefAcc { acc, .. } => *max = (*max).max(acc.0 + 1),
                    _ => {}
                }
            }
        }
        let mut max = 0;
        walk(&self.body, &mut max);
        max
    }

    /// The type of every expression, in arena order. Assumes the kernel verified.
    pub fn types(&self) -> Vec<Ty> {
        let mut tys: Vec<Ty> = Vec::with_capacity(self.exprs.len());
        let mut accs = IndexMap::new();
        collect_acc_types(&self.body, &mut accs);
        for e in &self.exprs {
            let t = expr_type(e, &tys, &self.params, &accs).unwrap_or(Ty::Index);
            tys.push(t);
        }
        tys
    }
}

fn collect_acc_types(stmts: &[Stmt], out: &mut IndexMap<AccId, DType>) {
    for s in stmts {
        match s {
            Stmt::Loop { body, .. } => collect_acc_types(body, out),
            Stmt::DefAcc { acc, dtype, .. } => {
                out.insert(*acc, *dtype);
            }
            _ => {}
        }
    }
}

/// Builds kernels: hash-conses expressions (a repeated expression gets the same id) and numbers loops and
/// accumulators.
#[derive(Default)]
pub struct KernelBuilder {
    exprs: IndexMap<Expr, ()>,
    params: Vec<Param>,
    next_var: u32,
    next_acc: u32,
}

impl KernelBuilder {
    /// A builder whose parallel loop variable `i0` is already reserved.
    pub fn new() -> Self {
        KernelBuilder {
            next_var: 1,
            ..Default::default()
        }
    }

    pub fn param(&mut self, dtype: DType, len: u64, access: Access) -> BufId {
        self.params.push(Param { dtype, len, access });
        BufId(self.params.len() as u32 - 1)
    }

    /// A fresh loop variable (the parallel one, `i0`, is [`Kernel::PARALLEL`]).
    pub fn new_var(&mut self) -> LoopVar {
        self.next_var += 1;
        LoopVar(self.next_var - 1)
    }

    pub fn new_acc(&mut self) -> AccId {
        self.next_acc += 1;
        AccId(self.next_acc - 1)
    }

    /// Adds an expression (or finds the identical one already there).
    pub fn expr(&mut self, e: Expr) -> ExprId {
        let (i, _) = self.exprs.insert_full(e, ());
        ExprId(i as u32)
    }

    pub fn get(&self, id: ExprId) -> &Expr {
        self.exprs
            .get_index(id.index())
            .expect("expression id from this builder")
            .0
    }

    pub fn var(&mut self, v: LoopVar) -> ExprId {
        self.expr(Expr::Var(v))
    }
    pub fn index(&mut self, c: i64) -> ExprId {
        self.expr(Expr::Index(c))
    }
    pub fn constant(&mut self, s: Scalar) -> ExprId {
        self.expr(Expr::Const(s))
    }
    pub fn load(&mut self, buf: BufId, index: ExprId) -> ExprId {
        self.expr(Expr::Load {
            buf,
            index,
            mask: None,
        })
    }
    pub fn unary(&mut self, op: UnaryOp, a: ExprId) -> ExprId {
        self.expr(Expr::Unary(op, a))
    }
    pub fn binary(&mut self, op: BinaryOp, a: ExprId, b: ExprId) -> ExprId {
        self.expr(Expr::Binary(op, a, b))
    }

    /// `a + b` on indices, folding constants and zeros.
    pub fn iadd(&mut self, a: ExprId, b: ExprId) -> ExprId {
        match (self.get(a).clone(), self.get(b).clone()) {
            (Expr::Index(x), Expr::Index(y)) => self.index(x + y),
            (Expr::Index(0), _) => b,
            (_, Expr::Index(0)) => a,
            _ => self.expr(Expr::IAdd(a, b)),
        }
    }

    /// `a * c` on indices, folding constants, zeros and ones.
    pub fn imul(&mut self, a: ExprId, c: i64) -> ExprId {
        match (self.get(a).clone(), c) {
            (_, 0) => self.index(0),
            (_, 1) => a,
            (Expr::Index(x), _) => self.index(x * c),
            _ => self.expr(Expr::IMul(a, c)),
        }
    }

    pub fn finish(self, name: impl Into<String>, extent: u64, body: Vec<Stmt>) -> Kernel {
        Kernel {
            name: name.into(),
            params: self.params,
            exprs: self.exprs.into_keys().collect(),
            extent,
            body,
        }
    }
}

// ---------------------------------------------------------------------------------------------------
// Verifier

/// A verifier failure: always a bug in whoever built the kernel, never a user error.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("kernel `{kernel}` is malformed (a smelt bug, please report it): {what}")]
pub struct VerifyError {
    pub kernel: String,
    pub what: String,
}

fn expr_type(
    e: &Expr,
    tys: &[Ty],
    params: &[Param],
    accs: &IndexMap<AccId, DType>,
) -> Result<Ty, String> {
    let ty = |id: ExprId| -> Result<Ty, String> {
        tys.get(id.index())
            .copied()
            .ok_or_else(|| format!("operand {id} is not defined before its use"))
    };
    let value = |id: ExprId| -> Result<DType, String> {
        match ty(id)? {
            Ty::Value(d) => Ok(d),
            Ty::Index => Err(format!("{id} is an index where a value is needed")),
        }
    };
    let index = |id: ExprId| -> Result<(), String> {
        match ty(id)? {
            Ty::Index => Ok(()),
            Ty::Value(d) => Err(format!("{id} is a {d} value where an index is needed")),
        }
    };
    let param = |b: BufId| -> Result<Param, String> {
        params
            .get(b.index())
            .copied()
            .ok_or_else(|| format!("buffer {b} is not a parameter"))
    };
    Ok(match *e {
        Expr::Var(_) | Expr::Index(_) => Ty::Index,
        Expr::IAdd(a, b) => {
            index(a)?;
            index(b)?;
            Ty::Index
        }
        Expr::IMul(a, _) => {
            index(a)?;
            Ty::Index
        }
        Expr::IDiv(a, c) | Expr::IMod(a, c) => {
            index(a)?;
            if c <= 0 {
                return Err(format!("division of an index by {c}"));
            }
            Ty::Index
        }
        Expr::CheckedIndex {
            value: v,
            len,
            flag,
        } => {
            let d = value(v)?;
            if !d.is_int() {
                return Err(format!("checked index of a {d} value"));
            }
            let p = param(flag)?;
            if p.dtype != DType::I32 || p.len != 1 || p.access != Access::Write {
                return Err(format!("error flag {flag} must be a written i32[1]"));
            }
            if len == 0 {
                return Err("checked index into an empty buffer".into());
            }
            Ty::Index
        }
        Expr::Const(s) => Ty::Value(s.dtype()),
        Expr::IndexCast(a, d) => {
            index(a)?;
            if d.is_bool() {
                return Err("index cast to bool".into());
            }
            Ty::Value(d)
        }
        Expr::InRange { index: i, .. } => {
            index(i)?;
            Ty::Value(DType::Bool)
        }
        Expr::Load {
            buf,
            index: i,
            mask,
        } => {
            index(i)?;
            if let Some(m) = mask
                && value(m)? != DType::Bool
            {
                return Err(format!("mask {m} is not bool"));
            }
            let p = param(buf)?;
            if p.access != Access::Read {
                return Err(format!("load from {buf}, which the kernel writes"));
            }
            Ty::Value(p.dtype)
        }
        Expr::Acc(a) => Ty::Value(
            *accs
                .get(&a)
                .ok_or_else(|| format!("{a} is never defined"))?,
        ),
        Expr::Unary(op, a) => {
            let d = value(a)?;
            if op.float_only() && !d.is_float() {
                return Err(format!("{op} of {d}"));
            }
            if op == UnaryOp::Not && d != DType::Bool {
                return Err(format!("not of {d}"));
            }
            Ty::Value(d)
        }
        Expr::Binary(op, a, b) => {
            let (da, db) = (value(a)?, value(b)?);
            if da != db {
                return Err(format!("{op} of {da} and {db}"));
            }
            if op.is_bitwise() && da.is_float() {
                return Err(format!("{op} of {da}"));
            }
            Ty::Value(op.result_dtype(da))
        }
        Expr::Where(c, a, b) => {
            if value(c)? != DType::Bool {
                return Err(format!("where condition {c} is not bool"));
            }
            let (da, db) = (value(a)?, value(b)?);
            if da != db {
                return Err(format!("where of {da} and {db}"));
            }
            Ty::Value(da)
        }
        Expr::Cast(a, d) => {
            value(a)?;
            Ty::Value(d)
        }
    })
}

/// An inclusive integer interval.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Interval {
    pub lo: i128,
    pub hi: i128,
}

impl Interval {
    fn add(self, o: Interval) -> Interval {
        Interval {
            lo: self.lo + o.lo,
            hi: self.hi + o.hi,
        }
    }
    fn mul(self, c: i64) -> Interval {
        let (a, b) = (self.lo * c as i128, self.hi * c as i128);
        Interval {
            lo: a.min(b),
            hi: a.max(b),
        }
    }
}

/// The range of every index expression, for loop variables ranging over their loops. Value expressions
/// get `None`.
pub fn index_ranges(k: &Kernel) -> Vec<Option<Interval>> {
    let mut extents = vec![0u64; k.loop_count() as usize];
    fn walk(stmts: &[Stmt], ext: &mut [u64]) {
        for s in stmts {
            if let Stmt::Loop { var, extent, body } = s {
                ext[var.index()] = *extent;
                walk(body, ext);
            }
        }
    }
    extents[0] = k.extent;
    walk(&k.body, &mut extents);
    let mut out: Vec<Option<Interval>> = Vec::with_capacity(k.exprs.len());
    for e in &k.exprs {
        let r = |id: ExprId| out[id.index()];
        let iv = match *e {
            Expr::Var(v) => {
                let n = extents.get(v.index()).copied().unwrap_or(0) as i128;
                Some(Interval {
                    lo: 0,
                    hi: (n - 1).max(0),
                })
            }
            Expr::Index(c) => Some(Interval {
                lo: c as i128,
                hi: c as i128,
            }),
            Expr::IAdd(a, b) => r(a).zip(r(b)).map(|(x, y)| x.add(y)),
            Expr::IMul(a, c) => r(a).map(|x| x.mul(c)),
            Expr::IDiv(a, c) => r(a).map(|x| Interval {
                lo: x.lo.div_euclid(c as i128),
                hi: x.hi.div_euclid(c as i128),
            }),
            Expr::IMod(a, c) => r(a).map(|x| {
                let c = c as i128;
                if x.lo.div_euclid(c) == x.hi.div_euclid(c) {
                    Interval {
                        lo: x.lo.rem_euclid(c),
                        hi: x.hi.rem_euclid(c),
                    }
                } else {
                    Interval { lo: 0, hi: c - 1 }
                }
            }),
            Expr::CheckedIndex { len, .. } => Some(Interval {
                lo: 0,
                hi: len as i128 - 1,
            }),
            _ => None,
        };
        out.push(iv);
    }
    out
}

/// Checks types, scoping and bounds. A failure is a compiler bug.
pub fn verify(k: &Kernel) -> Result<(), VerifyError> {
    let fail = |what: String| VerifyError {
        kernel: k.name.clone(),
        what,
    };
    let mut accs = IndexMap::new();
    collect_acc_types(&k.body, &mut accs);
    let mut tys = Vec::with_capacity(k.exprs.len());
    for (i, e) in k.exprs.iter().enumerate() {
        let t = expr_type(e, &tys, &k.params, &accs).map_err(|w| fail(format!("e{i}: {w}")))?;
        tys.push(t);
    }
    let ranges = index_ranges(k);
    for (i, e) in k.exprs.iter().enumerate() {
        if let Expr::Load { buf, index, mask } = *e {
            let len = k.params[buf.index()].len as i128;
            if len == 0 {
                return Err(fail(format!("e{i} loads from the empty buffer {buf}")));
            }
            if mask.is_none() {
                let r = ranges[index.index()].expect("index expression has a range");
                if r.lo < 0 || r.hi >= len {
                    return Err(fail(format!(
                        "e{i} = load {buf}[{index}] may read index range [{}, {}] of a buffer of {len}",
                        r.lo, r.hi
                    )));
                }
            }
        }
    }
    // Scoping: loop variables are used only inside their loops, accumulators only where defined.
    struct Scope<'a> {
        k: &'a Kernel,
        tys: &'a [Ty],
        ranges: &'a [Option<Interval>],
    }
    impl Scope<'_> {
        fn uses(&self, id: ExprId, vars: &[LoopVar], accs: &[AccId]) -> Result<(), String> {
            match self.k.expr(id) {
                Expr::Var(v) if !vars.contains(v) => Err(format!("{v} used outside its loop")),
                Expr::Acc(a) if !accs.contains(a) => {
                    Err(format!("{a} used outside the block that defines it"))
                }
                e => {
                    for op in operands(e) {
                        self.uses(op, vars, accs)?;
                    }
                    Ok(())
                }
            }
        }
        fn block(
            &self,
            stmts: &[Stmt],
            vars: &mut Vec<LoopVar>,
            accs: &mut Vec<AccId>,
        ) -> Result<(), String> {
            let depth = accs.len();
            for s in stmts {
                match s {
                    Stmt::Loop { var, body, .. } => {
                        if vars.contains(var) {
                            return Err(format!("loop variable {var} reused in its own loop"));
                        }
                        vars.push(*var);
                        self.block(body, vars, accs)?;
                        vars.pop();
                    }
                    Stmt::DefAcc { acc, .. } => accs.push(*acc),
                    Stmt::Accumulate { acc, value } => {
                        if !accs.contains(acc) {
                            return Err(format!("accumulate into undefined {acc}"));
                        }
                        self.uses(*value, vars, accs)?;
                        let want = self.tys[value.index()];
                        let mut defs = IndexMap::new();
                        collect_acc_types(&self.k.body, &mut defs);
                        if want != Ty::Value(defs[acc]) {
                            return Err(format!(
                                "accumulate of {value} ({want:?}) into {acc} of {}",
                                defs[acc]
                            ));
                        }
                    }
                    Stmt::Store { buf, index, value } => {
                        self.uses(*index, vars, accs)?;
                        self.uses(*value, vars, accs)?;
                        let p = self
                            .k
                            .params
                            .get(buf.index())
                            .ok_or(format!("store to unknown {buf}"))?;
                        if p.access != Access::Write {
                            return Err(format!("store to {buf}, which is read-only"));
                        }
                        if self.tys[index.index()] != Ty::Index {
                            return Err(format!("store index {index} is not an index"));
                        }
                        if self.tys[value.index()] != Ty::Value(p.dtype) {
                            return Err(format!("store of {value} into {buf} of {}", p.dtype));
                        }
                        let r = self.ranges[index.index()].expect("index has a range");
                        if r.lo < 0 || r.hi >= p.len as i128 {
                            return Err(format!(
                                "store {buf}[{index}] may write index range [{}, {}] of a buffer of {}",
                                r.lo, r.hi, p.len
                            ));
                        }
                    }
                }
            }
            accs.truncate(depth);
            Ok(())
        }
    }
    let scope = Scope {
        k,
        tys: &tys,
        ranges: &ranges,
    };
    scope
        .block(&k.body, &mut vec![Kernel::PARALLEL], &mut Vec::new())
        .map_err(fail)
}

/// The operands of an expression, in order.
pub fn operands(e: &Expr) -> Vec<ExprId> {
    match *e {
        Expr::Var(_) | Expr::Index(_) | Expr::Const(_) | Expr::Acc(_) => vec![],
        Expr::IAdd(a, b) | Expr::Binary(_, a, b) => vec![a, b],
        Expr::IMul(a, _) | Expr::IDiv(a, _) | Expr::IMod(a, _) => vec![a],
        Expr::CheckedIndex { value, .. } => vec![value],
        Expr::IndexCast(a, _)
        | Expr::InRange { index: a, .. }
        | Expr::Unary(_, a)
        | Expr::Cast(a, _) => vec![a],
        Expr::Load { index, mask, .. } => std::iter::once(index).chain(mask).collect(),
        Expr::Where(c, a, b) => vec![c, a, b],
    }
}

// ---------------------------------------------------------------------------------------------------
// Printer: one stable, line-oriented text form, used for dumps and snapshots alike.

impl fmt::Display for Expr {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Expr::Var(v) => write!(f, "{v}"),
            Expr::Index(c) => write!(f, "{c}"),
            Expr::IAdd(a, b) => write!(f, "{a} + {b}"),
            Expr::IMul(a, c) => write!(f, "{a} * {c}"),
            Expr::IDiv(a, c) => write!(f, "{a} / {c}"),
            Expr::IMod(a, c) => write!(f, "{a} % {c}"),
            Expr::CheckedIndex { value, len, flag } => {
                write!(f, "checked {value} < {len} flag {flag}")
            }
            Expr::Const(s) => write!(f, "const {s}"),
            Expr::IndexCast(a, d) => write!(f, "index_cast {a} to {d}"),
            Expr::InRange { index, lo, hi } => write!(f, "in_range {lo} <= {index} < {hi}"),
            Expr::Load {
                buf,
                index,
                mask: None,
            } => write!(f, "load {buf}[{index}]"),
            Expr::Load {
                buf,
                index,
                mask: Some(m),
            } => write!(f, "load {buf}[{index}] if {m}"),
            Expr::Acc(a) => write!(f, "{a}"),
            Expr::Unary(op, a) => write!(f, "{op} {a}"),
            Expr::Binary(op, a, b) => write!(f, "{op} {a}, {b}"),
            Expr::Where(c, a, b) => write!(f, "where {c}, {a}, {b}"),
            Expr::Cast(a, d) => write!(f, "cast {a} to {d}"),
        }
    }
}

impl fmt::Display for Kernel {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let tys = self.types();
        write!(f, "kernel {}(", self.name)?;
        for (i, p) in self.params.iter().enumerate() {
            let sep = if i == 0 { "" } else { ", " };
            let out = if p.access == Access::Write {
                "out "
            } else {
                ""
            };
            write!(f, "{sep}b{i}: {out}{}[{}]", p.dtype, p.len)?;
        }
        writeln!(f, ")")?;
        writeln!(f, "parallel i0 in 0..{}:", self.extent)?;
        let mut printed = vec![false; self.exprs.len()];
        let mut out = String::new();
        print_block(self, &tys, &self.body, 1, &mut printed, &mut out);
        f.write_str(&out)
    }
}

fn print_expr(
    k: &Kernel,
    tys: &[Ty],
    id: ExprId,
    indent: usize,
    printed: &mut [bool],
    out: &mut String,
) {
    if printed[id.index()] {
        return;
    }
    let e = k.expr(id);
    for op in operands(e) {
        print_expr(k, tys, op, indent, printed, out);
    }
    printed[id.index()] = true;
    let ty = match tys[id.index()] {
        Ty::Index => "index".to_string(),
        Ty::Value(d) => d.to_string(),
    };
    let _ = writeln!(out, "{:indent$}{id} = {e} : {ty}", "", indent = indent * 2);
}

fn print_block(
    k: &Kernel,
    tys: &[Ty],
    stmts: &[Stmt],
    indent: usize,
    printed: &mut [bool],
    out: &mut String,
) {
    let pad = indent * 2;
    for s in stmts {
        match s {
            Stmt::Loop { var, extent, body } => {
                let _ = writeln!(out, "{:pad$}for {var} in 0..{extent}:", "");
                // Expressions first printed inside the loop are scoped to it.
                let mut inner = printed.to_vec();
                print_block(k, tys, body, indent + 1, &mut inner, out);
            }
            Stmt::DefAcc { acc, op, dtype } => {
                let _ = writeln!(out, "{:pad$}{acc} = {op}.identity : {dtype}", "");
            }
            Stmt::Accumulate { acc, value } => {
                print_expr(k, tys, *value, indent, printed, out);
                let _ = writeln!(out, "{:pad$}{acc} <- {value}", "");
            }
            Stmt::Store { buf, index, value } => {
                print_expr(k, tys, *index, indent, printed, out);
                print_expr(k, tys, *value, indent, printed, out);
                let _ = writeln!(out, "{:pad$}store {buf}[{index}] = {value}", "");
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// `out[i] = exp(a[i]) * b[i] + c[i]` over 8 elements.
    fn exp_mul_add() -> Kernel {
        let mut b = KernelBuilder::new();
        let (a, bb, c) = (
            b.param(DType::F32, 8, Access::Read),
            b.param(DType::F32, 8, Access::Read),
            b.param(DType::F32, 8, Access::Read),
        );
        let out = b.param(DType::F32, 8, Access::Write);
        let i = b.var(Kernel::PARALLEL);
        let (la, lb, lc) = (b.load(a, i), b.load(bb, i), b.load(c, i));
        let e = b.unary(UnaryOp::Exp, la);
        let m = b.binary(BinaryOp::Mul, e, lb);
        let s = b.binary(BinaryOp::Add, m, lc);
        b.finish(
            "E_exp_mul_add",
            8,
            vec![Stmt::Store {
                buf: out,
                index: i,
                value: s,
            }],
        )
    }

    #[test]
    fn prints_and_verifies() {
        let k = exp_mul_add();
        verify(&k).unwrap();
        let text = k.to_string();
        assert!(text.starts_with(
            "kernel E_exp_mul_add(b0: f32[8], b1: f32[8], b2: f32[8], b3: out f32[8])\n"
        ));
        assert!(text.contains("  e4 = exp e1 : f32\n"), "{text}");
        assert!(text.ends_with("  store b3[e0] = e6\n"), "{text}");
    }

    #[test]
    fn out_of_bounds_store_is_rejected() {
        let mut k = exp_mul_add();
        k.extent = 9;
        let err = verify(&k).unwrap_err();
        assert!(err.what.contains("[0, 8]"), "{err}");
    }

    #[test]
    fn type_errors_are_rejected() {
        let mut b = KernelBuilder::new();
        let a = b.param(DType::I32, 4, Access::Read);
        let out = b.param(DType::F32, 4, Access::Write);
        let i = b.var(Kernel::PARALLEL);
        let l = b.load(a, i);
        let e = b.unary(UnaryOp::Exp, l);
        let k = b.finish(
            "bad",
            4,
            vec![Stmt::Store {
                buf: out,
                index: i,
                value: e,
            }],
        );
        assert!(verify(&k).unwrap_err().what.contains("exp of i32"));
    }
}
