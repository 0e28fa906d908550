use super::engine::{Engine, Rule, Slot, Walk};
use super::hyperparameters::hyperparameters;
use crate::Real;

hyperparameters! {
    /// Hyperparameters of [`Adagrad`]. Defaults are PyTorch's: `lr` 1e-2, no learning-rate decay,
    /// no weight decay, initial accumulator 0, `eps` 1e-10.
    pub struct AdagradConfig<T> {
        /// Learning rate (default 1e-2).
        pub lr: T = T::of(1e-2),
        /// Decay of the learning rate with the step count: step `t` uses
        /// `lr / (1 + (t − 1) · lr_decay)` (default 0).
        pub lr_decay: T = T::zero(),
        /// L2 penalty added to the gradient, `g + wd·p` (default 0).
        pub weight_decay: T = T::zero(),
        /// The value every entry of the accumulator starts from (default 0).
        pub initial_accumulator_value: T = T::zero(),
        /// Added to the denominator, outside the square root (default 1e-10).
        pub eps: T = T::of(1e-10),
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
/// The state is `sum` (PyTorch's name), in `state[0]`, shaped like the network's gradient and
/// starting at
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
pub type Adagrad<T, N> = Engine<T, N, AdagradConfig<T>, 1>;

impl<T: Real> Rule<T, 1> for AdagradConfig<T> {
    const NAME: &'static str = "Adagrad";
    const SLOTS: [Slot; 1] = [Slot {
        name: "sum",
        non_negative: true,
    }];
    type Step = Constants<T>;

    fn validate(&self) {
        let checks = [
            ("learning-rate decay", self.lr_decay),
            ("weight decay", self.weight_decay),
            ("initial accumulator value", self.initial_accumulator_value),
            ("eps", self.eps),
        ];
        for (name, value) in checks {
            assert!(value >= T::zero(), "Adagrad {name} must be >= 0, got {value}");
        }
    }
    fn initial_state(&self) -> [T; 1] {
        [self.initial_accumulator_value]
    }
    fn prepare(&self, t: u64) -> Constants<T> {
        Constants {
            decayed_lr: self.lr / (T::one() + T::of((t - 1) as f64) * self.lr_decay),
            weight_decay: self.weight_decay,
            eps: self.eps,
        }
    }
    #[inline(always)]
    fn with_element<W: Walk<T, 1>>(&self, c: Constants<T>, walk: W) -> W::Output {
        if self.weight_decay != T::zero() {
            walk.run::<1, _, _>(move |p, g, s| element::<T, true>(&c, p, g, s), |_, _, _| false)
        } else {
            walk.run::<1, _, _>(move |p, g, s| element::<T, false>(&c, p, g, s), |_, _, _| false)
        }
    }
}

/// The per-step constants.
#[derive(Clone, Copy)]
pub struct Constants<T> {
    /// `lr / (1 + (t − 1) · lr_decay)`.
    decayed_lr: T,
    weight_decay: T,
    eps: T,
}

/// One element; its square root and division are what bound the loop.
#[inline(always)]
fn element<T: Real, const L2: bool>(c: &Constants<T>, param: T, grad: T, [sum]: [T; 1]) -> (T, [T; 1]) {
    let grad = if L2 { grad + c.weight_decay * param } else { grad };
    let total = sum + grad * grad;
    (param - c.decayed_lr * grad / (total.sqrt() + c.eps), [total])
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Tensors;
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

    test_support::rule_tests!(variants(), reference);

    #[test]
    fn accumulator_starts_at_its_initial_value() {
        let config = AdagradConfig {
            initial_accumulator_value: 0.25,
            ..AdagradConfig::default()
        };
        assert_eq!(
            Adagrad::<f64, Vector2<f64>>::new(config).state[0],
            Vector2::new(0.25, 0.25)
        );
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
