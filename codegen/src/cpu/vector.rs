//! Values inside a vectorized loop, and the operations on them.
//!
//! In a loop running `w` lanes (iterations `v .. v+w` at once), an expression's value takes one of four
//! forms ([`Val`]): the same scalar in every lane; vector registers in the dtype's layout (`f32x4`,
//! `f64x2`, ..., bools as `i32x4` masks); one scalar per lane; or, for indices, an affine form
//! `base + lane * stride`. Affine indices with stride 1 become vector loads and stores; other indices are
//! split into lanes (a gather). Operations with a vector form run on registers; the others run lane by
//! lane on scalars, with the same lowering the scalar loop uses.

use super::lower::{scalar_type, vector_layout};
use super::translate::{AccForm, AccSlot, FunctionTranslator};
use crate::dtype::DType;
use crate::kernel::Ty;
use crate::ops::{BinaryOp, UnaryOp};
use cranelift_codegen::ir::condcodes::{FloatCC, IntCC};
use cranelift_codegen::ir::{
    ConstantData, Endianness, InstBuilder, MemFlagsData, Type, Value, types,
};

/// An expression's value in the code being built.
#[derive(Clone, Debug)]
pub(super) enum Val {
    /// One scalar, the same in every lane (an index is an i64; a bool an i8 holding 0/1).
    S(Value),
    /// Vector registers in the dtype's layout, lanes in order.
    P(Vec<Value>),
    /// One scalar per lane.
    L(Vec<Value>),
    /// An index whose value in lane `l` is `base + l * stride`.
    A(Value, i64),
}

impl FunctionTranslator<'_> {
    pub(super) fn width(&self) -> u32 {
        self.vec.as_ref().map_or(1, |c| c.lanes)
    }

    /// A value as one scalar per lane.
    pub(super) fn lanes(&mut self, v: &Val, ty: Ty) -> Vec<Value> {
        let w = self.width() as usize;
        match v {
            Val::S(x) => vec![*x; w],
            Val::L(xs) => xs.clone(),
            Val::A(base, s) => (0..w)
                .map(|l| {
                    if l == 0 {
                        *base
                    } else {
                        self.b.ins().iadd_imm_s(*base, (l as i64).wrapping_mul(*s))
                    }
                })
                .collect(),
            Val::P(regs) => {
                let d = match ty {
                    Ty::Value(d) => d,
                    Ty::Index => unreachable!("indices are never in registers"),
                };
                let (_, per) = vector_layout(d).expect("registers only for dtypes with a layout");
                let mut out = Vec::with_capacity(regs.len() * per as usize);
                for &r in regs {
                    for j in 0..per {
                        let x = self.b.ins().extractlane(r, j as u8);
                        out.push(if d == DType::Bool {
                            let x = self.b.ins().ireduce(types::I8, x);
                            self.b.ins().band_imm_u(x, 1)
                        } else {
                            x
                        });
                    }
                }
                out
            }
        }
    }

    /// A value as vector registers in `d`'s layout.
    pub(super) fn parts(&mut self, v: &Val, d: DType) -> Vec<Value> {
        let (vty, per) = vector_layout(d).expect("a dtype with a vector layout");
        let n = (self.width() / per) as usize;
        let lane = |t: &mut Self, x: Value| {
            if d == DType::Bool {
                t.b.ins().bmask(types::I32, x)
            } else {
                x
            }
        };
        match v {
            Val::P(r) => r.clone(),
            Val::S(x) => {
                let s = lane(self, *x);
                vec![self.b.ins().splat(vty, s); n]
            }
            Val::L(xs) => xs
                .chunks(per as usize)
                .map(|c| {
                    let first = lane(self, c[0]);
                    let mut r = self.b.ins().splat(vty, first);
                    for (j, &x) in c.iter().enumerate().skip(1) {
                        let x = lane(self, x);
                        r = self.b.ins().insertlane(r, x, j as u8);
                    }
                    r
                })
                .collect(),
            Val::A(..) => unreachable!("an index used as a value"),
        }
    }

    /// `a` and `b` as bytes, shuffled by `mask` (indices 0..16 pick from `a`, 16..32 from `b`), as `ty`.
    fn shuffle(&mut self, a: Value, b: Value, mask: [u8; 16], ty: Type) -> Value {
        let le = MemFlagsData::new().with_endianness(Endianness::Little);
        let a = self.b.ins().bitcast(types::I8X16, le, a);
        let b = self.b.ins().bitcast(types::I8X16, le, b);
        let imm = self
            .b
            .func
            .dfg
            .immediates
            .push(ConstantData::from(mask.to_vec()));
        let r = self.b.ins().shuffle(a, b, imm);
        self.b.ins().bitcast(ty, le, r)
    }

    /// Two 2-lane registers (64-bit lanes) → one 4-lane register of their low 32 bits.
    fn narrow_pair(&mut self, a: Value, b: Value, ty: Type) -> Value {
        self.shuffle(
            a,
            b,
            [0, 1, 2, 3, 8, 9, 10, 11, 16, 17, 18, 19, 24, 25, 26, 27],
            ty,
        )
    }

    /// An `i32x4` mask → two `i64x2` masks.
    fn widen_mask(&mut self, m: Value) -> [Value; 2] {
        [self.b.ins().swiden_low(m), self.b.ins().swiden_high(m)]
    }

    /// Lane masks from comparing 64-bit registers, two per four lanes → `i32x4` masks.
    fn narrow_masks(&mut self, regs: &[Value]) -> Vec<Value> {
        regs.chunks(2)
            .map(|c| self.narrow_pair(c[0], c[1], types::I32X4))
            .collect()
    }

    /// An `f32x4` → two `f64x2` (lanes 0-1, then 2-3).
    pub(super) fn promote_halves(&mut self, x: Value) -> [Value; 2] {
        let lo = self.b.ins().fvpromote_low(x);
        let high = self.shuffle(
            x,
            x,
            [8, 9, 10, 11, 12, 13, 14, 15, 8, 9, 10, 11, 12, 13, 14, 15],
            types::F32X4,
        );
        [lo, self.b.ins().fvpromote_low(high)]
    }

    /// Two `f64x2` → one `f32x4`, rounding each lane.
    pub(super) fn demote_concat(&mut self, lo: Value, hi: Value) -> Value {
        let a = self.b.ins().fvdemote(lo);
        let b = self.b.ins().fvdemote(hi);
        self.shuffle(
            a,
            b,
            [0, 1, 2, 3, 4, 5, 6, 7, 16, 17, 18, 19, 20, 21, 22, 23],
            types::F32X4,
        )
    }

    pub(super) fn unary_vector(&mut self, op: UnaryOp, d: DType, x: &Val) -> Val {
        if self.vector_native_unary(op, d) {
            let regs = self.parts(x, d);
            Val::P(
                regs.into_iter()
                    .map(|r| self.lower_unary(op, d, r))
                    .collect(),
            )
        } else {
            let lanes = self.lanes(x, Ty::Value(d));
            Val::L(
                lanes
                    .into_iter()
                    .map(|l| self.lower_unary(op, d, l))
                    .collect(),
            )
        }
    }

    pub(super) fn binary_vector(&mut self, op: BinaryOp, d: DType, a: &Val, b: &Val) -> Val {
        if self.vector_native_binary(op, d) {
            let (pa, pb) = (self.parts(a, d), self.parts(b, d));
            let r: Vec<Value> = pa
                .into_iter()
                .zip(pb)
                .map(|(x, y)| self.lower_binary(op, d, x, y))
                .collect();
            if op.is_comparison() && d.size_bytes() == 8 {
                Val::P(self.narrow_masks(&r))
            } else {
                Val::P(r)
            }
        } else {
            let (la, lb) = (self.lanes(a, Ty::Value(d)), self.lanes(b, Ty::Value(d)));
            Val::L(
                la.into_iter()
                    .zip(lb)
                    .map(|(x, y)| self.lower_binary(op, d, x, y))
                    .collect(),
            )
        }
    }

    pub(super) fn where_vector(&mut self, c: &Val, a: &Val, b: &Val, d: DType) -> Val {
        if vector_layout(d).is_some() {
            let mut masks = self.parts(c, DType::Bool);
            if d.size_bytes() == 8 {
                masks = masks.into_iter().flat_map(|m| self.widen_mask(m)).collect();
            }
            let (pa, pb) = (self.parts(a, d), self.parts(b, d));
            Val::P(
                masks
                    .into_iter()
                    .zip(pa.into_iter().zip(pb))
                    .map(|(m, (x, y))| self.sel(m, x, y))
                    .collect(),
            )
        } else {
            let cl = self.lanes(c, Ty::Value(DType::Bool));
            let (la, lb) = (self.lanes(a, Ty::Value(d)), self.lanes(b, Ty::Value(d)));
            Val::L(
                cl.into_iter()
                    .zip(la.into_iter().zip(lb))
                    .map(|(c, (x, y))| self.b.ins().select(c, x, y))
                    .collect(),
            )
        }
    }

    pub(super) fn cast_vector(&mut self, x: &Val, from: DType, to: DType) -> Val {
        use DType as D;
        if from == to {
            return x.clone();
        }
        let (Some((fty, _)), Some((tty, _))) = (vector_layout(from), vector_layout(to)) else {
            return self.cast_lanes(x, from, to);
        };
        let p = self.parts(x, from);
        let regs: Vec<Value> = match (from, to) {
            (_, D::Bool) => {
                let zero = if from.is_float() {
                    self.fk(fty, 0.0)
                } else {
                    self.ik(fty, 0)
                };
                let m: Vec<Value> = p
                    .into_iter()
                    .map(|r| {
                        if from.is_float() {
                            self.b.ins().fcmp(FloatCC::NotEqual, r, zero)
                        } else {
                            self.b.ins().icmp(IntCC::NotEqual, r, zero)
                        }
                    })
                    .collect();
                if from.size_bytes() == 8 {
                    self.narrow_masks(&m)
                } else {
                    m
                }
            }
            (D::Bool, _) => {
                let masks: Vec<Value> = if to.size_bytes() == 8 {
                    p.into_iter().flat_map(|m| self.widen_mask(m)).collect()
                } else {
                    p
                };
                let (one, zero) = if to.is_float() {
                    (self.fk(tty, 1.0), self.fk(tty, 0.0))
                } else {
                    (self.ik(tty, 1), self.ik(tty, 0))
                };
                masks.into_iter().map(|m| self.sel(m, one, zero)).collect()
            }
            (D::F32, D::I32) => p
                .into_iter()
                .map(|r| self.b.ins().fcvt_to_sint_sat(tty, r))
                .collect(),
            (D::I32, D::F32) => p
                .into_iter()
                .map(|r| self.b.ins().fcvt_from_sint(tty, r))
                .collect(),
            (D::I64, D::F64) => p
                .into_iter()
                .map(|r| self.b.ins().fcvt_from_sint(tty, r))
                .collect(),
            (D::F32, D::F64) => p.into_iter().flat_map(|r| self.promote_halves(r)).collect(),
            (D::F64, D::F32) => p
                .chunks(2)
                .map(|c| self.demote_concat(c[0], c[1]))
                .collect(),
            (D::I32, D::I64) => p
                .into_iter()
                .flat_map(|r| [self.b.ins().swiden_low(r), self.b.ins().swiden_high(r)])
                .collect(),
            (D::I64, D::I32) => p
                .chunks(2)
                .map(|c| self.narrow_pair(c[0], c[1], types::I32X4))
                .collect(),
            (D::I32, D::F64) => p
                .into_iter()
                .flat_map(|r| {
                    let halves = [self.b.ins().swiden_low(r), self.b.ins().swiden_high(r)];
                    halves.map(|h| self.b.ins().fcvt_from_sint(tty, h))
                })
                .collect(),
            _ => return self.cast_lanes(x, from, to),
        };
        Val::P(regs)
    }

    fn cast_lanes(&mut self, x: &Val, from: DType, to: DType) -> Val {
        let lanes = self.lanes(x, Ty::Value(from));
        Val::L(
            lanes
                .into_iter()
                .map(|l| self.lower_cast(l, from, to))
                .collect(),
        )
    }

    /// The combination of all lanes of a vector accumulator, as a scalar.
    pub(super) fn horizontal(&mut self, slot: &AccSlot) -> Value {
        let vals: Vec<Value> = slot.vars.iter().map(|v| self.b.use_var(*v)).collect();
        let op = slot.op.combine();
        let lanes = match slot.form {
            AccForm::Scalar => return vals[0],
            AccForm::Tile(_) => unreachable!("tile accumulators are never shadows"),
            AccForm::Lanes => vals,
            AccForm::Parts => {
                // Registers pairwise (a tree), then the lanes of the last one.
                let mut regs = vals;
                while regs.len() > 1 {
                    regs = regs
                        .chunks(2)
                        .map(|c| {
                            if c.len() == 2 {
                                self.lower_binary(op, slot.dtype, c[0], c[1])
                            } else {
                                c[0]
                            }
                        })
                        .collect();
                }
                self.lanes(&Val::P(regs), Ty::Value(slot.dtype))
            }
        };
        let mut acc = lanes[0];
        for &l in &lanes[1..] {
            acc = self.lower_binary(op, slot.dtype, acc, l);
        }
        debug_assert_eq!(self.ty(acc), scalar_type(slot.dtype));
        acc
    }
}
