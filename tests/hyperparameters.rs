//! Hyperparameters belong to the value the user writes: building from it (on the stack or on the
//! heap), re-initialising and loading weights in every format never change them, and
//! `Parameters::build` gives the documented defaults.

use static_nn::format;
use static_nn::prelude::*;

/// Every layer that has a hyperparameter.
type Net = (
    LeakyRelu<f64>,
    Elu<f64>,
    Dropout<f64>,
    BatchNorm<f64, 4>,
    LayerNorm<f64, 4>,
    Gru<f64, 2, 3>,
    Lstm<f64, 2, 3>,
    Rnn<f64, 2, 3>,
);

/// Every hyperparameter of a `Net`, in field order.
fn hyperparameters(net: &Net) -> [f64; 9] {
    [
        net.0.slope,
        net.1.alpha,
        net.2.p,
        net.3.eps,
        net.3.momentum,
        net.4.eps,
        net.5.bptt_window as f64,
        net.6.bptt_window as f64,
        net.7.bptt_window as f64,
    ]
}

const CHOSEN: [f64; 9] = [0.3, 0.7, 0.2, 1e-3, 0.25, 1e-4, 3.0, 2.0, 4.0];
const DEFAULTS: [f64; 9] = [0.01, 1.0, 0.5, 1e-5, 0.1, 1e-5, 0.0, 0.0, 0.0];

fn template() -> Net {
    (
        LeakyRelu::new(0.3),
        Elu::new(0.7),
        Dropout::new(0.2, 0),
        BatchNorm {
            eps: 1e-3,
            momentum: 0.25,
            ..BatchNorm::new()
        },
        LayerNorm {
            eps: 1e-4,
            ..LayerNorm::new()
        },
        Gru {
            bptt_window: 3,
            ..Gru::zeros()
        },
        Lstm {
            bptt_window: 2,
            ..Lstm::zeros()
        },
        Rnn {
            bptt_window: 4,
            ..Rnn::zeros()
        },
    )
}

/// A network with other weights and default hyperparameters: the source of every load.
fn other() -> Net {
    let mut net = Net::build(Init::XavierUniform, &mut Rng::new(99));
    net.3.running_mean.fill(0.5);
    net
}

fn weights(net: &Net) -> Vec<f64> {
    net.tensors().chain(net.buffers()).flatten().copied().collect()
}

#[test]
fn build_gives_the_documented_defaults() {
    assert_eq!(hyperparameters(&Net::build(Init::PyTorch, &mut Rng::new(0))), DEFAULTS);
    assert_eq!(
        hyperparameters(&Net::build_boxed(Init::PyTorch, &mut Rng::new(0))),
        DEFAULTS
    );
}

#[test]
fn initialising_a_template_keeps_its_hyperparameters_on_the_stack_and_on_the_heap() {
    let built = Net::build(Init::PyTorch, &mut Rng::new(1));
    let stack = template().initialised(Init::PyTorch, &mut Rng::new(1));
    let heap = template().initialised_boxed(Init::PyTorch, &mut Rng::new(1));
    assert_eq!(hyperparameters(&stack), CHOSEN);
    assert_eq!(hyperparameters(&heap), CHOSEN);
    // The same draws as `build`: only the hyperparameters differ.
    assert_eq!(weights(&stack), weights(&built));
    assert_eq!(weights(&heap), weights(&built));
    assert_eq!((stack.2.seed, heap.2.seed), (built.2.seed, built.2.seed));
}

#[test]
fn reinitialising_keeps_hyperparameters() {
    let mut net = template().initialised(Init::PyTorch, &mut Rng::new(2));
    let before = weights(&net);
    net.reset(Init::HeNormal, &mut Rng::new(3));
    assert_ne!(weights(&net), before);
    assert_eq!(hyperparameters(&net), CHOSEN);
}

#[test]
fn loading_binary_weights_keeps_hyperparameters() {
    let source = other();
    let mut net = template().initialised(Init::PyTorch, &mut Rng::new(4));
    format::load(&mut net, &format::to_vec(&source).unwrap()).unwrap();
    assert_eq!(weights(&net), weights(&source));
    assert_eq!(hyperparameters(&net), CHOSEN);
}

#[test]
fn loading_a_checkpoint_keeps_hyperparameters() {
    let source = other();
    let sgd = Sgd::<f64, Net>::new(SgdConfig::with_lr(0.1));
    let checkpoint = format::checkpoint_to_vec(&source, &sgd, &()).unwrap();
    let mut net = template().initialised(Init::PyTorch, &mut Rng::new(5));
    let mut resumed = Sgd::<f64, Net>::new(SgdConfig::with_lr(0.1));
    format::load_checkpoint(&mut net, &mut resumed, &mut (), &checkpoint).unwrap();
    assert_eq!(weights(&net), weights(&source));
    assert_eq!(hyperparameters(&net), CHOSEN);
}

#[cfg(feature = "safetensors")]
#[test]
fn importing_safetensors_keeps_hyperparameters() {
    let source = other();
    let mut net = template().initialised(Init::PyTorch, &mut Rng::new(6));
    format::safetensors::load(&mut net, &format::safetensors::to_vec(&source).unwrap()).unwrap();
    assert_eq!(weights(&net), weights(&source));
    assert_eq!(hyperparameters(&net), CHOSEN);
}
