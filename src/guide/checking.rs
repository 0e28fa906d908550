//! # Checking gradients numerically
//!
//! A backward pass is a hand-derived formula, and a wrong formula still produces numbers:
//! training with a gradient that is off by a factor, a sign or a transpose often still lowers
//! the loss a little, and the bug hides. The partial derivatives can be measured instead,
//! one parameter at a time, by central differences:
//!
//! ```text
//! ∂L/∂θᵢ ≈ (L(θ + h eᵢ) − L(θ − h eᵢ)) / 2h        (error O(h²))
//! ```
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
//! ## In the tests
//!
//! Each layer's file in `src/layer/` and each loss in `src/loss/` ends with such checks
//! (strict where the function is smooth, inputs kept away from kinks such as ReLU's at 0), and
//! `tests/large_network.rs` checks a 784-128-10 network; `cargo test` runs them all.
