//! Edge cases with hand-worked values: 0-d tensors through every op family, zero-size dims, size-1
//! dims, chains of non-contiguous views, and ndarray interop.

mod common;

use common::{assert_values, values_f64};
use smelt::DType::{Bool, F32, F64, I32, I64};
use smelt::prelude::*;

fn s() -> Tensor {
    Tensor::scalar(2.5f32)
}

// ---- 0-d tensors ----

#[test]
fn zero_dim_elementwise() {
    assert_values(&(s() + s()), F32, &[], &[5.0]);
    assert_values(&(s() * 2.0), F32, &[], &[5.0]);
    assert_values(&s().exp(), F32, &[], &[2.5f64.exp()]);
    assert_values(&s().neg().relu(), F32, &[], &[0.0]);
    assert_values(&s().gt(&Tensor::scalar(1f32)), Bool, &[], &[1.0]);
    assert_values(&s().to_dtype(I32), I32, &[], &[2.0]);
    assert_values(&s().clamp(0.0, 1.0), F32, &[], &[1.0]);
    // 0-d with a dimensioned tensor broadcasts; both orders.
    assert_values(
        &(s() + Tensor::new([1f32, 2., 3.])),
        F32,
        &[3],
        &[3.5, 4.5, 5.5],
    );
    assert_values(
        &(Tensor::new([[1f32], [2.]]) - s()),
        F32,
        &[2, 1],
        &[-1.5, -0.5],
    );
    let w = Tensor::where_cond(&Tensor::scalar(true), &s(), &Tensor::new([0f32, 0.]));
    assert_values(&w, F32, &[2], &[2.5, 2.5]);
    assert_eq!(s().item::<f32>().unwrap(), 2.5);
}

#[test]
fn zero_dim_reductions() {
    for r in [
        s().sum(),
        s().max(),
        s().min(),
        s().mean(),
        s().prod(),
        s().sum_dim(&[0], false),
        s().sum_dim(&[-1], true),
        s().max_dim(&[0], false),
        s().min_dim(&[-1], true),
        s().prod_dim(&[0], false),
        s().mean_dim(&[0], true),
        s().logsumexp(0),
    ] {
        assert_values(&r, F32, &[], &[2.5]);
    }
    // One element: the unbiased variance is 0/0.
    assert_values(&s().var(), F32, &[], &[f64::NAN]);
    assert_values(&s().var_dim(&[0], false), F32, &[], &[f64::NAN]);
    assert_values(&s().std_dim(&[-1], true), F32, &[], &[f64::NAN]);
    assert_values(&s().argmax(0, false), I64, &[], &[0.0]);
    assert_values(&s().argmin(-1, true), I64, &[], &[0.0]);
    assert_values(&s().softmax(0), F32, &[], &[1.0]);
    assert_values(&s().log_softmax(-1), F32, &[], &[0.0]);
    assert_values(&Tensor::scalar(3i32).sum(), I64, &[], &[3.0]);
    // dim 1 does not exist; a 0-d tensor accepts only 0 and -1.
    let e = s().try_sum_dim(&[1], false).unwrap_err();
    assert_eq!(
        e.to_string(),
        "sum: dim 1 is out of range for a tensor of 0 dims (expected -0..0)"
    );
    assert!(s().try_argmax(2, false).is_err());
    assert!(s().try_softmax(1).is_err());
    // dims 0 and -1 name the same dim.
    assert!(s().try_sum_dim(&[0, -1], false).is_err());
}

#[test]
fn zero_dim_views() {
    assert_values(&s().reshape([1]), F32, &[1], &[2.5]);
    assert_values(&s().reshape([1, 1]), F32, &[1, 1], &[2.5]);
    assert_values(&Tensor::new([[5f32]]).reshape(()), F32, &[], &[5.0]);
    assert_values(&s().reshape_infer(&[-1]), F32, &[1], &[2.5]);
    assert_values(&s().unsqueeze(0), F32, &[1], &[2.5]);
    assert_values(&s().unsqueeze(-1), F32, &[1], &[2.5]);
    assert_values(&s().flatten(), F32, &[1], &[2.5]);
    assert_values(&s().flatten_range(0, -1), F32, &[1], &[2.5]);
    assert_values(&s().squeeze(0), F32, &[], &[2.5]);
    assert_values(&s().squeeze_all(), F32, &[], &[2.5]);
    assert_values(&s().transpose(0, -1), F32, &[], &[2.5]);
    assert_values(&s().t(), F32, &[], &[2.5]);
    assert_values(&s().permute(&[]), F32, &[], &[2.5]);
    assert_values(&s().expand([2, 3]), F32, &[2, 3], &[2.5; 6]);
    assert_values(&s().pad(&[], 1.0), F32, &[], &[2.5]);
    assert_values(
        &Tensor::stack(&[&s(), &Tensor::scalar(1f32)], 0),
        F32,
        &[2],
        &[2.5, 1.0],
    );
    assert_values(&s().gather(0, &Tensor::scalar(0i64)), F32, &[], &[2.5]);
    assert_values(&s().index_select(0, &Tensor::new([0i64])), F32, &[], &[2.5]);
    assert!(s().try_pad(&[1, 1], 0.0).is_err());
    assert!(s().try_unsqueeze(2).is_err());
    let e = Tensor::try_cat(&[&s(), &s()], 0).unwrap_err();
    assert_eq!(
        e.to_string(),
        "cat: zero-dimensional tensors cannot be concatenated"
    );
    // Cutting ops need a dim to cut (PyTorch: "narrow() cannot be applied to a 0-dim tensor").
    assert_eq!(
        s().try_narrow(0, 0, 1).unwrap_err().to_string(),
        "narrow: cannot be applied to a 0-d tensor"
    );
    assert!(s().try_slice(0, 0, 1, 1).is_err());
    assert!(s().try_split(1, 0).is_err());
    assert!(s().try_chunk(1, 0).is_err());
    assert!(s().try_size(0).is_err());
    let e = s()
        .try_index_select(0, &Tensor::new([0i64, 0]))
        .unwrap_err();
    assert_eq!(
        e.to_string(),
        "index_select: a 0-d tensor needs an index of one element, got shape [2]"
    );
}

#[test]
fn zero_dim_matmul_is_an_error() {
    let v = Tensor::new([1f32, 2.]);
    for (a, b) in [(s(), v.clone()), (v.clone(), s()), (s(), s())] {
        let e = a.try_matmul(&b).unwrap_err();
        assert_eq!(e.to_string(), "matmul: both arguments need at least 1 dim");
    }
    assert!(s().try_dot(&s()).is_err());
    assert!(s().try_mm(&s()).is_err());
}

// ---- zero-size dims ----

#[test]
fn zero_size_reductions() {
    let z = Tensor::zeros([0, 3], F32);
    assert_values(&z.sum(), F32, &[], &[0.0]);
    assert_values(&z.prod(), F32, &[], &[1.0]);
    assert_values(&z.mean(), F32, &[], &[f64::NAN]);
    assert_values(&z.var(), F32, &[], &[f64::NAN]);
    assert_values(&z.sum_dim(&[0], true), F32, &[1, 3], &[0.0; 3]);
    assert_values(&Tensor::zeros([0], I32).sum(), I64, &[], &[0.0]);
    assert_values(&Tensor::zeros([0], Bool).prod(), I64, &[], &[1.0]);
    // max/min/argmax over a zero-size dim have no identity: an error, as PyTorch raises.
    let e = z.try_max_dim(&[0], false).unwrap_err();
    assert_eq!(
        e.to_string(),
        "max: cannot reduce a zero-size dim of shape [0, 3]: the result has no identity"
    );
    assert!(z.try_max().is_err());
    assert!(z.try_min().is_err());
    assert!(z.try_min_dim(&[-2], true).is_err());
    assert!(z.try_argmax(0, false).is_err());
    assert!(z.try_argmin(0, true).is_err());
    // ...but reducing a non-empty dim of an empty tensor is fine: the result is empty.
    assert_values(&z.max_dim(&[1], false), F32, &[0], &[]);
    assert_values(&z.argmin(1, true), I64, &[0, 1], &[]);
    assert_values(&z.softmax(0), F32, &[0, 3], &[]);
    // logsumexp over an empty dim is log(0) = -inf.
    assert_values(
        &Tensor::zeros([2, 0], F32).logsumexp(1),
        F32,
        &[2],
        &[f64::NEG_INFINITY; 2],
    );
}

#[test]
fn zero_size_ops_and_views() {
    let z = Tensor::zeros([0, 3], F32);
    assert_values(&z.exp(), F32, &[0, 3], &[]);
    assert_values(&(&z + Tensor::new([1f32, 2., 3.])), F32, &[0, 3], &[]);
    assert_values(&z.reshape([3, 0]), F32, &[3, 0], &[]);
    assert_values(&z.reshape_infer(&[-1, 3]), F32, &[0, 3], &[]);
    assert!(
        z.try_reshape_infer(&[-1, 0]).is_err(),
        "-1 with a 0 dim is ambiguous"
    );
    assert_values(&z.t(), F32, &[3, 0], &[]);
    assert_values(&z.matmul(&Tensor::ones([3, 2], F32)), F32, &[0, 2], &[]);
    assert_values(
        &Tensor::ones([2, 0], F32).matmul(&Tensor::ones([0, 3], F32)),
        F32,
        &[2, 3],
        &[0.0; 6],
    );
    assert_values(&z.pad(&[1, 1, 1, 0], 7.0), F32, &[1, 5], &[7.0; 5]);
    assert_values(&z.expand([2, 0, 3]), F32, &[2, 0, 3], &[]);
    assert_values(
        &Tensor::cat(&[&z, &Tensor::ones([1, 3], F32)], 0),
        F32,
        &[1, 3],
        &[1.0; 3],
    );
    assert_eq!(
        z.split(2, 0).len(),
        1,
        "torch.split of a zero-size dim gives one piece"
    );
    let chunks = z.chunk(3, 0);
    assert_eq!(
        chunks.len(),
        3,
        "torch.chunk of a zero-size dim gives `chunks` empty pieces"
    );
    assert!(chunks.iter().all(|c| c.dims() == [0, 3]));
    assert_values(&z.slice(1, 1, 3, 1), F32, &[0, 2], &[]);
    assert_values(&Tensor::new([1f32, 2.]).slice(0, 1, 1, 1), F32, &[0], &[]);
    assert_values(
        &z.index_select(1, &Tensor::new([2i64, 0])),
        F32,
        &[0, 2],
        &[],
    );
    assert_eq!(z.to_vec::<f32>().unwrap(), Vec::<f32>::new());
    // torch.cat skips 1-D empty tensors (legacy), but still promotes their dtypes.
    let c = Tensor::cat(&[&Tensor::zeros([0], I32), &Tensor::zeros([0], F32)], 0);
    assert_values(&c, F32, &[0], &[]);
    let c = Tensor::cat(&[&Tensor::new([[1i64, 2]]), &Tensor::zeros([0], I64)], 0);
    assert_values(&c, I64, &[1, 2], &[1., 2.]);
}

// ---- size-1 dims ----

#[test]
fn size_one_dims() {
    let t = Tensor::new([[3f32, 1., 2.]]); // [1, 3]
    assert_values(&t.sum_dim(&[0], false), F32, &[3], &[3., 1., 2.]);
    assert_values(&t.max_dim(&[0], true), F32, &[1, 3], &[3., 1., 2.]);
    assert_values(&t.argmax(0, false), I64, &[3], &[0.; 3]);
    assert_values(&t.softmax(0), F32, &[1, 3], &[1.; 3]);
    assert_values(&t.var_dim(&[0], false), F32, &[3], &[f64::NAN; 3]);
    assert_values(&t.squeeze(0), F32, &[3], &[3., 1., 2.]);
    assert_values(&t.expand([2, 3]), F32, &[2, 3], &[3., 1., 2., 3., 1., 2.]);
    assert_values(
        &t.t().expand([3, 2]),
        F32,
        &[3, 2],
        &[3., 3., 1., 1., 2., 2.],
    );
    assert_values(
        &(&t.t() * &t),
        F32,
        &[3, 3],
        &[9., 3., 6., 3., 1., 2., 6., 2., 4.],
    );
    assert_values(&t.matmul(&t.t()), F32, &[1, 1], &[14.]);
    assert_values(&Tensor::ones([1, 1, 1], F64).sum(), F64, &[], &[1.]);
    assert_values(&t.permute(&[1, 0]).reshape([3]), F32, &[3], &[3., 1., 2.]);
}

// ---- chains of views that are not contiguous ----

#[test]
fn non_contiguous_chains() {
    // x = [[0, 1, 2], [3, 4, 5]]
    let x = Tensor::arange(0.0, 6.0, 1.0, F32).reshape([2, 3]);
    assert_values(&x.t().reshape([6]), F32, &[6], &[0., 3., 1., 4., 2., 5.]);
    assert_values(&x.t().sum_dim(&[1], false), F32, &[3], &[3., 5., 7.]);
    assert_values(
        &x.t().matmul(&x),
        F32,
        &[3, 3],
        &[9., 12., 15., 12., 17., 22., 15., 22., 29.],
    );
    assert_values(
        &x.slice(1, 0, 3, 2).t().contiguous_copy(),
        F32,
        &[2, 2],
        &[0., 3., 2., 5.],
    );
    assert_values(
        &Tensor::new([1i32, 2])
            .unsqueeze(1)
            .expand([2, 3])
            .reshape([6]),
        I32,
        &[6],
        &[1., 1., 1., 2., 2., 2.],
    );
    // permute -> reshape -> slice -> expand -> reduce
    let y = x
        .permute(&[1, 0])
        .reshape([2, 3])
        .slice(1, 1, 3, 1)
        .unsqueeze(0)
        .expand([2, 2, 2]);
    // x.T = [[0,3],[1,4],[2,5]] -> reshape [[0,3,1],[4,2,5]] -> [:,1:] = [[3,1],[2,5]]
    assert_values(&y.sum_dim(&[0], false), F32, &[2, 2], &[6., 2., 4., 10.]);
    assert_values(&y.max_dim(&[-1], false), F32, &[2, 2], &[3., 5., 3., 5.]);
    // A view of a view of a realized view.
    let r = x.t().realize().unwrap();
    assert_values(&r.slice(0, 1, 3, 1).t(), F32, &[2, 2], &[1., 2., 4., 5.]);
}

trait ContiguousCopy {
    fn contiguous_copy(&self) -> Tensor;
}

impl ContiguousCopy for Tensor {
    /// A copy through the host, so the test compares against data that went through no view.
    fn contiguous_copy(&self) -> Tensor {
        Tensor::from_vec(self.to_vec::<f32>().unwrap(), self.shape())
    }
}

// ---- ndarray interop ----

#[test]
fn ndarray_round_trip() {
    let a = ndarray::Array2::<f32>::from_shape_fn((4, 3), |(i, j)| (i * 3 + j) as f32);
    let t = Tensor::from_ndarray(a.clone());
    assert_values(
        &t,
        F32,
        &[4, 3],
        &(0..12).map(|v| v as f64).collect::<Vec<_>>(),
    );
    assert_eq!(t.to_ndarray::<f32>().unwrap(), a.clone().into_dyn());
    // A transposed view is copied in logical order.
    let t = Tensor::from_ndarray(a.t());
    assert_values(
        &t,
        F32,
        &[3, 4],
        &[0., 3., 6., 9., 1., 4., 7., 10., 2., 5., 8., 11.],
    );
    // Owned arrays that show only part of their memory.
    let t = Tensor::from_ndarray(a.clone().slice_move(ndarray::s![..2, ..]));
    assert_values(&t, F32, &[2, 3], &[0., 1., 2., 3., 4., 5.]);
    let t = Tensor::from_ndarray(a.clone().slice_move(ndarray::s![1..3, ..]));
    assert_values(&t, F32, &[2, 3], &[3., 4., 5., 6., 7., 8.]);
    let t = Tensor::from_ndarray(a.slice_move(ndarray::s![.., 1..;2]));
    assert_values(&t, F32, &[4, 1], &[1., 4., 7., 10.]);
    let z = Tensor::from_ndarray(ndarray::arr0(7i64));
    assert_values(&z, I64, &[], &[7.]);
    assert!(Tensor::new([1f32]).to_ndarray::<f64>().is_err());
    assert_eq!(
        values_f64(&Tensor::from_ndarray(ndarray::Array1::<u8>::zeros(0))),
        Vec::<f64>::new()
    );
}
