//! `smelt::optim` against plain Rust f64 implementations of PyTorch's documented update rules, on a
//! loss whose gradient is known: L(w) = Σ a_i w_i² / 2 + c_i w_i, so ∇L = a ⊙ w + c.

use smelt::nn::{self, Activation, Linear, Module, Parameter, Sequential};
use smelt::optim::{Adam, Optimizer, SGD, Sgd};
use smelt::prelude::*;

const A: [f64; 4] = [1.0, 2.0, 0.5, 3.0];
const C: [f64; 4] = [0.1, -0.3, 0.2, 0.0];
const W0: [f64; 4] = [1.0, -1.0, 0.5, 2.0];

fn loss(w: &Tensor) -> Tensor {
    let a = Tensor::from_slice(&A, [4]);
    let c = Tensor::from_slice(&C, [4]);
    (&a * w * w * 0.5 + &c * w).sum()
}

fn grad_ref(w: &[f64]) -> Vec<f64> {
    (0..4).map(|i| A[i] * w[i] + C[i]).collect()
}

fn close(a: &[f64], b: &[f64], tol: f64) -> bool {
    a.len() == b.len()
        && a.iter()
            .zip(b)
            .all(|(x, y)| (x - y).abs() <= tol * y.abs().max(1.0))
}

/// Runs `steps` optimizer steps on the loss from `W0`, returning the parameter after each step.
fn run(make: impl Fn(Vec<Parameter>) -> Box<dyn Optimizer>, steps: usize) -> Vec<Vec<f64>> {
    let p = Parameter::new(&Tensor::from_slice(&W0, [4]));
    let mut opt = make(vec![p.clone()]);
    (0..steps)
        .map(|_| {
            opt.zero_grad();
            loss(&p.tensor()).backward();
            opt.step().unwrap();
            p.tensor().to_vec::<f64>().unwrap()
        })
        .collect()
}

/// torch.optim.SGD's algorithm, in f64.
fn sgd_ref(
    lr: f64,
    momentum: f64,
    dampening: f64,
    wd: f64,
    nesterov: bool,
    steps: usize,
) -> Vec<Vec<f64>> {
    let mut w = W0.to_vec();
    let mut buf: Option<Vec<f64>> = None;
    let mut out = Vec::new();
    for _ in 0..steps {
        let mut g: Vec<f64> = grad_ref(&w)
            .iter()
            .zip(&w)
            .map(|(g, w)| g + wd * w)
            .collect();
        if momentum != 0.0 {
            let b: Vec<f64> = match &buf {
                None => g.clone(),
                Some(b) => b
                    .iter()
                    .zip(&g)
                    .map(|(b, g)| momentum * b + (1.0 - dampening) * g)
                    .collect(),
            };
            g = if nesterov {
                g.iter().zip(&b).map(|(g, b)| g + momentum * b).collect()
            } else {
                b.clone()
            };
            buf = Some(b);
        }
        w = w.iter().zip(&g).map(|(w, g)| w - lr * g).collect();
        out.push(w.clone());
    }
    out
}

/// torch.optim.Adam's algorithm (L2 or decoupled weight decay), in f64.
fn adam_ref(
    lr: f64,
    b1: f64,
    b2: f64,
    eps: f64,
    wd: f64,
    decoupled: bool,
    steps: usize,
) -> Vec<Vec<f64>> {
    let mut w = W0.to_vec();
    let (mut m, mut v) = (vec![0.0; 4], vec![0.0; 4]);
    let mut out = Vec::new();
    for t in 1..=steps {
        let mut g = grad_ref(&w);
        if decoupled {
            w.iter_mut().for_each(|w| *w *= 1.0 - lr * wd);
        } else {
            g = g.iter().zip(&w).map(|(g, w)| g + wd * w).collect();
        }
        for i in 0..4 {
            m[i] = b1 * m[i] + (1.0 - b1) * g[i];
            v[i] = b2 * v[i] + (1.0 - b2) * g[i] * g[i];
            let mhat = m[i] / (1.0 - b1.powi(t as i32));
            let vhat = v[i] / (1.0 - b2.powi(t as i32));
            w[i] -= lr * mhat / (vhat.sqrt() + eps);
        }
        out.push(w.clone());
    }
    out
}

fn assert_paths(got: &[Vec<f64>], want: &[Vec<f64>], tol: f64) {
    for (k, (g, w)) in got.iter().zip(want).enumerate() {
        assert!(close(g, w, tol), "step {}: {g:?} vs {w:?}", k + 1);
    }
}

#[test]
fn sgd_plain() {
    assert_paths(
        &run(|p| Box::new(Sgd::new(p, 0.1)), 5),
        &sgd_ref(0.1, 0.0, 0.0, 0.0, false, 5),
        1e-14,
    );
}

#[test]
fn sgd_momentum_first_buffer_is_the_gradient() {
    let got = run(|p| Box::new(SGD::new(p, 0.1).momentum(0.9)), 6);
    assert_paths(&got, &sgd_ref(0.1, 0.9, 0.0, 0.0, false, 6), 1e-14);
    // Step 1 is a plain step (buffer = gradient), by hand: w - 0.1 (a w + c).
    assert!(
        close(&got[0], &[0.89, -0.77, 0.455, 1.4], 1e-14),
        "{:?}",
        got[0]
    );
}

#[test]
fn sgd_dampening_weight_decay_nesterov() {
    let got = run(
        |p| {
            Box::new(
                Sgd::new(p, 0.05)
                    .momentum(0.8)
                    .dampening(0.3)
                    .weight_decay(0.01),
            )
        },
        6,
    );
    assert_paths(&got, &sgd_ref(0.05, 0.8, 0.3, 0.01, false, 6), 1e-14);
    let got = run(
        |p| {
            Box::new(
                Sgd::new(p, 0.05)
                    .momentum(0.8)
                    .nesterov(true)
                    .weight_decay(0.1),
            )
        },
        6,
    );
    assert_paths(&got, &sgd_ref(0.05, 0.8, 0.0, 0.1, true, 6), 1e-14);
    let p = Parameter::new(&Tensor::from_slice(&W0, [4]));
    let mut bad = Sgd::new(vec![p.clone()], 0.1).nesterov(true);
    loss(&p.tensor()).backward();
    assert!(bad.step().is_err());
}

#[test]
fn adam_defaults() {
    assert_paths(
        &run(|p| Box::new(Adam::new(p, 0.1)), 8),
        &adam_ref(0.1, 0.9, 0.999, 1e-8, 0.0, false, 8),
        1e-12,
    );
}

#[test]
fn adam_options() {
    let got = run(
        |p| {
            Box::new(
                Adam::new(p, 0.02)
                    .betas(0.8, 0.99)
                    .eps(1e-3)
                    .weight_decay(0.1),
            )
        },
        8,
    );
    assert_paths(&got, &adam_ref(0.02, 0.8, 0.99, 1e-3, 0.1, false, 8), 1e-12);
    let got = run(
        |p| {
            Box::new(
                Adam::new(p, 0.02)
                    .weight_decay(0.1)
                    .decoupled_weight_decay(true),
            )
        },
        8,
    );
    assert_paths(&got, &adam_ref(0.02, 0.9, 0.999, 1e-8, 0.1, true, 8), 1e-12);
}

#[test]
fn adam_f32_follows_the_f64_reference() {
    let p = Parameter::new(&Tensor::from_vec(
        W0.iter().map(|&v| v as f32).collect::<Vec<_>>(),
        [4],
    ));
    let mut opt = Adam::new(vec![p.clone()], 0.1);
    for _ in 0..8 {
        opt.zero_grad();
        loss(&p.tensor().to_dtype(DType::F64)).backward();
        opt.step().unwrap();
    }
    assert_eq!(p.dtype(), DType::F32);
    let got: Vec<f64> = p
        .tensor()
        .to_vec::<f32>()
        .unwrap()
        .iter()
        .map(|&v| v as f64)
        .collect();
    assert!(
        close(
            &got,
            &adam_ref(0.1, 0.9, 0.999, 1e-8, 0.0, false, 8)[7],
            1e-5
        ),
        "{got:?}"
    );
}

#[test]
fn parameters_without_gradients_are_skipped() {
    let used = Parameter::new(&Tensor::from_slice(&W0, [4]));
    let unused = Parameter::new(&Tensor::new([7.0f64]));
    let mut opt = Adam::new(vec![used.clone(), unused.clone()], 0.1);
    for _ in 0..3 {
        opt.zero_grad();
        loss(&used.tensor()).backward();
        opt.step().unwrap();
    }
    assert_eq!(unused.tensor().to_vec::<f64>().unwrap(), vec![7.0]);
    assert!(close(
        &used.tensor().to_vec::<f64>().unwrap(),
        &adam_ref(0.1, 0.9, 0.999, 1e-8, 0.0, false, 3)[2],
        1e-12
    ));
}

#[test]
fn gradients_accumulate_across_steps_without_zero_grad() {
    // As in PyTorch, step() leaves .grad in place; a second backward adds to it.
    let p = Parameter::new(&Tensor::from_slice(&W0, [4]));
    let mut opt = Sgd::new(vec![p.clone()], 0.1);
    loss(&p.tensor()).backward();
    opt.step().unwrap();
    let g1 = grad_ref(&W0);
    assert!(close(
        &p.grad().unwrap().to_vec::<f64>().unwrap(),
        &g1,
        1e-15
    ));
    let w1 = p.tensor().to_vec::<f64>().unwrap();
    loss(&p.tensor()).backward();
    opt.step().unwrap();
    let g: Vec<f64> = g1.iter().zip(grad_ref(&w1)).map(|(a, b)| a + b).collect();
    let w2: Vec<f64> = w1.iter().zip(&g).map(|(w, g)| w - 0.1 * g).collect();
    assert!(close(&p.tensor().to_vec::<f64>().unwrap(), &w2, 1e-14));
}

#[test]
fn set_lr_changes_the_step() {
    let p = Parameter::new(&Tensor::from_slice(&W0, [4]));
    let mut opt = Sgd::new(vec![p.clone()], 0.1);
    opt.set_lr(0.5);
    assert_eq!(opt.lr(), 0.5);
    loss(&p.tensor()).backward();
    opt.step().unwrap();
    let want: Vec<f64> = W0
        .iter()
        .zip(grad_ref(&W0))
        .map(|(w, g)| w - 0.5 * g)
        .collect();
    assert!(close(&p.tensor().to_vec::<f64>().unwrap(), &want, 1e-15));
}

#[test]
fn invalid_hyperparameters_panic() {
    assert!(std::panic::catch_unwind(|| Sgd::new(vec![], -0.1)).is_err());
    assert!(std::panic::catch_unwind(|| Adam::new(vec![], 0.1).betas(1.0, 0.9)).is_err());
    assert!(std::panic::catch_unwind(|| Sgd::new(vec![], 0.1).momentum(-1.0)).is_err());
}

#[test]
fn a_small_classifier_learns() {
    smelt::manual_seed(3);
    // Two well-separated blobs per class in 2-D, three classes.
    let centers = [(-1.0, -1.0), (1.0, 0.0), (0.0, 1.5)];
    let mut xs = Vec::new();
    let mut ys = Vec::new();
    for k in 0..24 {
        let (cx, cy) = centers[k % 3];
        let jitter = ((k * 37 % 11) as f32 - 5.0) * 0.04;
        xs.extend([cx + jitter, cy - jitter]);
        ys.push((k % 3) as i64);
    }
    let x = Tensor::from_vec(xs, [24, 2]);
    let y = Tensor::from_vec(ys, [24]);
    let model = Sequential::new()
        .append(Linear::new(2, 8))
        .append(Activation::Relu)
        .append(Linear::new(8, 3));
    let mut opt = Adam::new(model.parameters(), 0.05);
    let mut first = None;
    let mut last = 0.0;
    for _ in 0..60 {
        opt.zero_grad();
        let loss = nn::cross_entropy(&model.forward(&x), &y);
        loss.backward();
        opt.step().unwrap();
        last = loss.item::<f32>().unwrap();
        first.get_or_insert(last);
    }
    assert!(
        last < 0.1 * first.unwrap(),
        "loss {} → {last}",
        first.unwrap()
    );
    let pred = model.forward(&x).argmax(1, false);
    assert_eq!(pred.to_vec::<i64>().unwrap(), y.to_vec::<i64>().unwrap());
}
