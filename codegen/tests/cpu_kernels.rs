//! Hand-built kernels through the CPU JIT, compared with the reference evaluator.

mod cpu_common;

use cpu_common::kernels::{column_reduce, exp_mul_add, gather, pad, row_reduce, softmax};

use cpu_common::{Fill, Rng, Tol, check, random, ulps};
use smelt_codegen::eval::HostData;
use smelt_codegen::kernel::{Access, Expr, Kernel, KernelBuilder, Stmt};
use smelt_codegen::{BinaryOp, DType, ReduceOp, Scalar, UnaryOp};

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
            let k = pad(d, n);
            let inputs = vec![
                random(d, n as usize, Fill::Edgy(-9.0, 9.0), &mut rng),
                HostData::zeros(d, (n + 6) as usize),
            ];
            check(&k, &inputs, cpu_common::EXACT);
        }
    }
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

/// Softmax down columns (reductions over the outer axis): the vectorized output loop runs tiled, with two
/// reduction loops and a write loop per tile, the second reading the first's result.
#[test]
fn column_softmax_runs_tiled() {
    let mut rng = Rng(10);
    for (rows, cols) in [(3u64, 17u64), (5, 1100), (2, 2100)] {
        let mut b = KernelBuilder::new();
        let x = b.param(DType::F32, rows * cols, Access::Read);
        let out = b.param(DType::F32, rows * cols, Access::Write);
        let c = b.var(Kernel::PARALLEL);
        let (r1, r2, r3) = (b.new_var(), b.new_var(), b.new_var());
        let (mx, sm) = (b.new_acc(), b.new_acc());
        let (mxv, smv) = (b.expr(Expr::Acc(mx)), b.expr(Expr::Acc(sm)));
        let at = |b: &mut KernelBuilder, r| {
            let rv = b.var(r);
            let row = b.imul(rv, cols as i64);
            b.iadd(row, c)
        };
        let a1 = at(&mut b, r1);
        let x1 = b.load(x, a1);
        let a2 = at(&mut b, r2);
        let x2 = b.load(x, a2);
        let d2 = b.binary(BinaryOp::Sub, x2, mxv);
        let e2 = b.unary(UnaryOp::Exp, d2);
        let a3 = at(&mut b, r3);
        let x3 = b.load(x, a3);
        let d3 = b.binary(BinaryOp::Sub, x3, mxv);
        let e3 = b.unary(UnaryOp::Exp, d3);
        let y = b.binary(BinaryOp::Div, e3, smv);
        let k = b.finish(
            "C_softmax",
            cols,
            vec![
                Stmt::DefAcc {
                    acc: mx,
                    op: ReduceOp::Max,
                    dtype: DType::F32,
                },
                Stmt::Loop {
                    var: r1,
                    extent: rows,
                    body: vec![Stmt::Accumulate { acc: mx, value: x1 }],
                },
                Stmt::DefAcc {
                    acc: sm,
                    op: ReduceOp::Sum,
                    dtype: DType::F32,
                },
                Stmt::Loop {
                    var: r2,
                    extent: rows,
                    body: vec![Stmt::Accumulate { acc: sm, value: e2 }],
                },
                Stmt::Loop {
                    var: r3,
                    extent: rows,
                    body: vec![Stmt::Store {
                        buf: out,
                        index: a3,
                        value: y,
                    }],
                },
            ],
        );
        let inputs = vec![
            random(
                DType::F32,
                (rows * cols) as usize,
                Fill::Range(-5.0, 5.0),
                &mut rng,
            ),
            HostData::zeros(DType::F32, (rows * cols) as usize),
        ];
        check(&k, &inputs, ulps(8));
    }
}

/// Loops that never run: an empty parallel range, and an inner loop of extent 0 (its accumulator keeps
/// the identity; a checked index inside it never flags).
#[test]
fn empty_ranges_and_loops() {
    let mut b = KernelBuilder::new();
    let x = b.param(DType::I32, 4, Access::Read);
    let out = b.param(DType::I32, 4, Access::Write);
    let flag = b.param(DType::I32, 1, Access::Write);
    let i = b.var(Kernel::PARALLEL);
    let j = b.new_var();
    let big = b.constant(Scalar::I32(99));
    let ci = b.expr(Expr::CheckedIndex {
        value: big,
        len: 4,
        flag,
    });
    let v = b.load(x, ci);
    let acc = b.new_acc();
    let a = b.expr(Expr::Acc(acc));
    let k = b.finish(
        "empty",
        4,
        vec![
            Stmt::DefAcc {
                acc,
                op: ReduceOp::Min,
                dtype: DType::I32,
            },
            Stmt::Loop {
                var: j,
                extent: 0,
                body: vec![Stmt::Accumulate { acc, value: v }],
            },
            Stmt::Store {
                buf: out,
                index: i,
                value: a,
            },
        ],
    );
    let inputs = vec![
        HostData::I32(vec![1, 2, 3, 4]),
        HostData::zeros(DType::I32, 4),
        HostData::zeros(DType::I32, 1),
    ];
    check(&k, &inputs, cpu_common::EXACT);
    let prog = smelt_codegen::cpu::compile(&k).unwrap();
    let mut bufs = inputs.clone();
    cpu_common::run(&prog, &k, &mut bufs, 0, 4);
    assert_eq!(bufs[1], HostData::I32(vec![i32::MAX; 4]));
    assert_eq!(bufs[2], HostData::I32(vec![0]));
    let mut untouched = inputs.clone();
    cpu_common::run(&prog, &k, &mut untouched, 2, 2);
    assert_eq!(untouched, inputs);
}

/// Programs are `Send + Sync`: compile on several threads at once, run one program from several threads
/// on disjoint ranges, drop them all (their code is freed).
#[test]
fn programs_compile_and_run_across_threads() {
    let n = 4096u64;
    let k = std::sync::Arc::new(exp_mul_add(n));
    let progs: Vec<_> = std::thread::scope(|s| {
        let hs: Vec<_> = (0..4)
            .map(|_| s.spawn(|| smelt_codegen::cpu::compile(&k).unwrap()))
            .collect();
        hs.into_iter().map(|h| h.join().unwrap()).collect()
    });
    let mut rng = Rng(11);
    let mut bufs: Vec<HostData> = (0..3)
        .map(|_| random(DType::F32, n as usize, Fill::Range(0.0, 1.0), &mut rng))
        .collect();
    bufs.push(HostData::zeros(DType::F32, n as usize));
    let mut want = bufs.clone();
    smelt_codegen::eval::eval(&k, &mut want).unwrap();
    let ptrs: Vec<usize> = bufs.iter_mut().map(|b| b.as_mut_ptr() as usize).collect();
    let prog = &progs[0];
    std::thread::scope(|s| {
        for t in 0..4u64 {
            let ptrs = ptrs.clone();
            s.spawn(move || {
                let args: Vec<*mut u8> = ptrs.iter().map(|&p| p as *mut u8).collect();
                // SAFETY: the buffers match the kernel; the ranges are disjoint.
                unsafe { (prog.entry())(args.as_ptr(), t * n / 4, (t + 1) * n / 4) };
            });
        }
    });
    cpu_common::compare(&want[3], &bufs[3], ulps(4)).unwrap();
    drop(progs);
    for _ in 0..200 {
        let p = smelt_codegen::cpu::compile(&k).unwrap();
        assert_eq!(p.name(), "E_exp_mul_add");
        assert!(p.clif().starts_with("function u0:14(i64, i64, i64)"));
    }
}
