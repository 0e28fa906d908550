//! # SGD, momentum and Adam
//!
//! All three follow the gradient; they differ in what they do with its history.
//!
//! - **SGD** steps by `−η g`. In a narrow valley the learning rate is capped by the steep
//!   direction (see [`descent`](super::descent)), so progress along the flat floor is slow.
//! - **Momentum** (`Sgd` with `momentum: 0.9`) keeps a running sum `b ← μ b + g` and steps by
//!   `−η b`. Components that agree from step to step (along the floor) add up to about
//!   `1/(1 − μ)` = 10 times the gradient; components that flip sign (across the valley) cancel.
//! - **Adam** divides each parameter's step by the square root of a running mean of its own
//!   squared gradient, so every coordinate moves at about the learning rate whatever its
//!   gradient's scale: steep and flat directions are evened out.
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
//! momentum needs less than a third of the steps. Adam is fast too, but it is not a free win: its per-coordinate scaling ignores how the
//! coordinates interact, and its step does not shrink with the gradient, so near a minimum it
//! jitters at the scale of the learning rate unless the rate decays
//! ([`schedule`](crate::optim::schedule)).
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
