// A checkpoint loaded with an optimizer that was built for another network.
use static_nn::format;
use static_nn::prelude::*;

type Small = (Dense<f32, 2, 4>, Relu, Dense<f32, 4, 1>);
type Wide = (Dense<f32, 2, 8>, Relu, Dense<f32, 8, 1>);

fn main() {
    let mut small = Small::build(Init::PyTorch, &mut Rng::new(0));
    let mut sgd_for_wide: Sgd<f32, Wide> = Sgd::new(SgdConfig::default());
    let _ = format::load_checkpoint(&mut small, &mut sgd_for_wide, &mut (), &[]);
}
