//! Creation functions against NumPy fixtures (`arange` with negative steps and integer truncation,
//! `linspace`, `eye`, `full`), and `Tensor::new` with nested data.

#[macro_use]
mod common;

use common::{assert_values, panics};
use smelt::prelude::*;

fixture_tests! { "creation";
    arange_f32: |_| Tensor::arange(0.0, 10.0, 1.0, DType::F32);
    arange_frac_f32: |_| Tensor::arange(0.0, 1.0, 0.1, DType::F32);
    arange_neg_step_i64: |_| Tensor::arange(10.0, 0.0, -3.0, DType::I64);
    arange_neg_step_f64: |_| Tensor::arange(1.0, -1.0, -0.25, DType::F64);
    arange_i32: |_| Tensor::arange(-3.0, 4.0, 2.0, DType::I32);
    arange_trunc_i64: |_| Tensor::arange(-2.5, 2.5, 1.0, DType::I64);
    arange_empty: |_| Tensor::arange(0.0, 0.0, 1.0, DType::F32);
    arange_one_past: |_| Tensor::arange(0.0, 1.0001, 0.5, DType::F32);
    linspace_f32: |_| Tensor::linspace(0.0, 1.0, 5, DType::F32);
    linspace_neg: |_| Tensor::linspace(1.0, -1.0, 4, DType::F32);
    linspace_one_step_is_start: |_| Tensor::linspace(3.0, 7.0, 1, DType::F32);
    linspace_zero_steps: |_| Tensor::linspace(3.0, 7.0, 0, DType::F32);
    linspace_i64: |_| Tensor::linspace(0.0, 10.0, 4, DType::I64);
    linspace_f64: |_| Tensor::linspace(0.0, 1.0, 7, DType::F64);
    linspace_odd_f32: |_| Tensor::linspace(-5.0, 5.0, 11, DType::F32);
    eye_3_f32: |_| Tensor::eye(3, DType::F32);
    eye_0: |_| Tensor::eye(0, DType::F32);
    eye_2_i64: |_| Tensor::eye(2, DType::I64);
    eye_3_bool: |_| Tensor::eye(3, DType::Bool);
    full_f32: |_| Tensor::full([2, 3], 2.5, DType::F32);
    full_i32_truncates: |_| Tensor::full([3], 2.7, DType::I32);
    full_bool: |_| Tensor::full([2], 0.5, DType::Bool);
    full_0d: |_| Tensor::full((), 1.5, DType::F64);
    full_zero_size: |_| Tensor::full([2, 0], 1.0, DType::F32);
    zeros_i64: |_| Tensor::zeros([2, 2], DType::I64);
    ones_u8: |_| Tensor::ones(3, DType::U8);
    zeros_like_i32: |x| Tensor::zeros_like(&x[0]);
    ones_like_f64: |x| Tensor::ones_like(&x[0]);
}

// ---- Tensor::new, from_vec, from_slice, scalar ----

#[test]
fn new_from_nested_arrays() {
    let t = Tensor::new([[1f32, 2., 3.], [4., 5., 6.]]);
    assert_values(&t, DType::F32, &[2, 3], &[1., 2., 3., 4., 5., 6.]);
    let t = Tensor::new([[[1i64], [2]], [[3], [4]]]);
    assert_values(&t, DType::I64, &[2, 2, 1], &[1., 2., 3., 4.]);
    let t = Tensor::new([true, false]);
    assert_values(&t, DType::Bool, &[2], &[1., 0.]);
}

#[test]
fn new_from_vecs_and_slices() {
    let t = Tensor::new(vec![vec![1.5f64, 2.5], vec![3.5, 4.5], vec![5.5, 6.5]]);
    assert_values(&t, DType::F64, &[3, 2], &[1.5, 2.5, 3.5, 4.5, 5.5, 6.5]);
    let rows: [&[u8]; 2] = [&[1, 2], &[3, 4]];
    let t = Tensor::new(&rows[..]);
    assert_values(&t, DType::U8, &[2, 2], &[1., 2., 3., 4.]);
    let t = Tensor::new(vec![[1i32, 2], [3, 4]]);
    assert_values(&t, DType::I32, &[2, 2], &[1., 2., 3., 4.]);
}

#[test]
fn new_scalar_and_empty() {
    assert_values(&Tensor::new(2.5f32), DType::F32, &[], &[2.5]);
    assert_values(&Tensor::scalar(7i64), DType::I64, &[], &[7.]);
    assert_values(&Tensor::new(Vec::<f32>::new()), DType::F32, &[0], &[]);
    // torch.tensor([[], []]) has shape [2, 0].
    assert_values(
        &Tensor::new(vec![Vec::<f32>::new(), vec![]]),
        DType::F32,
        &[2, 0],
        &[],
    );
}

#[test]
fn new_ragged_is_an_error() {
    let e = Tensor::try_new(vec![vec![1f32, 2.], vec![3.]]).unwrap_err();
    assert!(matches!(e, Error::Shape { op: "new", .. }), "{e:?}");
    assert_eq!(
        e.to_string(),
        "new: ragged nested data: 1 elements at depth 1, expected 2"
    );
    let e = Tensor::try_new(vec![vec![], vec![1i32]]).unwrap_err();
    assert!(matches!(e, Error::Shape { op: "new", .. }), "{e:?}");
    let e = Tensor::try_new(vec![vec![vec![1u8, 2]], vec![vec![3]]]).unwrap_err();
    assert!(e.to_string().starts_with("new: ragged nested data"), "{e}");
    let msg = panics(|| Tensor::new(vec![vec![1f32], vec![2., 3.]]));
    assert_eq!(
        msg,
        "new: ragged nested data: 2 elements at depth 1, expected 1"
    );
}

#[test]
fn from_vec_and_from_slice() {
    let t = Tensor::from_vec(vec![1u8, 2, 3, 4, 5, 6], [3, 2]);
    assert_values(&t, DType::U8, &[3, 2], &[1., 2., 3., 4., 5., 6.]);
    let data = [1.0f64, -2.0];
    let t = Tensor::from_slice(&data, vec![2, 1]);
    assert_values(&t, DType::F64, &[2, 1], &[1., -2.]);
    let t = Tensor::from_vec(vec![9i32], ());
    assert_values(&t, DType::I32, &[], &[9.]);
    let t = Tensor::from_vec(Vec::<f32>::new(), [0, 5]);
    assert_values(&t, DType::F32, &[0, 5], &[]);
    let e = Tensor::try_from_vec(vec![1f32, 2., 3.], [2, 2]).unwrap_err();
    assert_eq!(
        e.to_string(),
        "from_vec: 3 elements cannot have shape [2, 2] (4 elements)"
    );
    assert!(Tensor::try_from_slice(&[1i64; 5], [2, 3]).is_err());
}

#[test]
fn creation_argument_errors() {
    let e = Tensor::try_arange(0.0, 1.0, 0.0, DType::F32).unwrap_err();
    assert_eq!(e.to_string(), "arange: step must be nonzero");
    let e = Tensor::try_arange(0.0, 5.0, -1.0, DType::F32).unwrap_err();
    assert_eq!(
        e.to_string(),
        "arange: the range and the step have opposite signs"
    );
    assert!(Tensor::try_arange(0.0, f64::INFINITY, 1.0, DType::F32).is_err());
    assert!(Tensor::try_arange(0.0, f64::NAN, 1.0, DType::F32).is_err());
    assert!(matches!(
        Tensor::try_arange(0.0, 2.0, 1.0, DType::Bool),
        Err(Error::DType { .. })
    ));
    let msg = panics(|| Tensor::arange(0.0, 1.0, 0.0, DType::F32));
    assert_eq!(msg, "arange: step must be nonzero");
    let e = Tensor::try_rand_on([2], DType::I32, Device::Cpu).unwrap_err();
    assert_eq!(
        e.to_string(),
        "rand: random numbers need a float dtype, got i32"
    );
    assert!(Tensor::try_randn_on([2], DType::Bool, Device::Cpu).is_err());
}

#[test]
fn creation_attributes() {
    let t = Tensor::zeros([2, 3, 4], DType::F32);
    assert_eq!(t.shape(), &[2, 3, 4]);
    assert_eq!(t.dims(), &[2, 3, 4]);
    assert_eq!(t.ndim(), 3);
    assert_eq!(t.numel(), 24);
    assert_eq!(t.dtype(), DType::F32);
    assert_eq!(t.device(), Device::Cpu);
    assert_eq!(t.size(-1), 4);
    assert_eq!(t.size(0), 2);
    assert!(t.try_size(3).is_err());
    // Attributes never realize anything.
    assert!(!t.is_realized());
    let s = Tensor::scalar(1f32);
    assert_eq!((s.ndim(), s.numel()), (0, 1));
    assert_eq!(Tensor::zeros(&[5usize, 0][..], DType::I32).numel(), 0);
}

#[test]
fn on_device_forms_on_the_cpu() {
    let cpu = Device::Cpu;
    assert_values(
        &Tensor::zeros_on([2], DType::F64, cpu),
        DType::F64,
        &[2],
        &[0., 0.],
    );
    assert_values(
        &Tensor::ones_on([1, 2], DType::I32, cpu),
        DType::I32,
        &[1, 2],
        &[1., 1.],
    );
    assert_values(
        &Tensor::full_on((), -2.5, DType::F32, cpu),
        DType::F32,
        &[],
        &[-2.5],
    );
    assert_values(
        &Tensor::eye_on(2, DType::U8, cpu),
        DType::U8,
        &[2, 2],
        &[1., 0., 0., 1.],
    );
    assert_values(
        &Tensor::arange_on(0.0, 3.0, 1.0, DType::I64, cpu),
        DType::I64,
        &[3],
        &[0., 1., 2.],
    );
    assert_values(
        &Tensor::linspace_on(0.0, 1.0, 3, DType::F64, cpu),
        DType::F64,
        &[3],
        &[0., 0.5, 1.],
    );
    assert_values(
        &Tensor::full_like(&Tensor::zeros([2], DType::I64), 7.0),
        DType::I64,
        &[2],
        &[7., 7.],
    );
    let r = Tensor::rand_on([3], DType::F32, cpu);
    assert_eq!((r.device(), r.dims()), (cpu, &[3usize][..]));
    let t = Tensor::new([1f32]);
    assert!(
        t.to(cpu).same(&t),
        "to() the tensor's own device is the same handle"
    );
}
