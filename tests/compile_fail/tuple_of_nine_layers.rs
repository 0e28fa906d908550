// Tuples compose at most eight layers; building a longer one, or using it where a network is
// expected, says to use `Seq!`.
use static_nn::prelude::*;

type Net = (
    Dense<f32, 2, 4>,
    Tanh,
    Dense<f32, 4, 4>,
    Tanh,
    Dense<f32, 4, 4>,
    Tanh,
    Dense<f32, 4, 4>,
    Tanh,
    Dense<f32, 4, 1>,
);

fn main() {
    let _ = Net::build(Init::PyTorch, &mut Rng::new(0));
    let net: Net = (
        Dense::zeros(),
        Tanh,
        Dense::zeros(),
        Tanh,
        Dense::zeros(),
        Tanh,
        Dense::zeros(),
        Tanh,
        Dense::zeros(),
    );
    let _ = static_nn::format::to_vec::<f32, _>(&net);
}
