//! # SGD, momentum, RMSprop and Adam
//!
//! All four follow the gradient; they differ in what they do with its history.
//!
//! - **SGD** steps by `−η g`. In a narrow valley the learning rate is capped by the steep
//!   direction (see [`descent`](super::descent)), so progress along the flat floor is slow.
//! - **Momentum** (`Sgd` with `momentum: 0.9`) keeps a running sum `b ← μ b + g` and steps by
//!   `−η b`. Components that agree from step to step (along the floor) add up to about
//!   `1/(1 − μ)` = 10 times the gradient; components that flip sign (across the valley) cancel.
//! - **RMSprop** ([`RmsProp`](crate::RmsProp)) keeps a running mean of each parameter's
//!   squared gradient, `v ← α v + (1 − α) g²`, and steps by `−η g / √v`: every coordinate
//!   moves at about the learning rate whatever its gradient's scale, so steep and flat
//!   directions are evened out, *along the coordinate axes*.
//! - **Adam** is momentum and RMSprop together, with a bias correction: a running mean of the
//!   gradient `m ← β₁ m + (1 − β₁) g` (momentum's direction), a running mean of its square
//!   `v ← β₂ v + (1 − β₂) g²` (RMSprop's scale), both divided by `1 − βᵗ` because they start
//!   at zero, and the step `−η m̂ / (√v̂ + ε)`.
//!
//! A valley 100 times steeper across than along, `L = ½ (x² + 100 y²)`, from the same start,
//! each optimizer at the best of a few learning rates:
//!
//! ```
//! use static_nn::{Adam, AdamConfig, Optimizer, Sgd, SgdConfig};
//! use static_nn::nalgebra::Vector2;
//!
//! let loss = |p: &Vector2<f64>| 0.5 * (p[0] * p[0] + 100.0 * p[1] * p[1]);
//! let gradient = |p: &Vector2<f64>| Vector2::new(p[0], 100.0 * p[1]);
//!
//! /// Steps until the loss is below 1e-6 (at most 10,000).
//! fn steps_to_converge<O: Optimizer<f64, Vector2<f64>>>(
//!     mut optimizer: O,
//!     loss: impl Fn(&Vector2<f64>) -> f64,
//!     gradient: impl Fn(&Vector2<f64>) -> Vector2<f64>,
//! ) -> usize {
//!     let mut p = Vector2::new(10.0, 1.0);
//!     for step in 0..10_000 {
//!         if loss(&p) < 1e-6 {
//!             return step;
//!         }
//!         let g = gradient(&p);
//!         optimizer.step(&mut p, &g);
//!     }
//!     10_000
//! }
//! let best = |runs: Vec<usize>| runs.into_iter().min().unwrap();
//! let lrs = [0.001, 0.003, 0.01, 0.019];
//! let sgd = best(lrs.map(|lr| steps_to_converge(Sgd::new(SgdConfig::with_lr(lr)), loss, gradient)).to_vec());
//! let momentum = best(lrs.map(|lr| {
//!     steps_to_converge(Sgd::new(SgdConfig { momentum: 0.9, ..SgdConfig::with_lr(lr) }), loss, gradient)
//! }).to_vec());
//! let adam = best([0.03, 0.1, 0.3, 1.0].map(|lr| steps_to_converge(Adam::new(AdamConfig::with_lr(lr)), loss, gradient)).to_vec());
//! println!("steps: SGD {sgd}, momentum {momentum}, Adam {adam}");
//! assert!(momentum * 3 < sgd);
//! assert!(adam < sgd);
//! ```
//!
//! It prints `steps: SGD 463, momentum 141, Adam 151`. SGD's rate cannot exceed `2/100` (the
//! steep curvature), so along `x` (curvature 1) each step removes at most 2% of the distance;
//! momentum needs less than a third of the steps.
//!
//! ## Adam's step shrinks with the gradient, until it forgets
//!
//! One might expect Adam, whose step is about `η` whatever the gradient's scale, to jitter at
//! the scale of the learning rate near a minimum. On this valley it does not, for a long time:
//! `v̂` averages the squared gradients of about the last `1/(1 − β₂)` = 1000 steps, which were
//! much larger than the current ones, so `m̂ / √v̂` shrinks as the gradient does and the loss
//! keeps falling geometrically: below 1e-20 at step 500 and 1e-45 at step 1000 (learning rate
//! 1, the best of the four above). The jitter comes only once `v̂` has forgotten the large
//! gradients: then the step is `η` again, and a single step throws the loss back up to the
//! order of `η²` times the curvature. With noisy gradients (mini-batches) `v̂` stays at the
//! noise's level and the jitter is there all along; a decaying learning rate
//! ([`schedule`](crate::optim::schedule)) is the cure.
//!
//! ```
//! use static_nn::{Adam, AdamConfig, Optimizer};
//! use nalgebra::Vector2;
//!
//! let loss = |p: &Vector2<f64>| 0.5 * (p[0] * p[0] + 100.0 * p[1] * p[1]);
//! let mut p = Vector2::new(10.0, 1.0);
//! let mut adam = Adam::new(AdamConfig::with_lr(1.0));
//! let losses: Vec<f64> = (0..3000)
//!     .map(|_| {
//!         let g = Vector2::new(p[0], 100.0 * p[1]);
//!         adam.step(&mut p, &g);
//!         loss(&p)
//!     })
//!     .collect();
//! assert!(losses[499] < 1e-20 && losses[999] < 1e-45); // no jitter: the step shrank
//! let late = losses[1000..].iter().copied().fold(0.0, f64::max);
//! assert!(late > 1e-3, "{late:e}"); // v̂ forgot: steps of about η again, the loss jumps
//! ```
//!
//! ## Adam is momentum plus RMSprop plus a bias correction
//!
//! At the first step `m = (1 − β₁) g = 0.1 g` and `v = (1 − β₂) g² = 0.001 g²`: uncorrected,
//! `m / √v = 0.1 / √0.001` = 3.16 times the sign of `g`, a first step of 3.16 η. Divided by
//! `1 − β₁` and `1 − β₂`, both are the gradient's own values again and the first step is
//! exactly `η` per coordinate. PyTorch's RMSprop has no such correction: its first step is
//! `η / √(1 − α)` = 10 η with the default `α` = 0.99.
//!
//! ```
//! use static_nn::{Adam, AdamConfig, Optimizer, RmsProp, RmsPropConfig};
//! use nalgebra::Vector2;
//!
//! let g = Vector2::new(0.003_f64, -50.0); // any scale: the first step does not depend on it
//! let mut p = Vector2::zeros();
//! Adam::new(AdamConfig::with_lr(0.01)).step(&mut p, &g);
//! assert!((p - Vector2::new(-0.01, 0.01)).norm() < 1e-7); // η per coordinate, against g
//! let uncorrected = (0.1 * g[0]) / (0.001 * g[0] * g[0]).sqrt();
//! assert!((uncorrected - 3.162).abs() < 1e-3);
//!
//! let mut p = Vector2::zeros();
//! RmsProp::new(RmsPropConfig::with_lr(0.01)).step(&mut p, &g);
//! assert!((p - Vector2::new(-0.1, 0.1)).norm() < 1e-5); // 10 η: no bias correction
//! ```
//!
//! ## Per-parameter rates need the valley along the axes
//!
//! RMSprop's and Adam's scaling is per coordinate. It evens out a valley whose steep and flat
//! directions are the coordinate axes; rotate the same valley by 45° and every coordinate
//! sees both curvatures, so there is nothing per-coordinate to even out. SGD and momentum do
//! not care about the axes: their steps are rotated with the valley. A valley 1000 times
//! steeper across than along, each optimizer at the best of a few learning rates, steps until
//! the loss is below 1e-6:
//!
//! ```
//! use static_nn::{Adam, AdamConfig, Optimizer, RmsProp, RmsPropConfig, Sgd, SgdConfig};
//! use nalgebra::{Matrix2, Vector2};
//!
//! /// `L = ½ θᵀAθ`, curvatures 1 and 1000, along the axes or rotated by 45°, from the same
//! /// point in the valley's own coordinates.
//! fn valley(rotated: bool) -> (Matrix2<f64>, Vector2<f64>) {
//!     let r = if rotated { Matrix2::new(1.0, 1.0, -1.0, 1.0) / 2f64.sqrt() } else { Matrix2::identity() };
//!     (r * Matrix2::new(1.0, 0.0, 0.0, 1000.0) * r.transpose(), r * Vector2::new(10.0, 1.0))
//! }
//! fn steps<O: Optimizer<f64, Vector2<f64>>>(mut optimizer: O, rotated: bool) -> usize {
//!     let (a, mut p) = valley(rotated);
//!     for step in 0..5_000 {
//!         if 0.5 * p.dot(&(a * p)) < 1e-6 {
//!             return step;
//!         }
//!         let g = a * p;
//!         optimizer.step(&mut p, &g);
//!     }
//!     5_000
//! }
//! let best = |runs: &[usize]| *runs.iter().min().unwrap();
//! let table = |rotated: bool| {
//!     let sgd = best(&[1e-3, 1.9e-3].map(|lr| steps(Sgd::new(SgdConfig::with_lr(lr)), rotated)));
//!     let momentum = best(&[1e-3, 1.9e-3].map(|lr| {
//!         steps(Sgd::new(SgdConfig { momentum: 0.9, ..SgdConfig::with_lr(lr) }), rotated)
//!     }));
//!     let rms_prop = best(&[0.01, 0.03, 0.1].map(|lr| steps(RmsProp::new(RmsPropConfig::with_lr(lr)), rotated)));
//!     let adam = best(&[0.1, 0.3, 1.0].map(|lr| steps(Adam::new(AdamConfig::with_lr(lr)), rotated)));
//!     [sgd, momentum, rms_prop, adam]
//! };
//! let (aligned, rotated) = (table(false), table(true));
//! println!("SGD, momentum, RMSprop, Adam: along the axes {aligned:?}, rotated {rotated:?}");
//! assert_eq!((aligned[0], aligned[1]), (rotated[0], rotated[1])); // SGD, momentum: unchanged
//! assert!(aligned[2] < 200 && rotated[2] == 5_000); // RMSprop: 172 steps, then not in 5,000
//! assert!(aligned[3] < 200 && rotated[3] > 3 * aligned[3]); // Adam: 157, then 622
//! assert!(aligned[1] == 371 && aligned[3] < aligned[1] / 2); // aligned, Adam beats momentum by far
//! ```
//!
//! ## Local minima and saddle points
//!
//! SGD goes downhill from where it starts and stops where the gradient is zero. On a double
//! well it ends in the nearest minimum, not the deepest; at a saddle point, where the gradient
//! is also zero, a start exactly on the ridge never leaves it, while the smallest push off the
//! ridge grows geometrically and escapes. In the high-dimensional losses of networks, saddles
//! and flat regions are the more common trap; momentum and gradient noise help to cross them.
//!
//! ```
//! use static_nn::{Optimizer, Sgd, SgdConfig};
//! use nalgebra::{Vector1, Vector2};
//!
//! // A double well, L = (x² − 1)² + 0.3 x: minima near −1.04 (L = −0.31) and +0.96 (L = +0.29).
//! let loss = |x: f64| (x * x - 1.0).powi(2) + 0.3 * x;
//! let descend = |start: f64| {
//!     let (mut x, mut sgd) = (Vector1::new(start), Sgd::new(SgdConfig::with_lr(0.05)));
//!     for _ in 0..500 {
//!         let g = Vector1::new(4.0 * x[0] * (x[0] * x[0] - 1.0) + 0.3);
//!         sgd.step(&mut x, &g);
//!     }
//!     x[0]
//! };
//! let (left, right) = (descend(-0.5), descend(0.5));
//! assert!((left + 1.04).abs() < 0.01 && (right - 0.96).abs() < 0.01);
//! assert!(loss(right) > loss(left) + 0.5); // stuck in the shallower well
//!
//! // A saddle, L = x² − y² + y⁴ / 2: the origin is flat, minima at y = ±1.
//! let descend = |start: Vector2<f64>| {
//!     let (mut p, mut sgd) = (start, Sgd::new(SgdConfig::with_lr(0.1)));
//!     for _ in 0..200 {
//!         let g = Vector2::new(2.0 * p[0], -2.0 * p[1] + 2.0 * p[1].powi(3));
//!         sgd.step(&mut p, &g);
//!     }
//!     p
//! };
//! assert!(descend(Vector2::new(1.0, 0.0)).norm() < 1e-15); // on the ridge: stuck at the saddle
//! assert!((descend(Vector2::new(1.0, 1e-9))[1] - 1.0).abs() < 1e-6); // pushed off it: escapes
//! ```
//!
//! ## In practice
//!
//! - Adam with its default rate `1e-3` (or `1e-2` for small networks) is the usual first try,
//!   and what scikit-learn's `MLPClassifier` uses; the dataset examples use it.
//! - SGD with momentum 0.9 and a schedule often generalises as well or better when tuned.
//! - Weight decay is an L2 penalty in `Sgd` and `Adam` (`weight_decay`, PyTorch's meaning);
//!   [`AdamW`](crate::AdamW) decouples it from the adaptive scaling.
//!
//! ## On real data
//!
//! `examples/optimizers.rs` trains the same network from the same weights with every
//! optimizer on two spirals and tabulates epochs to a target loss; `examples/digits.rs` and
//! the other dataset examples train with Adam.
