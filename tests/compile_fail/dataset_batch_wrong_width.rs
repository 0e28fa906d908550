// Batches of 8 from a data set fed to a workspace built for batches of 16.
use nalgebra::SMatrix;
use static_nn::data::Dataset;
use static_nn::prelude::*;

type Net = (Dense<f32, 2, 8>, Relu, Dense<f32, 8, 3>);

fn main() {
    let samples = vec![([0.0f32, 1.0], Class::<3>::new(2).unwrap()); 20];
    let mut net = Net::build(Init::PyTorch, &mut Rng::new(0));
    let mut adam = Adam::new(AdamConfig::default());
    let mut workspace = Workspace::<f32, Net, SMatrix<f32, 2, 16>>::new();
    for (x, labels) in Dataset::new(&samples).batches::<8>(LastBatch::Fill) {
        workspace.train_step(&mut net, &mut adam, &CrossEntropy, &x, &labels);
    }
}
