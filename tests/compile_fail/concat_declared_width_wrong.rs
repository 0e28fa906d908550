// Two parallel branches, 784 wide (the input itself) and 10 wide, declared 795 wide.
use static_nn::prelude::*;
use static_nn::nalgebra::SMatrix;

type Net = (Concat<Identity, Dense<f32, 784, 10>, 795>, Dense<f32, 795, 10>);

fn main() {
    let net = Net::build(Init::PyTorch, &mut Rng::new(0));
    let y = net.forward(&SMatrix::<f32, 784, 1>::zeros());
    println!("{}", y[0]);
}
