//! Gradient, parameter and update statistics per tensor, per layer and for the whole network.

use core::fmt;

use bytemuck::Zeroable;

use crate::optim::sum_of_squares;
use crate::{Parameters, Real, TensorInfo, Tensors, TorchShape};

/// Statistics of a group of parameters (one tensor, one layer, or the whole network) and of
/// their gradient.
///
/// Norms are L2 norms over every entry of the group. A NaN or infinite gradient entry makes
/// `grad_norm` NaN or infinite and is counted in `non_finite`; `grad_max_abs` ignores NaNs.
/// Norms do not overflow when every entry is finite (they are rescaled as
/// [`global_norm`](crate::optim::global_norm) does).
#[derive(Clone, Copy, Debug, Default, PartialEq, Zeroable)]
pub struct Stats<T> {
    /// Number of entries.
    pub len: usize,
    /// `‖g‖`, the L2 norm of the gradient.
    pub grad_norm: T,
    /// `max |g|`.
    pub grad_max_abs: T,
    /// Gradient entries that are NaN or infinite.
    pub non_finite: usize,
    /// `‖θ‖`, the L2 norm of the parameters (before the step, when a step was observed).
    pub param_norm: T,
    /// `‖Δθ‖`, the L2 norm of the change the optimizer made in the observed step; 0 when no
    /// step was observed (see [`StepRecord::stepped`](super::StepRecord::stepped)).
    pub update_norm: T,
}

impl<T: Real> Stats<T> {
    /// `‖Δθ‖ / ‖θ‖`: how far the step moved the parameters, relative to their size. The usual
    /// rule of thumb wants about 1e-3 (see [`Thresholds`](super::Thresholds)). Infinite for a
    /// step that moves parameters that are all zero, NaN if neither moved nor non-zero.
    pub fn update_ratio(&self) -> T {
        self.update_norm / self.param_norm
    }

    /// `‖g‖ / √len`, the root mean square of the gradient entries: comparable between tensors
    /// of different sizes.
    pub fn grad_rms(&self) -> T {
        if self.len == 0 {
            return T::zero();
        }
        self.grad_norm / T::of(self.len as f64).sqrt()
    }

    /// The statistics of the union of two disjoint groups.
    fn merge(self, other: Self) -> Self {
        Self {
            len: self.len + other.len,
            grad_norm: self.grad_norm.hypot(other.grad_norm),
            grad_max_abs: max(self.grad_max_abs, other.grad_max_abs),
            non_finite: self.non_finite + other.non_finite,
            param_norm: self.param_norm.hypot(other.param_norm),
            update_norm: self.update_norm.hypot(other.update_norm),
        }
    }

    /// Gradient statistics of `grad` and the norm of `param`, with no update.
    fn of(param: &[T], grad: &[T]) -> Self {
        let (grad_max_abs, non_finite) = max_abs_and_non_finite(grad);
        let (param_max_abs, _) = max_abs_and_non_finite(param);
        Self {
            len: grad.len(),
            grad_norm: norm(grad, grad_max_abs),
            grad_max_abs,
            non_finite,
            param_norm: norm(param, param_max_abs),
            update_norm: T::zero(),
        }
    }
}

/// The larger of two values, ignoring a NaN in `b`.
fn max<T: Real>(a: T, b: T) -> T {
    if b > a { b } else { a }
}

/// `max |v|` over the non-NaN entries, and how many entries are NaN or infinite.
pub(crate) fn max_abs_and_non_finite<T: Real>(values: &[T]) -> (T, usize) {
    let mut largest = T::zero();
    let mut non_finite = 0;
    for &v in values {
        largest = max(largest, v.abs());
        non_finite += usize::from(!v.is_finite());
    }
    (largest, non_finite)
}

/// `‖v‖`, given `max |v|`; rescaled by the largest entry when the plain sum of squares
/// overflows although every entry is finite.
pub(crate) fn norm<T: Real>(values: &[T], max_abs: T) -> T {
    let sum = sum_of_squares(values);
    if sum.is_finite() || !max_abs.is_finite() {
        return sum.sqrt();
    }
    let scaled = values.iter().fold(T::zero(), |sum, &v| {
        let r = v / max_abs;
        sum + r * r
    });
    max_abs * scaled.sqrt()
}

/// The statistics of one tensor.
#[derive(Clone, Copy, Debug, Default, PartialEq, Zeroable)]
pub struct TensorStats<T> {
    layer: usize,
    // An `Option` so that a zeroed record is valid (`&str` has no zero value).
    name: Option<&'static str>,
    rows: usize,
    cols: usize,
    // `TorchShape` as plain numbers, so that a zeroed record is valid: rank 1, 2 or 3, and the
    // kernel width for rank 3.
    torch_rank: u8,
    torch_kernel: usize,
    /// Its statistics.
    pub stats: Stats<T>,
}

impl<T> TensorStats<T> {
    /// Which tensor: layer position, name and shape.
    pub fn info(&self) -> TensorInfo {
        TensorInfo {
            layer: self.layer,
            name: self.name.unwrap_or(""),
            rows: self.rows,
            cols: self.cols,
            torch: match self.torch_rank {
                1 => TorchShape::Rank1,
                3 => TorchShape::Kernel(self.torch_kernel),
                _ => TorchShape::Rank2,
            },
        }
    }
}

/// The statistics of every tensor of one layer together.
#[derive(Clone, Copy, Debug, Default, PartialEq, Zeroable)]
pub struct LayerStats<T> {
    /// The layer's position, as [`TensorInfo::layer`].
    pub layer: usize,
    /// How many tensors it has.
    pub tensors: usize,
    /// Their statistics together.
    pub stats: Stats<T>,
}

/// A network with more tensors than the capacity a fixed-size diagnostics record was given.
///
/// Records are arrays of a capacity chosen by the caller (a const parameter), because a
/// network's tensor count is a run-time value in generic code; the capacity is checked once,
/// when the record is built.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct CapacityError {
    /// What ran out: `"tensors"`, `"activation layers"` or `"activation units"`.
    pub what: &'static str,
    /// How many the network needs.
    pub needed: usize,
    /// The record's capacity.
    pub capacity: usize,
}

impl fmt::Display for CapacityError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "the network has {} {}, more than the record's capacity of {}",
            self.needed, self.what, self.capacity
        )
    }
}

impl core::error::Error for CapacityError {}

/// Gradient and parameter statistics of a network, per tensor, per layer (its tensors grouped
/// by [`TensorInfo::layer`]) and in total, in a fixed-size record that holds up to `CAP`
/// tensors.
///
/// Measuring costs two passes over the parameters and the gradient and allocates nothing, so it
/// can run every step; a [`Monitor`](super::Monitor) also measures the update of a step.
///
/// ```
/// use static_nn::prelude::*;
/// use static_nn::diagnostics::GradientStats;
/// use static_nn::nalgebra::SMatrix;
///
/// type Net = (Dense<f64, 3, 4>, Tanh, Dense<f64, 4, 2>);
/// let net = Net::build(Init::PyTorch, &mut Rng::new(0));
/// let mut workspace = Workspace::new();
/// let x = SMatrix::<f64, 3, 8>::from_fn(|i, j| (i + j) as f64 * 0.1);
/// workspace.compute_gradient(&net, &Mse, &x, &SMatrix::zeros());
///
/// let stats = GradientStats::<f64, 8>::of(&net, &workspace.grad).unwrap();
/// assert_eq!(stats.tensors().len(), 4); // 0.weight, 0.bias, 2.weight, 2.bias
/// assert_eq!(stats.layers().len(), 2);
/// assert_eq!(stats.layer(2).unwrap().grad_norm, workspace.grad.2.weight.norm().hypot(workspace.grad.2.bias.norm()));
/// // Too small a record for the network is refused when it is made.
/// assert!(GradientStats::<f64, 3>::new::<Net>().is_err());
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Zeroable)]
pub struct GradientStats<T, const CAP: usize> {
    /// Every tensor together.
    pub total: Stats<T>,
    tensors: [TensorStats<T>; CAP],
    tensor_count: usize,
    layers: [LayerStats<T>; CAP],
    layer_count: usize,
}

impl<T: Real, const CAP: usize> GradientStats<T, CAP> {
    /// An empty record laid out for the network `N`: its tensors and layers, no statistics yet.
    ///
    /// # Errors
    /// [`CapacityError`] if `N` has more than `CAP` tensors.
    pub fn new<N: Tensors<T>>() -> Result<Self, CapacityError> {
        let mut stats = Self::zeroed();
        stats.lay_out::<N>()?;
        Ok(stats)
    }

    /// The statistics of `net` and its gradient `grad`.
    ///
    /// # Errors
    /// [`CapacityError`] if `N` has more than `CAP` tensors.
    pub fn of<N: Parameters<T>>(net: &N, grad: &N::Gradient) -> Result<Self, CapacityError> {
        let mut stats = Self::new::<N>()?;
        stats.measure(net, grad);
        Ok(stats)
    }

    /// Lays the record out for `N`.
    pub(crate) fn lay_out<N: Tensors<T>>(&mut self) -> Result<(), CapacityError> {
        let needed = N::tensor_infos().count();
        if needed > CAP {
            return Err(CapacityError {
                what: "tensors",
                needed,
                capacity: CAP,
            });
        }
        self.tensor_count = 0;
        self.layer_count = 0;
        for info in N::tensor_infos() {
            self.tensors[self.tensor_count] = TensorStats {
                layer: info.layer,
                name: Some(info.name),
                rows: info.rows,
                cols: info.cols,
                torch_rank: match info.torch {
                    TorchShape::Rank1 => 1,
                    TorchShape::Rank2 => 2,
                    TorchShape::Kernel(_) => 3,
                },
                torch_kernel: match info.torch {
                    TorchShape::Kernel(kernel) => kernel,
                    _ => 0,
                },
                stats: Stats::zeroed(),
            };
            self.tensor_count += 1;
            match self.layer_count.checked_sub(1).map(|last| &mut self.layers[last]) {
                Some(last) if last.layer == info.layer => last.tensors += 1,
                _ => {
                    self.layers[self.layer_count] = LayerStats {
                        layer: info.layer,
                        tensors: 1,
                        stats: Stats::zeroed(),
                    };
                    self.layer_count += 1;
                }
            }
        }
        Ok(())
    }

    /// Measures `net` and its gradient `grad` into this record; `update_norm`s are set to 0.
    ///
    /// # Panics
    /// If the record was laid out for another network (its tensors differ from `N`'s).
    pub fn measure<N: Parameters<T>>(&mut self, net: &N, grad: &N::Gradient) {
        self.measure_tensors::<N>(net.tensors().zip(grad.tensors()), |_, _, _| {});
    }

    /// Measures each `(parameter, gradient)` pair of `N`'s tensors, calling `also(i, θ, g)` on
    /// each, then aggregates layers and total.
    pub(crate) fn measure_tensors<'a, N: Tensors<T>>(
        &mut self,
        pairs: impl Iterator<Item = (&'a [T], &'a [T])>,
        mut also: impl FnMut(usize, &'a [T], &'a [T]),
    ) {
        let mut count = 0;
        for ((info, (param, grad)), i) in N::tensor_infos().zip(pairs).zip(0..) {
            assert!(
                i < self.tensor_count && self.tensors[i].info() == info,
                "this diagnostics record was laid out for another network (tensor {i} is {})",
                info.name
            );
            self.tensors[i].stats = Stats::of(param, grad);
            also(i, param, grad);
            count += 1;
        }
        assert_eq!(
            count, self.tensor_count,
            "this diagnostics record was laid out for another network"
        );
        self.aggregate();
    }

    /// Sets tensor `i`'s update norm.
    pub(crate) fn set_update_norm(&mut self, i: usize, update_norm: T) {
        self.tensors[i].stats.update_norm = update_norm;
    }

    /// Recomputes layer and total statistics from the tensors'.
    pub(crate) fn aggregate(&mut self) {
        let mut tensors = self.tensors[..self.tensor_count].iter();
        self.total = Stats::zeroed();
        for layer in &mut self.layers[..self.layer_count] {
            layer.stats = Stats::zeroed();
            for tensor in tensors.by_ref().take(layer.tensors) {
                layer.stats = layer.stats.merge(tensor.stats);
            }
            self.total = self.total.merge(layer.stats);
        }
    }

    /// Every tensor's statistics, in [`Tensors::tensors`] order.
    pub fn tensors(&self) -> &[TensorStats<T>] {
        &self.tensors[..self.tensor_count]
    }

    /// Every layer with tensors, in order.
    pub fn layers(&self) -> &[LayerStats<T>] {
        &self.layers[..self.layer_count]
    }

    /// The statistics of the layer at `position`, if it has tensors.
    pub fn layer(&self, position: usize) -> Option<&Stats<T>> {
        self.layers().iter().find(|l| l.layer == position).map(|l| &l.stats)
    }

    /// `‖g‖` of the first layer with parameters over `‖g‖` of the last: far below 1, the
    /// gradient vanishes on its way back; far above, it explodes. `None` with fewer than two
    /// such layers.
    pub fn gradient_ratio(&self) -> Option<T> {
        match self.layers() {
            [first, .., last] => Some(first.stats.grad_norm / last.stats.grad_norm),
            _ => None,
        }
    }
}

/// A compact table, one line per tensor, per layer of several tensors, and in total:
///
/// ```text
/// layer tensor        shape       ‖g‖    max|g|       ‖θ‖  ‖Δθ‖/‖θ‖ non-finite
///     0 weight      32 × 64   1.23e-5   4.50e-6    4.62e0   2.10e-7          0
/// ```
impl<T: Real, const CAP: usize> fmt::Display for GradientStats<T, CAP> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(
            f,
            "layer tensor        shape       ‖g‖    max|g|       ‖θ‖  ‖Δθ‖/‖θ‖ non-finite"
        )?;
        let line = |f: &mut fmt::Formatter<'_>,
                    layer: &dyn fmt::Display,
                    name: &str,
                    shape: Option<(usize, usize)>,
                    s: &Stats<T>| {
            write!(f, "{layer:>5} {name:<8}")?;
            match shape {
                Some((rows, cols)) => write!(f, " {rows:>5} × {cols:<5}")?,
                None => write!(f, "{:14}", "")?,
            }
            writeln!(
                f,
                "{:>9.2e} {:>9.2e} {:>9.2e} {:>9.2e} {:>10}",
                s.grad_norm.to_f64(),
                s.grad_max_abs.to_f64(),
                s.param_norm.to_f64(),
                s.update_ratio().to_f64(),
                s.non_finite
            )
        };
        let mut tensors = self.tensors().iter();
        for layer in self.layers() {
            for tensor in tensors.by_ref().take(layer.tensors) {
                let info = tensor.info();
                line(f, &info.layer, info.name, Some((info.rows, info.cols)), &tensor.stats)?;
            }
            if layer.tensors > 1 {
                line(f, &layer.layer, "(layer)", None, &layer.stats)?;
            }
        }
        line(f, &"all", "", None, &self.total)
    }
}

#[cfg(test)]
mod tests {
    use nalgebra::{Matrix2, SMatrix, Vector2};

    use super::*;
    use crate::{Dense, Layer, Relu};

    type Net = (Dense<f64, 2, 2>, Relu, Dense<f64, 2, 1>);

    fn net() -> Net {
        (
            Dense::new(Matrix2::new(1.0, -2.0, 0.5, 2.0), Vector2::new(0.0, 1.0)),
            Relu,
            Dense::new(SMatrix::<f64, 1, 2>::new(3.0, -4.0), SMatrix::<f64, 1, 1>::new(0.5)),
        )
    }

    /// Every number against a value written out by hand.
    #[test]
    fn statistics_equal_hand_computed_values() {
        let net = net();
        let grad = (
            Dense::new(Matrix2::new(3.0, 0.0, -4.0, 0.0), Vector2::new(0.0, -12.0)),
            (),
            Dense::new(SMatrix::<f64, 1, 2>::new(1.0, 2.0), SMatrix::<f64, 1, 1>::new(-2.0)),
        );
        let stats = GradientStats::<f64, 4>::of(&net, &grad).unwrap();
        let t = stats.tensors();
        assert_eq!(t.len(), 4);
        assert_eq!(t[0].info(), TensorInfo::matrix("weight", 2, 2));
        // 0.weight: g = (3, -4, 0, 0) → ‖g‖ = 5, max 4; θ = (1, 0.5, -2, 2) → ‖θ‖ = √9.25.
        assert_eq!(t[0].stats.grad_norm, 5.0);
        assert_eq!(t[0].stats.grad_max_abs, 4.0);
        assert_eq!(t[0].stats.param_norm, 9.25f64.sqrt());
        assert_eq!((t[0].stats.len, t[0].stats.non_finite), (4, 0));
        // 0.bias: g = (0, -12), θ = (0, 1).
        assert_eq!(
            (t[1].stats.grad_norm, t[1].stats.grad_max_abs, t[1].stats.param_norm),
            (12.0, 12.0, 1.0)
        );
        // Layer 0: √(25 + 144) = 13, max 12, ‖θ‖ = √10.25; layer 2: g = (1, 2, −2) → 3.
        let layer0 = stats.layer(0).unwrap();
        assert_eq!((layer0.grad_norm, layer0.grad_max_abs, layer0.len), (13.0, 12.0, 6));
        assert!((layer0.param_norm - 10.25f64.sqrt()).abs() < 1e-15);
        let layer2 = stats.layer(2).unwrap();
        assert_eq!((layer2.grad_norm, layer2.grad_max_abs), (3.0, 2.0));
        assert_eq!(layer2.param_norm, 25.25f64.sqrt());
        assert!(stats.layer(1).is_none(), "the ReLU has no tensors");
        assert_eq!(stats.layers().len(), 2);
        // All: √(169 + 9).
        assert!((stats.total.grad_norm - 178f64.sqrt()).abs() < 1e-14);
        assert_eq!(stats.total.len, 9);
        assert_eq!(stats.gradient_ratio(), Some(13.0 / 3.0));
        assert!((t[1].stats.grad_rms() - 12.0 / 2f64.sqrt()).abs() < 1e-15);
    }

    #[test]
    fn non_finite_entries_are_counted_and_norms_do_not_overflow() {
        let net = net();
        let mut grad = (net.0.clone(), (), net.2.clone());
        grad.0.weight = Matrix2::new(f64::NAN, 1.0, f64::INFINITY, 2.0);
        grad.2.weight = SMatrix::<f64, 1, 2>::new(3e200, 4e200);
        let stats = GradientStats::<f64, 4>::of(&net, &grad).unwrap();
        let t = stats.tensors();
        assert_eq!(t[0].stats.non_finite, 2);
        assert_eq!(t[0].stats.grad_max_abs, f64::INFINITY);
        assert!(t[0].stats.grad_norm.is_nan());
        assert_eq!(stats.total.non_finite, 2);
        assert!((t[2].stats.grad_norm / 5e200 - 1.0).abs() < 1e-15);
        assert_eq!(t[2].stats.non_finite, 0);
        assert_eq!(stats.layer(2).unwrap().grad_norm, t[2].stats.grad_norm.hypot(0.5));
    }

    #[test]
    fn a_record_for_another_network_is_refused() {
        assert_eq!(
            GradientStats::<f64, 3>::new::<Net>(),
            Err(CapacityError {
                what: "tensors",
                needed: 4,
                capacity: 3
            })
        );
        let result = std::panic::catch_unwind(|| {
            let mut stats = GradientStats::<f64, 8>::new::<Net>().unwrap();
            let other = Dense::<f64, 2, 2>::zeros();
            stats.measure(&other, &other);
        });
        assert!(result.is_err());
    }

    #[test]
    fn the_table_names_every_tensor() {
        let net = net();
        let stats = GradientStats::<f64, 4>::of(&net, &(net.0.clone(), (), net.2.clone())).unwrap();
        let table = stats.to_string();
        assert!(table.contains("weight") && table.contains("2 × 2") && table.contains("(layer)"));
        assert_eq!(table.lines().count(), 1 + 4 + 2 + 1, "{table}");
        let _ = net.forward(&Vector2::new(1.0, 2.0));
    }
}
