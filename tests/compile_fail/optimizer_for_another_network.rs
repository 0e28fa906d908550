// An optimizer state built for one network used to train another.
use static_nn::prelude::*;
use static_nn::nalgebra::SMatrix;

type Small = (Dense<f32, 2, 4>, Relu, Dense<f32, 4, 1>);
type Wide = (Dense<f32, 2, 8>, Relu, Dense<f32, 8, 1>);

fn main() {
    let mut small = Small::build(Init::PyTorch, &mut Rng::new(0));
    let mut sgd_for_wide: Sgd<f32, Wide> = Sgd::new(SgdConfig::default());
    let mut workspace = Workspace::new();
    let x = SMatrix::<f32, 2, 4>::zeros();
    let y = SMatrix::<f32, 1, 4>::zeros();
    workspace.train_step(&mut small, &mut sgd_for_wide, &Mse, &x, &y);
}
