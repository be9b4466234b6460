//! Soundness, measured: on seeded random graphs and random inputs, the reference interpreter gives the
//! same outputs before and after `simplify`, for every rule set and every floating-point policy.
//!
//! - exact policy (every switch off): bit-identical, with NaN, ±inf and ±0.0 among the inputs;
//! - default policy: equal up to rounding (±0.0 equal), NaN and ±inf exactly where they were;
//! - everything allowed (`assume_finite` too): equal up to rounding on cases whose every intermediate
//!   value is finite (the promise `assume_finite` makes).

mod simplify_common;

use simplify_common::{Compare, GraphGen, Rng, check_sound, random_inputs};
use smelt_passes::interp::{self, Data};
use smelt_passes::simplify::{FOLD, RuleSet, RuleSets, SimplifyOptions, rule_names};
use smelt_passes::{Graph, NodeId};
use std::collections::BTreeMap;

#[derive(Clone, Copy, Debug)]
enum Policy {
    Exact,
    Default,
    Finite,
}

impl Policy {
    fn options(self, sets: RuleSets) -> SimplifyOptions {
        let base = match self {
            Policy::Exact => SimplifyOptions::exact(),
            Policy::Default => SimplifyOptions::default(),
            Policy::Finite => SimplifyOptions {
                assume_finite: true,
                ..SimplifyOptions::default()
            },
        };
        SimplifyOptions {
            rule_sets: sets,
            ..base
        }
    }
}

/// Every intermediate value of `g` on `inputs` is finite.
fn all_finite(g: &Graph, inputs: &[interp::Array]) -> bool {
    let mut all = g.clone();
    all.outputs = (0..g.len() as u32).map(NodeId).collect();
    match interp::eval(&all, inputs) {
        Ok(vals) => vals.iter().all(|a| match &a.data {
            Data::F(v) => v.iter().all(|x| x.is_finite()),
            Data::I(_) => true,
        }),
        Err(_) => false,
    }
}

struct Tally {
    cases: usize,
    skipped: usize,
    fired: BTreeMap<&'static str, usize>,
}

/// Runs `cases` random graphs (seeds `seed..seed + cases`) through simplify under `policy` and `sets`.
fn run(policy: Policy, sets: RuleSets, seed: u64, cases: u64) -> Tally {
    let opts = policy.options(sets);
    let mut tally = Tally {
        cases: 0,
        skipped: 0,
        fired: BTreeMap::new(),
    };
    for k in seed..seed + cases {
        let maker = match policy {
            Policy::Exact => GraphGen::new(k),
            Policy::Default => GraphGen::new(k).continuous(false),
            Policy::Finite => GraphGen::new(k).continuous(true),
        };
        let g = maker.graph(3 + (k % 24) as usize);
        if std::env::var("PROGRESS").is_ok() {
            eprintln!("{policy:?} {sets:?} seed {k}");
        }
        let mut rng = Rng::new(k.wrapping_mul(31) + 7);
        let (specials, how) = match policy {
            Policy::Exact => (true, Compare::Bitwise),
            Policy::Default => (true, Compare::Close),
            Policy::Finite => {
                let inputs = random_inputs(&g, &mut Rng::new(k.wrapping_mul(31) + 7), false);
                if !all_finite(&g, &inputs) {
                    tally.skipped += 1;
                    continue;
                }
                (false, Compare::Close)
            }
        };
        match check_sound(&g, &opts, &mut rng, 3, specials, how) {
            Ok(s) => {
                tally.cases += 1;
                for (name, n) in &s.report.fired {
                    *tally.fired.entry(name).or_default() += n;
                }
            }
            Err(e) => panic!("{policy:?} {sets:?}, graph seed {k}: {e}\nbefore:\n{g}"),
        }
    }
    tally
}

/// Each rule table alone, constant folding alone, and everything.
const SETS: [RuleSets; 5] = [
    RuleSets {
        algebra: true,
        movement: false,
        reduce: false,
        fold: false,
    },
    RuleSets {
        algebra: false,
        movement: true,
        reduce: false,
        fold: false,
    },
    RuleSets {
        algebra: false,
        movement: false,
        reduce: true,
        fold: false,
    },
    RuleSets {
        algebra: false,
        movement: false,
        reduce: false,
        fold: true,
    },
    RuleSets::ALL,
];

fn per_set(policy: Policy, cases: u64) -> BTreeMap<&'static str, usize> {
    let mut fired = BTreeMap::new();
    for (i, sets) in SETS.into_iter().enumerate() {
        let t = run(policy, sets, 1000 * i as u64, cases);
        eprintln!(
            "{policy:?} {sets:?}: {} graphs checked, {} skipped",
            t.cases, t.skipped
        );
        assert!(t.cases >= cases as usize / 2, "too many cases skipped");
        for (name, n) in t.fired {
            *fired.entry(name).or_default() += n;
        }
    }
    fired
}

/// Each policy on its own corpus, each rule set on its own and all together; then every rule (and
/// constant folding) must have fired somewhere, or the corpus does not test it.
#[test]
fn every_policy_is_sound_and_every_rule_fires() {
    let exact = per_set(Policy::Exact, 150);
    // Rules that only change float rounding or need assume_finite never fire under the exact policy.
    for name in ["mul-recip", "recip-mul", "log-exp", "pow-half"] {
        assert!(
            !exact.contains_key(name),
            "{name} fired under the exact policy"
        );
    }
    let default = per_set(Policy::Default, 150);
    assert!(!default.contains_key("log-exp") && !default.contains_key("pow-half"));
    let finite = per_set(Policy::Finite, 150);
    let mut fired = exact;
    for (name, n) in default.into_iter().chain(finite) {
        *fired.entry(name).or_default() += n;
    }
    eprintln!("fired: {fired:?}");
    let mut all = rule_names();
    all.push(FOLD);
    let missing: Vec<&str> = all.into_iter().filter(|n| !fired.contains_key(n)).collect();
    assert!(
        missing.is_empty(),
        "rules that never fired on the corpus: {missing:?}"
    );
}

#[test]
fn rule_sets_select_their_rules() {
    // A set's rules fire only when the set is on.
    let t = run(Policy::Default, RuleSets::only(RuleSet::Movement), 5000, 60);
    let algebra: Vec<&str> = ["add-zero", "mul-one", "neg-neg", FOLD].into();
    assert!(
        t.fired.keys().all(|n| !algebra.contains(n)),
        "{:?}",
        t.fired
    );
}

#[test]
#[ignore = "long: 20,000 graphs per policy; run with --ignored --release"]
fn soundness_many() {
    for policy in [Policy::Exact, Policy::Default, Policy::Finite] {
        let t = run(policy, RuleSets::ALL, 100_000, 20_000);
        eprintln!(
            "{policy:?}: {} graphs checked, {} skipped, fired {:?}",
            t.cases, t.skipped, t.fired
        );
    }
}

#[test]
#[ignore]
fn debug_one() {
    let k: u64 = std::env::var("SEED")
        .map(|s| s.parse().unwrap())
        .unwrap_or(0);
    let g = GraphGen::new(k).graph(3 + (k % 24) as usize);
    let o = Policy::Exact.options(RuleSets::only(RuleSet::Algebra));
    let s = smelt_passes::simplify::simplify(&g, &o);
    eprintln!("{g}\n{}\n{}", s.graph, s.report);
}
