//! Random numbers: `manual_seed` reproducibility, `rand` in [0, 1), `randn` moments. One test, because
//! the seed is process-wide state that other tests in the binary would advance.

mod common;

use smelt::DType::{F32, F64, I32};
use smelt::prelude::*;

fn moments(v: &[f64]) -> (f64, f64) {
    let n = v.len() as f64;
    let mean = v.iter().sum::<f64>() / n;
    (
        mean,
        v.iter().map(|x| (x - mean).powi(2)).sum::<f64>() / (n - 1.0),
    )
}

#[test]
fn seeds_reproduce_and_distributions_have_the_right_moments() {
    smelt::manual_seed(42);
    let (u1, n1) = (Tensor::rand([1000], F32), Tensor::randn([3, 5], F64));
    let (u1, n1) = (u1.to_vec::<f32>().unwrap(), n1.to_vec::<f64>().unwrap());
    smelt::manual_seed(42);
    // The values are fixed when a tensor is created, not when it is realized: realize in another order.
    let (u2, n2) = (Tensor::rand([1000], F32), Tensor::randn([3, 5], F64));
    let n2 = n2.to_vec::<f64>().unwrap();
    let u2 = u2.to_vec::<f32>().unwrap();
    assert_eq!(u1, u2, "same seed, same uniform values");
    assert_eq!(n1, n2, "same seed, same normal values");
    let u3 = Tensor::rand([1000], F32).to_vec::<f32>().unwrap();
    assert_ne!(u1, u3, "the next draw continues the stream");
    smelt::manual_seed(43);
    assert_ne!(
        Tensor::rand([1000], F32).to_vec::<f32>().unwrap(),
        u1,
        "another seed, other values"
    );
    // Shapes, dtypes and the _like forms.
    let proto = Tensor::zeros([2, 3], F64);
    let l = Tensor::rand_like(&proto);
    assert_eq!((l.dims(), l.dtype()), (&[2usize, 3][..], F64));
    assert_eq!(Tensor::randn_like(&Tensor::zeros([4], F32)).dtype(), F32);
    assert!(Tensor::try_rand_on([2], I32, Device::Cpu).is_err());
    assert_eq!(
        Tensor::rand([0, 3], F32).to_vec::<f32>().unwrap(),
        Vec::<f32>::new()
    );

    // rand: [0, 1), mean 1/2, variance 1/12 (100,000 draws; the seed makes this deterministic).
    smelt::manual_seed(7);
    for dtype in [F32, F64] {
        let t = Tensor::rand([100_000], dtype);
        let v: Vec<f64> = match dtype {
            F32 => t
                .to_vec::<f32>()
                .unwrap()
                .into_iter()
                .map(f64::from)
                .collect(),
            _ => t.to_vec::<f64>().unwrap(),
        };
        assert!(
            v.iter().all(|&x| (0.0..1.0).contains(&x)),
            "{dtype}: outside [0, 1)"
        );
        let (mean, var) = moments(&v);
        assert!((mean - 0.5).abs() < 0.005, "{dtype}: mean {mean}");
        assert!((var - 1.0 / 12.0).abs() < 0.003, "{dtype}: variance {var}");
        let low = v.iter().filter(|&&x| x < 0.1).count() as f64 / v.len() as f64;
        assert!((low - 0.1).abs() < 0.005, "{dtype}: P(x < 0.1) = {low}");
    }
    // randn: mean 0, variance 1, about 5% beyond ±1.96.
    for dtype in [F32, F64] {
        let t = Tensor::randn([100_000], dtype);
        let v: Vec<f64> = match dtype {
            F32 => t
                .to_vec::<f32>()
                .unwrap()
                .into_iter()
                .map(f64::from)
                .collect(),
            _ => t.to_vec::<f64>().unwrap(),
        };
        assert!(v.iter().all(|x| x.is_finite()), "{dtype}: not finite");
        let (mean, var) = moments(&v);
        assert!(mean.abs() < 0.02, "{dtype}: mean {mean}");
        assert!((var - 1.0).abs() < 0.03, "{dtype}: variance {var}");
        let tails = v.iter().filter(|x| x.abs() > 1.96).count() as f64 / v.len() as f64;
        assert!(
            (tails - 0.05).abs() < 0.005,
            "{dtype}: P(|x| > 1.96) = {tails}"
        );
    }
}
