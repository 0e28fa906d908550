//! The same network, from the same initial weights, trained on the two-spirals problem with
//! every optimizer; prints how many epochs each needs to reach a target loss.
//!
//! ```sh
//! cargo run --release --example optimizers
//! ```
//!
//! Two interleaved spirals are a classic hard problem for a small network: the decision
//! boundary winds around the origin, and plain gradient descent crawls along the long, flat
//! valleys of the loss. Momentum builds up speed along them; Adam and RMSprop rescale every
//! parameter's step by its own gradient history.
//!
//! Momentum 0.9 makes the long-run step ten times the learning rate, so the table also trains
//! plain SGD at ten times the rate: it does worse, not better. What momentum adds is the
//! averaging: directions that agree from batch to batch add up, those that oscillate cancel.

use std::time::Instant;

use static_nn::prelude::*;
use static_nn::train::History;

type Net = (Dense<f32, 2, 32>, Tanh, Dense<f32, 32, 32>, Tanh, Dense<f32, 32, 2>);
const BATCH: usize = 16;
const EPOCHS: usize = 300;
const TARGET_LOSS: f32 = 0.1;

/// `n` points on each of two spirals, 1.5 turns each, with a little noise.
fn two_spirals(n: usize, seed: u64) -> Vec<([f32; 2], Class<2>)> {
    let mut rng = Rng::new(seed);
    let mut samples = Vec::with_capacity(2 * n);
    for i in 0..n {
        let t = 0.25 + 2.75 * i as f64 / n as f64; // radius, and angle in units of π
        let angle = t * std::f64::consts::PI;
        for class in 0..2 {
            let sign = if class == 0 { 1.0 } else { -1.0 };
            let x = sign * t * angle.cos() + rng.uniform(-0.05, 0.05);
            let y = sign * t * angle.sin() + rng.uniform(-0.05, 0.05);
            samples.push(([x as f32, y as f32], Class::new(class).unwrap()));
        }
    }
    samples
}

struct Run {
    name: &'static str,
    lr: f32,
    history: History<f32>,
    seconds: f64,
}

fn train<O: Optimizer<f32, Net>>(name: &'static str, mut optimizer: O, data: &[([f32; 2], Class<2>)]) -> Run {
    let mut net = Net::build(Init::XavierUniform, &mut Rng::new(7));
    let lr = optimizer.learning_rate();
    let mut trainer = Trainer::<f32, Net, 2, BATCH>::new(TrainConfig {
        seed: 11,
        ..TrainConfig::with_epochs(EPOCHS)
    });
    let start = Instant::now();
    let history = trainer
        .fit(&mut net, &mut optimizer, &CrossEntropy, data, None, |_| {})
        .expect("training failed");
    Run {
        name,
        lr,
        history,
        seconds: start.elapsed().as_secs_f64(),
    }
}

fn main() {
    let data = two_spirals(100, 3);
    let sgd = |lr: f32, momentum: f32, nesterov: bool| {
        Sgd::new(SgdConfig {
            momentum,
            nesterov,
            ..SgdConfig::with_lr(lr)
        })
    };
    let runs = [
        train("SGD", sgd(0.05, 0.0, false), &data),
        train("SGD, lr x10", sgd(0.5, 0.0, false), &data),
        train("SGD, momentum 0.9", sgd(0.05, 0.9, false), &data),
        train("SGD, Nesterov 0.9", sgd(0.05, 0.9, true), &data),
        train("Adagrad", Adagrad::new(AdagradConfig::with_lr(0.1)), &data),
        train("RMSprop", RmsProp::new(RmsPropConfig::with_lr(0.01)), &data),
        train("Adam", Adam::new(AdamConfig::with_lr(0.01)), &data),
        train(
            "Adam, AMSGrad",
            Adam::new(AdamConfig {
                amsgrad: true,
                ..AdamConfig::with_lr(0.01)
            }),
            &data,
        ),
        train("AdamW", AdamW::new(AdamWConfig::with_lr(0.01)), &data),
    ];

    println!(
        "two spirals, {} points, network 2-32-32-2 (tanh), batch {BATCH}, {EPOCHS} epochs, same initial weights\n",
        data.len()
    );
    println!(
        "{:<20} {:>7} {:>22} {:>11} {:>10} {:>7}",
        "optimizer", "lr", "epochs to loss < 0.1", "final loss", "accuracy", "time"
    );
    for run in &runs {
        let last = run.history.last().expect("no epoch ran");
        let reached = run
            .history
            .first_epoch_below(TARGET_LOSS)
            .map_or_else(|| format!("not in {EPOCHS}"), |e| e.to_string());
        println!(
            "{:<20} {:>7} {:>22} {:>11.1e} {:>9.1}% {:>6.2}s",
            run.name,
            run.lr,
            reached,
            last.train.loss,
            100.0 * last.train.accuracy.unwrap_or(0.0),
            run.seconds
        );
    }
}
