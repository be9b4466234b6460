//! Type inference for graph ops: the shape and dtype of a node from its op and operands.
//!
//! The rules are strict (no broadcasting, no promotion): the Tensor API has already made operands agree.
//! The verifier re-runs inference on every node, so a pass that builds a wrong node is caught at once.

use crate::graph::{Op, ShapeText, TypeInfo};
use smelt_codegen::{BinaryOp, DType, UnaryOp};

fn shape_text(s: &[usize]) -> String {
    ShapeText(s).to_string()
}

fn arity(op: &Op, srcs: &[&TypeInfo], n: usize) -> Result<(), String> {
    if srcs.len() != n {
        return Err(format!(
            "{} takes {n} operands, got {}",
            op.name(),
            srcs.len()
        ));
    }
    Ok(())
}

fn same_shape(op: &Op, a: &TypeInfo, b: &TypeInfo) -> Result<(), String> {
    if a.shape != b.shape {
        return Err(format!(
            "{}: operand shapes {} and {} differ",
            op.name(),
            shape_text(&a.shape),
            shape_text(&b.shape)
        ));
    }
    Ok(())
}

fn axes_ok(op: &Op, axes: &[usize], ndim: usize) -> Result<(), String> {
    for w in axes.windows(2) {
        if w[0] >= w[1] {
            return Err(format!(
                "{}: axes {} are not sorted and unique",
                op.name(),
                shape_text(axes)
            ));
        }
    }
    if axes.iter().any(|&a| a >= ndim) {
        return Err(format!(
            "{}: axes {} out of range for rank {ndim}",
            op.name(),
            shape_text(axes)
        ));
    }
    Ok(())
}

/// The type of `op` applied to operands of types `srcs`, or why it does not fit. A `Const` infers as 0-d
/// (give its type to broadcast it); `Iota` and `Rand` need their type given: see
/// [`crate::Graph::add_typed`].
pub fn infer(op: &Op, srcs: &[&TypeInfo]) -> Result<TypeInfo, String> {
    match op {
        Op::Input(_) => Err("input nodes are declared with Graph::input".into()),
        Op::Const(s) => {
            arity(op, srcs, 0)?;
            Ok(TypeInfo {
                shape: vec![],
                dtype: s.dtype(),
            })
        }
        Op::Iota { .. } | Op::Rand { .. } => {
            Err(format!("{} nodes need their type given", op.name()))
        }
        Op::Unary(u) => {
            arity(op, srcs, 1)?;
            let d = srcs[0].dtype;
            if u.float_only() && !d.is_float() {
                return Err(format!("{} of {d}", u.name()));
            }
            if (*u == UnaryOp::Not) != (d == DType::Bool) {
                return Err(format!("{} of {d}", u.name()));
            }
            Ok(srcs[0].clone())
        }
        Op::Binary(b) => {
            arity(op, srcs, 2)?;
            same_shape(op, srcs[0], srcs[1])?;
            let (da, db) = (srcs[0].dtype, srcs[1].dtype);
            if da != db {
                return Err(format!("{}: operand dtypes {da} and {db} differ", b.name()));
            }
            if b.is_bitwise() && da.is_float() {
                return Err(format!("{} of {da}", b.name()));
            }
            if matches!(
                b,
                BinaryOp::Sub | BinaryOp::Div | BinaryOp::Rem | BinaryOp::Pow
            ) && da == DType::Bool
            {
                return Err(format!("{} of bool", b.name()));
            }
            Ok(TypeInfo {
                shape: srcs[0].shape.clone(),
                dtype: b.result_dtype(da),
            })
        }
        Op::Where => {
            arity(op, srcs, 3)?;
            same_shape(op, srcs[0], srcs[1])?;
            same_shape(op, srcs[1], srcs[2])?;
            if srcs[0].dtype != DType::Bool {
                return Err(format!("where: condition is {}, not bool", srcs[0].dtype));
            }
            if srcs[1].dtype != srcs[2].dtype {
                return Err(format!(
                    "where: branch dtypes {} and {} differ",
                    srcs[1].dtype, srcs[2].dtype
                ));
            }
            Ok(srcs[1].clone())
        }
        Op::Cast(d) => {
            arity(op, srcs, 1)?;
            Ok(TypeInfo {
                shape: srcs[0].shape.clone(),
                dtype: *d,
            })
        }
        Op::Reduce { axes, .. } => {
            arity(op, srcs, 1)?;
            axes_ok(op, axes, srcs[0].shape.len())?;
            let mut shape = srcs[0].shape.clone();
            for &a in axes {
                shape[a] = 1;
            }
            Ok(TypeInfo {
                shape,
                dtype: srcs[0].dtype,
            })
        }
        Op::Reshape(shape) => {
            arity(op, srcs, 1)?;
            let (from, to) = (srcs[0].numel(), shape.iter().product::<usize>());
            if from != to {
                return Err(format!(
                    "reshape {} to {}",
                    shape_text(&srcs[0].shape),
                    shape_text(shape)
                ));
            }
            Ok(TypeInfo {
                shape: shape.clone(),
                dtype: srcs[0].dtype,
            })
        }
        Op::Permute(perm) => {
            arity(op, srcs, 1)?;
            let n = srcs[0].shape.len();
            let mut seen = vec![false; n];
            if perm.len() != n
                || perm
                    .iter()
                    .any(|&p| p >= n || std::mem::replace(&mut seen[p], true))
            {
                return Err(format!("permute {} of rank {n}", shape_text(perm)));
            }
            Ok(TypeInfo {
                shape: perm.iter().map(|&p| srcs[0].shape[p]).collect(),
                dtype: srcs[0].dtype,
            })
        }
        Op::Expand(shape) => {
            arity(op, srcs, 1)?;
            let from = &srcs[0].shape;
            if from.len() != shape.len() || from.iter().zip(shape).any(|(&f, &t)| f != t && f != 1)
            {
                return Err(format!(
                    "expand {} to {}",
                    shape_text(from),
                    shape_text(shape)
                ));
            }
            Ok(TypeInfo {
                shape: shape.clone(),
                dtype: srcs[0].dtype,
            })
        }
        Op::Pad { lo, hi, value } => {
            arity(op, srcs, 1)?;
            let from = &srcs[0].shape;
            if lo.len() != from.len() || hi.len() != from.len() {
                return Err(format!(
                    "pad of rank {} with {} / {} widths",
                    from.len(),
                    lo.len(),
                    hi.len()
                ));
            }
            if value.dtype() != srcs[0].dtype {
                return Err(format!("pad value {value} for a {} tensor", srcs[0].dtype));
            }
            let shape = from
                .iter()
                .zip(lo.iter().zip(hi))
                .map(|(&d, (&l, &h))| d + l + h)
                .collect();
            Ok(TypeInfo {
                shape,
                dtype: srcs[0].dtype,
            })
        }
        Op::Slice { .. } => Err("slice nodes need their type given".into()),
        Op::Gather { axis } => {
            arity(op, srcs, 2)?;
            let (data, index) = (srcs[0], srcs[1]);
            if data.shape.len() != index.shape.len() || *axis >= data.shape.len().max(1) {
                return Err(format!(
                    "gather axis {axis} of {} with index {}",
                    shape_text(&data.shape),
                    shape_text(&index.shape)
                ));
            }
            if !index.dtype.is_int() {
                return Err(format!(
                    "gather index is {}, not an integer dtype",
                    index.dtype
                ));
            }
            Ok(TypeInfo {
                shape: index.shape.clone(),
                dtype: data.dtype,
            })
        }
        Op::Cat { axis } => {
            if srcs.is_empty() {
                return Err("cat of no operands".into());
            }
            let first = srcs[0];
            if *axis >= first.shape.len() {
                return Err(format!("cat axis {axis} of rank {}", first.shape.len()));
            }
            let mut shape = first.shape.clone();
            shape[*axis] = 0;
            for s in srcs {
                let fits = s.shape.len() == first.shape.len()
                    && s.shape
                        .iter()
                        .zip(&first.shape)
                        .enumerate()
                        .all(|(i, (a, b))| i == *axis || a == b);
                if !fits || s.dtype != first.dtype {
                    return Err(format!("cat of {} and {}", first, s));
                }
                shape[*axis] += s.shape[*axis];
            }
            Ok(TypeInfo {
                shape,
                dtype: first.dtype,
            })
        }
    }
}

/// Checks a slice's parameters against its input and output shapes.
pub fn check_slice(
    from: &[usize],
    start: &[usize],
    step: &[usize],
    to: &[usize],
) -> Result<(), String> {
    if start.len() != from.len() || step.len() != from.len() || to.len() != from.len() {
        return Err(format!(
            "slice of rank {} with {} starts, {} steps",
            from.len(),
            start.len(),
            step.len()
        ));
    }
    for i in 0..from.len() {
        if step[i] == 0 {
            return Err("slice step 0".into());
        }
        if to[i] > 0 && start[i] + (to[i] - 1) * step[i] >= from[i] {
            return Err(format!(
                "slice axis {i}: {} elements from {} step {} in {}",
                to[i], start[i], step[i], from[i]
            ));
        }
    }
    Ok(())
}
