//! Small programs shared by the snapshot test files, so every stage (graph, fusion, lowering, CLIF,
//! WGSL) is snapshotted on the same programs. Inputs are realized zeros with names: their values do not
//! matter to the compiler, and no unrealized random numbers enter a graph (their seeds would depend on
//! the order tests run in).
#![allow(dead_code)]

use smelt::prelude::*;

/// A realized, named input.
pub fn input(name: &str, shape: &[usize], dtype: DType) -> Tensor {
    Tensor::zeros(shape.to_vec(), dtype)
        .realize()
        .unwrap()
        .named(name)
}

pub fn f32_input(name: &str, shape: &[usize]) -> Tensor {
    input(name, shape, DType::F32)
}

/// `exp(a) * b + c` on `[4, 8]`: one elementwise kernel.
pub fn elementwise() -> Tensor {
    let (a, b, c) = (
        f32_input("a", &[4, 8]),
        f32_input("b", &[4, 8]),
        f32_input("c", &[4, 8]),
    );
    a.exp() * &b + &c
}

/// A row softmax of `[4, 8]`: three reductions and the division in one kernel.
pub fn softmax() -> Tensor {
    f32_input("x", &[4, 8]).softmax(-1)
}

/// A column softmax of `[4, 8]`: the reductions run across rows, so they get buffers.
pub fn softmax_columns() -> Tensor {
    f32_input("x", &[4, 8]).softmax(0)
}

/// Layer norm over the last dim of `[4, 16]`, with a scale and a shift.
pub fn layernorm() -> Tensor {
    let x = f32_input("x", &[4, 16]);
    let (g, b) = (f32_input("gain", &[16]), f32_input("shift", &[16]));
    let mean = x.mean_dim(&[-1], true);
    let centered = &x - &mean;
    let var = centered.square().mean_dim(&[-1], true);
    centered / (var + 1e-5).sqrt() * &g + &b
}

/// `relu(x @ w + b)`: a matmul and its epilogue.
pub fn linear_relu() -> Tensor {
    let (x, w, b) = (
        f32_input("x", &[8, 16]),
        f32_input("w", &[16, 4]),
        f32_input("b", &[4]),
    );
    (x.matmul(&w) + &b).relu()
}

/// The sum of 2^16 elements: split in two stages so both cores have work.
pub fn big_sum() -> Tensor {
    f32_input("x", &[256, 256]).sum()
}

/// Column sums of `[6, 5]` (a reduction over the outer axis).
pub fn column_sum() -> Tensor {
    f32_input("x", &[6, 5]).sum_dim(&[0], false)
}

/// Movement ops as index arithmetic: a transpose added to its source, a strided slice, padding, cat.
pub fn movement() -> Tensor {
    let x = f32_input("x", &[4, 4]);
    let y = &x + &x.t();
    let every_other = y.slice(1, 0, 4, 2).pad(&[1, 1], 0.0);
    Tensor::cat(&[&every_other, &y], 1)
}

/// Cross entropy of `[4, 3]` logits against class labels: a gather with a checked index.
pub fn cross_entropy() -> Tensor {
    let logits = f32_input("logits", &[4, 3]);
    let labels = Tensor::new([0i64, 2, 1, 1])
        .realize()
        .unwrap()
        .named("labels");
    smelt::nn::cross_entropy(&logits, &labels)
}

/// Integer and bool dtypes: a mask, a cast and a select.
pub fn cast_where() -> Tensor {
    let x = f32_input("x", &[3, 5]);
    let mask = x.gt_scalar(0.5);
    let ints = x.to_dtype(DType::I32);
    Tensor::where_cond(&mask, &ints, &(&ints + &ints))
}
