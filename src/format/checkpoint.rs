//! Checkpoints: weights plus everything else training needs to resume bit for bit.

use super::container::{self, Data, Entry, Kind, Value};
use super::{Error, read_weights, weight_entries, weight_values};
use crate::optim::MAX_STEPS;
use crate::{Counters, Number, Optimizer, Parameters, Real};

/// The directory of a checkpoint: the weights, the optimizer's state tensors, its learning rate
/// and step count, then the extra counters.
fn entries<T, N, O, E>() -> impl Iterator<Item = Entry>
where
    T: Real,
    N: Parameters<T>,
    O: Optimizer<T, N>,
    E: Counters,
{
    weight_entries::<T, N>()
        .chain(O::tensor_infos().map(|info| Entry::tensor(Kind::State, "optimizer", info)))
        .chain(core::iter::once(Entry::scalar(Kind::State, "optimizer", "lr")))
        .chain(core::iter::once(Entry::scalar(Kind::Counter, "optimizer", "steps")))
        .chain(E::counter_names().map(|name| Entry::scalar(Kind::Counter, "extra", name)))
}

/// The size in bytes of the checkpoint [`save_checkpoint`] writes for these types.
pub fn checkpoint_len<T, N, O, E>() -> usize
where
    T: Real,
    N: Parameters<T>,
    O: Optimizer<T, N>,
    E: Counters,
{
    container::encoded_len::<T>(entries::<T, N, O, E>())
}

/// Writes a checkpoint into `out` and returns its length ([`checkpoint_len`]): `net`'s weights,
/// `optimizer`'s state tensors ([`Tensors`](crate::Tensors)), learning rate and step count, and `extra`'s
/// counters (a learning-rate schedule's position, a shuffling generator; `&()` for none).
/// Allocates nothing. Hyperparameters are not saved: the optimizer's come from the optimizer
/// you load into, the network's (dropout's probability and seed) from the network.
///
/// A network with [`Dropout`](crate::Dropout) draws its next mask from a call counter in the
/// [`Workspace`](crate::Workspace)'s cache; pass the workspace in `extra` (it is
/// [`Counters`], alone or in a tuple: `&(&schedule, &workspace)`) and load into a workspace,
/// and the resumed run draws the very masks the uninterrupted one would.
///
/// ```
/// use static_nn::format;
/// use static_nn::prelude::*;
/// use static_nn::nalgebra::SMatrix;
///
/// type Net = (Dense<f64, 2, 4>, Tanh, Dense<f64, 4, 1>);
/// let config = SgdConfig { lr: 0.1, momentum: 0.9, ..SgdConfig::default() };
/// let (x, y) = (SMatrix::<f64, 2, 3>::repeat(0.5), SMatrix::<f64, 1, 3>::repeat(1.0));
/// let mut net = Net::build(Init::PyTorch, &mut Rng::new(0));
/// let mut sgd = Sgd::new(config);
/// let mut workspace = Workspace::new();
/// workspace.train_step(&mut net, &mut sgd, &Mse, &x, &y);
///
/// let checkpoint = format::checkpoint_to_vec(&net, &sgd, &()).unwrap();
/// let mut resumed_net = Net::build(Init::PyTorch, &mut Rng::new(99));
/// let mut resumed_sgd = Sgd::new(config);
/// format::load_checkpoint(&mut resumed_net, &mut resumed_sgd, &mut (), &checkpoint).unwrap();
/// assert_eq!(resumed_sgd.steps, 1);
///
/// workspace.train_step(&mut net, &mut sgd, &Mse, &x, &y);
/// workspace.train_step(&mut resumed_net, &mut resumed_sgd, &Mse, &x, &y);
/// assert_eq!(net.2.weight, resumed_net.2.weight); // bit for bit
/// ```
///
/// # Errors
/// As [`save`](super::save).
pub fn save_checkpoint<T, N, O, E>(net: &N, optimizer: &O, extra: &E, out: &mut [u8]) -> Result<usize, Error>
where
    T: Real,
    N: Parameters<T>,
    O: Optimizer<T, N>,
    E: Counters,
{
    let lr = [optimizer.learning_rate()];
    let values = weight_values(net)
        .chain(optimizer.tensors().map(Value::Reals))
        .chain(core::iter::once(Value::Reals(&lr)))
        .chain(core::iter::once(Value::Counter(optimizer.steps())))
        .chain(extra.counters().map(Value::Counter));
    container::encode(entries::<T, N, O, E>, |put| values.for_each(put), out)
}

/// [`save_checkpoint`] into a new vector.
///
/// # Errors
/// As [`save_checkpoint`], except that the buffer is always large enough.
#[cfg(feature = "alloc")]
pub fn checkpoint_to_vec<T, N, O, E>(net: &N, optimizer: &O, extra: &E) -> Result<alloc::vec::Vec<u8>, Error>
where
    T: Real,
    N: Parameters<T>,
    O: Optimizer<T, N>,
    E: Counters,
{
    let mut bytes = alloc::vec![0; checkpoint_len::<T, N, O, E>()];
    save_checkpoint(net, optimizer, extra, &mut bytes)?;
    Ok(bytes)
}

/// Loads a checkpoint written by [`save_checkpoint`], rejecting non-finite values: the same as
/// `Loader::default().load_checkpoint(..)`. Allocates nothing; on error nothing is changed.
///
/// # Errors
/// See [`Loader::load`](super::Loader::load).
pub fn load_checkpoint<T, N, O, E>(net: &mut N, optimizer: &mut O, extra: &mut E, bytes: &[u8]) -> Result<(), Error>
where
    T: Real,
    N: Parameters<T>,
    O: Optimizer<T, N>,
    E: Counters,
{
    load(net, optimizer, extra, bytes, false)
}

/// Asks `extra` whether it can take the counters of the validated `data`, before anything is
/// written.
fn check_extra<T, N, O, E>(extra: &E, mut data: container::Data<'_>) -> Result<(), Error>
where
    T: Real,
    N: Parameters<T>,
    O: Optimizer<T, N>,
    E: Counters,
{
    let mut index = 0;
    for entry in entries::<T, N, O, E>() {
        if entry.kind != Kind::Counter {
            data.skip::<T>(&entry);
            continue;
        }
        let value = data.read_counter();
        if entry.prefix == "extra" {
            extra
                .check_counter(index, value)
                .map_err(|rejected| Error::OutOfRange {
                    tensor: entry.display_name(),
                    index: 0,
                    value: rejected.value,
                    expected: rejected.expected,
                })?;
            index += 1;
        }
    }
    Ok(())
}

pub(super) fn load<T, N, O, E>(
    net: &mut N,
    optimizer: &mut O,
    extra: &mut E,
    bytes: &[u8],
    allow_non_finite: bool,
) -> Result<(), Error>
where
    T: Real,
    N: Parameters<T>,
    O: Optimizer<T, N>,
    E: Counters,
{
    let mut data = container::validate::<T, _>(bytes, entries::<T, N, O, E>, allow_non_finite)?;
    check_optimizer::<T, N, O>(data.clone())?;
    check_extra::<T, N, O, E>(extra, data.clone())?;
    read_weights(net, &mut data);
    for tensor in optimizer.tensors_mut() {
        data.read_reals(tensor);
    }
    let mut lr = [T::zero()];
    data.read_reals(&mut lr);
    optimizer.set_learning_rate(lr[0]);
    optimizer.set_steps(data.read_counter());
    for index in 0..E::counter_names().count() {
        extra.set_counter(index, data.read_counter());
    }
    Ok(())
}

/// Refuses optimizer state that no step could continue from, reading a copy of the validated
/// data and writing nothing: a learning rate that is not finite or is negative, a negative value
/// in a state tensor the optimizer declares non-negative ([`Optimizer::non_negative_state`]: a
/// second moment, a sum of squares), a step count above [`MAX_STEPS`].
fn check_optimizer<T, N, O>(mut data: Data<'_>) -> Result<(), Error>
where
    T: Real,
    N: Parameters<T>,
    O: Optimizer<T, N>,
{
    for entry in weight_entries::<T, N>() {
        data.skip::<T>(&entry);
    }
    for (info, non_negative) in O::tensor_infos().zip(O::non_negative_state()) {
        let negative = data.reals::<T>(info.len()).enumerate().find(|(_, v)| *v < T::zero());
        if let (true, Some((index, value))) = (non_negative, negative) {
            return Err(Error::OutOfRange {
                tensor: Entry::tensor(Kind::State, "optimizer", info).display_name(),
                index,
                value: Number::real(value.to_f64()),
                expected: "≥ 0",
            });
        }
    }
    let lr = data.reals::<T>(1).next().unwrap_or(T::zero());
    if !(lr.is_finite() && lr >= T::zero()) {
        return Err(Error::OutOfRange {
            tensor: Entry::scalar(Kind::State, "optimizer", "lr").display_name(),
            index: 0,
            value: Number::real(lr.to_f64()),
            expected: "finite and ≥ 0",
        });
    }
    let steps = data.read_counter();
    if steps > MAX_STEPS {
        return Err(Error::OutOfRange {
            tensor: Entry::scalar(Kind::Counter, "optimizer", "steps").display_name(),
            index: 0,
            value: Number::Integer(steps),
            expected: "at most 2^53 (MAX_STEPS)",
        });
    }
    Ok(())
}
