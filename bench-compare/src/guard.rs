//! `-- guard`: what the guarded training step (`Workspace::try_train_step`) costs against the
//! plain one (`train_step`) on W1 and W3 (f32, Adam), the figure issue 14 asks for. Two copies
//! of the network, each with its own optimizer and workspace, take turns: a round is `calls`
//! plain steps then `calls` guarded ones on the same cycle of fresh batches, 41 rounds, and the
//! median and quartiles of the per-round ratio are printed. Taking turns, rather than timing
//! one after the other as criterion's groups do, keeps a change in the machine's load from
//! landing on one side only.

use std::hint::black_box;

use static_nn::nalgebra::SMatrix;
use static_nn::prelude::*;

use crate::small::cpu_time;
use crate::{Batches, next};

type W1 = (Dense<f32, 2, 16>, Tanh, Dense<f32, 16, 16>, Tanh, Dense<f32, 16, 1>);
type W3 = (Dense<f32, 784, 128>, Relu, Dense<f32, 128, 10>);

/// The plain and guarded steps of network `N` over `inputs` and `targets`, taking turns.
fn compare<N, L, const I: usize, const B: usize>(
    name: &str,
    loss: L,
    inputs: &[SMatrix<f32, I, B>],
    targets: &[L::Target],
    calls: usize,
) where
    N: Layer<f32, SMatrix<f32, I, B>>,
    L: Loss<f32, N::Output>,
{
    let mut nets = [0, 1].map(|_| N::build_boxed(Init::HeUniform, &mut Rng::new(1)));
    let mut optimizers = [0, 1].map(|_| Adam::<f32, N>::new_boxed(AdamConfig::default()));
    let mut workspaces = [0, 1].map(|_| Workspace::<f32, N, SMatrix<f32, I, B>>::new_boxed());
    let [plain_net, guarded_net] = &mut nets;
    let [plain_adam, guarded_adam] = &mut optimizers;
    let [plain_workspace, guarded_workspace] = &mut workspaces;
    let (mut i, mut j) = (0, 0);
    let n = inputs.len();
    let mut rounds: Vec<(f64, f64)> = (0..42)
        .map(|_| {
            let start = cpu_time();
            for _ in 0..calls {
                let b = next(&mut i, n);
                black_box(plain_workspace.train_step(
                    &mut **plain_net,
                    &mut **plain_adam,
                    &loss,
                    black_box(&inputs[b]),
                    &targets[b],
                ));
            }
            let plain = (cpu_time() - start) / calls as f64;
            let start = cpu_time();
            for _ in 0..calls {
                let b = next(&mut j, n);
                let step = guarded_workspace.try_train_step(
                    &mut **guarded_net,
                    &mut **guarded_adam,
                    &loss,
                    black_box(&inputs[b]),
                    &targets[b],
                    None,
                );
                black_box(step.expect("random batches train finitely"));
            }
            (plain, (cpu_time() - start) / calls as f64)
        })
        .skip(1)
        .collect();
    let mut ratios: Vec<f64> = rounds.iter().map(|(plain, guarded)| guarded / plain).collect();
    ratios.sort_by(f64::total_cmp);
    rounds.sort_by(|a, b| a.0.total_cmp(&b.0));
    let plain = rounds[rounds.len() / 2].0;
    rounds.sort_by(|a, b| a.1.total_cmp(&b.1));
    let guarded = rounds[rounds.len() / 2].1;
    println!(
        "| {name} | {} | {} | {:.3} | {:.3}-{:.3} |",
        crate::format_time(plain * 1e-9),
        crate::format_time(guarded * 1e-9),
        ratios[ratios.len() / 2],
        ratios[ratios.len() / 4],
        ratios[3 * ratios.len() / 4]
    );
}

pub fn run() {
    println!("| workload | train_step | try_train_step | ratio (median) | quartiles |");
    println!("|---|---|---|---|---|");
    let w1 = Batches::of_workload(0, crate::FRESH_BATCHES);
    let inputs: Vec<SMatrix<f32, 2, 1>> = w1.inputs.iter().map(|v| SMatrix::from_column_slice(v)).collect();
    let targets: Vec<SMatrix<f32, 1, 1>> = w1.targets.iter().map(|v| SMatrix::from_column_slice(v)).collect();
    compare::<W1, _, 2, 1>("W1 2-16-16-1 tanh, MSE, batch 1", Mse, &inputs, &targets, 20_000);
    let w3 = Batches::of_workload(2, crate::FRESH_BATCHES);
    let inputs: Vec<SMatrix<f32, 784, 32>> = w3.inputs.iter().map(|v| SMatrix::from_column_slice(v)).collect();
    let targets: Vec<[Class<10>; 32]> = w3
        .classes
        .iter()
        .map(|c| Class::batch(core::array::from_fn(|k| c[k])).expect("classes below 10"))
        .collect();
    compare::<W3, _, 784, 32>("W3 784-128-10 relu, CE, batch 32", CrossEntropy, &inputs, &targets, 100);
}
