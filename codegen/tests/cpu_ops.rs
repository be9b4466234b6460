//! Every operation on every dtype it allows, every cast, through the CPU JIT (vectorized and scalar),
//! compared with the reference evaluator on values that include the edge cases.

mod cpu_common;

use cpu_common::{EXACT, Fill, Rng, Tol, check, random, ulps};
use smelt_codegen::eval::HostData;
use smelt_codegen::kernel::{Access, Expr, ExprId, Kernel, KernelBuilder, Stmt};
use smelt_codegen::{BinaryOp, DType, Scalar, UnaryOp};

const N: u64 = 37; // vector main loop, 4-lane loop and scalar tail all run

const UNARY: [UnaryOp; 16] = UnaryOp::ALL;

const BINARY: [BinaryOp; 15] = BinaryOp::ALL;

fn unary_allowed(op: UnaryOp, d: DType) -> bool {
    match op {
        UnaryOp::Not => d == DType::Bool,
        op if op.float_only() => d.is_float(),
        _ => true,
    }
}

fn binary_allowed(op: BinaryOp, d: DType) -> bool {
    !(op.is_bitwise() && d.is_float())
}

/// Input values for a dtype: edge cases mixed with ordinary ones.
fn inputs_for(d: DType, rng: &mut Rng) -> HostData {
    let range = match d {
        DType::F32 | DType::F64 => (-12.0, 12.0),
        DType::U8 => (0.0, 255.0),
        _ => (-40.0, 40.0),
    };
    random(d, N as usize, Fill::Edgy(range.0, range.1), rng)
}

/// The tolerance for `f32` inline math (exact everywhere else).
fn tol_for(d: DType, libm_like: bool) -> Tol {
    if d == DType::F32 && libm_like {
        ulps(4)
    } else {
        EXACT
    }
}

/// `out[i] = f(loads of b0.. at i)`.
fn elementwise(
    name: &str,
    ins: &[DType],
    out: DType,
    f: impl FnOnce(&mut KernelBuilder, &[ExprId]) -> ExprId,
) -> Kernel {
    let mut b = KernelBuilder::new();
    let bufs: Vec<_> = ins.iter().map(|d| b.param(*d, N, Access::Read)).collect();
    let o = b.param(out, N, Access::Write);
    let i = b.var(Kernel::PARALLEL);
    let loads: Vec<ExprId> = bufs.iter().map(|&buf| b.load(buf, i)).collect();
    let v = f(&mut b, &loads);
    b.finish(
        name,
        N,
        vec![Stmt::Store {
            buf: o,
            index: i,
            value: v,
        }],
    )
}

#[test]
fn unary_ops_on_every_dtype() {
    let mut rng = Rng(7);
    for d in DType::ALL {
        for op in UNARY {
            if !unary_allowed(op, d) {
                continue;
            }
            let k = elementwise(&format!("{op}_{d}"), &[d], d, |b, l| b.unary(op, l[0]));
            let libm = matches!(
                op,
                UnaryOp::Exp
                    | UnaryOp::Log
                    | UnaryOp::Sin
                    | UnaryOp::Cos
                    | UnaryOp::Tanh
                    | UnaryOp::Erf
            );
            let inputs = vec![inputs_for(d, &mut rng), HostData::zeros(d, N as usize)];
            check(&k, &inputs, tol_for(d, libm));
        }
    }
}

#[test]
fn binary_ops_on_every_dtype() {
    let mut rng = Rng(8);
    for d in DType::ALL {
        for op in BINARY {
            if !binary_allowed(op, d) {
                continue;
            }
            let out = op.result_dtype(d);
            let k = elementwise(&format!("{op}_{d}"), &[d, d], out, |b, l| {
                b.binary(op, l[0], l[1])
            });
            let mut a = inputs_for(d, &mut rng);
            let mut e = inputs_for(d, &mut rng);
            if op == BinaryOp::Pow && !d.is_float() {
                // Exponents from -3 to 40, and some bases that matter for negative exponents.
                e = random(
                    d,
                    N as usize,
                    Fill::Range(if d == DType::U8 { 0.0 } else { -3.0 }, 40.0),
                    &mut rng,
                );
                a.set(0, Scalar::I64(1).cast(d));
                a.set(1, Scalar::I64(-1).cast(d));
            }
            let inputs = vec![a, e, HostData::zeros(out, N as usize)];
            check(&k, &inputs, tol_for(d, op == BinaryOp::Pow));
        }
    }
}

/// One operand is the same in every lane (a constant, or a load at a fixed index): vector-scalar mixes.
#[test]
fn binary_ops_with_uniform_operands() {
    let mut rng = Rng(9);
    for d in DType::ALL {
        for op in BINARY {
            if !binary_allowed(op, d) {
                continue;
            }
            let out = op.result_dtype(d);
            let c = match d {
                DType::F32 => Scalar::F32(3.0),
                DType::F64 => Scalar::F64(-2.5),
                _ => Scalar::I64(3).cast(d),
            };
            let mut b = KernelBuilder::new();
            let (x, y) = (b.param(d, N, Access::Read), b.param(d, N, Access::Read));
            let (o1, o2) = (
                b.param(out, N, Access::Write),
                b.param(out, N, Access::Write),
            );
            let i = b.var(Kernel::PARALLEL);
            let xi = b.load(x, i);
            let zero = b.index(0);
            let y0 = b.load(y, zero);
            let k = b.constant(c);
            let v1 = b.binary(op, xi, k);
            let v2 = b.binary(op, y0, xi);
            let kernel = b.finish(
                format!("{op}_{d}_uniform"),
                N,
                vec![
                    Stmt::Store {
                        buf: o1,
                        index: i,
                        value: v1,
                    },
                    Stmt::Store {
                        buf: o2,
                        index: i,
                        value: v2,
                    },
                ],
            );
            let inputs = vec![
                inputs_for(d, &mut rng),
                inputs_for(d, &mut rng),
                HostData::zeros(out, N as usize),
                HostData::zeros(out, N as usize),
            ];
            check(&kernel, &inputs, tol_for(d, op == BinaryOp::Pow));
        }
    }
}

#[test]
fn constant_exponents_of_pow() {
    let mut rng = Rng(10);
    for e in [0.0f32, 1.0, 2.0, 3.0, 4.0, -1.0, 0.5, -2.5, 7.0] {
        let k = elementwise("pow_const", &[DType::F32], DType::F32, |b, l| {
            let c = b.constant(Scalar::F32(e));
            b.binary(BinaryOp::Pow, l[0], c)
        });
        let inputs = vec![
            inputs_for(DType::F32, &mut rng),
            HostData::zeros(DType::F32, N as usize),
        ];
        check(&k, &inputs, ulps(3));
    }
}

#[test]
fn casts_between_all_dtypes() {
    let mut rng = Rng(11);
    for from in DType::ALL {
        for to in DType::ALL {
            let k = elementwise(&format!("cast_{from}_{to}"), &[from], to, |b, l| {
                b.expr(Expr::Cast(l[0], to))
            });
            let mut a = inputs_for(from, &mut rng);
            if from.is_float() {
                // Out of range for every integer type, both signs, and fractions.
                for (i, v) in [
                    300.7, -300.7, 3e9, -3e9, 1e19, -1e19, 1e30, -0.9, 0.9, 255.5,
                ]
                .into_iter()
                .enumerate()
                {
                    a.set(i, Scalar::F64(v).cast(from));
                }
            }
            let inputs = vec![a, HostData::zeros(to, N as usize)];
            check(&k, &inputs, EXACT);
        }
    }
}

#[test]
fn where_and_comparisons_on_every_dtype() {
    let mut rng = Rng(12);
    for d in DType::ALL {
        // out = where(a < b, a, b), and a bool from a loaded mask.
        let k = elementwise(&format!("where_{d}"), &[d, d, DType::Bool], d, |b, l| {
            let lt = b.binary(BinaryOp::CmpLt, l[0], l[1]);
            let w = b.expr(Expr::Where(lt, l[0], l[1]));
            b.expr(Expr::Where(l[2], w, l[1]))
        });
        let inputs = vec![
            inputs_for(d, &mut rng),
            inputs_for(d, &mut rng),
            inputs_for(DType::Bool, &mut rng),
            HostData::zeros(d, N as usize),
        ];
        check(&k, &inputs, EXACT);
    }
}

#[test]
fn index_casts_and_ranges() {
    for d in [DType::U8, DType::I32, DType::I64, DType::F32, DType::F64] {
        for (scale, offset) in [(1i64, 0i64), (3, -50), (-2, 7), (1 << 40, 5), (1 << 61, -3)] {
            let mut b = KernelBuilder::new();
            let o = b.param(d, N, Access::Write);
            let m = b.param(DType::Bool, N, Access::Write);
            let i = b.var(Kernel::PARALLEL);
            let s = b.imul(i, scale);
            let off = b.index(offset);
            let x = b.iadd(s, off);
            let v = b.expr(Expr::IndexCast(x, d));
            let r = b.expr(Expr::InRange {
                index: x,
                lo: -10,
                hi: 20,
            });
            let k = b.finish(
                "index_cast",
                N,
                vec![
                    Stmt::Store {
                        buf: o,
                        index: i,
                        value: v,
                    },
                    Stmt::Store {
                        buf: m,
                        index: i,
                        value: r,
                    },
                ],
            );
            check(
                &k,
                &[
                    HostData::zeros(d, N as usize),
                    HostData::zeros(DType::Bool, N as usize),
                ],
                EXACT,
            );
        }
    }
}
