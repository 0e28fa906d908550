// The constant assertions of `Concat` and `BatchNorm` accept what is right: 784 + 10 = 794, and
// batch norm runs inference on a single sample once trained on batches of two.
use static_nn::prelude::*;
use static_nn::nalgebra::SMatrix;

type Wide = (Concat<Identity, Dense<f32, 784, 10>, 794>, Dense<f32, 794, 2>);
type Normed = (Dense<f32, 3, 4>, BatchNorm<f32, 4>, Tanh, Dense<f32, 4, 1>);

fn main() {
    let wide = Wide::build_boxed(Init::PyTorch, &mut Rng::new(0));
    let y = wide.forward(&SMatrix::<f32, 784, 1>::from_element(0.5));
    assert!(y.iter().all(|v| v.is_finite()));

    let mut net = Normed::build(Init::PyTorch, &mut Rng::new(1));
    let mut sgd = Sgd::new(SgdConfig::with_lr(0.1));
    let mut workspace = Workspace::new();
    let x = SMatrix::<f32, 3, 2>::new(0.0, 1.0, 2.0, -1.0, 0.5, 0.25);
    let target = SMatrix::<f32, 1, 2>::new(0.0, 1.0);
    workspace.train_step(&mut net, &mut sgd, &Mse, &x, &target);
    let single = net.forward(&SMatrix::<f32, 3, 1>::new(0.0, 2.0, 0.5));
    assert!(single[0].is_finite());
}
