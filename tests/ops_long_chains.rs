//! Deep graphs: realizing long chains of ops must not recurse once per op (a test thread has a 2 MiB
//! stack). Collecting, every pass and the backend have to walk graphs iteratively. Dropping an
//! unrealized 100,000-op chain is covered by tests/ops_memory.rs.
//!
//! Its own binary: a stack overflow aborts the whole process, and should not hide other results.

use smelt::prelude::*;

#[test]
fn elementwise_chain_of_10000_ops() {
    let mut t = Tensor::scalar(0f32);
    for _ in 0..10_000 {
        t = &t + 1.0;
    }
    assert_eq!(t.item::<f32>().unwrap(), 10_000.0);
}

#[test]
fn unary_chain_of_2000_ops() {
    // neg twice is the identity; abs keeps the sign off: |-x| = x.
    let mut t = Tensor::new([1.5f64, -2.0]);
    for i in 0..2_000 {
        t = if i % 2 == 0 { t.neg() } else { t.abs() };
    }
    assert_eq!(t.to_vec::<f64>().unwrap(), vec![1.5, 2.0]);
}

#[test]
fn view_chain_of_3000_ops() {
    // Alternately a transpose pair and a reshape pair: every step is the identity on the data.
    let x = Tensor::arange(0.0, 6.0, 1.0, DType::F32).reshape([2, 3]);
    let mut t = x.clone();
    for i in 0..1_000 {
        t = if i % 2 == 0 {
            t.t().t() * 1.0
        } else {
            t.reshape([3, 2]).reshape([2, 3]) * 1.0
        };
    }
    assert_eq!(t.to_vec::<f32>().unwrap(), vec![0., 1., 2., 3., 4., 5.]);
}

#[test]
fn wide_sum_of_1000_tensors() {
    let parts: Vec<Tensor> = (0..1_000)
        .map(|i| Tensor::full([3], i as f64, DType::I64))
        .collect();
    let total = parts
        .iter()
        .fold(Tensor::zeros([3], DType::I64), |acc, p| acc + p);
    assert_eq!(total.to_vec::<i64>().unwrap(), vec![499_500; 3]);
}
