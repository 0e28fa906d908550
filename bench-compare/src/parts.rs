//! `-- parts`: W1's training step taken apart, to show where its time goes and what bounds it:
//! the whole step, the gradient alone (forward, loss, backward), Adam's update alone (late in
//! training, and in its first 10,000 steps, while the second moment's bias correction still
//! divides), the forward pass, and the plain nalgebra step. Each runs 20,000 calls a round,
//! all five in turn, 41 rounds; the median of this thread's CPU time per call is printed.

use std::hint::black_box;

use static_nn::nalgebra::SMatrix;
use static_nn::prelude::*;

use crate::small::cpu_time;
use crate::{Batches, nalgebra_impl, next};

type W1 = (Dense<f32, 2, 16>, Tanh, Dense<f32, 16, 16>, Tanh, Dense<f32, 16, 1>);

/// A part's name and one call of it.
type Part<'a> = (&'static str, Box<dyn FnMut() + 'a>);

/// The CPU time per call of `calls` calls of `f`, in nanoseconds.
fn per_call(f: &mut dyn FnMut(), calls: usize) -> f64 {
    let start = cpu_time();
    for _ in 0..calls {
        f();
    }
    (cpu_time() - start) / calls as f64
}

pub fn run() {
    let batches = Batches::of_workload(0, crate::FRESH_BATCHES);
    let xs: Vec<SMatrix<f32, 2, 1>> = batches.inputs.iter().map(|v| SMatrix::from_column_slice(v)).collect();
    let ts: Vec<SMatrix<f32, 1, 1>> = batches.targets.iter().map(|v| SMatrix::from_column_slice(v)).collect();
    let start = W1::build(Init::HeUniform, &mut Rng::new(1));
    let (mut net, mut adam_net, mut early_net) = (start.clone(), start.clone(), start.clone());
    let mut adam = Adam::<f32, W1>::new(AdamConfig::default());
    let (mut late, mut early) = (adam.clone(), adam.clone());
    let (mut workspace, mut gradient_workspace) = (Workspace::new(), Workspace::new());
    gradient_workspace.compute_gradient(&start, &Mse, &xs[0], &ts[0]);
    let grad = gradient_workspace.grad.clone();
    let mut plain = nalgebra_impl::contender::<nalgebra_impl::Plain>(0, crate::FRESH_BATCHES);
    let (mut i, mut j, mut k) = (0, 0, 0);
    let n = xs.len();
    let mut parts: Vec<Part<'_>> = vec![
        (
            "training step",
            Box::new(|| {
                let b = next(&mut i, n);
                black_box(workspace.train_step(&mut net, &mut adam, &Mse, black_box(&xs[b]), &ts[b]));
            }),
        ),
        (
            "gradient (forward, loss, backward)",
            Box::new(|| {
                let b = next(&mut j, n);
                black_box(gradient_workspace.compute_gradient(&start, &Mse, black_box(&xs[b]), &ts[b]));
            }),
        ),
        ("Adam's update", Box::new(|| late.step(&mut adam_net, black_box(&grad)))),
        (
            "Adam's update, steps 1 to 10,000",
            Box::new(|| {
                if early.steps() == 10_000 {
                    early.set_steps(0);
                }
                early.step(&mut early_net, black_box(&grad));
            }),
        ),
        (
            "forward",
            Box::new(|| {
                let b = next(&mut k, n);
                black_box(start.forward(black_box(&xs[b])));
            }),
        ),
        ("plain nalgebra training step", Box::new(move || (plain.train)())),
    ];
    let mut times = vec![Vec::new(); parts.len()];
    for _ in 0..41 {
        for (times, (_, f)) in times.iter_mut().zip(&mut parts) {
            times.push(per_call(f, 20_000));
        }
    }
    println!("{}", crate::machine());
    println!(
        "W1 2-16-16-1 tanh, MSE, batch 1, Adam lr 1e-3, f32; ns per call, median of 41 rounds of thread CPU time:"
    );
    for (times, (name, _)) in times.iter_mut().zip(&parts) {
        times.sort_by(f64::total_cmp);
        println!("{name}: {:.1}", times[times.len() / 2]);
    }
}
