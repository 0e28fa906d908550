// Correct sequence shapes compile and run: the length checks evaluated during code generation
// (convolution, pooling, Flatten) accept them, and a causal network streams.
use static_nn::prelude::*;
use static_nn::nalgebra::SMatrix;

type Net = (Conv1d<f32, 1, 4, 3, 16, 14>, Tanh, Gru<f32, 4, 8>, LastStep, Dense<f32, 8, 1>);
type Streaming = (Conv1d<f32, 1, 4, 3, 16, 16, 1, Causal>, Tanh, Gru<f32, 4, 8>, Dense<f32, 8, 1>);

fn main() {
    let mut net = Net::build(Init::PyTorch, &mut Rng::new(0));
    let mut sgd = Sgd::new(SgdConfig::default());
    let mut workspace = Workspace::new();
    let x = [SMatrix::<f32, 1, 4>::zeros(); 16];
    let y = SMatrix::<f32, 1, 4>::zeros();
    assert!(workspace.train_step(&mut net, &mut sgd, &Mse, &x, &y).is_finite());

    let streaming = Streaming::build(Init::PyTorch, &mut Rng::new(0));
    let mut state = Streaming::stream_state();
    assert!(streaming.step(&SMatrix::<f32, 1, 1>::zeros(), &mut state)[0].is_finite());
}
