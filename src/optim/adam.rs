use bytemuck::Zeroable;

use super::flush_subnormal;
use crate::{Optimizer, Parameters, Real, TensorInfo, Tensors};

/// Hyperparameters of [`Adam`]. Defaults are PyTorch's: `lr` 1e-3, `betas` (0.9, 0.999), `eps`
/// 1e-8, no weight decay, no AMSGrad.
#[derive(Clone, Copy, Debug, PartialEq, Zeroable)]
pub struct AdamConfig<T> {
    /// Learning rate (default 1e-3).
    pub lr: T,
    /// Decay rate β₁ of the first-moment average, PyTorch's `betas[0]` (default 0.9).
    pub beta1: T,
    /// Decay rate β₂ of the second-moment average, PyTorch's `betas[1]` (default 0.999).
    pub beta2: T,
    /// Added to the denominator, outside the square root (default 1e-8).
    pub eps: T,
    /// L2 penalty added to the gradient, `g + wd·p` (default 0). For decoupled weight decay use
    /// [`AdamW`](crate::AdamW).
    pub weight_decay: T,
    /// Use the running maximum of the second moment (AMSGrad, default false).
    pub amsgrad: bool,
}

impl<T: Real> Default for AdamConfig<T> {
    fn default() -> Self {
        Self {
            lr: T::of(1e-3),
            beta1: T::of(0.9),
            beta2: T::of(0.999),
            eps: T::of(1e-8),
            weight_decay: T::zero(),
            amsgrad: false,
        }
    }
}

impl<T: Real> AdamConfig<T> {
    /// PyTorch's defaults with the given learning rate.
    pub fn with_lr(lr: T) -> Self {
        Self { lr, ..Self::default() }
    }
}

/// Adam, as `torch.optim.Adam`: steps scaled per parameter by running estimates of the
/// gradient's first and second moments.
///
/// Each step, for every parameter `p` with gradient `g` (step `t` counts from 1):
/// ```text
/// g ← g + weight_decay · p
/// m ← β₁ m + (1 − β₁) g                     first moment (exp_avg)
/// v ← β₂ v + (1 − β₂) g²                    second moment (exp_avg_sq)
/// v̂ ← max(v̂, v) if amsgrad, else v          (max_exp_avg_sq)
/// p ← p − lr · (m / (1 − β₁ᵗ)) / (√(v̂ / (1 − β₂ᵗ)) + eps)
/// ```
/// Dividing by the root mean square of recent gradients gives every parameter a step of
/// roughly `lr`, whatever the scale of its gradient: flat directions speed up, steep ones slow
/// down. The `1 − βᵗ` factors undo the bias of averages that start at zero.
///
/// The state is `exp_avg`, `exp_avg_sq` and `max_exp_avg_sq` (PyTorch's names), each shaped like
/// the network's gradient, and the step counter. `max_exp_avg_sq` stays zero without AMSGrad.
///
/// ```
/// use static_nn::{Adam, AdamConfig, Dense, Optimizer};
/// use static_nn::nalgebra::{Matrix1, Vector1};
///
/// let mut net = Dense::<f64, 1, 1>::new(Matrix1::new(1.0), Vector1::new(0.0));
/// let grad = Dense::new(Matrix1::new(0.5), Vector1::new(-4.0));
/// let mut adam = Adam::new(AdamConfig::with_lr(0.1));
/// adam.step(&mut net, &grad);
/// // The first step moves every parameter by lr against the sign of its gradient (up to eps).
/// assert!((net.weight[0] - 0.9).abs() < 1e-7);
/// assert!((net.bias[0] - 0.1).abs() < 1e-7);
/// ```
#[derive(Zeroable)]
#[zeroable(bound = "")]
pub struct Adam<T: Real, N: Parameters<T>> {
    /// Hyperparameters; may be changed between steps.
    pub config: AdamConfig<T>,
    /// First-moment estimate `m`.
    pub exp_avg: N::Gradient,
    /// Second-moment estimate `v`.
    pub exp_avg_sq: N::Gradient,
    /// Running maximum of `v` (AMSGrad only; zero otherwise).
    pub max_exp_avg_sq: N::Gradient,
    /// Steps taken so far (`t`).
    pub steps: u64,
}

impl<T: Real, N: Parameters<T>> Clone for Adam<T, N> {
    fn clone(&self) -> Self {
        Self {
            config: self.config,
            exp_avg: self.exp_avg.clone(),
            exp_avg_sq: self.exp_avg_sq.clone(),
            max_exp_avg_sq: self.max_exp_avg_sq.clone(),
            steps: self.steps,
        }
    }
}

/// The optimizer's state, for saving and restoring: the tensors of `exp_avg`, then of
/// `exp_avg_sq`, then of `max_exp_avg_sq`, each in the network's order. As for a tuple of the
/// three, the layer positions of the second and third copies are shifted past the first.
/// [`Adam::steps`] completes the state.
impl<T: Real, N: Parameters<T>> Tensors<T> for Adam<T, N> {
    const LAYERS: usize = 3 * N::Gradient::LAYERS;

    fn tensors(&self) -> impl Iterator<Item = &[T]> {
        self.exp_avg
            .tensors()
            .chain(self.exp_avg_sq.tensors())
            .chain(self.max_exp_avg_sq.tensors())
    }
    fn tensors_mut(&mut self) -> impl Iterator<Item = &mut [T]> {
        self.exp_avg
            .tensors_mut()
            .chain(self.exp_avg_sq.tensors_mut())
            .chain(self.max_exp_avg_sq.tensors_mut())
    }
    fn tensor_infos() -> impl Iterator<Item = TensorInfo> {
        three_copies::<T, N::Gradient>()
    }
}

/// The infos of three consecutive copies of `G`, laid out as the tuple `(G, G, G)` would be.
pub(super) fn three_copies<T: Real, G: Tensors<T>>() -> impl Iterator<Item = TensorInfo> {
    (0..3).flat_map(|copy| G::tensor_infos().map(move |t| t.shifted(copy * G::LAYERS)))
}

impl<T: Real, N: Parameters<T>> Adam<T, N> {
    /// A fresh optimizer (no steps taken, zero moments).
    ///
    /// # Panics
    /// If the learning rate, eps or weight decay is negative, or a beta is outside `[0, 1)`
    /// (the values PyTorch also rejects).
    pub fn new(config: AdamConfig<T>) -> Self {
        validate(&config, "Adam");
        let mut adam = Self::zeroed();
        adam.config = config;
        adam
    }

    /// Like [`Adam::new`], built directly on the heap (for networks too large for the stack).
    ///
    /// # Panics
    /// As [`Adam::new`].
    #[cfg(feature = "alloc")]
    pub fn new_boxed(config: AdamConfig<T>) -> alloc::boxed::Box<Self> {
        validate(&config, "Adam");
        let mut adam = crate::zeroed_box::<Self>();
        adam.config = config;
        adam
    }
}

impl<T: Real, N: Parameters<T>> Optimizer<T, N> for Adam<T, N> {
    fn step(&mut self, net: &mut N, grad: &N::Gradient) {
        self.steps += 1;
        let c = self.config;
        let decay = if c.weight_decay == T::zero() {
            Decay::None
        } else {
            Decay::L2
        };
        let constants = Constants::new(c.lr, c.beta1, c.beta2, c.eps, c.weight_decay, self.steps);
        let moments = Moments {
            exp_avg: &mut self.exp_avg,
            exp_avg_sq: &mut self.exp_avg_sq,
            max_exp_avg_sq: &mut self.max_exp_avg_sq,
        };
        update(net, grad, moments, &constants, c.amsgrad, decay);
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

/// Panics on hyperparameters PyTorch also rejects; shared with [`AdamW`](crate::AdamW).
pub(super) fn validate<T: Real>(config: &AdamConfig<T>, name: &str) {
    assert!(
        config.lr >= T::zero(),
        "{name} learning rate must be >= 0, got {}",
        config.lr
    );
    assert!(config.eps >= T::zero(), "{name} eps must be >= 0, got {}", config.eps);
    for (i, beta) in [config.beta1, config.beta2].into_iter().enumerate() {
        assert!(
            beta >= T::zero() && beta < T::one(),
            "{name} beta{} must be in [0, 1), got {beta}",
            i + 1
        );
    }
    assert!(
        config.weight_decay >= T::zero(),
        "{name} weight decay must be >= 0, got {}",
        config.weight_decay
    );
}

/// How weight decay enters an Adam step.
#[derive(Clone, Copy)]
pub(super) enum Decay {
    /// None at all.
    None,
    /// Added to the gradient (Adam).
    L2,
    /// Applied to the parameter before the step (AdamW).
    Decoupled,
}

/// The per-step constants, computed once per step rather than once per parameter.
pub(super) struct Constants<T> {
    one_minus_beta1: T,
    beta2: T,
    one_minus_beta2: T,
    /// `lr / (1 − β₁ᵗ)`.
    step_size: T,
    /// `√(1 − β₂ᵗ)`.
    bias_correction2_sqrt: T,
    eps: T,
    weight_decay: T,
    /// `1 − lr · weight_decay`, the decoupled decay factor.
    keep: T,
}

impl<T: Real> Constants<T> {
    pub(super) fn new(lr: T, beta1: T, beta2: T, eps: T, weight_decay: T, steps: u64) -> Self {
        let t = T::of(steps as f64);
        Self {
            one_minus_beta1: T::one() - beta1,
            beta2,
            one_minus_beta2: T::one() - beta2,
            step_size: lr / (T::one() - decayed(beta1, t)),
            bias_correction2_sqrt: (T::one() - decayed(beta2, t)).sqrt(),
            eps,
            weight_decay,
            keep: T::one() - lr * weight_decay,
        }
    }
}

/// `βᵗ`, or 0 once it is below `e^-69 ≈ 1e-30`, where `1 − βᵗ` is 1 in both precisions: past
/// that, `powf` takes its slow underflow path, a fifth of a small network's step.
fn decayed<T: Real>(beta: T, t: T) -> T {
    if beta.ln() * t < T::of(-69.0) {
        T::zero()
    } else {
        beta.powf(t)
    }
}

/// The three moment buffers of an Adam-family optimizer.
pub(super) struct Moments<'a, G> {
    pub(super) exp_avg: &'a mut G,
    pub(super) exp_avg_sq: &'a mut G,
    pub(super) max_exp_avg_sq: &'a mut G,
}

/// One Adam step over every tensor, compiled for the widest vectors the CPU has. The choice of
/// variant is made once per tensor, so each element loop is straight-line code the compiler
/// can vectorise.
pub(super) fn update<T: Real, N: Parameters<T>>(
    net: &mut N,
    grad: &N::Gradient,
    moments: Moments<'_, N::Gradient>,
    c: &Constants<T>,
    amsgrad: bool,
    decay: Decay,
) {
    let tensors = net
        .tensors_mut()
        .zip(grad.tensors())
        .zip(moments.exp_avg.tensors_mut())
        .zip(moments.exp_avg_sq.tensors_mut())
        .zip(moments.max_exp_avg_sq.tensors_mut());
    // One dispatch for the whole step: a small network's tensors are a few vectors each.
    crate::simd::widest(
        #[inline(always)]
        || {
            for ((((p, g), m), v), v_max) in tensors {
                match (amsgrad, decay) {
                    (false, Decay::None) => adam_slice::<T, false, false, false>(p, g, m, v, v_max, c),
                    (false, Decay::L2) => adam_slice::<T, false, true, false>(p, g, m, v, v_max, c),
                    (false, Decay::Decoupled) => adam_slice::<T, false, false, true>(p, g, m, v, v_max, c),
                    (true, Decay::None) => adam_slice::<T, true, false, false>(p, g, m, v, v_max, c),
                    (true, Decay::L2) => adam_slice::<T, true, true, false>(p, g, m, v, v_max, c),
                    (true, Decay::Decoupled) => adam_slice::<T, true, false, true>(p, g, m, v, v_max, c),
                }
            }
        },
    );
}

/// The element loop, in PyTorch's order of operations (`lerp` for the first moment, the
/// denominator `√v̂ / √(1 − β₂ᵗ) + eps`); subnormal moments are stored as 0
/// ([`flush_subnormal`]). Inlined into [`crate::simd::widest`]'s closure, so
/// it is compiled for the widest vectors the CPU has.
#[inline(always)]
fn adam_slice<T: Real, const AMSGRAD: bool, const L2: bool, const DECOUPLED: bool>(
    p: &mut [T],
    g: &[T],
    m: &mut [T],
    v: &mut [T],
    v_max: &mut [T],
    c: &Constants<T>,
) {
    let n = p.len();
    // Equal lengths, made visible to the compiler so that the loop has no bounds checks.
    let (g, m, v, v_max) = (&g[..n], &mut m[..n], &mut v[..n], &mut v_max[..n]);
    for i in 0..n {
        let mut param = p[i];
        if DECOUPLED {
            param *= c.keep;
        }
        let grad = if L2 { g[i] + c.weight_decay * param } else { g[i] };
        let first = flush_subnormal(m[i] + c.one_minus_beta1 * (grad - m[i]));
        let second = flush_subnormal(c.beta2 * v[i] + c.one_minus_beta2 * grad * grad);
        m[i] = first;
        v[i] = second;
        let second = if AMSGRAD {
            let max = v_max[i].max(second);
            v_max[i] = max;
            max
        } else {
            second
        };
        let denominator = second.sqrt() / c.bias_correction2_sqrt + c.eps;
        p[i] = param - c.step_size * first / denominator;
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::optim::test_support::{self, Net, QUADRATIC_START, ROSENBROCK_START, minimise, quadratic, rosenbrock};
    use nalgebra::Vector2;

    /// Adam written out from PyTorch's documented algorithm, over flat vectors.
    fn reference(config: AdamConfig<f64>) -> impl FnMut(u64, &mut [f64], &[f64]) {
        let n = test_support::len();
        let (mut m, mut v, mut v_max) = (vec![0.0f64; n], vec![0.0f64; n], vec![0.0f64; n]);
        move |t, p, g| {
            let (b1, b2) = (config.beta1, config.beta2);
            for i in 0..n {
                let g = g[i] + config.weight_decay * p[i];
                m[i] = b1 * m[i] + (1.0 - b1) * g;
                v[i] = b2 * v[i] + (1.0 - b2) * g * g;
                v_max[i] = v_max[i].max(v[i]);
                let second = if config.amsgrad { v_max[i] } else { v[i] };
                let m_hat = m[i] / (1.0 - b1.powi(t as i32));
                let v_hat = second / (1.0 - b2.powi(t as i32));
                p[i] -= config.lr * m_hat / (v_hat.sqrt() + config.eps);
            }
        }
    }

    fn variants() -> [AdamConfig<f64>; 4] {
        [
            AdamConfig::with_lr(0.01),
            AdamConfig {
                weight_decay: 0.1,
                ..AdamConfig::with_lr(0.01)
            },
            AdamConfig {
                amsgrad: true,
                ..AdamConfig::with_lr(0.02)
            },
            AdamConfig {
                amsgrad: true,
                weight_decay: 0.05,
                beta1: 0.8,
                beta2: 0.99,
                eps: 1e-3,
                lr: 0.03,
            },
        ]
    }

    #[test]
    fn trajectories_match_pytorch_formulas() {
        for config in variants() {
            test_support::check_trajectory(Adam::<f64, Net>::new(config), reference(config));
        }
    }

    #[test]
    fn state_is_complete() {
        for config in variants() {
            test_support::check_state_is_complete(|| Adam::<f64, Net>::new(config));
        }
    }

    /// lr 0.1 on the quadratic, 0.02 on Rosenbrock.
    #[test]
    fn converges_on_quadratic_and_rosenbrock() {
        for amsgrad in [false, true] {
            let config = AdamConfig {
                amsgrad,
                ..AdamConfig::with_lr(0.1)
            };
            let end = minimise(Adam::new(config), quadratic, QUADRATIC_START, 2000);
            assert!(end.norm() < 1e-4, "amsgrad {amsgrad}: quadratic ended at {end}");
            let config = AdamConfig {
                amsgrad,
                ..AdamConfig::with_lr(0.02)
            };
            let end = minimise(Adam::new(config), rosenbrock, ROSENBROCK_START, 10_000);
            let error = (end - Vector2::new(1.0, 1.0)).norm();
            assert!(error < 1e-3, "amsgrad {amsgrad}: Rosenbrock ended at {end}");
        }
    }

    #[test]
    fn amsgrad_keeps_the_running_maximum() {
        let mut theta = Vector2::new(1.0_f64, 1.0);
        let mut adam = Adam::new(AdamConfig {
            amsgrad: true,
            ..AdamConfig::default()
        });
        adam.step(&mut theta, &Vector2::new(2.0, 0.0));
        adam.step(&mut theta, &Vector2::new(0.0, 0.0));
        // v after the second step is 0.999 · 0.001 · 4; the maximum remembers 0.001 · 4.
        assert!((adam.exp_avg_sq[0] - 0.999 * 0.004).abs() < 1e-15);
        assert!((adam.max_exp_avg_sq[0] - 0.004).abs() < 1e-15);
        let mut plain = Adam::<f64, Vector2<f64>>::new(AdamConfig::default());
        plain.step(&mut theta, &Vector2::new(2.0, 0.0));
        assert_eq!(plain.max_exp_avg_sq, Vector2::zeros());
    }

    #[test]
    fn subnormal_moments_are_stored_as_zero() {
        // Near the smallest subnormal, m − 0.1 m rounds back to m: without the flush the state
        // would stay subnormal (and slow) forever once the gradient vanishes.
        let mut theta = nalgebra::Vector2::new(1.0_f32, 1.0);
        let mut adam = Adam::new(AdamConfig::default());
        adam.exp_avg = nalgebra::Vector2::new(f32::from_bits(1), 1e-3);
        adam.exp_avg_sq = nalgebra::Vector2::new(f32::from_bits(1), 1e-3);
        adam.step(&mut theta, &nalgebra::Vector2::zeros());
        assert_eq!(adam.exp_avg[0], 0.0);
        assert_eq!(adam.exp_avg_sq[0], 0.0);
        assert!(adam.exp_avg[1] > 0.0 && adam.exp_avg_sq[1] > 0.0);
        for _ in 0..100_000 {
            adam.step(&mut theta, &nalgebra::Vector2::zeros());
        }
        assert!(adam.tensors().flatten().all(|v| !v.is_subnormal()));
    }

    #[test]
    fn state_tensors_come_in_the_documented_order() {
        type Pair = crate::Dense<f64, 2, 1>;
        let mut adam = Adam::<f64, Pair>::new(AdamConfig::default());
        for (i, t) in adam.tensors_mut().enumerate() {
            t.fill(i as f64);
        }
        assert_eq!(adam.exp_avg.bias[0], 1.0);
        assert_eq!(adam.exp_avg_sq.weight[0], 2.0);
        assert_eq!(adam.max_exp_avg_sq.bias[0], 5.0);
        let infos: Vec<(usize, &str)> = Adam::<f64, Pair>::tensor_infos().map(|t| (t.layer, t.name)).collect();
        assert_eq!(
            infos,
            [
                (0, "weight"),
                (0, "bias"),
                (1, "weight"),
                (1, "bias"),
                (2, "weight"),
                (2, "bias")
            ]
        );
    }

    #[test]
    fn boxed_equals_stacked() {
        let config = AdamConfig::with_lr(0.5);
        let a = Adam::<f64, Net>::new(config);
        let b = Adam::<f64, Net>::new_boxed(config);
        assert_eq!(a.config, b.config);
        assert_eq!(b.steps, 0);
        assert!(b.tensors().flatten().all(|&v| v == 0.0));
    }

    #[test]
    #[should_panic(expected = "Adam beta2 must be in [0, 1), got 1")]
    fn beta_of_one_is_rejected() {
        let _ = Adam::<f64, Net>::new(AdamConfig {
            beta2: 1.0,
            ..AdamConfig::default()
        });
    }
}
