//! The inference trait of `int8` layers, and its sequential composition.

use nalgebra::SMatrix;

use super::Int8Context;

/// An `int8` layer: integer inference only, no parameters to train, no allocation.
///
/// Like [`Layer`](crate::Layer), the input type is the trait's parameter, so a tuple of `int8`
/// layers accepts an input only when every width matches: a batch is an `SMatrix<i8, I, B>`
/// whose columns are samples.
#[diagnostic::on_unimplemented(
    message = "int8 layer `{Self}` cannot take `{X}` as input",
    label = "this int8 layer does not accept that input",
    note = "an int8 layer's input must have the width (rows) of the previous layer's output"
)]
pub trait Int8Layer<X> {
    /// What the layer produces.
    type Output;

    /// Inference: the integers TFLite's reference kernels compute, with the fastest kernel
    /// this CPU has, chosen once for the whole layer (for a tuple, once for every layer in it).
    #[inline]
    fn forward(&self, x: &X) -> Self::Output {
        Int8Context::best().run(
            #[inline(always)]
            |context| self.forward_in(context, x),
        )
    }

    /// Inference with the kernel of `context`, inside a pass that
    /// [`Int8Context::run`] compiled for it: what a composition calls on each of its layers, so
    /// that the pass dispatches once. Every kernel gives the same integers.
    fn forward_in(&self, context: Int8Context, x: &X) -> Self::Output;
}

/// Implements `Int8Layer` for a tuple: `$Last` is the last element's output type; each entry is
/// the element's type, index, input type and output type.
macro_rules! int8_tuple {
    ($Last:ident; $([$L:ident $i:tt $In:ident $Out:ident])+) => {
        impl<X, $($L, $Out,)+> Int8Layer<X> for ($($L,)+)
        where
            $($L: Int8Layer<$In, Output = $Out>,)+
        {
            type Output = $Last;

            #[inline(always)]
            fn forward_in(&self, context: Int8Context, x: &X) -> $Last {
                let h = x;
                $(
                    let y = self.$i.forward_in(context, h);
                    let h = &y;
                )+
                let _ = h;
                y
            }
        }
    };
}

int8_tuple!(YA; [A 0 X YA]);
int8_tuple!(YB; [A 0 X YA] [B 1 YA YB]);
int8_tuple!(YC; [A 0 X YA] [B 1 YA YB] [C 2 YB YC]);
int8_tuple!(YD; [A 0 X YA] [B 1 YA YB] [C 2 YB YC] [D 3 YC YD]);
int8_tuple!(YE; [A 0 X YA] [B 1 YA YB] [C 2 YB YC] [D 3 YC YD] [E 4 YD YE]);
int8_tuple!(YF; [A 0 X YA] [B 1 YA YB] [C 2 YB YC] [D 3 YC YD] [E 4 YD YE] [F 5 YE YF]);
int8_tuple!(YG; [A 0 X YA] [B 1 YA YB] [C 2 YB YC] [D 3 YC YD] [E 4 YD YE] [F 5 YE YF] [G 6 YF YG]);
int8_tuple!(YH; [A 0 X YA] [B 1 YA YB] [C 2 YB YC] [D 3 YC YD] [E 4 YD YE] [F 5 YE YF] [G 6 YF YG] [H 7 YG YH]);

/// `N` copies of a layer whose output has the type of its input, applied in order.
impl<L, const R: usize, const B: usize, const N: usize> Int8Layer<SMatrix<i8, R, B>> for [L; N]
where
    L: Int8Layer<SMatrix<i8, R, B>, Output = SMatrix<i8, R, B>>,
{
    type Output = SMatrix<i8, R, B>;

    #[inline(always)]
    fn forward_in(&self, context: Int8Context, x: &SMatrix<i8, R, B>) -> SMatrix<i8, R, B> {
        let mut h = *x;
        for layer in self {
            h = layer.forward_in(context, &h);
        }
        h
    }
}
