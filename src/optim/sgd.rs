use bytemuck::Zeroable;

use super::flush_subnormal;
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
/// use static_nn::nalgebra::{Matrix1, Vector1};
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
        let c = self.config;
        // The first step sets b = g: the same formula with μ 0 and dampening 0 (b starts at 0).
        let first = self.steps == 1;
        let constants = Constants {
            lr: c.lr,
            weight_decay: c.weight_decay,
            momentum: c.momentum,
            buffer_momentum: if first { T::zero() } else { c.momentum },
            keep: if first { T::one() } else { T::one() - c.dampening },
        };
        let l2 = c.weight_decay != T::zero();
        let kernel = match (c.momentum != T::zero(), c.nesterov, l2) {
            (false, _, false) => sgd_slice::<T, false, false, false>,
            (false, _, true) => sgd_slice::<T, false, false, true>,
            (true, false, false) => sgd_slice::<T, true, false, false>,
            (true, false, true) => sgd_slice::<T, true, false, true>,
            (true, true, false) => sgd_slice::<T, true, true, false>,
            (true, true, true) => sgd_slice::<T, true, true, true>,
        };
        let tensors = net
            .tensors_mut()
            .zip(grad.tensors())
            .zip(self.momentum_buffer.tensors_mut());
        for ((p, g), b) in tensors {
            kernel(p, g, b, &constants);
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

/// The per-step constants.
struct Constants<T> {
    lr: T,
    weight_decay: T,
    momentum: T,
    /// μ, or 0 on the first step.
    buffer_momentum: T,
    /// `1 − dampening`, or 1 on the first step.
    keep: T,
}

/// The element loop; the variant is chosen once per tensor, so the loop is straight-line code.
#[inline]
fn sgd_slice<T: Real, const MOMENTUM: bool, const NESTEROV: bool, const L2: bool>(
    p: &mut [T],
    g: &[T],
    b: &mut [T],
    c: &Constants<T>,
) {
    let n = p.len();
    // Equal lengths, made visible to the compiler so that the loop has no bounds checks.
    let (g, b) = (&g[..n], &mut b[..n]);
    for i in 0..n {
        let d = if L2 { g[i] + c.weight_decay * p[i] } else { g[i] };
        let direction = if MOMENTUM {
            let buffer = flush_subnormal(c.buffer_momentum * b[i] + c.keep * d);
            b[i] = buffer;
            if NESTEROV { d + c.momentum * buffer } else { buffer }
        } else {
            d
        };
        p[i] -= c.lr * direction;
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Dense;
    use crate::optim::test_support::{self, QUADRATIC_START, ROSENBROCK_START, minimise, quadratic, rosenbrock};
    use nalgebra::{Matrix1x2, Vector1, Vector2};

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

    fn network_variants() -> [SgdConfig<f64>; 6] {
        [
            SgdConfig::with_lr(0.1),
            SgdConfig {
                weight_decay: 0.1,
                ..SgdConfig::with_lr(0.1)
            },
            SgdConfig {
                momentum: 0.9,
                ..SgdConfig::with_lr(0.1)
            },
            SgdConfig {
                momentum: 0.8,
                dampening: 0.3,
                weight_decay: 0.05,
                ..SgdConfig::with_lr(0.1)
            },
            SgdConfig {
                momentum: 0.9,
                nesterov: true,
                ..SgdConfig::with_lr(0.05)
            },
            SgdConfig {
                momentum: 0.7,
                nesterov: true,
                weight_decay: 0.2,
                ..SgdConfig::with_lr(0.2)
            },
        ]
    }

    /// SGD written out from PyTorch's documented algorithm, over flat vectors.
    fn flat_reference(config: SgdConfig<f64>) -> impl FnMut(u64, &mut [f64], &[f64]) {
        let n = test_support::len();
        let mut b = vec![0.0f64; n];
        move |t, p, g| {
            for i in 0..n {
                let d = g[i] + config.weight_decay * p[i];
                let mut step = d;
                if config.momentum != 0.0 {
                    b[i] = if t == 1 {
                        d
                    } else {
                        config.momentum * b[i] + (1.0 - config.dampening) * d
                    };
                    step = if config.nesterov {
                        d + config.momentum * b[i]
                    } else {
                        b[i]
                    };
                }
                p[i] -= config.lr * step;
            }
        }
    }

    #[test]
    fn network_trajectories_match_pytorch_formulas() {
        for config in network_variants() {
            test_support::check_trajectory(Sgd::<f64, test_support::Net>::new(config), flat_reference(config));
        }
    }

    #[test]
    fn state_is_complete() {
        for config in network_variants() {
            test_support::check_state_is_complete(|| Sgd::<f64, test_support::Net>::new(config));
        }
    }

    /// lr 0.03 on the quadratic (stable up to 2/25 = 0.08). On Rosenbrock, lr 2e-3 for plain
    /// SGD, which crawls along the valley floor, and lr 1e-3 with momentum 0.9 (classical and
    /// Nesterov), which gets there two orders of magnitude closer in the same 10 000 steps.
    #[test]
    fn converges_on_quadratic_and_rosenbrock() {
        let momenta = [(0.0, false), (0.9, false), (0.9, true)];
        for (momentum, nesterov) in momenta {
            let config = SgdConfig {
                momentum,
                nesterov,
                ..SgdConfig::with_lr(0.03)
            };
            let end = minimise(Sgd::new(config), quadratic, QUADRATIC_START, 2000);
            assert!(end.norm() < 1e-12, "{config:?}: quadratic ended at {end}");
            let config = SgdConfig {
                lr: if momentum == 0.0 { 2e-3 } else { 1e-3 },
                ..config
            };
            let tolerance = if momentum == 0.0 { 1e-3 } else { 1e-10 };
            let end = minimise(Sgd::new(config), rosenbrock, ROSENBROCK_START, 10_000);
            let error = (end - Vector2::new(1.0, 1.0)).norm();
            assert!(error < tolerance, "{config:?}: Rosenbrock ended at {end}");
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
