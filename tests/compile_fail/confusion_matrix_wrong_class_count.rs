// Scoring a network with four outputs on iris, whose samples are labelled with three classes.
use static_nn::data::{ConfusionMatrix, Header, parse_csv};
use static_nn::prelude::*;

type Net = (Dense<f32, 4, 16>, Relu, Dense<f32, 16, 4>);

fn main() {
    let iris = parse_csv::<f32, 4, 3>(include_str!("../../data/iris.csv"), Header::Counts).unwrap();
    let net = Net::build(Init::PyTorch, &mut Rng::new(0));
    let _ = ConfusionMatrix::of(&net, &iris.samples);
}
