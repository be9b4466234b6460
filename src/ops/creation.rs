//! Creating tensors: from data, constants, ranges and random numbers.

use crate::{
    DType, Device, Element, Error, Result, Scalar, Shape, Tensor, default_device, ok, random,
};
use smelt_passes::{Dist, Op};

/// Nested arrays, slices and vectors of elements, for [`Tensor::new`].
pub trait NestedData {
    type Elem: Element;
    #[doc(hidden)]
    fn collect(
        &self,
        depth: usize,
        shape: &mut Vec<usize>,
        out: &mut Vec<Self::Elem>,
    ) -> Result<()>;
}

macro_rules! nested_leaf {
    ($($t:ty),*) => {$(
        impl NestedData for $t {
            type Elem = $t;
            fn collect(&self, _: usize, _: &mut Vec<usize>, out: &mut Vec<$t>) -> Result<()> {
                out.push(*self);
                Ok(())
            }
        }
    )*};
}
nested_leaf!(f32, f64, i32, i64, u8, bool);

fn nested_list<D: NestedData>(
    items: &[D],
    depth: usize,
    shape: &mut Vec<usize>,
    out: &mut Vec<D::Elem>,
) -> Result<()> {
    if shape.len() == depth {
        shape.push(items.len());
    } else if shape[depth] != items.len() {
        return Err(Error::Shape {
            op: "new",
            what: format!(
                "ragged nested data: {} elements at depth {depth}, expected {}",
                items.len(),
                shape[depth]
            ),
        });
    }
    if items.is_empty() {
        // An empty list fixes no deeper dims; deeper levels seen elsewhere must then be empty too.
        return Ok(());
    }
    for item in items {
        item.collect(depth + 1, shape, out)?;
    }
    Ok(())
}

impl<D: NestedData, const N: usize> NestedData for [D; N] {
    type Elem = D::Elem;
    fn collect(&self, depth: usize, shape: &mut Vec<usize>, out: &mut Vec<D::Elem>) -> Result<()> {
        nested_list(self, depth, shape, out)
    }
}

impl<D: NestedData> NestedData for &[D] {
    type Elem = D::Elem;
    fn collect(&self, depth: usize, shape: &mut Vec<usize>, out: &mut Vec<D::Elem>) -> Result<()> {
        nested_list(self, depth, shape, out)
    }
}

impl<D: NestedData> NestedData for Vec<D> {
    type Elem = D::Elem;
    fn collect(&self, depth: usize, shape: &mut Vec<usize>, out: &mut Vec<D::Elem>) -> Result<()> {
        nested_list(self, depth, shape, out)
    }
}

impl Tensor {
    /// A tensor that takes ownership of `data` without copying it.
    #[track_caller]
    pub fn from_vec<T: Element>(data: Vec<T>, shape: impl Into<Shape>) -> Tensor {
        ok(Tensor::try_from_vec(data, shape))
    }

    pub fn try_from_vec<T: Element>(data: Vec<T>, shape: impl Into<Shape>) -> Result<Tensor> {
        let shape = shape.into();
        if Shape::checked_numel(&shape) != Some(data.len()) {
            return Err(Error::DataLength {
                op: "from_vec",
                len: data.len(),
                numel: shape.numel(),
                shape: shape.to_vec(),
            });
        }
        Ok(Tensor::from_storage(T::into_storage(data), shape))
    }

    /// A tensor holding a copy of `data`.
    #[track_caller]
    pub fn from_slice<T: Element>(data: &[T], shape: impl Into<Shape>) -> Tensor {
        ok(Tensor::try_from_slice(data, shape))
    }

    pub fn try_from_slice<T: Element>(data: &[T], shape: impl Into<Shape>) -> Result<Tensor> {
        Tensor::try_from_vec(data.to_vec(), shape)
    }

    /// A tensor from nested arrays, slices or vectors: `Tensor::new([[1f32, 2.], [3., 4.]])`.
    #[track_caller]
    pub fn new<D: NestedData>(data: D) -> Tensor {
        ok(Tensor::try_new(data))
    }

    pub fn try_new<D: NestedData>(data: D) -> Result<Tensor> {
        let (mut shape, mut out) = (Vec::new(), Vec::new());
        data.collect(0, &mut shape, &mut out)?;
        if shape.iter().product::<usize>() != out.len() {
            return Err(Error::Shape {
                op: "new",
                what: format!("ragged nested data of shape {shape:?}"),
            });
        }
        Tensor::try_from_vec(out, shape)
    }

    /// A 0-d tensor.
    pub fn scalar<T: Element>(x: T) -> Tensor {
        Tensor::from_vec(vec![x], ())
    }

    /// A constant tensor on `device`: one 0-d constant broadcast (no memory until realized).
    pub fn full_on(shape: impl Into<Shape>, value: f64, dtype: DType, device: Device) -> Tensor {
        let shape = shape.into();
        let c = Tensor::lazy(
            Op::Const(Scalar::from_f64(value, dtype)),
            crate::tensor::Srcs::new(),
            Shape::from(vec![]),
            dtype,
            device,
        );
        c.broadcast_internal(&shape)
    }

    /// A tensor filled with `value`.
    pub fn full(shape: impl Into<Shape>, value: f64, dtype: DType) -> Tensor {
        Tensor::full_on(shape, value, dtype, default_device())
    }

    pub fn zeros(shape: impl Into<Shape>, dtype: DType) -> Tensor {
        Tensor::full(shape, 0.0, dtype)
    }

    pub fn ones(shape: impl Into<Shape>, dtype: DType) -> Tensor {
        Tensor::full(shape, 1.0, dtype)
    }

    pub fn zeros_on(shape: impl Into<Shape>, dtype: DType, device: Device) -> Tensor {
        Tensor::full_on(shape, 0.0, dtype, device)
    }

    pub fn ones_on(shape: impl Into<Shape>, dtype: DType, device: Device) -> Tensor {
        Tensor::full_on(shape, 1.0, dtype, device)
    }

    /// Zeros of `t`'s shape, dtype and device.
    pub fn zeros_like(t: &Tensor) -> Tensor {
        Tensor::full_on(t.shape(), 0.0, t.dtype(), t.device())
    }

    /// Ones of `t`'s shape, dtype and device.
    pub fn ones_like(t: &Tensor) -> Tensor {
        Tensor::full_on(t.shape(), 1.0, t.dtype(), t.device())
    }

    /// `value` in `t`'s shape, dtype and device.
    pub fn full_like(t: &Tensor, value: f64) -> Tensor {
        Tensor::full_on(t.shape(), value, t.dtype(), t.device())
    }

    /// The `n`×`n` identity.
    pub fn eye(n: usize, dtype: DType) -> Tensor {
        Tensor::eye_on(n, dtype, default_device())
    }

    pub fn eye_on(n: usize, dtype: DType, device: Device) -> Tensor {
        let shape = Shape::from(vec![n, n]);
        let row = Tensor::lazy(
            Op::Iota { axis: 0 },
            crate::tensor::Srcs::new(),
            shape.clone(),
            DType::I64,
            device,
        );
        let col = Tensor::lazy(
            Op::Iota { axis: 1 },
            crate::tensor::Srcs::new(),
            shape,
            DType::I64,
            device,
        );
        row.eq(&col).cast_internal(dtype)
    }

    fn random(
        shape: impl Into<Shape>,
        dtype: DType,
        device: Device,
        dist: Dist,
        op: &'static str,
    ) -> Result<Tensor> {
        if !dtype.is_float() {
            return Err(Error::DType {
                op,
                what: format!("random numbers need a float dtype, got {dtype}"),
            });
        }
        let shape = shape.into();
        let (seed, offset) = random::reserve(shape.numel());
        Ok(Tensor::lazy(
            Op::Rand { seed, offset, dist },
            crate::tensor::Srcs::new(),
            shape,
            dtype,
            device,
        ))
    }

    /// Uniform on [0, 1); reproducible after [`crate::manual_seed`]. Panics for non-float dtypes.
    #[track_caller]
    pub fn rand(shape: impl Into<Shape>, dtype: DType) -> Tensor {
        ok(Tensor::random(
            shape,
            dtype,
            default_device(),
            Dist::Uniform,
            "rand",
        ))
    }

    /// Standard normal; reproducible after [`crate::manual_seed`]. Panics for non-float dtypes.
    #[track_caller]
    pub fn randn(shape: impl Into<Shape>, dtype: DType) -> Tensor {
        ok(Tensor::random(
            shape,
            dtype,
            default_device(),
            Dist::Normal,
            "randn",
        ))
    }

    pub fn try_rand_on(shape: impl Into<Shape>, dtype: DType, device: Device) -> Result<Tensor> {
        Tensor::random(shape, dtype, device, Dist::Uniform, "rand")
    }

    pub fn try_randn_on(shape: impl Into<Shape>, dtype: DType, device: Device) -> Result<Tensor> {
        Tensor::random(shape, dtype, device, Dist::Normal, "randn")
    }

    #[track_caller]
    pub fn rand_on(shape: impl Into<Shape>, dtype: DType, device: Device) -> Tensor {
        ok(Tensor::try_rand_on(shape, dtype, device))
    }

    #[track_caller]
    pub fn randn_on(shape: impl Into<Shape>, dtype: DType, device: Device) -> Tensor {
        ok(Tensor::try_randn_on(shape, dtype, device))
    }

    /// Uniform [0, 1) numbers of `t`'s shape, dtype and device.
    #[track_caller]
    pub fn rand_like(t: &Tensor) -> Tensor {
        Tensor::rand_on(t.shape(), t.dtype(), t.device())
    }

    /// Standard normal numbers of `t`'s shape, dtype and device.
    #[track_caller]
    pub fn randn_like(t: &Tensor) -> Tensor {
        Tensor::randn_on(t.shape(), t.dtype(), t.device())
    }

    /// `start, start + step, ...` up to but excluding `end` (`torch.arange`); integer dtypes truncate
    /// toward zero.
    #[track_caller]
    pub fn arange(start: f64, end: f64, step: f64, dtype: DType) -> Tensor {
        ok(Tensor::try_arange_on(
            start,
            end,
            step,
            dtype,
            default_device(),
        ))
    }

    #[track_caller]
    pub fn arange_on(start: f64, end: f64, step: f64, dtype: DType, device: Device) -> Tensor {
        ok(Tensor::try_arange_on(start, end, step, dtype, device))
    }

    pub fn try_arange(start: f64, end: f64, step: f64, dtype: DType) -> Result<Tensor> {
        Tensor::try_arange_on(start, end, step, dtype, default_device())
    }

    pub fn try_arange_on(
        start: f64,
        end: f64,
        step: f64,
        dtype: DType,
        device: Device,
    ) -> Result<Tensor> {
        let bad = |what: &str| Error::Argument {
            op: "arange",
            what: what.into(),
        };
        if !(start.is_finite() && end.is_finite() && step.is_finite()) {
            return Err(bad("start, end and step must be finite"));
        }
        if step == 0.0 {
            return Err(bad("step must be nonzero"));
        }
        if (end - start) * step < 0.0 {
            return Err(bad("the range and the step have opposite signs"));
        }
        if dtype == DType::Bool {
            return Err(Error::DType {
                op: "arange",
                what: "not implemented for bool".into(),
            });
        }
        let len = ((end - start) / step).ceil().max(0.0);
        if len > (1u64 << 40) as f64 {
            return Err(bad("the range has too many elements"));
        }
        let values: Vec<f64> = (0..len as usize).map(|i| start + i as f64 * step).collect();
        Ok(host_values(values, dtype).to(device))
    }

    /// `steps` evenly spaced values from `start` to `end` inclusive (`torch.linspace`).
    pub fn linspace(start: f64, end: f64, steps: usize, dtype: DType) -> Tensor {
        Tensor::linspace_on(start, end, steps, dtype, default_device())
    }

    pub fn linspace_on(start: f64, end: f64, steps: usize, dtype: DType, device: Device) -> Tensor {
        let step = if steps > 1 {
            (end - start) / (steps - 1) as f64
        } else {
            0.0
        };
        // Like PyTorch, the second half counts back from `end` so both ends are exact; one step is `start`.
        let values: Vec<f64> = (0..steps)
            .map(|i| {
                if i < steps / 2 || steps == 1 {
                    start + step * i as f64
                } else {
                    end - step * (steps - 1 - i) as f64
                }
            })
            .collect();
        host_values(values, dtype).to(device)
    }
}

/// A realized host tensor of `dtype` from f64 values (cast as `to_dtype` casts).
fn host_values(values: Vec<f64>, dtype: DType) -> Tensor {
    let n = values.len();
    let storage = match dtype {
        DType::F64 => crate::runtime::storage::Storage::F64(values),
        _ => {
            let arr = smelt_passes::interp::Array {
                ty: smelt_passes::TypeInfo {
                    shape: vec![n],
                    dtype,
                },
                data: if dtype.is_float() {
                    smelt_passes::interp::Data::F(values.iter().map(|&v| v as f32 as f64).collect())
                } else {
                    smelt_passes::interp::Data::I(
                        values
                            .iter()
                            .map(|&v| Scalar::from_f64(v, dtype).to_i64())
                            .collect(),
                    )
                },
            };
            crate::runtime::storage::Storage::from_array(&arr)
        }
    };
    Tensor::from_storage(storage, Shape::from(vec![n]))
}
