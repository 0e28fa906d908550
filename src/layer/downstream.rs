//! The layers after a streaming convolution that does not emit every frame.

use crate::ActivationVisitor;
use crate::ConstExpr;
use crate::layer::fields::transparent_parameters;
use crate::{Layer, Real, Stream};

/// Streams `L` on the frames that arrive: after a [`Conv1d`](crate::Conv1d) with valid or zero
/// padding or a stride above 1, whose stream yields `Option` frames (`None` until its window is
/// full, then one frame every `stride`), `Downstream(L)` steps `L` on each `Some` and leaves
/// its state alone on `None`.
///
/// Everywhere else it is transparent: the whole-sequence [`Layer`] passes are `L`'s, and `L`'s
/// tensors, buffers, names and positions are unchanged.
///
/// ```
/// use static_nn::prelude::*;
/// use static_nn::Downstream;
/// use static_nn::nalgebra::SMatrix;
///
/// // Kernel 3, stride 2, no padding over 9 frames: 4 outputs, then a GRU and a readout.
/// type Net = (Conv1d<f64, 1, 4, 3, 9, 4, 2>, Downstream<(Relu, Gru<f64, 4, 6>, LastStep, Dense<f64, 6, 1>)>);
/// let net = Net::build(Init::PyTorch, &mut Rng::new(0));
/// let x: [SMatrix<f64, 1, 1>; 9] = core::array::from_fn(|t| SMatrix::from_element((t as f64).sin()));
///
/// let mut state = Net::stream_state();
/// let outputs: Vec<_> = x.iter().map(|frame| net.step(&Some(*frame), &mut state)).collect();
/// assert_eq!(outputs.iter().filter(|y| y.is_some()).count(), 4); // at frames 3, 5, 7, 9
/// assert!((outputs[8].unwrap() - net.forward(&x)).abs().max() < 1e-15);
/// ```
#[derive(Clone, Copy, Debug, Default, PartialEq, bytemuck::Zeroable)]
pub struct Downstream<L>(
    /// The layers stepped on the frames that arrive.
    pub L,
);

transparent_parameters!(Downstream);

impl<T: Real, X, L: Layer<T, X>> Layer<T, X> for Downstream<L> {
    type Output = L::Output;
    type Cache = L::Cache;

    fn forward(&self, x: &X) -> L::Output {
        self.0.forward(x)
    }
    fn forward_train(&self, x: &X, cache: &mut L::Cache) -> L::Output {
        self.0.forward_train(x, cache)
    }
    fn backward(&self, x: &X, y: &L::Output, cache: &L::Cache, dy: &L::Output, grad: &mut L::Gradient) -> X {
        self.0.backward(x, y, cache, dy, grad)
    }
    fn backward_parameters(&self, x: &X, y: &L::Output, cache: &L::Cache, dy: &L::Output, grad: &mut L::Gradient) {
        self.0.backward_parameters(x, y, cache, dy, grad);
    }
    fn forward_eval(&self, x: &X, cache: &mut L::Cache) -> L::Output {
        self.0.forward_eval(x, cache)
    }
    fn backward_eval(&self, x: &X, y: &L::Output, cache: &L::Cache, dy: &L::Output, grad: &mut L::Gradient) -> X {
        self.0.backward_eval(x, y, cache, dy, grad)
    }
    fn update_buffers(&mut self, cache: &L::Cache) {
        self.0.update_buffers(cache);
    }
    fn visit_activations(
        &self,
        x: &X,
        y: &L::Output,
        cache: &L::Cache,
        position: usize,
        visitor: &mut dyn ActivationVisitor<T>,
    ) {
        self.0.visit_activations(x, y, cache, position, visitor);
    }
}

impl<T: Real, X, L: Stream<T, X>> Stream<T, Option<X>> for Downstream<L> {
    type Output = Option<L::Output>;
    type State = L::State;

    #[inline]
    fn step(&self, x: &Option<X>, state: &mut L::State) -> Option<L::Output> {
        x.as_ref().map(|x| self.0.step(x, state))
    }
}

impl<L: ConstExpr> ConstExpr for Downstream<L> {
    fn fmt_const(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.write_str("::static_nn::Downstream(")?;
        self.0.fmt_const(f)?;
        f.write_str(")")
    }
}
