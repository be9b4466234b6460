//! Symbolic index arithmetic: affine sums of atoms, with floor division and remainder by constants.
//!
//! Movement ops become index maps over these expressions, so a chain of views costs a few integer ops
//! per load. The simplifier knows what makes reshapes free: `floor((q*d + r) / d) = q` and
//! `(q*d + r) mod d = r` when `0 <= r < d`, and `d*floor(x/d) + (x mod d) = x`.

use smelt_codegen::kernel::{ExprId, KernelBuilder, LoopVar};

/// An indivisible part of an index expression.
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Atom {
    /// A loop variable ranging over `0..extent`.
    Var { var: u32, extent: u64 },
    /// `floor(a / d)` for `d > 1`.
    Div(Box<Affine>, i64),
    /// `a mod d` for `d > 1`, in `[0, d)`.
    Mod(Box<Affine>, i64),
    /// An index computed from data (a kernel expression), in `0..len`.
    Data { expr: u32, len: u64 },
}

/// `Σ coef·atom + c`, terms sorted by atom, no zero coefficients.
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Default)]
pub struct Affine {
    pub terms: Vec<(Atom, i64)>,
    pub c: i64,
}

impl Atom {
    fn range(&self) -> (i64, i64) {
        match self {
            Atom::Var { extent, .. } => (0, *extent as i64 - 1),
            Atom::Div(a, d) => {
                let (lo, hi) = a.range();
                (lo.div_euclid(*d), hi.div_euclid(*d))
            }
            Atom::Mod(a, d) => {
                let (lo, hi) = a.range();
                if lo.div_euclid(*d) == hi.div_euclid(*d) {
                    (lo.rem_euclid(*d), hi.rem_euclid(*d))
                } else {
                    (0, d - 1)
                }
            }
            Atom::Data { len, .. } => (0, *len as i64 - 1),
        }
    }
}

impl Affine {
    pub fn constant(c: i64) -> Affine {
        Affine { terms: vec![], c }
    }

    /// A loop variable (a variable of extent 1 is the constant 0).
    pub fn var(var: LoopVar, extent: u64) -> Affine {
        if extent <= 1 {
            return Affine::constant(0);
        }
        Affine {
            terms: vec![(Atom::Var { var: var.0, extent }, 1)],
            c: 0,
        }
    }

    pub fn data(expr: ExprId, len: u64) -> Affine {
        Affine {
            terms: vec![(Atom::Data { expr: expr.0, len }, 1)],
            c: 0,
        }
    }

    pub fn as_const(&self) -> Option<i64> {
        self.terms.is_empty().then_some(self.c)
    }

    /// The inclusive range of values over all variable values.
    pub fn range(&self) -> (i64, i64) {
        let (mut lo, mut hi) = (self.c, self.c);
        for (a, k) in &self.terms {
            let (l, h) = a.range();
            let (x, y) = (l * k, h * k);
            lo += x.min(y);
            hi += x.max(y);
        }
        (lo, hi)
    }

    fn from_terms(mut terms: Vec<(Atom, i64)>, c: i64) -> Affine {
        terms.sort_by(|a, b| a.0.cmp(&b.0));
        let mut out: Vec<(Atom, i64)> = Vec::with_capacity(terms.len());
        for (a, k) in terms {
            match out.last_mut() {
                Some((b, j)) if *b == a => *j += k,
                _ => out.push((a, k)),
            }
        }
        out.retain(|(_, k)| *k != 0);
        Affine { terms: out, c }.recombine()
    }

    /// Rewrites `k·d·floor(x/d) + k·(x mod d)` as `k·x`.
    fn recombine(self) -> Affine {
        for (i, (a, k)) in self.terms.iter().enumerate() {
            let Atom::Mod(x, d) = a else { continue };
            let div = Atom::Div(x.clone(), *d);
            let Some(j) = self.terms.iter().position(|(b, _)| *b == div) else {
                continue;
            };
            if self.terms[j].1 != k * d {
                continue;
            }
            let mut terms: Vec<(Atom, i64)> = self
                .terms
                .iter()
                .enumerate()
                .filter(|&(n, _)| n != i && n != j)
                .map(|(_, t)| t.clone())
                .collect();
            terms.extend(x.terms.iter().map(|(a, j)| (a.clone(), j * k)));
            return Affine::from_terms(terms, self.c + x.c * k);
        }
        self
    }

    pub fn add(&self, other: &Affine) -> Affine {
        let terms = self.terms.iter().chain(&other.terms).cloned().collect();
        Affine::from_terms(terms, self.c + other.c)
    }

    pub fn add_const(&self, c: i64) -> Affine {
        Affine {
            terms: self.terms.clone(),
            c: self.c + c,
        }
    }

    pub fn scale(&self, k: i64) -> Affine {
        if k == 0 {
            return Affine::constant(0);
        }
        Affine {
            terms: self.terms.iter().map(|(a, j)| (a.clone(), j * k)).collect(),
            c: self.c * k,
        }
    }

    /// Splits `self` into `q·d + r` with every coefficient of `r` in `[0, d)`: returns `(q, r)`.
    fn split(&self, d: i64) -> (Affine, Affine) {
        let (mut q, mut r) = (vec![], vec![]);
        for (a, k) in &self.terms {
            q.push((a.clone(), k.div_euclid(d)));
            r.push((a.clone(), k.rem_euclid(d)));
        }
        (
            Affine::from_terms(q, self.c.div_euclid(d)),
            Affine::from_terms(r, self.c.rem_euclid(d)),
        )
    }

    /// `floor(self / d)` for `d > 0`.
    pub fn floor_div(&self, d: i64) -> Affine {
        assert!(d > 0, "division of an index by {d}");
        if d == 1 {
            return self.clone();
        }
        let (q, r) = self.split(d);
        let (lo, hi) = r.range();
        if lo.div_euclid(d) == hi.div_euclid(d) {
            return q.add_const(lo.div_euclid(d));
        }
        // floor(floor(x / a) / b) = floor(x / (a*b))
        if r.c == 0
            && let [(Atom::Div(x, a), 1)] = r.terms.as_slice()
        {
            return q.add(&Affine {
                terms: vec![(Atom::Div(x.clone(), a * d), 1)],
                c: 0,
            });
        }
        q.add(&Affine {
            terms: vec![(Atom::Div(Box::new(r), d), 1)],
            c: 0,
        })
    }

    /// `self mod d` for `d > 0`, in `[0, d)`.
    pub fn rem(&self, d: i64) -> Affine {
        assert!(d > 0, "remainder of an index by {d}");
        if d == 1 {
            return Affine::constant(0);
        }
        let (_, r) = self.split(d);
        let (lo, hi) = r.range();
        if lo.div_euclid(d) == hi.div_euclid(d) {
            return r.add_const(-lo.div_euclid(d) * d);
        }
        Affine {
            terms: vec![(Atom::Mod(Box::new(r), d), 1)],
            c: 0,
        }
    }

    /// The number of atoms, counting those inside divisions and remainders (a measure of index cost).
    pub fn size(&self) -> usize {
        self.terms
            .iter()
            .map(|(a, _)| match a {
                Atom::Div(x, _) | Atom::Mod(x, _) => 1 + x.size(),
                _ => 1,
            })
            .sum()
    }

    /// Whether any division, remainder or data atom appears (the index is not a plain strided one).
    pub fn is_strided(&self) -> bool {
        self.terms
            .iter()
            .all(|(a, _)| matches!(a, Atom::Var { .. }))
    }

    /// The coefficient of a loop variable (0 if absent), for strided indices.
    pub fn coef(&self, var: LoopVar) -> i64 {
        self.terms
            .iter()
            .find(|(a, _)| matches!(a, Atom::Var { var: v, .. } if *v == var.0))
            .map_or(0, |t| t.1)
    }

    /// The loop variables appearing anywhere (also inside divisions).
    pub fn vars(&self, out: &mut Vec<u32>) {
        for (a, _) in &self.terms {
            match a {
                Atom::Var { var, .. } => {
                    if !out.contains(var) {
                        out.push(*var)
                    }
                }
                Atom::Div(x, _) | Atom::Mod(x, _) => x.vars(out),
                Atom::Data { .. } => {}
            }
        }
    }

    /// Whether a data-dependent atom appears.
    pub fn has_data(&self) -> bool {
        self.terms.iter().any(|(a, _)| match a {
            Atom::Data { .. } => true,
            Atom::Div(x, _) | Atom::Mod(x, _) => x.has_data(),
            Atom::Var { .. } => false,
        })
    }

    /// Emits kernel index expressions for this sum.
    pub fn emit(&self, b: &mut KernelBuilder) -> ExprId {
        let mut acc = b.index(0);
        for (a, k) in &self.terms {
            let e = match a {
                Atom::Var { var, .. } => b.var(LoopVar(*var)),
                Atom::Div(x, d) => {
                    let x = x.emit(b);
                    b.expr(smelt_codegen::kernel::Expr::IDiv(x, *d))
                }
                Atom::Mod(x, d) => {
                    let x = x.emit(b);
                    b.expr(smelt_codegen::kernel::Expr::IMod(x, *d))
                }
                Atom::Data { expr, .. } => ExprId(*expr),
            };
            let t = b.imul(e, *k);
            acc = b.iadd(acc, t);
        }
        let c = b.index(self.c);
        b.iadd(acc, c)
    }
}

/// The index of each dim of a C-contiguous `shape` holding linear index `linear`.
pub fn unravel(linear: &Affine, shape: &[usize]) -> Vec<Affine> {
    let mut out = vec![Affine::constant(0); shape.len()];
    let mut stride = 1i64;
    for d in (0..shape.len()).rev() {
        let n = shape[d] as i64;
        out[d] = if n <= 1 {
            // A 0-size dim is only indexed in loops that never run.
            Affine::constant(0)
        } else if d == 0 {
            linear.floor_div(stride)
        } else {
            linear.floor_div(stride).rem(n)
        };
        stride *= n.max(1);
    }
    out
}

/// The linear index of multi-index `idx` in a C-contiguous `shape`.
pub fn ravel(idx: &[Affine], shape: &[usize]) -> Affine {
    let mut out = Affine::constant(0);
    let mut stride = 1i64;
    for d in (0..shape.len()).rev() {
        out = out.add(&idx[d].scale(stride));
        stride *= shape[d] as i64;
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn v(i: u32, n: u64) -> Affine {
        Affine::var(LoopVar(i), n)
    }

    #[test]
    fn reshape_round_trip_is_free() {
        // [4096, 4096] flattened to one variable and split back: the load index is the variable itself.
        let x = v(0, 1 << 24);
        let idx = unravel(&x, &[4096, 4096]);
        assert_eq!(ravel(&idx, &[4096, 4096]), x);
        // Splitting a variable that ranges within one row needs no division.
        let y = v(1, 4096).add(&v(0, 8).scale(4096));
        let idx = unravel(&y, &[8, 4096]);
        assert_eq!(idx, vec![v(0, 8), v(1, 4096)]);
    }

    #[test]
    fn ranges_decide_div_and_mod() {
        let x = v(0, 10);
        assert_eq!(x.floor_div(16), Affine::constant(0));
        assert_eq!(x.rem(16), x);
        assert_eq!(x.add_const(16).rem(16), x);
        assert_eq!(x.floor_div(4).floor_div(2), x.floor_div(8));
        let (lo, hi) = x.scale(-3).add_const(5).range();
        assert_eq!((lo, hi), (-22, 5));
    }

    #[test]
    fn opaque_div_mod_evaluate_correctly() {
        // Check the symbolic results against plain arithmetic for every value.
        let e = v(0, 100).scale(3).add_const(7);
        for d in [2i64, 5, 7, 64] {
            let (q, r) = (e.floor_div(d), e.rem(d));
            for i in 0..100i64 {
                assert_eq!(eval(&q, i), (3 * i + 7).div_euclid(d));
                assert_eq!(eval(&r, i), (3 * i + 7).rem_euclid(d));
            }
        }
    }

    fn eval(a: &Affine, x: i64) -> i64 {
        a.c + a
            .terms
            .iter()
            .map(|(t, k)| {
                k * match t {
                    Atom::Var { .. } => x,
                    Atom::Div(y, d) => eval(y, x).div_euclid(*d),
                    Atom::Mod(y, d) => eval(y, x).rem_euclid(*d),
                    Atom::Data { .. } => unreachable!(),
                }
            })
            .sum::<i64>()
    }
}
