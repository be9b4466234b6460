//! The tiled WGSL matmul against a plain Rust triple loop, for shapes that are not multiples of the tile,
//! k = 1 and k = 0, broadcast batches (stride 0), offsets and transposed operands. Skips, with a message,
//! where no GPU exists.

mod gpu_support;

use gpu_support::{Data, ctx, has};
use smelt::runtime::gpu::GpuContext;
use smelt_codegen::DType;
use smelt_codegen::matmul::{MatmulSpec, Strided};

/// How an operand is laid out in its buffer.
#[derive(Clone, Copy, Debug)]
enum Layout {
    RowMajor,
    /// Stored transposed: element `[r, c]` at `c * rows + r`.
    Transposed,
    /// One matrix shared by every batch (batch stride 0).
    Broadcast,
    /// Row-major after 5 unused elements.
    Offset,
}

/// The strides of a `[batch, rows, cols]` operand in `layout`, and the buffer length it needs.
fn strided(layout: Layout, batch: u64, rows: u64, cols: u64) -> (Strided, u64) {
    let size = rows * cols;
    match layout {
        Layout::RowMajor => (
            Strided {
                offset: 0,
                batch_stride: size,
                row_stride: cols,
                col_stride: 1,
            },
            batch * size,
        ),
        Layout::Transposed => (
            Strided {
                offset: 0,
                batch_stride: size,
                row_stride: 1,
                col_stride: rows,
            },
            batch * size,
        ),
        Layout::Broadcast => (
            Strided {
                offset: 0,
                batch_stride: 0,
                row_stride: cols,
                col_stride: 1,
            },
            size,
        ),
        Layout::Offset => (
            Strided {
                offset: 5,
                batch_stride: size,
                row_stride: cols,
                col_stride: 1,
            },
            5 + batch * size,
        ),
    }
}

fn value(s: &Strided, data: &[f64], b: u64, r: u64, c: u64) -> f64 {
    data[(s.offset + b * s.batch_stride + r * s.row_stride + c * s.col_stride) as usize]
}

/// Runs one matmul on the GPU and checks every output element against an f64 triple loop.
fn check(
    ctx: &GpuContext,
    dtype: DType,
    (batch, m, k, n): (u64, u64, u64, u64),
    la: Layout,
    lb: Layout,
) {
    let (sa, len_a) = strided(la, batch, m, k);
    let (sb, len_b) = strided(lb, batch, k, n);
    // Small integers and halves: exact in f32 products; sums stay well within f32's exact range for the
    // tested k, so f32 results must match the f64 reference up to rounding of large sums.
    let a: Vec<f64> = (0..len_a)
        .map(|i| ((i * 7 + 3) % 11) as f64 * 0.5 - 2.0)
        .collect();
    let b: Vec<f64> = (0..len_b)
        .map(|i| ((i * 5 + 1) % 13) as f64 * 0.25 - 1.5)
        .collect();
    let spec = MatmulSpec {
        dtype,
        batch,
        m,
        n,
        k,
        a: sa,
        b: sb,
    };
    let host = |v: &[f64]| {
        if dtype == DType::F32 {
            Data::F32(v.iter().map(|&x| x as f32).collect())
        } else {
            Data::F64(v.to_vec())
        }
    };
    let ga = ctx.upload(dtype, &host(&a).bytes()).unwrap();
    let gb = ctx.upload(dtype, &host(&b).bytes()).unwrap();
    let out = ctx.create_buffer(dtype, batch * m * n).unwrap();
    ctx.run_matmul(&spec, &ga, &gb, &out)
        .unwrap_or_else(|e| panic!("{spec}: {e}"));
    let got: Vec<f64> = Data::from_bytes(dtype, &ctx.download(&out).unwrap())
        .scalars()
        .iter()
        .map(|s| s.to_f64())
        .collect();
    for bi in 0..batch {
        for r in 0..m {
            for c in 0..n {
                let want: f64 = (0..k)
                    .map(|kk| value(&sa, &a, bi, r, kk) * value(&sb, &b, bi, kk, c))
                    .sum();
                let g = got[((bi * m + r) * n + c) as usize];
                let tol = if dtype == DType::F32 {
                    1e-6 * (k as f64).max(1.0) * 4.0
                } else {
                    1e-12
                };
                assert!(
                    (g - want).abs() <= tol,
                    "{spec} ({la:?} x {lb:?}) at [{bi}, {r}, {c}]: got {g}, want {want}"
                );
            }
        }
    }
}

#[test]
fn shapes_that_are_not_multiples_of_the_tile() {
    let Some(ctx) = ctx() else { return };
    let shapes = [
        (1, 1, 1, 1),
        (1, 1, 7, 1),
        (1, 64, 64, 64),
        (1, 65, 17, 130),
        (1, 7, 1, 9),
        (1, 1, 300, 1),
        (2, 33, 129, 47),
        (3, 100, 5, 1),
        (1, 1, 16, 200),
        (4, 64, 16, 65),
        (1, 257, 31, 129),
    ];
    for dtype in [DType::F32, DType::F64] {
        if !has(ctx, dtype) {
            continue;
        }
        for shape in shapes {
            check(ctx, dtype, shape, Layout::RowMajor, Layout::RowMajor);
        }
    }
}

#[test]
fn transposed_broadcast_and_offset_operands() {
    let Some(ctx) = ctx() else { return };
    let layouts = [
        Layout::RowMajor,
        Layout::Transposed,
        Layout::Broadcast,
        Layout::Offset,
    ];
    for la in layouts {
        for lb in layouts {
            check(ctx, DType::F32, (3, 37, 19, 70), la, lb);
        }
    }
    check(
        ctx,
        DType::F32,
        (2, 70, 1, 5),
        Layout::Transposed,
        Layout::Transposed,
    );
}

#[test]
fn empty_and_k_zero() {
    let Some(ctx) = ctx() else { return };
    // k = 0: every output element is an empty sum.
    let spec = MatmulSpec {
        dtype: DType::F32,
        batch: 2,
        m: 3,
        n: 4,
        k: 0,
        a: Strided {
            offset: 0,
            batch_stride: 0,
            row_stride: 0,
            col_stride: 1,
        },
        b: Strided {
            offset: 0,
            batch_stride: 0,
            row_stride: 4,
            col_stride: 1,
        },
    };
    let a = ctx.create_buffer(DType::F32, 0).unwrap();
    let b = ctx.create_buffer(DType::F32, 0).unwrap();
    let out = ctx
        .upload(DType::F32, &Data::F32(vec![7.0; 24]).bytes())
        .unwrap();
    ctx.run_matmul(&spec, &a, &b, &out).unwrap();
    assert_eq!(
        Data::from_bytes(DType::F32, &ctx.download(&out).unwrap()),
        Data::F32(vec![0.0; 24])
    );
    // m = 0: nothing to do.
    let empty = MatmulSpec { m: 0, k: 2, ..spec };
    let out = ctx.create_buffer(DType::F32, 0).unwrap();
    ctx.run_matmul(&empty, &a, &b, &out).unwrap();
}

#[test]
fn a_large_matmul() {
    let Some(ctx) = ctx() else { return };
    let (m, k, n) = (256u64, 512u64, 384u64);
    let a: Vec<f32> = (0..m * k).map(|i| ((i % 17) as f32 - 8.0) / 8.0).collect();
    let b: Vec<f32> = (0..k * n)
        .map(|i| ((i % 23) as f32 - 11.0) / 16.0)
        .collect();
    let spec = MatmulSpec {
        dtype: DType::F32,
        batch: 1,
        m,
        n,
        k,
        a: Strided {
            offset: 0,
            batch_stride: m * k,
            row_stride: k,
            col_stride: 1,
        },
        b: Strided {
            offset: 0,
            batch_stride: k * n,
            row_stride: n,
            col_stride: 1,
        },
    };
    let ga = ctx
        .upload(DType::F32, &Data::F32(a.clone()).bytes())
        .unwrap();
    let gb = ctx
        .upload(DType::F32, &Data::F32(b.clone()).bytes())
        .unwrap();
    let out = ctx.create_buffer(DType::F32, m * n).unwrap();
    let start = std::time::Instant::now();
    ctx.run_matmul(&spec, &ga, &gb, &out).unwrap();
    let got = Data::from_bytes(DType::F32, &ctx.download(&out).unwrap());
    let secs = start.elapsed().as_secs_f64();
    println!(
        "{spec}: {:.2} GFLOP/s including compile and read-back ({})",
        spec.flops() as f64 / secs / 1e9,
        ctx.name()
    );
    for r in (0..m).step_by(37) {
        for c in 0..n {
            let want: f64 = (0..k)
                .map(|kk| a[(r * k + kk) as usize] as f64 * b[(kk * n + c) as usize] as f64)
                .sum();
            let g = got.f32()[(r * n + c) as usize] as f64;
            assert!((g - want).abs() <= 1e-3, "[{r}, {c}]: {g} vs {want}");
        }
    }
}
