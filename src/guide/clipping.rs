//! # Clipping
//!
//! A gradient step is `−η g`: when `g` is suddenly huge (a steep cliff in the loss surface, an
//! outlier batch, an exploding stack of layers, see [`saturation`](super::saturation)) the
//! step throws the parameters far away, often somewhere the loss is worse and the gradient
//! larger still. Clipping bounds the step before it is taken.
//!
//! - **By norm** ([`clip_grad_norm`](crate::optim::clip_grad_norm), PyTorch's
//!   `clip_grad_norm_`): if the gradient's global L2 norm, over every tensor of the network,
//!   exceeds `max_norm`, the whole gradient is scaled down to that norm. The **direction is
//!   kept**, so the step still goes downhill; only its length is bounded.
//! - **By value** ([`clip_grad_value`](crate::optim::clip_grad_value)): each entry is clamped
//!   to `[−v, v]`. Cheaper to reason about per entry, but it **changes the direction**: large
//!   components are cut, small ones kept.
//!
//! ```
//! use static_nn::optim::{clip_grad_norm, clip_grad_value};
//! use static_nn::nalgebra::Vector2;
//!
//! let mut by_norm = Vector2::new(3.0_f64, 4.0);
//! let total = clip_grad_norm(&mut by_norm, 1.0).unwrap();
//! assert_eq!(total, 5.0); // the norm before clipping, to log
//! assert!((by_norm - Vector2::new(0.6, 0.8)).norm() < 1e-6); // same direction, length 1
//!
//! let mut by_value = Vector2::new(3.0_f64, 4.0);
//! clip_grad_value(&mut by_value, 1.0);
//! assert_eq!(by_value, Vector2::new(1.0, 1.0)); // another direction: 45°, not 53°
//!
//! // A NaN or infinite norm is refused rather than spread into every parameter.
//! assert!(clip_grad_norm(&mut Vector2::new(f64::NAN, 1.0), 1.0).is_err());
//! ```
//!
//! Clipping treats a symptom. If gradients keep hitting the limit, the learning rate is too
//! high or the network badly scaled (initialisation, unnormalised inputs), and clipping only
//! makes training slower and quieter about it: log the norm `clip_grad_norm` returns.
//!
//! ## Exploding gradients in a recurrent network
//!
//! A recurrent layer applies the same weights at every time step, so backpropagation through
//! time multiplies the gradient by the same matrix again and again. In a plain (Elman) layer,
//! [`Rnn`](crate::Rnn), `h_t = tanh(W_ih x_t + W_hh h_{t−1} + b)`, the Jacobian of one step is
//! `diag(1 − h_t²) W_hh`, and through `T` steps
//! `∂h_T/∂h_0 = Π diag(1 − h_t²) W_hh`. Where the units stay near 0 (slope 1) this is
//! `W_hhᵀ` to the power `T`, whose size grows like `ρ^T` for the spectral radius `ρ` of
//! `W_hh`: it explodes for `ρ > 1` and vanishes for `ρ < 1`, geometrically in the length of
//! the sequence. With `W_hh` a rotation scaled by `ρ`, and the state at 0, it is exactly `ρ^T`:
//!
//! ```
//! use static_nn::{Layer, Rnn};
//! use static_nn::bytemuck::Zeroable;
//! use nalgebra::{Matrix2, SMatrix, Vector2};
//!
//! let jacobian_norm = |rho: f64| {
//!     let mut rnn = Rnn::<f64, 1, 2>::zeros();
//!     let (cos, sin) = (0.5_f64.cos(), 0.5_f64.sin());
//!     rnn.weight_hh = Matrix2::new(cos, -sin, sin, cos) * rho; // spectral radius ρ
//!     let input = ([SMatrix::<f64, 1, 1>::zeros(); 20], Vector2::zeros()); // 20 steps from h_0 = 0
//!     let mut cache = Zeroable::zeroed();
//!     let output = rnn.forward_train(&input, &mut cache);
//!     // Backward from ∂L/∂h_20 = e₀ alone gives a row of ∂h_20/∂h_0 as the gradient of h_0.
//!     let seed = ([Vector2::zeros(); 20], Vector2::new(1.0, 0.0));
//!     let (_, dh0) = rnn.backward(&input, &output, &cache, &seed, &mut Rnn::zeros());
//!     dh0.norm()
//! };
//! assert!((jacobian_norm(1.2) / 1.2_f64.powi(20) - 1.0).abs() < 1e-12); // 38.3: exploding
//! assert!((jacobian_norm(0.8) / 0.8_f64.powi(20) - 1.0).abs() < 1e-12); // 0.0115: vanishing
//! ```
//!
//! Trained, a layer of 8 units with `W_hh` at three times PyTorch's scale (spectral radius
//! 1.9) must remember the first of 20 inputs. SGD at a learning rate of 0.3 diverges without
//! clipping: the gradient's norm, 15 at the first step, passes 1e3 at the eleventh and reaches
//! 1e87, and the loss 1e172. The same run with the gradient clipped to norm 1 takes every step
//! in the gradient's direction but of bounded length, and learns (its loss falls from 1.0,
//! the target's variance, to 0.44, while the gradient's norm before clipping never reaches
//! 1e3):
//!
//! ```
//! use static_nn::prelude::*;
//! use static_nn::optim::clip_grad_norm;
//! use nalgebra::SMatrix;
//!
//! type Net = (Rnn<f64, 1, 8>, LastStep, Dense<f64, 8, 1>);
//! type Sequence = [SMatrix<f64, 1, 16>; 20];
//! let run = |clip: bool| {
//!     let mut net = Net::build(Init::PyTorch, &mut Rng::new(0));
//!     net.0.weight_hh *= 3.0;
//!     let radius = net.0.weight_hh.complex_eigenvalues().iter().map(|e| e.norm()).fold(0.0, f64::max);
//!     assert!((radius - 1.91).abs() < 0.01);
//!     let mut sgd = Sgd::new(SgdConfig::with_lr(0.3));
//!     let mut workspace = Workspace::<f64, Net, Sequence>::new_boxed();
//!     let (mut rng, mut losses, mut largest_norm) = (Rng::new(1), Vec::new(), 0.0_f64);
//!     for _ in 0..150 {
//!         let x: Sequence = core::array::from_fn(|_| SMatrix::from_fn(|_, _| rng.normal()));
//!         let first = x[0]; // the target: the first input, 20 steps back
//!         losses.push(workspace.compute_gradient(&net, &Mse, &x, &first));
//!         let mut gradient = workspace.grad.clone();
//!         let norm = if clip {
//!             clip_grad_norm(&mut gradient, 1.0).unwrap()
//!         } else {
//!             gradient.tensors().flatten().map(|g| g * g).sum::<f64>().sqrt()
//!         };
//!         largest_norm = largest_norm.max(norm);
//!         sgd.step(&mut net, &gradient);
//!     }
//!     let last = losses[140..].iter().sum::<f64>() / 10.0;
//!     (last, largest_norm)
//! };
//! let (unclipped_loss, unclipped_norm) = run(false);
//! let (clipped_loss, clipped_norm) = run(true);
//! assert!(unclipped_norm > 1e80 && !(unclipped_loss < 1e100)); // exploded (or NaN)
//! assert!(clipped_norm < 1e3 && clipped_loss < 0.5); // from 1.0: it learned
//! ```
//!
//! Clipping bounds the step; it does not make the long-range gradient informative. Where the
//! product shrinks instead (`ρ < 1`, or saturated units), the gradient from step 20 back to
//! step 0 vanishes and the network cannot learn long dependencies. The gated layers answer
//! that: a [`Gru`](crate::Gru) computes `h_t = z ⊙ h_{t−1} + (1 − z) ⊙ n`, so along the update
//! gate `z` the state is copied, with a Jacobian close to `diag(z)` rather than a product of
//! weights and slopes (an [`Lstm`](crate::Lstm)'s cell state does the same through its forget
//! gate). Through 20 steps the Elman layer at PyTorch's scale keeps about a millionth of the
//! gradient (8.5e-7), a GRU at PyTorch's initialisation, its gates half open, 2e-4; once its
//! update gate leans towards copying (the bias raised by 3, `z` ≈ 0.95), 0.41. Training can
//! learn such a gate where a dependency is long; an Elman layer has no such path:
//!
//! ```
//! use static_nn::prelude::*;
//! use static_nn::bytemuck::Zeroable;
//! use nalgebra::SMatrix;
//!
//! /// ‖∂L/∂h_0‖ for ∂L/∂h_20 = e₀, zero inputs, h_0 = 0.
//! fn through_20_steps<N>(layer: &N) -> f64
//! where
//!     N: Layer<f64, ([SMatrix<f64, 1, 1>; 20], SMatrix<f64, 8, 1>), Output = ([SMatrix<f64, 8, 1>; 20], SMatrix<f64, 8, 1>)>
//!         + Parameters<f64, Gradient = N>,
//! {
//!     let input = ([SMatrix::zeros(); 20], SMatrix::zeros());
//!     let mut cache = Zeroable::zeroed();
//!     let output = layer.forward_train(&input, &mut cache);
//!     let seed = ([SMatrix::zeros(); 20], SMatrix::from_fn(|j, _| if j == 0 { 1.0 } else { 0.0 }));
//!     let (_, dh0) = layer.backward(&input, &output, &cache, &seed, &mut Zeroable::zeroed());
//!     dh0.norm()
//! }
//! let elman = Rnn::<f64, 1, 8>::build(Init::PyTorch, &mut Rng::new(0));
//! let mut gru = Gru::<f64, 1, 8>::build(Init::PyTorch, &mut Rng::new(0));
//! let gru_at_init = through_20_steps(&gru);
//! gru.bias_ih.column_mut(1).add_scalar_mut(3.0); // update gate z: mostly copy
//! let (elman, gru) = (through_20_steps(&elman), through_20_steps(&gru));
//! assert!(elman < 1e-6 && (1e-4..1e-3).contains(&gru_at_init) && gru > 0.4);
//! ```
//!
//! ## On real data
//!
//! Iris, a 4-16-16-3 network, SGD with momentum 0.9 at a learning rate of 0.3 (too high):
//! without clipping the training loss climbs into the thousands and the network ends at
//! chance; with the gradient clipped to norm 1 ([`TrainConfig::clip`](crate::TrainConfig))
//! the same run trains.
//!
//! ```
//! use static_nn::prelude::*;
//! use static_nn::data::{parse_csv, stratified_split, ConfusionMatrix, Header, Standardiser};
//!
//! let iris_csv = include_str!(concat!(env!("CARGO_MANIFEST_DIR"), "/data/iris.csv"));
//! let iris = parse_csv::<f32, 4, 3>(iris_csv, Header::Counts).unwrap();
//! let (mut train, mut test) = stratified_split(&iris.samples, 0.2, 0);
//! let standardiser = Standardiser::fit(&train);
//! standardiser.apply(&mut train);
//! standardiser.apply(&mut test);
//!
//! type Net = (Dense<f32, 4, 16>, Relu, Dense<f32, 16, 16>, Relu, Dense<f32, 16, 3>);
//! let run = |clip: Option<Clip<f32>>| {
//!     let mut net = Net::build(Init::HeUniform, &mut Rng::new(0));
//!     let mut sgd = Sgd::new(SgdConfig { momentum: 0.9, ..SgdConfig::with_lr(0.3) });
//!     let mut trainer = Trainer::<f32, Net, 4, 8>::new(TrainConfig { clip, ..TrainConfig::with_epochs(30) });
//!     let history = trainer.fit(&mut net, &mut sgd, &CrossEntropy, &train, None, |_| {}).unwrap();
//!     let worst_loss = history.epochs.iter().map(|e| e.train.loss).fold(0.0, f32::max);
//!     (worst_loss, ConfusionMatrix::of(&net, &test).accuracy())
//! };
//! let (worst, accuracy) = run(None);
//! assert!(worst > 100.0 && accuracy < 0.5);
//! let (worst, accuracy) = run(Some(Clip::Norm(1.0)));
//! assert!(worst < 1.0 && accuracy > 0.9);
//! ```
