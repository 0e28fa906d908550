//! A guide to training networks and reading their gradients, one chapter per module.
//!
//! Every code block in these chapters is compiled and run by `cargo test --doc`, so what they
//! claim about gradients holds for this crate's code as it is. Each chapter ends with the
//! example program that shows the same thing on real data.
//!
//! | chapter | what it shows | on real data |
//! |---|---|---|
//! | [`real_data`] | load, split, standardise, train, score, deploy | `examples/{iris,wine,breast_cancer,digits}.rs` |
//! | [`gradient`] | the gradient is the vector of partial derivatives, a joint first-order view; one partial alone can mislead, and parameters interact | `examples/iris.rs` |
//! | [`descent`] | steepest descent and ascent on a two-parameter loss surface; the curvature term; learning rates too low, right and too high | `examples/optimizers.rs`, `examples/learning_rates.rs` |
//! | [`checking`] | checking a backward pass against finite differences; choosing `h`: truncation against round-off, `f64` against `f32` | the tests of every layer and loss; `tests/large_network.rs` |
//! | [`saturation`] | saturated units, vanishing and exploding gradients, measured layer by layer | `examples/deep_sigmoid.rs`, `examples/gradient_health.rs` |
//! | [`optimizers`] | SGD, momentum, RMSprop and Adam on a narrow valley, along the axes and rotated; local minima and saddles | `examples/optimizers.rs` |
//! | [`clipping`] | clipping by norm keeps the direction, by value does not | iris in the chapter: a learning rate too high, with and without clipping |
//! | [`batch_norm`] | what batch norm does in training and in inference; its rescaling of the backward pass; the learning rates it allows | `examples/deep_sigmoid.rs`, `examples/learning_rates.rs` |
//! | [`importance`] | why a large gradient is not importance: gradients against ablation | iris in the chapter: saliency and ablation per feature; `examples/gradient_health.rs` per hidden unit |
//!
//! Run any example with `cargo run --release --example NAME`.

pub mod batch_norm;
pub mod checking;
pub mod clipping;
pub mod descent;
pub mod gradient;
pub mod importance;
pub mod optimizers;
pub mod real_data;
pub mod saturation;
