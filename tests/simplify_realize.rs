//! Simplification inside the pipeline, seen from the Tensor API: what the runtime binds stays right when
//! simplify turns an output into one of the graph's inputs, into another output, into a constant or into
//! a view of an input, and the forms a front end leaves behind (double transposes, reshape chains)
//! disappear before fusion. Every value is checked against the reference interpreter backend, which
//! runs the collected graph without simplifying it.

use smelt::prelude::*;
use smelt::{Backend, with_backend};
use smelt_passes::Op;
use smelt_passes::schedule::Step;

/// The backends that run the compiled pipeline: Cranelift kernels and the kernel IR's evaluator.
const COMPILED: [Backend; 2] = [Backend::Jit, Backend::Eval];

fn f32s(t: &Tensor) -> Vec<f32> {
    t.to_vec::<f32>().unwrap()
}

/// Builds the targets with `make` (fresh, unrealized tensors each time), realizes them together on
/// `backend` and returns their values as f64.
fn run(backend: Backend, make: &dyn Fn() -> Vec<Tensor>) -> Vec<Vec<f64>> {
    with_backend(backend, || {
        let ts = make();
        Tensor::realize_all(&ts.iter().collect::<Vec<_>>()).unwrap();
        ts.iter()
            .map(|t| {
                let t = t.to_dtype(DType::F64).realize().unwrap();
                t.to_vec::<f64>().unwrap()
            })
            .collect()
    })
}

/// The compiled backends give the interpreter's values: bit for bit where the interpreter's value is a
/// NaN, an infinity or a zero (of its sign), else within the few ulps by which Cranelift's `exp` and the
/// tuned matmul's summation order differ from the interpreter's.
fn same_as_interp(make: &dyn Fn() -> Vec<Tensor>) {
    let want = run(Backend::Interp, make);
    for backend in COMPILED {
        let got = run(backend, make);
        assert_eq!(got.len(), want.len());
        for (k, (g, w)) in got.iter().zip(&want).enumerate() {
            assert_eq!(g.len(), w.len(), "{backend:?} output {k}");
            for (i, (a, b)) in g.iter().zip(w).enumerate() {
                let close = b.is_finite() && *b != 0.0 && (a - b).abs() <= 1e-6 * b.abs();
                assert!(
                    a.to_bits() == b.to_bits() || (a.is_nan() && b.is_nan()) || close,
                    "{backend:?} output {k} element {i}: {a} vs interp {b}"
                );
            }
        }
    }
}

/// The simplified graph of realizing `targets` now.
fn simplified(targets: &[&Tensor]) -> smelt_passes::Graph {
    smelt::compile_debug(targets).unwrap().simplified
}

fn x23() -> Tensor {
    Tensor::from_vec(
        vec![1.5f32, -2.0, 0.0, f32::NAN, f32::INFINITY, -0.0],
        [2, 3],
    )
}

#[test]
fn an_output_that_becomes_an_input() {
    let x = x23();
    let y = &x * 1.0;
    let g = simplified(&[&y]);
    assert_eq!(g.node(g.outputs[0]).op, Op::Input(0), "{g}");
    same_as_interp(&|| vec![&x * 1.0]);
    // The result is a tensor of its own: it outlives the input and keeps its values.
    for backend in COMPILED {
        let x = x23();
        let y = with_backend(backend, || (&x * 1.0).realize().unwrap());
        let want = f32s(&x);
        drop(x);
        let got = f32s(&y);
        assert!(
            got.iter()
                .zip(&want)
                .all(|(a, b)| a.to_bits() == b.to_bits()),
            "{backend:?}"
        );
    }
}

#[test]
fn outputs_that_become_one_node_or_an_input() {
    let x = x23();
    let z = Tensor::from_vec(vec![0.25f32, 0.5, 0.75, 1.0, 1.25, 1.5], [2, 3]);
    let make = || {
        let e = z.exp();
        vec![
            &e * 1.0,               // e
            &x - 0.0,               // x: x - (+0.0) is x, -0.0 included
            e.clone(),              // e again
            x.t().t(),              // x
            (&z * 1.0).neg().neg(), // z (input 1)
        ]
    };
    let ts = make();
    let g = simplified(&ts.iter().collect::<Vec<_>>());
    assert_eq!(g.outputs.len(), 5);
    assert_eq!(g.outputs[0], g.outputs[2], "{g}");
    assert_eq!(g.outputs[1], g.outputs[3], "{g}");
    let (Op::Input(i), Op::Input(j)) = (&g.node(g.outputs[1]).op, &g.node(g.outputs[4]).op) else {
        panic!("outputs 1 and 4 are not inputs:\n{g}");
    };
    assert_ne!(i, j, "{g}");
    same_as_interp(&make);
}

#[test]
fn outputs_that_become_constants() {
    let xi = Tensor::from_vec(vec![3i32, -7, 0, i32::MAX], [4]);
    let x = x23();
    let make = || {
        vec![
            (&xi - &xi).to_dtype(DType::F32), // integer x - x is 0
            x.powf(0.0),                      // pow(x, 0) is 1, NaN and inf included
            (&x * 1.0).powf(0.0).sum(),       // a reduction of a constant
        ]
    };
    let ts = make();
    let g = simplified(&ts.iter().collect::<Vec<_>>());
    for o in &g.outputs {
        assert!(matches!(g.node(*o).op, Op::Const(_)), "{g}");
    }
    same_as_interp(&make);
    let ts = make();
    assert_eq!(f32s(&ts[0]), vec![0.0; 4]);
    assert_eq!(f32s(&ts[1]), vec![1.0; 6]);
    assert_eq!(f32s(&ts[2]), vec![6.0]);
}

#[test]
fn outputs_that_become_views_of_an_input() {
    let x = x23();
    let make = || {
        vec![
            (&x * 1.0).t(),          // a permute of the input: a copy kernel
            (&x - 0.0).reshape([6]), // a reshape of the input: its buffer
            (&x * 1.0).reshape([3, 2]).t().exp().t().reshape([2, 3]), // exp(x) in the end
            x.reshape([6]).reshape([3, 2]).reshape([2, 3]), // x itself
        ]
    };
    let ts = make();
    let g = simplified(&ts.iter().collect::<Vec<_>>());
    assert!(matches!(g.node(g.outputs[0]).op, Op::Permute(_)), "{g}");
    assert!(matches!(g.node(g.outputs[1]).op, Op::Reshape(_)), "{g}");
    assert_eq!(g.node(g.outputs[3]).op, Op::Input(0), "{g}");
    same_as_interp(&make);
}

#[test]
fn double_transposes_and_reshape_chains_fold_before_fusion() {
    // `(a @ b).t().t()` is the matmul itself: its output is the matmul's own buffer, not a copy.
    let a = Tensor::from_vec((0..12).map(|i| i as f32 * 0.5).collect::<Vec<_>>(), [3, 4]);
    let b = Tensor::from_vec(
        (0..20).map(|i| 1.0 - i as f32 * 0.1).collect::<Vec<_>>(),
        [4, 5],
    );
    let y = a.matmul(&b).t().t();
    let c = smelt::compile_debug(&[&y]).unwrap();
    let permutes = |g: &smelt_passes::Graph| g.to_string().matches("permute").count();
    // The matmul's own permute of `b` (it multiplies by `b.t()`) stays; the two transposes go.
    assert_eq!(permutes(&c.input), 3, "{}", c.input);
    assert_eq!(permutes(&c.simplified), 1, "{}", c.simplified);
    let out = c.schedule.outputs[0];
    assert!(
        c.schedule
            .steps
            .iter()
            .any(|s| matches!(s, Step::Matmul { out: o, .. } if *o == out)),
        "{}",
        c.schedule
    );
    assert_eq!(c.schedule.kernel_count(), 1, "{}", c.schedule);
    assert!(c.rewrites().unwrap().contains("fired permute-permute"));
    same_as_interp(&|| vec![a.matmul(&b).t().t()]);

    // A reshape chain back to the start is no reshape at all, and the exp runs in one kernel.
    let x = x23();
    let y = x.exp().reshape([6]).reshape([3, 2]).reshape([2, 3]);
    let c = smelt::compile_debug(&[&y]).unwrap();
    assert!(
        !c.simplified.to_string().contains("reshape"),
        "{}",
        c.simplified
    );
    assert_eq!(c.schedule.kernel_count(), 1);
    same_as_interp(&|| vec![x.exp().reshape([6]).reshape([3, 2]).reshape([2, 3])]);
}

#[test]
fn a_plan_is_compiled_once_and_reused() {
    // The plan cache is keyed by the collected graph: a second realize of the same structure with
    // other data reuses the simplified plan and still binds its own buffers.
    let run = |v: f32| {
        let x = Tensor::from_vec(vec![v, v + 1.0, v + 2.0], [3]);
        let y = Tensor::from_vec(vec![-v, 2.0 * v, 0.5], [3]);
        let outs = [&x * 1.0, (&y + 0.0).exp(), &x - &y];
        Tensor::realize_all(&outs.iter().collect::<Vec<_>>()).unwrap();
        outs.iter().map(f32s).collect::<Vec<_>>()
    };
    let first = run(1.0);
    let before = smelt::runtime::plans_compiled();
    let second = run(4.0);
    assert_eq!(
        smelt::runtime::plans_compiled(),
        before,
        "the second realize compiled a plan"
    );
    assert_eq!(first[0], vec![1.0, 2.0, 3.0]);
    assert_eq!(second[0], vec![4.0, 5.0, 6.0]);
    for (got, want) in second[1]
        .iter()
        .zip([(-4f32).exp(), 8f32.exp(), 0.5f32.exp()])
    {
        assert!((got - want).abs() <= 1e-6 * want, "{got} vs {want}");
    }
    assert_eq!(second[2], vec![8.0, -3.0, 5.5]);
}

#[test]
fn gpu_outputs_that_become_inputs_or_constants() {
    if !smelt::gpu_available() {
        eprintln!("no GPU adapter: skipped");
        return;
    }
    let dev = Device::Gpu(0);
    let x = x23().to(dev);
    let xi = Tensor::from_vec(vec![3i32, -7, 0, 9], [4]).to(dev);
    let outs = [
        &x * 1.0,
        x.t().t(),
        (&xi - &xi).to_dtype(DType::F32),
        (&x * 1.0).t(),
    ];
    Tensor::realize_all(&outs.iter().collect::<Vec<_>>()).unwrap();
    let want = f32s(&x23());
    for o in &outs[..2] {
        let got = f32s(&o.to(Device::Cpu));
        assert!(
            got.iter()
                .zip(&want)
                .all(|(a, b)| a.to_bits() == b.to_bits())
        );
    }
    assert_eq!(f32s(&outs[2].to(Device::Cpu)), vec![0.0; 4]);
    let t = f32s(&outs[3].to(Device::Cpu));
    assert_eq!(t[0].to_bits(), want[0].to_bits());
    assert_eq!(t[1].to_bits(), want[3].to_bits());
}
