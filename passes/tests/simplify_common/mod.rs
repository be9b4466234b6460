//! Test support for the simplify tests: a tiny s-expression graph builder, random inputs, an
//! output comparison, and a seeded random-graph generator.
#![allow(dead_code)]

use smelt_passes::interp::{self, Array, Data};
use smelt_passes::simplify::{SimplifyOptions, simplify};
use smelt_passes::{BinaryOp, DType, Dist, Graph, NodeId, Op, ReduceOp, Scalar, TypeInfo, UnaryOp};

// ---------------------------------------------------------------------------------------------------
// 1. Seeded randomness (SplitMix64).
// ---------------------------------------------------------------------------------------------------

pub struct Rng(u64);

impl Rng {
    pub fn new(seed: u64) -> Self {
        Rng(seed ^ 0x9E37_79B9_7F4A_7C15)
    }

    pub fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    pub fn below(&mut self, n: usize) -> usize {
        (self.next() % n.max(1) as u64) as usize
    }

    pub fn chance(&mut self, p: f64) -> bool {
        (self.next() >> 11) as f64 / (1u64 << 53) as f64 <= p
    }

    pub fn pick<T: Clone>(&mut self, xs: &[T]) -> T {
        xs[self.below(xs.len())].clone()
    }
}

// ---------------------------------------------------------------------------------------------------
// 2. Inputs and comparison.
// ---------------------------------------------------------------------------------------------------

/// Random input arrays for a graph. `specials` mixes in 0, -0, ±inf and NaN among the floats.
pub fn random_inputs(g: &Graph, rng: &mut Rng, specials: bool) -> Vec<Array> {
    g.inputs
        .iter()
        .map(|ty| {
            let n = ty.numel();
            let data = if ty.dtype.is_float() {
                Data::F(
                    (0..n)
                        .map(|_| {
                            let v = if specials && rng.chance(0.15) {
                                rng.pick(&[
                                    0.0,
                                    -0.0,
                                    f64::INFINITY,
                                    f64::NEG_INFINITY,
                                    f64::NAN,
                                    1.0,
                                    -1.0,
                                ])
                            } else {
                                (rng.below(4801) as f64 - 2400.0) / 800.0
                            };
                            if ty.dtype == DType::F32 {
                                v as f32 as f64
                            } else {
                                v
                            }
                        })
                        .collect(),
                )
            } else {
                Data::I(
                    (0..n)
                        .map(|_| match ty.dtype {
                            DType::Bool => rng.below(2) as i64,
                            DType::U8 => rng.below(256) as i64,
                            _ => rng.below(21) as i64 - 10,
                        })
                        .collect(),
                )
            };
            Array {
                ty: ty.clone(),
                data,
            }
        })
        .collect()
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Compare {
    /// Bit-identical floats (any NaN equals any NaN), equal integers.
    Bitwise,
    /// Floats within a relative tolerance; NaN only where NaN, ±inf only where the same inf; ±0 equal.
    Close,
}

pub fn compare(before: &[Array], after: &[Array], how: Compare) -> Result<(), String> {
    if before.len() != after.len() {
        return Err(format!(
            "{} outputs before, {} after",
            before.len(),
            after.len()
        ));
    }
    for (k, (b, a)) in before.iter().zip(after).enumerate() {
        if b.ty != a.ty {
            return Err(format!("output {k}: type {} before, {} after", b.ty, a.ty));
        }
        match (&b.data, &a.data) {
            (Data::I(x), Data::I(y)) => {
                if let Some(i) = (0..x.len()).find(|&i| x[i] != y[i]) {
                    return Err(format!(
                        "output {k} element {i}: {} before, {} after",
                        x[i], y[i]
                    ));
                }
            }
            (Data::F(x), Data::F(y)) => {
                for i in 0..x.len() {
                    let (p, q) = (x[i], y[i]);
                    let ok = match how {
                        Compare::Bitwise => {
                            (p.is_nan() && q.is_nan()) || p.to_bits() == q.to_bits()
                        }
                        Compare::Close => {
                            (p.is_nan() && q.is_nan())
                                || p == q
                                || (p.is_finite()
                                    && q.is_finite()
                                    && (p - q).abs() <= 1e-4 * (1.0 + p.abs().max(q.abs())))
                        }
                    };
                    if !ok {
                        return Err(format!("output {k} element {i}: {p:?} before, {q:?} after"));
                    }
                }
            }
            _ => return Err(format!("output {k}: data kinds differ")),
        }
    }
    Ok(())
}

/// Simplifies `g` with `opts` and checks the result on `trials` random input sets. Returns the
/// simplified graph and report, or a description of the first mismatch.
pub fn check_sound(
    g: &Graph,
    opts: &SimplifyOptions,
    rng: &mut Rng,
    trials: usize,
    specials: bool,
    how: Compare,
) -> Result<smelt_passes::simplify::Simplified, String> {
    let s = simplify(g, opts);
    s.graph
        .verify()
        .map_err(|e| format!("result does not verify: {e}"))?;
    if s.graph.inputs != g.inputs {
        return Err("inputs changed".into());
    }
    if let Some(why) = &s.report.kept_input {
        return Err(format!("kept input: {why}"));
    }
    for _ in 0..trials {
        let inputs = random_inputs(g, rng, specials);
        let before = interp::eval(g, &inputs).map_err(|e| format!("eval before: {e}"))?;
        let after = interp::eval(&s.graph, &inputs).map_err(|e| format!("eval after: {e}"))?;
        compare(&before, &after, how).map_err(|e| format!("{e}\nafter:\n{}", s.graph))?;
    }
    Ok(s)
}

// ---------------------------------------------------------------------------------------------------
// 3. The s-expression builder: `(add x 0.0)` with inputs declared as `x:f32[2,3] y:i32[3]`.
//    A bare number is a weak scalar: it takes the type of its sibling operand and is broadcast the
//    way the Tensor API does it (one const node of the sibling's shape).
// ---------------------------------------------------------------------------------------------------

#[derive(Clone, Debug)]
enum Sexp {
    Atom(String),
    List(Vec<Sexp>),
}

fn parse_sexps(src: &str) -> Vec<Sexp> {
    let spaced = src.replace('(', " ( ").replace(')', " ) ");
    let mut tokens = spaced.split_whitespace().peekable();
    let mut out = vec![];
    fn one<'a>(t: &mut std::iter::Peekable<impl Iterator<Item = &'a str>>) -> Sexp {
        match t.next().expect("unexpected end") {
            "(" => {
                let mut items = vec![];
                while t.peek() != Some(&")") {
                    items.push(one(t));
                }
                t.next();
                Sexp::List(items)
            }
            ")" => panic!("unexpected )"),
            a => Sexp::Atom(a.to_string()),
        }
    }
    while tokens.peek().is_some() {
        out.push(one(&mut tokens));
    }
    out
}

pub fn parse_type(s: &str) -> TypeInfo {
    let open = s.find('[').expect("type like f32[2,3]");
    let dtype = DType::ALL
        .into_iter()
        .find(|d| d.name() == &s[..open])
        .expect("dtype name");
    TypeInfo {
        shape: parse_list(&s[open..]),
        dtype,
    }
}

pub fn parse_list(s: &str) -> Vec<usize> {
    let inner = s.trim_start_matches('[').trim_end_matches(']');
    if inner.is_empty() {
        vec![]
    } else {
        inner
            .split(',')
            .map(|d| d.parse().expect("integer"))
            .collect()
    }
}

fn parse_scalar(s: &str, dtype: DType) -> Option<Scalar> {
    let v = match s {
        "true" => 1.0,
        "false" => 0.0,
        "nan" => f64::NAN,
        "inf" => f64::INFINITY,
        "-inf" => f64::NEG_INFINITY,
        _ => s.parse::<f64>().ok()?,
    };
    Some(if dtype.is_float() {
        Scalar::from_f64(v, dtype)
    } else {
        Scalar::from_i64(v as i64, dtype)
    })
}

/// Adds a broadcast constant the way the Tensor API does: one `const` node of the full shape.
pub fn full(g: &mut Graph, v: Scalar, shape: &[usize]) -> NodeId {
    g.add_typed(
        Op::Const(v),
        &[],
        TypeInfo {
            shape: shape.to_vec(),
            dtype: v.dtype(),
        },
    )
}

const UNARY: [UnaryOp; 16] = UnaryOp::ALL;

const BINARY: [BinaryOp; 15] = BinaryOp::ALL;

struct Builder<'a> {
    g: Graph,
    names: Vec<(&'a str, NodeId)>,
}

impl Builder<'_> {
    /// Builds `e`; a bare number needs `like`, the type it takes.
    fn node(&mut self, e: &Sexp, like: Option<&TypeInfo>) -> NodeId {
        match e {
            Sexp::Atom(a) => {
                if let Some((_, id)) = self.names.iter().find(|(n, _)| n == a) {
                    return *id;
                }
                let like =
                    like.unwrap_or_else(|| panic!("scalar {a} has no sibling to take a type from"));
                let v = parse_scalar(a, like.dtype).unwrap_or_else(|| panic!("unknown name {a}"));
                full(&mut self.g, v, &like.shape)
            }
            Sexp::List(items) => {
                let Sexp::Atom(head) = &items[0] else {
                    panic!("list head must be an op")
                };
                let args = &items[1..];
                let atom = |i: usize| match &args[i] {
                    Sexp::Atom(a) => a.as_str(),
                    _ => panic!("{head}: argument {i} must be an atom"),
                };
                let head = head.as_str();
                if let Some(u) = UNARY.into_iter().find(|u| u.name() == head) {
                    let x = self.node(&args[0], like);
                    return self.g.add(Op::Unary(u), &[x]);
                }
                if let Some(b) = BINARY.into_iter().find(|b| b.name() == head) {
                    let (x, y) = self.pair(&args[0], &args[1]);
                    return self.g.add(Op::Binary(b), &[x, y]);
                }
                let reduce = [
                    ("sum", ReduceOp::Sum),
                    ("prod", ReduceOp::Prod),
                    ("amax", ReduceOp::Max),
                    ("amin", ReduceOp::Min),
                ];
                if let Some((_, r)) = reduce.iter().find(|(n, _)| *n == head) {
                    let x = self.node(&args[0], None);
                    return self.g.add(
                        Op::Reduce {
                            op: *r,
                            axes: parse_list(atom(1)),
                        },
                        &[x],
                    );
                }
                match head {
                    "where" => {
                        let (a, b) = self.pair(&args[1], &args[2]);
                        let ty = self.g.node(a).ty.clone();
                        let c = self.node(
                            &args[0],
                            Some(&TypeInfo {
                                shape: ty.shape,
                                dtype: DType::Bool,
                            }),
                        );
                        self.g.add(Op::Where, &[c, a, b])
                    }
                    "cast" => {
                        let x = self.node(&args[0], None);
                        let d = DType::ALL
                            .into_iter()
                            .find(|d| d.name() == atom(1))
                            .expect("dtype");
                        self.g.add(Op::Cast(d), &[x])
                    }
                    "const" => {
                        // `(const 1.0 f32)` is 0-d, `(const 1.0 f32 [3])` has the shape given.
                        let d = DType::ALL
                            .into_iter()
                            .find(|d| d.name() == atom(1))
                            .expect("dtype");
                        let shape = if args.len() > 2 {
                            parse_list(atom(2))
                        } else {
                            vec![]
                        };
                        full(
                            &mut self.g,
                            parse_scalar(atom(0), d).expect("scalar"),
                            &shape,
                        )
                    }
                    "reshape" | "permute" | "expand" => {
                        let x = self.node(&args[0], None);
                        let l = parse_list(atom(1));
                        let op = match head {
                            "reshape" => Op::Reshape(l),
                            "permute" => Op::Permute(l),
                            _ => Op::Expand(l),
                        };
                        self.g.add(op, &[x])
                    }
                    "pad" => {
                        let x = self.node(&args[0], None);
                        let value =
                            parse_scalar(atom(3), self.g.node(x).ty.dtype).expect("pad value");
                        self.g.add(
                            Op::Pad {
                                lo: parse_list(atom(1)),
                                hi: parse_list(atom(2)),
                                value,
                            },
                            &[x],
                        )
                    }
                    "slice" => {
                        let x = self.node(&args[0], None);
                        let dtype = self.g.node(x).ty.dtype;
                        let op = Op::Slice {
                            start: parse_list(atom(1)),
                            step: parse_list(atom(2)),
                        };
                        self.g.add_typed(
                            op,
                            &[x],
                            TypeInfo {
                                shape: parse_list(atom(3)),
                                dtype,
                            },
                        )
                    }
                    "cat" => {
                        let srcs: Vec<NodeId> =
                            args[1..].iter().map(|a| self.node(a, None)).collect();
                        self.g.add(
                            Op::Cat {
                                axis: atom(0).parse().unwrap(),
                            },
                            &srcs,
                        )
                    }
                    "iota" => {
                        let ty = parse_type(atom(0));
                        self.g.add_typed(
                            Op::Iota {
                                axis: atom(1).parse().unwrap(),
                            },
                            &[],
                            ty,
                        )
                    }
                    "rand" => {
                        let ty = parse_type(atom(0));
                        let op = Op::Rand {
                            seed: atom(1).parse().unwrap(),
                            offset: 0,
                            dist: Dist::Uniform,
                        };
                        self.g.add_typed(op, &[], ty)
                    }
                    "gather" => {
                        let (d, i) = (self.node(&args[0], None), self.node(&args[1], None));
                        self.g.add(
                            Op::Gather {
                                axis: atom(2).parse().unwrap(),
                            },
                            &[d, i],
                        )
                    }
                    _ => panic!("unknown op {head}"),
                }
            }
        }
    }

    /// Two operands, where at most one is a bare scalar taking the other's type.
    fn pair(&mut self, a: &Sexp, b: &Sexp) -> (NodeId, NodeId) {
        let is_scalar = |e: &Sexp, names: &[(&str, NodeId)]| matches!(e, Sexp::Atom(s) if !names.iter().any(|(n, _)| n == s));
        if is_scalar(a, &self.names) {
            let y = self.node(b, None);
            let ty = self.g.node(y).ty.clone();
            (self.node(a, Some(&ty)), y)
        } else {
            let x = self.node(a, None);
            let ty = self.g.node(x).ty.clone();
            (x, self.node(b, Some(&ty)))
        }
    }
}

/// Builds a graph from input declarations (`x:f32[2,3] y:i32[3]`) and output expressions.
pub fn build_graph(decls: &str, exprs: &str) -> Graph {
    let mut b = Builder {
        g: Graph::new(),
        names: vec![],
    };
    for d in decls.split_whitespace() {
        let (name, ty) = d.split_once(':').expect("name:type");
        let id = b.g.input(parse_type(ty));
        b.names.push((name, id));
    }
    let outs: Vec<NodeId> = parse_sexps(exprs).iter().map(|e| b.node(e, None)).collect();
    b.g.outputs = outs;
    b.g.verify().expect("test graph verifies");
    b.g
}

// ---------------------------------------------------------------------------------------------------
// 4. Random graphs: elementwise ops, constants, views, reductions, mixed in chains that give the rules
//    something to match (inverse views, double negations, reductions of broadcasts, ...).
// ---------------------------------------------------------------------------------------------------

pub struct GraphGen {
    pub rng: Rng,
    pub g: Graph,
    pool: Vec<NodeId>,
    /// Only ops continuous in their float operands (no comparisons of floats, float-to-integer casts,
    /// floor/round/sign/rem): a rewrite that changes rounding then changes outputs by a rounding too,
    /// so "equal up to rounding" is a fair test of it.
    continuous: bool,
    /// With `continuous`: also recip and div (whose results flip between +inf and -inf when a zero
    /// changes sign).
    division: bool,
}

const MAX_NUMEL: usize = 48;

impl GraphGen {
    pub fn new(seed: u64) -> Self {
        GraphGen {
            rng: Rng::new(seed),
            g: Graph::new(),
            pool: vec![],
            continuous: false,
            division: true,
        }
    }

    /// Restricts the ops to continuous ones (see the field docs).
    pub fn continuous(mut self, division: bool) -> Self {
        self.continuous = true;
        self.division = division;
        self
    }

    fn ty(&self, id: NodeId) -> TypeInfo {
        self.g.node(id).ty.clone()
    }

    fn add(&mut self, op: Op, srcs: &[NodeId]) -> Option<NodeId> {
        let ty = self.g.infer(&op, srcs).ok()?;
        if ty.numel() > MAX_NUMEL {
            return None;
        }
        let id = self.g.add_typed(op, srcs, ty);
        self.pool.push(id);
        Some(id)
    }

    fn pick(&mut self) -> NodeId {
        if self.rng.chance(0.5) {
            *self.pool.last().unwrap()
        } else {
            self.rng.pick(&self.pool)
        }
    }

    fn scalar(&mut self, dtype: DType) -> Scalar {
        let f = [
            0.0,
            -0.0,
            1.0,
            -1.0,
            2.0,
            0.5,
            3.0,
            f64::NAN,
            f64::INFINITY,
            1.5,
        ];
        let i = [0, 1, -1, 2, 3, 7];
        match dtype {
            DType::Bool => Scalar::Bool(self.rng.chance(0.5)),
            d if d.is_float() => Scalar::from_f64(self.rng.pick(&f), d),
            d => Scalar::from_i64(self.rng.pick(&i), d),
        }
    }

    fn constant(&mut self, dtype: DType, shape: &[usize]) -> NodeId {
        let v = self.scalar(dtype);
        full(&mut self.g, v, shape)
    }

    fn unary_for(&mut self, dtype: DType) -> UnaryOp {
        let float: Vec<UnaryOp> = UNARY[..15]
            .iter()
            .copied()
            .filter(|u| {
                !self.continuous
                    || !matches!(
                        u,
                        UnaryOp::Floor
                            | UnaryOp::Ceil
                            | UnaryOp::Round
                            | UnaryOp::Trunc
                            | UnaryOp::Sign
                    )
            })
            .filter(|u| !self.continuous || self.division || *u != UnaryOp::Recip)
            .collect();
        match dtype {
            DType::Bool => UnaryOp::Not,
            d if d.is_float() => self.rng.pick(&float),
            _ => self.rng.pick(&[UnaryOp::Neg, UnaryOp::Abs, UnaryOp::Sign]),
        }
    }

    fn binary_for(&mut self, dtype: DType) -> BinaryOp {
        let ok: Vec<BinaryOp> = BINARY
            .into_iter()
            .filter(|b| !(b.is_bitwise() && dtype.is_float()))
            .filter(|b| {
                !(dtype == DType::Bool
                    && matches!(
                        b,
                        BinaryOp::Sub | BinaryOp::Div | BinaryOp::Rem | BinaryOp::Pow
                    ))
            })
            .filter(|b| {
                let jumps = b.is_comparison()
                    || matches!(b, BinaryOp::Rem | BinaryOp::Pow)
                    || (*b == BinaryOp::Div && !self.division);
                !(self.continuous && dtype.is_float() && jumps)
            })
            .collect();
        self.rng.pick(&ok)
    }

    /// A random reshape target for `shape`: flatten, add or drop a 1, split a dim, or the same shape.
    fn reshape_target(&mut self, shape: &[usize]) -> Vec<usize> {
        let mut s = shape.to_vec();
        match self.rng.below(5) {
            0 => vec![s.iter().product()],
            1 => {
                let at = self.rng.below(s.len() + 1);
                s.insert(at, 1);
                s
            }
            2 => s.into_iter().filter(|&d| d != 1).collect(),
            3 => match s.iter().position(|&d| d % 2 == 0 && d > 2) {
                Some(i) => {
                    let d = s[i];
                    s.splice(i..=i, [2, d / 2]);
                    s
                }
                None => s,
            },
            _ => s,
        }
    }

    fn perm(&mut self, n: usize) -> Vec<usize> {
        let mut p: Vec<usize> = (0..n).collect();
        for i in (1..n).rev() {
            let j = self.rng.below(i + 1);
            p.swap(i, j);
        }
        p
    }

    fn axes(&mut self, n: usize) -> Vec<usize> {
        (0..n).filter(|_| self.rng.chance(0.5)).collect()
    }

    /// One random step; `None` when the chosen op did not fit (the caller tries again).
    fn step(&mut self) -> Option<NodeId> {
        let x = self.pick();
        let tx = self.ty(x);
        let rank = tx.shape.len();
        let c = |g: &mut Self, d| g.constant(d, &tx.shape);
        match self.rng.below(25) {
            0..=2 => {
                let u = self.unary_for(tx.dtype);
                self.add(Op::Unary(u), &[x])
            }
            3..=4 => {
                let same: Vec<NodeId> = self
                    .pool
                    .iter()
                    .copied()
                    .filter(|&n| self.g.node(n).ty == tx)
                    .collect();
                let y = self.rng.pick(&same);
                let b = self.binary_for(tx.dtype);
                self.add(Op::Binary(b), &[x, y])
            }
            5..=6 => {
                let k = c(self, tx.dtype);
                let b = self.binary_for(tx.dtype);
                let srcs = if self.rng.chance(0.5) { [x, k] } else { [k, x] };
                self.add(Op::Binary(b), &srcs)
            }
            7 => {
                let k = c(self, tx.dtype);
                let cond = if self.continuous && tx.dtype.is_float() {
                    let b = Scalar::Bool(self.rng.chance(0.5));
                    full(&mut self.g, b, &tx.shape)
                } else {
                    self.add(Op::Binary(BinaryOp::CmpLt), &[x, k])?
                };
                let other = if self.rng.chance(0.3) {
                    x
                } else {
                    c(self, tx.dtype)
                };
                self.add(Op::Where, &[cond, x, other])
            }
            8 => {
                let d = self.cast_target(tx.dtype);
                self.add(Op::Cast(d), &[x])
            }
            9..=10 => {
                let op =
                    self.rng
                        .pick(&[ReduceOp::Sum, ReduceOp::Prod, ReduceOp::Max, ReduceOp::Min]);
                let axes = self.axes(rank);
                self.add(Op::Reduce { op, axes }, &[x])
            }
            11 => {
                let to = self.reshape_target(&tx.shape);
                self.add(Op::Reshape(to), &[x])
            }
            12 => {
                let p = self.perm(rank);
                self.add(Op::Permute(p), &[x])
            }
            13 => {
                let to: Vec<usize> = tx
                    .shape
                    .iter()
                    .map(|&d| if d == 1 { 1 + self.rng.below(3) } else { d })
                    .collect();
                self.add(Op::Expand(to), &[x])
            }
            14 => {
                let lo: Vec<usize> = (0..rank).map(|_| self.rng.below(2)).collect();
                let hi: Vec<usize> = (0..rank).map(|_| self.rng.below(2)).collect();
                let value = if self.rng.chance(0.5) {
                    self.scalar(tx.dtype)
                } else {
                    Scalar::zero(tx.dtype)
                };
                let p = self.add(
                    Op::Pad {
                        lo: lo.clone(),
                        hi: hi.clone(),
                        value,
                    },
                    &[x],
                )?;
                if self.rng.chance(0.3) {
                    self.add(
                        Op::Pad {
                            lo: hi,
                            hi: lo,
                            value,
                        },
                        &[p],
                    )
                } else {
                    Some(p)
                }
            }
            15 => {
                let (mut start, mut step, mut out) = (vec![], vec![], vec![]);
                for &d in &tx.shape {
                    let s = self.rng.below(d.max(1));
                    let st = 1 + self.rng.below(2);
                    let max_len = if d == 0 { 0 } else { (d - 1 - s) / st + 1 };
                    start.push(if d == 0 { 0 } else { s });
                    step.push(st);
                    out.push(if max_len == 0 {
                        0
                    } else {
                        1 + self.rng.below(max_len)
                    });
                }
                let ty = TypeInfo {
                    shape: out,
                    dtype: tx.dtype,
                };
                let sl = self
                    .g
                    .add_typed(Op::Slice { start, step }, &[x], ty.clone());
                self.pool.push(sl);
                Some(sl)
            }
            // ---- chains that the rules look for ----
            16 => {
                let p = self.perm(rank);
                let mut inv = vec![0; rank];
                for (i, &a) in p.iter().enumerate() {
                    inv[a] = i;
                }
                let y = self.add(Op::Permute(p), &[x])?;
                let y = if self.rng.chance(0.6) {
                    self.unary_or_const(y)?
                } else {
                    y
                };
                self.add(Op::Permute(inv), &[y])
            }
            17 => {
                let to = self.reshape_target(&tx.shape);
                let y = self.add(Op::Reshape(to), &[x])?;
                let y = if self.rng.chance(0.6) {
                    self.unary_or_const(y)?
                } else {
                    y
                };
                self.add(Op::Reshape(tx.shape.clone()), &[y])
            }
            18 => {
                // A reduction of a broadcast: reshape to add a 1, expand it, reduce it away.
                let at = self.rng.below(rank + 1);
                let mut s1 = tx.shape.clone();
                s1.insert(at, 1);
                let r = self.add(Op::Reshape(s1.clone()), &[x])?;
                let mut s2 = s1.clone();
                s2[at] = 2 + self.rng.below(2);
                let e = self.add(Op::Expand(s2), &[r])?;
                let op =
                    self.rng
                        .pick(&[ReduceOp::Sum, ReduceOp::Max, ReduceOp::Min, ReduceOp::Prod]);
                self.add(Op::Reduce { op, axes: vec![at] }, &[e])
            }
            19 => {
                let op =
                    self.rng
                        .pick(&[ReduceOp::Sum, ReduceOp::Max, ReduceOp::Min, ReduceOp::Prod]);
                let a = self.axes(rank);
                let r = self.add(Op::Reduce { op, axes: a }, &[x])?;
                let b = self.axes(rank);
                self.add(Op::Reduce { op, axes: b }, &[r])
            }
            20 if tx.dtype.is_float() => {
                let chains: [&[UnaryOp]; 4] = [
                    &[UnaryOp::Exp, UnaryOp::Log],
                    &[UnaryOp::Neg, UnaryOp::Neg],
                    &[UnaryOp::Neg, UnaryOp::Abs],
                    &[UnaryOp::Abs, UnaryOp::Abs],
                ];
                let chain = self.rng.pick(&chains);
                let mut y = x;
                for u in chain {
                    y = self.add(Op::Unary(*u), &[y])?;
                }
                Some(y)
            }
            20 => {
                let u = self.unary_for(tx.dtype);
                let y = self.add(Op::Unary(u), &[x])?;
                self.add(Op::Unary(u), &[y])
            }
            21 if tx.dtype.is_float() => {
                let y = self.rng.pick(
                    &self
                        .pool
                        .iter()
                        .copied()
                        .filter(|&n| self.g.node(n).ty == tx)
                        .collect::<Vec<_>>(),
                );
                let first = if self.continuous && !self.division {
                    2
                } else {
                    0
                };
                match first + self.rng.below(4 - first) {
                    0 => {
                        let r = self.add(Op::Unary(UnaryOp::Recip), &[y])?;
                        let srcs = if self.rng.chance(0.5) { [x, r] } else { [r, x] };
                        self.add(Op::Binary(BinaryOp::Mul), &srcs)
                    }
                    1 => {
                        let one = full(&mut self.g, Scalar::one(tx.dtype), &tx.shape);
                        self.add(Op::Binary(BinaryOp::Div), &[one, y])
                    }
                    2 => {
                        let n = self.add(Op::Unary(UnaryOp::Neg), &[y])?;
                        self.add(Op::Binary(BinaryOp::Add), &[x, n])
                    }
                    _ => {
                        let e = Scalar::from_f64(self.rng.pick(&[0.0, 1.0, 2.0, 0.5]), tx.dtype);
                        let k = full(&mut self.g, e, &tx.shape);
                        self.add(Op::Binary(BinaryOp::Pow), &[x, k])
                    }
                }
            }
            21 => {
                let b = self.binary_for(tx.dtype);
                self.add(Op::Binary(b), &[x, x])
            }
            22 => {
                let m = self.cast_target(tx.dtype);
                let y = self.add(Op::Cast(m), &[x])?;
                let d = self.cast_target(m);
                self.add(Op::Cast(d), &[y])
            }
            23 => {
                // Constant subexpressions: a reduce, a where or an op on broadcast constants.
                let a = c(self, tx.dtype);
                match self.rng.below(3) {
                    0 => {
                        let op = self.rng.pick(&[
                            ReduceOp::Sum,
                            ReduceOp::Prod,
                            ReduceOp::Max,
                            ReduceOp::Min,
                        ]);
                        let axes = self.axes(rank);
                        self.add(Op::Reduce { op, axes }, &[a])
                    }
                    1 => {
                        let cond = self.constant(DType::Bool, &tx.shape);
                        let b = if self.rng.chance(0.5) {
                            c(self, tx.dtype)
                        } else {
                            x
                        };
                        self.add(Op::Where, &[cond, a, b])
                    }
                    _ => {
                        let b = c(self, tx.dtype);
                        let op = self.binary_for(tx.dtype);
                        let y = self.add(Op::Binary(op), &[a, b])?;
                        self.add(Op::Binary(BinaryOp::Add), &[x, y]).or(Some(y))
                    }
                }
            }
            _ => {
                if self.rng.chance(0.5) && rank > 0 {
                    let axis = self.rng.below(rank);
                    let idx = self.g.add_typed(
                        Op::Iota { axis },
                        &[],
                        TypeInfo {
                            shape: tx.shape.clone(),
                            dtype: DType::I64,
                        },
                    );
                    self.add(Op::Gather { axis }, &[x, idx])
                } else if rank > 0 {
                    let axis = self.rng.below(rank);
                    self.add(Op::Cat { axis }, &[x, x])
                } else {
                    self.add(Op::Where, &[x, x, x])
                }
            }
        }
    }

    /// A dtype to cast `from` to (floats stay floats when `continuous`).
    fn cast_target(&mut self, from: DType) -> DType {
        if self.continuous && from.is_float() {
            self.rng.pick(&[DType::F32, DType::F64])
        } else {
            self.rng.pick(&DType::ALL)
        }
    }

    /// A unary op on `y`, or `y` combined with a broadcast constant (something views can move through).
    fn unary_or_const(&mut self, y: NodeId) -> Option<NodeId> {
        let ty = self.ty(y);
        if self.rng.chance(0.5) {
            let u = self.unary_for(ty.dtype);
            self.add(Op::Unary(u), &[y])
        } else {
            let k = self.constant(ty.dtype, &ty.shape);
            let b = self.binary_for(ty.dtype);
            self.add(Op::Binary(b), &[y, k])
        }
    }

    /// A random graph of about `steps` ops over one to three inputs and a few leaves.
    pub fn graph(mut self, steps: usize) -> Graph {
        let shapes: [&[usize]; 7] = [&[2, 3], &[3, 4], &[2, 1, 3], &[1, 4], &[4], &[2, 2, 2], &[]];
        let base = self.rng.pick(&shapes).to_vec();
        let dtypes = [
            DType::F32,
            DType::F32,
            DType::F32,
            DType::F64,
            DType::I32,
            DType::I64,
            DType::U8,
            DType::Bool,
        ];
        for _ in 0..1 + self.rng.below(3) {
            let shape: Vec<usize> = base
                .iter()
                .map(|&d| if self.rng.chance(0.2) { 1 } else { d })
                .collect();
            let ty = TypeInfo {
                shape,
                dtype: self.rng.pick(&dtypes),
            };
            let id = self.g.input(ty);
            self.pool.push(id);
        }
        if self.rng.chance(0.2) {
            let ty = TypeInfo {
                shape: base.clone(),
                dtype: DType::F32,
            };
            let id = self.g.add_typed(
                Op::Rand {
                    seed: self.rng.next() % 100,
                    offset: 0,
                    dist: Dist::Uniform,
                },
                &[],
                ty,
            );
            self.pool.push(id);
        }
        let mut made = 0;
        for _ in 0..steps * 4 {
            if made == steps {
                break;
            }
            if self.step().is_some() {
                made += 1;
            }
        }
        let last = *self.pool.last().unwrap();
        let mut outs = vec![last];
        for _ in 0..self.rng.below(3) {
            let o = self.rng.pick(&self.pool);
            outs.push(o);
        }
        self.g.outputs = outs;
        self.g.verify().expect("generated graph verifies");
        self.g
    }
}

// ---------------------------------------------------------------------------------------------------
// 5. A large, model-like graph: layers of matmul (as multiply + sum), bias, relu, softmax, residual,
//    with the redundancies a lazy front end leaves behind (x * 1, + 0, double transposes, f32 → f64 →
//    f32 casts, double negations, reshape chains).
// ---------------------------------------------------------------------------------------------------

/// A graph of `layers` layers on f32[16,32] activations (33 nodes a layer, plus the input and three
/// constants).
pub fn layered_graph(layers: usize) -> Graph {
    let (b, d) = (16, 32);
    let f = |v: f64| Scalar::F32(v as f32);
    let mut g = Graph::new();
    let mut x = g.input(TypeInfo {
        shape: vec![b, d],
        dtype: DType::F32,
    });
    for _ in 0..layers {
        let w = g.input(TypeInfo {
            shape: vec![d, d],
            dtype: DType::F32,
        });
        let bias = g.input(TypeInfo {
            shape: vec![d],
            dtype: DType::F32,
        });
        // matmul: [b,d,1] * [1,d,d] summed over the middle axis
        let xr = g.add(Op::Reshape(vec![b, d, 1]), &[x]);
        let xe = g.add(Op::Expand(vec![b, d, d]), &[xr]);
        let wr = g.add(Op::Reshape(vec![1, d, d]), &[w]);
        let we = g.add(Op::Expand(vec![b, d, d]), &[wr]);
        let m = g.add(Op::Binary(BinaryOp::Mul), &[xe, we]);
        let s = g.add(
            Op::Reduce {
                op: ReduceOp::Sum,
                axes: vec![1],
            },
            &[m],
        );
        let h = g.add(Op::Reshape(vec![b, d]), &[s]);
        let br = g.add(Op::Reshape(vec![1, d]), &[bias]);
        let be = g.add(Op::Expand(vec![b, d]), &[br]);
        let h = g.add(Op::Binary(BinaryOp::Add), &[h, be]);
        let one = full(&mut g, f(1.0), &[b, d]);
        let h = g.add(Op::Binary(BinaryOp::Mul), &[h, one]);
        let zero = full(&mut g, f(0.0), &[b, d]);
        let h = g.add(Op::Binary(BinaryOp::Add), &[h, zero]);
        let relu = g.add(Op::Binary(BinaryOp::Max), &[h, zero]);
        let t = g.add(Op::Permute(vec![1, 0]), &[relu]);
        let t = g.add(Op::Permute(vec![1, 0]), &[t]);
        // softmax over the last axis
        let mx = g.add(
            Op::Reduce {
                op: ReduceOp::Max,
                axes: vec![1],
            },
            &[t],
        );
        let mx = g.add(Op::Expand(vec![b, d]), &[mx]);
        let z = g.add(Op::Binary(BinaryOp::Sub), &[t, mx]);
        let e = g.add(Op::Unary(UnaryOp::Exp), &[z]);
        let sum = g.add(
            Op::Reduce {
                op: ReduceOp::Sum,
                axes: vec![1],
            },
            &[e],
        );
        let sum = g.add(Op::Expand(vec![b, d]), &[sum]);
        let r = g.add(Op::Unary(UnaryOp::Recip), &[sum]);
        let y = g.add(Op::Binary(BinaryOp::Mul), &[e, r]);
        let y = g.add(Op::Cast(DType::F64), &[y]);
        let y = g.add(Op::Cast(DType::F32), &[y]);
        let y = g.add(Op::Unary(UnaryOp::Neg), &[y]);
        let y = g.add(Op::Unary(UnaryOp::Neg), &[y]);
        let y = g.add(Op::Reshape(vec![b * d]), &[y]);
        let y = g.add(Op::Reshape(vec![b, d]), &[y]);
        let half = full(&mut g, f(0.5), &[b, d]);
        let y = g.add(Op::Binary(BinaryOp::Mul), &[y, half]);
        x = g.add(Op::Binary(BinaryOp::Add), &[y, x]);
    }
    g.outputs = vec![x];
    g.verify().expect("layered graph verifies");
    g
}

// ---------------------------------------------------------------------------------------------------
// 6. Snapshot cases: one graph in the s-expression form, simplified and checked.
// ---------------------------------------------------------------------------------------------------

/// Simplifies the graph `exprs` over inputs `decls` with `opts`, checks the result against the input on
/// random inputs (bit for bit under the exact policy, else up to rounding; NaN, inf and ±0 among the
/// inputs unless `assume_finite`), and returns the snapshot text and the report.
pub fn run_case(
    decls: &str,
    exprs: &str,
    opts: &SimplifyOptions,
) -> (String, smelt_passes::simplify::SimplifyReport) {
    let g = build_graph(decls, exprs);
    let exact =
        !opts.allow_signed_zero_changes && !opts.allow_rounding_changes && !opts.assume_finite;
    let how = if exact {
        Compare::Bitwise
    } else {
        Compare::Close
    };
    let mut rng = Rng::new(7);
    let s = check_sound(&g, opts, &mut rng, 20, !opts.assume_finite, how)
        .unwrap_or_else(|e| panic!("{e}\nbefore:\n{g}"));
    let text = format!(
        "{decls}  =>  {exprs}\n--- before\n{g}--- after\n{}--- report\n{}",
        s.graph, s.report
    );
    (text, s.report)
}

/// The rule a snapshot case exercises: the longest rule name (or `fold-const`) that the case's name
/// starts with (`add_zero_i32` exercises `add-zero`).
pub fn exercised_rule(case: &str) -> Option<&'static str> {
    let kebab = case.replace('_', "-");
    let mut names = smelt_passes::simplify::rule_names();
    names.push(smelt_passes::simplify::FOLD);
    names
        .into_iter()
        .filter(|r| kebab == *r || kebab.starts_with(&format!("{r}-")))
        .max_by_key(|r| r.len())
}
