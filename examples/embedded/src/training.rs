//! Training iris 4-16-3 from scratch: forward, cross-entropy, backward, gradient-norm clipping
//! and Adam, with every buffer inside one [`Training`] value (about 3 KiB, on the caller's
//! stack) and no allocator.
//!
//! The same file is compiled into the `train` firmware and into `tests/embedded.rs` on the
//! host, so the two run exactly the same code from the same seed.

use static_nn::data::Standardiser;
use static_nn::nalgebra::SMatrix;
use static_nn::{Adam, AdamConfig, Class, Clip, CrossEntropy, Init, Layer, Parameters, Rng, Workspace};

use super::Iris;

/// Samples per step.
pub const BATCH: usize = 8;
/// Passes over the training set.
pub const EPOCHS: usize = 60;
/// Seeds the initial weights and every epoch's shuffle.
pub const SEED: u64 = 7;
/// Adam's learning rate (PyTorch's defaults otherwise).
pub const LEARNING_RATE: f32 = 0.01;
/// The gradient's global norm is clipped to this before each step.
pub const MAX_NORM: f32 = 1.0;

/// A training run over `N` samples of measurements and species.
pub struct Training<'a, const N: usize> {
    /// The network, trained on standardised inputs until [`Training::finish`].
    pub net: Iris,
    adam: Adam<f32, Iris>,
    workspace: Workspace<f32, Iris, SMatrix<f32, 4, BATCH>>,
    standardiser: Standardiser<f32, 4>,
    samples: &'a [([f32; 4], u8); N],
    order: [u16; N],
    rng: Rng,
}

impl<'a, const N: usize> Training<'a, N> {
    const WHOLE_BATCHES: () = assert!(N.is_multiple_of(BATCH) && N <= u16::MAX as usize, "whole batches");

    /// Steps in one epoch.
    pub const STEPS_PER_EPOCH: usize = N / BATCH;

    /// He-uniform weights from [`SEED`]; the standardiser is fitted on `samples`.
    pub fn new(samples: &'a [([f32; 4], u8); N]) -> Self {
        let () = Self::WHOLE_BATCHES;
        let mut rng = Rng::new(SEED);
        Training {
            net: Iris::build(Init::HeUniform, &mut rng),
            adam: Adam::new(AdamConfig::with_lr(LEARNING_RATE)),
            workspace: Workspace::new(),
            standardiser: Standardiser::fit(samples),
            samples,
            order: core::array::from_fn(|i| i as u16),
            rng,
        }
    }

    /// Starts an epoch: a new order of the samples.
    pub fn shuffle(&mut self) {
        self.rng.shuffle(&mut self.order);
    }

    /// One step on the `step`-th batch of the current order: the loss before the update, or
    /// `None` if the loss or the gradient was not finite (and nothing was changed).
    pub fn step(&mut self, step: usize) -> Option<f32> {
        let indices = &self.order[step * BATCH..][..BATCH];
        let x = SMatrix::<f32, 4, BATCH>::from_fn(|i, j| {
            self.standardiser.transform(&self.samples[usize::from(indices[j])].0)[i]
        });
        let classes = Class::batch(core::array::from_fn(|j| {
            usize::from(self.samples[usize::from(indices[j])].1)
        }));
        let target = classes.ok()?;
        let clip = Some(Clip::Norm(MAX_NORM));
        self.workspace
            .try_train_step(&mut self.net, &mut self.adam, &CrossEntropy, &x, &target, clip)
            .ok()
    }

    /// How many samples the network classifies correctly.
    pub fn correct(&self) -> usize {
        let standardised = |x: &[f32; 4]| SMatrix::<f32, 4, 1>::from(self.standardiser.transform(x));
        self.samples
            .iter()
            .filter(|(x, class)| self.net.forward(&standardised(x)).argmax().0 == usize::from(*class))
            .count()
    }

    /// Folds the standardisation into the first layer, so that the network takes centimetres.
    pub fn finish(mut self) -> Iris {
        self.standardiser.fold_into(&mut self.net.0);
        self.net
    }
}
