//! [`Linear`]: `y = x Wᵀ + b`.

use super::{Module, Parameter};
use crate::{DType, Error, Result, Tensor, ok};

/// A fully connected layer, `y = x Wᵀ + b` (`torch.nn.Linear`): weight `[out, in]`, bias `[out]`.
#[derive(Clone, Debug)]
pub struct Linear {
    pub weight: Parameter,
    pub bias: Option<Parameter>,
}

impl Linear {
    /// An f32 layer with a bias, initialized as PyTorch does: weight and bias uniform in
    /// `[-1/√in, 1/√in]` (Kaiming-uniform with `a = √5`), drawn from the process-wide seed.
    pub fn new(in_features: usize, out_features: usize) -> Linear {
        Linear::with_options(in_features, out_features, true, DType::F32)
    }

    /// A layer of a given float dtype, with or without a bias. Panics for a non-float dtype.
    #[track_caller]
    pub fn with_options(
        in_features: usize,
        out_features: usize,
        bias: bool,
        dtype: DType,
    ) -> Linear {
        assert!(
            dtype.is_float(),
            "Linear: parameters need a float dtype, got {dtype}"
        );
        // kaiming_uniform_(a=√5): gain √(2/(1+5)), bound = gain·√3/√fan_in = 1/√fan_in; the bias uses
        // the same bound. A layer without inputs gets bound 0, as PyTorch's guard does.
        let bound = if in_features > 0 {
            1.0 / (in_features as f64).sqrt()
        } else {
            0.0
        };
        let uniform = |shape: Vec<usize>| Tensor::rand(shape, dtype) * (2.0 * bound) - bound;
        Linear {
            weight: Parameter::new(&uniform(vec![out_features, in_features])),
            bias: bias.then(|| Parameter::new(&uniform(vec![out_features]))),
        }
    }

    /// A layer with the given weight `[out, in]` and bias `[out]`. Panics on shapes that do not fit.
    #[track_caller]
    pub fn from_tensors(weight: &Tensor, bias: Option<&Tensor>) -> Linear {
        ok(Linear::try_from_tensors(weight, bias))
    }

    /// [`Linear::from_tensors`], returning an error instead of panicking.
    pub fn try_from_tensors(weight: &Tensor, bias: Option<&Tensor>) -> Result<Linear> {
        let fits = weight.ndim() == 2
            && bias.is_none_or(|b| b.ndim() == 1 && b.dims()[0] == weight.dims()[0]);
        if !fits {
            return Err(Error::Shape {
                op: "Linear",
                what: format!(
                    "weight must be [out, in] and bias [out], got {} and {:?}",
                    weight.shape(),
                    bias.map(|b| b.shape().clone())
                ),
            });
        }
        Ok(Linear {
            weight: Parameter::try_new(weight)?,
            bias: bias.map(Parameter::try_new).transpose()?,
        })
    }

    pub fn in_features(&self) -> usize {
        self.weight.shape()[1]
    }

    pub fn out_features(&self) -> usize {
        self.weight.shape()[0]
    }

    /// `x Wᵀ + b` for `x` of shape `[..., in]`.
    pub fn try_forward(&self, x: &Tensor) -> Result<Tensor> {
        let y = x.try_matmul(&self.weight.tensor().t())?;
        match &self.bias {
            Some(b) => y.try_add(&b.tensor()),
            None => Ok(y),
        }
    }
}

impl Module for Linear {
    #[track_caller]
    fn forward(&self, x: &Tensor) -> Tensor {
        ok(self.try_forward(x))
    }

    fn parameters(&self) -> Vec<Parameter> {
        std::iter::once(self.weight.clone())
            .chain(self.bias.clone())
            .collect()
    }
}
