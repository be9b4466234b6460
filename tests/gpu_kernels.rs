//! Whole kernels on the GPU: odd and huge sizes (past the 65,535-workgroup limit), split launches,
//! reductions, a row softmax, masked loads, checked indices, accumulator scoping, and the runtime's
//! errors. Skips, with a message, where no GPU exists.

mod gpu_support;

use gpu_support::{Data, close, ctx, has, run, try_run};
use smelt::runtime::gpu::{self, GpuError};
use smelt_codegen::kernel::{Access, BufId, Expr, ExprId, Kernel, KernelBuilder, Stmt};
use smelt_codegen::wgsl;
use smelt_codegen::{BinaryOp, DType, ReduceOp, Scalar, UnaryOp};

/// `out[i] = a[i] * 3 + i` in i32.
fn affine_i32(n: u64) -> Kernel {
    let mut b = KernelBuilder::new();
    let a = b.param(DType::I32, n, Access::Read);
    let out = b.param(DType::I32, n, Access::Write);
    let i = b.var(Kernel::PARALLEL);
    let x = b.load(a, i);
    let three = b.constant(Scalar::I32(3));
    let ax = b.binary(BinaryOp::Mul, x, three);
    let fi = b.expr(Expr::IndexCast(i, DType::I32));
    let y = b.binary(BinaryOp::Add, ax, fi);
    b.finish(
        "affine",
        n,
        vec![Stmt::Store {
            buf: out,
            index: i,
            value: y,
        }],
    )
}

fn affine_reference(a: &[i32]) -> Vec<i32> {
    a.iter()
        .enumerate()
        .map(|(i, &x)| x.wrapping_mul(3).wrapping_add(i as i32))
        .collect()
}

#[test]
fn odd_and_huge_sizes() {
    let Some(ctx) = ctx() else { return };
    // 70,000 × 256 needs 70,000 workgroups of 256: past the 65,535 per-dimension limit.
    for n in [1u64, 7, 255, 256, 257, 4097, 70_000 * 256] {
        let a: Vec<i32> = (0..n as i32)
            .map(|i| (i.wrapping_mul(7919)) % 1000 - 500)
            .collect();
        let out = run(ctx, &affine_i32(n), &[Data::I32(a.clone())]);
        assert!(out[0] == Data::I32(affine_reference(&a)), "n = {n}");
    }
}

#[test]
fn split_launches_cover_every_iteration_once() {
    let Some(ctx) = ctx() else { return };
    let n = 4097;
    let k = affine_i32(n);
    let program = wgsl::compile(&k, &ctx.caps()).unwrap();
    let a: Vec<i32> = (0..n as i32).collect();
    let input = ctx
        .upload(DType::I32, &Data::I32(a.clone()).bytes())
        .unwrap();
    for max_dim in [1, 2, 3, 5, 17] {
        let out = ctx.create_buffer(DType::I32, n).unwrap();
        ctx.run_split(&program, &[&input, &out], max_dim).unwrap();
        let got = Data::from_bytes(DType::I32, &ctx.download(&out).unwrap());
        assert_eq!(
            got,
            Data::I32(affine_reference(&a)),
            "at most {max_dim} workgroups per dimension"
        );
    }
    // Two sub-ranges, as separate submissions, fill the whole output.
    let out = ctx.create_buffer(DType::I32, n).unwrap();
    ctx.run_range(&program, &[&input, &out], 0..1000).unwrap();
    ctx.run_range(&program, &[&input, &out], 1000..n).unwrap();
    let got = Data::from_bytes(DType::I32, &ctx.download(&out).unwrap());
    assert_eq!(got, Data::I32(affine_reference(&a)));
    assert!(ctx.run_range(&program, &[&input, &out], 0..n + 1).is_err());
}

/// A reduction of a `rows × cols` matrix: along rows (`inner`), along columns, or over everything.
#[derive(Clone, Copy, Debug)]
enum Axis {
    Inner,
    Column,
    Full,
}

fn reduce_kernel(op: ReduceOp, d: DType, rows: u64, cols: u64, axis: Axis) -> Kernel {
    let mut b = KernelBuilder::new();
    let a = b.param(d, rows * cols, Access::Read);
    let (extent, out_len, inner) = match axis {
        Axis::Inner => (rows, rows, cols),
        Axis::Column => (cols, cols, rows),
        Axis::Full => (1, 1, rows * cols),
    };
    let out = b.param(d, out_len, Access::Write);
    let (p, j) = (b.var(Kernel::PARALLEL), b.new_var());
    let jv = b.var(j);
    let idx = match axis {
        Axis::Inner => {
            let base = b.imul(p, cols as i64);
            b.iadd(base, jv)
        }
        Axis::Column => {
            let row = b.imul(jv, cols as i64);
            b.iadd(row, p)
        }
        Axis::Full => jv,
    };
    let x = b.load(a, idx);
    let acc = b.new_acc();
    let total = b.expr(Expr::Acc(acc));
    let body = vec![
        Stmt::DefAcc { acc, op, dtype: d },
        Stmt::Loop {
            var: j,
            extent: inner,
            body: vec![Stmt::Accumulate { acc, value: x }],
        },
        Stmt::Store {
            buf: out,
            index: p,
            value: total,
        },
    ];
    b.finish(format!("reduce_{op}_{axis:?}"), extent, body)
}

fn reduce_reference(op: ReduceOp, a: &[f64], rows: usize, cols: usize, axis: Axis) -> Vec<f64> {
    let groups: Vec<Vec<f64>> = match axis {
        Axis::Inner => (0..rows)
            .map(|r| a[r * cols..(r + 1) * cols].to_vec())
            .collect(),
        Axis::Column => (0..cols)
            .map(|c| (0..rows).map(|r| a[r * cols + c]).collect())
            .collect(),
        Axis::Full => vec![a.to_vec()],
    };
    let nan_max = |x: f64, y: f64| {
        if x.is_nan() || y.is_nan() {
            f64::NAN
        } else {
            x.max(y)
        }
    };
    let nan_min = |x: f64, y: f64| {
        if x.is_nan() || y.is_nan() {
            f64::NAN
        } else {
            x.min(y)
        }
    };
    groups
        .iter()
        .map(|g| match op {
            ReduceOp::Sum => g.iter().sum(),
            ReduceOp::Prod => g.iter().product(),
            ReduceOp::Max => g.iter().copied().fold(f64::NEG_INFINITY, nan_max),
            ReduceOp::Min => g.iter().copied().fold(f64::INFINITY, nan_min),
        })
        .collect()
}

#[test]
fn reductions_inner_column_and_full() {
    let Some(ctx) = ctx() else { return };
    let (rows, cols) = (37usize, 129usize);
    let mut a: Vec<f64> = (0..rows * cols)
        .map(|i| ((i * 7919) % 1013) as f64 / 1013.0 * 2.0 - 0.9)
        .collect();
    a[5 * cols + 17] = f64::NAN; // row 5, column 17: max/min must propagate it
    for axis in [Axis::Inner, Axis::Column, Axis::Full] {
        for op in [ReduceOp::Sum, ReduceOp::Prod, ReduceOp::Max, ReduceOp::Min] {
            for d in [DType::F32, DType::F64] {
                if !has(ctx, d) {
                    continue;
                }
                let data = if d == DType::F32 {
                    Data::F32(a.iter().map(|&x| x as f32).collect())
                } else {
                    Data::F64(a.clone())
                };
                let exact: Vec<f64> = data.scalars().iter().map(|s| s.to_f64()).collect();
                let want = reduce_reference(op, &exact, rows, cols, axis);
                let got = run(
                    ctx,
                    &reduce_kernel(op, d, rows as u64, cols as u64, axis),
                    &[data],
                )[0]
                .scalars();
                let rel = if d == DType::F32 { 2e-5 } else { 1e-12 };
                for (g, w) in got.iter().zip(&want) {
                    // Products of thousands of factors below 1 underflow: compare them absolutely.
                    assert!(
                        close(g.to_f64(), *w, 1e-30, rel),
                        "{op} {d} {axis:?}: got {g}, want {w}"
                    );
                }
            }
        }
    }
    // Integers: exact, wrapping.
    let ints: Vec<i32> = (0..(rows * cols) as i32)
        .map(|i| i.wrapping_mul(1_000_003))
        .collect();
    let as_f: Vec<f64> = ints.iter().map(|&x| x as f64).collect();
    for axis in [Axis::Inner, Axis::Column, Axis::Full] {
        let got = run(
            ctx,
            &reduce_kernel(ReduceOp::Sum, DType::I32, rows as u64, cols as u64, axis),
            &[Data::I32(ints.clone())],
        );
        let want: Vec<i32> = reduce_reference(ReduceOp::Sum, &as_f, rows, cols, axis)
            .iter()
            .map(|&s| s as i64 as i32)
            .collect();
        assert_eq!(got[0], Data::I32(want), "{axis:?}");
        let got = run(
            ctx,
            &reduce_kernel(ReduceOp::Max, DType::I32, rows as u64, cols as u64, axis),
            &[Data::I32(ints.clone())],
        );
        let want: Vec<i32> = reduce_reference(ReduceOp::Max, &as_f, rows, cols, axis)
            .iter()
            .map(|&s| s as i32)
            .collect();
        assert_eq!(got[0], Data::I32(want), "{axis:?}");
    }
    // bool any/all and u8 sums (wrapping).
    let bools: Vec<bool> = (0..12).map(|i| i % 5 == 0).collect();
    let any = run(
        ctx,
        &reduce_kernel(ReduceOp::Max, DType::Bool, 3, 4, Axis::Inner),
        &[Data::Bool(bools.clone())],
    );
    assert_eq!(any[0], Data::Bool(vec![true, true, true]));
    let all = run(
        ctx,
        &reduce_kernel(ReduceOp::Min, DType::Bool, 3, 4, Axis::Inner),
        &[Data::Bool(bools)],
    );
    assert_eq!(all[0], Data::Bool(vec![false, false, false]));
    let bytes: Vec<u8> = (0..=255).collect();
    let sum = run(
        ctx,
        &reduce_kernel(ReduceOp::Sum, DType::U8, 2, 128, Axis::Inner),
        &[Data::U8(bytes)],
    );
    let want = |r: u32| ((r * 128..(r + 1) * 128).sum::<u32>() % 256) as u8;
    assert_eq!(sum[0], Data::U8(vec![want(0), want(1)]));
}

/// Row softmax: one parallel iteration per row runs a max loop, a sum-of-exp loop and a write loop.
fn softmax_kernel(rows: u64, cols: u64) -> Kernel {
    let mut b = KernelBuilder::new();
    let x = b.param(DType::F32, rows * cols, Access::Read);
    let out = b.param(DType::F32, rows * cols, Access::Write);
    let r = b.var(Kernel::PARALLEL);
    let base = b.imul(r, cols as i64);
    let (j1, j2, j3) = (b.new_var(), b.new_var(), b.new_var());
    let (m, s) = (b.new_acc(), b.new_acc());
    let load_at = |b: &mut KernelBuilder, j| {
        let jv = b.var(j);
        let idx = b.iadd(base, jv);
        (idx, b.load(x, idx))
    };
    let (_, x1) = load_at(&mut b, j1);
    let (_, x2) = load_at(&mut b, j2);
    let (idx3, x3) = load_at(&mut b, j3);
    let mv = b.expr(Expr::Acc(m));
    let sv = b.expr(Expr::Acc(s));
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
    b.finish("softmax", rows, body)
}

#[test]
fn row_softmax() {
    let Some(ctx) = ctx() else { return };
    let (rows, cols) = (9usize, 100usize);
    let x: Vec<f32> = (0..rows * cols)
        .map(|i| ((i * 37) % 101) as f32 * 0.37 - 15.0 + (i / cols) as f32 * 20.0)
        .collect();
    let got = run(
        ctx,
        &softmax_kernel(rows as u64, cols as u64),
        &[Data::F32(x.clone())],
    );
    for r in 0..rows {
        let row: Vec<f64> = x[r * cols..(r + 1) * cols]
            .iter()
            .map(|&v| v as f64)
            .collect();
        let m = row.iter().copied().fold(f64::NEG_INFINITY, f64::max);
        let z: f64 = row.iter().map(|v| (v - m).exp()).sum();
        for (c, v) in row.iter().enumerate() {
            let want = (v - m).exp() / z;
            let g = got[0].f32()[r * cols + c] as f64;
            assert!(close(g, want, 1e-8, 2e-6), "row {r} col {c}: {g} vs {want}");
        }
    }
}

/// `out[i] = 2 <= i < n + 2 ? a[i - 2] : 0` over `n + 4` iterations: the masked load reads nothing
/// outside `a` (index -2, -1, n, n+1 are never touched).
fn pad_kernel(d: DType, n: u64) -> Kernel {
    let mut b = KernelBuilder::new();
    let a = b.param(d, n, Access::Read);
    let out = b.param(d, n + 4, Access::Write);
    let i = b.var(Kernel::PARALLEL);
    let minus2 = b.index(-2);
    let src = b.iadd(i, minus2);
    let mask = b.expr(Expr::InRange {
        index: i,
        lo: 2,
        hi: n as i64 + 2,
    });
    let v = b.expr(Expr::Load {
        buf: a,
        index: src,
        mask: Some(mask),
    });
    b.finish(
        format!("pad_{d}"),
        n + 4,
        vec![Stmt::Store {
            buf: out,
            index: i,
            value: v,
        }],
    )
}

#[test]
fn masked_loads_read_nothing_outside() {
    let Some(ctx) = ctx() else { return };
    let n = 5;
    let got = run(
        ctx,
        &pad_kernel(DType::F32, n),
        &[Data::F32(vec![1.0, 2.0, 3.0, 4.0, 5.0])],
    );
    assert_eq!(
        got[0],
        Data::F32(vec![0.0, 0.0, 1.0, 2.0, 3.0, 4.0, 5.0, 0.0, 0.0])
    );
    if has(ctx, DType::I64) {
        let input = Data::I64(vec![-1, i64::MAX, 3, i64::MIN, 5]);
        let got = run(ctx, &pad_kernel(DType::I64, n), &[input]);
        assert_eq!(
            got[0],
            Data::I64(vec![0, 0, -1, i64::MAX, 3, i64::MIN, 5, 0, 0])
        );
    }
    let got = run(
        ctx,
        &pad_kernel(DType::Bool, n),
        &[Data::Bool(vec![true, false, true, true, false])],
    );
    assert_eq!(
        got[0],
        Data::Bool(vec![
            false, false, true, false, true, true, false, false, false
        ])
    );
}

/// `out[i] = table[checked idx[i]]`, with `flag` the error buffer.
fn gather_kernel(index_dtype: DType, table_len: u64, n: u64) -> (Kernel, BufId) {
    let mut b = KernelBuilder::new();
    let table = b.param(DType::F32, table_len, Access::Read);
    let idx = b.param(index_dtype, n, Access::Read);
    let out = b.param(DType::F32, n, Access::Write);
    let flag = b.param(DType::I32, 1, Access::Write);
    let i = b.var(Kernel::PARALLEL);
    let raw = b.load(idx, i);
    let at: ExprId = b.expr(Expr::CheckedIndex {
        value: raw,
        len: table_len,
        flag,
    });
    let v = b.load(table, at);
    (
        b.finish(
            format!("gather_{index_dtype}"),
            n,
            vec![Stmt::Store {
                buf: out,
                index: i,
                value: v,
            }],
        ),
        flag,
    )
}

#[test]
fn checked_indices_report_out_of_range() {
    let Some(ctx) = ctx() else { return };
    let table = Data::F32((0..10).map(|i| i as f32 * 1.5).collect());
    for d in [DType::I32, DType::I64, DType::U8] {
        if !has(ctx, d) {
            continue;
        }
        let (k, flag) = gather_kernel(d, 10, 6);
        let good = Data::from_scalars(d, &[0, 9, 3, 3, 1, 0].map(|v| Scalar::from_i64(v, d)));
        let out = run(ctx, &k, &[table.clone(), good.clone()]);
        assert_eq!(out[0], Data::F32(vec![0.0, 13.5, 4.5, 4.5, 1.5, 0.0]));
        assert_eq!(out[1], Data::I32(vec![0]));
        for bad in [10i64, 200, -1] {
            if d == DType::U8 && bad < 0 {
                continue;
            }
            let idx = Data::from_scalars(d, &[0, 1, bad, 2, 3, 4].map(|v| Scalar::from_i64(v, d)));
            let err = try_run(ctx, &k, &[table.clone(), idx]).unwrap_err();
            assert_eq!(
                err,
                GpuError::IndexOutOfRange {
                    kernel: k.name.clone(),
                    flag: flag.0
                },
                "{d} {bad}"
            );
        }
    }
    // The runtime zeroes the flag before each launch: a good run after a bad one on the same buffers is Ok.
    let (k, _) = gather_kernel(DType::I32, 10, 2);
    let program = wgsl::compile(&k, &ctx.caps()).unwrap();
    let t = ctx.upload(DType::F32, &table.bytes()).unwrap();
    let idx = ctx
        .upload(DType::I32, &Data::I32(vec![1, 99]).bytes())
        .unwrap();
    let out = ctx.create_buffer(DType::F32, 2).unwrap();
    let flag = ctx.create_buffer(DType::I32, 1).unwrap();
    assert!(matches!(
        ctx.run(&program, &[&t, &idx, &out, &flag]),
        Err(GpuError::IndexOutOfRange { .. })
    ));
    ctx.write(&idx, &Data::I32(vec![1, 2]).bytes()).unwrap();
    ctx.run(&program, &[&t, &idx, &out, &flag]).unwrap();
    assert_eq!(
        Data::from_bytes(DType::F32, &ctx.download(&out).unwrap()),
        Data::F32(vec![1.5, 3.0])
    );
}

/// The IR evaluates a masked load's index only where the mask holds, and only the branch a `where`
/// picks: a checked index that is out of range only where it is not evaluated is no error.
#[test]
fn checked_indices_are_demanded_lazily() {
    let Some(ctx) = ctx() else { return };
    let n = 6;
    let mut b = KernelBuilder::new();
    let table = b.param(DType::F32, 4, Access::Read);
    let idx = b.param(DType::I32, n, Access::Read);
    let (masked_out, where_out) = (
        b.param(DType::F32, n, Access::Write),
        b.param(DType::F32, n, Access::Write),
    );
    let flag = b.param(DType::I32, 1, Access::Write);
    let i = b.var(Kernel::PARALLEL);
    let raw = b.load(idx, i);
    let at = b.expr(Expr::CheckedIndex {
        value: raw,
        len: 4,
        flag,
    });
    // masked_out[i] = i < 3 ? table[idx[i]] : 0
    let first = b.expr(Expr::InRange {
        index: i,
        lo: 0,
        hi: 3,
    });
    let masked = b.expr(Expr::Load {
        buf: table,
        index: at,
        mask: Some(first),
    });
    // where_out[i] = (i is odd) ? -1 : table[idx[i]] (an unmasked load, demanded only where i is even)
    let two = b.expr(Expr::IMod(i, 2));
    let parity = b.expr(Expr::IndexCast(two, DType::I32));
    let one = b.constant(Scalar::I32(1));
    let odd = b.binary(BinaryOp::CmpEq, parity, one);
    let minus = b.constant(Scalar::F32(-1.0));
    let looked_up = b.load(table, at);
    let picked = b.expr(Expr::Where(odd, minus, looked_up));
    let k = b.finish(
        "lazy_checks",
        n,
        vec![
            Stmt::Store {
                buf: masked_out,
                index: i,
                value: masked,
            },
            Stmt::Store {
                buf: where_out,
                index: i,
                value: picked,
            },
        ],
    );
    let t = Data::F32(vec![10.0, 11.0, 12.0, 13.0]);
    // Out of range (99) only at i = 3 and i = 5: masked off in the first store, odd in the second.
    let out = run(ctx, &k, &[t.clone(), Data::I32(vec![0, 1, 2, 99, 3, 99])]);
    assert_eq!(out[0], Data::F32(vec![10.0, 11.0, 12.0, 0.0, 0.0, 0.0]));
    assert_eq!(out[1], Data::F32(vec![10.0, -1.0, 12.0, -1.0, 13.0, -1.0]));
    assert_eq!(out[2], Data::I32(vec![0]));
    // Out of range at i = 4 (even, unmasked in the second store): an error.
    let err = try_run(ctx, &k, &[t, Data::I32(vec![0, 1, 2, 3, 99, 0])]).unwrap_err();
    assert!(matches!(err, GpuError::IndexOutOfRange { .. }), "{err}");
}

/// An accumulator read, updated again, and read again; and a nested reduction whose inner accumulator
/// is re-initialized every outer iteration, with `w[j]` hoisted out of the inner loop only.
#[test]
fn accumulator_scoping_and_hoisting() {
    let Some(ctx) = ctx() else { return };
    let (n, jn, kn) = (5u64, 3u64, 4u64);
    let mut b = KernelBuilder::new();
    let a = b.param(DType::F32, n * jn * kn, Access::Read);
    let w = b.param(DType::F32, jn, Access::Read);
    let (out0, out1) = (
        b.param(DType::F32, n, Access::Write),
        b.param(DType::F32, n, Access::Write),
    );
    let i = b.var(Kernel::PARALLEL);
    let (j, k, j2) = (b.new_var(), b.new_var(), b.new_var());
    let (outer, inner) = (b.new_acc(), b.new_acc());
    let (jv, kv, j2v) = (b.var(j), b.var(k), b.var(j2));
    let ij = b.imul(i, jn as i64);
    let ij = b.iadd(ij, jv);
    let ijk = b.imul(ij, kn as i64);
    let ijk = b.iadd(ijk, kv);
    let x = b.load(a, ijk);
    let wj = b.load(w, jv);
    let inner_v = b.expr(Expr::Acc(inner));
    let weighted = b.binary(BinaryOp::Mul, inner_v, wj);
    let outer_v = b.expr(Expr::Acc(outer));
    let two = b.constant(Scalar::F32(2.0));
    let twice = b.binary(BinaryOp::Mul, outer_v, two);
    let wj2 = b.load(w, j2v);
    let body = vec![
        Stmt::DefAcc {
            acc: outer,
            op: ReduceOp::Sum,
            dtype: DType::F32,
        },
        Stmt::Loop {
            var: j,
            extent: jn,
            body: vec![
                Stmt::DefAcc {
                    acc: inner,
                    op: ReduceOp::Sum,
                    dtype: DType::F32,
                },
                Stmt::Loop {
                    var: k,
                    extent: kn,
                    body: vec![Stmt::Accumulate {
                        acc: inner,
                        value: x,
                    }],
                },
                Stmt::Accumulate {
                    acc: outer,
                    value: weighted,
                },
            ],
        },
        Stmt::Store {
            buf: out0,
            index: i,
            value: twice,
        },
        Stmt::Loop {
            var: j2,
            extent: jn,
            body: vec![Stmt::Accumulate {
                acc: outer,
                value: wj2,
            }],
        },
        Stmt::Store {
            buf: out1,
            index: i,
            value: twice,
        },
    ];
    let kernel = b.finish("scoping", n, body);
    let av: Vec<f32> = (0..n * jn * kn).map(|v| v as f32).collect();
    let wv = vec![1.0f32, 10.0, 100.0];
    let got = run(
        ctx,
        &kernel,
        &[Data::F32(av.clone()), Data::F32(wv.clone())],
    );
    let (mut want0, mut want1) = (vec![], vec![]);
    for i in 0..n as usize {
        let mut outer = 0.0f32;
        for j in 0..jn as usize {
            let inner: f32 = (0..kn as usize)
                .map(|k| av[(i * jn as usize + j) * kn as usize + k])
                .sum();
            outer += inner * wv[j];
        }
        want0.push(outer * 2.0);
        want1.push((outer + wv.iter().sum::<f32>()) * 2.0);
    }
    assert_eq!(got[0], Data::F32(want0));
    assert_eq!(got[1], Data::F32(want1));
}

#[test]
fn u8_and_bool_round_trip_through_u32_words() {
    let Some(ctx) = ctx() else { return };
    let bytes: Vec<u8> = (0..=255).collect();
    let buf = ctx.upload(DType::U8, &bytes).unwrap();
    assert_eq!(ctx.download(&buf).unwrap(), bytes);
    let bools = vec![1u8, 0, 0, 1, 1];
    let buf = ctx.upload(DType::Bool, &bools).unwrap();
    assert_eq!(ctx.download(&buf).unwrap(), bools);
    let empty = ctx.upload(DType::F32, &[]).unwrap();
    assert!(empty.is_empty());
    assert_eq!(ctx.download(&empty).unwrap(), Vec::<u8>::new());
}

#[test]
fn runtime_errors_are_values() {
    let Some(ctx) = ctx() else { return };
    assert!(gpu::gpu_available());
    assert!(matches!(
        gpu::context(999),
        Err(GpuError::NoSuchDevice { index: 999, .. })
    ));
    let limit = ctx.max_binding_bytes();
    let err = ctx.create_buffer(DType::F32, limit / 4 + 1).unwrap_err();
    assert_eq!(
        err,
        GpuError::TooLarge {
            bytes: (limit / 4 + 1) * 4,
            limit
        }
    );
    let k = affine_i32(8);
    let program = wgsl::compile(&k, &ctx.caps()).unwrap();
    let a = ctx.create_buffer(DType::I32, 8).unwrap();
    let f = ctx.create_buffer(DType::F32, 8).unwrap();
    assert!(matches!(
        ctx.run(&program, &[&a]),
        Err(GpuError::Mismatch { .. })
    ));
    assert!(matches!(
        ctx.run(&program, &[&a, &f]),
        Err(GpuError::Mismatch { .. })
    ));
    assert!(matches!(
        ctx.run(&program, &[&a, &a]),
        Err(GpuError::Mismatch { .. })
    ));
    let short = ctx.create_buffer(DType::I32, 7).unwrap();
    assert!(matches!(
        ctx.run(&program, &[&a, &short]),
        Err(GpuError::Mismatch { .. })
    ));
    assert!(matches!(
        ctx.upload(DType::I32, &[1, 2, 3]),
        Err(GpuError::Mismatch { .. })
    ));
    // More buffers than one kernel may bind.
    let many = 40;
    let mut b = KernelBuilder::new();
    let ins: Vec<BufId> = (0..many)
        .map(|_| b.param(DType::F32, 4, Access::Read))
        .collect();
    let out = b.param(DType::F32, 4, Access::Write);
    let i = b.var(Kernel::PARALLEL);
    let mut sum = b.load(ins[0], i);
    for &p in &ins[1..] {
        let x = b.load(p, i);
        sum = b.binary(BinaryOp::Add, sum, x);
    }
    let k = b.finish(
        "wide",
        4,
        vec![Stmt::Store {
            buf: out,
            index: i,
            value: sum,
        }],
    );
    let inputs = vec![Data::F32(vec![1.0; 4]); many];
    match try_run(ctx, &k, &inputs) {
        Err(GpuError::Unsupported(msg)) => assert!(msg.contains("41 buffers"), "{msg}"),
        Ok(out) => assert_eq!(out[0], Data::F32(vec![40.0; 4])), // a device that allows 41
        Err(e) => panic!("{e}"),
    }
}
