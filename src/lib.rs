pub fn _x() {}

/// Device runtimes. Public (hidden) so that `tests/gpu_backend.rs` can drive the GPU runtime directly;
/// the lead decides the final visibility when wiring `Device::Gpu`.
#[doc(hidden)]
pub mod runtime {
    pub mod gpu;
}
