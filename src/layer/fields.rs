//! One field list per parameterised type: the macros that generate a layer's traversal
//! ([`Tensors`](crate::Tensors)), its initialisation ([`Parameters::reset`](crate::Parameters))
//! and buffers, and its [`ConstExpr`](crate::ConstExpr) from the list of its fields, so that
//! the order, the names and the shapes are written once.

use nalgebra::SMatrix;

use crate::Real;

/// A field that is one tensor: its scalars as one contiguous slice, column-major (for a stacked
/// array of matrices, the matrices one after another).
pub(crate) trait Flat<T> {
    /// The scalars.
    fn flat(&self) -> &[T];
    /// The scalars, mutable.
    fn flat_mut(&mut self) -> &mut [T];
}

impl<T: Real, const R: usize, const C: usize> Flat<T> for SMatrix<T, R, C> {
    #[inline]
    fn flat(&self) -> &[T] {
        self.as_slice()
    }
    #[inline]
    fn flat_mut(&mut self) -> &mut [T] {
        self.as_mut_slice()
    }
}

impl<T: Real, const R: usize, const C: usize, const N: usize> Flat<T> for [SMatrix<T, R, C>; N] {
    #[inline]
    fn flat(&self) -> &[T] {
        bytemuck::cast_slice(self)
    }
    #[inline]
    fn flat_mut(&mut self) -> &mut [T] {
        bytemuck::cast_slice_mut(self)
    }
}

/// Implements `Tensors` (one layer position) from the list of tensor fields, in order, each with
/// its [`TensorInfo`](crate::TensorInfo).
macro_rules! tensor_fields {
    ([$($generics:tt)*] $ty:ty $(where [$($bounds:tt)*])?; { $($field:ident: $info:expr),+ $(,)? }) => {
        impl<$($generics)*> $crate::Tensors<T> for $ty $(where $($bounds)*)? {
            const LAYERS: usize = 1;

            fn tensors(&self) -> impl Iterator<Item = &[T]> {
                [$($crate::layer::fields::Flat::flat(&self.$field)),+].into_iter()
            }
            fn tensors_mut(&mut self) -> impl Iterator<Item = &mut [T]> {
                [$($crate::layer::fields::Flat::flat_mut(&mut self.$field)),+].into_iter()
            }
            fn tensor_infos() -> impl Iterator<Item = $crate::TensorInfo> {
                [$($info),+].into_iter()
            }
        }
    };
}
pub(crate) use tensor_fields;

/// Implements `Tensors` and `Parameters` from the lists of tensor fields and buffer fields, each
/// with its `TensorInfo` and how it is initialised: `weight(fan_in, fan_out)` and
/// `bias(fan_in)` draw as [`Init`](crate::Init) says, `value(v)` fills. `reset` initialises in
/// list order; the expressions may use the `Init` under the name given after the type. Other
/// items of `Parameters` (`type Gradient`, `set_hyperparameters`) follow in braces.
macro_rules! parameter_fields {
    (
        [$($generics:tt)*] $ty:ty $(where [$($bounds:tt)*])?;
        reset($init:ident);
        tensors { $($field:ident: $info:expr => $kind:ident($($arg:expr),*)),+ $(,)? }
        $(buffers { $($buffer:ident: $buffer_info:expr => $buffer_kind:ident($($buffer_arg:expr),*)),+ $(,)? })?
        { $($item:item)* }
    ) => {
        $crate::layer::fields::tensor_fields!([$($generics)*] $ty $(where [$($bounds)*])?; { $($field: $info),+ });

        impl<$($generics)*> $crate::Parameters<T> for $ty $(where $($bounds)*)? {
            $($item)*

            fn reset(&mut self, $init: $crate::Init, rng: &mut $crate::Rng) {
                // A layer whose tensors are all constants at first draws nothing.
                let _ = &rng;
                $($crate::layer::fields::parameter_fields!(@draw $init, rng, self.$field, $kind($($arg),*));)+
                $($($crate::layer::fields::parameter_fields!(
                    @draw $init, rng, self.$buffer, $buffer_kind($($buffer_arg),*)
                );)+)?
            }
            $(
                fn buffers(&self) -> impl Iterator<Item = &[T]> {
                    [$($crate::layer::fields::Flat::flat(&self.$buffer)),+].into_iter()
                }
                fn buffers_mut(&mut self) -> impl Iterator<Item = &mut [T]> {
                    [$($crate::layer::fields::Flat::flat_mut(&mut self.$buffer)),+].into_iter()
                }
                fn buffer_infos() -> impl Iterator<Item = $crate::TensorInfo> {
                    [$($buffer_info),+].into_iter()
                }
            )?
        }
    };
    (@draw $init:ident, $rng:ident, $target:expr, weight($fan_in:expr, $fan_out:expr)) => {
        $init.fill_weight($crate::layer::fields::Flat::flat_mut(&mut $target), $fan_in, $fan_out, $rng)
    };
    (@draw $init:ident, $rng:ident, $target:expr, bias($fan_in:expr)) => {
        $init.fill_bias($crate::layer::fields::Flat::flat_mut(&mut $target), $fan_in, $rng)
    };
    (@draw $init:ident, $rng:ident, $target:expr, value($value:expr)) => {
        $crate::layer::fields::Flat::flat_mut(&mut $target).fill($value)
    };
}
pub(crate) use parameter_fields;

/// Implements `ConstExpr` as the struct expression `::static_nn::Name { field: .., }` with every field
/// listed (tensors, buffers and hyperparameters), so that generated source round-trips them.
macro_rules! const_struct {
    ([$($generics:tt)*] $ty:ty = $name:ident { $($field:ident),+ $(,)? }) => {
        /// The struct expression with every field, for
        /// [`format::rust_source`](crate::format::rust_source).
        impl<$($generics)*> $crate::ConstExpr for $ty {
            fn fmt_const(&self, f: &mut ::core::fmt::Formatter<'_>) -> ::core::fmt::Result {
                f.write_str(concat!("::static_nn::", stringify!($name), " {"))?;
                $(
                    f.write_str(concat!(" ", stringify!($field), ": "))?;
                    $crate::ConstExpr::fmt_const(&self.$field, f)?;
                    f.write_str(",")?;
                )+
                f.write_str(" }")
            }
        }
    };
}
pub(crate) use const_struct;

/// Implements `Tensors` and `Parameters` for a one-field wrapper `$name<L>` that changes how its
/// layer runs but not what it holds: every tensor, buffer and state-dict entry is the layer's.
macro_rules! transparent_parameters {
    ($name:ident) => {
        impl<T: $crate::Real, L: $crate::Tensors<T>> $crate::Tensors<T> for $name<L> {
            const LAYERS: usize = L::LAYERS;

            fn tensors(&self) -> impl Iterator<Item = &[T]> {
                self.0.tensors()
            }
            fn tensors_mut(&mut self) -> impl Iterator<Item = &mut [T]> {
                self.0.tensors_mut()
            }
            fn tensor_infos() -> impl Iterator<Item = $crate::TensorInfo> {
                L::tensor_infos()
            }
        }

        impl<T: $crate::Real, L: $crate::Parameters<T>> $crate::Parameters<T> for $name<L> {
            type Gradient = L::Gradient;

            #[inline(always)]
            fn zip_gradient<const K: usize>(
                &mut self,
                grad: &L::Gradient,
                state: [&mut L::Gradient; K],
                f: &mut impl FnMut(&mut [T], &[T], [&mut [T]; K]),
            ) {
                self.0.zip_gradient(grad, state, f);
            }
            fn reset(&mut self, init: $crate::Init, rng: &mut $crate::Rng) {
                self.0.reset(init, rng);
            }
            fn set_hyperparameters(&mut self, template: Option<&Self>) {
                self.0.set_hyperparameters(template.map(|t| &t.0));
            }
            fn non_negative_buffers() -> impl Iterator<Item = bool> {
                L::non_negative_buffers()
            }
            fn buffers(&self) -> impl Iterator<Item = &[T]> {
                self.0.buffers()
            }
            fn buffers_mut(&mut self) -> impl Iterator<Item = &mut [T]> {
                self.0.buffers_mut()
            }
            fn buffer_infos() -> impl Iterator<Item = $crate::TensorInfo> {
                L::buffer_infos()
            }
            fn state_dict(&self) -> impl Iterator<Item = &[T]> {
                self.0.state_dict()
            }
            fn state_dict_mut(&mut self) -> impl Iterator<Item = &mut [T]> {
                self.0.state_dict_mut()
            }
            fn state_dict_infos() -> impl Iterator<Item = $crate::TensorInfo> {
                L::state_dict_infos()
            }
        }
    };
}
pub(crate) use transparent_parameters;
