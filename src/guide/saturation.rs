//! # Saturation, vanishing and exploding gradients
//!
//! Backpropagation multiplies. The gradient reaching a layer is the loss's gradient times,
//! for every layer above it, that layer's local derivative: an activation's slope and a dense
//! layer's transposed weight. A product of many factors below one shrinks geometrically
//! (**vanishing** gradients); of many factors above one, it grows (**exploding** gradients).
//!
//! ## A saturated unit passes almost nothing back
//!
//! The sigmoid's slope `σ'(z) = σ(z) σ(−z)` is at most 1/4, at `z = 0`, and falls like
//! `e^−|z|`: a unit whose pre-activation is large in either direction is *saturated*, its
//! output barely moves when its input does, and the gradient through it nearly vanishes.
//! Tanh's slope `1/cosh² z` behaves the same way from a maximum of 1. A ReLU below zero is the
//! extreme case: its slope is exactly 0.
//!
//! ```
//! use static_nn::{Layer, Sigmoid};
//! use static_nn::nalgebra::Vector3;
//!
//! let z = Vector3::new(0.0_f64, 4.0, 10.0);
//! let y = Sigmoid.forward(&z);
//! // Backward with dL/dy = 1 gives each unit's slope σ'(z).
//! let slope = Sigmoid.backward(&z, &y, &(), &Vector3::repeat(1.0), &mut ());
//! assert_eq!(slope[0], 0.25);
//! assert!((slope[1] - 0.0177).abs() < 1e-4);
//! assert!((slope[2] - 4.54e-5).abs() < 1e-7); // saturated: 5,500 times less than at 0
//! ```
//!
//! A ReLU unit whose pre-activation is negative for every sample (its bias pushed far down,
//! say) is *dead*: its incoming weights receive a gradient of exactly zero and never change.
//!
//! ```
//! use static_nn::prelude::*;
//! use static_nn::nalgebra::SMatrix;
//!
//! type Net = (Dense<f64, 2, 4>, Relu, Dense<f64, 4, 2>);
//! let mut net = Net::build(Init::HeUniform, &mut Rng::new(1));
//! net.0.bias[1] = -100.0; // unit 1 is below zero for any reasonable input
//! let x = SMatrix::<f64, 2, 8>::from_fn(|i, j| (i as f64 - 0.5) * (j as f64 - 3.5) * 0.3);
//! let labels = Class::batch([0, 1, 0, 1, 1, 0, 1, 0]).unwrap();
//! let mut workspace = Workspace::new();
//! workspace.compute_gradient(&net, &CrossEntropy, &x, &labels);
//! assert!(workspace.grad.0.weight.row(1).iter().all(|&g| g == 0.0));
//! assert_eq!(workspace.grad.0.bias[1], 0.0);
//! assert!(workspace.grad.0.weight.row(0).iter().any(|&g| g != 0.0));
//! ```
//!
//! ## Measuring gradients layer by layer
//!
//! Vanishing and exploding gradients show in the size of each layer's weight gradient. The
//! gradient has the network's layout, and [`Tensors`](crate::Tensors) pairs each of its
//! tensors with a [`TensorInfo`](crate::TensorInfo) (layer position as in `nn.Sequential`,
//! name, shape), so per-layer norms take a few lines. In eight sigmoid layers with PyTorch's
//! initialisation, the first layer's gradient is orders of magnitude smaller than the last's:
//!
//! ```
//! use static_nn::prelude::*;
//! use static_nn::nalgebra::SMatrix;
//!
//! type Deep = (Dense<f64, 8, 16>, Sigmoid, [(Dense<f64, 16, 16>, Sigmoid); 6], Dense<f64, 16, 3>);
//! let net = Deep::build(Init::PyTorch, &mut Rng::new(0));
//! let mut rng = Rng::new(1);
//! let x = SMatrix::<f64, 8, 32>::from_fn(|_, _| rng.normal());
//! let labels: [Class<3>; 32] = core::array::from_fn(|j| Class::new(j % 3).unwrap());
//! let mut workspace = Workspace::new();
//! workspace.compute_gradient(&net, &CrossEntropy, &x, &labels);
//!
//! // (layer position, L2 norm) of every weight gradient, first layer first.
//! let norms: Vec<(usize, f64)> = Deep::tensor_infos()
//!     .zip(workspace.grad.tensors())
//!     .filter(|(info, _)| info.name == "weight")
//!     .map(|(info, g)| (info.layer, g.iter().map(|v| v * v).sum::<f64>().sqrt()))
//!     .collect();
//! assert_eq!(norms.len(), 8);
//! assert_eq!((norms[0].0, norms[7].0), (0, 14));
//! let ratio = norms[0].1 / norms[7].1;
//! assert!(ratio < 1e-3, "first / last = {ratio:e}"); // vanished on the way down
//! ```
//!
//! The opposite happens when each layer amplifies: eight linear layers whose weights are three
//! times Xavier's scale multiply the gradient by about three per layer on its way back.
//!
//! ```
//! use static_nn::prelude::*;
//! use static_nn::nalgebra::SMatrix;
//!
//! type Linear = ([Dense<f64, 16, 16>; 8], Dense<f64, 16, 1>);
//! let mut net = Linear::build(Init::XavierNormal, &mut Rng::new(0));
//! for (info, tensor) in Linear::tensor_infos().zip(net.tensors_mut()) {
//!     if info.name == "weight" && info.layer < 8 {
//!         tensor.iter_mut().for_each(|w| *w *= 3.0);
//!     }
//! }
//! let mut rng = Rng::new(1);
//! let x = SMatrix::<f64, 16, 8>::from_fn(|_, _| rng.normal());
//! let mut workspace = Workspace::new();
//! workspace.compute_gradient(&net, &Mse, &x, &SMatrix::<f64, 1, 8>::zeros());
//! let bias_norm = |layer: usize| workspace.grad.0[layer].bias.norm();
//! assert!(bias_norm(0) / bias_norm(7) > 100.0); // grew on the way down
//! ```
//!
//! ## What to do about it
//!
//! - Initialise for the activation: [`Init::HeUniform`](crate::Init) / `HeNormal` for ReLU,
//!   Xavier for tanh and sigmoid keep the variance of activations and gradients steady through
//!   depth.
//! - Prefer activations that do not saturate on one side (ReLU, GELU, SiLU) in deep stacks.
//! - Normalise pre-activations ([`batch_norm`](super::batch_norm)), so they stay where the
//!   activation is steep.
//! - Clip exploding gradients ([`clipping`](super::clipping)); that bounds the step, it does
//!   not fix the cause.
//! - Standardise inputs ([`Standardiser`](crate::data::Standardiser)): features of scale 1000
//!   saturate the first layer on their own.
//!
//! ## On real data
//!
//! `examples/deep_sigmoid.rs` trains eight sigmoid layers on the UCI digits: it prints the
//! ratio of the first layer's gradient norm to the last's before training, and the plain
//! network stays at chance while the same network with batch norm learns.
//!
//! The measurements made by hand above are what [`diagnostics`](crate::diagnostics) records
//! every step without allocating: [`Monitor`](crate::diagnostics::Monitor) keeps per-tensor and
//! per-layer gradient norms, update ratios and the first-order check of the step,
//! [`ActivationHealth`](crate::diagnostics::ActivationHealth) counts saturated and dead units,
//! and both turn what they see into typed [`Finding`](crate::diagnostics::Finding)s (vanishing,
//! exploding, saturated, dead) against documented [`Thresholds`](crate::diagnostics::Thresholds).
//! `cargo run --release --features plot --example gradient_health` runs them on the digits: a
//! deep sigmoid network vanishes layer by layer, ReLU with He initialisation and batch norm are
//! healthy, a badly initialised network explodes until clipping tames it, and it draws every
//! curve as SVG.
