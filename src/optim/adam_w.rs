use super::adam::{self, AdamConfig, Constants, Decay, adam_hyperparameters};
use super::engine::{Bounds, Engine, Rule, Slot, Walk};
use crate::Real;

adam_hyperparameters! {
    /// Hyperparameters of [`AdamW`]. Defaults are PyTorch's: `lr` 1e-3, `betas` (0.9, 0.999),
    /// `eps` 1e-8, **weight decay 0.01**, no AMSGrad.
    ///
    /// A type of its own, rather than [`AdamConfig`] with another default, so that
    /// `AdamWConfig::default()` cannot silently mean "no weight decay".
    pub struct AdamWConfig<T> {
        /// Decoupled weight decay: each step first multiplies every parameter by
        /// `1 − lr · weight_decay` (default 0.01).
        pub weight_decay: T = T::of(0.01),
    }
}

impl<T: Real> AdamWConfig<T> {
    /// The same numbers as an [`AdamConfig`], whose `weight_decay` means an L2 penalty instead.
    fn as_adam(&self) -> AdamConfig<T> {
        AdamConfig {
            lr: self.lr,
            beta1: self.beta1,
            beta2: self.beta2,
            eps: self.eps,
            weight_decay: self.weight_decay,
            amsgrad: self.amsgrad,
        }
    }
}

/// Adam with decoupled weight decay (Loshchilov & Hutter), as `torch.optim.AdamW`.
///
/// Each step, for every parameter `p` with gradient `g` (step `t` counts from 1):
/// ```text
/// p ← p · (1 − lr · weight_decay)
/// m ← β₁ m + (1 − β₁) g
/// v ← β₂ v + (1 − β₂) g²
/// v̂ ← max(v̂, v) if amsgrad, else v
/// p ← p − lr · (m / (1 − β₁ᵗ)) / (√(v̂ / (1 − β₂ᵗ)) + eps)
/// ```
/// With [`Adam`](crate::Adam)'s L2 penalty, the decay passes through the moment estimates and is
/// divided by `√v̂` like the rest of the gradient, so parameters with large gradients are hardly
/// decayed. Here every parameter shrinks by the same factor, independently of its gradient.
///
/// The state is as [`Adam`](crate::Adam)'s: `exp_avg`, `exp_avg_sq`, `max_exp_avg_sq` (in
/// `state[0]`, `[1]`, `[2]`) and the step counter.
///
/// ```
/// use static_nn::{AdamW, AdamWConfig, Optimizer};
/// use static_nn::nalgebra::Vector1;
///
/// // With a zero gradient only the decay acts: p ← p (1 − 0.1 · 0.01).
/// let mut p = Vector1::new(2.0_f64);
/// let mut adam_w = AdamW::new(AdamWConfig::with_lr(0.1));
/// adam_w.step(&mut p, &Vector1::new(0.0));
/// assert_eq!(p[0], 2.0 * (1.0 - 0.1 * 0.01));
/// ```
pub type AdamW<T, N> = Engine<T, N, AdamWConfig<T>, 3>;

impl<T: Real> Rule<T, 3> for AdamWConfig<T> {
    const NAME: &'static str = "AdamW";
    const SLOTS: [Slot; 3] = adam::SLOTS;
    type Step = Constants<T>;

    fn validate(&self) {
        adam::validate(&self.as_adam(), "AdamW");
    }
    fn prepare(&self, t: u64) -> Constants<T> {
        self.as_adam().prepare(t)
    }
    #[inline(always)]
    fn with_element<W: Walk<T, 3>>(&self, c: Constants<T>, walk: W) -> W::Output {
        self.as_adam().with_decay(c, Decay::Decoupled, walk)
    }
    fn certain_within(&self, c: &Constants<T>, bounds: &Bounds<T, 3>) -> bool {
        adam::certain_within(c, self.amsgrad, false, self.weight_decay != T::zero(), bounds)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Optimizer;
    use crate::optim::test_support::{self, Net, QUADRATIC_START, ROSENBROCK_START, minimise, quadratic, rosenbrock};
    use crate::{Adam, AdamConfig};
    use nalgebra::Vector2;

    fn variants() -> [AdamWConfig<f64>; 4] {
        [
            AdamWConfig::with_lr(0.01),
            AdamWConfig {
                weight_decay: 0.0,
                ..AdamWConfig::with_lr(0.01)
            },
            AdamWConfig {
                weight_decay: 0.5,
                ..AdamWConfig::with_lr(0.02)
            },
            AdamWConfig {
                amsgrad: true,
                weight_decay: 0.2,
                beta1: 0.8,
                beta2: 0.99,
                eps: 1e-3,
                lr: 0.03,
            },
        ]
    }

    test_support::rule_tests!(variants(), |config: AdamWConfig<f64>| {
        adam::tests::reference(config.as_adam(), true)
    });

    #[test]
    fn default_decay_is_pytorchs() {
        assert_eq!(AdamWConfig::<f32>::default().weight_decay, 0.01);
    }

    #[test]
    fn without_decay_it_is_adam() {
        let mut a = Vector2::new(0.3_f64, -0.7);
        let mut b = a;
        let mut adam_w = AdamW::new(AdamWConfig {
            weight_decay: 0.0,
            ..AdamWConfig::with_lr(0.1)
        });
        let mut adam = Adam::new(AdamConfig::with_lr(0.1));
        for _ in 0..10 {
            let (_, grad) = rosenbrock(&a);
            adam_w.step(&mut a, &grad);
            adam.step(&mut b, &grad);
        }
        assert_eq!(a, b);
    }

    /// lr 0.1 on the quadratic, 0.02 on Rosenbrock, default decay 0.01. The decay pulls the
    /// fixed point towards the origin: the quadratic's minimum is the origin, but Rosenbrock's
    /// (1, 1) is only approached to within 2e-2. With AMSGrad the early, large gradients keep
    /// the denominator high, so the decay wins by more (the fixed point is about 0.2 away) and
    /// only the quadratic is a fair test.
    #[test]
    fn converges_on_quadratic_and_rosenbrock() {
        for amsgrad in [false, true] {
            let config = AdamWConfig {
                amsgrad,
                ..AdamWConfig::with_lr(0.1)
            };
            let end = minimise(AdamW::new(config), quadratic, QUADRATIC_START, 2000);
            assert!(end.norm() < 1e-4, "amsgrad {amsgrad}: quadratic ended at {end}");
        }
        let end = minimise(
            AdamW::new(AdamWConfig::with_lr(0.02)),
            rosenbrock,
            ROSENBROCK_START,
            10_000,
        );
        let error = (end - Vector2::new(1.0, 1.0)).norm();
        assert!(error < 2e-2, "Rosenbrock ended at {end}");
    }

    #[test]
    #[should_panic(expected = "AdamW weight decay must be >= 0, got -0.1")]
    fn negative_decay_is_rejected() {
        let _ = AdamW::<f64, Net>::new(AdamWConfig {
            weight_decay: -0.1,
            ..AdamWConfig::default()
        });
    }
}
