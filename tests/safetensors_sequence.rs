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
    st::load(&mut net, include_bytes!("fixtures/pytorch_conv_gru.safetensors")).unwrap();

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
    st::load(&mut net, include_bytes!("fixtures/pytorch_lstm.safetensors")).unwrap();

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

/// A float64 tensor of an io fixture: its shape and row-major values.
fn tensor64(file: &[u8], name: &str) -> (Vec<usize>, Vec<f64>) {
    let file = SafeTensors::deserialize(file).unwrap();
    let view = file.tensor(name).unwrap();
    let values = view
        .data()
        .chunks(8)
        .map(|c| f64::from_le_bytes(c.try_into().unwrap()))
        .collect();
    (view.shape().to_vec(), values)
}

#[test]
fn a_state_dict_with_pytorch_module_names_and_three_gru_layers_loads_through_names() {
    // `self.encoder.gru = nn.GRU(3, 5, num_layers=3)`, `self.head = nn.Linear(5, 2)` on the last
    // step; the file is PyTorch's float32 state_dict, loaded into an f64 network.
    type Net = (Gru<f64, 3, 5>, [Gru<f64, 5, 5>; 2], LastStep, Dense<f64, 5, 2>);
    let names = st::Names::new().stacked("encoder.gru", 0, 3).module("head", 4);
    let model = include_bytes!("fixtures/pytorch_named_gru.safetensors");
    let mut net = Net::build(Init::PyTorch, &mut Rng::new(0));

    let error = st::load(&mut net, model).unwrap_err().to_string();
    assert!(
        error.starts_with(
            "tensor 0.weight_ih_l0 is missing from the file, which holds 14 tensors the network does not use: \
             encoder.gru.bias_hh_l0, encoder.gru.bias_hh_l1 and 12 more"
        ) && error.ends_with(
            "Names::new().module(\"encoder.gru\", 0), or .stacked(\"encoder.gru\", 0, num_layers) for a multi-layer nn.GRU or nn.LSTM"
        ),
        "{error}"
    );
    st::load_with(&mut net, model, &names).unwrap();

    let io = include_bytes!("fixtures/pytorch_named_gru_io.safetensors");
    let (shape, input) = tensor64(io, "input");
    assert_eq!(shape, [4, 2, 3]); // (L, N, I)
    let x: [SMatrix<f64, 3, 2>; 4] = core::array::from_fn(|t| SMatrix::from_fn(|i, b| input[(t * 2 + b) * 3 + i]));
    let (_, head) = tensor64(io, "head"); // (N, 2)
    let y = net.forward(&x);
    for b in 0..2 {
        for o in 0..2 {
            let (ours, theirs) = (y[(o, b)], head[b * 2 + o]);
            assert!((ours - theirs).abs() <= 1e-12, "{ours} vs {theirs}");
        }
    }
    // The third layer's output at every step, as `out` of PyTorch's nn.GRU.
    let (_, output) = tensor64(io, "output"); // (L, N, H)
    let hidden = net.1.forward(&net.0.forward(&x));
    for t in 0..4 {
        for b in 0..2 {
            for j in 0..5 {
                let (ours, theirs) = (hidden[t][(j, b)], output[(t * 2 + b) * 5 + j]);
                assert!((ours - theirs).abs() <= 1e-12, "{ours} vs {theirs}");
            }
        }
    }

    // Saved under the same names as float32, the file is the one PyTorch's state_dict gave.
    assert_eq!(st::to_vec_with(&net, &names, st::Dtype::F32).unwrap(), model);
}
