//! Residual (skip) connections.

use nalgebra::SMatrix;

use crate::ActivationVisitor;
use crate::{BufferFault, Init, Layer, Parameters, Real, Rng, TensorInfo, Tensors};

/// `y = x + f(x)` around a block `f` whose output has exactly the type of its input.
///
/// The constraint is a trait bound (the block's output must be [`SameAs`] its input), so a
/// residual around a block that changes the width (`Residual<Dense<f32, 4, 8>>`) does not
/// compile, with an error that says so.
///
/// Backward: `∂L/∂x = dy + f'(x)ᵀ dy`, the block's parameters receive the block's gradient of
/// `dy`. The cache holds the block's cache and its output `f(x)`, which the block's own backward
/// needs. The mode passes through: inference runs the block's inference, training its training
/// forward and its buffer updates (a batch norm inside keeps its running statistics).
///
/// The block's tensors keep their positions: `Residual<(Dense, Relu, Dense)>` at position 3 of a
/// sequence occupies positions 3, 4 and 5, as if the block were written inline. (PyTorch has no
/// residual module, so there is no naming to follow.)
///
/// ```
/// use static_nn::{Dense, Layer, Relu, Residual};
/// use static_nn::nalgebra::{Matrix2, Vector2};
///
/// let block = (Dense::new(Matrix2::new(1.0, 0.0, 0.0, -1.0), Vector2::zeros()), Relu);
/// let residual = Residual(block);
/// // f(x) = relu((3, -2)) = (3, 0), so y = x + f(x) = (6, 2).
/// assert_eq!(residual.forward(&Vector2::new(3.0_f64, 2.0)), Vector2::new(6.0, 2.0));
/// ```
#[derive(Clone, Copy, Debug, Default, PartialEq, bytemuck::Zeroable)]
pub struct Residual<F>(
    /// The block `f`.
    pub F,
);

impl<T: Real, F: Tensors<T>> Tensors<T> for Residual<F> {
    const LAYERS: usize = F::LAYERS;

    fn tensors(&self) -> impl Iterator<Item = &[T]> {
        self.0.tensors()
    }
    fn tensors_mut(&mut self) -> impl Iterator<Item = &mut [T]> {
        self.0.tensors_mut()
    }
    fn tensor_infos() -> impl Iterator<Item = TensorInfo> {
        F::tensor_infos()
    }
}

impl<T: Real, F: Parameters<T>> Parameters<T> for Residual<F> {
    type Gradient = F::Gradient;

    #[inline(always)]
    fn zip_gradient<const K: usize>(
        &mut self,
        grad: &F::Gradient,
        state: [&mut F::Gradient; K],
        f: &mut impl FnMut(&mut [T], &[T], [&mut [T]; K]),
    ) {
        self.0.zip_gradient(grad, state, f);
    }
    fn reset(&mut self, init: Init, rng: &mut Rng) {
        self.0.reset(init, rng);
    }
    fn set_hyperparameters(&mut self, template: Option<&Self>) {
        self.0.set_hyperparameters(template.map(|t| &t.0));
    }
    fn buffers(&self) -> impl Iterator<Item = &[T]> {
        self.0.buffers()
    }
    fn buffers_mut(&mut self) -> impl Iterator<Item = &mut [T]> {
        self.0.buffers_mut()
    }
    fn buffer_infos() -> impl Iterator<Item = TensorInfo> {
        F::buffer_infos()
    }
    fn non_negative_buffers() -> impl Iterator<Item = bool> {
        F::non_negative_buffers()
    }
    fn state_dict(&self) -> impl Iterator<Item = &[T]> {
        self.0.state_dict()
    }
    fn state_dict_mut(&mut self) -> impl Iterator<Item = &mut [T]> {
        self.0.state_dict_mut()
    }
    fn state_dict_infos() -> impl Iterator<Item = TensorInfo> {
        F::state_dict_infos()
    }
}

/// Evidence that a block's output type (`Self`) is its input type `X`. It is implemented only
/// for `X` itself (and sealed); it exists so that a residual around a block that changes the
/// shape is reported in words rather than as a type mismatch deep inside a tuple.
#[diagnostic::on_unimplemented(
    message = "a residual block must output the type of its input, but it turns `{X}` into `{Self}`",
    label = "`Residual` needs a block that keeps the width",
    note = "`Residual<F>` computes x + f(x); put width-changing layers before or after it"
)]
pub trait SameAs<X>: sealed::Sealed<X> {
    /// The value, as the input type.
    fn as_input(&self) -> &X;
    /// An input-typed value, as the output type.
    fn from_input(x: &X) -> &Self;
}

mod sealed {
    pub trait Sealed<X> {}
    impl<X> Sealed<X> for X {}
}

impl<X> SameAs<X> for X {
    #[inline]
    fn as_input(&self) -> &X {
        self
    }
    #[inline]
    fn from_input(x: &X) -> &X {
        x
    }
}

impl<T, F, const R: usize, const C: usize> Layer<T, SMatrix<T, R, C>> for Residual<F>
where
    T: Real,
    F: Layer<T, SMatrix<T, R, C>>,
    F::Output: SameAs<SMatrix<T, R, C>>,
{
    type Output = SMatrix<T, R, C>;
    type Cache = (F::Cache, F::Output);

    fn forward(&self, x: &SMatrix<T, R, C>) -> SMatrix<T, R, C> {
        x + self.0.forward(x).as_input()
    }

    fn forward_train(&self, x: &SMatrix<T, R, C>, cache: &mut Self::Cache) -> SMatrix<T, R, C> {
        cache.1 = self.0.forward_train(x, &mut cache.0);
        x + cache.1.as_input()
    }

    fn backward(
        &self,
        x: &SMatrix<T, R, C>,
        _y: &SMatrix<T, R, C>,
        cache: &Self::Cache,
        dy: &SMatrix<T, R, C>,
        grad: &mut F::Gradient,
    ) -> SMatrix<T, R, C> {
        dy + self.0.backward(x, &cache.1, &cache.0, SameAs::from_input(dy), grad)
    }

    fn backward_parameters(
        &self,
        x: &SMatrix<T, R, C>,
        _y: &SMatrix<T, R, C>,
        cache: &Self::Cache,
        dy: &SMatrix<T, R, C>,
        grad: &mut F::Gradient,
    ) {
        self.0
            .backward_parameters(x, &cache.1, &cache.0, SameAs::from_input(dy), grad);
    }

    fn forward_eval(&self, x: &SMatrix<T, R, C>, cache: &mut Self::Cache) -> SMatrix<T, R, C> {
        cache.1 = self.0.forward_eval(x, &mut cache.0);
        x + cache.1.as_input()
    }

    fn backward_eval(
        &self,
        x: &SMatrix<T, R, C>,
        _y: &SMatrix<T, R, C>,
        cache: &Self::Cache,
        dy: &SMatrix<T, R, C>,
        grad: &mut F::Gradient,
    ) -> SMatrix<T, R, C> {
        dy + self
            .0
            .backward_eval(x, &cache.1, &cache.0, SameAs::from_input(dy), grad)
    }

    fn update_buffers(&mut self, cache: &Self::Cache) {
        self.0.update_buffers(&cache.0);
    }

    fn check_buffer_update(&self, cache: &Self::Cache, position: usize) -> Result<(), BufferFault<T>> {
        self.0.check_buffer_update(&cache.0, position)
    }
    fn cache_counter_names() -> impl Iterator<Item = &'static str> {
        F::cache_counter_names()
    }
    fn cache_counters(cache: &Self::Cache) -> impl Iterator<Item = u64> {
        F::cache_counters(&cache.0)
    }
    fn cache_counters_mut(cache: &mut Self::Cache) -> impl Iterator<Item = &mut u64> {
        F::cache_counters_mut(&mut cache.0)
    }

    fn visit_activations(
        &self,
        x: &SMatrix<T, R, C>,
        _y: &SMatrix<T, R, C>,
        cache: &Self::Cache,
        position: usize,
        visitor: &mut dyn ActivationVisitor<T>,
    ) {
        self.0.visit_activations(x, &cache.1, &cache.0, position, visitor);
    }
}

impl<F: crate::ConstExpr> crate::ConstExpr for Residual<F> {
    fn fmt_const(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.write_str("::static_nn::Residual(")?;
        self.0.fmt_const(f)?;
        f.write_str(")")
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{BatchNorm, Class, CrossEntropy, Dense, GradCheck, Sgd, SgdConfig, Tanh, Workspace};
    use bytemuck::Zeroable;

    type Block = (Dense<f64, 3, 5>, Tanh, Dense<f64, 5, 3>);

    fn block() -> Block {
        Block::build(Init::PyTorch, &mut Rng::new(21))
    }

    #[test]
    fn output_is_input_plus_block() {
        let x = SMatrix::<f64, 3, 4>::from_fn(|i, j| (i * 4 + j) as f64 * 0.25 - 1.0);
        let residual = Residual(block());
        assert_eq!(residual.forward(&x), x + block().forward(&x));
        let mut cache = Zeroable::zeroed();
        assert_eq!(residual.forward_train(&x, &mut cache), residual.forward(&x));
    }

    #[test]
    fn gradient_check() {
        let x = SMatrix::<f64, 3, 4>::from_fn(|i, j| ((i * 4 + j) as f64).sin());
        let report = GradCheck::default().strict().layer(&Residual(block()), &x);
        assert!(report.passed(), "{report}");
        assert_eq!(report.tensors.len(), 5);

        type Net = (
            Dense<f64, 2, 3>,
            Residual<Block>,
            Tanh,
            Residual<(BatchNorm<f64, 3>, Tanh)>,
            Dense<f64, 3, 2>,
        );
        let mut net = Net::build(Init::PyTorch, &mut Rng::new(6));
        net.3.0.0.weight = nalgebra::Vector3::new(0.8, 1.4, -0.5);
        let x = SMatrix::<f64, 2, 4>::from_fn(|i, j| (i + 2 * j) as f64 * 0.3 - 0.7);
        let labels = Class::batch([0, 1, 1, 0]).unwrap();
        let report = GradCheck::default().strict().network(&net, &CrossEntropy, &x, &labels);
        assert!(report.passed(), "{report}");
    }

    #[test]
    fn positions_and_buffers_pass_through() {
        type Net = (
            Dense<f64, 2, 3>,
            Residual<(BatchNorm<f64, 3>, Tanh, Dense<f64, 3, 3>)>,
            Dense<f64, 3, 1>,
        );
        let positions: Vec<(usize, &str)> = Net::tensor_infos().map(|t| (t.layer, t.name)).collect();
        assert_eq!(
            positions,
            [
                (0, "weight"),
                (0, "bias"),
                (1, "weight"),
                (1, "bias"),
                (3, "weight"),
                (3, "bias"),
                (4, "weight"),
                (4, "bias")
            ]
        );
        assert_eq!(Net::buffer_infos().map(|t| t.layer).collect::<Vec<_>>(), [1, 1]);

        // The training step reaches the batch norm inside the residual.
        let mut net = Net::build(Init::PyTorch, &mut Rng::new(2));
        let x = SMatrix::<f64, 2, 4>::from_fn(|i, j| (i * 4 + j) as f64);
        let mut workspace = Workspace::new();
        workspace.train_step(
            &mut net,
            &mut Sgd::new(SgdConfig::with_lr(0.01)),
            &crate::Mse,
            &x,
            &SMatrix::zeros(),
        );
        assert_ne!(net.1.0.0.running_mean, nalgebra::Vector3::zeros());
    }

    #[test]
    fn batch_equals_single_samples_and_backward_accumulates() {
        let residual = Residual(block());
        let x = SMatrix::<f64, 3, 2>::new(0.5, -1.0, 2.0, 0.0, -0.5, 1.5);
        let dy = SMatrix::<f64, 3, 2>::new(1.0, 0.5, -1.0, 0.25, 0.0, 2.0);
        let mut cache = Zeroable::zeroed();
        let y = residual.forward_train(&x, &mut cache);
        let mut once = Zeroable::zeroed();
        let dx = residual.backward(&x, &y, &cache, &dy, &mut once);
        for b in 0..2 {
            let xb: SMatrix<f64, 3, 1> = x.column(b).into();
            let dyb: SMatrix<f64, 3, 1> = dy.column(b).into();
            let mut cb = Zeroable::zeroed();
            let yb = residual.forward_train(&xb, &mut cb);
            assert!((yb - y.column(b)).abs().max() < 1e-15);
            let dxb = residual.backward(&xb, &yb, &cb, &dyb, &mut Zeroable::zeroed());
            assert!((dxb - dx.column(b)).abs().max() < 1e-15);
        }
        let mut twice: <Block as Parameters<f64>>::Gradient = Zeroable::zeroed();
        residual.backward_parameters(&x, &y, &cache, &dy, &mut twice);
        residual.backward_parameters(&x, &y, &cache, &dy, &mut twice);
        assert_eq!(twice.0.weight, once.0.weight * 2.0);
        assert_eq!(twice.2.bias, once.2.bias * 2.0);
    }
}
