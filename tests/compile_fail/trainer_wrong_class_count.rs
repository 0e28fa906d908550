// Samples labelled with three classes given to a trainer of a network with four outputs.
use static_nn::prelude::*;

type Net = (Dense<f32, 2, 8>, Relu, Dense<f32, 8, 4>);

fn main() {
    let samples = vec![([0.0f32, 1.0], Class::<3>::new(2).unwrap())];
    let mut net = Net::build(Init::PyTorch, &mut Rng::new(0));
    let mut adam = Adam::new(AdamConfig::default());
    let mut trainer = Trainer::<f32, Net, 2, 16>::new(TrainConfig::default());
    let _ = trainer.fit(&mut net, &mut adam, &CrossEntropy, &samples, None, |_| {});
}
