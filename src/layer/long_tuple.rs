//! Tuples of nine to twelve layers, which are not networks, but say so when used as one.

use bytemuck::Zeroable;

use crate::{Init, Parameters, Real, Rng, Tensors};

/// The bound that a tuple of nine to twelve layers fails, so that the compiler's error names
/// the fix.
///
/// A network's value must be [`Zeroable`] (it is how [`Parameters::build_boxed`] builds on the
/// heap), and `bytemuck` implements `Zeroable` for tuples of at most eight elements. Without an
/// implementation for longer tuples, `Net::build(..)` on a nine-element tuple gave rustc's plain
/// "no function or associated item named `build` found"; [`Parameters`] is therefore implemented
/// for them under this bound, which no type satisfies (it is sealed), and rustc reports the
/// unsatisfied bound with the message below:
///
/// ```text
/// error[E0599]: `(Dense<f32, 2, 4>, Tanh, ...)` has more than eight layers, the most a tuple composes
///    = note: write a longer network's type with `Seq![...]` (its value with `seq![...]`) or use `Mlp!`
/// ```
///
/// [`Seq!`](crate::Seq) nests the layers in tuples of at most eight, keeping `nn.Sequential`'s
/// positions:
///
/// ```
/// use static_nn::prelude::*;
/// type Net = Seq![
///     Dense<f32, 2, 4>, Tanh, Dense<f32, 4, 4>, Tanh, Dense<f32, 4, 4>,
///     Tanh, Dense<f32, 4, 4>, Tanh, Dense<f32, 4, 1>,
/// ];
/// let net = Net::build(Init::PyTorch, &mut Rng::new(0));
/// assert_eq!(<Net as Tensors<f32>>::tensor_infos().count(), 10);
/// ```
#[diagnostic::on_unimplemented(
    message = "`{Self}` has more than eight layers, the most a tuple composes",
    label = "a tuple of more than eight layers",
    note = "write a longer network's type with `Seq![...]` (its value with `seq![...]`) or use `Mlp!`"
)]
pub trait AtMostEightLayers<T: Real>: Tensors<T> + Zeroable + Clone + sealed::Sealed {}

/// Implements `Parameters` for a tuple of nine or more layers, under [`AtMostEightLayers`].
macro_rules! long_tuple {
    ($($L:ident $l:tt),+) => {
        impl<T: Real, $($L: Parameters<T>),+> Parameters<T> for ($($L,)+)
        where
            Self: AtMostEightLayers<T>,
        {
            type Gradient = Self;

            fn reset(&mut self, init: Init, rng: &mut Rng) {
                $(self.$l.reset(init, rng);)+
            }
        }
    };
}

long_tuple!(A 0, B 1, C 2, D 3, E 4, F 5, G 6, H 7, I 8);
long_tuple!(A 0, B 1, C 2, D 3, E 4, F 5, G 6, H 7, I 8, J 9);
long_tuple!(A 0, B 1, C 2, D 3, E 4, F 5, G 6, H 7, I 8, J 9, K 10);
long_tuple!(A 0, B 1, C 2, D 3, E 4, F 5, G 6, H 7, I 8, J 9, K 10, L 11);

mod sealed {
    pub trait Sealed {}
}
