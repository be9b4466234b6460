//! Reading data out of tensors, and zero-copy interop.

use crate::runtime::HostBuffer;
use crate::{Device, Element, Error, Result, Shape, Tensor};
use ndarray::{ArrayD, IxDyn};
use std::marker::PhantomData;
use std::ops::Deref;
use std::sync::Arc;

/// A borrow of a realized CPU tensor's memory (no copy); derefs to `&[T]`. It keeps the buffer alive.
pub struct SliceGuard<T: Element> {
    buffer: Arc<HostBuffer>,
    _t: PhantomData<T>,
}

impl<T: Element> Deref for SliceGuard<T> {
    type Target = [T];
    fn deref(&self) -> &[T] {
        T::slice(self.buffer.storage()).expect("dtype checked when the guard was made")
    }
}

impl<T: Element> std::fmt::Debug for SliceGuard<T> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        std::fmt::Debug::fmt(&**self, f)
    }
}

impl Tensor {
    /// The elements in C order (realizing first; GPU data comes back to the host). Asking for the wrong
    /// element type is an error.
    pub fn to_vec<T: Element>(&self) -> Result<Vec<T>> {
        self.check_element::<T>("to_vec")?;
        let host = self.to(Device::Cpu);
        let buffer = host.realized_buffer()?;
        let h = buffer
            .host()
            .ok_or_else(|| Error::Internal("host tensor without host memory".into()))?;
        Ok(T::slice(h.storage())
            .ok_or_else(|| Error::Internal("storage dtype mismatch".into()))?
            .to_vec())
    }

    /// The single element of a one-element tensor.
    pub fn item<T: Element>(&self) -> Result<T> {
        self.check_element::<T>("item")?;
        if self.numel() != 1 {
            return Err(Error::Shape {
                op: "item",
                what: format!(
                    "a tensor of shape {} has {} elements, not 1",
                    self.shape(),
                    self.numel()
                ),
            });
        }
        Ok(self.to_vec::<T>()?[0])
    }

    /// Borrows a CPU tensor's memory without copying (realizing first).
    pub fn as_slice<T: Element>(&self) -> Result<SliceGuard<T>> {
        self.check_element::<T>("as_slice")?;
        if self.device() != Device::Cpu {
            return Err(Error::Device(format!(
                "as_slice: the tensor is on {}; move it with .to(Device::Cpu) first",
                self.device()
            )));
        }
        let buffer = self.realized_buffer()?;
        let h = buffer
            .host()
            .ok_or_else(|| Error::Internal("CPU tensor without host memory".into()))?;
        Ok(SliceGuard {
            buffer: h.clone(),
            _t: PhantomData,
        })
    }

    /// The data as an `ndarray` array (a copy).
    pub fn to_ndarray<T: Element>(&self) -> Result<ArrayD<T>> {
        let v = self.to_vec::<T>()?;
        ArrayD::from_shape_vec(IxDyn(self.dims()), v).map_err(|e| Error::Internal(e.to_string()))
    }

    /// A tensor from an `ndarray` array: standard-layout arrays are taken without a copy.
    pub fn from_ndarray<T: Element, S, D>(a: ndarray::ArrayBase<S, D>) -> Tensor
    where
        S: ndarray::Data<Elem = T> + ndarray::RawDataClone,
        D: ndarray::Dimension,
    {
        let shape = Shape::from(a.shape().to_vec());
        let owned = a.into_owned();
        let v = if owned.is_standard_layout() {
            let (v, offset) = owned.into_raw_vec_and_offset();
            // A sliced owned array can hold more memory than it shows: take only its elements.
            match offset {
                Some(0) | None if v.len() == shape.numel() => v,
                o => v[o.unwrap_or(0)..o.unwrap_or(0) + shape.numel()].to_vec(),
            }
        } else {
            owned.iter().copied().collect()
        };
        Tensor::from_vec(v, shape)
    }
}
