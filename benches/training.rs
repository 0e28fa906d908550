//! Training-step and inference time of a small tanh network (W1 of the performance issue:
//! 2-16-16-1, batch 1) and of a 784-128-10 ReLU classifier (W3, batch 32), in f32 and f64.

use criterion::{BenchmarkId, Criterion, Throughput, criterion_group, criterion_main};
use nalgebra::SMatrix;
use static_nn::prelude::*;
use std::hint::black_box;

type W1<T> = (Dense<T, 2, 16>, Tanh, Dense<T, 16, 16>, Tanh, Dense<T, 16, 1>);
type W3 = (Dense<f32, 784, 128>, Relu, Dense<f32, 128, 10>);

fn w1<T: Real>(c: &mut Criterion) {
    let mut group = c.benchmark_group(format!("w1_2-16-16-1_tanh_{}", T::NAME));
    group.throughput(Throughput::Elements(1));
    let mut net = W1::<T>::build(Init::PyTorch, &mut Rng::new(1));
    let mut optimizer = Sgd::new(SgdConfig {
        lr: T::of(0.01),
        momentum: T::of(0.9),
        ..SgdConfig::default()
    });
    let mut workspace = Workspace::new();
    let x = SMatrix::<T, 2, 1>::new(T::of(0.3), T::of(-0.7));
    let target = SMatrix::<T, 1, 1>::new(T::of(0.5));
    group.bench_function("train_step", |b| {
        b.iter(|| workspace.train_step(&mut net, &mut optimizer, &Mse, black_box(&x), &target))
    });
    group.bench_function("inference", |b| b.iter(|| net.forward(black_box(&x))));
    group.finish();
}

fn w3(c: &mut Criterion) {
    const BATCH: usize = 32;
    let mut group = c.benchmark_group("w3_784-128-10_relu_f32");
    group.throughput(Throughput::Elements(BATCH as u64));
    let mut net = W3::build_boxed(Init::HeUniform, &mut Rng::new(2));
    let mut optimizer = Sgd::<f32, W3>::new_boxed(SgdConfig {
        momentum: 0.9,
        ..SgdConfig::with_lr(0.01)
    });
    let mut workspace = Workspace::<f32, W3, SMatrix<f32, 784, BATCH>>::new_boxed();
    let mut x: Box<SMatrix<f32, 784, BATCH>> = static_nn::zeroed_box();
    let mut rng = Rng::new(3);
    x.iter_mut().for_each(|v| *v = rng.uniform(0.0, 1.0) as f32);
    let labels = Class::<10>::batch(core::array::from_fn(|i| i % 10)).unwrap();
    group.bench_with_input(BenchmarkId::new("train_step", BATCH), &labels, |b, labels| {
        b.iter(|| workspace.train_step(&mut *net, &mut *optimizer, &CrossEntropy, black_box(&*x), labels))
    });
    group.bench_function(BenchmarkId::new("inference", BATCH), |b| {
        b.iter(|| net.forward(black_box(&*x)))
    });
    group.finish();
}

fn benches(c: &mut Criterion) {
    w1::<f32>(c);
    w1::<f64>(c);
    w3(c);
}

criterion_group!(training, benches);
criterion_main!(training);
