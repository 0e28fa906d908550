//! Elementwise activation functions: the [`Activation`] trait, the layer implementation every
//! activation shares ([`elementwise_layer!`](crate::elementwise_layer)), and one file per function.

use crate::ActivationKind;
use crate::Real;

mod elu;
mod gelu;
mod identity;
mod leaky_relu;
mod relu;
mod sigmoid;
mod silu;
mod softplus;
mod tanh;

pub use elu::*;
pub use gelu::*;
pub use identity::*;
pub use leaky_relu::*;
pub use relu::*;
pub use sigmoid::*;
pub use silu::*;
pub use softplus::*;
pub use tanh::*;

/// A scalar function applied to every entry of a matrix.
///
/// Each activation is a [`Layer`](crate::Layer) on any matrix (`SMatrix<T, R, C>`) and any
/// sequence of matrices (`[SMatrix<T, R, C>; N]`) that applies a scalar function to every entry;
/// it has no parameters and an empty cache (backward reads the stored input and output). Every
/// derivative is written so that it does not lose precision where the function saturates:
/// `sigmoid'(40)` is 4.2e-18, not 0.
///
/// | activation | f(z) | f'(z) |
/// |---|---|---|
/// | [`Identity`] | z | 1 |
/// | [`Sigmoid`] | 1/(1+e^-z) | s(z) s(-z) |
/// | [`Tanh`] | tanh z | 1/cosh² z |
/// | [`Relu`] | max(z, 0) | 1 if z > 0 else 0 (0 at 0, as PyTorch) |
/// | [`LeakyRelu`] | z if z > 0 else slope·z | 1 or slope |
/// | [`Elu`] | z if z > 0 else α(e^z − 1) | 1 or α e^z |
/// | [`Softplus`] | ln(1+e^z), z for z > 20 | s(z), 1 for z > 20 |
/// | [`Gelu`] | z Φ(z) (exact, erf) | Φ(z) + z φ(z) |
/// | [`Silu`] | z s(z) | s(z) (1 + z s(-z)) |
///
/// Implement it (plus `Default`, `Clone` and `Zeroable`, derived through `static_nn::bytemuck`)
/// and invoke
/// [`elementwise_layer!`](crate::elementwise_layer) to get the [`Layer`](crate::Layer)
/// implementation.
pub trait Activation<T: Real> {
    /// `f(z)`.
    fn value(&self, z: T) -> T;
    /// `f'(z)`, given both the input `z` and the output `y = f(z)`, so each function can use
    /// whichever gives the exact result more cheaply.
    fn derivative(&self, z: T, y: T) -> T;

    /// How its units can stop passing gradient, which decides what
    /// [`ActivationHealth`](crate::diagnostics::ActivationHealth) measures: saturation for
    /// sigmoid-like functions, dead units for rectifiers. The default, [`ActivationKind::Other`],
    /// measures neither.
    fn kind(&self) -> ActivationKind {
        ActivationKind::Other
    }
}

/// The number of values above which [`map_values`] chooses the widest instruction set itself.
const DISPATCH_FROM: usize = 64;

/// Replaces every value `z` in `values` by `activation.value(z)`, in a loop compiled for the
/// widest vectors the CPU has, so that a branch-free function such as [`Tanh`]'s evaluates 16
/// `f32` at once with AVX-512. Generic over the activation and scalar only, not the shape, so
/// each activation's loop is compiled once. [`elementwise_layer!`](crate::elementwise_layer)'s
/// forward pass; public only for that macro.
///
/// Up to [`DISPATCH_FROM`] values the loop runs where it is, without choosing an instruction set:
/// so few come from a small network at batch 1, whose tuple `forward` or `step` has already
/// chosen one for the whole network, and a second choice inside it cost more than the loop (its
/// check is an atomic load the compiler cannot merge with the first, and W1 spilled its 16 × 16
/// weights around it).
#[doc(hidden)]
#[inline(always)]
pub fn map_values<T: Real, A: Activation<T>>(activation: &A, values: &mut [T]) {
    #[inline(always)]
    fn each<T: Real, A: Activation<T>>(activation: &A, values: &mut [T]) {
        for v in values {
            *v = activation.value(*v);
        }
    }
    if values.len() <= DISPATCH_FROM {
        each(activation, values);
    } else {
        crate::simd::widest(
            #[inline(always)]
            || each(activation, values),
        );
    }
}

/// Multiplies every `dy[i]` by `activation.derivative(x[i], y[i])`, compiled like
/// [`map_values`]: the backward pass of [`elementwise_layer!`](crate::elementwise_layer).
///
/// # Panics
/// If `x` or `y` is shorter than `dy`.
#[doc(hidden)]
#[inline(always)]
pub fn map_gradients<T: Real, A: Activation<T>>(activation: &A, x: &[T], y: &[T], dy: &mut [T]) {
    let (x, y) = (&x[..dy.len()], &y[..dy.len()]);
    crate::simd::widest(
        #[inline(always)]
        || {
            for ((d, &z), &y) in dy.iter_mut().zip(x).zip(y) {
                *d *= activation.derivative(z, y);
            }
        },
    );
}

/// Implements [`Parameters`](crate::Parameters) and [`Layer`](crate::Layer) on every
/// `SMatrix<T, R, C>` and every sequence `[SMatrix<T, R, C>; N]`, and
/// [`Stream`](crate::Stream) on frames, for a type that implements [`Activation`]. The type may
/// mention the scalar as `T` (`LeakyRelu<T>`); a type with const parameters lists them first in
/// brackets, as [`parameter_free_layer!`](crate::parameter_free_layer) takes them.
///
/// The type must be `Default`, `Clone` and `Zeroable`; the derive works through the re-exported
/// `bytemuck`, with no `bytemuck` dependency of your own, when told where the crate is
/// (`#[bytemuck(crate = "static_nn::bytemuck")]`):
///
/// ```
/// use static_nn::{elementwise_layer, Activation, Layer, Real};
/// use static_nn::nalgebra::Vector2;
///
/// /// f(z) = z³.
/// #[derive(Clone, Copy, Debug, Default, static_nn::bytemuck::Zeroable)]
/// #[bytemuck(crate = "static_nn::bytemuck")]
/// pub struct Cube;
///
/// impl<T: Real> Activation<T> for Cube {
///     fn value(&self, z: T) -> T { z * z * z }
///     fn derivative(&self, z: T, _y: T) -> T { T::of(3.0) * z * z }
/// }
/// elementwise_layer!(Cube);
///
/// assert_eq!(Cube.forward(&Vector2::new(2.0_f64, -1.0)), Vector2::new(8.0, -1.0));
///
/// /// f(z) = K z, for a compile-time K.
/// #[derive(Clone, Copy, Debug, Default, static_nn::bytemuck::Zeroable)]
/// #[bytemuck(crate = "static_nn::bytemuck")]
/// pub struct Scale<const K: usize>;
///
/// impl<T: Real, const K: usize> Activation<T> for Scale<K> {
///     fn value(&self, z: T) -> T { T::of(K as f64) * z }
///     fn derivative(&self, _z: T, _y: T) -> T { T::of(K as f64) }
/// }
/// elementwise_layer!([const K: usize] Scale<K>);
///
/// assert_eq!(Scale::<3>.forward(&Vector2::new(2.0_f64, -1.0)), Vector2::new(6.0, -3.0));
/// ```
#[macro_export]
macro_rules! elementwise_layer {
    ([$($generics:tt)*] $ty:ty) => {
        $crate::parameter_free_layer!([$($generics)*] $ty);

        impl<T: $crate::Real, const ROWS__: usize, const COLUMNS__: usize, $($generics)*> $crate::Layer<T, $crate::nalgebra::SMatrix<T, ROWS__, COLUMNS__>>
            for $ty
        where
            $ty: $crate::Activation<T>,
        {
            type Output = $crate::nalgebra::SMatrix<T, ROWS__, COLUMNS__>;
            type Cache = ();

            #[inline(always)]
            fn forward(&self, x: &Self::Output) -> Self::Output {
                let mut y = *x;
                $crate::map_values(self, y.as_mut_slice());
                y
            }
            #[inline(always)]
            fn forward_train(&self, x: &Self::Output, _cache: &mut ()) -> Self::Output {
                $crate::Layer::<T, Self::Output>::forward(self, x)
            }
            #[inline(always)]
            fn backward(
                &self,
                x: &Self::Output,
                y: &Self::Output,
                _cache: &(),
                dy: &Self::Output,
                _grad: &mut (),
            ) -> Self::Output {
                let mut dx = *dy;
                $crate::map_gradients(self, x.as_slice(), y.as_slice(), dx.as_mut_slice());
                dx
            }
            fn visit_activations(
                &self,
                x: &Self::Output,
                y: &Self::Output,
                _cache: &(),
                position: usize,
                visitor: &mut dyn $crate::ActivationVisitor<T>,
            ) {
                visitor.visit($crate::Activations {
                    position,
                    kind: $crate::Activation::<T>::kind(self),
                    function: self,
                    units: ROWS__,
                    input: x.as_slice(),
                    output: y.as_slice(),
                });
            }
        }

        /// Every time step of a sequence (as PyTorch applies activations to any shape).
        impl<T: $crate::Real, const ROWS__: usize, const COLUMNS__: usize, const STEPS__: usize, $($generics)*>
            $crate::Layer<T, [$crate::nalgebra::SMatrix<T, ROWS__, COLUMNS__>; STEPS__]> for $ty
        where
            $ty: $crate::Activation<T>,
        {
            type Output = [$crate::nalgebra::SMatrix<T, ROWS__, COLUMNS__>; STEPS__];
            type Cache = ();

            #[inline]
            fn forward(&self, x: &Self::Output) -> Self::Output {
                ::core::array::from_fn(|t| $crate::Layer::<T, $crate::nalgebra::SMatrix<T, ROWS__, COLUMNS__>>::forward(self, &x[t]))
            }
            #[inline]
            fn forward_train(&self, x: &Self::Output, _cache: &mut ()) -> Self::Output {
                $crate::Layer::<T, Self::Output>::forward(self, x)
            }
            #[inline]
            fn backward(
                &self,
                x: &Self::Output,
                y: &Self::Output,
                _cache: &(),
                dy: &Self::Output,
                _grad: &mut (),
            ) -> Self::Output {
                ::core::array::from_fn(|t| {
                    $crate::Layer::<T, $crate::nalgebra::SMatrix<T, ROWS__, COLUMNS__>>::backward(
                        self,
                        &x[t],
                        &y[t],
                        &(),
                        &dy[t],
                        &mut (),
                    )
                })
            }
            /// One visit for the whole sequence: the `ROWS__` units over `COLUMNS__ · STEPS__` columns (every sample
            /// at every step), so a unit is dead only if it is zero at every step of every sample.
            fn visit_activations(
                &self,
                x: &Self::Output,
                y: &Self::Output,
                _cache: &(),
                position: usize,
                visitor: &mut dyn $crate::ActivationVisitor<T>,
            ) {
                visitor.visit($crate::Activations {
                    position,
                    kind: $crate::Activation::<T>::kind(self),
                    function: self,
                    units: ROWS__,
                    input: $crate::bytemuck::cast_slice(x.as_slice()),
                    output: $crate::bytemuck::cast_slice(y.as_slice()),
                });
            }
        }

        impl<T: $crate::Real, const ROWS__: usize, const COLUMNS__: usize, $($generics)*> $crate::Stream<T, $crate::nalgebra::SMatrix<T, ROWS__, COLUMNS__>>
            for $ty
        where
            $ty: $crate::Activation<T>,
        {
            type Output = $crate::nalgebra::SMatrix<T, ROWS__, COLUMNS__>;
            type State = ();

            #[inline]
            fn step(&self, x: &Self::Output, _state: &mut ()) -> Self::Output {
                $crate::Layer::<T, Self::Output>::forward(self, x)
            }
        }
    };
    // After the bracketed arm: `[..]` alone would parse as a slice type.
    ($ty:ty) => {
        $crate::elementwise_layer!([] $ty);
    };
}

#[cfg(test)]
pub(crate) mod test_support {
    //! Checks every elementwise activation goes through.

    use nalgebra::SMatrix;

    use crate::{Activation, GradCheck, Layer};

    /// Gradient check (strict) at `points`, which must avoid kinks; a batch equals its single
    /// columns; the layer agrees with the scalar function; `f32` agrees with `f64`.
    pub fn check_activation<A, B>(activation: A, activation_f32: B, points: [f64; 8])
    where
        A: Activation<f64> + Layer<f64, SMatrix<f64, 4, 2>, Output = SMatrix<f64, 4, 2>> + Clone,
        A: Layer<f64, SMatrix<f64, 4, 1>, Output = SMatrix<f64, 4, 1>>,
        B: Layer<f32, SMatrix<f32, 4, 2>, Output = SMatrix<f32, 4, 2>>,
    {
        let x = SMatrix::<f64, 4, 2>::from_column_slice(&points);
        let report = GradCheck::default().strict().layer(&activation, &x);
        assert!(report.passed(), "{report}");

        let batch = activation.forward(&x);
        for b in 0..2 {
            let single: SMatrix<f64, 4, 1> = x.column(b).into();
            assert_eq!(activation.forward(&single), batch.column(b));
        }
        for (z, y) in x.iter().zip(batch.iter()) {
            assert_eq!(*y, activation.value(*z));
        }
        let y32 = activation_f32.forward(&x.map(|v| v as f32));
        for (a, b) in y32.iter().zip(batch.iter()) {
            assert!(
                (f64::from(*a) - b).abs() <= 1e-6 * (1.0 + b.abs()),
                "f32 {a} vs f64 {b}"
            );
        }
    }
}
