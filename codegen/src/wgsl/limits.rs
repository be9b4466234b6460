//! What a kernel must satisfy to run on the GPU: dtypes the adapter has, and 32-bit indexing.

use super::{Caps, unsupported};
use crate::dtype::DType;
use crate::error::CodegenError;
use crate::kernel::{AccId, Expr, Interval, Kernel, Stmt, Ty};
use crate::ops::ReduceOp;
use indexmap::IndexMap;

pub(super) const I32_MAX: i128 = i32::MAX as i128;
pub(super) const I32_MIN: i128 = i32::MIN as i128;

/// Checks that a kernel fits the GPU: every dtype it uses is in `caps`, and every buffer length, loop
/// extent, index range and index constant fits in `i32`.
pub(super) fn check(
    k: &Kernel,
    tys: &[Ty],
    ranges: &[Option<Interval>],
    accs: &IndexMap<AccId, (ReduceOp, DType)>,
    caps: &Caps,
) -> Result<(), CodegenError> {
    let fail = |what: String| Err(unsupported(&k.name, what));
    let dtype_ok = |d: DType| -> Result<(), CodegenError> {
        if caps.supports(d) {
            Ok(())
        } else {
            let feature = if d == DType::F64 {
                "SHADER_F64"
            } else {
                "SHADER_INT64"
            };
            fail(format!(
                "{d} values need an adapter with {feature}, which this one lacks"
            ))
        }
    };
    for (i, p) in k.params.iter().enumerate() {
        dtype_ok(p.dtype)?;
        if p.len > i32::MAX as u64 {
            return fail(format!(
                "buffer b{i} has {} elements; GPU kernels index with i32",
                p.len
            ));
        }
    }
    for (_, d) in accs.values() {
        dtype_ok(*d)?;
    }
    let mut extents = vec![k.extent];
    loop_extents(&k.body, &mut extents);
    if let Some(e) = extents.iter().find(|&&e| e > i32::MAX as u64) {
        return fail(format!(
            "a loop of {e} iterations; GPU kernels index with i32"
        ));
    }
    for (i, e) in k.exprs.iter().enumerate() {
        if let Ty::Value(d) = tys[i] {
            dtype_ok(d)?;
        }
        if let Expr::Cast(_, d) = e {
            dtype_ok(*d)?;
        }
        if let Expr::IMul(_, c) | Expr::IDiv(_, c) | Expr::IMod(_, c) = *e
            && i32::try_from(c).is_err()
        {
            return fail(format!("e{i} = {e}: the constant does not fit in i32"));
        }
        if let Some(r) = ranges[i]
            && (r.lo < I32_MIN || r.hi > I32_MAX)
        {
            return fail(format!(
                "e{i} = {e} ranges over [{}, {}], beyond i32",
                r.lo, r.hi
            ));
        }
    }
    Ok(())
}

fn loop_extents(stmts: &[Stmt], out: &mut Vec<u64>) {
    for s in stmts {
        if let Stmt::Loop { extent, body, .. } = s {
            out.push(*extent);
            loop_extents(body, out);
        }
    }
}
