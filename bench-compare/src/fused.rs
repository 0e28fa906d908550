//! `-- fused`: each workload's training step as `Workspace::train_step` takes it (fused: each
//! layer updated by Adam right after its backward pass) against the same step unfused
//! (`compute_gradient`, the buffer updates, then `Optimizer::step`), from the same start on the
//! same fresh batches, alternated in one process: 21 rounds, each timing both for about 5 ms of
//! thread CPU time; the medians per step and their ratio are printed.

use std::hint::black_box;

use static_nn::nalgebra::SMatrix;
use static_nn::prelude::*;

use crate::small::cpu_time;
use crate::static_nn_impl::{W1, W2, W3, W4, regression};
use crate::{Batches, next};

/// Thread CPU time per round and way, in nanoseconds.
const ROUND: f64 = 5e6;
const ROUNDS: usize = 21;

/// One way of taking a step, with everything it trains.
struct Trained<N: Layer<f32, SMatrix<f32, I, B>>, const I: usize, const B: usize> {
    net: Box<N>,
    adam: Box<Adam<f32, N>>,
    workspace: Box<Workspace<f32, N, SMatrix<f32, I, B>>>,
    next: usize,
}

impl<N: Layer<f32, SMatrix<f32, I, B>>, const I: usize, const B: usize> Trained<N, I, B> {
    fn new() -> Self {
        Self {
            net: N::build_boxed(Init::HeUniform, &mut Rng::new(1)),
            adam: Adam::new_boxed(AdamConfig::default()),
            workspace: Workspace::new_boxed(),
            next: 0,
        }
    }

    /// `calls` steps, fused or not; the thread CPU time per step.
    fn time<L: Loss<f32, N::Output>>(
        &mut self,
        fused: bool,
        calls: usize,
        loss: &L,
        inputs: &[Box<SMatrix<f32, I, B>>],
        targets: &[L::Target],
    ) -> f64 {
        let start = cpu_time();
        for _ in 0..calls {
            let k = next(&mut self.next, inputs.len());
            let (x, target) = (black_box(&*inputs[k]), &targets[k]);
            if fused {
                black_box(
                    self.workspace
                        .train_step(&mut *self.net, &mut *self.adam, loss, x, target),
                );
            } else {
                black_box(self.workspace.compute_gradient(&*self.net, loss, x, target));
                self.net.update_buffers(&self.workspace.cache);
                self.adam.step(&mut *self.net, &self.workspace.grad);
            }
        }
        (cpu_time() - start) / calls as f64
    }
}

/// Times workload `k` both ways and prints its row.
fn row<N, L, const I: usize, const B: usize>(name: &str, k: usize, loss: L, targets: Vec<L::Target>)
where
    N: Layer<f32, SMatrix<f32, I, B>>,
    L: Loss<f32, N::Output>,
{
    let batches = Batches::of_workload(k, crate::FRESH_BATCHES);
    let inputs: Vec<Box<SMatrix<f32, I, B>>> = batches
        .inputs
        .iter()
        .map(|values| {
            let mut x: Box<SMatrix<f32, I, B>> = static_nn::zeroed_box();
            x.as_mut_slice().copy_from_slice(values);
            x
        })
        .collect();
    let (mut fused, mut unfused) = (Trained::<N, I, B>::new(), Trained::<N, I, B>::new());
    let estimate = fused.time(true, 100, &loss, &inputs, &targets);
    let calls = ((ROUND / estimate) as usize).max(1);
    let (mut fused_times, mut unfused_times) = (Vec::new(), Vec::new());
    for _ in 0..ROUNDS {
        fused_times.push(fused.time(true, calls, &loss, &inputs, &targets));
        unfused_times.push(unfused.time(false, calls, &loss, &inputs, &targets));
    }
    let median = |times: &mut Vec<f64>| {
        times.sort_by(f64::total_cmp);
        times[times.len() / 2]
    };
    let (f, u) = (median(&mut fused_times), median(&mut unfused_times));
    println!("| {name} | {:.1} | {:.1} | {:.3} |", f, u, u / f);
}

pub fn run() {
    println!("{}", crate::machine());
    println!(
        "Adam lr 1e-3, f32, {} fresh batches; ns per step, median of {ROUNDS} alternated rounds of thread CPU time:",
        crate::FRESH_BATCHES
    );
    println!("| workload | fused | unfused | unfused / fused |");
    println!("|---|---|---|---|");
    let classes = |batches: &Batches| -> Vec<[Class<10>; 32]> {
        let classes = batches.classes.iter();
        classes
            .map(|c| core::array::from_fn(|i| Class::new(c[i]).unwrap()))
            .collect()
    };
    row::<W1, _, 2, 1>("W1", 0, Mse, regression(&Batches::of_workload(0, crate::FRESH_BATCHES)));
    row::<W2, _, 8, 8>("W2", 1, Mse, regression(&Batches::of_workload(1, crate::FRESH_BATCHES)));
    row::<W3, _, 784, 32>(
        "W3",
        2,
        CrossEntropy,
        classes(&Batches::of_workload(2, crate::FRESH_BATCHES)),
    );
    row::<W4, _, 16, 16>("W4", 3, Mse, regression(&Batches::of_workload(3, crate::FRESH_BATCHES)));
}
