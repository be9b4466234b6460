//! `simplify`: algebra, constant folding, movement-op cancellation and reduce algebra by equality
//! saturation (egg).
//!
//! ```text
//! Graph ─ lang::from_graph ─▶ RecExpr<TensorLang> ─ Runner (node / iteration / time limits) ─▶ EGraph
//!       ─ extract (deterministic cost) ─▶ Graph (verified; same inputs, outputs in the same order)
//! ```
//!
//! ```text
//! before                                       after
//! %0 = input 0 : f32[2,3]                      %0 = input 0 : f32[2,3]
//! %1 = permute %0 [1,0] : f32[3,2]             %1 = exp %0 : f32[2,3]
//! %2 = exp %1 : f32[3,2]                       outputs %1
//! %3 = const 1.0f32 : f32[3,2]
//! %4 = mul %2, %3 : f32[3,2]                   fired mul-one, permute-unary, permute-permute
//! %5 = permute %4 [1,0] : f32[2,3]
//! outputs %5
//! ```
//!
//! # Invariants
//! - The result verifies, has the input's `inputs` (unchanged, so buffers bind as before; an input that
//!   no longer contributes simply has no node) and the same outputs in the same order. Labels of nodes
//!   that survive (or whose value survives in another form) are kept.
//! - What fails at run time still fails: an out-of-range gather is an error, and no rule drops a
//!   subexpression that reads a gather (`pow(gather(..), 0) → 1` would turn the error into a value).
//! - The search always stops: explicit node, iteration and time limits ([`Limits`]); the report says
//!   which one stopped it. Stopping early gives a valid, less simplified graph.
//! - Output is deterministic: the same graph and options give the same graph and report text (a time
//!   limit can stop a run at a different point, and the report says so).
//! - If extraction ever failed or cost more than the input (it should not), the input is returned
//!   unchanged and the report says why (`kept_input`).
//!
//! # Floating-point policy
//! Every rule is exact for every input, NaN, ±inf and -0.0 included, except the ones behind a switch
//! in [`SimplifyOptions`], each of which says in its table comment what it changes:
//!
//! | switch | default | what it allows |
//! |---|---|---|
//! | (none) | never | `x * 0 → 0` (NaN, inf), `exp(log x) → x` (x < 0) |
//! | `assume_finite` | off | rules wrong where a NaN or inf appears: `x - x → 0` (floats), `pow(x, 0.5) → sqrt(x)` (-inf), `log(exp x) → x` (exp overflows for x > 88.7 in f32) |
//! | `allow_signed_zero_changes` | on | a -0.0 result may become +0.0 or back: `x + 0.0 → x`, `x - (-0.0) → x`, `0.0 - x → -x`, float sum over a size-1 axis → x, `sum(broadcast x) → x * n`, `pow(x, 0.5) → sqrt(x)` |
//! | `allow_rounding_changes` | on | a different rounding of the same real value: reassociated float sums and products (`reduce-reduce`), `sum(broadcast x) → x * n`, folded float sums and products, `a * recip(b) → a / b`, `pow(x, 2) → x * x`, `log(exp x) → x` |
//!
//! A different rounding can also move an overflow: a partial sum that overflowed before reassociation
//! may not after it, and `1 / b` for a subnormal `b` overflows where `a / b` does not. These are the
//! usual consequences of reassociation (what `-ffast-math`'s `reassoc` allows), accepted under
//! `allow_rounding_changes`; a rule that is wrong for ordinary inputs that overflow (`log(exp x)`)
//! needs `assume_finite` instead.
//!
//! Integer rules are exact (wrapping arithmetic is associative); bool sums are `or`. Constant folding is
//! done by the reference interpreter in the op's dtype, so folding is exact under the interpreter: an
//! f32 op is folded in f32. [`SimplifyOptions::exact`] turns every switch off; then the result is
//! bit-identical to the input under the reference interpreter (the soundness tests check this).

mod analysis;
mod cost;
mod extract;
mod lang;
mod report;
pub mod rules;

pub use analysis::ClassData;
pub use cost::Cost;
pub use lang::TensorLang;
pub use report::{SimplifyReport, Stop};
pub use rules::RuleSet;

use crate::graph::Graph;
use analysis::{EGraph, FpPolicy, TensorAnalysis};
use egg::{Id, Runner, SimpleScheduler};
use std::collections::HashMap;
use std::time::{Duration, Instant};

/// Bounds on the e-graph search.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Limits {
    /// Stop once the e-graph holds more e-nodes than this (payload leaves count).
    pub nodes: usize,
    pub iterations: usize,
    pub time: Duration,
}

impl Default for Limits {
    /// Enough for a 1,000-node graph to saturate in a few milliseconds (see `examples/simplify_bench.rs`),
    /// small enough that a pathological graph stops within tens of milliseconds.
    fn default() -> Self {
        Limits {
            nodes: 30_000,
            iterations: 24,
            time: Duration::from_millis(50),
        }
    }
}

/// Which rule tables run.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct RuleSets {
    pub algebra: bool,
    pub movement: bool,
    pub reduce: bool,
    /// Constant folding, done by the analysis (reported as `fold-const`): elementwise ops on
    /// constants, views of constants, reductions of constants.
    pub fold: bool,
}

impl RuleSets {
    pub const ALL: RuleSets = RuleSets {
        algebra: true,
        movement: true,
        reduce: true,
        fold: true,
    };

    pub fn contains(self, set: RuleSet) -> bool {
        match set {
            RuleSet::Algebra => self.algebra,
            RuleSet::Movement => self.movement,
            RuleSet::Reduce => self.reduce,
        }
    }

    /// Only `set`'s table (and no folding).
    pub fn only(set: RuleSet) -> RuleSets {
        RuleSets {
            algebra: set == RuleSet::Algebra,
            movement: set == RuleSet::Movement,
            reduce: set == RuleSet::Reduce,
            fold: false,
        }
    }
}

/// Options of [`simplify`]; the floating-point switches are described in the module docs.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SimplifyOptions {
    pub limits: Limits,
    pub rule_sets: RuleSets,
    /// A -0.0 result may become +0.0 (or the reverse). Default on.
    pub allow_signed_zero_changes: bool,
    /// A result may be rounded differently (reassociation, fewer roundings). Default on.
    pub allow_rounding_changes: bool,
    /// The program never produces NaN or ±inf, so rules wrong only for them may fire. Default off.
    pub assume_finite: bool,
}

impl Default for SimplifyOptions {
    fn default() -> Self {
        SimplifyOptions {
            limits: Limits::default(),
            rule_sets: RuleSets::ALL,
            allow_signed_zero_changes: true,
            allow_rounding_changes: true,
            assume_finite: false,
        }
    }
}

impl SimplifyOptions {
    /// Every floating-point switch off: the result is bit-identical under the reference interpreter.
    pub fn exact() -> Self {
        SimplifyOptions {
            allow_signed_zero_changes: false,
            allow_rounding_changes: false,
            ..Self::default()
        }
    }

    fn fp(&self) -> FpPolicy {
        FpPolicy {
            signed_zero: self.allow_signed_zero_changes,
            rounding: self.allow_rounding_changes,
            assume_finite: self.assume_finite,
        }
    }
}

/// The simplified graph and the record of how it was found.
#[derive(Clone, Debug)]
pub struct Simplified {
    pub graph: Graph,
    pub report: SimplifyReport,
}

/// The report's name for constant folding, which the analysis does (not a table rule).
pub const FOLD: &str = "fold-const";

/// The names of every table rule, in table order (constant folding, [`FOLD`], is not among them).
pub fn rule_names() -> Vec<&'static str> {
    rules::all().iter().map(|r| r.name).collect()
}

/// Simplifies a graph (see the module docs for what it guarantees).
pub fn simplify(graph: &Graph, opts: &SimplifyOptions) -> Simplified {
    let start = Instant::now();
    let analysis = TensorAnalysis {
        inputs: graph.inputs.clone(),
        fp: opts.fp(),
        fold: opts.rule_sets.fold,
        folds: 0,
    };

    // 1. Graph → RecExpr → e-graph; classes of values used twice are marked shared.
    let expr = lang::from_graph(graph);
    let mut egraph = EGraph::new(analysis.clone());
    egraph.add_expr(&expr.expr);
    egraph.rebuild(); // folding may have merged classes while adding
    let expr_ids = egraph
        .lookup_expr_ids(&expr.expr)
        .expect("an expression just added is in the e-graph");
    let node_class = |i: usize| expr_ids[usize::from(expr.nodes[i])];
    let uses = live_use_counts(graph);
    for (i, &n) in uses.iter().enumerate() {
        if n > 1 {
            egraph[node_class(i)].data.shared = true;
        }
    }
    let root = expr_ids[usize::from(expr.root)];

    // 2. Saturate under the limits.
    let rules = rules::all()
        .iter()
        .filter(|r| opts.rule_sets.contains(r.set))
        .map(|r| &r.rewrite);
    let search_start = Instant::now();
    let runner = Runner::new(analysis)
        .with_egraph(egraph)
        .with_scheduler(SimpleScheduler)
        .with_node_limit(opts.limits.nodes)
        .with_iter_limit(opts.limits.iterations)
        .with_time_limit(opts.limits.time)
        .run(rules);
    let search_time = search_start.elapsed();
    let egraph = &runner.egraph;
    let fired = fired_counts(&runner);

    // 3. Extract and rebuild the graph. When no rule and no folding merged anything, the e-graph is the
    //    input graph itself (hash-consed, as the graph already is): with no dead nodes to drop, the input
    //    is the result, and extraction is skipped (the common case for what a front end collects).
    let built = if fired.is_empty() && uses.iter().all(|&u| u > 0) {
        Ok(graph.clone())
    } else {
        let labels = class_labels(graph, egraph, &node_class);
        let mut extraction = extract::extract(egraph, root);
        extraction.share(egraph, root);
        extract::to_graph(egraph, &extraction, root, &graph.inputs, &labels).and_then(|g| {
            g.verify()
                .map(|()| g)
                .map_err(|e| format!("the result does not verify: {e}"))
        })
    };

    // 4. Keep the input if the result is not an improvement (or, a bug, not a valid graph).
    let cost_before = cost::graph_cost(graph);
    let (result, kept_input) = match built {
        Ok(g) if cost::graph_cost(&g).work_and_nodes() <= cost_before.work_and_nodes() => (g, None),
        Ok(g) => {
            let after = cost::graph_cost(&g);
            let why = format!(
                "the extracted graph does more work ({} work, {} nodes) than the input",
                after.work, after.nodes
            );
            (graph.clone(), Some(why))
        }
        Err(e) => (graph.clone(), Some(e)),
    };

    let report = SimplifyReport {
        nodes_before: graph.len(),
        nodes_after: result.len(),
        cost_before,
        cost_after: cost::graph_cost(&result),
        iterations: runner.iterations.len(),
        stop: runner
            .stop_reason
            .clone()
            .map_or(Stop::Other("not run".into()), Stop::from),
        egraph_nodes: egraph.total_number_of_nodes(),
        egraph_classes: egraph.number_of_classes(),
        fired,
        kept_input,
        time: start.elapsed(),
        search_time,
    };
    Simplified {
        graph: result,
        report,
    }
}

/// How many times each node is used by a node that an output needs, or as an output. A value used
/// twice only by dead code is not shared: the result computes it once.
fn live_use_counts(graph: &Graph) -> Vec<usize> {
    let mut live = vec![false; graph.len()];
    let mut uses = vec![0; graph.len()];
    for o in &graph.outputs {
        live[o.index()] = true;
        uses[o.index()] += 1;
    }
    for id in graph.ids().collect::<Vec<_>>().into_iter().rev() {
        if live[id.index()] {
            for s in &graph.node(id).srcs {
                live[s.index()] = true;
                uses[s.index()] += 1;
            }
        }
    }
    uses
}

/// The label of each class that holds a labelled input node (the lowest node id wins).
fn class_labels(
    graph: &Graph,
    egraph: &EGraph,
    node_class: &impl Fn(usize) -> Id,
) -> HashMap<Id, String> {
    let mut labelled: Vec<_> = graph.labels.iter().collect();
    labelled.sort();
    let mut out = HashMap::new();
    for (id, label) in labelled {
        out.entry(egraph.find(node_class(id.index())))
            .or_insert_with(|| label.clone());
    }
    out
}

/// Merges made by each rule over all iterations, in table order, then constant folding.
fn fired_counts(runner: &Runner<TensorLang, TensorAnalysis>) -> Vec<(&'static str, usize)> {
    let mut fired: Vec<(&'static str, usize)> = rules::all()
        .iter()
        .filter_map(|r| {
            let n: usize = runner
                .iterations
                .iter()
                .filter_map(|it| it.applied.get(&r.rewrite.name))
                .sum();
            (n > 0).then_some((r.name, n))
        })
        .collect();
    if runner.egraph.analysis.folds > 0 {
        fired.push((FOLD, runner.egraph.analysis.folds));
    }
    fired
}
