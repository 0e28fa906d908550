//! Frame-by-frame inference on a live stream.

use bytemuck::Zeroable;

use crate::{Parameters, Real};

/// A layer that can run on a live stream one frame at a time, carrying what it remembers from
/// one frame to the next in a caller-owned [`State`](Stream::State).
///
/// A frame `X` is what one time step of a sequence holds (`SMatrix<T, C, B>`: `C` channels of
/// `B` independent streams, usually `B = 1`). Starting from the zero state, the outputs of
/// successive [`step`](Stream::step)s equal, to rounding, the whole-sequence
/// [`Layer::forward`](crate::Layer::forward) of the same frames: a [`Gru`](crate::Gru) carries its hidden state, a
/// causal [`Conv1d`](crate::Conv1d) a ring buffer of its last inputs, and frame-wise layers
/// ([`Dense`](crate::Dense), activations, [`EachStep`](crate::EachStep)) carry nothing.
/// [`LastStep`](crate::LastStep) passes every frame through, so each frame's output is what the
/// whole-sequence forward would give if the sequence ended at that frame.
///
/// A convolution that does not emit a frame for every input frame (valid or zero padding,
/// stride above 1) streams `Option` frames: `None` until its window is full, then an output
/// every `stride` frames. The layers after it go in a [`Downstream`](crate::Downstream), which
/// steps them on the frames that arrive.
///
/// Tuples and arrays of streaming layers stream, so a whole network steps at once. A step
/// allocates nothing and runs in inference mode.
///
/// ```
/// use static_nn::{Dense, Gru, Init, Parameters, Rng, Stream};
/// use static_nn::nalgebra::SMatrix;
///
/// type Net = (Gru<f32, 1, 8>, Dense<f32, 8, 1>);
/// let net = Net::build(Init::PyTorch, &mut Rng::new(0));
/// let mut state = Net::stream_state(); // zero: nothing heard yet
/// for sample in [0.1_f32, 0.5, -0.2] {
///     let prediction = net.step(&SMatrix::<f32, 1, 1>::new(sample), &mut state);
///     assert!(prediction[0].is_finite());
/// }
/// ```
#[diagnostic::on_unimplemented(
    message = "`{Self}` cannot stream frames of type `{X}`",
    note = "streaming layers take one time step (`SMatrix<T, channels, B>`) at a time; a convolution that is not causal with stride 1 streams `Option` frames, with the layers after it in a `Downstream`; pooling and flattening cannot stream"
)]
pub trait Stream<T: Real, X>: Parameters<T> {
    /// One frame of output.
    type Output;
    /// What the layer remembers between frames. The zero value is the state before the first
    /// frame.
    type State: Zeroable + Clone;

    /// The output for the next frame `x`, updating `state`.
    fn step(&self, x: &X, state: &mut Self::State) -> Self::Output;

    /// The state before the first frame (all zero), to pass to [`Stream::step`].
    fn stream_state() -> Self::State {
        Self::State::zeroed()
    }
}

impl<T: Real, X, A: Stream<T, X>> Stream<T, X> for (A,) {
    type Output = A::Output;
    type State = A::State;

    #[inline]
    fn step(&self, x: &X, state: &mut A::State) -> A::Output {
        self.0.step(x, state)
    }
}

/// `N` copies of a streaming layer whose output frame has the type of its input frame.
impl<T: Real, X, L: Stream<T, X, Output = X>, const N: usize> Stream<T, X> for [L; N]
where
    X: Clone,
{
    type Output = X;
    type State = [L::State; N];

    #[inline]
    fn step(&self, x: &X, state: &mut Self::State) -> X {
        let mut h = x.clone();
        for (layer, state) in self.iter().zip(state) {
            h = layer.step(&h, state);
        }
        h
    }
}

/// Implements `Stream` for a tuple of streaming layers: each steps on the previous one's output
/// frame, and the tuple's state is the tuple of their states.
macro_rules! stream_tuple {
    ([$A:ident $a:tt $YA:ident] $([$M:ident $m:tt $MIn:ident $MOut:ident])+) => {
        impl<T: Real, X, $A, $YA, $($M, $MOut),+> Stream<T, X> for ($A, $($M,)+)
        where
            $A: Stream<T, X, Output = $YA>,
            $($M: Stream<T, $MIn, Output = $MOut>,)+
        {
            type Output = stream_tuple!(@last $($MOut)+);
            type State = (<$A as Stream<T, X>>::State, $(<$M as Stream<T, $MIn>>::State,)+);

            /// One frame through every layer, compiled for the widest vectors the CPU has (one
            /// dispatch for the whole step, as a tuple's `Layer::forward`).
            #[inline]
            fn step(&self, x: &X, state: &mut Self::State) -> Self::Output {
                crate::simd::widest(
                    #[inline(always)]
                    || {
                        let h = self.$a.step(x, &mut state.$a);
                        $(let h = self.$m.step(&h, &mut state.$m);)+
                        h
                    },
                )
            }
        }
    };
    (@last $Y:ident) => { $Y };
    (@last $Y:ident $($rest:ident)+) => { stream_tuple!(@last $($rest)+) };
}

stream_tuple!([A 0 YA] [B 1 YA YB]);
stream_tuple!([A 0 YA] [B 1 YA YB] [C 2 YB YC]);
stream_tuple!([A 0 YA] [B 1 YA YB] [C 2 YB YC] [D 3 YC YD]);
stream_tuple!([A 0 YA] [B 1 YA YB] [C 2 YB YC] [D 3 YC YD] [E 4 YD YE]);
stream_tuple!([A 0 YA] [B 1 YA YB] [C 2 YB YC] [D 3 YC YD] [E 4 YD YE] [F 5 YE YF]);
stream_tuple!([A 0 YA] [B 1 YA YB] [C 2 YB YC] [D 3 YC YD] [E 4 YD YE] [F 5 YE YF] [G 6 YF YG]);
stream_tuple!([A 0 YA] [B 1 YA YB] [C 2 YB YC] [D 3 YC YD] [E 4 YD YE] [F 5 YE YF] [G 6 YF YG] [H 7 YG YH]);
