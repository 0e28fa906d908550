//! Local impact (gradients) against overall importance (ablation) of hidden units and layers.

use core::fmt;

use bytemuck::Zeroable;

use crate::{Layer, Loss, Real, Tensors, Workspace};

/// How one unit fared in an [`Importance`] analysis: the gradient view and the ablation.
///
/// A unit is seen through its **outgoing weights**, the column of the next layer's weight that
/// reads it: they are exactly the parameters the ablation sets to zero, so both measures are
/// about the same parameters, one locally, one globally.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct UnitImportance<T> {
    /// The unit's index (the weight column).
    pub unit: usize,
    /// Mean of `|∂L/∂θ|` over the unit's outgoing weights and over the batches: how strongly
    /// the loss reacts, locally, to each of them. The usual "gradient saliency".
    pub mean_abs_gradient: T,
    /// `−Σ θ·∂L/∂θ` over the outgoing weights, with the gradient of the loss over the whole
    /// data set: the first-order (Taylor) prediction of the loss increase when they are
    /// zeroed. It equals `−Σ h ∂L/∂h`, *minus* the derivative of the loss with respect to a
    /// gate `a` on the unit's output (`h → a h`, at `a = 1`, where `∂L/∂a = Σ h ∂L/∂h`): closing
    /// the gate from 1 to 0 is a step of −1 (Mozer and Smolensky's relevance).
    pub taylor: T,
    /// The loss increase over the data set when the unit's output is zeroed: measured, not
    /// predicted. Exact: zeroing the column that reads a unit is zeroing the unit's output.
    pub ablation: T,
}

/// An [`Importance`] analysis of one layer's units and of the layer as a whole.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct LayerImportance<T> {
    /// The position of the layer whose weight reads the units (as
    /// [`TensorInfo::layer`](crate::TensorInfo)).
    pub layer: usize,
    /// Units analysed (the weight's columns).
    pub units: usize,
    /// The loss over the data set, nothing ablated.
    pub baseline: T,
    /// Mean `|∂L/∂θ|` over the whole weight.
    pub mean_abs_gradient: T,
    /// `−Σ θ·∂L/∂θ` over the whole weight.
    pub taylor: T,
    /// The loss increase when every unit's output is zeroed at once (the layer's output
    /// removed; the next layer keeps its bias).
    pub ablation: T,
    /// Spearman's rank correlation between the units' `mean_abs_gradient` and `ablation`:
    /// 1 if the larger gradient always marks the more important unit; `None` if either is
    /// constant.
    pub gradient_vs_ablation: Option<T>,
    /// Spearman's rank correlation between the units' `taylor` and `ablation`.
    pub taylor_vs_ablation: Option<T>,
}

impl<T: Real> fmt::Display for LayerImportance<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let rho = |r: Option<T>| r.map_or(f64::NAN, |r| r.to_f64());
        write!(
            f,
            "units read by layer {} ({}): ablating all raises the loss by {:.3e} (Taylor {:.3e}); \
             rank correlation with the ablation: mean |gradient| {:.2}, Taylor {:.2}",
            self.layer,
            self.units,
            self.ablation.to_f64(),
            self.taylor.to_f64(),
            rho(self.gradient_vs_ablation),
            rho(self.taylor_vs_ablation)
        )
    }
}

/// A table of [`UnitImportance`]s, one line per unit in the order given.
pub struct UnitTable<'a, T>(pub &'a [UnitImportance<T>]);

impl<T: Real> fmt::Display for UnitTable<'_, T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(f, " unit  mean |∂L/∂θ|      Taylor    ablation")?;
        for u in self.0 {
            writeln!(
                f,
                "{:>5}  {:>12.3e}  {:>10.3e}  {:>10.3e}",
                u.unit,
                u.mean_abs_gradient.to_f64(),
                u.taylor.to_f64(),
                u.ablation.to_f64()
            )?;
        }
        Ok(())
    }
}

/// Why an [`Importance`] analysis could not run.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ImportanceError {
    /// [`Importance::measure`] has not been run on a non-empty data set.
    NotMeasured,
    /// The network has no tensor named `weight` at this position.
    NoWeight {
        /// The position asked for.
        layer: usize,
    },
    /// The slice for the units' results is shorter than the number of units.
    TooFewSlots {
        /// Units of the layer.
        needed: usize,
        /// Length of the slice.
        given: usize,
    },
}

impl fmt::Display for ImportanceError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ImportanceError::NotMeasured => write!(f, "run Importance::measure on a non-empty data set first"),
            ImportanceError::NoWeight { layer } => write!(f, "the network has no `weight` tensor at layer {layer}"),
            ImportanceError::TooFewSlots { needed, given } => {
                write!(
                    f,
                    "the layer has {needed} units but the result slice only {given} slots"
                )
            }
        }
    }
}

impl core::error::Error for ImportanceError {}

/// Compares, for the hidden units of a layer (and the layer as a whole), the gradient's local
/// view with the unit's actual importance, over a data set.
///
/// A partial derivative says how the loss changes when one parameter moves a little, all
/// others fixed. It is a local view: a unit can receive large gradients and still matter
/// little (its output is redundant, or its outgoing weights are near zero), and a unit can
/// matter a great deal while its gradients are tiny (a saturated unit acting as a constant, or
/// any unit once the loss is at a minimum, where every gradient is zero). The analysis puts
/// three numbers side by side for each unit ([`UnitImportance`]): the mean absolute gradient of
/// its outgoing weights, the first-order (Taylor) prediction of the loss increase when they are
/// zeroed, and the measured increase, then ranks them against each other with
/// [`spearman`] rank correlations.
///
/// Every loss is computed in training mode (the function whose gradient is taken), each pass
/// over the data starting from a fresh cache, so that dropout draws the same masks in every
/// pass and the analysis is deterministic. The network is changed only while a unit is
/// ablated, and restored bit for bit. Nothing is allocated: the state is a workspace, the
/// mean gradient and the mean absolute gradient, built once (on the heap with
/// [`Importance::new_boxed`]).
///
/// ```
/// use static_nn::prelude::*;
/// use static_nn::diagnostics::{Importance, UnitImportance};
/// use static_nn::nalgebra::SMatrix;
///
/// type Net = (Dense<f64, 2, 4>, Tanh, Dense<f64, 4, 1>);
/// let mut net = Net::build(Init::PyTorch, &mut Rng::new(1));
/// net.2.weight[(0, 3)] = 0.0; // unit 3's output is read by nobody
/// let x = SMatrix::<f64, 2, 8>::from_fn(|i, j| (i as f64 - j as f64) * 0.3);
/// let data = [(x, SMatrix::<f64, 1, 8>::from_element(0.5))];
///
/// let mut importance = Importance::<f64, Net, _>::new();
/// importance.measure(&net, &Mse, &data);
/// let mut units = [UnitImportance::default(); 4];
/// let layer = importance.layer(&mut net, &Mse, &data, 2, &mut units).unwrap();
/// assert_eq!(units[3].ablation, 0.0);              // exactly nothing to remove
/// assert!(units[3].mean_abs_gradient > 0.0);       // yet its weight has a gradient
/// println!("{layer}");
/// ```
#[derive(Zeroable)]
#[zeroable(bound = "")]
pub struct Importance<T: Real, N: Layer<T, X>, X> {
    workspace: Workspace<T, N, X>,
    /// The cache every pass starts from (zero, as a fresh workspace's).
    start: N::Cache,
    /// The gradient of the mean loss over the data set.
    mean_grad: N::Gradient,
    /// The mean over batches of each entry's absolute gradient.
    mean_abs_grad: N::Gradient,
    measured: Measured<T>,
}

/// What [`Importance::measure`] found besides gradients.
#[derive(Clone, Copy, Zeroable)]
struct Measured<T> {
    /// The mean loss.
    baseline: T,
    /// Batches in the data set.
    batches: usize,
}

impl<T: Real, N: Layer<T, X>, X> Default for Importance<T, N, X> {
    fn default() -> Self {
        Self::zeroed()
    }
}

impl<T: Real, N: Layer<T, X>, X> Importance<T, N, X> {
    /// An analysis with zeroed buffers.
    pub fn new() -> Self {
        Self::zeroed()
    }

    /// An analysis built directly on the heap, for networks too large for the stack.
    #[cfg(feature = "alloc")]
    pub fn new_boxed() -> alloc::boxed::Box<Self> {
        crate::zeroed_box()
    }

    /// The loss over the data set measured by the last [`Importance::measure`].
    pub fn baseline(&self) -> T {
        self.measured.baseline
    }

    /// One pass over `data` (batches of inputs and targets), computing the loss, the gradient
    /// of the mean loss and the mean absolute gradient of every parameter. Returns the loss.
    /// Run it before [`Importance::layer`], and again whenever the network has changed.
    pub fn measure<L: Loss<T, N::Output>>(&mut self, net: &N, loss: &L, data: &[(X, L::Target)]) -> T {
        self.mean_grad.set_zero();
        self.mean_abs_grad.set_zero();
        self.workspace.cache.clone_from(&self.start);
        let mut sum = T::zero();
        for (x, target) in data {
            sum += self.workspace.compute_gradient(net, loss, x, target);
            let tensors = self.mean_grad.tensors_mut().zip(self.mean_abs_grad.tensors_mut());
            for ((mean, mean_abs), g) in tensors.zip(self.workspace.grad.tensors()) {
                for ((m, a), &g) in mean.iter_mut().zip(mean_abs.iter_mut()).zip(g) {
                    *m += g;
                    *a += g.abs();
                }
            }
        }
        self.measured.batches = data.len();
        if self.measured.batches > 0 {
            let n = T::of(data.len() as f64);
            self.mean_grad.scale(T::one() / n);
            self.mean_abs_grad.scale(T::one() / n);
            self.measured.baseline = sum / n;
        }
        self.measured.baseline
    }

    /// The loss over `data`, training mode, from the starting cache.
    fn loss_over<L: Loss<T, N::Output>>(&mut self, net: &N, loss: &L, data: &[(X, L::Target)]) -> T {
        self.workspace.cache.clone_from(&self.start);
        let mut sum = T::zero();
        for (x, target) in data {
            let y = net.forward_train(x, &mut self.workspace.cache);
            sum += loss.value(&y, target);
        }
        sum / T::of(data.len() as f64)
    }

    /// Analyses the units read by the `weight` tensor of the layer at position `layer` (a
    /// [`Dense`](crate::Dense): its input columns are the previous layer's units; for the
    /// first layer, the input features), writing one [`UnitImportance`] per unit into `units`
    /// and returning the layer's summary. The gradients are those of the last
    /// [`Importance::measure`], which must have run on the same `data`.
    ///
    /// Costs one pass over `data` per unit, plus one for the whole layer; `net` is restored
    /// exactly after each.
    ///
    /// # Errors
    /// [`ImportanceError`] if `measure` has not run, there is no `weight` at `layer`, or
    /// `units` is shorter than the number of units; nothing is changed.
    pub fn layer<L: Loss<T, N::Output>>(
        &mut self,
        net: &mut N,
        loss: &L,
        data: &[(X, L::Target)],
        layer: usize,
        units: &mut [UnitImportance<T>],
    ) -> Result<LayerImportance<T>, ImportanceError> {
        if self.measured.batches == 0 || data.is_empty() {
            return Err(ImportanceError::NotMeasured);
        }
        let (index, info) = N::tensor_infos()
            .enumerate()
            .find(|(_, t)| t.layer == layer && t.name == "weight")
            .ok_or(ImportanceError::NoWeight { layer })?;
        if units.len() < info.cols {
            return Err(ImportanceError::TooFewSlots {
                needed: info.cols,
                given: units.len(),
            });
        }
        let rows = info.rows;
        for (unit, slot) in units[..info.cols].iter_mut().enumerate() {
            let columns = unit * rows..(unit + 1) * rows;
            let (mean_abs_gradient, taylor) = self.gradient_view(net, index, columns.clone());
            let ablation = self.ablate(net, loss, data, index, columns) - self.measured.baseline;
            *slot = UnitImportance {
                unit,
                mean_abs_gradient,
                taylor,
                ablation,
            };
        }
        let all = 0..info.len();
        let (mean_abs_gradient, taylor) = self.gradient_view(net, index, all.clone());
        let ablation = self.ablate(net, loss, data, index, all) - self.measured.baseline;
        let units = &units[..info.cols];
        let column = |pick: fn(&UnitImportance<T>) -> T| move |i: usize| pick(&units[i]);
        let ablations = column(|u| u.ablation);
        Ok(LayerImportance {
            layer,
            units: info.cols,
            baseline: self.measured.baseline,
            mean_abs_gradient,
            taylor,
            ablation,
            gradient_vs_ablation: spearman_by(units.len(), column(|u| u.mean_abs_gradient), ablations),
            taylor_vs_ablation: spearman_by(units.len(), column(|u| u.taylor), ablations),
        })
    }

    /// Mean `|g|` and `−Σ θ ḡ` over `entries` of tensor `index`.
    fn gradient_view(&self, net: &N, index: usize, entries: core::ops::Range<usize>) -> (T, T) {
        let n = T::of(entries.len() as f64);
        let theta = &tensor(net.tensors(), index)[entries.clone()];
        let mean = &tensor(self.mean_grad.tensors(), index)[entries.clone()];
        let mean_abs = &tensor(self.mean_abs_grad.tensors(), index)[entries];
        let abs = mean_abs.iter().fold(T::zero(), |sum, &a| sum + a) / n;
        let taylor = -theta.iter().zip(mean).fold(T::zero(), |sum, (&p, &g)| sum + p * g);
        (abs, taylor)
    }

    /// The loss over `data` with `entries` of tensor `index` set to zero; the tensor is
    /// restored from a copy kept in the workspace's gradient, which the pass does not use.
    fn ablate<L: Loss<T, N::Output>>(
        &mut self,
        net: &mut N,
        loss: &L,
        data: &[(X, L::Target)],
        index: usize,
        entries: core::ops::Range<usize>,
    ) -> T {
        let expect = "the gradient has the network's tensors";
        let saved = &mut self.workspace.grad.tensors_mut().nth(index).expect(expect)[entries.clone()];
        let weights = &mut net.tensors_mut().nth(index).expect(expect)[entries.clone()];
        saved.copy_from_slice(weights);
        weights.fill(T::zero());
        let value = self.loss_over(net, loss, data);
        let saved = &self.workspace.grad.tensors().nth(index).expect(expect)[entries.clone()];
        net.tensors_mut().nth(index).expect(expect)[entries].copy_from_slice(saved);
        value
    }
}

/// Tensor `index` of a traversal that has it (gradients have the network's tensors).
fn tensor<'a, T: 'a>(mut tensors: impl Iterator<Item = &'a [T]>, index: usize) -> &'a [T] {
    tensors.nth(index).expect("the gradient has the network's tensors")
}

/// Spearman's rank correlation of two equally long samples: the Pearson correlation of their
/// ranks, ties given their average rank. `None` if the lengths differ, there are fewer than
/// two values, a value is not finite, or either sample is constant.
///
/// Computed without storage, in `O(n²)` comparisons, which is nothing for the units of a
/// layer.
///
/// ```
/// use static_nn::diagnostics::spearman;
/// assert_eq!(spearman(&[1.0, 2.0, 3.0], &[10.0, 20.0, 300.0]), Some(1.0));
/// assert_eq!(spearman(&[1.0, 2.0, 3.0], &[3.0, 2.0, 1.0]), Some(-1.0));
/// assert_eq!(spearman(&[1.0, 1.0, 1.0], &[3.0, 2.0, 1.0]), None);
/// ```
pub fn spearman<T: Real>(a: &[T], b: &[T]) -> Option<T> {
    if a.len() != b.len() {
        return None;
    }
    spearman_by(a.len(), |i| a[i], |i| b[i])
}

/// [`spearman`] of `a(0..n)` and `b(0..n)`.
fn spearman_by<T: Real>(n: usize, a: impl Fn(usize) -> T, b: impl Fn(usize) -> T) -> Option<T> {
    if n < 2 || (0..n).any(|i| !a(i).is_finite() || !b(i).is_finite()) {
        return None;
    }
    // Twice the average rank (1-based), an integer: 2·(number below) + (number equal) + 1.
    let rank = |value: &dyn Fn(usize) -> T, i: usize| {
        let v = value(i);
        let (mut below, mut equal) = (0usize, 0usize);
        for j in 0..n {
            let w = value(j);
            below += usize::from(w < v);
            equal += usize::from(w == v);
        }
        (2 * below + equal + 1) as f64
    };
    let mean = (n + 1) as f64; // of the doubled ranks
    let (mut cov, mut var_a, mut var_b) = (0.0, 0.0, 0.0);
    for i in 0..n {
        let (ra, rb) = (rank(&a, i) - mean, rank(&b, i) - mean);
        cov += ra * rb;
        var_a += ra * ra;
        var_b += rb * rb;
    }
    if var_a == 0.0 || var_b == 0.0 {
        return None;
    }
    Some(T::of(cov / libm::sqrt(var_a * var_b)))
}

#[cfg(test)]
mod tests {
    use nalgebra::{Matrix1x3, SMatrix, Vector1, Vector3};

    use super::*;
    use crate::{Dense, Mse, Sigmoid};

    type Net = (Dense<f64, 2, 3>, Sigmoid, Dense<f64, 3, 1>);

    fn data() -> [(SMatrix<f64, 2, 4>, SMatrix<f64, 1, 4>); 2] {
        let x = |k: f64| SMatrix::<f64, 2, 4>::from_fn(|i, j| ((i * 4 + j) as f64 * 0.7 + k).sin());
        let y = |k: f64| SMatrix::<f64, 1, 4>::from_fn(|_, j| (j as f64 + k).cos());
        [(x(0.0), y(0.0)), (x(1.0), y(1.0))]
    }

    fn net() -> Net {
        (
            Dense::new(
                SMatrix::<f64, 3, 2>::new(0.5, -0.3, 0.2, 0.8, -0.6, 0.4),
                Vector3::new(-8.0, 2.0, -8.0),
            ),
            Sigmoid,
            Dense::new(Matrix1x3::new(3000.0, 0.0, 2000.0), Vector1::new(0.1)),
        )
    }

    /// Unit 1 is read by nobody (its outgoing weight is 0) but is active, so its outgoing
    /// weight has a large gradient; units 0 and 2 are nearly off (sigmoid of about −8), so
    /// theirs are tiny, but their huge outgoing weights make them matter: the targets are the
    /// network's own outputs, shifted a little, so removing either costs loss.
    #[test]
    fn a_unit_nobody_reads_has_large_gradients_and_no_importance() {
        let mut net = net();
        let before = net.clone();
        let mut data = data();
        for (k, (x, y)) in data.iter_mut().enumerate() {
            *y = net.forward(x).map(|v| v - 0.1 - 0.05 * k as f64);
        }
        let mut importance = Importance::<f64, Net, _>::new();
        importance.measure(&net, &Mse, &data);
        let mut units = [UnitImportance::default(); 3];
        let layer = importance.layer(&mut net, &Mse, &data, 2, &mut units).unwrap();
        assert_eq!(net, before, "the network is restored bit for bit");

        assert_eq!(units[1].ablation, 0.0);
        assert_eq!(units[1].taylor, 0.0);
        for other in [0, 2] {
            assert!(
                units[1].mean_abs_gradient > 100.0 * units[other].mean_abs_gradient,
                "{}",
                UnitTable(&units)
            );
            assert!(units[other].ablation > 1e-3, "{}", UnitTable(&units));
        }
        // Large gradient, no importance; small gradients, importance: the ranks disagree.
        assert!(layer.gradient_vs_ablation.unwrap() < 0.0, "{layer}");
        assert!(layer.ablation > 0.0);
        assert_eq!(layer.units, 3);
    }

    /// At an exact fit every gradient is exactly zero, yet removing a unit costs loss.
    #[test]
    fn at_a_minimum_gradients_vanish_but_units_still_matter() {
        let mut net = net();
        let mut data = data();
        for (x, y) in &mut data {
            *y = net.forward(x);
        }
        let mut importance = Importance::<f64, Net, _>::new();
        assert_eq!(importance.measure(&net, &Mse, &data), 0.0);
        let mut units = [UnitImportance::default(); 3];
        let layer = importance.layer(&mut net, &Mse, &data, 2, &mut units).unwrap();
        for u in &units {
            assert_eq!((u.mean_abs_gradient, u.taylor), (0.0, 0.0));
        }
        assert!(units[0].ablation > 0.0 && units[2].ablation > 0.0);
        assert_eq!(layer.gradient_vs_ablation, None, "a constant saliency has no ranking");
    }

    /// For a unit whose removal changes the output little, the Taylor prediction is the
    /// ablation to first order.
    #[test]
    fn taylor_predicts_a_small_ablation() {
        let mut net = net();
        net.2.weight = Matrix1x3::new(1e-3, 2e-3, -1e-3);
        let data = data();
        let mut importance = Importance::<f64, Net, _>::new();
        importance.measure(&net, &Mse, &data);
        let mut units = [UnitImportance::default(); 3];
        importance.layer(&mut net, &Mse, &data, 2, &mut units).unwrap();
        for u in &units {
            let error = (u.taylor - u.ablation).abs();
            assert!(error < 1e-2 * u.ablation.abs(), "{}", UnitTable(&units));
        }
    }

    #[test]
    fn errors_name_what_is_wrong() {
        let mut net = net();
        let data = data();
        let mut importance = Importance::<f64, Net, _>::new();
        let mut units = [UnitImportance::default(); 3];
        assert_eq!(
            importance.layer(&mut net, &Mse, &data, 2, &mut units),
            Err(ImportanceError::NotMeasured)
        );
        importance.measure(&net, &Mse, &data);
        assert_eq!(
            importance.layer(&mut net, &Mse, &data, 1, &mut units),
            Err(ImportanceError::NoWeight { layer: 1 })
        );
        let error = importance.layer(&mut net, &Mse, &data, 0, &mut units[..1]).unwrap_err();
        assert_eq!(
            error.to_string(),
            "the layer has 2 units but the result slice only 1 slots"
        );
    }

    #[test]
    fn spearman_matches_hand_computed_values() {
        // Ranks (1, 2, 3, 4) and (2, 1, 4, 3): d² sums to 4, ρ = 1 − 6·4/(4·15) = 0.6.
        assert!((spearman(&[1.0, 2.0, 3.0, 4.0], &[20.0, 10.0, 40.0, 30.0]).unwrap() - 0.6f64).abs() < 1e-15);
        // Ties take their average rank: (1.5, 1.5, 3) against (1, 2, 3).
        let tied = spearman(&[5.0, 5.0, 7.0], &[1.0, 2.0, 3.0]).unwrap();
        assert!((tied - 0.8660254037844387f64).abs() < 1e-15, "{tied}");
        assert_eq!(spearman(&[1.0, f64::NAN], &[1.0, 2.0]), None);
        assert_eq!(spearman(&[1.0], &[1.0]), None);
        assert_eq!(spearman(&[1.0, 2.0], &[1.0]), None);
    }
}
