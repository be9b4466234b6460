//! Reductions, and the softmax family built on them.

use crate::tensor::norm_dim;
use crate::{DType, Error, Result, Scalar, Shape, Tensor, ok};
use smelt_codegen::{BinaryOp, ReduceOp};
use smelt_passes::Op;

/// Normalizes a dim list (empty means every dim, as `torch.sum(dim=[])`), sorted and unique.
fn norm_dims(op: &'static str, dims: &[isize], ndim: usize) -> Result<Vec<usize>> {
    if dims.is_empty() {
        return Ok((0..ndim).collect());
    }
    let mut out = Vec::with_capacity(dims.len());
    for &d in dims {
        let d = norm_dim(op, d, ndim)?;
        if out.contains(&d) {
            return Err(Error::Shape {
                op,
                what: format!("dim {d} appears more than once in {dims:?}"),
            });
        }
        out.push(d);
    }
    if ndim == 0 {
        // A 0-d tensor accepts dim 0 and -1 (as PyTorch) but has no axis to reduce.
        return Ok(vec![]);
    }
    out.sort_unstable();
    Ok(out)
}

impl Tensor {
    /// A strict reduce node over `axes` (sorted) in the tensor's own dtype, keeping dims; then removes the
    /// reduced dims unless `keepdim`.
    pub(crate) fn reduce_internal(&self, op: ReduceOp, axes: &[usize], keepdim: bool) -> Tensor {
        let axes: Vec<usize> = axes.iter().copied().filter(|_| self.ndim() > 0).collect();
        let mut kept = self.dims().to_vec();
        for &a in &axes {
            kept[a] = 1;
        }
        let r = if axes.is_empty() {
            self.clone()
        } else {
            self.unary_node(
                Op::Reduce {
                    op,
                    axes: axes.clone(),
                },
                Shape::from(kept.clone()),
                self.dtype(),
            )
        };
        if keepdim {
            return r;
        }
        let dims = self
            .dims()
            .iter()
            .enumerate()
            .filter(|(i, _)| !axes.contains(i))
            .map(|(_, &d)| d)
            .collect();
        r.reshape_internal(dims)
    }

    /// A reduction as the user sees it: dims checked, dtype rules applied.
    fn reduce(
        &self,
        name: &'static str,
        op: ReduceOp,
        dims: &[isize],
        keepdim: bool,
    ) -> Result<Tensor> {
        let axes = norm_dims(name, dims, self.ndim())?;
        let x = match op {
            // Integer and bool sums and products accumulate in i64, as in PyTorch.
            ReduceOp::Sum | ReduceOp::Prod if !self.dtype().is_float() => {
                self.cast_internal(DType::I64)
            }
            _ => self.clone(),
        };
        if matches!(op, ReduceOp::Max | ReduceOp::Min) && axes.iter().any(|&a| self.dims()[a] == 0)
        {
            return Err(Error::Shape {
                op: name,
                what: format!(
                    "cannot reduce a zero-size dim of shape {}: the result has no identity",
                    self.shape()
                ),
            });
        }
        Ok(x.reduce_internal(op, &axes, keepdim))
    }

    /// The number of elements a reduction over `axes` combines.
    fn reduced_count(&self, axes: &[usize]) -> usize {
        axes.iter().map(|&a| self.dims()[a]).product()
    }

    /// Sum of every element (0-d; integers sum to i64).
    pub fn sum(&self) -> Tensor {
        ok(self.reduce("sum", ReduceOp::Sum, &[], false))
    }

    /// Product of every element (0-d; integers multiply in i64).
    pub fn prod(&self) -> Tensor {
        ok(self.reduce("prod", ReduceOp::Prod, &[], false))
    }

    /// Largest element (0-d). Panics on an empty tensor, as PyTorch raises.
    #[track_caller]
    pub fn max(&self) -> Tensor {
        ok(self.try_max())
    }

    pub fn try_max(&self) -> Result<Tensor> {
        self.reduce("max", ReduceOp::Max, &[], false)
    }

    /// Smallest element (0-d). Panics on an empty tensor.
    #[track_caller]
    pub fn min(&self) -> Tensor {
        ok(self.try_min())
    }

    pub fn try_min(&self) -> Result<Tensor> {
        self.reduce("min", ReduceOp::Min, &[], false)
    }

    /// Mean of every element (0-d). Float tensors only, as PyTorch.
    #[track_caller]
    pub fn mean(&self) -> Tensor {
        ok(self.try_mean())
    }

    pub fn try_mean(&self) -> Result<Tensor> {
        self.try_mean_dim(&[], false)
    }

    /// Sum over `dims` (empty: all).
    #[track_caller]
    pub fn sum_dim(&self, dims: &[isize], keepdim: bool) -> Tensor {
        ok(self.try_sum_dim(dims, keepdim))
    }

    pub fn try_sum_dim(&self, dims: &[isize], keepdim: bool) -> Result<Tensor> {
        self.reduce("sum", ReduceOp::Sum, dims, keepdim)
    }

    /// Product over `dims`.
    #[track_caller]
    pub fn prod_dim(&self, dims: &[isize], keepdim: bool) -> Tensor {
        ok(self.try_prod_dim(dims, keepdim))
    }

    pub fn try_prod_dim(&self, dims: &[isize], keepdim: bool) -> Result<Tensor> {
        self.reduce("prod", ReduceOp::Prod, dims, keepdim)
    }

    /// Largest values over `dims` (values only).
    #[track_caller]
    pub fn max_dim(&self, dims: &[isize], keepdim: bool) -> Tensor {
        ok(self.try_max_dim(dims, keepdim))
    }

    pub fn try_max_dim(&self, dims: &[isize], keepdim: bool) -> Result<Tensor> {
        self.reduce("max", ReduceOp::Max, dims, keepdim)
    }

    /// Smallest values over `dims` (values only).
    #[track_caller]
    pub fn min_dim(&self, dims: &[isize], keepdim: bool) -> Tensor {
        ok(self.try_min_dim(dims, keepdim))
    }

    pub fn try_min_dim(&self, dims: &[isize], keepdim: bool) -> Result<Tensor> {
        self.reduce("min", ReduceOp::Min, dims, keepdim)
    }

    /// Mean over `dims`. Float tensors only.
    #[track_caller]
    pub fn mean_dim(&self, dims: &[isize], keepdim: bool) -> Tensor {
        ok(self.try_mean_dim(dims, keepdim))
    }

    pub fn try_mean_dim(&self, dims: &[isize], keepdim: bool) -> Result<Tensor> {
        self.require_float("mean")?;
        let axes = norm_dims("mean", dims, self.ndim())?;
        let n = self.reduced_count(&axes);
        Ok(self.reduce_internal(ReduceOp::Sum, &axes, keepdim) / n as f64)
    }

    /// Variance over `dims`, unbiased (divides by n - 1, PyTorch's default). Float tensors only.
    #[track_caller]
    pub fn var_dim(&self, dims: &[isize], keepdim: bool) -> Tensor {
        ok(self.try_var_dim(dims, keepdim))
    }

    pub fn try_var_dim(&self, dims: &[isize], keepdim: bool) -> Result<Tensor> {
        self.var_correction("var", dims, keepdim, 1)
    }

    /// Variance with a given correction (0: population variance, 1: unbiased).
    pub fn try_var_correction(
        &self,
        dims: &[isize],
        keepdim: bool,
        correction: usize,
    ) -> Result<Tensor> {
        self.var_correction("var", dims, keepdim, correction)
    }

    fn var_correction(
        &self,
        name: &'static str,
        dims: &[isize],
        keepdim: bool,
        correction: usize,
    ) -> Result<Tensor> {
        self.require_float(name)?;
        let axes = norm_dims(name, dims, self.ndim())?;
        let n = self.reduced_count(&axes);
        let mean = self.reduce_internal(ReduceOp::Sum, &axes, true) / n as f64;
        let dev = self - &mean.broadcast_internal(self.dims());
        let ss = (&dev * &dev).reduce_internal(ReduceOp::Sum, &axes, keepdim);
        // n - correction may be 0 or negative: PyTorch then gives inf or NaN from the division.
        Ok(ss / (n as f64 - correction as f64).max(0.0))
    }

    /// Standard deviation over `dims`, unbiased. Float tensors only.
    #[track_caller]
    pub fn std_dim(&self, dims: &[isize], keepdim: bool) -> Tensor {
        ok(self.try_std_dim(dims, keepdim))
    }

    pub fn try_std_dim(&self, dims: &[isize], keepdim: bool) -> Result<Tensor> {
        Ok(self.var_correction("std", dims, keepdim, 1)?.sqrt())
    }

    /// Unbiased variance of every element (0-d).
    #[track_caller]
    pub fn var(&self) -> Tensor {
        self.var_dim(&[], false)
    }

    /// Unbiased standard deviation of every element (0-d).
    #[track_caller]
    pub fn std(&self) -> Tensor {
        self.std_dim(&[], false)
    }

    /// Index of the largest value along `dim` as i64; the first on ties, NaN counts as largest.
    #[track_caller]
    pub fn argmax(&self, dim: isize, keepdim: bool) -> Tensor {
        ok(self.try_argmax(dim, keepdim))
    }

    pub fn try_argmax(&self, dim: isize, keepdim: bool) -> Result<Tensor> {
        self.arg_extreme("argmax", ReduceOp::Max, dim, keepdim)
    }

    /// Index of the smallest value along `dim` as i64; the first on ties, NaN counts as smallest.
    #[track_caller]
    pub fn argmin(&self, dim: isize, keepdim: bool) -> Tensor {
        ok(self.try_argmin(dim, keepdim))
    }

    pub fn try_argmin(&self, dim: isize, keepdim: bool) -> Result<Tensor> {
        self.arg_extreme("argmin", ReduceOp::Min, dim, keepdim)
    }

    /// `min over dim of (x is the extreme ? index : n)`: the first index reaching the extreme.
    fn arg_extreme(
        &self,
        name: &'static str,
        op: ReduceOp,
        dim: isize,
        keepdim: bool,
    ) -> Result<Tensor> {
        let d = self.norm_dim(name, dim)?;
        let x = if self.ndim() == 0 {
            self.reshape_internal(vec![1])
        } else {
            self.clone()
        };
        let n = x.dims()[d];
        if n == 0 {
            return Err(Error::Shape {
                op: name,
                what: format!(
                    "cannot reduce the zero-size dim {d} of shape {}",
                    self.shape()
                ),
            });
        }
        let ext = x
            .reduce_internal(op, &[d], true)
            .broadcast_internal(x.dims());
        let mut hit = x.binary_internal(BinaryOp::CmpEq, &ext);
        if x.dtype().is_float() {
            hit = hit.binary_internal(BinaryOp::Or, &x.binary_internal(BinaryOp::CmpNe, &x));
        }
        let iota = Tensor::lazy(
            Op::Iota { axis: d },
            crate::tensor::Srcs::new(),
            x.shape().clone(),
            DType::I64,
            x.device(),
        );
        let none = x.full_const(Scalar::I64(n as i64));
        let idx = Tensor::lazy(
            Op::Where,
            smallvec::smallvec![hit, iota, none],
            x.shape().clone(),
            DType::I64,
            x.device(),
        );
        let r = idx.reduce_internal(ReduceOp::Min, &[d], keepdim);
        Ok(if self.ndim() == 0 {
            r.reshape_internal(vec![])
        } else {
            r
        })
    }

    /// `exp(x) / sum(exp(x))` along `dim`, computed stably (the max is subtracted first).
    #[track_caller]
    pub fn softmax(&self, dim: isize) -> Tensor {
        ok(self.try_softmax(dim))
    }

    pub fn try_softmax(&self, dim: isize) -> Result<Tensor> {
        let (x, d) = (self.to_float(), self.norm_dim("softmax", dim)?);
        if x.ndim() == 0 {
            return Ok(x.ones_like_dtype(x.dtype()));
        }
        let m = x.reduce_internal(ReduceOp::Max, &[d], true).detach();
        let e = (&x - &m.broadcast_internal(x.dims())).exp();
        let s = e.reduce_internal(ReduceOp::Sum, &[d], true);
        Ok(&e / &s.broadcast_internal(x.dims()))
    }

    /// `log(softmax(x))` along `dim`, computed stably.
    #[track_caller]
    pub fn log_softmax(&self, dim: isize) -> Tensor {
        ok(self.try_log_softmax(dim))
    }

    pub fn try_log_softmax(&self, dim: isize) -> Result<Tensor> {
        let (x, d) = (self.to_float(), self.norm_dim("log_softmax", dim)?);
        if x.ndim() == 0 {
            return Ok(x.zeros_like_dtype(x.dtype()));
        }
        let lse = x.logsumexp_keep(d);
        Ok(&x - &lse.broadcast_internal(x.dims()))
    }

    /// `log(sum(exp(x)))` along `dim` (the dim is removed), computed stably.
    #[track_caller]
    pub fn logsumexp(&self, dim: isize) -> Tensor {
        ok(self.try_logsumexp(dim))
    }

    pub fn try_logsumexp(&self, dim: isize) -> Result<Tensor> {
        let (x, d) = (self.to_float(), self.norm_dim("logsumexp", dim)?);
        if x.ndim() == 0 {
            return Ok(x);
        }
        let r = x.logsumexp_keep(d);
        let mut dims = x.dims().to_vec();
        dims.remove(d);
        Ok(r.reshape_internal(dims))
    }

    /// logsumexp over `d` keeping the dim; an all-`-inf` (or `+inf`) slice must not produce `inf - inf`.
    fn logsumexp_keep(&self, d: usize) -> Tensor {
        let m = self.reduce_internal(ReduceOp::Max, &[d], true).detach();
        let finite = m.isfinite();
        let m = Tensor::where_cond(&finite, &m, &m.zeros_like_dtype(m.dtype()));
        let s = (self - &m.broadcast_internal(self.dims()))
            .exp()
            .reduce_internal(ReduceOp::Sum, &[d], true);
        s.log() + m
    }

    pub(crate) fn require_float(&self, op: &'static str) -> Result<()> {
        if !self.dtype().is_float() {
            return Err(Error::DType {
                op,
                what: format!(
                    "needs a floating point tensor, got {} (cast with to_dtype first)",
                    self.dtype()
                ),
            });
        }
        Ok(())
    }
}
