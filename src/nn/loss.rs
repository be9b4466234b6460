//! Losses, with PyTorch's default mean reduction.

use crate::{DType, Error, Result, Tensor, ok};

/// The target value whose samples are skipped (`ignore_index=-100`, PyTorch's default).
const IGNORE_INDEX: f64 = -100.0;

/// Cross entropy from unnormalized `logits` (`torch.nn.functional.cross_entropy`), mean over the
/// samples; computed stably through `log_softmax`. The class dim is dim 1 (dim 0 for 1-D logits).
///
/// `target` holds either class indices (an integer tensor of the logits' shape without the class dim;
/// samples whose target is -100 are skipped, as PyTorch's default `ignore_index`) or class
/// probabilities (a float tensor of the logits' shape). A class index out of range is an error when
/// the loss is realized.
#[track_caller]
pub fn cross_entropy(logits: &Tensor, target: &Tensor) -> Tensor {
    ok(try_cross_entropy(logits, target))
}

/// [`cross_entropy`], returning an error instead of panicking.
pub fn try_cross_entropy(logits: &Tensor, target: &Tensor) -> Result<Tensor> {
    if logits.ndim() == 0 {
        return Err(Error::Shape {
            op: "cross_entropy",
            what: "logits need at least 1 dim (the classes)".into(),
        });
    }
    logits.require_float("cross_entropy")?;
    let c = if logits.ndim() == 1 { 0 } else { 1 };
    let logp = logits.try_log_softmax(c)?;
    if target.dtype().is_float() && target.shape() == logits.shape() {
        return (target * &logp).try_sum_dim(&[c], false)?.neg().try_mean();
    }
    let mut sample_dims = logits.dims().to_vec();
    sample_dims.remove(c as usize);
    if !target.dtype().is_int() || target.dims() != sample_dims.as_slice() {
        return Err(Error::Shape {
            op: "cross_entropy",
            what: format!(
                "target must be class indices of shape {sample_dims:?} or probabilities of shape {}, got {} {}",
                logits.shape(),
                target.dtype(),
                target.shape()
            ),
        });
    }
    let target = target.to_dtype(DType::I64);
    let ignore = Tensor::full_on((), IGNORE_INDEX, DType::I64, target.device());
    let valid = target.try_ne(&ignore)?;
    let safe = Tensor::try_where_cond(&valid, &target, &Tensor::zeros_like(&target))?;
    let picked = logp
        .try_gather(c, &safe.try_unsqueeze(c)?)?
        .try_squeeze(c)?;
    let nll = Tensor::try_where_cond(&valid, &picked.neg(), &Tensor::zeros_like(&picked))?;
    nll.sum().try_div(&valid.to_dtype(logp.dtype()).sum())
}

/// Mean squared error, `mean((pred - target)²)` (`torch.nn.functional.mse_loss`), broadcasting.
#[track_caller]
pub fn mse_loss(pred: &Tensor, target: &Tensor) -> Tensor {
    ok(try_mse_loss(pred, target))
}

/// [`mse_loss`], returning an error instead of panicking.
pub fn try_mse_loss(pred: &Tensor, target: &Tensor) -> Result<Tensor> {
    pred.try_sub(target)?.square().to_float().try_mean()
}
