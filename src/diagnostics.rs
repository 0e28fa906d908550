//! Seeing gradients: what the gradients of a network are doing, and whether they mean what
//! they seem to mean.
//!
//! | question | tool | measures |
//! |---|---|---|
//! | How large are the gradients, layer by layer? Did a step move the weights too far or not at all? | [`Monitor`] ([`StepRecord`], [`GradientStats`]) | per tensor and layer: `‖g‖`, `max |g|`, non-finite entries, `‖θ‖`, `‖Δθ‖ / ‖θ‖` |
//! | Does the gradient vanish or explode on its way back? | [`StepRecord::findings`] | first-to-last layer gradient ratio, update ratios, against [`Thresholds`] |
//! | Are units saturated or dead? | [`ActivationHealth`] | saturated entries (sigmoid, tanh), dead units (ReLU), per batch and per epoch |
//! | Is the learning rate in the linear regime? | [`FirstOrder`] (a [`Monitor`] option) | the decrease `−g·Δθ` predicted by the gradient against the actual one |
//! | Does a large gradient mean an important unit? | [`Importance`] | per unit: mean `|∂L/∂θ|`, the Taylor estimate, the ablation; their [`spearman`] rank correlations |
//! | What went wrong? | [`Finding`] | typed, with the layer and the numbers |
//! | Pictures | `Trace` and `plot` (features `alloc` and `plot`) | loss, gradient norms per layer (log scale), saturation, saliency against ablation |
//!
//! Each of these is also a lesson the crate lets a user observe on their own network: a
//! gradient is the direction of steepest ascent, and a step against it lowers the loss by
//! `lr ‖g‖²` only while the step is small ([`FirstOrder`]); a partial derivative is a local,
//! one-parameter view, so a large gradient does not make a unit important, nor a small one
//! unimportant ([`Importance`]); gradients vanish through depth when every layer multiplies
//! them by less than one, through the slopes of healthy units (the sigmoid's is at most 1/4)
//! as well as through saturated units, which pass almost nothing ([`ActivationHealth`],
//! [`Finding`]); clipping bounds the step of an exploding gradient, and batch normalisation
//! rescales the backward pass and keeps units out of saturation.
//!
//! Every [`Finding`] names a symptom, its usual [cause](Finding::cause), a
//! [fix](Finding::fix) and the [`guide`](crate::guide) [chapter](Finding::chapter) that
//! explains it; a [`Diagnosis`] prints repeated per-layer findings of one kind as one line.
//!
//! # In the core, without allocation
//!
//! Everything here except `Trace` and `plot` is `no_std` and allocates nothing per step:
//! records are fixed-size, with a capacity the caller chooses as a const parameter, because a
//! network's tensor count is a run-time value in generic code (stable Rust cannot size an array
//! by `N::tensor_infos().count()`). The capacity is checked once, when the record is built,
//! with a typed [`CapacityError`]; a record is then `Copy`, self-describing (it carries the
//! tensors' names and positions) and cheap to keep in a history. The buffers that must be as
//! large as the network (the parameter snapshot for the update, the caches) are typed by the
//! network, so they can never be the wrong size.
//!
//! Activations are reached through [`Layer::visit_activations`](crate::Layer::visit_activations),
//! a provided method (default: nothing) that composites forward to their parts and activation
//! layers implement, so a network needs no restructuring to be inspected.
//!
//! ```
//! use static_nn::prelude::*;
//! use static_nn::Seq;
//! use static_nn::diagnostics::{ActivationHealth, Diagnosis, Monitor, Thresholds};
//! use static_nn::nalgebra::SMatrix;
//!
//! // Eight dense layers, seven sigmoids between them: the gradient vanishes on its way down.
//! type Deep = Seq![Dense<f32, 4, 16>, Sigmoid, [(Dense<f32, 16, 16>, Sigmoid); 6], Dense<f32, 16, 2>];
//! let mut net = Deep::build(Init::PyTorch, &mut Rng::new(0));
//! let mut sgd = Sgd::new(SgdConfig::with_lr(0.1));
//! let mut workspace = Workspace::new();
//! let mut monitor = Monitor::<f32, Deep, SMatrix<f32, 4, 8>, 16>::new().unwrap();
//! let x = SMatrix::<f32, 4, 8>::from_fn(|i, j| ((i * 8 + j) as f32).sin());
//! let labels = Class::batch([0, 1, 0, 1, 1, 0, 0, 1]).unwrap();
//! let mut health = ActivationHealth::<f32, 8, 128>::new(&net, &x, &workspace).unwrap();
//!
//! monitor.train_step(&mut workspace, &mut net, &mut sgd, &CrossEntropy, &x, &labels, None).unwrap();
//! health.record(&net, &x, &workspace);
//! let record = monitor.record();
//! println!("{record}\n{health}");
//! let thresholds = Thresholds::default();
//! let diagnosis = Diagnosis::of(record.findings(&thresholds).chain(health.findings(&thresholds)));
//! println!("{diagnosis}");
//! // vanishing gradient: layer 0's gradient norm is 2.1e-4 times layer 14's
//! //     cause: no layer is reported saturated: the gradient shrinks through healthy units, …
//! //     try: ReLU with He initialisation, or batch norm before each saturating activation
//! //     see: static_nn::guide::saturation
//! assert!(record.stats.gradient_ratio().unwrap() < 1e-2);
//! assert!(diagnosis.to_string().contains("no layer is reported saturated"));
//! ```

mod diagnosis;
mod findings;
mod health;
mod importance;
mod monitor;
#[cfg(feature = "plot")]
pub mod plot;
mod stats;
#[cfg(feature = "alloc")]
mod trace;

pub use diagnosis::{Diagnosis, FindingGroup};
pub use findings::{Finding, Thresholds};
pub use health::{ActivationHealth, ActivationRecord};
pub use importance::{Importance, ImportanceError, LayerImportance, UnitImportance, UnitTable, spearman};
pub use monitor::{FirstOrder, Monitor, StepRecord};
pub use stats::{CapacityError, GradientStats, LayerStats, Stats, TensorStats};
#[cfg(feature = "alloc")]
pub use trace::{Series, Trace};
