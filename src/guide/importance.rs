//! # A large gradient is not importance
//!
//! It is tempting to read `|∂output/∂xᵢ|` (a *saliency*) or `|∂loss/∂θᵢ|` as how much input
//! `i` or parameter `i` matters. A partial derivative answers a narrower question: how fast
//! the output changes for an **infinitesimal** change of that one quantity, **here**, with
//! everything else fixed ([`gradient`](super::gradient)). Importance asks what happens when the
//! quantity is taken away, a change that is neither small nor local. The two disagree
//! whenever the function is not linear over that distance:
//!
//! - **Saturation hides what matters.** A feature that drives a unit deep into saturation
//!   decides the output, yet the slope there is nearly zero ([`saturation`](super::saturation)).
//! - **Scale inflates what does not.** A feature that barely varies can have a steep slope and
//!   still contribute almost nothing, because it never moves far along that slope. Gradients
//!   also scale with units, in opposite directions for an input and for the weight that reads
//!   it: measure a feature in millimetres instead of metres (`x' = 1000 x`, the weight
//!   `w' = w / 1000` to compute the same function) and the **input** gradient `∂L/∂x'` is a
//!   thousandth of `∂L/∂x`, while the **weight** gradient `∂L/∂w' = 1000 ∂L/∂w`. This chapter
//!   is about input gradients (saliency); [`gradient`](super::gradient) rescales a parameter,
//!   whose partial grows as its unit shrinks.
//! - **A confident model has small loss gradients everywhere.** For a correct, confident
//!   prediction, cross-entropy's gradient `softmax − onehot` is nearly zero, for the features
//!   the decision rests on as much as for the others.
//! - **Redundancy.** Two copies of the same information can each have a large gradient, while
//!   removing either one changes nothing, because the other remains.
//!
//! ```
//! use static_nn::{Dense, Layer};
//! use static_nn::bytemuck::Zeroable;
//! use nalgebra::{Matrix1x2, Vector1, Vector2};
//!
//! // y = 3 x₀ + 2 x₁, L = ½ y²; feature 0 in metres, then in centimetres.
//! let gradients = |layer: &Dense<f64, 2, 1>, x: Vector2<f64>| {
//!     let mut cache = Zeroable::zeroed();
//!     let y = layer.forward_train(&x, &mut cache);
//!     let mut grad = Zeroable::zeroed();
//!     let dx = layer.backward(&x, &y, &cache, &y, &mut grad); // dL/dy = y
//!     (y[0], dx[0], grad.weight[(0, 0)])
//! };
//! let metres = Dense::new(Matrix1x2::new(3.0, 2.0), Vector1::zeros());
//! let centimetres = Dense::new(Matrix1x2::new(0.03, 2.0), Vector1::zeros());
//! let (y, dx, dw) = gradients(&metres, Vector2::new(0.5, 1.0));
//! let (y_cm, dx_cm, dw_cm) = gradients(&centimetres, Vector2::new(50.0, 1.0));
//! assert!((y_cm - y).abs() < 1e-12); // the same function
//! assert!((dx_cm * 100.0 - dx).abs() < 1e-12); // input gradient: a hundredth
//! assert!((dw_cm - 100.0 * dw).abs() < 1e-9); // weight gradient: a hundred times
//! ```
//!
//! Ablation, the measure that removes the thing (set an input to a baseline, or zero a unit's
//! outgoing weights) and measures what changes in the output, the loss or the accuracy,
//! answers the question of importance directly, with two caveats of its own:
//!
//! - **Redundancy defeats single ablation as much as it defeats gradients.** Remove either of
//!   two copies and nothing changes, yet removing both changes everything: the pair matters,
//!   and neither unit alone looks important. Ablate groups as well as units.
//! - **The baseline must be representative.** Zero is the training mean for standardised
//!   inputs, but not for a sigmoid unit, whose output lies in (0, 1): zeroing a unit stuck at
//!   0.9 moves the next layer far from anything it saw in training. Mean ablation, replacing
//!   the output by its mean over the data (zero the outgoing weight and add weight × mean to
//!   the next bias), removes the information without the shift.
//!
//! ```
//! let sigmoid = |z: f64| 1.0 / (1.0 + (-z).exp());
//! // Two copies of one detector, h = σ(10 x), read by an OR: y = σ(10 h₀ + 10 h₁ − 5).
//! let y = |x: f64, keep: [bool; 2]| {
//!     let h = sigmoid(10.0 * x);
//!     let h = keep.map(|k| if k { h } else { 0.0 });
//!     sigmoid(10.0 * h[0] + 10.0 * h[1] - 5.0)
//! };
//! let full = y(1.0, [true, true]);
//! assert!((full - y(1.0, [false, true])).abs() < 0.01); // remove either: nothing changes
//! assert!((full - y(1.0, [true, false])).abs() < 0.01);
//! assert!((full - y(1.0, [false, false])).abs() > 0.98); // remove both: everything does
//!
//! // A unit that carries no information, h = σ(0.1 x + 2.2) ≈ 0.9 on every sample, read by
//! // y = 3 h − 2.7. Zero ablation calls it decisive; mean ablation finds it irrelevant.
//! let xs = [-1.0, -0.5, 0.0, 0.5, 1.0];
//! let h = |x: f64| sigmoid(0.1 * x + 2.2);
//! let mean = xs.iter().map(|&x| h(x)).sum::<f64>() / xs.len() as f64;
//! let zero_effect = xs.iter().map(|&x| (3.0 * h(x)).abs()).fold(0.0, f64::max);
//! let mean_effect = xs.iter().map(|&x| (3.0 * h(x) - 3.0 * mean).abs()).fold(0.0, f64::max);
//! assert!(zero_effect > 2.6 && mean_effect < 0.03);
//! ```
//!
//! ## Saliency against ablation, by hand
//!
//! Two inputs: `x₀ = 1` drives a sigmoid unit through a weight of 10, into saturation; `x₁ =
//! 0.01` feeds another through a weight of 1, near its steepest point. Both units feed the
//! output with weight 4.
//!
//! ```
//! use static_nn::{Dense, Layer, Sigmoid};
//! use static_nn::bytemuck::Zeroable;
//! use static_nn::nalgebra::{Matrix1x2, Matrix2, Vector1, Vector2};
//!
//! let net = (
//!     Dense::new(Matrix2::new(10.0, 0.0, 0.0, 1.0), Vector2::zeros()),
//!     Sigmoid,
//!     Dense::new(Matrix1x2::new(4.0, 4.0), Vector1::new(-4.0)),
//! );
//! let x = Vector2::new(1.0_f64, 0.01);
//!
//! // Saliency: the gradient of the output with respect to each input.
//! let mut cache = Zeroable::zeroed();
//! let y = net.forward_train(&x, &mut cache);
//! let mut grad = Zeroable::zeroed();
//! let saliency = net.backward(&x, &y, &cache, &Vector1::new(1.0), &mut grad);
//! assert!(saliency[0] < 0.002 && saliency[1] > 0.99); // x₁ looks 500 times more important
//!
//! // Ablation: replace each input by the baseline 0 and see how far the output moves.
//! let effect = |i: usize| {
//!     let mut ablated = x;
//!     ablated[i] = 0.0;
//!     (net.forward(&ablated)[0] - y[0]).abs()
//! };
//! assert!(effect(0) > 1.99 && effect(1) < 0.011); // x₀ decides the output; x₁ barely moves it
//!
//! // Ablating hidden units: zero a unit's outgoing weight.
//! let mut without_unit_0 = net.clone();
//! without_unit_0.2.weight[(0, 0)] = 0.0;
//! assert!((without_unit_0.forward(&x)[0] - y[0]).abs() > 3.9);
//! ```
//!
//! The gradient ranks the inputs the wrong way round: it measures the slope where the
//! network happens to be, and `x₀`'s unit sits on the flat top of its sigmoid. Integrated
//! gradients and ablation both account for the distance travelled. Integrated gradients
//! average the gradient along the straight path from the baseline `x̄` to the input and
//! multiply by the distance, feature by feature: `(xᵢ − x̄ᵢ) ∫₀¹ ∂y/∂xᵢ(x̄ + t (x − x̄)) dt`.
//! The attributions then add up to `y(x) − y(x̄)` (the fundamental theorem of calculus along
//! the path); the average gradient alone would not. Ablation needs nothing but forward passes.
//!
//! ```
//! // Integrated gradients of y = 4 σ(10 x₀) for x₀ from the baseline 0 to 1, by the midpoint
//! // rule: the slope at the input is tiny, its average along the path is not.
//! let sigmoid = |z: f64| 1.0 / (1.0 + (-z).exp());
//! let slope = |x: f64| 40.0 * sigmoid(10.0 * x) * sigmoid(-10.0 * x);
//! let steps = 1000;
//! let average = (0..steps).map(|k| slope((k as f64 + 0.5) / steps as f64)).sum::<f64>() / steps as f64;
//! let attribution = (1.0 - 0.0) * average;
//! assert!((attribution - (4.0 * sigmoid(10.0) - 4.0 * sigmoid(0.0))).abs() < 1e-5); // y(1) − y(0)
//! assert!(slope(1.0) < 0.002); // the gradient at the input says almost nothing
//! ```
//!
//! ## On real data
//!
//! For hidden units and whole layers, [`Importance`](crate::diagnostics::Importance) computes
//! both measures over a data set (mean |∂L/∂θ| per unit, its first-order estimate, and the
//! measured loss increase when the unit's output is zeroed through its outgoing weights) with
//! their Spearman rank correlation; `examples/gradient_health.rs` prints the units of a digits
//! network with the largest gradients and where they rank by ablation (several of the largest
//! gradients belong to the least important units).
//!
//! Both measures on iris, for a trained 4-16-3 network: the mean absolute gradient of the loss
//! with respect to each (standardised) feature over the test samples, and the test accuracy
//! with that feature replaced by its training mean. Here they broadly agree (petal width, then
//! petal length), but only the ablation says what the network loses without the feature.
//!
//! ```
//! use static_nn::prelude::*;
//! use static_nn::bytemuck::Zeroable;
//! use static_nn::data::{parse_csv, stratified_split, ConfusionMatrix, Header, Standardiser};
//! use static_nn::nalgebra::SVector;
//!
//! let iris_csv = include_str!(concat!(env!("CARGO_MANIFEST_DIR"), "/data/iris.csv"));
//! let iris = parse_csv::<f32, 4, 3>(iris_csv, Header::Counts).unwrap();
//! let (mut train, mut test) = stratified_split(&iris.samples, 0.2, 0);
//! let standardiser = Standardiser::fit(&train);
//! standardiser.apply(&mut train);
//! standardiser.apply(&mut test);
//! type Iris = (Dense<f32, 4, 16>, Relu, Dense<f32, 16, 3>);
//! let mut net = Iris::build(Init::HeUniform, &mut Rng::new(0));
//! let mut adam = Adam::new(AdamConfig { weight_decay: 0.01, ..AdamConfig::with_lr(0.01) });
//! let mut trainer = Trainer::<f32, Iris, 4, 16>::new(TrainConfig::with_epochs(100));
//! trainer.fit(&mut net, &mut adam, &CrossEntropy, &train, None, |_| {}).unwrap();
//! let accuracy = ConfusionMatrix::of(&net, &test).accuracy();
//!
//! let mut saliency = [0.0_f32; 4];
//! for (x, label) in &test {
//!     let x = SVector::<f32, 4>::from(*x);
//!     let mut cache = Zeroable::zeroed();
//!     let y = net.forward_train(&x, &mut cache);
//!     let (_, dy) = CrossEntropy.value_and_gradient(&y, &[*label]);
//!     let dx = net.backward(&x, &y, &cache, &dy, &mut Zeroable::zeroed());
//!     for (s, d) in saliency.iter_mut().zip(dx.iter()) {
//!         *s += d.abs() / test.len() as f32;
//!     }
//! }
//! let ablated_accuracy = |feature: usize| {
//!     let mut ablated = test.clone();
//!     ablated.iter_mut().for_each(|(x, _)| x[feature] = 0.0); // the training mean
//!     ConfusionMatrix::of(&net, &ablated).accuracy()
//! };
//! println!("accuracy {accuracy:.3}");
//! for (feature, name) in ["sepal length", "sepal width", "petal length", "petal width"].iter().enumerate() {
//!     println!(
//!         "{name:>12}: mean |∂loss/∂x| {:.3}, accuracy without it {:.3}",
//!         saliency[feature],
//!         ablated_accuracy(feature)
//!     );
//! }
//! assert!(ablated_accuracy(3) < accuracy - 0.2); // without petal width, a third of the test set is lost
//! ```
