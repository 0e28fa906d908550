//! Findings grouped by kind, each kind on one line with its cause and fix.

use core::fmt;

use super::Finding;
use super::findings::{KINDS, explain};
use crate::Real;

/// Every finding of one kind: the first one, how many there are, the layers they span and the
/// range of what they measure.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct FindingGroup<T> {
    /// The first finding of the kind, as it came.
    pub first: Finding<T>,
    /// How many findings of the kind.
    pub count: usize,
    /// The lowest and highest layer of the per-layer findings (`None` for whole-network ones).
    pub layers: Option<(usize, usize)>,
    /// The smallest and largest value measured: update ratio, saturated or dead fraction,
    /// non-finite entries.
    pub range: (f64, f64),
}

impl<T: Real> FindingGroup<T> {
    fn new(finding: Finding<T>) -> Self {
        let value = finding.measure();
        Self {
            first: finding,
            count: 1,
            layers: finding.layer().map(|l| (l, l)),
            range: (value, value),
        }
    }

    fn add(&mut self, finding: Finding<T>) {
        self.count += 1;
        if let (Some((low, high)), Some(layer)) = (&mut self.layers, finding.layer()) {
            *low = (*low).min(layer);
            *high = (*high).max(layer);
        }
        let value = finding.measure();
        self.range = (self.range.0.min(value), self.range.1.max(value));
    }
}

/// One line: the finding itself if it is alone, otherwise the kind, the layers and the range.
impl<T: Real> fmt::Display for FindingGroup<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let (count, (min, max)) = (self.count, self.range);
        let Some((low, high)) = self.layers.filter(|_| count > 1) else {
            return match count {
                1 => write!(f, "{}", self.first),
                _ => write!(f, "{} ({count} times)", self.first),
            };
        };
        write!(f, "{count} layers ({low} to {high}) ")?;
        match self.first {
            Finding::NonFiniteGradient { .. } => {
                write!(f, "have NaN or infinite gradient entries ({min} to {max} each)")
            }
            Finding::UpdateTooSmall { .. } => {
                write!(
                    f,
                    "barely moved: the step changed them by {min:.1e} to {max:.1e} of their norm"
                )
            }
            Finding::Saturated { .. } => write!(
                f,
                "are saturated: {:.1}% to {:.1}% of their (unit, sample) entries pass almost no gradient",
                100.0 * min,
                100.0 * max
            ),
            Finding::DeadUnits { .. } => write!(
                f,
                "have dead units: {:.0}% to {:.0}% of their units pass no gradient at all",
                100.0 * min,
                100.0 * max
            ),
            // Only per-layer findings have layers; of those, what is left is UpdateTooLarge.
            _ => write!(
                f,
                "moved too far: the step changed them by {min:.1e} to {max:.1e} of their norm"
            ),
        }
    }
}

/// What a set of [`Finding`]s says, summarised: one [`FindingGroup`] per kind, in the order of
/// the kinds (vanishing, exploding, non-finite, update too small, too large, non-linear step,
/// saturated, dead), each displayed on one line followed by its cause, what to try, and the
/// [`guide`](crate::guide) chapter that explains it.
///
/// Feed it the findings of a [`StepRecord`](super::StepRecord) and of an
/// [`ActivationHealth`](super::ActivationHealth) together: the cause of a vanishing gradient
/// then depends on whether any layer is saturated. With none, the gradient vanishes through the
/// slopes of healthy units alone, times weights below one, and the cause says so. Built without
/// allocating.
///
/// ```
/// use static_nn::diagnostics::{Diagnosis, Finding};
///
/// let findings = [
///     Finding::<f32>::VanishingGradient { first: 0, last: 14, ratio: 2.1e-4 },
///     Finding::UpdateTooSmall { layer: 0, ratio: 3e-7 },
///     Finding::UpdateTooSmall { layer: 2, ratio: 2e-6 },
///     Finding::UpdateTooSmall { layer: 4, ratio: 8e-6 },
/// ];
/// let diagnosis = Diagnosis::of(findings);
/// assert_eq!(diagnosis.groups().count(), 2);
/// let text = diagnosis.to_string();
/// assert!(text.contains("3 layers (0 to 4) barely moved: the step changed them by 3.0e-7 to 8.0e-6 of their norm"));
/// assert!(text.contains("no layer is reported saturated")); // so the slopes and weights are the cause
/// assert!(text.contains("see: static_nn::guide::saturation"));
/// println!("{diagnosis}");
/// ```
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Diagnosis<T> {
    groups: [Option<FindingGroup<T>>; KINDS],
}

impl<T: Real> Diagnosis<T> {
    /// Groups `findings` by kind.
    pub fn of(findings: impl IntoIterator<Item = Finding<T>>) -> Self {
        let mut groups: [Option<FindingGroup<T>>; KINDS] = [None; KINDS];
        for finding in findings {
            match &mut groups[finding.kind()] {
                Some(group) => group.add(finding),
                empty => *empty = Some(FindingGroup::new(finding)),
            }
        }
        Self { groups }
    }

    /// The groups, one per kind found.
    pub fn groups(&self) -> impl Iterator<Item = &FindingGroup<T>> {
        self.groups.iter().flatten()
    }

    /// Whether nothing was found.
    pub fn is_empty(&self) -> bool {
        self.groups().next().is_none()
    }

    /// The cause of a group, in the light of the others.
    pub fn cause(&self, group: &FindingGroup<T>) -> &'static str {
        let saturated = self.groups().any(|g| matches!(g.first, Finding::Saturated { .. }));
        match group.first {
            Finding::VanishingGradient { .. } if saturated => {
                "saturated units pass almost no gradient (their slope is below 1% of its peak), and \
                 the layers below them get almost nothing"
            }
            Finding::VanishingGradient { .. } => {
                "no layer is reported saturated: the gradient shrinks through healthy units, each layer \
                 multiplying it by its activation's slope (at most 1/4 for the sigmoid) times its \
                 transposed weight (about 0.58 for PyTorch's initialisation), a product below one \
                 repeated at every layer"
            }
            _ => group.first.cause(),
        }
    }
}

/// One line per kind found, each followed by its cause, the fix and the chapter; nothing if
/// nothing was found.
impl<T: Real> fmt::Display for Diagnosis<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, group) in self.groups().enumerate() {
            if i > 0 {
                writeln!(f)?;
            }
            write!(f, "{group}")?;
            explain(f, self.cause(group), group.first.fix(), group.first.chapter())?;
        }
        Ok(())
    }
}
