//! One optimizer step, per optimizer and variant, on a 784-128-10 network in f32 (101 770
//! parameters), and clipping by global norm on its gradient. Throughput is in parameters per
//! second.

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use static_nn::optim::clip_grad_norm;
use static_nn::prelude::*;
use std::hint::black_box;

type Mnist = (Dense<f32, 784, 128>, Relu, Dense<f32, 128, 10>);
type Gradient = <Mnist as Parameters<f32>>::Gradient;

/// A gradient of small random entries, built on the heap.
fn gradient() -> Box<Gradient> {
    let mut grad: Box<Gradient> = static_nn::zeroed_box();
    let mut rng = Rng::new(5);
    for t in grad.tensors_mut() {
        t.iter_mut().for_each(|v| *v = rng.uniform(-1e-2, 1e-2) as f32);
    }
    grad
}

fn bench_step<O: Optimizer<f32, Mnist>>(c: &mut Criterion, name: &str, optimizer: &mut O) {
    let mut group = c.benchmark_group("optimizer_step_784-128-10_f32");
    group.throughput(Throughput::Elements(Mnist::scalar_count() as u64));
    let mut net = Mnist::build_boxed(Init::HeUniform, &mut Rng::new(1));
    let grad = gradient();
    group.bench_function(name, |b| b.iter(|| optimizer.step(&mut net, black_box(&grad))));
    group.finish();
}

fn benches(c: &mut Criterion) {
    let momentum = SgdConfig {
        momentum: 0.9,
        ..SgdConfig::with_lr(0.01)
    };
    let nesterov = SgdConfig {
        nesterov: true,
        weight_decay: 1e-4,
        ..momentum
    };
    bench_step(c, "sgd", &mut *Sgd::new_boxed(SgdConfig::with_lr(0.01)));
    bench_step(c, "sgd_momentum", &mut *Sgd::new_boxed(momentum));
    bench_step(c, "sgd_nesterov_weight_decay", &mut *Sgd::new_boxed(nesterov));
    bench_step(c, "adam", &mut *Adam::new_boxed(AdamConfig::default()));
    let amsgrad = AdamConfig {
        amsgrad: true,
        ..AdamConfig::default()
    };
    bench_step(c, "adam_amsgrad", &mut *Adam::new_boxed(amsgrad));
    bench_step(c, "adam_w", &mut *AdamW::new_boxed(AdamWConfig::default()));
    bench_step(c, "rms_prop", &mut *RmsProp::new_boxed(RmsPropConfig::default()));
    let centered = RmsPropConfig {
        centered: true,
        momentum: 0.9,
        ..RmsPropConfig::default()
    };
    bench_step(c, "rms_prop_centered_momentum", &mut *RmsProp::new_boxed(centered));
    bench_step(c, "adagrad", &mut *Adagrad::new_boxed(AdagradConfig::default()));

    let mut group = c.benchmark_group("clip_784-128-10_f32");
    group.throughput(Throughput::Elements(Mnist::scalar_count() as u64));
    let mut grad = gradient();
    // A max_norm above the norm measures the norm alone; no scaling happens, so every
    // iteration sees the same gradient.
    group.bench_function("clip_grad_norm", |b| {
        b.iter(|| clip_grad_norm(black_box(&mut *grad), 1e6).unwrap())
    });
    group.finish();
}

criterion_group!(optimizers, benches);
criterion_main!(optimizers);
