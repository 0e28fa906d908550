// Batch norm trained on batches of one sample: the batch variance is 0, the unbiased one 0/0.
use static_nn::prelude::*;
use static_nn::nalgebra::SMatrix;

type Net = (Dense<f32, 4, 8>, BatchNorm<f32, 8>, Relu, Dense<f32, 8, 1>);

fn main() {
    let mut net = Net::build(Init::PyTorch, &mut Rng::new(0));
    let mut sgd = Sgd::new(SgdConfig::default());
    let mut workspace = Workspace::new();
    let x = SMatrix::<f32, 4, 1>::zeros();
    let y = SMatrix::<f32, 1, 1>::zeros();
    workspace.train_step(&mut net, &mut sgd, &Mse, &x, &y);
}
