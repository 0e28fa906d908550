//! Values that write themselves as Rust `const` expressions: what lets trained weights be
//! compiled into a program ([`format::rust_source`](crate::format::rust_source)). The trait
//! lives in the core so that every layer implements it without knowing about file formats.

use core::fmt;

use nalgebra::SMatrix;

use crate::Real;

/// A value that can write itself as a Rust expression that is valid in a `const` context and
/// equals the value bit for bit.
///
/// Paths in the expression are absolute (`::static_nn::Dense { .. }`), so the generated code
/// compiles in any crate that depends on `static_nn` under that name. Every layer of the crate,
/// tuples and arrays of them, matrices and the scalars implement it; a new layer implements it
/// by writing its `const` constructor. The generated expression must round-trip every field
/// (hyperparameters such as a slope too), which the layer's tests check through
/// [`rust_source`](crate::format::rust_source).
///
/// ```
/// use static_nn::{AsConst, Dense, LeakyRelu};
/// use nalgebra::{Matrix1x2, Vector1};
///
/// let net = (Dense::new(Matrix1x2::new(0.5_f32, -1.0), Vector1::new(0.25)), LeakyRelu::new(0.2_f32));
/// assert_eq!(
///     AsConst(&net).to_string(),
///     "(::static_nn::Dense { weight: ::static_nn::nalgebra::SMatrix::from_array_storage(\
///      ::static_nn::nalgebra::ArrayStorage([[0.5_f32], [-1.0_f32]])), \
///      bias: ::static_nn::nalgebra::SMatrix::from_array_storage(::static_nn::nalgebra::ArrayStorage([[0.25_f32]])), }, \
///      ::static_nn::LeakyRelu::new(0.2_f32), )"
/// );
/// ```
pub trait ConstExpr {
    /// Writes the expression.
    fn fmt_const(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result;
}

/// Displays a [`ConstExpr`] value as its Rust expression (`AsConst(&net).to_string()`, or
/// `write!` into any `core::fmt::Write` in `no_std`).
#[derive(Clone, Copy, Debug)]
pub struct AsConst<'a, C: ?Sized>(pub &'a C);

impl<C: ConstExpr + ?Sized> fmt::Display for AsConst<'_, C> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.fmt_const(f)
    }
}

/// Writes `path` as the `const` implementation of a value with no fields.
macro_rules! const_path {
    ($ty:ty, $path:literal) => {
        impl $crate::ConstExpr for $ty {
            fn fmt_const(&self, f: &mut ::core::fmt::Formatter<'_>) -> ::core::fmt::Result {
                f.write_str($path)
            }
        }
    };
}
pub(crate) use const_path;

/// Writes a scalar as a suffixed literal (the shortest digits that read back to the same
/// value), or through its bits where no literal exists (infinities, NaN with its payload).
pub(crate) fn fmt_real<T: Real>(v: T, f: &mut fmt::Formatter<'_>) -> fmt::Result {
    let bytes = bytemuck::bytes_of(&v);
    let bits = match bytes.len() {
        4 => u64::from(u32::from_ne_bytes([bytes[0], bytes[1], bytes[2], bytes[3]])),
        _ => {
            let mut b = [0; 8];
            b.copy_from_slice(bytes);
            u64::from_ne_bytes(b)
        }
    };
    if v.is_finite() {
        write!(f, "{v:?}_{}", T::NAME)
    } else {
        write!(f, "{}::from_bits({bits:#x})", T::NAME)
    }
}

impl<T: Real> ConstExpr for T {
    fn fmt_const(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt_real(*self, f)
    }
}

/// Implements `ConstExpr` for an integer as a suffixed literal, `3_usize`.
macro_rules! integer_const {
    ($($ty:ident)+) => {
        $(
            impl ConstExpr for $ty {
                fn fmt_const(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                    write!(f, concat!("{}_", stringify!($ty)), self)
                }
            }
        )+
    };
}

integer_const!(usize i8 i32);

/// `SMatrix::from_array_storage(ArrayStorage([[column 0], [column 1], ..]))`: nalgebra's
/// column-major storage, written as it sits in memory.
impl<T: Real, const R: usize, const C: usize> ConstExpr for SMatrix<T, R, C> {
    fn fmt_const(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("::static_nn::nalgebra::SMatrix::from_array_storage(::static_nn::nalgebra::ArrayStorage([")?;
        for c in 0..C {
            if c > 0 {
                f.write_str(", ")?;
            }
            f.write_str("[")?;
            for r in 0..R {
                if r > 0 {
                    f.write_str(", ")?;
                }
                fmt_real(self[(r, c)], f)?;
            }
            f.write_str("]")?;
        }
        f.write_str("]))")
    }
}

impl<A: ConstExpr, const N: usize> ConstExpr for [A; N] {
    fn fmt_const(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("[")?;
        for (i, a) in self.iter().enumerate() {
            if i > 0 {
                f.write_str(", ")?;
            }
            a.fmt_const(f)?;
        }
        f.write_str("]")
    }
}

/// Implements `ConstExpr` for a tuple as a tuple expression (with a trailing comma, which a
/// one-element tuple needs).
macro_rules! tuple_const {
    ($($A:ident $i:tt),+) => {
        impl<$($A: ConstExpr),+> ConstExpr for ($($A,)+) {
            fn fmt_const(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("(")?;
                $(
                    self.$i.fmt_const(f)?;
                    f.write_str(", ")?;
                )+
                f.write_str(")")
            }
        }
    };
}

tuple_const!(A 0);
tuple_const!(A 0, B 1);
tuple_const!(A 0, B 1, C 2);
tuple_const!(A 0, B 1, C 2, D 3);
tuple_const!(A 0, B 1, C 2, D 3, E 4);
tuple_const!(A 0, B 1, C 2, D 3, E 4, F 5);
tuple_const!(A 0, B 1, C 2, D 3, E 4, F 5, G 6);
tuple_const!(A 0, B 1, C 2, D 3, E 4, F 5, G 6, H 7);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn floats_read_back_bit_for_bit() {
        assert_eq!(AsConst(&0.1_f32).to_string(), "0.1_f32");
        assert_eq!(AsConst(&-0.0_f64).to_string(), "-0.0_f64");
        assert_eq!(AsConst(&1e-40_f32).to_string(), "1e-40_f32");
        assert_eq!(AsConst(&f32::INFINITY).to_string(), "f32::from_bits(0x7f800000)");
        assert_eq!(AsConst(&f64::NAN).to_string(), "f64::from_bits(0x7ff8000000000000)");
        // Shortest round-trip digits: parsing the literal gives the same bits.
        for v in [core::f32::consts::PI, f32::MIN_POSITIVE, f32::MAX, 1.0 / 3.0] {
            let text = AsConst(&v).to_string();
            let parsed: f32 = text.trim_end_matches("_f32").parse().unwrap();
            assert_eq!(parsed.to_bits(), v.to_bits());
        }
    }

    #[test]
    fn matrices_are_written_column_by_column() {
        let m = nalgebra::Matrix2x3::new(1.0_f64, 2.0, 3.0, 4.0, 5.0, 6.0);
        assert_eq!(
            AsConst(&m).to_string(),
            "::static_nn::nalgebra::SMatrix::from_array_storage(::static_nn::nalgebra::ArrayStorage(\
             [[1.0_f64, 4.0_f64], [2.0_f64, 5.0_f64], [3.0_f64, 6.0_f64]]))"
        );
    }
}
