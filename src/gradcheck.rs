//! The public gradient checker: analytic gradients against central finite differences.

use alloc::vec::Vec;
use core::fmt;

use bytemuck::Zeroable;

use crate::{Layer, Loss, Rng, Tensors};

/// Compares the gradients a network computes by backpropagation with central finite
/// differences `(f(θ + h) − f(θ − h)) / 2h`, in `f64`, for every parameter and every input entry.
///
/// Defaults are those of `torch.autograd.gradcheck`: `eps` (h) 1e-6, `atol` 1e-5, `rtol` 1e-3,
/// and an entry passes when `|analytic − numeric| ≤ atol + rtol·|numeric|`.
///
/// That rule says nothing about gradients far below `atol`, which is exactly where saturated
/// sigmoids and vanishing gradients live. [`GradCheck::strict`] replaces `atol` by the
/// finite-difference noise floor of each entry, `16 ε (|f(θ+h)| + |f(θ−h)|) / 2h` (about
/// 3.5e-9 for a loss near 1), so a gradient of 1e-7 that is wrong by a factor of two fails.
/// Entries below the noise floor cannot be judged by finite differences at all; the report
/// counts them rather than pretending they were compared, and counts the entries where both
/// gradients are exactly zero (a dead ReLU), which agree exactly.
///
/// ```
/// use static_nn::{Dense, GradCheck, Init, Mse, Parameters, Rng, Tanh};
/// use static_nn::nalgebra::SMatrix;
///
/// let net = <(Dense<f64, 3, 4>, Tanh, Dense<f64, 4, 2>)>::build(Init::PyTorch, &mut Rng::new(0));
/// let x = SMatrix::<f64, 3, 5>::from_fn(|i, j| (i + j) as f64 * 0.3 - 0.6);
/// let target = SMatrix::<f64, 2, 5>::zeros();
/// let report = GradCheck::default().network(&net, &Mse, &x, &target);
/// assert!(report.passed(), "{report}");
/// assert_eq!(report.tensors.len(), 5); // two weights, two biases, the input
/// ```
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct GradCheck {
    /// The finite-difference step h.
    pub eps: f64,
    /// Absolute tolerance.
    pub atol: f64,
    /// Relative tolerance.
    pub rtol: f64,
    /// Use the noise floor instead of `atol` (see [`GradCheck::strict`]).
    pub strict: bool,
}

impl Default for GradCheck {
    fn default() -> Self {
        Self {
            eps: 1e-6,
            atol: 1e-5,
            rtol: 1e-3,
            strict: false,
        }
    }
}

/// How many multiples of machine epsilon one evaluation of a loss may be off by.
const ROUNDING_ULPS: f64 = 16.0;

impl GradCheck {
    /// The same checker, judging each entry against its finite-difference noise floor instead of
    /// `atol`, so that tiny gradients are compared too.
    pub fn strict(self) -> Self {
        Self { strict: true, ..self }
    }

    /// Checks `loss(net(x), target)` with respect to every parameter of `net` and every entry
    /// of `x`, with `net` in training mode ([`Layer::forward_train`]).
    pub fn network<N, X, L>(&self, net: &N, loss: &L, x: &X, target: &L::Target) -> GradCheckReport
    where
        N: Layer<f64, X> + Clone,
        X: Tensors<f64> + Clone,
        L: Loss<f64, N::Output>,
    {
        let objective = |net: &N, x: &X| {
            // A fresh cache per evaluation: layers that draw from their cache (dropout) then
            // draw the same values every time.
            let mut cache = N::Cache::zeroed();
            let y = net.forward_train(x, &mut cache);
            loss.value(&y, target)
        };

        let mut cache = N::Cache::zeroed();
        let y = net.forward_train(x, &mut cache);
        let (value, dy) = loss.value_and_gradient(&y, target);
        let mut grad = N::Gradient::zeroed();
        let dx = net.backward(x, &y, &cache, &dy, &mut grad);

        let mut tensors = Vec::new();
        let mut probe = net.clone();
        for (index, (info, analytic)) in N::tensor_infos().zip(grad.tensors()).enumerate() {
            let numeric = self.differentiate(analytic.len(), |i, h| {
                let entry = &mut probe.tensors_mut().nth(index).expect("tensor order is fixed")[i];
                let original = *entry;
                *entry = original + h;
                let value = objective(&probe, x);
                probe.tensors_mut().nth(index).expect("tensor order is fixed")[i] = original;
                value
            });
            tensors.push(self.compare(Some(info.layer), info.name, info.rows, info.cols, analytic, &numeric));
        }

        let mut probe_x = x.clone();
        let mut offset = 0;
        for (index, (info, analytic)) in X::tensor_infos().zip(dx.tensors()).enumerate() {
            let numeric = self.differentiate(analytic.len(), |i, h| {
                let entry = &mut probe_x.tensors_mut().nth(index).expect("tensor order is fixed")[i];
                let original = *entry;
                *entry = original + h;
                let value = objective(net, &probe_x);
                probe_x.tensors_mut().nth(index).expect("tensor order is fixed")[i] = original;
                value
            });
            let name = if offset == 0 { "input" } else { "input (continued)" };
            tensors.push(self.compare(None, name, info.rows, info.cols, analytic, &numeric));
            offset += analytic.len();
        }

        GradCheckReport {
            check: *self,
            loss: value,
            tensors,
        }
    }

    /// Checks a single layer (or network) without a loss: the objective is `Σ w ⊙ layer(x)`
    /// for fixed pseudo-random weights `w` of magnitude 0.5 to 1.5, so every output entry
    /// contributes with a distinct factor.
    pub fn layer<N, X>(&self, layer: &N, x: &X) -> GradCheckReport
    where
        N: Layer<f64, X> + Clone,
        X: Tensors<f64> + Clone,
    {
        let mut weights = N::Output::zeroed();
        let mut rng = Rng::new(0x6772_6164_6368_6563);
        for t in weights.tensors_mut() {
            for w in t {
                let magnitude = rng.uniform(0.5, 1.5);
                *w = if rng.next_u64() & 1 == 0 { magnitude } else { -magnitude };
            }
        }
        self.network(layer, &Probe, x, &weights)
    }

    /// Checks a loss's gradient with respect to the network output `y`.
    pub fn loss<L, Y>(&self, loss: &L, y: &Y, target: &L::Target) -> GradCheckReport
    where
        L: Loss<f64, Y>,
        Y: Tensors<f64> + Clone,
    {
        let (value, analytic) = loss.value_and_gradient(y, target);
        let mut probe = y.clone();
        let mut tensors = Vec::new();
        for (index, (info, analytic)) in Y::tensor_infos().zip(analytic.tensors()).enumerate() {
            let numeric = self.differentiate(analytic.len(), |i, h| {
                let entry = &mut probe.tensors_mut().nth(index).expect("tensor order is fixed")[i];
                let original = *entry;
                *entry = original + h;
                let value = loss.value(&probe, target);
                probe.tensors_mut().nth(index).expect("tensor order is fixed")[i] = original;
                value
            });
            tensors.push(self.compare(None, "output", info.rows, info.cols, analytic, &numeric));
        }
        GradCheckReport {
            check: *self,
            loss: value,
            tensors,
        }
    }

    /// Central differences of `f(i, h)` (the objective with entry `i` moved by `h`) for each
    /// entry, with the noise floor of each.
    fn differentiate(&self, len: usize, mut f: impl FnMut(usize, f64) -> f64) -> Vec<(f64, f64)> {
        (0..len)
            .map(|i| {
                let plus = f(i, self.eps);
                let minus = f(i, -self.eps);
                let numeric = (plus - minus) / (2.0 * self.eps);
                let floor = ROUNDING_ULPS * f64::EPSILON * (plus.abs() + minus.abs()) / (2.0 * self.eps);
                (numeric, floor)
            })
            .collect()
    }

    fn compare(
        &self,
        layer: Option<usize>,
        name: &'static str,
        rows: usize,
        cols: usize,
        analytic: &[f64],
        numeric: &[(f64, f64)],
    ) -> TensorCheck {
        let mut check = TensorCheck {
            layer,
            name,
            rows,
            cols,
            max_abs_error: 0.0,
            max_rel_error: 0.0,
            failures: 0,
            compared: 0,
            exact_zeros: 0,
            worst: None,
        };
        let mut worst_excess = f64::NEG_INFINITY;
        for (index, (&a, &(n, floor))) in analytic.iter().zip(numeric).enumerate() {
            let error = (a - n).abs();
            let absolute = if self.strict { floor } else { self.atol };
            let allowed = absolute + self.rtol * n.abs();
            let finite = a.is_finite() && n.is_finite();
            if a == 0.0 && n == 0.0 {
                check.exact_zeros += 1;
            }
            if a.abs().max(n.abs()) > floor {
                check.compared += 1;
                check.max_rel_error = check.max_rel_error.max(error / a.abs().max(n.abs()));
            }
            check.max_abs_error = check.max_abs_error.max(error);
            if !finite || error > allowed {
                check.failures += 1;
            }
            let excess = if finite { error / allowed } else { f64::INFINITY };
            if excess > worst_excess {
                worst_excess = excess;
                check.worst = Some(Entry {
                    index,
                    row: index % rows.max(1),
                    col: index / rows.max(1),
                    analytic: a,
                    numeric: n,
                });
            }
        }
        check
    }
}

/// The linear objective `Σ w ⊙ y` used by [`GradCheck::layer`]; its target is `w`.
struct Probe;

impl<Y: Tensors<f64> + Clone> Loss<f64, Y> for Probe {
    type Target = Y;

    fn value(&self, y: &Y, weights: &Y) -> f64 {
        let mut sum = 0.0;
        for (a, b) in y.tensors().zip(weights.tensors()) {
            sum += a.iter().zip(b).map(|(a, b)| a * b).sum::<f64>();
        }
        sum
    }

    fn value_and_gradient(&self, y: &Y, weights: &Y) -> (f64, Y) {
        (self.value(y, weights), weights.clone())
    }
}

/// One entry of a tensor: where it is and both gradients there.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Entry {
    /// Index into the column-major data.
    pub index: usize,
    /// Row of the entry.
    pub row: usize,
    /// Column of the entry.
    pub col: usize,
    /// The backpropagated gradient.
    pub analytic: f64,
    /// The finite-difference gradient.
    pub numeric: f64,
}

/// The comparison for one tensor.
#[derive(Clone, Debug, PartialEq)]
pub struct TensorCheck {
    /// Position of the owning layer ([`TensorInfo::layer`](crate::TensorInfo::layer)); `None`
    /// for the input or output.
    pub layer: Option<usize>,
    /// The tensor's name.
    pub name: &'static str,
    /// Rows.
    pub rows: usize,
    /// Columns.
    pub cols: usize,
    /// Largest `|analytic − numeric|`.
    pub max_abs_error: f64,
    /// Largest `|analytic − numeric| / max(|analytic|, |numeric|)` over the compared entries.
    pub max_rel_error: f64,
    /// Entries outside the tolerance (or non-finite).
    pub failures: usize,
    /// Entries above the finite-difference noise floor: the ones the check actually judges.
    pub compared: usize,
    /// Entries where both gradients are exactly zero.
    pub exact_zeros: usize,
    /// The entry furthest outside (or least inside) its tolerance.
    pub worst: Option<Entry>,
}

impl TensorCheck {
    /// Number of entries.
    pub fn len(&self) -> usize {
        self.rows * self.cols
    }

    /// Whether the tensor is empty.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Whether every entry passed.
    pub fn passed(&self) -> bool {
        self.failures == 0
    }

    fn label(&self) -> TensorLabel<'_> {
        TensorLabel(self)
    }
}

struct TensorLabel<'a>(&'a TensorCheck);

impl fmt::Display for TensorLabel<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.0.layer {
            Some(layer) => write!(f, "{layer}.{}", self.0.name),
            None => write!(f, "{}", self.0.name),
        }
    }
}

/// The result of a gradient check: one [`TensorCheck`] per parameter tensor (in
/// [`TensorInfo`](crate::TensorInfo) order), then the input's.
#[derive(Clone, Debug, PartialEq)]
pub struct GradCheckReport {
    /// The settings used.
    pub check: GradCheck,
    /// The objective's value at the unperturbed point.
    pub loss: f64,
    /// Per-tensor results.
    pub tensors: Vec<TensorCheck>,
}

impl GradCheckReport {
    /// Whether every entry of every tensor passed.
    pub fn passed(&self) -> bool {
        self.tensors.iter().all(TensorCheck::passed)
    }

    /// The result for a named parameter tensor, e.g. `("weight", 2)` for PyTorch's `2.weight`.
    pub fn tensor(&self, layer: usize, name: &str) -> Option<&TensorCheck> {
        self.tensors.iter().find(|t| t.layer == Some(layer) && t.name == name)
    }
}

impl fmt::Display for GradCheckReport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let c = &self.check;
        writeln!(
            f,
            "gradient check (h {:e}, {}, rtol {:e}): {}, objective {:.6e}",
            c.eps,
            if c.strict {
                "strict: atol = noise floor".into()
            } else {
                alloc::format!("atol {:e}", c.atol)
            },
            c.rtol,
            if self.passed() { "PASSED" } else { "FAILED" },
            self.loss
        )?;
        writeln!(
            f,
            "{:<18} {:>9} {:>9} {:>6} {:>6} {:>11} {:>11}  worst entry: analytic vs numeric",
            "tensor", "shape", "compared", "zeros", "failed", "max abs err", "max rel err"
        )?;
        for t in &self.tensors {
            let label = alloc::format!("{}", t.label());
            let shape = alloc::format!("{}x{}", t.rows, t.cols);
            let compared = alloc::format!("{}/{}", t.compared, t.len());
            write!(
                f,
                "{label:<18} {shape:>9} {compared:>9} {:>6} {:>6} {:>11.3e} {:>11.3e}",
                t.exact_zeros, t.failures, t.max_abs_error, t.max_rel_error
            )?;
            match t.worst {
                Some(w) => writeln!(f, "  [{},{}] {:.6e} vs {:.6e}", w.row, w.col, w.analytic, w.numeric)?,
                None => writeln!(f)?,
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{Dense, Init, Mse, Parameters, Relu, Sigmoid};
    use nalgebra::SMatrix;

    /// A layer with a deliberately wrong backward: it halves the true input gradient. Used to
    /// prove that the checker catches errors, including tiny ones in strict mode.
    #[derive(Clone, Copy, Debug, Default, bytemuck::Zeroable)]
    struct HalfWrong;

    impl crate::Activation<f64> for HalfWrong {
        fn value(&self, z: f64) -> f64 {
            (-z * z).exp() * 1e-6
        }
        fn derivative(&self, z: f64, y: f64) -> f64 {
            -z * y // true derivative is -2 z y
        }
    }
    crate::elementwise_layer!(HalfWrong);

    #[test]
    fn a_wrong_tiny_gradient_passes_torch_rules_but_fails_strict() {
        let x = SMatrix::<f64, 2, 1>::new(0.7, -1.3);
        let lenient = GradCheck::default().layer(&HalfWrong, &x);
        assert!(lenient.passed(), "gradients of 1e-6 hide under atol 1e-5:\n{lenient}");
        let strict = GradCheck::default().strict().layer(&HalfWrong, &x);
        assert!(!strict.passed(), "{strict}");
        let worst = strict.tensors[0].worst.unwrap();
        assert!((worst.analytic / worst.numeric - 0.5).abs() < 1e-6);
        assert!(strict.to_string().contains("FAILED"));
    }

    #[test]
    fn dead_relu_units_count_as_exact_zeros() {
        let mut net = <(Dense<f64, 2, 3>, Relu)>::build(Init::PyTorch, &mut Rng::new(2));
        // Unit 1 is dead for every input below (a large negative bias), the others alive.
        net.0.bias = nalgebra::Vector3::new(5.0, -100.0, 5.0);
        let x = SMatrix::<f64, 2, 2>::new(0.5, -0.5, 0.25, 1.0);
        let report = GradCheck::default().strict().layer(&net, &x);
        assert!(report.passed(), "{report}");
        let weight = report.tensor(0, "weight").unwrap();
        assert_eq!(weight.exact_zeros, 2);
        assert_eq!(report.tensor(0, "bias").unwrap().exact_zeros, 1);
    }

    #[test]
    fn saturated_sigmoid_gradients_are_compared_in_strict_mode() {
        // Pre-activations around 12: sigmoid' ≈ 6e-6, below torch's atol, above the noise floor.
        let mut net = <(Dense<f64, 2, 2>, Sigmoid)>::build(Init::PyTorch, &mut Rng::new(4));
        net.0.bias.fill(12.0);
        let x = SMatrix::<f64, 2, 3>::from_fn(|i, j| (i + j) as f64 * 0.5 - 0.5);
        let report = GradCheck::default().strict().network(&net, &Mse, &x, &SMatrix::zeros());
        assert!(report.passed(), "{report}");
        assert_eq!(report.tensor(0, "bias").unwrap().compared, 2);
        assert!(report.tensor(0, "bias").unwrap().max_rel_error < 1e-3, "{report}");
    }
}
