//! Element types and scalar constants: the vocabulary every level of smelt shares.

use std::fmt;
use std::hash::{Hash, Hasher};

/// The element type of a tensor or of a value in a kernel.
///
/// Ordered from "smallest" to "largest" category, which is what PyTorch's promotion walks:
/// bool < unsigned/signed integers < floating point.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum DType {
    Bool,
    U8,
    I32,
    I64,
    F32,
    F64,
}

/// The category of a dtype, as PyTorch uses it for promotion with scalars.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum Category {
    Bool,
    Int,
    Float,
}

impl DType {
    pub const ALL: [DType; 6] = [
        DType::Bool,
        DType::U8,
        DType::I32,
        DType::I64,
        DType::F32,
        DType::F64,
    ];

    /// Bytes per element in host memory (bool is one byte holding 0 or 1).
    pub const fn size_bytes(self) -> usize {
        match self {
            DType::Bool | DType::U8 => 1,
            DType::I32 | DType::F32 => 4,
            DType::I64 | DType::F64 => 8,
        }
    }

    pub const fn is_float(self) -> bool {
        matches!(self, DType::F32 | DType::F64)
    }

    /// Integer types, bool excluded.
    pub const fn is_int(self) -> bool {
        matches!(self, DType::U8 | DType::I32 | DType::I64)
    }

    pub const fn is_bool(self) -> bool {
        matches!(self, DType::Bool)
    }

    pub const fn category(self) -> Category {
        match self {
            DType::Bool => Category::Bool,
            DType::U8 | DType::I32 | DType::I64 => Category::Int,
            DType::F32 | DType::F64 => Category::Float,
        }
    }

    /// The short name used in dumps and errors: `f32`, `i64`, `bool`.
    pub const fn name(self) -> &'static str {
        match self {
            DType::Bool => "bool",
            DType::U8 => "u8",
            DType::I32 => "i32",
            DType::I64 => "i64",
            DType::F32 => "f32",
            DType::F64 => "f64",
        }
    }

    /// PyTorch's promotion of two tensor dtypes (`torch.promote_types`).
    pub fn promote(a: DType, b: DType) -> DType {
        use DType::*;
        if a == b {
            return a;
        }
        match (a.category(), b.category()) {
            (Category::Float, Category::Float) => F64,
            (Category::Float, _) => a,
            (_, Category::Float) => b,
            // Both are bool or integers: bool is below every integer; u8 with a signed type gives that
            // signed type (u8 fits in i32 and i64).
            _ => {
                if a == Bool {
                    b
                } else if b == Bool {
                    a
                } else {
                    a.max(b).max(I32)
                }
            }
        }
    }

    /// The dtype for a result of combining this tensor dtype with a weak scalar of `scalar` category
    /// (a Python number in PyTorch): a float scalar lifts bool/int tensors to the default float (f32);
    /// an int scalar lifts bool to i64; otherwise the tensor's dtype wins.
    pub fn promote_weak(self, scalar: Category) -> DType {
        if scalar > self.category() {
            match scalar {
                Category::Float => DType::F32,
                Category::Int => DType::I64,
                Category::Bool => self,
            }
        } else {
            self
        }
    }
}

impl fmt::Display for DType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// A single constant value of one dtype.
///
/// Equality and hashing are bitwise for floats, so constants can key hash maps and caches (`NaN == NaN`
/// here, and `0.0 != -0.0`): two graphs are the same graph only if their constants are the same bits.
#[derive(Clone, Copy, Debug)]
pub enum Scalar {
    Bool(bool),
    U8(u8),
    I32(i32),
    I64(i64),
    F32(f32),
    F64(f64),
}

impl Scalar {
    pub const fn dtype(self) -> DType {
        match self {
            Scalar::Bool(_) => DType::Bool,
            Scalar::U8(_) => DType::U8,
            Scalar::I32(_) => DType::I32,
            Scalar::I64(_) => DType::I64,
            Scalar::F32(_) => DType::F32,
            Scalar::F64(_) => DType::F64,
        }
    }

    /// `value` converted to `dtype` the way a cast does (floats to ints truncate toward zero and saturate
    /// to the target's range; NaN becomes 0; anything nonzero, NaN included, becomes `true`).
    pub fn from_f64(value: f64, dtype: DType) -> Scalar {
        match dtype {
            DType::Bool => Scalar::Bool(value != 0.0),
            DType::U8 => Scalar::U8(value as u8),
            DType::I32 => Scalar::I32(value as i32),
            DType::I64 => Scalar::I64(value as i64),
            DType::F32 => Scalar::F32(value as f32),
            DType::F64 => Scalar::F64(value),
        }
    }

    /// `value` converted to `dtype` exactly as an integer (wrapping like a C cast for narrower ints).
    pub fn from_i64(value: i64, dtype: DType) -> Scalar {
        match dtype {
            DType::Bool => Scalar::Bool(value != 0),
            DType::U8 => Scalar::U8(value as u8),
            DType::I32 => Scalar::I32(value as i32),
            DType::I64 => Scalar::I64(value),
            DType::F32 => Scalar::F32(value as f32),
            DType::F64 => Scalar::F64(value as f64),
        }
    }

    /// The zero of a dtype.
    pub fn zero(dtype: DType) -> Scalar {
        Scalar::from_i64(0, dtype)
    }

    /// The one of a dtype.
    pub fn one(dtype: DType) -> Scalar {
        Scalar::from_i64(1, dtype)
    }

    /// The value as f64 (exact for every dtype but i64 beyond 2^53).
    pub fn to_f64(self) -> f64 {
        match self {
            Scalar::Bool(b) => b as u8 as f64,
            Scalar::U8(v) => v as f64,
            Scalar::I32(v) => v as f64,
            Scalar::I64(v) => v as f64,
            Scalar::F32(v) => v as f64,
            Scalar::F64(v) => v,
        }
    }

    /// The value as i64 (floats truncate toward zero, saturating; NaN gives 0).
    pub fn to_i64(self) -> i64 {
        match self {
            Scalar::Bool(b) => b as i64,
            Scalar::U8(v) => v as i64,
            Scalar::I32(v) => v as i64,
            Scalar::I64(v) => v,
            Scalar::F32(v) => v as i64,
            Scalar::F64(v) => v as i64,
        }
    }

    /// Casts to another dtype with the semantics of `DType` casts everywhere in smelt.
    pub fn cast(self, dtype: DType) -> Scalar {
        if self.dtype().is_float() {
            Scalar::from_f64(self.to_f64(), dtype)
        } else {
            Scalar::from_i64(self.to_i64(), dtype)
        }
    }

    /// The bits of the value, widened to 64, used for equality and hashing.
    fn bits(self) -> u64 {
        match self {
            Scalar::Bool(b) => b as u64,
            Scalar::U8(v) => v as u64,
            Scalar::I32(v) => v as u32 as u64,
            Scalar::I64(v) => v as u64,
            Scalar::F32(v) => v.to_bits() as u64,
            Scalar::F64(v) => v.to_bits(),
        }
    }
}

impl PartialEq for Scalar {
    fn eq(&self, other: &Self) -> bool {
        self.dtype() == other.dtype() && self.bits() == other.bits()
    }
}

impl Eq for Scalar {}

impl Hash for Scalar {
    fn hash<H: Hasher>(&self, state: &mut H) {
        self.dtype().hash(state);
        self.bits().hash(state);
    }
}

impl fmt::Display for Scalar {
    /// Prints a constant so that it reads back unambiguously: `1.5f32`, `-inf_f64`, `3i64`, `true`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // The shortest text that reads back to the same value in the constant's own precision.
        fn float(
            f: &mut fmt::Formatter<'_>,
            v: f64,
            shortest: &dyn fmt::Debug,
            suffix: &str,
        ) -> fmt::Result {
            if v.is_nan() {
                write!(f, "nan_{suffix}")
            } else if v.is_infinite() {
                write!(f, "{}inf_{suffix}", if v < 0.0 { "-" } else { "" })
            } else {
                write!(f, "{shortest:?}{suffix}")
            }
        }
        match *self {
            Scalar::Bool(b) => write!(f, "{b}"),
            Scalar::U8(v) => write!(f, "{v}u8"),
            Scalar::I32(v) => write!(f, "{v}i32"),
            Scalar::I64(v) => write!(f, "{v}i64"),
            Scalar::F32(v) => float(f, v as f64, &v, "f32"),
            Scalar::F64(v) => float(f, v, &v, "f64"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use DType::*;

    #[test]
    fn promotion_matches_torch_promote_types() {
        // (a, b, torch.promote_types(a, b)), written out by hand from PyTorch's table.
        let table = [
            (Bool, Bool, Bool),
            (Bool, U8, U8),
            (Bool, I32, I32),
            (Bool, F32, F32),
            (U8, I32, I32),
            (U8, I64, I64),
            (I32, I64, I64),
            (I32, F32, F32),
            (I64, F32, F32),
            (I64, F64, F64),
            (F32, F64, F64),
            (U8, F64, F64),
        ];
        for (a, b, want) in table {
            assert_eq!(DType::promote(a, b), want, "{a} {b}");
            assert_eq!(DType::promote(b, a), want, "{b} {a}");
        }
    }

    #[test]
    fn constants_print_in_their_own_precision() {
        assert_eq!(Scalar::F32(1e-5).to_string(), "1e-5f32");
        assert_eq!(Scalar::F32(0.1).to_string(), "0.1f32");
        assert_eq!(Scalar::F64(0.1).to_string(), "0.1f64");
        assert_eq!(Scalar::F32(f32::NEG_INFINITY).to_string(), "-inf_f32");
        assert_eq!(Scalar::F64(f64::NAN).to_string(), "nan_f64");
        assert_eq!(Scalar::I64(-3).to_string(), "-3i64");
    }

    #[test]
    fn weak_scalars_do_not_widen_tensors() {
        assert_eq!(F32.promote_weak(Category::Float), F32);
        assert_eq!(I32.promote_weak(Category::Float), F32);
        assert_eq!(I32.promote_weak(Category::Int), I32);
        assert_eq!(U8.promote_weak(Category::Int), U8);
        assert_eq!(Bool.promote_weak(Category::Int), I64);
        assert_eq!(Bool.promote_weak(Category::Float), F32);
    }

    #[test]
    fn scalar_equality_is_bitwise() {
        assert_eq!(Scalar::F32(f32::NAN), Scalar::F32(f32::NAN));
        assert_ne!(Scalar::F32(0.0), Scalar::F32(-0.0));
        assert_ne!(Scalar::F32(1.0), Scalar::F64(1.0));
        assert_eq!(Scalar::from_f64(-2.7, I32), Scalar::I32(-2));
        assert_eq!(Scalar::from_f64(f64::NAN, I64), Scalar::I64(0));
        // Saturating, as kernels cast: 3e9 does not fit in i32, -1 does not fit in u8.
        assert_eq!(Scalar::from_f64(3e9, I32), Scalar::I32(i32::MAX));
        assert_eq!(Scalar::from_f64(-1.0, U8), Scalar::U8(0));
    }
}
