//! Matrix products against NumPy fixtures: every `torch.matmul` form (1-D·1-D, 1-D·2-D, 2-D·1-D,
//! batched with broadcasting, k = 0), `dot` and `mm`.

#[macro_use]
mod common;

fixture_tests! { "linalg";
    mm_2x3_3x4: |x| x[0].mm(&x[1]);
    matmul_1d_1d: |x| x[0].matmul(&x[1]);
    matmul_1d_2d: |x| x[0].matmul(&x[1]);
    matmul_2d_1d: |x| x[0].matmul(&x[1]);
    matmul_batched: |x| x[0].matmul(&x[1]);
    matmul_batch_2d: |x| x[0].matmul(&x[1]);
    matmul_2d_batch: |x| x[0].matmul(&x[1]);
    matmul_broadcast_batch: |x| x[0].matmul(&x[1]);
    matmul_1d_3d: |x| x[0].matmul(&x[1]);
    matmul_3d_1d: |x| x[0].matmul(&x[1]);
    matmul_k0: |x| x[0].matmul(&x[1]);
    matmul_m0: |x| x[0].matmul(&x[1]);
    matmul_f64: |x| x[0].matmul(&x[1]);
    matmul_1x1: |x| x[0].matmul(&x[1]);
    dot_f32: |x| x[0].dot(&x[1]);
    dot_k0: |x| x[0].dot(&x[1]);
    mm_f32: |x| x[0].mm(&x[1]);
    matmul_i32: |x| x[0].matmul(&x[1]);
    matmul_i64_batched: |x| x[0].matmul(&x[1]);
}

/// Products large enough for the threaded paths (wide ones are cut into column blocks, one per
/// worker), with transposed and batched operands, against the reference interpreter.
#[test]
fn threaded_products_match_the_interpreter() {
    use smelt::prelude::*;
    use smelt::runtime::{Backend, with_backend};
    smelt::manual_seed(7);
    let cases: Vec<(Tensor, Tensor)> = vec![
        // wide: n >= 2m, b transposed (a strided view, no copy)
        (
            Tensor::randn([40, 200], DType::F32),
            Tensor::randn([600, 200], DType::F32).t(),
        ),
        // wide with a width that is not a multiple of the block alignment
        (
            Tensor::randn([33, 129], DType::F32),
            Tensor::randn([129, 401], DType::F32),
        ),
        // batched wide, f64
        (
            Tensor::randn([3, 40, 50], DType::F64),
            Tensor::randn([3, 50, 520], DType::F64),
        ),
        // tall and square
        (
            Tensor::randn([300, 90], DType::F32),
            Tensor::randn([90, 80], DType::F32),
        ),
        (
            Tensor::randn([128, 128], DType::F32).t(),
            Tensor::randn([128, 128], DType::F32),
        ),
    ];
    for (a, b) in cases {
        let (a, b) = (a.realize().unwrap(), b.realize().unwrap());
        let got = a.matmul(&b).to_dtype(DType::F64).to_vec::<f64>().unwrap();
        let want = with_backend(Backend::Interp, || {
            a.matmul(&b).to_dtype(DType::F64).to_vec::<f64>().unwrap()
        });
        assert_eq!(got.len(), want.len());
        for (i, (g, w)) in got.iter().zip(&want).enumerate() {
            assert!(
                (g - w).abs() <= 1e-3 * (1.0 + w.abs()),
                "{:?} @ {:?} element {i}: {g} vs {w}",
                a.dims(),
                b.dims()
            );
        }
    }
}
