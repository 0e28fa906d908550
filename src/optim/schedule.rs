//! Learning-rate schedules, as PyTorch's `torch.optim.lr_scheduler`.
//!
//! A schedule gives the learning rate for the current period and moves to the next when told
//! that the period is over. What a period is belongs to the caller: [`Trainer`](crate::Trainer)
//! steps its schedule once per epoch (PyTorch's usual `scheduler.step()` after each epoch).
//!
//! | schedule | learning rate in period `t` (from 0) | PyTorch |
//! |---|---|---|
//! | [`FixedLr`] | `lr` | no scheduler |
//! | [`StepLr`] | `base · γ^⌊t / step_size⌋` | `StepLR` |
//! | [`ExponentialLr`] | `base · γᵗ` | `ExponentialLR` |
//! | [`CosineAnnealingLr`] | `η_min + (base − η_min)(1 + cos(π t / t_max)) / 2` | `CosineAnnealingLR` |
//! | [`LinearWarmup`] | `inner · (f + (1 − f) t / n)` for `t < n`, then `inner` from its start | `SequentialLR(LinearLR, inner)` |
//! | [`ReduceLrOnPlateau`] | multiplied by `factor` when the metric stops improving | `ReduceLROnPlateau` |
//!
//! The closed forms are PyTorch's (`_get_closed_form_lr`); PyTorch's default chained updates
//! agree with them up to rounding.
//!
//! Every schedule is a small `Copy` value whose fields are all public, period counter
//! included, so it can be saved and restored with the optimizer; none allocates. Period
//! counters saturate at `u64::MAX` rather than overflow, so any count a checkpoint holds is
//! safe to step from; [`ReduceLrOnPlateau`]'s learning rate and best metric are checked when a
//! checkpoint is loaded ([`Counters::check_counter`](crate::Counters::check_counter)).
//!
//! ```
//! use static_nn::optim::{CosineAnnealingLr, LinearWarmup, Schedule};
//! use static_nn::{Optimizer, Sgd, SgdConfig};
//! use static_nn::nalgebra::Vector1;
//!
//! // Two epochs of warm-up from a quarter of the rate, then a cosine over eight epochs.
//! let mut schedule = LinearWarmup::new(0.25, 2, CosineAnnealingLr::new(0.1, 8, 0.0));
//! let mut sgd = Sgd::<f64, Vector1<f64>>::new(SgdConfig::default());
//! let mut rates = Vec::new();
//! for _epoch in 0..10 {
//!     sgd.set_learning_rate(schedule.learning_rate());
//!     rates.push(sgd.learning_rate());
//!     // ... train one epoch with `sgd` ...
//!     schedule.step(0.0); // the metric is only read by ReduceLrOnPlateau
//! }
//! assert_eq!(rates[0], 0.025);
//! assert_eq!(rates[2], 0.1);
//! assert!(rates[9] < 0.005);
//! ```

use crate::Real;

/// A learning-rate schedule: see the [module](self) documentation.
pub trait Schedule<T: Real> {
    /// The learning rate for the current period.
    fn learning_rate(&self) -> T;

    /// Ends the current period. `metric` is what was measured in it (a validation loss, say);
    /// only schedules that watch a metric ([`ReduceLrOnPlateau`]) read it.
    fn step(&mut self, metric: T);

    /// The rate the schedule is built around, before any warm-up: what the optimizer's own rate
    /// must be when a [`Trainer`](crate::Trainer) starts with this schedule, so that the rate is
    /// said once ([`TrainError::LearningRateTwice`](crate::TrainError::LearningRateTwice)
    /// otherwise). The default, the current [`learning_rate`](Schedule::learning_rate), is the
    /// base rate of every schedule that has not stepped yet, warm-ups aside.
    fn base_learning_rate(&self) -> T {
        self.learning_rate()
    }
}

/// `base · γᵏ` for a period count `k`, with the count converted once.
fn decayed<T: Real>(base: T, gamma: T, k: u64) -> T {
    base * gamma.powf(T::of(k as f64))
}

/// The same learning rate in every period.
///
/// Not PyTorch's `ConstantLR`, which scales the rate by a factor for a number of iterations.
#[doc(alias = "constant")]
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct FixedLr<T> {
    /// The learning rate.
    pub lr: T,
}

impl<T: Real> FixedLr<T> {
    /// The rate `lr`, always.
    pub fn new(lr: T) -> Self {
        Self { lr }
    }
}

impl<T: Real> Schedule<T> for FixedLr<T> {
    fn learning_rate(&self) -> T {
        self.lr
    }
    fn step(&mut self, _metric: T) {}
}

/// Decays the rate by `gamma` every `step_size` periods, as PyTorch's `StepLR`:
/// `base_lr · gamma^⌊t / step_size⌋`.
///
/// ```
/// use static_nn::optim::{Schedule, StepLr};
/// let mut schedule = StepLr::new(1.0, 2, 0.5);
/// let mut rates = [0.0; 5];
/// for rate in &mut rates {
///     *rate = schedule.learning_rate();
///     schedule.step(0.0);
/// }
/// assert_eq!(rates, [1.0, 1.0, 0.5, 0.5, 0.25]);
/// ```
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct StepLr<T> {
    /// The rate of the first `step_size` periods.
    pub base_lr: T,
    /// Periods between decays.
    pub step_size: u64,
    /// The decay factor (PyTorch's default 0.1).
    pub gamma: T,
    /// Periods completed (`t`).
    pub steps: u64,
}

impl<T: Real> StepLr<T> {
    /// Starts at `base_lr`, multiplied by `gamma` every `step_size` periods.
    ///
    /// # Panics
    /// If `step_size` is 0.
    pub fn new(base_lr: T, step_size: u64, gamma: T) -> Self {
        assert!(step_size > 0, "StepLr needs a step size of at least 1 period");
        Self {
            base_lr,
            step_size,
            gamma,
            steps: 0,
        }
    }
}

impl<T: Real> Schedule<T> for StepLr<T> {
    fn learning_rate(&self) -> T {
        decayed(self.base_lr, self.gamma, self.steps / self.step_size)
    }
    fn step(&mut self, _metric: T) {
        self.steps = self.steps.saturating_add(1);
    }
}

/// Decays the rate by `gamma` every period, as PyTorch's `ExponentialLR`: `base_lr · gammaᵗ`.
///
/// ```
/// use static_nn::optim::{ExponentialLr, Schedule};
/// let mut schedule = ExponentialLr::new(2.0, 0.5);
/// schedule.step(0.0);
/// schedule.step(0.0);
/// assert_eq!(schedule.learning_rate(), 0.5);
/// ```
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct ExponentialLr<T> {
    /// The rate of the first period.
    pub base_lr: T,
    /// The decay factor per period.
    pub gamma: T,
    /// Periods completed (`t`).
    pub steps: u64,
}

impl<T: Real> ExponentialLr<T> {
    /// Starts at `base_lr`, multiplied by `gamma` every period.
    pub fn new(base_lr: T, gamma: T) -> Self {
        Self {
            base_lr,
            gamma,
            steps: 0,
        }
    }
}

impl<T: Real> Schedule<T> for ExponentialLr<T> {
    fn learning_rate(&self) -> T {
        decayed(self.base_lr, self.gamma, self.steps)
    }
    fn step(&mut self, _metric: T) {
        self.steps = self.steps.saturating_add(1);
    }
}

/// Half a cosine from `base_lr` down to `eta_min` over `t_max` periods, as PyTorch's
/// `CosineAnnealingLR`: `eta_min + (base_lr − eta_min)(1 + cos(π t / t_max)) / 2`.
///
/// As in PyTorch, the formula is not clamped: after `t_max` periods the rate climbs back along
/// the cosine, reaching `base_lr` again at `2 t_max`. Set `t_max` to the number of periods you
/// train for.
///
/// ```
/// use static_nn::optim::{CosineAnnealingLr, Schedule};
/// let mut schedule = CosineAnnealingLr::new(1.0_f64, 4, 0.0);
/// let mut rates = [0.0; 5];
/// for rate in &mut rates {
///     *rate = schedule.learning_rate();
///     schedule.step(0.0);
/// }
/// assert_eq!(rates[0], 1.0);
/// assert!((rates[2] - 0.5).abs() < 1e-15);
/// assert!(rates[4].abs() < 1e-15);
/// ```
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct CosineAnnealingLr<T> {
    /// The rate of the first period.
    pub base_lr: T,
    /// Periods from `base_lr` to `eta_min`.
    pub t_max: u64,
    /// The lowest rate (PyTorch's default 0).
    pub eta_min: T,
    /// Periods completed (`t`).
    pub steps: u64,
}

impl<T: Real> CosineAnnealingLr<T> {
    /// From `base_lr` down to `eta_min` in `t_max` periods.
    ///
    /// # Panics
    /// If `t_max` is 0.
    pub fn new(base_lr: T, t_max: u64, eta_min: T) -> Self {
        assert!(t_max > 0, "CosineAnnealingLr needs t_max of at least 1 period");
        Self {
            base_lr,
            t_max,
            eta_min,
            steps: 0,
        }
    }
}

impl<T: Real> Schedule<T> for CosineAnnealingLr<T> {
    fn learning_rate(&self) -> T {
        let phase = T::pi() * T::of(self.steps as f64) / T::of(self.t_max as f64);
        self.eta_min + (self.base_lr - self.eta_min) * (T::one() + phase.cos()) / T::of(2.0)
    }
    fn step(&mut self, _metric: T) {
        self.steps = self.steps.saturating_add(1);
    }
}

/// A linear warm-up in front of any schedule: for the first `periods` periods the inner
/// schedule's first rate is scaled by a factor rising linearly from `start_factor` to 1; then
/// the inner schedule runs from its own start.
///
/// This is PyTorch's `SequentialLR([LinearLR(start_factor, total_iters=periods), inner],
/// milestones=[periods])`. Warm-up keeps the first steps small while adaptive optimizers'
/// statistics, or batch-norm's, are still poor estimates.
///
/// ```
/// use static_nn::optim::{FixedLr, LinearWarmup, Schedule};
/// let mut schedule = LinearWarmup::new(0.25, 3, FixedLr::new(1.0));
/// let mut rates = [0.0; 5];
/// for rate in &mut rates {
///     *rate = schedule.learning_rate();
///     schedule.step(0.0);
/// }
/// assert_eq!(rates, [0.25, 0.5, 0.75, 1.0, 1.0]);
/// ```
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct LinearWarmup<T, S> {
    /// The factor of the first period (PyTorch's `LinearLR` default is 1/3).
    pub start_factor: T,
    /// Length of the warm-up, in periods.
    pub periods: u64,
    /// Warm-up periods completed; stops counting at `periods`.
    pub elapsed: u64,
    /// The schedule that follows, which does not advance during the warm-up.
    pub inner: S,
}

impl<T: Real, S: Schedule<T>> LinearWarmup<T, S> {
    /// Warms up over `periods` periods from `start_factor` times `inner`'s first rate.
    ///
    /// # Panics
    /// If `start_factor` is not in `(0, 1]` (as PyTorch's `LinearLR`).
    pub fn new(start_factor: T, periods: u64, inner: S) -> Self {
        assert!(
            start_factor > T::zero() && start_factor <= T::one(),
            "LinearWarmup needs a start factor in (0, 1], got {start_factor}"
        );
        Self {
            start_factor,
            periods,
            elapsed: 0,
            inner,
        }
    }
}

impl<T: Real, S: Schedule<T>> Schedule<T> for LinearWarmup<T, S> {
    fn learning_rate(&self) -> T {
        if self.elapsed >= self.periods {
            return self.inner.learning_rate();
        }
        // PyTorch's order of operations: multiply by the count, then divide.
        let rise = (T::one() - self.start_factor) * T::of(self.elapsed as f64) / T::of(self.periods as f64);
        let factor = self.start_factor + rise;
        self.inner.learning_rate() * factor
    }
    fn base_learning_rate(&self) -> T {
        self.inner.base_learning_rate()
    }
    fn step(&mut self, metric: T) {
        if self.elapsed < self.periods {
            self.elapsed += 1;
        } else {
            self.inner.step(metric);
        }
    }
}

/// How [`ReduceLrOnPlateau`] decides that a metric improved on the best so far.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum ThresholdMode {
    /// Better means below `best · (1 − threshold)` (PyTorch's default `"rel"`).
    #[default]
    Relative,
    /// Better means below `best − threshold` (PyTorch's `"abs"`).
    Absolute,
}

/// Hyperparameters of [`ReduceLrOnPlateau`]. Defaults are PyTorch's: factor 0.1, patience 10,
/// threshold 1e-4 relative, no cooldown, `min_lr` 0, `eps` 1e-8.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct PlateauConfig<T> {
    /// What the rate is multiplied by on a plateau (default 0.1).
    pub factor: T,
    /// Periods without improvement tolerated; the rate drops after `patience + 1` (default 10).
    pub patience: u64,
    /// How much better than the best a metric must be to count (default 1e-4).
    pub threshold: T,
    /// Whether `threshold` is relative or absolute (default relative).
    pub threshold_mode: ThresholdMode,
    /// Periods after a reduction during which bad periods are not counted (default 0).
    pub cooldown: u64,
    /// The rate is never reduced below this (default 0).
    pub min_lr: T,
    /// A reduction smaller than this is skipped (default 1e-8).
    pub eps: T,
}

impl<T: Real> Default for PlateauConfig<T> {
    fn default() -> Self {
        Self {
            factor: T::of(0.1),
            patience: 10,
            threshold: T::of(1e-4),
            threshold_mode: ThresholdMode::Relative,
            cooldown: 0,
            min_lr: T::zero(),
            eps: T::of(1e-8),
        }
    }
}

/// Reduces the rate when a metric to be minimised (usually the validation loss) stops
/// improving, as PyTorch's `ReduceLROnPlateau` in mode `"min"`.
///
/// After each period, with metric `m`:
/// ```text
/// if m is better than best (see ThresholdMode):  best ← m, bad ← 0   else  bad ← bad + 1
/// if cooldown_counter > 0:  cooldown_counter ← cooldown_counter − 1, bad ← 0
/// if bad > patience:  lr ← max(lr · factor, min_lr) unless that changes it by ≤ eps,
///                     cooldown_counter ← cooldown, bad ← 0
/// ```
/// A NaN metric is never better. To watch a metric to be maximised, pass its negative.
///
/// ```
/// use static_nn::optim::{PlateauConfig, ReduceLrOnPlateau, Schedule};
/// let mut schedule = ReduceLrOnPlateau::new(1.0, PlateauConfig { patience: 1, factor: 0.5, ..PlateauConfig::default() });
/// for loss in [3.0, 2.0, 2.0, 2.0] {
///     schedule.step(loss);
/// }
/// // 2.0 then failed to improve twice, one more than the patience.
/// assert_eq!(schedule.learning_rate(), 0.5);
/// ```
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct ReduceLrOnPlateau<T> {
    /// The current learning rate.
    pub lr: T,
    /// Hyperparameters.
    pub config: PlateauConfig<T>,
    /// The best metric so far (+∞ before the first period).
    pub best: T,
    /// Consecutive periods without improvement.
    pub bad_periods: u64,
    /// Periods of cooldown left.
    pub cooldown_counter: u64,
    /// Periods completed.
    pub steps: u64,
}

impl<T: Real> ReduceLrOnPlateau<T> {
    /// Starts at `lr`.
    ///
    /// # Panics
    /// If `factor` is not in `[0, 1)`, or `threshold`, `min_lr` or `eps` is negative.
    pub fn new(lr: T, config: PlateauConfig<T>) -> Self {
        assert!(
            config.factor >= T::zero() && config.factor < T::one(),
            "ReduceLrOnPlateau needs a factor in [0, 1), got {}",
            config.factor
        );
        for (name, value) in [
            ("threshold", config.threshold),
            ("min_lr", config.min_lr),
            ("eps", config.eps),
        ] {
            assert!(value >= T::zero(), "ReduceLrOnPlateau {name} must be >= 0, got {value}");
        }
        Self {
            lr,
            config,
            best: T::of(f64::INFINITY),
            bad_periods: 0,
            cooldown_counter: 0,
            steps: 0,
        }
    }

    fn is_better(&self, metric: T) -> bool {
        match self.config.threshold_mode {
            ThresholdMode::Relative => metric < self.best * (T::one() - self.config.threshold),
            ThresholdMode::Absolute => metric < self.best - self.config.threshold,
        }
    }
}

impl<T: Real> Schedule<T> for ReduceLrOnPlateau<T> {
    fn learning_rate(&self) -> T {
        self.lr
    }

    fn step(&mut self, metric: T) {
        self.steps = self.steps.saturating_add(1);
        if self.is_better(metric) {
            self.best = metric;
            self.bad_periods = 0;
        } else {
            self.bad_periods = self.bad_periods.saturating_add(1);
        }
        if self.cooldown_counter > 0 {
            self.cooldown_counter -= 1;
            self.bad_periods = 0;
        }
        if self.bad_periods > self.config.patience {
            let reduced = (self.lr * self.config.factor).max(self.config.min_lr);
            if self.lr - reduced > self.config.eps {
                self.lr = reduced;
            }
            self.cooldown_counter = self.config.cooldown;
            self.bad_periods = 0;
        }
    }
}

/// A schedule's position, saved by checkpoints ([`Counters`](crate::Counters)) so that a resumed run continues
/// the same learning-rate sequence. Floating-point state travels as the bits of an `f64`, which
/// holds an `f32` or `f64` exactly.
mod counters {
    use super::*;
    use crate::{Counters, Number, Rejected};

    fn to_bits<T: Real>(x: T) -> u64 {
        x.to_f64().to_bits()
    }

    fn from_bits<T: Real>(bits: u64) -> T {
        T::of(f64::from_bits(bits))
    }

    /// No position: the rate is fixed.
    impl<T: Real> Counters for FixedLr<T> {
        fn counter_names() -> impl Iterator<Item = &'static str> {
            core::iter::empty()
        }
        fn counters(&self) -> impl Iterator<Item = u64> {
            core::iter::empty()
        }
        fn set_counter(&mut self, index: usize, _value: u64) {
            panic!("FixedLr has no counter {index}");
        }
    }

    /// Implements `Counters` for a schedule whose only position is its `steps` field.
    macro_rules! steps_counter {
        ($($schedule:ident),+) => {$(
            impl<T: Real> Counters for $schedule<T> {
                fn counter_names() -> impl Iterator<Item = &'static str> {
                    ["steps"].into_iter()
                }
                fn counters(&self) -> impl Iterator<Item = u64> {
                    [self.steps].into_iter()
                }
                fn set_counter(&mut self, index: usize, value: u64) {
                    assert_eq!(index, 0, concat!(stringify!($schedule), " has one counter"));
                    self.steps = value;
                }
            }
        )+};
    }

    steps_counter!(StepLr, ExponentialLr, CosineAnnealingLr);

    /// The warm-up's own position, then the wrapped schedule's.
    impl<T: Real, S: Counters> Counters for LinearWarmup<T, S> {
        fn counter_names() -> impl Iterator<Item = &'static str> {
            core::iter::once("warmup_elapsed").chain(S::counter_names())
        }
        fn counters(&self) -> impl Iterator<Item = u64> {
            core::iter::once(self.elapsed).chain(self.inner.counters())
        }
        fn set_counter(&mut self, index: usize, value: u64) {
            match index {
                0 => self.elapsed = value,
                _ => self.inner.set_counter(index - 1, value),
            }
        }
    }

    /// Current rate, best metric, the bad-period and cooldown counts, and steps.
    impl<T: Real> Counters for ReduceLrOnPlateau<T> {
        fn counter_names() -> impl Iterator<Item = &'static str> {
            ["lr_bits", "best_bits", "bad_periods", "cooldown_counter", "steps"].into_iter()
        }
        fn counters(&self) -> impl Iterator<Item = u64> {
            [
                to_bits(self.lr),
                to_bits(self.best),
                self.bad_periods,
                self.cooldown_counter,
                self.steps,
            ]
            .into_iter()
        }
        fn set_counter(&mut self, index: usize, value: u64) {
            match index {
                0 => self.lr = from_bits(value),
                1 => self.best = from_bits(value),
                2 => self.bad_periods = value,
                3 => self.cooldown_counter = value,
                4 => self.steps = value,
                _ => panic!("ReduceLrOnPlateau has five counters, not {}", index + 1),
            }
        }
        /// The learning rate must be finite and ≥ 0 in `T` (an `f64` beyond `f32::MAX` is not);
        /// the best metric may be +∞ (nothing seen yet) but not NaN or −∞, which no metric
        /// could improve on.
        fn check_counter(&self, index: usize, value: u64) -> Result<(), Rejected> {
            let real: T = from_bits(value);
            let (valid, expected) = match index {
                0 => (real.is_finite() && real >= T::zero(), "finite and ≥ 0"),
                1 => (real > T::of(f64::NEG_INFINITY), "a number or +∞"),
                _ => (true, ""),
            };
            if valid {
                Ok(())
            } else {
                Err(Rejected {
                    value: Number::real(f64::from_bits(value)),
                    expected,
                })
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The rates of the first `n` periods, stepping with the given metrics (0 if none).
    fn rates<S: Schedule<f64>>(mut schedule: S, metrics: &[f64], n: usize) -> Vec<f64> {
        (0..n)
            .map(|i| {
                let rate = schedule.learning_rate();
                schedule.step(metrics.get(i).copied().unwrap_or(0.0));
                rate
            })
            .collect()
    }

    fn assert_close(got: &[f64], want: &[f64]) {
        assert_eq!(got.len(), want.len());
        for (i, (g, w)) in got.iter().zip(want).enumerate() {
            assert!(
                (g - w).abs() <= 1e-15 * w.abs().max(1.0),
                "period {i}: {got:?} vs {want:?}"
            );
        }
    }

    #[test]
    fn fixed_step_and_exponential() {
        assert_eq!(rates(FixedLr::new(0.3), &[], 3), [0.3; 3]);
        assert_close(
            &rates(StepLr::new(0.1, 3, 0.5), &[], 8),
            &[0.1, 0.1, 0.1, 0.05, 0.05, 0.05, 0.025, 0.025],
        );
        let expected: Vec<f64> = (0..6).map(|t| 2.0 * 0.9f64.powi(t)).collect();
        assert_close(&rates(ExponentialLr::new(2.0, 0.9), &[], 6), &expected);
    }

    #[test]
    fn cosine_follows_pytorchs_closed_form_past_t_max() {
        let c = (1.0 + (core::f64::consts::PI / 4.0).cos()) / 2.0;
        let s = (1.0 + (3.0 * core::f64::consts::PI / 4.0).cos()) / 2.0;
        let want = [1.0, c, 0.5, s, 0.0, s, 0.5];
        assert_close(&rates(CosineAnnealingLr::new(1.0, 4, 0.0), &[], 7), &want);
        // With a floor: eta_min + (base − eta_min) · the same factors.
        let floored = rates(CosineAnnealingLr::new(1.0, 4, 0.2), &[], 5);
        assert_close(&floored, &want[..5].iter().map(|f| 0.2 + 0.8 * f).collect::<Vec<_>>());
    }

    #[test]
    fn warmup_then_the_inner_schedule_from_its_start() {
        let schedule = LinearWarmup::new(0.25, 4, CosineAnnealingLr::new(1.0, 2, 0.0));
        assert_close(&rates(schedule, &[], 7), &[0.25, 0.4375, 0.625, 0.8125, 1.0, 0.5, 0.0]);
        let stepped = LinearWarmup::new(0.5, 2, StepLr::new(0.2, 1, 0.1));
        assert_close(&rates(stepped, &[], 5), &[0.1, 0.15, 0.2, 0.02, 0.002]);
        assert_close(
            &rates(LinearWarmup::new(1.0, 0, FixedLr::new(0.7)), &[], 2),
            &[0.7, 0.7],
        );
    }

    #[test]
    fn plateau_reduces_after_patience_and_honours_cooldown() {
        let config = PlateauConfig {
            factor: 0.5,
            patience: 2,
            threshold: 0.1,
            cooldown: 1,
            ..PlateauConfig::default()
        };
        // Written out: 10 is best; 9 is not 10% better; after 9.2 the third bad period (more
        // than the patience of 2) halves the rate and starts a one-period cooldown, during
        // which 9.1 is not counted; 5 is best; three 5s later the rate halves again.
        let metrics = [10.0, 9.0, 9.5, 9.2, 9.1, 5.0, 5.0, 5.0, 5.0, 5.0, 5.0];
        let mut schedule = ReduceLrOnPlateau::new(1.0, config);
        let mut after = Vec::new();
        for &m in &metrics {
            schedule.step(m);
            after.push(schedule.learning_rate());
        }
        assert_eq!(after, [1.0, 1.0, 1.0, 0.5, 0.5, 0.5, 0.5, 0.5, 0.25, 0.25, 0.25]);
        assert_eq!(schedule.best, 5.0);
        assert_eq!(schedule.steps, 11);
    }

    #[test]
    fn plateau_absolute_threshold_min_lr_and_nan() {
        let config = PlateauConfig {
            factor: 0.1,
            patience: 0,
            threshold: 0.5,
            threshold_mode: ThresholdMode::Absolute,
            min_lr: 0.05,
            ..PlateauConfig::default()
        };
        let mut schedule = ReduceLrOnPlateau::new(1.0, config);
        schedule.step(3.0);
        assert_eq!(schedule.learning_rate(), 1.0);
        schedule.step(2.6); // not 0.5 better
        assert_eq!(schedule.learning_rate(), 0.1);
        schedule.step(f64::NAN);
        assert_eq!(schedule.learning_rate(), 0.05); // floored by min_lr
        schedule.step(2.0);
        assert_eq!(schedule.learning_rate(), 0.05);
        assert_eq!(schedule.best, 2.0);
        schedule.step(2.0);
        assert_eq!(schedule.learning_rate(), 0.05); // already at min_lr
    }

    #[test]
    fn f32_schedules_work_too() {
        let mut schedule = LinearWarmup::new(0.5_f32, 1, ReduceLrOnPlateau::new(0.1_f32, PlateauConfig::default()));
        assert_eq!(schedule.learning_rate(), 0.05);
        schedule.step(1.0);
        assert_eq!(schedule.learning_rate(), 0.1);
    }

    #[test]
    fn counters_at_their_largest_saturate_instead_of_overflowing() {
        let mut step = StepLr::new(1.0, 2, 0.5);
        step.steps = u64::MAX;
        step.step(0.0);
        assert_eq!(step.steps, u64::MAX);
        let mut exponential = ExponentialLr::new(1.0, 0.5);
        exponential.steps = u64::MAX;
        exponential.step(0.0);
        assert_eq!((exponential.steps, exponential.learning_rate()), (u64::MAX, 0.0));
        let mut cosine = CosineAnnealingLr::new(1.0_f64, 4, 0.0);
        cosine.steps = u64::MAX;
        cosine.step(0.0);
        assert!(cosine.learning_rate().is_finite());
        let mut plateau = ReduceLrOnPlateau::new(1.0, PlateauConfig::default());
        plateau.steps = u64::MAX;
        plateau.bad_periods = u64::MAX;
        plateau.config.patience = u64::MAX;
        plateau.step(f64::NAN);
        assert_eq!((plateau.steps, plateau.bad_periods), (u64::MAX, u64::MAX));
        assert_eq!(plateau.learning_rate(), 1.0);
        let mut warmup = LinearWarmup::new(0.5, u64::MAX, FixedLr::new(1.0));
        warmup.elapsed = u64::MAX;
        warmup.step(0.0);
        assert_eq!(warmup.learning_rate(), 1.0);
    }

    #[test]
    fn plateau_state_is_checked_before_it_is_restored() {
        use crate::{Counters, Number, Rejected};
        let plateau = ReduceLrOnPlateau::<f32>::new(0.1, PlateauConfig::default());
        let bits = |x: f64| x.to_bits();
        assert_eq!(plateau.check_counter(0, bits(0.5)), Ok(()));
        assert_eq!(plateau.check_counter(0, bits(0.0)), Ok(()));
        assert_eq!(plateau.check_counter(1, bits(f64::INFINITY)), Ok(()));
        assert_eq!(plateau.check_counter(1, bits(-3.0)), Ok(()));
        for (index, value, expected) in [
            (0, -1.0, "finite and ≥ 0"),
            (0, f64::NAN, "finite and ≥ 0"),
            (0, f64::INFINITY, "finite and ≥ 0"),
            (0, 1e300, "finite and ≥ 0"), // finite in f64, infinite as the f32 rate
            (1, f64::NAN, "a number or +∞"),
            (1, f64::NEG_INFINITY, "a number or +∞"),
        ] {
            assert_eq!(
                plateau.check_counter(index, bits(value)),
                Err(Rejected {
                    value: Number::real(value),
                    expected
                }),
                "{index} {value}"
            );
        }
        for index in 2..5 {
            assert_eq!(plateau.check_counter(index, u64::MAX), Ok(()));
        }
    }

    #[test]
    #[should_panic(expected = "ReduceLrOnPlateau needs a factor in [0, 1), got 1")]
    fn plateau_factor_of_one_is_rejected() {
        let _ = ReduceLrOnPlateau::new(
            1.0,
            PlateauConfig {
                factor: 1.0,
                ..PlateauConfig::default()
            },
        );
    }
}
