//! Loops: the scalar loop and the vectorized passes over one loop's iterations.
//!
//! A vectorized loop runs `lanes` iterations at a time while that many remain, then 4 at a time, then
//! one at a time; each pass continues from the counter the previous one left. With a static extent the
//! trip counts are known, so passes that would not run are not emitted and guards are dropped. Each pass
//! has a guard, a body block that branches back to itself (the latch increments the counter), and an
//! exit block; accumulators of the enclosing scope get per-lane partial results during a vector pass,
//! folded in after it.

use super::translate::{Bounds, FunctionTranslator, VecCtx};
use crate::kernel::{AccId, LoopVar, Stmt};
use cranelift_codegen::ir::condcodes::IntCC;
use cranelift_codegen::ir::{InstBuilder, Value, types};
use cranelift_frontend::Variable;
use indexmap::IndexMap;

impl FunctionTranslator<'_> {
    /// `for var in bounds { body }`: the vector passes the plan chose (if any, and not already inside a
    /// vectorized loop), then the scalar pass.
    pub(super) fn translate_loop(&mut self, var: LoopVar, bounds: Bounds, body: &[Stmt]) {
        let counter = self.b.declare_var(types::I64);
        self.counters[var.index()] = Some(counter);
        let (lo, hi, mut known) = match bounds {
            Bounds::Static(n) => {
                let (z, n_v) = (
                    self.b.ins().iconst(types::I64, 0),
                    self.b.ins().iconst(types::I64, n as i64),
                );
                (z, n_v, Some((0u64, n)))
            }
            Bounds::Dynamic(s, e) => (s, e, None),
        };
        self.b.def_var(counter, lo);
        if self.vec.is_none()
            && let Some(vl) = self.plan.vloops.get(&var).cloned()
        {
            let mut widths: &[u32] = if vl.lanes > 4 { &[vl.lanes, 4] } else { &[4] };
            if vl.tile && known.is_none_or(|(_, n)| n >= vl.lanes as u64) {
                self.translate_tiled(var, counter, hi, body, vl.lanes);
                known = None;
                widths = &[4];
            }
            for &w in widths {
                self.translate_pass(var, counter, hi, body, w, &vl.shadows, &mut known);
            }
        }
        self.translate_pass(var, counter, hi, body, 1, &[], &mut known);
        self.counters[var.index()] = None;
    }

    /// One pass over the remaining iterations, `w` lanes at a time (`w == 1`: scalar).
    #[allow(clippy::too_many_arguments)]
    fn translate_pass(
        &mut self,
        var: LoopVar,
        counter: Variable,
        hi: Value,
        body: &[Stmt],
        w: u32,
        shadows: &[AccId],
        known: &mut Option<(u64, u64)>,
    ) {
        // Iterations of this pass when the extent is static (then no guard is needed).
        let trips = known.map(|(done, n)| (n - done) / w as u64);
        if trips == Some(0) {
            return;
        }
        let body_block = self.b.create_block();
        let exit = self.b.create_block();
        // Accumulators of the enclosing scope get per-lane partial results, starting at the identity.
        let mut shadow_slots = IndexMap::new();
        for &a in shadows {
            let slot = self.accs[a.index()]
                .clone()
                .expect("shadowed accumulator is defined");
            shadow_slots.insert(a, self.new_acc(slot.op, slot.dtype, w));
        }
        if trips.is_none() {
            let i = self.b.use_var(counter);
            let next = self.b.ins().iadd_imm_s(i, w as i64);
            let go = self.b.ins().icmp(IntCC::SignedLessThanOrEqual, next, hi);
            self.b.ins().brif(go, body_block, &[], exit, &[]);
        } else {
            self.b.ins().jump(body_block, &[]);
        }
        self.b.switch_to_block(body_block);
        let base = self.b.use_var(counter);
        if w > 1 {
            self.vec = Some(VecCtx {
                var,
                lanes: w,
                base,
                shadows: shadow_slots,
                tile_offset: None,
            });
        }
        // A scalar loop inside a vector loop's body keeps that loop's vector context.
        self.open_vars.insert(var.index());
        self.push_scope();
        self.translate_block(body);
        self.pop_scope();
        self.open_vars.remove(var.index());
        let ctx = if w > 1 { self.vec.take() } else { None };
        // Latch.
        let i = self.b.use_var(counter);
        let next = self.b.ins().iadd_imm_s(i, w as i64);
        self.b.def_var(counter, next);
        if trips == Some(1) {
            self.b.ins().jump(exit, &[]);
        } else if trips.is_some() {
            let end = self.b.ins().iconst(
                types::I64,
                (known.unwrap().0 + trips.unwrap() * w as u64) as i64,
            );
            let go = self.b.ins().icmp(IntCC::SignedLessThan, next, end);
            self.b.ins().brif(go, body_block, &[], exit, &[]);
        } else {
            let after = self.b.ins().iadd_imm_s(next, w as i64);
            let go = self.b.ins().icmp(IntCC::SignedLessThanOrEqual, after, hi);
            self.b.ins().brif(go, body_block, &[], exit, &[]);
        }
        self.b.seal_block(body_block);
        self.b.switch_to_block(exit);
        self.b.seal_block(exit);
        if let (Some((done, n)), Some(t)) = (*known, trips) {
            *known = Some((done + t * w as u64, n));
        }
        // Fold the partial results into the accumulators.
        if let Some(ctx) = ctx {
            for (a, slot) in ctx.shadows {
                let part = self.horizontal(&slot);
                let target = self.accs[a.index()].clone().expect("defined");
                let old = self.b.use_var(target.vars[0]);
                let new = self.lower_binary(target.op.combine(), target.dtype, old, part);
                self.b.def_var(target.vars[0], new);
            }
        }
    }
}
