//! Matrix products. In the graph a matmul is a multiply and a sum over the shared dim (one vocabulary
//! for autograd and fusion); lowering recognizes the contraction and hands it to a tuned kernel.

use crate::ops::elementwise::{broadcast_shapes, result_type};
use crate::{DType, Error, Result, Tensor, ok};
use smelt_codegen::{BinaryOp, ReduceOp};

impl Tensor {
    /// The matrix product with `torch.matmul`'s rules: 1-D operands are vectors (the added dim is removed
    /// again), and batch dims broadcast.
    #[track_caller]
    pub fn matmul(&self, rhs: &Tensor) -> Tensor {
        ok(self.try_matmul(rhs))
    }

    pub fn try_matmul(&self, rhs: &Tensor) -> Result<Tensor> {
        let err = || Error::Shape {
            op: "matmul",
            what: format!(
                "shapes {} and {} cannot be multiplied",
                self.shape(),
                rhs.shape()
            ),
        };
        Tensor::same_device("matmul", &[self, rhs])?;
        if self.ndim() == 0 || rhs.ndim() == 0 {
            return Err(Error::Shape {
                op: "matmul",
                what: "both arguments need at least 1 dim".into(),
            });
        }
        let dtype = result_type(self, rhs);
        if dtype == DType::Bool {
            return Err(Error::DType {
                op: "matmul",
                what: "not supported for bool tensors".into(),
            });
        }
        let a = if self.ndim() == 1 {
            self.reshape_internal(vec![1, self.numel()])
        } else {
            self.clone()
        };
        let b = if rhs.ndim() == 1 {
            rhs.reshape_internal(vec![rhs.numel(), 1])
        } else {
            rhs.clone()
        };
        let (m, k) = (a.dims()[a.ndim() - 2], a.dims()[a.ndim() - 1]);
        let (k2, n) = (b.dims()[b.ndim() - 2], b.dims()[b.ndim() - 1]);
        if k != k2 {
            return Err(err());
        }
        let batch = broadcast_shapes(
            "matmul",
            &a.dims()[..a.ndim() - 2],
            &b.dims()[..b.ndim() - 2],
        )
        .map_err(|_| err())?;
        let full = |tail: &[usize]| -> Vec<usize> { batch.iter().chain(tail).copied().collect() };
        // a: [..., m, 1, k] and b^T: [..., 1, n, k], both expanded to [..., m, n, k], multiplied, summed over k.
        let a = a.cast_internal(dtype).broadcast_internal(&full(&[m, k]));
        let b = b.cast_internal(dtype).broadcast_internal(&full(&[k, n]));
        let nb = batch.len();
        let a3 = a
            .reshape_internal(full(&[m, 1, k]))
            .broadcast_internal(&full(&[m, n, k]));
        let mut perm: Vec<usize> = (0..nb).collect();
        perm.extend([nb + 1, nb]);
        let b3 = b
            .permute_internal(perm)
            .reshape_internal(full(&[1, n, k]))
            .broadcast_internal(&full(&[m, n, k]));
        let prod = a3.binary_internal(BinaryOp::Mul, &b3);
        let mut out = prod.reduce_internal(ReduceOp::Sum, &[nb + 2], false);
        // Drop the dims the 1-D operands gained.
        let mut dims = batch.to_vec();
        if self.ndim() > 1 {
            dims.push(m);
        }
        if rhs.ndim() > 1 {
            dims.push(n);
        }
        out = out.reshape_internal(dims);
        Ok(out)
    }

    /// Inner product of two 1-D tensors (0-d result).
    #[track_caller]
    pub fn dot(&self, rhs: &Tensor) -> Tensor {
        ok(self.try_dot(rhs))
    }

    pub fn try_dot(&self, rhs: &Tensor) -> Result<Tensor> {
        if self.ndim() != 1 || rhs.ndim() != 1 || self.numel() != rhs.numel() {
            return Err(Error::Shape {
                op: "dot",
                what: format!(
                    "expects two 1-D tensors of one length, got {} and {}",
                    self.shape(),
                    rhs.shape()
                ),
            });
        }
        self.try_matmul(rhs)
    }

    /// Product of two 2-D tensors.
    #[track_caller]
    pub fn mm(&self, rhs: &Tensor) -> Tensor {
        ok(self.try_mm(rhs))
    }

    pub fn try_mm(&self, rhs: &Tensor) -> Result<Tensor> {
        if self.ndim() != 2 || rhs.ndim() != 2 {
            return Err(Error::Shape {
                op: "mm",
                what: format!(
                    "expects two 2-D tensors, got {} and {}",
                    self.shape(),
                    rhs.shape()
                ),
            });
        }
        self.try_matmul(rhs)
    }

    /// Outer product of two 1-D tensors.
    #[track_caller]
    pub fn outer(&self, rhs: &Tensor) -> Tensor {
        if self.ndim() != 1 || rhs.ndim() != 1 {
            panic!(
                "outer: expects two 1-D tensors, got {} and {}",
                self.shape(),
                rhs.shape()
            );
        }
        self.unsqueeze(1).mul(&rhs.unsqueeze(0))
    }
}
