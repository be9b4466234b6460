//! The workloads of `shared/bench` (W1–W5a) under criterion, for regression tracking:
//! `cargo bench --bench workloads [-- FILTER]`. `examples/bench.rs` prints the same workloads beside the
//! peers' figures; this harness keeps criterion's history and confidence intervals.
//!
//! Each iteration realizes the result and touches its host data, so completion is included.

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use smelt::nn::{self, Linear, Module};
use smelt::optim::{Optimizer, Sgd};
use smelt::prelude::*;
use std::time::Duration;

fn input(shape: &[usize]) -> Tensor {
    Tensor::randn(shape.to_vec(), DType::F32)
        .realize()
        .expect("realize")
}

fn finish(t: &Tensor) {
    t.realize().expect("realize");
    let _ = t.as_slice::<f32>().expect("host data")[0];
}

fn elementwise(c: &mut Criterion) {
    let n = 1 << 24;
    let (a, b, x) = (input(&[n]), input(&[n]), input(&[n]));
    let mut g = c.benchmark_group("W1");
    g.throughput(Throughput::Elements(n as u64));
    g.bench_function("a_exp_mul_add_2^24", |it| {
        it.iter(|| finish(&(a.exp() * &b + &x)))
    });
    g.bench_function("b_gelu_tanh_2^24", |it| it.iter(|| finish(&x.gelu_tanh())));
    g.finish();
}

fn reductions(c: &mut Criterion) {
    let v = input(&[1 << 24]);
    let m = input(&[4096, 4096]);
    let mut g = c.benchmark_group("W2");
    g.bench_function("a_sum_2^24", |it| it.iter(|| finish(&v.sum())));
    g.bench_function("b_row_softmax_4096^2", |it| {
        it.iter(|| finish(&m.softmax(-1)))
    });
    g.bench_function("c_mean_axis0_4096^2", |it| {
        it.iter(|| finish(&m.mean_dim(&[0], false)))
    });
    g.finish();
}

fn matmul(c: &mut Criterion) {
    let mut g = c.benchmark_group("W3");
    for n in [64usize, 256, 1024] {
        let (a, b) = (input(&[n, n]), input(&[n, n]));
        g.throughput(Throughput::Elements(2 * (n as u64).pow(3)));
        g.bench_function(format!("a_matmul_{n}"), |it| {
            it.iter(|| finish(&a.matmul(&b)))
        });
    }
    let n = 1024;
    let (a, w, b) = (input(&[n, n]), input(&[n, n]), input(&[n]));
    g.throughput(Throughput::Elements(2 * (n as u64).pow(3)));
    g.bench_function("b_relu_linear_1024", |it| {
        it.iter(|| finish(&(a.matmul(&w) + &b).relu()))
    });
    g.finish();
}

fn training(c: &mut Criterion) {
    smelt::manual_seed(0);
    let model = nn::Sequential::new()
        .append(Linear::new(784, 512))
        .append(nn::Activation::Relu)
        .append(Linear::new(512, 512))
        .append(nn::Activation::Relu)
        .append(Linear::new(512, 10));
    let mut opt = Sgd::new(model.parameters(), 0.01);
    let x = input(&[256, 784]);
    let y = Tensor::from_vec((0..256).map(|i| (i % 10) as i64).collect::<Vec<_>>(), [256]);
    c.bench_function("W4/mlp_step_batch256", |it| {
        it.iter(|| {
            opt.zero_grad();
            let loss = nn::cross_entropy(&model.forward(&x), &y);
            loss.backward();
            opt.step().expect("step");
        })
    });
}

fn overhead(c: &mut Criterion) {
    let x0 = Tensor::zeros([16], DType::F32).realize().expect("realize");
    c.bench_function("W5a/chain_100_adds_cached", |it| {
        it.iter(|| {
            let mut x = x0.clone();
            for _ in 0..100 {
                x = x + 1.0;
            }
            x.to_vec::<f32>().expect("data")[0]
        })
    });
}

criterion_group! {
    name = workloads;
    config = Criterion::default().sample_size(20).measurement_time(Duration::from_secs(3));
    targets = elementwise, reductions, matmul, training, overhead
}
criterion_main!(workloads);
