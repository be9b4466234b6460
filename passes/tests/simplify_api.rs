//! The contract of `simplify` beyond the rules: outputs in order, inputs unchanged, labels kept,
//! deterministic results, every op kind carried through, and the report's text.

mod simplify_common;

use simplify_common::{Compare, GraphGen, Rng, build_graph, check_sound};
use smelt_passes::simplify::{SimplifyOptions, Stop, simplify};
use smelt_passes::{DType, Dist, Graph, Op, TypeInfo};

fn f32s(shape: &[usize]) -> TypeInfo {
    TypeInfo {
        shape: shape.to_vec(),
        dtype: DType::F32,
    }
}

#[test]
fn outputs_keep_their_order_and_repeats() {
    let g = build_graph(
        "x:f32[3] y:f32[3]",
        "(exp (neg (neg y))) x (add x 0.0) (exp y)",
    );
    let s = check_sound(
        &g,
        &SimplifyOptions::default(),
        &mut Rng::new(1),
        5,
        true,
        Compare::Close,
    )
    .unwrap();
    let out = &s.graph.outputs;
    assert_eq!(out.len(), 4);
    // exp(--y) and exp(y) are one node; x and x + 0 are one node.
    assert_eq!(out[0], out[3]);
    assert_eq!(out[1], out[2]);
    assert_eq!(s.graph.node(out[1]).op, Op::Input(0));
}

#[test]
fn inputs_are_unchanged_even_when_unused() {
    let g = build_graph("x:f32[3] y:i32[2]", "(sub x x) (mul (cast y f32) 1.0)");
    let opts = SimplifyOptions {
        assume_finite: true,
        ..SimplifyOptions::default()
    };
    let s = simplify(&g, &opts);
    s.graph.verify().unwrap();
    assert_eq!(s.graph.inputs, g.inputs);
    // x - x is a constant now, so input 0 has no node; input 1 still does.
    let leaves: Vec<&Op> = s
        .graph
        .ids()
        .map(|i| &s.graph.node(i).op)
        .filter(|op| matches!(op, Op::Input(_)))
        .collect();
    assert_eq!(leaves, [&Op::Input(1)]);
}

#[test]
fn labels_of_surviving_nodes_are_kept() {
    let mut g = Graph::new();
    let x = g.input(f32s(&[2, 3]));
    let one = simplify_common::full(&mut g, smelt_passes::Scalar::F32(1.0), &[2, 3]);
    let h = g.add(Op::Binary(smelt_passes::BinaryOp::Mul), &[x, one]);
    let y = g.add(Op::Unary(smelt_passes::UnaryOp::Exp), &[h]);
    g.outputs = vec![y, h];
    g.labels.insert(x, "x".into());
    g.labels.insert(h, "h".into());
    g.labels.insert(y, "y".into());
    let s = simplify(&g, &SimplifyOptions::default());
    // h = x * 1 is x: the class keeps the label of its lowest node, x; y survives as it is.
    let labels: Vec<(String, String)> = s
        .graph
        .ids()
        .filter_map(|i| {
            s.graph
                .labels
                .get(&i)
                .map(|l| (s.graph.node(i).op.name().to_string(), l.clone()))
        })
        .collect();
    assert_eq!(
        labels,
        [
            ("input".to_string(), "x".to_string()),
            ("exp".to_string(), "y".to_string())
        ]
    );
    assert!(
        s.graph.to_string().contains("exp %0 : f32[2,3]  # y"),
        "{}",
        s.graph
    );
}

#[test]
fn results_are_deterministic_across_runs_and_threads() {
    // A time limit is the one thing that can stop two runs at different points: make it unreachable.
    let mut opts = SimplifyOptions::default();
    opts.limits.time = std::time::Duration::from_secs(3600);
    let graphs: Vec<Graph> = (0..40).map(|k| GraphGen::new(9000 + k).graph(20)).collect();
    let run = |gs: &[Graph]| -> Vec<String> {
        gs.iter()
            .map(|g| {
                let s = simplify(g, &opts);
                format!("{}{}", s.graph, s.report)
            })
            .collect()
    };
    let same = |a: &[String], b: &[String]| {
        for (k, (x, y)) in a.iter().zip(b).enumerate() {
            assert_eq!(x, y, "graph {k} differs");
        }
    };
    let first = run(&graphs);
    same(&first, &run(&graphs));
    let threads: Vec<Vec<String>> = std::thread::scope(|sc| {
        let hs: Vec<_> = (0..4).map(|_| sc.spawn(|| run(&graphs))).collect();
        hs.into_iter().map(|h| h.join().unwrap()).collect()
    });
    for t in threads {
        same(&t, &first);
    }
}

#[test]
fn every_op_kind_is_carried_through() {
    // iota, rand, gather, cat, pad, slice, where, reduce, cast: nothing to simplify, all must survive.
    let mut g = Graph::new();
    let x = g.input(f32s(&[2, 3]));
    let r = g.add_typed(
        Op::Rand {
            seed: 5,
            offset: 2,
            dist: Dist::Normal,
        },
        &[],
        f32s(&[2, 3]),
    );
    let idx = g.add_typed(
        Op::Iota { axis: 1 },
        &[],
        TypeInfo {
            shape: vec![2, 3],
            dtype: DType::I64,
        },
    );
    let ga = g.add(Op::Gather { axis: 1 }, &[x, idx]);
    let c = g.add(Op::Cat { axis: 0 }, &[ga, r]);
    let p = g.add(
        Op::Pad {
            lo: vec![1, 0],
            hi: vec![0, 2],
            value: smelt_passes::Scalar::F32(-1.0),
        },
        &[c],
    );
    let sl = g.add_typed(
        Op::Slice {
            start: vec![1, 1],
            step: vec![2, 2],
        },
        &[p],
        f32s(&[2, 2]),
    );
    let m = g.add(
        Op::Reduce {
            op: smelt_passes::ReduceOp::Max,
            axes: vec![0],
        },
        &[sl],
    );
    let cmp = g.add(Op::Binary(smelt_passes::BinaryOp::CmpLt), &[ga, r]);
    let w = g.add(Op::Where, &[cmp, x, r]);
    let k = g.add(Op::Cast(DType::F64), &[w]);
    g.outputs = vec![m, k];
    let s = check_sound(
        &g,
        &SimplifyOptions::default(),
        &mut Rng::new(3),
        3,
        true,
        Compare::Bitwise,
    )
    .unwrap();
    assert_eq!(s.report.stop, Stop::Saturated);
    assert_eq!(s.graph.len(), g.len(), "{}", s.graph);
    assert!(s.report.fired.is_empty());
}

#[test]
fn a_graph_without_outputs() {
    let mut g = Graph::new();
    g.input(f32s(&[2]));
    let s = simplify(&g, &SimplifyOptions::default());
    assert_eq!(s.graph.len(), 0);
    assert!(s.graph.outputs.is_empty());
    assert_eq!(s.graph.inputs, g.inputs);
}

#[test]
fn report_text_is_stable_and_has_no_times() {
    let g = build_graph("x:f32[2,3]", "(permute (permute (mul x 1.0) [1,0]) [1,0])");
    let s = simplify(&g, &SimplifyOptions::default());
    let text = s.report.to_string();
    let lines: Vec<&str> = text.lines().collect();
    // Worked by hand: the input, the constant and two permutes cost 1 each (4), the multiply 2 per
    // element of f32[2,3] (12): 16; the result is the input alone (1).
    assert_eq!(lines[0], "nodes 5 -> 1");
    assert_eq!(lines[1], "cost work 16 nodes 5 -> work 1 nodes 1");
    assert_eq!(lines[2], "iterations 2, saturated");
    assert!(
        lines[3].starts_with("egraph ") && lines[3].ends_with(" classes"),
        "{text}"
    );
    assert_eq!(lines[4..], ["fired mul-one 1", "fired permute-permute 1"]);
    assert!(!text.contains("ms") && !text.contains("µs"));
    assert!(s.report.time >= s.report.search_time);
}

#[test]
fn a_gather_that_may_fail_is_never_dropped() {
    // An out-of-range index is an error; a rule that drops the gather would turn it into a value.
    let cases = [
        "(pow (gather x i 0) 0.0)",
        "(sub (gather n i 0) (gather n i 0))",
        "(where true x (gather x i 0))",
        "(where false (gather x i 0) x)",
        "(where true 2.0 (gather x i 0))",
        "(where (cmplt (gather x i 0) x) x x)",
    ];
    let bad = |g: &Graph| {
        g.inputs
            .iter()
            .map(|ty| {
                let data = match ty.dtype {
                    DType::F32 => smelt_passes::interp::Data::F(vec![1.0; ty.numel()]),
                    // index 7 of a 3-element axis
                    _ => smelt_passes::interp::Data::I(vec![7; ty.numel()]),
                };
                smelt_passes::interp::Array {
                    ty: ty.clone(),
                    data,
                }
            })
            .collect::<Vec<_>>()
    };
    for expr in cases {
        let g = build_graph("x:f32[3] n:i32[3] i:i64[3]", expr);
        let s = simplify(
            &g,
            &SimplifyOptions {
                assume_finite: true,
                ..SimplifyOptions::default()
            },
        );
        assert!(
            s.graph.to_string().contains("gather"),
            "{expr}:\n{}{}",
            s.graph,
            s.report
        );
        let inputs = bad(&g);
        assert!(smelt_passes::interp::eval(&g, &inputs).is_err(), "{expr}");
        assert!(
            smelt_passes::interp::eval(&s.graph, &inputs).is_err(),
            "{expr}:\n{}",
            s.graph
        );
    }
    // Without a gather the same rules fire.
    let g = build_graph("x:f32[3]", "(pow (exp x) 0.0) (where true x (neg x))");
    let s = simplify(&g, &SimplifyOptions::default());
    assert!(
        s.report.fired("pow-zero") > 0 && s.report.fired("where-true") > 0,
        "{}",
        s.report
    );
}

#[test]
fn a_graph_nothing_applies_to_comes_back_as_it_is() {
    // Nothing fires: the result is the input graph itself (same nodes, order, labels), not a rebuild.
    let mut g = build_graph(
        "x:f32[2,3] y:f32[2,3]",
        "(add (exp y) (mul x 2.0)) (sum x [1])",
    );
    g.labels.insert(smelt_passes::NodeId(1), "y".into());
    let s = simplify(&g, &SimplifyOptions::default());
    assert!(s.report.fired.is_empty(), "{}", s.report);
    assert_eq!(s.graph.to_string(), g.to_string());
    assert_eq!(s.graph.structural_hash(), g.structural_hash());
    assert_eq!(s.report.stop, Stop::Saturated);
}

#[test]
fn named_policies() {
    use smelt_passes::pipeline::options_named;
    // x + 0.0 → x changes -0.0 + 0.0 (which is +0.0); `exact` keeps it, `default` folds it.
    let g = build_graph("x:f32[3]", "(exp (add x 0.0))");
    let nodes = |name: &str| {
        let opts = options_named(name).expect(name);
        simplify(&g, &opts).graph.len()
    };
    assert_eq!(nodes("off"), g.len());
    assert_eq!(nodes("exact"), g.len());
    assert!(nodes("default") < g.len());
    assert!(nodes("finite") < g.len());
    assert!(options_named("fast-and-loose").is_none());
}
