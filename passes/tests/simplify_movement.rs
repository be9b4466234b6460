//! Movement rules, one case per line: the graph before and after, snapshotted, checked against the
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
    (@opts) => { SimplifyOptions::exact() };
    (@opts $o:expr) => { $o };
}

// Every case runs under the exact policy (all movement rules are exact) unless it says otherwise.
cases! {
    // ---- views that compose ----
    reshape_reshape:       "x:f32[2,3]",             "(reshape (reshape x [6]) [3,2])";
    permute_permute:       "x:f32[2,3,4]",           "(permute (permute x [1,0,2]) [0,2,1])";
    permute_permute_inverse: "x:f32[2,3,4]",         "(permute (permute x [1,2,0]) [2,0,1])";
    expand_expand:         "x:f32[1,1,3]",           "(expand (expand x [2,1,3]) [2,4,3])";
    slice_slice:           "x:f32[8]",               "(slice (slice x [1] [2] [3]) [1] [1] [2])";
    pad_pad:               "x:f32[3]",               "(pad (pad x [1] [0] 0.0) [0] [2] 0.0)";
    keeps_pad_pad_two_values: "x:f32[3]",            "(pad (pad x [1] [0] 0.0) [0] [2] 1.0)";
    // ---- views that do nothing ----
    reshape_id:            "x:f32[2,3]",             "(reshape x [2,3])";
    permute_id:            "x:f32[2,3]",             "(permute x [0,1])";
    expand_id:             "x:f32[1,3]",             "(expand x [1,3])";
    slice_id:              "x:f32[2,3]",             "(slice x [0,0] [1,1] [2,3])";
    slice_id_unit_axis:    "x:f32[1,3]",             "(slice x [0,0] [5,1] [1,3])";
    pad_id:                "x:f32[2,3]",             "(pad x [0,0] [0,0] 0.0)";
    // ---- views of constants (folded by the analysis) ----
    fold_const_reshape:    "",                       "(reshape (expand (reshape (const 2.0 f32) [1,1]) [2,3]) [6])";
    fold_const_permute:    "",                       "(permute (expand (reshape (const 2.0 f32) [1,1]) [2,3]) [1,0])";
    fold_const_expand_of_expand: "",                 "(expand (reshape (expand (reshape (const 1.0 f32) [1]) [3]) [1,3]) [2,3])";
    fold_const_pad_same_value: "",                   "(pad (expand (reshape (const 0.0 f32) [1]) [3]) [1] [1] 0.0)";
    keeps_pad_other_value: "x:f32[3]",               "(pad (const 1.0 f32 [3]) [1] [1] 0.0)";
    // ---- permute and reshape go down ----
    permute_unary:         "x:f32[2,3]",             "(permute (exp x) [1,0])";
    reshape_unary:         "x:f32[2,3]",             "(reshape (exp x) [6])";
    permute_cast:          "x:f32[2,3]",             "(permute (cast x f64) [1,0])";
    reshape_cast:          "x:i32[2,3]",             "(reshape (cast x f32) [6])";
    permute_binary:        "x:f32[2,3] y:f32[3,2]",  "(permute (add (permute y [1,0]) x) [1,0])";
    permute_binary_const:  "x:f32[2,3]",             "(permute (mul x 2.0) [1,0])";
    reshape_binary:        "x:f32[2,3]",             "(reshape (add x 1.0) [6])";
    permute_unary_cancels: "x:f32[2,3]",             "(permute (neg (exp (permute x [1,0]))) [1,0])";
    keeps_permute_of_shared: "x:f32[2,3]",           "(permute (exp x) [1,0]) (exp x)";
    keeps_permute_binary_no_absorb: "x:f32[2,3] y:f32[2,3]", "(permute (add x y) [1,0])";
    // ---- expand goes up ----
    unary_expand:          "x:f32[1,3]",             "(exp (expand x [4,3]))";
    cast_expand:           "x:f32[1,3]",             "(cast (expand x [4,3]) f64)";
    binary_expand:         "x:f32[1,3] y:f32[1,3]",  "(add (expand x [4,3]) (expand y [4,3]))";
    binary_expand_const:   "x:f32[1,3]",             "(mul (expand x [4,3]) 2.0)";
    const_binary_expand:   "x:f32[1,3]",             "(sub 1.0 (expand x [4,3]))";
    keeps_binary_expand_shapes_differ: "x:f32[1,3] y:f32[4,1]", "(add (expand x [4,3]) (expand y [4,3]))";
}
