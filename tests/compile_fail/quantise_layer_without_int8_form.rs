// GELU has no int8 form here, so a network containing it cannot be quantised: the error names
// the layer.
use static_nn::quantised::{Int8Network, Ranges};
use static_nn::{Dense, Gelu, Init, Parameters, Rng};

type Net = (Dense<f32, 4, 8>, Gelu, Dense<f32, 8, 2>);

fn main() {
    let net = Net::build(Init::PyTorch, &mut Rng::new(0));
    let calibration = [[0.0f32; 4]; 10];
    let _ = Int8Network::quantise(&net, &calibration, Ranges::MinMax);
}
