//! A layer kept in inference mode while its parameters train.

use crate::ActivationVisitor;
use crate::ConstExpr;
use crate::layer::fields::transparent_parameters;
use crate::{Layer, Real, Stream};

/// Runs `L` in inference mode during training while its parameters still train: PyTorch's
/// `module.eval()` on a submodule whose parameters keep `requires_grad`. A batch norm inside
/// normalises with its running statistics (and leaves them unchanged), dropout is the
/// identity, and the gradients of γ, β and every other parameter are those of that function
/// ([`Layer::forward_eval`], [`Layer::backward_eval`]).
///
/// To train nothing inside as well, use [`Frozen`](crate::Frozen). The wrapper is transparent:
/// `L`'s tensors, buffers, names and positions are unchanged, so weights load as they are.
///
/// ```
/// use static_nn::{BatchNorm, Eval, GradCheck, Layer};
/// use static_nn::nalgebra::SMatrix;
///
/// let mut bn = BatchNorm::<f64, 2>::new();
/// bn.running_var[0] = 4.0;
/// let layer = Eval(bn);
/// // One sample is fine: nothing is estimated from the batch.
/// let x = SMatrix::<f64, 2, 1>::new(2.0, -1.0);
/// assert_eq!(layer.forward(&x), layer.0.forward(&x));
/// assert!(GradCheck::default().layer(&layer, &x).passed());
/// ```
#[derive(Clone, Copy, Debug, Default, PartialEq, bytemuck::Zeroable)]
pub struct Eval<L>(
    /// The layer kept in inference mode.
    pub L,
);

transparent_parameters!(Eval);

impl<T: Real, X, L: Layer<T, X>> Layer<T, X> for Eval<L> {
    type Output = L::Output;
    type Cache = L::Cache;

    fn forward(&self, x: &X) -> L::Output {
        self.0.forward(x)
    }

    fn forward_train(&self, x: &X, cache: &mut L::Cache) -> L::Output {
        self.0.forward_eval(x, cache)
    }

    fn backward(&self, x: &X, y: &L::Output, cache: &L::Cache, dy: &L::Output, grad: &mut L::Gradient) -> X {
        self.0.backward_eval(x, y, cache, dy, grad)
    }

    fn forward_eval(&self, x: &X, cache: &mut L::Cache) -> L::Output {
        self.0.forward_eval(x, cache)
    }

    fn backward_eval(&self, x: &X, y: &L::Output, cache: &L::Cache, dy: &L::Output, grad: &mut L::Gradient) -> X {
        self.0.backward_eval(x, y, cache, dy, grad)
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

impl<T: Real, X, L: Stream<T, X>> Stream<T, X> for Eval<L> {
    type Output = L::Output;
    type State = L::State;

    #[inline]
    fn step(&self, x: &X, state: &mut L::State) -> L::Output {
        self.0.step(x, state)
    }
}

impl<L: ConstExpr> ConstExpr for Eval<L> {
    fn fmt_const(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.write_str("::static_nn::Eval(")?;
        self.0.fmt_const(f)?;
        f.write_str(")")
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{BatchNorm, Dense, Dropout, GradCheck, Init, Mse, Parameters, Rng, Tanh};
    use nalgebra::SMatrix;

    #[test]
    fn the_wrapped_layer_keeps_its_hyperparameters_and_load_rules() {
        let template = Eval((crate::LeakyRelu::new(0.3), BatchNorm::<f64, 2>::new()));
        let net = template.initialised(Init::PyTorch, &mut Rng::new(0));
        assert_eq!(net.0.0.slope, 0.3);
        let rules: Vec<bool> = Eval::<BatchNorm<f64, 2>>::non_negative_buffers().collect();
        assert_eq!(rules, [false, true]);
    }

    #[test]
    fn a_network_in_eval_mode_checks_and_leaves_its_statistics_alone() {
        type Net = Eval<(
            Dense<f64, 3, 4>,
            BatchNorm<f64, 4>,
            Dropout<f64>,
            Tanh,
            Dense<f64, 4, 2>,
        )>;
        let mut net = Net::build(Init::PyTorch, &mut Rng::new(2));
        net.0.1.running_mean = nalgebra::Vector4::new(0.1, -0.2, 0.3, 0.0);
        net.0.1.running_var = nalgebra::Vector4::new(0.5, 2.0, 1.0, 3.0);
        net.0.2 = Dropout::new(0.5, 3);
        let x = SMatrix::<f64, 3, 5>::from_fn(|i, j| ((i * 5 + j) as f64 * 0.9).cos());
        let target = SMatrix::<f64, 2, 5>::from_fn(|i, j| (i + j) as f64 * 0.1);
        let report = GradCheck::default().strict().network(&net, &Mse, &x, &target);
        assert!(report.passed(), "{report}");
        assert_eq!(report.tensors.len(), 7, "two dense layers, γ, β and the input");

        let mut cache = bytemuck::Zeroable::zeroed();
        let y = net.forward_train(&x, &mut cache);
        assert_eq!(y, net.forward(&x), "inference mode: no dropout, running statistics");
        let before = net.clone();
        net.update_buffers(&cache);
        assert_eq!(net, before);
    }
}
