//! # Steepest descent and ascent on a loss surface
//!
//! With two parameters the loss is a surface over the plane, and the gradient is an arrow in
//! that plane. Of all directions `u` of unit length, the slope `∇L · u` is largest when `u`
//! points along `∇L` (the dot product of two vectors of fixed lengths is largest when they are
//! parallel) and most negative when it points along `−∇L`. So:
//!
//! - **steepest ascent** is the direction `∇L / |∇L|`, with slope `|∇L|`;
//! - **steepest descent** is `−∇L / |∇L|`, with slope `−|∇L|`;
//! - along the contour line through the point (`u ⟂ ∇L`) the slope is zero.
//!
//! Checked numerically on `L(x, y) = x² + 10 y²`, a valley ten times steeper across than
//! along, by trying 360 directions:
//!
//! ```
//! use static_nn::nalgebra::Vector2;
//!
//! let loss = |p: Vector2<f64>| p[0] * p[0] + 10.0 * p[1] * p[1];
//! let gradient = |p: Vector2<f64>| Vector2::new(2.0 * p[0], 20.0 * p[1]);
//!
//! let p = Vector2::new(2.0, 0.5);
//! let h = 1e-6;
//! let slope = |u: Vector2<f64>| (loss(p + u * h) - loss(p - u * h)) / (2.0 * h);
//! let directions = (0..360).map(|degrees| {
//!     let angle = f64::from(degrees).to_radians();
//!     Vector2::new(angle.cos(), angle.sin())
//! });
//! let steepest_ascent = directions.clone().max_by(|u, v| slope(*u).total_cmp(&slope(*v))).unwrap();
//! let steepest_descent = directions.min_by(|u, v| slope(*u).total_cmp(&slope(*v))).unwrap();
//!
//! let g = gradient(p);
//! // Within the 1° grid of the search: the gradient's direction, and its opposite.
//! assert!(steepest_ascent.angle(&g) < 1f64.to_radians());
//! assert!(steepest_descent.angle(&-g) < 1f64.to_radians());
//! assert!((slope(g.normalize()) - g.norm()).abs() < 1e-6);
//! ```
//!
//! ## Descent is an optimizer step
//!
//! Gradient descent repeats the step `θ ← θ − η ∇L(θ)`: for a small enough learning rate `η`
//! the loss falls by about `η |∇L|²` per step. That is [`Sgd`](crate::Sgd) without momentum,
//! and a bare `SMatrix` is [`Parameters`](crate::Parameters) (its own gradient), so any
//! optimizer in the crate minimises any function whose gradient you can write down, not only
//! a network's loss. Ascent is descent on `−L`:
//!
//! ```
//! use static_nn::{Optimizer, Sgd, SgdConfig};
//! use static_nn::nalgebra::Vector2;
//!
//! let loss = |p: &Vector2<f64>| p[0] * p[0] + 10.0 * p[1] * p[1];
//! let gradient = |p: &Vector2<f64>| Vector2::new(2.0 * p[0], 20.0 * p[1]);
//!
//! let mut theta = Vector2::new(2.0, 0.5);
//! let mut sgd = Sgd::new(SgdConfig::with_lr(0.005));
//! let before = loss(&theta);
//! let g = gradient(&theta);
//! sgd.step(&mut theta, &g);
//! // For a small step the loss falls by about η|∇L|² (here 0.58, from 6.5 to 5.95).
//! assert!((before - loss(&theta) - 0.005 * g.norm_squared()).abs() < 0.01 * before);
//! sgd.set_learning_rate(0.04);
//! for _ in 0..200 {
//!     let g = gradient(&theta);
//!     sgd.step(&mut theta, &g);
//! }
//! assert!(loss(&theta) < 1e-12);
//!
//! // Steepest ascent on a hill h(p) = exp(−|p|²): descend on −h, whose gradient is −∇h.
//! let hill_gradient = |p: &Vector2<f64>| p * (-2.0 * (-p.norm_squared()).exp());
//! let mut climber = Vector2::new(0.8, -0.6);
//! let mut ascent = Sgd::new(SgdConfig::with_lr(0.5));
//! for _ in 0..100 {
//!     let minus_g = -hill_gradient(&climber);
//!     ascent.step(&mut climber, &minus_g);
//! }
//! assert!(climber.norm() < 1e-6); // at the summit, (0, 0)
//! ```
//!
//! ## The step size is bounded by the steepest direction
//!
//! On `x² + 10 y²` the curvature across the valley is 20, along it 2. A step `η` larger than
//! `2 / 20 = 0.1` overshoots across the valley by more than it started with, and descent
//! diverges, while along the valley `η = 0.1` is still a small step: the valley's narrowness
//! forces a learning rate that crawls along its floor. This is what momentum and Adam address
//! ([`optimizers`](super::optimizers)).
//!
//! ```
//! use static_nn::{Optimizer, Sgd, SgdConfig};
//! use static_nn::nalgebra::Vector2;
//!
//! let gradient = |p: &Vector2<f64>| Vector2::new(2.0 * p[0], 20.0 * p[1]);
//! let run = |lr: f64| {
//!     let mut theta = Vector2::new(2.0, 0.5);
//!     let mut sgd = Sgd::new(SgdConfig::with_lr(lr));
//!     for _ in 0..50 {
//!         let g = gradient(&theta);
//!         sgd.step(&mut theta, &g);
//!     }
//!     theta
//! };
//! assert!(run(0.099).norm() < 1.0); // converging, slowly along x
//! assert!(run(0.101)[1].abs() > 0.5); // diverging across the valley
//! ```
//!
//! ## On real data
//!
//! `examples/optimizers.rs` follows these steps through the loss surface of a 2-32-32-2 network
//! on two spirals, with every optimizer from the same starting weights;
//! `examples/digits.rs` does so for 4,810 parameters on handwritten digits.
