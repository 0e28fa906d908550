//! Checkpoints: weights plus everything else training needs to resume bit for bit.

use super::container::{self, Entry, Kind, Value};
use super::{Error, Rejected, read_weights, weight_entries, weight_values};
use crate::{Layer, Optimizer, Parameters, Real, Workspace};

/// Integer state that a checkpoint saves besides tensors: an optimizer's step count, a
/// learning-rate schedule's position, a random generator's state.
///
/// An optimizer's own step counter is saved through [`Optimizer::steps`]; `Counters` carries
/// the rest. Implemented by [`Rng`](crate::Rng), by every learning-rate
/// [schedule](crate::optim::schedule), by a [`Workspace`](crate::Workspace) (dropout's call
/// counters), by `()` (nothing), by references, and by tuples of up to four implementors, so
/// that several pieces of state travel together (`&mut (&mut schedule, &mut workspace)`). A floating-point field is saved exactly through its bits
/// (`f64::to_bits` / `f64::from_bits`).
///
/// ```
/// use static_nn::format::Counters;
///
/// /// Decays the learning rate every `every` epochs; `epoch` is its position.
/// struct StepDecay { every: u64, epoch: u64 }
///
/// impl Counters for StepDecay {
///     fn counter_names() -> impl Iterator<Item = &'static str> {
///         ["epoch"].into_iter()
///     }
///     fn counters(&self) -> impl Iterator<Item = u64> {
///         [self.epoch].into_iter()
///     }
///     fn set_counter(&mut self, index: usize, value: u64) {
///         assert_eq!(index, 0, "StepDecay has one counter");
///         self.epoch = value;
///     }
/// }
/// ```
pub trait Counters {
    /// The counters' names, in order (saved in the file; a checkpoint made by another type is
    /// refused by name).
    fn counter_names() -> impl Iterator<Item = &'static str>;

    /// The counters' values, in the order of [`Counters::counter_names`].
    fn counters(&self) -> impl Iterator<Item = u64>;

    /// Sets the counter at `index` in the order of [`Counters::counter_names`].
    ///
    /// # Panics
    /// May panic if `index` is out of range (checkpoint loading never asks for one).
    fn set_counter(&mut self, index: usize, value: u64);

    /// Whether `value`, read from a checkpoint for the counter at `index`, can be restored:
    /// checkpoints are untrusted input, and every counter is checked before the first value is
    /// written. The default accepts every value, which is right for a count whose arithmetic
    /// cannot overflow (the schedules saturate) and for a generator's state; a real carried
    /// through its bits (a learning rate) should say what it must be.
    ///
    /// # Errors
    /// [`Rejected`]: the value and the rule it breaks; the loader names the counter.
    ///
    /// # Panics
    /// May panic if `index` is out of range (checkpoint loading never asks for one).
    fn check_counter(&self, index: usize, value: u64) -> Result<(), Rejected> {
        let _ = (index, value);
        Ok(())
    }
}

impl Counters for () {
    fn counter_names() -> impl Iterator<Item = &'static str> {
        core::iter::empty()
    }
    fn counters(&self) -> impl Iterator<Item = u64> {
        core::iter::empty()
    }
    fn set_counter(&mut self, index: usize, _value: u64) {
        panic!("() has no counter {index}");
    }
}

/// Implements `Counters` for a tuple by chaining its elements' counters.
macro_rules! tuple_counters {
    ($($A:ident $i:tt),+) => {
        impl<$($A: Counters),+> Counters for ($($A,)+) {
            fn counter_names() -> impl Iterator<Item = &'static str> {
                core::iter::empty() $(.chain($A::counter_names()))+
            }
            fn counters(&self) -> impl Iterator<Item = u64> {
                core::iter::empty() $(.chain(self.$i.counters()))+
            }
            fn set_counter(&mut self, index: usize, value: u64) {
                let mut index = index;
                $(
                    let len = $A::counter_names().count();
                    if index < len {
                        return self.$i.set_counter(index, value);
                    }
                    index -= len;
                )+
                panic!("counter index {index} past the end of the tuple");
            }
            fn check_counter(&self, index: usize, value: u64) -> Result<(), Rejected> {
                let mut index = index;
                $(
                    let len = $A::counter_names().count();
                    if index < len {
                        return self.$i.check_counter(index, value);
                    }
                    index -= len;
                )+
                panic!("counter index {index} past the end of the tuple");
            }
        }
    };
}

/// Lets a tuple hold borrowed state: `&mut (&mut schedule, &mut workspace)`.
impl<C: Counters> Counters for &C {
    fn counter_names() -> impl Iterator<Item = &'static str> {
        C::counter_names()
    }
    fn counters(&self) -> impl Iterator<Item = u64> {
        (**self).counters()
    }
    fn set_counter(&mut self, index: usize, _value: u64) {
        panic!("a shared reference cannot set counter {index}; load into `&mut`");
    }
    fn check_counter(&self, index: usize, value: u64) -> Result<(), Rejected> {
        (**self).check_counter(index, value)
    }
}

impl<C: Counters> Counters for &mut C {
    fn counter_names() -> impl Iterator<Item = &'static str> {
        C::counter_names()
    }
    fn counters(&self) -> impl Iterator<Item = u64> {
        (**self).counters()
    }
    fn set_counter(&mut self, index: usize, value: u64) {
        (**self).set_counter(index, value);
    }
    fn check_counter(&self, index: usize, value: u64) -> Result<(), Rejected> {
        (**self).check_counter(index, value)
    }
}

/// The counters in a workspace's cache that the next training step depends on: each
/// [`Dropout`](crate::Dropout)'s call count, which selects its next mask
/// ([`Layer::cache_counter_names`]). Pass the workspace with the checkpoint's extra state
/// for a network with dropout to resume bit for bit.
impl<T: Real, N: Layer<T, X>, X> Counters for Workspace<T, N, X> {
    fn counter_names() -> impl Iterator<Item = &'static str> {
        N::cache_counter_names()
    }
    fn counters(&self) -> impl Iterator<Item = u64> {
        N::cache_counters(&self.cache)
    }
    fn set_counter(&mut self, index: usize, value: u64) {
        let counter = N::cache_counters_mut(&mut self.cache).nth(index);
        *counter.unwrap_or_else(|| panic!("the workspace has no counter {index}")) = value;
    }
}

tuple_counters!(A 0);
tuple_counters!(A 0, B 1);
tuple_counters!(A 0, B 1, C 2);
tuple_counters!(A 0, B 1, C 2, D 3);

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
/// use nalgebra::SMatrix;
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
    container::encode(entries::<T, N, O, E>, values, out)
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
