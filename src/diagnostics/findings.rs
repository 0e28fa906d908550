//! Typed findings: what falls outside a healthy band.

use core::fmt;

use crate::Real;

/// The healthy bands against which [`StepRecord::findings`](super::StepRecord::findings) and
/// [`ActivationHealth::findings`](super::ActivationHealth::findings) judge a network.
///
/// The defaults are rules of thumb, not laws; each is explained here so that it can be
/// changed knowingly.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Thresholds<T> {
    /// Healthy range of `‖g_first‖ / ‖g_last‖`, the gradient norm of the first layer with
    /// parameters over that of the last (default 1e-2 to 1e2). With one learning rate for all
    /// layers, a factor of 100 means the first layer's weights move a hundred times more slowly
    /// (or quickly) than the last's; well-initialised networks (Xavier/He, normalisation) stay
    /// within about one order of magnitude, and a deep sigmoid network is several orders below.
    /// This ratio does not depend on a uniform scale of the weights (both norms scale alike),
    /// so a too large initialisation shows in the update ratio instead.
    pub gradient_ratio: (T, T),
    /// Healthy range of `‖Δθ‖ / ‖θ‖` per layer for one step (default 1e-5 to 1e-1). The rule of
    /// thumb (Karpathy, CS231n) is about 1e-3: far below, the layer barely learns (learning
    /// rate too low, or its gradient vanished); a step that changes a layer by more than a
    /// tenth of its size is no longer a small step: the learning rate is too high or the
    /// gradient exploded. The band is the rule give or take two orders of magnitude, because
    /// healthy layers do differ by one (a batch norm's scale, near 1, moves more slowly than a
    /// weight matrix) and a finding should mean something.
    pub update_ratio: (T, T),
    /// A saturating activation layer is reported when more than this fraction of its entries
    /// are saturated (default 0.5).
    pub saturated_fraction: f64,
    /// A rectifying activation layer is reported when more than this fraction of its units are
    /// dead (default 0.5). A few dead ReLUs are normal; half a layer is lost capacity.
    pub dead_fraction: f64,
    /// The first-order check is reported when the actual decrease differs from the predicted
    /// one by more than this fraction of the prediction (default 0.5).
    pub first_order_tolerance: T,
}

impl<T: Real> Default for Thresholds<T> {
    fn default() -> Self {
        Self {
            gradient_ratio: (T::of(1e-2), T::of(1e2)),
            update_ratio: (T::of(1e-5), T::of(1e-1)),
            saturated_fraction: 0.5,
            dead_fraction: 0.5,
            first_order_tolerance: T::of(0.5),
        }
    }
}

/// Something a diagnostic found outside its healthy band ([`Thresholds`]). Layers are named by
/// position, as [`TensorInfo::layer`](crate::TensorInfo).
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Finding<T> {
    /// The gradient shrinks on its way back: the first layer's gradient norm over the last's
    /// is below the band.
    VanishingGradient {
        /// The first layer with parameters.
        first: usize,
        /// The last layer with parameters.
        last: usize,
        /// `‖g_first‖ / ‖g_last‖`.
        ratio: T,
    },
    /// The gradient grows on its way back: the ratio is above the band.
    ExplodingGradient {
        /// The first layer with parameters.
        first: usize,
        /// The last layer with parameters.
        last: usize,
        /// `‖g_first‖ / ‖g_last‖`.
        ratio: T,
    },
    /// A layer's gradient has NaN or infinite entries.
    NonFiniteGradient {
        /// The layer.
        layer: usize,
        /// How many entries.
        count: usize,
    },
    /// A layer barely moved in the step.
    UpdateTooSmall {
        /// The layer.
        layer: usize,
        /// `‖Δθ‖ / ‖θ‖`.
        ratio: T,
    },
    /// A layer moved too far in the step (or by a non-finite amount).
    UpdateTooLarge {
        /// The layer.
        layer: usize,
        /// `‖Δθ‖ / ‖θ‖`.
        ratio: T,
    },
    /// The step left the region where the loss is close to linear: the actual decrease differs
    /// from `−g·Δθ` by more than the tolerance.
    NonLinearStep {
        /// The decrease the gradient predicted.
        predicted: T,
        /// The decrease that happened.
        actual: T,
    },
    /// Too many entries of a sigmoid-like layer are saturated.
    Saturated {
        /// The activation layer.
        layer: usize,
        /// The saturated fraction.
        fraction: f64,
    },
    /// Too many units of a rectifier are dead.
    DeadUnits {
        /// The activation layer.
        layer: usize,
        /// Dead units.
        dead: usize,
        /// All its units.
        units: usize,
    },
}

impl<T: Real> fmt::Display for Finding<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match *self {
            Finding::VanishingGradient { first, last, ratio } => write!(
                f,
                "vanishing gradient: layer {first}'s gradient norm is {:.1e} times layer {last}'s",
                ratio.to_f64()
            ),
            Finding::ExplodingGradient { first, last, ratio } => write!(
                f,
                "exploding gradient: layer {first}'s gradient norm is {:.1e} times layer {last}'s",
                ratio.to_f64()
            ),
            Finding::NonFiniteGradient { layer, count } => {
                write!(f, "layer {layer}'s gradient has {count} NaN or infinite entries")
            }
            Finding::UpdateTooSmall { layer, ratio } => write!(
                f,
                "layer {layer} barely moved: the step changed it by {:.1e} of its norm",
                ratio.to_f64()
            ),
            Finding::UpdateTooLarge { layer, ratio } => write!(
                f,
                "layer {layer} moved too far: the step changed it by {:.1e} of its norm",
                ratio.to_f64()
            ),
            Finding::NonLinearStep { predicted, actual } => write!(
                f,
                "the step left the linear regime: the gradient predicted a decrease of {:.2e}, the loss fell by {:.2e}",
                predicted.to_f64(),
                actual.to_f64()
            ),
            Finding::Saturated { layer, fraction } => {
                write!(
                    f,
                    "layer {layer} is saturated: {:.1}% of its units pass almost no gradient",
                    100.0 * fraction
                )
            }
            Finding::DeadUnits { layer, dead, units } => {
                write!(
                    f,
                    "layer {layer} has {dead} dead units of {units}: they pass no gradient at all"
                )
            }
        }
    }
}
