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
