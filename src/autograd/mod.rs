//! Autograd: which tensors track gradients, and the grad-mode switch.

use crate::Tensor;
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
    /// Whether gradients flow to or through this tensor.
    pub fn requires_grad(&self) -> bool {
        self.0.requires_grad.load(Ordering::Relaxed)
    }

    /// Marks the tensor as a leaf that collects gradients; returns the same handle for chaining.
    pub fn requires_grad_(&self, requires_grad: bool) -> Tensor {
        self.0.requires_grad.store(requires_grad, Ordering::Relaxed);
        self.clone()
    }

    /// The same values, cut off from gradient history.
    pub fn detach(&self) -> Tensor {
        if !self.requires_grad() {
            return self.clone();
        }
        if let Some(buffer) = self.buffer() {
            let t = Tensor::lazy(
                smelt_passes::Op::Input(0),
                vec![],
                self.shape().clone(),
                self.dtype(),
                self.device(),
            );
            t.set_buffer(buffer.clone());
            return t;
        }
        no_grad(|| {
            Tensor::lazy(
                self.op().clone(),
                self.srcs(),
                self.shape().clone(),
                self.dtype(),
                self.device(),
            )
        })
    }
}
