//! Integer state saved with a checkpoint. The trait lives in the core so that the random
//! generator and the learning-rate schedules implement it without knowing about file formats.

use core::fmt;

/// Integer state that a checkpoint saves besides tensors: an optimizer's step count, a
/// learning-rate schedule's position, a random generator's state.
///
/// An optimizer's own step counter is saved through [`Optimizer::steps`](crate::Optimizer::steps); `Counters` carries
/// the rest. Implemented by [`Rng`](crate::Rng), by every learning-rate
/// [schedule](crate::optim::schedule), by a [`Workspace`](crate::Workspace) (dropout's call
/// counters), by `()` (nothing), by references, and by tuples of up to four implementors, so
/// that several pieces of state travel together (`&mut (&mut schedule, &mut workspace)`). A floating-point field is saved exactly through its bits
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

tuple_counters!(A 0);
tuple_counters!(A 0, B 1);
tuple_counters!(A 0, B 1, C 2);
tuple_counters!(A 0, B 1, C 2, D 3);

/// A number quoted by an error, held exactly: a real by its `f64` bits (so NaN compares equal
/// to itself and errors stay `Eq`), or an integer.
#[derive(Clone, Copy, PartialEq, Eq)]
pub enum Number {
    /// A real number, as `f64::to_bits`.
    Real(u64),
    /// A counter.
    Integer(u64),
}

impl Number {
    /// The real `x`.
    pub fn real(x: f64) -> Self {
        Number::Real(x.to_bits())
    }
}

impl fmt::Display for Number {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match *self {
            Number::Real(bits) => write!(f, "{}", f64::from_bits(bits)),
            Number::Integer(n) => write!(f, "{n}"),
        }
    }
}

impl fmt::Debug for Number {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(self, f)
    }
}

/// Why a value read from a file cannot be restored: the value and the rule it breaks. Returned
/// by [`Counters::check_counter`]; the loader adds the name.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Rejected {
    /// The value.
    pub value: Number,
    /// What it must be, e.g. `"finite and ≥ 0"`.
    pub expected: &'static str,
}
