//! PyTorch recurrent and convolutional models imported through safetensors (feature
//! `safetensors`). The fixtures were written by `scripts/make_sequence_fixture.py` from PyTorch
//! modules (see there for how their `state_dict` keys map to layer positions); no Python is
//! needed here.

use nalgebra::SMatrix;
use safetensors::SafeTensors;
use static_nn::format::safetensors as st;
use static_nn::prelude::*;

/// A float32 tensor of an io fixture: its shape and row-major values.
fn tensor(file: &[u8], name: &str) -> (Vec<usize>, Vec<f32>) {
    let file = SafeTensors::deserialize(file).unwrap();
    let view = file.tensor(name).unwrap();
    let values = view
        .data()
        .chunks(4)
        .map(|c| f32::from_le_bytes(c.try_into().unwrap()))
        .collect();
    (view.shape().to_vec(), values)
}

fn assert_close(ours: f32, torch: f32) {
    assert!((ours - torch).abs() <= 1e-6, "{ours} vs PyTorch {torch}");
}

#[test]
fn conv_gru_dense_from_pytorch_reproduces_its_outputs() {
    type Net = (
        Conv1d<f32, 2, 4, 3, 7, 5>,
        Relu,
        Gru<f32, 4, 6>,
        LastStep,
        Dense<f32, 6, 1>,
    );
    let mut net = Net::build(Init::PyTorch, &mut Rng::new(0));
    st::import(&mut net, include_bytes!("fixtures/pytorch_conv_gru.safetensors")).unwrap();

    let io = include_bytes!("fixtures/pytorch_conv_gru_io.safetensors");
    let (shape, input) = tensor(io, "input");
    assert_eq!(shape, [3, 2, 7]); // (N, C, L)
    let x: [SMatrix<f32, 2, 3>; 7] = core::array::from_fn(|t| SMatrix::from_fn(|c, b| input[(b * 2 + c) * 7 + t]));
    let (_, output) = tensor(io, "output"); // (N, 1)
    let y = net.forward(&x);
    for b in 0..3 {
        assert_close(y[b], output[b]);
    }
}

#[test]
fn lstm_with_a_readout_at_every_step_from_pytorch_reproduces_its_outputs() {
    type Net = (Lstm<f32, 2, 3>, EachStep<Dense<f32, 3, 2>>);
    let mut net = Net::build(Init::PyTorch, &mut Rng::new(0));
    st::import(&mut net, include_bytes!("fixtures/pytorch_lstm.safetensors")).unwrap();

    let io = include_bytes!("fixtures/pytorch_lstm_io.safetensors");
    let (shape, input) = tensor(io, "input");
    assert_eq!(shape, [5, 3, 2]); // (L, N, I)
    let x: [SMatrix<f32, 2, 3>; 5] = core::array::from_fn(|t| SMatrix::from_fn(|i, b| input[(t * 3 + b) * 2 + i]));
    let (_, output) = tensor(io, "output"); // (L, N, 2)
    let y = net.forward(&x);
    for t in 0..5 {
        for b in 0..3 {
            for o in 0..2 {
                assert_close(y[t][(o, b)], output[(t * 3 + b) * 2 + o]);
            }
        }
    }
    // Streaming gives the same.
    let mut state = Net::stream_state();
    let first = net.step(&x[0], &mut state);
    assert_eq!(first, y[0]);
}
