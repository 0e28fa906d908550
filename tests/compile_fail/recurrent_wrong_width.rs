// The convolution produces 4 channels per step; the GRU expects 2 input features.
use static_nn::prelude::*;
use static_nn::nalgebra::SMatrix;

type Net = (Conv1d<f32, 1, 4, 3, 16, 14>, Tanh, Gru<f32, 2, 8>, LastStep, Dense<f32, 8, 1>);

fn main() {
    let mut net = Net::build(Init::PyTorch, &mut Rng::new(0));
    let mut sgd = Sgd::new(SgdConfig::default());
    let mut workspace = Workspace::new();
    let x = [SMatrix::<f32, 1, 4>::zeros(); 16];
    let y = SMatrix::<f32, 1, 4>::zeros();
    workspace.train_step(&mut net, &mut sgd, &Mse, &x, &y);
}
