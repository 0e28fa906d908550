//! Saving and loading the weights of a 784-128-10 classifier (407 KB of f32) in the binary
//! format, and through safetensors when that feature is on.

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use static_nn::format;
use static_nn::prelude::*;
use std::hint::black_box;

type Mnist = (Dense<f32, 784, 128>, Relu, Dense<f32, 128, 10>);

fn binary(c: &mut Criterion) {
    let mut group = c.benchmark_group("format_784-128-10_f32");
    let len = format::saved_len::<f32, Mnist>();
    group.throughput(Throughput::Bytes(len as u64));
    let trained = Mnist::build_boxed(Init::HeUniform, &mut Rng::new(1));
    let mut net = Mnist::build_boxed(Init::HeUniform, &mut Rng::new(2));
    let mut bytes = vec![0u8; len];
    group.bench_function("save", |b| {
        b.iter(|| format::save(black_box(&*trained), &mut bytes).unwrap())
    });
    group.bench_function("load", |b| {
        b.iter(|| format::load(&mut *net, black_box(&bytes)).unwrap())
    });
    #[cfg(feature = "safetensors")]
    {
        let file = format::safetensors::to_vec(&*trained).unwrap();
        group.bench_function("safetensors_export", |b| {
            b.iter(|| format::safetensors::to_vec(black_box(&*trained)).unwrap())
        });
        group.bench_function("safetensors_import", |b| {
            b.iter(|| format::safetensors::load(&mut *net, black_box(&file)).unwrap())
        });
    }
    group.finish();
}

criterion_group!(benches, binary);
criterion_main!(benches);
