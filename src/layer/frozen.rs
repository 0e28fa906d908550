//! A part of a network that does not train: fine-tuning's frozen layers.

use crate::ActivationVisitor;
use crate::ConstExpr;
use crate::{Init, Layer, Parameters, Real, Rng, Stream, TensorInfo, Tensors};

/// Freezes `L` for fine-tuning: PyTorch's `requires_grad_(False)` plus `.eval()` on a
/// submodule. Nothing inside trains (the gradient type is `()`, so optimizers hold no state for
/// it and cannot move it), its layers run in inference mode ([`Layer::forward_eval`]: batch norm
/// on its running statistics, which stay unchanged, dropout off), and the input gradient passes
/// through ([`Layer::backward_eval`]), so layers before it still train.
///
/// `L`'s parameters become [`Parameters::buffers`] under their own names and positions: saved
/// and loaded with the network (safetensors files keep PyTorch's names), invisible to optimizers
/// and to [`GradCheck`](crate::GradCheck). The binary format's signature therefore differs from
/// the unfrozen network's; weights move between the two through safetensors or
/// [`Tensors::tensors`].
///
/// As the first layer of a network it costs no backward pass at all (nothing before it needs an
/// input gradient). Elsewhere its backward pass computes `L`'s parameter gradients into a
/// scratch value on the stack and discards them.
///
/// ```
/// use static_nn::prelude::*;
/// use static_nn::nalgebra::SMatrix;
///
/// // A pre-trained feature extractor, frozen, and a new head that trains.
/// type Net = (Frozen<(Dense<f64, 4, 8>, BatchNorm<f64, 8>, Relu)>, Dense<f64, 8, 3>);
/// let mut net = Net::build(Init::PyTorch, &mut Rng::new(0));
/// let backbone = net.0.clone();
/// let mut adam = Adam::new(AdamConfig::with_lr(0.01));
/// let mut workspace = Workspace::new();
/// let x = SMatrix::<f64, 4, 2>::from_fn(|i, j| (i + 2 * j) as f64 * 0.3);
/// let y = [Class::<3>::new(2).unwrap(), Class::new(0).unwrap()];
/// for _ in 0..5 {
///     workspace.train_step(&mut net, &mut adam, &CrossEntropy, &x, &y);
/// }
/// assert_eq!(net.0, backbone); // weights and running statistics untouched
/// ```
#[derive(Clone, Copy, Debug, Default, PartialEq, bytemuck::Zeroable)]
pub struct Frozen<L>(
    /// The frozen layers.
    pub L,
);

impl<T: Real, L: Tensors<T>> Tensors<T> for Frozen<L> {
    const LAYERS: usize = L::LAYERS;

    fn tensors(&self) -> impl Iterator<Item = &[T]> {
        core::iter::empty()
    }
    fn tensors_mut(&mut self) -> impl Iterator<Item = &mut [T]> {
        core::iter::empty()
    }
    fn tensor_infos() -> impl Iterator<Item = TensorInfo> {
        core::iter::empty()
    }
}

impl<T: Real, L: Parameters<T>> Parameters<T> for Frozen<L> {
    type Gradient = ();

    fn reset(&mut self, init: Init, rng: &mut Rng) {
        self.0.reset(init, rng);
    }
    fn set_hyperparameters(&mut self, template: Option<&Self>) {
        self.0.set_hyperparameters(template.map(|t| &t.0));
    }
    fn buffers(&self) -> impl Iterator<Item = &[T]> {
        self.0.state_dict()
    }
    fn buffers_mut(&mut self) -> impl Iterator<Item = &mut [T]> {
        self.0.state_dict_mut()
    }
    fn buffer_infos() -> impl Iterator<Item = TensorInfo> {
        L::state_dict_infos()
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

impl<T: Real, X, L: Layer<T, X>> Layer<T, X> for Frozen<L> {
    type Output = L::Output;
    type Cache = L::Cache;

    fn forward(&self, x: &X) -> L::Output {
        self.0.forward(x)
    }

    fn forward_train(&self, x: &X, cache: &mut L::Cache) -> L::Output {
        self.0.forward_eval(x, cache)
    }

    fn backward(&self, x: &X, y: &L::Output, cache: &L::Cache, dy: &L::Output, _grad: &mut ()) -> X {
        let mut discarded = <L::Gradient as bytemuck::Zeroable>::zeroed();
        self.0.backward_eval(x, y, cache, dy, &mut discarded)
    }

    fn backward_parameters(&self, _x: &X, _y: &L::Output, _cache: &L::Cache, _dy: &L::Output, _grad: &mut ()) {}

    fn forward_eval(&self, x: &X, cache: &mut L::Cache) -> L::Output {
        self.0.forward_eval(x, cache)
    }

    fn backward_eval(&self, x: &X, y: &L::Output, cache: &L::Cache, dy: &L::Output, grad: &mut ()) -> X {
        self.backward(x, y, cache, dy, grad)
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

impl<T: Real, X, L: Stream<T, X>> Stream<T, X> for Frozen<L> {
    type Output = L::Output;
    type State = L::State;

    #[inline]
    fn step(&self, x: &X, state: &mut L::State) -> L::Output {
        self.0.step(x, state)
    }
}

impl<L: ConstExpr> ConstExpr for Frozen<L> {
    fn fmt_const(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.write_str("::static_nn::Frozen(")?;
        self.0.fmt_const(f)?;
        f.write_str(")")
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{BatchNorm, Dense, GradCheck, Mse, Tanh};
    use nalgebra::SMatrix;

    #[test]
    fn the_frozen_layer_keeps_its_hyperparameters() {
        let template = Frozen((Dense::<f64, 2, 2>::zeros(), crate::LeakyRelu::new(0.3)));
        let net = template.initialised(Init::PyTorch, &mut Rng::new(0));
        assert_eq!(net.0.1.slope, 0.3);
    }

    type Backbone = (Dense<f64, 4, 3>, BatchNorm<f64, 3>, Tanh);
    type Net = (Dense<f64, 2, 4>, Frozen<Backbone>, Dense<f64, 3, 2>);

    fn net() -> Net {
        let mut net = Net::build(Init::PyTorch, &mut Rng::new(7));
        net.1.0.1.running_mean = nalgebra::Vector3::new(0.2, -0.1, 0.4);
        net.1.0.1.running_var = nalgebra::Vector3::new(0.7, 1.9, 0.4);
        net.1.0.1.weight = nalgebra::Vector3::new(1.2, -0.8, 0.5);
        net
    }

    #[test]
    fn gradients_pass_through_and_nothing_inside_trains() {
        let net = net();
        let x = SMatrix::<f64, 2, 3>::from_fn(|i, j| ((i * 3 + j) as f64 * 1.3).sin());
        let target = SMatrix::<f64, 2, 3>::from_fn(|i, j| (i as f64 - j as f64) * 0.2);
        let report = GradCheck::default().strict().network(&net, &Mse, &x, &target);
        assert!(report.passed(), "{report}");
        let positions: Vec<_> = report.tensors.iter().map(|t| (t.layer, t.name)).collect();
        assert_eq!(
            positions,
            [
                (Some(0), "weight"),
                (Some(0), "bias"),
                (Some(4), "weight"),
                (Some(4), "bias"),
                (None, "input")
            ]
        );
    }

    #[test]
    fn frozen_parameters_are_buffers_under_their_own_names_and_stay_put() {
        let names: Vec<_> = Net::buffer_infos().map(|t| (t.layer, t.name)).collect();
        assert_eq!(
            names,
            [
                (1, "weight"),
                (1, "bias"),
                (2, "weight"),
                (2, "bias"),
                (2, "running_mean"),
                (2, "running_var")
            ]
        );
        let mut net = net();
        let backbone: Vec<Vec<f64>> = net.1.0.state_dict().map(<[f64]>::to_vec).collect();
        assert_eq!(net.buffers().map(<[f64]>::to_vec).collect::<Vec<_>>(), backbone);
        for (i, buffer) in net.buffers_mut().enumerate() {
            buffer[0] = i as f64;
        }
        assert_eq!((net.1.0.0.bias[0], net.1.0.1.running_var[0]), (1.0, 5.0));

        let before = net.clone();
        let x = SMatrix::<f64, 2, 4>::from_fn(|i, j| (i + j) as f64);
        let mut cache = bytemuck::Zeroable::zeroed();
        let y = net.forward_train(&x, &mut cache);
        assert_eq!(y, net.forward(&x), "inference mode inside");
        net.update_buffers(&cache);
        assert_eq!(net, before, "running statistics untouched");
    }
}
