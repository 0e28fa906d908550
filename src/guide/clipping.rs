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
//! let iris = parse_csv::<f32, 4, 3>(include_str!("../../data/iris.csv"), Header::Counts).unwrap();
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
