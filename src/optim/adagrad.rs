use bytemuck::Zeroable;

use crate::{Optimizer, Parameters, Real, TensorInfo, Tensors};

/// Hyperparameters of [`Adagrad`]. Defaults are PyTorch's: `lr` 1e-2, no learning-rate decay, no
/// weight decay, initial accumulator 0, `eps` 1e-10.
#[derive(Clone, Copy, Debug, PartialEq, Zeroable)]
pub struct AdagradConfig<T> {
    /// Learning rate (default 1e-2).
    pub lr: T,
    /// Decay of the learning rate with the step count: step `t` uses
    /// `lr / (1 + (t − 1) · lr_decay)` (default 0).
    pub lr_decay: T,
    /// L2 penalty added to the gradient, `g + wd·p` (default 0).
    pub weight_decay: T,
    /// The value every entry of the accumulator starts from (default 0).
    pub initial_accumulator_value: T,
    /// Added to the denominator, outside the square root (default 1e-10).
    pub eps: T,
}

impl<T: Real> Default for AdagradConfig<T> {
    fn default() -> Self {
        Self {
            lr: T::of(1e-2),
            lr_decay: T::zero(),
            weight_decay: T::zero(),
            initial_accumulator_value: T::zero(),
            eps: T::of(1e-10),
        }
    }
}

impl<T: Real> AdagradConfig<T> {
    /// PyTorch's defaults with the given learning rate.
    pub fn with_lr(lr: T) -> Self {
        Self { lr, ..Self::default() }
    }
}

/// Adagrad (Duchi et al.), as `torch.optim.Adagrad`: each parameter's step divided by the root
/// of the sum of all its squared gradients so far.
///
/// Each step, for every parameter `p` with gradient `g` (step `t` counts from 1):
/// ```text
/// g ← g + weight_decay · p
/// Σ ← Σ + g²                                   (sum)
/// p ← p − lr / (1 + (t − 1) · lr_decay) · g / (√Σ + eps)
/// ```
/// Parameters whose gradients have been large take small steps, rarely-updated ones large
/// steps; since `Σ` only grows, every step size shrinks over time.
///
/// The state is `sum` (PyTorch's name), shaped like the network's gradient and starting at
/// [`AdagradConfig::initial_accumulator_value`], and the step counter.
///
/// ```
/// use static_nn::{Adagrad, AdagradConfig, Optimizer};
/// use static_nn::nalgebra::Vector1;
///
/// let mut p = Vector1::new(1.0_f64);
/// let mut adagrad = Adagrad::new(AdagradConfig::with_lr(0.5));
/// adagrad.step(&mut p, &Vector1::new(4.0)); // Σ = 16: p ← 1 − 0.5 · 4 / 4
/// adagrad.step(&mut p, &Vector1::new(3.0)); // Σ = 25: p ← 0.5 − 0.5 · 3 / 5
/// assert!((p[0] - 0.2).abs() < 1e-9);
/// ```
#[derive(Zeroable)]
#[zeroable(bound = "")]
pub struct Adagrad<T: Real, N: Parameters<T>> {
    /// Hyperparameters; may be changed between steps. `initial_accumulator_value` is read once,
    /// at construction.
    pub config: AdagradConfig<T>,
    /// Sum of squared gradients `Σ`.
    pub sum: N::Gradient,
    /// Steps taken so far (`t`).
    pub steps: u64,
}

impl<T: Real, N: Parameters<T>> Clone for Adagrad<T, N> {
    fn clone(&self) -> Self {
        Self {
            config: self.config,
            sum: self.sum.clone(),
            steps: self.steps,
        }
    }
}

/// The optimizer's state, for saving and restoring: the tensors of `sum`, in the network's
/// order. [`Adagrad::steps`] completes the state.
impl<T: Real, N: Parameters<T>> Tensors<T> for Adagrad<T, N> {
    const LAYERS: usize = N::Gradient::LAYERS;

    fn tensors(&self) -> impl Iterator<Item = &[T]> {
        self.sum.tensors()
    }
    fn tensors_mut(&mut self) -> impl Iterator<Item = &mut [T]> {
        self.sum.tensors_mut()
    }
    fn tensor_infos() -> impl Iterator<Item = TensorInfo> {
        N::Gradient::tensor_infos()
    }
}

impl<T: Real, N: Parameters<T>> Adagrad<T, N> {
    /// A fresh optimizer (no steps taken, the accumulator at its initial value).
    ///
    /// # Panics
    /// If the learning rate, learning-rate decay, weight decay, initial accumulator value or eps
    /// is negative (the values PyTorch also rejects).
    pub fn new(config: AdagradConfig<T>) -> Self {
        Self::validate(&config);
        let mut adagrad = Self::zeroed();
        adagrad.start(config);
        adagrad
    }

    /// Like [`Adagrad::new`], built directly on the heap (for networks too large for the stack).
    ///
    /// # Panics
    /// As [`Adagrad::new`].
    #[cfg(feature = "alloc")]
    pub fn new_boxed(config: AdagradConfig<T>) -> alloc::boxed::Box<Self> {
        Self::validate(&config);
        let mut adagrad = crate::zeroed_box::<Self>();
        adagrad.start(config);
        adagrad
    }

    fn start(&mut self, config: AdagradConfig<T>) {
        self.config = config;
        for t in self.sum.tensors_mut() {
            t.fill(config.initial_accumulator_value);
        }
    }

    fn validate(config: &AdagradConfig<T>) {
        let checks = [
            ("learning rate", config.lr),
            ("learning-rate decay", config.lr_decay),
            ("weight decay", config.weight_decay),
            ("initial accumulator value", config.initial_accumulator_value),
            ("eps", config.eps),
        ];
        for (name, value) in checks {
            assert!(value >= T::zero(), "Adagrad {name} must be >= 0, got {value}");
        }
    }
}

impl<T: Real, N: Parameters<T>> Optimizer<T, N> for Adagrad<T, N> {
    fn step(&mut self, net: &mut N, grad: &N::Gradient) {
        self.steps += 1;
        let c = self.config;
        let decayed_lr = c.lr / (T::one() + T::of((self.steps - 1) as f64) * c.lr_decay);
        let l2 = c.weight_decay != T::zero();
        let tensors = net.tensors_mut().zip(grad.tensors()).zip(self.sum.tensors_mut());
        for ((p, g), sum) in tensors {
            crate::simd::widest(
                #[inline(always)]
                || {
                    if l2 {
                        adagrad_slice::<T, true>(p, g, sum, decayed_lr, c.weight_decay, c.eps);
                    } else {
                        adagrad_slice::<T, false>(p, g, sum, decayed_lr, c.weight_decay, c.eps);
                    }
                },
            );
        }
    }

    fn learning_rate(&self) -> T {
        self.config.lr
    }

    fn set_learning_rate(&mut self, learning_rate: T) {
        self.config.lr = learning_rate;
    }

    fn steps(&self) -> u64 {
        self.steps
    }

    fn set_steps(&mut self, steps: u64) {
        self.steps = steps;
    }
}

/// The element loop, compiled for the widest vectors the CPU has (see
/// [`crate::simd::widest`]): its square root and division are what bound it.
#[inline(always)]
fn adagrad_slice<T: Real, const L2: bool>(p: &mut [T], g: &[T], sum: &mut [T], lr: T, weight_decay: T, eps: T) {
    let n = p.len();
    // Equal lengths, made visible to the compiler so that the loop has no bounds checks.
    let (g, sum) = (&g[..n], &mut sum[..n]);
    for i in 0..n {
        let grad = if L2 { g[i] + weight_decay * p[i] } else { g[i] };
        let total = sum[i] + grad * grad;
        sum[i] = total;
        p[i] -= lr * grad / (total.sqrt() + eps);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::optim::test_support::{self, Net, QUADRATIC_START, ROSENBROCK_START, minimise, quadratic, rosenbrock};
    use nalgebra::Vector2;

    /// Adagrad written out from PyTorch's documented algorithm, over flat vectors.
    fn reference(config: AdagradConfig<f64>) -> impl FnMut(u64, &mut [f64], &[f64]) {
        let n = test_support::len();
        let mut sum = vec![config.initial_accumulator_value; n];
        move |t, p, g| {
            let clr = config.lr / (1.0 + (t - 1) as f64 * config.lr_decay);
            for i in 0..n {
                let g = g[i] + config.weight_decay * p[i];
                sum[i] += g * g;
                p[i] -= clr * g / (sum[i].sqrt() + config.eps);
            }
        }
    }

    fn variants() -> [AdagradConfig<f64>; 4] {
        [
            AdagradConfig::default(),
            AdagradConfig {
                weight_decay: 0.1,
                ..AdagradConfig::default()
            },
            AdagradConfig {
                lr_decay: 0.3,
                initial_accumulator_value: 0.05,
                ..AdagradConfig::with_lr(0.05)
            },
            AdagradConfig {
                lr_decay: 0.1,
                weight_decay: 0.2,
                initial_accumulator_value: 0.1,
                eps: 1e-3,
                lr: 0.1,
            },
        ]
    }

    #[test]
    fn trajectories_match_pytorch_formulas() {
        for config in variants() {
            test_support::check_trajectory(Adagrad::<f64, Net>::new(config), reference(config));
        }
    }

    #[test]
    fn state_is_complete() {
        for config in variants() {
            test_support::check_state_is_complete(|| Adagrad::<f64, Net>::new(config));
        }
    }

    #[test]
    fn accumulator_starts_at_its_initial_value() {
        let config = AdagradConfig {
            initial_accumulator_value: 0.25,
            ..AdagradConfig::default()
        };
        assert_eq!(Adagrad::<f64, Vector2<f64>>::new(config).sum, Vector2::new(0.25, 0.25));
        let boxed = Adagrad::<f64, Net>::new_boxed(config);
        assert!(boxed.tensors().flatten().all(|&v| v == 0.25));
    }

    /// lr 1 on the quadratic, 0.5 on Rosenbrock: Adagrad's steps shrink as `1/√t`, so it wants
    /// a large learning rate.
    #[test]
    fn converges_on_quadratic_and_rosenbrock() {
        let end = minimise(
            Adagrad::new(AdagradConfig::with_lr(1.0)),
            quadratic,
            QUADRATIC_START,
            2000,
        );
        assert!(end.norm() < 1e-6, "quadratic ended at {end}");
        let end = minimise(
            Adagrad::new(AdagradConfig::with_lr(0.5)),
            rosenbrock,
            ROSENBROCK_START,
            10_000,
        );
        let error = (end - Vector2::new(1.0, 1.0)).norm();
        assert!(error < 1e-3, "Rosenbrock ended at {end}");
    }

    #[test]
    #[should_panic(expected = "Adagrad learning-rate decay must be >= 0, got -1")]
    fn negative_lr_decay_is_rejected() {
        let _ = Adagrad::<f64, Net>::new(AdagradConfig {
            lr_decay: -1.0,
            ..AdagradConfig::default()
        });
    }
}
