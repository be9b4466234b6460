//! `smelt::nn`: Linear's initialization and forward, Sequential, Parameter, and the losses' values and
//! gradients against plain Rust f64 reference code.

use smelt::nn::{self, Activation, Linear, Module, Parameter, Sequential};
use smelt::prelude::*;

fn v64(t: &Tensor) -> Vec<f64> {
    t.to_vec::<f64>().unwrap()
}

fn close(a: &[f64], b: &[f64], tol: f64) -> bool {
    a.len() == b.len()
        && a.iter()
            .zip(b)
            .all(|(x, y)| (x - y).abs() <= tol * y.abs().max(1.0))
}

/// log(sum(exp(row))) in plain f64.
fn lse(row: &[f64]) -> f64 {
    let m = row.iter().cloned().fold(f64::NEG_INFINITY, f64::max);
    m + row.iter().map(|v| (v - m).exp()).sum::<f64>().ln()
}

#[test]
fn linear_init_is_kaiming_uniform() {
    smelt::manual_seed(7);
    let l = Linear::new(50, 40);
    assert_eq!((l.in_features(), l.out_features()), (50, 40));
    assert_eq!(l.weight.shape(), [40, 50]);
    assert_eq!(l.weight.dtype(), DType::F32);
    let bound = 1.0 / 50f64.sqrt();
    let w: Vec<f64> = l
        .weight
        .tensor()
        .to_vec::<f32>()
        .unwrap()
        .iter()
        .map(|&v| v as f64)
        .collect();
    assert!(w.iter().all(|v| v.abs() <= bound));
    // Uniform on [-b, b]: mean 0, variance b²/3 (2000 samples: loose bounds).
    let mean = w.iter().sum::<f64>() / w.len() as f64;
    let var = w.iter().map(|v| (v - mean).powi(2)).sum::<f64>() / w.len() as f64;
    assert!(mean.abs() < 0.05 * bound, "mean {mean}");
    assert!(
        (var / (bound * bound / 3.0) - 1.0).abs() < 0.1,
        "variance {var}"
    );
    let b: Vec<f32> = l.bias.as_ref().unwrap().tensor().to_vec::<f32>().unwrap();
    assert_eq!(b.len(), 40);
    assert!(b.iter().all(|v| (*v as f64).abs() <= bound));
    assert!(
        l.parameters()
            .iter()
            .all(|p| p.tensor().requires_grad() && p.tensor().is_leaf())
    );
    let l2 = Linear::with_options(3, 2, false, DType::F64);
    assert!(l2.bias.is_none() && l2.weight.dtype() == DType::F64 && l2.parameters().len() == 1);
}

#[test]
fn linear_forward() {
    let l = Linear::from_tensors(
        &Tensor::new([[1.0f64, 2.], [3., 4.], [5., 6.]]),
        Some(&Tensor::new([1.0f64, 0., -1.])),
    );
    assert_eq!(
        v64(&l.forward(&Tensor::new([[1.0f64, 1.], [2., 0.]]))),
        vec![4., 7., 10., 3., 6., 9.]
    );
    // Any number of leading dims.
    assert_eq!(
        l.forward(&Tensor::zeros([4, 5, 2], DType::F64)).shape(),
        &[4, 5, 3]
    );
    assert!(l.try_forward(&Tensor::zeros([2, 3], DType::F64)).is_err());
    assert!(
        Linear::try_from_tensors(
            &Tensor::zeros([3, 2], DType::F64),
            Some(&Tensor::zeros([2], DType::F64))
        )
        .is_err()
    );
}

#[test]
fn linear_gradients() {
    let l = Linear::from_tensors(
        &Tensor::new([[1.0f64, 2.], [3., 4.]]),
        Some(&Tensor::new([0.5f64, -0.5])),
    );
    let x = Tensor::new([[1.0f64, -1.], [2., 3.]]);
    l.forward(&x).sum().backward();
    // d/dW sum(x Wᵀ + b) = column sums of x for every output row; d/db = batch size.
    assert_eq!(v64(&l.weight.grad().unwrap()), vec![3., 2., 3., 2.]);
    assert_eq!(v64(&l.bias.as_ref().unwrap().grad().unwrap()), vec![2., 2.]);
}

#[test]
fn sequential_and_activations() {
    smelt::manual_seed(1);
    let model = Sequential::new()
        .append(Linear::with_options(3, 4, true, DType::F64))
        .append(Activation::Tanh)
        .append(Linear::with_options(4, 2, true, DType::F64));
    assert_eq!(model.len(), 3);
    let ps = model.parameters();
    assert_eq!(
        ps.iter().map(|p| p.numel()).sum::<usize>(),
        3 * 4 + 4 + 4 * 2 + 2
    );
    let x = Tensor::new([[0.1f64, -0.2, 0.3]]);
    let manual = (x.matmul(&ps[0].tensor().t()) + ps[1].tensor())
        .tanh()
        .matmul(&ps[2].tensor().t())
        + ps[3].tensor();
    assert_eq!(v64(&model.forward(&x)), v64(&manual));
    let t = Tensor::new([-1.0f64, 0.5]);
    assert_eq!(v64(&nn::relu(&t)), vec![0.0, 0.5]);
    assert_eq!(v64(&Activation::Sigmoid.forward(&t)), v64(&t.sigmoid()));
    assert_eq!(
        v64(&nn::softmax(&t, 0)),
        v64(&Activation::Softmax(0).forward(&t))
    );
    model.forward(&x).sum().backward();
    assert!(ps.iter().all(|p| p.grad().is_some()));
    model.zero_grad();
    assert!(ps.iter().all(|p| p.grad().is_none()));
}

#[test]
fn parameter_is_a_shared_slot() {
    let src = Tensor::new([1.0f64, 2.0]);
    let p = Parameter::new(&src);
    assert!(!src.requires_grad(), "the given tensor is not marked");
    let q = p.clone();
    assert!(p.same(&q));
    (p.tensor() * 3.0).sum().backward();
    q.set(&Tensor::new([5.0f64, 6.0])).unwrap();
    assert_eq!(v64(&p.tensor()), vec![5.0, 6.0]);
    assert_eq!(
        v64(&p.grad().unwrap()),
        vec![3.0, 3.0],
        "the gradient carries over"
    );
    assert!(p.set(&Tensor::new([1.0f32, 2.0])).is_err());
    assert!(Parameter::try_new(&Tensor::new([1i64])).is_err());
}

#[test]
fn cross_entropy_from_class_indices() {
    let rows = [[1.0, 2.0, 3.0], [1.0, 1.0, 1.0], [-2.0, 0.5, 4.0]];
    let targets = [2usize, 0, 1];
    let logits = Tensor::from_vec(rows.concat(), [3, 3]).requires_grad_(true);
    let loss = nn::cross_entropy(&logits, &Tensor::new([2i64, 0, 1]));
    let want: f64 = rows
        .iter()
        .zip(targets)
        .map(|(r, t)| lse(r) - r[t])
        .sum::<f64>()
        / 3.0;
    assert!(close(&[loss.item::<f64>().unwrap()], &[want], 1e-14));
    // d/dlogits = (softmax - onehot) / N
    loss.backward();
    let grad: Vec<f64> = rows
        .iter()
        .zip(targets)
        .flat_map(|(r, t)| {
            (0..3).map(move |j| ((r[j] - lse(r)).exp() - (j == t) as u8 as f64) / 3.0)
        })
        .collect();
    assert!(close(&v64(&logits.grad().unwrap()), &grad, 1e-14));
}

#[test]
fn cross_entropy_ignores_minus_100() {
    let logits = Tensor::new([[1.0f64, 2.0, 3.0], [5.0, 1.0, 1.0]]).requires_grad_(true);
    let loss = nn::cross_entropy(&logits, &Tensor::new([2i64, -100]));
    let row = [1.0, 2.0, 3.0];
    assert!(close(
        &[loss.item::<f64>().unwrap()],
        &[lse(&row) - 3.0],
        1e-14
    ));
    loss.backward();
    assert_eq!(&v64(&logits.grad().unwrap())[3..], &[0.0, 0.0, 0.0]);
}

#[test]
fn cross_entropy_other_forms() {
    // 1-D logits with a 0-d target.
    let row = [0.5, -1.0, 2.0, 0.0];
    let loss = nn::cross_entropy(&Tensor::from_slice(&row, [4]), &Tensor::scalar(1i64));
    assert!(close(
        &[loss.item::<f64>().unwrap()],
        &[lse(&row) + 1.0],
        1e-14
    ));
    // Class probabilities.
    let p = [0.25, 0.25, 0.5, 0.0];
    let loss = nn::cross_entropy(
        &Tensor::from_slice(&row, [1, 4]),
        &Tensor::from_slice(&p, [1, 4]),
    );
    let want: f64 = -(0..4).map(|j| p[j] * (row[j] - lse(&row))).sum::<f64>();
    assert!(close(&[loss.item::<f64>().unwrap()], &[want], 1e-14));
    // Extra dims: [N, C, d] with targets [N, d].
    let logits = Tensor::from_vec(
        (0..12).map(|i| (i as f64 * 0.37).sin()).collect::<Vec<_>>(),
        [2, 3, 2],
    );
    let t = Tensor::new([[0i64, 2], [1, 1]]);
    let via_perm = nn::cross_entropy(&logits.permute(&[0, 2, 1]).reshape([4, 3]), &t.reshape([4]));
    assert!(close(
        &[nn::cross_entropy(&logits, &t).item::<f64>().unwrap()],
        &[via_perm.item::<f64>().unwrap()],
        1e-14
    ));
}

#[test]
fn cross_entropy_errors() {
    let logits = Tensor::zeros([2, 3], DType::F32);
    assert!(nn::try_cross_entropy(&logits, &Tensor::new([0i64, 1, 2])).is_err());
    assert!(nn::try_cross_entropy(&logits, &Tensor::new([0.0f32, 1.0])).is_err());
    assert!(nn::try_cross_entropy(&Tensor::new([1i64, 2]), &Tensor::scalar(0i64)).is_err());
    let out_of_range = nn::cross_entropy(&logits, &Tensor::new([0i64, 3]));
    assert!(matches!(
        out_of_range.realize(),
        Err(Error::IndexOutOfRange { .. })
    ));
}

#[test]
fn mse_loss_value_and_gradient() {
    let pred = Tensor::new([1.0f64, 2.0, 4.0]).requires_grad_(true);
    let loss = nn::mse_loss(&pred, &Tensor::new([1.0f64, 0.0, 1.0]));
    assert_eq!(loss.item::<f64>().unwrap(), (0.0 + 4.0 + 9.0) / 3.0);
    loss.backward();
    // 2 (pred - target) / n
    assert!(close(
        &v64(&pred.grad().unwrap()),
        &[0.0, 4.0 / 3.0, 2.0],
        1e-15
    ));
}
