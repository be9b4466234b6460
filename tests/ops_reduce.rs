//! Reductions against NumPy fixtures: sum/mean/max/min/prod/var/std over everything and over dims
//! (keepdim, negative dims), integer accumulation, arg-reductions with ties and NaN, the softmax family
//! with `-inf` rows, and zero-size dims.

#[macro_use]
mod common;

fixture_tests! { "reduce";
    sum_all: |x| x[0].sum();
    sum_dim1: |x| x[0].sum_dim(&[1], false);
    sum_dim_neg1_keep: |x| x[0].sum_dim(&[-1], true);
    sum_dims_0_2: |x| x[0].sum_dim(&[0, 2], false);
    sum_dims_neg1_0_keep: |x| x[0].sum_dim(&[-1, 0], true);
    sum_dims_empty_is_all: |x| x[0].sum_dim(&[], false);
    mean_all: |x| x[0].mean();
    mean_dim_neg2_keep: |x| x[0].mean_dim(&[-2], true);
    mean_dims_0_1: |x| x[0].mean_dim(&[1, 0], false);
    max_all: |x| x[0].max();
    max_dim1: |x| x[0].max_dim(&[1], false);
    min_all: |x| x[0].min();
    min_dim0_keep: |x| x[0].min_dim(&[0], true);
    max_dims_neg1_neg3: |x| x[0].max_dim(&[-1, -3], false);
    prod_dim2: |x| x[0].prod_dim(&[2], false);
    prod_all: |x| x[0].prod();
    prod_dim0_keep: |x| x[0].prod_dim(&[0], true);
    var_all: |x| x[0].var();
    std_all: |x| x[0].std();
    var_dim1: |x| x[0].var_dim(&[1], false);
    std_dim_neg1_keep: |x| x[0].std_dim(&[-1], true);
    var_dims_0_2: |x| x[0].var_dim(&[0, 2], false);
    var_f64_dim1: |x| x[0].var_dim(&[1], false);
    std_f64_dim0_keep: |x| x[0].std_dim(&[0], true);
    var_single_element_nan: |x| x[0].var_dim(&[0], false);
    std_single_element_nan: |x| x[0].std_dim(&[0], false);

    // integers: sums and products in i64; max/min keep the dtype
    sum_u8_to_i64: |x| x[0].sum();
    sum_dim0_u8_to_i64: |x| x[0].sum_dim(&[0], false);
    sum_i32_no_overflow: |x| x[0].sum_dim(&[1], false);
    sum_bool_counts: |x| x[0].sum_dim(&[1], true);
    prod_i32_to_i64: |x| x[0].prod_dim(&[0], false);
    max_i32: |x| x[0].max();
    min_dim1_u8: |x| x[0].min_dim(&[1], false);
    max_bool: |x| x[0].max_dim(&[0], false);
    min_bool_all: |x| x[0].min();

    // arg-reductions: i64, first index on ties
    argmax_dim1_ties: |x| x[0].argmax(1, false);
    argmin_dim1_ties: |x| x[0].argmin(1, false);
    argmax_dim0_keep: |x| x[0].argmax(0, true);
    argmin_dim_neg1_keep: |x| x[0].argmin(-1, true);
    argmax_i32_ties: |x| x[0].argmax(-1, false);
    argmin_i64_dim0: |x| x[0].argmin(0, false);
    argmax_3d_dim1: |x| x[0].argmax(1, false);

    // NaN propagates through max/min; arg-reductions pick the first NaN
    max_dim1_nan: |x| x[0].max_dim(&[1], false);
    min_dim0_nan: |x| x[0].min_dim(&[0], false);
    max_all_nan: |x| x[0].max();
    sum_dim1_nan: |x| x[0].sum_dim(&[1], false);
    argmax_dim1_nan: |x| x[0].argmax(1, false);
    argmin_dim1_nan: |x| x[0].argmin(1, false);
    argmax_dim0_nan: |x| x[0].argmax(0, false);
    argmin_dim0_nan: |x| x[0].argmin(-2, false);

    // softmax family
    softmax_dim1: |x| x[0].softmax(1);
    softmax_dim0: |x| x[0].softmax(0);
    log_softmax_dim1: |x| x[0].log_softmax(-1);
    log_softmax_dim0: |x| x[0].log_softmax(0);
    logsumexp_dim1: |x| x[0].logsumexp(1);
    logsumexp_dim0: |x| x[0].logsumexp(-2);
    logsumexp_inf_and_large: |x| x[0].logsumexp(1);
    softmax_3d_dim1: |x| x[0].softmax(1);
    log_softmax_3d_neg1: |x| x[0].log_softmax(-1);
    softmax_f64: |x| x[0].softmax(1);
    logsumexp_f64: |x| x[0].logsumexp(1);
    softmax_i64_to_f32: |x| x[0].softmax(1);

    // zero-size dims
    sum_empty_dim0: |x| x[0].sum_dim(&[0], false);
    prod_empty_dim0: |x| x[0].prod_dim(&[0], false);
    mean_empty_dim0: |x| x[0].mean_dim(&[0], false);
    sum_empty_all: |x| x[0].sum();
    prod_empty_all: |x| x[0].prod();
    mean_empty_all: |x| x[0].mean();
    sum_empty_dim1: |x| x[0].sum_dim(&[1], false);
    max_empty_dim1: |x| x[0].max_dim(&[1], false);
    argmax_empty_dim1: |x| x[0].argmax(1, false);
    sum_empty_i32: |x| x[0].sum_dim(&[1], false);
}

/// The helper itself must catch a wrong op (a check that cannot fail proves nothing).
#[test]
#[should_panic(expected = "values differ")]
fn check_catches_a_wrong_op() {
    common::check("reduce", "sum_dim1", |x| x[0].mean_dim(&[1], false));
}

#[test]
#[should_panic(expected = "shape")]
fn check_catches_a_wrong_keepdim() {
    common::check("reduce", "sum_dim_neg1_keep", |x| {
        x[0].sum_dim(&[-1], false)
    });
}
