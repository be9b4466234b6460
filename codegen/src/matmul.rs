//! A contraction step: `C[b, m, n] = Σ_k A[b, m, k] · B[b, k, n]`.
//!
//! Matmul is multiply + reduce in the graph, but lowering recognizes it and hands it to a backend as this
//! spec: the CPU runtime calls a tuned microkernel, the WGSL backend emits a tiled shared-memory kernel.
//! Operands are strided views of their buffers (so transposed and broadcast operands need no copy); the
//! output is a fresh contiguous `[batch, m, n]` buffer.

use crate::dtype::DType;
use std::fmt;

/// How an operand's elements sit in its buffer: element `[b, r, c]` is at
/// `offset + b*batch_stride + r*row_stride + c*col_stride`. Strides may be 0 (broadcast).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Strided {
    pub offset: u64,
    pub batch_stride: u64,
    pub row_stride: u64,
    pub col_stride: u64,
}

/// One batched matmul over buffers of `dtype` (f32 or f64).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct MatmulSpec {
    pub dtype: DType,
    pub batch: u64,
    pub m: u64,
    pub n: u64,
    pub k: u64,
    /// `[batch, m, k]`
    pub a: Strided,
    /// `[batch, k, n]`
    pub b: Strided,
}

impl Strided {
    /// The largest element index the view touches, for a `[batch, rows, cols]` operand (all nonzero).
    pub fn max_index(&self, batch: u64, rows: u64, cols: u64) -> u64 {
        self.offset
            + (batch - 1) * self.batch_stride
            + (rows - 1) * self.row_stride
            + (cols - 1) * self.col_stride
    }
}

impl MatmulSpec {
    /// Floating-point operations (multiply and add counted apart), for GFLOP/s figures.
    pub fn flops(&self) -> u64 {
        2 * self.batch * self.m * self.n * self.k
    }
}

impl fmt::Display for Strided {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "@{} strides [{}, {}, {}]",
            self.offset, self.batch_stride, self.row_stride, self.col_stride
        )
    }
}

impl fmt::Display for MatmulSpec {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "matmul {} [{}x{}x{}] x{} a {} b {}",
            self.dtype, self.m, self.k, self.n, self.batch, self.a, self.b
        )
    }
}
