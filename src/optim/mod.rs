//! Optimizers with PyTorch's update rules: [`Sgd`] (momentum, dampening, Nesterov, weight decay) and
//! [`Adam`] (bias correction, L2 or decoupled weight decay).
//!
//! A step computes every parameter's new value (and the optimizer's state) as lazy tensors under
//! [`no_grad`](crate::no_grad), realizes them all together (one schedule, shared work), and swaps the
//! new values into the [`Parameter`] slots (see [`crate::nn::Parameter`] for why values are swapped,
//! not written in place). Hyperparameters that change between steps (the learning rate, Adam's bias
//! corrections) enter the graph as realized 0-d tensors, not constants, so every step has the same
//! graph structure and reuses the compiled schedule.
//!
//! ```
//! use smelt::nn::Parameter;
//! use smelt::optim::{Optimizer, Sgd};
//! use smelt::prelude::*;
//!
//! let w = Parameter::new(&Tensor::new([1.0f64, -2.0]));
//! let mut opt = Sgd::new(vec![w.clone()], 0.1);
//! for _ in 0..3 {
//!     opt.zero_grad();
//!     let loss = (w.tensor() * w.tensor()).sum();   // gradient 2w
//!     loss.backward();
//!     opt.step().unwrap();                          // w ← w - 0.1·2w = 0.8 w
//! }
//! let got = w.tensor().to_vec::<f64>().unwrap();
//! assert!((got[0] - 0.512).abs() < 1e-12 && (got[1] + 1.024).abs() < 1e-12);
//! ```

mod adam;
mod sgd;

pub use adam::Adam;
pub use sgd::Sgd;

/// PyTorch's spelling of [`Sgd`].
#[allow(clippy::upper_case_acronyms)]
pub type SGD = Sgd;

use crate::nn::Parameter;
use crate::{DType, Result, Tensor};

/// What every optimizer does.
pub trait Optimizer {
    /// Updates every parameter that has a gradient; parameters without one are skipped.
    fn step(&mut self) -> Result<()>;

    /// The parameters being optimized.
    fn parameters(&self) -> &[Parameter];

    /// Clears every parameter's gradient (to `None`, as PyTorch's default `set_to_none=True`).
    fn zero_grad(&self) {
        for p in self.parameters() {
            p.zero_grad();
        }
    }
}

/// A realized 0-d tensor of `dtype` holding `v`: a graph input rather than a constant, so a changing
/// value does not change the graph.
pub(crate) fn scalar_input(v: f64, dtype: DType) -> Tensor {
    match dtype {
        DType::F64 => Tensor::scalar(v),
        _ => Tensor::scalar(v as f32),
    }
}

/// Realizes the new values and states together, then swaps the values into their parameters.
pub(crate) fn commit(updates: Vec<(Parameter, Tensor)>, state: &[&Tensor]) -> Result<()> {
    let mut all: Vec<&Tensor> = updates.iter().map(|(_, t)| t).collect();
    all.extend_from_slice(state);
    Tensor::realize_all(&all)?;
    for (p, t) in updates {
        p.install(t);
    }
    Ok(())
}

/// Checks a hyperparameter as PyTorch's constructors do.
#[track_caller]
pub(crate) fn check(ok: bool, what: &str, value: f64) {
    assert!(ok, "invalid {what}: {value}");
}

/// Panics (at the caller) unless `value` is finite and not negative.
#[track_caller]
pub(crate) fn check_nonneg(value: f64, what: &str) {
    check(value >= 0.0 && value.is_finite(), what, value);
}
