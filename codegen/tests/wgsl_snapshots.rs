//! WGSL text snapshots (in the top-level `snapshots/`): what the translator emits for typical kernels.
//! A refactor that should not change the output shows no diff.

use smelt_codegen::kernel::{Access, Expr, Kernel, KernelBuilder, Stmt};
use smelt_codegen::matmul::{MatmulSpec, Strided};
use smelt_codegen::wgsl::{self, Caps};
use smelt_codegen::{BinaryOp, DType, ReduceOp, UnaryOp};

fn check(name: &str, source: &str) {
    insta::with_settings!({ snapshot_path => "../../snapshots", prepend_module_to_snapshot => false }, {
        insta::assert_snapshot!(name, source);
    });
}

/// `out[i] = exp(a[i]) * b[i] + c[i]`.
#[test]
fn elementwise() {
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
    let k = b.finish(
        "E_exp_mul_add",
        8,
        vec![Stmt::Store {
            buf: out,
            index: i,
            value: s,
        }],
    );
    check(
        "wgsl_elementwise",
        &wgsl::compile(&k, &Caps::ALL).unwrap().source,
    );
}

/// Row softmax over `[4, 10]`: max, sum of exp, write, in one parallel iteration per row.
#[test]
fn softmax() {
    let (rows, cols) = (4u64, 10u64);
    let mut b = KernelBuilder::new();
    let x = b.param(DType::F32, rows * cols, Access::Read);
    let out = b.param(DType::F32, rows * cols, Access::Write);
    let r = b.var(Kernel::PARALLEL);
    let base = b.imul(r, cols as i64);
    let (j1, j2, j3) = (b.new_var(), b.new_var(), b.new_var());
    let (m, s) = (b.new_acc(), b.new_acc());
    let mut at = |j| {
        let jv = b.var(j);
        let idx = b.iadd(base, jv);
        (idx, b.load(x, idx))
    };
    let ((_, x1), (_, x2), (idx3, x3)) = (at(j1), at(j2), at(j3));
    let (mv, sv) = (b.expr(Expr::Acc(m)), b.expr(Expr::Acc(s)));
    let d2 = b.binary(BinaryOp::Sub, x2, mv);
    let e2 = b.unary(UnaryOp::Exp, d2);
    let d3 = b.binary(BinaryOp::Sub, x3, mv);
    let e3 = b.unary(UnaryOp::Exp, d3);
    let y = b.binary(BinaryOp::Div, e3, sv);
    let body = vec![
        Stmt::DefAcc {
            acc: m,
            op: ReduceOp::Max,
            dtype: DType::F32,
        },
        Stmt::Loop {
            var: j1,
            extent: cols,
            body: vec![Stmt::Accumulate { acc: m, value: x1 }],
        },
        Stmt::DefAcc {
            acc: s,
            op: ReduceOp::Sum,
            dtype: DType::F32,
        },
        Stmt::Loop {
            var: j2,
            extent: cols,
            body: vec![Stmt::Accumulate { acc: s, value: e2 }],
        },
        Stmt::Loop {
            var: j3,
            extent: cols,
            body: vec![Stmt::Store {
                buf: out,
                index: idx3,
                value: y,
            }],
        },
    ];
    let k = b.finish("R_softmax", rows, body);
    check(
        "wgsl_softmax",
        &wgsl::compile(&k, &Caps::ALL).unwrap().source,
    );
}

/// A padded, transposed copy with a masked load, and a gather through a checked i64 index.
#[test]
fn masked_and_checked() {
    let mut b = KernelBuilder::new();
    let a = b.param(DType::F32, 6, Access::Read);
    let idx = b.param(DType::I64, 12, Access::Read);
    let padded = b.param(DType::F32, 12, Access::Write);
    let gathered = b.param(DType::F32, 12, Access::Write);
    let flag = b.param(DType::I32, 1, Access::Write);
    let i = b.var(Kernel::PARALLEL);
    // padded[i] = a[(i - 3) % 3 * 2 + (i - 3) / 3] where 3 <= i < 9, else 0 (a is [2, 3], read transposed).
    let minus3 = b.index(-3);
    let s = b.iadd(i, minus3);
    let col = b.expr(Expr::IMod(s, 3));
    let row = b.expr(Expr::IDiv(s, 3));
    let col2 = b.imul(col, 2);
    let src = b.iadd(col2, row);
    let mask = b.expr(Expr::InRange {
        index: i,
        lo: 3,
        hi: 9,
    });
    let v = b.expr(Expr::Load {
        buf: a,
        index: src,
        mask: Some(mask),
    });
    // gathered[i] = a[checked idx[i]] where 3 <= i < 9, else 0
    let raw = b.load(idx, i);
    let at = b.expr(Expr::CheckedIndex {
        value: raw,
        len: 6,
        flag,
    });
    // Under the same mask: the flag is set only where the mask holds.
    let g = b.expr(Expr::Load {
        buf: a,
        index: at,
        mask: Some(mask),
    });
    let k = b.finish(
        "masked_checked",
        12,
        vec![
            Stmt::Store {
                buf: padded,
                index: i,
                value: v,
            },
            Stmt::Store {
                buf: gathered,
                index: i,
                value: g,
            },
        ],
    );
    check(
        "wgsl_masked_checked",
        &wgsl::compile(&k, &Caps::ALL).unwrap().source,
    );
}

#[test]
fn matmul() {
    let spec = MatmulSpec {
        dtype: DType::F32,
        batch: 2,
        m: 70,
        n: 33,
        k: 20,
        a: Strided {
            offset: 0,
            batch_stride: 70 * 20,
            row_stride: 1,
            col_stride: 70,
        },
        b: Strided {
            offset: 0,
            batch_stride: 0,
            row_stride: 33,
            col_stride: 1,
        },
    };
    check(
        "wgsl_matmul",
        &wgsl::matmul(&spec, &Caps::ALL).unwrap().source,
    );
}
