//! The conversion of an `f32`/`f64` network into its `int8` type, layer by layer.

use alloc::vec::Vec;

use super::{Affine, QuantiseError, Ranges, WeightRanges};
use crate::{Layer, Real};

/// What a layer's conversion needs besides its calibration inputs.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct QuantiseContext {
    /// The encoding of the layer's input: the previous layer's output encoding.
    pub input: Affine,
    /// How calibration values become ranges.
    pub ranges: Ranges,
    /// How each output channel's weights become its scale.
    pub weights: WeightRanges,
    /// The real interval the next layer clamps to, if it is a clamp ([`Relu`](crate::Relu):
    /// `[0, ∞)`): a layer that can fold it (as TFLite fuses an activation into a fully
    /// connected layer) encodes only that interval and clamps to it.
    pub clamp: Option<(f32, f32)>,
}

/// A converted layer, the encoding of its output, and its real outputs on the calibration
/// inputs (the next layer's calibration inputs).
#[derive(Clone, Debug)]
pub struct Converted<L, Y> {
    /// The `int8` layer.
    pub layer: L,
    /// The encoding of its output.
    pub output: Affine,
    /// The real layer's outputs on the calibration inputs.
    pub calibration: Vec<Y>,
}

/// A layer (or network) that has an `int8` form: post-training quantisation as TFLite's
/// converter does it, with the ranges of activations taken from calibration inputs.
///
/// Implemented by [`Dense`](crate::Dense), [`Relu`](crate::Relu), [`Tanh`](crate::Tanh),
/// [`Sigmoid`](crate::Sigmoid), [`Softmax`](crate::Softmax), and by tuples, arrays and [`Seq!`](crate::Seq) of them; a network
/// with any other layer does not compile. Use it through
/// [`Int8Network::quantise`](super::Int8Network::quantise).
#[diagnostic::on_unimplemented(
    message = "`{Self}` has no int8 form",
    label = "cannot be quantised",
    note = "int8 forms exist for Dense, Relu, Tanh, Sigmoid and Softmax, and for tuples, arrays and Seq! of them"
)]
pub trait Quantise<T: Real, X>: Layer<T, X> {
    /// The `int8` layer.
    type Int8;

    /// The real interval this layer clamps its input to, if it is a clamp; the previous layer
    /// may fold it (see [`QuantiseContext::clamp`]).
    fn clamp(&self) -> Option<(f32, f32)> {
        None
    }

    /// Converts the layer given its inputs on the calibration data.
    fn quantise(
        &self,
        calibration: &[X],
        context: QuantiseContext,
    ) -> Result<Converted<Self::Int8, Self::Output>, QuantiseError>;
}

/// Implements `Quantise` for a tuple: `$Last` is the last element's real output type; each
/// entry is the element's type, index, input type and output type.
macro_rules! quantise_tuple {
    ($Last:ident; $([$L:ident $i:tt $In:ident $Out:ident])+) => {
        impl<T: Real, X, $($L, $Out,)+> Quantise<T, X> for ($($L,)+)
        where
            $($L: Quantise<T, $In, Output = $Out>,)+
            ($($L,)+): Layer<T, X, Output = $Last>,
        {
            type Int8 = ($($L::Int8,)+);

            fn clamp(&self) -> Option<(f32, f32)> {
                self.0.clamp()
            }

            fn quantise(&self, calibration: &[X], context: QuantiseContext) -> Result<Converted<Self::Int8, $Last>, QuantiseError> {
                // Element `i` may fold the clamp of element `i + 1`; the last one, the caller's.
                let clamps = [$(self.$i.clamp(),)+ context.clamp];
                let input = context.input;
                let h = calibration;
                $(
                    #[allow(non_snake_case)]
                    let $L = self.$i.quantise(h, QuantiseContext { input, clamp: clamps[$i + 1], ..context })?;
                    let input = $L.output;
                    let h = &$L.calibration[..];
                )+
                let _ = (h, input);
                quantise_tuple!(@finish $($L)+)
            }
        }
    };
    (@finish $($L:ident)+) => {
        quantise_tuple!(@last [$($L)+] [] $($L)+)
    };
    (@last [$($all:ident)+] [] $Z:ident) => {
        Ok(Converted { output: $Z.output, calibration: $Z.calibration, layer: ($($all.layer,)+) })
    };
    (@last [$($all:ident)+] [] $A:ident $($rest:ident)+) => {
        quantise_tuple!(@last [$($all)+] [] $($rest)+)
    };
}

quantise_tuple!(YA; [A 0 X YA]);
quantise_tuple!(YB; [A 0 X YA] [B 1 YA YB]);
quantise_tuple!(YC; [A 0 X YA] [B 1 YA YB] [C 2 YB YC]);
quantise_tuple!(YD; [A 0 X YA] [B 1 YA YB] [C 2 YB YC] [D 3 YC YD]);
quantise_tuple!(YE; [A 0 X YA] [B 1 YA YB] [C 2 YB YC] [D 3 YC YD] [E 4 YD YE]);
quantise_tuple!(YF; [A 0 X YA] [B 1 YA YB] [C 2 YB YC] [D 3 YC YD] [E 4 YD YE] [F 5 YE YF]);
quantise_tuple!(YG; [A 0 X YA] [B 1 YA YB] [C 2 YB YC] [D 3 YC YD] [E 4 YD YE] [F 5 YE YF] [G 6 YF YG]);
quantise_tuple!(YH; [A 0 X YA] [B 1 YA YB] [C 2 YB YC] [D 3 YC YD] [E 4 YD YE] [F 5 YE YF] [G 6 YF YG] [H 7 YG YH]);

/// `N` copies of a block: each copy gets its own encodings from its own calibration values.
impl<T: Real, X, L, const N: usize> Quantise<T, X> for [L; N]
where
    L: Quantise<T, X, Output = X>,
    [L; N]: Layer<T, X, Output = X>,
    X: Clone,
{
    type Int8 = [L::Int8; N];

    fn clamp(&self) -> Option<(f32, f32)> {
        self.first().and_then(|l| l.clamp())
    }

    fn quantise(&self, calibration: &[X], context: QuantiseContext) -> Result<Converted<Self::Int8, X>, QuantiseError> {
        let mut layers = Vec::with_capacity(N);
        let mut input = context.input;
        let mut h = calibration.to_vec();
        for (i, layer) in self.iter().enumerate() {
            let clamp = self.get(i + 1).map_or(context.clamp, |next| next.clamp());
            let converted = layer.quantise(
                &h,
                QuantiseContext {
                    input,
                    clamp,
                    ..context
                },
            )?;
            layers.push(converted.layer);
            input = converted.output;
            h = converted.calibration;
        }
        let mut layers = layers.into_iter();
        let layer = core::array::from_fn(|_| layers.next().expect("one converted layer per element"));
        Ok(Converted {
            layer,
            output: input,
            calibration: h,
        })
    }
}
