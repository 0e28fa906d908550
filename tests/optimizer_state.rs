//! Optimizer state a checkpoint or a caller could hand over, and the guard: counters that cannot
//! wrap, learning rates and second moments that cannot be negative, boxed optimizers.

use nalgebra::SMatrix;
use static_nn::bytemuck::Zeroable;
use static_nn::format::{self, Error};
use static_nn::optim::NonFiniteUpdate;
use static_nn::prelude::*;

mod forged_checksum;
use forged_checksum::forge_checksum;

type Net = (Dense<f64, 2, 3>, Tanh, Dense<f64, 3, 1>);

fn checkpoint() -> Vec<u8> {
    let net = Net::build(Init::PyTorch, &mut Rng::new(1));
    let adam = Adam::<f64, Net>::new(AdamConfig::default());
    format::checkpoint_to_vec(&net, &adam, &()).unwrap()
}

fn load(bytes: &[u8]) -> Result<(), Error> {
    let mut net = Net::build(Init::PyTorch, &mut Rng::new(2));
    let before = net.clone();
    let mut adam = Adam::<f64, Net>::new(AdamConfig::default());
    let result = format::load_checkpoint(&mut net, &mut adam, &mut (), bytes);
    if result.is_err() {
        assert_eq!(net.0.weight, before.0.weight);
        assert_eq!(adam.steps, 0);
    }
    result
}

/// Issue 14, hole 2: a step count of u64::MAX loaded and then overflowed.
#[test]
fn a_step_count_past_the_bound_is_refused() {
    let mut bytes = checkpoint();
    let n = bytes.len();
    bytes[n - 12..n - 4].copy_from_slice(&u64::MAX.to_le_bytes());
    forge_checksum(&mut bytes);
    assert!(matches!(load(&bytes), Err(Error::OutOfRange { .. })));
}

/// Issue 14, hole 3: a learning rate of −1 loaded.
#[test]
fn a_negative_learning_rate_is_refused() {
    let mut bytes = checkpoint();
    let n = bytes.len();
    bytes[n - 20..n - 12].copy_from_slice(&(-1.0f64).to_le_bytes());
    forge_checksum(&mut bytes);
    match load(&bytes) {
        Err(Error::OutOfRange { value, .. }) => assert_eq!(value, static_nn::Number::real(-1.0)),
        other => panic!("expected OutOfRange, got {other:?}"),
    }
}

/// Issue 14, hole 3: a negative second moment loaded; the other moments may be negative.
#[test]
fn a_negative_second_moment_is_refused() {
    let net = Net::build(Init::PyTorch, &mut Rng::new(1));
    let mut adam = Adam::<f64, Net>::new(AdamConfig::default());
    adam.state[0].0.weight[0] = -3.0;
    assert!(load(&format::checkpoint_to_vec(&net, &adam, &()).unwrap()).is_ok());
    adam.state[1].0.weight[4] = -2.0;
    match load(&format::checkpoint_to_vec(&net, &adam, &()).unwrap()) {
        Err(Error::OutOfRange { index, value, .. }) => assert_eq!((index, value), (4, static_nn::Number::real(-2.0))),
        other => panic!("expected OutOfRange, got {other:?}"),
    }
}

#[test]
#[should_panic(expected = "Adam learning rate must be finite and >= 0, got -1")]
fn setting_a_negative_learning_rate_panics() {
    Adam::<f64, Net>::new(AdamConfig::default()).set_learning_rate(-1.0);
}

/// A state so large that the update overflows: the guarded step refuses and changes nothing.
#[test]
fn a_step_that_would_overflow_commits_nothing() {
    let mut net = Net::build(Init::PyTorch, &mut Rng::new(1));
    let mut sgd = Sgd::<f64, Net>::new(SgdConfig {
        momentum: 0.9,
        ..SgdConfig::with_lr(10.0)
    });
    sgd.steps = 1;
    sgd.state[0].0.bias[1] = f64::MAX;
    let (before, state) = (net.clone(), sgd.state[0].clone());
    let x = SMatrix::<f64, 2, 1>::new(0.5, -0.5);
    let y = SMatrix::<f64, 1, 1>::new(1.0);
    let mut workspace = Workspace::new();
    let result = workspace.try_train_step(&mut net, &mut sgd, &Mse, &x, &y, None);
    let Err(NonFiniteStep::Update(update)) = result else {
        panic!("expected an update error, got {result:?}");
    };
    assert_eq!(
        (update.tensor.layer, update.tensor.name, update.index, update.value),
        (0, "bias", 1, "parameter")
    );
    assert_eq!(net.0.weight, before.0.weight);
    assert_eq!(sgd.state[0].0.weight, state.0.weight);
    assert_eq!(sgd.steps, 1);
}

/// Issue 17: a boxed optimizer trains.
#[test]
fn a_boxed_optimizer_is_an_optimizer() {
    let mut net = Net::build(Init::PyTorch, &mut Rng::new(1));
    let mut adam = Adam::<f64, Net>::new_boxed(AdamConfig::default());
    let x = SMatrix::<f64, 2, 1>::new(0.5, -0.5);
    let y = SMatrix::<f64, 1, 1>::new(1.0);
    let mut workspace = Workspace::new();
    workspace.train_step(&mut net, &mut adam, &Mse, &x, &y);
    assert_eq!(adam.steps, 1);
}

/// Guarded steps on `net` until the guard knows the state's bounds (the first guarded step
/// measures them), with a gradient of moderate entries.
fn steps_taken(net: &mut Net, adam: &mut Adam<f64, Net>) -> <Net as Parameters<f64>>::Gradient {
    let x = SMatrix::<f64, 2, 1>::new(0.5, -0.5);
    let y = SMatrix::<f64, 1, 1>::new(1.0);
    let mut workspace = Workspace::new();
    for _ in 0..3 {
        workspace.try_train_step(net, adam, &Mse, &x, &y, None).unwrap();
    }
    workspace.grad
}

/// A guarded step that must refuse, with `net` and `adam` left as they were.
fn refused(
    net: &mut Net,
    adam: &mut Adam<f64, Net>,
    grad: &<Net as Parameters<f64>>::Gradient,
) -> NonFiniteUpdate<f64> {
    let (before, state, steps) = (
        net.clone(),
        adam.tensors().flatten().copied().collect::<Vec<_>>(),
        adam.steps,
    );
    let error = adam.try_step(net, grad).unwrap_err();
    assert_eq!(
        (net.0.weight, net.2.bias, adam.steps),
        (before.0.weight, before.2.bias, steps)
    );
    assert!(adam.tensors().flatten().copied().eq(state));
    error
}

/// The guard keeps bounds on the state from the steps it wrote, to skip re-reading it; a second
/// moment made negative through the public field afterwards would make the square root NaN
/// within those stale bounds. Writing through the field forgets them, so the step is refused.
#[test]
fn state_written_through_the_field_is_checked_again() {
    let mut net = Net::build(Init::PyTorch, &mut Rng::new(1));
    let mut adam = Adam::<f64, Net>::new(AdamConfig::default());
    let grad = steps_taken(&mut net, &mut adam);
    adam.state[1].0.weight[2] = -1.0;
    let error = refused(&mut net, &mut adam, &grad);
    assert_eq!((error.tensor.layer, error.index, error.value), (0, 2, "parameter"));
    assert!(error.new.is_nan());
}

/// As above, through `Tensors::tensors_mut`.
#[test]
fn state_written_through_tensors_mut_is_checked_again() {
    let mut net = Net::build(Init::PyTorch, &mut Rng::new(1));
    let mut adam = Adam::<f64, Net>::new(AdamConfig::default());
    let grad = steps_taken(&mut net, &mut adam);
    // The second tensor of exp_avg_sq: the first layer's bias.
    let tensors = Net::tensor_infos().count();
    adam.tensors_mut().nth(tensors + 1).unwrap()[0] = -1.0;
    let error = refused(&mut net, &mut adam, &grad);
    assert_eq!((error.tensor.layer, error.tensor.name, error.index), (0, "bias", 0));
}

/// As above, through a checkpoint: a first moment of `f64::MAX` over a second moment of 0 is
/// a state the loader accepts (finite, non-negative), and with a zero gradient its step
/// overflows.
#[test]
fn a_loaded_state_is_checked_again() {
    let mut net = Net::build(Init::PyTorch, &mut Rng::new(1));
    let mut adam = Adam::<f64, Net>::new(AdamConfig::default());
    steps_taken(&mut net, &mut adam);
    let grad = Zeroable::zeroed();
    let mut source = adam.clone();
    source.state[0].0.weight[1] = f64::MAX;
    source.state[1].0.weight[1] = 0.0;
    let bytes = format::checkpoint_to_vec(&net, &source, &()).unwrap();
    format::load_checkpoint(&mut net, &mut adam, &mut (), &bytes).unwrap();
    let error = refused(&mut net, &mut adam, &grad);
    assert_eq!(
        (error.index, error.value, error.new),
        (1, "parameter", f64::NEG_INFINITY)
    );
}

/// The parameters are public too: the guard measures them at every step.
#[test]
fn a_parameter_changed_between_steps_is_checked() {
    let mut net = Net::build(Init::PyTorch, &mut Rng::new(1));
    let mut adam = Adam::<f64, Net>::new(AdamConfig::default());
    let grad = steps_taken(&mut net, &mut adam);
    net.2.bias[0] = f64::INFINITY;
    let error = refused(&mut net, &mut adam, &grad);
    assert_eq!(
        (error.tensor.layer, error.tensor.name, error.value),
        (2, "bias", "parameter")
    );
}

/// As above, through the training step, whose optimizer check takes the gradient's bound from
/// the norm check instead of measuring it.
#[test]
fn the_training_step_checks_written_state_again() {
    let mut net = Net::build(Init::PyTorch, &mut Rng::new(1));
    let mut adam = Adam::<f64, Net>::new(AdamConfig::default());
    steps_taken(&mut net, &mut adam);
    adam.state[1].2.bias[0] = -1.0;
    let (before, steps) = (net.clone(), adam.steps);
    let x = SMatrix::<f64, 2, 1>::new(0.5, -0.5);
    let y = SMatrix::<f64, 1, 1>::new(1.0);
    let result = Workspace::new().try_train_step(&mut net, &mut adam, &Mse, &x, &y, Some(Clip::Norm(1.0)));
    let Err(NonFiniteStep::Update(update)) = result else {
        panic!("expected an update error, got {result:?}");
    };
    assert_eq!(
        (update.tensor.layer, update.tensor.name, update.value),
        (2, "bias", "parameter")
    );
    assert_eq!(
        (net.2.bias, net.0.weight, adam.steps),
        (before.2.bias, before.0.weight, steps)
    );
}
