//! The runtime: buffers on devices, and running what the compiler produced. The only part of smelt that
//! allocates device memory or calls generated code.

pub(crate) mod cpu;
#[doc(hidden)]
pub mod gpu;
mod gpu_exec;
pub(crate) mod interp;
pub mod storage;

use crate::realize::Traversal;
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
        storage::pool::recycle(std::mem::replace(&mut self.0, Storage::U8(Vec::new())));
        LIVE_BUFFERS.fetch_sub(1, Ordering::Relaxed);
    }
}

/// The memory behind a realized tensor.
#[derive(Clone)]
pub(crate) enum Buffer {
    Cpu(Arc<HostBuffer>),
    Gpu(Arc<gpu::GpuBuffer>),
}

impl Buffer {
    pub(crate) fn host(&self) -> Option<&Arc<HostBuffer>> {
        match self {
            Buffer::Cpu(b) => Some(b),
            Buffer::Gpu(_) => None,
        }
    }
}

/// Whether a GPU adapter is available (fast after the first call; never panics).
pub fn gpu_available() -> bool {
    gpu::gpu_available()
}

/// Which CPU backend runs graphs.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Backend {
    /// The reference interpreter over the graph IR (`SMELT_BACKEND=interp`): the oracle.
    Interp,
    /// The full compiler pipeline with kernels run by the kernel IR's reference evaluator
    /// (`SMELT_BACKEND=eval`): slow; checks fusion and lowering apart from code generation.
    Eval,
    /// The full compiler pipeline with kernels compiled by Cranelift (the default, `SMELT_BACKEND=jit`).
    Jit,
}

thread_local! {
    static BACKEND: std::cell::Cell<Option<Backend>> = const { std::cell::Cell::new(None) };
}

/// The CPU backend of this thread: set by [`with_backend`], else `SMELT_BACKEND`, else the default.
pub fn cpu_backend() -> Backend {
    if let Some(b) = BACKEND.with(|b| b.get()) {
        return b;
    }
    static FROM_ENV: std::sync::OnceLock<Backend> = std::sync::OnceLock::new();
    *FROM_ENV.get_or_init(|| match std::env::var("SMELT_BACKEND").as_deref() {
        Ok("interp") => Backend::Interp,
        Ok("eval") => Backend::Eval,
        Ok("jit") | Err(_) => Backend::Jit,
        Ok(other) => {
            eprintln!("smelt: SMELT_BACKEND={other:?} is not one of interp, eval, jit; using jit");
            Backend::Jit
        }
    })
}

/// Runs `f` with this thread's realizes on `backend` (for differential tests).
pub fn with_backend<R>(backend: Backend, f: impl FnOnce() -> R) -> R {
    struct Restore(Option<Backend>);
    impl Drop for Restore {
        fn drop(&mut self) {
            BACKEND.with(|b| b.set(self.0));
        }
    }
    let _restore = Restore(BACKEND.with(|b| b.replace(Some(backend))));
    f()
}

/// Compiled CPU plans by the work graph's structure key and the backend.
type PlanCache = std::sync::Mutex<std::collections::HashMap<(u64, Backend), Arc<cpu::Plan>>>;

/// Compiled plans by the work graph's structure and the backend.
fn plan_cache() -> &'static PlanCache {
    static CACHE: std::sync::OnceLock<PlanCache> = std::sync::OnceLock::new();
    CACHE.get_or_init(Default::default)
}

thread_local! {
    static PLANS_COMPILED: std::cell::Cell<usize> = const { std::cell::Cell::new(0) };
}

/// How many plans realizes on this thread compiled (plan-cache misses): a training loop's count stops
/// growing after its first step. Per thread, so tests running beside each other do not mix.
#[doc(hidden)]
pub fn plans_compiled() -> usize {
    PLANS_COMPILED.with(|c| c.get())
}

fn cpu_plan(tr: &Traversal, backend: Backend) -> Result<Arc<cpu::Plan>> {
    let key = (tr.key, backend);
    if let Some(p) = plan_cache()
        .lock()
        .unwrap_or_else(|e| e.into_inner())
        .get(&key)
    {
        return Ok(p.clone());
    }
    PLANS_COMPILED.with(|c| c.set(c.get() + 1));
    let plan = Arc::new(on_big_stack(|| -> Result<cpu::Plan> {
        let compiled = smelt_passes::pipeline::compile(&tr.graph()).map_err(Error::Internal)?;
        let plan = cpu::Plan::new(compiled.schedule.clone(), |k| match backend {
            Backend::Jit => cpu::jit(k),
            _ => Ok(cpu::Exec::Eval),
        })?;
        // SMELT_DEBUG=2..4: the compile report.
        crate::debug::compiled(Device::Cpu, &compiled, |i| match &plan.execs[i] {
            Some(cpu::Exec::Jit(p)) => vec![crate::explain::Code {
                lang: "clif (host)".into(),
                text: Ok(p.clif().to_string()),
            }],
            _ => vec![],
        });
        Ok(plan)
    })?);
    plan_cache()
        .lock()
        .unwrap_or_else(|e| e.into_inner())
        .insert(key, plan.clone());
    Ok(plan)
}

/// Runs `f` on a thread with a large stack: the passes recurse over expressions, and a program may be
/// deeper than the caller's stack allows (test threads have 2 MiB).
pub(crate) fn on_big_stack<R: Send>(f: impl FnOnce() -> R + Send) -> R {
    std::thread::scope(|s| {
        std::thread::Builder::new()
            .name("smelt-compile".into())
            .stack_size(256 << 20)
            .spawn_scoped(s, f)
            .expect("spawning the compiler thread")
            .join()
            .unwrap_or_else(|e| std::panic::resume_unwind(e))
    })
}

/// Runs a collected work graph on `device`, returning one buffer per graph output.
pub(crate) fn run(device: Device, tr: &Traversal) -> Result<Vec<Buffer>> {
    match device {
        Device::Cpu => match cpu_backend() {
            Backend::Interp => interp::run(&tr.graph(), &tr.inputs),
            backend => {
                let plan = cpu_plan(tr, backend)?;
                let inputs = tr
                    .inputs
                    .iter()
                    .map(|t| t.buffer().and_then(|b| b.host()).cloned())
                    .collect::<Option<Vec<_>>>()
                    .ok_or_else(|| {
                        Error::Internal("CPU graph input is not in host memory".into())
                    })?;
                plan.run(&inputs)
            }
        },
        Device::Gpu(i) => gpu_exec::run(i, tr),
    }
}

/// Performs a lazy transfer: realizes the source and copies its buffer onto the transfer's device.
pub(crate) fn transfer(t: &Tensor) -> Result<()> {
    let src = t
        .srcs()
        .into_iter()
        .next()
        .ok_or_else(|| Error::Internal("transfer without a source".into()))?;
    t.set_buffer(gpu_exec::copy(&src, t.device())?);
    Ok(())
}
