// The network outputs one value per sample; the target has two.
use static_nn::prelude::*;
use static_nn::nalgebra::SMatrix;

type Net = (Dense<f32, 2, 16>, Tanh, Dense<f32, 16, 1>);

fn main() {
    let mut net = Net::build(Init::PyTorch, &mut Rng::new(0));
    let mut sgd = Sgd::new(SgdConfig::default());
    let mut workspace = Workspace::new();
    let x = SMatrix::<f32, 2, 4>::zeros();
    let target = SMatrix::<f32, 2, 4>::zeros();
    workspace.train_step(&mut net, &mut sgd, &Mse, &x, &target);
}
