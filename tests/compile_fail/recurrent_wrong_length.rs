// A GRU fed 31 steps where the convolution after it takes 32.
use static_nn::prelude::*;
use static_nn::nalgebra::SMatrix;

type Net = (Gru<f32, 1, 8>, Conv1d<f32, 8, 4, 3, 32, 30>, Flatten<120>, Dense<f32, 120, 1>);

fn main() {
    let mut net = Net::build(Init::PyTorch, &mut Rng::new(0));
    let mut sgd = Sgd::new(SgdConfig::default());
    let mut workspace = Workspace::new();
    let x = [SMatrix::<f32, 1, 4>::zeros(); 31];
    let y = SMatrix::<f32, 1, 4>::zeros();
    workspace.train_step(&mut net, &mut sgd, &Mse, &x, &y);
}
