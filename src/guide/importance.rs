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
//!   also scale with units (a feature in millimetres has a thousandth of the gradient it has
//!   in metres).
//! - **A confident model has small loss gradients everywhere.** For a correct, confident
//!   prediction, cross-entropy's gradient `softmax − onehot` is nearly zero, for the features
//!   the decision rests on as much as for the others.
//! - **Redundancy.** Two copies of the same information can each have a large gradient, while
//!   removing either one changes nothing, because the other remains.
//!
//! The direct measure is **ablation**: remove the thing (set an input to its baseline, the
//! training mean, which is 0 after standardisation; or zero a unit's outgoing weights) and
//! measure what changes in the output, the loss or the accuracy.
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
//! gradients (averaging the gradient along the path from the baseline to the input) and
//! ablation both account for the distance travelled; ablation is the one that needs nothing
//! but forward passes.
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
//! let iris = parse_csv::<f32, 4, 3>(include_str!("../../data/iris.csv"), Header::Counts).unwrap();
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
