//! A training step observed: gradient statistics, the update, the first-order check.

use core::fmt;
use core::marker::PhantomData;

use bytemuck::Zeroable;

use super::stats::{GradientStats, max_abs_and_non_finite, norm};
use super::{CapacityError, Finding, Thresholds};
use crate::optim::Clip;
use crate::{Layer, Loss, NonFiniteStep, Optimizer, Real, Tensors, Workspace};

/// The first-order check of one step: the loss decrease the gradient predicts next to the
/// decrease that happened.
///
/// For a small step `Δθ`, `L(θ + Δθ) ≈ L(θ) + g·Δθ`: the gradient `g` is the direction of
/// steepest ascent, and a step against it lowers the loss by about `−g·Δθ`, which is
/// `lr ‖g‖²` for plain SGD. The actual decrease comes from evaluating the loss again after the
/// step, on the same batch, in training mode with the same dropout masks. The two agree while
/// the learning rate keeps the step in the region where the loss is close to linear; when the
/// step is too long the actual decrease falls short of the prediction, and then turns negative
/// (the loss rises).
///
/// `g` is the gradient before clipping and `Δθ` the step actually taken, so the check also
/// holds with momentum, adaptive optimizers and clipping (whose step need not point along `−g`;
/// `predicted` is then smaller than `lr ‖g‖²`, or even negative).
#[derive(Clone, Copy, Debug, Default, PartialEq, Zeroable)]
pub struct FirstOrder<T> {
    /// The loss before the step.
    pub loss_before: T,
    /// The loss after the step, on the same batch.
    pub loss_after: T,
    /// `−g·Δθ`, the decrease the gradient predicts.
    pub predicted: T,
}

impl<T: Real> FirstOrder<T> {
    /// `loss_before − loss_after`, the decrease that happened.
    pub fn actual(&self) -> T {
        self.loss_before - self.loss_after
    }

    /// `actual / predicted`: 1 in the linear regime, below 1 (then negative) as the step
    /// overshoots.
    pub fn agreement(&self) -> T {
        self.actual() / self.predicted
    }
}

impl<T: Real> fmt::Display for FirstOrder<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "loss {:.6e} → {:.6e}: decrease {:.3e}, predicted by the gradient {:.3e} (ratio {:.3})",
            self.loss_before.to_f64(),
            self.loss_after.to_f64(),
            self.actual().to_f64(),
            self.predicted.to_f64(),
            self.agreement().to_f64()
        )
    }
}

/// What a [`Monitor`] recorded about one step.
#[derive(Clone, Copy, Debug, PartialEq, Zeroable)]
pub struct StepRecord<T, const CAP: usize> {
    /// The step's number as the optimizer counts them (from 1).
    pub step: u64,
    /// The batch's loss before the step.
    pub loss: T,
    /// Whether the step was applied, so that the update norms were measured; false when it was
    /// refused as non-finite (the gradient statistics then show where).
    pub stepped: bool,
    /// Gradient statistics (before clipping), parameter norms (before the step) and update norms.
    pub stats: GradientStats<T, CAP>,
    first_order: FirstOrder<T>,
    has_first_order: bool,
}

impl<T: Real, const CAP: usize> StepRecord<T, CAP> {
    /// The first-order check of the step, if the monitor made it.
    pub fn first_order(&self) -> Option<FirstOrder<T>> {
        self.has_first_order.then_some(self.first_order)
    }

    /// What falls outside the healthy bands of `thresholds`, in this order: the gradient ratio
    /// between first and last layer, then per layer non-finite gradients and the update ratio
    /// (when the step was applied), then the first-order check.
    pub fn findings(&self, thresholds: &Thresholds<T>) -> impl Iterator<Item = Finding<T>> + '_ {
        let thresholds = *thresholds;
        let ratio = self
            .stats
            .layers()
            .first()
            .zip(self.stats.layers().last())
            .and_then(|(first, last)| {
                let ratio = self.stats.gradient_ratio()?;
                let (first, last) = (first.layer, last.layer);
                if ratio < thresholds.gradient_ratio.0 {
                    Some(Finding::VanishingGradient { first, last, ratio })
                } else if ratio > thresholds.gradient_ratio.1 {
                    Some(Finding::ExplodingGradient { first, last, ratio })
                } else {
                    None
                }
            });
        let stepped = self.stepped;
        let layers = self.stats.layers().iter().flat_map(move |l| {
            let non_finite = (l.stats.non_finite > 0).then_some(Finding::NonFiniteGradient {
                layer: l.layer,
                count: l.stats.non_finite,
            });
            let ratio = l.stats.update_ratio();
            let update = if !stepped {
                None
            } else if ratio < thresholds.update_ratio.0 {
                Some(Finding::UpdateTooSmall { layer: l.layer, ratio })
            } else if ratio > thresholds.update_ratio.1 || !ratio.is_finite() {
                Some(Finding::UpdateTooLarge { layer: l.layer, ratio })
            } else {
                None
            };
            non_finite.into_iter().chain(update)
        });
        let first_order = self.first_order().and_then(move |check| {
            let predicted = check.predicted;
            // Below a thousand rounding errors of the loss the comparison measures rounding.
            let resolvable = predicted.abs() > T::of(1e3) * T::EPSILON * check.loss_before.abs();
            let off = (check.actual() - predicted).abs() > thresholds.first_order_tolerance * predicted.abs();
            (resolvable && off).then_some(Finding::NonLinearStep {
                predicted,
                actual: check.actual(),
            })
        });
        ratio.into_iter().chain(layers).chain(first_order)
    }
}

/// Step `step`, its loss and first-order check, then the [`GradientStats`] table.
impl<T: Real, const CAP: usize> fmt::Display for StepRecord<T, CAP> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "step {}  loss {:.6e}", self.step, self.loss.to_f64())?;
        if !self.stepped {
            write!(f, "  (refused: not finite)")?;
        }
        writeln!(f)?;
        if let Some(check) = self.first_order() {
            writeln!(f, "first order: {check}")?;
        }
        write!(f, "{}", self.stats)
    }
}

/// Runs training steps like [`Workspace::try_train_step`] and records, for each, the gradient
/// statistics of every tensor and layer, the size of the update relative to the parameters
/// and, if [`Monitor::first_order`] is set, the [first-order check](FirstOrder).
///
/// It holds a copy of the parameters (taken before each step, to measure the change the
/// optimizer makes; an optimizer is free to do anything, so the change is measured, not
/// predicted), a copy of the raw gradient when the first-order check is made with clipping,
/// and a copy of the workspace's cache (the first-order check re-evaluates the batch with the
/// same dropout masks). All are built once: a step allocates nothing. `CAP` is the capacity of
/// the record in tensors, checked when the monitor is built.
///
/// ```
/// use static_nn::prelude::*;
/// use static_nn::diagnostics::{Monitor, Thresholds};
/// use static_nn::nalgebra::SMatrix;
///
/// type Net = (Dense<f64, 2, 8>, Tanh, Dense<f64, 8, 1>);
/// let mut net = Net::build(Init::XavierUniform, &mut Rng::new(0));
/// let mut sgd = Sgd::new(SgdConfig::with_lr(1e-3));
/// let mut workspace = Workspace::new();
/// let mut monitor = Monitor::<f64, Net, SMatrix<f64, 2, 4>, 4>::new().unwrap();
/// monitor.first_order = true;
/// let x = SMatrix::<f64, 2, 4>::new(0.0, 0.0, 1.0, 1.0, 0.0, 1.0, 0.0, 1.0);
/// let y = SMatrix::<f64, 1, 4>::new(0.0, 1.0, 1.0, 0.0);
/// monitor.train_step(&mut workspace, &mut net, &mut sgd, &Mse, &x, &y, None).unwrap();
///
/// let record = monitor.record();
/// let last = record.stats.layer(2).unwrap();
/// println!("{record}"); // a table of norms, one line per tensor
/// assert!(last.update_norm > 0.0);
/// let check = record.first_order().unwrap();
/// assert!((check.agreement() - 1.0).abs() < 0.01); // a small step is nearly linear
/// assert_eq!(record.findings(&Thresholds::default()).count(), 0);
/// ```
#[derive(Zeroable)]
#[zeroable(bound = "")]
pub struct Monitor<T: Real, N: Layer<T, X>, X, const CAP: usize> {
    /// Also make the first-order check (default false): one more training forward pass per
    /// step, on the batch just used.
    pub first_order: bool,
    record: StepRecord<T, CAP>,
    /// The parameters before the step, then the step `Δθ`.
    before: N::Gradient,
    /// The gradient before clipping, kept when clipping would overwrite it.
    raw: N::Gradient,
    /// The workspace's cache as it was before the step's forward pass.
    cache: N::Cache,
    input: PhantomData<fn(&X)>,
}

impl<T: Real, N: Layer<T, X>, X, const CAP: usize> Monitor<T, N, X, CAP> {
    /// A monitor for the network `N`, without the first-order check.
    ///
    /// # Errors
    /// [`CapacityError`] if `N` has more than `CAP` tensors.
    pub fn new() -> Result<Self, CapacityError> {
        let mut monitor = Self::zeroed();
        monitor.record.stats.lay_out::<N>()?;
        Ok(monitor)
    }

    /// Like [`Monitor::new`], built directly on the heap, for networks too large for the stack.
    ///
    /// # Errors
    /// [`CapacityError`] if `N` has more than `CAP` tensors.
    #[cfg(feature = "alloc")]
    pub fn new_boxed() -> Result<alloc::boxed::Box<Self>, CapacityError> {
        let mut monitor = crate::zeroed_box::<Self>();
        monitor.record.stats.lay_out::<N>()?;
        Ok(monitor)
    }

    /// What the last step recorded.
    pub fn record(&self) -> &StepRecord<T, CAP> {
        &self.record
    }

    /// One step of [`Workspace::try_train_step`], recorded: after the backward pass, the
    /// gradient and parameter statistics (before clipping, before the update); after the
    /// optimizer step, the norm of each tensor's change; then, if [`Monitor::first_order`] is
    /// set, the loss on the same batch again. Returns the loss before the step.
    ///
    /// The workspace keeps the cache and output of the step's forward pass (the first-order
    /// check uses the monitor's own copy), so activations can be inspected afterwards
    /// ([`ActivationHealth::record`](super::ActivationHealth::record)).
    ///
    /// # Errors
    /// [`NonFiniteStep`] as [`Workspace::try_train_step`]: the network and optimizer are left
    /// as they were, and the record holds the gradient statistics with
    /// [`StepRecord::stepped`] false, so [`Stats::non_finite`](super::Stats::non_finite) shows
    /// which tensors went wrong.
    #[allow(clippy::too_many_arguments)]
    pub fn train_step<L, O>(
        &mut self,
        workspace: &mut Workspace<T, N, X>,
        net: &mut N,
        optimizer: &mut O,
        loss: &L,
        x: &X,
        target: &L::Target,
        clip: Option<Clip<T>>,
    ) -> Result<T, NonFiniteStep<T>>
    where
        L: Loss<T, N::Output>,
        O: Optimizer<T, N>,
    {
        let first_order = self.first_order;
        if first_order {
            self.cache.clone_from(&workspace.cache);
        }
        let value = workspace.compute_gradient(net, loss, x, target);
        let Self {
            record, before, raw, ..
        } = self;
        record.step = optimizer.steps() + 1;
        record.loss = value;
        record.stepped = false;
        record.has_first_order = false;
        let keep_raw = first_order && clip.is_some();
        {
            let mut snapshots = before.tensors_mut();
            let mut raws = raw.tensors_mut();
            record
                .stats
                .measure_tensors::<N>(net.tensors().zip(workspace.grad.tensors()), |_, param, grad| {
                    if let Some(snapshot) = snapshots.next() {
                        snapshot.copy_from_slice(param);
                    }
                    if let (true, Some(raw)) = (keep_raw, raws.next()) {
                        raw.copy_from_slice(grad);
                    }
                });
        }
        workspace.apply_gradient(net, optimizer, value, clip)?;

        let gradient = if keep_raw { &self.raw } else { &workspace.grad };
        let mut dot = T::zero();
        let tensors = self.before.tensors_mut().zip(net.tensors()).zip(gradient.tensors());
        for (i, ((delta, after), g)) in tensors.enumerate() {
            for (d, &a) in delta.iter_mut().zip(after) {
                *d = a - *d;
            }
            let (largest, _) = max_abs_and_non_finite(delta);
            self.record.stats.set_update_norm(i, norm(delta, largest));
            if first_order {
                dot += delta.iter().zip(g).fold(T::zero(), |sum, (&d, &g)| sum + d * g);
            }
        }
        self.record.stats.aggregate();
        self.record.stepped = true;
        if first_order {
            let y = net.forward_train(x, &mut self.cache);
            self.record.first_order = FirstOrder {
                loss_before: value,
                loss_after: loss.value(&y, target),
                predicted: -dot,
            };
            self.record.has_first_order = true;
        }
        Ok(value)
    }
}

/// The trainer's steps, recorded: [`Trainer::fit_with`](crate::Trainer::fit_with) with a monitor.
#[cfg(feature = "alloc")]
impl<T: Real, N: Layer<T, X>, X, const CAP: usize> crate::train::TrainStep<T, N, X> for Monitor<T, N, X, CAP> {
    fn train_step<L, O>(
        &mut self,
        workspace: &mut Workspace<T, N, X>,
        net: &mut N,
        optimizer: &mut O,
        loss: &L,
        x: &X,
        target: &L::Target,
        clip: Option<Clip<T>>,
    ) -> Result<T, NonFiniteStep<T>>
    where
        L: Loss<T, N::Output>,
        O: Optimizer<T, N>,
    {
        Monitor::train_step(self, workspace, net, optimizer, loss, x, target, clip)
    }
}
