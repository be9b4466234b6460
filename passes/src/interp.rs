//! The reference interpreter: a naive, obviously correct evaluator of the graph IR.
//!
//! It is the oracle for every backend, rewrite and fusion decision, so it favours plainness over speed:
//! every node is computed in full, element by element, floats in f64 (rounded to f32 after each f32
//! node, so it models f32 arithmetic with exactly one rounding per op) and integers in i64 (wrapped to
//! their width after each node). Reductions accumulate in f64 (or wrapping i64).

use crate::graph::{Graph, NodeId, Op, TypeInfo};
use crate::random;
use smelt_codegen::{BinaryOp, DType, Scalar, UnaryOp};

/// The elements of an array: floats as f64, integers and bools as i64 (bools are 0 or 1).
#[derive(Clone, Debug, PartialEq)]
pub enum Data {
    F(Vec<f64>),
    I(Vec<i64>),
}

impl Data {
    pub fn len(&self) -> usize {
        match self {
            Data::F(v) => v.len(),
            Data::I(v) => v.len(),
        }
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Element `i` as a scalar of `dtype`.
    pub fn get(&self, i: usize, dtype: DType) -> Scalar {
        match self {
            Data::F(v) => Scalar::from_f64(v[i], dtype),
            Data::I(v) => Scalar::from_i64(v[i], dtype),
        }
    }
}

/// A host array: a type and its elements in C order.
#[derive(Clone, Debug, PartialEq)]
pub struct Array {
    pub ty: TypeInfo,
    pub data: Data,
}

/// Why evaluation stopped: a data-dependent error the program itself contains.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum EvalError {
    #[error("{node}: index {index} is out of range for a dimension of size {size}")]
    IndexOutOfRange {
        node: NodeId,
        index: i64,
        size: usize,
    },
    #[error("input {input} has type {got}, the graph expects {want}")]
    InputType {
        input: usize,
        got: TypeInfo,
        want: TypeInfo,
    },
}

/// C-order strides of a shape.
pub fn strides(shape: &[usize]) -> Vec<usize> {
    let mut s = vec![1; shape.len()];
    for i in (0..shape.len().saturating_sub(1)).rev() {
        s[i] = s[i + 1] * shape[i + 1];
    }
    s
}

/// The multi-index of linear position `i` in `shape`.
fn unravel(mut i: usize, shape: &[usize], out: &mut [usize]) {
    for d in (0..shape.len()).rev() {
        out[d] = i % shape[d];
        i /= shape[d];
    }
}

fn ravel(idx: &[usize], strides: &[usize]) -> usize {
    idx.iter().zip(strides).map(|(i, s)| i * s).sum()
}

/// Rounds a float to `dtype`'s precision (f32 values are kept as the f64 of the nearest f32).
fn round_float(v: f64, dtype: DType) -> f64 {
    if dtype == DType::F32 {
        v as f32 as f64
    } else {
        v
    }
}

/// Wraps an integer to `dtype`'s width (bool: nonzero is 1).
pub fn wrap_int(v: i64, dtype: DType) -> i64 {
    match dtype {
        DType::Bool => (v != 0) as i64,
        DType::U8 => v as u8 as i64,
        DType::I32 => v as i32 as i64,
        _ => v,
    }
}

/// Float to integer as a cast: truncate toward zero, saturate to the dtype, NaN to 0.
fn float_to_int(v: f64, dtype: DType) -> i64 {
    match dtype {
        DType::Bool => (v != 0.0) as i64,
        DType::U8 => v as u8 as i64,
        DType::I32 => v as i32 as i64,
        _ => v as i64,
    }
}

fn unary_f(op: UnaryOp, x: f64) -> f64 {
    match op {
        UnaryOp::Neg => -x,
        UnaryOp::Recip => 1.0 / x,
        UnaryOp::Sqrt => x.sqrt(),
        UnaryOp::Exp => x.exp(),
        UnaryOp::Log => x.ln(),
        UnaryOp::Sin => x.sin(),
        UnaryOp::Cos => x.cos(),
        UnaryOp::Tanh => x.tanh(),
        UnaryOp::Erf => erf(x),
        UnaryOp::Abs => x.abs(),
        UnaryOp::Sign => {
            if x.is_nan() {
                x
            } else if x > 0.0 {
                1.0
            } else if x < 0.0 {
                -1.0
            } else {
                0.0
            }
        }
        UnaryOp::Floor => x.floor(),
        UnaryOp::Ceil => x.ceil(),
        UnaryOp::Round => x.round_ties_even(),
        UnaryOp::Trunc => x.trunc(),
        UnaryOp::Not => unreachable!("not of a float"),
    }
}

/// The error function to double precision: a Taylor series near zero, a continued fraction for erfc
/// beyond (Abramowitz & Stegun 7.1.5 and 7.1.14).
pub fn erf(x: f64) -> f64 {
    if x.is_nan() {
        return x;
    }
    let a = x.abs();
    let r = if a < 2.5 {
        // erf(x) = 2/sqrt(pi) * sum_n (-1)^n x^(2n+1) / (n! (2n+1))
        let mut term = a;
        let mut sum = a;
        let x2 = a * a;
        let mut n = 0.0;
        loop {
            n += 1.0;
            term *= -x2 / n;
            let add = term / (2.0 * n + 1.0);
            sum += add;
            // `<=`, so that x = 0 (every term 0) stops too.
            if add.abs() <= 1e-17 * sum.abs() {
                break;
            }
        }
        sum * std::f64::consts::FRAC_2_SQRT_PI
    } else if a < 27.0 {
        // erfc(x) = exp(-x^2)/sqrt(pi) * 1/(x + 1/2/(x + 1/(x + 3/2/(x + ...)))), evaluated bottom-up.
        let mut f = a;
        for k in (1..200).rev() {
            f = a + (k as f64 / 2.0) / f;
        }
        1.0 - (-a * a).exp() / (f * std::f64::consts::PI.sqrt())
    } else {
        1.0
    };
    r.copysign(x)
}

fn unary_i(op: UnaryOp, x: i64) -> i64 {
    match op {
        UnaryOp::Neg => x.wrapping_neg(),
        UnaryOp::Abs => x.wrapping_abs(),
        UnaryOp::Sign => x.signum(),
        UnaryOp::Not => (x == 0) as i64,
        _ => unreachable!("{op} of an integer"),
    }
}

fn binary_f(op: BinaryOp, a: f64, b: f64) -> f64 {
    let t = |c: bool| c as i64 as f64;
    match op {
        BinaryOp::Add => a + b,
        BinaryOp::Sub => a - b,
        BinaryOp::Mul => a * b,
        BinaryOp::Div => a / b,
        BinaryOp::Rem => a - b * (a / b).floor(),
        BinaryOp::Pow => a.powf(b),
        BinaryOp::Max => {
            if a.is_nan() || b.is_nan() {
                f64::NAN
            } else {
                a.max(b)
            }
        }
        BinaryOp::Min => {
            if a.is_nan() || b.is_nan() {
                f64::NAN
            } else {
                a.min(b)
            }
        }
        BinaryOp::CmpEq => t(a == b),
        BinaryOp::CmpNe => t(a != b),
        BinaryOp::CmpLt => t(a < b),
        BinaryOp::CmpLe => t(a <= b),
        BinaryOp::And | BinaryOp::Or | BinaryOp::Xor => unreachable!("bitwise op on floats"),
    }
}

fn int_pow(base: i64, exp: i64) -> i64 {
    if exp < 0 {
        return match base {
            1 => 1,
            -1 => {
                if exp % 2 == 0 {
                    1
                } else {
                    -1
                }
            }
            _ => 0,
        };
    }
    let (mut result, mut b, mut e) = (1i64, base, exp);
    while e > 0 {
        if e & 1 == 1 {
            result = result.wrapping_mul(b);
        }
        b = b.wrapping_mul(b);
        e >>= 1;
    }
    result
}

fn binary_i(op: BinaryOp, a: i64, b: i64, dtype: DType) -> i64 {
    let v = match op {
        BinaryOp::Add => a.wrapping_add(b),
        BinaryOp::Sub => a.wrapping_sub(b),
        BinaryOp::Mul => a.wrapping_mul(b),
        BinaryOp::Div => {
            if b == 0 {
                0
            } else {
                let q = a.wrapping_div(b);
                if (a.wrapping_rem(b) != 0) && ((a < 0) != (b < 0)) {
                    q - 1
                } else {
                    q
                }
            }
        }
        BinaryOp::Rem => {
            if b == 0 {
                0
            } else {
                let r = a.wrapping_rem(b);
                if r != 0 && ((r < 0) != (b < 0)) {
                    r + b
                } else {
                    r
                }
            }
        }
        BinaryOp::Pow => int_pow(a, b),
        BinaryOp::Max => a.max(b),
        BinaryOp::Min => a.min(b),
        BinaryOp::CmpEq => return (a == b) as i64,
        BinaryOp::CmpNe => return (a != b) as i64,
        BinaryOp::CmpLt => return (a < b) as i64,
        BinaryOp::CmpLe => return (a <= b) as i64,
        BinaryOp::And => a & b,
        BinaryOp::Or => a | b,
        BinaryOp::Xor => a ^ b,
    };
    wrap_int(v, dtype)
}

/// Evaluates the graph's outputs on `inputs` (one array per `Op::Input`, in order).
pub fn eval(graph: &Graph, inputs: &[Array]) -> Result<Vec<Array>, EvalError> {
    for (i, (arr, want)) in inputs.iter().zip(&graph.inputs).enumerate() {
        if arr.ty != *want {
            return Err(EvalError::InputType {
                input: i,
                got: arr.ty.clone(),
                want: want.clone(),
            });
        }
    }
    let mut values: Vec<Option<Data>> = vec![None; graph.len()];
    let uses = graph.use_counts();
    let mut remaining = uses.clone();
    for id in graph.ids() {
        if uses[id.index()] == 0 {
            continue;
        }
        let node = graph.node(id);
        let srcs: Vec<(&TypeInfo, &Data)> = node
            .srcs
            .iter()
            .map(|s| {
                (
                    &graph.node(*s).ty,
                    values[s.index()].as_ref().expect("operand evaluated"),
                )
            })
            .collect();
        let data = eval_node(id, &node.op, &node.ty, &srcs, inputs)?;
        values[id.index()] = Some(data);
        // Free operands no longer needed, so the oracle handles large graphs.
        for s in &node.srcs {
            remaining[s.index()] -= 1;
            if remaining[s.index()] == 0 && !graph.outputs.contains(s) {
                values[s.index()] = None;
            }
        }
    }
    Ok(graph
        .outputs
        .iter()
        .map(|o| Array {
            ty: graph.node(*o).ty.clone(),
            data: values[o.index()].clone().expect("output evaluated"),
        })
        .collect())
}

/// Maps every output element to a source element (or `None` for padding).
fn gather_by<F: FnMut(&[usize], &mut [usize]) -> bool>(
    src: &Data,
    from: &[usize],
    to: &[usize],
    mut f: F,
) -> Vec<Option<usize>> {
    let n: usize = to.iter().product();
    let st = strides(from);
    let (mut oi, mut si) = (vec![0; to.len()], vec![0; from.len()]);
    let _ = src;
    (0..n)
        .map(|i| {
            unravel(i, to, &mut oi);
            f(&oi, &mut si).then(|| ravel(&si, &st))
        })
        .collect()
}

fn pick(src: &Data, map: &[Option<usize>], fill: Scalar) -> Data {
    match src {
        Data::F(v) => Data::F(
            map.iter()
                .map(|m| m.map_or(fill.to_f64(), |i| v[i]))
                .collect(),
        ),
        Data::I(v) => Data::I(
            map.iter()
                .map(|m| m.map_or(fill.to_i64(), |i| v[i]))
                .collect(),
        ),
    }
}

fn eval_node(
    id: NodeId,
    op: &Op,
    ty: &TypeInfo,
    srcs: &[(&TypeInfo, &Data)],
    inputs: &[Array],
) -> Result<Data, EvalError> {
    let n = ty.numel();
    let float = ty.dtype.is_float();
    Ok(match op {
        Op::Input(i) => inputs[*i as usize].data.clone(),
        Op::Const(s) => {
            if float {
                Data::F(vec![s.to_f64(); n])
            } else {
                Data::I(vec![s.to_i64(); n])
            }
        }
        Op::Iota { axis } => {
            let mut idx = vec![0; ty.shape.len()];
            let vals = (0..n).map(|i| {
                unravel(i, &ty.shape, &mut idx);
                idx[*axis]
            });
            if float {
                Data::F(vals.map(|v| round_float(v as f64, ty.dtype)).collect())
            } else {
                Data::I(vals.map(|v| wrap_int(v as i64, ty.dtype)).collect())
            }
        }
        Op::Rand { seed, offset, dist } => Data::F(
            (0..n as u64)
                .map(|i| round_float(random::sample(*seed, offset + i, *dist, ty.dtype), ty.dtype))
                .collect(),
        ),
        Op::Unary(u) => match srcs[0].1 {
            Data::F(v) => Data::F(
                v.iter()
                    .map(|&x| round_float(unary_f(*u, x), ty.dtype))
                    .collect(),
            ),
            Data::I(v) => Data::I(
                v.iter()
                    .map(|&x| wrap_int(unary_i(*u, x), ty.dtype))
                    .collect(),
            ),
        },
        Op::Binary(b) => {
            let operand = srcs[0].0.dtype;
            match (srcs[0].1, srcs[1].1) {
                (Data::F(x), Data::F(y)) => {
                    let it = x.iter().zip(y).map(|(&a, &c)| binary_f(*b, a, c));
                    if b.is_comparison() {
                        Data::I(it.map(|v| v as i64).collect())
                    } else {
                        Data::F(it.map(|v| round_float(v, ty.dtype)).collect())
                    }
                }
                (Data::I(x), Data::I(y)) => Data::I(
                    x.iter()
                        .zip(y)
                        .map(|(&a, &c)| binary_i(*b, a, c, operand))
                        .collect(),
                ),
                _ => unreachable!("verified graph"),
            }
        }
        Op::Where => {
            let Data::I(c) = srcs[0].1 else {
                unreachable!("bool condition")
            };
            match (srcs[1].1, srcs[2].1) {
                (Data::F(a), Data::F(b)) => Data::F(
                    (0..n)
                        .map(|i| if c[i] != 0 { a[i] } else { b[i] })
                        .collect(),
                ),
                (Data::I(a), Data::I(b)) => Data::I(
                    (0..n)
                        .map(|i| if c[i] != 0 { a[i] } else { b[i] })
                        .collect(),
                ),
                _ => unreachable!("verified graph"),
            }
        }
        Op::Cast(d) => match srcs[0].1 {
            Data::F(v) if d.is_float() => Data::F(v.iter().map(|&x| round_float(x, *d)).collect()),
            Data::F(v) => Data::I(v.iter().map(|&x| float_to_int(x, *d)).collect()),
            Data::I(v) if d.is_float() => {
                Data::F(v.iter().map(|&x| round_float(x as f64, *d)).collect())
            }
            Data::I(v) => Data::I(v.iter().map(|&x| wrap_int(x, *d)).collect()),
        },
        Op::Reduce { op: r, axes } => {
            let from = &srcs[0].0.shape;
            let st_out = strides(&ty.shape);
            let mut idx = vec![0; from.len()];
            let m = from.iter().product::<usize>();
            let target = |i: usize, idx: &mut Vec<usize>| {
                unravel(i, from, idx);
                for &a in axes {
                    idx[a] = 0;
                }
                ravel(idx, &st_out)
            };
            match srcs[0].1 {
                Data::F(v) => {
                    let init = r.identity(DType::F64).to_f64();
                    let mut acc = vec![init; n];
                    for (i, &x) in v.iter().enumerate().take(m) {
                        let t = target(i, &mut idx);
                        acc[t] = binary_f(r.combine(), acc[t], x);
                    }
                    Data::F(acc.into_iter().map(|x| round_float(x, ty.dtype)).collect())
                }
                Data::I(v) => {
                    let init = r.identity(ty.dtype).to_i64();
                    let mut acc = vec![init; n];
                    for (i, &x) in v.iter().enumerate().take(m) {
                        let t = target(i, &mut idx);
                        acc[t] = binary_i(r.combine(), acc[t], x, ty.dtype);
                    }
                    Data::I(acc)
                }
            }
        }
        Op::Reshape(_) => srcs[0].1.clone(),
        Op::Permute(perm) => {
            let map = gather_by(srcs[0].1, &srcs[0].0.shape, &ty.shape, |o, s| {
                for (i, &p) in perm.iter().enumerate() {
                    s[p] = o[i];
                }
                true
            });
            pick(srcs[0].1, &map, Scalar::zero(ty.dtype))
        }
        Op::Expand(_) => {
            let from = &srcs[0].0.shape;
            let map = gather_by(srcs[0].1, from, &ty.shape, |o, s| {
                for i in 0..o.len() {
                    s[i] = if from[i] == 1 { 0 } else { o[i] };
                }
                true
            });
            pick(srcs[0].1, &map, Scalar::zero(ty.dtype))
        }
        Op::Pad { lo, value, .. } => {
            let from = &srcs[0].0.shape;
            let map = gather_by(srcs[0].1, from, &ty.shape, |o, s| {
                for i in 0..o.len() {
                    if o[i] < lo[i] || o[i] - lo[i] >= from[i] {
                        return false;
                    }
                    s[i] = o[i] - lo[i];
                }
                true
            });
            pick(srcs[0].1, &map, *value)
        }
        Op::Slice { start, step } => {
            let map = gather_by(srcs[0].1, &srcs[0].0.shape, &ty.shape, |o, s| {
                for i in 0..o.len() {
                    s[i] = start[i] + o[i] * step[i];
                }
                true
            });
            pick(srcs[0].1, &map, Scalar::zero(ty.dtype))
        }
        Op::Gather { axis } => {
            let from = &srcs[0].0.shape;
            let Data::I(index) = srcs[1].1 else {
                unreachable!("integer index")
            };
            let size = from[*axis];
            let mut bad = None;
            let map = gather_by(srcs[0].1, from, &ty.shape, |o, s| {
                s.copy_from_slice(o);
                let at = ravel(o, &strides(&ty.shape));
                let k = index[at];
                if k < 0 || k as usize >= size {
                    bad.get_or_insert(k);
                    s[*axis] = 0;
                } else {
                    s[*axis] = k as usize;
                }
                true
            });
            if let Some(index) = bad {
                return Err(EvalError::IndexOutOfRange {
                    node: id,
                    index,
                    size,
                });
            }
            pick(srcs[0].1, &map, Scalar::zero(ty.dtype))
        }
        Op::Cat { axis } => {
            let mut idx = vec![0; ty.shape.len()];
            let mut out_f = Vec::new();
            let mut out_i = Vec::new();
            for i in 0..n {
                unravel(i, &ty.shape, &mut idx);
                let mut k = idx[*axis];
                let mut part = 0;
                while k >= srcs[part].0.shape[*axis] {
                    k -= srcs[part].0.shape[*axis];
                    part += 1;
                }
                let mut si = idx.clone();
                si[*axis] = k;
                let at = ravel(&si, &strides(&srcs[part].0.shape));
                match srcs[part].1 {
                    Data::F(v) => out_f.push(v[at]),
                    Data::I(v) => out_i.push(v[at]),
                }
            }
            if float {
                Data::F(out_f)
            } else {
                Data::I(out_i)
            }
        }
    })
}
