//! [`Element`]: the Rust types a tensor can hold, and their dtypes.

use crate::runtime::storage::Storage;
use crate::{DType, Scalar};

mod sealed {
    pub trait Sealed {}
}

/// A Rust element type: `f32 f64 i32 i64 u8 bool`, each the storage of one [`DType`].
pub trait Element:
    Copy + Send + Sync + std::fmt::Debug + PartialEq + Default + 'static + sealed::Sealed
{
    const DTYPE: DType;
    #[doc(hidden)]
    fn to_scalar(self) -> Scalar;
    #[doc(hidden)]
    fn from_scalar(s: Scalar) -> Self;
    #[doc(hidden)]
    fn into_storage(v: Vec<Self>) -> Storage;
    #[doc(hidden)]
    fn slice(s: &Storage) -> Option<&[Self]>;
}

macro_rules! element {
    ($t:ty, $d:ident) => {
        impl sealed::Sealed for $t {}
        impl Element for $t {
            const DTYPE: DType = DType::$d;
            fn to_scalar(self) -> Scalar {
                Scalar::$d(self)
            }
            fn from_scalar(s: Scalar) -> Self {
                match s.cast(DType::$d) {
                    Scalar::$d(v) => v,
                    _ => unreachable!("cast gives the requested dtype"),
                }
            }
            fn into_storage(v: Vec<Self>) -> Storage {
                Storage::$d(v)
            }
            fn slice(s: &Storage) -> Option<&[Self]> {
                match s {
                    Storage::$d(v) => Some(v),
                    _ => None,
                }
            }
        }
    };
}

element!(bool, Bool);
element!(u8, U8);
element!(i32, I32);
element!(i64, I64);
element!(f32, F32);
element!(f64, F64);
