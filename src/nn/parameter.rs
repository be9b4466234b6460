//! [`Parameter`]: a trainable tensor whose value an optimizer replaces.
//!
//! A [`Tensor`] is an immutable node whose buffer is set once, so an optimizer cannot write into it. A
//! `Parameter` is a shared, swappable slot instead: it holds the current value (a leaf that requires
//! grad), every clone of the handle sees the same slot, and an optimizer step computes the new values
//! under [`no_grad`], realizes them together and swaps them in. The old leaf (with the graph that used
//! it) is freed once no step's graph refers to it, so a training loop's memory stays flat.
//!
//! Read the value with [`Parameter::tensor`] each time a forward pass runs: a tensor fetched before a
//! step still holds the old values, as a PyTorch tensor cloned before `optimizer.step()` would.

use crate::{DType, Device, Error, Result, Shape, Tensor, no_grad, ok};
use std::sync::{Arc, RwLock};

/// A trainable tensor: a cheap, cloneable, `Send + Sync` handle to a slot holding a leaf that requires
/// grad (PyTorch's `nn.Parameter`).
#[derive(Clone)]
pub struct Parameter(Arc<RwLock<Tensor>>);

impl Parameter {
    /// A parameter holding `value`'s values as a new leaf that requires grad; `value` itself is not
    /// marked. The values are computed now (a lazy initializer such as `rand * 2b - b` runs here):
    /// every training step then reads the parameter as a buffer, so the first step has the same graph
    /// as the others and compiles nothing they do not reuse. Panics for a non-float tensor or if
    /// computing the values fails.
    #[track_caller]
    pub fn new(value: &Tensor) -> Parameter {
        ok(Parameter::try_new(value))
    }

    /// [`Parameter::new`], returning an error instead of panicking.
    pub fn try_new(value: &Tensor) -> Result<Parameter> {
        let leaf = value.detach().try_requires_grad_(true)?;
        leaf.realize()?;
        Ok(Parameter(Arc::new(RwLock::new(leaf))))
    }

    /// The current value: a leaf that requires grad.
    pub fn tensor(&self) -> Tensor {
        self.0.read().unwrap_or_else(|e| e.into_inner()).clone()
    }

    /// The gradient accumulated in the current value.
    pub fn grad(&self) -> Option<Tensor> {
        self.tensor().grad()
    }

    /// Clears the gradient (sets it to `None`).
    pub fn zero_grad(&self) {
        self.tensor().zero_grad();
    }

    pub fn shape(&self) -> Shape {
        self.tensor().shape().clone()
    }

    pub fn dtype(&self) -> DType {
        self.tensor().dtype()
    }

    pub fn device(&self) -> Device {
        self.tensor().device()
    }

    pub fn numel(&self) -> usize {
        self.tensor().numel()
    }

    /// Whether the two handles share one slot.
    pub fn same(&self, other: &Parameter) -> bool {
        Arc::ptr_eq(&self.0, &other.0)
    }

    /// Replaces the value with `value`'s values (realized now), keeping the accumulated gradient, as
    /// `with torch.no_grad(): p.copy_(value)` does. The shape, dtype and device must match.
    pub fn set(&self, value: &Tensor) -> Result<()> {
        let old = self.tensor();
        if value.shape() != old.shape()
            || value.dtype() != old.dtype()
            || value.device() != old.device()
        {
            return Err(Error::Shape {
                op: "Parameter::set",
                what: format!(
                    "a value of {} {} on {} for a parameter of {} {} on {}",
                    value.dtype(),
                    value.shape(),
                    value.device(),
                    old.dtype(),
                    old.shape(),
                    old.device()
                ),
            });
        }
        let fresh = no_grad(|| value.detach());
        fresh.realize()?;
        self.install(fresh);
        Ok(())
    }

    /// Swaps in a realized value computed without history (an optimizer's result); the current gradient
    /// carries over, as it would on a PyTorch parameter updated in place.
    pub(crate) fn install(&self, value: Tensor) {
        debug_assert!(value.is_realized() && !value.requires_grad());
        let mut slot = self.0.write().unwrap_or_else(|e| e.into_inner());
        let grad = slot.grad();
        let leaf = value.requires_grad_(true);
        leaf.set_grad_unchecked(grad);
        *slot = leaf;
    }
}

impl std::fmt::Debug for Parameter {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Parameter({:?})", self.tensor())
    }
}
