//! How diagnostics reach the activations inside any network: the visitor that
//! [`Layer::visit_activations`](crate::Layer::visit_activations) calls. It is a core trait, so
//! that layers implement the visit without knowing about diagnostics.

use crate::{Activation, Real};

/// How an activation function's units can stop passing gradient, as reported by
/// [`Activation::kind`].
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub enum ActivationKind {
    /// Flattens out at both ends ([`Sigmoid`](crate::Sigmoid), [`Tanh`](crate::Tanh)): a unit
    /// far from 0 is *saturated*, its derivative tiny, and little gradient flows back through it.
    Saturating {
        /// The largest value of the derivative (1/4 for the sigmoid, 1 for tanh), against which
        /// the saturation threshold is relative.
        max_derivative: f64,
    },
    /// Zero slope on a half-line ([`Relu`](crate::Relu)): a unit whose input is negative for
    /// every sample passes no gradient at all and is *dead*. A [`LeakyRelu`](crate::LeakyRelu)
    /// keeps a small slope other than 0 there, so its units always pass some gradient and are
    /// never dead (its derivative is never 0); it is measured all the same.
    Rectifying,
    /// Neither; not measured.
    #[default]
    Other,
}

/// What one activation layer computed on a batch, as shown to an [`ActivationVisitor`].
///
/// `input` and `output` are the layer's `z` and `f(z)`, column-major: `units` rows (the units)
/// by as many columns as the batch has samples, so the value of unit `i` for sample `j` is at
/// `j * units + i`.
#[derive(Clone, Copy)]
pub struct Activations<'a, T> {
    /// The layer's position in the network, counted as [`TensorInfo::layer`](crate::TensorInfo).
    pub position: usize,
    /// How its units can stop passing gradient.
    pub kind: ActivationKind,
    /// The function, to evaluate its derivative.
    pub function: &'a dyn Activation<T>,
    /// Units (rows) of the layer.
    pub units: usize,
    /// The inputs `z`, column-major.
    pub input: &'a [T],
    /// The outputs `f(z)`, column-major.
    pub output: &'a [T],
}

impl<T: Real> Activations<'_, T> {
    /// Samples (columns) in the batch.
    pub fn samples(&self) -> usize {
        self.input.len().checked_div(self.units).unwrap_or(0)
    }

    /// `f'(z)` of unit `unit` for sample `sample`.
    ///
    /// # Panics
    /// If either index is out of range.
    pub fn derivative(&self, unit: usize, sample: usize) -> T {
        assert!(unit < self.units, "unit {unit} of a layer of {} units", self.units);
        let k = sample * self.units + unit;
        self.function.derivative(self.input[k], self.output[k])
    }
}

impl<T> core::fmt::Debug for Activations<'_, T> {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("Activations")
            .field("position", &self.position)
            .field("kind", &self.kind)
            .field("units", &self.units)
            .field("len", &self.input.len())
            .finish_non_exhaustive()
    }
}

/// Receives every activation layer of a network, in forward order, from
/// [`Layer::visit_activations`](crate::Layer::visit_activations).
///
/// Implemented by [`ActivationHealth`](crate::diagnostics::ActivationHealth) and by every closure
/// `FnMut(Activations<'_, T>)`.
pub trait ActivationVisitor<T> {
    /// Called once per activation layer.
    fn visit(&mut self, activations: Activations<'_, T>);
}

impl<T, F: FnMut(Activations<'_, T>)> ActivationVisitor<T> for F {
    fn visit(&mut self, activations: Activations<'_, T>) {
        self(activations);
    }
}

#[cfg(test)]
mod tests {
    use nalgebra::SMatrix;

    use super::*;
    use crate::{
        Concat, Dense, Identity, Init, Layer, LeakyRelu, Mse, Parameters, Relu, Residual, Rng, Seq, Sigmoid, Tanh,
        Tensors, Workspace,
    };

    /// Every composite (nested tuples, arrays, a residual block, parallel branches) reports its
    /// activations at the positions its tensors have, with the values the layers computed.
    #[test]
    fn positions_match_tensor_positions_through_every_composite() {
        type Net = Seq![
            Dense<f64, 3, 4>, Tanh,
            [(Dense<f64, 4, 4>, Relu); 2],
            Residual<(Dense<f64, 4, 4>, Sigmoid)>,
            Concat<(Dense<f64, 4, 2>, LeakyRelu<f64>), Identity, 6>,
            Dense<f64, 6, 3>, Sigmoid, Dense<f64, 3, 3>, Tanh, Dense<f64, 3, 1>,
        ];
        let net = Net::build(Init::PyTorch, &mut Rng::new(3));
        let x = SMatrix::<f64, 3, 5>::from_fn(|i, j| ((i * 5 + j) as f64 * 0.8).sin());
        let mut workspace = Workspace::<f64, Net, _>::new();
        workspace.compute_gradient(&net, &Mse, &x, &SMatrix::zeros());
        let mut seen = Vec::new();
        net.visit_activations(&x, &workspace.output, &workspace.cache, 0, &mut |a: Activations<
            '_,
            f64,
        >| {
            for (z, y) in a.input.iter().zip(a.output) {
                assert_eq!(*y, a.function.value(*z), "position {}", a.position);
            }
            seen.push((a.position, a.units, a.samples(), a.kind));
        });
        let saturating = |m| ActivationKind::Saturating { max_derivative: m };
        let expected = [
            (1, 4, 5, saturating(1.0)),
            (3, 4, 5, ActivationKind::Rectifying),
            (5, 4, 5, ActivationKind::Rectifying),
            (7, 4, 5, saturating(0.25)),
            (9, 2, 5, ActivationKind::Rectifying),
            (10, 4, 5, ActivationKind::Other),
            (12, 3, 5, saturating(0.25)),
            (14, 3, 5, saturating(1.0)),
        ];
        assert_eq!(seen, expected);
        // The dense layers sit between, where the tensors say they do.
        let dense: Vec<usize> = Net::tensor_infos()
            .filter(|t| t.name == "weight")
            .map(|t| t.layer)
            .collect();
        assert_eq!(dense, [0, 2, 4, 6, 8, 11, 13, 15]);
        // The sigmoid at position 7 received the residual block's dense output; the block's
        // input is the array's output.
        let block_input = &workspace.cache.2.1;
        let pre = net.3.0.0.forward(block_input);
        let mut checked = false;
        net.visit_activations(&x, &workspace.output, &workspace.cache, 0, &mut |a: Activations<
            '_,
            f64,
        >| {
            if a.position == 7 {
                assert_eq!(a.input, pre.as_slice());
                checked = true;
            }
        });
        assert!(checked);
    }

    #[test]
    fn derivative_reads_the_right_entry() {
        let net = (Dense::<f64, 1, 2>::build(Init::PyTorch, &mut Rng::new(1)), Sigmoid);
        let x = SMatrix::<f64, 1, 3>::new(-1.0, 0.0, 2.0);
        let mut workspace = Workspace::<f64, _, _>::new();
        workspace.compute_gradient(&net, &Mse, &x, &SMatrix::<f64, 2, 3>::zeros());
        let z = net.0.forward(&x);
        net.visit_activations(&x, &workspace.output, &workspace.cache, 0, &mut |a: Activations<
            '_,
            f64,
        >| {
            assert_eq!(a.derivative(1, 2), Sigmoid.derivative(z[(1, 2)], 0.0));
        });
    }
}
