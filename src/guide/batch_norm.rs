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
//! Why it helps gradients: pre-activations stay centred where sigmoid and tanh are steepest
//! instead of drifting into saturation ([`saturation`](super::saturation)), and the scale of
//! the weights below no longer changes the scale of what the activation sees, so depth and
//! initialisation matter less. It lets larger learning rates train stably.
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
