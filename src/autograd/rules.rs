//! The gradient rules: one entry per graph-level [`Op`], like tinygrad's `pm_gradient`.
//!
//! Given a node `t = op(x0, x1, ...)` and the gradient `g` of the output with respect to `t` (same shape
//! and dtype as `t`), a rule builds each operand's contribution with ordinary tensor ops, so gradients
//! are lazy tensors that fuse, simplify and can be differentiated again. A contribution has exactly the
//! operand's shape and dtype; `None` means the operand receives no gradient (conditions, indices,
//! integer operands). Composite ops (matmul, softmax, mean, var, sigmoid, gelu...) need no entry: they
//! are built from these.
//!
//! Where PyTorch defines a value at a point where the derivative does not exist, the rule matches it:
//!
//! | op | at the kink / tie |
//! |---|---|
//! | `abs` | `sign(x)`: 0 at 0 |
//! | `sign floor ceil round trunc` | 0 everywhere |
//! | `maximum(a, b)` / `minimum` of two tensors | ties split `g/2` to each (`torch.maximum`) |
//! | `max(x, c)` (`clamp_min`, constant `c != 0`), `min(x, c)` (`clamp_max`) | all of `g` to `x` at `x == c` |
//! | `max(x, 0)` with a constant 0 (`relu`) | 0 at `x == 0` (`torch.relu`); so `clamp_min(0.0)` also gives 0 there |
//! | `pow(x, y)` | base: 0 where `y == 0`; exponent: 0 where `x == 0` and `y >= 0` |
//! | reduce max / min | split evenly among the elements equal to the result (`torch.max()`, `amax`) |
//! | reduce prod | product of the others, exact with zeros (one zero: only it gets a gradient) |
//!
//! One deviation: `max_dim`/`min_dim` split ties evenly like `torch.amax`/`amin` (the values-only
//! reductions API.md names), while `torch.max(x, dim)`, which also returns indices, sends the whole
//! gradient to the returned index. The graph's reduce cannot tell which was meant.

use crate::{DType, Scalar, Shape, Tensor};
use smelt_codegen::{BinaryOp, ReduceOp, UnaryOp};
use smelt_passes::Op;

/// The gradient contributions of `t`'s operands `x`, given the gradient `g` of `t`. One line per op.
#[rustfmt::skip]
pub(crate) fn vjp(t: &Tensor, x: &[Tensor], g: &Tensor) -> Vec<Option<Tensor>> {
    if t.is_transfer() {
        return vec![Some(g.to(x[0].device()))];
    }
    let one = |c: Tensor| vec![Some(c)];
    match t.op() {
        // ---- leaves ----
        Op::Input(_) | Op::Const(_) | Op::Iota { .. } | Op::Rand { .. } => vec![],
        // ---- elementwise ----
        Op::Unary(op)                                          => one(unary(*op, &x[0], t, g)),
        Op::Binary(op)                                         => binary(*op, &x[0], &x[1], t, g),
        Op::Where                                              => select(&x[0], g),
        Op::Cast(_) if x[0].dtype().is_float()                 => one(g.cast_internal(x[0].dtype())),
        Op::Cast(_)                                            => vec![None],
        // ---- reduce: `g` has the kept (size-1) dims, so it broadcasts back ----
        Op::Reduce { op: ReduceOp::Sum, .. }                   => one(g.broadcast_internal(x[0].dims())),
        Op::Reduce { op: ReduceOp::Prod, axes }                => one(prod(&x[0], t, axes, g)),
        Op::Reduce { op: ReduceOp::Max | ReduceOp::Min, axes } => one(extreme(&x[0], t, axes, g)),
        // ---- movement: each view's gradient is the inverse view ----
        Op::Reshape(_)                                         => one(g.reshape_internal(x[0].dims().to_vec())),
        Op::Permute(perm)                                      => one(unpermute(g, perm)),
        Op::Expand(_)                                          => one(unexpand(g, x[0].dims())),
        Op::Pad { lo, .. }                                     => one(unpad(g, lo, x[0].dims())),
        Op::Slice { start, step }                              => one(unslice(g, start, step, x[0].dims())),
        // ---- data-dependent ----
        Op::Gather { axis }                                    => one_hot_grad(x, *axis, g),
        Op::Cat { axis }                                       => cat(x, *axis, g),
    }
}

/// Where's gradient: `g` to the operand each element came from; none to the condition.
fn select(cond: &Tensor, g: &Tensor) -> Vec<Option<Tensor>> {
    let z = zeros(g);
    vec![
        None,
        Some(Tensor::where_cond(cond, g, &z)),
        Some(Tensor::where_cond(cond, &z, g)),
    ]
}

/// `d op(x) / dx * g`; `t = op(x)`.
fn unary(op: UnaryOp, x: &Tensor, t: &Tensor, g: &Tensor) -> Tensor {
    match op {
        UnaryOp::Neg => -g,
        UnaryOp::Recip => -(g * &(t * t)),
        UnaryOp::Sqrt => g / &(t * 2.0),
        UnaryOp::Exp => g * t,
        UnaryOp::Log => g / x,
        UnaryOp::Sin => g * &x.cos(),
        UnaryOp::Cos => -(g * &x.sin()),
        UnaryOp::Tanh => g * &(1.0 - t * t),
        UnaryOp::Erf => g * &((-(x * x)).exp() * std::f64::consts::FRAC_2_SQRT_PI),
        UnaryOp::Abs => g * &x.sign(),
        UnaryOp::Sign | UnaryOp::Floor | UnaryOp::Ceil | UnaryOp::Round | UnaryOp::Trunc => {
            zeros(g)
        }
        UnaryOp::Not => unreachable!("bool tensors carry no gradient"),
    }
}

/// The contributions of `t = a op b`.
fn binary(op: BinaryOp, a: &Tensor, b: &Tensor, t: &Tensor, g: &Tensor) -> Vec<Option<Tensor>> {
    let (ga, gb) = match op {
        BinaryOp::Add => (g.clone(), g.clone()),
        BinaryOp::Sub => (g.clone(), -g),
        BinaryOp::Mul => (g * b, g * a),
        BinaryOp::Div => (g / b, -(g * a) / (b * b)),
        BinaryOp::Rem => (g.clone(), -(g * &(a / b).floor())),
        BinaryOp::Pow => pow(a, b, t, g),
        BinaryOp::Max | BinaryOp::Min => return pick(op, a, b, t, g),
        _ => unreachable!("{op} has a bool or integer result, which carries no gradient"),
    };
    vec![Some(ga), Some(gb)]
}

/// `a ** b` as PyTorch differentiates it: the base gets 0 where `b == 0` (not `0 * x^-1`), the exponent
/// gets 0 where `a == 0` and `b >= 0` (not `0 * log 0`).
fn pow(a: &Tensor, b: &Tensor, t: &Tensor, g: &Tensor) -> (Tensor, Tensor) {
    let da = Tensor::where_cond(
        &b.eq_scalar(0.0),
        &zeros(g),
        &(g * &(b * &a.pow(&(b - 1.0)))),
    );
    let base_zero = a.eq_scalar(0.0).bitand(&b.ge_scalar(0.0));
    let db = g * &Tensor::where_cond(&base_zero, &zeros(g), &(t * &a.log()));
    (da, db)
}

/// Elementwise max / min: the gradient goes to the selected operand. Two tensors split ties half and
/// half (`torch.maximum`). Against a constant (`clamp`, `relu`) the tensor operand keeps the whole
/// gradient at the boundary, except `max(x, 0)`, which is `relu` and gives 0 there, as PyTorch.
///
/// `relu`'s mask is read from its result `t = max(x, 0)`, as PyTorch's `threshold_backward(g, t, 0)`
/// does (`!(t <= 0)` is `!(x <= 0)`, NaN included): the result is what a training step keeps anyway
/// (the next layer's matmul reads it), so the pre-activation need not be kept or recomputed.
fn pick(op: BinaryOp, a: &Tensor, b: &Tensor, t: &Tensor, g: &Tensor) -> Vec<Option<Tensor>> {
    let pass = |keep: Tensor| Tensor::where_cond(&keep, g, &zeros(g));
    let is_max = op == BinaryOp::Max;
    if let Some(c) = constant(b) {
        let keep = match (is_max, c == 0.0) {
            (true, true) => t.le_scalar(0.0).logical_not(),
            (true, false) => a.ge_scalar(c),
            (false, _) => a.le_scalar(c),
        };
        return vec![Some(pass(keep)), None];
    }
    if let Some(c) = constant(a) {
        let keep = if is_max {
            b.ge_scalar(c)
        } else {
            b.le_scalar(c)
        };
        return vec![None, Some(pass(keep))];
    }
    let half = g * 0.5;
    let tie = a.eq(b);
    let split =
        |loses: Tensor| Tensor::where_cond(&tie, &half, &Tensor::where_cond(&loses, &zeros(g), g));
    let (a_loses, b_loses) = if is_max {
        (a.lt(b), a.gt(b))
    } else {
        (a.gt(b), a.lt(b))
    };
    vec![Some(split(a_loses)), Some(split(b_loses))]
}

/// The value of `t` if it is a constant broadcast by reshapes and expands (how scalars enter the graph).
fn constant(t: &Tensor) -> Option<f64> {
    let mut t = t.clone();
    loop {
        match t.op() {
            Op::Const(s) if !t.is_realized() => return Some(s.to_f64()),
            Op::Reshape(_) | Op::Expand(_) if !t.is_realized() => {
                let src = t.srcs().into_iter().next()?;
                t = src;
            }
            _ => return None,
        }
    }
}

/// Reduce prod: each element gets the product of the others. Without zeros that is `prod / x`; with one
/// zero only the zero gets a gradient (the product of the nonzero elements); with more, all get 0.
fn prod(x: &Tensor, t: &Tensor, axes: &[usize], g: &Tensor) -> Tensor {
    let dims = x.dims();
    let is_zero = x.eq_scalar(0.0);
    let zero_count = is_zero
        .cast_internal(x.dtype())
        .reduce_internal(ReduceOp::Sum, axes, true)
        .broadcast_internal(dims);
    let safe = Tensor::where_cond(&is_zero, &x.ones_like_dtype(x.dtype()), x);
    let nonzero_prod = safe
        .reduce_internal(ReduceOp::Prod, axes, true)
        .broadcast_internal(dims);
    let no_zero = &t.broadcast_internal(dims) / &safe;
    let lone_zero = is_zero.bitand(&zero_count.eq_scalar(1.0));
    let one_zero = Tensor::where_cond(&lone_zero, &nonzero_prod, &zeros(x));
    let others = Tensor::where_cond(&zero_count.eq_scalar(0.0), &no_zero, &one_zero);
    &g.broadcast_internal(dims) * &others
}

/// Reduce max / min: the gradient is split evenly among the elements equal to the result (NaN results
/// go to the NaN elements), as `torch.max()` and `torch.amax` do.
fn extreme(x: &Tensor, t: &Tensor, axes: &[usize], g: &Tensor) -> Tensor {
    let dims = x.dims();
    let m = t.broadcast_internal(dims);
    let hit = x.eq(&m).bitor(&x.isnan().bitand(&m.isnan()));
    let count = hit
        .cast_internal(x.dtype())
        .reduce_internal(ReduceOp::Sum, axes, true);
    let share = (g / &count).broadcast_internal(dims);
    Tensor::where_cond(&hit, &share, &zeros(x))
}

/// Permute's gradient, the inverse permutation of `g`. When `g` is itself a permute (a weight used as
/// `x @ w.t()`: the matmul permutes the transposed weight again) the two collapse into one view, or into
/// `g`'s source when they cancel, so the weight's gradient is the matmul's buffer itself rather than a
/// copy of it through two transposes.
fn unpermute(g: &Tensor, perm: &[usize]) -> Tensor {
    let inv = inverse(perm);
    if let Op::Permute(p) = g.op()
        && !g.is_realized()
    {
        let src = g.srcs().remove(0);
        // permute(permute(s, p), q) has dim i = s's dim p[q[i]].
        return src.permute_internal(inv.iter().map(|&q| p[q]).collect());
    }
    g.permute_internal(inv)
}

/// The inverse permutation.
fn inverse(perm: &[usize]) -> Vec<usize> {
    let mut inv = vec![0; perm.len()];
    for (i, &p) in perm.iter().enumerate() {
        inv[p] = i;
    }
    inv
}

/// Expand's gradient: the sum over the broadcast axes, keeping them with size 1.
fn unexpand(g: &Tensor, to: &[usize]) -> Tensor {
    let axes: Vec<usize> = (0..to.len())
        .filter(|&i| to[i] == 1 && g.dims()[i] != 1)
        .collect();
    if axes.is_empty() {
        g.clone()
    } else {
        g.reduce_internal(ReduceOp::Sum, &axes, true)
    }
}

/// Pad's gradient: the slice of `g` the source occupies.
fn unpad(g: &Tensor, lo: &[usize], to: &[usize]) -> Tensor {
    slice_node(g, lo.to_vec(), vec![1; lo.len()], to.to_vec())
}

fn slice_node(g: &Tensor, start: Vec<usize>, step: Vec<usize>, dims: Vec<usize>) -> Tensor {
    g.unary_node(Op::Slice { start, step }, Shape::from(dims), g.dtype())
}

/// A zero padding node (or `g` itself when nothing is added).
fn pad_node(g: &Tensor, lo: Vec<usize>, hi: Vec<usize>) -> Tensor {
    if lo.iter().chain(&hi).all(|&w| w == 0) {
        return g.clone();
    }
    let dims: Vec<usize> = g
        .dims()
        .iter()
        .enumerate()
        .map(|(i, &d)| d + lo[i] + hi[i])
        .collect();
    g.unary_node(
        Op::Pad {
            lo,
            hi,
            value: Scalar::zero(g.dtype()),
        },
        Shape::from(dims),
        g.dtype(),
    )
}

/// Slice's gradient: `g` scattered into zeros of the source's shape. A strided axis is spread first:
/// `[n] → [n, 1] → pad to [n, step] → [n * step]` puts element `j` at `j * step` with zeros between;
/// then one pad places the block at `start`.
fn unslice(g: &Tensor, start: &[usize], step: &[usize], to: &[usize]) -> Tensor {
    if g.numel() == 0 {
        return Tensor::full_on(to, 0.0, g.dtype(), g.device());
    }
    let mut g = g.clone();
    for (a, &s) in step.iter().enumerate() {
        let n = g.dims()[a];
        if s == 1 || n == 1 {
            continue;
        }
        let mut split = g.dims().to_vec();
        split.insert(a + 1, 1);
        let (mut lo, mut hi) = (vec![0; split.len()], vec![0; split.len()]);
        hi[a + 1] = s - 1;
        let spread = pad_node(&g.reshape_internal(split), lo.clone(), hi);
        let mut flat = g.dims().to_vec();
        flat[a] = n * s;
        let mut kept = flat.clone();
        kept[a] = (n - 1) * s + 1;
        lo.truncate(flat.len());
        g = slice_node(
            &spread.reshape_internal(flat),
            lo,
            vec![1; kept.len()],
            kept,
        );
    }
    let hi = (0..to.len())
        .map(|i| to[i] - start[i] - g.dims()[i])
        .collect();
    pad_node(&g, start.to_vec(), hi)
}

/// Gather's gradient, a scatter-add built as a one-hot product so it is deterministic: with `K` the
/// size of `axis` in the data, `hit[.., j, k, ..] = (index[.., j, ..] == k)`, and the data's gradient at
/// `k` is the sum over `j` of `g` where hit; dims the index does not cover get zeros.
fn scatter_add(data: &Tensor, index: &Tensor, axis: usize, g: &Tensor) -> Tensor {
    let k = data.dims()[axis];
    let mut wide = g.dims().to_vec();
    wide.insert(axis + 1, k);
    let mut narrow = g.dims().to_vec();
    narrow.insert(axis + 1, 1);
    let idx = index
        .cast_internal(DType::I64)
        .reshape_internal(narrow.clone())
        .broadcast_internal(&wide);
    let iota = Tensor::lazy(
        Op::Iota { axis: axis + 1 },
        crate::tensor::Srcs::new(),
        Shape::from(wide.clone()),
        DType::I64,
        g.device(),
    );
    let hit = idx.binary_internal(BinaryOp::CmpEq, &iota);
    let spread = g.reshape_internal(narrow).broadcast_internal(&wide);
    let picked = Tensor::where_cond(&hit, &spread, &spread.zeros_like_dtype(g.dtype()));
    let summed = picked.reduce_internal(ReduceOp::Sum, &[axis], false);
    let hi = (0..data.ndim())
        .map(|i| data.dims()[i] - summed.dims()[i])
        .collect();
    pad_node(&summed, vec![0; data.ndim()], hi)
}

/// Gather's contributions: a scatter-add into the data; none to the index.
fn one_hot_grad(x: &[Tensor], axis: usize, g: &Tensor) -> Vec<Option<Tensor>> {
    vec![Some(scatter_add(&x[0], &x[1], axis, g)), None]
}

/// Cat's gradient: each operand's slice of `g`.
fn cat(x: &[Tensor], axis: usize, g: &Tensor) -> Vec<Option<Tensor>> {
    let mut offset = 0;
    x.iter()
        .map(|s| {
            let mut start = vec![0; s.ndim()];
            start[axis] = offset;
            offset += s.dims()[axis];
            Some(slice_node(g, start, vec![1; s.ndim()], s.dims().to_vec()))
        })
        .collect()
}

/// Zeros of `t`'s shape and dtype.
fn zeros(t: &Tensor) -> Tensor {
    t.zeros_like_dtype(t.dtype())
}
