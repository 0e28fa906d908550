//! Integer state saved with a checkpoint. The trait lives in the core so that the random
//! generator and the learning-rate schedules implement it without knowing about file formats.

/// Integer state that a checkpoint saves besides tensors: an optimizer's step count, a
/// learning-rate schedule's position, a random generator's state.
///
/// An optimizer's own step counter is saved through [`Optimizer::steps`](crate::Optimizer::steps); `Counters` carries
/// the rest. Implemented by [`Rng`](crate::Rng), by every learning-rate
/// [schedule](crate::optim::schedule), by `()` (nothing) and by tuples of up to four implementors, so that several pieces of state travel together
/// (`&mut (schedule, rng)`). A floating-point field is saved exactly through its bits
/// (`f64::to_bits` / `f64::from_bits`).
///
/// ```
/// use static_nn::Counters;
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
        }
    };
}

tuple_counters!(A 0);
tuple_counters!(A 0, B 1);
tuple_counters!(A 0, B 1, C 2);
tuple_counters!(A 0, B 1, C 2, D 3);
