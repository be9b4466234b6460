//! Kernel builders shared by the tests.

use smelt_codegen::kernel::{Access, Expr, Kernel, KernelBuilder, Stmt};
use smelt_codegen::{BinaryOp, DType, ReduceOp, UnaryOp};

/// `out[i] = exp(a[i]) * b[i] + c[i]` over `n` elements.
pub fn exp_mul_add(n: u64) -> Kernel {
    let mut b = KernelBuilder::new();
    let (a, bb, c) = (
        b.param(DType::F32, n, Access::Read),
        b.param(DType::F32, n, Access::Read),
        b.param(DType::F32, n, Access::Read),
    );
    let out = b.param(DType::F32, n, Access::Write);
    let i = b.var(Kernel::PARALLEL);
    let (la, lb, lc) = (b.load(a, i), b.load(bb, i), b.load(c, i));
    let e = b.unary(UnaryOp::Exp, la);
    let m = b.binary(BinaryOp::Mul, e, lb);
    let s = b.binary(BinaryOp::Add, m, lc);
    b.finish(
        "E_exp_mul_add",
        n,
        vec![Stmt::Store {
            buf: out,
            index: i,
            value: s,
        }],
    )
}

/// `out[r] = reduce_c x[r*C + c]` (a row reduction), optionally divided by C (a mean).
pub fn row_reduce(op: ReduceOp, d: DType, rows: u64, cols: u64) -> Kernel {
    let mut b = KernelBuilder::new();
    let x = b.param(d, rows * cols, Access::Read);
    let out = b.param(d, rows, Access::Write);
    let r = b.var(Kernel::PARALLEL);
    let c = b.new_var();
    let cv = b.var(c);
    let base = b.imul(r, cols as i64);
    let at = b.iadd(base, cv);
    let v = b.load(x, at);
    let acc = b.new_acc();
    let a = b.expr(Expr::Acc(acc));
    b.finish(
        format!("R_{op}_{d}"),
        rows,
        vec![
            Stmt::DefAcc { acc, op, dtype: d },
            Stmt::Loop {
                var: c,
                extent: cols,
                body: vec![Stmt::Accumulate { acc, value: v }],
            },
            Stmt::Store {
                buf: out,
                index: r,
                value: a,
            },
        ],
    )
}

/// `out[c] = reduce_r x[r*C + c]` (a column reduction: the output loop is the vectorized one).
pub fn column_reduce(op: ReduceOp, d: DType, rows: u64, cols: u64) -> Kernel {
    let mut b = KernelBuilder::new();
    let x = b.param(d, rows * cols, Access::Read);
    let out = b.param(d, cols, Access::Write);
    let c = b.var(Kernel::PARALLEL);
    let r = b.new_var();
    let rv = b.var(r);
    let base = b.imul(rv, cols as i64);
    let at = b.iadd(base, c);
    let v = b.load(x, at);
    let acc = b.new_acc();
    let a = b.expr(Expr::Acc(acc));
    b.finish(
        format!("C_{op}_{d}"),
        cols,
        vec![
            Stmt::DefAcc { acc, op, dtype: d },
            Stmt::Loop {
                var: r,
                extent: rows,
                body: vec![Stmt::Accumulate { acc, value: v }],
            },
            Stmt::Store {
                buf: out,
                index: c,
                value: a,
            },
        ],
    )
}

/// Row softmax in one kernel: a max loop, a sum-of-exp loop and a write loop per row.
pub fn softmax(rows: u64, cols: u64) -> Kernel {
    let mut b = KernelBuilder::new();
    let x = b.param(DType::F32, rows * cols, Access::Read);
    let out = b.param(DType::F32, rows * cols, Access::Write);
    let r = b.var(Kernel::PARALLEL);
    let base = b.imul(r, cols as i64);
    let (c1, c2, c3) = (b.new_var(), b.new_var(), b.new_var());
    let (mx, sm) = (b.new_acc(), b.new_acc());
    let (mxv, smv) = (b.expr(Expr::Acc(mx)), b.expr(Expr::Acc(sm)));
    let at = |b: &mut KernelBuilder, c| {
        let cv = b.var(c);
        b.iadd(base, cv)
    };
    let a1 = at(&mut b, c1);
    let x1 = b.load(x, a1);
    let a2 = at(&mut b, c2);
    let x2 = b.load(x, a2);
    let d2 = b.binary(BinaryOp::Sub, x2, mxv);
    let e2 = b.unary(UnaryOp::Exp, d2);
    let a3 = at(&mut b, c3);
    let x3 = b.load(x, a3);
    let d3 = b.binary(BinaryOp::Sub, x3, mxv);
    let e3 = b.unary(UnaryOp::Exp, d3);
    let inv = b.unary(UnaryOp::Recip, smv);
    let y = b.binary(BinaryOp::Mul, e3, inv);
    b.finish(
        "R_softmax",
        rows,
        vec![
            Stmt::DefAcc {
                acc: mx,
                op: ReduceOp::Max,
                dtype: DType::F32,
            },
            Stmt::Loop {
                var: c1,
                extent: cols,
                body: vec![Stmt::Accumulate { acc: mx, value: x1 }],
            },
            Stmt::DefAcc {
                acc: sm,
                op: ReduceOp::Sum,
                dtype: DType::F32,
            },
            Stmt::Loop {
                var: c2,
                extent: cols,
                body: vec![Stmt::Accumulate { acc: sm, value: e2 }],
            },
            Stmt::Loop {
                var: c3,
                extent: cols,
                body: vec![Stmt::Store {
                    buf: out,
                    index: a3,
                    value: y,
                }],
            },
        ],
    )
}

/// A gather through data: `out[i] = x[idx[i]]`, out-of-range indices read 0 and set the flag.
pub fn gather(d: DType, n: u64, len: u64) -> Kernel {
    let mut b = KernelBuilder::new();
    let x = b.param(DType::F32, len, Access::Read);
    let idx = b.param(d, n, Access::Read);
    let out = b.param(DType::F32, n, Access::Write);
    let flag = b.param(DType::I32, 1, Access::Write);
    let i = b.var(Kernel::PARALLEL);
    let v = b.load(idx, i);
    let ci = b.expr(Expr::CheckedIndex {
        value: v,
        len,
        flag,
    });
    let g = b.load(x, ci);
    b.finish(
        "E_gather",
        n,
        vec![Stmt::Store {
            buf: out,
            index: i,
            value: g,
        }],
    )
}

/// Padding: `out[i] = x[i - 3]` where that is inside `x`, else 0 (a masked load); `out` has `n + 6`.
pub fn pad(d: DType, n: u64) -> Kernel {
    let mut b = KernelBuilder::new();
    let x = b.param(d, n, Access::Read);
    let out = b.param(d, n + 6, Access::Write);
    let i = b.var(Kernel::PARALLEL);
    let m3 = b.index(-3);
    let src = b.iadd(i, m3);
    let inside = b.expr(Expr::InRange {
        index: src,
        lo: 0,
        hi: n as i64,
    });
    let v = b.expr(Expr::Load {
        buf: x,
        index: src,
        mask: Some(inside),
    });
    b.finish(
        "E_pad",
        n + 6,
        vec![Stmt::Store {
            buf: out,
            index: i,
            value: v,
        }],
    )
}

/// `out[i] = -x[i]` for any dtype (`not` for bool).
pub fn negate(d: DType, n: u64) -> Kernel {
    let mut b = KernelBuilder::new();
    let x = b.param(d, n, Access::Read);
    let out = b.param(d, n, Access::Write);
    let i = b.var(Kernel::PARALLEL);
    let l = b.load(x, i);
    let v = b.unary(
        if d == DType::Bool {
            UnaryOp::Not
        } else {
            UnaryOp::Neg
        },
        l,
    );
    b.finish(
        "E_neg",
        n,
        vec![Stmt::Store {
            buf: out,
            index: i,
            value: v,
        }],
    )
}
