//! The CPU backend: kernel IR → Cranelift IR → machine code in memory, one function per kernel.
//!
//! ```text
//! Kernel ──verify──▶ Plan (dependencies, strides, which loops run 4/8/16 lanes wide)
//!        ──translate──▶ CLIF (FunctionTranslator: loops, hoisting, vectors, inline math)
//!        ──Cranelift (opt_level=speed, host features)──▶ CpuProgram { JITModule, entry }
//! ```
//!
//! Every kernel has one ABI, [`KernelFn`]: `args[i]` is the base pointer of buffer `b{i}`, and a call runs
//! the parallel loop's iterations `start..end`; the runtime splits `0..extent` across its workers.
//!
//! Files, in the order a kernel meets them: `plan` (analysis: dependencies, strides, which loops
//! vectorize and how wide), `translate` (the translator: statements, hoisting, expressions), `loops`
//! (scalar loops and vector passes), `tile` (column reductions interchanged), `vector` (values in a
//! vector loop and their arithmetic), `memory` (addresses, loads, stores, indices), `lower` (one
//! operation per dtype, for scalars and vector registers alike), `int` (integer division and power),
//! `math` and `pow` (the `f32` math functions, libm calls).
//!
//! For runtimes: column reductions (a vectorized loop around reduction loops) run fastest when each
//! worker's `start..end` spans at least a thousand iterations, so that rows are read in long stretches;
//! chunk boundaries at multiples of 16 avoid scalar tails.
//!
//! # Invariants
//! - Generated code touches only `args[i][0..len_i]` for the buffers' declared lengths: unmasked accesses
//!   are proven in bounds by [`kernel::verify`], masked loads read index 0 where their mask is false,
//!   checked indices read index 0 when out of range, and vector accesses cover only whole in-range lanes
//!   (a scalar loop finishes the tail).
//! - The numbers are those of [`crate::eval`], except that vectorized reductions reassociate (each lane
//!   and each unrolled accumulator sums its own share; the shares are combined at the end) and the
//!   inline `f32` math functions are within a few ulp of libm instead of identical to it.

mod int;
mod loops;
mod lower;
mod math;
mod memory;
mod plan;
mod pow;
mod tile;
mod translate;
mod vector;

use crate::error::CodegenError;
use crate::kernel::{self, Kernel};
use cranelift_codegen::ir::{self, AbiParam, UserFuncName};
use cranelift_codegen::isa::{self, OwnedTargetIsa};
use cranelift_codegen::settings::{self, Configurable};
use cranelift_codegen::{Context, ir::types};
use cranelift_frontend::{FunctionBuilder, FunctionBuilderContext};
use cranelift_jit::{JITBuilder, JITModule};
use cranelift_module::{Linkage, Module, default_libcall_names};
use std::sync::{Mutex, OnceLock};

/// The signature of every compiled kernel: `args[i]` is the base pointer of buffer `b{i}`; the call runs
/// parallel-loop iterations `start..end` (`0 <= start <= end <= extent`).
pub type KernelFn = unsafe extern "C" fn(args: *const *mut u8, start: u64, end: u64);

/// How the math functions (`exp`, `log`, `sin`, ...) of `f32` are computed.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Default)]
pub enum MathImpl {
    /// Inline polynomials, vectorized with the loop (the default).
    #[default]
    Inline,
    /// A call into the platform libm per element (for comparisons and benchmarks).
    Libm,
}

/// Code generation choices. The defaults are what the runtime uses; the others exist so tests can run
/// every kernel through both the scalar and the vector paths, and benchmarks can compare them.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Options {
    /// Vectorize loops where legal (otherwise every loop is scalar).
    pub vectorize: bool,
    pub math: MathImpl,
    /// Use fused multiply-add in the math functions where the CPU has it (off: test the other path).
    pub fma: bool,
}

impl Target {
    fn of(isa: &dyn isa::TargetIsa) -> Target {
        Target {
            frontend: isa.frontend_config(),
            fma: isa.has_native_fma(),
        }
    }
}

impl Default for Options {
    fn default() -> Self {
        Options {
            vectorize: true,
            math: MathImpl::Inline,
            fma: true,
        }
    }
}

/// What the translator needs to know about the target.
#[derive(Clone, Copy)]
pub(crate) struct Target {
    /// Pointer type and calling convention.
    pub frontend: isa::TargetFrontendConfig,
    /// Fused multiply-add is a native instruction (otherwise it would be a libcall: use mul + add).
    pub fma: bool,
}

/// A compiled kernel. It owns its code; the function pointer from [`CpuProgram::entry`] is valid as long
/// as the program lives.
pub struct CpuProgram {
    name: String,
    entry: KernelFn,
    /// The CLIF as built, before Cranelift optimized it (printed on demand).
    func: ir::Function,
    clif: OnceLock<String>,
    /// Held only to free the code on drop; never used after compilation.
    module: Mutex<Option<JITModule>>,
}

impl CpuProgram {
    /// The kernel's entry point.
    pub fn entry(&self) -> KernelFn {
        self.entry
    }

    /// The CLIF text of the function as built, before optimization.
    pub fn clif(&self) -> &str {
        self.clif.get_or_init(|| self.func.display().to_string())
    }

    /// The kernel's name.
    pub fn name(&self) -> &str {
        &self.name
    }
}

impl std::fmt::Debug for CpuProgram {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("CpuProgram")
            .field("name", &self.name)
            .finish_non_exhaustive()
    }
}

impl Drop for CpuProgram {
    fn drop(&mut self) {
        let module = self
            .module
            .get_mut()
            .unwrap_or_else(|e| e.into_inner())
            .take();
        if let Some(module) = module {
            // SAFETY: the program is being dropped, so nobody can obtain the entry point any more; callers
            // must not call a `KernelFn` after dropping the program that produced it (documented on `entry`).
            unsafe { module.free_memory() };
        }
    }
}

/// Compiles a kernel for the host CPU with the default [`Options`].
pub fn compile(kernel: &Kernel) -> Result<CpuProgram, CodegenError> {
    compile_with(kernel, Options::default())
}

/// Compiles a kernel for the host CPU.
pub fn compile_with(kernel: &Kernel, options: Options) -> Result<CpuProgram, CodegenError> {
    kernel::verify(kernel)?;
    let isa = host_isa().map_err(|what| CodegenError::Unsupported {
        target: "cpu",
        kernel: kernel.name.clone(),
        what,
    })?;
    let target = Target::of(&*isa);
    let func = build_function(kernel, target, options);
    jit(kernel, isa, func)
}

/// The CLIF text of a kernel for a pinned target (x86-64 with SSE4.2, AVX2 and FMA, System V), the same on
/// every machine: for snapshot tests. No machine code is produced.
pub fn clif_for_snapshot(kernel: &Kernel) -> Result<String, CodegenError> {
    kernel::verify(kernel)?;
    let isa = pinned_isa().map_err(|what| CodegenError::Unsupported {
        target: "the pinned x86-64 snapshot target",
        kernel: kernel.name.clone(),
        what,
    })?;
    let target = Target::of(&*isa);
    let func = build_function(kernel, target, Options::default());
    cranelift_codegen::verify_function(&func, &*isa).map_err(|e| CodegenError::Backend {
        backend: "cranelift",
        kernel: kernel.name.clone(),
        message: e.to_string(),
    })?;
    Ok(func.display().to_string())
}

/// The CLIF of a kernel: plan the loops, then translate statement by statement.
fn build_function(kernel: &Kernel, target: Target, options: Options) -> ir::Function {
    let plan = plan::Plan::new(kernel, options);
    let mut sig = ir::Signature::new(target.frontend.default_call_conv);
    for _ in 0..3 {
        sig.params.push(AbiParam::new(types::I64));
    }
    let mut func =
        ir::Function::with_name_signature(UserFuncName::user(0, math::LIBM.len() as u32), sig);
    let mut fctx = FunctionBuilderContext::new();
    let builder = FunctionBuilder::new(&mut func, &mut fctx);
    translate::FunctionTranslator::new(kernel, &plan, builder, target, options).translate();
    func
}

/// The module lifecycle, in order:
/// 1. a `JITModule` for the host ISA, with the libm functions kernels may call registered as symbols;
/// 2. declare those imports (func ids `0..IMPORTS.len()`, matching the names in the CLIF) and the kernel
///    itself (the next id), exported under a fixed name, since each module holds one function;
/// 3. define the function: Cranelift verifies, optimizes (`opt_level=speed`) and emits machine code;
/// 4. finalize: apply relocations and make the code executable;
/// 5. hand out the entry point; the program owns the module and frees its memory when dropped.
fn jit(
    kernel: &Kernel,
    isa: OwnedTargetIsa,
    func: ir::Function,
) -> Result<CpuProgram, CodegenError> {
    let backend_err = |message: String| CodegenError::Backend {
        backend: "cranelift",
        kernel: kernel.name.clone(),
        message,
    };
    // 1.
    let mut builder = JITBuilder::with_isa(isa, default_libcall_names());
    for f in math::LIBM {
        builder.symbol(f.name, (f.address)());
    }
    let mut module = JITModule::new(builder);
    // 2.
    for f in math::LIBM {
        let sig = f.signature(module.isa().default_call_conv());
        module
            .declare_function(f.name, Linkage::Import, &sig)
            .map_err(|e| backend_err(e.to_string()))?;
    }
    let id = module
        .declare_function("smelt_kernel", Linkage::Export, &func.signature)
        .map_err(|e| backend_err(e.to_string()))?;
    debug_assert_eq!(id.as_u32(), math::LIBM.len() as u32);
    // 3.
    let mut ctx = Context::for_function(func.clone());
    module
        .define_function(id, &mut ctx)
        .map_err(|e| backend_err(format!("{e:?}")))?;
    // 4.
    module
        .finalize_definitions()
        .map_err(|e| backend_err(e.to_string()))?;
    // 5.
    let code = module.get_finalized_function(id);
    // SAFETY: the function was built with exactly the signature of `KernelFn` (three i64 parameters, the
    // platform's C calling convention, no results).
    let entry = unsafe { std::mem::transmute::<*const u8, KernelFn>(code) };
    Ok(CpuProgram {
        name: kernel.name.clone(),
        entry,
        func,
        clif: OnceLock::new(),
        module: Mutex::new(Some(module)),
    })
}

/// The host ISA with its features detected at run time (once per process).
fn host_isa() -> Result<OwnedTargetIsa, String> {
    static ISA: OnceLock<Result<OwnedTargetIsa, String>> = OnceLock::new();
    ISA.get_or_init(|| {
        let mut flags = settings::builder();
        flags.set("opt_level", "speed").map_err(|e| e.to_string())?;
        // cranelift-jit needs absolute relocations and non-colocated libcalls.
        flags.set("is_pic", "false").map_err(|e| e.to_string())?;
        flags
            .set("use_colocated_libcalls", "false")
            .map_err(|e| e.to_string())?;
        let builder = cranelift_native::builder().map_err(|e| format!("unsupported host: {e}"))?;
        builder
            .finish(settings::Flags::new(flags))
            .map_err(|e| e.to_string())
    })
    .clone()
}

/// The pinned snapshot target: x86-64 with an explicit feature set (x86-64-v3), whatever the host.
fn pinned_isa() -> Result<OwnedTargetIsa, String> {
    static ISA: OnceLock<Result<OwnedTargetIsa, String>> = OnceLock::new();
    ISA.get_or_init(build_pinned_isa).clone()
}

fn build_pinned_isa() -> Result<OwnedTargetIsa, String> {
    let mut flags = settings::builder();
    flags.set("opt_level", "speed").map_err(|e| e.to_string())?;
    flags.set("is_pic", "false").map_err(|e| e.to_string())?;
    // Needs cranelift-codegen's `x86` feature on other hosts.
    let mut builder = isa::lookup_by_name("x86_64-unknown-linux-gnu").map_err(|e| e.to_string())?;
    for feature in [
        "has_sse3",
        "has_ssse3",
        "has_sse41",
        "has_sse42",
        "has_popcnt",
        "has_avx",
        "has_avx2",
        "has_fma",
    ] {
        builder.enable(feature).map_err(|e| e.to_string())?;
    }
    builder
        .finish(settings::Flags::new(flags))
        .map_err(|e| e.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn assert_send_sync<T: Send + Sync>() {}

    #[test]
    fn program_is_send_and_sync() {
        assert_send_sync::<CpuProgram>();
    }
}
