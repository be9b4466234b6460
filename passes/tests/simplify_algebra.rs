//! Algebra rules, one case per line: the graph before and after, snapshotted, checked against the
//! reference interpreter on random inputs, and (for a case named after a rule) that rule must fire.
//! Cases named `keeps_*` must change nothing: they are the rules that are left out on purpose.

mod simplify_common;

use simplify_common::{exercised_rule, run_case};
use smelt_passes::simplify::SimplifyOptions;

fn check(name: &str, decls: &str, exprs: &str, opts: SimplifyOptions) {
    let (text, report) = run_case(decls, exprs, &opts);
    if let Some(rule) = exercised_rule(name) {
        assert!(report.fired(rule) > 0, "{rule} did not fire:\n{text}");
    }
    if name.starts_with("keeps_") {
        assert!(report.fired.is_empty(), "a rule fired:\n{text}");
    }
    insta::with_settings!({ snapshot_path => "../../snapshots", omit_expression => true }, {
        insta::assert_snapshot!(name, text);
    });
}

fn finite() -> SimplifyOptions {
    SimplifyOptions {
        assume_finite: true,
        ..SimplifyOptions::default()
    }
}

macro_rules! cases {
    ($($name:ident: $decls:literal, $exprs:literal $(, $opts:expr)?;)*) => {
        $( #[test] fn $name() { check(stringify!($name), $decls, $exprs, cases!(@opts $($opts)?)); } )*
    };
    (@opts) => { SimplifyOptions::default() };
    (@opts $o:expr) => { $o };
}

cases! {
    // ---- identities ----
    add_zero:              "x:f32[2,3]",             "(add x -0.0)", SimplifyOptions::exact();
    add_zero_pos_zero:    "x:f32[2,3]",             "(add x 0.0)";
    add_zero_i32:         "x:i32[2,3]",             "(add x 0)", SimplifyOptions::exact();
    keeps_add_pos_zero_exact: "x:f32[2,3]",          "(add x 0.0)", SimplifyOptions::exact();
    zero_add:              "x:f32[3]",               "(add 0.0 x)";
    sub_zero:              "x:f64[3]",               "(sub x 0.0)", SimplifyOptions::exact();
    zero_sub:              "x:f32[3]",               "(sub -0.0 x)", SimplifyOptions::exact();
    zero_sub_pos_zero:    "x:f32[3]",               "(sub 0.0 x)";
    mul_one:               "x:f32[2,3]",             "(mul x 1.0)", SimplifyOptions::exact();
    one_mul:               "x:u8[4]",                "(mul 1 x)", SimplifyOptions::exact();
    div_one:               "x:i64[3]",               "(div x 1)", SimplifyOptions::exact();
    mul_neg_one:           "x:f32[3]",               "(mul x -1.0)", SimplifyOptions::exact();
    mul_neg_one_u8:       "x:u8[4]",                "(mul x 255)", SimplifyOptions::exact();
    pow_one:               "x:f32[3]",               "(pow x 1.0)", SimplifyOptions::exact();
    pow_zero:              "x:f32[3]",               "(pow x 0.0)", SimplifyOptions::exact();
    pow_two:               "x:f32[3]",               "(pow x 2.0)";
    pow_two_i32:          "x:i32[3]",               "(pow x 2)", SimplifyOptions::exact();
    keeps_pow_two_exact:   "x:f32[3]",               "(pow x 2.0)", SimplifyOptions::exact();
    pow_half:              "x:f32[3]",               "(pow x 0.5)", finite();
    keeps_pow_half:        "x:f32[3]",               "(pow x 0.5)";
    // ---- involutions and idempotence ----
    neg_neg:               "x:f32[2,3]",             "(neg (neg x))", SimplifyOptions::exact();
    not_not:               "x:bool[3]",              "(not (not x))", SimplifyOptions::exact();
    abs_neg:               "x:i32[3]",               "(abs (neg x))", SimplifyOptions::exact();
    keeps_abs_neg_u8:      "x:u8[3]",                "(abs (neg x))", SimplifyOptions::exact();
    abs_abs:               "x:f32[3]",               "(abs (abs x))", SimplifyOptions::exact();
    max_self:              "x:f32[3]",               "(max x x)", SimplifyOptions::exact();
    min_self:              "x:f64[3]",               "(min x x)", SimplifyOptions::exact();
    and_self:              "x:i32[3]",               "(and x x)", SimplifyOptions::exact();
    or_self:               "x:bool[3]",              "(or x x)", SimplifyOptions::exact();
    sub_self:              "x:i64[3]",               "(sub x x)", SimplifyOptions::exact();
    sub_self_f32_finite:  "x:f32[3]",               "(sub x x)", finite();
    keeps_sub_self_f32:    "x:f32[3]",               "(sub x x)";
    log_exp:               "x:f32[3]",               "(log (exp x))", finite();
    keeps_log_exp:         "x:f32[3]",               "(log (exp x))";
    keeps_exp_log:         "x:f32[3]",               "(exp (log x))", finite();
    keeps_mul_zero:        "x:f32[3]",               "(mul x 0.0)", finite();
    keeps_mul_zero_i32:    "x:i32[3]",               "(mul x 0)";
    keeps_mul_two:         "x:f32[3]",               "(mul x 2.0)";
    // ---- canonical forms ----
    add_neg:               "x:f32[3] y:f32[3]",      "(add x (neg y))", SimplifyOptions::exact();
    neg_add:               "x:f32[3] y:f32[3]",      "(add (neg x) y)", SimplifyOptions::exact();
    sub_neg:               "x:i32[3] y:i32[3]",      "(sub x (neg y))", SimplifyOptions::exact();
    neg_mul_neg:           "x:f32[3] y:f32[3]",      "(mul (neg x) (neg y))", SimplifyOptions::exact();
    mul_recip:             "x:f32[3] y:f32[3]",      "(mul x (recip y))";
    recip_mul:             "x:f32[3] y:f32[3]",      "(mul (recip y) x)";
    keeps_mul_recip_shared: "x:f32[3] y:f32[3]",     "(mul x (recip y)) (recip y)";
    one_div:               "x:f32[3]",               "(div 1.0 x)", SimplifyOptions::exact();
    // ---- casts ----
    cast_same:             "x:f32[3]",               "(cast x f32)", SimplifyOptions::exact();
    cast_cast:             "x:i32[3]",               "(cast (cast x f64) f32)", SimplifyOptions::exact();
    cast_cast_round_trip: "x:f32[3]",               "(cast (cast x f64) f32)", SimplifyOptions::exact();
    keeps_narrowing_cast_cast: "x:f64[3]",           "(cast (cast x f32) f64)", SimplifyOptions::exact();
    keeps_i32_through_f32: "x:i32[3]",               "(cast (cast x f32) i32)", SimplifyOptions::exact();
    // ---- where ----
    where_same:            "c:bool[3] x:f32[3]",     "(where c x x)", SimplifyOptions::exact();
    where_true:            "x:f32[3] y:f32[3]",      "(where true x y)", SimplifyOptions::exact();
    where_false:           "x:f32[3] y:f32[3]",      "(where false x y)", SimplifyOptions::exact();
    // ---- constant folding (in the analysis) ----
    fold_const:            "",                       "(add (const 1.0 f32) (const 2.0 f32))", SimplifyOptions::exact();
    fold_const_f32_once:  "",                       "(add (const 0.1 f32) (const 0.2 f32))", SimplifyOptions::exact();
    fold_const_u8_wraps:  "",                       "(add (const 250 u8) (const 10 u8))", SimplifyOptions::exact();
    fold_const_int_floor_div: "",                   "(div (const -7 i32) (const 2 i32))", SimplifyOptions::exact();
    fold_const_cast_truncates: "",                  "(cast (const -2.7 f32) i32)", SimplifyOptions::exact();
    fold_const_nan_cast:  "",                       "(cast (const nan f64) i64)", SimplifyOptions::exact();
    fold_const_broadcast: "x:f32[2,3]",             "(add x (neg 2.0))", SimplifyOptions::exact();
    fold_const_where:     "",                       "(where (const true bool) (const 1.5 f32) (const 2.5 f32))", SimplifyOptions::exact();
}
