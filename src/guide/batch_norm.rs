//! # Batch normalisation
//!
//! A [`BatchNorm`](crate::BatchNorm) layer, placed between a dense layer and its activation,
//! rescales each feature over the batch to mean 0 and variance 1, then applies a learned scale
//! `γ` and shift `β`:
//!
//! ```text
//! x̂ = (x − mean_batch) / √(var_batch + eps)        y = γ x̂ + β
//! ```
//!
//! Why it helps gradients, in two ways. On the way back, a batch norm multiplies the gradient
//! by `γ / σ_batch` (plus a correction for the batch's mean and variance): where the weights
//! below shrink the signal, `σ_batch` is small and the gradient is scaled back up by as much.
//! The scale of the weights below no longer changes the scale of the gradient either, so depth
//! and initialisation matter less. On the way forward, pre-activations stay centred where
//! sigmoid and tanh are steepest instead of drifting into saturation
//! ([`saturation`](super::saturation)). In the deep sigmoid network of
//! [`saturation`](super::saturation) no unit saturates; batch norm helps it through the first
//! effect, the rescaling, as the test below measures. It also widens the range of learning
//! rates that train: `examples/learning_rates.rs` trains four hidden sigmoid layers on iris
//! for 10 epochs at rates from 0.01 to 100; without batch norm none leaves chance (loss 1.1 or
//! more), with it every rate from 0.1 to 3 trains (0.44 to 0.17), the best being the largest.
//! It does not make every rate safe: from 10 on, both diverge.
//!
//! ```
//! use static_nn::prelude::*;
//! use static_nn::Activations;
//! use nalgebra::SMatrix;
//!
//! // The PyTorch-initialised sigmoid stack of the saturation chapter, and the same with a batch
//! // norm before every sigmoid.
//! type Plain = (Dense<f64, 8, 16>, Sigmoid, [(Dense<f64, 16, 16>, Sigmoid); 6], Dense<f64, 16, 3>);
//! type Normalised = (
//!     Dense<f64, 8, 16>,
//!     BatchNorm<f64, 16>,
//!     Sigmoid,
//!     [(Dense<f64, 16, 16>, BatchNorm<f64, 16>, Sigmoid); 6],
//!     Dense<f64, 16, 3>,
//! );
//! let mut rng = Rng::new(1);
//! let x = SMatrix::<f64, 8, 32>::from_fn(|_, _| rng.normal());
//! let labels: [Class<3>; 32] = core::array::from_fn(|j| Class::new(j % 3).unwrap());
//!
//! let plain = Plain::build(Init::PyTorch, &mut Rng::new(0));
//! let mut workspace = Workspace::new();
//! workspace.compute_gradient(&plain, &CrossEntropy, &x, &labels);
//! let plain_per_layer = (workspace.grad.2[0].0.bias.norm() / workspace.grad.2[5].0.bias.norm()).powf(0.2);
//!
//! let normalised = Normalised::build(Init::PyTorch, &mut Rng::new(0));
//! let mut workspace = Workspace::new();
//! workspace.compute_gradient(&normalised, &CrossEntropy, &x, &labels);
//! // The gradient reaching each batch norm's output, as its β gradient, layer after layer.
//! let beta = |layer: usize| workspace.grad.3[layer].1.bias.norm();
//! let normalised_per_layer = (beta(0) / beta(5)).powf(0.2);
//! assert!(plain_per_layer < 0.2); // 0.15 per layer: 1e-4 through six
//! assert!(normalised_per_layer > 0.5, "{normalised_per_layer}"); // scaled back towards one
//!
//! // Not through steeper sigmoids: centred with unit variance, the pre-activations spread
//! // further from 0 than the plain network's, and the mean slope is, if anything, lower.
//! fn mean_slope<N: Layer<f64, X>, X>(net: &N, x: &X, workspace: &Workspace<f64, N, X>) -> f64 {
//!     let (mut sum, mut count) = (0.0, 0.0);
//!     workspace.visit_activations(net, x, &mut |a: Activations<'_, f64>| {
//!         for sample in 0..a.samples() {
//!             for unit in 0..a.units {
//!                 sum += a.derivative(unit, sample);
//!                 count += 1.0;
//!             }
//!         }
//!     });
//!     sum / count
//! }
//! let normalised_slope = mean_slope(&normalised, &x, &workspace);
//! let mut workspace = Workspace::new();
//! workspace.compute_gradient(&plain, &CrossEntropy, &x, &labels);
//! let plain_slope = mean_slope(&plain, &x, &workspace);
//! assert!(normalised_slope < plain_slope, "{normalised_slope} vs {plain_slope}");
//! ```
//!
//! ## Two modes, chosen by the method
//!
//! In training ([`Layer::forward_train`](crate::Layer::forward_train)) the statistics are the
//! batch's, so a sample's output depends on the other samples in its batch; the running
//! averages of those statistics are updated afterwards by
//! [`Layer::update_buffers`](crate::Layer::update_buffers) (which
//! [`Workspace::train_step`](crate::Workspace::train_step) and the trainer call for you). In
//! inference ([`Layer::forward`](crate::Layer::forward)) the running averages are used and
//! every sample is on its own. There is no mode flag to forget: the method is the mode.
//!
//! ```
//! use static_nn::{BatchNorm, Layer};
//! use static_nn::bytemuck::Zeroable;
//! use static_nn::nalgebra::SMatrix;
//!
//! let mut bn = BatchNorm::<f64, 2>::new(); // γ = 1, β = 0, running mean 0, variance 1
//! let x = SMatrix::<f64, 2, 4>::new(
//!     1.0, 2.0, 3.0, 6.0, // feature 0: mean 3
//!     10.0, 20.0, 30.0, 40.0, // feature 1: mean 25
//! );
//! let mut cache = Zeroable::zeroed();
//! let y = bn.forward_train(&x, &mut cache);
//! for row in y.row_iter() {
//!     let mean = row.mean();
//!     let variance = row.map(|v| (v - mean).powi(2)).mean();
//!     assert!(mean.abs() < 1e-12 && (variance - 1.0).abs() < 1e-3); // normalised over the batch
//! }
//!
//! // In training, changing one sample changes the others' outputs.
//! let mut other = x;
//! other[(0, 3)] = 100.0;
//! let y_other = bn.forward_train(&other, &mut Zeroable::zeroed());
//! assert_ne!(y_other[(0, 0)], y[(0, 0)]);
//!
//! // The running statistics move 10% of the way to the batch's (unbiased variance).
//! bn.update_buffers(&cache);
//! assert!((bn.running_mean[0] - 0.3).abs() < 1e-12);
//! assert!((bn.running_var[0] - (0.9 + 0.1 * 14.0 / 3.0)).abs() < 1e-12);
//!
//! // Inference uses them, one sample at a time: the other samples do not matter.
//! let alone = bn.forward(&x.fixed_columns::<1>(0).into_owned());
//! assert_eq!(alone[(0, 0)], bn.forward(&x)[(0, 0)]);
//! assert_eq!(bn.forward(&other)[(0, 0)], bn.forward(&x)[(0, 0)]);
//! ```
//!
//! A training batch of one sample does not compile (its variance is 0, the unbiased one 0/0),
//! and the running statistics are buffers, saved with the weights but never touched by an
//! optimizer or the gradient checker.
//!
//! ## On real data
//!
//! `examples/deep_sigmoid.rs`: eight sigmoid layers on the UCI digits, trained from the same
//! weights and batches with and without a batch norm before each sigmoid. Without, the loss
//! stays at chance (2.31) for 30 epochs; with, the test accuracy passes 90% in five epochs.
