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
///
/// A finding names a symptom; [`cause`](Finding::cause), [`fix`](Finding::fix) and
/// [`chapter`](Finding::chapter) say what usually produces it, what to try, and which chapter
/// of the [`guide`](crate::guide) explains it. `{finding}` prints the symptom on one line,
/// `{finding:#}` adds the cause, the fix and the chapter; a [`Diagnosis`](super::Diagnosis)
/// groups repeated per-layer findings of one kind into one line.
///
/// ```
/// use static_nn::diagnostics::Finding;
///
/// let finding = Finding::<f32>::UpdateTooLarge { layer: 4, ratio: 0.72 };
/// assert_eq!(finding.to_string(), "layer 4 moved too far: the step changed it by 7.2e-1 of its norm");
/// assert_eq!(finding.chapter(), "guide::descent");
/// assert!(format!("{finding:#}").contains("lower the learning rate"));
/// ```
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
    /// Too many (unit, sample) entries of a sigmoid-like layer are saturated.
    Saturated {
        /// The activation layer.
        layer: usize,
        /// The saturated fraction of the layer's (unit, sample) entries.
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

impl<T: Real> Finding<T> {
    /// The layer a per-layer finding is about; `None` for the whole-network findings
    /// (vanishing, exploding, the first-order check).
    pub fn layer(&self) -> Option<usize> {
        match *self {
            Finding::NonFiniteGradient { layer, .. }
            | Finding::UpdateTooSmall { layer, .. }
            | Finding::UpdateTooLarge { layer, .. }
            | Finding::Saturated { layer, .. }
            | Finding::DeadUnits { layer, .. } => Some(layer),
            Finding::VanishingGradient { .. } | Finding::ExplodingGradient { .. } | Finding::NonLinearStep { .. } => {
                None
            }
        }
    }

    /// What usually produces this finding.
    pub fn cause(&self) -> &'static str {
        match self {
            Finding::VanishingGradient { .. } => {
                "each layer on the way back multiplies the gradient by its activation's slope and its \
                 transposed weight; below one per layer, the product shrinks geometrically with depth \
                 (the sigmoid's slope is at most 1/4 even unsaturated, and much less where saturated)"
            }
            Finding::ExplodingGradient { .. } => {
                "each layer on the way back multiplies the gradient by more than one: weights too large \
                 for the activation (above Xavier's or He's scale), or a recurrent weight whose \
                 spectral radius is above one, applied once per time step"
            }
            Finding::NonFiniteGradient { .. } => {
                "something overflowed: a learning rate or weights so large that activations or the loss \
                 left the floating-point range, or non-finite inputs"
            }
            Finding::UpdateTooSmall { .. } => {
                "the learning rate is too low for this layer, or its gradient vanished on the way back"
            }
            Finding::UpdateTooLarge { .. } => {
                "the learning rate is too high for this layer, or its gradient exploded: the step is no \
                 longer small compared with the weights"
            }
            Finding::NonLinearStep { .. } => {
                "the step went past the region where the loss is close to linear: the curvature term \
                 ½ Δθᵀ H Δθ is as large as the predicted decrease −g·Δθ"
            }
            Finding::Saturated { .. } => {
                "pre-activations far from 0 (|z| > 6 for the sigmoid, 3 for tanh), where the slope is \
                 below 1% of its peak: weights or inputs too large, unstandardised inputs, or steps \
                 that pushed them out"
            }
            Finding::DeadUnits { .. } => {
                "the units' pre-activations are negative for every sample, often after a large step \
                 pushed their biases down; their incoming weights then get no gradient from the data"
            }
        }
    }

    /// What to try.
    pub fn fix(&self) -> &'static str {
        match self {
            Finding::VanishingGradient { .. } => {
                "ReLU with He initialisation, or batch norm before each saturating activation"
            }
            Finding::ExplodingGradient { .. } => {
                "initialise at Xavier's or He's scale, lower the learning rate, clip the gradient's \
                 norm (which bounds the step, not the cause), or gate the recurrence (GRU, LSTM)"
            }
            Finding::NonFiniteGradient { .. } => {
                "lower the learning rate, clip the gradient's norm, standardise the inputs"
            }
            Finding::UpdateTooSmall { .. } => {
                "raise the learning rate, or cure the vanishing gradient; Adam evens the layers out"
            }
            Finding::UpdateTooLarge { .. } => "lower the learning rate, or clip the gradient's norm",
            Finding::NonLinearStep { .. } => {
                "lower the learning rate until the actual decrease is close to the predicted one"
            }
            Finding::Saturated { .. } => {
                "standardise the inputs, initialise with Xavier, put a batch norm before the activation, \
                 lower the learning rate"
            }
            Finding::DeadUnits { .. } => {
                "lower the learning rate, initialise with He, or use an activation that is never flat \
                 (LeakyReLU, GELU, SiLU)"
            }
        }
    }

    /// The [`guide`](crate::guide) chapter that explains this finding, as a path in the crate.
    pub fn chapter(&self) -> &'static str {
        match self {
            Finding::VanishingGradient { .. } | Finding::Saturated { .. } | Finding::DeadUnits { .. } => {
                "guide::saturation"
            }
            Finding::ExplodingGradient { .. } | Finding::NonFiniteGradient { .. } => "guide::clipping",
            Finding::UpdateTooSmall { .. } | Finding::UpdateTooLarge { .. } | Finding::NonLinearStep { .. } => {
                "guide::descent"
            }
        }
    }

    /// Which kind of finding, 0 to [`KINDS`] − 1, in the order of the variants.
    pub(super) fn kind(&self) -> usize {
        match self {
            Finding::VanishingGradient { .. } => 0,
            Finding::ExplodingGradient { .. } => 1,
            Finding::NonFiniteGradient { .. } => 2,
            Finding::UpdateTooSmall { .. } => 3,
            Finding::UpdateTooLarge { .. } => 4,
            Finding::NonLinearStep { .. } => 5,
            Finding::Saturated { .. } => 6,
            Finding::DeadUnits { .. } => 7,
        }
    }

    /// The number a per-layer finding measures, by which findings of one kind are compared.
    pub(super) fn measure(&self) -> f64 {
        match *self {
            Finding::VanishingGradient { ratio, .. }
            | Finding::ExplodingGradient { ratio, .. }
            | Finding::UpdateTooSmall { ratio, .. }
            | Finding::UpdateTooLarge { ratio, .. } => ratio.to_f64(),
            Finding::NonFiniteGradient { count, .. } => count as f64,
            Finding::NonLinearStep { actual, .. } => actual.to_f64(),
            Finding::Saturated { fraction, .. } => fraction,
            Finding::DeadUnits { dead, units, .. } => dead as f64 / units as f64,
        }
    }
}

/// How many kinds of [`Finding`] there are.
pub(super) const KINDS: usize = 8;

/// The symptom on one line; with `{:#}`, followed by the cause, the fix and the chapter.
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
            Finding::Saturated { layer, fraction } => write!(
                f,
                "layer {layer} is saturated: {:.1}% of its (unit, sample) entries pass almost no gradient",
                100.0 * fraction
            ),
            Finding::DeadUnits { layer, dead, units } => write!(
                f,
                "layer {layer} has {dead} dead units of {units}: they pass no gradient at all"
            ),
        }?;
        if f.alternate() {
            explain(f, self.cause(), self.fix(), self.chapter())?;
        }
        Ok(())
    }
}

/// The indented lines that follow a symptom: cause, fix, chapter.
pub(super) fn explain(f: &mut fmt::Formatter<'_>, cause: &str, fix: &str, chapter: &str) -> fmt::Result {
    write!(f, "\n    cause: {cause}\n    try: {fix}\n    see: static_nn::{chapter}")
}
