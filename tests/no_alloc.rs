//! A training step (forward, loss, backward, optimizer update) performs no heap allocation.
//!
//! `allocation-counter` replaces the global allocator in this test binary only and counts the
//! allocations made on the current thread while a closure runs.

use nalgebra::SMatrix;
use static_nn::Seq;
use static_nn::prelude::*;

/// Builds everything outside the measured region, then runs `steps` training steps inside it.
fn allocations_per_training<T, N, L, const I: usize, const B: usize>(loss: L, target: L::Target) -> u64
where
    T: Real,
    N: Layer<T, SMatrix<T, I, B>> + Parameters<T>,
    L: Loss<T, N::Output>,
{
    let mut net = N::build_boxed(Init::PyTorch, &mut Rng::new(1));
    let mut workspace = Workspace::<T, N, SMatrix<T, I, B>>::new_boxed();
    let mut optimizer = Sgd::<T, N>::new_boxed(SgdConfig {
        lr: T::of(0.01),
        momentum: T::of(0.9),
        weight_decay: T::of(1e-4),
        nesterov: true,
        ..SgdConfig::default()
    });
    let x = SMatrix::<T, I, B>::from_fn(|i, j| T::of(((i * B + j) as f64 * 0.37).sin()));
    // Warm up outside the measurement, so first-use effects cannot hide in it.
    workspace.train_step(&mut *net, &mut *optimizer, &loss, &x, &target);
    let info = allocation_counter::measure(|| {
        for _ in 0..3 {
            let value = workspace.train_step(&mut *net, &mut *optimizer, &loss, &x, &target);
            assert!(value.is_finite());
        }
    });
    info.count_total
}

type Tanh216 = (Dense<f32, 2, 16>, Tanh, Dense<f32, 16, 16>, Tanh, Dense<f32, 16, 1>);
type EveryActivation<T> = Seq![
    Dense<T, 4, 8>, Sigmoid, Dense<T, 8, 8>, Relu, Dense<T, 8, 8>, LeakyRelu<T>, Dense<T, 8, 8>, Elu<T>,
    Dense<T, 8, 8>, Softplus, Dense<T, 8, 8>, Gelu, Dense<T, 8, 8>, Silu, Dense<T, 8, 8>, Identity,
    [(Dense<T, 8, 8>, Tanh); 2], Dense<T, 8, 3>, Softmax,
];

/// Batch norm (running statistics updated every step), dropout (a new mask every step), layer
/// norm, a residual block and parallel branches.
type Structured<T> = Seq![
    Dense<T, 4, 8>, BatchNorm<T, 8>, Relu, Dropout<T>,
    Residual<(Dense<T, 8, 8>, LayerNorm<T, 8>, Tanh)>,
    Concat<(Dense<T, 8, 6>, BatchNorm<T, 6>, Sigmoid), Identity, 14>,
    Dropout<T>, Dense<T, 14, 3>,
];

#[test]
fn mlp_training_step_allocates_nothing_f32() {
    let count = allocations_per_training::<f32, Tanh216, _, 2, 1>(Mse, SMatrix::from_element(0.5));
    assert_eq!(count, 0);
}

#[test]
fn mlp_training_step_allocates_nothing_f64() {
    let count = allocations_per_training::<f64, (Dense<f64, 2, 16>, Tanh, Dense<f64, 16, 1>), _, 2, 8>(
        Huber::default(),
        SMatrix::from_element(0.5),
    );
    assert_eq!(count, 0);
}

#[test]
fn every_layer_and_loss_allocates_nothing() {
    let labels = Class::batch([0, 2, 1, 1, 0]).unwrap();
    assert_eq!(
        allocations_per_training::<f32, EveryActivation<f32>, _, 4, 5>(CrossEntropy, labels),
        0
    );
    assert_eq!(
        allocations_per_training::<f64, EveryActivation<f64>, _, 4, 5>(CrossEntropy, labels),
        0
    );
    let soft = SMatrix::from_element(0.25);
    assert_eq!(
        allocations_per_training::<f64, EveryActivation<f64>, _, 4, 5>(BceWithLogits, soft),
        0
    );
    assert_eq!(
        allocations_per_training::<f32, EveryActivation<f32>, _, 4, 5>(Mse, soft.cast()),
        0
    );
}

#[test]
fn normalisation_dropout_residual_and_concat_allocate_nothing() {
    let labels = Class::batch([0, 2, 1, 1, 0]).unwrap();
    assert_eq!(
        allocations_per_training::<f32, Structured<f32>, _, 4, 5>(CrossEntropy, labels),
        0
    );
    assert_eq!(
        allocations_per_training::<f64, Structured<f64>, _, 4, 5>(CrossEntropy, labels),
        0
    );
}

#[test]
fn the_counter_does_count() {
    // Guards against a measurement that can never fail.
    let info = allocation_counter::measure(|| {
        let v = vec![1u8; 16];
        std::hint::black_box(v);
    });
    assert_eq!(info.count_total, 1);
}
