//! When a statement sets a `CheckedIndex` error flag.
//!
//! The kernel IR evaluates on demand: a masked load reads (and so evaluates) its index only where its
//! mask is true, and `where(c, a, b)` evaluates only the branch `c` picks. A checked index that is out of
//! range sets its flag only if it was evaluated. The GPU evaluates every `let` eagerly (no side effects),
//! so the flag store is a separate statement: after a statement's expressions, for each checked index it
//! reaches, `if (!ok && demanded) { flag = 1 }`, where `demanded` is the condition under which the IR
//! would evaluate it: the disjunction, over the paths from the statement to it, of the masks and
//! conditions guarding each path (or `true` past a size limit, which at worst reports an index that the
//! IR would not have evaluated; never a wrong value).

use crate::kernel::{Expr, ExprId, Kernel, operands};
use std::collections::BTreeSet;

/// The longest condition kept, in characters; longer ones become `true`.
const MAX_CONDITION: usize = 4096;

/// Which expressions have a checked index among their transitive operands (or are one).
pub(super) fn reaches_checked(k: &Kernel) -> Vec<bool> {
    let mut out: Vec<bool> = Vec::with_capacity(k.exprs.len());
    for e in &k.exprs {
        let r =
            matches!(e, Expr::CheckedIndex { .. }) || operands(e).iter().any(|o| out[o.index()]);
        out.push(r);
    }
    out
}

/// For the statement reading `roots`: each checked index it reaches, with the WGSL condition under
/// which the IR evaluates it (`"true"` when unconditionally). `name` gives an expression's WGSL name;
/// `reaches` is [`reaches_checked`].
pub(super) fn demands(
    k: &Kernel,
    roots: &[ExprId],
    reaches: &[bool],
    name: impl Fn(ExprId) -> String,
) -> Vec<(ExprId, String)> {
    let mut need: Vec<Option<String>> = vec![None; k.exprs.len()];
    let mut live = BTreeSet::new();
    for &r in roots {
        if reaches[r.index()] {
            need[r.index()] = Some("true".into());
            live.insert(r);
        }
    }
    // Users come after their operands in the arena: visit from the last, so a node's condition is
    // complete before it flows to its operands.
    let mut out = Vec::new();
    while let Some(id) = live.pop_last() {
        let cond = need[id.index()]
            .clone()
            .expect("a live expression is demanded");
        let mut flow = |to: ExprId, guard: Option<String>| {
            if !reaches[to.index()] {
                return;
            }
            let term = match guard {
                None => cond.clone(),
                Some(g) if cond == "true" => g,
                Some(g) => format!("({cond}) && {g}"),
            };
            let slot = &mut need[to.index()];
            *slot = Some(match slot.take() {
                None => term,
                Some(old) if old == "true" || term == "true" => "true".into(),
                Some(old) if old == term => old,
                // Many guarded paths: give up on precision (conservatively: as if always evaluated).
                Some(old) if old.len() + term.len() > MAX_CONDITION => "true".into(),
                Some(old) => format!("({old}) || ({term})"),
            });
            live.insert(to);
        };
        match *k.expr(id) {
            Expr::Load {
                index,
                mask: Some(m),
                ..
            } => {
                flow(m, None);
                flow(index, Some(name(m)));
            }
            Expr::Where(c, a, b) => {
                flow(c, None);
                flow(a, Some(name(c)));
                flow(b, Some(format!("!{}", name(c))));
            }
            ref e => {
                for op in operands(e) {
                    flow(op, None);
                }
            }
        }
        if matches!(k.expr(id), Expr::CheckedIndex { .. }) {
            out.push((id, cond));
        }
    }
    out.reverse();
    out
}
