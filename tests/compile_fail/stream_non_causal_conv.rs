// A `Same`-padded convolution streams `Option` frames (its outputs lag its inputs), so the layers
// after it must be in a `Downstream`; here they are not.
use static_nn::prelude::*;
use static_nn::nalgebra::SMatrix;

type Net = (Conv1d<f32, 1, 4, 3, 16, 16, 1, Same>, Tanh, Gru<f32, 4, 8>, Dense<f32, 8, 1>);

fn main() {
    let net = Net::build(Init::PyTorch, &mut Rng::new(0));
    let mut state = Net::stream_state();
    let _ = net.step(&SMatrix::<f32, 1, 1>::zeros(), &mut state);
}
