//! Elementwise ops against NumPy fixtures (`scripts/gen_fixtures.py`): unary functions, binary ops with
//! broadcasting and promotion, weak scalars, comparisons, `where`, clamp and casts.

#[macro_use]
mod common;

use smelt::prelude::*;

fixture_tests! { "elementwise";
    // ---- unary on f32 special values (halves, ±0, NaN, ±inf) ----
    neg_f32: |x| x[0].neg();
    exp_f32: |x| x[0].exp();
    log_f32: |x| x[0].log();
    sqrt_f32: |x| x[0].sqrt();
    rsqrt_f32: |x| x[0].rsqrt();
    sin_f32: |x| x[0].sin();
    cos_f32: |x| x[0].cos();
    tanh_f32: |x| x[0].tanh();
    sigmoid_f32: |x| x[0].sigmoid();
    relu_f32: |x| x[0].relu();
    abs_f32: |x| x[0].abs();
    sign_f32: |x| x[0].sign();
    floor_f32: |x| x[0].floor();
    ceil_f32: |x| x[0].ceil();
    round_f32: |x| x[0].round();
    trunc_f32: |x| x[0].trunc();
    reciprocal_f32: |x| x[0].reciprocal();
    erf_f32: |x| x[0].erf();
    square_f32: |x| x[0].square();
    gelu_f32: |x| x[0].gelu();
    gelu_tanh_f32: |x| x[0].gelu_tanh();
    silu_f32: |x| x[0].silu();
    sigmoid_f32_3d: |x| x[0].sigmoid();
    tanh_f32_3d: |x| x[0].tanh();
    exp_f32_3d: |x| x[0].exp();
    round_f32_3d: |x| x[0].round();
    exp_f64: |x| x[0].exp();
    log_f64: |x| x[0].log();
    sin_f64: |x| x[0].sin();
    sqrt_f64: |x| x[0].sqrt();
    sigmoid_f64: |x| x[0].sigmoid();
    gelu_f64: |x| x[0].gelu();
    gelu_tanh_f64: |x| x[0].gelu_tanh();
    round_f64: |x| x[0].round();
    floor_f64: |x| x[0].floor();
    rsqrt_f64: |x| x[0].rsqrt();
    // ---- unary on integers: neg/abs/sign/relu/rounding keep the dtype, float functions give f32 ----
    neg_i32: |x| -&x[0];
    abs_i32: |x| x[0].abs();
    sign_i32: |x| x[0].sign();
    relu_i64: |x| x[0].relu();
    floor_i32: |x| x[0].floor();
    round_i64: |x| x[0].round();
    exp_i32: |x| x[0].exp();
    sqrt_u8: |x| x[0].sqrt();
    sigmoid_i64: |x| x[0].sigmoid();
    gelu_i32: |x| x[0].gelu();
    neg_u8_wraps: |x| x[0].neg();

    // ---- binary f32 with broadcasting: [3,4] op [4] and [3,4] op [3,1] ----
    add_f32_bcast_row: |x| &x[0] + &x[1];
    add_f32_bcast_col: |x| x[0].add(&x[1]);
    sub_f32_bcast_row: |x| &x[0] - &x[1];
    sub_f32_bcast_col: |x| x[0].sub(&x[1]);
    mul_f32_bcast_row: |x| &x[0] * &x[1];
    mul_f32_bcast_col: |x| x[0].mul(&x[1]);
    div_f32_bcast_row: |x| &x[0] / &x[1];
    div_f32_bcast_col: |x| x[0].div(&x[1]);
    pow_f32_bcast_row: |x| x[0].pow(&x[1]);
    pow_f32_bcast_col: |x| x[0].pow(&x[1]);
    maximum_f32_bcast_row: |x| x[0].maximum(&x[1]);
    maximum_f32_bcast_col: |x| x[0].maximum(&x[1]);
    minimum_f32_bcast_row: |x| x[0].minimum(&x[1]);
    minimum_f32_bcast_col: |x| x[0].minimum(&x[1]);
    remainder_f32_bcast_row: |x| x[0].remainder(&x[1]);
    remainder_f32_bcast_col: |x| x[0].remainder(&x[1]);
    // [1,3] op [2,1] (outer broadcasting), f64
    add_f64_outer: |x| x[0].clone() + x[1].clone();
    sub_f64_outer: |x| x[0].clone() - &x[1];
    mul_f64_outer: |x| &x[0] * x[1].clone();
    div_f64_outer: |x| &x[0] / &x[1];
    pow_f64_outer: |x| x[0].pow(&x[1]);
    maximum_f64_outer: |x| x[0].maximum(&x[1]);
    minimum_f64_outer: |x| x[0].minimum(&x[1]);
    remainder_f64_outer: |x| x[0].remainder(&x[1]);

    // ---- weak f64 scalars keep float tensors in their dtype ----
    add_scalar: |x| &x[0] + 2.5;
    rsub_scalar: |x| 2.5 - &x[0];
    mul_scalar: |x| x[0].clone() * 0.1;
    div_scalar: |x| &x[0] / 4.0;
    rdiv_scalar: |x| 1.0 / &x[0];
    powf_2: |x| x[0].powf(2.0);
    powf_half: |x| x[0].powf(0.5);
    powf_neg1: |x| x[0].powf(-1.0);
    mul_scalar_f64: |x| 0.1 * &x[0];

    // ---- integers ----
    add_i32: |x| &x[0] + &x[1];
    sub_i64: |x| &x[0] - &x[1];
    mul_i32: |x| &x[0] * &x[1];
    div_i32_true: |x| &x[0] / &x[1];
    div_i64_by_zero: |x| x[0].div(&x[1]);
    remainder_i32: |x| x[0].remainder(&x[1]);
    maximum_i32: |x| x[0].maximum(&x[1]);
    minimum_i64: |x| x[0].minimum(&x[1]);
    pow_i64: |x| x[0].pow(&x[1]);
    mul_u8_wraps: |x| &x[0] * &x[1];
    add_u8_wraps: |x| &x[0] + &x[1];

    // ---- mixed dtypes and 0-d tensors (torch.result_type) ----
    add_i32_f32: |x| &x[0] + &x[1];
    mul_u8_i32: |x| &x[0] * &x[1];
    add_bool_bool: |x| &x[0] + &x[1];
    mul_bool_bool: |x| &x[0] * &x[1];
    add_bool_u8: |x| &x[0] + &x[1];
    add_i64_f64: |x| &x[0] + &x[1];
    add_f32_f64: |x| &x[0] + &x[1];
    div_u8_i32: |x| &x[0] / &x[1];
    sub_f32_0d_f64: |x| &x[0] - &x[1];
    mul_i32_0d_f64: |x| &x[0] * &x[1];
    add_0d_0d: |x| &x[0] + &x[1];
    add_i32_scalar: |x| &x[0] + 2.5;
    mul_i32_scalar_whole: |x| &x[0] * 2.0;
    add_bool_scalar: |x| &x[0] + 1.0;
    powf_i32: |x| x[0].powf(2.0);

    // ---- comparisons: NaN compares false except for ne ----
    eq_f32: |x| x[0].eq(&x[1]);
    eq_f32_scalar: |x| x[0].eq_scalar(0.0);
    ne_f32: |x| x[0].ne(&x[1]);
    ne_f32_scalar: |x| x[0].ne_scalar(0.0);
    lt_f32: |x| x[0].lt(&x[1]);
    lt_f32_scalar: |x| x[0].lt_scalar(0.0);
    le_f32: |x| x[0].le(&x[1]);
    le_f32_scalar: |x| x[0].le_scalar(0.0);
    gt_f32: |x| x[0].gt(&x[1]);
    gt_f32_scalar: |x| x[0].gt_scalar(0.0);
    ge_f32: |x| x[0].ge(&x[1]);
    ge_f32_scalar: |x| x[0].ge_scalar(0.0);
    eq_i32_f32: |x| x[0].eq(&x[1]);
    lt_u8_i64: |x| x[0].lt(&x[1]);
    gt_bool: |x| x[0].gt(&x[1]);
    le_bool: |x| x[0].le(&x[1]);

    // ---- where ----
    where_f32: |x| Tensor::where_cond(&x[0], &x[1], &x[2]);
    where_mixed: |x| x[0].where_(&x[1], &x[2]);
    where_ints: |x| Tensor::where_cond(&x[0], &x[1], &x[2]);
    where_0d_same_category: |x| Tensor::where_cond(&x[0], &x[1], &x[2]);
    where_0d_float_over_int: |x| Tensor::where_cond(&x[0], &x[1], &x[2]);
    where_bool_branches: |x| x[0].where_(&x[1], &x[2]);

    // ---- clamp ----
    clamp_f32: |x| x[0].clamp(-1.0, 1.0);
    clamp_min_f32: |x| x[0].clamp_min(0.5);
    clamp_max_f32: |x| x[0].clamp_max(-0.5);
    clamp_min_above_max: |x| x[0].clamp(1.0, -1.0);
    clamp_i32_to_f32: |x| x[0].clamp(-2.0, 2.5);

    // ---- casts ----
    cast_f32_i32: |x| x[0].to_dtype(DType::I32);
    cast_f32_i64: |x| x[0].to_dtype(DType::I64);
    cast_f64_i32: |x| x[0].to_dtype(DType::I32);
    cast_f32_u8: |x| x[0].to_dtype(DType::U8);
    cast_f32_bool: |x| x[0].to_dtype(DType::Bool);
    cast_f32_f64: |x| x[0].to_dtype(DType::F64);
    cast_f64_f32: |x| x[0].to_dtype(DType::F32);
    cast_i64_i32_wraps: |x| x[0].to_dtype(DType::I32);
    cast_i32_u8_wraps: |x| x[0].to_dtype(DType::U8);
    cast_i32_f32_rounds: |x| x[0].to_dtype(DType::F32);
    cast_bool_f32: |x| x[0].to_dtype(DType::F32);
    cast_bool_i64: |x| x[0].to_dtype(DType::I64);
    cast_u8_i32: |x| x[0].to_dtype(DType::I32);
    cast_i64_bool: |x| x[0].to_dtype(DType::Bool);
    cast_i64_f64: |x| x[0].to_dtype(DType::F64);
}
