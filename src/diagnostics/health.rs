//! Saturated and dead units of the activation layers.

use core::fmt;

use super::{CapacityError, Finding, Thresholds};
use crate::{ActivationKind, ActivationVisitor, Activations};
use crate::{Layer, Real, Workspace};

/// How one activation layer fared: on the last batch recorded, and since the last
/// [`ActivationHealth::reset`] (an epoch, say).
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct ActivationRecord {
    /// The layer's position, as [`TensorInfo::layer`](crate::TensorInfo).
    pub position: usize,
    /// What is measured: saturation for [`ActivationKind::Saturating`], dead units for
    /// [`ActivationKind::Rectifying`], nothing for [`ActivationKind::Other`].
    pub kind: ActivationKind,
    /// Units (rows) of the layer.
    pub units: usize,
    /// Samples in the last batch.
    pub samples: usize,
    /// Entries (unit, sample) of the last batch whose derivative is below the saturation
    /// threshold.
    pub saturated: usize,
    /// Units whose derivative is 0 for every sample of the last batch.
    pub dead: usize,
    /// Entries seen since the reset.
    pub entries_since_reset: usize,
    /// Saturated entries since the reset.
    pub saturated_since_reset: usize,
    /// Units whose derivative was 0 for every sample since the reset.
    pub dead_since_reset: usize,
    /// Where the layer's units start in the record of units ever alive.
    offset: usize,
}

impl ActivationRecord {
    /// Saturated fraction of the last batch's entries.
    pub fn saturated_fraction(&self) -> f64 {
        fraction(self.saturated, self.units * self.samples)
    }

    /// Saturated fraction of the entries since the reset.
    pub fn saturated_fraction_since_reset(&self) -> f64 {
        fraction(self.saturated_since_reset, self.entries_since_reset)
    }

    /// Fraction of the units dead on the last batch.
    pub fn dead_fraction(&self) -> f64 {
        fraction(self.dead, self.units)
    }

    /// Fraction of the units dead on every batch since the reset.
    pub fn dead_fraction_since_reset(&self) -> f64 {
        fraction(self.dead_since_reset, self.units)
    }
}

fn fraction(part: usize, whole: usize) -> f64 {
    if whole == 0 { 0.0 } else { part as f64 / whole as f64 }
}

/// Measures, for every activation layer of a network, how many of its units have stopped
/// passing gradient: **saturated** entries of sigmoid-like layers and **dead** units of
/// rectifiers, on each batch and accumulated since the last [`reset`](ActivationHealth::reset).
///
/// - A sigmoid or tanh unit is saturated on a sample when its derivative is below
///   [`saturation_threshold`](ActivationHealth::saturation_threshold) (default 0.01) times the
///   function's largest derivative: it passes back less than 1% of the gradient it would pass
///   at its steepest. That is `|z| > 5.99` for the sigmoid (its output within 0.0025 of 0 or 1)
///   and `|z| > 2.99` for tanh (within 0.005 of ±1). Backpropagation through such a unit
///   multiplies by almost nothing, which is how saturation makes gradients vanish.
/// - A ReLU unit is dead when its derivative is 0 for every sample seen: its input is never
///   positive, so neither it nor the weights feeding it receive any gradient from the data.
///   Nothing in its own gradient pulls it back, though it can revive when the layers below it
///   change what they feed it (and weight decay or momentum still move its weights). Measured
///   per batch and since the reset (an epoch).
///
/// The layers are found through [`Layer::visit_activations`], so any network made of the
/// crate's composites is covered without change. Capacities: `LAYERS` activation layers and
/// `UNITS` units in all (for the per-unit record of which units were ever alive), checked once
/// when the record is made. Recording allocates nothing.
///
/// ```
/// use static_nn::prelude::*;
/// use static_nn::diagnostics::{ActivationHealth, Finding, Thresholds};
/// use static_nn::nalgebra::SMatrix;
///
/// type Net = (Dense<f32, 2, 8>, Sigmoid, Dense<f32, 8, 1>);
/// let mut net = Net::build(Init::PyTorch, &mut Rng::new(0));
/// net.0.weight *= 100.0; // far too large: every sigmoid saturates
/// let x = SMatrix::<f32, 2, 4>::new(0.0, 0.5, 1.0, 1.0, 1.0, 0.0, 0.5, 1.0);
/// let mut workspace = Workspace::new();
/// workspace.compute_gradient(&net, &Mse, &x, &SMatrix::zeros());
///
/// let mut health = ActivationHealth::<f32, 4, 64>::new(&net, &x, &workspace).unwrap();
/// health.record(&net, &x, &workspace);
/// let sigmoid = health.layers()[0];
/// assert_eq!(sigmoid.position, 1);
/// assert!(sigmoid.saturated_fraction() > 0.8);
/// assert!(matches!(health.findings(&Thresholds::default()).next(), Some(Finding::Saturated { layer: 1, .. })));
/// ```
#[derive(Clone, Debug)]
pub struct ActivationHealth<T, const LAYERS: usize, const UNITS: usize> {
    /// A saturating unit is saturated where its derivative is below this fraction of the
    /// function's largest derivative (default 0.01).
    pub saturation_threshold: f64,
    layers: [ActivationRecord; LAYERS],
    count: usize,
    /// Whether each unit had a non-zero derivative on some sample since the reset.
    alive: [bool; UNITS],
    /// The layer the next visit reports.
    cursor: usize,
    scalar: core::marker::PhantomData<T>,
}

impl<T: Real, const LAYERS: usize, const UNITS: usize> ActivationHealth<T, LAYERS, UNITS> {
    /// A record laid out for the activation layers of `net` fed with `x`: the layers found in
    /// `workspace` by [`Workspace::visit_activations`] (only their shapes are read, so a fresh
    /// workspace does).
    ///
    /// # Errors
    /// [`CapacityError`] if `net` has more than `LAYERS` activation layers, or more than `UNITS`
    /// activation units in all.
    pub fn new<N: Layer<T, X>, X>(net: &N, x: &X, workspace: &Workspace<T, N, X>) -> Result<Self, CapacityError> {
        let mut health = Self {
            saturation_threshold: 0.01,
            layers: [ActivationRecord::default(); LAYERS],
            count: 0,
            alive: [false; UNITS],
            cursor: 0,
            scalar: core::marker::PhantomData,
        };
        let (mut layers, mut units) = (0, 0);
        workspace.visit_activations(net, x, &mut |a: Activations<'_, T>| {
            if layers < LAYERS {
                health.layers[layers] = ActivationRecord {
                    position: a.position,
                    kind: a.kind,
                    units: a.units,
                    offset: units,
                    ..ActivationRecord::default()
                };
            }
            layers += 1;
            units += a.units;
        });
        if layers > LAYERS {
            return Err(CapacityError {
                what: "activation layers",
                needed: layers,
                capacity: LAYERS,
            });
        }
        if units > UNITS {
            return Err(CapacityError {
                what: "activation units",
                needed: units,
                capacity: UNITS,
            });
        }
        health.count = layers;
        Ok(health)
    }

    /// Measures the activations of the last training forward pass in `workspace` (on input
    /// `x`), and adds them to the counts since the reset.
    ///
    /// # Panics
    /// If `net` does not have the activation layers this record was laid out for.
    pub fn record<N: Layer<T, X>, X>(&mut self, net: &N, x: &X, workspace: &Workspace<T, N, X>) {
        self.cursor = 0;
        workspace.visit_activations(net, x, self);
        assert_eq!(
            self.cursor, self.count,
            "ActivationHealth was laid out for a network with other activation layers"
        );
    }

    /// Starts a new accumulation: counts since the reset go back to zero, no unit has been
    /// alive yet. Call it at the start of each epoch.
    pub fn reset(&mut self) {
        for layer in self.layers_mut() {
            layer.entries_since_reset = 0;
            layer.saturated_since_reset = 0;
            layer.dead_since_reset = 0;
        }
        self.alive.fill(false);
    }

    /// Every activation layer, in forward order.
    pub fn layers(&self) -> &[ActivationRecord] {
        &self.layers[..self.count]
    }

    fn layers_mut(&mut self) -> &mut [ActivationRecord] {
        &mut self.layers[..self.count]
    }

    /// Layers whose saturated fraction (since the reset) or dead fraction (since the reset)
    /// exceeds the limits of `thresholds`.
    pub fn findings(&self, thresholds: &Thresholds<T>) -> impl Iterator<Item = Finding<T>> + '_ {
        let (saturated, dead) = (thresholds.saturated_fraction, thresholds.dead_fraction);
        self.layers().iter().filter_map(move |l| match l.kind {
            ActivationKind::Saturating { .. } if l.saturated_fraction_since_reset() > saturated => {
                Some(Finding::Saturated {
                    layer: l.position,
                    fraction: l.saturated_fraction_since_reset(),
                })
            }
            ActivationKind::Rectifying if l.dead_fraction_since_reset() > dead => Some(Finding::DeadUnits {
                layer: l.position,
                dead: l.dead_since_reset,
                units: l.units,
            }),
            _ => None,
        })
    }
}

impl<T: Real, const LAYERS: usize, const UNITS: usize> ActivationVisitor<T> for ActivationHealth<T, LAYERS, UNITS> {
    fn visit(&mut self, a: Activations<'_, T>) {
        let threshold = self.saturation_threshold;
        let Some(layer) = self.layers[..self.count].get_mut(self.cursor) else {
            panic!("ActivationHealth was laid out for a network with fewer activation layers");
        };
        assert!(
            layer.position == a.position && layer.units == a.units,
            "ActivationHealth was laid out for another network (activation {} of {} units, found {} of {})",
            layer.position,
            layer.units,
            a.position,
            a.units
        );
        self.cursor += 1;
        let samples = a.samples();
        layer.samples = samples;
        layer.saturated = 0;
        layer.dead = 0;
        layer.entries_since_reset += a.units * samples;
        match a.kind {
            ActivationKind::Saturating { max_derivative } => {
                let below = T::of(threshold * max_derivative);
                let saturated = a
                    .input
                    .iter()
                    .zip(a.output)
                    .filter(|&(&z, &y)| a.function.derivative(z, y) < below)
                    .count();
                layer.saturated = saturated;
                layer.saturated_since_reset += saturated;
            }
            ActivationKind::Rectifying => {
                let alive = &mut self.alive[layer.offset..layer.offset + a.units];
                for (unit, ever) in alive.iter_mut().enumerate() {
                    let now = (0..samples).any(|sample| a.derivative(unit, sample) != T::zero());
                    layer.dead += usize::from(!now);
                    *ever |= now;
                }
                layer.dead_since_reset = alive.iter().filter(|&&ever| !ever).count();
            }
            ActivationKind::Other => {}
        }
    }
}

/// One line per activation layer: its saturated or dead fraction, on the last batch and since
/// the reset.
impl<T: Real, const LAYERS: usize, const UNITS: usize> fmt::Display for ActivationHealth<T, LAYERS, UNITS> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(f, "layer kind        units  last batch   since reset")?;
        for l in self.layers() {
            let (kind, last, since) = match l.kind {
                ActivationKind::Saturating { .. } => {
                    ("saturating", l.saturated_fraction(), l.saturated_fraction_since_reset())
                }
                ActivationKind::Rectifying => ("rectifying", l.dead_fraction(), l.dead_fraction_since_reset()),
                ActivationKind::Other => {
                    writeln!(f, "{:>5} {:<10} {:>6}", l.position, "other", l.units)?;
                    continue;
                }
            };
            let what = if let ActivationKind::Rectifying = l.kind {
                "dead"
            } else {
                "saturated"
            };
            writeln!(
                f,
                "{:>5} {kind:<10} {:>6}  {:>6.1}% {what:<9} {:>6.1}%",
                l.position,
                l.units,
                100.0 * last,
                100.0 * since
            )?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use nalgebra::{Matrix2, SMatrix, Vector2};

    use super::*;
    use crate::{Dense, Init, Mse, Parameters, Relu, Rng, Tanh};

    type Net = (Dense<f64, 2, 2>, Tanh, Dense<f64, 2, 2>, Relu, Dense<f64, 2, 1>);

    fn net() -> Net {
        let mut net = Net::build(Init::PyTorch, &mut Rng::new(0));
        // Tanh inputs: unit 0 gets 4·x₀ (saturated when |4 x₀| > 2.99), unit 1 gets 0.1·x₁.
        net.0 = Dense::new(Matrix2::new(4.0, 0.0, 0.0, 0.1), Vector2::zeros());
        // ReLU inputs: unit 0 gets −1 − |h| < 0 always (dead); unit 1 gets h₀, alive when h₀ > 0.
        net.2 = Dense::new(Matrix2::new(0.0, 0.0, 1.0, 0.0), Vector2::new(-2.0, 0.0));
        net
    }

    #[test]
    fn saturated_entries_and_dead_units_are_counted_by_hand() {
        let net = net();
        // x₀ = 1, 0.5, 0.1, -1 → 4x₀ = 4, 2, 0.4, -4: two saturated of four; unit 1 never.
        let x = SMatrix::<f64, 2, 4>::new(1.0, 0.5, 0.1, -1.0, 1.0, 1.0, 1.0, 1.0);
        let mut workspace = Workspace::new();
        workspace.compute_gradient(&net, &Mse, &x, &SMatrix::zeros());
        let mut health = ActivationHealth::<f64, 2, 4>::new(&net, &x, &workspace).unwrap();
        health.record(&net, &x, &workspace);
        let [tanh, relu] = health.layers() else { panic!() };
        assert_eq!((tanh.position, tanh.units, tanh.samples), (1, 2, 4));
        assert_eq!(tanh.saturated, 2);
        assert_eq!(tanh.saturated_fraction(), 0.25);
        // ReLU unit 0 is dead; unit 1 sees tanh(4x₀) > 0 for three samples.
        assert_eq!((relu.position, relu.dead, relu.dead_since_reset), (3, 1, 1));
        assert_eq!(relu.dead_fraction(), 0.5);

        // A batch on which unit 1 is dead too: dead on this batch, alive since the reset.
        let negative = SMatrix::<f64, 2, 4>::new(-1.0, -0.5, -0.1, -1.0, 1.0, 1.0, 1.0, 1.0);
        workspace.compute_gradient(&net, &Mse, &negative, &SMatrix::zeros());
        health.record(&net, &negative, &workspace);
        let relu = health.layers()[1];
        assert_eq!((relu.dead, relu.dead_since_reset), (2, 1));
        assert_eq!(health.layers()[0].saturated_fraction_since_reset(), 4.0 / 16.0);
        health.reset();
        health.record(&net, &negative, &workspace);
        assert_eq!(health.layers()[1].dead_since_reset, 2);
        assert!(health.to_string().contains("dead"));
    }

    #[test]
    fn capacities_are_checked_when_the_record_is_made() {
        let (net, x) = (net(), SMatrix::<f64, 2, 1>::zeros());
        let workspace = Workspace::new();
        let layers = ActivationHealth::<f64, 1, 8>::new(&net, &x, &workspace).unwrap_err();
        assert_eq!(
            (layers.what, layers.needed, layers.capacity),
            ("activation layers", 2, 1)
        );
        let units = ActivationHealth::<f64, 2, 3>::new(&net, &x, &workspace).unwrap_err();
        assert_eq!(
            units.to_string(),
            "the network has 4 activation units, more than the record's capacity of 3"
        );
    }
}
