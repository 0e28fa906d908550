//! One streaming step (ns per sample) of the small recurrent models RTNeural benchmarks: input 1,
//! a GRU of 8, 16 or 32 units or an LSTM of 16, then a dense layer to 1 output, f32, batch 1.
//! Also a causal convolution front end, and a GRU-16 step in f64.

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use nalgebra::SMatrix;
use static_nn::prelude::*;
use std::hint::black_box;

fn stream<T: Real, N: Stream<T, SMatrix<T, 1, 1>, Output = SMatrix<T, 1, 1>>>(c: &mut Criterion, name: &str) {
    let mut group = c.benchmark_group("streaming_step");
    group.throughput(Throughput::Elements(1));
    let net = N::build(Init::PyTorch, &mut Rng::new(1));
    let mut state = N::stream_state();
    let mut phase = T::zero();
    let delta = T::of(0.01);
    group.bench_function(name, |b| {
        b.iter(|| {
            phase += delta;
            net.step(black_box(&SMatrix::<T, 1, 1>::new(phase.sin())), &mut state)
        })
    });
    group.finish();
}

fn benches(c: &mut Criterion) {
    stream::<f32, (Gru<f32, 1, 8>, Dense<f32, 8, 1>)>(c, "gru8_f32");
    stream::<f32, (Gru<f32, 1, 16>, Dense<f32, 16, 1>)>(c, "gru16_f32");
    stream::<f32, (Gru<f32, 1, 32>, Dense<f32, 32, 1>)>(c, "gru32_f32");
    stream::<f32, (Lstm<f32, 1, 16>, Dense<f32, 16, 1>)>(c, "lstm16_f32");
    stream::<f64, (Gru<f64, 1, 16>, Dense<f64, 16, 1>)>(c, "gru16_f64");
    stream::<
        f32,
        (
            Conv1d<f32, 1, 8, 3, 1, 1, 1, Causal, 2>,
            Tanh,
            Gru<f32, 8, 16>,
            Dense<f32, 16, 1>,
        ),
    >(c, "causal_conv8_gru16_f32");
}

criterion_group!(streaming, benches);
criterion_main!(streaming);
