// A causal convolution with stride 1 emits an output for every frame: it streams plain frames,
// not `Option` ones, and the error says which strides do.
use static_nn::nalgebra::SMatrix;
use static_nn::prelude::*;

type Net = Conv1d<f32, 1, 4, 3, 16, 16, 1, Causal>;

fn main() {
    let _ = <Net as Stream<f32, Option<SMatrix<f32, 1, 1>>>>::stream_state();
}
