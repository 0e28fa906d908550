//! What watching the gradients costs on a 784-128-10 ReLU classifier (f32, batch 32): a plain
//! step, the guarded step, a monitored step (statistics and update ratios), a monitored step
//! with the first-order check, and recording the activation health.

use criterion::{Criterion, criterion_group, criterion_main};
use nalgebra::SMatrix;
use static_nn::prelude::*;
use std::hint::black_box;

const BATCH: usize = 32;
type Net = (Dense<f32, 784, 128>, Relu, Dense<f32, 128, 10>);
type Input = SMatrix<f32, 784, BATCH>;

fn benches(c: &mut Criterion) {
    let mut group = c.benchmark_group("diagnostics_784-128-10_relu_f32_batch32");
    let mut net = Net::build_boxed(Init::HeUniform, &mut Rng::new(2));
    let mut sgd = Sgd::<f32, Net>::new_boxed(SgdConfig {
        momentum: 0.9,
        ..SgdConfig::with_lr(1e-3)
    });
    let mut workspace = Workspace::<f32, Net, Input>::new_boxed();
    let mut x: Box<Input> = static_nn::zeroed_box();
    let mut rng = Rng::new(3);
    x.iter_mut().for_each(|v| *v = rng.uniform(0.0, 1.0) as f32);
    let labels = Class::<10>::batch(core::array::from_fn(|i| i % 10)).unwrap();
    let mut monitor = Monitor::<f32, Net, Input, 8>::new_boxed().unwrap();
    let mut health = ActivationHealth::<f32, 4, 256>::new(&*net, &*x, &workspace).unwrap();

    group.bench_function("train_step", |b| {
        b.iter(|| workspace.train_step(&mut *net, &mut *sgd, &CrossEntropy, black_box(&*x), &labels))
    });
    group.bench_function("try_train_step", |b| {
        b.iter(|| workspace.try_train_step(&mut *net, &mut *sgd, &CrossEntropy, black_box(&*x), &labels, None))
    });
    group.bench_function("monitored_step", |b| {
        b.iter(|| {
            monitor.train_step(
                &mut workspace,
                &mut *net,
                &mut *sgd,
                &CrossEntropy,
                black_box(&*x),
                &labels,
                None,
            )
        })
    });
    monitor.first_order = true;
    group.bench_function("monitored_step_first_order", |b| {
        b.iter(|| {
            monitor.train_step(
                &mut workspace,
                &mut *net,
                &mut *sgd,
                &CrossEntropy,
                black_box(&*x),
                &labels,
                None,
            )
        })
    });
    group.bench_function("activation_health", |b| {
        b.iter(|| health.record(&*net, black_box(&*x), &workspace))
    });
    group.finish();
}

criterion_group!(diagnostics, benches);
criterion_main!(diagnostics);
