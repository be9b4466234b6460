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

    /// Room for `n` elements that one writer fills completely (a kernel's output, a matmul's result):
    /// not zeroed, and taken from the [`pool`] of freed buffers when one of that size is there. For the
    /// large buffers of a training step, zeroing or faulting in fresh pages costs as much as the kernel
    /// that writes them. The storage has length 0 until [`Storage::assume_written`]; bools, whose byte
    /// patterns are not all valid, start zeroed. In debug builds the room is filled with `0xff` bytes
    /// (NaN, -1), so a writer that misses an element shows up in tests.
    pub(crate) fn for_writing(dtype: DType, n: usize) -> Storage {
        if dtype == DType::Bool {
            return Storage::zeros(dtype, n);
        }
        let mut s = pool::take(dtype, n).unwrap_or_else(|| match dtype {
            DType::U8 => Storage::U8(Vec::with_capacity(n)),
            DType::I32 => Storage::I32(Vec::with_capacity(n)),
            DType::I64 => Storage::I64(Vec::with_capacity(n)),
            DType::F64 => Storage::F64(Vec::with_capacity(n)),
            _ => Storage::F32(Vec::with_capacity(n)),
        });
        each!(&mut s, v => v.clear());
        if cfg!(debug_assertions) {
            // SAFETY: the capacity holds at least n elements; spare capacity may hold any bytes.
            unsafe { std::ptr::write_bytes(s.as_mut_ptr(), 0xff, n * dtype.size_bytes()) };
        }
        s
    }

    /// Marks a [`Storage::for_writing`] buffer of `n` elements as filled.
    ///
    /// # Safety
    /// All `n` elements must have been written through [`Storage::as_mut_ptr`].
    pub(crate) unsafe fn assume_written(&mut self, n: usize) {
        match self {
            Storage::Bool(v) => debug_assert_eq!(v.len(), n),
            // SAFETY: the caller wrote all n elements, within the capacity `for_writing` reserved.
            Storage::U8(v) => unsafe { set_len(v, n) },
            Storage::I32(v) => unsafe { set_len(v, n) },
            Storage::I64(v) => unsafe { set_len(v, n) },
            Storage::F32(v) => unsafe { set_len(v, n) },
            Storage::F64(v) => unsafe { set_len(v, n) },
        }
    }

    /// The base address, for kernels that read the buffer.
    #[allow(clippy::unnecessary_cast)] // a no-op for the u8 variant only
    pub(crate) fn as_ptr(&self) -> *const u8 {
        each!(self, v => v.as_ptr() as *const u8)
    }

    /// The base address, for the kernel that writes the buffer.
    #[allow(clippy::unnecessary_cast)] // a no-op for the u8 variant only
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

/// # Safety
/// The first `n` elements of `v`'s capacity are initialized.
unsafe fn set_len<T>(v: &mut Vec<T>, n: usize) {
    assert!(n <= v.capacity(), "a buffer grows past its room");
    // SAFETY: n is within the capacity and the caller initialized the elements.
    unsafe { v.set_len(n) }
}

/// Freed host buffers kept for reuse, by dtype and capacity: a training loop frees and allocates buffers
/// of the same sizes every step, and reusing them saves the page faults of fresh memory. Only mid-sized
/// and large buffers are kept (small ones are cheap to allocate), a few per size, and a bounded total,
/// so memory a program frees for good is mostly returned.
pub(crate) mod pool {
    use super::Storage;
    use crate::DType;
    use std::collections::BTreeMap;
    use std::sync::Mutex;

    const MIN_BYTES: usize = 64 << 10;
    const MAX_BYTES: usize = 64 << 20;
    const TOTAL_BYTES: usize = 256 << 20;
    const PER_SIZE: usize = 8;

    #[derive(Default)]
    struct Pool {
        free: BTreeMap<(DType, usize), Vec<Storage>>,
        bytes: usize,
    }

    static POOL: Mutex<Pool> = Mutex::new(Pool {
        free: BTreeMap::new(),
        bytes: 0,
    });

    fn capacity_bytes(s: &Storage) -> (usize, usize) {
        let cap = each!(s, v => v.capacity());
        (cap, cap * s.dtype().size_bytes())
    }

    /// A freed buffer of `dtype` with room for exactly `n` elements, if one is kept.
    pub(crate) fn take(dtype: DType, n: usize) -> Option<Storage> {
        let bytes = n * dtype.size_bytes();
        if !(MIN_BYTES..=MAX_BYTES).contains(&bytes) {
            return None;
        }
        let mut p = POOL.lock().unwrap_or_else(|e| e.into_inner());
        let s = p.free.get_mut(&(dtype, n))?.pop()?;
        p.bytes -= bytes;
        Some(s)
    }

    /// Keeps a freed buffer for reuse if it fits the limits; drops it otherwise.
    pub(crate) fn recycle(s: Storage) {
        let (cap, bytes) = capacity_bytes(&s);
        if s.dtype() == DType::Bool || !(MIN_BYTES..=MAX_BYTES).contains(&bytes) {
            return;
        }
        let mut p = POOL.lock().unwrap_or_else(|e| e.into_inner());
        if p.bytes + bytes > TOTAL_BYTES {
            return;
        }
        let list = p.free.entry((s.dtype(), cap)).or_default();
        if list.len() < PER_SIZE {
            list.push(s);
            p.bytes += bytes;
        }
    }
}
