//! Shape ops against NumPy fixtures: views (reshape, permute, transpose, squeeze, expand, narrow, slice
//! with negative bounds and steps, pad with negative widths), joining and splitting, index_select and
//! gather, and chains of non-contiguous views.

#[macro_use]
mod common;

use smelt::prelude::*;

fixture_tests! { "movement";
    reshape_6_4: |x| x[0].reshape([6, 4]);
    reshape_infer_neg1_2: |x| x[0].reshape_infer(&[-1, 2]);
    reshape_to_0d: |x| x[0].reshape(());
    permute_2_0_1: |x| x[0].permute(&[2, 0, 1]);
    permute_neg: |x| x[0].permute(&[-2, -1, 0]);
    transpose_0_2: |x| x[0].transpose(0, 2);
    transpose_neg1_neg2: |x| x[0].transpose(-1, -2);
    t_2d: |x| x[0].t();
    t_1d: |x| x[0].t();
    unsqueeze_1: |x| x[0].unsqueeze(1);
    unsqueeze_neg1: |x| x[0].unsqueeze(-1);
    squeeze_1: |x| x[0].squeeze(1);
    squeeze_non_one_is_noop: |x| x[0].squeeze(2);
    squeeze_all: |x| x[0].squeeze_all();
    flatten: |x| x[0].flatten();
    flatten_range_1_2: |x| x[0].flatten_range(1, 2);
    flatten_range_0_neg2: |x| x[0].flatten_range(0, -2);
    expand_3x1_to_2x3x4: |x| x[0].expand([2, 3, 4]);
    broadcast_to_1d: |x| x[0].broadcast_to(vec![2, 3]);
    narrow_1_1_2: |x| x[0].narrow(1, 1, 2);
    narrow_neg1_3_1: |x| x[0].narrow(-1, 3, 1);
    slice_2_1_4_2: |x| x[0].slice(2, 1, 4, 2);
    slice_neg_bounds: |x| x[0].slice(-1, -3, -1, 1);
    slice_clamped: |x| x[0].slice(0, -100, 100, 1);
    slice_empty: |x| x[0].slice(1, 5, 2, 1);
    slice_step3_neg_start: |x| x[0].slice(2, -4, 4, 3);
    slice_big_step: |x| x[0].slice(1, 0, 3, 5);
    slice_neg_end: |x| x[0].slice(1, 0, -1, 1);
    pad_last: |x| x[0].pad(&[1, 2], 0.0);
    pad_two_dims: |x| x[0].pad(&[1, 0, 2, 1], -1.0);
    pad_crop: |x| x[0].pad(&[-1, 2], 9.0);
    pad_crop_both: |x| x[0].pad(&[-1, -1, -1, 0], 0.0);
    pad_i32: |x| x[0].pad(&[0, 1, 1, 1], 7.0);
    pad_3_dims: |x| x[0].pad(&[1, 1, 0, 1, 1, 0], 0.5);

    cat_dim0: |x| Tensor::cat(&[&x[0], &x[1]], 0);
    cat_dim_neg1: |x| Tensor::cat(&[&x[0], &x[1], &x[2]], -1);
    cat_mixed_dtypes: |x| Tensor::cat(&[&x[0], &x[1]], 0);
    cat_with_empty: |x| Tensor::cat(&[&x[0], &x[1]], 1);
    cat_three_1d: |x| Tensor::cat(&[&x[0], &x[1], &x[2]], 0);
    stack_dim0: |x| Tensor::stack(&[&x[0], &x[1]], 0);
    stack_dim_neg1: |x| Tensor::stack(&[&x[0], &x[1], &x[2]], -1);
    stack_1d_dim1: |x| Tensor::stack(&[&x[0], &x[1]], 1);
    split_2_dim2: |x| x[0].split(2, 2);
    split_2_dim1_uneven: |x| x[0].split(2, 1);
    split_big: |x| x[0].split(5, 0);
    chunk_2_dim_neg1: |x| x[0].chunk(2, -1);
    chunk_4_dim1_fewer: |x| x[0].chunk(4, 1);
    chunk_3_of_5: |x| x[0].chunk(3, 0);
    chunk_4_of_6_gives_3: |x| x[0].chunk(4, 0);

    index_select_dim1: |x| x[0].index_select(1, &x[1]);
    index_select_neg1_i32: |x| x[0].index_select(-1, &x[1]);
    index_select_empty_index: |x| x[0].index_select(0, &x[1]);
    gather_dim1: |x| x[0].gather(1, &x[1]);
    gather_dim0_smaller: |x| x[0].gather(0, &x[1]);
    gather_neg1_i32: |x| x[0].gather(-1, &x[1]);

    chain_permute_reshape_slice_expand: |x| {
        x[0].permute(&[2, 0, 1]).reshape([4, 6]).slice(1, 1, 6, 2).unsqueeze(1).expand([4, 2, 3])
    };
    chain_transpose_slice_add_permute: |x| {
        let bias = Tensor::new([100f32, 200.]);
        (x[0].transpose(0, 1).slice(2, 0, 4, 2) + bias).permute(&[2, 0, 1])
    };
    chain_slice_pad_reshape: |x| {
        x[0].permute(&[1, 0, 2]).slice(0, 1, 3, 1).narrow(2, 1, 2).pad(&[1, 0, 0, 1], -5.0).reshape([2, 3, 3])
    };
    chain_expand_then_slice: |x| x[0].expand([3, 4]).slice(0, 1, 3, 1).slice(1, 0, 4, 3);
}

/// A reshape of a transposed view, 14 times over. Lowering must compose the index arithmetic in time
/// linear in the depth (milliseconds); an index expression that doubles at every level takes seconds
/// and hundreds of MB here, and 24 GB at 1,000 levels. The watchdog fails the test instead of waiting.
#[test]
fn reshape_of_transpose_chain_lowers_in_linear_time() {
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        let mut t = Tensor::arange(0.0, 6.0, 1.0, DType::F32).reshape([2, 3]);
        for _ in 0..14 {
            t = t.t().reshape([2, 3]);
        }
        let _ = tx.send(t.to_vec::<f32>());
    });
    let got = rx
        .recv_timeout(std::time::Duration::from_secs(5))
        .expect("realizing 14 reshape-of-transpose levels took over 5 s");
    // Each level reads the [2,3] data as its transpose [3,2] in C order: element k of the result is
    // element (k % 2) * 3 + k / 2 of the previous level.
    let mut want: Vec<f32> = (0..6).map(|v| v as f32).collect();
    for _ in 0..14 {
        want = (0..6).map(|k| want[(k % 2) * 3 + k / 2]).collect();
    }
    assert_eq!(got.unwrap(), want);
}
