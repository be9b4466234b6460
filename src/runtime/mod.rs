//! The runtime: buffers on devices, and running what the compiler produced. The only part of smelt that
//! allocates device memory or calls generated code.

pub(crate) mod interp;
pub mod storage;

use crate::realize::Work;
use crate::{Device, Error, Result, Tensor};
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use storage::Storage;

static LIVE_BUFFERS: AtomicUsize = AtomicUsize::new(0);

/// The number of device buffers alive in the process (for leak tests and debugging).
pub fn live_buffers() -> usize {
    LIVE_BUFFERS.load(Ordering::Relaxed)
}

/// Host memory owned by one or more realized tensors. Counted while alive.
#[derive(Debug)]
pub struct HostBuffer(Storage);

impl HostBuffer {
    pub(crate) fn new(storage: Storage) -> Arc<HostBuffer> {
        LIVE_BUFFERS.fetch_add(1, Ordering::Relaxed);
        Arc::new(HostBuffer(storage))
    }

    pub fn storage(&self) -> &Storage {
        &self.0
    }
}

impl Drop for HostBuffer {
    fn drop(&mut self) {
        LIVE_BUFFERS.fetch_sub(1, Ordering::Relaxed);
    }
}

/// The memory behind a realized tensor.
#[derive(Clone, Debug)]
pub(crate) enum Buffer {
    Cpu(Arc<HostBuffer>),
}

impl Buffer {
    pub(crate) fn host(&self) -> Option<&Arc<HostBuffer>> {
        match self {
            Buffer::Cpu(b) => Some(b),
        }
    }
}

/// Which CPU backend runs graphs: the JIT by default, the reference interpreter with `SMELT_BACKEND=interp`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Backend {
    Interp,
}

pub(crate) fn cpu_backend() -> Backend {
    Backend::Interp
}

/// Runs a collected work graph on `device`, returning one buffer per graph output.
pub(crate) fn run(device: Device, work: &Work) -> Result<Vec<Buffer>> {
    match device {
        Device::Cpu => match cpu_backend() {
            Backend::Interp => interp::run(&work.graph, &work.inputs),
        },
        Device::Gpu(i) => Err(Error::Device(format!("gpu:{i} is not available: no GPU backend in this build"))),
    }
}

/// Performs a lazy transfer: realizes the source and copies its buffer onto the transfer's device.
pub(crate) fn transfer(t: &Tensor) -> Result<()> {
    let src = t.srcs().into_iter().next().ok_or_else(|| Error::Internal("transfer without a source".into()))?;
    match (src.device(), t.device()) {
        (_, Device::Gpu(i)) | (Device::Gpu(i), _) => {
            Err(Error::Device(format!("gpu:{i} is not available: no GPU backend in this build")))
        }
        (Device::Cpu, Device::Cpu) => {
            t.set_buffer(src.realized_buffer()?);
            Ok(())
        }
    }
}
