//! The kernel translator: one kernel IR loop nest → one WGSL compute shader.
//!
//! The parallel loop `i0` is the launch unit (see the module docs of [`super`]); inner loops are WGSL
//! `for` loops over `i32`; accumulators are `var`s; every other expression is a `let` named after its id
//! (`e12`), emitted in the innermost block where it is first needed and hoisted out of every loop it does
//! not depend on (a loop's variable, the loops nested in it, and accumulators it defines or updates).
//! Constants are `let`s too: naga constant-folds operations on literals and rejects the fold if it
//! overflows or is not finite, while smelt's semantics ask for the run-time result.

use super::checked;
use super::library::{Func, Library};
use super::limits;
use super::scalar::{self, literal, wgsl_ty};
use super::{Caps, GpuElem, WORKGROUP_SIZE, launch_block, unsupported};
use crate::dtype::DType;
use crate::error::CodegenError;
use crate::kernel::{
    AccId, Access, BufId, Expr, ExprId, Interval, Kernel, Stmt, Ty, index_ranges, operands,
};
use crate::ops::ReduceOp;
use indexmap::IndexMap;
use std::collections::BTreeSet;
use std::fmt::Write as _;

/// The loop variables and accumulators an expression depends on.
#[derive(Clone, Default)]
struct Deps {
    vars: BTreeSet<u32>,
    accs: BTreeSet<u32>,
}

pub(super) struct Translator<'k> {
    k: &'k Kernel,
    tys: Vec<Ty>,
    ranges: Vec<Option<Interval>>,
    deps: Vec<Deps>,
    accs: IndexMap<AccId, (ReduceOp, DType)>,
    lib: Library,
    out: String,
    indent: usize,
    /// Whether each expression has a `let` visible at the current point.
    emitted: Vec<bool>,
    /// Bumped when an accumulator an expression reads changes, so a re-emitted `let` gets a fresh name.
    generation: Vec<u32>,
    flags: Vec<BufId>,
    /// Per expression: whether a checked index is among its operands (see [`checked`]).
    reaches_checked: Vec<bool>,
}

use limits::{I32_MAX, I32_MIN};

impl<'k> Translator<'k> {
    /// Checks that the kernel fits the GPU (dtypes in `caps`, 32-bit indices) and prepares the analyses.
    pub fn new(k: &'k Kernel, caps: &Caps) -> Result<Self, CodegenError> {
        let tys = k.types();
        let ranges = index_ranges(k);
        let mut accs = IndexMap::new();
        collect_accs(&k.body, &mut accs);
        let t = Translator {
            k,
            deps: Vec::new(),
            lib: Library::default(),
            out: String::new(),
            indent: 1,
            emitted: vec![false; k.exprs.len()],
            generation: vec![0; k.exprs.len()],
            flags: Vec::new(),
            reaches_checked: checked::reaches_checked(k),
            tys,
            ranges,
            accs,
        };
        limits::check(k, &t.tys, &t.ranges, &t.accs, caps)?;
        Ok(Translator {
            deps: t.dependencies(),
            ..t
        })
    }

    fn dependencies(&self) -> Vec<Deps> {
        let mut deps: Vec<Deps> = Vec::with_capacity(self.k.exprs.len());
        for e in &self.k.exprs {
            let mut d = Deps::default();
            match *e {
                Expr::Var(v) => {
                    d.vars.insert(v.0);
                }
                Expr::Acc(a) => {
                    d.accs.insert(a.0);
                }
                _ => {
                    for op in operands(e) {
                        d.vars.extend(&deps[op.index()].vars);
                        d.accs.extend(&deps[op.index()].accs);
                    }
                }
            }
            deps.push(d);
        }
        deps
    }

    /// The whole shader, and the flag buffers it writes.
    pub fn translate(mut self) -> Result<(String, Vec<BufId>), CodegenError> {
        let k = self.k;
        self.translate_block(&k.body)?;
        let mut src = String::new();
        let name: String = k
            .name
            .chars()
            .map(|c| if c.is_ascii_alphanumeric() { c } else { '_' })
            .collect();
        let _ = writeln!(
            src,
            "// smelt kernel {name}: {} parallel iterations, one per invocation",
            k.extent
        );
        src.push_str(&launch_block(k.params.len() as u32));
        for (i, p) in k.params.iter().enumerate() {
            let access = if p.access == Access::Write {
                "read_write"
            } else {
                "read"
            };
            let _ = writeln!(
                src,
                "@group(0) @binding({i}) var<storage, {access}> b{i}: array<{}>;",
                GpuElem::of(p.dtype).wgsl()
            );
        }
        src.push_str(&self.lib.text());
        let _ = write!(
            src,
            "@compute @workgroup_size({WORKGROUP_SIZE})
fn main(@builtin(global_invocation_id) gid: vec3<u32>) {{
    let unit = gid.y * launch.width + gid.x;
    if (unit >= u32(launch.end - launch.start)) {{
        return;
    }}
    let i0 = launch.start + i32(unit);
{}}}
",
            self.out
        );
        Ok((src, self.flags))
    }

    fn line(&mut self, text: &str) {
        let _ = writeln!(self.out, "{:w$}{text}", "", w = self.indent * 4);
    }

    fn translate_block(&mut self, stmts: &[Stmt]) -> Result<(), CodegenError> {
        let outer = self.emitted.clone();
        for s in stmts {
            match s {
                Stmt::Loop { var, extent, body } => self.translate_loop(var.0, *extent, body)?,
                Stmt::DefAcc { acc, op, dtype } => {
                    let init = literal(op.identity(*dtype));
                    self.line(&format!("var acc{}: {} = {init};", acc.0, wgsl_ty(*dtype)));
                }
                Stmt::Accumulate { acc, value } => {
                    self.emit(*value)?;
                    let (op, dtype) = self.accs[acc];
                    let a = format!("acc{}", acc.0);
                    let v = self.name(*value);
                    let combined = scalar::binary(&mut self.lib, op.combine(), dtype, &a, &v)
                        .map_err(|w| unsupported(&self.k.name, w))?;
                    self.line(&format!("{a} = {combined};"));
                    self.translate_flags(&[*value]);
                    self.invalidate(&BTreeSet::from([acc.0]));
                }
                Stmt::Store { buf, index, value } => {
                    self.emit(*index)?;
                    self.emit(*value)?;
                    let word =
                        scalar::to_storage(self.k.params[buf.index()].dtype, &self.name(*value));
                    let idx = self.name(*index);
                    self.line(&format!("b{}[{idx}] = {word};", buf.0));
                    self.translate_flags(&[*index, *value]);
                }
            }
        }
        self.emitted = outer;
        Ok(())
    }

    /// A sequential loop: hoists what does not depend on it, then the body in a WGSL `for`.
    fn translate_loop(&mut self, var: u32, extent: u64, body: &[Stmt]) -> Result<(), CodegenError> {
        let mut bound_vars = BTreeSet::from([var]);
        let mut bound_accs = BTreeSet::new();
        loop_scope(body, &mut bound_vars, &mut bound_accs);
        let mut reach = vec![false; self.k.exprs.len()];
        self.reachable(body, &mut reach);
        let hoisted: Vec<ExprId> = (0..reach.len())
            .filter(|&i| {
                let d = &self.deps[i];
                reach[i] && d.vars.is_disjoint(&bound_vars) && d.accs.is_disjoint(&bound_accs)
            })
            .map(|i| ExprId(i as u32))
            .collect();
        for e in hoisted {
            self.emit(e)?;
        }
        self.line(&format!(
            "for (var i{var}: i32 = 0i; i{var} < {extent}i; i{var}++) {{"
        ));
        self.indent += 1;
        self.translate_block(body)?;
        self.indent -= 1;
        self.line("}");
        // Accumulators updated in the loop have new values: what read them must be recomputed.
        let mut updated = BTreeSet::new();
        accumulated(body, &mut updated);
        self.invalidate(&updated);
        Ok(())
    }

    /// After a statement reading `roots`: set the flag of each out-of-range checked index the IR would
    /// have evaluated.
    fn translate_flags(&mut self, roots: &[ExprId]) {
        if !roots.iter().any(|r| self.reaches_checked[r.index()]) {
            return;
        }
        let demands = checked::demands(self.k, roots, &self.reaches_checked, |e| self.name(e));
        for (id, cond) in demands {
            let Expr::CheckedIndex { flag, .. } = *self.k.expr(id) else {
                continue;
            };
            let ok = format!("{}_ok", self.name(id));
            let test = if cond == "true" {
                format!("!{ok}")
            } else {
                format!("!{ok} && ({cond})")
            };
            self.line(&format!("if ({test}) {{ b{}[0] = 1i; }}", flag.0));
        }
    }

    fn reachable(&self, stmts: &[Stmt], reach: &mut [bool]) {
        fn mark(k: &Kernel, e: ExprId, reach: &mut [bool]) {
            let mut stack = vec![e];
            while let Some(e) = stack.pop() {
                if !std::mem::replace(&mut reach[e.index()], true) {
                    stack.extend(operands(k.expr(e)));
                }
            }
        }
        for s in stmts {
            match s {
                Stmt::Loop { body, .. } => self.reachable(body, reach),
                Stmt::DefAcc { .. } => {}
                Stmt::Accumulate { value, .. } => mark(self.k, *value, reach),
                Stmt::Store { index, value, .. } => {
                    mark(self.k, *index, reach);
                    mark(self.k, *value, reach);
                }
            }
        }
    }

    fn invalidate(&mut self, accs: &BTreeSet<u32>) {
        for i in 0..self.deps.len() {
            if self.emitted[i] && !self.deps[i].accs.is_disjoint(accs) {
                self.emitted[i] = false;
                self.generation[i] += 1;
            }
        }
    }

    fn name(&self, e: ExprId) -> String {
        name_of(self.k, &self.generation, e)
    }

    /// Emits `let`s for `e` and whatever it needs that is not visible yet, operands first.
    fn emit(&mut self, e: ExprId) -> Result<(), CodegenError> {
        let mut need = BTreeSet::new();
        let mut stack = vec![e];
        while let Some(e) = stack.pop() {
            let inline = matches!(self.k.expr(e), Expr::Var(_) | Expr::Acc(_));
            if !inline && !self.emitted[e.index()] && need.insert(e) {
                stack.extend(operands(self.k.expr(e)));
            }
        }
        // Arena order puts operands before their users.
        for e in need {
            self.emit_one(e)?;
            self.emitted[e.index()] = true;
        }
        Ok(())
    }

    fn emit_one(&mut self, id: ExprId) -> Result<(), CodegenError> {
        let k = self.k;
        let generation = &self.generation;
        let n = |e: ExprId| name_of(k, generation, e);
        let name = n(id);
        let text = match *k.expr(id) {
            Expr::Var(_) | Expr::Acc(_) => return Ok(()),
            Expr::Index(c) => format!("{c}i"),
            Expr::IAdd(a, b) => format!("{} + {}", n(a), n(b)),
            Expr::IMul(a, c) => format!("{} * {c}i", n(a)),
            Expr::IDiv(a, c) if self.non_negative(a) => format!("{} / {c}i", n(a)),
            Expr::IMod(a, c) if self.non_negative(a) => format!("{} % {c}i", n(a)),
            Expr::IDiv(a, c) => {
                self.lib
                    .call(Func::IndexDiv, DType::I32, &[&n(a), &format!("{c}i")])
            }
            Expr::IMod(a, c) => {
                self.lib
                    .call(Func::IndexMod, DType::I32, &[&n(a), &format!("{c}i")])
            }
            Expr::CheckedIndex { value, len, flag } => {
                let d = self.value_ty(value);
                let (v, s) = (n(value), scalar::suffix(d));
                let ok = format!("{name}_ok");
                let in_range = if d == DType::U8 {
                    format!("{v} < {len}u")
                } else {
                    format!("{v} >= 0{s} && {v} < {len}{s}")
                };
                self.line(&format!("let {ok} = {in_range};"));
                if !self.flags.contains(&flag) {
                    self.flags.push(flag);
                }
                let idx = if d == DType::I32 {
                    v
                } else {
                    format!("i32({v})")
                };
                format!("select(0i, {idx}, {ok})")
            }
            Expr::Const(s) => literal(s),
            Expr::IndexCast(a, d) => scalar::index_cast(d, &n(a)),
            Expr::InRange { index, lo, hi } => {
                // Indices are i32: bounds beyond it are always or never met.
                let (lo, hi) = (i128::from(lo), i128::from(hi));
                let i = n(index);
                let mut conds = Vec::new();
                if lo > I32_MIN {
                    conds.push(format!("{i} >= {lo}i"));
                }
                if hi <= I32_MAX {
                    conds.push(format!("{i} < {hi}i"));
                }
                if lo >= hi || lo > I32_MAX || hi <= I32_MIN {
                    "false".into()
                } else if conds.is_empty() {
                    "true".into()
                } else {
                    format!("({})", conds.join(" && "))
                }
            }
            Expr::Load { buf, index, mask } => {
                let d = k.params[buf.index()].dtype;
                match mask {
                    None => scalar::from_storage(d, &format!("b{}[{}]", buf.0, n(index))),
                    // Where the mask is false, read element 0 (always in bounds) and discard it.
                    Some(m) => {
                        let word = format!("b{}[select(0i, {}, {})]", buf.0, n(index), n(m));
                        let zero = literal(crate::Scalar::zero(d));
                        format!(
                            "select({zero}, {}, {})",
                            scalar::from_storage(d, &word),
                            n(m)
                        )
                    }
                }
            }
            Expr::Unary(op, a) => {
                let d = self.value_ty(a);
                scalar::unary(&mut self.lib, op, d, &n(a)).map_err(|w| unsupported(&k.name, w))?
            }
            Expr::Binary(op, a, b) => {
                let d = self.value_ty(a);
                scalar::binary(&mut self.lib, op, d, &n(a), &n(b))
                    .map_err(|w| unsupported(&k.name, w))?
            }
            Expr::Where(c, a, b) => format!("select({}, {}, {})", n(b), n(a), n(c)),
            Expr::Cast(a, d) => {
                let from = self.value_ty(a);
                scalar::cast(&mut self.lib, from, d, &n(a))
            }
        };
        self.line(&format!("let {name} = {text};"));
        Ok(())
    }

    fn value_ty(&self, e: ExprId) -> DType {
        match self.tys[e.index()] {
            Ty::Value(d) => d,
            Ty::Index => DType::I32,
        }
    }

    fn non_negative(&self, e: ExprId) -> bool {
        self.ranges[e.index()].is_some_and(|r| r.lo >= 0)
    }
}

/// How an expression is referred to: a loop variable, an accumulator, or its `let`.
fn name_of(k: &Kernel, generation: &[u32], e: ExprId) -> String {
    match *k.expr(e) {
        Expr::Var(v) => format!("i{}", v.0),
        Expr::Acc(a) => format!("acc{}", a.0),
        _ if generation[e.index()] == 0 => format!("e{}", e.0),
        _ => format!("e{}_{}", e.0, generation[e.index()]),
    }
}

fn collect_accs(stmts: &[Stmt], out: &mut IndexMap<AccId, (ReduceOp, DType)>) {
    for s in stmts {
        match s {
            Stmt::Loop { body, .. } => collect_accs(body, out),
            Stmt::DefAcc { acc, op, dtype } => {
                out.insert(*acc, (*op, *dtype));
            }
            _ => {}
        }
    }
}

/// The loop variables of the loops in `stmts` and the accumulators defined or updated there.
fn loop_scope(stmts: &[Stmt], vars: &mut BTreeSet<u32>, accs: &mut BTreeSet<u32>) {
    for s in stmts {
        match s {
            Stmt::Loop { var, body, .. } => {
                vars.insert(var.0);
                loop_scope(body, vars, accs);
            }
            Stmt::DefAcc { acc, .. } | Stmt::Accumulate { acc, .. } => {
                accs.insert(acc.0);
            }
            Stmt::Store { .. } => {}
        }
    }
}

/// The accumulators updated anywhere in `stmts`.
fn accumulated(stmts: &[Stmt], out: &mut BTreeSet<u32>) {
    for s in stmts {
        match s {
            Stmt::Loop { body, .. } => accumulated(body, out),
            Stmt::Accumulate { acc, .. } => {
                out.insert(acc.0);
            }
            _ => {}
        }
    }
}
