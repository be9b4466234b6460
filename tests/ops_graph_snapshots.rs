//! Snapshots of the collected work graph (`smelt_passes::Graph`'s dump) for a few programs: what the
//! Tensor API records before any pass runs. The files live in the top-level `snapshots/`.
//!
//! Each snapshot was read line by line when it was accepted; the comment above each case says what to
//! look for. Random tensors are kept out: their dump includes a process-wide stream offset.

use smelt::DType::{F32, I32};
use smelt::prelude::*;

fn check(name: &str, targets: &[&Tensor]) {
    let dump = Tensor::debug_graph(targets).unwrap();
    insta::with_settings!({snapshot_path => "../snapshots", omit_expression => true}, {
        insta::assert_snapshot!(name, dump);
    });
}

fn named(data: Vec<f32>, shape: &[usize], name: &str) -> Tensor {
    Tensor::from_vec(data, shape).named(name)
}

/// matmul is reshape/expand of both sides, a multiply and a sum over k; the bias is a broadcast
/// constant; relu is `max` with a broadcast 0. Named inputs keep their labels.
#[test]
fn matmul_bias_relu() {
    let a = named(vec![1., 2., 3., 4., 5., 6.], &[2, 3], "a");
    let b = named(vec![1.; 12], &[3, 4], "b");
    check("matmul_bias_relu", &[&(a.matmul(&b) + 1.0).relu()]);
}

/// softmax: a max over the last dim (kept), subtracted after an expand, exp, sum, divide.
#[test]
fn softmax_last_dim() {
    let x = named(vec![0.; 6], &[2, 3], "x");
    check("softmax_last_dim", &[&x.softmax(-1)]);
}

/// i32[3,1] + f32[4]: the i32 side gets a cast to f32, both sides a reshape to rank 2 where needed and
/// an expand to [3,4].
#[test]
fn promote_and_broadcast() {
    let i = Tensor::from_vec(vec![1i32, 2, 3], [3, 1]).named("i");
    let f = named(vec![0.5; 4], &[4], "f");
    check("promote_and_broadcast", &[&(&i + &f)]);
}

/// Two outputs sharing `exp(x * 3)`: the shared nodes appear once, both outputs listed.
#[test]
fn shared_work_two_outputs() {
    let x = named(vec![0.5, -1.0, 2.0], &[3], "x");
    let shared = (&x * 3.0).exp();
    check(
        "shared_work_two_outputs",
        &[&shared.sum(), &(&shared + 1.0)],
    );
}

/// Views only: permute, reshape, slice (start/step per axis), pad (crop becomes a slice first), expand.
#[test]
fn view_chain() {
    let x = named((0..24).map(|v| v as f32).collect(), &[2, 3, 4], "x");
    let y = x
        .permute(&[2, 0, 1])
        .reshape([4, 6])
        .slice(1, 1, 6, 2)
        .pad(&[-1, 1], 0.0)
        .unsqueeze(0)
        .expand([2, 4, 3]);
    check("view_chain", &[&y]);
}

/// argmax: the max (kept), `x == max` or-ed with `x != x` (NaN), an iota along the dim, a where that
/// puts n where there is no hit, and a min over the dim.
#[test]
fn argmax_dim1() {
    let x = named(vec![0.; 6], &[2, 3], "x");
    check("argmax_dim1", &[&x.argmax(1, false)]);
}

/// A realized intermediate enters the next graph as an input: no trace of the multiply.
#[test]
fn realized_intermediate_is_an_input() {
    let x = named(vec![1., 2.], &[2], "x");
    let h = (&x * 2.0).named("h").realize().unwrap();
    check("realized_intermediate_is_an_input", &[&(&h + 1.0).sum()]);
}

/// eye is two iotas compared and cast; arange is data made on the host (an input); the unbiased
/// variance divides by n - 1 = 2 after a mean over the same dim.
#[test]
fn eye_arange_var() {
    let e = Tensor::eye(3, F32) + Tensor::arange(0.0, 3.0, 1.0, F32).named("arange");
    check("eye_arange_var", &[&e.var_dim(&[1], false)]);
}

/// Integer sums accumulate in i64: a cast before the reduce.
#[test]
fn integer_sum_is_i64() {
    let i = Tensor::from_vec(vec![1i32, 2, 3, 4], [2, 2]).named("i");
    check(
        "integer_sum_is_i64",
        &[&i.sum_dim(&[0], false), &i.to_dtype(I32).max()],
    );
}
