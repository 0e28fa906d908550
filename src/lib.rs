//! Neural networks whose shapes are part of their types.
//!
//! A network is a value whose type spells its layers and widths. Chaining a 16-output layer
//! into an 8-input layer, feeding a batch of the wrong width, scoring the output against a
//! target of the wrong shape, or stepping a network with an optimizer built for another network
//! is a **compile error**. Gradients are derived by hand for each layer and every one is checked
//! against finite differences by the crate's own [`GradCheck`]. A training step allocates
//! nothing, and the core is `no_std`.
//!
//! ```
//! use static_nn::prelude::*;
//! use static_nn::nalgebra::SMatrix;
//!
//! // 2 inputs, two hidden layers of 16 tanh units, 1 output.
//! type Xor = (Dense<f64, 2, 16>, Tanh, Dense<f64, 16, 16>, Tanh, Dense<f64, 16, 1>);
//!
//! let mut net = Xor::build(Init::XavierUniform, &mut Rng::new(7));
//! let mut optimizer = Sgd::new(SgdConfig { lr: 0.1, momentum: 0.9, ..SgdConfig::default() });
//! let mut workspace = Workspace::new();
//!
//! // A batch is a matrix whose columns are samples.
//! let x = SMatrix::<f64, 2, 4>::from_columns(&[
//!     [0.0, 0.0].into(), [0.0, 1.0].into(), [1.0, 0.0].into(), [1.0, 1.0].into(),
//! ]);
//! let y = SMatrix::<f64, 1, 4>::new(0.0, 1.0, 1.0, 0.0);
//!
//! let mut loss = f64::INFINITY;
//! for _ in 0..500 {
//!     loss = workspace.train_step(&mut net, &mut optimizer, &Mse, &x, &y);
//! }
//! assert!(loss < 1e-3);
//!
//! // The backward passes are not taken on trust:
//! let report = GradCheck::default().network(&net, &Mse, &x, &y);
//! assert!(report.passed(), "{report}");
//! ```
//!
//! # Tour
//!
//! | concept | items |
//! |---|---|
//! | scalar | [`Real`] (`f32`, `f64`) |
//! | layers | [`Dense`], [`Softmax`], activations ([`Identity`], [`Sigmoid`], [`Tanh`], [`Relu`], [`LeakyRelu`], [`Elu`], [`Softplus`], [`Gelu`], [`Silu`]) |
//! | normalisation | [`BatchNorm`] (running statistics as buffers), [`LayerNorm`] |
//! | regularisation | [`Dropout`] (seeded, reproducible masks) |
//! | sequences | [`Conv1d`] (padding [`Valid`], [`Zeros`], [`Same`], [`Causal`]), [`MaxPool1d`], [`AvgPool1d`], [`Flatten`], [`Rnn`], [`Gru`], [`Lstm`], [`LastStep`], [`EachStep`] |
//! | streaming | [`Stream`]: one frame at a time, carrying hidden states and convolution history |
//! | composition | tuples `(A, B, C)` up to 8, arrays `[L; N]` of same-shaped blocks, [`Seq!`] / [`seq!`] for any length, [`Residual`] (`x + f(x)`), [`Concat`] (parallel branches, outputs stacked) |
//! | traits | [`Layer`] (forward, forward_train, backward), [`Parameters`] (gradient type, initialisation), [`Tensors`] (traversal) |
//! | losses | [`Mse`], [`CrossEntropy`] with [`Class`] targets, [`BceWithLogits`], [`Huber`] |
//! | initialisation | [`Init`] (PyTorch, Xavier/Glorot, He/Kaiming) from a seeded [`Rng`] |
//! | optimizers | [`Optimizer`]: [`Sgd`], [`Adam`], [`AdamW`], [`RmsProp`], [`Adagrad`] (PyTorch's updates and defaults; any [`Parameters`], even a bare `SMatrix`) |
//! | clipping, schedules | [`optim::clip_grad_norm`], [`optim::clip_grad_value`]; [`optim::schedule`]: step, exponential, cosine, linear warm-up, reduce-on-plateau |
//! | data | [`Sample`] `([T; I], target)`, [`Target`] ([`Class`] or `[T; K]`, [`Class::one_hot`]), [`gather`], [`data::Dataset`] (shuffled compile-time-width batches) |
//! | real data | [`data::parse_csv`] / [`data::read_csv`] (into `[T; I]` and `Class<C>`, line-numbered [`data::CsvError`]s; needs `std`), [`data::stratified_split`], [`data::Folds`], [`data::Standardiser`] (fitted on training data, foldable into the first layer), [`data::ConfusionMatrix`] |
//! | inference | [`Layer::forward`] on batches; [`Predict`] (`predict`, `classify` one `[T; I]` sample) |
//! | declaring | tuples; [`Mlp!`] (`Mlp![f32, 64 -> 64 -> 10, Relu]`) |
//! | training | [`Workspace`] (one step, built once); [`Trainer`] (epochs of shuffled mini-batches, validation, early stopping, clipping, schedules; needs `alloc`) |
//! | proof | [`GradCheck`] (needs `alloc`) |
//! | seeing gradients | [`diagnostics`]: [`diagnostics::Monitor`] (per-tensor and per-layer gradient norms, update ratios, first-order check), [`diagnostics::ActivationHealth`] (saturated and dead units), typed [`diagnostics::Finding`]s, [`diagnostics::Importance`] (gradient saliency against ablation); [`Workspace::try_train_step`] refuses non-finite steps; `diagnostics::plot` (SVG; feature `plot`) |
//! | guide | [`guide`]: the gradient, descent, gradient checking, saturation, optimizers, clipping, batch norm, importance; every snippet tested |
//! | weights | [`format::save`] / [`format::load`] (binary, `no_std`, no allocation), [`format::rust_source`] (compiled-in constants), [`format::save_checkpoint`] / [`format::load_checkpoint`], `format::safetensors` (PyTorch; feature `safetensors`), one [`format::Error`] |
//!
//! # Conventions
//!
//! - `Dense<T, I, O>` computes `y = W x + b` with `W` of shape `O × I`; a batch is a matrix
//!   whose columns are samples (`SMatrix<T, I, B>`).
//! - Losses use PyTorch's `mean` reduction; optimizers follow PyTorch's documented update rules
//!   and defaults. Where the crate differs, the item's documentation says so.
//! - The mode is the method: [`Layer::forward`] is inference (running statistics, no dropout),
//!   [`Layer::forward_train`] is training, and [`Layer::update_buffers`] applies what training
//!   recorded (running statistics); [`Workspace::train_step`] calls the last two. There is no
//!   mode flag to forget.
//! - Layer positions count like `nn.Sequential` (activations take a position), so
//!   `net.2.weight` is PyTorch's `2.weight`.
//! - A sequence is time-major, `[SMatrix<T, C, B>; L]`: entry `t` holds the `C` channels (or
//!   features) of every sample at step `t`, PyTorch's "channels × length" per sample and the
//!   `(L, N, C)` layout of its recurrent layers. See [`Conv1d`] and [`Gru`].
//!
//! # Features
//!
//! - `std` (default): the standard library's maths and CSV loading ([`data::read_csv`], with
//!   the `csv` crate); implies `alloc`.
//! - `alloc`: heap construction ([`Parameters::build_boxed`], [`Workspace::new_boxed`],
//!   [`zeroed_box`]), the gradient checker, the [`Trainer`], [`data::Dataset`] and the splits.
//! - `libm`: maths for `no_std` targets, e.g.
//!   `cargo build --no-default-features --features libm --target thumbv7em-none-eabihf`.
//! - `safetensors`: loading and saving PyTorch weights ([`format`]); implies `alloc`.
//! - `parallel`: [`train::Sweep`] runs its trainings on every core (with `rayon`); implies `std`.
//! - `plot`: SVG charts of training diagnostics (`diagnostics::plot`, with `plotters`); implies
//!   `std`.
//!
//! # Large networks
//!
//! A 784-128-10 network with its gradient and optimizer state is over a megabyte. Build such
//! values directly on the heap, once, before the training loop:
//! [`Parameters::build_boxed`], [`Workspace::new_boxed`], and every optimizer's `new_boxed`
//! ([`Sgd::new_boxed`], [`Adam::new_boxed`], ...). They are zero-initialised in place and never
//! pass through the stack; [`Trainer`] keeps its buffers on the heap too.
#![cfg_attr(not(test), no_std)]
// `unsafe` only in `src/x86.rs` and `src/x86_int8.rs` (vector intrinsics after run-time feature detection) and
// `src/arm_int8.rs` (the Cortex-M DSP instructions, as inline assembly), and in the code flatc generates for the
// TensorFlow Lite reader (`src/format/tflite/schema_generated.rs`); see ARCHITECTURE.md.
#![deny(unsafe_code)]
#![deny(missing_docs)]
#![cfg_attr(docsrs, feature(doc_cfg))]

#[cfg(not(any(feature = "std", feature = "libm")))]
compile_error!("static-nn needs a maths backend: enable the `std` feature (the default) or the `libm` feature");

#[cfg(feature = "alloc")]
extern crate alloc;
// File helpers of the weight format, and run-time CPU feature detection for the kernels.
#[cfg(feature = "std")]
extern crate std;

#[cfg(arm_dsp)]
mod arm_int8;
mod const_expr;
mod counters;
pub mod data;
pub mod diagnostics;
pub mod format;
#[cfg(feature = "alloc")]
pub mod gradcheck;
pub mod guide;
pub mod init;
mod layer;
mod loss;
mod matmul;
mod mlp;
pub mod optim;
mod predict;
pub mod quantised;
mod real;
mod rng;
mod simd;
mod tensors;
#[cfg(feature = "alloc")]
pub mod train;
mod workspace;
#[cfg(x86_kernels)]
mod x86;
#[cfg(all(feature = "std", target_arch = "x86_64"))]
mod x86_int8;

pub use bytemuck;
pub use nalgebra;

pub use const_expr::{AsConst, ConstExpr};
pub use counters::{Counters, Number, Rejected};
#[cfg(feature = "alloc")]
pub use gradcheck::{GradCheck, GradCheckReport, TensorCheck};
pub use init::Init;
pub use layer::*;
pub use loss::*;
pub use matmul::{
    InstructionSet, KernelChoice, UnsupportedInstructionSet, force_instruction_set, instruction_set, kernel_choice,
};
pub use optim::{
    Adagrad, AdagradConfig, Adam, AdamConfig, AdamW, AdamWConfig, Clip, Optimizer, RmsProp, RmsPropConfig, Sgd,
    SgdConfig,
};
pub use predict::Predict;
pub use real::Real;
pub use rng::Rng;
pub use tensors::*;
#[cfg(feature = "alloc")]
pub use train::{EarlyStopping, EpochControl, LastBatch, ScheduleStep, TrainConfig, TrainError, Trainer};
pub use workspace::{NonFiniteStep, Workspace};

/// A value of type `Z` with every byte zero, allocated directly on the heap: the value never
/// exists on the stack, so it works for networks, gradients and optimizer states far larger
/// than a thread's stack.
///
/// Every network, gradient, cache and optimizer state in this crate is
/// [`Zeroable`](bytemuck::Zeroable). Zero is a valid value but not a trained or initialised
/// one: follow with [`Parameters::reset`] for a network.
///
/// ```
/// use static_nn::{zeroed_box, Dense};
/// let big: Box<Dense<f32, 784, 128>> = zeroed_box();
/// assert_eq!(big.weight[(127, 783)], 0.0);
/// ```
#[cfg(feature = "alloc")]
pub fn zeroed_box<Z: bytemuck::Zeroable>() -> alloc::boxed::Box<Z> {
    bytemuck::zeroed_box()
}

/// The README's examples, compiled and run as doctests so that they cannot go stale.
#[doc = include_str!("../README.md")]
#[cfg(doctest)]
pub struct ReadmeDoctests;

/// The traits and types most programs need: every layer, loss and core trait, the optimizers,
/// the workspace and the trainer.
pub mod prelude {
    pub use crate::diagnostics::{ActivationHealth, Monitor, Thresholds};
    pub use crate::layer::*;
    pub use crate::loss::*;
    pub use crate::{
        Adagrad, AdagradConfig, Adam, AdamConfig, AdamW, AdamWConfig, Clip, Init, Mlp, NonFiniteStep, Optimizer,
        Predict, Real, RmsProp, RmsPropConfig, Rng, Seq, Sgd, SgdConfig, Tensors, Workspace, seq,
    };
    #[cfg(feature = "alloc")]
    pub use crate::{EarlyStopping, GradCheck, LastBatch, TrainConfig, Trainer};
}
