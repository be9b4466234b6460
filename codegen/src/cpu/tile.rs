//! Column reductions, interchanged. The loop nest
//!
//! ```text
//! for v (vectorized) { acc = id; for r in 0..m { acc <- f(v, r) }; out[v] = g(acc) }
//! ```
//!
//! walks memory down columns (stride = a row), which defeats caches and prefetchers. Per tile of up to
//! `TILE_LANES` consecutive `v`, this runs each statement of the body over the whole tile before the
//! next one, with the accumulators in a stack array of one element per lane; a reduction loop runs `r`
//! outermost and the lanes inside, so each `r` reads one contiguous stretch of a row:
//!
//! ```text
//! for tile {
//!   acc[0..T] = id
//!   for r in 0..m { for c in (0..T).step_by(w) { acc[c..c+w] <- f(tile + c.., r) } }
//!   for c in (0..T).step_by(w) { out[tile + c..] = g(acc[c..c+w]) }
//! }
//! ```
//!
//! Each lane still sees its own statements in order, and lanes are independent (the plan checked that
//! no two write one address), so the results are those of the original nest.

use super::lower::{mem, vector_layout};
use super::plan::TILE_LANES;
use super::translate::{AccForm, AccSlot, FunctionTranslator, VecCtx};
use crate::kernel::{AccId, LoopVar, Stmt};
use cranelift_codegen::ir::condcodes::IntCC;
use cranelift_codegen::ir::{InstBuilder, StackSlotData, StackSlotKind, Value, types};
use cranelift_frontend::Variable;
use indexmap::IndexMap;

impl FunctionTranslator<'_> {
    /// Whole tiles of `w`-lane groups while at least `w` iterations remain; leaves `counter` after the last.
    pub(super) fn translate_tiled(
        &mut self,
        var: LoopVar,
        counter: Variable,
        hi: Value,
        body: &[Stmt],
        w: u32,
    ) {
        // One stack array per accumulator defined in the body.
        let mut arrays = IndexMap::new();
        for s in body {
            if let Stmt::DefAcc { acc, dtype, .. } = s {
                let size = TILE_LANES * lane_bytes(*dtype);
                let slot = self.b.create_sized_stack_slot(StackSlotData::new(
                    StackSlotKind::ExplicitSlot,
                    size,
                    4,
                ));
                arrays.insert(*acc, slot);
            }
        }
        let tile_block = self.b.create_block();
        let exit = self.b.create_block();
        let go = self.enough_left(counter, hi, w);
        self.b.ins().brif(go, tile_block, &[], exit, &[]);
        self.b.switch_to_block(tile_block);
        self.push_scope();
        let base = self.b.use_var(counter);
        // This tile's width: as many whole groups of w as remain, at most TILE_LANES.
        let left = self.b.ins().isub(hi, base);
        let whole = self.b.ins().band_imm_s(left, -(w as i64));
        let cap = self.b.ins().iconst(types::I64, TILE_LANES as i64);
        let width = self.b.ins().smin(whole, cap);
        for s in body {
            match s {
                Stmt::DefAcc { acc, op, dtype } => {
                    self.accs[acc.index()] = Some(AccSlot {
                        op: *op,
                        dtype: *dtype,
                        form: AccForm::Tile(arrays[acc]),
                        vars: Vec::new(),
                    });
                    self.declared.insert(acc.index());
                    let (vty, per) =
                        vector_layout(*dtype).expect("tileable: accumulators have a vector layout");
                    let identity = self.scalar_const(op.identity(*dtype));
                    let identity = if *dtype == crate::DType::Bool {
                        self.b.ins().bmask(types::I32, identity)
                    } else {
                        identity
                    };
                    let init = self.b.ins().splat(vty, identity);
                    self.lanes_loop(var, base, width, w, |t| {
                        let addr = t.tile_addr(*acc);
                        for p in 0..w / per {
                            t.b.ins().store(mem(), init, addr, (p * 16) as i32);
                        }
                    });
                }
                Stmt::Loop { extent: 0, .. } => {} // never runs
                Stmt::Loop {
                    var: r,
                    extent,
                    body: inner,
                } => {
                    let one = std::slice::from_ref(s);
                    self.hoist(one);
                    self.scalar_loop(*r, *extent, |t| {
                        t.hoist(inner);
                        t.lanes_loop(var, base, width, w, |t| t.translate_block(inner));
                    });
                }
                other => {
                    self.hoist(std::slice::from_ref(other));
                    self.lanes_loop(var, base, width, w, |t| {
                        t.translate_block(std::slice::from_ref(other))
                    });
                }
            }
        }
        self.pop_scope();
        // Next tile.
        let next = self.b.ins().iadd(base, width);
        self.b.def_var(counter, next);
        let go = self.enough_left(counter, hi, w);
        self.b.ins().brif(go, tile_block, &[], exit, &[]);
        self.b.seal_block(tile_block);
        self.b.switch_to_block(exit);
        self.b.seal_block(exit);
        for acc in arrays.keys() {
            self.accs[acc.index()] = None;
        }
    }

    /// `counter + w <= hi`.
    fn enough_left(&mut self, counter: Variable, hi: Value, w: u32) -> Value {
        let i = self.b.use_var(counter);
        let next = self.b.ins().iadd_imm_s(i, w as i64);
        self.b.ins().icmp(IntCC::SignedLessThanOrEqual, next, hi)
    }

    /// `for c in (0..width).step_by(w)` with the vector context at lanes `base + c ..`; `width` is a
    /// positive multiple of `w`.
    fn lanes_loop(
        &mut self,
        var: LoopVar,
        base: Value,
        width: Value,
        w: u32,
        body: impl FnOnce(&mut Self),
    ) {
        let c_var = self.b.declare_var(types::I64);
        let zero = self.b.ins().iconst(types::I64, 0);
        self.b.def_var(c_var, zero);
        let block = self.b.create_block();
        let exit = self.b.create_block();
        self.b.ins().jump(block, &[]);
        self.b.switch_to_block(block);
        let c = self.b.use_var(c_var);
        let lane0 = self.b.ins().iadd(base, c);
        let outer = self.vec.take();
        self.vec = Some(VecCtx {
            var,
            lanes: w,
            base: lane0,
            shadows: IndexMap::new(),
            tile_offset: Some(c),
        });
        self.open_vars.insert(var.index());
        self.push_scope();
        body(self);
        self.pop_scope();
        self.open_vars.remove(var.index());
        self.vec = outer;
        let c = self.b.use_var(c_var);
        let next = self.b.ins().iadd_imm_s(c, w as i64);
        self.b.def_var(c_var, next);
        let more = self.b.ins().icmp(IntCC::SignedLessThan, next, width);
        self.b.ins().brif(more, block, &[], exit, &[]);
        self.b.seal_block(block);
        self.b.switch_to_block(exit);
        self.b.seal_block(exit);
    }

    /// `for r in 0..extent` (extent >= 1), scalar, outside any vector context.
    fn scalar_loop(&mut self, r: LoopVar, extent: u64, body: impl FnOnce(&mut Self)) {
        let counter = self.b.declare_var(types::I64);
        self.counters[r.index()] = Some(counter);
        let zero = self.b.ins().iconst(types::I64, 0);
        self.b.def_var(counter, zero);
        let block = self.b.create_block();
        let exit = self.b.create_block();
        self.b.ins().jump(block, &[]);
        self.b.switch_to_block(block);
        self.open_vars.insert(r.index());
        self.push_scope();
        body(self);
        self.pop_scope();
        self.open_vars.remove(r.index());
        let i = self.b.use_var(counter);
        let next = self.b.ins().iadd_imm_s(i, 1);
        self.b.def_var(counter, next);
        let end = self.b.ins().iconst(types::I64, extent as i64);
        let more = self.b.ins().icmp(IntCC::SignedLessThan, next, end);
        self.b.ins().brif(more, block, &[], exit, &[]);
        self.b.seal_block(block);
        self.b.switch_to_block(exit);
        self.b.seal_block(exit);
        self.counters[r.index()] = None;
    }

    /// The address of the current lanes' elements in an accumulator's tile array.
    pub(super) fn tile_addr(&mut self, acc: AccId) -> Value {
        let slot = self.accs[acc.index()].as_ref().expect("tile accumulator");
        let (AccForm::Tile(ss), size) = (slot.form, lane_bytes(slot.dtype)) else {
            unreachable!("not a tile accumulator")
        };
        let c = self
            .vec
            .as_ref()
            .and_then(|v| v.tile_offset)
            .expect("inside a tile");
        let ptr = self.target.frontend.pointer_type();
        let start = self.b.ins().stack_addr(ptr, ss, 0);
        let off = self.shl(c, size.trailing_zeros() as i64);
        self.b.ins().iadd(start, off)
    }

    /// Loads the current lanes of a tile accumulator as registers.
    pub(super) fn tile_load(&mut self, acc: AccId) -> Vec<Value> {
        let slot = self.accs[acc.index()].clone().expect("tile accumulator");
        let (vty, per) = vector_layout(slot.dtype).expect("vector layout");
        let w = self.vec.as_ref().map_or(per, |v| v.lanes);
        let addr = self.tile_addr(acc);
        (0..w / per)
            .map(|p| self.b.ins().load(vty, mem(), addr, (p * 16) as i32))
            .collect()
    }

    /// Stores registers into the current lanes of a tile accumulator.
    pub(super) fn tile_store(&mut self, acc: AccId, regs: &[Value]) {
        let addr = self.tile_addr(acc);
        for (p, &r) in regs.iter().enumerate() {
            self.b.ins().store(mem(), r, addr, (p * 16) as i32);
        }
    }
}

/// Bytes per lane of a dtype's vector registers (bools are 32-bit masks), as stored in a tile array.
fn lane_bytes(d: crate::DType) -> u32 {
    let (_, per) = vector_layout(d).expect("tileable: accumulators have a vector layout");
    16 / per
}
