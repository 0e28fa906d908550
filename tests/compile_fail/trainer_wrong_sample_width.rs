// Samples of three features given to a network that takes two (the trainer's scalar, network and width inferred).
use static_nn::prelude::*;

type Net = (Dense<f32, 2, 8>, Relu, Dense<f32, 8, 1>);

fn main() {
    let samples = vec![([0.0f32, 1.0, 2.0], [1.0f32])];
    let mut net = Net::build(Init::PyTorch, &mut Rng::new(0));
    let mut sgd = Sgd::new(SgdConfig::default());
    let mut trainer = Trainer::<_, _, _, 16>::new(TrainConfig::default());
    let _ = trainer.fit(&mut net, &mut sgd, &Mse, &samples, None, |_| {});
}
