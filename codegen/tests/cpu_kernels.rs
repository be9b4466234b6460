//! Hand-built kernels through the CPU JIT, compared with the reference evaluator.

mod cpu_common;

use cpu_common::{Fill, Rng, Tol, check, random, ulps};
use smelt_codegen::eval::HostData;
use smelt_codegen::kernel::{Access, Expr, Kernel, KernelBuilder, Stmt};
use smelt_codegen::{BinaryOp, DType, ReduceOp, Scalar, UnaryOp};

/// `out[i] = exp(a[i]) * b[i] + c[i]` over `n` elements.
fn exp_mul_add(n: u64) -> Kernel {
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

#[test]
fn exp_mul_add_odd_sizes() {
    let mut rng = Rng(1);
    for n in [1u64, 3, 4, 7, 8, 9, 17, 33, 100, 4097] {
        let k = exp_mul_add(n);
        // Positive b and c: no cancellation, so the result is as close as exp itself.
        let inputs: Vec<HostData> = [(-5.0, 5.0), (0.0, 3.0), (0.0, 3.0)]
            .into_iter()
            .map(|(lo, hi)| random(DType::F32, n as usize, Fill::Range(lo, hi), &mut rng))
            .chain([HostData::zeros(DType::F32, n as usize)])
            .collect();
        check(&k, &inputs, ulps(4));
    }
}

/// `out[r] = reduce_c x[r*C + c]` (a row reduction), optionally divided by C (a mean).
fn row_reduce(op: ReduceOp, d: DType, rows: u64, cols: u64) -> Kernel {
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
        &format!("R_{op}_{d}"),
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
fn column_reduce(op: ReduceOp, d: DType, rows: u64, cols: u64) -> Kernel {
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
        &format!("C_{op}_{d}"),
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

fn reduce_inputs(
    op: ReduceOp,
    d: DType,
    len: usize,
    out_len: usize,
    rng: &mut Rng,
) -> Vec<HostData> {
    let fill = match (op, d) {
        (ReduceOp::Prod, DType::F32 | DType::F64) => Fill::Range(0.8, 1.25),
        (ReduceOp::Prod, _) => Fill::Range(-3.0, 3.0),
        (_, DType::U8) => Fill::Range(0.0, 255.0),
        (_, DType::F32 | DType::F64) => Fill::Range(-1.0, 1.0),
        _ => Fill::Range(-1000.0, 1000.0),
    };
    vec![random(d, len, fill, rng), HostData::zeros(d, out_len)]
}

/// Reassociated float sums: a few ulps, or an absolute error growing with the length.
fn reduce_tol(op: ReduceOp, d: DType, len: u64) -> Tol {
    match (op, d) {
        (ReduceOp::Sum, DType::F32) => Tol {
            ulps: 4,
            abs: 2e-7 * len as f64,
        },
        (ReduceOp::Sum, DType::F64) => Tol {
            ulps: 4,
            abs: 1e-15 * len as f64,
        },
        (ReduceOp::Prod, DType::F32 | DType::F64) => ulps(4 * len),
        _ => cpu_common::EXACT,
    }
}

#[test]
fn row_reductions() {
    let mut rng = Rng(2);
    for op in [ReduceOp::Sum, ReduceOp::Prod, ReduceOp::Max, ReduceOp::Min] {
        for d in DType::ALL {
            for (rows, cols) in [(1, 1), (3, 7), (5, 33), (2, 100), (3, 4097)] {
                if op == ReduceOp::Prod && cols > 100 {
                    continue;
                }
                let k = row_reduce(op, d, rows, cols);
                let inputs = reduce_inputs(op, d, (rows * cols) as usize, rows as usize, &mut rng);
                check(&k, &inputs, reduce_tol(op, d, cols));
            }
        }
    }
}

#[test]
fn column_reductions() {
    let mut rng = Rng(3);
    for op in [ReduceOp::Sum, ReduceOp::Prod, ReduceOp::Max, ReduceOp::Min] {
        for d in DType::ALL {
            for (rows, cols) in [(1, 1), (7, 3), (33, 5), (4, 37), (100, 19), (3, 130)] {
                let k = column_reduce(op, d, rows, cols);
                let inputs = reduce_inputs(op, d, (rows * cols) as usize, cols as usize, &mut rng);
                check(&k, &inputs, reduce_tol(op, d, rows));
            }
        }
    }
}

/// A full sum as two kernels: `parts` partial sums in parallel, then their sum.
#[test]
fn full_reduction_in_two_kernels() {
    let mut rng = Rng(4);
    let (n, parts) = (100_003u64, 64u64);
    let chunk = n.div_ceil(parts);
    // Kernel 1: part p sums x[p*chunk + j] for j < chunk, masked at the end.
    let mut b = KernelBuilder::new();
    let x = b.param(DType::F32, n, Access::Read);
    let partial = b.param(DType::F32, parts, Access::Write);
    let p = b.var(Kernel::PARALLEL);
    let j = b.new_var();
    let jv = b.var(j);
    let base = b.imul(p, chunk as i64);
    let at = b.iadd(base, jv);
    let inside = b.expr(Expr::InRange {
        index: at,
        lo: 0,
        hi: n as i64,
    });
    let v = b.expr(Expr::Load {
        buf: x,
        index: at,
        mask: Some(inside),
    });
    let acc = b.new_acc();
    let a = b.expr(Expr::Acc(acc));
    let k1 = b.finish(
        "R_partial_sum",
        parts,
        vec![
            Stmt::DefAcc {
                acc,
                op: ReduceOp::Sum,
                dtype: DType::F32,
            },
            Stmt::Loop {
                var: j,
                extent: chunk,
                body: vec![Stmt::Accumulate { acc, value: v }],
            },
            Stmt::Store {
                buf: partial,
                index: p,
                value: a,
            },
        ],
    );
    let xs = random(DType::F32, n as usize, Fill::Range(-1.0, 1.0), &mut rng);
    check(
        &k1,
        &[xs, HostData::zeros(DType::F32, parts as usize)],
        Tol {
            ulps: 4,
            abs: 1e-7 * chunk as f64,
        },
    );
    let k2 = row_reduce(ReduceOp::Sum, DType::F32, 1, parts);
    let ps = random(
        DType::F32,
        parts as usize,
        Fill::Range(-100.0, 100.0),
        &mut rng,
    );
    check(
        &k2,
        &[ps, HostData::zeros(DType::F32, 1)],
        Tol { ulps: 4, abs: 1e-4 },
    );
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

#[test]
fn row_softmax() {
    let mut rng = Rng(5);
    for (rows, cols) in [(1, 1), (3, 5), (4, 17), (2, 100), (2, 1031)] {
        let k = softmax(rows, cols);
        let inputs = vec![
            random(
                DType::F32,
                (rows * cols) as usize,
                Fill::Range(-10.0, 10.0),
                &mut rng,
            ),
            HostData::zeros(DType::F32, (rows * cols) as usize),
        ];
        // exp within a few ulp, the sum reassociated: relative error ~1e-6.
        check(
            &k,
            &inputs,
            Tol {
                ulps: 16 + cols / 4,
                abs: 1e-7,
            },
        );
    }
}

/// Padding: `out[i] = x[i - 3]` where that is inside `x`, else 0 (a masked load).
#[test]
fn masked_loads_read_nothing_outside() {
    let mut rng = Rng(6);
    for n in [1u64, 5, 16, 37] {
        for d in DType::ALL {
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
            let k = b.finish(
                "E_pad",
                n + 6,
                vec![Stmt::Store {
                    buf: out,
                    index: i,
                    value: v,
                }],
            );
            let inputs = vec![
                random(d, n as usize, Fill::Edgy(-9.0, 9.0), &mut rng),
                HostData::zeros(d, (n + 6) as usize),
            ];
            check(&k, &inputs, cpu_common::EXACT);
        }
    }
}

/// A gather through data: `out[i] = x[idx[i]]`, out-of-range indices read 0 and set the flag.
fn gather(d: DType, n: u64, len: u64) -> Kernel {
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

#[test]
fn checked_indices_flag_bad_ones() {
    let mut rng = Rng(7);
    for d in [DType::U8, DType::I32, DType::I64] {
        for (n, len) in [(1u64, 5u64), (9, 10), (37, 200)] {
            let k = gather(d, n, len);
            let x = random(DType::F32, len as usize, Fill::Range(-1.0, 1.0), &mut rng);
            // All good: the flag stays 0.
            let good = random(
                d,
                n as usize,
                Fill::Range(0.0, (len - 1).min(255) as f64),
                &mut rng,
            );
            let inputs = vec![
                x.clone(),
                good,
                HostData::zeros(DType::F32, n as usize),
                HostData::zeros(DType::I32, 1),
            ];
            check(&k, &inputs, cpu_common::EXACT);
            let mut want = inputs.clone();
            smelt_codegen::eval::eval(&k, &mut want).unwrap();
            assert_eq!(want[3], HostData::I32(vec![0]));
            // Some bad (negative, == len, huge): those read 0 and the flag is 1.
            let mut bad = random(
                d,
                n as usize,
                Fill::Range(0.0, (len - 1).min(255) as f64),
                &mut rng,
            );
            let wrong = match d {
                DType::U8 => Scalar::U8(255),
                DType::I32 => Scalar::I32(-1),
                _ => Scalar::I64(len as i64),
            };
            bad.set((n / 2) as usize, wrong);
            let inputs = vec![
                x,
                bad,
                HostData::zeros(DType::F32, n as usize),
                HostData::zeros(DType::I32, 1),
            ];
            check(&k, &inputs, cpu_common::EXACT);
            let mut want = inputs.clone();
            smelt_codegen::eval::eval(&k, &mut want).unwrap();
            if d != DType::U8 || len <= 255 {
                assert_eq!(want[3], HostData::I32(vec![1]), "{d} {n} {len}");
            }
        }
    }
}

/// Broadcasts and reshapes are index arithmetic: divisions and moduli of the loop variable (gathers).
#[test]
fn broadcast_and_modular_indices() {
    let mut rng = Rng(8);
    let (n, c) = (60u64, 7i64);
    let mut b = KernelBuilder::new();
    let x = b.param(DType::F32, n / 4 + 1, Access::Read);
    let y = b.param(DType::F32, c as u64, Access::Read);
    let out = b.param(DType::F32, n, Access::Write);
    let i = b.var(Kernel::PARALLEL);
    let q = b.expr(Expr::IDiv(i, 4));
    let m = b.expr(Expr::IMod(i, c));
    let xv = b.load(x, q);
    let yv = b.load(y, m);
    let s = b.binary(BinaryOp::Add, xv, yv);
    let k = b.finish(
        "E_broadcast",
        n,
        vec![Stmt::Store {
            buf: out,
            index: i,
            value: s,
        }],
    );
    let inputs = vec![
        random(
            DType::F32,
            (n / 4 + 1) as usize,
            Fill::Range(-1.0, 1.0),
            &mut rng,
        ),
        random(DType::F32, c as usize, Fill::Range(-1.0, 1.0), &mut rng),
        HostData::zeros(DType::F32, n as usize),
    ];
    check(&k, &inputs, cpu_common::EXACT);
}

/// 2-D: a row-major elementwise product with a broadcast row, and a transposed copy.
#[test]
fn two_dimensional_elementwise_and_transpose() {
    let mut rng = Rng(9);
    for (rows, cols) in [(3u64, 5u64), (4, 16), (9, 33)] {
        let mut b = KernelBuilder::new();
        let x = b.param(DType::F32, rows * cols, Access::Read);
        let y = b.param(DType::F32, cols, Access::Read);
        let prod = b.param(DType::F32, rows * cols, Access::Write);
        let tr = b.param(DType::F32, rows * cols, Access::Write);
        let r = b.var(Kernel::PARALLEL);
        let c = b.new_var();
        let cv = b.var(c);
        let rb = b.imul(r, cols as i64);
        let at = b.iadd(rb, cv);
        let cb = b.imul(cv, rows as i64);
        let tat = b.iadd(cb, r);
        let xv = b.load(x, at);
        let yv = b.load(y, cv);
        let p = b.binary(BinaryOp::Mul, xv, yv);
        let k = b.finish(
            "E_2d",
            rows,
            vec![Stmt::Loop {
                var: c,
                extent: cols,
                body: vec![
                    Stmt::Store {
                        buf: prod,
                        index: at,
                        value: p,
                    },
                    Stmt::Store {
                        buf: tr,
                        index: tat,
                        value: xv,
                    },
                ],
            }],
        );
        let inputs = vec![
            random(
                DType::F32,
                (rows * cols) as usize,
                Fill::Range(-1.0, 1.0),
                &mut rng,
            ),
            random(DType::F32, cols as usize, Fill::Range(-1.0, 1.0), &mut rng),
            HostData::zeros(DType::F32, (rows * cols) as usize),
            HostData::zeros(DType::F32, (rows * cols) as usize),
        ];
        check(&k, &inputs, cpu_common::EXACT);
    }
}

#[test]
fn snapshot_clif_is_deterministic() {
    for k in [
        exp_mul_add(1000),
        softmax(4, 100),
        column_reduce(ReduceOp::Sum, DType::F32, 8, 64),
        gather(DType::I32, 9, 10),
    ] {
        let a = smelt_codegen::cpu::clif_for_snapshot(&k).unwrap();
        let b = smelt_codegen::cpu::clif_for_snapshot(&k).unwrap();
        assert_eq!(a, b);
        assert!(a.contains("function u0:14(i64, i64, i64) system_v"), "{a}");
    }
}

#[test]
fn malformed_kernels_are_rejected_before_codegen() {
    let mut k = exp_mul_add(8);
    k.extent = 9;
    let err = smelt_codegen::cpu::compile(&k).unwrap_err();
    assert!(err.to_string().contains("malformed"), "{err}");
    assert!(smelt_codegen::cpu::clif_for_snapshot(&k).is_err());
}
