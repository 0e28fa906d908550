use bytemuck::Zeroable;

use super::adam::three_copies;
use super::flush_subnormal;
use crate::{Optimizer, Parameters, Real, TensorInfo, Tensors};

/// Hyperparameters of [`RmsProp`]. Defaults are PyTorch's: `lr` 1e-2, `alpha` 0.99, `eps` 1e-8,
/// no weight decay, no momentum, not centered.
#[derive(Clone, Copy, Debug, PartialEq, Zeroable)]
pub struct RmsPropConfig<T> {
    /// Learning rate (default 1e-2).
    pub lr: T,
    /// Smoothing constant α of the running averages (default 0.99).
    pub alpha: T,
    /// Added to the denominator, outside the square root (default 1e-8).
    pub eps: T,
    /// L2 penalty added to the gradient, `g + wd·p` (default 0).
    pub weight_decay: T,
    /// Momentum factor μ of the update buffer (default 0: none).
    pub momentum: T,
    /// Normalise by an estimate of the gradient's variance rather than its second moment
    /// (default false).
    pub centered: bool,
}

impl<T: Real> Default for RmsPropConfig<T> {
    fn default() -> Self {
        Self {
            lr: T::of(1e-2),
            alpha: T::of(0.99),
            eps: T::of(1e-8),
            weight_decay: T::zero(),
            momentum: T::zero(),
            centered: false,
        }
    }
}

impl<T: Real> RmsPropConfig<T> {
    /// PyTorch's defaults with the given learning rate.
    pub fn with_lr(lr: T) -> Self {
        Self { lr, ..Self::default() }
    }
}

/// RMSprop (Hinton), as `torch.optim.RMSprop`: the gradient divided by the root of a running
/// average of its square.
///
/// Each step, for every parameter `p` with gradient `g`:
/// ```text
/// g ← g + weight_decay · p
/// s ← α s + (1 − α) g²                           (square_avg)
/// if centered:  a ← α a + (1 − α) g              (grad_avg)
///               d ← √(s − a²) + eps
/// else:         d ← √s + eps
/// if momentum:  b ← μ b + g / d;  p ← p − lr · b  (momentum_buffer)
/// else:         p ← p − lr · g / d
/// ```
/// Unlike [`Adam`](crate::Adam) there is no bias correction: the averages start at zero, so the
/// first steps are large (`lr / √(1 − α)`, ten times `lr` for the default α).
///
/// Where rounding makes `s − a²` a tiny negative number, the root is taken of 0 instead (PyTorch
/// would produce NaN there); elsewhere the arithmetic is PyTorch's.
///
/// The state is `square_avg`, `momentum_buffer` and `grad_avg` (PyTorch's names), each shaped
/// like the network's gradient, and the step counter. The buffers a configuration does not use
/// stay zero.
///
/// ```
/// use static_nn::{Optimizer, RmsProp, RmsPropConfig};
/// use static_nn::nalgebra::Vector2;
///
/// let mut p = Vector2::new(1.0_f64, 1.0);
/// let mut rms_prop = RmsProp::new(RmsPropConfig::with_lr(0.01));
/// // s = 0.01 g², so the first step is lr · g / (0.1 |g|) = 0.1 whatever the gradient's size.
/// rms_prop.step(&mut p, &Vector2::new(1000.0, 0.01));
/// assert!((p - Vector2::new(0.9, 0.9)).norm() < 1e-5);
/// ```
#[derive(Zeroable)]
#[zeroable(bound = "")]
pub struct RmsProp<T: Real, N: Parameters<T>> {
    /// Hyperparameters; may be changed between steps.
    pub config: RmsPropConfig<T>,
    /// Running average of the squared gradient `s`.
    pub square_avg: N::Gradient,
    /// Momentum buffer `b` (with momentum only; zero otherwise).
    pub momentum_buffer: N::Gradient,
    /// Running average of the gradient `a` (centered only; zero otherwise).
    pub grad_avg: N::Gradient,
    /// Steps taken so far.
    pub steps: u64,
}

impl<T: Real, N: Parameters<T>> Clone for RmsProp<T, N> {
    fn clone(&self) -> Self {
        Self {
            config: self.config,
            square_avg: self.square_avg.clone(),
            momentum_buffer: self.momentum_buffer.clone(),
            grad_avg: self.grad_avg.clone(),
            steps: self.steps,
        }
    }
}

/// The optimizer's state, for saving and restoring: the tensors of `square_avg`, then of
/// `momentum_buffer`, then of `grad_avg`, each in the network's order (layer positions shifted
/// as for a tuple of the three). [`RmsProp::steps`] completes the state.
impl<T: Real, N: Parameters<T>> Tensors<T> for RmsProp<T, N> {
    const LAYERS: usize = 3 * N::Gradient::LAYERS;

    fn tensors(&self) -> impl Iterator<Item = &[T]> {
        self.square_avg
            .tensors()
            .chain(self.momentum_buffer.tensors())
            .chain(self.grad_avg.tensors())
    }
    fn tensors_mut(&mut self) -> impl Iterator<Item = &mut [T]> {
        self.square_avg
            .tensors_mut()
            .chain(self.momentum_buffer.tensors_mut())
            .chain(self.grad_avg.tensors_mut())
    }
    fn tensor_infos() -> impl Iterator<Item = TensorInfo> {
        three_copies::<T, N::Gradient>()
    }
}

impl<T: Real, N: Parameters<T>> RmsProp<T, N> {
    /// A fresh optimizer (no steps taken, zero averages and buffer).
    ///
    /// # Panics
    /// If the learning rate, alpha, eps, momentum or weight decay is negative (the values
    /// PyTorch also rejects).
    pub fn new(config: RmsPropConfig<T>) -> Self {
        Self::validate(&config);
        let mut rms_prop = Self::zeroed();
        rms_prop.config = config;
        rms_prop
    }

    /// Like [`RmsProp::new`], built directly on the heap (for networks too large for the stack).
    ///
    /// # Panics
    /// As [`RmsProp::new`].
    #[cfg(feature = "alloc")]
    pub fn new_boxed(config: RmsPropConfig<T>) -> alloc::boxed::Box<Self> {
        Self::validate(&config);
        let mut rms_prop = crate::zeroed_box::<Self>();
        rms_prop.config = config;
        rms_prop
    }

    fn validate(config: &RmsPropConfig<T>) {
        let checks = [
            ("learning rate", config.lr),
            ("alpha", config.alpha),
            ("eps", config.eps),
            ("momentum", config.momentum),
            ("weight decay", config.weight_decay),
        ];
        for (name, value) in checks {
            assert!(value >= T::zero(), "RMSprop {name} must be >= 0, got {value}");
        }
    }
}

/// The per-step constants.
struct Constants<T> {
    lr: T,
    alpha: T,
    one_minus_alpha: T,
    eps: T,
    weight_decay: T,
    momentum: T,
}

impl<T: Real, N: Parameters<T>> Optimizer<T, N> for RmsProp<T, N> {
    fn step(&mut self, net: &mut N, grad: &N::Gradient) {
        self.steps += 1;
        let c = self.config;
        let constants = Constants {
            lr: c.lr,
            alpha: c.alpha,
            one_minus_alpha: T::one() - c.alpha,
            eps: c.eps,
            weight_decay: c.weight_decay,
            momentum: c.momentum,
        };
        let l2 = c.weight_decay != T::zero();
        let momentum = c.momentum > T::zero();
        let tensors = net
            .tensors_mut()
            .zip(grad.tensors())
            .zip(self.square_avg.tensors_mut())
            .zip(self.momentum_buffer.tensors_mut())
            .zip(self.grad_avg.tensors_mut());
        for ((((p, g), s), b), a) in tensors {
            let k = &constants;
            crate::simd::widest(
                #[inline(always)]
                || match (c.centered, momentum, l2) {
                    (false, false, false) => rms_prop_slice::<T, false, false, false>(p, g, s, b, a, k),
                    (false, false, true) => rms_prop_slice::<T, false, false, true>(p, g, s, b, a, k),
                    (false, true, false) => rms_prop_slice::<T, false, true, false>(p, g, s, b, a, k),
                    (false, true, true) => rms_prop_slice::<T, false, true, true>(p, g, s, b, a, k),
                    (true, false, false) => rms_prop_slice::<T, true, false, false>(p, g, s, b, a, k),
                    (true, false, true) => rms_prop_slice::<T, true, false, true>(p, g, s, b, a, k),
                    (true, true, false) => rms_prop_slice::<T, true, true, false>(p, g, s, b, a, k),
                    (true, true, true) => rms_prop_slice::<T, true, true, true>(p, g, s, b, a, k),
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

/// The element loop, in PyTorch's order of operations (`lerp` for the gradient average).
/// Inlined into [`crate::simd::widest`]'s closure, so it is compiled for the widest vectors
/// the CPU has (its square root and division are what bound it).
#[inline(always)]
fn rms_prop_slice<T: Real, const CENTERED: bool, const MOMENTUM: bool, const L2: bool>(
    p: &mut [T],
    g: &[T],
    s: &mut [T],
    b: &mut [T],
    a: &mut [T],
    c: &Constants<T>,
) {
    let n = p.len();
    // Equal lengths, made visible to the compiler so that the loop has no bounds checks.
    let (g, s, b, a) = (&g[..n], &mut s[..n], &mut b[..n], &mut a[..n]);
    for i in 0..n {
        let grad = if L2 { g[i] + c.weight_decay * p[i] } else { g[i] };
        let square = flush_subnormal(c.alpha * s[i] + c.one_minus_alpha * grad * grad);
        s[i] = square;
        let root = if CENTERED {
            let average = flush_subnormal(a[i] + c.one_minus_alpha * (grad - a[i]));
            a[i] = average;
            (square - average * average).max(T::zero()).sqrt()
        } else {
            square.sqrt()
        };
        let denominator = root + c.eps;
        if MOMENTUM {
            let buffer = flush_subnormal(c.momentum * b[i] + grad / denominator);
            b[i] = buffer;
            p[i] -= c.lr * buffer;
        } else {
            p[i] -= c.lr * grad / denominator;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::optim::test_support::{self, Net, QUADRATIC_START, ROSENBROCK_START, minimise, quadratic, rosenbrock};
    use nalgebra::Vector2;

    /// RMSprop written out from PyTorch's documented algorithm, over flat vectors.
    fn reference(config: RmsPropConfig<f64>) -> impl FnMut(u64, &mut [f64], &[f64]) {
        let n = test_support::len();
        let (mut s, mut a, mut b) = (vec![0.0f64; n], vec![0.0f64; n], vec![0.0f64; n]);
        move |_, p, g| {
            let alpha = config.alpha;
            for i in 0..n {
                let g = g[i] + config.weight_decay * p[i];
                s[i] = alpha * s[i] + (1.0 - alpha) * g * g;
                let d = if config.centered {
                    a[i] = alpha * a[i] + (1.0 - alpha) * g;
                    (s[i] - a[i] * a[i]).sqrt() + config.eps
                } else {
                    s[i].sqrt() + config.eps
                };
                if config.momentum > 0.0 {
                    b[i] = config.momentum * b[i] + g / d;
                    p[i] -= config.lr * b[i];
                } else {
                    p[i] -= config.lr * g / d;
                }
            }
        }
    }

    fn variants() -> Vec<RmsPropConfig<f64>> {
        let mut configs = Vec::new();
        for centered in [false, true] {
            for momentum in [0.0, 0.9] {
                for weight_decay in [0.0, 0.1] {
                    configs.push(RmsPropConfig {
                        centered,
                        momentum,
                        weight_decay,
                        ..RmsPropConfig::with_lr(1e-3)
                    });
                }
            }
        }
        configs.push(RmsPropConfig {
            alpha: 0.9,
            eps: 1e-3,
            momentum: 0.5,
            centered: true,
            ..RmsPropConfig::default()
        });
        configs
    }

    #[test]
    fn trajectories_match_pytorch_formulas() {
        for config in variants() {
            test_support::check_trajectory(RmsProp::<f64, Net>::new(config), reference(config));
        }
    }

    #[test]
    fn state_is_complete() {
        for config in variants() {
            test_support::check_state_is_complete(|| RmsProp::<f64, Net>::new(config));
        }
    }

    /// lr 1e-3 on both functions, every variant. Near a minimum RMSprop's steps do not shrink
    /// with the gradient (both sides of `g / √s` shrink together), so it ends up oscillating
    /// with an amplitude of about `lr`: the tolerance is 2 `lr`.
    #[test]
    fn converges_on_quadratic_and_rosenbrock() {
        for centered in [false, true] {
            for momentum in [0.0, 0.9] {
                let config = RmsPropConfig {
                    centered,
                    momentum,
                    ..RmsPropConfig::with_lr(1e-3)
                };
                let end = minimise(RmsProp::new(config), quadratic, QUADRATIC_START, 10_000);
                assert!(end.norm() < 2e-3, "{config:?}: quadratic ended at {end}");
                let end = minimise(RmsProp::new(config), rosenbrock, ROSENBROCK_START, 10_000);
                let error = (end - Vector2::new(1.0, 1.0)).norm();
                assert!(error < 2e-3, "{config:?}: Rosenbrock ended at {end}");
            }
        }
    }

    #[test]
    fn unused_buffers_stay_zero() {
        let mut p = Vector2::new(1.0_f64, -1.0);
        let mut plain = RmsProp::new(RmsPropConfig::default());
        plain.step(&mut p, &Vector2::new(0.5, 0.25));
        assert_eq!(plain.momentum_buffer, Vector2::zeros());
        assert_eq!(plain.grad_avg, Vector2::zeros());
        let expected = Vector2::new(0.25, 0.0625) * (1.0 - 0.99);
        assert!((plain.square_avg - expected).norm() < 1e-18);
    }

    #[test]
    fn centered_denominator_never_goes_negative() {
        // A constant gradient: s − a² is (1 − αᵗ) αᵗ g², which rounding pushes below zero once
        // αᵗ is tiny.
        let mut p = nalgebra::Vector1::new(0.0_f64);
        let mut rms_prop = RmsProp::new(RmsPropConfig {
            centered: true,
            alpha: 0.9,
            ..RmsPropConfig::with_lr(1e-9)
        });
        let mut negative = 0;
        for _ in 0..1000 {
            rms_prop.step(&mut p, &nalgebra::Vector1::new(0.1));
            assert!(p[0].is_finite());
            let (s, a) = (rms_prop.square_avg[0], rms_prop.grad_avg[0]);
            negative += usize::from(s - a * a < 0.0);
        }
        assert!(negative > 0, "the case the clamp is for never arose");
    }

    #[test]
    #[should_panic(expected = "RMSprop alpha must be >= 0, got -0.5")]
    fn negative_alpha_is_rejected() {
        let _ = RmsProp::<f64, Net>::new(RmsPropConfig {
            alpha: -0.5,
            ..RmsPropConfig::default()
        });
    }
}
