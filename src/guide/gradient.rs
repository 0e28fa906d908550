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
//! `a = 100 a'` (a weight stored in other units, or an input feature measured in centimetres
//! instead of metres): the function is the same, but `∂L/∂a' = 100 ∂L/∂a`. Comparing the sizes
//! of partials across parameters compares their scales as much as their effects; this is one
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
//! **A partial is local.** It is the slope at this point for an infinitesimal step. A unit
//! in its flat region (a saturated sigmoid, a ReLU below zero) has a partial near zero even
//! when moving it far would change everything; see [`saturation`](super::saturation).
//!
//! ## On real data
//!
//! `examples/iris.rs` trains on gradients of exactly this kind, for every weight of a 4-16-3
//! network at once; [`descent`](super::descent) shows what following the whole vector does.
