//! Inference on one sample given as an array.

use nalgebra::SVector;

use crate::{Class, Layer, Real};

/// Inference on a single sample `[T; I]`, the form samples take in a data set: implemented for
/// every network that maps `I` inputs to `O` outputs.
///
/// Both methods run [`Layer::forward`], so batch norm uses its running statistics and dropout
/// is off.
///
/// ```
/// use static_nn::prelude::*;
///
/// type Net = (Dense<f32, 4, 8>, Relu, Dense<f32, 8, 3>);
/// let net = Net::build(Init::HeUniform, &mut Rng::new(0));
/// let sample = [5.1, 3.5, 1.4, 0.2];
/// let scores: static_nn::nalgebra::SVector<f32, 3> = net.predict(&sample);
/// let class: Class<3> = net.classify(&sample);
/// assert_eq!(class.index(), scores.imax());
/// ```
#[diagnostic::on_unimplemented(
    message = "`{Self}` cannot map a sample of {I} features to {O} outputs",
    note = "the network's first layer must take {I} inputs and its last give {O} outputs; to classify or score samples labelled `Class<{O}>`, it needs one output per class"
)]
pub trait Predict<T: Real, const I: usize, const O: usize> {
    /// The network's output for one sample.
    fn predict(&self, x: &[T; I]) -> SVector<T, O>;

    /// The class whose output is largest (the first, on ties), which is the prediction of a
    /// classifier whether its outputs are logits or probabilities.
    ///
    /// # Panics
    /// If the network has no outputs (`O = 0`).
    fn classify(&self, x: &[T; I]) -> Class<O> {
        let y = self.predict(x);
        let mut best = 0;
        for (i, &v) in y.iter().enumerate() {
            if v > y[best] {
                best = i;
            }
        }
        Class::new(best).expect("a network with no outputs has no class to predict")
    }
}

impl<T: Real, N, const I: usize, const O: usize> Predict<T, I, O> for N
where
    N: Layer<T, SVector<T, I>, Output = SVector<T, O>>,
{
    fn predict(&self, x: &[T; I]) -> SVector<T, O> {
        self.forward(&SVector::from(*x))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{BatchNorm, Dense, Init, Parameters, Rng, Tanh};
    use nalgebra::{Matrix2x3, SMatrix, Vector2};

    #[test]
    fn predicts_and_classifies_like_a_forward_pass() {
        let net = (
            Dense::new(Matrix2x3::new(1.0, 0.0, -1.0, 0.5, 2.0, 0.0), Vector2::new(0.0, 0.1)),
            Tanh,
        );
        let y = net.predict(&[1.0_f64, 0.5, 2.0]);
        assert_eq!(y, Vector2::new((-1.0_f64).tanh(), 1.6_f64.tanh()));
        assert_eq!(net.classify(&[1.0, 0.5, 2.0]).index(), 1);
        assert_eq!(net.classify(&[3.0, 0.0, 0.0]).index(), 0);
    }

    #[test]
    fn prediction_is_in_inference_mode() {
        type Net = (Dense<f64, 2, 3>, BatchNorm<f64, 3>);
        let mut net = Net::build(Init::PyTorch, &mut Rng::new(1));
        net.1.running_mean = nalgebra::Vector3::new(1.0, -1.0, 0.5);
        let x = [0.3, -0.7];
        let batch: SMatrix<f64, 2, 1> = Vector2::from(x);
        assert_eq!(net.predict(&x), net.forward(&batch));
    }
}
