use super::engine::{Engine, Rule, Slot, Walk};
use super::flush_subnormal;
use super::hyperparameters::hyperparameters;
use crate::Real;

hyperparameters! {
    /// Hyperparameters of [`RmsProp`]. Defaults are PyTorch's: `lr` 1e-2, `alpha` 0.99, `eps`
    /// 1e-8, no weight decay, no momentum, not centered.
    pub struct RmsPropConfig<T> {
        /// Learning rate (default 1e-2).
        pub lr: T = T::of(1e-2),
        /// Smoothing constant α of the running averages (default 0.99).
        pub alpha: T = T::of(0.99),
        /// Added to the denominator, outside the square root (default 1e-8).
        pub eps: T = T::of(1e-8),
        /// L2 penalty added to the gradient, `g + wd·p` (default 0).
        pub weight_decay: T = T::zero(),
        /// Momentum factor μ of the update buffer (default 0: none).
        pub momentum: T = T::zero(),
        /// Normalise by an estimate of the gradient's variance rather than its second moment
        /// (default false).
        pub centered: bool = false,
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
/// The state is `square_avg`, `momentum_buffer` and `grad_avg` (PyTorch's names), in `state[0]`,
/// `[1]` and `[2]`, each shaped like the network's gradient, and the step counter. The buffers a configuration does not use
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
pub type RmsProp<T, N> = Engine<T, N, RmsPropConfig<T>, 3>;

impl<T: Real> Rule<T, 3> for RmsPropConfig<T> {
    const NAME: &'static str = "RMSprop";
    const SLOTS: [Slot; 3] = [
        Slot {
            name: "square_avg",
            non_negative: true,
        },
        Slot {
            name: "momentum_buffer",
            non_negative: false,
        },
        Slot {
            name: "grad_avg",
            non_negative: false,
        },
    ];
    type Step = Constants<T>;

    fn validate(&self) {
        let checks = [
            ("alpha", self.alpha),
            ("eps", self.eps),
            ("momentum", self.momentum),
            ("weight decay", self.weight_decay),
        ];
        for (name, value) in checks {
            assert!(value >= T::zero(), "RMSprop {name} must be >= 0, got {value}");
        }
    }
    fn prepare(&self, _t: u64) -> Constants<T> {
        Constants {
            lr: self.lr,
            alpha: self.alpha,
            one_minus_alpha: T::one() - self.alpha,
            eps: self.eps,
            weight_decay: self.weight_decay,
            momentum: self.momentum,
        }
    }
    #[inline(always)]
    fn with_element<W: Walk<T, 3>>(&self, c: Constants<T>, walk: W) -> W::Output {
        let l2 = self.weight_decay != T::zero();
        let momentum = self.momentum > T::zero();
        match (self.centered, momentum, l2) {
            (false, false, false) => walk.run::<0b001, _, _>(
                move |p, g, s| element::<T, false, false, false>(&c, p, g, s),
                |_, _, _| false,
            ),
            (false, false, true) => walk.run::<0b001, _, _>(
                move |p, g, s| element::<T, false, false, true>(&c, p, g, s),
                |_, _, _| false,
            ),
            (false, true, false) => walk.run::<0b011, _, _>(
                move |p, g, s| element::<T, false, true, false>(&c, p, g, s),
                |_, _, _| false,
            ),
            (false, true, true) => walk.run::<0b011, _, _>(
                move |p, g, s| element::<T, false, true, true>(&c, p, g, s),
                |_, _, _| false,
            ),
            (true, false, false) => walk.run::<0b101, _, _>(
                move |p, g, s| element::<T, true, false, false>(&c, p, g, s),
                |_, _, _| false,
            ),
            (true, false, true) => walk.run::<0b101, _, _>(
                move |p, g, s| element::<T, true, false, true>(&c, p, g, s),
                |_, _, _| false,
            ),
            (true, true, false) => walk.run::<0b111, _, _>(
                move |p, g, s| element::<T, true, true, false>(&c, p, g, s),
                |_, _, _| false,
            ),
            (true, true, true) => walk.run::<0b111, _, _>(
                move |p, g, s| element::<T, true, true, true>(&c, p, g, s),
                |_, _, _| false,
            ),
        }
    }
}

/// The per-step constants.
#[derive(Clone, Copy)]
pub struct Constants<T> {
    lr: T,
    alpha: T,
    one_minus_alpha: T,
    eps: T,
    weight_decay: T,
    momentum: T,
}

/// One element, in PyTorch's order of operations (`lerp` for the gradient average); its square
/// root and division are what bound the loop.
#[inline(always)]
fn element<T: Real, const CENTERED: bool, const MOMENTUM: bool, const L2: bool>(
    c: &Constants<T>,
    param: T,
    grad: T,
    [square, buffer, average]: [T; 3],
) -> (T, [T; 3]) {
    let grad = if L2 { grad + c.weight_decay * param } else { grad };
    let square = flush_subnormal(c.alpha * square + c.one_minus_alpha * grad * grad);
    let (root, average) = if CENTERED {
        let average = flush_subnormal(average + c.one_minus_alpha * (grad - average));
        ((square - average * average).max(T::zero()).sqrt(), average)
    } else {
        (square.sqrt(), average)
    };
    let denominator = root + c.eps;
    if MOMENTUM {
        let buffer = flush_subnormal(c.momentum * buffer + grad / denominator);
        (param - c.lr * buffer, [square, buffer, average])
    } else {
        (param - c.lr * grad / denominator, [square, buffer, average])
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Optimizer;
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

    test_support::rule_tests!(variants(), reference);

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
        assert_eq!(plain.state[1], Vector2::zeros());
        assert_eq!(plain.state[2], Vector2::zeros());
        let expected = Vector2::new(0.25, 0.0625) * (1.0 - 0.99);
        assert!((plain.state[0] - expected).norm() < 1e-18);
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
            let (s, a) = (rms_prop.state[0][0], rms_prop.state[2][0]);
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
