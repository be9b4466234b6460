//! Stochastic gradient descent, as `torch.optim.SGD`.

use super::{Optimizer, check, check_nonneg, commit, scalar_input};
use crate::nn::Parameter;
use crate::{Error, Result, Tensor, no_grad};

/// `torch.optim.SGD`: for each parameter `w` with gradient `g`,
///
/// ```text
/// g ← g + weight_decay·w
/// b ← g on the first step, else momentum·b + (1 - dampening)·g      (when momentum ≠ 0)
/// g ← g + momentum·b if nesterov, else b
/// w ← w - lr·g
/// ```
pub struct Sgd {
    params: Vec<Parameter>,
    lr: f64,
    momentum: f64,
    dampening: f64,
    weight_decay: f64,
    nesterov: bool,
    /// Momentum buffers, one per parameter, created on the parameter's first step.
    buffers: Vec<Option<Tensor>>,
}

impl Sgd {
    /// Plain SGD with learning rate `lr`. Panics if `lr` is negative or not finite.
    #[track_caller]
    pub fn new(params: Vec<Parameter>, lr: f64) -> Sgd {
        check_nonneg(lr, "learning rate");
        let n = params.len();
        Sgd {
            params,
            lr,
            momentum: 0.0,
            dampening: 0.0,
            weight_decay: 0.0,
            nesterov: false,
            buffers: vec![None; n],
        }
    }

    /// Sets the momentum factor (default 0).
    #[track_caller]
    pub fn momentum(mut self, momentum: f64) -> Sgd {
        check_nonneg(momentum, "momentum value");
        self.momentum = momentum;
        self
    }

    /// Sets the dampening of the momentum (default 0).
    #[track_caller]
    pub fn dampening(mut self, dampening: f64) -> Sgd {
        check(dampening.is_finite(), "dampening value", dampening);
        self.dampening = dampening;
        self
    }

    /// Sets the L2 penalty (default 0).
    #[track_caller]
    pub fn weight_decay(mut self, weight_decay: f64) -> Sgd {
        check_nonneg(weight_decay, "weight_decay value");
        self.weight_decay = weight_decay;
        self
    }

    /// Enables Nesterov momentum (needs a momentum and zero dampening).
    pub fn nesterov(mut self, nesterov: bool) -> Sgd {
        self.nesterov = nesterov;
        self
    }

    pub fn lr(&self) -> f64 {
        self.lr
    }

    /// Changes the learning rate (for schedules); the compiled step is reused.
    #[track_caller]
    pub fn set_lr(&mut self, lr: f64) {
        check_nonneg(lr, "learning rate");
        self.lr = lr;
    }
}

impl Optimizer for Sgd {
    fn step(&mut self) -> Result<()> {
        if self.nesterov && (self.momentum <= 0.0 || self.dampening != 0.0) {
            return Err(Error::Argument {
                op: "SGD",
                what: "Nesterov momentum requires a momentum and zero dampening".into(),
            });
        }
        no_grad(|| {
            let mut updates = Vec::new();
            let mut new_buffers = Vec::new();
            for (i, p) in self.params.iter().enumerate() {
                let w = p.tensor();
                let Some(mut g) = w.grad() else { continue };
                if self.weight_decay != 0.0 {
                    g = &g + &(&w * self.weight_decay);
                }
                if self.momentum != 0.0 {
                    let b = match &self.buffers[i] {
                        // Without dampening, a zero buffer gives the first step's `b = g` exactly,
                        // with the graph of every later step (so the first step's plan is reused).
                        None if self.dampening == 0.0 => {
                            let zero = Tensor::zeros_like(&w).realize()?;
                            &zero * self.momentum + &g * 1.0
                        }
                        None => g.clone(),
                        Some(b) => b * self.momentum + &g * (1.0 - self.dampening),
                    };
                    g = if self.nesterov {
                        &g + &(&b * self.momentum)
                    } else {
                        b.clone()
                    };
                    new_buffers.push((i, b));
                }
                let lr = scalar_input(self.lr, w.dtype());
                updates.push((p.clone(), &w - &(&g * &lr)));
            }
            commit(
                updates,
                &new_buffers.iter().map(|(_, b)| b).collect::<Vec<_>>(),
            )?;
            for (i, b) in new_buffers {
                self.buffers[i] = Some(b);
            }
            Ok(())
        })
    }

    fn parameters(&self) -> &[Parameter] {
        &self.params
    }
}
