//! An optimizer's state buffers together with what the guard knows of their values.

use core::ops::{Deref, DerefMut};

use bytemuck::Zeroable;

use crate::Real;

/// The `K` state buffers of an [`Engine`](super::Engine) (each shaped like the network's
/// gradient, `G`), read and written as the array `[G; K]` they dereference to:
/// `adam.state[1]` is Adam's `exp_avg_sq`.
///
/// Beside the buffers it keeps, for the guard ([`Optimizer::try_step`](crate::Optimizer::try_step)),
/// a bound on each buffer's entries, measured by the guarded step that wrote them: with it, the
/// next guarded step can prove its update finite without reading the state a second time. Any
/// mutable access from outside the engine (`adam.state[0] = ..`, `tensors_mut`, a checkpoint
/// load) goes through [`DerefMut`], which forgets the bounds; the next guarded step then checks
/// every value it would write, and measures them again. Reading is free.
#[derive(Zeroable)]
#[zeroable(bound = "")]
pub struct OptimizerState<T: Real, G: Zeroable, const K: usize> {
    pub(super) buffers: [G; K],
    /// Per buffer, NaN when unknown, otherwise a finite `b` such that every entry `x` has
    /// `|x| ≤ b`, or, for a buffer whose [`Slot::non_negative`](super::Slot::non_negative) is
    /// set, `0 ≤ x ≤ b`. Zeroed buffers have the zeroed bound 0, which is right.
    pub(super) bounds: [T; K],
}

impl<T: Real, G: Zeroable + Clone, const K: usize> Clone for OptimizerState<T, G, K> {
    fn clone(&self) -> Self {
        Self {
            buffers: self.buffers.clone(),
            bounds: self.bounds,
        }
    }
}

impl<T: Real, G: Zeroable, const K: usize> OptimizerState<T, G, K> {
    /// Forgets every bound: the next guarded step checks every value.
    pub(super) fn forget_bounds(&mut self) {
        self.bounds = [T::of(f64::NAN); K];
    }
}

impl<T: Real, G: Zeroable, const K: usize> Deref for OptimizerState<T, G, K> {
    type Target = [G; K];

    fn deref(&self) -> &[G; K] {
        &self.buffers
    }
}

impl<T: Real, G: Zeroable, const K: usize> DerefMut for OptimizerState<T, G, K> {
    /// The buffers, for writing; the guard's bounds are forgotten.
    fn deref_mut(&mut self) -> &mut [G; K] {
        self.forget_bounds();
        &mut self.buffers
    }
}
