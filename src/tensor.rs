//! [`Tensor`]: a cheap, cloneable, `Send + Sync` handle to an immutable node of the lazy DAG.
//!
//! Every op records a node; nothing runs until `realize` (or reading data). Realizing attaches a buffer
//! to the node (set once); later graphs use it as a leaf, and the node lets go of its operands unless
//! autograd still needs them, so a training loop that builds a new graph each step frees the old one.

use crate::autograd;
use crate::runtime::storage::Storage;
use crate::runtime::{Buffer, HostBuffer};
use crate::{DType, Device, Element, Error, Result, Shape};
use smelt_passes::Op;
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, OnceLock, RwLock};

/// A node's operands (most ops have one or two: stored inline).
pub(crate) type Srcs = smallvec::SmallVec<[Tensor; 2]>;

static NEXT_ID: AtomicU64 = AtomicU64::new(0);
static LIVE_NODES: AtomicUsize = AtomicUsize::new(0);

/// The number of tensor nodes alive in the process (for leak tests and debugging).
/// Nodes held by the small per-thread caches of recent constants are not counted: they are bounded and
/// hold no buffers.
pub fn live_tensors() -> usize {
    LIVE_NODES
        .load(Ordering::Relaxed)
        .saturating_sub(CACHED_NODES.load(Ordering::Relaxed))
}

/// Nodes currently held by the per-thread constant caches (see `Tensor::full_const`).
pub(crate) static CACHED_NODES: AtomicUsize = AtomicUsize::new(0);

/// A lazy tensor: a handle to a node of the recorded DAG.
///
/// Cloning is cheap (a reference count). Ops take `&self` and return new tensors; nothing is computed
/// until [`Tensor::realize`] or a data accessor such as [`Tensor::to_vec`].
#[derive(Clone)]
pub struct Tensor(pub(crate) Arc<Node>);

// A handle observed after a panic is consistent: a node's fields are immutable except the buffer (set
// once, atomically) and locks that recover from poisoning. So tensors may cross `catch_unwind`.
impl std::panic::UnwindSafe for Tensor {}
impl std::panic::RefUnwindSafe for Tensor {}

pub(crate) struct Node {
    /// Creation order: a stable identity for maps and a deterministic order.
    pub(crate) id: u64,
    pub(crate) op: Op,
    /// Operands; emptied once the node is realized and no gradient will flow through it.
    pub(crate) srcs: RwLock<Srcs>,
    pub(crate) shape: Shape,
    pub(crate) dtype: DType,
    pub(crate) device: Device,
    pub(crate) buffer: OnceLock<Buffer>,
    pub(crate) requires_grad: AtomicBool,
    pub(crate) grad: Mutex<Option<Tensor>>,
    pub(crate) name: Mutex<Option<String>>,
    /// A copy of `srcs[0]` onto `device`, done by the runtime before the graph that uses it runs.
    pub(crate) transfer: bool,
}

impl Drop for Node {
    /// Drops long operand chains iteratively: a 100,000-op chain must not overflow the stack.
    fn drop(&mut self) {
        LIVE_NODES.fetch_sub(1, Ordering::Relaxed);
        let srcs = std::mem::take(self.srcs.get_mut().unwrap_or_else(|e| e.into_inner()));
        if srcs.iter().all(|s| Arc::strong_count(&s.0) > 1) {
            return; // only reference counts drop: no chain to unwind
        }
        let mut stack: Vec<Tensor> = srcs.into_vec();
        while let Some(t) = stack.pop() {
            if let Some(mut node) = Arc::into_inner(t.0) {
                stack.extend(std::mem::take(
                    node.srcs.get_mut().unwrap_or_else(|e| e.into_inner()),
                ));
            }
        }
    }
}

impl Tensor {
    /// Records a node. `srcs` must already agree with `op` (the API checks user input first).
    pub(crate) fn lazy(op: Op, srcs: Srcs, shape: Shape, dtype: DType, device: Device) -> Tensor {
        let requires_grad = autograd::is_grad_enabled() && srcs.iter().any(|s| s.requires_grad());
        LIVE_NODES.fetch_add(1, Ordering::Relaxed);
        Tensor(Arc::new(Node {
            id: NEXT_ID.fetch_add(1, Ordering::Relaxed),
            op,
            srcs: RwLock::new(srcs),
            shape,
            dtype,
            device,
            buffer: OnceLock::new(),
            requires_grad: AtomicBool::new(requires_grad),
            grad: Mutex::new(None),
            name: Mutex::new(None),
            transfer: false,
        }))
    }

    pub(crate) fn is_transfer(&self) -> bool {
        self.0.transfer
    }

    /// The tensor on `device` (the same handle if it is already there). The copy is lazy: asking for a
    /// device that does not exist is an error when the result is realized, never a panic.
    pub fn to(&self, device: Device) -> Tensor {
        if device == self.device() {
            return self.clone();
        }
        let requires_grad = autograd::is_grad_enabled() && self.requires_grad();
        LIVE_NODES.fetch_add(1, Ordering::Relaxed);
        Tensor(Arc::new(Node {
            id: NEXT_ID.fetch_add(1, Ordering::Relaxed),
            op: Op::Input(0),
            srcs: RwLock::new(smallvec::smallvec![self.clone()]),
            shape: self.shape().clone(),
            dtype: self.dtype(),
            device,
            buffer: OnceLock::new(),
            requires_grad: AtomicBool::new(requires_grad),
            grad: Mutex::new(None),
            name: Mutex::new(None),
            transfer: true,
        }))
    }

    /// A realized leaf on the CPU holding `storage`.
    pub(crate) fn from_storage(storage: Storage, shape: Shape) -> Tensor {
        debug_assert_eq!(storage.len(), shape.numel());
        let t = Tensor::lazy(
            Op::Input(0),
            crate::tensor::Srcs::new(),
            shape,
            storage.dtype(),
            Device::Cpu,
        );
        t.set_buffer(Buffer::Cpu(HostBuffer::new(storage)));
        t
    }

    /// A node using this tensor's device.
    pub(crate) fn unary_node(&self, op: Op, shape: Shape, dtype: DType) -> Tensor {
        Tensor::lazy(
            op,
            smallvec::smallvec![self.clone()],
            shape,
            dtype,
            self.device(),
        )
    }

    pub(crate) fn set_buffer(&self, buffer: Buffer) {
        if self.0.buffer.set(buffer).is_ok() && !self.requires_grad() {
            self.0
                .srcs
                .write()
                .unwrap_or_else(|e| e.into_inner())
                .clear();
        }
    }

    pub(crate) fn buffer(&self) -> Option<&Buffer> {
        self.0.buffer.get()
    }

    pub(crate) fn srcs(&self) -> Vec<Tensor> {
        self.0
            .srcs
            .read()
            .unwrap_or_else(|e| e.into_inner())
            .to_vec()
    }

    pub(crate) fn op(&self) -> &Op {
        &self.0.op
    }

    pub(crate) fn id(&self) -> u64 {
        self.0.id
    }

    /// Whether the two handles are the same node.
    pub fn same(&self, other: &Tensor) -> bool {
        Arc::ptr_eq(&self.0, &other.0)
    }

    // ---- attributes: never realize anything ----

    /// The dims.
    pub fn shape(&self) -> &Shape {
        &self.0.shape
    }

    /// The dims as a slice.
    pub fn dims(&self) -> &[usize] {
        &self.0.shape
    }

    /// The number of dims.
    pub fn ndim(&self) -> usize {
        self.0.shape.len()
    }

    /// The number of elements.
    pub fn numel(&self) -> usize {
        self.0.shape.numel()
    }

    pub fn dtype(&self) -> DType {
        self.0.dtype
    }

    pub fn device(&self) -> Device {
        self.0.device
    }

    /// The size of one dim (negative counts from the end). Panics if `dim` is out of range.
    #[track_caller]
    pub fn size(&self, dim: isize) -> usize {
        crate::ok(self.try_size(dim))
    }

    pub fn try_size(&self, dim: isize) -> Result<usize> {
        let d = self.norm_dim("size", dim)?;
        self.dims().get(d).copied().ok_or(Error::Dim {
            op: "size",
            dim,
            ndim: 0,
        })
    }

    /// Whether the tensor already has a buffer.
    pub fn is_realized(&self) -> bool {
        self.0.buffer.get().is_some()
    }

    /// Labels the tensor for pictures and dumps; returns the same handle.
    pub fn named(&self, name: impl Into<String>) -> Tensor {
        *self.0.name.lock().unwrap_or_else(|e| e.into_inner()) = Some(name.into());
        self.clone()
    }

    /// The label given by [`Tensor::named`].
    pub fn name(&self) -> Option<String> {
        self.0
            .name
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .clone()
    }

    /// A dim index in `0..ndim` from a possibly negative one.
    pub(crate) fn norm_dim(&self, op: &'static str, dim: isize) -> Result<usize> {
        norm_dim(op, dim, self.ndim())
    }

    /// Checks that all operands live on one device.
    pub(crate) fn same_device(op: &'static str, ts: &[&Tensor]) -> Result<Device> {
        let d = ts[0].device();
        if let Some(other) = ts.iter().find(|t| t.device() != d) {
            return Err(Error::Device(format!(
                "{op}: expected all tensors on one device, found {d} and {}",
                other.device()
            )));
        }
        Ok(d)
    }

    /// The host storage of a realized CPU tensor.
    pub(crate) fn host_storage(&self) -> Option<&Storage> {
        self.buffer().and_then(|b| b.host()).map(|h| h.storage())
    }

    pub(crate) fn check_element<T: Element>(&self, op: &'static str) -> Result<()> {
        if T::DTYPE != self.dtype() {
            return Err(Error::ElementType {
                op,
                actual: self.dtype(),
                requested: T::DTYPE,
            });
        }
        Ok(())
    }
}

/// A dim index in `0..ndim` from a possibly negative one (`ndim` 0 accepts -1 and 0, as PyTorch does).
pub(crate) fn norm_dim(op: &'static str, dim: isize, ndim: usize) -> Result<usize> {
    let n = ndim.max(1) as isize;
    if dim < -n || dim >= n {
        return Err(Error::Dim { op, dim, ndim });
    }
    Ok(if dim < 0 {
        (dim + n) as usize
    } else {
        dim as usize
    })
}

impl std::fmt::Debug for Tensor {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "Tensor({} {} {} on {}",
            self.0.op.name(),
            self.dtype(),
            self.shape(),
            self.device()
        )?;
        if let Some(n) = self.name() {
            write!(f, " \"{n}\"")?;
        }
        if self.is_realized() {
            write!(f, ", realized")?;
        }
        if self.requires_grad() {
            write!(f, ", requires_grad")?;
        }
        write!(f, ")")
    }
}
