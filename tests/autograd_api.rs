//! The autograd API's semantics (accumulation, leaves, grad mode, errors), higher-order gradients, and
//! PyTorch's values at kinks and ties, all with hand-worked expected values.

use smelt::prelude::*;

fn v64(t: &Tensor) -> Vec<f64> {
    t.to_vec::<f64>().unwrap()
}

fn leaf(v: &[f64]) -> Tensor {
    Tensor::from_slice(v, [v.len()]).requires_grad_(true)
}

/// The gradient of `f(x)` for `x = v` via `backward`.
fn grad_of(v: &[f64], f: impl Fn(&Tensor) -> Tensor) -> Vec<f64> {
    let x = leaf(v);
    f(&x).backward();
    v64(&x.grad().unwrap())
}

fn close(a: &[f64], b: &[f64], tol: f64) -> bool {
    a.len() == b.len()
        && a.iter()
            .zip(b)
            .all(|(x, y)| (x - y).abs() <= tol * y.abs().max(1.0))
}

// ---- the seed's example ----

#[test]
fn seed_matmul_plus_dot() {
    let a = Tensor::from_vec(
        (0..100).map(|i| i as f32 * 0.5 - 7.0).collect::<Vec<_>>(),
        [10, 10],
    )
    .requires_grad_(true);
    let b = Tensor::from_vec((0..10).map(|i| 3.0 - i as f32).collect::<Vec<_>>(), [10])
        .requires_grad_(true);
    let xs: Vec<f32> = (0..10).map(|i| (i as f32) - 4.0).collect();
    let x = Tensor::from_slice(&xs, [10]);
    let result = a.matmul(&x) + b.dot(&x);
    result.sum().backward();
    // d/dA sum_i (A x)_i = outer(ones, x); d/db of 10 (b·x) = 10 x.
    let ga = a.grad().unwrap();
    assert_eq!(ga.shape(), &[10, 10]);
    let want_a: Vec<f32> = (0..10).flat_map(|_| xs.iter().copied()).collect();
    assert_eq!(ga.to_vec::<f32>().unwrap(), want_a);
    assert_eq!(
        b.grad().unwrap().to_vec::<f32>().unwrap(),
        xs.iter().map(|v| 10.0 * v).collect::<Vec<_>>()
    );
    assert!(x.grad().is_none());
}

// ---- accumulation, zero_grad, leaves ----

#[test]
fn backward_accumulates_until_zero_grad() {
    let x = leaf(&[1.0, -2.0, 3.0]);
    let loss = || (&x * &x).sum();
    loss().backward();
    assert_eq!(v64(&x.grad().unwrap()), vec![2.0, -4.0, 6.0]);
    loss().backward();
    assert_eq!(v64(&x.grad().unwrap()), vec![4.0, -8.0, 12.0]);
    x.zero_grad();
    assert!(x.grad().is_none());
    (&x * 3.0).sum().backward();
    assert_eq!(v64(&x.grad().unwrap()), vec![3.0, 3.0, 3.0]);
}

#[test]
fn the_same_graph_can_run_backward_twice() {
    let x = leaf(&[2.0]);
    let y = x.exp().sum();
    y.backward();
    y.backward();
    assert!(close(&v64(&x.grad().unwrap()), &[2.0 * 2f64.exp()], 1e-15));
}

#[test]
fn gradients_flow_only_to_leaves() {
    let x = leaf(&[1.0, 2.0]);
    let h = &x * 2.0;
    assert!(h.requires_grad() && !h.is_leaf() && x.is_leaf());
    (&h * &h).sum().backward();
    assert_eq!(v64(&x.grad().unwrap()), vec![8.0, 16.0]);
    assert!(h.grad().is_none());
}

#[test]
fn realized_intermediates_keep_their_history() {
    let x = leaf(&[1.0, 2.0]);
    let h = (&x * 2.0).realize().unwrap();
    (&h * &h).sum().backward();
    assert_eq!(v64(&x.grad().unwrap()), vec![8.0, 16.0]);
}

#[test]
fn backward_gradients_record_no_history() {
    let x = leaf(&[1.0, 2.0]);
    (&x * &x).sum().backward();
    let g = x.grad().unwrap();
    assert!(g.is_realized() && !g.requires_grad());
}

#[test]
fn set_grad_checks_shape() {
    let x = leaf(&[1.0, 2.0]);
    x.set_grad(Some(Tensor::new([5.0f64, 6.0])));
    (&x * 1.0).sum().backward();
    assert_eq!(v64(&x.grad().unwrap()), vec![6.0, 7.0]);
    assert!(x.try_set_grad(Some(Tensor::new([1.0f32, 2.0]))).is_err());
    assert!(x.try_set_grad(Some(Tensor::new([1.0f64]))).is_err());
}

// ---- grad mode, detach, requires_grad_ ----

#[test]
fn no_grad_cuts_history() {
    let x = leaf(&[1.0, 2.0]);
    let y = smelt::no_grad(|| (&x * 2.0).sum());
    assert!(!y.requires_grad());
    assert!(smelt::is_grad_enabled());
    let err = y.try_backward().unwrap_err();
    assert!(err.to_string().contains("does not require grad"), "{err}");
    // Part of a graph built inside no_grad is a constant to the rest.
    let c = smelt::no_grad(|| &x * 3.0);
    (&c * &x).sum().backward();
    assert_eq!(v64(&x.grad().unwrap()), vec![3.0, 6.0]);
}

#[test]
fn detach_cuts_history() {
    let x = leaf(&[1.0, 2.0]);
    let d = x.detach();
    assert!(!d.requires_grad() && x.requires_grad());
    // d(x·stop(x))/dx = x, not 2x.
    (&x * &d).sum().backward();
    assert_eq!(v64(&x.grad().unwrap()), vec![1.0, 2.0]);
    // Unrealized tensors detach too.
    let x = leaf(&[1.0, 2.0]);
    let h = (&x * &x).detach();
    assert!(!h.is_realized());
    (&x * &h).sum().backward();
    assert_eq!(v64(&x.grad().unwrap()), vec![1.0, 4.0]);
}

#[test]
fn detached_copy_becomes_a_new_leaf() {
    let x = leaf(&[1.0, 2.0]);
    let h = &x * 2.0;
    let d = h.detach().requires_grad_(true);
    assert!(d.is_leaf() && !h.is_leaf());
    (&d * &d).sum().backward();
    assert_eq!(v64(&d.grad().unwrap()), vec![4.0, 8.0]);
    assert!(x.grad().is_none());
    // Marking a detached tensor leaves the original alone.
    let c = Tensor::new([1.0f64]);
    let e = c.detach().requires_grad_(true);
    assert!(e.requires_grad() && !c.requires_grad());
}

#[test]
fn requires_grad_errors_as_pytorch() {
    let i = Tensor::new([1i64, 2]);
    let err = i.try_requires_grad_(true).unwrap_err();
    assert!(err.to_string().contains("floating point"), "{err}");
    assert!(
        std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| i.requires_grad_(true))).is_err()
    );
    let x = leaf(&[1.0]);
    let h = &x * 2.0;
    assert!(h.try_requires_grad_(false).is_err());
    assert!(x.try_requires_grad_(false).is_ok() && !x.requires_grad());
    // Integer results of float inputs carry no gradient.
    let x = leaf(&[1.0, 3.0]);
    assert!(!x.argmax(0, false).requires_grad() && !x.gt_scalar(0.0).requires_grad());
}

#[test]
fn backward_of_non_scalar_panics() {
    let x = leaf(&[1.0, 2.0]);
    let y = &x * 2.0;
    let err = y.try_backward().unwrap_err();
    assert!(
        err.to_string()
            .contains("grad can be implicitly created only for scalar outputs"),
        "{err}"
    );
    let caught =
        std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| y.backward())).unwrap_err();
    let msg = caught.downcast_ref::<String>().unwrap();
    assert!(msg.contains("only for scalar outputs"), "{msg}");
    // One element of any shape is fine, as in PyTorch.
    (&x * 2.0).sum_dim(&[0], true).backward();
    assert_eq!(v64(&x.grad().unwrap()), vec![2.0, 2.0]);
}

// ---- smelt::grad ----

#[test]
fn grad_of_unused_input_is_zero() {
    let x = leaf(&[1.0, 2.0]);
    let z = Tensor::from_slice(&[5.0f64, 6.0, 7.0], [3]).requires_grad_(true);
    let g = smelt::grad(&(&x * &x).sum(), &[&x, &z]);
    assert_eq!(v64(&g[0]), vec![2.0, 4.0]);
    assert_eq!(v64(&g[1]), vec![0.0, 0.0, 0.0]);
    assert_eq!(g[1].shape(), &[3]);
    // grad leaves .grad alone.
    assert!(x.grad().is_none());
}

#[test]
fn grad_with_respect_to_intermediates() {
    let x = leaf(&[1.0, 2.0]);
    let h = &x * 3.0;
    let y = (&h * &h).sum();
    let g = smelt::grad(&y, &[&h, &x]);
    assert_eq!(v64(&g[0]), vec![6.0, 12.0]);
    assert_eq!(v64(&g[1]), vec![18.0, 36.0]);
}

#[test]
fn grad_errors() {
    let x = leaf(&[1.0, 2.0]);
    let c = Tensor::new([1.0f64, 2.0]);
    assert!(smelt::try_grad(&(&x * &c).sum(), &[&c]).is_err());
    assert!(smelt::try_grad(&(&x * &c), &[&x]).is_err());
    assert!(smelt::try_grad(&c.sum(), &[&x]).is_err());
}

// ---- higher order ----

#[test]
fn third_derivative_of_cube() {
    let xs = [-1.5, 0.5, 2.0];
    let x = leaf(&xs);
    let y = (&x * &x * &x).sum();
    let d1 = smelt::grad(&y, &[&x]).remove(0);
    assert!(d1.requires_grad());
    let d2 = smelt::grad(&d1.sum(), &[&x]).remove(0);
    let d3 = smelt::grad(&d2.sum(), &[&x]).remove(0);
    assert_eq!(v64(&d1), xs.iter().map(|v| 3.0 * v * v).collect::<Vec<_>>());
    assert_eq!(v64(&d2), xs.iter().map(|v| 6.0 * v).collect::<Vec<_>>());
    assert_eq!(v64(&d3), vec![6.0; 3]);
}

#[test]
fn second_derivatives_of_functions() {
    let xs = [0.3, -0.7, 1.2];
    let x = leaf(&xs);
    let d2 = |y: Tensor| {
        let d1 = smelt::grad(&y, &[&x]).remove(0);
        v64(&smelt::grad(&d1.sum(), &[&x]).remove(0))
    };
    let tanh2: Vec<f64> = xs
        .iter()
        .map(|v: &f64| -2.0 * v.tanh() * (1.0 - v.tanh().powi(2)))
        .collect();
    assert!(close(&d2(x.tanh().sum()), &tanh2, 1e-14));
    let sin2: Vec<f64> = xs.iter().map(|v: &f64| -v.sin()).collect();
    assert!(close(&d2(x.sin().sum()), &sin2, 1e-14));
    let exp2: Vec<f64> = xs.iter().map(|v: &f64| v.exp()).collect();
    assert!(close(&d2(x.exp().sum()), &exp2, 1e-14));
    let erf2: Vec<f64> = xs
        .iter()
        .map(|v| -4.0 * v / std::f64::consts::PI.sqrt() * (-v * v).exp())
        .collect();
    assert!(close(&d2(x.erf().sum()), &erf2, 1e-14));
}

/// A two-layer tanh MLP's loss as a function of its flattened weights.
fn mlp_loss(w: &Tensor) -> Tensor {
    let x = Tensor::from_vec(
        (0..12)
            .map(|i| ((i * 7 % 5) as f64 - 2.0) * 0.3)
            .collect::<Vec<_>>(),
        [4, 3],
    );
    let target = Tensor::from_vec(vec![0.5f64, -0.2, 0.1, 0.9], [4, 1]);
    let w1 = w.slice(0, 0, 6, 1).reshape([3, 2]);
    let w2 = w.slice(0, 6, 8, 1).reshape([2, 1]);
    let h = x.matmul(&w1).tanh();
    smelt::nn::mse_loss(&h.matmul(&w2), &target)
}

#[test]
fn hessian_vector_product_matches_finite_differences() {
    let w0: Vec<f64> = vec![0.3, -0.5, 0.8, 0.1, -0.4, 0.6, 1.1, -0.7];
    let v: Vec<f64> = vec![0.2, 0.1, -0.3, 0.5, -0.1, 0.4, -0.6, 0.3];
    let w = leaf(&w0);
    let g = smelt::grad(&mlp_loss(&w), &[&w]).remove(0);
    let hv = smelt::grad(&(&g * &Tensor::from_slice(&v, [8])).sum(), &[&w]).remove(0);
    let grad_at = |s: f64| {
        let wp: Vec<f64> = w0.iter().zip(&v).map(|(a, b)| a + s * b).collect();
        let w = leaf(&wp);
        mlp_loss(&w).backward();
        v64(&w.grad().unwrap())
    };
    let h = 1e-5;
    let (gp, gm) = (grad_at(h), grad_at(-h));
    let fd: Vec<f64> = gp
        .iter()
        .zip(&gm)
        .map(|(a, b)| (a - b) / (2.0 * h))
        .collect();
    assert!(close(&v64(&hv), &fd, 1e-7), "{:?} vs {fd:?}", v64(&hv));
}

// ---- PyTorch's values at kinks and ties ----

#[test]
fn reduce_max_min_split_ties_evenly() {
    // torch.max(x) and amax/amin distribute the gradient evenly among the maximal elements.
    assert_eq!(
        grad_of(&[1.0, 3.0, 3.0, 2.0], |x| x.max()),
        vec![0.0, 0.5, 0.5, 0.0]
    );
    assert_eq!(
        grad_of(&[1.0, 1.0, 1.0, 2.0], |x| x.min()),
        vec![1.0 / 3.0; 3]
            .into_iter()
            .chain([0.0])
            .collect::<Vec<_>>()
    );
    let x = Tensor::from_slice(&[4.0f64, 4.0, 1.0, 2.0, 5.0, 5.0], [2, 3]).requires_grad_(true);
    (x.max_dim(&[1], false) * Tensor::new([1.0f64, 10.0]))
        .sum()
        .backward();
    assert_eq!(v64(&x.grad().unwrap()), vec![0.5, 0.5, 0.0, 0.0, 5.0, 5.0]);
    // A NaN maximum sends the gradient to the NaN.
    assert_eq!(
        grad_of(&[1.0, f64::NAN, 2.0], |x| x.max()),
        vec![0.0, 1.0, 0.0]
    );
}

#[test]
fn maximum_minimum_split_ties_half() {
    let a = leaf(&[1.0, 2.0, 3.0]);
    let b = leaf(&[1.0, 5.0, 0.0]);
    a.maximum(&b).sum().backward();
    assert_eq!(v64(&a.grad().unwrap()), vec![0.5, 0.0, 1.0]);
    assert_eq!(v64(&b.grad().unwrap()), vec![0.5, 1.0, 0.0]);
    let a = leaf(&[1.0, 2.0, 3.0]);
    let b = leaf(&[1.0, 5.0, 0.0]);
    a.minimum(&b).sum().backward();
    assert_eq!(v64(&a.grad().unwrap()), vec![0.5, 1.0, 0.0]);
    assert_eq!(v64(&b.grad().unwrap()), vec![0.5, 0.0, 1.0]);
}

#[test]
fn relu_and_clamp_at_the_boundary() {
    // torch.relu: 0 at 0; torch.clamp: the full gradient at the bounds; NaN passes through relu.
    assert_eq!(
        grad_of(&[-1.0, 0.0, 2.0], |x| x.relu().sum()),
        vec![0.0, 0.0, 1.0]
    );
    assert_eq!(
        grad_of(&[0.0, 1.0, 2.0], |x| x.clamp_min(1.0).sum()),
        vec![0.0, 1.0, 1.0]
    );
    assert_eq!(
        grad_of(&[-2.0, -1.0, 0.0, 1.0, 2.0], |x| x.clamp(-1.0, 1.0).sum()),
        vec![0.0, 1.0, 1.0, 1.0, 0.0]
    );
    assert_eq!(
        grad_of(&[0.0, 1.0, 2.0], |x| x.clamp_max(1.0).sum()),
        vec![1.0, 1.0, 0.0]
    );
    assert_eq!(grad_of(&[f64::NAN], |x| x.relu().sum()), vec![1.0]);
}

#[test]
fn abs_sign_rounding_at_kinks() {
    assert_eq!(
        grad_of(&[-2.0, 0.0, 3.0], |x| x.abs().sum()),
        vec![-1.0, 0.0, 1.0]
    );
    assert_eq!(
        grad_of(&[-2.0, 0.0, 1.5], |x| (x.sign() + x.floor() + x.round())
            .sum()),
        vec![0.0, 0.0, 0.0]
    );
}

#[test]
fn pow_at_zero() {
    // d/dx x^0 = 0 even at 0 (not 0·0⁻¹); d/dx x² at 0 is 0.
    let x = leaf(&[0.0, 2.0]);
    let e = leaf(&[0.0, 0.0]);
    x.pow(&e).sum().backward();
    assert_eq!(v64(&x.grad().unwrap()), vec![0.0, 0.0]);
    // d/dy 0^y = 0 for y >= 0 (not 0·log 0); 2^y gives 2^y ln 2.
    assert_eq!(v64(&e.grad().unwrap()), vec![0.0, 2f64.ln()]);
    assert_eq!(grad_of(&[0.0, 3.0], |x| x.powf(2.0).sum()), vec![0.0, 6.0]);
    // sqrt at 0 is +inf, as in PyTorch.
    assert_eq!(grad_of(&[0.0], |x| x.sqrt().sum()), vec![f64::INFINITY]);
}

#[test]
fn prod_with_zeros() {
    assert_eq!(
        grad_of(&[2.0, 3.0, 4.0], |x| x.prod()),
        vec![12.0, 8.0, 6.0]
    );
    assert_eq!(grad_of(&[2.0, 0.0, 3.0], |x| x.prod()), vec![0.0, 6.0, 0.0]);
    assert_eq!(grad_of(&[0.0, 5.0, 0.0], |x| x.prod()), vec![0.0, 0.0, 0.0]);
    let x = Tensor::from_slice(&[2.0f64, 0.0, 3.0, 4.0, 5.0, 6.0], [2, 3]).requires_grad_(true);
    x.prod_dim(&[1], false).sum().backward();
    assert_eq!(
        v64(&x.grad().unwrap()),
        vec![0.0, 6.0, 0.0, 30.0, 24.0, 20.0]
    );
}

#[test]
fn gather_scatters_repeated_indices_additively() {
    let idx = Tensor::new([0i64, 0, 2, 0]);
    assert_eq!(
        grad_of(&[1.0, 2.0, 3.0], |x| (x.index_select(0, &idx)
            * Tensor::new([1.0f64, 2.0, 3.0, 4.0]))
        .sum()),
        vec![7.0, 0.0, 3.0]
    );
}

#[test]
fn casts_carry_gradients_between_float_dtypes() {
    let x = Tensor::new([1.5f32, -2.0]).requires_grad_(true);
    (x.to_dtype(DType::F64) * 3.0).sum().backward();
    let g = x.grad().unwrap();
    assert_eq!(g.dtype(), DType::F32);
    assert_eq!(g.to_vec::<f32>().unwrap(), vec![3.0, 3.0]);
    // Through an integer cast nothing flows.
    let x = leaf(&[1.5, 2.5]);
    let y = x.to_dtype(DType::I64).to_dtype(DType::F64).sum() + x.sum();
    y.backward();
    assert_eq!(v64(&x.grad().unwrap()), vec![1.0, 1.0]);
}

#[test]
fn f32_gradients_stay_f32() {
    let x = Tensor::new([[1f32, 2.], [3., 4.]]).requires_grad_(true);
    let w = Tensor::new([0.5f32, -1.0]).requires_grad_(true);
    x.matmul(&w).exp().sum().backward();
    assert_eq!(x.grad().unwrap().dtype(), DType::F32);
    assert_eq!(w.grad().unwrap().dtype(), DType::F32);
    // d/dw sum exp(x w) = xᵀ exp(x w)
    let e = [(1.0f32 * 0.5 - 2.0).exp(), (3.0f32 * 0.5 - 4.0).exp()];
    let want = [1.0 * e[0] + 3.0 * e[1], 2.0 * e[0] + 4.0 * e[1]];
    let got = w.grad().unwrap().to_vec::<f32>().unwrap();
    assert!(
        (got[0] - want[0]).abs() < 1e-6 && (got[1] - want[1]).abs() < 1e-6,
        "{got:?}"
    );
}

#[test]
fn long_chains_do_not_overflow_the_stack() {
    let x = leaf(&[1.0]);
    let mut y = x.clone();
    for _ in 0..20_000 {
        y = &y * 1.0001;
    }
    y.sum().backward();
    let want = 1.0001f64.powi(20_000);
    assert!(close(&v64(&x.grad().unwrap()), &[want], 1e-12));
}

#[test]
fn gradients_are_lazy_graphs_that_fuse_with_forward() {
    // smelt::grad builds tensors; nothing runs until they are read.
    let x = leaf(&[1.0, 2.0]);
    let g = smelt::grad(&x.exp().sum(), &[&x]).remove(0);
    assert!(!g.is_realized());
    assert!(close(&v64(&g), &[1f64.exp(), 2f64.exp()], 1e-15));
}
