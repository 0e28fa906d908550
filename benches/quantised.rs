//! Inference of the digits classifier (64-64-10, ReLU) in `f32` and in `int8`, per sample at
//! batch 1 and batch 32, in one run. The `int8` time includes encoding the real input; both
//! networks see the same held-out samples. Then a softmax of its ten logits: `f32` on the
//! decoded logits against TFLite's fixed-point `int8` softmax on the integers.

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use nalgebra::SMatrix;
use static_nn::data::{Header, Labelled, parse_csv};
use static_nn::prelude::*;
use static_nn::quantised::{Int8Layer, Int8Network, Int8Softmax, Ranges};
use std::hint::black_box;

type Digits = Mlp![f32, 64 -> 64 -> 10, Relu];

fn benches(c: &mut Criterion) {
    let data: Labelled<f32, 64, 10> =
        parse_csv(include_str!("../data/digits.csv"), Header::None).expect("data/digits.csv is well-formed");
    let inputs: Vec<[f32; 64]> = data.samples.iter().map(|(x, _)| *x).collect();
    let net = Digits::build(Init::HeUniform, &mut Rng::new(0));
    let int8 = Int8Network::quantise(&net, &inputs[..400], Ranges::MinMax).expect("finite weights and inputs");
    let single = SMatrix::<f32, 64, 1>::from_column_slice(&inputs[1000]);
    let batch = SMatrix::<f32, 64, 32>::from_fn(|i, j| inputs[1000 + j][i]);

    let mut group = c.benchmark_group("digits_inference");
    group.throughput(Throughput::Elements(1));
    group.bench_function("f32_batch1", |b| b.iter(|| net.forward(black_box(&single))));
    group.bench_function("int8_batch1", |b| b.iter(|| int8.forward_real(black_box(&single))));
    group.throughput(Throughput::Elements(32));
    group.bench_function("f32_batch32", |b| b.iter(|| net.forward(black_box(&batch))));
    group.bench_function("int8_batch32", |b| b.iter(|| int8.forward_real(black_box(&batch))));
    group.finish();

    let logits = int8.forward_real(&single);
    let real_logits = logits.map(|q| int8.output.dequantise(q));
    let softmax = Int8Softmax::new(int8.output.scale).expect("a logit scale above 2^-26");
    let mut group = c.benchmark_group("softmax_of_ten_logits");
    group.bench_function("f32", |b| b.iter(|| Softmax.forward(black_box(&real_logits))));
    group.bench_function("int8", |b| b.iter(|| softmax.forward(black_box(&logits))));
    group.finish();
}

criterion_group!(quantised, benches);
criterion_main!(quantised);
