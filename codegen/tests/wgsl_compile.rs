//! The WGSL backend without a GPU: every op × dtype translates to WGSL that naga parses and validates;
//! limits give `Unsupported`; a few programs are snapshot-tested.

use smelt_codegen::kernel::{Access, Expr, Kernel, KernelBuilder, Stmt};
use smelt_codegen::matmul::{MatmulSpec, Strided};
use smelt_codegen::wgsl::{self, Caps, GpuElem, WgslProgram};
use smelt_codegen::{BinaryOp, CodegenError, DType, ReduceOp, Scalar, UnaryOp};

const UNARY: [UnaryOp; 16] = UnaryOp::ALL;

const BINARY: [BinaryOp; 15] = BinaryOp::ALL;

/// `out[i] = op(a[i])`.
fn unary_kernel(op: UnaryOp, d: DType, n: u64) -> Kernel {
    let mut b = KernelBuilder::new();
    let a = b.param(d, n, Access::Read);
    let out = b.param(d, n, Access::Write);
    let i = b.var(Kernel::PARALLEL);
    let x = b.load(a, i);
    let y = b.unary(op, x);
    b.finish(
        format!("{op}_{d}"),
        n,
        vec![Stmt::Store {
            buf: out,
            index: i,
            value: y,
        }],
    )
}

/// `out[i] = op(a[i], b[i])`.
fn binary_kernel(op: BinaryOp, d: DType, n: u64) -> Kernel {
    let mut b = KernelBuilder::new();
    let (pa, pb) = (b.param(d, n, Access::Read), b.param(d, n, Access::Read));
    let out = b.param(op.result_dtype(d), n, Access::Write);
    let i = b.var(Kernel::PARALLEL);
    let (x, y) = (b.load(pa, i), b.load(pb, i));
    let z = b.binary(op, x, y);
    b.finish(
        format!("{op}_{d}"),
        n,
        vec![Stmt::Store {
            buf: out,
            index: i,
            value: z,
        }],
    )
}

/// `out[i] = a[i] as to`.
fn cast_kernel(from: DType, to: DType, n: u64) -> Kernel {
    let mut b = KernelBuilder::new();
    let a = b.param(from, n, Access::Read);
    let out = b.param(to, n, Access::Write);
    let i = b.var(Kernel::PARALLEL);
    let x = b.load(a, i);
    let y = b.expr(Expr::Cast(x, to));
    b.finish(
        format!("cast_{from}_{to}"),
        n,
        vec![Stmt::Store {
            buf: out,
            index: i,
            value: y,
        }],
    )
}

/// `out[r] = reduce_c a[r, c]` over a `rows × cols` matrix.
fn reduce_rows(op: ReduceOp, d: DType, rows: u64, cols: u64) -> Kernel {
    let mut b = KernelBuilder::new();
    let a = b.param(d, rows * cols, Access::Read);
    let out = b.param(d, rows, Access::Write);
    let (r, c) = (b.var(Kernel::PARALLEL), b.new_var());
    let acc = b.new_acc();
    let cv = b.var(c);
    let base = b.imul(r, cols as i64);
    let idx = b.iadd(base, cv);
    let x = b.load(a, idx);
    let total = b.expr(Expr::Acc(acc));
    let body = vec![
        Stmt::DefAcc { acc, op, dtype: d },
        Stmt::Loop {
            var: c,
            extent: cols,
            body: vec![Stmt::Accumulate { acc, value: x }],
        },
        Stmt::Store {
            buf: out,
            index: r,
            value: total,
        },
    ];
    b.finish(format!("reduce_{op}_{d}"), rows, body)
}

fn check(k: &Kernel, caps: &Caps) -> Result<WgslProgram, CodegenError> {
    wgsl::compile(k, caps)
}

fn is_unsupported(r: &Result<WgslProgram, CodegenError>) -> bool {
    matches!(r, Err(CodegenError::Unsupported { .. }))
}

#[test]
fn every_unary_op_and_dtype_validates() {
    let mut n = 0;
    for op in UNARY {
        for d in DType::ALL {
            let k = unary_kernel(op, d, 7);
            if smelt_codegen::kernel::verify(&k).is_err() {
                continue; // the IR itself rejects it (exp of i32, not of f32)
            }
            let p = check(&k, &Caps::ALL).unwrap_or_else(|e| panic!("{op} {d}: {e}"));
            assert_eq!(p.bindings[0].elem, GpuElem::of(d));
            n += 1;
        }
    }
    assert_eq!(
        n, 43,
        "30 float ops, neg/abs/sign of 3 integer dtypes and bool, not of bool"
    );
}

#[test]
fn every_binary_op_and_dtype_validates() {
    for op in BINARY {
        for d in DType::ALL {
            let k = binary_kernel(op, d, 5);
            if smelt_codegen::kernel::verify(&k).is_err() {
                continue;
            }
            check(&k, &Caps::ALL).unwrap_or_else(|e| panic!("{op} {d}: {e}"));
        }
    }
}

#[test]
fn every_cast_validates() {
    for from in DType::ALL {
        for to in DType::ALL {
            check(&cast_kernel(from, to, 3), &Caps::ALL)
                .unwrap_or_else(|e| panic!("{from} -> {to}: {e}"));
        }
    }
}

#[test]
fn every_reduction_validates() {
    for op in [ReduceOp::Sum, ReduceOp::Prod, ReduceOp::Max, ReduceOp::Min] {
        for d in DType::ALL {
            check(&reduce_rows(op, d, 3, 5), &Caps::ALL)
                .unwrap_or_else(|e| panic!("{op} {d}: {e}"));
        }
    }
}

#[test]
fn constants_of_every_dtype_validate() {
    let consts = [
        Scalar::F32(f32::NAN),
        Scalar::F32(f32::INFINITY),
        Scalar::F32(f32::NEG_INFINITY),
        Scalar::F32(-0.0),
        Scalar::F32(1e-45),
        Scalar::F32(f32::MAX),
        Scalar::F64(f64::NAN),
        Scalar::F64(f64::NEG_INFINITY),
        Scalar::F64(5e-324),
        Scalar::F64(f64::MAX),
        Scalar::I32(i32::MIN),
        Scalar::I32(i32::MAX),
        Scalar::I64(i64::MIN),
        Scalar::I64(i64::MAX),
        Scalar::U8(255),
        Scalar::Bool(true),
    ];
    for s in consts {
        let d = s.dtype();
        let mut b = KernelBuilder::new();
        let out = b.param(d, 4, Access::Write);
        let i = b.var(Kernel::PARALLEL);
        let c = b.constant(s);
        // An operation on constants alone: naga must not fold it at compile time.
        let v = if d.is_bool() {
            c
        } else {
            b.binary(BinaryOp::Add, c, c)
        };
        let k = b.finish(
            "consts",
            4,
            vec![Stmt::Store {
                buf: out,
                index: i,
                value: v,
            }],
        );
        check(&k, &Caps::ALL).unwrap_or_else(|e| panic!("{s}: {e}"));
    }
}

#[test]
fn missing_caps_are_unsupported_and_name_the_dtype() {
    let none = Caps::default();
    for d in [DType::F64, DType::I64] {
        let r = check(&binary_kernel(BinaryOp::Add, d, 4), &none);
        let Err(CodegenError::Unsupported { what, .. }) = r else {
            panic!("{d}: {r:?}")
        };
        assert!(what.contains(d.name()), "{what}");
    }
    // A cast to f64 in an f32 kernel needs f64 as well.
    assert!(is_unsupported(&check(
        &cast_kernel(DType::F32, DType::F64, 4),
        &none
    )));
    check(&cast_kernel(DType::F32, DType::I32, 4), &none).unwrap();
    let spec = matmul_spec(DType::F64, 1, 4, 4, 4);
    assert!(matches!(
        wgsl::matmul(&spec, &none),
        Err(CodegenError::Unsupported { .. })
    ));
}

#[test]
fn sizes_beyond_i32_are_unsupported() {
    let big = i32::MAX as u64 + 1;
    assert!(is_unsupported(&check(
        &unary_kernel(UnaryOp::Neg, DType::F32, big),
        &Caps::ALL
    )));
    check(
        &unary_kernel(UnaryOp::Neg, DType::F32, i32::MAX as u64),
        &Caps::ALL,
    )
    .unwrap();
    let spec = matmul_spec(DType::F32, 1, 1 << 16, 1 << 16, 1);
    assert!(matches!(
        wgsl::matmul(&spec, &Caps::ALL),
        Err(CodegenError::Unsupported { .. })
    ));
}

#[test]
fn a_malformed_kernel_is_a_verify_error() {
    let mut k = unary_kernel(UnaryOp::Neg, DType::F32, 8);
    k.extent = 9;
    assert!(matches!(
        check(&k, &Caps::ALL),
        Err(CodegenError::Verify(_))
    ));
}

#[test]
fn bindings_describe_the_gpu_layout() {
    let p = check(&cast_kernel(DType::Bool, DType::U8, 10), &Caps::ALL).unwrap();
    assert_eq!(p.bindings.len(), 2);
    assert_eq!(
        (
            p.bindings[0].dtype,
            p.bindings[0].elem,
            p.bindings[0].access
        ),
        (DType::Bool, GpuElem::U32, Access::Read)
    );
    assert_eq!(
        (
            p.bindings[1].dtype,
            p.bindings[1].elem,
            p.bindings[1].access
        ),
        (DType::U8, GpuElem::U32, Access::Write)
    );
    assert_eq!(p.uniform_binding, 2);
    assert_eq!(
        (p.units, p.units_per_workgroup, p.workgroup_size),
        (10, 256, 256)
    );
    assert!(
        p.source.contains("var<storage, read> b0: array<u32>;"),
        "{}",
        p.source
    );
}

fn matmul_spec(dtype: DType, batch: u64, m: u64, k: u64, n: u64) -> MatmulSpec {
    MatmulSpec {
        dtype,
        batch,
        m,
        n,
        k,
        a: Strided {
            offset: 0,
            batch_stride: m * k,
            row_stride: k,
            col_stride: 1,
        },
        b: Strided {
            offset: 0,
            batch_stride: k * n,
            row_stride: n,
            col_stride: 1,
        },
    }
}

#[test]
fn matmul_validates_for_many_shapes() {
    for (batch, m, k, n) in [
        (1, 1, 1, 1),
        (3, 65, 17, 130),
        (2, 7, 0, 5),
        (1, 0, 3, 3),
        (5, 64, 64, 64),
    ] {
        for d in [DType::F32, DType::F64] {
            let p = wgsl::matmul(&matmul_spec(d, batch, m, k, n), &Caps::ALL).unwrap();
            assert_eq!(p.units, batch * m.div_ceil(64) * n.div_ceil(64));
            assert_eq!(p.bindings[2].len, batch * m * n);
        }
    }
    // Transposed A, broadcast B.
    let mut spec = matmul_spec(DType::F32, 4, 33, 9, 40);
    spec.a = Strided {
        offset: 3,
        batch_stride: 33 * 9,
        row_stride: 1,
        col_stride: 33,
    };
    spec.b = Strided {
        offset: 0,
        batch_stride: 0,
        row_stride: 40,
        col_stride: 1,
    };
    let p = wgsl::matmul(&spec, &Caps::ALL).unwrap();
    assert_eq!(p.bindings[0].len, 3 + 3 * 33 * 9 + 32 + 8 * 33 + 1);
    assert_eq!(p.bindings[1].len, 9 * 40);
    assert!(matches!(
        wgsl::matmul(&matmul_spec(DType::I32, 1, 2, 2, 2), &Caps::ALL),
        Err(CodegenError::Unsupported { .. })
    ));
}

#[test]
fn print_samples() {
    for k in [
        unary_kernel(UnaryOp::Erf, DType::F32, 7),
        reduce_rows(ReduceOp::Max, DType::F32, 3, 5),
    ] {
        println!("{}", check(&k, &Caps::ALL).unwrap().source);
    }
}

/// A kernel of 200 statements (a store of a fresh expression each) translates and validates quickly.
#[test]
fn compile_time_of_a_200_statement_kernel() {
    let n = 1024;
    let mut b = KernelBuilder::new();
    let a = b.param(DType::F32, n, Access::Read);
    let outs: Vec<_> = (0..4)
        .map(|_| b.param(DType::F32, n * 50, Access::Write))
        .collect();
    let i = b.var(Kernel::PARALLEL);
    let mut x = b.load(a, i);
    let mut body = Vec::new();
    for s in 0..200u64 {
        let c = b.constant(Scalar::F32(s as f32 * 0.25 + 1.0));
        let y = b.binary(BinaryOp::Mul, x, c);
        x = b.unary(
            if s % 2 == 0 {
                UnaryOp::Tanh
            } else {
                UnaryOp::Sin
            },
            y,
        );
        let base = b.imul(i, 50);
        let off = b.index((s / 4) as i64);
        let idx = b.iadd(base, off);
        body.push(Stmt::Store {
            buf: outs[(s % 4) as usize],
            index: idx,
            value: x,
        });
    }
    let k = b.finish("long", n, body);
    let start = std::time::Instant::now();
    let p = check(&k, &Caps::ALL).unwrap();
    let secs = start.elapsed().as_secs_f64();
    let start = std::time::Instant::now();
    smelt_codegen::kernel::verify(&k).unwrap();
    let verify_secs = start.elapsed().as_secs_f64();
    let start = std::time::Instant::now();
    let module = naga::front::wgsl::parse_str(&p.source).unwrap();
    naga::valid::Validator::new(
        naga::valid::ValidationFlags::all(),
        naga::valid::Capabilities::all(),
    )
    .validate(&module)
    .unwrap();
    let naga_secs = start.elapsed().as_secs_f64();
    println!(
        "200 statements, {} bytes of WGSL: compiled in {:.2} ms (IR verifier {:.2} ms, naga {:.2} ms)",
        p.source.len(),
        secs * 1e3,
        verify_secs * 1e3,
        naga_secs * 1e3
    );
    assert!(secs < 2.0, "{secs} s");
}
