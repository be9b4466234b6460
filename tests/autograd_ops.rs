//! Every differentiable op's gradient against central finite differences, in f64 through the public API
//! (the interpreter computes f64 tensors in f64). One `check` helper; one line per case.
//!
//! Inputs are chosen away from kinks (ties, zeros, integer points), where the derivative exists; the
//! values PyTorch defines at kinks are checked by hand in `autograd_api.rs`.

use smelt::prelude::*;

/// Deterministic values in `[lo, hi)`, different per `seed` (a small LCG: no test depends on a crate).
fn vals(n: usize, seed: u64, lo: f64, hi: f64) -> Vec<f64> {
    let mut s = seed
        .wrapping_mul(6364136223846793005)
        .wrapping_add(1442695040888963407);
    (0..n)
        .map(|_| {
            s = s
                .wrapping_mul(6364136223846793005)
                .wrapping_add(1442695040888963407);
            lo + (hi - lo) * ((s >> 11) as f64 / (1u64 << 53) as f64)
        })
        .collect()
}

/// An input: its values and shape.
struct In(Vec<f64>, Vec<usize>);

/// Random values in [-1, 1).
fn r(shape: &[usize], seed: u64) -> In {
    In(
        vals(shape.iter().product(), seed, -1.0, 1.0),
        shape.to_vec(),
    )
}

/// Random values in [lo, hi).
fn ru(shape: &[usize], seed: u64, lo: f64, hi: f64) -> In {
    In(vals(shape.iter().product(), seed, lo, hi), shape.to_vec())
}

/// `f` reduced to a scalar with fixed weights, so every output element is checked with its own weight.
fn scalarize(out: &Tensor) -> Tensor {
    let w = Tensor::from_vec(vals(out.numel(), 99, 0.5, 1.5), out.shape().clone());
    (out * &w).sum()
}

/// Checks `smelt::grad` and `backward` of `f` at `inputs` against central differences.
#[track_caller]
fn check(inputs: &[In], f: impl Fn(&[Tensor]) -> Tensor) {
    let leaves: Vec<Tensor> = inputs
        .iter()
        .map(|In(v, s)| Tensor::from_slice(v, s.clone()).requires_grad_(true))
        .collect();
    let y = scalarize(&f(&leaves));
    let refs: Vec<&Tensor> = leaves.iter().collect();
    let grads = smelt::grad(&y, &refs);
    y.backward();
    let eval = |k: usize, j: usize, d: f64| -> f64 {
        let ts: Vec<Tensor> = inputs
            .iter()
            .enumerate()
            .map(|(i, In(v, s))| {
                let mut v = v.clone();
                if i == k {
                    v[j] += d;
                }
                Tensor::from_vec(v, s.clone())
            })
            .collect();
        scalarize(&f(&ts)).item::<f64>().unwrap()
    };
    let h = 1e-6;
    for (k, In(v, s)) in inputs.iter().enumerate() {
        assert_eq!(grads[k].dims(), s.as_slice(), "gradient shape of input {k}");
        assert_eq!(grads[k].dtype(), DType::F64);
        let got = grads[k].to_vec::<f64>().unwrap();
        let stored = leaves[k]
            .grad()
            .expect("backward fills the leaf's grad")
            .to_vec::<f64>()
            .unwrap();
        for j in 0..v.len() {
            let fd = (eval(k, j, h) - eval(k, j, -h)) / (2.0 * h);
            let tol = 1e-6 * fd.abs().max(1.0);
            assert!(
                (got[j] - fd).abs() <= tol,
                "input {k} element {j}: grad {} vs finite difference {fd}",
                got[j]
            );
            assert!(
                (stored[j] - got[j]).abs() <= 1e-12 * got[j].abs().max(1.0),
                "backward and grad differ"
            );
        }
    }
}

// ---- elementwise, with broadcasting ----

#[test]
fn add_sub_mul_div_broadcast() {
    check(&[r(&[2, 3], 1), r(&[3], 2)], |x| &x[0] + &x[1]);
    check(&[r(&[2, 1], 3), r(&[3], 4)], |x| &x[0] - &x[1]);
    check(&[r(&[2, 3], 5), r(&[2, 1], 6)], |x| &x[0] * &x[1]);
    check(&[r(&[2, 3], 7), ru(&[3], 8, 0.5, 2.0)], |x| &x[0] / &x[1]);
    check(&[r(&[4], 9)], |x| (&x[0] * 3.0 - 1.0) / 2.0 + 5.0);
    check(&[ru(&[4], 10, 0.5, 2.0)], |x| 2.0 / &x[0] - (1.0 - &x[0]));
    check(&[r(&[3], 11), r(&[], 200)], |x| &x[0] * &x[1]);
    check(&[r(&[3], 12)], |x| -&x[0]);
}

#[test]
fn same_operand_twice() {
    check(&[r(&[5], 13)], |x| &x[0] * &x[0]);
    check(&[r(&[5], 14)], |x| x[0].square() + &x[0]);
}

#[test]
fn pow_both_operands() {
    check(&[ru(&[2, 3], 15, 0.5, 2.0), r(&[2, 3], 16)], |x| {
        x[0].pow(&x[1])
    });
    check(&[ru(&[2, 3], 17, 0.5, 2.0), r(&[3], 18)], |x| {
        x[0].pow(&x[1])
    });
    check(&[r(&[4], 19)], |x| x[0].powf(3.0));
    check(&[ru(&[4], 20, 0.5, 2.0)], |x| x[0].powf(-1.5));
}

#[test]
fn transcendental() {
    check(&[r(&[6], 21)], |x| x[0].exp());
    check(&[ru(&[6], 22, 0.1, 3.0)], |x| x[0].log());
    check(&[ru(&[6], 23, 0.1, 3.0)], |x| x[0].sqrt());
    check(&[ru(&[6], 24, 0.1, 3.0)], |x| x[0].rsqrt());
    check(&[r(&[6], 25)], |x| x[0].sin());
    check(&[r(&[6], 26)], |x| x[0].cos());
    check(&[r(&[6], 27)], |x| x[0].tanh());
    check(&[ru(&[6], 28, -2.0, 2.0)], |x| x[0].erf());
    check(&[ru(&[6], 29, 0.2, 2.0)], |x| x[0].reciprocal());
}

#[test]
fn activations() {
    check(&[ru(&[6], 30, -3.0, 3.0)], |x| x[0].sigmoid());
    check(&[ru(&[6], 31, -3.0, 3.0)], |x| x[0].gelu());
    check(&[ru(&[6], 32, -3.0, 3.0)], |x| x[0].gelu_tanh());
    check(&[ru(&[6], 33, -3.0, 3.0)], |x| x[0].silu());
    check(&[In(vec![-1.5, -0.3, 0.2, 0.7, 2.0], vec![5])], |x| {
        x[0].relu()
    });
}

#[test]
fn piecewise() {
    check(&[In(vec![-1.5, -0.3, 0.2, 0.7], vec![4])], |x| x[0].abs());
    // Zero gradients away from the jumps.
    check(&[In(vec![-1.3, -0.3, 0.2, 0.7, 2.4], vec![5])], |x| {
        x[0].floor() + x[0].ceil() + x[0].round() + x[0].sign() + x[0].trunc()
    });
    check(
        &[
            In(vec![-1.3, 0.2, 2.6], vec![3]),
            In(vec![0.7, 0.9, 1.1], vec![3]),
        ],
        |x| x[0].remainder(&x[1]),
    );
}

#[test]
fn maximum_minimum_clamp() {
    check(&[r(&[2, 3], 34), r(&[3], 35)], |x| x[0].maximum(&x[1]));
    check(&[r(&[2, 3], 36), r(&[2, 1], 37)], |x| x[0].minimum(&x[1]));
    check(&[In(vec![-1.5, -0.3, 0.2, 0.7, 2.0], vec![5])], |x| {
        x[0].clamp(-0.5, 1.0)
    });
    check(&[In(vec![-1.5, -0.3, 0.2, 0.7, 2.0], vec![5])], |x| {
        x[0].clamp_min(0.5)
    });
    check(&[In(vec![-1.5, -0.3, 0.2, 0.7, 2.0], vec![5])], |x| {
        x[0].clamp_max(-0.1)
    });
}

#[test]
fn where_cond() {
    let c = Tensor::new([true, false, true]);
    check(&[r(&[2, 3], 38), r(&[3], 39)], |x| {
        Tensor::where_cond(&c, &x[0], &x[1])
    });
    check(&[r(&[2, 3], 40)], |x| {
        x[0].gt_scalar(0.0).where_(&x[0].exp(), &(&x[0] * 2.0))
    });
}

// ---- views ----

#[test]
fn reshape_permute_transpose() {
    check(&[r(&[2, 3, 4], 41)], |x| x[0].reshape([4, 6]));
    check(&[r(&[2, 3, 4], 42)], |x| {
        x[0].permute(&[2, 0, 1]) * &Tensor::from_vec(vals(24, 7, 0.0, 1.0), [4, 2, 3])
    });
    check(&[r(&[2, 3], 43)], |x| x[0].t());
    check(&[r(&[2, 3, 4], 44)], |x| x[0].transpose(0, 2).flatten());
    check(&[r(&[3], 45)], |x| {
        x[0].unsqueeze(0).unsqueeze(-1).squeeze(0)
    });
    check(&[r(&[2, 3, 4], 46)], |x| x[0].flatten_range(1, 2));
}

#[test]
fn expand_is_summed_back() {
    check(&[r(&[3, 1], 47)], |x| x[0].expand([2, 3, 4]));
    check(&[r(&[1], 48)], |x| x[0].broadcast_to([5]));
    check(&[r(&[], 49)], |x| x[0].expand([2, 2]));
}

#[test]
fn pad_and_crop() {
    check(&[r(&[2, 3], 50)], |x| x[0].pad(&[1, 2], 0.5));
    check(&[r(&[2, 3], 51)], |x| x[0].pad(&[1, 0, 2, 1], -1.0));
    check(&[r(&[3, 5], 52)], |x| x[0].pad(&[-1, 2, 1, -1], 0.0));
}

#[test]
fn slices_with_steps() {
    check(&[r(&[7], 53)], |x| x[0].slice(0, 1, 7, 2));
    check(&[r(&[7], 54)], |x| x[0].slice(0, 2, 6, 3));
    check(&[r(&[5, 7], 55)], |x| {
        x[0].slice(0, 1, 5, 2).slice(1, 0, 7, 3)
    });
    check(&[r(&[4, 6, 5], 56)], |x| {
        x[0].slice(1, -5, -1, 2).slice(2, 4, 5, 4)
    });
    check(&[r(&[5, 4], 57)], |x| x[0].narrow(0, 1, 3));
    check(&[r(&[5, 4], 58)], |x| {
        let parts = x[0].split(2, 0);
        &parts[0].sum() * &parts[2].sum() + parts[1].exp().sum()
    });
    check(&[r(&[3, 7], 59)], |x| {
        let parts = x[0].chunk(3, 1);
        Tensor::cat(&[&parts[2], &(&parts[0] * 2.0)], 1)
    });
}

#[test]
fn gather_and_index_select() {
    let idx = Tensor::new([2i64, 0, 2, 1]);
    check(&[r(&[3, 4], 60)], |x| x[0].index_select(0, &idx));
    check(&[r(&[4, 3], 61)], |x| {
        x[0].index_select(1, &idx.slice(0, 0, 3, 1))
    });
    let g = Tensor::new([[0i64, 2], [1, 1], [2, 0]]);
    check(&[r(&[3, 4], 62)], |x| x[0].gather(1, &g));
    let g0 = Tensor::new([[2i32, 0, 1], [2, 2, 0]]);
    check(&[r(&[3, 4], 63)], |x| x[0].gather(0, &g0));
}

#[test]
fn cat_and_stack() {
    check(&[r(&[2, 3], 64), r(&[2, 1], 65), r(&[2, 2], 66)], |x| {
        Tensor::cat(&[&x[0], &x[1], &x[2]], 1)
    });
    check(&[r(&[1, 3], 67), r(&[2, 3], 68)], |x| {
        Tensor::cat(&[&x[0], &x[1], &x[0]], 0)
    });
    check(&[r(&[3], 69), r(&[3], 70)], |x| {
        Tensor::stack(&[&x[0], &x[1]], 1)
    });
}

// ---- reductions ----

#[test]
fn sums_and_means() {
    check(&[r(&[2, 3, 4], 71)], |x| x[0].sum());
    check(&[r(&[2, 3, 4], 72)], |x| x[0].sum_dim(&[0, 2], false));
    check(&[r(&[2, 3, 4], 73)], |x| x[0].sum_dim(&[1], true));
    check(&[r(&[2, 3], 74)], |x| x[0].mean());
    check(&[r(&[2, 3], 75)], |x| x[0].mean_dim(&[-1], false));
    check(&[r(&[3, 4], 76)], |x| x[0].var_dim(&[1], false));
    check(&[r(&[3, 4], 77)], |x| x[0].std_dim(&[0], true));
    check(&[r(&[5], 78)], |x| x[0].var() + x[0].std());
}

#[test]
fn products() {
    check(&[ru(&[2, 3], 79, 0.5, 1.5)], |x| x[0].prod());
    check(&[r(&[2, 3], 80)], |x| x[0].prod_dim(&[1], false));
}

#[test]
fn max_min_distinct() {
    check(&[r(&[2, 3], 81)], |x| x[0].max());
    check(&[r(&[2, 3], 82)], |x| x[0].min());
    check(&[r(&[3, 4], 83)], |x| x[0].max_dim(&[1], false));
    check(&[r(&[3, 4], 84)], |x| x[0].min_dim(&[0], true));
    check(&[r(&[2, 3, 4], 85)], |x| x[0].max_dim(&[0, 2], false));
}

#[test]
fn softmax_family() {
    check(&[ru(&[2, 4], 86, -2.0, 2.0)], |x| x[0].softmax(1));
    check(&[ru(&[3, 2], 87, -2.0, 2.0)], |x| x[0].softmax(0));
    check(&[ru(&[2, 4], 88, -2.0, 2.0)], |x| x[0].log_softmax(-1));
    check(&[ru(&[2, 4], 89, -2.0, 2.0)], |x| x[0].logsumexp(1));
}

// ---- matmul in all its forms ----

#[test]
fn matmul_forms() {
    check(&[r(&[4], 90), r(&[4], 91)], |x| x[0].dot(&x[1]));
    check(&[r(&[3, 4], 92), r(&[4], 93)], |x| x[0].matmul(&x[1]));
    check(&[r(&[4], 94), r(&[4, 2], 95)], |x| x[0].matmul(&x[1]));
    check(&[r(&[3, 4], 96), r(&[4, 2], 97)], |x| x[0].mm(&x[1]));
    check(&[r(&[2, 3, 4], 98), r(&[4, 5], 99)], |x| x[0].matmul(&x[1]));
    check(&[r(&[2, 1, 3, 4], 100), r(&[3, 4, 2], 101)], |x| {
        x[0].matmul(&x[1])
    });
    check(&[r(&[3], 102), r(&[2], 103)], |x| x[0].outer(&x[1]));
}

// ---- compositions ----

#[test]
fn small_network_losses() {
    let target = Tensor::new([2i64, 0, 1]);
    check(
        &[
            r(&[3, 4], 104),
            r(&[4, 5], 105),
            r(&[5], 106),
            r(&[5, 3], 107),
        ],
        |x| {
            let h = (x[0].matmul(&x[1]) + &x[2]).tanh();
            smelt::nn::cross_entropy(&h.matmul(&x[3]), &target)
        },
    );
    check(&[r(&[3, 4], 108), r(&[3, 4], 109)], |x| {
        smelt::nn::mse_loss(&x[0].sigmoid(), &x[1])
    });
    check(&[r(&[3, 4], 110), ru(&[3, 4], 111, 0.0, 1.0)], |x| {
        smelt::nn::cross_entropy(&x[0], &x[1].softmax(1))
    });
}

#[test]
fn chain_of_views_and_math() {
    check(&[r(&[2, 3], 112), r(&[3, 2], 113)], |x| {
        let a = x[0].pad(&[2, 0], 0.0).slice(1, 0, 5, 2);
        let b = x[1].t().expand([2, 2, 3]).sum_dim(&[0], false);
        (&a * &b).exp().log_softmax(0).max_dim(&[1], false)
    });
}
