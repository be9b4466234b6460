//! Host memory of realized tensors: one typed vector per buffer.
//!
//! A `Vec<T>` handed to `Tensor::from_vec` becomes the storage as it is (no copy), and `as_slice` lends
//! it back. Kernel outputs are allocated here and written by kernels before anyone can read them.

use crate::DType;
use smelt_passes::TypeInfo;
use smelt_passes::interp::{Array, Data};
/// A typed host buffer.
#[derive(Debug)]
pub enum Storage {
    Bool(Vec<bool>),
    U8(Vec<u8>),
    I32(Vec<i32>),
    I64(Vec<i64>),
    F32(Vec<f32>),
    F64(Vec<f64>),
}

macro_rules! each {
    ($s:expr, $v:ident => $e:expr) => {
        match $s {
            Storage::Bool($v) => $e,
            Storage::U8($v) => $e,
            Storage::I32($v) => $e,
            Storage::I64($v) => $e,
            Storage::F32($v) => $e,
            Storage::F64($v) => $e,
        }
    };
}

impl Storage {
    pub fn dtype(&self) -> DType {
        match self {
            Storage::Bool(_) => DType::Bool,
            Storage::U8(_) => DType::U8,
            Storage::I32(_) => DType::I32,
            Storage::I64(_) => DType::I64,
            Storage::F32(_) => DType::F32,
            Storage::F64(_) => DType::F64,
        }
    }

    pub fn len(&self) -> usize {
        each!(self, v => v.len())
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// A zero-filled buffer.
    pub(crate) fn zeros(dtype: DType, n: usize) -> Storage {
        match dtype {
            DType::Bool => Storage::Bool(vec![false; n]),
            DType::U8 => Storage::U8(vec![0; n]),
            DType::I32 => Storage::I32(vec![0; n]),
            DType::I64 => Storage::I64(vec![0; n]),
            DType::F32 => Storage::F32(vec![0.0; n]),
            DType::F64 => Storage::F64(vec![0.0; n]),
        }
    }

    /// The base address, for kernels that read the buffer.
    pub(crate) fn as_ptr(&self) -> *const u8 {
        each!(self, v => v.as_ptr() as *const u8)
    }

    /// The base address, for the kernel that writes the buffer.
    pub(crate) fn as_mut_ptr(&mut self) -> *mut u8 {
        each!(self, v => v.as_mut_ptr() as *mut u8)
    }

    /// The elements as little-endian bytes (a copy).
    pub(crate) fn to_bytes(&self) -> Vec<u8> {
        match self {
            Storage::Bool(v) => v.iter().map(|&b| b as u8).collect(),
            Storage::U8(v) => v.clone(),
            Storage::I32(v) => v.iter().flat_map(|x| x.to_le_bytes()).collect(),
            Storage::I64(v) => v.iter().flat_map(|x| x.to_le_bytes()).collect(),
            Storage::F32(v) => v.iter().flat_map(|x| x.to_le_bytes()).collect(),
            Storage::F64(v) => v.iter().flat_map(|x| x.to_le_bytes()).collect(),
        }
    }

    /// A buffer from little-endian bytes (`bytes.len()` must be a multiple of the element size; bools are
    /// any nonzero byte).
    pub(crate) fn from_bytes(dtype: DType, bytes: &[u8]) -> Storage {
        fn chunks<const N: usize>(b: &[u8]) -> impl Iterator<Item = [u8; N]> + '_ {
            b.chunks_exact(N)
                .map(|c| c.try_into().expect("exact chunk"))
        }
        match dtype {
            DType::Bool => Storage::Bool(bytes.iter().map(|&b| b != 0).collect()),
            DType::U8 => Storage::U8(bytes.to_vec()),
            DType::I32 => Storage::I32(chunks::<4>(bytes).map(i32::from_le_bytes).collect()),
            DType::I64 => Storage::I64(chunks::<8>(bytes).map(i64::from_le_bytes).collect()),
            DType::F32 => Storage::F32(chunks::<4>(bytes).map(f32::from_le_bytes).collect()),
            DType::F64 => Storage::F64(chunks::<8>(bytes).map(f64::from_le_bytes).collect()),
        }
    }

    /// A copy as the reference interpreter's array.
    pub(crate) fn to_array(&self, shape: &[usize]) -> Array {
        let data = match self {
            Storage::Bool(v) => Data::I(v.iter().map(|&b| b as i64).collect()),
            Storage::U8(v) => Data::I(v.iter().map(|&x| x as i64).collect()),
            Storage::I32(v) => Data::I(v.iter().map(|&x| x as i64).collect()),
            Storage::I64(v) => Data::I(v.clone()),
            Storage::F32(v) => Data::F(v.iter().map(|&x| x as f64).collect()),
            Storage::F64(v) => Data::F(v.clone()),
        };
        Array {
            ty: TypeInfo {
                shape: shape.to_vec(),
                dtype: self.dtype(),
            },
            data,
        }
    }

    /// A buffer holding an interpreter array's values.
    pub(crate) fn from_array(a: &Array) -> Storage {
        let d = a.ty.dtype;
        match &a.data {
            Data::F(v) => match d {
                DType::F32 => Storage::F32(v.iter().map(|&x| x as f32).collect()),
                _ => Storage::F64(v.clone()),
            },
            Data::I(v) => match d {
                DType::Bool => Storage::Bool(v.iter().map(|&x| x != 0).collect()),
                DType::U8 => Storage::U8(v.iter().map(|&x| x as u8).collect()),
                DType::I32 => Storage::I32(v.iter().map(|&x| x as i32).collect()),
                _ => Storage::I64(v.clone()),
            },
        }
    }
}
