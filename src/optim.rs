//! Optimizers: how a gradient becomes a parameter update; gradient clipping; learning-rate
//! schedules.
//!
//! Every optimizer follows PyTorch's documented update and defaults, and keeps its state as
//! copies of the network's gradient type, under PyTorch's names:
//!
//! | optimizer | PyTorch | default lr | state |
//! |---|---|---|---|
//! | [`Sgd`] (momentum, dampening, Nesterov, L2) | `SGD` | 1e-3 | `momentum_buffer` |
//! | [`Adam`] (L2, AMSGrad) | `Adam` | 1e-3 | `exp_avg`, `exp_avg_sq`, `max_exp_avg_sq` |
//! | [`AdamW`] (decoupled decay 0.01, AMSGrad) | `AdamW` | 1e-3 | as Adam |
//! | [`RmsProp`] (momentum, centered, L2) | `RMSprop` | 1e-2 | `square_avg`, `momentum_buffer`, `grad_avg` |
//! | [`Adagrad`] (lr decay, initial accumulator, L2) | `Adagrad` | 1e-2 | `sum` |
//!
//! Clipping: [`clip_grad_norm`] and [`clip_grad_value`] (PyTorch's `clip_grad_norm_` and
//! `clip_grad_value_`) on any gradient, [`global_norm`] to measure one. Schedules: the
//! [`schedule`] module. A [`Trainer`](crate::Trainer) applies both for you.
//!
//! Any [`Parameters`] can be optimised, including a bare `SMatrix` (its own gradient), so the
//! optimizers minimise any differentiable function of a parameter vector:
//!
//! ```
//! use static_nn::{Optimizer, Sgd, SgdConfig};
//! use static_nn::nalgebra::Vector2;
//!
//! // Rosenbrock's function (1 − a)² + 100 (b − a²)², minimum at (1, 1).
//! let gradient = |p: &Vector2<f64>| {
//!     let (a, b) = (p[0], p[1]);
//!     Vector2::new(-2.0 * (1.0 - a) - 400.0 * a * (b - a * a), 200.0 * (b - a * a))
//! };
//! let mut p = Vector2::new(-1.2, 1.0);
//! let mut sgd = Sgd::new(SgdConfig { momentum: 0.9, ..SgdConfig::with_lr(1e-3) });
//! for _ in 0..5000 {
//!     let g = gradient(&p);
//!     sgd.step(&mut p, &g);
//! }
//! assert!((p - Vector2::new(1.0, 1.0)).norm() < 1e-4);
//! ```

mod adagrad;
mod adam;
mod adam_w;
mod clip;
mod engine;
mod hyperparameters;
mod rms_prop;
pub mod schedule;
mod sgd;
mod state;

pub use adagrad::{Adagrad, AdagradConfig};
pub use adam::{Adam, AdamConfig};
pub use adam_w::{AdamW, AdamWConfig};
pub(crate) use clip::sum_of_squares;
pub use clip::{Clip, GradientBound, NonFiniteNorm, clip_grad_norm, clip_grad_value, global_norm};
pub use engine::{Bounds, Engine, Rule, Slot, Walk};
pub use hyperparameters::LearningRate;
pub use rms_prop::{RmsProp, RmsPropConfig};
pub use schedule::{
    CosineAnnealingLr, ExponentialLr, FixedLr, LinearWarmup, PlateauConfig, ReduceLrOnPlateau, Schedule, StepLr,
    ThresholdMode,
};
pub use sgd::{Sgd, SgdConfig};
pub use state::OptimizerState;

use core::fmt;

use crate::{Layer, Parameters, Real, TensorInfo, Tensors};

/// The largest step count an optimizer holds, 2⁵³: every count up to it converts to `f64`
/// exactly. Steps saturate there (a rule's step-dependent factors, such as Adam's bias
/// corrections, have long reached their limits), [`Optimizer::set_steps`] refuses more, and a
/// checkpoint declaring more is refused at load; so the counter never overflows or wraps.
pub const MAX_STEPS: u64 = 1 << 53;

/// Updates a network's parameters from their gradient.
///
/// An optimizer's state (momentum buffers, moment estimates) is held as copies of the network's
/// [`Parameters::Gradient`], and the optimizer type names the network (`Sgd<f32, Mlp>`), so a
/// state built for one network does not compile with another, and a step allocates nothing.
///
/// Everything that decides the optimizer's future steps is reachable through the trait, so that
/// generic code can save and restore it: the state tensors through the [`Tensors`] supertrait
/// (each optimizer documents their order), the step counter through [`Optimizer::steps`] and
/// [`Optimizer::set_steps`], and the learning rate, which schedules change, through
/// [`Optimizer::learning_rate`]. The other hyperparameters are in each optimizer's public
/// `config`, which its caller built.
#[diagnostic::on_unimplemented(
    message = "`{Self}` is not an optimizer for the network `{N}`",
    note = "an optimizer's state is shaped like one network type; build a new optimizer for this network"
)]
pub trait Optimizer<T: Real, N: Parameters<T>>: Tensors<T> {
    /// Applies one update to `net` from `grad`, the gradient of the loss.
    fn step(&mut self, net: &mut N, grad: &N::Gradient);

    /// The current learning rate.
    fn learning_rate(&self) -> T;

    /// Changes the learning rate used by later steps (schedules call this between steps).
    fn set_learning_rate(&mut self, learning_rate: T);

    /// Number of steps taken so far (PyTorch's `state["step"]`).
    fn steps(&self) -> u64;

    /// Sets the step counter, e.g. when restoring a saved optimizer with its state tensors.
    ///
    /// # Panics
    /// If `steps` exceeds [`MAX_STEPS`].
    fn set_steps(&mut self, steps: u64);

    /// [`Optimizer::step`], unless a value it would write (a parameter or a state entry) is not
    /// finite: then nothing changes (not even the step counter) and the error names the value.
    /// Allocates nothing: the update is checked without being stored, then computed again to
    /// store it.
    ///
    /// The check is as cheap as the rule allows. Adam and AdamW prove the whole update finite
    /// from a few maxima ([`Rule::certain_within`]): the largest parameter and gradient
    /// magnitudes, measured in one pass (the gradient's is given to
    /// [`Optimizer::try_step_within`]), and bounds on the moments that the previous guarded
    /// step measured while writing them ([`OptimizerState`]), so the moments are not read
    /// twice. Where that fails (the bounds are unknown after a plain [`Optimizer::step`] or a
    /// write to the state, or too large), every element is checked: first by the rule's
    /// shortcut ([`Walk::run`]'s `certain`, which skips Adam's square root and division), then
    /// exactly for a tensor the shortcut cannot vouch for.
    ///
    /// # Errors
    /// [`NonFiniteUpdate`] for the first value, in [`Tensors`] order, that would not be finite.
    fn try_step(&mut self, net: &mut N, grad: &N::Gradient) -> Result<(), NonFiniteUpdate<T>>;

    /// [`Optimizer::try_step`] for a gradient the crate's norm check has measured already: every
    /// entry is finite and at most `gradient_bound` in magnitude.
    /// [`Workspace::apply_gradient`](crate::Workspace::apply_gradient) passes the bound its
    /// norm check gives, which spares the optimizer's check a pass over the gradient. Only the
    /// crate can make a [`GradientBound`], so the promise of [`Optimizer::try_step`] holds here
    /// too. By default the bound is not used.
    ///
    /// # Errors
    /// As [`Optimizer::try_step`].
    fn try_step_within(
        &mut self,
        net: &mut N,
        grad: &N::Gradient,
        gradient_bound: GradientBound<T>,
    ) -> Result<(), NonFiniteUpdate<T>> {
        let _ = gradient_bound;
        self.try_step(net, grad)
    }

    /// The backward pass of `net` into `grad` (which it adds to, as
    /// [`Layer::backward_parameters`] does), given the `x`, `output` and `cache` of its training
    /// forward pass and `dy = ∂loss/∂output`, and one [`Optimizer::step`] with the gradient:
    /// the second half of [`Workspace::train_step`](crate::Workspace::train_step). Parameters,
    /// state, step count and `grad` end as after the backward pass followed by
    /// [`Optimizer::step`], bit for bit.
    ///
    /// The default does exactly that. [`Engine`] fuses the two ([`Layer::backward_update`]):
    /// each layer is updated as soon as its gradient is complete, so that the update's
    /// divisions and square roots overlap the backward pass of the layers before it.
    #[allow(clippy::too_many_arguments)]
    fn backward_step<X>(
        &mut self,
        net: &mut N,
        x: &X,
        output: &N::Output,
        cache: &N::Cache,
        dy: &N::Output,
        grad: &mut N::Gradient,
    ) where
        N: Layer<T, X>,
    {
        crate::simd::widest(
            #[inline(always)]
            || net.backward_parameters(x, output, cache, dy, grad),
        );
        self.step(net, grad);
    }

    /// For each state tensor, in [`Tensors::tensors`] order, whether its values are ≥ 0 by
    /// construction (a second moment, a sum of squares): a checkpoint holding a negative one is
    /// refused at load. None by default.
    fn non_negative_state() -> impl Iterator<Item = bool> {
        core::iter::repeat(false)
    }
}

/// A boxed optimizer is an optimizer: `train_step(&mut net, &mut boxed, ..)` works with what
/// [`Engine::new_boxed`] returns.
#[cfg(feature = "alloc")]
impl<T: Real, N: Parameters<T>, O: Optimizer<T, N>> Optimizer<T, N> for alloc::boxed::Box<O> {
    fn step(&mut self, net: &mut N, grad: &N::Gradient) {
        (**self).step(net, grad);
    }
    fn learning_rate(&self) -> T {
        (**self).learning_rate()
    }
    fn set_learning_rate(&mut self, learning_rate: T) {
        (**self).set_learning_rate(learning_rate);
    }
    fn steps(&self) -> u64 {
        (**self).steps()
    }
    fn set_steps(&mut self, steps: u64) {
        (**self).set_steps(steps);
    }
    fn try_step(&mut self, net: &mut N, grad: &N::Gradient) -> Result<(), NonFiniteUpdate<T>> {
        (**self).try_step(net, grad)
    }
    fn try_step_within(
        &mut self,
        net: &mut N,
        grad: &N::Gradient,
        gradient_bound: GradientBound<T>,
    ) -> Result<(), NonFiniteUpdate<T>> {
        (**self).try_step_within(net, grad, gradient_bound)
    }
    fn backward_step<X>(
        &mut self,
        net: &mut N,
        x: &X,
        output: &N::Output,
        cache: &N::Cache,
        dy: &N::Output,
        grad: &mut N::Gradient,
    ) where
        N: Layer<T, X>,
    {
        (**self).backward_step(net, x, output, cache, dy, grad);
    }
    fn non_negative_state() -> impl Iterator<Item = bool> {
        O::non_negative_state()
    }
}

/// A value an optimizer step would have made NaN or infinite (see [`Optimizer::try_step`]).
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct NonFiniteUpdate<T> {
    /// The tensor, as the network names it (`layer`, `name`).
    pub tensor: TensorInfo,
    /// The element's index in the tensor's data (column-major).
    pub index: usize,
    /// Which value: `"parameter"`, or the state buffer's name (`"exp_avg_sq"`).
    pub value: &'static str,
    /// The value it would have become.
    pub new: T,
}

impl<T: Real> fmt::Display for NonFiniteUpdate<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "the {} of {}.{} at index {} would become {}",
            self.value, self.tensor.layer, self.tensor.name, self.index, self.new
        )
    }
}

/// `x`, or 0 if it is subnormal: what the optimizers store in their decaying state.
///
/// Once gradients vanish, a state such as Adam's `exp_avg ← exp_avg + (1 − β₁)(0 − exp_avg)`
/// decays into the subnormal range and stays there: near the smallest subnormal the decrement
/// rounds to nothing. Arithmetic on subnormal operands is many times slower on x86-64, so a
/// converged network's steps slowed down 3-6× (20× in the issue's report) for good. A flush-to-
/// zero mode of the CPU would also cure it, but Rust assumes the default floating-point
/// environment, so changing it under compiled code is undefined behaviour. Flushing the state
/// instead changes nothing a parameter can see: a moment below `1.2e-38` (`f32`) moves a
/// parameter by less than `lr · 1.2e-38 / eps`, far below the rounding of any normal parameter.
/// The comparison and selection vectorise, and cost nothing measurable in the element loops.
#[inline(always)]
pub(crate) fn flush_subnormal<T: Real>(x: T) -> T {
    let smallest_normal = if core::mem::size_of::<T>() == 4 {
        T::of(f64::from(f32::MIN_POSITIVE))
    } else {
        T::of(f64::MIN_POSITIVE)
    };
    if x.abs() < smallest_normal { T::zero() } else { x }
}

#[cfg(test)]
pub(crate) mod test_support {
    //! What every optimizer's tests share: a trajectory on a small network compared with an
    //! independent implementation of the update over flat parameter vectors, and minimisation of
    //! two-parameter test functions.

    use bytemuck::Zeroable;
    use nalgebra::{SMatrix, Vector2};

    use crate::{Dense, Init, Mse, Optimizer, Parameters, Rng, Tanh, Tensors, Workspace};

    /// The network of every trajectory test: small, smooth (no kinks), with two layers of biases.
    pub type Net = (Dense<f64, 3, 4>, Tanh, Dense<f64, 4, 2>);
    type Input = SMatrix<f64, 3, 5>;

    fn batch() -> (Input, SMatrix<f64, 2, 5>) {
        let x = Input::from_fn(|i, j| ((i * 5 + j) as f64 * 0.7).sin() * 1.5);
        let y = SMatrix::<f64, 2, 5>::from_fn(|i, j| ((i + 2 * j) as f64 * 0.9).cos());
        (x, y)
    }

    fn flatten<V: Tensors<f64>>(value: &V) -> Vec<f64> {
        value.tensors().flatten().copied().collect()
    }

    /// The MSE gradient on the fixed batch at the parameters `flat`, through the library's
    /// backward pass (the optimizers, not the gradients, are under test here).
    fn gradient_at(flat: &[f64]) -> Vec<f64> {
        let mut net = Net::zeroed();
        let mut rest = flat;
        for t in net.tensors_mut() {
            let (head, tail) = rest.split_at(t.len());
            t.copy_from_slice(head);
            rest = tail;
        }
        let (x, y) = batch();
        let mut workspace = Workspace::<f64, Net, Input>::new();
        workspace.compute_gradient(&net, &Mse, &x, &y);
        flatten(&workspace.grad)
    }

    /// Number of scalars in [`Net`]: the length of the flat vectors given to references.
    pub fn len() -> usize {
        Net::scalar_count()
    }

    /// Takes five steps with `optimizer` on [`Net`] (gradients from the fixed batch) and five
    /// steps of `reference(t, params, grad)` on a flat copy of the same parameters, where `t`
    /// counts from 1 and `reference` updates `params` in place. After every step, each
    /// parameter must agree to 1e-12 relative.
    pub fn check_trajectory<O: Optimizer<f64, Net>>(
        mut optimizer: O,
        mut reference: impl FnMut(u64, &mut [f64], &[f64]),
    ) {
        let (x, y) = batch();
        let mut net = Net::build(Init::PyTorch, &mut Rng::new(3));
        let start = flatten(&net);
        let mut flat = start.clone();
        let mut workspace = Workspace::<f64, Net, Input>::new();
        for t in 1..=5 {
            workspace.compute_gradient(&net, &Mse, &x, &y);
            optimizer.step(&mut net, &workspace.grad);
            let grad = gradient_at(&flat);
            reference(t, &mut flat, &grad);
            let got = flatten(&net);
            for (i, (&got, &want)) in got.iter().zip(&flat).enumerate() {
                let error = (got - want).abs() / want.abs();
                assert!(
                    error <= 1e-12,
                    "step {t}, parameter {i}: {got} vs reference {want} (relative error {error:e})"
                );
            }
        }
        assert_eq!(optimizer.steps(), 5);
        let moved = start.iter().zip(&flat).map(|(a, b)| (a - b).abs()).fold(0.0, f64::max);
        assert!(
            moved > 1e-4,
            "the trajectory barely moved ({moved:e}): the comparison proves little"
        );
    }

    /// Proves that the optimizer's [`Tensors`], step counter and learning rate are its whole
    /// state: three steps with one optimizer, its state copied through the trait into a fresh one
    /// from `make`, then both continue in lock-step and must stay bit-identical.
    pub fn check_state_is_complete<O: Optimizer<f64, Net>>(make: impl Fn() -> O) {
        let (x, y) = batch();
        let mut net = Net::build(Init::PyTorch, &mut Rng::new(4));
        let mut workspace = Workspace::<f64, Net, Input>::new();
        let mut original = make();
        for _ in 0..3 {
            workspace.compute_gradient(&net, &Mse, &x, &y);
            original.step(&mut net, &workspace.grad);
        }
        original.set_learning_rate(original.learning_rate() * 0.5);
        let mut restored = make();
        for (to, from) in restored.tensors_mut().zip(original.tensors()) {
            to.copy_from_slice(from);
        }
        restored.set_steps(original.steps());
        restored.set_learning_rate(original.learning_rate());
        let mut twin = net.clone();
        for _ in 0..3 {
            workspace.compute_gradient(&net, &Mse, &x, &y);
            original.step(&mut net, &workspace.grad);
            restored.step(&mut twin, &workspace.grad);
            assert_eq!(flatten(&net), flatten(&twin));
        }
        assert!(flatten(&original) == flatten(&restored));
    }

    /// `f(θ) = ½ (θ₀² + 25 θ₁²)`: a quadratic bowl with condition number 25, minimum at 0.
    pub fn quadratic(theta: &Vector2<f64>) -> (f64, Vector2<f64>) {
        let value = 0.5 * (theta[0] * theta[0] + 25.0 * theta[1] * theta[1]);
        (value, Vector2::new(theta[0], 25.0 * theta[1]))
    }

    /// Rosenbrock's banana `f(θ) = (1 − θ₀)² + 100 (θ₁ − θ₀²)²`, minimum 0 at (1, 1) at the end
    /// of a long, curved, flat-bottomed valley.
    pub fn rosenbrock(theta: &Vector2<f64>) -> (f64, Vector2<f64>) {
        let (a, b) = (theta[0], theta[1]);
        let valley = b - a * a;
        let value = (1.0 - a) * (1.0 - a) + 100.0 * valley * valley;
        (
            value,
            Vector2::new(-2.0 * (1.0 - a) - 400.0 * a * valley, 200.0 * valley),
        )
    }

    /// Runs `steps` steps of `optimizer` on `f` from `start` and returns the final point.
    pub fn minimise<O: Optimizer<f64, Vector2<f64>>>(
        mut optimizer: O,
        f: fn(&Vector2<f64>) -> (f64, Vector2<f64>),
        start: Vector2<f64>,
        steps: usize,
    ) -> Vector2<f64> {
        let mut theta = start;
        for _ in 0..steps {
            let (_, grad) = f(&theta);
            optimizer.step(&mut theta, &grad);
        }
        theta
    }

    /// The two tests of every rule, over `$variants` (an iterator of configurations): for each,
    /// five steps of the optimizer against `$reference(config)` ([`check_trajectory`]), and its
    /// state complete ([`check_state_is_complete`]).
    macro_rules! rule_tests {
        ($variants:expr, $reference:expr) => {
            #[test]
            fn trajectories_match_pytorch_formulas() {
                use $crate::optim::{Engine, test_support};
                for config in $variants {
                    let optimizer = Engine::<f64, test_support::Net, _, _>::new(config);
                    test_support::check_trajectory(optimizer, ($reference)(config));
                }
            }

            #[test]
            fn state_is_complete() {
                use $crate::optim::{Engine, test_support};
                for config in $variants {
                    test_support::check_state_is_complete(|| Engine::<f64, test_support::Net, _, _>::new(config));
                }
            }
        };
    }
    pub(crate) use rule_tests;

    /// The classic start for Rosenbrock's function.
    pub const ROSENBROCK_START: Vector2<f64> = Vector2::new(-1.2, 1.0);
    /// Where the quadratic's minimisation starts.
    pub const QUADRATIC_START: Vector2<f64> = Vector2::new(3.0, -2.0);
}

#[cfg(test)]
mod tests {
    use nalgebra::Vector2;

    use crate::{Adam, AdamConfig, Optimizer, RmsProp, RmsPropConfig, Sgd, SgdConfig};

    /// After a gradient, many steps with none: every decaying state reaches exactly 0 instead of
    /// getting stuck among the subnormal numbers.
    fn decays_to_zero<O: Optimizer<f32, Vector2<f32>>>(mut optimizer: O) {
        let mut theta = Vector2::new(1.0_f32, -1.0);
        optimizer.step(&mut theta, &Vector2::new(1e-20, -1e-25));
        for _ in 0..20_000 {
            optimizer.step(&mut theta, &Vector2::zeros());
        }
        assert!(optimizer.tensors().flatten().all(|v| !v.is_subnormal()));
    }

    #[test]
    fn decaying_state_never_stays_subnormal() {
        decays_to_zero(Sgd::new(SgdConfig {
            momentum: 0.9,
            ..SgdConfig::with_lr(0.1)
        }));
        decays_to_zero(RmsProp::new(RmsPropConfig {
            momentum: 0.5,
            centered: true,
            ..RmsPropConfig::default()
        }));
        decays_to_zero(Adam::new(AdamConfig::default()));
    }
}
