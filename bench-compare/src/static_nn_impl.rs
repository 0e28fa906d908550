//! The workloads with static-nn: `Workspace::train_step` with Adam, and `forward`.

use std::cell::RefCell;
use std::hint::black_box;
use std::rc::Rc;

use nalgebra::SMatrix;
use static_nn::prelude::*;

use crate::{Contender, Workload, classes, input, regression_target};

type W1 = (Dense<f32, 2, 16>, Tanh, Dense<f32, 16, 16>, Tanh, Dense<f32, 16, 1>);
type W2 = (Dense<f32, 8, 32>, Relu, Dense<f32, 32, 32>, Relu, Dense<f32, 32, 4>);
type W3 = (Dense<f32, 784, 128>, Relu, Dense<f32, 128, 10>);
type W4 = (
    Dense<f32, 16, 64>,
    Relu,
    [(Dense<f32, 64, 64>, Relu); 5],
    Dense<f32, 64, 16>,
);

fn contender<N, L, const I: usize, const B: usize>(loss: L, target: L::Target) -> Contender
where
    N: Layer<f32, SMatrix<f32, I, B>> + 'static,
    L: Loss<f32, N::Output> + 'static,
    L::Target: 'static,
{
    let mut optimizer = Adam::<f32, N>::new_boxed(AdamConfig::default());
    let mut workspace = Workspace::<f32, N, SMatrix<f32, I, B>>::new_boxed();
    let mut x: Box<SMatrix<f32, I, B>> = static_nn::zeroed_box();
    x.as_mut_slice().copy_from_slice(&input(I * B));
    let net = Rc::new(RefCell::new(N::build_boxed(Init::HeUniform, &mut Rng::new(1))));
    let (trained, x2) = (net.clone(), x.clone());
    Contender {
        name: "static-nn",
        train: Box::new(move || {
            let mut net = trained.borrow_mut();
            black_box(workspace.train_step(&mut **net, &mut *optimizer, &loss, black_box(&*x), &target));
        }),
        infer: Box::new(move || {
            black_box(net.borrow().forward(black_box(&*x2)));
        }),
    }
}

fn matrix<const R: usize, const C: usize>(values: &[f32]) -> SMatrix<f32, R, C> {
    SMatrix::from_column_slice(values)
}

pub fn w1() -> Workload {
    Workload {
        name: "W1 2-16-16-1 tanh",
        batch: 1,
        inference_flops: 2.0 * (2.0 * 16.0 + 16.0 * 16.0 + 16.0),
        contenders: vec![contender::<W1, _, 2, 1>(Mse, matrix(&regression_target(1, 1)))],
    }
}

pub fn w2() -> Workload {
    Workload {
        name: "W2 8-32-32-4 relu",
        batch: 8,
        inference_flops: 2.0 * 8.0 * (8.0 * 32.0 + 32.0 * 32.0 + 32.0 * 4.0),
        contenders: vec![contender::<W2, _, 8, 8>(Mse, matrix(&regression_target(4, 8)))],
    }
}

pub fn w3() -> Workload {
    let labels: [Class<10>; 32] = core::array::from_fn(|i| Class::new(classes(32)[i]).unwrap());
    Workload {
        name: "W3 784-128-10 relu",
        batch: 32,
        inference_flops: 2.0 * 32.0 * (784.0 * 128.0 + 128.0 * 10.0),
        contenders: vec![contender::<W3, _, 784, 32>(CrossEntropy, labels)],
    }
}

pub fn w4() -> Workload {
    Workload {
        name: "W4 16-(64x6)-16 relu",
        batch: 16,
        inference_flops: 2.0 * 16.0 * (16.0 * 64.0 + 5.0 * 64.0 * 64.0 + 64.0 * 16.0),
        contenders: vec![contender::<W4, _, 16, 16>(Mse, matrix(&regression_target(16, 16)))],
    }
}

/// Trains W1 on one fixed sample for `steps` steps, printing the time per step over windows
/// and how many of Adam's state values are subnormal: the loss and gradients decay towards 0,
/// and with them `exp_avg` and `exp_avg_sq`.
pub fn long_run(steps: u64) {
    let mut net = W1::build(Init::HeUniform, &mut Rng::new(1));
    let mut adam = Adam::<f32, W1>::new(AdamConfig::default());
    let mut workspace = Workspace::<f32, W1, SMatrix<f32, 2, 1>>::new();
    let x = matrix::<2, 1>(&input(2));
    let target = matrix::<1, 1>(&regression_target(1, 1));
    let window = (steps / 20).max(1);
    println!("| steps | ns per step | loss | subnormal state values |");
    println!("|---|---|---|---|");
    let mut done = 0;
    while done < steps {
        let start = std::time::Instant::now();
        let mut loss = 0.0;
        for _ in 0..window {
            loss = workspace.train_step(&mut net, &mut adam, &Mse, black_box(&x), &target);
        }
        let per_step = start.elapsed().as_secs_f64() / window as f64;
        done += window;
        let subnormal = adam.tensors().flatten().filter(|v| v.is_subnormal()).count();
        let total = adam.tensors().flatten().count();
        println!(
            "| {done} | {:.0} | {loss:.3e} | {subnormal} of {total} |",
            per_step * 1e9
        );
    }
}
