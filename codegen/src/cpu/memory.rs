//! Memory and indices: addresses, loads and stores (scalar, contiguous vector, lane by lane), masked and
//! checked accesses, and index arithmetic in every form of [`Val`].

use super::lower::{mem, scalar_type, vector_layout};
use super::translate::FunctionTranslator;
use super::vector::Val;
use crate::dtype::{DType, Scalar};
use crate::kernel::{BufId, ExprId, Ty};
use cranelift_codegen::ir::condcodes::IntCC;
use cranelift_codegen::ir::{ConstantData, InstBuilder, Value, types};

impl FunctionTranslator<'_> {
    /// The address of element `index` (an i64) of buffer `buf`.
    pub(super) fn addr(&mut self, buf: BufId, index: Value) -> Value {
        let size = self.k.params[buf.index()].dtype.size_bytes();
        let offset = if size == 1 {
            index
        } else {
            self.shl(index, size.trailing_zeros() as i64)
        };
        self.b.ins().iadd(self.bufs[buf.index()], offset)
    }

    /// `buf[index]` as a scalar; with a mask, reads index 0 where it is false (every loaded buffer has an
    /// element 0) and gives 0 there.
    pub(super) fn load_scalar(&mut self, buf: BufId, index: Value, mask: Option<Value>) -> Value {
        let d = self.k.params[buf.index()].dtype;
        let index = match mask {
            Some(m) => {
                let zero = self.b.ins().iconst(types::I64, 0);
                self.b.ins().select(m, index, zero)
            }
            None => index,
        };
        let addr = self.addr(buf, index);
        let v = self.b.ins().load(scalar_type(d), mem(), addr, 0);
        // A bool is 0 or 1 in memory; normalizing costs one instruction and guards against other bytes.
        let v = if d == DType::Bool {
            self.b.ins().icmp_imm_s(IntCC::NotEqual, v, 0)
        } else {
            v
        };
        match mask {
            Some(m) => {
                let zero = self.scalar_const(Scalar::zero(d));
                self.b.ins().select(m, v, zero)
            }
            None => v,
        }
    }

    pub(super) fn store_scalar(&mut self, buf: BufId, index: Value, v: Value) {
        let addr = self.addr(buf, index);
        self.b.ins().store(mem(), v, addr, 0);
    }

    /// A value of an integer dtype as an index into a buffer of `len`: itself when in range, else 0 and
    /// `flag[0] = 1` (a store only in that case).
    pub(super) fn checked_scalar(&mut self, v: Value, d: DType, len: u64, flag: BufId) -> Value {
        let v = match d {
            DType::I64 => v,
            DType::I32 => self.b.ins().sextend(types::I64, v),
            _ => self.b.ins().uextend(types::I64, v),
        };
        let ok =
            self.b
                .ins()
                .icmp_imm_u(IntCC::UnsignedLessThan, v, len.min(i64::MAX as u64) as i64);
        self.flag_unless(ok, flag);
        let zero = self.b.ins().iconst(types::I64, 0);
        self.b.ins().select(ok, v, zero)
    }

    /// Stores `1i32` into `flag[0]` unless `ok` (a scalar bool).
    pub(super) fn flag_unless(&mut self, ok: Value, flag: BufId) {
        let bad = self.b.create_block();
        let cont = self.b.create_block();
        self.b.set_cold_block(bad);
        self.b.ins().brif(ok, cont, &[], bad, &[]);
        self.b.switch_to_block(bad);
        self.b.seal_block(bad);
        let one = self.b.ins().iconst(types::I32, 1);
        self.b.ins().store(mem(), one, self.bufs[flag.index()], 0);
        self.b.ins().jump(cont, &[]);
        self.b.switch_to_block(cont);
        self.b.seal_block(cont);
    }

    /// Floor division of a scalar index by a positive constant.
    pub(super) fn index_div(&mut self, v: Value, c: i64, nonneg: bool) -> Value {
        if c == 1 {
            v
        } else if c.count_ones() == 1 {
            self.sshr(v, c.trailing_zeros() as i64)
        } else if nonneg {
            let c = self.b.ins().iconst(types::I64, c);
            self.b.ins().udiv(v, c)
        } else {
            let k = self.b.ins().iconst(types::I64, c);
            let q = self.b.ins().sdiv(v, k);
            let r = self.b.ins().srem(v, k);
            let neg = self.b.ins().icmp_imm_s(IntCC::SignedLessThan, r, 0);
            let neg = self.b.ins().uextend(types::I64, neg);
            self.b.ins().isub(q, neg)
        }
    }

    /// Floor modulus of a scalar index by a positive constant.
    pub(super) fn index_mod(&mut self, v: Value, c: i64, nonneg: bool) -> Value {
        if c == 1 {
            self.b.ins().iconst(types::I64, 0)
        } else if c.count_ones() == 1 {
            self.b.ins().band_imm_u(v, c - 1)
        } else if nonneg {
            let c = self.b.ins().iconst(types::I64, c);
            self.b.ins().urem(v, c)
        } else {
            let k = self.b.ins().iconst(types::I64, c);
            let r = self.b.ins().srem(v, k);
            let neg = self.b.ins().icmp_imm_s(IntCC::SignedLessThan, r, 0);
            let plus = self.b.ins().iadd(r, k);
            self.b.ins().select(neg, plus, r)
        }
    }

    /// A scalar index converted to a value of `to` (integers wrap, floats round).
    pub(super) fn cast_index(&mut self, i: Value, to: DType) -> Value {
        self.lower_cast(i, DType::I64, to)
    }

    pub(super) fn index_add(&mut self, x: Val, y: Val) -> Val {
        match (&x, &y) {
            (Val::S(a), Val::S(b)) => Val::S(self.b.ins().iadd(*a, *b)),
            (Val::A(a, s), Val::S(b)) | (Val::S(b), Val::A(a, s)) => {
                Val::A(self.b.ins().iadd(*a, *b), *s)
            }
            (Val::A(a, s), Val::A(b, t)) if s.checked_add(*t).is_some() => {
                Val::A(self.b.ins().iadd(*a, *b), s + t)
            }
            _ => {
                let (lx, ly) = (self.lanes(&x, Ty::Index), self.lanes(&y, Ty::Index));
                Val::L(
                    lx.into_iter()
                        .zip(ly)
                        .map(|(a, b)| self.b.ins().iadd(a, b))
                        .collect(),
                )
            }
        }
    }

    pub(super) fn index_mul(&mut self, x: Val, c: i64) -> Val {
        match x {
            Val::S(a) => Val::S(self.b.ins().imul_imm_s(a, c)),
            Val::A(a, s) if s.checked_mul(c).is_some() => {
                Val::A(self.b.ins().imul_imm_s(a, c), s * c)
            }
            x => {
                let lanes = self.lanes(&x, Ty::Index);
                Val::L(
                    lanes
                        .into_iter()
                        .map(|l| self.b.ins().imul_imm_s(l, c))
                        .collect(),
                )
            }
        }
    }

    /// A scalar index function applied to an index in any form.
    pub(super) fn index_map(&mut self, x: Val, f: impl Fn(&mut Self, Value) -> Value) -> Val {
        match x {
            Val::S(a) | Val::A(a, 0) => Val::S(f(self, a)),
            x => {
                let lanes = self.lanes(&x, Ty::Index);
                Val::L(lanes.into_iter().map(|l| f(self, l)).collect())
            }
        }
    }

    /// Checked indices lane by lane; one branch for all lanes to set the flag.
    pub(super) fn checked_vector(&mut self, x: &Val, d: DType, len: u64, flag: BufId) -> Val {
        let lanes = self.lanes(x, Ty::Value(d));
        let mut all = None;
        let mut out = Vec::with_capacity(lanes.len());
        for v in lanes {
            let v = match d {
                DType::I64 => v,
                DType::I32 => self.b.ins().sextend(types::I64, v),
                _ => self.b.ins().uextend(types::I64, v),
            };
            let ok = self.b.ins().icmp_imm_u(
                IntCC::UnsignedLessThan,
                v,
                len.min(i64::MAX as u64) as i64,
            );
            let zero = self.b.ins().iconst(types::I64, 0);
            out.push(self.b.ins().select(ok, v, zero));
            all = Some(match all {
                None => ok,
                Some(a) => self.b.ins().band(a, ok),
            });
        }
        self.flag_unless(all.expect("at least one lane"), flag);
        Val::L(out)
    }

    /// Whether an index expression's values all fit in an i32.
    fn fits_i32(&self, id: ExprId) -> bool {
        self.plan.ranges[id.index()]
            .is_some_and(|r| r.lo >= i32::MIN as i128 && r.hi <= i32::MAX as i128)
    }

    /// An affine index as `i32x4` registers (lane offsets wrap; the values fit).
    fn affine_i32(&mut self, base: Value, s: i64) -> Vec<Value> {
        let n = self.width() / 4;
        let offsets: Vec<u8> = (0..4)
            .flat_map(|l| ((l as i64).wrapping_mul(s) as i32).to_le_bytes())
            .collect();
        let k = self
            .b
            .func
            .dfg
            .constants
            .insert(ConstantData::from(offsets));
        let offsets = self.b.ins().vconst(types::I32X4, k);
        (0..n)
            .map(|p| {
                let b = self
                    .b
                    .ins()
                    .iadd_imm_s(base, (4 * p as i64).wrapping_mul(s));
                let b = self.b.ins().ireduce(types::I32, b);
                let b = self.b.ins().splat(types::I32X4, b);
                self.b.ins().iadd(b, offsets)
            })
            .collect()
    }

    pub(super) fn index_cast_vector(&mut self, x: &Val, d: DType, id: ExprId) -> Val {
        if let Val::A(base, s) = *x {
            if matches!(d, DType::I32 | DType::F32) && self.fits_i32(id) {
                let regs = self.affine_i32(base, s);
                return Val::P(if d == DType::F32 {
                    regs.into_iter()
                        .map(|r| self.b.ins().fcvt_from_sint(types::F32X4, r))
                        .collect()
                } else {
                    regs
                });
            }
            if matches!(d, DType::I64 | DType::F64) {
                let offsets: Vec<u8> = [0i64, s].iter().flat_map(|v| v.to_le_bytes()).collect();
                let k = self
                    .b
                    .func
                    .dfg
                    .constants
                    .insert(ConstantData::from(offsets));
                let offsets = self.b.ins().vconst(types::I64X2, k);
                let regs = (0..self.width() / 2).map(|p| {
                    let b = self
                        .b
                        .ins()
                        .iadd_imm_s(base, (2 * p as i64).wrapping_mul(s));
                    let b = self.b.ins().splat(types::I64X2, b);
                    let r = self.b.ins().iadd(b, offsets);
                    if d == DType::F64 {
                        self.b.ins().fcvt_from_sint(types::F64X2, r)
                    } else {
                        r
                    }
                });
                return Val::P(regs.collect());
            }
        }
        let lanes = self.lanes(x, Ty::Index);
        Val::L(lanes.into_iter().map(|l| self.cast_index(l, d)).collect())
    }

    pub(super) fn in_range_vector(&mut self, x: &Val, lo: i64, hi: i64, id: ExprId) -> Val {
        let small = |v: i64| v >= i32::MIN as i64 && v <= i32::MAX as i64;
        if let Val::A(base, s) = *x
            && self.fits_i32(id)
            && small(lo)
            && small(hi)
        {
            let regs = self.affine_i32(base, s);
            let (l, h) = (self.ik(types::I32X4, lo), self.ik(types::I32X4, hi));
            return Val::P(
                regs.into_iter()
                    .map(|r| {
                        let ge = self.b.ins().icmp(IntCC::SignedGreaterThanOrEqual, r, l);
                        let lt = self.b.ins().icmp(IntCC::SignedLessThan, r, h);
                        self.b.ins().band(ge, lt)
                    })
                    .collect(),
            );
        }
        let lanes = self.lanes(x, Ty::Index);
        Val::L(
            lanes
                .into_iter()
                .map(|v| {
                    let ge = self
                        .b
                        .ins()
                        .icmp_imm_s(IntCC::SignedGreaterThanOrEqual, v, lo);
                    let lt = self.b.ins().icmp_imm_s(IntCC::SignedLessThan, v, hi);
                    self.b.ins().band(ge, lt)
                })
                .collect(),
        )
    }

    pub(super) fn load_vector(&mut self, buf: BufId, index: &Val, mask: Option<&Val>) -> Val {
        let d = self.k.params[buf.index()].dtype;
        match (index, mask, vector_layout(d)) {
            (Val::A(base, 1), None, Some((vty, per))) if d != DType::Bool => {
                let n = self.width() / per;
                // One address, the registers at immediate offsets from it (folded into the loads).
                let addr = self.addr(buf, *base);
                let step = (per as usize * d.size_bytes()) as i32;
                Val::P(
                    (0..n)
                        .map(|p| self.b.ins().load(vty, mem(), addr, p as i32 * step))
                        .collect(),
                )
            }
            (Val::A(base, 0), None, _) => Val::S(self.load_scalar(buf, *base, None)),
            _ => {
                let idx = self.lanes(index, Ty::Index);
                let masks = mask.map(|m| self.lanes(m, Ty::Value(DType::Bool)));
                Val::L(
                    idx.into_iter()
                        .enumerate()
                        .map(|(l, i)| self.load_scalar(buf, i, masks.as_ref().map(|m| m[l])))
                        .collect(),
                )
            }
        }
    }

    pub(super) fn store_vector(&mut self, buf: BufId, index: &Val, v: &Val) {
        let d = self.k.params[buf.index()].dtype;
        match (index, vector_layout(d)) {
            (Val::A(base, 1), Some((_, per))) if d != DType::Bool => {
                let regs = self.parts(v, d);
                let addr = self.addr(buf, *base);
                let step = (per as usize * d.size_bytes()) as i32;
                for (p, r) in regs.into_iter().enumerate() {
                    self.b.ins().store(mem(), r, addr, p as i32 * step);
                }
            }
            _ => {
                // Lane by lane, in lane order (the last lane's write to an address wins, as in the loop).
                let idx = self.lanes(index, Ty::Index);
                let vals = self.lanes(v, Ty::Value(d));
                for (i, x) in idx.into_iter().zip(vals) {
                    self.store_scalar(buf, i, x);
                }
            }
        }
    }
}
