// A residual connection around a block that maps 4 features to 8: x + f(x) has no meaning.
use static_nn::prelude::*;
use static_nn::nalgebra::SMatrix;

type Net = (Dense<f32, 2, 4>, Residual<(Dense<f32, 4, 8>, Relu)>, Dense<f32, 4, 1>);

fn main() {
    let mut net = Net::build(Init::PyTorch, &mut Rng::new(0));
    let mut sgd = Sgd::new(SgdConfig::default());
    let mut workspace = Workspace::new();
    let x = SMatrix::<f32, 2, 4>::zeros();
    let y = SMatrix::<f32, 1, 4>::zeros();
    workspace.train_step(&mut net, &mut sgd, &Mse, &x, &y);
}
