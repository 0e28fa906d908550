//! Sequence networks end to end: gradients through conv, pooling, recurrent and dense layers;
//! streaming equals the whole-sequence forward; a small model learns.

use nalgebra::SMatrix;
use static_nn::prelude::*;

fn sequence<const C: usize, const B: usize, const L: usize>(seed: f64) -> [SMatrix<f64, C, B>; L] {
    core::array::from_fn(|t| SMatrix::from_fn(|c, b| ((t * 7 + c * 3 + b * 5) as f64 * 0.61 + seed).sin()))
}

/// Conv (stride 2) -> tanh -> GRU -> last step -> dense: length 9 becomes 4 after the convolution.
type ConvGru = (
    Conv1d<f64, 2, 4, 3, 9, 4, 2>,
    Tanh,
    Gru<f64, 4, 5>,
    LastStep,
    Dense<f64, 5, 2>,
);

#[test]
fn conv_gru_dense_gradient_check() {
    let net = ConvGru::build(Init::PyTorch, &mut Rng::new(1));
    let x = sequence::<2, 3, 9>(0.2);
    let target = SMatrix::<f64, 2, 3>::from_fn(|i, j| (i + j) as f64 * 0.3 - 0.4);
    let report = GradCheck::default().strict().network(&net, &Mse, &x, &target);
    assert!(report.passed(), "{report}");
    // Conv weight and bias, four GRU tensors, dense weight and bias, nine input steps.
    assert_eq!(report.tensors.len(), 2 + 4 + 2 + 9);
    assert_eq!(report.tensor(2, "weight_hh_l0").unwrap().compared, 75);
}

#[test]
fn length_one_sequences_and_pooling_and_lstm_gradient_check() {
    type Short = (Conv1d<f64, 2, 3, 1, 1, 1>, Gru<f64, 3, 4>, LastStep, Dense<f64, 4, 1>);
    let net = Short::build(Init::PyTorch, &mut Rng::new(2));
    let report =
        GradCheck::default()
            .strict()
            .network(&net, &Mse, &sequence::<2, 2, 1>(0.3), &SMatrix::from_element(0.5));
    assert!(report.passed(), "{report}");

    type Pooled = (
        Conv1d<f64, 1, 3, 3, 10, 10, 1, Same>,
        Tanh,
        AvgPool1d<2, 10, 5>,
        Lstm<f64, 3, 4>,
        MaxPool1d<2, 5, 2>,
        Flatten<8>,
        Dense<f64, 8, 2>,
    );
    let net = Pooled::build(Init::PyTorch, &mut Rng::new(3));
    let labels = Class::batch([1, 0]).unwrap();
    let report = GradCheck::default()
        .strict()
        .network(&net, &CrossEntropy, &sequence::<1, 2, 10>(0.4), &labels);
    assert!(report.passed(), "{report}");
}

#[test]
fn streaming_a_whole_network_equals_its_sequence_forward() {
    // Causal conv -> tanh -> GRU -> LSTM -> dense at every step: every layer that streams.
    type Net = (
        Conv1d<f64, 1, 4, 3, 16, 16, 1, Causal, 2>,
        Tanh,
        Gru<f64, 4, 6>,
        Lstm<f64, 6, 5>,
        EachStep<Dense<f64, 5, 1>>,
    );
    let net = Net::build(Init::PyTorch, &mut Rng::new(4));
    let x = sequence::<1, 2, 16>(0.5);
    let y = net.forward(&x);
    let mut state = Net::stream_state();
    for t in 0..16 {
        let frame = net.step(&x[t], &mut state);
        assert!((frame - y[t]).abs().max() <= 1e-15, "step {t}: {frame} vs {}", y[t]);
    }

    // With LastStep, each streamed frame is the sequence forward of the prefix ending there.
    type ManyToOne = (Gru<f64, 1, 6>, LastStep, Dense<f64, 6, 1>);
    let net = ManyToOne::build(Init::PyTorch, &mut Rng::new(5));
    let mut state = ManyToOne::stream_state();
    let mut outputs = [SMatrix::<f64, 1, 2>::zeros(); 16];
    for (t, out) in outputs.iter_mut().enumerate() {
        *out = net.step(&x[t], &mut state);
    }
    let prefix: [SMatrix<f64, 1, 2>; 5] = core::array::from_fn(|t| x[t]);
    assert!((net.forward(&prefix) - outputs[4]).abs().max() <= 1e-15);
    assert!((net.forward(&x) - outputs[15]).abs().max() <= 1e-15);
}

#[test]
fn a_small_recurrent_model_learns_to_sum_its_input() {
    // Target: the mean of the sequence, a task that needs memory of every step.
    type Net = (Gru<f32, 1, 8>, LastStep, Dense<f32, 8, 1>);
    let mut net = Net::build(Init::PyTorch, &mut Rng::new(6));
    let mut optimizer = Sgd::new(SgdConfig {
        lr: 0.1,
        momentum: 0.9,
        ..SgdConfig::default()
    });
    let mut workspace = Workspace::<f32, Net, [SMatrix<f32, 1, 16>; 6]>::new();
    let mut rng = Rng::new(7);
    let mut batch = || {
        let x: [SMatrix<f32, 1, 16>; 6] =
            core::array::from_fn(|_| SMatrix::from_fn(|_, _| rng.uniform(-1.0, 1.0) as f32));
        let mean = x.iter().fold(SMatrix::<f32, 1, 16>::zeros(), |a, b| a + b) / 6.0;
        (x, mean)
    };
    let (x0, y0) = batch();
    let first = Mse.value(&net.forward(&x0), &y0);
    for _ in 0..300 {
        let (x, y) = batch();
        workspace.train_step(&mut net, &mut optimizer, &Mse, &x, &y);
    }
    let last = Mse.value(&net.forward(&x0), &y0);
    assert!(last < first / 10.0, "loss {first} -> {last}");
}
