//! # Checking gradients numerically
//!
//! A backward pass is a hand-derived formula, and a wrong formula still produces numbers:
//! training with a gradient that is off by a factor, a sign or a transpose often still lowers
//! the loss a little, and the bug hides. The partial derivatives can be measured instead,
//! one parameter at a time, by central differences:
//!
//! ```text
//! ∂L/∂θᵢ ≈ (L(θ + h eᵢ) − L(θ − h eᵢ)) / 2h
//! ```
//!
//! Two errors pull `h` in opposite directions. The **truncation** error of the formula is
//! `h² |L‴| / 6`, shrinking with `h`. The **round-off** error grows as `h` shrinks: each
//! evaluation of `L` is off by about `ε |L|` (`ε` the machine epsilon, 2.2e-16 in `f64`,
//! 1.2e-7 in `f32`), and the difference of two is divided by `2h`, so about `ε |L| / h`. Their
//! sum is smallest near `h ≈ ε^(1/3)` (6e-6 in `f64`, 5e-3 in `f32`), where the error is about
//! `ε^(2/3)` (4e-11 in `f64`, 2e-5 in `f32`). PyTorch's `h` = 1e-6 sits near `f64`'s optimum;
//! in `f32` the same `h` leaves a round-off error of about 0.1 `|L|`, and no `h` gets below
//! 1e-5, which is why gradient checks run in `f64`. See the sweep below.
//!
//! [`GradCheck`](crate::GradCheck) does this for every parameter and every input entry, in
//! `f64`, with PyTorch's `gradcheck` defaults (`h` = 1e-6, pass when
//! `|analytic − numeric| ≤ 1e-5 + 1e-3 |numeric|`). Every layer, activation and loss of the
//! crate is checked this way in its tests.
//!
//! ```
//! use static_nn::prelude::*;
//! use static_nn::nalgebra::SMatrix;
//!
//! let net = <(Dense<f64, 3, 5>, Tanh, Dense<f64, 5, 2>)>::build(Init::PyTorch, &mut Rng::new(0));
//! let x = SMatrix::<f64, 3, 4>::from_fn(|i, j| 0.3 * i as f64 - 0.2 * j as f64);
//! let labels = Class::batch([0, 1, 1, 0]).unwrap();
//! let report = GradCheck::default().network(&net, &CrossEntropy, &x, &labels);
//! assert!(report.passed(), "{report}");
//! println!("{report}"); // per tensor: entries compared, worst errors, analytic vs numeric
//! ```
//!
//! ## A wrong gradient is caught
//!
//! A loss written by hand with a classic mistake, the factor 2 of `d(y − t)²/dy` forgotten:
//!
//! ```
//! use static_nn::{GradCheck, Loss};
//! use static_nn::nalgebra::SMatrix;
//!
//! /// Squared error, summed, with a wrong gradient.
//! struct Buggy;
//! impl Loss<f64, SMatrix<f64, 2, 1>> for Buggy {
//!     type Target = SMatrix<f64, 2, 1>;
//!     fn value(&self, y: &SMatrix<f64, 2, 1>, t: &Self::Target) -> f64 {
//!         (y - t).norm_squared()
//!     }
//!     fn value_and_gradient(&self, y: &SMatrix<f64, 2, 1>, t: &Self::Target) -> (f64, SMatrix<f64, 2, 1>) {
//!         (self.value(y, t), y - t) // should be 2 (y − t)
//!     }
//! }
//!
//! let y = SMatrix::<f64, 2, 1>::new(0.5, -1.0);
//! let t = SMatrix::<f64, 2, 1>::new(1.0, 1.0);
//! let report = GradCheck::default().loss(&Buggy, &y, &t);
//! assert!(!report.passed());
//! let worst = report.tensors[0].worst.unwrap();
//! assert!((worst.numeric / worst.analytic - 2.0).abs() < 1e-6); // off by a factor of 2
//! ```
//!
//! ## Tiny gradients need the strict mode
//!
//! The default rule accepts any error below `atol` = 1e-5, so it cannot judge a gradient of
//! 1e-7, which is exactly what saturated units and deep stacks produce
//! ([`saturation`](super::saturation)). [`GradCheck::strict`](crate::GradCheck::strict) replaces
//! `atol` with each entry's finite-difference noise floor, and reports the entries too small
//! to judge at all instead of counting them as passed:
//!
//! ```
//! use static_nn::prelude::*;
//! use static_nn::nalgebra::SMatrix;
//!
//! // Inputs of ±6 drive the sigmoids deep into saturation: gradients around 1e-3 to 1e-6.
//! let net = <(Dense<f64, 2, 3>, Sigmoid, Dense<f64, 3, 1>)>::build(Init::PyTorch, &mut Rng::new(4));
//! let x = SMatrix::<f64, 2, 3>::new(6.0, -6.0, 5.0, -6.0, 6.0, 4.0);
//! let y = SMatrix::<f64, 1, 3>::new(0.0, 1.0, 0.5);
//! let report = GradCheck::default().strict().network(&net, &Mse, &x, &y);
//! assert!(report.passed(), "{report}");
//! ```
//!
//! ## Choosing h: the V of the error
//!
//! The error of the central difference of `eˣ` at `x = 1` (`L = L‴ = e`), for `h` from 0.1
//! down to 1e-12: it falls as `h²` (truncation, `e h² / 6`) until round-off takes over and it
//! rises as `1/h`. In `f32` the bottom of the V is at `h` ≈ 1e-2, 1e-3, and PyTorch's 1e-6 is
//! far up the round-off side: a relative error of 3.5%, which fails `rtol` = 1e-3 for a
//! correct gradient.
//!
//! ```
//! let error_f64 = |h: f64| (((1.0 + h).exp() - (1.0 - h).exp()) / (2.0 * h) - 1f64.exp()).abs();
//! let error_f32 = |h: f32| (((1.0 + h).exp() - (1.0 - h).exp()) / (2.0 * h) - 1f32.exp()).abs();
//! let steps: Vec<f64> = (1..=12).map(|k| 10f64.powi(-k)).collect();
//!
//! // Truncation: e h² / 6, exactly where round-off is negligible.
//! for h in [1e-1, 1e-2, 1e-3] {
//!     let truncation = 1f64.exp() * h * h / 6.0;
//!     assert!((error_f64(h) / truncation - 1.0).abs() < 0.01);
//! }
//! // The bottom of the V: between 1e-7 and 1e-5 (ε^(1/3) = 6e-6), with an error below 1e-9.
//! let best = |errors: Vec<f64>| {
//!     let (i, e) = errors.iter().enumerate().min_by(|a, b| a.1.total_cmp(b.1)).unwrap();
//!     (steps[i], *e)
//! };
//! let (h, error) = best(steps.iter().map(|&h| error_f64(h)).collect());
//! assert!((1e-7..=1e-5).contains(&h) && error < 1e-9, "h {h:e}, error {error:e}");
//! // Round-off: about ε e / h at h = 1e-12, a million times the error at the bottom.
//! assert!(error_f64(1e-12) > 1e-5);
//!
//! // f32: the bottom at 1e-2 or 1e-3 (ε^(1/3) = 5e-3), and nothing below 1e-5.
//! let (h, error) = best(steps.iter().map(|&h| f64::from(error_f32(h as f32))).collect());
//! assert!((1e-3..=1e-2).contains(&h) && error > 1e-5 && error < 1e-4, "h {h:e}, error {error:e}");
//! // PyTorch's h in f32: 3.5% off, a correct gradient fails rtol = 1e-3.
//! assert!(error_f32(1e-6) / 1f32.exp() > 0.03);
//! assert!(error_f32(1e-6) > 1e-5 + 1e-3 * 1f32.exp()); // |analytic − numeric| > atol + rtol |·|
//! ```
//!
//! The same V in [`GradCheck`](crate::GradCheck) on a network: a step of 0.1 fails by
//! truncation, 1e-6 passes, 1e-11 fails by round-off under PyTorch's rule. The strict mode's
//! noise floor `16 ε (|L(θ+h)| + |L(θ−h)|) / 2h` *is* the round-off term: it grows as `h`
//! shrinks and absorbs the round-off, so a too small `h` does not fail strict mode, it judges
//! fewer entries. Strict mode is for tiny gradients at a good `h`, not a cure for a bad one.
//!
//! ```
//! use static_nn::prelude::*;
//! use nalgebra::SMatrix;
//!
//! let net = <(Dense<f64, 3, 5>, Tanh, Dense<f64, 5, 2>)>::build(Init::PyTorch, &mut Rng::new(0));
//! let x = SMatrix::<f64, 3, 4>::from_fn(|i, j| 0.3 * i as f64 - 0.2 * j as f64);
//! let labels = Class::batch([0, 1, 1, 0]).unwrap();
//! let check = |eps: f64| GradCheck { eps, ..GradCheck::default() };
//! assert!(!check(1e-1).network(&net, &CrossEntropy, &x, &labels).passed()); // truncation
//! assert!(check(1e-6).network(&net, &CrossEntropy, &x, &labels).passed());
//! assert!(!check(1e-11).network(&net, &CrossEntropy, &x, &labels).passed()); // round-off
//! assert!(check(1e-11).strict().network(&net, &CrossEntropy, &x, &labels).passed());
//! ```
//!
//! ## In the tests
//!
//! Each layer's file in `src/layer/` and each loss in `src/loss/` ends with such checks
//! (strict where the function is smooth, inputs kept away from kinks such as ReLU's at 0), and
//! `tests/large_network.rs` checks a 784-128-10 network; `cargo test` runs them all.
