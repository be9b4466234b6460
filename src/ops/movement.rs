//! Shape ops. Each is a view: it records index arithmetic and moves no data until realized.

use crate::ops::elementwise::result_type;
use crate::tensor::norm_dim;
use crate::{DType, Error, Result, Scalar, Shape, Tensor, ok};
use smelt_passes::Op;

impl Tensor {
    /// A dim of a tensor with at least one dim (narrow, slice, split: a 0-d tensor has none to cut).
    fn view_dim(&self, op: &'static str, dim: isize) -> Result<usize> {
        if self.ndim() == 0 {
            return Err(Error::Shape {
                op,
                what: "cannot be applied to a 0-d tensor".into(),
            });
        }
        self.norm_dim(op, dim)
    }

    pub(crate) fn reshape_internal(&self, dims: Vec<usize>) -> Tensor {
        if self.dims() == dims.as_slice() {
            return self.clone();
        }
        if let Some(c) = self.as_const() {
            return Tensor::lazy(
                Op::Const(c),
                crate::tensor::Srcs::new(),
                Shape::from(dims),
                c.dtype(),
                self.device(),
            );
        }
        self.unary_node(Op::Reshape(dims.clone()), Shape::from(dims), self.dtype())
    }

    pub(crate) fn permute_internal(&self, perm: Vec<usize>) -> Tensor {
        if perm.iter().enumerate().all(|(i, &p)| i == p) {
            return self.clone();
        }
        let shape: Vec<usize> = perm.iter().map(|&p| self.dims()[p]).collect();
        self.unary_node(Op::Permute(perm), Shape::from(shape), self.dtype())
    }

    /// The same elements with a new shape (`torch.reshape`).
    #[track_caller]
    pub fn reshape(&self, shape: impl Into<Shape>) -> Tensor {
        ok(self.try_reshape(shape))
    }

    pub fn try_reshape(&self, shape: impl Into<Shape>) -> Result<Tensor> {
        let shape = shape.into();
        if Shape::checked_numel(&shape) != Some(self.numel()) {
            return Err(Error::Shape {
                op: "reshape",
                what: format!(
                    "cannot reshape {} ({} elements) to {shape}",
                    self.shape(),
                    self.numel()
                ),
            });
        }
        Ok(self.reshape_internal(shape.to_vec()))
    }

    /// Reshape with at most one `-1` dim inferred from the others.
    #[track_caller]
    pub fn reshape_infer(&self, dims: &[isize]) -> Tensor {
        ok(self.try_reshape_infer(dims))
    }

    pub fn try_reshape_infer(&self, dims: &[isize]) -> Result<Tensor> {
        let err = |what: String| Error::Shape {
            op: "reshape",
            what,
        };
        let mut infer = None;
        let mut known = 1usize;
        for (i, &d) in dims.iter().enumerate() {
            match d {
                -1 if infer.is_none() => infer = Some(i),
                -1 => return Err(err(format!("only one dim can be -1 in {dims:?}"))),
                d if d < 0 => return Err(err(format!("invalid dim {d} in {dims:?}"))),
                d => known *= d as usize,
            }
        }
        let mut out: Vec<usize> = dims.iter().map(|&d| d.max(0) as usize).collect();
        if let Some(i) = infer {
            if known == 0 || self.numel() % known != 0 {
                return Err(err(format!("cannot reshape {} to {dims:?}", self.shape())));
            }
            out[i] = self.numel() / known;
        }
        self.try_reshape(out)
    }

    /// Reorders dims: output dim `i` is input dim `perm[i]` (`torch.permute`).
    #[track_caller]
    pub fn permute(&self, perm: &[isize]) -> Tensor {
        ok(self.try_permute(perm))
    }

    pub fn try_permute(&self, perm: &[isize]) -> Result<Tensor> {
        if perm.len() != self.ndim() {
            return Err(Error::Shape {
                op: "permute",
                what: format!(
                    "{} dims given for a tensor of shape {}",
                    perm.len(),
                    self.shape()
                ),
            });
        }
        let mut seen = vec![false; self.ndim()];
        let mut p = Vec::with_capacity(perm.len());
        for &d in perm {
            let d = self.norm_dim("permute", d)?;
            if std::mem::replace(&mut seen[d], true) {
                return Err(Error::Shape {
                    op: "permute",
                    what: format!("dim {d} repeated in {perm:?}"),
                });
            }
            p.push(d);
        }
        Ok(self.permute_internal(p))
    }

    /// Swaps two dims.
    #[track_caller]
    pub fn transpose(&self, d0: isize, d1: isize) -> Tensor {
        ok(self.try_transpose(d0, d1))
    }

    pub fn try_transpose(&self, d0: isize, d1: isize) -> Result<Tensor> {
        let (a, b) = (
            self.norm_dim("transpose", d0)?,
            self.norm_dim("transpose", d1)?,
        );
        if self.ndim() < 2 {
            return Ok(self.clone());
        }
        let mut p: Vec<usize> = (0..self.ndim()).collect();
        p.swap(a, b);
        Ok(self.permute_internal(p))
    }

    /// Transpose of a tensor of at most 2 dims (`torch.t`).
    #[track_caller]
    pub fn t(&self) -> Tensor {
        ok(self.try_t())
    }

    pub fn try_t(&self) -> Result<Tensor> {
        if self.ndim() > 2 {
            return Err(Error::Shape {
                op: "t",
                what: format!("expects at most 2 dims, got shape {}", self.shape()),
            });
        }
        self.try_transpose(0, -1)
    }

    /// Inserts a size-1 dim at `dim` (in `-(ndim+1)..=ndim`).
    #[track_caller]
    pub fn unsqueeze(&self, dim: isize) -> Tensor {
        ok(self.try_unsqueeze(dim))
    }

    pub fn try_unsqueeze(&self, dim: isize) -> Result<Tensor> {
        let d = norm_dim("unsqueeze", dim, self.ndim() + 1)?;
        let mut dims = self.dims().to_vec();
        dims.insert(d, 1);
        Ok(self.reshape_internal(dims))
    }

    /// Removes dim `dim` if its size is 1 (otherwise returns the tensor as it is, like PyTorch).
    #[track_caller]
    pub fn squeeze(&self, dim: isize) -> Tensor {
        ok(self.try_squeeze(dim))
    }

    pub fn try_squeeze(&self, dim: isize) -> Result<Tensor> {
        let d = self.norm_dim("squeeze", dim)?;
        if self.ndim() == 0 || self.dims()[d] != 1 {
            return Ok(self.clone());
        }
        let mut dims = self.dims().to_vec();
        dims.remove(d);
        Ok(self.reshape_internal(dims))
    }

    /// Removes every size-1 dim.
    pub fn squeeze_all(&self) -> Tensor {
        self.reshape_internal(self.dims().iter().copied().filter(|&d| d != 1).collect())
    }

    /// All dims into one (a 0-d tensor becomes shape `[1]`).
    pub fn flatten(&self) -> Tensor {
        self.reshape_internal(vec![self.numel()])
    }

    /// Dims `start..=end` into one (`torch.flatten(start_dim, end_dim)`).
    #[track_caller]
    pub fn flatten_range(&self, start: isize, end: isize) -> Tensor {
        ok(self.try_flatten_range(start, end))
    }

    pub fn try_flatten_range(&self, start: isize, end: isize) -> Result<Tensor> {
        if self.ndim() == 0 {
            return Ok(self.flatten());
        }
        let (s, e) = (
            self.norm_dim("flatten", start)?,
            self.norm_dim("flatten", end)?,
        );
        if s > e {
            return Err(Error::Shape {
                op: "flatten",
                what: format!("start dim {start} is after end dim {end}"),
            });
        }
        let d = self.dims();
        let mut dims = d[..s].to_vec();
        dims.push(d[s..=e].iter().product());
        dims.extend_from_slice(&d[e + 1..]);
        Ok(self.reshape_internal(dims))
    }

    /// Broadcasts to `shape` (new dims in front; size-1 dims stretch), as a view (`torch.expand`).
    #[track_caller]
    pub fn expand(&self, shape: impl Into<Shape>) -> Tensor {
        ok(self.try_expand(shape))
    }

    pub fn try_expand(&self, shape: impl Into<Shape>) -> Result<Tensor> {
        let shape = shape.into();
        let fits = shape.len() >= self.ndim()
            && self
                .dims()
                .iter()
                .rev()
                .zip(shape.iter().rev())
                .all(|(&f, &t)| f == t || f == 1);
        if !fits {
            return Err(Error::Shape {
                op: "expand",
                what: format!("cannot expand {} to {shape}", self.shape()),
            });
        }
        Ok(self.broadcast_internal(&shape))
    }

    /// Same as [`Tensor::expand`] (`torch.broadcast_to`).
    #[track_caller]
    pub fn broadcast_to(&self, shape: impl Into<Shape>) -> Tensor {
        ok(self.try_expand(shape))
    }

    pub fn try_broadcast_to(&self, shape: impl Into<Shape>) -> Result<Tensor> {
        self.try_expand(shape)
    }

    /// `len` elements of `dim` from `start` (`torch.narrow`).
    #[track_caller]
    pub fn narrow(&self, dim: isize, start: usize, len: usize) -> Tensor {
        ok(self.try_narrow(dim, start, len))
    }

    pub fn try_narrow(&self, dim: isize, start: usize, len: usize) -> Result<Tensor> {
        let d = self.view_dim("narrow", dim)?;
        let size = self.dims()[d];
        if start.checked_add(len).is_none_or(|e| e > size) {
            let end = start.saturating_add(len);
            return Err(Error::Shape {
                op: "narrow",
                what: format!(
                    "{start}..{end} is out of range for dim {d} of shape {}",
                    self.shape()
                ),
            });
        }
        Ok(self.slice_internal(d, start, len, 1))
    }

    fn slice_internal(&self, d: usize, start: usize, len: usize, step: usize) -> Tensor {
        if start == 0 && step == 1 && len == self.dims()[d] {
            return self.clone();
        }
        let n = self.ndim();
        let (mut st, mut sp) = (vec![0; n], vec![1; n]);
        st[d] = if len == 0 { 0 } else { start };
        sp[d] = step;
        let mut dims = self.dims().to_vec();
        dims[d] = len;
        self.unary_node(
            Op::Slice {
                start: st,
                step: sp,
            },
            Shape::from(dims),
            self.dtype(),
        )
    }

    /// `self[start:end:step]` along `dim`, clamped like a Python slice (negative bounds count from the end).
    #[track_caller]
    pub fn slice(&self, dim: isize, start: isize, end: isize, step: usize) -> Tensor {
        ok(self.try_slice(dim, start, end, step))
    }

    pub fn try_slice(&self, dim: isize, start: isize, end: isize, step: usize) -> Result<Tensor> {
        let d = self.view_dim("slice", dim)?;
        if step == 0 {
            return Err(Error::Argument {
                op: "slice",
                what: "step must be positive".into(),
            });
        }
        let size = self.dims()[d] as isize;
        let clamp = |i: isize| {
            if i < 0 {
                (i + size).max(0)
            } else {
                i.min(size)
            }
        };
        let (s, e) = (clamp(start), clamp(end));
        let len = if e > s {
            ((e - s) as usize).div_ceil(step)
        } else {
            0
        };
        Ok(self.slice_internal(d, s as usize, len, step))
    }

    /// Pads with `value`: `pad` holds (before, after) pairs starting from the last dim, as
    /// `torch.nn.functional.pad`; negative widths crop.
    #[track_caller]
    pub fn pad(&self, pad: &[isize], value: f64) -> Tensor {
        ok(self.try_pad(pad, value))
    }

    pub fn try_pad(&self, pad: &[isize], value: f64) -> Result<Tensor> {
        if pad.len() % 2 != 0 || pad.len() / 2 > self.ndim() {
            return Err(Error::Shape {
                op: "pad",
                what: format!(
                    "{} widths for a tensor of shape {}: need pairs for at most {} dims",
                    pad.len(),
                    self.shape(),
                    self.ndim()
                ),
            });
        }
        let n = self.ndim();
        let mut t = self.clone();
        let (mut lo, mut hi) = (vec![0usize; n], vec![0usize; n]);
        for (k, pair) in pad.chunks(2).enumerate() {
            let d = n - 1 - k;
            let size = t.dims()[d] as isize;
            let (before, after) = (pair[0], pair[1]);
            let crop_lo = (-before).max(0);
            let crop_hi = (-after).max(0);
            if crop_lo + crop_hi > size {
                return Err(Error::Shape {
                    op: "pad",
                    what: format!("cropping {pad:?} more than shape {}", self.shape()),
                });
            }
            if crop_lo > 0 || crop_hi > 0 {
                t = t.slice_internal(d, crop_lo as usize, (size - crop_lo - crop_hi) as usize, 1);
            }
            lo[d] = before.max(0) as usize;
            hi[d] = after.max(0) as usize;
        }
        if lo.iter().chain(&hi).all(|&w| w == 0) {
            return Ok(t);
        }
        let dims: Vec<usize> = t
            .dims()
            .iter()
            .enumerate()
            .map(|(i, &d)| d + lo[i] + hi[i])
            .collect();
        let value = Scalar::from_f64(value, t.dtype());
        Ok(t.unary_node(Op::Pad { lo, hi, value }, Shape::from(dims), t.dtype()))
    }

    /// Joins tensors along `dim` (`torch.cat`); dtypes are promoted, 1-D empty tensors are skipped.
    #[track_caller]
    pub fn cat(tensors: &[&Tensor], dim: isize) -> Tensor {
        ok(Tensor::try_cat(tensors, dim))
    }

    pub fn try_cat(tensors: &[&Tensor], dim: isize) -> Result<Tensor> {
        let parts: Vec<&Tensor> = tensors
            .iter()
            .copied()
            .filter(|t| !(t.ndim() == 1 && t.numel() == 0))
            .collect();
        let Some(first) = parts.first().copied() else {
            return match tensors.first() {
                // Still promoted: torch.cat of an empty i32 and an empty f32 tensor is f32.
                Some(t) => Ok(t.cast_internal(
                    tensors
                        .iter()
                        .fold(t.dtype(), |a, u| DType::promote(a, u.dtype())),
                )),
                None => Err(Error::Argument {
                    op: "cat",
                    what: "expects at least one tensor".into(),
                }),
            };
        };
        Tensor::same_device("cat", &parts)?;
        if first.ndim() == 0 {
            return Err(Error::Shape {
                op: "cat",
                what: "zero-dimensional tensors cannot be concatenated".into(),
            });
        }
        let d = first.norm_dim("cat", dim)?;
        let mut dtype = first.dtype();
        for t in &parts {
            let fits = t.ndim() == first.ndim()
                && t.dims()
                    .iter()
                    .zip(first.dims())
                    .enumerate()
                    .all(|(i, (a, b))| i == d || a == b);
            if !fits {
                return Err(Error::Shape {
                    op: "cat",
                    what: format!(
                        "shapes {} and {} differ outside dim {d}",
                        first.shape(),
                        t.shape()
                    ),
                });
            }
            dtype = DType::promote(dtype, t.dtype());
        }
        let srcs: Vec<Tensor> = parts
            .iter()
            .filter(|t| t.dims()[d] > 0)
            .map(|t| t.cast_internal(dtype))
            .collect();
        let mut dims = first.dims().to_vec();
        dims[d] = parts.iter().map(|t| t.dims()[d]).sum();
        Ok(match srcs.len() {
            0 => first.cast_internal(dtype).reshape_internal(dims),
            1 => srcs[0].clone(),
            _ => Tensor::lazy(
                Op::Cat { axis: d },
                crate::tensor::Srcs::from_vec(srcs),
                Shape::from(dims),
                dtype,
                first.device(),
            ),
        })
    }

    /// Joins tensors of one shape along a new dim (`torch.stack`).
    #[track_caller]
    pub fn stack(tensors: &[&Tensor], dim: isize) -> Tensor {
        ok(Tensor::try_stack(tensors, dim))
    }

    pub fn try_stack(tensors: &[&Tensor], dim: isize) -> Result<Tensor> {
        let Some(first) = tensors.first() else {
            return Err(Error::Argument {
                op: "stack",
                what: "expects at least one tensor".into(),
            });
        };
        if let Some(t) = tensors.iter().find(|t| t.shape() != first.shape()) {
            return Err(Error::Shape {
                op: "stack",
                what: format!("shapes {} and {} differ", first.shape(), t.shape()),
            });
        }
        let d = norm_dim("stack", dim, first.ndim() + 1)? as isize;
        let parts: Vec<Tensor> = tensors
            .iter()
            .map(|t| t.try_unsqueeze(d))
            .collect::<Result<_>>()?;
        let mut dims = first.dims().to_vec();
        dims.insert(d as usize, tensors.len());
        if parts.iter().all(|p| p.numel() == 0) {
            let dtype = tensors
                .iter()
                .fold(first.dtype(), |acc, t| DType::promote(acc, t.dtype()));
            return Ok(first.cast_internal(dtype).reshape_internal(dims));
        }
        Tensor::try_cat(&parts.iter().collect::<Vec<_>>(), d)
    }

    /// Pieces of `size` along `dim` (the last may be smaller), as `torch.split`.
    #[track_caller]
    pub fn split(&self, size: usize, dim: isize) -> Vec<Tensor> {
        ok(self.try_split(size, dim))
    }

    pub fn try_split(&self, size: usize, dim: isize) -> Result<Vec<Tensor>> {
        let d = self.view_dim("split", dim)?;
        if size == 0 {
            return Err(Error::Argument {
                op: "split",
                what: "split size must be positive".into(),
            });
        }
        let n = self.dims()[d];
        if n == 0 {
            return Ok(vec![self.clone()]);
        }
        Ok((0..n)
            .step_by(size)
            .map(|s| self.slice_internal(d, s, size.min(n - s), 1))
            .collect())
    }

    /// `n` nearly equal pieces along `dim` (may be fewer, as `torch.chunk`).
    #[track_caller]
    pub fn chunk(&self, n: usize, dim: isize) -> Vec<Tensor> {
        ok(self.try_chunk(n, dim))
    }

    pub fn try_chunk(&self, n: usize, dim: isize) -> Result<Vec<Tensor>> {
        let d = self.view_dim("chunk", dim)?;
        if n == 0 {
            return Err(Error::Argument {
                op: "chunk",
                what: "number of chunks must be positive".into(),
            });
        }
        if self.dims()[d] == 0 {
            // As torch.chunk: a zero-size dim gives `n` empty pieces.
            return Ok(vec![self.clone(); n]);
        }
        let size = self.dims()[d].div_ceil(n).max(1);
        self.try_split(size, d as isize)
    }

    /// Elements of `dim` picked by a 1-D integer `index` (`torch.index_select`). An index out of range is
    /// an error when the result is realized.
    #[track_caller]
    pub fn index_select(&self, dim: isize, index: &Tensor) -> Tensor {
        ok(self.try_index_select(dim, index))
    }

    pub fn try_index_select(&self, dim: isize, index: &Tensor) -> Result<Tensor> {
        Tensor::same_device("index_select", &[self, index])?;
        let d = self.norm_dim("index_select", dim)?;
        if index.ndim() > 1 || !index.dtype().is_int() {
            return Err(Error::Shape {
                op: "index_select",
                what: format!(
                    "index must be a 0-d or 1-D integer tensor, got {} {}",
                    index.dtype(),
                    index.shape()
                ),
            });
        }
        let m = index.numel();
        if self.ndim() == 0 {
            if m != 1 {
                return Err(Error::Shape {
                    op: "index_select",
                    what: format!(
                        "a 0-d tensor needs an index of one element, got shape {}",
                        index.shape()
                    ),
                });
            }
            return self.try_gather(0, &index.reshape_internal(vec![]));
        }
        let mut dims = self.dims().to_vec();
        dims[d] = m;
        let mut view = vec![1; self.ndim()];
        view[d] = m;
        let idx = index.reshape_internal(view).broadcast_internal(&dims);
        Ok(Tensor::lazy(
            Op::Gather { axis: d },
            smallvec::smallvec![self.clone(), idx],
            Shape::from(dims),
            self.dtype(),
            self.device(),
        ))
    }

    /// `out[i][j] = self[index[i][j]][j]` along `dim` (`torch.gather`). An index out of range is an error
    /// when the result is realized.
    #[track_caller]
    pub fn gather(&self, dim: isize, index: &Tensor) -> Tensor {
        ok(self.try_gather(dim, index))
    }

    pub fn try_gather(&self, dim: isize, index: &Tensor) -> Result<Tensor> {
        Tensor::same_device("gather", &[self, index])?;
        let d = self.norm_dim("gather", dim)?;
        if !index.dtype().is_int() {
            return Err(Error::DType {
                op: "gather",
                what: format!("index must be an integer tensor, got {}", index.dtype()),
            });
        }
        let fits = index.ndim() == self.ndim()
            && index
                .dims()
                .iter()
                .zip(self.dims())
                .enumerate()
                .all(|(i, (&a, &b))| i == d || a <= b);
        if !fits {
            return Err(Error::Shape {
                op: "gather",
                what: format!(
                    "index shape {} does not fit input shape {} along dim {d}",
                    index.shape(),
                    self.shape()
                ),
            });
        }
        if self.ndim() == 0 {
            let data = self.reshape_internal(vec![1]);
            let idx = index.reshape_internal(vec![1]);
            let g = Tensor::lazy(
                Op::Gather { axis: 0 },
                smallvec::smallvec![data, idx],
                Shape::from(vec![1]),
                self.dtype(),
                self.device(),
            );
            return Ok(g.reshape_internal(vec![]));
        }
        Ok(Tensor::lazy(
            Op::Gather { axis: d },
            smallvec::smallvec![self.clone(), index.clone()],
            index.shape().clone(),
            self.dtype(),
            self.device(),
        ))
    }

    /// Promotes two tensors to their common dtype (the dtype an elementwise op of them would have).
    pub fn result_type(&self, other: &Tensor) -> DType {
        result_type(self, other)
    }
}
