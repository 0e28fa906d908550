//! The scalar bound shared by the whole crate.

use core::fmt;

use nalgebra::RealField;

mod branchless;

mod sealed {
    pub trait Sealed {}
    impl Sealed for f32 {}
    impl Sealed for f64 {}
}

/// A floating-point scalar the crate computes with: [`f32`] or [`f64`].
///
/// The bound gathers nalgebra's [`RealField`] (which supplies `exp`, `tanh`, `ln_1p`, ...) with
/// [`bytemuck::Pod`], so that any network, gradient or optimizer state can be zero-initialised
/// directly on the heap. It is sealed: the weight format and the gradient checker rely on
/// knowing every implementor.
///
/// `RealField` and `num_traits::Float` both define `exp`, `tanh`, ...; this bound deliberately
/// holds only the former so that method calls on a `T: Real` are never ambiguous.
///
/// ```
/// use static_nn::Real;
/// fn half<T: Real>(x: T) -> T {
///     x * T::of(0.5)
/// }
/// assert_eq!(half(3.0_f32), 1.5);
/// assert_eq!(<f64 as Real>::NAME, "f64");
/// ```
pub trait Real: RealField + Copy + Default + bytemuck::Pod + fmt::Debug + fmt::Display + sealed::Sealed {
    /// The type's Rust name, `"f32"` or `"f64"`.
    const NAME: &'static str;
    /// Machine epsilon: the gap between 1 and the next representable value.
    const EPSILON: Self;

    /// The nearest value to `x` (named `of` because `num_traits::FromPrimitive::from_f64`,
    /// which nalgebra's bounds bring into scope, returns an `Option`).
    fn of(x: f64) -> Self;
    /// Converts to `f64` exactly.
    fn to_f64(self) -> f64;
    /// `values` seen as `f32`s when `Self` is `f32`, otherwise `None`: how code generic over
    /// `T` reaches a kernel written for `f32` alone.
    fn as_f32_slice(values: &[Self]) -> Option<&[f32]>;
    /// The error function.
    fn erf(self) -> Self;
    /// The complementary error function `1 - erf(x)`, accurate where `erf(x)` is close to 1.
    fn erfc(self) -> Self;
    /// The logistic function `1 / (1 + e^-x)` without branches or library calls, so that a loop
    /// over a vector of gates compiles to SIMD instructions. Within 2 ulp of the exact value;
    /// saturates to 1 and to a value below `1e-37` (`f32`) or `1e-300` (`f64`) without NaN.
    /// The recurrent layers' gates use it.
    fn sigmoid_branchless(self) -> Self;
    /// `tanh x`, computed like [`Real::sigmoid_branchless`]; within 2 ulp.
    fn tanh_branchless(self) -> Self;
}

/// `σ(z)` and `σ(-z)` from a single exponential, each exact to rounding for any `z`.
#[inline]
pub(crate) fn sigmoid_pair<T: Real>(z: T) -> (T, T) {
    let e = (-z.abs()).exp();
    let big = T::one() / (T::one() + e);
    let small = e * big;
    if z >= T::zero() { (big, small) } else { (small, big) }
}

impl Real for f32 {
    const NAME: &'static str = "f32";
    const EPSILON: Self = f32::EPSILON;

    #[inline]
    fn of(x: f64) -> Self {
        x as f32
    }
    #[inline]
    fn to_f64(self) -> f64 {
        f64::from(self)
    }
    #[inline]
    fn as_f32_slice(values: &[Self]) -> Option<&[f32]> {
        Some(values)
    }
    #[inline]
    fn erf(self) -> Self {
        libm::erff(self)
    }
    #[inline]
    fn erfc(self) -> Self {
        libm::erfcf(self)
    }
    #[inline(always)]
    fn sigmoid_branchless(self) -> Self {
        branchless::sigmoid_f32(self)
    }
    #[inline(always)]
    fn tanh_branchless(self) -> Self {
        branchless::tanh_f32(self)
    }
}

impl Real for f64 {
    const NAME: &'static str = "f64";
    const EPSILON: Self = f64::EPSILON;

    #[inline]
    fn of(x: f64) -> Self {
        x
    }
    #[inline]
    fn to_f64(self) -> f64 {
        self
    }
    #[inline]
    fn as_f32_slice(_: &[Self]) -> Option<&[f32]> {
        None
    }
    #[inline]
    fn erf(self) -> Self {
        libm::erf(self)
    }
    #[inline]
    fn erfc(self) -> Self {
        libm::erfc(self)
    }
    #[inline(always)]
    fn sigmoid_branchless(self) -> Self {
        branchless::sigmoid_f64(self)
    }
    #[inline(always)]
    fn tanh_branchless(self) -> Self {
        branchless::tanh_f64(self)
    }
}
