//! The layers after a streaming convolution that does not emit every frame.

use crate::ActivationVisitor;
use crate::ConstExpr;
use crate::{Init, Layer, Parameters, Real, Rng, Stream, TensorInfo, Tensors};

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

impl<T: Real, L: Tensors<T>> Tensors<T> for Downstream<L> {
    const LAYERS: usize = L::LAYERS;

    fn tensors(&self) -> impl Iterator<Item = &[T]> {
        self.0.tensors()
    }
    fn tensors_mut(&mut self) -> impl Iterator<Item = &mut [T]> {
        self.0.tensors_mut()
    }
    fn tensor_infos() -> impl Iterator<Item = TensorInfo> {
        L::tensor_infos()
    }
}

impl<T: Real, L: Parameters<T>> Parameters<T> for Downstream<L> {
    type Gradient = L::Gradient;

    fn reset(&mut self, init: Init, rng: &mut Rng) {
        self.0.reset(init, rng);
    }
    fn buffers(&self) -> impl Iterator<Item = &[T]> {
        self.0.buffers()
    }
    fn buffers_mut(&mut self) -> impl Iterator<Item = &mut [T]> {
        self.0.buffers_mut()
    }
    fn buffer_infos() -> impl Iterator<Item = TensorInfo> {
        L::buffer_infos()
    }
    fn state_dict(&self) -> impl Iterator<Item = &[T]> {
        self.0.state_dict()
    }
    fn state_dict_mut(&mut self) -> impl Iterator<Item = &mut [T]> {
        self.0.state_dict_mut()
    }
    fn state_dict_infos() -> impl Iterator<Item = TensorInfo> {
        L::state_dict_infos()
    }
}

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
