//! Picks Adam's learning rate for the digits classifier by stratified 5-fold cross-validation,
//! every (learning rate, fold) training on its own core.
//!
//! ```sh
//! cargo run --release --features parallel --example learning_rate_sweep
//! ```
//!
//! Each of the 4 × 5 trainings builds its own network, optimizer and trainer, so they share
//! nothing and the table is the same however many cores run it: the example runs the sweep on
//! every core and on one, three times interleaved, checks that the tables are equal, and prints
//! the speed-up of the fastest rounds.

use std::time::Instant;

use static_nn::data::{ConfusionMatrix, Folds, Header, Labelled, Standardiser, parse_csv};
use static_nn::prelude::*;
use static_nn::train::Sweep;

type Digits = Mlp![f32, 64 -> 64 -> 10, Relu];
const BATCH: usize = 32;
const EPOCHS: usize = 40;
const FOLDS: usize = 5;

/// Held-out accuracy of one training: fold `fold` held out, learning rate `lr`.
fn held_out_accuracy(data: &Labelled<f32, 64, 10>, folds: &Folds, lr: f32, fold: u64) -> f64 {
    let (mut train, mut test) = folds.split(fold as usize, &data.samples);
    let standardiser = Standardiser::fit(&train);
    standardiser.apply(&mut train);
    standardiser.apply(&mut test);
    let mut net = Digits::build_boxed(Init::HeUniform, &mut Rng::new(fold));
    let mut adam = Adam::<f32, Digits>::new_boxed(AdamConfig {
        weight_decay: 1e-3,
        ..AdamConfig::with_lr(lr)
    });
    let mut trainer = Trainer::<f32, Digits, 64, BATCH>::new(TrainConfig {
        seed: fold,
        ..TrainConfig::with_epochs(EPOCHS)
    });
    trainer
        .fit(&mut *net, &mut *adam, &CrossEntropy, &train, None, |_| {})
        .expect("training failed");
    ConfusionMatrix::of(&*net, &test).accuracy()
}

fn main() {
    let data: Labelled<f32, 64, 10> =
        parse_csv(include_str!("../data/digits.csv"), Header::None).expect("data/digits.csv is well-formed");
    let folds = Folds::stratified(&data.samples, FOLDS, 0);
    let sweep = Sweep::new([3e-4f32, 1e-3, 3e-3, 1e-2], 0..FOLDS as u64);
    let train = |lr: &f32, fold: u64| held_out_accuracy(&data, &folds, *lr, fold);

    // Interleaved rounds, the fastest of each kept: other processes share the machine.
    let (mut parallel, mut sequential) = (f64::INFINITY, f64::INFINITY);
    let mut results = None;
    for _ in 0..3 {
        let start = Instant::now();
        let on_every_core = sweep.run(train);
        parallel = parallel.min(start.elapsed().as_secs_f64());
        let start = Instant::now();
        let on_one = sweep.run_sequential(train);
        sequential = sequential.min(start.elapsed().as_secs_f64());
        assert_eq!(
            on_every_core, on_one,
            "a training's result depends only on its learning rate and fold"
        );
        results = Some(on_one);
    }
    let results = results.expect("three rounds ran");

    println!("held-out accuracy by learning rate, stratified {FOLDS}-fold, {EPOCHS} epochs:\n{results}");
    let (lr, (mean, std)) = results.best_by(|mean, _| mean);
    println!("best learning rate: {lr} ({mean:.3} ± {std:.3})");
    println!(
        "{} trainings: {parallel:.2} s on {} threads, {sequential:.2} s on one: {:.2}x",
        sweep.len(),
        rayon::current_num_threads(),
        sequential / parallel
    );
}
