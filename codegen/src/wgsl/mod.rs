//! The GPU backend: kernel IR and matmul specs → WGSL text, checked by naga before it is returned.
//!
//! # Why text, not a hand-built `naga::Module`
//! We write WGSL as text and let naga parse and validate it (`naga::front::wgsl::parse_str` +
//! `naga::valid::Validator`). Building a `naga::Module` by hand costs ~70 lines per statement (arenas,
//! spans, emit ranges, type handles) and breaks between naga releases; text is short, readable in dumps
//! and snapshots, and parsing a 200-statement kernel costs about a millisecond. A validation failure is a
//! smelt bug and comes back as [`CodegenError::Backend`].
//!
//! # The launch protocol
//! Every program declares a uniform block at binding [`WgslProgram::uniform_binding`]:
//!
//! ```text
//! struct Launch { start: i32, end: i32, width: u32, pad: u32 }   // 16 bytes, little-endian
//! ```
//!
//! A program has [`WgslProgram::units`] independent units of work (for a kernel: iterations of the
//! parallel loop `i0`; for a matmul: output tiles), [`WgslProgram::units_per_workgroup`] of them per
//! workgroup. A launch covers units `[start, end)`: unit `start + gid.y * width + gid.x` (invocation ids for
//! kernels, workgroup ids for matmul), and ids past `end` return at once. So the runtime can dispatch
//! 2-D grids beyond 65,535 workgroups per dimension (`width` = units per grid row) and split a launch into
//! several with different `start`s.
//!
//! # Types on the GPU
//! - Index expressions are `i32`: every buffer length, loop extent and index range must fit, or
//!   [`compile`] returns [`CodegenError::Unsupported`].
//! - `f32` and `i32` are native; `f64` and `i64` need [`Caps`] (naga's `FLOAT64` / `SHADER_INT64`; no
//!   `enable` directive is needed in naga's WGSL). Without them a kernel using the dtype is `Unsupported`.
//! - `u8` and `bool` have no WGSL storage type: they are stored as one `u32` per element (see
//!   [`GpuElem::U32`]); the runtime widens on upload and narrows on download. In registers a `u8` is a
//!   `u32` kept in `0..=255`, a `bool` is a WGSL `bool`.
//!
//! # Numerics
//! Op semantics are those of [`crate::ops`] (and of the reference evaluator). WGSL built-ins are used
//! where their precision is adequate: `sqrt`, `log` (f32), `floor`, `ceil`, `trunc`, `round` (half to
//! even), `exp2`/`log2` inside f32 `pow`. Everything else is a helper function of `library`: floor
//! division, NaN-propagating max/min, saturating casts, `pow` special cases, `exp` (Vulkan lets the
//! built-in err by 3 + 2|x| ulp: 3.6e-6 relative at |x| = 80 on lavapipe; ours is ~1 ulp), `sin`/`cos`
//! with Cody–Waite range reduction (Vulkan only promises 2^-11 absolute error for the built-ins), `tanh`
//! through `expm1` (no overflow to NaN, no cancellation near 0), `erf` (a Taylor series below 1 and a
//! continued fraction for `erfc` above, ~1e-7 absolute error in f32), and in f64 `exp`, `log`, `sin`,
//! `cos` themselves (Vulkan's GLSL.std.450 transcendentals are 32-bit only).
//!
//! NaN: naga lowers float `!=` to an *ordered* comparison (false when either side is NaN), so NaN tests
//! are `!(x == x)` and `ne` is `!(a == b)`. Subnormal results may be flushed to zero by the driver.
//! Drivers may contract `a * b + c` into a fused multiply-add (WGSL cannot forbid it), so float `rem`
//! (`x - y * floor(x / y)`) can differ from the reference in the last bits where it cancels.
//!
//! # Error flags
//! A `CheckedIndex` out of range stores 1 into its flag only where the IR would evaluate it (under its
//! masks and `where` conditions, see `checked`), after the statement that reads it.

mod checked;
mod library;
mod limits;
mod matmul;
mod scalar;
mod translate;

pub use matmul::matmul;

use crate::dtype::DType;
use crate::error::CodegenError;
use crate::kernel::{Access, BufId, Kernel, verify};

/// What the adapter supports beyond WGSL's core (`SHADER_F64`, `SHADER_INT64` in wgpu's features).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Default)]
pub struct Caps {
    pub f64: bool,
    pub i64: bool,
}

impl Caps {
    /// Everything: for tests that only generate and validate text.
    pub const ALL: Caps = Caps {
        f64: true,
        i64: true,
    };

    /// Whether values of `dtype` can live on the GPU.
    pub fn supports(&self, dtype: DType) -> bool {
        match dtype {
            DType::F64 => self.f64,
            DType::I64 => self.i64,
            _ => true,
        }
    }

    fn naga_capabilities(&self) -> naga::valid::Capabilities {
        let mut c = naga::valid::Capabilities::empty();
        if self.f64 {
            c |= naga::valid::Capabilities::FLOAT64;
        }
        if self.i64 {
            c |= naga::valid::Capabilities::SHADER_INT64;
        }
        c
    }
}

/// The element type of a buffer in GPU memory.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum GpuElem {
    F32,
    F64,
    I32,
    I64,
    /// One `u32` per element, holding a `u8` (0..=255) or a `bool` (0 or 1). The host keeps one byte per
    /// element: the runtime widens on upload and narrows on download (any nonzero word reads as `true`).
    U32,
}

impl GpuElem {
    /// How a host dtype is stored on the GPU.
    pub const fn of(dtype: DType) -> GpuElem {
        match dtype {
            DType::F32 => GpuElem::F32,
            DType::F64 => GpuElem::F64,
            DType::I32 => GpuElem::I32,
            DType::I64 => GpuElem::I64,
            DType::U8 | DType::Bool => GpuElem::U32,
        }
    }

    pub const fn size_bytes(self) -> u64 {
        match self {
            GpuElem::F64 | GpuElem::I64 => 8,
            _ => 4,
        }
    }

    /// The WGSL scalar type name.
    pub const fn wgsl(self) -> &'static str {
        match self {
            GpuElem::F32 => "f32",
            GpuElem::F64 => "f64",
            GpuElem::I32 => "i32",
            GpuElem::I64 => "i64",
            GpuElem::U32 => "u32",
        }
    }
}

/// One storage buffer of a program: `@group(0) @binding(binding)` holds kernel parameter `buf`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Binding {
    pub binding: u32,
    pub buf: BufId,
    /// `Read` is `var<storage, read>`, `Write` is `var<storage, read_write>`.
    pub access: Access,
    /// The host dtype of the tensor.
    pub dtype: DType,
    /// How it is stored on the GPU (`u8`/`bool` widen to [`GpuElem::U32`]).
    pub elem: GpuElem,
    /// Length in elements.
    pub len: u64,
}

/// A validated WGSL compute program and how to launch it (see the module docs for the protocol).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct WgslProgram {
    /// The kernel's name, for errors and dumps.
    pub name: String,
    pub source: String,
    pub entry_point: String,
    /// The storage buffers, in binding order (binding `i` is `bindings[i]`).
    pub bindings: Vec<Binding>,
    /// The binding of the `Launch` uniform block (after the storage buffers).
    pub uniform_binding: u32,
    /// Invocations per workgroup.
    pub workgroup_size: u32,
    /// Independent units of work (parallel iterations, or matmul tiles).
    pub units: u64,
    /// Units per workgroup: `workgroup_size` for kernels (one iteration per invocation), 1 for matmul.
    pub units_per_workgroup: u32,
    /// The error-flag buffers of [`crate::kernel::Expr::CheckedIndex`]: the runtime zeroes them before a
    /// launch and reports an out-of-range index if any holds a nonzero value after it.
    pub flags: Vec<BufId>,
}

/// Size in bytes of the `Launch` uniform block.
pub const LAUNCH_BYTES: u64 = 16;

/// Invocations per workgroup of element-wise kernels.
pub const WORKGROUP_SIZE: u32 = 256;

/// Translates a kernel to WGSL and validates it with naga.
///
/// Errors: [`CodegenError::Verify`] for a malformed kernel, [`CodegenError::Unsupported`] for a dtype the
/// caps lack or a size beyond 32-bit indexing, [`CodegenError::Backend`] if naga rejects the text.
pub fn compile(kernel: &Kernel, caps: &Caps) -> Result<WgslProgram, CodegenError> {
    verify(kernel)?;
    let (source, flags) = translate::Translator::new(kernel, caps)?.translate()?;
    validate(&kernel.name, &source, caps)?;
    let bindings = kernel
        .params
        .iter()
        .enumerate()
        .map(|(i, p)| Binding {
            binding: i as u32,
            buf: BufId(i as u32),
            access: p.access,
            dtype: p.dtype,
            elem: GpuElem::of(p.dtype),
            len: p.len,
        })
        .collect::<Vec<_>>();
    Ok(WgslProgram {
        name: kernel.name.clone(),
        source,
        entry_point: "main".into(),
        uniform_binding: bindings.len() as u32,
        bindings,
        workgroup_size: WORKGROUP_SIZE,
        units: kernel.extent,
        units_per_workgroup: WORKGROUP_SIZE,
        flags,
    })
}

/// Parses and validates WGSL with naga, as wgpu will. A failure is a smelt bug.
pub(crate) fn validate(name: &str, source: &str, caps: &Caps) -> Result<(), CodegenError> {
    let fail = |message: String| CodegenError::Backend {
        backend: "naga",
        kernel: name.to_string(),
        message,
    };
    let module =
        naga::front::wgsl::parse_str(source).map_err(|e| fail(e.emit_to_string(source)))?;
    let mut validator = naga::valid::Validator::new(
        naga::valid::ValidationFlags::all(),
        caps.naga_capabilities(),
    );
    validator
        .validate(&module)
        .map_err(|e| fail(e.emit_to_string(source)))?;
    Ok(())
}

/// `Unsupported` for the GPU target.
pub(crate) fn unsupported(kernel: &str, what: impl Into<String>) -> CodegenError {
    CodegenError::Unsupported {
        target: "the GPU",
        kernel: kernel.to_string(),
        what: what.into(),
    }
}

/// The uniform block and its binding, shared by kernels and matmul.
pub(crate) fn launch_block(binding: u32) -> String {
    format!(
        "struct Launch {{ start: i32, end: i32, width: u32, pad: u32 }}\n\
         @group(0) @binding({binding}) var<uniform> launch: Launch;\n"
    )
}
