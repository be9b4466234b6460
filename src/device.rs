//! Devices and the process-wide default device.

use std::fmt;
use std::sync::RwLock;

/// Where a tensor lives and its kernels run.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Default)]
pub enum Device {
    #[default]
    Cpu,
    /// The GPU adapter with this index (Vulkan adapters first).
    Gpu(usize),
}

impl fmt::Display for Device {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Device::Cpu => f.write_str("cpu"),
            Device::Gpu(i) => write!(f, "gpu:{i}"),
        }
    }
}

static DEFAULT_DEVICE: RwLock<Device> = RwLock::new(Device::Cpu);

/// Sets the device that creation functions without `_on` use (PyTorch's `torch.set_default_device`).
pub fn set_default_device(device: Device) {
    *DEFAULT_DEVICE.write().unwrap_or_else(|e| e.into_inner()) = device;
}

/// The device that creation functions without `_on` use.
pub fn default_device() -> Device {
    *DEFAULT_DEVICE.read().unwrap_or_else(|e| e.into_inner())
}
