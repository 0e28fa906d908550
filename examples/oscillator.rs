//! A GRU learns to predict the next sample of noisy damped oscillators, then runs on a live
//! stream one sample at a time.
//!
//! Each training sequence is a freshly drawn oscillator `x(t) = A e^{−ζωt} cos(ω_d t + φ)`
//! (angular frequency ω of 0.2 to 0.6 rad per sample, damping ratio ζ up to 0.05, random
//! amplitude and phase) with measurement noise of standard deviation 0.02. At every step the
//! network sees the samples so far and predicts the next one, so it must work out the
//! frequency and damping of the oscillator in front of it. Two baselines put the loss in
//! context: repeating the last sample, and the best a predictor can do on noisy targets (the
//! noise variance, 4e-4).
//!
//! Run with `cargo run --release --example oscillator` (a few seconds).

use nalgebra::SMatrix;
use static_nn::prelude::*;

const STEPS: usize = 32;
const BATCH: usize = 32;
const NOISE: f64 = 0.02;

/// One frame in, one prediction out: the streaming part.
type Predictor = (Gru<f32, 1, 16>, EachStep<Dense<f32, 16, 1>>);
/// For training, the per-step predictions of a sequence become one `STEPS`-long column per
/// sample, the shape `Mse` compares with the targets.
type Trainer = (Predictor, Flatten<STEPS>);

/// `len + 1` noisy samples of a random damped oscillator.
fn oscillator(rng: &mut Rng, len: usize) -> impl Iterator<Item = f32> + '_ {
    let omega = rng.uniform(0.2, 0.6);
    let zeta = rng.uniform(0.0, 0.05);
    let amplitude = rng.uniform(0.5, 1.0);
    let phase = rng.uniform(0.0, std::f64::consts::TAU);
    let damped = omega * (1.0 - zeta * zeta).sqrt();
    (0..=len).map(move |t| {
        let t = t as f64;
        let clean = amplitude * (-zeta * omega * t).exp() * (damped * t + phase).cos();
        (clean + NOISE * rng.normal()) as f32
    })
}

/// A batch of sequences (time-major) and, for each, the next sample at every step.
fn batch(rng: &mut Rng) -> ([SMatrix<f32, 1, BATCH>; STEPS], SMatrix<f32, STEPS, BATCH>) {
    let mut x = [SMatrix::<f32, 1, BATCH>::zeros(); STEPS];
    let mut next = SMatrix::<f32, STEPS, BATCH>::zeros();
    for b in 0..BATCH {
        for (t, value) in oscillator(rng, STEPS).enumerate() {
            if t < STEPS {
                x[t][b] = value;
            }
            if t > 0 {
                next[(t - 1, b)] = value;
            }
        }
    }
    (x, next)
}

/// Mean squared error of predicting each next sample by the current one.
fn persistence_loss(x: &[SMatrix<f32, 1, BATCH>; STEPS], next: &SMatrix<f32, STEPS, BATCH>) -> f32 {
    let mut sum = 0.0;
    for (t, x_t) in x.iter().enumerate() {
        sum += (next.row(t) - x_t).norm_squared();
    }
    sum / (STEPS * BATCH) as f32
}

fn main() {
    let mut rng = Rng::new(2024);
    let mut net = Trainer::build(Init::PyTorch, &mut rng);
    let mut optimizer = Sgd::new(SgdConfig {
        lr: 0.2,
        momentum: 0.9,
        ..SgdConfig::default()
    });
    let mut workspace = Workspace::new();

    // A fixed validation set, drawn once.
    let validation: Vec<_> = (0..8).map(|_| batch(&mut rng)).collect();
    let validate = |net: &Trainer| {
        let loss: f32 = validation
            .iter()
            .map(|(x, next)| Mse.value(&net.forward(x), next))
            .sum();
        loss / validation.len() as f32
    };
    let persistence: f32 = validation
        .iter()
        .map(|(x, next)| persistence_loss(x, next))
        .sum::<f32>()
        / validation.len() as f32;
    println!("next-sample prediction, mean squared error on held-out oscillators");
    println!("  repeat the last sample:  {persistence:.2e}");
    println!("  noise floor:             {:.2e}", NOISE * NOISE);
    println!("step   training   held-out");

    let start = std::time::Instant::now();
    let mut average = 0.0;
    for step in 1..=6000 {
        let (x, next) = batch(&mut rng);
        let loss = workspace.train_step(&mut net, &mut optimizer, &Mse, &x, &next);
        average += loss;
        if step % 500 == 0 {
            println!("{step:>4}   {:.2e}   {:.2e}", average / 500.0, validate(&net));
            average = 0.0;
        }
        if step == 4500 {
            optimizer.set_learning_rate(0.04);
        }
    }
    let trained = validate(&net);
    println!("trained in {:.1} s", start.elapsed().as_secs_f32());
    // The first predictions of a sequence are guesses; later ones use what the GRU has seen.
    let by_position = |range: core::ops::Range<usize>| {
        let mut sum = 0.0;
        for (x, next) in &validation {
            let y = net.forward(x);
            sum += (y.rows(range.start, range.len()) - next.rows(range.start, range.len())).norm_squared();
        }
        sum / (range.len() * BATCH * validation.len()) as f32
    };
    println!(
        "held-out error at steps 0-3: {:.2e}, steps 4-15: {:.2e}, steps 16-31: {:.2e}",
        by_position(0..4),
        by_position(4..16),
        by_position(16..32)
    );
    assert!(
        trained < persistence / 5.0,
        "the GRU should beat repeating the last sample by far"
    );

    // Live: one sample at a time, carrying the hidden state, on an oscillator never seen, for
    // four times the training length.
    let predictor = &net.0;
    let mut state = Predictor::stream_state();
    let signal: Vec<f32> = oscillator(&mut rng, 4 * STEPS).collect();
    let (mut model_error, mut naive_error) = (0.0, 0.0);
    let mut first_frames = [SMatrix::<f32, 1, 1>::zeros(); STEPS];
    for (t, pair) in signal.windows(2).enumerate() {
        let prediction = predictor.step(&SMatrix::<f32, 1, 1>::new(pair[0]), &mut state)[0];
        if t < STEPS {
            first_frames[t][0] = prediction;
        }
        model_error += (prediction - pair[1]).powi(2);
        naive_error += (pair[0] - pair[1]).powi(2);
    }
    let frames = (signal.len() - 1) as f32;
    println!(
        "streamed {} samples: mean squared error {:.2e} (repeating the last sample: {:.2e})",
        signal.len() - 1,
        model_error / frames,
        naive_error / frames
    );

    // The stream agrees with the whole-sequence forward on the same samples.
    let sequence: [SMatrix<f32, 1, 1>; STEPS] = core::array::from_fn(|t| SMatrix::<f32, 1, 1>::new(signal[t]));
    let whole = predictor.forward(&sequence);
    let gap = (0..STEPS)
        .map(|t| (whole[t][0] - first_frames[t][0]).abs())
        .fold(0.0, f32::max);
    println!("largest difference between streaming and the whole-sequence forward: {gap:e}");
    assert!(gap == 0.0);
}
