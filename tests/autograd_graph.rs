//! Snapshots of gradient graphs: the work graph that realizing the gradients collects (before any
//! simplification), one `check` per program. The graphs are reviewed by hand; a rule change shows up as a
//! diff here.

use smelt::prelude::*;

/// Snapshots the collected graph of `targets` under `name` in the top-level `snapshots/`.
fn check(name: &str, targets: &[&Tensor]) {
    let text = smelt::debug_graph(targets);
    insta::with_settings!({ snapshot_path => "../snapshots", prepend_module_to_snapshot => false }, {
        insta::assert_snapshot!(name, text);
    });
}

#[test]
fn grad_of_exp_mul_sum() {
    // y = sum(exp(x * w)) with x [2,3] and w [3] broadcast: dx = exp(x w) · w, dw = sum over rows.
    let x = Tensor::zeros([2, 3], DType::F32)
        .realize()
        .unwrap()
        .named("x")
        .requires_grad_(true);
    let w = Tensor::ones([3], DType::F32)
        .realize()
        .unwrap()
        .named("w")
        .requires_grad_(true);
    let y = (&x * &w).exp().sum();
    let g = smelt::grad(&y, &[&x, &w]);
    check("autograd_exp_mul_sum", &[&g[0], &g[1]]);
}

#[test]
fn grad_of_strided_slice() {
    // The strided slice's gradient: reshape, pad the new axis, reshape, crop, pad into place.
    let x = Tensor::zeros([7], DType::F32)
        .realize()
        .unwrap()
        .named("x")
        .requires_grad_(true);
    let y = x.slice(0, 1, 7, 3).sum();
    let g = smelt::grad(&y, &[&x]);
    check("autograd_strided_slice", &[&g[0]]);
}

#[test]
fn grad_of_linear_relu() {
    // loss = sum(relu(x w + b)): dw = xᵀ · mask, db = column sums of the mask (mask = x w + b > 0).
    let x = Tensor::zeros([2, 3], DType::F32)
        .realize()
        .unwrap()
        .named("x");
    let w = Tensor::zeros([3, 2], DType::F32)
        .realize()
        .unwrap()
        .named("w")
        .requires_grad_(true);
    let b = Tensor::zeros([2], DType::F32)
        .realize()
        .unwrap()
        .named("b")
        .requires_grad_(true);
    let loss = (x.matmul(&w) + &b).relu().sum();
    let g = smelt::grad(&loss, &[&w, &b]);
    check("autograd_linear_relu", &[&g[0], &g[1]]);
}

#[test]
fn grad_of_log_softmax() {
    // d/dx sum(log_softmax(x) * t) = t - softmax(x) · sum(t) per row.
    let x = Tensor::zeros([2, 3], DType::F32)
        .realize()
        .unwrap()
        .named("x")
        .requires_grad_(true);
    let t = Tensor::zeros([2, 3], DType::F32)
        .realize()
        .unwrap()
        .named("t");
    let y = (x.log_softmax(1) * &t).sum();
    let g = smelt::grad(&y, &[&x]);
    check("autograd_log_softmax", &[&g[0]]);
}

#[test]
fn grad_of_gather() {
    // The gather's gradient scatters into the gathered positions: a compare with iota and a sum.
    let x = Tensor::zeros([2, 3], DType::F32)
        .realize()
        .unwrap()
        .named("x")
        .requires_grad_(true);
    let i = Tensor::new([[2i64], [0]]).realize().unwrap().named("i");
    let y = x.gather(1, &i).sum();
    let g = smelt::grad(&y, &[&x]);
    check("autograd_gather", &[&g[0]]);
}
