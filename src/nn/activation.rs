//! Activation functions, as free functions (`torch.nn.functional` style) and as a [`Module`].

use super::Module;
use crate::Tensor;

/// `max(x, 0)`.
pub fn relu(x: &Tensor) -> Tensor {
    x.relu()
}

/// Exact GELU, `x/2 * (1 + erf(x/√2))` (PyTorch's default).
pub fn gelu(x: &Tensor) -> Tensor {
    x.gelu()
}

/// `1 / (1 + e^-x)`.
pub fn sigmoid(x: &Tensor) -> Tensor {
    x.sigmoid()
}

/// Hyperbolic tangent.
pub fn tanh(x: &Tensor) -> Tensor {
    x.tanh()
}

/// Softmax along `dim`, computed stably.
#[track_caller]
pub fn softmax(x: &Tensor, dim: isize) -> Tensor {
    x.softmax(dim)
}

/// Log-softmax along `dim`, computed stably.
#[track_caller]
pub fn log_softmax(x: &Tensor, dim: isize) -> Tensor {
    x.log_softmax(dim)
}

/// An activation as a layer, for [`super::Sequential`].
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Activation {
    Relu,
    /// Exact (erf) GELU.
    Gelu,
    /// GELU with the tanh approximation.
    GeluTanh,
    Sigmoid,
    Tanh,
    /// `x * sigmoid(x)`.
    Silu,
    /// Softmax along the given dim.
    Softmax(isize),
    /// Log-softmax along the given dim.
    LogSoftmax(isize),
}

impl Module for Activation {
    #[track_caller]
    fn forward(&self, x: &Tensor) -> Tensor {
        match *self {
            Activation::Relu => x.relu(),
            Activation::Gelu => x.gelu(),
            Activation::GeluTanh => x.gelu_tanh(),
            Activation::Sigmoid => x.sigmoid(),
            Activation::Tanh => x.tanh(),
            Activation::Silu => x.silu(),
            Activation::Softmax(d) => x.softmax(d),
            Activation::LogSoftmax(d) => x.log_softmax(d),
        }
    }
}
