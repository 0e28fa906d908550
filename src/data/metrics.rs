//! Accuracy and the confusion matrix of a classifier.

use core::fmt;

use crate::Sample;
use crate::{Class, Predict, Real};

/// Counts of (true class, predicted class) pairs: row `t`, column `p` counts the samples of
/// class `t` predicted as `p` (scikit-learn's `confusion_matrix` layout). The diagonal holds the
/// correct predictions.
///
/// `Display` prints a table with each class's recall; [`ConfusionMatrix::with_names`] labels
/// the rows and columns. Needs no allocation.
///
/// ```
/// use static_nn::Class;
/// use static_nn::data::ConfusionMatrix;
///
/// let mut matrix = ConfusionMatrix::<3>::new();
/// for (truth, predicted) in [(0, 0), (0, 0), (1, 1), (1, 2), (2, 2)] {
///     matrix.record(Class::new(truth).unwrap(), Class::new(predicted).unwrap());
/// }
/// assert_eq!(matrix.accuracy(), 0.8);
/// assert_eq!(matrix.count(1, 2), 1);
/// assert_eq!(
///     matrix.with_names(&["cat", "dog", "emu"]).to_string(),
///     "\
/// true \\ predicted  cat  dog  emu   recall
///              cat    2    0    0  100.0 %
///              dog    0    1    1   50.0 %
///              emu    0    0    1  100.0 %
/// accuracy 80.0 % (4 of 5)
/// "
/// );
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ConfusionMatrix<const C: usize> {
    /// `counts[truth][predicted]`.
    pub counts: [[usize; C]; C],
}

impl<const C: usize> Default for ConfusionMatrix<C> {
    fn default() -> Self {
        Self::new()
    }
}

impl<const C: usize> ConfusionMatrix<C> {
    /// No predictions yet.
    pub const fn new() -> Self {
        Self { counts: [[0; C]; C] }
    }

    /// The predictions of `net` on `samples` ([`Predict::classify`], in inference mode).
    pub fn of<T: Real, N: Predict<T, I, C>, const I: usize>(net: &N, samples: &[Sample<T, I, Class<C>>]) -> Self {
        let mut matrix = Self::new();
        for (x, truth) in samples {
            matrix.record(*truth, net.classify(x));
        }
        matrix
    }

    /// Counts one prediction.
    pub fn record(&mut self, truth: Class<C>, predicted: Class<C>) {
        self.counts[truth.index()][predicted.index()] += 1;
    }

    /// Samples of class `truth` predicted as `predicted`.
    ///
    /// # Panics
    /// If either index is not below `C`.
    pub fn count(&self, truth: usize, predicted: usize) -> usize {
        self.counts[truth][predicted]
    }

    /// Predictions counted.
    pub fn total(&self) -> usize {
        self.counts.iter().flatten().sum()
    }

    /// Correct predictions (the diagonal).
    pub fn correct(&self) -> usize {
        (0..C).map(|c| self.counts[c][c]).sum()
    }

    /// The fraction of correct predictions; NaN before any.
    pub fn accuracy(&self) -> f64 {
        self.correct() as f64 / self.total() as f64
    }

    /// The fraction of class `class`'s samples predicted as `class`; NaN if it has none.
    ///
    /// # Panics
    /// If `class >= C`.
    pub fn recall(&self, class: usize) -> f64 {
        self.counts[class][class] as f64 / self.counts[class].iter().sum::<usize>() as f64
    }

    /// The fraction of predictions of `class` that are right; NaN if there are none.
    ///
    /// # Panics
    /// If `class >= C`.
    pub fn precision(&self, class: usize) -> f64 {
        self.counts[class][class] as f64 / self.counts.iter().map(|row| row[class]).sum::<usize>() as f64
    }

    /// Displays the table with these class names (missing names are shown as indices).
    pub fn with_names<'a, S: AsRef<str>>(&'a self, names: &'a [S]) -> impl fmt::Display + 'a {
        Table { matrix: self, names }
    }
}

/// Labels rows and columns with the class indices.
impl<const C: usize> fmt::Display for ConfusionMatrix<C> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(
            &Table::<C, &str> {
                matrix: self,
                names: &[],
            },
            f,
        )
    }
}

struct Table<'a, const C: usize, S> {
    matrix: &'a ConfusionMatrix<C>,
    names: &'a [S],
}

impl<const C: usize, S: AsRef<str>> fmt::Display for Table<'_, C, S> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        struct Name<'n, S>(Option<&'n S>, usize);
        impl<S: AsRef<str>> fmt::Display for Name<'_, S> {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                match self.0 {
                    Some(name) => f.pad(name.as_ref()),
                    None => write!(f, "{:>w$}", self.1, w = f.width().unwrap_or(0)),
                }
            }
        }
        let name = |c: usize| Name(self.names.get(c), c);
        let name_width = |c: usize| self.names.get(c).map_or(digits(c), |n| n.as_ref().chars().count());
        let corner = "true \\ predicted";
        let rows = (0..C).map(name_width).max().unwrap_or(0).max(corner.len());
        let count_width = digits(self.matrix.counts.iter().flatten().copied().max().unwrap_or(0));
        let width = |c: usize| name_width(c).max(count_width);

        write!(f, "{corner:>rows$}")?;
        for c in 0..C {
            write!(f, "  {:>w$}", name(c), w = width(c))?;
        }
        writeln!(f, "   recall")?;
        for t in 0..C {
            write!(f, "{:>rows$}", name(t))?;
            for p in 0..C {
                write!(f, "  {:>w$}", self.matrix.counts[t][p], w = width(p))?;
            }
            writeln!(f, "  {:>5.1} %", 100.0 * self.matrix.recall(t))?;
        }
        writeln!(
            f,
            "accuracy {:.1} % ({} of {})",
            100.0 * self.matrix.accuracy(),
            self.matrix.correct(),
            self.matrix.total()
        )
    }
}

/// Decimal digits of `n`.
fn digits(n: usize) -> usize {
    n.checked_ilog10().map_or(1, |d| d as usize + 1)
}
