//! Hand-built kernels through the CPU JIT, compared with the reference evaluator.

mod cpu_common;

use cpu_common::{Fill, Rng, Tol, check, random, ulps};
use smelt_codegen::eval::HostData;
use smelt_codegen::kernel::{Access, Expr, Kernel, KernelBuilder, Stmt};
use smelt_codegen::{BinaryOp, DType, ReduceOp, Scalar, UnaryOp};

/// `out[i] = exp(a[i]) * b[i] + c[i]` over `n` elements.
fn exp_mul_add(n: u64) -> Kernel {
    let mut b = KernelBuilder::new();
    let (a, bb, c) = (b.param(DType::F32, n, Access::Read), b.param(DType::F32, n, Access::Read), b.param(DType::F32, n, Access::Read));
    let out = b.param(DType::F32, n, Access::Write);
    let i = b.var(Kernel::PARALLEL);
    let (la, lb, lc) = (b.load(a, i), b.load(bb, i), b.load(c, i));
    let e = b.unary(UnaryOp::Exp, la);
    let m = b.binary(BinaryOp::Mul, e, lb);
    let s = b.binary(BinaryOp::Add, m, lc);
    b.finish("E_exp_mul_add", n, vec![Stmt::Store { buf: out, index: i, value: s }])
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
