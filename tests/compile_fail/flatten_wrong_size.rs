// Per-step predictions of a 32-step sequence flatten to 32 features, not 31.
use static_nn::prelude::*;
use static_nn::nalgebra::SMatrix;

type Net = (Gru<f32, 1, 8>, EachStep<Dense<f32, 8, 1>>, Flatten<31>);

fn main() {
    let mut net = Net::build(Init::PyTorch, &mut Rng::new(0));
    let mut sgd = Sgd::new(SgdConfig::default());
    let mut workspace = Workspace::new();
    let x = [SMatrix::<f32, 1, 4>::zeros(); 32];
    let y = SMatrix::<f32, 31, 4>::zeros();
    workspace.train_step(&mut net, &mut sgd, &Mse, &x, &y);
}
