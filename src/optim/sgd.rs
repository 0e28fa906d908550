use bytemuck::Zeroable;

use crate::format::Counters;
use crate::{Optimizer, Parameters, Real, TensorInfo, Tensors};

/// Hyperparameters of [`Sgd`]. Defaults are PyTorch's: `lr` 1e-3, no momentum, no dampening,
/// no weight decay, no Nesterov.
#[derive(Clone, Copy, Debug, PartialEq, Zeroable)]
pub struct SgdConfig<T> {
    /// Learning rate (default 1e-3).
    pub lr: T,
    /// Momentum factor μ (default 0: plain gradient descent).
    pub momentum: T,
    /// Dampening of the gradient in the momentum buffer (default 0).
    pub dampening: T,
    /// L2 penalty added to the gradient, `g + wd·p` (default 0).
    pub weight_decay: T,
    /// Nesterov momentum (default false; needs momentum > 0 and dampening 0).
    pub nesterov: bool,
}

impl<T: Real> Default for SgdConfig<T> {
    fn default() -> Self {
        Self {
            lr: T::of(1e-3),
            momentum: T::zero(),
            dampening: T::zero(),
            weight_decay: T::zero(),
            nesterov: false,
        }
    }
}

impl<T: Real> SgdConfig<T> {
    /// Plain SGD with the given learning rate.
    pub fn with_lr(lr: T) -> Self {
        Self { lr, ..Self::default() }
    }
}

/// Stochastic gradient descent with optional momentum, as `torch.optim.SGD`.
///
/// Each step, for every parameter `p` with gradient `g` (step `t` counts from 1):
/// ```text
/// g ← g + weight_decay · p
/// if momentum ≠ 0:
///     b ← g                                  (t = 1)
///     b ← momentum · b + (1 − dampening) · g (t > 1)
///     g ← g + momentum · b   if nesterov, else   g ← b
/// p ← p − lr · g
/// ```
/// Moving against the gradient is moving along the direction of steepest descent; momentum
/// accumulates past directions so that consistent ones build up speed and oscillating ones
/// cancel.
///
/// ```
/// use static_nn::{Dense, Optimizer, Parameters, Sgd, SgdConfig};
/// use nalgebra::{Matrix1, Vector1};
///
/// let mut net = Dense::<f64, 1, 1>::new(Matrix1::new(1.0), Vector1::new(0.0));
/// let grad = Dense::new(Matrix1::new(0.5), Vector1::new(-1.0));
/// let mut sgd = Sgd::new(SgdConfig::with_lr(0.1));
/// sgd.step(&mut net, &grad);
/// assert_eq!(net.weight[0], 0.95);
/// assert_eq!(net.bias[0], 0.1);
/// ```
#[derive(Zeroable)]
#[zeroable(bound = "")]
pub struct Sgd<T: Real, N: Parameters<T>> {
    /// Hyperparameters; may be changed between steps.
    pub config: SgdConfig<T>,
    /// The momentum buffer `b`, shaped like the network's gradient (unused without momentum).
    pub momentum_buffer: N::Gradient,
    /// Steps taken so far.
    pub steps: u64,
}

impl<T: Real, N: Parameters<T>> Clone for Sgd<T, N> {
    fn clone(&self) -> Self {
        Self {
            config: self.config,
            momentum_buffer: self.momentum_buffer.clone(),
            steps: self.steps,
        }
    }
}

/// The optimizer's state, for saving and restoring: the momentum buffer's tensors, in the
/// network's order. Hyperparameters and [`Sgd::steps`] are plain fields.
impl<T: Real, N: Parameters<T>> Tensors<T> for Sgd<T, N> {
    const LAYERS: usize = N::Gradient::LAYERS;

    fn tensors(&self) -> impl Iterator<Item = &[T]> {
        self.momentum_buffer.tensors()
    }
    fn tensors_mut(&mut self) -> impl Iterator<Item = &mut [T]> {
        self.momentum_buffer.tensors_mut()
    }
    fn tensor_infos() -> impl Iterator<Item = TensorInfo> {
        N::Gradient::tensor_infos()
    }
}

/// The step counter, for checkpoints.
impl<T: Real, N: Parameters<T>> Counters for Sgd<T, N> {
    fn counter_names() -> impl Iterator<Item = &'static str> {
        ["steps"].into_iter()
    }
    fn counters(&self) -> impl Iterator<Item = u64> {
        [self.steps].into_iter()
    }
    fn set_counter(&mut self, index: usize, value: u64) {
        assert_eq!(index, 0, "Sgd has one counter");
        self.steps = value;
    }
}

impl<T: Real, N: Parameters<T>> Sgd<T, N> {
    /// A fresh optimizer (no steps taken, zero buffer).
    ///
    /// # Panics
    /// If the learning rate, momentum or weight decay is negative, or Nesterov is asked for
    /// without momentum or with dampening (the combinations PyTorch also rejects).
    pub fn new(config: SgdConfig<T>) -> Self {
        Self::validate(&config);
        let mut sgd = Self::zeroed();
        sgd.config = config;
        sgd
    }

    /// Like [`Sgd::new`], built directly on the heap (for networks too large for the stack).
    ///
    /// # Panics
    /// As [`Sgd::new`].
    #[cfg(feature = "alloc")]
    pub fn new_boxed(config: SgdConfig<T>) -> alloc::boxed::Box<Self> {
        Self::validate(&config);
        let mut sgd = crate::zeroed_box::<Self>();
        sgd.config = config;
        sgd
    }

    fn validate(config: &SgdConfig<T>) {
        assert!(
            config.lr >= T::zero(),
            "SGD learning rate must be >= 0, got {}",
            config.lr
        );
        assert!(
            config.momentum >= T::zero(),
            "SGD momentum must be >= 0, got {}",
            config.momentum
        );
        assert!(
            config.weight_decay >= T::zero(),
            "SGD weight decay must be >= 0, got {}",
            config.weight_decay
        );
        assert!(
            !config.nesterov || (config.momentum > T::zero() && config.dampening == T::zero()),
            "Nesterov momentum requires a momentum > 0 and zero dampening"
        );
    }
}

impl<T: Real, N: Parameters<T>> Optimizer<T, N> for Sgd<T, N> {
    fn step(&mut self, net: &mut N, grad: &N::Gradient) {
        self.steps += 1;
        let SgdConfig {
            lr,
            momentum,
            dampening,
            weight_decay,
            nesterov,
        } = self.config;
        let first = self.steps == 1;
        let keep = T::one() - dampening;
        let tensors = net
            .tensors_mut()
            .zip(grad.tensors())
            .zip(self.momentum_buffer.tensors_mut());
        for ((p, g), b) in tensors {
            debug_assert!(p.len() == g.len() && p.len() == b.len());
            if momentum == T::zero() {
                for (p, &g) in p.iter_mut().zip(g) {
                    *p -= lr * (g + weight_decay * *p);
                }
                continue;
            }
            for ((p, &g), b) in p.iter_mut().zip(g).zip(b.iter_mut()) {
                let d = g + weight_decay * *p;
                *b = if first { d } else { momentum * *b + keep * d };
                let direction = if nesterov { d + momentum * *b } else { *b };
                *p -= lr * direction;
            }
        }
    }

    fn learning_rate(&self) -> T {
        self.config.lr
    }

    fn set_learning_rate(&mut self, learning_rate: T) {
        self.config.lr = learning_rate;
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Dense;
    use nalgebra::{Matrix1x2, Vector1};

    type Net = Dense<f64, 2, 1>;

    fn net() -> Net {
        Dense::new(Matrix1x2::new(1.0, -2.0), Vector1::new(0.5))
    }

    /// The gradient of 0.5·‖θ‖² is θ itself: a fixed, state-dependent gradient for trajectories.
    fn grad_of(net: &Net) -> Net {
        net.clone()
    }

    /// Reference trajectory of the first weight entry, written out from PyTorch's formula.
    fn reference(config: SgdConfig<f64>, steps: usize) -> f64 {
        let (mut p, mut b) = (1.0f64, 0.0f64);
        for t in 1..=steps {
            let d = p + config.weight_decay * p;
            let mut g = d;
            if config.momentum != 0.0 {
                b = if t == 1 {
                    d
                } else {
                    config.momentum * b + (1.0 - config.dampening) * d
                };
                g = if config.nesterov { d + config.momentum * b } else { b };
            }
            p -= config.lr * g;
        }
        p
    }

    fn run(config: SgdConfig<f64>, steps: usize) -> Net {
        let mut net = net();
        let mut sgd = Sgd::new(config);
        for _ in 0..steps {
            let g = grad_of(&net);
            sgd.step(&mut net, &g);
        }
        net
    }

    #[test]
    fn trajectories_match_pytorch_formulas() {
        let configs = [
            SgdConfig::with_lr(0.1),
            SgdConfig {
                weight_decay: 0.01,
                ..SgdConfig::with_lr(0.1)
            },
            SgdConfig {
                momentum: 0.9,
                ..SgdConfig::with_lr(0.1)
            },
            SgdConfig {
                momentum: 0.9,
                dampening: 0.5,
                ..SgdConfig::with_lr(0.1)
            },
            SgdConfig {
                momentum: 0.9,
                nesterov: true,
                weight_decay: 0.1,
                ..SgdConfig::with_lr(0.05)
            },
        ];
        for config in configs {
            let got = run(config, 5).weight[0];
            let want = reference(config, 5);
            assert!((got - want).abs() <= 1e-12 * want.abs(), "{config:?}: {got} vs {want}");
        }
    }

    #[test]
    fn momentum_hand_computed() {
        // lr 0.1, mu 0.9, gradient = p: p1 = 1 - 0.1 = 0.9 (b = 1);
        // b2 = 0.9 * 1 + 0.9 = 1.8, p2 = 0.9 - 0.18 = 0.72.
        let net = run(
            SgdConfig {
                momentum: 0.9,
                ..SgdConfig::with_lr(0.1)
            },
            2,
        );
        assert!((net.weight[0] - 0.72).abs() < 1e-15);
    }

    #[test]
    #[should_panic(expected = "Nesterov momentum requires")]
    fn nesterov_without_momentum_is_rejected() {
        let _ = Sgd::<f64, Net>::new(SgdConfig {
            nesterov: true,
            ..SgdConfig::default()
        });
    }

    #[test]
    fn learning_rate_is_settable_between_steps() {
        let mut sgd = Sgd::<f64, Net>::new(SgdConfig::default());
        assert_eq!(sgd.learning_rate(), 1e-3);
        sgd.set_learning_rate(0.5);
        let mut net = net();
        let grad = grad_of(&net);
        sgd.step(&mut net, &grad);
        assert_eq!(net.weight[0], 0.5);
    }
}
