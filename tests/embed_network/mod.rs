//! The network `tests/embed.rs` embeds and `tests/embed_fresh.rs` regenerates: every layer type
//! of the crate, with non-default hyperparameters and buffers.

use static_nn::Seq;
use static_nn::prelude::*;

/// Every layer type of the crate, with non-default hyperparameters.
pub type EveryLayer<T> = Seq![
    Dense<T, 3, 4>, Sigmoid, Dense<T, 4, 4>, Relu, Dense<T, 4, 4>, LeakyRelu<T>, Dense<T, 4, 4>, Elu<T>,
    Dense<T, 4, 4>, Softplus, Dense<T, 4, 4>, Gelu, Dense<T, 4, 4>, Silu, Dense<T, 4, 4>, Identity,
    [(Dense<T, 4, 4>, Tanh); 2], BatchNorm<T, 4>, LayerNorm<T, 4>, Dropout<T>, Residual<(Dense<T, 4, 4>, Tanh)>,
    Concat<Identity, Dense<T, 4, 2>, 6>, Dense<T, 6, 2>, Softmax,
];

pub fn every_layer<T: Real>(seed: u64) -> EveryLayer<T> {
    let mut net = EveryLayer::<T>::build(Init::PyTorch, &mut Rng::new(seed));
    net.5 = LeakyRelu::new(T::of(0.2));
    net.7.0 = Elu::new(T::of(0.5));
    // A value that has no literal, to cover the bit-pattern path.
    net.2.weight[(1, 2)] = T::of(f64::NEG_INFINITY);
    // Running statistics that are not their initial values.
    for (i, buffer) in net.buffers_mut().enumerate() {
        for (j, v) in buffer.iter_mut().enumerate() {
            *v = T::of(0.25 + (i * 4 + j) as f64 * 0.125);
        }
    }
    net
}
