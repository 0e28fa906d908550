//! What normalisation and dropout cost: a training step and inference of the eight-layer
//! sigmoid network of `examples/deep_sigmoid.rs` (64-32x8-10, batch 32, f32), plain, with a
//! batch norm before every sigmoid, with layer norm instead, and with batch norm plus dropout.

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use nalgebra::SMatrix;
use static_nn::prelude::*;
use std::hint::black_box;

const BATCH: usize = 32;
type X = SMatrix<f32, 64, BATCH>;

type Plain = (
    Dense<f32, 64, 32>,
    Sigmoid,
    [(Dense<f32, 32, 32>, Sigmoid); 7],
    Dense<f32, 32, 10>,
);
type BatchNormed = (
    Dense<f32, 64, 32>,
    BatchNorm<f32, 32>,
    Sigmoid,
    [(Dense<f32, 32, 32>, BatchNorm<f32, 32>, Sigmoid); 7],
    Dense<f32, 32, 10>,
);
type LayerNormed = (
    Dense<f32, 64, 32>,
    LayerNorm<f32, 32>,
    Sigmoid,
    [(Dense<f32, 32, 32>, LayerNorm<f32, 32>, Sigmoid); 7],
    Dense<f32, 32, 10>,
);
type WithDropout = (
    Dense<f32, 64, 32>,
    BatchNorm<f32, 32>,
    Sigmoid,
    [(Dense<f32, 32, 32>, BatchNorm<f32, 32>, Sigmoid, Dropout<f32>); 7],
    Dense<f32, 32, 10>,
);

fn bench<N>(c: &mut Criterion, name: &str)
where
    N: Layer<f32, X, Output = SMatrix<f32, 10, BATCH>>,
{
    let mut group = c.benchmark_group(format!("deep_sigmoid_{name}_f32"));
    group.throughput(Throughput::Elements(BATCH as u64));
    let mut net = N::build_boxed(Init::PyTorch, &mut Rng::new(1));
    let mut optimizer = Sgd::<f32, N>::new_boxed(SgdConfig {
        momentum: 0.9,
        ..SgdConfig::with_lr(0.1)
    });
    let mut workspace = Workspace::<f32, N, X>::new_boxed();
    let mut rng = Rng::new(2);
    let x = X::from_fn(|_, _| rng.uniform(0.0, 1.0) as f32);
    let labels = Class::<10>::batch(core::array::from_fn(|i| i % 10)).unwrap();
    group.bench_function("train_step", |b| {
        b.iter(|| workspace.train_step(&mut *net, &mut *optimizer, &CrossEntropy, black_box(&x), &labels))
    });
    group.bench_function("inference", |b| b.iter(|| net.forward(black_box(&x))));
    group.finish();
}

fn benches(c: &mut Criterion) {
    bench::<Plain>(c, "plain");
    bench::<BatchNormed>(c, "batch_norm");
    bench::<LayerNormed>(c, "layer_norm");
    bench::<WithDropout>(c, "batch_norm_dropout");
}

criterion_group!(normalisation, benches);
criterion_main!(normalisation);
