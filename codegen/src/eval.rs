//! The reference evaluator of the kernel IR: naive, slow and obviously correct. Every backend is tested
//! against it.
//!
//! It runs the parallel loop's iterations in order and, at every statement, evaluates the expressions the
//! statement needs from scratch, with the current loop variables and accumulators. Nothing is hoisted,
//! vectorized or reassociated, so a sum is the sequential sum in the accumulator's dtype.
//!
//! # Semantics (the specification the backends implement)
//! - Arithmetic happens in the operands' dtype: `f32` ops round to `f32`, integers wrap.
//! - Transcendental functions are the platform's libm (Rust's `std`, and libm's `erf`/`erff`).
//! - Integer `div` is floor division and `rem` the floor modulus (sign of the divisor); `x / 0 == 0` and
//!   `x % 0 == 0`. `i32::MIN / -1` wraps to `i32::MIN`.
//! - Float `rem` is `x - y * floor(x / y)`, each step rounded (no fused multiply-add).
//! - Integer `pow` is repeated (wrapping) multiplication; a negative exponent gives 0, except for base 1
//!   (gives 1) and base -1 (gives ±1 by the exponent's parity).
//! - `max`/`min` of floats: NaN if either operand is NaN; `max(-0, +0) = +0`, `min(-0, +0) = -0`.
//! - `sign` of a float: NaN stays NaN, ±0 gives +0. `round` is half to even.
//! - Bool arithmetic is integer arithmetic on 0/1 cast back to bool (nonzero is true): `add`/`max` are or,
//!   `mul`/`min`/`div` are and, `sub` is xor, `rem` is false, `pow(a, b)` is `a | !b`, and
//!   `neg`/`abs`/`sign` leave a bool unchanged. Comparisons order `false < true`.
//! - Casts: floats to integers truncate toward zero and saturate (NaN gives 0); integers to integers wrap
//!   (u8 is zero-extended, bool is 0/1); anything nonzero (NaN included) is `true`.
//! - A masked load reads nothing where its mask is false and gives 0 there. A checked index out of range
//!   gives 0 and stores `1i32` into its flag buffer.
//! - Every expression a statement uses is evaluated each time the statement runs: `where` evaluates both
//!   sides and a masked load its index, so a checked index flags even where its value is not used.

use crate::dtype::{DType, Scalar};
use crate::kernel::{self, AccId, ExprId, Kernel, LoopVar, Stmt};
use crate::ops::ReduceOp;
use Scalar as S;

mod semantics;

use semantics::int_value;
pub use semantics::{binary, cast, libm_erf, libm_erff, unary};

/// A host buffer of one dtype.
#[derive(Clone, Debug, PartialEq)]
pub enum HostData {
    Bool(Vec<bool>),
    U8(Vec<u8>),
    I32(Vec<i32>),
    I64(Vec<i64>),
    F32(Vec<f32>),
    F64(Vec<f64>),
}

impl HostData {
    /// `len` zeros of `dtype`.
    pub fn zeros(dtype: DType, len: usize) -> HostData {
        match dtype {
            DType::Bool => HostData::Bool(vec![false; len]),
            DType::U8 => HostData::U8(vec![0; len]),
            DType::I32 => HostData::I32(vec![0; len]),
            DType::I64 => HostData::I64(vec![0; len]),
            DType::F32 => HostData::F32(vec![0.0; len]),
            DType::F64 => HostData::F64(vec![0.0; len]),
        }
    }

    pub fn dtype(&self) -> DType {
        match self {
            HostData::Bool(_) => DType::Bool,
            HostData::U8(_) => DType::U8,
            HostData::I32(_) => DType::I32,
            HostData::I64(_) => DType::I64,
            HostData::F32(_) => DType::F32,
            HostData::F64(_) => DType::F64,
        }
    }

    pub fn len(&self) -> usize {
        match self {
            HostData::Bool(v) => v.len(),
            HostData::U8(v) => v.len(),
            HostData::I32(v) => v.len(),
            HostData::I64(v) => v.len(),
            HostData::F32(v) => v.len(),
            HostData::F64(v) => v.len(),
        }
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Element `i` as a scalar.
    pub fn get(&self, i: usize) -> Scalar {
        match self {
            HostData::Bool(v) => S::Bool(v[i]),
            HostData::U8(v) => S::U8(v[i]),
            HostData::I32(v) => S::I32(v[i]),
            HostData::I64(v) => S::I64(v[i]),
            HostData::F32(v) => S::F32(v[i]),
            HostData::F64(v) => S::F64(v[i]),
        }
    }

    /// Sets element `i`; the scalar must have the buffer's dtype.
    pub fn set(&mut self, i: usize, s: Scalar) {
        match (self, s) {
            (HostData::Bool(v), S::Bool(x)) => v[i] = x,
            (HostData::U8(v), S::U8(x)) => v[i] = x,
            (HostData::I32(v), S::I32(x)) => v[i] = x,
            (HostData::I64(v), S::I64(x)) => v[i] = x,
            (HostData::F32(v), S::F32(x)) => v[i] = x,
            (HostData::F64(v), S::F64(x)) => v[i] = x,
            (buf, s) => panic!("storing a {} into a {} buffer", s.dtype(), buf.dtype()),
        }
    }

    /// The base pointer of the elements (bool is one byte holding 0 or 1, as kernels expect).
    pub fn as_mut_ptr(&mut self) -> *mut u8 {
        match self {
            HostData::Bool(v) => v.as_mut_ptr().cast(),
            HostData::U8(v) => v.as_mut_ptr(),
            HostData::I32(v) => v.as_mut_ptr().cast(),
            HostData::I64(v) => v.as_mut_ptr().cast(),
            HostData::F32(v) => v.as_mut_ptr().cast(),
            HostData::F64(v) => v.as_mut_ptr().cast(),
        }
    }
}

/// Checks that `bufs` match the kernel's parameters (count, dtype, length).
pub fn check_buffers(kernel: &Kernel, bufs: &[HostData]) -> Result<(), String> {
    if bufs.len() != kernel.params.len() {
        return Err(format!(
            "kernel `{}` takes {} buffers, got {}",
            kernel.name,
            kernel.params.len(),
            bufs.len()
        ));
    }
    for (i, (p, b)) in kernel.params.iter().zip(bufs).enumerate() {
        if p.dtype != b.dtype() || p.len != b.len() as u64 {
            return Err(format!(
                "kernel `{}`: b{i} is {}[{}], got {}[{}]",
                kernel.name,
                p.dtype,
                p.len,
                b.dtype(),
                b.len()
            ));
        }
    }
    Ok(())
}

/// Runs the whole kernel (iterations `0..extent`) on `bufs`.
pub fn eval(kernel: &Kernel, bufs: &mut [HostData]) -> Result<(), String> {
    eval_range(kernel, bufs, 0, kernel.extent)
}

/// Runs parallel-loop iterations `start..end` of the kernel on `bufs`.
pub fn eval_range(
    kernel: &Kernel,
    bufs: &mut [HostData],
    start: u64,
    end: u64,
) -> Result<(), String> {
    kernel::verify(kernel).map_err(|e| e.to_string())?;
    check_buffers(kernel, bufs)?;
    if start > end || end > kernel.extent {
        return Err(format!(
            "range {start}..{end} is not within 0..{}",
            kernel.extent
        ));
    }
    let mut m = Machine {
        k: kernel,
        bufs,
        vars: vec![0; kernel.loop_count() as usize],
        accs: vec![None; kernel.acc_count() as usize],
        vals: vec![None; kernel.exprs.len()],
    };
    for i in start..end {
        m.vars[0] = i as i64;
        m.block(&kernel.body);
    }
    Ok(())
}

/// An evaluated expression: an index or a value.
#[derive(Clone, Copy, Debug)]
enum Val {
    Index(i64),
    Value(Scalar),
}

struct Machine<'a> {
    k: &'a Kernel,
    bufs: &'a mut [HostData],
    vars: Vec<i64>,
    accs: Vec<Option<(ReduceOp, Scalar)>>,
    /// Scratch for one statement's evaluation.
    vals: Vec<Option<Val>>,
}

impl Machine<'_> {
    fn block(&mut self, stmts: &[Stmt]) {
        for s in stmts {
            match s {
                Stmt::Loop { var, extent, body } => {
                    for i in 0..*extent {
                        self.vars[var.index()] = i as i64;
                        self.block(body);
                    }
                }
                Stmt::DefAcc { acc, op, dtype } => {
                    self.accs[acc.index()] = Some((*op, op.identity(*dtype)))
                }
                Stmt::Accumulate { acc, value } => {
                    let v = self.value(*value);
                    let (op, old) = self.accs[acc.index()].expect("verified: accumulator defined");
                    self.accs[acc.index()] = Some((op, binary(op.combine(), old, v)));
                }
                Stmt::Store { buf, index, value } => {
                    let i = self.index(*index);
                    let v = self.value(*value);
                    self.bufs[buf.index()].set(i as usize, v);
                }
            }
        }
    }

    fn value(&mut self, id: ExprId) -> Scalar {
        self.vals.iter_mut().for_each(|v| *v = None);
        match self.eval(id) {
            Val::Value(s) => s,
            Val::Index(_) => unreachable!("verified: {id} is a value"),
        }
    }

    fn index(&mut self, id: ExprId) -> i64 {
        self.vals.iter_mut().for_each(|v| *v = None);
        match self.eval(id) {
            Val::Index(i) => i,
            Val::Value(_) => unreachable!("verified: {id} is an index"),
        }
    }

    /// Evaluates `id` with the current variables and accumulators (memoized within one statement).
    fn eval(&mut self, id: ExprId) -> Val {
        if let Some(v) = self.vals[id.index()] {
            return v;
        }
        let v = self.eval_uncached(id);
        self.vals[id.index()] = Some(v);
        v
    }

    fn idx(&mut self, id: ExprId) -> i64 {
        match self.eval(id) {
            Val::Index(i) => i,
            Val::Value(_) => unreachable!("verified: {id} is an index"),
        }
    }

    fn val(&mut self, id: ExprId) -> Scalar {
        match self.eval(id) {
            Val::Value(s) => s,
            Val::Index(_) => unreachable!("verified: {id} is a value"),
        }
    }

    fn eval_uncached(&mut self, id: ExprId) -> Val {
        use kernel::Expr as E;
        match *self.k.expr(id) {
            E::Var(LoopVar(v)) => Val::Index(self.vars[v as usize]),
            E::Index(c) => Val::Index(c),
            E::IAdd(a, b) => Val::Index(self.idx(a).wrapping_add(self.idx(b))),
            E::IMul(a, c) => Val::Index(self.idx(a).wrapping_mul(c)),
            E::IDiv(a, c) => Val::Index(self.idx(a).div_euclid(c)),
            E::IMod(a, c) => Val::Index(self.idx(a).rem_euclid(c)),
            E::CheckedIndex { value, len, flag } => {
                let v = int_value(self.val(value));
                if v >= 0 && (v as u64) < len {
                    Val::Index(v)
                } else {
                    self.bufs[flag.index()].set(0, S::I32(1));
                    Val::Index(0)
                }
            }
            E::Const(s) => Val::Value(s),
            E::IndexCast(a, d) => Val::Value(cast(S::I64(self.idx(a)), d)),
            E::InRange { index, lo, hi } => {
                let i = self.idx(index);
                Val::Value(S::Bool(lo <= i && i < hi))
            }
            E::Load { buf, index, mask } => {
                // The index is evaluated even where the mask is false (a checked index in it still flags).
                let i = self.idx(index);
                let on = match mask {
                    Some(m) => matches!(self.val(m), S::Bool(true)),
                    None => true,
                };
                if on {
                    Val::Value(self.bufs[buf.index()].get(i as usize))
                } else {
                    Val::Value(Scalar::zero(self.k.params[buf.index()].dtype))
                }
            }
            E::Acc(AccId(a)) => Val::Value(
                self.accs[a as usize]
                    .expect("verified: accumulator defined")
                    .1,
            ),
            E::Unary(op, a) => Val::Value(unary(op, self.val(a))),
            E::Binary(op, a, b) => {
                let (x, y) = (self.val(a), self.val(b));
                Val::Value(binary(op, x, y))
            }
            E::Where(c, a, b) => {
                // Both sides are evaluated: expressions are pure, except that a checked index flags.
                let (c, x, y) = (self.val(c), self.val(a), self.val(b));
                Val::Value(if matches!(c, S::Bool(true)) { x } else { y })
            }
            E::Cast(a, d) => Val::Value(cast(self.val(a), d)),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::kernel::{Access, Expr, KernelBuilder};

    /// out[i] = sum_j a[i*3 + j] over a 2x3 matrix, then a masked, checked gather.
    #[test]
    fn runs_a_reduction_and_reports_bad_indices() {
        let mut b = KernelBuilder::new();
        let a = b.param(DType::F32, 6, Access::Read);
        let idx = b.param(DType::I64, 2, Access::Read);
        let out = b.param(DType::F32, 2, Access::Write);
        let gathered = b.param(DType::F32, 2, Access::Write);
        let flag = b.param(DType::I32, 1, Access::Write);
        let i = b.var(Kernel::PARALLEL);
        let j = b.new_var();
        let jv = b.var(j);
        let row = b.imul(i, 3);
        let at = b.iadd(row, jv);
        let x = b.load(a, at);
        let acc = b.new_acc();
        let accv = b.expr(Expr::Acc(acc));
        let iv = b.load(idx, i);
        let ci = b.expr(Expr::CheckedIndex {
            value: iv,
            len: 6,
            flag,
        });
        let g = b.load(a, ci);
        let k = b.finish(
            "reduce",
            2,
            vec![
                Stmt::DefAcc {
                    acc,
                    op: ReduceOp::Sum,
                    dtype: DType::F32,
                },
                Stmt::Loop {
                    var: j,
                    extent: 3,
                    body: vec![Stmt::Accumulate { acc, value: x }],
                },
                Stmt::Store {
                    buf: out,
                    index: i,
                    value: accv,
                },
                Stmt::Store {
                    buf: gathered,
                    index: i,
                    value: g,
                },
            ],
        );
        let mut bufs = vec![
            HostData::F32(vec![1.0, 2.0, 3.0, 4.0, 5.0, 6.0]),
            HostData::I64(vec![4, 9]),
            HostData::zeros(DType::F32, 2),
            HostData::zeros(DType::F32, 2),
            HostData::zeros(DType::I32, 1),
        ];
        eval(&k, &mut bufs).unwrap();
        assert_eq!(bufs[2], HostData::F32(vec![6.0, 15.0]));
        assert_eq!(bufs[3], HostData::F32(vec![5.0, 1.0]));
        assert_eq!(bufs[4], HostData::I32(vec![1]));
        assert!(
            eval_range(&k, &mut bufs, 1, 3)
                .unwrap_err()
                .contains("0..2")
        );
    }
}
