//! The workloads with static-nn: `Workspace::train_step` with Adam, and `forward`.

use std::cell::RefCell;
use std::hint::black_box;
use std::rc::Rc;

use nalgebra::SMatrix;
use static_nn::prelude::*;

use crate::{Batches, Contender, Workload, next};

pub type W1 = (Dense<f32, 2, 16>, Tanh, Dense<f32, 16, 16>, Tanh, Dense<f32, 16, 1>);
pub type W2 = (Dense<f32, 8, 32>, Relu, Dense<f32, 32, 32>, Relu, Dense<f32, 32, 4>);
pub type W3 = (Dense<f32, 784, 128>, Relu, Dense<f32, 128, 10>);
pub type W4 = (
    Dense<f32, 16, 64>,
    Relu,
    [(Dense<f32, 64, 64>, Relu); 5],
    Dense<f32, 64, 16>,
);

fn contender<N, L, const I: usize, const B: usize>(loss: L, batches: &Batches, targets: Vec<L::Target>) -> Contender
where
    N: Layer<f32, SMatrix<f32, I, B>> + 'static,
    L: Loss<f32, N::Output> + 'static,
    L::Target: 'static,
{
    let mut optimizer = Adam::<f32, N>::new_boxed(AdamConfig::default());
    let mut workspace = Workspace::<f32, N, SMatrix<f32, I, B>>::new_boxed();
    let inputs: Rc<Vec<Box<SMatrix<f32, I, B>>>> = Rc::new(
        batches
            .inputs
            .iter()
            .map(|values| {
                let mut x: Box<SMatrix<f32, I, B>> = static_nn::zeroed_box();
                x.as_mut_slice().copy_from_slice(values);
                x
            })
            .collect(),
    );
    let net = Rc::new(RefCell::new(N::build_boxed(Init::HeUniform, &mut Rng::new(1))));
    let (trained, inputs2) = (net.clone(), inputs.clone());
    let (mut i, mut j) = (0, 0);
    Contender {
        name: "static-nn",
        train: Box::new(move || {
            let k = next(&mut i, inputs.len());
            let mut net = trained.borrow_mut();
            black_box(workspace.train_step(&mut **net, &mut *optimizer, &loss, black_box(&*inputs[k]), &targets[k]));
        }),
        infer: Box::new(move || {
            let k = next(&mut j, inputs2.len());
            black_box(net.borrow().forward(black_box(&*inputs2[k])));
        }),
    }
}

pub fn regression<const K: usize, const B: usize>(batches: &Batches) -> Vec<SMatrix<f32, K, B>> {
    batches.targets.iter().map(|t| SMatrix::from_column_slice(t)).collect()
}

pub fn w1(count: usize) -> Workload {
    let batches = Batches::of_workload(0, count);
    Workload {
        name: "W1 2-16-16-1 tanh",
        batch: 1,
        inference_flops: 2.0 * (2.0 * 16.0 + 16.0 * 16.0 + 16.0),
        contenders: vec![contender::<W1, _, 2, 1>(Mse, &batches, regression(&batches))],
    }
}

pub fn w2(count: usize) -> Workload {
    let batches = Batches::of_workload(1, count);
    Workload {
        name: "W2 8-32-32-4 relu",
        batch: 8,
        inference_flops: 2.0 * 8.0 * (8.0 * 32.0 + 32.0 * 32.0 + 32.0 * 4.0),
        contenders: vec![contender::<W2, _, 8, 8>(Mse, &batches, regression(&batches))],
    }
}

pub fn w3(count: usize) -> Workload {
    let batches = Batches::of_workload(2, count);
    let labels = batches
        .classes
        .iter()
        .map(|c| -> [Class<10>; 32] { core::array::from_fn(|i| Class::new(c[i]).unwrap()) })
        .collect();
    Workload {
        name: "W3 784-128-10 relu",
        batch: 32,
        inference_flops: 2.0 * 32.0 * (784.0 * 128.0 + 128.0 * 10.0),
        contenders: vec![contender::<W3, _, 784, 32>(CrossEntropy, &batches, labels)],
    }
}

pub fn w4(count: usize) -> Workload {
    let batches = Batches::of_workload(3, count);
    Workload {
        name: "W4 16-(64x6)-16 relu",
        batch: 16,
        inference_flops: 2.0 * 16.0 * (16.0 * 64.0 + 5.0 * 64.0 * 64.0 + 64.0 * 16.0),
        contenders: vec![contender::<W4, _, 16, 16>(Mse, &batches, regression(&batches))],
    }
}

fn matrix<const R: usize, const C: usize>(values: &[f32]) -> SMatrix<f32, R, C> {
    SMatrix::from_column_slice(values)
}

/// Trains W1 on one fixed sample for `steps` steps, printing the time per step over windows
/// and how many of Adam's state values are subnormal: the loss and gradients decay towards 0,
/// and with them `exp_avg` and `exp_avg_sq`.
pub fn long_run(steps: u64) {
    let mut net = W1::build(Init::HeUniform, &mut Rng::new(1));
    let mut adam = Adam::<f32, W1>::new(AdamConfig::default());
    let mut workspace = Workspace::<f32, W1, SMatrix<f32, 2, 1>>::new();
    let batches = Batches::of_workload(0, 1);
    let x = matrix::<2, 1>(&batches.inputs[0]);
    let target = matrix::<1, 1>(&batches.targets[0]);
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
