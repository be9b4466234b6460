//! The examples from the project's seed, with hand-worked values.

use smelt::prelude::*;

#[test]
fn matmul_2x2() {
    let a = Tensor::new([[1f32, 2.], [3., 4.]]);
    let b = Tensor::new([[5f32, 6.], [7., 8.]]);
    let c = a.matmul(&b);
    assert_eq!(c.shape(), &[2, 2]);
    assert_eq!(c.to_vec::<f32>().unwrap(), vec![19., 22., 43., 50.]);
}

#[test]
fn arange_reshape() {
    let t = Tensor::arange(1.0, 10.0, 1.0, DType::F32).reshape([3, 3, 1]);
    assert_eq!(t.shape(), &[3, 3, 1]);
    assert_eq!(
        t.to_vec::<f32>().unwrap(),
        (1..10).map(|x| x as f32).collect::<Vec<_>>()
    );
}

#[test]
fn cat_unsqueeze_gram() {
    let t = Tensor::new([[1f32, 2.], [3., 4.]]);
    let c = Tensor::cat(&[&t, &t], 1);
    assert_eq!(c.shape(), &[2, 4]);
    assert_eq!(
        c.to_vec::<f32>().unwrap(),
        vec![1., 2., 1., 2., 3., 4., 3., 4.]
    );
    let u = t.unsqueeze(1);
    assert_eq!(u.shape(), &[2, 1, 2]);
    // t @ t.T = [[1*1+2*2, 1*3+2*4], [3*1+4*2, 3*3+4*4]]
    assert_eq!(
        t.matmul(&t.t()).to_vec::<f32>().unwrap(),
        vec![5., 11., 11., 25.]
    );
}

#[test]
fn broadcast_error_names_op_and_shapes() {
    let a = Tensor::zeros([2, 3], DType::F32);
    let b = Tensor::zeros([4], DType::F32);
    let err = a.try_add(&b).unwrap_err();
    assert_eq!(
        err.to_string(),
        "add: shapes [2, 3] and [4] cannot broadcast"
    );
    let caught = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| a.add(&b))).unwrap_err();
    let msg = caught.downcast_ref::<String>().unwrap();
    assert_eq!(msg, "add: shapes [2, 3] and [4] cannot broadcast");
}
