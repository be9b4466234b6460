//! Broadcasting and type promotion, as tables written out by hand from PyTorch's rules
//! (`torch.promote_types`, `torch.result_type`): every pair of dtypes for the arithmetic ops and the
//! comparisons, weak f64 scalars, 0-d tensors, unary and reduction result dtypes, and result shapes.
//! Every entry is realized too, so the dtype the graph declares is the dtype the data comes back in.

mod common;

use common::{assert_values, values_f64};
use smelt::DType::{Bool, F32, F64, I32, I64, U8};
use smelt::prelude::*;

const ALL: [DType; 6] = [Bool, U8, I32, I64, F32, F64];

/// `torch.promote_types(row, column)`.
#[rustfmt::skip]
const PROMOTE: [[DType; 6]; 6] = [
    //          bool  u8   i32  i64  f32  f64
    /* bool */ [Bool, U8,  I32, I64, F32, F64],
    /* u8   */ [U8,   U8,  I32, I64, F32, F64],
    /* i32  */ [I32,  I32, I32, I64, F32, F64],
    /* i64  */ [I64,  I64, I64, I64, F32, F64],
    /* f32  */ [F32,  F32, F32, F32, F32, F64],
    /* f64  */ [F64,  F64, F64, F64, F64, F64],
];

/// `torch.div` (true division): integer and bool results become the default float, f32.
#[rustfmt::skip]
const TRUE_DIV: [[DType; 6]; 6] = [
    //          bool  u8   i32  i64  f32  f64
    /* bool */ [F32,  F32, F32, F32, F32, F64],
    /* u8   */ [F32,  F32, F32, F32, F32, F64],
    /* i32  */ [F32,  F32, F32, F32, F32, F64],
    /* i64  */ [F32,  F32, F32, F32, F32, F64],
    /* f32  */ [F32,  F32, F32, F32, F32, F64],
    /* f64  */ [F64,  F64, F64, F64, F64, F64],
];

fn ones(dtype: DType) -> Tensor {
    Tensor::ones([2], dtype)
}

/// Checks one binary result: its dtype, and that realizing gives `value` everywhere in that dtype.
#[track_caller]
fn check(r: Result<Tensor>, dtype: DType, value: f64, ctx: &str) {
    let r = r.unwrap_or_else(|e| panic!("{ctx}: {e}"));
    assert_eq!(r.dtype(), dtype, "{ctx}: dtype");
    assert_eq!(values_f64(&r), vec![value; 2], "{ctx}: values");
}

#[test]
fn add_mul_max_min_where_cat_follow_promote_types() {
    for (i, &a) in ALL.iter().enumerate() {
        for (j, &b) in ALL.iter().enumerate() {
            let want = PROMOTE[i][j];
            let (x, y) = (ones(a), ones(b));
            let ctx = |op: &str| format!("{op}({a}, {b})");
            // bool + bool is logical or: true.
            check(
                x.try_add(&y),
                want,
                if want == Bool { 1.0 } else { 2.0 },
                &ctx("add"),
            );
            check(x.try_mul(&y), want, 1.0, &ctx("mul"));
            check(x.try_maximum(&y), want, 1.0, &ctx("maximum"));
            check(x.try_minimum(&y), want, 1.0, &ctx("minimum"));
            check(
                Tensor::try_where_cond(&ones(Bool), &x, &y),
                want,
                1.0,
                &ctx("where"),
            );
            let c = Tensor::try_cat(&[&x, &y], 0).unwrap();
            assert_eq!(c.dtype(), want, "{}", ctx("cat"));
            assert_eq!(values_f64(&c), vec![1.0; 4], "{}", ctx("cat"));
            assert_eq!(x.result_type(&y), want, "{}", ctx("result_type"));
            let operator = &x + &y;
            assert_eq!(operator.dtype(), want, "{}", ctx("+"));
        }
    }
}

#[test]
fn sub_and_pow_follow_promote_types_but_reject_two_bools() {
    for (i, &a) in ALL.iter().enumerate() {
        for (j, &b) in ALL.iter().enumerate() {
            let want = PROMOTE[i][j];
            let (x, y) = (ones(a), ones(b));
            if want == Bool {
                // PyTorch: "Subtraction, the `-` operator, with two bool tensors is not supported".
                let e = x.try_sub(&y).unwrap_err();
                assert_eq!(e.to_string(), "sub: not supported for two bool tensors");
                assert!(matches!(e, Error::DType { op: "sub", .. }));
                assert!(x.try_pow(&y).is_err());
                continue;
            }
            check(x.try_sub(&y), want, 0.0, &format!("sub({a}, {b})"));
            check(x.try_pow(&y), want, 1.0, &format!("pow({a}, {b})"));
        }
    }
}

#[test]
fn true_division_gives_float() {
    for (i, &a) in ALL.iter().enumerate() {
        for (j, &b) in ALL.iter().enumerate() {
            let (x, y) = (ones(a), ones(b));
            check(
                x.try_div(&y),
                TRUE_DIV[i][j],
                1.0,
                &format!("div({a}, {b})"),
            );
            assert_eq!((&x / &y).dtype(), TRUE_DIV[i][j]);
        }
    }
    // Worked values: int / int divides exactly, not by flooring.
    let q = Tensor::new([7i64, -7, 1]) / Tensor::new([2i64, 2, 3]);
    assert_values(&q, F32, &[3], &[3.5, -3.5, 1.0 / 3.0]);
}

#[test]
fn comparisons_give_bool_for_every_pair() {
    for &a in &ALL {
        for &b in &ALL {
            let (x, y) = (ones(a), ones(b));
            let ctx = format!("({a}, {b})");
            check(x.try_eq(&y), Bool, 1.0, &format!("eq{ctx}"));
            check(x.try_ne(&y), Bool, 0.0, &format!("ne{ctx}"));
            check(x.try_lt(&y), Bool, 0.0, &format!("lt{ctx}"));
            check(x.try_le(&y), Bool, 1.0, &format!("le{ctx}"));
            check(x.try_gt(&y), Bool, 0.0, &format!("gt{ctx}"));
            check(x.try_ge(&y), Bool, 1.0, &format!("ge{ctx}"));
        }
    }
    // Mixed dtypes compare after promotion: 3 (i32) < 3.5 (f32), 200 (u8) > -1 (i64).
    let lt = Tensor::new([3i32, 4]).lt(&Tensor::new([3.5f32, 3.5]));
    assert_values(&lt, Bool, &[2], &[1., 0.]);
    let gt = Tensor::new([200u8]).gt(&Tensor::new([-1i64]));
    assert_values(&gt, Bool, &[1], &[1.]);
}

#[test]
fn weak_f64_scalars() {
    // (tensor dtype, dtype of `t op 2.0` for + - * / and powf)
    let table = [
        (Bool, F32),
        (U8, F32),
        (I32, F32),
        (I64, F32),
        (F32, F32),
        (F64, F64),
    ];
    for (d, want) in table {
        let t = ones(d);
        assert_eq!((&t + 2.0).dtype(), want, "{d} + 2.0");
        assert_eq!((2.0 + &t).dtype(), want, "2.0 + {d}");
        assert_eq!((&t * 2.0).dtype(), want, "{d} * 2.0");
        assert_eq!((&t / 2.0).dtype(), want, "{d} / 2.0");
        assert_eq!((2.0 / &t).dtype(), want, "2.0 / {d}");
        assert_eq!(t.powf(2.0).dtype(), want, "{d}.powf");
        assert_eq!(t.clamp(0.0, 1.0).dtype(), want, "{d}.clamp");
        assert_eq!(t.lt_scalar(2.0).dtype(), Bool, "{d} < 2.0");
        assert_eq!(values_f64(&(&t + 2.0)), vec![3.0, 3.0], "{d} + 2.0");
        if d != Bool {
            assert_eq!((&t - 2.0).dtype(), want, "{d} - 2.0");
            assert_eq!(values_f64(&(2.0 - &t)), vec![1.0, 1.0], "2.0 - {d}");
        }
    }
    // The scalar is rounded to the tensor's dtype: f32 + 0.1 adds 0.1f32.
    let r = Tensor::new([1f32]) + 0.1;
    assert_eq!(r.to_vec::<f32>().unwrap(), vec![1f32 + 0.1f32]);
    // An integer tensor compares against a fractional scalar exactly (no truncation of 2.5).
    assert_values(
        &Tensor::new([2i32, 3]).lt_scalar(2.5),
        Bool,
        &[2],
        &[1., 0.],
    );
}

#[test]
fn zero_dim_tensors_participate_only_with_a_higher_category() {
    // (dimensioned dtype, 0-d dtype, torch.result_type)
    let table = [
        (I32, F64, F64),
        (F32, F64, F32),
        (U8, I64, U8),
        (U8, I32, U8),
        (Bool, I32, I32),
        (Bool, F64, F64),
        (I64, F32, F32),
        (F64, F32, F64),
        (I32, Bool, I32),
        (U8, Bool, U8),
        (F32, I64, F32),
        (Bool, Bool, Bool),
        (I64, I32, I64),
    ];
    for (dim, zero, want) in table {
        let (t, s) = (ones(dim), Tensor::ones((), zero));
        let ctx = format!("{dim}[2] with {zero}[]");
        assert_eq!(t.result_type(&s), want, "{ctx}");
        check(
            t.try_add(&s),
            want,
            if want == Bool { 1.0 } else { 2.0 },
            &format!("add {ctx}"),
        );
        check(
            s.try_mul(&t),
            want,
            1.0,
            &format!("mul {ctx} (0-d on the left)"),
        );
    }
    // Two 0-d tensors promote normally.
    for (a, b, want) in [
        (I32, F64, F64),
        (U8, I32, I32),
        (Bool, U8, U8),
        (F32, F64, F64),
    ] {
        let r = Tensor::ones((), a).add(&Tensor::ones((), b));
        assert_eq!((r.dtype(), r.ndim()), (want, 0), "{a}[] + {b}[]");
    }
    // True division with a 0-d operand: i32 / i64[] is f32, i32 / f64[] is f64.
    assert_eq!(ones(I32).div(&Tensor::ones((), I64)).dtype(), F32);
    assert_eq!(ones(I32).div(&Tensor::ones((), F64)).dtype(), F64);
    // A 1-element 1-D tensor is dimensioned: f32[1] + f64[1] is f64.
    assert_eq!(
        Tensor::ones([1], F32).add(&Tensor::ones([1], F64)).dtype(),
        F64
    );
    // The u8 result of u8[2] + i32[] wraps like u8 arithmetic: 250 + 10 = 4.
    let r = Tensor::new([250u8, 1]) + Tensor::scalar(10i32);
    assert_values(&r, U8, &[2], &[4., 11.]);
}

#[test]
fn unary_result_dtypes() {
    // Float functions: integers and bool become f32, floats keep their dtype.
    let float_of = |d: DType| if d.is_float() { d } else { F32 };
    for &d in &ALL {
        let t = ones(d);
        for (name, r) in [
            ("exp", t.exp()),
            ("log", t.log()),
            ("sqrt", t.sqrt()),
            ("rsqrt", t.rsqrt()),
            ("sin", t.sin()),
            ("cos", t.cos()),
            ("tanh", t.tanh()),
            ("sigmoid", t.sigmoid()),
            ("gelu", t.gelu()),
            ("gelu_tanh", t.gelu_tanh()),
            ("softmax", t.softmax(0)),
            ("log_softmax", t.log_softmax(0)),
            ("logsumexp", t.logsumexp(0)),
        ] {
            assert_eq!(r.dtype(), float_of(d), "{name}({d})");
            assert_eq!(values_f64(&r).len(), r.numel(), "{name}({d}) realizes");
        }
        // Sign-like and rounding functions keep the dtype.
        for (name, r) in [
            ("abs", t.abs()),
            ("sign", t.sign()),
            ("relu", t.relu()),
            ("floor", t.floor()),
            ("ceil", t.ceil()),
            ("round", t.round()),
        ] {
            assert_eq!(r.dtype(), d, "{name}({d})");
            assert_eq!(values_f64(&r), vec![1.0, 1.0], "{name}({d})");
        }
        if d != Bool {
            assert_eq!(t.neg().dtype(), d, "neg({d})");
        }
    }
}

#[test]
fn reduction_result_dtypes() {
    // Sums and products of integers and bools are i64; max/min keep the dtype; arg-reductions are i64.
    let sum_of = |d: DType| if d.is_float() { d } else { I64 };
    for &d in &ALL {
        let t = Tensor::ones([2, 3], d);
        assert_eq!(t.sum().dtype(), sum_of(d), "sum({d})");
        assert_eq!(t.sum_dim(&[1], false).dtype(), sum_of(d), "sum_dim({d})");
        assert_eq!(t.prod().dtype(), sum_of(d), "prod({d})");
        assert_eq!(t.max().dtype(), d, "max({d})");
        assert_eq!(t.min_dim(&[0], true).dtype(), d, "min_dim({d})");
        assert_eq!(t.argmax(1, false).dtype(), I64, "argmax({d})");
        assert_eq!(t.argmin(0, true).dtype(), I64, "argmin({d})");
        assert_eq!(values_f64(&t.sum()), vec![6.0], "sum({d})");
        if d.is_float() {
            assert_eq!(t.mean().dtype(), d);
            assert_eq!(t.var_dim(&[1], false).dtype(), d);
        } else {
            // torch.mean of an integer tensor raises; smelt too.
            assert!(
                matches!(t.try_mean(), Err(Error::DType { op: "mean", .. })),
                "mean({d})"
            );
            assert!(t.try_var_dim(&[1], false).is_err(), "var({d})");
            assert!(t.try_std_dim(&[1], false).is_err(), "std({d})");
        }
    }
}

#[test]
fn broadcast_shapes() {
    let ok = [
        (vec![3], vec![3], vec![3]),
        (vec![2, 3], vec![3], vec![2, 3]),
        (vec![2, 1], vec![1, 3], vec![2, 3]),
        (vec![], vec![2, 3], vec![2, 3]),
        (vec![5, 1, 4], vec![3, 1], vec![5, 3, 4]),
        (vec![0], vec![1], vec![0]),
        (vec![1], vec![0], vec![0]),
        (vec![2, 0], vec![2, 1], vec![2, 0]),
        (vec![1, 1, 1], vec![], vec![1, 1, 1]),
        (vec![4, 1, 1], vec![1, 2, 1], vec![4, 2, 1]),
    ];
    for (a, b, want) in ok {
        let (x, y) = (Tensor::ones(a.clone(), F32), Tensor::ones(b.clone(), F32));
        for r in [
            x.try_add(&y).unwrap(),
            y.try_mul(&x).unwrap(),
            x.try_lt(&y).unwrap(),
        ] {
            assert_eq!(r.dims(), want.as_slice(), "{a:?} with {b:?}");
            assert_eq!(values_f64(&r).len(), want.iter().product::<usize>());
        }
    }
    let bad = [
        (vec![0], vec![2]),
        (vec![2, 3], vec![3, 2]),
        (vec![3], vec![4]),
        (vec![2, 2, 3], vec![4, 3]),
    ];
    for (a, b) in bad {
        let (x, y) = (Tensor::ones(a.clone(), F32), Tensor::ones(b.clone(), F32));
        let e = x.try_add(&y).unwrap_err();
        assert_eq!(
            e.to_string(),
            format!("add: shapes {a:?} and {b:?} cannot broadcast")
        );
        assert!(x.try_eq(&y).is_err() && x.try_maximum(&y).is_err() && x.try_div(&y).is_err());
    }
    // Values: [2,1] + [1,3] is the outer sum.
    let r = Tensor::new([[10f32], [20.]]) + Tensor::new([[1f32, 2., 3.]]);
    assert_values(&r, F32, &[2, 3], &[11., 12., 13., 21., 22., 23.]);
    // where broadcasts all three operands.
    let c = Tensor::new([true, false]).reshape([2, 1, 1]);
    let w = Tensor::where_cond(
        &c,
        &Tensor::new([[1i32], [2], [3]]),
        &Tensor::new([0i32, -1, -2, -3]),
    );
    assert_eq!(w.dims(), &[2, 3, 4]);
    let v = values_f64(&w);
    assert_eq!(&v[..4], &[1., 1., 1., 1.]);
    assert_eq!(&v[12..16], &[0., -1., -2., -3.]);
}
