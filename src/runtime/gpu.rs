//! The GPU runtime: adapters, device memory and launches of [`WgslProgram`]s through wgpu.
//!
//! - One process-wide registry ([`OnceLock`]) holds the wgpu `Instance` and the adapter list, preferring
//!   Vulkan (with every backend at once wgpu may hand out a GL adapter without f64/i64); other backends
//!   are tried only when no Vulkan adapter exists. `Device::Gpu(i)` is adapter `i` (discrete GPUs first).
//!   Each adapter's [`GpuContext`] (device, queue, caps, limits, pipeline cache) is created on first use.
//! - Buffers hold one dtype; `u8` and `bool` are widened to one `u32` per element on upload and narrowed
//!   on download ([`GpuElem::U32`]). Sizes are checked against the device's storage binding limit
//!   (lavapipe: 128 MiB): too large is an error, never a wrong answer.
//! - [`GpuContext::run`] launches a program over its units following the launch protocol of
//!   `smelt_codegen::wgsl` (2-D grids beyond 65,535 workgroups, several launches beyond that), zeroes the
//!   `CheckedIndex` flag buffers first and reports a set flag as [`GpuError::IndexOutOfRange`].
//! - wgpu reports validation errors through error scopes; every call here pops its scopes, so a bad
//!   program or buffer is an `Err`, never a panic in wgpu's default handler.

use indexmap::IndexMap;
use smelt_codegen::kernel::Access;
use smelt_codegen::matmul::MatmulSpec;
use smelt_codegen::wgsl::{self, Caps, GpuElem, LAUNCH_BYTES, WgslProgram};
use smelt_codegen::{CodegenError, DType};
use std::collections::HashMap;
use std::ops::Range;
use std::sync::{Arc, Mutex, OnceLock};
use wgpu::util::DeviceExt as _;

/// Why a GPU operation failed. The lead maps these into `smelt::Error`.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum GpuError {
    #[error("no GPU adapter found (looked for Vulkan, then any wgpu backend)")]
    NoAdapter,
    #[error("GPU {index} does not exist: {count} adapter(s) found")]
    NoSuchDevice { index: usize, count: usize },
    #[error("GPU {index} ({name}): {message}")]
    DeviceCreation {
        index: usize,
        name: String,
        message: String,
    },
    /// Something this GPU cannot do: a dtype (f64/i64 without the feature), too many buffers in a kernel.
    #[error("{0}")]
    Unsupported(String),
    /// A buffer larger than one storage binding may be on this device.
    #[error("a buffer of {bytes} bytes exceeds this GPU's storage binding limit of {limit} bytes")]
    TooLarge { bytes: u64, limit: u64 },
    /// A `CheckedIndex` found an index out of range while the kernel ran.
    #[error("kernel `{kernel}`: an index was out of range (flag buffer b{flag})")]
    IndexOutOfRange { kernel: String, flag: u32 },
    /// Buffers that do not fit the program or the data (a smelt bug when it reaches users).
    #[error("kernel `{kernel}`: {what}")]
    Mismatch { kernel: String, what: String },
    #[error(transparent)]
    Codegen(#[from] CodegenError),
    /// wgpu rejected something (a smelt bug) or the device was lost.
    #[error("wgpu: {0}")]
    Wgpu(String),
}

type Result<T, E = GpuError> = std::result::Result<T, E>;

struct Slot {
    adapter: wgpu::Adapter,
    context: OnceLock<Result<GpuContext>>,
}

struct Registry {
    _instance: wgpu::Instance,
    slots: Vec<Slot>,
}

static REGISTRY: OnceLock<Result<Registry>> = OnceLock::new();

fn registry() -> &'static Result<Registry> {
    REGISTRY.get_or_init(|| {
        // wgpu may panic where a backend is broken; "no GPU" is the honest answer then.
        std::panic::catch_unwind(discover).unwrap_or(Err(GpuError::NoAdapter))
    })
}

fn discover() -> Result<Registry> {
    // An instance with only the backends asked for: initializing GL probes the display (EGL) for nothing.
    let open = |backends: wgpu::Backends| {
        let mut desc = wgpu::InstanceDescriptor::new_without_display_handle();
        desc.backends = backends;
        let instance = wgpu::Instance::new(desc);
        let adapters = pollster::block_on(instance.enumerate_adapters(backends));
        (instance, adapters)
    };
    let (mut instance, mut adapters) = open(wgpu::Backends::VULKAN);
    if adapters.is_empty() {
        (instance, adapters) = open(wgpu::Backends::all());
    }
    if adapters.is_empty() {
        return Err(GpuError::NoAdapter);
    }
    let rank = |a: &wgpu::Adapter| match a.get_info().device_type {
        wgpu::DeviceType::DiscreteGpu => 0,
        wgpu::DeviceType::IntegratedGpu => 1,
        wgpu::DeviceType::VirtualGpu => 2,
        wgpu::DeviceType::Cpu => 3,
        wgpu::DeviceType::Other => 4,
    };
    adapters.sort_by_key(rank);
    let slots = adapters
        .into_iter()
        .map(|adapter| Slot {
            adapter,
            context: OnceLock::new(),
        })
        .collect();
    Ok(Registry {
        _instance: instance,
        slots,
    })
}

/// Whether any GPU adapter exists. Never panics; after the first call it is a load.
pub fn gpu_available() -> bool {
    registry().as_ref().is_ok_and(|r| !r.slots.is_empty())
}

/// The number of adapters (`Device::Gpu(0..n)`).
pub fn adapter_count() -> usize {
    registry().as_ref().map_or(0, |r| r.slots.len())
}

/// The context of adapter `index`, created on first use.
pub fn context(index: usize) -> Result<&'static GpuContext> {
    let reg = registry().as_ref().map_err(Clone::clone)?;
    let slot = reg.slots.get(index).ok_or(GpuError::NoSuchDevice {
        index,
        count: reg.slots.len(),
    })?;
    slot.context
        .get_or_init(|| GpuContext::new(index, &slot.adapter))
        .as_ref()
        .map_err(Clone::clone)
}

/// One compiled program: its pipeline and bind group layout.
struct Pipeline {
    pipeline: wgpu::ComputePipeline,
    layout: wgpu::BindGroupLayout,
}

/// A device and queue of one adapter, with what it can do and the pipelines built for it.
pub struct GpuContext {
    index: usize,
    name: String,
    device: wgpu::Device,
    queue: wgpu::Queue,
    caps: Caps,
    limits: wgpu::Limits,
    /// Keyed by WGSL source; used only for lookup.
    pipelines: Mutex<HashMap<String, Arc<Pipeline>>>,
    matmuls: Mutex<HashMap<MatmulSpec, Arc<WgslProgram>>>,
    /// On GL, one thread at a time: wgpu's GL context lock gives up (panics) after a second of waiting,
    /// which a long shader compile or wait on another thread exceeds.
    serial: Option<Mutex<()>>,
}

/// A buffer in device memory holding `len` elements of `dtype` (stored as [`GpuElem::of`]`(dtype)`).
pub struct GpuBuffer {
    /// Always `Some` until dropped (see `Drop`).
    buffer: Option<wgpu::Buffer>,
    dtype: DType,
    len: u64,
    device: usize,
}

impl GpuBuffer {
    pub fn dtype(&self) -> DType {
        self.dtype
    }
    pub fn len(&self) -> u64 {
        self.len
    }
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }
    fn raw(&self) -> &wgpu::Buffer {
        self.buffer.as_ref().expect("a live buffer")
    }
}

impl Drop for GpuBuffer {
    /// Frees the buffer, on GL while holding the context's serial lock (see `GpuContext::serial`).
    fn drop(&mut self) {
        let buffer = self.buffer.take();
        let _serial = context(self.device).ok().and_then(|c| c.serialize());
        drop(buffer);
    }
}

impl std::fmt::Debug for GpuBuffer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "GpuBuffer({}[{}] on gpu {})",
            self.dtype, self.len, self.device
        )
    }
}

/// One launch of the protocol: units `[start, end)` on an `x × y` grid, `width` units per grid row.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
struct Launch {
    start: u64,
    end: u64,
    x: u32,
    y: u32,
    width: u64,
}

/// Splits the `units` range into launches of at most `max_dim × max_dim` workgroups of `per_group` units.
fn plan_launches(units: Range<u64>, per_group: u64, max_dim: u32) -> Vec<Launch> {
    let max_dim = u64::from(max_dim.max(1));
    let chunk = max_dim * max_dim * per_group;
    let mut out = Vec::new();
    let mut start = units.start;
    while start < units.end {
        let end = units.end.min(start + chunk);
        let groups = (end - start).div_ceil(per_group);
        let x = groups.min(max_dim);
        let y = groups.div_ceil(x);
        out.push(Launch {
            start,
            end,
            x: x as u32,
            y: y as u32,
            width: x * per_group,
        });
        start = end;
    }
    out
}

impl GpuContext {
    fn new(index: usize, adapter: &wgpu::Adapter) -> Result<GpuContext> {
        let info = adapter.get_info();
        let name = format!("{} ({:?})", info.name, info.backend);
        let wanted = wgpu::Features::SHADER_F64 | wgpu::Features::SHADER_INT64;
        let features = adapter.features() & wanted;
        let limits = adapter.limits();
        let desc = wgpu::DeviceDescriptor {
            label: Some("smelt"),
            required_features: features,
            required_limits: limits.clone(),
            ..Default::default()
        };
        let (device, queue) = pollster::block_on(adapter.request_device(&desc)).map_err(|e| {
            GpuError::DeviceCreation {
                index,
                name: name.clone(),
                message: e.to_string(),
            }
        })?;
        // Errors outside our scopes (none are expected) must not abort the process.
        device.on_uncaptured_error(Arc::new(|e| eprintln!("smelt: uncaptured wgpu error: {e}")));
        let caps = Caps {
            f64: features.contains(wgpu::Features::SHADER_F64),
            i64: features.contains(wgpu::Features::SHADER_INT64),
        };
        Ok(GpuContext {
            index,
            name,
            device,
            queue,
            caps,
            limits,
            pipelines: Mutex::default(),
            serial: (info.backend == wgpu::Backend::Gl).then(Mutex::default),
            matmuls: Mutex::default(),
        })
    }

    /// What kernels for this device may use.
    pub fn caps(&self) -> Caps {
        self.caps
    }

    /// The adapter's name and backend, e.g. `llvmpipe (LLVM 15.0.6, 256 bits) (Vulkan)`.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// The largest buffer (in bytes) one kernel binding may hold.
    pub fn max_binding_bytes(&self) -> u64 {
        self.limits
            .max_storage_buffer_binding_size
            .min(self.limits.max_buffer_size)
    }

    /// A zeroed buffer of `len` elements of `dtype`.
    pub fn create_buffer(&self, dtype: DType, len: u64) -> Result<GpuBuffer> {
        if !self.caps.supports(dtype) {
            return Err(GpuError::Unsupported(format!(
                "{dtype} tensors on GPU {} ({}): no adapter support",
                self.index, self.name
            )));
        }
        let bytes = len.saturating_mul(GpuElem::of(dtype).size_bytes());
        if bytes > self.max_binding_bytes() {
            return Err(GpuError::TooLarge {
                bytes,
                limit: self.max_binding_bytes(),
            });
        }
        let usage = wgpu::BufferUsages::STORAGE
            | wgpu::BufferUsages::COPY_SRC
            | wgpu::BufferUsages::COPY_DST;
        let buffer = self.scoped(|| {
            self.device.create_buffer(&wgpu::BufferDescriptor {
                label: None,
                // Bindings may not be empty: an empty tensor still gets one word.
                size: bytes.max(4),
                usage,
                mapped_at_creation: false,
            })
        })?;
        Ok(GpuBuffer {
            buffer: Some(buffer),
            dtype,
            len,
            device: self.index,
        })
    }

    /// A buffer holding host data: `bytes` are elements of `dtype` as the host stores them (little-endian;
    /// `u8` and `bool` one byte each).
    pub fn upload(&self, dtype: DType, bytes: &[u8]) -> Result<GpuBuffer> {
        let size = dtype.size_bytes();
        if !bytes.len().is_multiple_of(size) {
            return Err(GpuError::Mismatch {
                kernel: "upload".into(),
                what: format!(
                    "{} bytes are not a whole number of {dtype} elements",
                    bytes.len()
                ),
            });
        }
        let buf = self.create_buffer(dtype, (bytes.len() / size) as u64)?;
        self.write(&buf, bytes)?;
        Ok(buf)
    }

    /// Overwrites a buffer with host data of the same dtype and length.
    pub fn write(&self, buf: &GpuBuffer, bytes: &[u8]) -> Result<()> {
        self.check_owner(buf, "write")?;
        if bytes.len() as u64 != buf.len * buf.dtype.size_bytes() as u64 {
            return Err(GpuError::Mismatch {
                kernel: "write".into(),
                what: format!(
                    "{} bytes for a buffer of {} {} elements",
                    bytes.len(),
                    buf.len,
                    buf.dtype
                ),
            });
        }
        if bytes.is_empty() {
            return Ok(());
        }
        let widened;
        let data = match buf.dtype {
            DType::U8 => {
                widened = bytes
                    .iter()
                    .flat_map(|&b| u32::from(b).to_le_bytes())
                    .collect::<Vec<u8>>();
                &widened[..]
            }
            DType::Bool => {
                widened = bytes
                    .iter()
                    .flat_map(|&b| u32::from(b != 0).to_le_bytes())
                    .collect::<Vec<u8>>();
                &widened[..]
            }
            _ => bytes,
        };
        self.scoped(|| self.queue.write_buffer(buf.raw(), 0, data))
    }

    /// The buffer's elements as host bytes (`u8`/`bool` narrowed back to one byte). Waits for the GPU.
    pub fn download(&self, buf: &GpuBuffer) -> Result<Vec<u8>> {
        self.check_owner(buf, "download")?;
        let bytes = buf.len * GpuElem::of(buf.dtype).size_bytes();
        if bytes == 0 {
            return Ok(Vec::new());
        }
        let words = self
            .read_back(&[(buf.raw(), bytes)])?
            .pop()
            .unwrap_or_default();
        Ok(match buf.dtype {
            DType::U8 => words.chunks_exact(4).map(|w| w[0]).collect(),
            DType::Bool => words
                .chunks_exact(4)
                .map(|w| u8::from(w != [0; 4]))
                .collect(),
            _ => words,
        })
    }

    /// Blocks until every submitted command has finished (for `SMELT_DEBUG`'s launch timings).
    pub fn wait_idle(&self) -> Result<()> {
        let _serial = self.serialize();
        self.device
            .poll(wgpu::PollType::wait_indefinitely())
            .map(|_| ())
            .map_err(|e| GpuError::Wgpu(e.to_string()))
    }

    /// Copies `(buffer, bytes)` ranges to mappable buffers and reads them (waits for the queue).
    fn read_back(&self, bufs: &[(&wgpu::Buffer, u64)]) -> Result<Vec<Vec<u8>>> {
        // Held until the staging buffers are gone (locals drop in reverse order).
        let _serial = self.serialize();
        let (staging, encoder) = self.scoped_locked(|| {
            let mut encoder = self.device.create_command_encoder(&Default::default());
            let staging: Vec<wgpu::Buffer> = bufs
                .iter()
                .map(|&(b, bytes)| {
                    let s = self.device.create_buffer(&wgpu::BufferDescriptor {
                        label: Some("smelt readback"),
                        size: bytes,
                        usage: wgpu::BufferUsages::MAP_READ | wgpu::BufferUsages::COPY_DST,
                        mapped_at_creation: false,
                    });
                    encoder.copy_buffer_to_buffer(b, 0, &s, 0, bytes);
                    s
                })
                .collect();
            (staging, encoder)
        })?;
        self.scoped_locked(|| self.queue.submit(Some(encoder.finish())))?;
        let (tx, rx) = std::sync::mpsc::channel();
        for (i, s) in staging.iter().enumerate() {
            let tx = tx.clone();
            s.slice(..).map_async(wgpu::MapMode::Read, move |r| {
                let _ = tx.send((i, r));
            });
        }
        drop(tx);
        self.device
            .poll(wgpu::PollType::wait_indefinitely())
            .map_err(|e| GpuError::Wgpu(e.to_string()))?;
        for (_, r) in rx.iter() {
            r.map_err(|e| GpuError::Wgpu(format!("reading back a buffer: {e}")))?;
        }
        staging
            .iter()
            .map(|s| {
                let data = s
                    .slice(..)
                    .get_mapped_range()
                    .map_err(|e| GpuError::Wgpu(e.to_string()))?
                    .to_vec();
                s.unmap();
                Ok(data)
            })
            .collect()
    }

    /// Runs `program` over all its units; `buffers[i]` is bound at `program.bindings[i]`.
    pub fn run(&self, program: &WgslProgram, buffers: &[&GpuBuffer]) -> Result<()> {
        self.run_range(program, buffers, 0..program.units)
    }

    /// Runs the units `range` of `program` (a sub-range of `0..program.units`, e.g. to split a long
    /// launch into several submissions).
    pub fn run_range(
        &self,
        program: &WgslProgram,
        buffers: &[&GpuBuffer],
        range: Range<u64>,
    ) -> Result<()> {
        self.launch(
            program,
            buffers,
            range,
            self.limits.max_compute_workgroups_per_dimension,
        )
    }

    /// As [`run`](Self::run), with at most `max_groups_per_dim` workgroups per grid dimension (clamped to
    /// the device's limit), so tests can exercise 2-D grids and split launches on small inputs.
    pub fn run_split(
        &self,
        program: &WgslProgram,
        buffers: &[&GpuBuffer],
        max_groups_per_dim: u32,
    ) -> Result<()> {
        self.launch(program, buffers, 0..program.units, max_groups_per_dim)
    }

    fn launch(
        &self,
        program: &WgslProgram,
        buffers: &[&GpuBuffer],
        range: Range<u64>,
        max_groups_per_dim: u32,
    ) -> Result<()> {
        self.check_buffers(program, buffers)?;
        if range.end > program.units {
            return Err(GpuError::Mismatch {
                kernel: program.name.clone(),
                what: format!("units {range:?} of a program with {}", program.units),
            });
        }
        if range.is_empty() {
            return Ok(());
        }
        let pipeline = self.pipeline(program)?;
        let max_dim = max_groups_per_dim.min(self.limits.max_compute_workgroups_per_dimension);
        let launches = plan_launches(range, u64::from(program.units_per_workgroup), max_dim);
        let flags: Vec<&GpuBuffer> = program.flags.iter().map(|f| buffers[f.index()]).collect();
        let encoder = self.scoped(|| {
            let mut encoder = self.device.create_command_encoder(&Default::default());
            for f in &flags {
                encoder.clear_buffer(f.raw(), 0, None);
            }
            for l in &launches {
                let mut uniform = Vec::with_capacity(LAUNCH_BYTES as usize);
                uniform.extend((l.start as i32).to_le_bytes());
                uniform.extend((l.end as i32).to_le_bytes());
                uniform.extend((l.width as u32).to_le_bytes());
                uniform.extend(0u32.to_le_bytes());
                let ubuf = self
                    .device
                    .create_buffer_init(&wgpu::util::BufferInitDescriptor {
                        label: Some("smelt launch"),
                        contents: &uniform,
                        usage: wgpu::BufferUsages::UNIFORM,
                    });
                let mut entries: Vec<wgpu::BindGroupEntry> = buffers
                    .iter()
                    .zip(&program.bindings)
                    .map(|(b, bind)| wgpu::BindGroupEntry {
                        binding: bind.binding,
                        resource: b.raw().as_entire_binding(),
                    })
                    .collect();
                entries.push(wgpu::BindGroupEntry {
                    binding: program.uniform_binding,
                    resource: ubuf.as_entire_binding(),
                });
                let group = self.device.create_bind_group(&wgpu::BindGroupDescriptor {
                    label: None,
                    layout: &pipeline.layout,
                    entries: &entries,
                });
                let mut pass = encoder.begin_compute_pass(&Default::default());
                pass.set_pipeline(&pipeline.pipeline);
                pass.set_bind_group(0, &group, &[]);
                pass.dispatch_workgroups(l.x, l.y, 1);
            }
            encoder
        })?;
        self.scoped(|| self.queue.submit(Some(encoder.finish())))?;
        if flags.is_empty() {
            return Ok(());
        }
        let words = self.read_back(&flags.iter().map(|f| (f.raw(), 4)).collect::<Vec<_>>())?;
        for (f, w) in program.flags.iter().zip(words) {
            if w != [0; 4] {
                return Err(GpuError::IndexOutOfRange {
                    kernel: program.name.clone(),
                    flag: f.0,
                });
            }
        }
        Ok(())
    }

    /// `out = a · b` for a matmul spec: `a` and `b` hold the strided operands, `out` gets the contiguous
    /// `[batch, m, n]` result.
    pub fn run_matmul(
        &self,
        spec: &MatmulSpec,
        a: &GpuBuffer,
        b: &GpuBuffer,
        out: &GpuBuffer,
    ) -> Result<()> {
        let program = {
            let mut cache = self.matmuls.lock().unwrap_or_else(|e| e.into_inner());
            match cache.get(spec) {
                Some(p) => p.clone(),
                None => {
                    let p = Arc::new(wgsl::matmul(spec, &self.caps)?);
                    cache.insert(*spec, p.clone());
                    p
                }
            }
        };
        self.run(&program, &[a, b, out])
    }

    fn check_owner(&self, buf: &GpuBuffer, op: &str) -> Result<()> {
        if buf.device == self.index {
            Ok(())
        } else {
            Err(GpuError::Mismatch {
                kernel: op.into(),
                what: format!("{buf:?} is not on GPU {}", self.index),
            })
        }
    }

    fn check_buffers(&self, program: &WgslProgram, buffers: &[&GpuBuffer]) -> Result<()> {
        let fail = |what: String| {
            Err(GpuError::Mismatch {
                kernel: program.name.clone(),
                what,
            })
        };
        if buffers.len() != program.bindings.len() {
            return fail(format!(
                "{} buffers for {} bindings",
                buffers.len(),
                program.bindings.len()
            ));
        }
        let max = self.limits.max_storage_buffers_per_shader_stage as usize;
        if buffers.len() > max {
            return Err(GpuError::Unsupported(format!(
                "kernel `{}` uses {} buffers; GPU {} ({}) allows {max} per kernel",
                program.name,
                buffers.len(),
                self.index,
                self.name
            )));
        }
        // A buffer written by the kernel may not be bound anywhere else (wgpu forbids it, and the kernel IR
        // never reads what it writes).
        let mut seen: IndexMap<*const wgpu::Buffer, Access> = IndexMap::new();
        for (b, bind) in buffers.iter().zip(&program.bindings) {
            self.check_owner(b, &program.name)?;
            if b.dtype != bind.dtype || b.len < bind.len {
                return fail(format!(
                    "binding {} wants {}[{}], got {b:?}",
                    bind.binding, bind.dtype, bind.len
                ));
            }
            if let Some(prev) = seen.insert(b.raw(), bind.access)
                && (prev == Access::Write || bind.access == Access::Write)
            {
                return fail(format!("{b:?} is bound twice and written"));
            }
        }
        Ok(())
    }

    fn pipeline(&self, program: &WgslProgram) -> Result<Arc<Pipeline>> {
        let mut cache = self.pipelines.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(p) = cache.get(&program.source) {
            return Ok(p.clone());
        }
        let p = self.scoped(|| {
            let module = self
                .device
                .create_shader_module(wgpu::ShaderModuleDescriptor {
                    label: Some(&program.name),
                    source: wgpu::ShaderSource::Wgsl(program.source.as_str().into()),
                });
            let buffer = |binding, ty| wgpu::BindGroupLayoutEntry {
                binding,
                visibility: wgpu::ShaderStages::COMPUTE,
                ty: wgpu::BindingType::Buffer {
                    ty,
                    has_dynamic_offset: false,
                    min_binding_size: None,
                },
                count: None,
            };
            let mut entries: Vec<wgpu::BindGroupLayoutEntry> = program
                .bindings
                .iter()
                .map(|b| {
                    let read_only = b.access == Access::Read;
                    buffer(b.binding, wgpu::BufferBindingType::Storage { read_only })
                })
                .collect();
            entries.push(buffer(
                program.uniform_binding,
                wgpu::BufferBindingType::Uniform,
            ));
            let layout = self
                .device
                .create_bind_group_layout(&wgpu::BindGroupLayoutDescriptor {
                    label: None,
                    entries: &entries,
                });
            let pipeline_layout =
                self.device
                    .create_pipeline_layout(&wgpu::PipelineLayoutDescriptor {
                        label: None,
                        bind_group_layouts: &[Some(&layout)],
                        immediate_size: 0,
                    });
            let pipeline = self
                .device
                .create_compute_pipeline(&wgpu::ComputePipelineDescriptor {
                    label: Some(&program.name),
                    layout: Some(&pipeline_layout),
                    module: &module,
                    entry_point: Some(&program.entry_point),
                    compilation_options: Default::default(),
                    cache: None,
                });
            Pipeline { pipeline, layout }
        })?;
        let p = Arc::new(p);
        cache.insert(program.source.clone(), p.clone());
        Ok(p)
    }

    fn serialize(&self) -> Option<std::sync::MutexGuard<'_, ()>> {
        self.serial
            .as_ref()
            .map(|m| m.lock().unwrap_or_else(|e| e.into_inner()))
    }

    /// Runs `f` inside validation and out-of-memory error scopes and returns its result, or the first
    /// error wgpu reported.
    fn scoped<T>(&self, f: impl FnOnce() -> T) -> Result<T> {
        let _serial = self.serialize();
        self.scoped_locked(f)
    }

    /// [`scoped`](Self::scoped) for a caller that already holds the serial lock.
    fn scoped_locked<T>(&self, f: impl FnOnce() -> T) -> Result<T> {
        let oom = self.device.push_error_scope(wgpu::ErrorFilter::OutOfMemory);
        let validation = self.device.push_error_scope(wgpu::ErrorFilter::Validation);
        let value = f();
        let errors = [
            pollster::block_on(validation.pop()),
            pollster::block_on(oom.pop()),
        ];
        match errors.into_iter().flatten().next() {
            Some(e) => Err(GpuError::Wgpu(e.to_string())),
            None => Ok(value),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn launches_cover_every_unit_once() {
        for (units, per, max) in [
            (1, 256, 65535),
            (70_000 * 256, 256, 65535),
            (10, 1, 3),
            (100, 4, 3),
            (37, 2, 2),
        ] {
            let ls = plan_launches(0..units, per, max);
            let mut next = 0;
            for l in &ls {
                assert_eq!(l.start, next);
                assert!(l.x <= max && l.y <= max);
                // The grid covers the launch's units and ids past `end` exist only in its last row.
                assert!(u64::from(l.x) * u64::from(l.y) * per >= l.end - l.start);
                assert_eq!(l.width, u64::from(l.x) * per);
                next = l.end;
            }
            assert_eq!(next, units);
        }
        assert_eq!(
            plan_launches(0..70_000 * 256, 256, 65535),
            vec![Launch {
                start: 0,
                end: 70_000 * 256,
                x: 65535,
                y: 2,
                width: 65535 * 256
            }]
        );
        assert_eq!(plan_launches(0..10, 1, 3).len(), 2);
        let tail = plan_launches(1000..1300, 256, 65535);
        assert_eq!(
            (tail.len(), tail[0].start, tail[0].end, tail[0].x),
            (1, 1000, 1300, 2)
        );
        assert!(plan_launches(0..0, 256, 65535).is_empty());
    }
}
