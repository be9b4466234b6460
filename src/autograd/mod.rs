//! Autograd as a graph transform: which tensors track gradients, the grad-mode switch, and (in the
//! submodules) the per-op gradient rules and the backward driver.
//!
//! A tensor *requires grad* if it was marked with [`Tensor::requires_grad_`] (a *leaf*) or was computed,
//! with grad mode on, from a tensor that requires grad. Only floating point tensors require grad, as in
//! PyTorch. Gradients are lazy tensors built from the same ops as everything else:
//!
//! ```
//! use smelt::prelude::*;
//!
//! let x = Tensor::new([1.0f64, 2.0, 3.0]).requires_grad_(true);
//! let y = (&x * &x * &x).sum();                  // sum of x³
//! let dx = smelt::grad(&y, &[&x]).remove(0);     // 3x², lazy and differentiable
//! let ddx = smelt::grad(&dx.sum(), &[&x]).remove(0);
//! assert_eq!(ddx.to_vec::<f64>().unwrap(), vec![6.0, 12.0, 18.0]);
//! y.backward();                                  // fills x.grad(), accumulating
//! assert_eq!(x.grad().unwrap().to_vec::<f64>().unwrap(), vec![3.0, 12.0, 27.0]);
//! ```

mod backward;
mod rules;

pub use backward::{grad, try_grad};

use crate::{Error, Result, Tensor, ok};
use std::cell::Cell;
use std::sync::atomic::Ordering;

thread_local! {
    static GRAD_ENABLED: Cell<bool> = const { Cell::new(true) };
}

/// Whether ops record gradient history on this thread (false inside [`no_grad`]).
pub fn is_grad_enabled() -> bool {
    GRAD_ENABLED.with(|g| g.get())
}

/// Runs `f` without recording gradient history (`torch.no_grad()`), restoring the previous mode after,
/// also when `f` panics.
pub fn no_grad<R>(f: impl FnOnce() -> R) -> R {
    struct Restore(bool);
    impl Drop for Restore {
        fn drop(&mut self) {
            GRAD_ENABLED.with(|g| g.set(self.0));
        }
    }
    let _restore = Restore(GRAD_ENABLED.with(|g| g.replace(false)));
    f()
}

impl Tensor {
    /// Whether gradients flow to or through this tensor. Always false for integer and bool tensors.
    pub fn requires_grad(&self) -> bool {
        self.dtype().is_float() && self.0.requires_grad.load(Ordering::Relaxed)
    }

    /// Marks the tensor as a leaf that collects gradients (or unmarks it); returns the same handle for
    /// chaining. Panics where PyTorch raises: `true` on a non-float tensor, `false` on a tensor computed
    /// from others that require grad (use [`Tensor::detach`]).
    #[track_caller]
    pub fn requires_grad_(&self, requires_grad: bool) -> Tensor {
        ok(self.try_requires_grad_(requires_grad))
    }

    /// [`Tensor::requires_grad_`], returning an error instead of panicking.
    pub fn try_requires_grad_(&self, requires_grad: bool) -> Result<Tensor> {
        if requires_grad {
            if !self.dtype().is_float() {
                return Err(Error::DType {
                    op: "requires_grad_",
                    what: format!(
                        "only floating point tensors can require gradients, got {}",
                        self.dtype()
                    ),
                });
            }
            if !self.requires_grad() {
                // A tensor without history becomes a leaf: operands that came to require grad after it
                // was built (it may be a `detach`ed copy) are cut off, so gradients stop here.
                let mut srcs = self.0.srcs.write().unwrap_or_else(|e| e.into_inner());
                for s in srcs.iter_mut().filter(|s| s.requires_grad()) {
                    *s = s.detach();
                }
            }
        } else if !self.is_leaf() {
            return Err(Error::Argument {
                op: "requires_grad_",
                what: "only leaf tensors can stop requiring grad; use detach() for a copy without history".into(),
            });
        }
        self.0.requires_grad.store(requires_grad, Ordering::Relaxed);
        Ok(self.clone())
    }

    /// True for a tensor that does not require grad, or that does but was not computed from tensors that
    /// require grad (`torch.Tensor.is_leaf`). Only leaves get [`Tensor::grad`] filled by `backward`.
    pub fn is_leaf(&self) -> bool {
        !self.requires_grad() || !self.srcs().iter().any(|s| s.requires_grad())
    }

    /// The same values as a new tensor cut off from gradient history (`torch.Tensor.detach`). A realized
    /// tensor shares its buffer; an unrealized one becomes a copy of its last op that does not record
    /// history. Marking the result with `requires_grad_` never affects `self`.
    pub fn detach(&self) -> Tensor {
        if let Some(buffer) = self.buffer() {
            let t = Tensor::lazy(
                smelt_passes::Op::Input(0),
                crate::tensor::Srcs::new(),
                self.shape().clone(),
                self.dtype(),
                self.device(),
            );
            t.set_buffer(buffer.clone());
            return t;
        }
        if self.is_transfer() {
            return self.srcs()[0].detach().to(self.device());
        }
        no_grad(|| {
            Tensor::lazy(
                self.op().clone(),
                crate::tensor::Srcs::from_vec(self.srcs()),
                self.shape().clone(),
                self.dtype(),
                self.device(),
            )
        })
    }

    /// The gradient accumulated by [`Tensor::backward`], if any (`torch.Tensor.grad`).
    pub fn grad(&self) -> Option<Tensor> {
        self.0
            .grad
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .clone()
    }

    /// Replaces the accumulated gradient (`t.grad = g` in PyTorch). Panics if `g`'s shape, dtype or
    /// device differ from the tensor's.
    #[track_caller]
    pub fn set_grad(&self, grad: Option<Tensor>) {
        ok(self.try_set_grad(grad))
    }

    /// [`Tensor::set_grad`], returning an error instead of panicking.
    pub fn try_set_grad(&self, grad: Option<Tensor>) -> Result<()> {
        if let Some(g) = &grad {
            if g.shape() != self.shape() || g.dtype() != self.dtype() {
                return Err(Error::Shape {
                    op: "set_grad",
                    what: format!(
                        "a gradient of {} {} for a tensor of {} {}",
                        g.dtype(),
                        g.shape(),
                        self.dtype(),
                        self.shape()
                    ),
                });
            }
            Tensor::same_device("set_grad", &[self, g])?;
        }
        self.set_grad_unchecked(grad);
        Ok(())
    }

    pub(crate) fn set_grad_unchecked(&self, grad: Option<Tensor>) {
        *self.0.grad.lock().unwrap_or_else(|e| e.into_inner()) = grad;
    }

    /// Clears the accumulated gradient (sets it to `None`, as PyTorch's `zero_grad(set_to_none=True)`).
    pub fn zero_grad(&self) {
        self.set_grad_unchecked(None);
    }
}
