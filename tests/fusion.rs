//! Fusion: kernel counts (as tinygrad's `check_schedule`), and every program's values through the
//! compiler pipeline equal to the reference interpreter's.

use smelt::prelude::*;
use smelt::{Backend, with_backend};

/// Asserts the number of kernel launches for realizing `t`, and that the pipeline (kernels run by the
/// kernel IR evaluator) computes what the graph interpreter computes.
#[track_caller]
fn check(t: &Tensor, kernels: usize) {
    let compiled = smelt::compile_debug(&[t]).unwrap();
    let n = compiled.schedule.kernel_count();
    assert_eq!(n, kernels, "kernel count\n{}", compiled.schedule);
    assert_same(t);
}

#[track_caller]
fn assert_same(t: &Tensor) {
    let want = with_backend(Backend::Interp, || {
        t.detach().to_dtype(DType::F64).to_vec::<f64>()
    })
    .unwrap();
    // A fresh handle so the second realize does not reuse the first one's buffer.
    let again = with_backend(Backend::Eval, || {
        rebuild(t).to_dtype(DType::F64).to_vec::<f64>()
    })
    .unwrap();
    assert_eq!(want.len(), again.len());
    for (i, (a, b)) in want.iter().zip(&again).enumerate() {
        let tol = 1e-5 * (1.0 + a.abs());
        assert!(
            (a - b).abs() <= tol || (a.is_nan() && b.is_nan()),
            "element {i}: interp {a} vs pipeline {b}"
        );
    }
}

/// The same computation as a new, unrealized tensor (`detach` of an unrealized tensor shares its op and
/// operands but is a new node).
fn rebuild(t: &Tensor) -> Tensor {
    t.to_dtype(t.dtype()).reshape(t.shape().clone()) * 1.0f64.min(1.0) + 0.0 * 0.0
}

fn randn(shape: &[usize]) -> Tensor {
    Tensor::randn(shape.to_vec(), DType::F32).realize().unwrap()
}

#[test]
fn elementwise_chain_is_one_kernel() {
    let (a, b, c) = (randn(&[64, 33]), randn(&[64, 33]), randn(&[64, 33]));
    check(&(a.exp() * &b + &c), 1);
    check(&a.gelu_tanh(), 1);
    check(&a.gelu(), 1);
}

#[test]
fn reduce_fuses_with_producers() {
    let x = randn(&[37, 129]);
    check(&x.exp().sum_dim(&[1], false), 1);
    check(&x.sum_dim(&[0], false), 1);
    check(&(x.mean_dim(&[1], true) * 2.0), 1);
}

#[test]
fn softmax_is_one_kernel() {
    let x = randn(&[16, 100]);
    check(&x.softmax(-1), 1);
    // A column softmax under a row-major loop nest would recompute each column reduction per row, so
    // the two reductions get buffers of their own.
    check(&x.softmax(0), 3);
    check(&x.log_softmax(1), 1);
}

#[test]
fn matmul_and_epilogue() {
    let (a, w, b) = (randn(&[32, 48]), randn(&[48, 24]), randn(&[24]));
    check(&a.matmul(&w), 1);
    check(&(a.matmul(&w) + &b).relu(), 2);
    check(&a.matmul(&a.t()), 1);
    let batched = randn(&[3, 5, 7]);
    check(&batched.matmul(&randn(&[3, 7, 4])), 1);
    check(&batched.matmul(&randn(&[7, 2])), 1);
}

#[test]
fn big_sum_splits_in_two() {
    let x = randn(&[1 << 16]);
    check(&x.sum(), 2);
    let odd = randn(&[65_537]);
    check(&odd.max(), 2);
}

#[test]
fn views_are_index_math() {
    let x = randn(&[6, 8]);
    check(&x.t().reshape([4, 12]).slice(1, 1, 11, 3).exp(), 1);
    check(&x.pad(&[1, 2, -1, 0], 0.5), 1);
    check(&Tensor::cat(&[&x, &x.exp()], 0), 1);
    check(&x.expand([3, 6, 8]).sum_dim(&[0], false), 1);
}

#[test]
fn gather_and_index_select() {
    let x = randn(&[5, 7]);
    let idx = Tensor::from_vec(vec![4i64, 0, 2], [3]);
    check(&x.index_select(0, &idx), 1);
    let bad = Tensor::from_vec(vec![5i64], [1]);
    let err = with_backend(Backend::Eval, || x.index_select(0, &bad).realize()).unwrap_err();
    assert!(
        matches!(err, Error::IndexOutOfRange { size: 5, .. }),
        "{err}"
    );
}

#[test]
fn argmax_var_and_friends() {
    let x = randn(&[9, 31]);
    check(&x.argmax(1, false), 1);
    check(&x.var_dim(&[1], false), 1);
    check(&x.logsumexp(0), 1);
}
