//! A tiled matmul in WGSL: `C[b] = A[b] · B[b]` for a [`MatmulSpec`], output contiguous `[batch, m, n]`.
//!
//! Each workgroup (16×16 invocations) computes one 64×64 tile of C; each invocation a 4×4 block of it,
//! rows `ty + 16i` and columns `tx + 16j` (so shared-memory reads are broadcasts or consecutive). The k
//! dimension goes through workgroup memory in slices of `BK` (16 for f32, 8 for f64): the workgroup loads
//! a 64×BK slice of A and a BK×64 slice of B (zero where they run past m, n or k, reading no memory
//! there), then every invocation does BK rank-1 updates of its 4×4 registers. Shapes and strides are
//! constants of the shader (a pipeline per shape); the load order follows the operand's contiguous
//! dimension, so transposed operands stay coalesced. The unit of the launch protocol is a tile:
//! `units = batch · ⌈m/64⌉ · ⌈n/64⌉`, one per workgroup.
//!
//! No epilogue is fused yet (bias, activation): the runtime runs those as an element-wise kernel after.

use super::{Binding, Caps, GpuElem, WgslProgram, launch_block, unsupported, validate};
use crate::dtype::DType;
use crate::error::CodegenError;
use crate::kernel::{Access, BufId};
use crate::matmul::{MatmulSpec, Strided};
use std::fmt::Write as _;

const TILE: u64 = 64;
/// Tile pitch in workgroup memory: one extra column keeps column-wise stores off a single bank.
const PITCH: u64 = TILE + 1;
const THREADS: u64 = 256;

/// Compiles a matmul spec to a validated WGSL program. Buffers: binding 0 is A, 1 is B, 2 is C.
pub fn matmul(spec: &MatmulSpec, caps: &Caps) -> Result<WgslProgram, CodegenError> {
    let name = format!(
        "matmul_{}_{}x{}x{}_b{}",
        spec.dtype, spec.m, spec.k, spec.n, spec.batch
    );
    let t = match spec.dtype {
        DType::F32 => "f32",
        DType::F64 if caps.f64 => "f64",
        DType::F64 => {
            return Err(unsupported(
                &name,
                "f64 matmul needs an adapter with SHADER_F64",
            ));
        }
        d => {
            return Err(unsupported(
                &name,
                format!("matmul of {d} (only f32 and f64)"),
            ));
        }
    };
    let limit = i32::MAX as u64;
    let too_big = |what: &str, n: u64| {
        unsupported(
            &name,
            format!("{what} spans {n} elements; GPU kernels index with 32 bits"),
        )
    };
    let out_len = spec
        .batch
        .checked_mul(spec.m)
        .and_then(|x| x.checked_mul(spec.n))
        .unwrap_or(u64::MAX);
    if out_len > limit {
        return Err(too_big("the output", out_len));
    }
    let empty = out_len == 0 || spec.k == 0;
    let (a_len, b_len) = if empty {
        (0, 0)
    } else {
        let ext = |s: &Strided, rows, cols| {
            // Saturating: a view too large for u64 is too large for the GPU anyway.
            let span = [
                (spec.batch, s.batch_stride),
                (rows, s.row_stride),
                (cols, s.col_stride),
            ]
            .iter()
            .try_fold(s.offset, |acc, &(n, st)| {
                acc.checked_add((n - 1).checked_mul(st)?)
            });
            span.map_or(u64::MAX, |x| x + 1)
        };
        (ext(&spec.a, spec.m, spec.k), ext(&spec.b, spec.k, spec.n))
    };
    if a_len > limit {
        return Err(too_big("operand A", a_len));
    }
    if b_len > limit {
        return Err(too_big("operand B", b_len));
    }
    let (tiles_m, tiles_n) = (spec.m.div_ceil(TILE), spec.n.div_ceil(TILE));
    let units = spec.batch * tiles_m * tiles_n;
    let source = source(spec, t, tiles_m.max(1), tiles_n.max(1));
    validate(&name, &source, caps)?;
    let binding = |i: u32, access, len| Binding {
        binding: i,
        buf: BufId(i),
        access,
        dtype: spec.dtype,
        elem: GpuElem::of(spec.dtype),
        len,
    };
    Ok(WgslProgram {
        name,
        source,
        entry_point: "main".into(),
        bindings: vec![
            binding(0, Access::Read, a_len),
            binding(1, Access::Read, b_len),
            binding(2, Access::Write, out_len),
        ],
        uniform_binding: 3,
        workgroup_size: THREADS as u32,
        units,
        units_per_workgroup: 1,
        flags: Vec::new(),
    })
}

fn source(spec: &MatmulSpec, t: &str, tiles_m: u64, tiles_n: u64) -> String {
    let bk: u64 = if t == "f64" { 8 } else { 16 };
    // The stride of a dimension of size 1 never matters (and may not fit in u32): make it 0.
    let norm = |s: &Strided, rows: u64, cols: u64| Strided {
        offset: s.offset,
        batch_stride: if spec.batch > 1 { s.batch_stride } else { 0 },
        row_stride: if rows > 1 { s.row_stride } else { 0 },
        col_stride: if cols > 1 { s.col_stride } else { 0 },
    };
    let (a, b) = (
        &norm(&spec.a, spec.m, spec.k),
        &norm(&spec.b, spec.k, spec.n),
    );
    let mut s = String::new();
    let _ = writeln!(
        s,
        "// smelt {spec}: {TILE}x{TILE} output tiles, one per workgroup, k in slices of {bk}"
    );
    s.push_str(&launch_block(3));
    let _ = writeln!(s, "@group(0) @binding(0) var<storage, read> a: array<{t}>;");
    let _ = writeln!(s, "@group(0) @binding(1) var<storage, read> b: array<{t}>;");
    let _ = writeln!(
        s,
        "@group(0) @binding(2) var<storage, read_write> c: array<{t}>;"
    );
    let _ = writeln!(s, "var<workgroup> tile_a: array<{t}, {}>;", bk * PITCH);
    let _ = writeln!(s, "var<workgroup> tile_b: array<{t}, {}>;", bk * PITCH);
    let _ = write!(
        s,
        "
@compute @workgroup_size(16, 16)
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(local_invocation_id) lid: vec3<u32>,
        @builtin(local_invocation_index) tid: u32) {{
    let unit = wid.y * launch.width + wid.x;
    if (unit >= u32(launch.end - launch.start)) {{
        return;
    }}
    let tile = u32(launch.start) + unit;
    let col0 = (tile % {tiles_n}u) * {TILE}u;
    let row0 = ((tile / {tiles_n}u) % {tiles_m}u) * {TILE}u;
    let bat = tile / {tiles}u;
    let a_base = {a_off}u + bat * {a_bs}u;
    let b_base = {b_off}u + bat * {b_bs}u;
",
        tiles = tiles_m * tiles_n,
        a_off = a.offset,
        a_bs = a.batch_stride,
        b_off = b.offset,
        b_bs = b.batch_stride,
    );
    for i in 0..4 {
        for j in 0..4 {
            let _ = writeln!(s, "    var acc{i}{j}: {t} = 0.0;");
        }
    }
    let _ = writeln!(s, "    for (var k0 = 0u; k0 < {}u; k0 += {bk}u) {{", spec.k);
    // Loads: THREADS invocations fill TILE·bk elements of each slice; the fast thread index walks the
    // operand's contiguous dimension.
    let loads = TILE * bk / THREADS;
    for l in 0..loads {
        let idx = format!("(tid + {}u)", l * THREADS);
        let (r, kk) = if a.row_stride == 1 && a.col_stride != 1 {
            (format!("{idx} % {TILE}u"), format!("{idx} / {TILE}u"))
        } else {
            (format!("{idx} / {bk}u"), format!("{idx} % {bk}u"))
        };
        let _ = write!(
            s,
            "        {{
            let r = {r};
            let kk = {kk};
            let ok = row0 + r < {m}u && k0 + kk < {k}u;
            let at = select(0u, a_base + (row0 + r) * {rs}u + (k0 + kk) * {cs}u, ok);
            tile_a[kk * {PITCH}u + r] = select({t}(0.0), a[at], ok);
        }}
",
            m = spec.m,
            k = spec.k,
            rs = a.row_stride,
            cs = a.col_stride,
        );
        let (kk, col) = if b.row_stride == 1 && b.col_stride != 1 {
            (format!("{idx} % {bk}u"), format!("{idx} / {bk}u"))
        } else {
            (format!("{idx} / {TILE}u"), format!("{idx} % {TILE}u"))
        };
        let _ = write!(
            s,
            "        {{
            let kk = {kk};
            let cc = {col};
            let ok = k0 + kk < {k}u && col0 + cc < {n}u;
            let at = select(0u, b_base + (k0 + kk) * {rs}u + (col0 + cc) * {cs}u, ok);
            tile_b[kk * {PITCH}u + cc] = select({t}(0.0), b[at], ok);
        }}
",
            k = spec.k,
            n = spec.n,
            rs = b.row_stride,
            cs = b.col_stride,
        );
    }
    let _ = writeln!(s, "        workgroupBarrier();");
    let _ = writeln!(s, "        for (var kk = 0u; kk < {bk}u; kk++) {{");
    for i in 0..4 {
        let _ = writeln!(
            s,
            "            let a{i} = tile_a[kk * {PITCH}u + lid.y + {}u];",
            16 * i
        );
    }
    for j in 0..4 {
        let _ = writeln!(
            s,
            "            let b{j} = tile_b[kk * {PITCH}u + lid.x + {}u];",
            16 * j
        );
    }
    for i in 0..4 {
        for j in 0..4 {
            let _ = writeln!(s, "            acc{i}{j} = acc{i}{j} + a{i} * b{j};");
        }
    }
    let _ = writeln!(s, "        }}\n        workgroupBarrier();\n    }}");
    for i in 0..4 {
        let _ = writeln!(s, "    let r{i} = row0 + lid.y + {}u;", 16 * i);
    }
    for j in 0..4 {
        let _ = writeln!(s, "    let c{j} = col0 + lid.x + {}u;", 16 * j);
    }
    for i in 0..4 {
        for j in 0..4 {
            let _ = writeln!(
                s,
                "    if (r{i} < {m}u && c{j} < {n}u) {{ c[(bat * {m}u + r{i}) * {n}u + c{j}] = acc{i}{j}; }}",
                m = spec.m,
                n = spec.n
            );
        }
    }
    s.push_str("}\n");
    s
}
