//! # The gradient is a vector of partial derivatives
//!
//! A loss `L(θ)` of parameters `θ = (θ₁, …, θₙ)` has one partial derivative per parameter:
//! `∂L/∂θᵢ` is the slope of `L` when `θᵢ` alone moves and every other parameter stays put.
//! The gradient is all of them together, `∇L = (∂L/∂θ₁, …, ∂L/∂θₙ)`, and it is the vector
//! that answers the question a single partial cannot: how does `L` change when *all*
//! parameters move at once? For a small step `δ`,
//!
//! ```text
//! L(θ + δ) ≈ L(θ) + ∇L · δ = L(θ) + Σᵢ ∂L/∂θᵢ δᵢ
//! ```
//!
//! so the slope in any direction `u` (a unit vector) is the dot product `∇L · u`, the
//! *directional derivative*. The partials are the directional derivatives along the axes, and
//! nothing more.
//!
//! In this crate a backward pass computes exactly this vector for every parameter of a
//! network: [`Workspace::compute_gradient`](crate::Workspace::compute_gradient) leaves it in
//! `workspace.grad`, laid out like the network, and [`Tensors`](crate::Tensors) walks it
//! tensor by tensor.
//!
//! ## Computing one by hand, and checking it
//!
//! Take a two-parameter model with an interaction, `L(a, b) = (a·b − 1)²`, whose partials are
//! `∂L/∂a = 2(ab − 1)·b` and `∂L/∂b = 2(ab − 1)·a`. Central differences confirm them, and the
//! slope along any direction is the dot product with the gradient:
//!
//! ```
//! use static_nn::nalgebra::Vector2;
//!
//! let loss = |p: Vector2<f64>| (p[0] * p[1] - 1.0).powi(2);
//! let gradient = |p: Vector2<f64>| {
//!     let r = 2.0 * (p[0] * p[1] - 1.0);
//!     Vector2::new(r * p[1], r * p[0])
//! };
//!
//! let p = Vector2::new(0.5, 3.0);
//! let h = 1e-6;
//! for axis in 0..2 {
//!     let e = Vector2::ith(axis, h);
//!     let numeric = (loss(p + e) - loss(p - e)) / (2.0 * h);
//!     assert!((numeric - gradient(p)[axis]).abs() < 1e-6);
//! }
//! // Any direction: the slope is ∇L · u.
//! let u = Vector2::new(1.0, -2.0).normalize();
//! let slope = (loss(p + u * h) - loss(p - u * h)) / (2.0 * h);
//! assert!((slope - gradient(p).dot(&u)).abs() < 1e-6);
//! ```
//!
//! ## Why a single partial can mislead
//!
//! **A zero partial does not mean the parameter does not matter.** At `(a, b) = (2, 0)` the
//! partial with respect to `a` is exactly zero: with `b = 0`, moving `a` alone changes nothing.
//! Yet `a` matters as soon as `b` moves, and the gradient says where to go: along `b`. The
//! second partial of `L` with respect to both, `∂²L/∂a∂b`, is what a single first partial
//! cannot show.
//!
//! ```
//! let loss = |a: f64, b: f64| (a * b - 1.0).powi(2);
//! let d_da = |a: f64, b: f64| 2.0 * (a * b - 1.0) * b;
//! let d_db = |a: f64, b: f64| 2.0 * (a * b - 1.0) * a;
//!
//! assert_eq!(d_da(2.0, 0.0), 0.0);           // a looks irrelevant here...
//! assert_eq!(loss(2.0, 0.0), loss(7.0, 0.0)); // ...and moving it alone changes nothing,
//! assert_eq!(d_db(2.0, 0.0), -4.0);           // but b's slope is steep,
//! assert!(loss(2.0, 0.5) < 1e-12);            // and together they reach zero loss.
//! // Once b has moved, a's partial is no longer zero: it depends on the other parameter.
//! assert_ne!(d_da(2.0, 0.25), 0.0);
//! ```
//!
//! **A partial's size depends on the parameter's units.** Write the same model with
//! `a = 100 a'` (a parameter stored in other units: the weight that reads a feature measured
//! in centimetres instead of metres is a hundredth of the one for metres): the function is the
//! same, but `∂L/∂a' = 100 ∂L/∂a`. The parameter's partial grows as its unit shrinks; the
//! partial with respect to the *input* feature moves the other way (a hundredth, see
//! [`importance`](super::importance), which is about input gradients). Comparing the sizes of
//! partials across parameters compares their scales as much as their effects; this is one
//! reason inputs are standardised before training ([`Standardiser`](crate::data::Standardiser)),
//! and why [`importance`](super::importance) needs more than a large gradient.
//!
//! ```
//! let loss = |a: f64, b: f64| (a * b - 1.0).powi(2);
//! let loss_rescaled = |a_prime: f64, b: f64| loss(100.0 * a_prime, b); // a = 100 a'
//! let h = 1e-7;
//! let d_da = (loss(0.5 + h, 3.0) - loss(0.5 - h, 3.0)) / (2.0 * h);
//! let d_da_prime = (loss_rescaled(0.005 + h, 3.0) - loss_rescaled(0.005 - h, 3.0)) / (2.0 * h);
//! assert!((d_da_prime / d_da - 100.0).abs() < 1e-3); // same point, same model, 100× the partial
//! ```
//!
//! **The partials interact.** The gradient is a joint first-order view: it predicts the
//! change when all parameters move together, to first order. What it misses is curvature,
//! including how one parameter's move changes another's slope (`∂²L/∂a∂b`). On
//! `L = (ab − 1)²` at `a = b = 1.5` (`L` = 1.5625, both partials 3.75), with `η = 2/9`, a step
//! along either partial alone lands exactly on `ab = 1`, `L = 0`. Both together overshoot to
//! `a = b = 2/3`, `L` = 0.309, while the linear prediction `L − η |∇L|²` promised −4.69, a loss
//! below zero. The second-order term `½ ΔθᵀHΔθ` = 7.99 (`H` the Hessian, whose off-diagonal
//! `∂²L/∂a∂b = 2(2ab − 1)` = 7 is the interaction) turns the prediction back up, to 3.30; along
//! the step `L` is a quartic, and its third- and fourth-order terms (−3.47 and +0.48) bring it
//! down to the 0.309 that happens. A step whose
//! actual decrease is far from `−g·Δθ` is what the first-order check of
//! [`Monitor`](crate::diagnostics::Monitor) reports as a
//! [`NonLinearStep`](crate::diagnostics::Finding::NonLinearStep):
//!
//! ```
//! use nalgebra::{Matrix2, Vector2};
//! use static_nn::diagnostics::{FirstOrder, Thresholds};
//!
//! let loss = |p: Vector2<f64>| (p[0] * p[1] - 1.0).powi(2);
//! let gradient = |p: Vector2<f64>| {
//!     let r = 2.0 * (p[0] * p[1] - 1.0);
//!     Vector2::new(r * p[1], r * p[0])
//! };
//! let hessian = |p: Vector2<f64>| {
//!     let cross = 2.0 * (2.0 * p[0] * p[1] - 1.0);
//!     Matrix2::new(2.0 * p[1] * p[1], cross, cross, 2.0 * p[0] * p[0])
//! };
//! let close = |a: f64, b: f64| (a - b).abs() < 1e-3;
//!
//! let p = Vector2::new(1.5, 1.5);
//! let (lr, g) = (2.0 / 9.0, gradient(p));
//! assert!(close(loss(p), 1.5625) && close(g[0], 3.75) && close(g[1], 3.75));
//! // One partial at a time: each step alone reaches the minimum.
//! assert!(loss(p - lr * Vector2::new(g[0], 0.0)) < 1e-20);
//! assert!(loss(p - lr * Vector2::new(0.0, g[1])) < 1e-20);
//! // Together: the joint step overshoots.
//! let step = -lr * g;
//! let after = loss(p + step);
//! assert!(close(after, 0.3086)); // (4/9 − 1)² = 25/81
//! let predicted = -g.dot(&step); // η |∇L|² = 6.25
//! assert!(close(predicted, 6.25) && close(loss(p) - predicted, -4.6875));
//! let curvature = 0.5 * step.dot(&(hessian(p) * step));
//! assert!(close(curvature, 7.986)); // ½ ΔθᵀHΔθ = 23 t² / 2 with t = 5/6
//! assert!(close(loss(p) - predicted + curvature, 3.299)); // second order: the right sign, not exact
//!
//! // The first-order check of a Monitor sees the same step as non-linear.
//! let check = FirstOrder { loss_before: loss(p), loss_after: after, predicted };
//! assert!(close(check.agreement(), 0.2006)); // a fifth of the promised decrease
//! let tolerance = Thresholds::<f64>::default().first_order_tolerance;
//! assert!((check.actual() - predicted).abs() > tolerance * predicted); // a NonLinearStep finding
//! ```
//!
//! **A partial is local.** It is the slope at this point for an infinitesimal step. A unit
//! in its flat region (a saturated sigmoid, a ReLU below zero) has a partial near zero even
//! when moving it far would change everything; see [`saturation`](super::saturation).
//!
//! ## On real data
//!
//! `examples/iris.rs` trains on gradients of exactly this kind, for every weight of a 4-16-3
//! network at once; [`descent`](super::descent) shows what following the whole vector does.
