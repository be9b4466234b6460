//! The scalar operations shared by the graph IR (in `smelt-passes`) and the kernel IR (here).
//!
//! Each operation is defined once, with its semantics on every dtype stated in its doc comment. The
//! reference interpreter, the Cranelift backend and the WGSL backend all implement exactly these meanings.

use crate::dtype::DType;
use std::fmt;

/// Elementwise operations of one operand. The result dtype is the operand's, except where noted.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum UnaryOp {
    /// `-x` (wrapping for integers; bool is rejected at op-build time).
    Neg,
    /// `1 / x`, floats only.
    Recip,
    /// Floats only.
    Sqrt,
    /// `e^x`, floats only.
    Exp,
    /// Natural logarithm, floats only (`log(0) = -inf`, `log(x<0) = NaN`).
    Log,
    /// Floats only.
    Sin,
    /// Floats only.
    Cos,
    /// Floats only.
    Tanh,
    /// The error function, floats only.
    Erf,
    /// `|x|` (wrapping for the most negative integer, as in PyTorch).
    Abs,
    /// -1, 0 or 1 (NaN stays NaN; `sign(-0.0) = -0.0`... is 0 in value: PyTorch returns 0).
    Sign,
    /// Floats only (integers are returned unchanged at op-build time).
    Floor,
    /// Floats only.
    Ceil,
    /// Round half to even, floats only (as `torch.round`).
    Round,
    /// Round toward zero, floats only.
    Trunc,
    /// Logical not: operand and result are bool.
    Not,
}

/// Elementwise operations of two operands of the same dtype. Comparisons return bool.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum BinaryOp {
    /// Wrapping for integers; bool `add` is logical or (only produced by casts of sums, never directly).
    Add,
    /// Wrapping for integers.
    Sub,
    /// Wrapping for integers; for bool, logical and.
    Mul,
    /// Floats: IEEE division. Integers: floor division (`torch.floor_divide`); division by zero gives 0
    /// (PyTorch raises; a kernel cannot, so smelt's integer `//` by zero is defined as 0).
    Div,
    /// Floats: `x - y * floor(x / y)` (Python's `%`, sign of the divisor, as `torch.remainder`).
    /// Integers: the same with floor division; `x % 0` gives 0.
    Rem,
    /// Floats: `x^y` (`powf`). Integers: repeated multiplication, negative exponents give 0 (1 for base 1).
    Pow,
    /// Maximum; NaN if either operand is NaN (as `torch.maximum`).
    Max,
    /// Minimum; NaN if either operand is NaN (as `torch.minimum`).
    Min,
    /// `x == y` → bool.
    CmpEq,
    /// `x != y` → bool (true when either is NaN).
    CmpNe,
    /// `x < y` → bool.
    CmpLt,
    /// `x <= y` → bool.
    CmpLe,
    /// Bitwise and; logical and for bool.
    And,
    /// Bitwise or; logical or for bool.
    Or,
    /// Bitwise xor; logical xor for bool.
    Xor,
}

impl UnaryOp {
    /// Every unary op, in declaration order (for tables and exhaustive tests).
    pub const ALL: [UnaryOp; 16] = [
        UnaryOp::Neg,
        UnaryOp::Recip,
        UnaryOp::Sqrt,
        UnaryOp::Exp,
        UnaryOp::Log,
        UnaryOp::Sin,
        UnaryOp::Cos,
        UnaryOp::Tanh,
        UnaryOp::Erf,
        UnaryOp::Abs,
        UnaryOp::Sign,
        UnaryOp::Floor,
        UnaryOp::Ceil,
        UnaryOp::Round,
        UnaryOp::Trunc,
        UnaryOp::Not,
    ];
}

impl BinaryOp {
    /// Every binary op, in declaration order (for tables and exhaustive tests).
    pub const ALL: [BinaryOp; 15] = [
        BinaryOp::Add,
        BinaryOp::Sub,
        BinaryOp::Mul,
        BinaryOp::Div,
        BinaryOp::Rem,
        BinaryOp::Pow,
        BinaryOp::Max,
        BinaryOp::Min,
        BinaryOp::CmpEq,
        BinaryOp::CmpNe,
        BinaryOp::CmpLt,
        BinaryOp::CmpLe,
        BinaryOp::And,
        BinaryOp::Or,
        BinaryOp::Xor,
    ];
}

/// Reductions. Each has an identity, which is the result over an empty set.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum ReduceOp {
    Sum,
    Prod,
    /// NaN propagates.
    Max,
    /// NaN propagates.
    Min,
}

impl UnaryOp {
    pub const fn name(self) -> &'static str {
        match self {
            UnaryOp::Neg => "neg",
            UnaryOp::Recip => "recip",
            UnaryOp::Sqrt => "sqrt",
            UnaryOp::Exp => "exp",
            UnaryOp::Log => "log",
            UnaryOp::Sin => "sin",
            UnaryOp::Cos => "cos",
            UnaryOp::Tanh => "tanh",
            UnaryOp::Erf => "erf",
            UnaryOp::Abs => "abs",
            UnaryOp::Sign => "sign",
            UnaryOp::Floor => "floor",
            UnaryOp::Ceil => "ceil",
            UnaryOp::Round => "round",
            UnaryOp::Trunc => "trunc",
            UnaryOp::Not => "not",
        }
    }

    /// True for the transcendental functions that need floating-point operands.
    pub const fn float_only(self) -> bool {
        matches!(
            self,
            UnaryOp::Recip
                | UnaryOp::Sqrt
                | UnaryOp::Exp
                | UnaryOp::Log
                | UnaryOp::Sin
                | UnaryOp::Cos
                | UnaryOp::Tanh
                | UnaryOp::Erf
                | UnaryOp::Floor
                | UnaryOp::Ceil
                | UnaryOp::Round
                | UnaryOp::Trunc
        )
    }
}

impl BinaryOp {
    pub const fn name(self) -> &'static str {
        match self {
            BinaryOp::Add => "add",
            BinaryOp::Sub => "sub",
            BinaryOp::Mul => "mul",
            BinaryOp::Div => "div",
            BinaryOp::Rem => "rem",
            BinaryOp::Pow => "pow",
            BinaryOp::Max => "max",
            BinaryOp::Min => "min",
            BinaryOp::CmpEq => "cmpeq",
            BinaryOp::CmpNe => "cmpne",
            BinaryOp::CmpLt => "cmplt",
            BinaryOp::CmpLe => "cmple",
            BinaryOp::And => "and",
            BinaryOp::Or => "or",
            BinaryOp::Xor => "xor",
        }
    }

    pub const fn is_comparison(self) -> bool {
        matches!(
            self,
            BinaryOp::CmpEq | BinaryOp::CmpNe | BinaryOp::CmpLt | BinaryOp::CmpLe
        )
    }

    pub const fn is_bitwise(self) -> bool {
        matches!(self, BinaryOp::And | BinaryOp::Or | BinaryOp::Xor)
    }

    /// The dtype of `a op b` for operands of dtype `operand`.
    pub const fn result_dtype(self, operand: DType) -> DType {
        if self.is_comparison() {
            DType::Bool
        } else {
            operand
        }
    }
}

impl ReduceOp {
    pub const fn name(self) -> &'static str {
        match self {
            ReduceOp::Sum => "sum",
            ReduceOp::Prod => "prod",
            ReduceOp::Max => "max",
            ReduceOp::Min => "min",
        }
    }

    /// The binary operation that combines two partial results.
    pub const fn combine(self) -> BinaryOp {
        match self {
            ReduceOp::Sum => BinaryOp::Add,
            ReduceOp::Prod => BinaryOp::Mul,
            ReduceOp::Max => BinaryOp::Max,
            ReduceOp::Min => BinaryOp::Min,
        }
    }

    /// The identity of the reduction in `dtype`: 0, 1, the lowest value, the highest value.
    pub fn identity(self, dtype: DType) -> crate::Scalar {
        use crate::Scalar;
        match (self, dtype) {
            (ReduceOp::Sum, d) => Scalar::zero(d),
            (ReduceOp::Prod, d) => Scalar::one(d),
            (ReduceOp::Max, DType::Bool) => Scalar::Bool(false),
            (ReduceOp::Max, DType::U8) => Scalar::U8(0),
            (ReduceOp::Max, DType::I32) => Scalar::I32(i32::MIN),
            (ReduceOp::Max, DType::I64) => Scalar::I64(i64::MIN),
            (ReduceOp::Max, DType::F32) => Scalar::F32(f32::NEG_INFINITY),
            (ReduceOp::Max, DType::F64) => Scalar::F64(f64::NEG_INFINITY),
            (ReduceOp::Min, DType::Bool) => Scalar::Bool(true),
            (ReduceOp::Min, DType::U8) => Scalar::U8(u8::MAX),
            (ReduceOp::Min, DType::I32) => Scalar::I32(i32::MAX),
            (ReduceOp::Min, DType::I64) => Scalar::I64(i64::MAX),
            (ReduceOp::Min, DType::F32) => Scalar::F32(f32::INFINITY),
            (ReduceOp::Min, DType::F64) => Scalar::F64(f64::INFINITY),
        }
    }
}

impl fmt::Display for UnaryOp {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

impl fmt::Display for BinaryOp {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

impl fmt::Display for ReduceOp {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

#[cfg(test)]
mod all_tests {
    use super::*;

    #[test]
    fn all_lists_every_op_once_in_declaration_order() {
        for (i, op) in UnaryOp::ALL.iter().enumerate() {
            assert_eq!(*op as usize, i, "{op:?}");
        }
        for (i, op) in BinaryOp::ALL.iter().enumerate() {
            assert_eq!(*op as usize, i, "{op:?}");
        }
        assert_eq!(UnaryOp::ALL.last(), Some(&UnaryOp::Not));
        assert_eq!(BinaryOp::ALL.last(), Some(&BinaryOp::Xor));
    }
}
