//! The rule tables, one file per topic, and the vocabulary they are written in.
//!
//! Each table is a list of rows `row(name, searcher, applier, condition)`:
//! - `rw(name, "lhs", "rhs", cond)`: both sides are egg patterns over [`TensorLang`];
//! - `build(name, "lhs", builder, cond)`: the right side is computed (a composed permutation, a
//!   constant of the right shape); the builder returns the class to merge with the match.
//!
//! Discipline (Cranelift's `opts/README.md`): the right side is never worse than the left under the cost
//! model, there is no blanket commutativity or associativity (each commuted form the rules need is its
//! own row), and no rule grows the work. Every condition that a rule needs for soundness (a dtype, a
//! shape, a known constant, the floating-point policy) is checked by the analysis data, never assumed.
//! A rule whose right side drops a bound subexpression checks that computing it cannot fail
//! ([`total`]): an out-of-range gather is an error in the input graph and must stay one.

pub mod algebra;
pub mod movement;
pub mod reduce;

pub use super::analysis::constant;
use super::analysis::{EGraph, FpPolicy, Rewrite, TensorAnalysis};
use super::lang::{Dims, Payloads, TensorLang};
use egg::{
    Applier, ConditionalApplier, ENodeOrVar, Id, Language, Pattern, PatternAst, SearchMatches,
    Searcher, Subst, Symbol, Var,
};
use smelt_codegen::{DType, Scalar};
use std::sync::OnceLock;

/// The topic a rule belongs to; `SimplifyOptions::rule_sets` turns topics on and off.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum RuleSet {
    Algebra,
    Movement,
    Reduce,
}

/// One row of a table.
pub struct Rule {
    pub name: &'static str,
    pub set: RuleSet,
    pub rewrite: Rewrite,
}

/// Every rule, in table order (built once; the patterns are parsed on first use).
pub fn all() -> &'static [Rule] {
    static RULES: OnceLock<Vec<Rule>> = OnceLock::new();
    RULES.get_or_init(|| {
        let tables = [
            (RuleSet::Algebra, algebra::rules()),
            (RuleSet::Movement, movement::rules()),
            (RuleSet::Reduce, reduce::rules()),
        ];
        tables
            .into_iter()
            .flat_map(|(set, rows)| {
                rows.into_iter()
                    .map(move |(name, rewrite)| Rule { name, set, rewrite })
            })
            .collect()
    })
}

// ---------------------------------------------------------------------------------------------------
// 1. Rows.
// ---------------------------------------------------------------------------------------------------

/// A table row before it is tagged with its topic.
pub type Row = (&'static str, Rewrite);

/// A condition on a match: the e-graph, the matched class, the bindings.
pub type Cond = Box<dyn Fn(&mut EGraph, Id, &Subst) -> bool + Send + Sync>;

/// Computes the right side of a rule: the class to merge with the matched one, or `None` to skip.
pub type Builder = Box<dyn Fn(&mut EGraph, Id, &Subst) -> Option<Id> + Send + Sync>;

/// A rule whose two sides are patterns.
pub fn rw(name: &'static str, lhs: &str, rhs: &str, cond: Cond) -> Row {
    let applier = ConditionalApplier {
        condition: cond,
        applier: pattern(rhs),
    };
    (
        name,
        Rewrite::new(name, searcher(lhs), applier).unwrap_or_else(|e| panic!("rule {name}: {e}")),
    )
}

/// A rule whose right side is computed by `builder`.
pub fn build(name: &'static str, lhs: &str, builder: Builder, cond: Cond) -> Row {
    let applier = ConditionalApplier {
        condition: cond,
        applier: Build(builder),
    };
    (
        name,
        Rewrite::new(name, searcher(lhs), applier).unwrap_or_else(|e| panic!("rule {name}: {e}")),
    )
}

fn pattern(s: &str) -> Pattern<TensorLang> {
    s.parse().unwrap_or_else(|e| panic!("pattern {s}: {e}"))
}

/// A left side, searched through an index when its root names an op kind (`(binary add ?x ?z)`): the
/// candidates are the users of the `add` payload class, not every `binary` class. Same matches, a
/// fraction of the work: most rules name their op.
fn searcher(s: &str) -> Indexed {
    let pattern = pattern(s);
    let ast = pattern.ast.as_ref();
    let key = match ast.last() {
        Some(ENodeOrVar::ENode(root)) => {
            root.children()
                .iter()
                .find_map(|c| match &ast[usize::from(*c)] {
                    ENodeOrVar::ENode(
                        n @ (TensorLang::UOp(_) | TensorLang::BOp(_) | TensorLang::ROp(_)),
                    ) => Some(n.clone()),
                    _ => None,
                })
        }
        _ => None,
    };
    Indexed { pattern, key }
}

struct Indexed {
    pattern: Pattern<TensorLang>,
    /// A payload leaf that is a child of the pattern's root.
    key: Option<TensorLang>,
}

impl Searcher<TensorLang, TensorAnalysis> for Indexed {
    fn search_eclass_with_limit(
        &self,
        egraph: &EGraph,
        eclass: Id,
        limit: usize,
    ) -> Option<SearchMatches<'_, TensorLang>> {
        self.pattern.search_eclass_with_limit(egraph, eclass, limit)
    }

    fn search_with_limit(
        &self,
        egraph: &EGraph,
        mut limit: usize,
    ) -> Vec<SearchMatches<'_, TensorLang>> {
        let Some(key) = &self.key else {
            return self.pattern.search_with_limit(egraph, limit);
        };
        let Some(key) = egraph.lookup(key.clone()) else {
            return vec![];
        };
        let mut classes: Vec<Id> = egraph[key].parents().map(|p| egraph.find(p)).collect();
        classes.sort_unstable();
        classes.dedup();
        let mut out = vec![];
        for class in classes {
            if limit == 0 {
                break;
            }
            if let Some(m) = self.pattern.search_eclass_with_limit(egraph, class, limit) {
                limit -= m.substs.len();
                out.push(m);
            }
        }
        out
    }

    fn get_pattern_ast(&self) -> Option<&PatternAst<TensorLang>> {
        Some(&self.pattern.ast)
    }

    fn vars(&self) -> Vec<Var> {
        self.pattern.vars()
    }
}

pub fn var(s: &str) -> Var {
    s.parse()
        .unwrap_or_else(|e| panic!("pattern variable {s}: {e}"))
}

struct Build(Builder);

impl Applier<TensorLang, TensorAnalysis> for Build {
    fn apply_one(
        &self,
        egraph: &mut EGraph,
        eclass: Id,
        subst: &Subst,
        _: Option<&PatternAst<TensorLang>>,
        _: Symbol,
    ) -> Vec<Id> {
        match (self.0)(egraph, eclass, subst) {
            Some(id) if egraph.union(eclass, id) => vec![eclass],
            _ => vec![],
        }
    }
}

// ---------------------------------------------------------------------------------------------------
// 2. Conditions.
// ---------------------------------------------------------------------------------------------------

pub fn always() -> Cond {
    Box::new(|_, _, _| true)
}

pub fn and(a: Cond, b: Cond) -> Cond {
    Box::new(move |eg, id, s| a(eg, id, s) && b(eg, id, s))
}

/// The class bound to `v` is a broadcast constant whose value satisfies `pred` under the policy.
pub fn value(v: &str, pred: fn(Scalar, FpPolicy) -> bool) -> Cond {
    let v = var(v);
    Box::new(move |eg, _, s| eg[s[v]].data.value.is_some_and(|x| pred(x, eg.analysis.fp)))
}

/// The class bound to `v` is a broadcast constant.
pub fn known(v: &str) -> Cond {
    value(v, |_, _| true)
}

/// The policy allows `pred`.
pub fn policy(pred: fn(FpPolicy) -> bool) -> Cond {
    Box::new(move |eg, _, _| pred(eg.analysis.fp))
}

/// Computing the class bound to `v` cannot fail at run time (it reads no gather), so a rule may drop it.
pub fn total(v: &str) -> Cond {
    let v = var(v);
    Box::new(move |eg, _, s| !eg[s[v]].data.may_fail)
}

/// The class bound to `v` has a float dtype.
pub fn float(v: &str) -> Cond {
    let v = var(v);
    Box::new(move |eg, _, s| ty_of(eg, s[v]).is_some_and(|t| t.dtype.is_float()))
}

/// The node `make(bindings)` exists and is used once in the input graph, so rewriting its users into a
/// form that recomputes it elsewhere duplicates no work.
pub fn unshared<const N: usize>(vars: [&str; N], make: fn([Id; N]) -> TensorLang) -> Cond {
    let vars = vars.map(var);
    Box::new(move |eg, _, s| {
        let node = make(vars.map(|v| s[v]));
        eg.lookup(node).is_some_and(|id| !eg[id].data.shared)
    })
}

// ---------------------------------------------------------------------------------------------------
// 3. Reading the e-graph, and building constants.
// ---------------------------------------------------------------------------------------------------

pub fn ty_of(eg: &EGraph, id: Id) -> Option<&crate::graph::TypeInfo> {
    eg[id].data.ty.as_ref()
}

pub fn shape_of(eg: &EGraph, id: Id) -> Option<Vec<usize>> {
    ty_of(eg, id).map(|t| t.shape.clone())
}

pub fn dims_of(eg: &EGraph, id: Id) -> Option<Vec<usize>> {
    eg.dims(id).map(|d| d.to_vec())
}

pub fn dtype_of(eg: &EGraph, id: Id) -> Option<DType> {
    ty_of(eg, id).map(|t| t.dtype)
}

/// Adds a `Dims` payload.
pub fn add_dims(eg: &mut EGraph, d: Vec<usize>) -> Id {
    eg.add(TensorLang::Dims(Dims::new(&d)))
}

/// A constant of the type of the class bound to `like`, filled with `v(dtype)`.
pub fn constant_like(like: &str, v: fn(DType) -> Scalar) -> Builder {
    let like = var(like);
    Box::new(move |eg, _, s| {
        let ty = ty_of(eg, s[like])?.clone();
        Some(constant(eg, &ty.shape, v(ty.dtype)))
    })
}

// ---------------------------------------------------------------------------------------------------
// 4. Scalar predicates for `value(..)`, with the floating-point policy.
// ---------------------------------------------------------------------------------------------------

fn is_neg_zero(x: Scalar) -> bool {
    match x {
        Scalar::F32(v) => v == 0.0 && v.is_sign_negative(),
        Scalar::F64(v) => v == 0.0 && v.is_sign_negative(),
        _ => false,
    }
}

fn is_pos_zero(x: Scalar) -> bool {
    match x {
        Scalar::F32(v) => v == 0.0 && v.is_sign_positive(),
        Scalar::F64(v) => v == 0.0 && v.is_sign_positive(),
        _ => false,
    }
}

fn is_int_zero(x: Scalar) -> bool {
    !x.dtype().is_float() && x.to_i64() == 0
}

/// `x + z == x` for every x: integer 0, float -0.0; float +0.0 only if signed zeros may change
/// (-0.0 + 0.0 is +0.0).
pub fn add_identity(x: Scalar, fp: FpPolicy) -> bool {
    is_int_zero(x) || is_neg_zero(x) || (is_pos_zero(x) && fp.signed_zero)
}

/// `x - z == x` for every x: integer 0, float +0.0; float -0.0 only if signed zeros may change.
pub fn sub_identity(x: Scalar, fp: FpPolicy) -> bool {
    is_int_zero(x) || is_pos_zero(x) || (is_neg_zero(x) && fp.signed_zero)
}

/// `z - x == -x` for every x: integer 0, float -0.0; float +0.0 only if signed zeros may change
/// (0.0 - 0.0 is +0.0, -0.0 is its negation).
pub fn neg_identity(x: Scalar, fp: FpPolicy) -> bool {
    is_int_zero(x) || is_neg_zero(x) || (is_pos_zero(x) && fp.signed_zero)
}

pub fn is_one(x: Scalar, _: FpPolicy) -> bool {
    x == Scalar::one(x.dtype())
}

/// -1 in a dtype that has a negation (u8's 255 is -1 modulo 256: `x * 255` wraps to `-x`).
pub fn is_minus_one(x: Scalar, _: FpPolicy) -> bool {
    x.dtype() != DType::Bool && x == Scalar::from_i64(-1, x.dtype())
}

/// Zero of either sign, or integer 0.
pub fn is_zero(x: Scalar, _: FpPolicy) -> bool {
    x.to_f64() == 0.0
}

/// 2; for floats only when rounding may change (`x * x` is the correctly rounded square, a libm `pow`
/// may be an ulp away).
pub fn is_two(x: Scalar, fp: FpPolicy) -> bool {
    x == Scalar::from_i64(2, x.dtype())
        && x.dtype() != DType::Bool
        && (!x.dtype().is_float() || fp.rounding)
}

/// 0.5, where `pow(x, 0.5) → sqrt(x)` is allowed: it differs at -0.0 and -inf.
pub fn is_half(x: Scalar, fp: FpPolicy) -> bool {
    x.dtype().is_float() && x.to_f64() == 0.5 && fp.assume_finite && fp.signed_zero
}

pub fn is_true(x: Scalar, _: FpPolicy) -> bool {
    x == Scalar::Bool(true)
}

pub fn is_false(x: Scalar, _: FpPolicy) -> bool {
    x == Scalar::Bool(false)
}
