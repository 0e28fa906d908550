//! A history of records over training, as series to plot or tabulate.

use alloc::format;
use alloc::string::String;
use alloc::vec::Vec;

use super::{ActivationHealth, StepRecord};
use crate::ActivationKind;
use crate::Real;

/// A named sequence of `(x, y)` points.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Series {
    /// The legend entry.
    pub label: String,
    /// The points, in order.
    pub points: Vec<(f64, f64)>,
}

impl Series {
    /// An empty series.
    pub fn new(label: impl Into<String>) -> Self {
        Self {
            label: label.into(),
            points: Vec::new(),
        }
    }

    /// The series with its label replaced.
    pub fn labelled(self, label: impl Into<String>) -> Self {
        Self {
            label: label.into(),
            ..self
        }
    }

    /// The mean of the `y` values of every `window` consecutive points, at the window's last
    /// `x`: smooths a noisy per-step curve.
    pub fn smoothed(&self, window: usize) -> Self {
        let points = self
            .points
            .chunks(window.max(1))
            .map(|chunk| {
                let x = chunk[chunk.len() - 1].0;
                (x, chunk.iter().map(|p| p.1).sum::<f64>() / chunk.len() as f64)
            })
            .collect();
        Self {
            label: self.label.clone(),
            points,
        }
    }
}

/// The history of a training run, step by step, for plots (`diagnostics::plot` with the
/// `plot` feature) and tables: the loss, each layer's gradient norm and update ratio, each
/// activation layer's saturated or dead fraction.
///
/// Pushing allocates (the series grow); keep it out of code that must not allocate, or push
/// every few steps.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Trace {
    /// The loss before each step.
    pub loss: Series,
    /// `‖g‖` of each layer with parameters, labelled `layer {position}`.
    pub gradient_norms: Vec<Series>,
    /// `‖Δθ‖ / ‖θ‖` of each layer with parameters (applied steps only).
    pub update_ratios: Vec<Series>,
    /// The saturated fraction of each saturating activation layer, per batch.
    pub saturation: Vec<Series>,
    /// The fraction of dead units of each rectifying activation layer, since the last reset.
    pub dead: Vec<Series>,
    /// `(predicted, actual)` decrease of each step with a first-order check.
    pub first_order: Vec<(f64, f64)>,
}

impl Trace {
    /// An empty trace whose loss series is labelled `label`.
    pub fn new(label: impl Into<String>) -> Self {
        Self {
            loss: Series::new(label),
            ..Self::default()
        }
    }

    /// Appends what `record` says about its step.
    pub fn push<T: Real, const CAP: usize>(&mut self, record: &StepRecord<T, CAP>) {
        let step = record.step as f64;
        self.loss.points.push((step, record.loss.to_f64()));
        for layer in record.stats.layers() {
            let label = format!("layer {}", layer.layer);
            series(&mut self.gradient_norms, &label).push((step, layer.stats.grad_norm.to_f64()));
            if record.stepped {
                series(&mut self.update_ratios, &label).push((step, layer.stats.update_ratio().to_f64()));
            }
        }
        if let Some(check) = record.first_order() {
            self.first_order
                .push((check.predicted.to_f64(), check.actual().to_f64()));
        }
    }

    /// Appends the activation health measured at step `step`.
    pub fn push_health<T: Real, const LAYERS: usize, const UNITS: usize>(
        &mut self,
        step: u64,
        health: &ActivationHealth<T, LAYERS, UNITS>,
    ) {
        let step = step as f64;
        for layer in health.layers() {
            let label = format!("layer {}", layer.position);
            match layer.kind {
                ActivationKind::Saturating { .. } => {
                    series(&mut self.saturation, &label).push((step, layer.saturated_fraction()));
                }
                ActivationKind::Rectifying => {
                    series(&mut self.dead, &label).push((step, layer.dead_fraction_since_reset()));
                }
                ActivationKind::Other => {}
            }
        }
    }
}

/// The points of the series labelled `label`, created if missing.
fn series<'a>(list: &'a mut Vec<Series>, label: &str) -> &'a mut Vec<(f64, f64)> {
    let index = match list.iter().position(|s| s.label == label) {
        Some(index) => index,
        None => {
            list.push(Series::new(label));
            list.len() - 1
        }
    };
    &mut list[index].points
}

#[cfg(test)]
mod tests {
    use nalgebra::SMatrix;

    use super::*;
    use crate::diagnostics::Monitor;
    use crate::{Dense, Init, Mse, Parameters, Rng, Sgd, SgdConfig, Sigmoid, Workspace};

    #[test]
    fn a_trace_has_one_series_per_layer() {
        type Net = (Dense<f64, 2, 3>, Sigmoid, Dense<f64, 3, 1>);
        let mut net = Net::build(Init::PyTorch, &mut Rng::new(0));
        let mut sgd = Sgd::new(SgdConfig::with_lr(0.1));
        let mut workspace = Workspace::new();
        let mut monitor = Monitor::<f64, Net, SMatrix<f64, 2, 2>, 4>::new().unwrap();
        monitor.first_order = true;
        let x = SMatrix::<f64, 2, 2>::new(1.0, 0.0, 0.0, 1.0);
        let y = SMatrix::<f64, 1, 2>::new(1.0, 0.0);
        let mut health = ActivationHealth::<f64, 1, 3>::new(&net, &x, &workspace).unwrap();
        let mut trace = Trace::new("run");
        for _ in 0..3 {
            monitor
                .train_step(&mut workspace, &mut net, &mut sgd, &Mse, &x, &y, None)
                .unwrap();
            health.record(&net, &x, &workspace);
            trace.push(monitor.record());
            trace.push_health(monitor.record().step, &health);
        }
        assert_eq!(trace.loss.label, "run");
        assert_eq!(
            trace.loss.points.iter().map(|p| p.0).collect::<Vec<_>>(),
            [1.0, 2.0, 3.0]
        );
        let labels: Vec<&str> = trace.gradient_norms.iter().map(|s| s.label.as_str()).collect();
        assert_eq!(labels, ["layer 0", "layer 2"]);
        assert_eq!(trace.update_ratios[1].points.len(), 3);
        assert_eq!(trace.saturation[0].label, "layer 1");
        assert_eq!(trace.first_order.len(), 3);
        assert_eq!(trace.loss.smoothed(2).points.len(), 2);
    }
}
