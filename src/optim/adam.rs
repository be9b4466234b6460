//! Adam, as `torch.optim.Adam`.

use super::{Optimizer, check, check_nonneg, commit, scalar_input};
use crate::nn::Parameter;
use crate::{Result, Tensor, no_grad};

/// `torch.optim.Adam`: for each parameter `w` with gradient `g`, at its step `t` (1, 2, ...),
///
/// ```text
/// g ← g + weight_decay·w                     (or, decoupled (AdamW): w ← w·(1 - lr·weight_decay))
/// m ← m + (1 - β1)·(g - m)                  (m, v start at 0)
/// v ← β2·v + (1 - β2)·g²
/// w ← w - lr/(1 - β1ᵗ) · m / (√v / √(1 - β2ᵗ) + eps)
/// ```
pub struct Adam {
    params: Vec<Parameter>,
    lr: f64,
    betas: (f64, f64),
    eps: f64,
    weight_decay: f64,
    decoupled: bool,
    state: Vec<Option<State>>,
}

/// One parameter's moments and step count.
struct State {
    step: u64,
    m: Tensor,
    v: Tensor,
}

impl Adam {
    /// Adam with learning rate `lr` and PyTorch's defaults: betas (0.9, 0.999), eps 1e-8, no weight
    /// decay. Panics if `lr` is negative or not finite.
    #[track_caller]
    pub fn new(params: Vec<Parameter>, lr: f64) -> Adam {
        check_nonneg(lr, "learning rate");
        let n = params.len();
        Adam {
            params,
            lr,
            betas: (0.9, 0.999),
            eps: 1e-8,
            weight_decay: 0.0,
            decoupled: false,
            state: (0..n).map(|_| None).collect(),
        }
    }

    /// Sets the moment decay rates, each in `[0, 1)`.
    #[track_caller]
    pub fn betas(mut self, beta1: f64, beta2: f64) -> Adam {
        check(
            (0.0..1.0).contains(&beta1),
            "beta parameter at index 0",
            beta1,
        );
        check(
            (0.0..1.0).contains(&beta2),
            "beta parameter at index 1",
            beta2,
        );
        self.betas = (beta1, beta2);
        self
    }

    /// Sets the term added to the denominator (default 1e-8).
    #[track_caller]
    pub fn eps(mut self, eps: f64) -> Adam {
        check_nonneg(eps, "epsilon value");
        self.eps = eps;
        self
    }

    /// Sets the weight decay (default 0): an L2 penalty added to the gradient, or with
    /// [`Adam::decoupled_weight_decay`] a decay of the weights themselves (AdamW).
    #[track_caller]
    pub fn weight_decay(mut self, weight_decay: f64) -> Adam {
        check_nonneg(weight_decay, "weight_decay value");
        self.weight_decay = weight_decay;
        self
    }

    /// Decays the weights directly instead of adding an L2 term to the gradient (`torch.optim.AdamW`,
    /// or `Adam(decoupled_weight_decay=True)`).
    pub fn decoupled_weight_decay(mut self, decoupled: bool) -> Adam {
        self.decoupled = decoupled;
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

impl Optimizer for Adam {
    fn step(&mut self) -> Result<()> {
        let (b1, b2) = self.betas;
        no_grad(|| {
            let mut updates = Vec::new();
            let mut new_state = Vec::new();
            for (i, p) in self.params.iter().enumerate() {
                let mut w = p.tensor();
                let Some(mut g) = w.grad() else { continue };
                let dtype = w.dtype();
                if self.weight_decay != 0.0 {
                    if self.decoupled {
                        w = &w * &scalar_input(1.0 - self.lr * self.weight_decay, dtype);
                    } else {
                        g = &g + &(&w * self.weight_decay);
                    }
                }
                let (step, m, v) = match &self.state[i] {
                    Some(s) => (s.step + 1, s.m.clone(), s.v.clone()),
                    // Realized zeros rather than constants: the first step then has the graph of
                    // every later one, and its compiled plan is reused.
                    // (Two tensors: one input used twice would be another graph.)
                    None => (
                        1,
                        Tensor::zeros_like(&w).realize()?,
                        Tensor::zeros_like(&w).realize()?,
                    ),
                };
                let m = &m + &((&g - &m) * (1.0 - b1));
                let v = &v * b2 + &g * &g * (1.0 - b2);
                let bias1 = 1.0 - b1.powi(step as i32);
                let bias2 = 1.0 - b2.powi(step as i32);
                let step_size = scalar_input(self.lr / bias1, dtype);
                let denom = v.sqrt() / &scalar_input(bias2.sqrt(), dtype) + self.eps;
                updates.push((p.clone(), &w - &(&m / &denom * &step_size)));
                new_state.push((i, State { step, m, v }));
            }
            let moments: Vec<&Tensor> = new_state.iter().flat_map(|(_, s)| [&s.m, &s.v]).collect();
            commit(updates, &moments)?;
            for (i, s) in new_state {
                self.state[i] = Some(s);
            }
            Ok(())
        })
    }

    fn parameters(&self) -> &[Parameter] {
        &self.params
    }
}
