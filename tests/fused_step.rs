//! The fused training step (`Workspace::train_step`, which updates each layer right after its
//! backward pass) changes nothing: over several steps, in `f32` and `f64`, the parameters,
//! buffers, optimizer state, step count, gradient and loss are the same bits as
//! `compute_gradient`, the buffer updates and `Optimizer::step` one after the other.
//!
//! Every rule and configuration runs on W1; the other networks, which test the matrix kernels'
//! paths and the order in which composites update their parts, run AMSGrad with weight decay
//! (all three state buffers written). The rule and the network meet only in
//! the element function each layer's tensors are handed to, so the full product of both would
//! test nothing more, and each pair is a monomorphised training step: the 70 pairs took
//! 2 min 13 s to compile in CI's clean debug build.

use nalgebra::SMatrix;
use static_nn::bytemuck;
use static_nn::prelude::*;
use static_nn::{Residual, Seq};

/// The bytes of every tensor `tensors` yields, in order.
fn bytes<'a, T: Real>(tensors: impl Iterator<Item = &'a [T]>) -> Vec<u8> {
    tensors
        .flat_map(|t| bytemuck::cast_slice::<T, u8>(t).to_vec())
        .collect()
}

/// Trains two copies of the network `N` built from `seed`, each with an optimizer from
/// `optimizer`, on `batches` (cycled for six steps), one fused and one step by step, and
/// asserts that they stay identical. Everything lives on the heap: the debug build's frames
/// of the whole step, inlined, are large.
fn same_as_unfused<T, N, O, L, X>(
    rule: &str,
    seed: u64,
    optimizer: impl Fn() -> Box<O>,
    loss: &L,
    batches: &[(X, L::Target)],
) where
    T: Real,
    N: Layer<T, X>,
    O: Optimizer<T, N>,
    L: Loss<T, N::Output>,
{
    let start = N::build_boxed(Init::PyTorch, &mut Rng::new(seed));
    let mut fused_net = N::build_boxed(Init::PyTorch, &mut Rng::new(seed));
    let mut plain_net = N::build_boxed(Init::PyTorch, &mut Rng::new(seed));
    let (mut fused_optimizer, mut plain_optimizer) = (optimizer(), optimizer());
    let mut fused = Workspace::<T, N, X>::new_boxed();
    let mut plain = Workspace::<T, N, X>::new_boxed();
    for step in 0..6 {
        let (x, target) = &batches[step % batches.len()];
        let fused_loss = fused.train_step(&mut *fused_net, &mut *fused_optimizer, loss, x, target);
        let plain_loss = plain.compute_gradient(&*plain_net, loss, x, target);
        plain_net.update_buffers(&plain.cache);
        plain_optimizer.step(&mut *plain_net, &plain.grad);

        let at = format!("{rule}, {}, step {step}", T::NAME);
        assert_eq!(
            fused_loss.to_f64().to_bits(),
            plain_loss.to_f64().to_bits(),
            "loss, {at}"
        );
        assert_eq!(
            bytes(fused_net.state_dict()),
            bytes(plain_net.state_dict()),
            "parameters and buffers, {at}"
        );
        assert_eq!(
            bytes(fused.grad.tensors()),
            bytes(plain.grad.tensors()),
            "gradient, {at}"
        );
        assert_eq!(
            bytes(fused_optimizer.tensors()),
            bytes(plain_optimizer.tensors()),
            "optimizer state, {at}"
        );
        assert_eq!(fused_optimizer.steps(), plain_optimizer.steps(), "step count, {at}");
        assert_eq!(fused_optimizer.steps(), step as u64 + 1, "step count, {at}");
    }
    let moved = bytes(fused_net.tensors()) != bytes(start.tensors());
    assert!(moved, "{rule}: the parameters moved");
}

/// [`same_as_unfused`] for every rule, in the configurations that change its element function.
fn every_rule<T, N, L, X>(seed: u64, loss: &L, batches: &[(X, L::Target)])
where
    T: Real,
    N: Layer<T, X>,
    L: Loss<T, N::Output>,
{
    let lr = T::of(0.01);
    let decay = T::of(0.05);
    let momentum = T::of(0.9);
    let sgd = |config: SgdConfig<T>| move || Sgd::<T, N>::new_boxed(config);
    same_as_unfused("SGD", seed, sgd(SgdConfig::with_lr(lr)), loss, batches);
    let heavy = SgdConfig {
        momentum,
        dampening: T::of(0.1),
        weight_decay: decay,
        ..SgdConfig::with_lr(lr)
    };
    same_as_unfused("SGD, momentum", seed, sgd(heavy), loss, batches);
    let nesterov = SgdConfig {
        momentum,
        weight_decay: decay,
        nesterov: true,
        ..SgdConfig::with_lr(lr)
    };
    same_as_unfused("SGD, Nesterov", seed, sgd(nesterov), loss, batches);

    let adam = |config: AdamConfig<T>| move || Adam::<T, N>::new_boxed(config);
    same_as_unfused("Adam", seed, adam(AdamConfig::with_lr(lr)), loss, batches);
    let amsgrad = AdamConfig {
        amsgrad: true,
        weight_decay: decay,
        ..AdamConfig::with_lr(lr)
    };
    same_as_unfused("Adam, AMSGrad", seed, adam(amsgrad), loss, batches);

    let adam_w = |config: AdamWConfig<T>| move || AdamW::<T, N>::new_boxed(config);
    same_as_unfused("AdamW", seed, adam_w(AdamWConfig::with_lr(lr)), loss, batches);
    let amsgrad = AdamWConfig {
        amsgrad: true,
        ..AdamWConfig::with_lr(lr)
    };
    same_as_unfused("AdamW, AMSGrad", seed, adam_w(amsgrad), loss, batches);

    let rms_prop = |config: RmsPropConfig<T>| move || RmsProp::<T, N>::new_boxed(config);
    same_as_unfused("RMSprop", seed, rms_prop(RmsPropConfig::with_lr(lr)), loss, batches);
    let centered = RmsPropConfig {
        momentum,
        centered: true,
        weight_decay: decay,
        ..RmsPropConfig::with_lr(lr)
    };
    same_as_unfused("RMSprop, centered", seed, rms_prop(centered), loss, batches);

    let adagrad = |config: AdagradConfig<T>| move || Adagrad::<T, N>::new_boxed(config);
    same_as_unfused("Adagrad", seed, adagrad(AdagradConfig::with_lr(lr)), loss, batches);
    let decayed = AdagradConfig {
        lr_decay: T::of(0.1),
        weight_decay: decay,
        initial_accumulator_value: T::of(0.1),
        ..AdagradConfig::with_lr(lr)
    };
    same_as_unfused("Adagrad, decayed", seed, adagrad(decayed), loss, batches);
}

/// [`same_as_unfused`] with AMSGrad and weight decay: the rule that writes all three of its
/// state buffers.
fn one_rule<T, N, L, X>(seed: u64, loss: &L, batches: &[(X, L::Target)])
where
    T: Real,
    N: Layer<T, X>,
    L: Loss<T, N::Output>,
{
    let config = AdamConfig {
        amsgrad: true,
        weight_decay: T::of(0.05),
        ..AdamConfig::with_lr(T::of(0.01))
    };
    same_as_unfused(
        "Adam, AMSGrad",
        seed,
        move || Adam::<T, N>::new_boxed(config),
        loss,
        batches,
    );
}

/// Three batches of random inputs.
fn inputs<T: Real, const I: usize, const B: usize>(rng: &mut Rng) -> [SMatrix<T, I, B>; 3] {
    core::array::from_fn(|_| SMatrix::from_fn(|_, _| T::of(rng.uniform(-2.0, 2.0))))
}

/// Three batches for the mean squared error, with random targets.
fn regression<T: Real, const I: usize, const O: usize, const B: usize>(
    rng: &mut Rng,
) -> Vec<(SMatrix<T, I, B>, SMatrix<T, O, B>)> {
    let x = inputs::<T, I, B>(rng);
    x.into_iter()
        .map(|x| (x, SMatrix::from_fn(|_, _| T::of(rng.uniform(-1.0, 1.0)))))
        .collect()
}

/// Three batches for cross-entropy, with random classes.
fn classification<T: Real, const I: usize, const C: usize, const B: usize>(
    rng: &mut Rng,
) -> Vec<(SMatrix<T, I, B>, [Class<C>; B])> {
    let x = inputs::<T, I, B>(rng);
    x.into_iter()
        .map(|x| {
            let classes = core::array::from_fn(|_| Class::new(rng.below(C as u64) as usize).unwrap());
            (x, classes)
        })
        .collect()
}

fn small_networks<T: Real>() {
    let mut rng = Rng::new(12);

    // W1: 2-16-16-1 tanh, batch 1.
    type W1<T> = (Dense<T, 2, 16>, Tanh, Dense<T, 16, 16>, Tanh, Dense<T, 16, 1>);
    every_rule::<T, W1<T>, _, _>(rng.next_u64(), &Mse, &regression::<T, 2, 1, 1>(&mut rng));

    // W3's shape, smaller: products large enough for the kernels.
    type Wide<T> = (Dense<T, 64, 32>, Relu, Dense<T, 32, 10>);
    one_rule::<T, Wide<T>, _, _>(
        rng.next_u64(),
        &CrossEntropy,
        &classification::<T, 64, 10, 16>(&mut rng),
    );
    // A large layer in the middle, which also computes its input gradient with the kernels.
    type Middle<T> = (Dense<T, 8, 60>, Tanh, Dense<T, 60, 32>, Relu, Dense<T, 32, 10>);
    one_rule::<T, Middle<T>, _, _>(rng.next_u64(), &CrossEntropy, &classification::<T, 8, 10, 16>(&mut rng));
}

fn normalised_and_frozen<T: Real>() {
    let mut rng = Rng::new(13);

    // Batch norm's running statistics, and a frozen block inside (its gradient is discarded).
    type Middle<T> = (
        Dense<T, 4, 8>,
        Frozen<(Dense<T, 8, 8>, Tanh)>,
        BatchNorm<T, 8>,
        Relu,
        Dense<T, 8, 3>,
    );
    one_rule::<T, Middle<T>, _, _>(rng.next_u64(), &CrossEntropy, &classification::<T, 4, 3, 4>(&mut rng));

    // A frozen first layer: no backward pass at all.
    type First<T> = (
        Frozen<(Dense<T, 4, 8>, BatchNorm<T, 8>, Relu)>,
        Dense<T, 8, 8>,
        BatchNorm<T, 8>,
        Tanh,
        Dense<T, 8, 3>,
    );
    one_rule::<T, First<T>, _, _>(rng.next_u64(), &CrossEntropy, &classification::<T, 4, 3, 4>(&mut rng));
}

fn composed<T: Real>() {
    let mut rng = Rng::new(14);

    // Arrays, a residual block and more than eight layers (nested tuples).
    type Deep<T> = Seq![
        Dense<T, 3, 8>,
        Relu,
        [(Dense<T, 8, 8>, Tanh); 2],
        Residual<(Dense<T, 8, 8>, Tanh)>,
        Dense<T, 8, 8>,
        Sigmoid,
        Dense<T, 8, 8>,
        Tanh,
        Dense<T, 8, 2>,
    ];
    one_rule::<T, Deep<T>, _, _>(rng.next_u64(), &Mse, &regression::<T, 3, 2, 5>(&mut rng));

    // An array as the first layer.
    type Repeated<T> = ([(Dense<T, 6, 6>, Tanh); 3], Dense<T, 6, 1>);
    one_rule::<T, Repeated<T>, _, _>(rng.next_u64(), &Mse, &regression::<T, 6, 1, 2>(&mut rng));
}

#[test]
fn small_networks_train_the_same_fused() {
    small_networks::<f32>();
    small_networks::<f64>();
}

#[test]
fn batch_norm_and_frozen_layers_train_the_same_fused() {
    normalised_and_frozen::<f32>();
    normalised_and_frozen::<f64>();
}

#[test]
fn composed_networks_train_the_same_fused() {
    composed::<f32>();
    composed::<f64>();
}
