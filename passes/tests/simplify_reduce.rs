//! Reduce rules, one case per line: the graph before and after, snapshotted, checked against the
//! reference interpreter on random inputs, and (for a case named after a rule) that rule must fire.
//! Cases named `keeps_*` must change nothing.

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

macro_rules! cases {
    ($($name:ident: $decls:literal, $exprs:literal $(, $opts:expr)?;)*) => {
        $( #[test] fn $name() { check(stringify!($name), $decls, $exprs, cases!(@opts $($opts)?)); } )*
    };
    (@opts) => { SimplifyOptions::default() };
    (@opts $o:expr) => { $o };
}

cases! {
    // ---- reductions that merge ----
    reduce_reduce:         "x:f32[2,3,4]",           "(sum (sum x [0]) [2])";
    reduce_reduce_max_exact: "x:f32[2,3,4]",         "(amax (amax x [1]) [0,1])", SimplifyOptions::exact();
    reduce_reduce_i32_exact: "x:i32[2,3]",           "(sum (sum x [0]) [1])", SimplifyOptions::exact();
    keeps_sum_sum_exact:   "x:f32[2,3,4]",           "(sum (sum x [0]) [2])", SimplifyOptions::exact();
    keeps_sum_sum_shared:  "x:f32[2,3,4]",           "(sum (sum x [0]) [2]) (sum x [0])";
    keeps_sum_of_max:      "x:f32[2,3]",             "(sum (amax x [0]) [1])";
    // ---- reductions that do nothing ----
    reduce_unit:           "x:f32[2,1,3]",           "(amax x [1])", SimplifyOptions::exact();
    reduce_unit_sum:       "x:f32[2,1,3]",           "(sum x [1])";
    reduce_unit_prod_exact: "x:f32[2,1]",            "(prod x [1])", SimplifyOptions::exact();
    keeps_unit_sum_exact:  "x:f32[2,1,3]",           "(sum x [1])", SimplifyOptions::exact();
    // ---- reductions of broadcasts ----
    sum_expand:            "x:f32[2,1]",             "(sum (expand x [2,5]) [1])";
    sum_expand_i32_exact:  "x:i32[2,1]",             "(sum (expand x [2,5]) [1])", SimplifyOptions::exact();
    sum_expand_keeps_other_axes: "x:f32[1,1]",       "(sum (expand x [3,4]) [1])";
    amax_expand:           "x:f32[2,1]",             "(amax (expand x [2,5]) [1])", SimplifyOptions::exact();
    amin_expand:           "x:i64[1,3]",             "(amin (expand x [4,3]) [0])", SimplifyOptions::exact();
    keeps_sum_expand_exact: "x:f32[2,1]",            "(sum (expand x [2,5]) [1])", SimplifyOptions::exact();
    keeps_prod_expand:     "x:f32[2,1]",             "(prod (expand x [2,5]) [1])";
    keeps_sum_over_unbroadcast_axis: "x:f32[2,1]",   "(sum (expand x [2,5]) [0])";
    // ---- reductions of constants (folded by the analysis) ----
    fold_const_sum:        "",                       "(sum (const 1.5 f32 [2,3]) [1])";
    fold_const_max_exact:  "",                       "(amax (const 1.5 f32 [2,3]) [0,1])", SimplifyOptions::exact();
    fold_const_u8_wraps:   "",                       "(sum (const 100 u8 [3]) [0])", SimplifyOptions::exact();
    fold_const_prod_i32:   "",                       "(prod (const 3 i32 [4]) [0])", SimplifyOptions::exact();
    keeps_float_sum_of_const_exact: "",              "(sum (const 0.1 f32 [3]) [0])", SimplifyOptions::exact();
}
