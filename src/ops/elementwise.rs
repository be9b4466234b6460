//! Elementwise math: broadcasting, PyTorch type promotion, unary functions, comparisons, `where`, casts,
//! and the arithmetic operators.

use crate::tensor::CACHED_NODES;
use crate::{Category, DType, Error, Result, Scalar, Shape, Tensor, ok};
use smelt_codegen::{BinaryOp, UnaryOp};
use smelt_passes::Op;
use std::sync::atomic::Ordering;

/// The default float dtype (PyTorch's `torch.get_default_dtype()`).
pub const DEFAULT_FLOAT: DType = DType::F32;

/// NumPy broadcasting of two shapes.
pub(crate) fn broadcast_shapes(op: &'static str, a: &[usize], b: &[usize]) -> Result<Shape> {
    let n = a.len().max(b.len());
    let mut out = vec![0; n];
    for i in 0..n {
        let da = if i + a.len() >= n {
            a[i + a.len() - n]
        } else {
            1
        };
        let db = if i + b.len() >= n {
            b[i + b.len() - n]
        } else {
            1
        };
        out[i] = match (da, db) {
            (x, y) if x == y => x,
            (1, y) => y,
            (x, 1) => x,
            _ => {
                return Err(Error::Shape {
                    op,
                    what: format!("shapes {a:?} and {b:?} cannot broadcast"),
                });
            }
        };
    }
    Ok(Shape::from(out))
}

/// PyTorch's result type for two tensors (`torch.result_type`): a 0-d operand decides the dtype only when
/// its category (bool < int < float) is higher than the dimensioned operand's.
pub(crate) fn result_type(a: &Tensor, b: &Tensor) -> DType {
    let (da, db) = (a.dtype(), b.dtype());
    match (a.ndim() == 0, b.ndim() == 0) {
        (false, true) => {
            if db.category() > da.category() {
                db
            } else {
                da
            }
        }
        (true, false) => {
            if da.category() > db.category() {
                da
            } else {
                db
            }
        }
        _ => DType::promote(da, db),
    }
}

impl Tensor {
    /// A 0-d constant node on this tensor's device.
    /// A constant of this tensor's shape and device (one node, no memory). Recently made constants are
    /// shared: a loop of `x = x + 1.0` reuses one node instead of allocating one per step.
    pub(crate) fn full_const(&self, value: Scalar) -> Tensor {
        const KEEP: usize = 8;
        /// The cache; entries are counted in `CACHED_NODES` while held.
        struct Recent(Vec<Tensor>);
        impl Drop for Recent {
            fn drop(&mut self) {
                CACHED_NODES.fetch_sub(self.0.len(), Ordering::Relaxed);
            }
        }
        thread_local! {
            static RECENT: std::cell::RefCell<Recent> = const { std::cell::RefCell::new(Recent(Vec::new())) };
        }
        RECENT.with(|recent| {
            let recent = &mut recent.borrow_mut().0;
            let hit = recent.iter().position(|t| {
                matches!(t.op(), Op::Const(c) if *c == value)
                    && t.shape() == self.shape()
                    && t.device() == self.device()
            });
            if let Some(i) = hit {
                let t = recent.remove(i);
                recent.push(t.clone());
                return t;
            }
            let t = Tensor::lazy(
                Op::Const(value),
                crate::tensor::Srcs::new(),
                self.shape().clone(),
                value.dtype(),
                self.device(),
            );
            if recent.len() == KEEP {
                recent.remove(0);
                CACHED_NODES.fetch_sub(1, Ordering::Relaxed);
            }
            recent.push(t.clone());
            CACHED_NODES.fetch_add(1, Ordering::Relaxed);
            t
        })
    }

    /// The value of an unrealized constant node.
    pub(crate) fn as_const(&self) -> Option<Scalar> {
        match self.op() {
            Op::Const(s) if !self.is_realized() && !self.requires_grad() => Some(*s),
            _ => None,
        }
    }

    /// Broadcasts to `shape` with reshape (leading 1s) and expand; no node when already there. A constant
    /// becomes a constant of the new shape (one node).
    pub(crate) fn broadcast_internal(&self, shape: &[usize]) -> Tensor {
        if self.dims() == shape {
            return self.clone();
        }
        if let Some(c) = self.as_const() {
            return Tensor::lazy(
                Op::Const(c),
                crate::tensor::Srcs::new(),
                Shape::from(shape.to_vec()),
                c.dtype(),
                self.device(),
            );
        }
        let mut t = self.clone();
        if t.ndim() < shape.len() {
            let mut dims = vec![1; shape.len() - t.ndim()];
            dims.extend_from_slice(t.dims());
            t = t.reshape_internal(dims);
        }
        if t.dims() != shape {
            t = t.unary_node(
                Op::Expand(shape.to_vec()),
                Shape::from(shape.to_vec()),
                t.dtype(),
            );
        }
        t
    }

    /// A cast node, or the tensor itself when it already has `dtype`.
    pub(crate) fn cast_internal(&self, dtype: DType) -> Tensor {
        if self.dtype() == dtype {
            return self.clone();
        }
        self.unary_node(Op::Cast(dtype), self.shape().clone(), dtype)
    }

    /// A strict binary node: same shape, same dtype.
    pub(crate) fn binary_internal(&self, op: BinaryOp, rhs: &Tensor) -> Tensor {
        Tensor::lazy(
            Op::Binary(op),
            smallvec::smallvec![self.clone(), rhs.clone()],
            self.shape().clone(),
            op.result_dtype(self.dtype()),
            self.device(),
        )
    }

    pub(crate) fn unary_internal(&self, op: UnaryOp) -> Tensor {
        self.unary_node(Op::Unary(op), self.shape().clone(), self.dtype())
    }

    /// Broadcasts and casts two operands to a common shape and `dtype`.
    pub(crate) fn align(
        op: &'static str,
        a: &Tensor,
        b: &Tensor,
        dtype: DType,
    ) -> Result<(Tensor, Tensor)> {
        Tensor::same_device(op, &[a, b])?;
        let shape = broadcast_shapes(op, a.dims(), b.dims())?;
        Ok((
            a.cast_internal(dtype).broadcast_internal(&shape),
            b.cast_internal(dtype).broadcast_internal(&shape),
        ))
    }

    /// `op(a, b)` with broadcasting and promotion; `float` forces a float result (true division).
    fn binary(
        op_name: &'static str,
        op: BinaryOp,
        a: &Tensor,
        b: &Tensor,
        float: bool,
    ) -> Result<Tensor> {
        let mut dtype = result_type(a, b);
        if float && !dtype.is_float() {
            dtype = DEFAULT_FLOAT;
        }
        check_binary_dtype(op_name, op, dtype)?;
        let (x, y) = Tensor::align(op_name, a, b, dtype)?;
        Ok(x.binary_internal(op, &y))
    }

    /// `op(self, scalar)` with a weak f64 scalar on the right (or left with `flip`).
    fn binary_scalar(
        &self,
        op_name: &'static str,
        op: BinaryOp,
        s: f64,
        flip: bool,
        float: bool,
    ) -> Result<Tensor> {
        let mut dtype = self.dtype().promote_weak(Category::Float);
        if float && !dtype.is_float() {
            dtype = DEFAULT_FLOAT;
        }
        check_binary_dtype(op_name, op, dtype)?;
        let x = self.cast_internal(dtype);
        let c = self.full_const(Scalar::from_f64(s, dtype));
        Ok(if flip {
            c.binary_internal(op, &x)
        } else {
            x.binary_internal(op, &c)
        })
    }

    /// A comparison with broadcasting; operands are promoted to a common dtype first.
    fn compare(
        op_name: &'static str,
        op: BinaryOp,
        a: &Tensor,
        b: &Tensor,
        swap: bool,
    ) -> Result<Tensor> {
        let dtype = result_type(a, b);
        let (x, y) = Tensor::align(op_name, a, b, dtype)?;
        Ok(if swap {
            y.binary_internal(op, &x)
        } else {
            x.binary_internal(op, &y)
        })
    }

    fn compare_scalar(&self, op: BinaryOp, s: f64, swap: bool) -> Tensor {
        let dtype = self.dtype().promote_weak(Category::Float);
        let x = self.cast_internal(dtype);
        let c = self.full_const(Scalar::from_f64(s, dtype));
        if swap {
            c.binary_internal(op, &x)
        } else {
            x.binary_internal(op, &c)
        }
    }

    /// A float-only unary function: integer and bool inputs become the default float first.
    fn float_unary(&self, op: UnaryOp) -> Tensor {
        self.to_float().unary_internal(op)
    }

    /// The tensor as a float dtype (itself if already float).
    pub(crate) fn to_float(&self) -> Tensor {
        if self.dtype().is_float() {
            self.clone()
        } else {
            self.cast_internal(DEFAULT_FLOAT)
        }
    }
}

fn check_binary_dtype(op_name: &'static str, op: BinaryOp, dtype: DType) -> Result<()> {
    if dtype == DType::Bool
        && matches!(
            op,
            BinaryOp::Sub | BinaryOp::Div | BinaryOp::Rem | BinaryOp::Pow
        )
    {
        return Err(Error::DType {
            op: op_name,
            what: "not supported for two bool tensors".into(),
        });
    }
    if op.is_bitwise() && dtype.is_float() {
        return Err(Error::DType {
            op: op_name,
            what: format!("not supported for {dtype} tensors"),
        });
    }
    Ok(())
}

/// Declares a binary method `name(&self, &Tensor)` and its `try_` twin.
macro_rules! binary_methods {
    ($($(#[$doc:meta])* $name:ident, $try:ident, $op:expr, $float:expr;)*) => {
        impl Tensor {
            $(
                $(#[$doc])*
                #[track_caller]
                pub fn $name(&self, rhs: &Tensor) -> Tensor {
                    ok(self.$try(rhs))
                }

                $(#[$doc])*
                pub fn $try(&self, rhs: &Tensor) -> Result<Tensor> {
                    Tensor::binary(stringify!($name), $op, self, rhs, $float)
                }
            )*
        }
    };
}

binary_methods! {
    /// `self + rhs`, broadcasting (`torch.add`).
    add, try_add, BinaryOp::Add, false;
    /// `self - rhs`, broadcasting.
    sub, try_sub, BinaryOp::Sub, false;
    /// `self * rhs`, broadcasting.
    mul, try_mul, BinaryOp::Mul, false;
    /// True division: integer operands give the default float (`torch.div`).
    div, try_div, BinaryOp::Div, true;
    /// `self ** rhs`, broadcasting.
    pow, try_pow, BinaryOp::Pow, false;
    /// Elementwise maximum; NaN propagates (`torch.maximum`).
    maximum, try_maximum, BinaryOp::Max, false;
    /// Elementwise minimum; NaN propagates (`torch.minimum`).
    minimum, try_minimum, BinaryOp::Min, false;
    /// Python's `%`: the result has the divisor's sign (`torch.remainder`).
    remainder, try_remainder, BinaryOp::Rem, false;
    /// Bitwise (or logical, for bool) and.
    bitand, try_bitand, BinaryOp::And, false;
    /// Bitwise (or logical, for bool) or.
    bitor, try_bitor, BinaryOp::Or, false;
    /// Bitwise (or logical, for bool) xor.
    bitxor, try_bitxor, BinaryOp::Xor, false;
}

/// Declares a comparison `name(&self, &Tensor) -> bool tensor`, its `try_` twin and a `_scalar` form.
macro_rules! comparisons {
    ($($(#[$doc:meta])* $name:ident, $try:ident, $scalar:ident, $op:expr, $swap:expr;)*) => {
        impl Tensor {
            $(
                $(#[$doc])*
                #[track_caller]
                pub fn $name(&self, rhs: &Tensor) -> Tensor {
                    ok(self.$try(rhs))
                }

                $(#[$doc])*
                pub fn $try(&self, rhs: &Tensor) -> Result<Tensor> {
                    Tensor::compare(stringify!($name), $op, self, rhs, $swap)
                }

                $(#[$doc])*
                /// Against a scalar.
                pub fn $scalar(&self, rhs: f64) -> Tensor {
                    self.compare_scalar($op, rhs, $swap)
                }
            )*
        }
    };
}

comparisons! {
    /// `self == rhs` as a bool tensor.
    eq, try_eq, eq_scalar, BinaryOp::CmpEq, false;
    /// `self != rhs` as a bool tensor.
    ne, try_ne, ne_scalar, BinaryOp::CmpNe, false;
    /// `self < rhs` as a bool tensor.
    lt, try_lt, lt_scalar, BinaryOp::CmpLt, false;
    /// `self <= rhs` as a bool tensor.
    le, try_le, le_scalar, BinaryOp::CmpLe, false;
    /// `self > rhs` as a bool tensor.
    gt, try_gt, gt_scalar, BinaryOp::CmpLt, true;
    /// `self >= rhs` as a bool tensor.
    ge, try_ge, ge_scalar, BinaryOp::CmpLe, true;
}

/// Declares float functions of one tensor (integer inputs become the default float).
macro_rules! float_unary {
    ($($(#[$doc:meta])* $name:ident => $op:expr;)*) => {
        impl Tensor {
            $(
                $(#[$doc])*
                pub fn $name(&self) -> Tensor {
                    self.float_unary($op)
                }
            )*
        }
    };
}

float_unary! {
    /// `e^x`.
    exp => UnaryOp::Exp;
    /// Natural logarithm.
    log => UnaryOp::Log;
    /// Square root.
    sqrt => UnaryOp::Sqrt;
    /// Sine.
    sin => UnaryOp::Sin;
    /// Cosine.
    cos => UnaryOp::Cos;
    /// Hyperbolic tangent.
    tanh => UnaryOp::Tanh;
    /// The error function.
    erf => UnaryOp::Erf;
    /// `1 / x`.
    reciprocal => UnaryOp::Recip;
}

impl Tensor {
    /// `-x`. Panics for bool tensors, as PyTorch raises.
    #[track_caller]
    pub fn neg(&self) -> Tensor {
        ok(self.try_neg())
    }

    pub fn try_neg(&self) -> Result<Tensor> {
        if self.dtype() == DType::Bool {
            return Err(Error::DType {
                op: "neg",
                what: "negation of a bool tensor is not supported".into(),
            });
        }
        Ok(self.unary_internal(UnaryOp::Neg))
    }

    /// `1 / sqrt(x)`.
    pub fn rsqrt(&self) -> Tensor {
        self.sqrt().reciprocal()
    }

    /// `|x|`.
    pub fn abs(&self) -> Tensor {
        if self.dtype() == DType::Bool {
            self.clone()
        } else {
            self.unary_internal(UnaryOp::Abs)
        }
    }

    /// -1, 0 or 1 by sign (NaN stays NaN).
    pub fn sign(&self) -> Tensor {
        if self.dtype() == DType::Bool {
            self.clone()
        } else {
            self.unary_internal(UnaryOp::Sign)
        }
    }

    /// Rounds down; integers are returned as they are.
    pub fn floor(&self) -> Tensor {
        self.round_like(UnaryOp::Floor)
    }

    /// Rounds up; integers are returned as they are.
    pub fn ceil(&self) -> Tensor {
        self.round_like(UnaryOp::Ceil)
    }

    /// Rounds half to even (`torch.round`); integers are returned as they are.
    pub fn round(&self) -> Tensor {
        self.round_like(UnaryOp::Round)
    }

    /// Rounds toward zero; integers are returned as they are.
    pub fn trunc(&self) -> Tensor {
        self.round_like(UnaryOp::Trunc)
    }

    fn round_like(&self, op: UnaryOp) -> Tensor {
        if self.dtype().is_float() {
            self.unary_internal(op)
        } else {
            self.clone()
        }
    }

    /// Logical not of a bool tensor (other dtypes: `x == 0`).
    pub fn logical_not(&self) -> Tensor {
        if self.dtype() == DType::Bool {
            self.unary_internal(UnaryOp::Not)
        } else {
            self.eq_scalar(0.0)
        }
    }

    /// `x * x`.
    pub fn square(&self) -> Tensor {
        self.mul(self)
    }

    /// `1 / (1 + e^-x)`.
    pub fn sigmoid(&self) -> Tensor {
        let x = self.to_float();
        (x.neg().exp() + 1.0).reciprocal()
    }

    /// `max(x, 0)`; the dtype is kept.
    pub fn relu(&self) -> Tensor {
        if self.dtype() == DType::Bool {
            return self.clone();
        }
        let zero = self.full_const(Scalar::zero(self.dtype()));
        self.binary_internal(BinaryOp::Max, &zero)
    }

    /// Exact GELU, `x/2 * (1 + erf(x/√2))` (PyTorch's default).
    pub fn gelu(&self) -> Tensor {
        let x = self.to_float();
        &x * 0.5 * ((&x * std::f64::consts::FRAC_1_SQRT_2).erf() + 1.0)
    }

    /// GELU with the tanh approximation, `x/2 * (1 + tanh(√(2/π) (x + 0.044715 x³)))`.
    pub fn gelu_tanh(&self) -> Tensor {
        let x = self.to_float();
        let inner = (&x + &x * &x * &x * 0.044715) * 0.797_884_560_802_865_4;
        &x * 0.5 * (inner.tanh() + 1.0)
    }

    /// `x * sigmoid(x)` (SiLU / swish).
    pub fn silu(&self) -> Tensor {
        let x = self.to_float();
        &x * x.sigmoid()
    }

    /// `self ** exponent` for a scalar exponent (weak: an f32 tensor stays f32).
    pub fn powf(&self, exponent: f64) -> Tensor {
        ok(self.binary_scalar("powf", BinaryOp::Pow, exponent, false, false))
    }

    /// Clamps into `[min, max]`; NaN stays NaN (`torch.clamp`).
    #[track_caller]
    pub fn clamp(&self, min: f64, max: f64) -> Tensor {
        ok(self.try_clamp(min, max))
    }

    pub fn try_clamp(&self, min: f64, max: f64) -> Result<Tensor> {
        self.try_clamp_min(min)?.try_clamp_max(max)
    }

    /// `max(x, min)`; NaN stays NaN.
    #[track_caller]
    pub fn clamp_min(&self, min: f64) -> Tensor {
        ok(self.try_clamp_min(min))
    }

    pub fn try_clamp_min(&self, min: f64) -> Result<Tensor> {
        self.binary_scalar("clamp_min", BinaryOp::Max, min, false, false)
    }

    /// `min(x, max)`; NaN stays NaN.
    #[track_caller]
    pub fn clamp_max(&self, max: f64) -> Tensor {
        ok(self.try_clamp_max(max))
    }

    pub fn try_clamp_max(&self, max: f64) -> Result<Tensor> {
        self.binary_scalar("clamp_max", BinaryOp::Min, max, false, false)
    }

    /// `cond ? a : b` elementwise with broadcasting of all three (`torch.where`). `cond` must be bool.
    #[track_caller]
    pub fn where_cond(cond: &Tensor, a: &Tensor, b: &Tensor) -> Tensor {
        ok(Tensor::try_where_cond(cond, a, b))
    }

    pub fn try_where_cond(cond: &Tensor, a: &Tensor, b: &Tensor) -> Result<Tensor> {
        Tensor::same_device("where", &[cond, a, b])?;
        if cond.dtype() != DType::Bool {
            return Err(Error::DType {
                op: "where",
                what: format!("condition must be bool, got {}", cond.dtype()),
            });
        }
        let shape = broadcast_shapes("where", cond.dims(), a.dims())?;
        let shape = broadcast_shapes("where", &shape, b.dims())?;
        let dtype = result_type(a, b);
        let c = cond.broadcast_internal(&shape);
        let (x, y) = (
            a.cast_internal(dtype).broadcast_internal(&shape),
            b.cast_internal(dtype).broadcast_internal(&shape),
        );
        Ok(Tensor::lazy(
            Op::Where,
            smallvec::smallvec![c, x, y],
            shape,
            dtype,
            cond.device(),
        ))
    }

    /// `self ? a : b` for a bool `self` (`cond.where_(&a, &b)`).
    #[track_caller]
    pub fn where_(&self, a: &Tensor, b: &Tensor) -> Tensor {
        Tensor::where_cond(self, a, b)
    }

    /// A conversion to `dtype` (floats to integers truncate toward zero).
    pub fn to_dtype(&self, dtype: DType) -> Tensor {
        self.cast_internal(dtype)
    }

    /// `x != x`: true where NaN.
    pub fn isnan(&self) -> Tensor {
        if self.dtype().is_float() {
            self.ne(self)
        } else {
            self.zeros_like_dtype(DType::Bool)
        }
    }

    /// True where ±inf.
    pub fn isinf(&self) -> Tensor {
        if self.dtype().is_float() {
            self.abs().eq_scalar(f64::INFINITY)
        } else {
            self.zeros_like_dtype(DType::Bool)
        }
    }

    /// True where finite (not NaN, not ±inf).
    pub fn isfinite(&self) -> Tensor {
        if self.dtype().is_float() {
            self.abs().lt_scalar(f64::INFINITY)
        } else {
            self.ones_like_dtype(DType::Bool)
        }
    }

    pub(crate) fn zeros_like_dtype(&self, dtype: DType) -> Tensor {
        self.full_const(Scalar::zero(dtype))
    }

    pub(crate) fn ones_like_dtype(&self, dtype: DType) -> Tensor {
        self.full_const(Scalar::one(dtype))
    }
}

// ---- operators: + - * / on Tensor and &Tensor in any mix, and with f64 scalars on either side ----

macro_rules! operator {
    ($trait:ident, $method:ident, $op:expr, $float:expr) => {
        impl std::ops::$trait<&Tensor> for &Tensor {
            type Output = Tensor;
            #[track_caller]
            fn $method(self, rhs: &Tensor) -> Tensor {
                ok(Tensor::binary(stringify!($method), $op, self, rhs, $float))
            }
        }
        impl std::ops::$trait<Tensor> for &Tensor {
            type Output = Tensor;
            #[track_caller]
            fn $method(self, rhs: Tensor) -> Tensor {
                ok(Tensor::binary(stringify!($method), $op, self, &rhs, $float))
            }
        }
        impl std::ops::$trait<&Tensor> for Tensor {
            type Output = Tensor;
            #[track_caller]
            fn $method(self, rhs: &Tensor) -> Tensor {
                ok(Tensor::binary(stringify!($method), $op, &self, rhs, $float))
            }
        }
        impl std::ops::$trait<Tensor> for Tensor {
            type Output = Tensor;
            #[track_caller]
            fn $method(self, rhs: Tensor) -> Tensor {
                ok(Tensor::binary(
                    stringify!($method),
                    $op,
                    &self,
                    &rhs,
                    $float,
                ))
            }
        }
        impl std::ops::$trait<f64> for &Tensor {
            type Output = Tensor;
            #[track_caller]
            fn $method(self, rhs: f64) -> Tensor {
                ok(self.binary_scalar(stringify!($method), $op, rhs, false, $float))
            }
        }
        impl std::ops::$trait<f64> for Tensor {
            type Output = Tensor;
            #[track_caller]
            fn $method(self, rhs: f64) -> Tensor {
                ok(self.binary_scalar(stringify!($method), $op, rhs, false, $float))
            }
        }
        impl std::ops::$trait<&Tensor> for f64 {
            type Output = Tensor;
            #[track_caller]
            fn $method(self, rhs: &Tensor) -> Tensor {
                ok(rhs.binary_scalar(stringify!($method), $op, self, true, $float))
            }
        }
        impl std::ops::$trait<Tensor> for f64 {
            type Output = Tensor;
            #[track_caller]
            fn $method(self, rhs: Tensor) -> Tensor {
                ok(rhs.binary_scalar(stringify!($method), $op, self, true, $float))
            }
        }
    };
}

operator!(Add, add, BinaryOp::Add, false);
operator!(Sub, sub, BinaryOp::Sub, false);
operator!(Mul, mul, BinaryOp::Mul, false);
operator!(Div, div, BinaryOp::Div, true);

impl std::ops::Neg for &Tensor {
    type Output = Tensor;
    #[track_caller]
    fn neg(self) -> Tensor {
        Tensor::neg(self)
    }
}

impl std::ops::Neg for Tensor {
    type Output = Tensor;
    #[track_caller]
    fn neg(self) -> Tensor {
        Tensor::neg(&self)
    }
}
