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
//! the loss falls by about `η |∇L|²` per step. "About" is exact to second order: along the step
//! `Δθ = −η ∇L`, `L(θ + Δθ) = L(θ) − η |∇L|² + ½ Δθᵀ H Δθ + …`, with `H` the Hessian (the matrix
//! of second derivatives), so the actual decrease falls short of the promised one by the
//! curvature along the step, `½ η² ∇Lᵀ H ∇L`, a term that grows with the square of `η`. The
//! first-order check of [`Monitor`](crate::diagnostics::Monitor) measures exactly this gap on a
//! network. That is [`Sgd`](crate::Sgd) without momentum,
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
//! // The gradient promised η|∇L|² = 0.005 · 116 = 0.58; the loss fell by 0.5546 (6.5 to 5.9454).
//! let (predicted, actual) = (0.005 * g.norm_squared(), before - loss(&theta));
//! assert!((predicted - 0.58).abs() < 1e-12 && (actual - 0.5546).abs() < 1e-12);
//! // The gap is the curvature: ½η² gᵀHg with H = diag(2, 20), exactly, as L is quadratic.
//! let curvature = 0.5 * 0.005_f64.powi(2) * (2.0 * g[0] * g[0] + 20.0 * g[1] * g[1]);
//! assert!((curvature - 0.0254).abs() < 1e-12);
//! assert!((predicted - curvature - actual).abs() < 1e-12);
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
//! On `x² + 10 y²` the curvature across the valley is 20, along it 2. One step multiplies `x`
//! by `1 − 2η` and `y` by `1 − 20η`. A step `η` larger than `2 / 20 = 0.1` makes `|1 − 20η| > 1`:
//! it overshoots across the valley by more than it started with, and descent diverges. Just
//! below that limit, at `η = 0.099`, the roles are the reverse of what one might guess: along
//! the valley `x` shrinks by 0.80 per step and is gone in 50 steps, while *across* it `y`
//! flips sign and shrinks by only 0.98 per step, bouncing from wall to wall. The fastest
//! learning rate for the whole is the one that balances both, `η = 2 / (2 + 20)` ≈ 0.091,
//! where both factors are ±0.82: the ratio of the curvatures (the *condition number*, 10),
//! not the valley's floor alone, decides how slow descent is. This is what momentum and Adam
//! address ([`optimizers`](super::optimizers)).
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
//! // η = 0.099: x shrinks by 1 − 2η = 0.802 per step, y by |1 − 20η| = 0.98.
//! let theta = run(0.099);
//! assert!((theta[0] - 2.0 * 0.802_f64.powi(50)).abs() < 1e-12 && theta[0] < 1e-4); // along: gone
//! assert!((theta[1] - 0.5 * 0.98_f64.powi(50)).abs() < 1e-12); // across: slow, and bouncing
//! assert!((theta[1] - 0.182).abs() < 1e-3);
//! assert!(run(0.101)[1].abs() > 0.5); // diverging across the valley
//! // The balanced rate 2/22 shrinks both by 9/11 = 0.82 per step: 1e-4 of the start in 50 steps.
//! let balanced = run(2.0 / 22.0);
//! assert!(balanced[0].abs() < 1e-4 && balanced[1].abs() < 1e-4);
//! ```
//!
//! ## On real data
//!
//! `examples/learning_rates.rs` trains a network with two hidden sigmoid layers on iris at
//! three learning rates, from the same weights and batches (plain SGD, 10 epochs):
//!
//! | lr | loss, epoch 1 → 10 | first step: actual / predicted decrease | `‖Δθ‖/‖θ‖` |
//! |---|---|---|---|
//! | 0.01, too low | 1.099 → 1.087 | 0.993: perfectly linear, and useless | 1.2e-3 |
//! | 1, about right | 1.233 → 0.161 | 0.376 | 1.2e-1 |
//! | 30, too high | 10.5 → 10.0 | −1.114: the loss rose | 3.5 |
//!
//! The rate that trains best is already past the linear regime on its first step (the
//! [`Monitor`](crate::diagnostics::Monitor) would report a
//! [`NonLinearStep`](crate::diagnostics::Finding::NonLinearStep)): a first-order check that
//! agrees perfectly means steps too small to matter, not a good rate. The example asserts
//! these numbers, and compares a deeper network with and without batch norm across rates
//! ([`batch_norm`](super::batch_norm)).
//!
//! `examples/optimizers.rs` follows these steps through the loss surface of a 2-32-32-2 network
//! on two spirals, with every optimizer from the same starting weights;
//! `examples/digits.rs` does so for 4,810 parameters on handwritten digits.
