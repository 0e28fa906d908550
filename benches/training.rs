//! The four reference workloads of the performance issue, in f32 and f64: one training step
//! (forward, loss, backward, Adam through `Workspace::train_step`) and one inference pass.
//!
//! | | network | activation | loss | batch |
//! |---|---|---|---|---|
//! | W1 | 2-16-16-1 | tanh | MSE | 1 |
//! | W2 | 8-32-32-4 | relu | MSE | 8 |
//! | W3 | 784-128-10 | relu | softmax cross-entropy | 32 |
//! | W4 | 16-(64 × 6)-16 | relu | MSE | 16 |
//!
//! Each workload times the plain step (`train_step`) and the guarded one (`try_train_step`)
//! in the same run; `w3_batch_norm` adds a batch norm after W3's first layer, whose buffer
//! update the guard checks.
//!
//! Throughput is in samples per second. The matrix-product FLOPs of each workload are printed
//! once at the start, so GFLOP/s = FLOPs / time (the first layer's input gradient is not
//! computed, so a training step is two products per layer plus one per layer after the first).

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use nalgebra::SMatrix;
use static_nn::prelude::*;
use std::hint::black_box;
use std::time::Duration;

type W1<T> = (Dense<T, 2, 16>, Tanh, Dense<T, 16, 16>, Tanh, Dense<T, 16, 1>);
type W2<T> = (Dense<T, 8, 32>, Relu, Dense<T, 32, 32>, Relu, Dense<T, 32, 4>);
type W3<T> = (Dense<T, 784, 128>, Relu, Dense<T, 128, 10>);
type W4<T> = (Dense<T, 16, 64>, Relu, [(Dense<T, 64, 64>, Relu); 5], Dense<T, 64, 16>);
/// W3 with a batch norm, whose running statistics the guarded step checks before updating.
type W3Norm<T> = (Dense<T, 784, 128>, BatchNorm<T, 128>, Relu, Dense<T, 128, 10>);

/// Matrix-product FLOPs of (inference, training step) for layer widths `widths` at batch `b`.
fn flops(widths: &[usize], b: usize) -> (usize, usize) {
    let layers = widths.windows(2).map(|w| 2 * w[0] * w[1] * b);
    let forward: usize = layers.clone().sum();
    let input_gradients: usize = layers.skip(1).sum();
    (forward, 2 * forward + input_gradients)
}

fn widths(name: &str) -> Vec<usize> {
    match name {
        "w1" => vec![2, 16, 16, 1],
        "w2" => vec![8, 32, 32, 4],
        "w3" => vec![784, 128, 10],
        _ => vec![16, 64, 64, 64, 64, 64, 64, 16],
    }
}

fn workload<T, N, L, const I: usize, const B: usize>(c: &mut Criterion, name: &str, loss: L, target: L::Target)
where
    T: Real,
    N: Layer<T, SMatrix<T, I, B>>,
    L: Loss<T, N::Output>,
{
    let mut group = c.benchmark_group(format!("{name}_{}", T::NAME));
    group.throughput(Throughput::Elements(B as u64));
    let mut net = N::build_boxed(Init::HeUniform, &mut Rng::new(1));
    let mut optimizer = Adam::<T, N>::new_boxed(AdamConfig::default());
    let mut workspace = Workspace::<T, N, SMatrix<T, I, B>>::new_boxed();
    let mut x: Box<SMatrix<T, I, B>> = static_nn::zeroed_box();
    let mut rng = Rng::new(3);
    x.iter_mut().for_each(|v| *v = T::of(rng.uniform(-1.0, 1.0)));
    group.bench_function("train_step", |b| {
        b.iter(|| workspace.train_step(&mut *net, &mut *optimizer, &loss, black_box(&*x), &target))
    });
    // The guarded step: loss, buffer updates and gradient norm checked before anything changes.
    group.bench_function("try_train_step", |b| {
        b.iter(|| workspace.try_train_step(&mut *net, &mut *optimizer, &loss, black_box(&*x), &target, None))
    });
    group.bench_function("inference", |b| b.iter(|| net.forward(black_box(&*x))));
    group.finish();
}

/// W1's training step after a million steps on one sample: the loss is 0, and without the
/// optimizers' flush of subnormal state Adam's moments would sit among the subnormal numbers,
/// making every step several times slower.
fn converged<T: Real>(c: &mut Criterion) {
    type Net<T> = W1<T>;
    let mut group = c.benchmark_group(format!("w1_{}", T::NAME));
    group.throughput(Throughput::Elements(1));
    let mut net = Net::<T>::build(Init::HeUniform, &mut Rng::new(1));
    let mut optimizer = Adam::<T, Net<T>>::new(AdamConfig::default());
    let mut workspace = Workspace::new();
    let x = SMatrix::<T, 2, 1>::new(T::of(0.3), T::of(-0.7));
    let target = SMatrix::<T, 1, 1>::new(T::of(0.5));
    for _ in 0..1_000_000 {
        workspace.train_step(&mut net, &mut optimizer, &Mse, &x, &target);
    }
    group.bench_function("train_step_after_1M_steps", |b| {
        b.iter(|| workspace.train_step(&mut net, &mut optimizer, &Mse, black_box(&x), &target))
    });
    group.finish();
}

fn run<T: Real>(c: &mut Criterion) {
    let half = |i: usize, j: usize| T::of(((i + j) % 3) as f64 * 0.5 - 0.5);
    workload::<T, W1<T>, _, 2, 1>(c, "w1", Mse, SMatrix::from_fn(half));
    workload::<T, W2<T>, _, 8, 8>(c, "w2", Mse, SMatrix::from_fn(half));
    let labels = Class::<10>::batch(core::array::from_fn(|i| (i * 7) % 10)).unwrap();
    workload::<T, W3<T>, _, 784, 32>(c, "w3", CrossEntropy, labels);
    workload::<T, W3Norm<T>, _, 784, 32>(c, "w3_batch_norm", CrossEntropy, labels);
    workload::<T, W4<T>, _, 16, 16>(c, "w4", Mse, SMatrix::from_fn(half));
}

fn benches(c: &mut Criterion) {
    for (name, batch) in [("w1", 1), ("w2", 8), ("w3", 32), ("w4", 16)] {
        let (inference, training) = flops(&widths(name), batch);
        println!("{name}: {inference} FLOP per inference, {training} FLOP per training step (matrix products)");
    }
    run::<f32>(c);
    converged::<f32>(c);
    run::<f64>(c);
}

criterion_group! {
    name = training;
    config = Criterion::default().warm_up_time(Duration::from_secs(1)).measurement_time(Duration::from_secs(3));
    targets = benches
}
criterion_main!(training);
