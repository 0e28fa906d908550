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
//! Tanh's slope `1/cosh² z` starts from a maximum of 1 and falls like `4 e^−2|z|`, twice as
//! fast in `|z|`: tanh saturates at half the distance (it is a sigmoid stretched by two,
//! `tanh z = 2σ(2z) − 1`). A ReLU below zero is the extreme case: its slope is exactly 0.
//!
//! ```
//! use static_nn::{Layer, Sigmoid, Tanh};
//! use static_nn::nalgebra::Vector3;
//!
//! let z = Vector3::new(0.0_f64, 4.0, 10.0);
//! let y = Sigmoid.forward(&z);
//! // Backward with dL/dy = 1 gives each unit's slope σ'(z).
//! let slope = Sigmoid.backward(&z, &y, &(), &Vector3::repeat(1.0), &mut ());
//! assert_eq!(slope[0], 0.25);
//! assert!((slope[1] - 0.0177).abs() < 1e-4);
//! assert!((slope[2] - 4.54e-5).abs() < 1e-7); // saturated: 5,500 times less than at 0
//! assert!((slope[2] / (-10.0_f64).exp() - 1.0).abs() < 1e-4); // σ'(z) ≈ e^−|z|
//!
//! let tanh_slope = Tanh.backward(&z, &Tanh.forward(&z), &(), &Vector3::repeat(1.0), &mut ());
//! assert_eq!(tanh_slope[0], 1.0);
//! assert!((tanh_slope[1] / (4.0 * (-8.0_f64).exp()) - 1.0).abs() < 1e-3); // tanh'(z) ≈ 4e^−2|z|
//! assert!(tanh_slope[1] < 1.4e-3 && tanh_slope[1] < slope[1] / 10.0); // 1e-3 of its peak at 4
//! ```
//!
//! A ReLU unit whose pre-activation is negative for every sample (its bias pushed far down,
//! say) is *dead*: its incoming weights receive a gradient of exactly zero from the data. It
//! is stuck, not doomed: the layers below keep learning, and a change in what they feed it can
//! push its input back above zero; weight decay and momentum also still move its weights. But
//! nothing in its own gradient pulls it back, and many dead units usually stay dead.
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
//! name, shape), so per-layer norms take a few lines. In a stack of eight dense layers with
//! seven sigmoids between them, under PyTorch's initialisation, the first layer's gradient is
//! orders of magnitude smaller than the last's:
//!
//! ```
//! use static_nn::prelude::*;
//! use static_nn::diagnostics::ActivationHealth;
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
//!
//! // Yet not one unit is saturated: every sigmoid slope is above a tenth of its peak.
//! let mut health = ActivationHealth::<f64, 8, 128>::new(&net, &x, &workspace).unwrap();
//! health.record(&net, &x, &workspace);
//! assert!(health.layers().iter().all(|layer| layer.saturated == 0));
//!
//! // A bias gradient is the gradient reaching a layer's pre-activations: from one hidden layer
//! // to the one below, it shrinks by 0.15, close to σ' (0.24 on average here) times the gain
//! // of a PyTorch-initialised weight, √(1/3) = 0.58 (uniform in ±1/√16: variance 1/(3·16)).
//! let delta = |layer: usize| workspace.grad.2[layer].0.bias.norm();
//! let per_layer = (delta(0) / delta(5)).powf(1.0 / 5.0);
//! assert!((0.1..0.2).contains(&per_layer), "{per_layer}");
//! ```
//!
//! So this is vanishing *without* saturation: each factor is below one even where the sigmoid
//! is at its steepest, because `σ' ≤ 1/4` and PyTorch's default initialisation shrinks the
//! signal too. The [`Diagnosis`](crate::diagnostics::Diagnosis) of such a step names this
//! cause. Xavier's initialisation would raise the weights' gain to about 1, but not the
//! slope's 1/4: each layer still divides the gradient by about four.
//!
//! ```
//! use static_nn::prelude::*;
//! use nalgebra::SMatrix;
//!
//! type Deep = (Dense<f64, 8, 16>, Sigmoid, [(Dense<f64, 16, 16>, Sigmoid); 6], Dense<f64, 16, 3>);
//! let net = Deep::build(Init::XavierNormal, &mut Rng::new(0));
//! let mut rng = Rng::new(1);
//! let x = SMatrix::<f64, 8, 32>::from_fn(|_, _| rng.normal());
//! let labels: [Class<3>; 32] = core::array::from_fn(|j| Class::new(j % 3).unwrap());
//! let mut workspace = Workspace::new();
//! workspace.compute_gradient(&net, &CrossEntropy, &x, &labels);
//! let delta = |layer: usize| workspace.grad.2[layer].0.bias.norm();
//! let per_layer = (delta(0) / delta(5)).powf(1.0 / 5.0);
//! assert!((0.2..0.3).contains(&per_layer), "{per_layer}"); // 0.25: about σ', not 1
//! ```
//!
//! Units that really saturate are a different failure, with the same symptom. Shift every
//! hidden pre-activation by +7 (biases that a few large steps can leave behind): the sigmoids
//! sit at 0.999, where their slope is 1e-3, below 1% of its peak. Each layer now multiplies the
//! gradient by about 1e-3 × 0.58, and the diagnostics report saturated layers and give the
//! vanishing gradient another cause:
//!
//! ```
//! use static_nn::prelude::*;
//! use static_nn::diagnostics::{ActivationHealth, Diagnosis, Monitor, Thresholds};
//! use nalgebra::SMatrix;
//!
//! type Deep = (Dense<f64, 8, 16>, Sigmoid, [(Dense<f64, 16, 16>, Sigmoid); 6], Dense<f64, 16, 3>);
//! let mut net = Deep::build(Init::PyTorch, &mut Rng::new(1));
//! for (info, tensor) in Deep::tensor_infos().zip(net.tensors_mut()) {
//!     if info.name == "bias" && info.layer < 14 {
//!         tensor.iter_mut().for_each(|b| *b += 7.0);
//!     }
//! }
//! let mut rng = Rng::new(1);
//! let x = SMatrix::<f64, 8, 32>::from_fn(|_, _| rng.normal());
//! let labels: [Class<3>; 32] = core::array::from_fn(|j| Class::new(j % 3).unwrap());
//! let mut workspace = Workspace::new();
//! let mut monitor = Monitor::<f64, Deep, _, 16>::new().unwrap();
//! let mut health = ActivationHealth::<f64, 8, 128>::new(&net, &x, &workspace).unwrap();
//! let mut sgd = Sgd::new(SgdConfig::with_lr(0.1));
//! monitor.train_step(&mut workspace, &mut net, &mut sgd, &CrossEntropy, &x, &labels, None).unwrap();
//! health.record(&net, &x, &workspace);
//!
//! assert!(health.layers().iter().all(|layer| layer.saturated_fraction() > 0.9));
//! assert!(monitor.record().stats.gradient_ratio().unwrap() < 1e-15); // vanished for good
//! let thresholds = Thresholds::default();
//! let diagnosis = Diagnosis::of(monitor.record().findings(&thresholds).chain(health.findings(&thresholds)));
//! println!("{diagnosis}");
//! let text = diagnosis.to_string();
//! assert!(text.contains("7 layers (1 to 13) are saturated"));
//! assert!(text.contains("cause: saturated units pass almost no gradient"));
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
//! - Initialise for the activation: [`Init::HeUniform`](crate::Init) / `HeNormal` for ReLU
//!   keep the variance of activations and gradients steady through depth, as Xavier does for
//!   tanh (whose slope at 0 is 1). For the sigmoid, Xavier keeps the weights' gain near 1 but
//!   cannot undo `σ'(0) = 1/4`: each layer still divides the gradient by about four (above).
//! - Prefer activations that do not saturate on one side (ReLU, GELU, SiLU) in deep stacks.
//! - Normalise pre-activations ([`batch_norm`](super::batch_norm)), so they stay where the
//!   activation is steep; on the way back a batch norm also multiplies the gradient by
//!   `γ / σ_batch`, which undoes a shrinking weight scale.
//! - Clip exploding gradients ([`clipping`](super::clipping)); that bounds the step, it does
//!   not fix the cause.
//! - Standardise inputs ([`Standardiser`](crate::data::Standardiser)): features of scale 1000
//!   saturate the first layer on their own.
//!
//! ## On real data
//!
//! `examples/deep_sigmoid.rs` trains eight hidden sigmoid layers on the UCI digits: it prints
//! the ratio of the first layer's gradient norm to the last's before training and the
//! diagnosis of the first step (vanishing, no layer saturated), and the plain network stays at
//! chance while the same network with batch norm learns.
//!
//! The measurements made by hand above are what [`diagnostics`](crate::diagnostics) records
//! every step without allocating: [`Monitor`](crate::diagnostics::Monitor) keeps per-tensor and
//! per-layer gradient norms, update ratios and the first-order check of the step,
//! [`ActivationHealth`](crate::diagnostics::ActivationHealth) counts saturated and dead units,
//! and both turn what they see into typed [`Finding`](crate::diagnostics::Finding)s (vanishing,
//! exploding, saturated, dead) against documented [`Thresholds`](crate::diagnostics::Thresholds),
//! each with its cause, a fix and the chapter that explains it; a
//! [`Diagnosis`](crate::diagnostics::Diagnosis) groups them by kind.
//! `cargo run --release --features plot --example gradient_health` runs them on the digits: a
//! deep sigmoid network vanishes layer by layer, ReLU with He initialisation and batch norm are
//! healthy, a badly initialised network explodes; clipping alone, at the same learning rate,
//! keeps every step finite, and it draws every curve as SVG.
