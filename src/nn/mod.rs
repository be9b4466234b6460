//! Neural-network building blocks: trainable [`Parameter`]s, the [`Linear`] layer, activations,
//! [`Sequential`], and losses. Layers are plain structs of parameters; a forward pass is ordinary lazy
//! tensor code, so it fuses and differentiates like any other.
//!
//! ```
//! use smelt::nn::{self, Module};
//! use smelt::prelude::*;
//!
//! smelt::manual_seed(0);
//! let model = nn::Sequential::new()
//!     .append(nn::Linear::new(4, 8))
//!     .append(nn::Activation::Relu)
//!     .append(nn::Linear::new(8, 3));
//! let x = Tensor::randn([5, 4], DType::F32);
//! let target = Tensor::new([0i64, 2, 1, 1, 0]);
//! let loss = nn::cross_entropy(&model.forward(&x), &target);
//! loss.backward();
//! assert!(model.parameters().iter().all(|p| p.grad().is_some()));
//! ```

mod activation;
mod linear;
mod loss;
mod parameter;

pub use activation::{Activation, gelu, log_softmax, relu, sigmoid, softmax, tanh};
pub use linear::Linear;
pub use loss::{cross_entropy, mse_loss, try_cross_entropy, try_mse_loss};
pub use parameter::Parameter;

use crate::Tensor;

/// A layer or model: a forward function and the parameters it trains.
pub trait Module {
    /// Applies the layer. Panics on a shape mismatch, naming the op and the shapes.
    fn forward(&self, x: &Tensor) -> Tensor;

    /// The trainable parameters, in a stable order (handles share the model's slots).
    fn parameters(&self) -> Vec<Parameter> {
        vec![]
    }

    /// Clears every parameter's gradient.
    fn zero_grad(&self) {
        for p in self.parameters() {
            p.zero_grad();
        }
    }
}

/// Layers applied one after another (`torch.nn.Sequential`).
#[derive(Default)]
pub struct Sequential {
    layers: Vec<Box<dyn Module + Send + Sync>>,
}

impl Sequential {
    pub fn new() -> Sequential {
        Sequential::default()
    }

    /// Appends a layer; returns the model for chaining.
    pub fn append(mut self, layer: impl Module + Send + Sync + 'static) -> Sequential {
        self.layers.push(Box::new(layer));
        self
    }

    pub fn len(&self) -> usize {
        self.layers.len()
    }

    pub fn is_empty(&self) -> bool {
        self.layers.is_empty()
    }
}

impl Module for Sequential {
    #[track_caller]
    fn forward(&self, x: &Tensor) -> Tensor {
        self.layers
            .iter()
            .fold(x.clone(), |h, layer| layer.forward(&h))
    }

    fn parameters(&self) -> Vec<Parameter> {
        self.layers.iter().flat_map(|l| l.parameters()).collect()
    }
}
