//! Labelled samples from CSV text, into compile-time widths.

use alloc::string::{String, ToString};
use alloc::vec::Vec;
use core::fmt;
use std::io;
use std::path::{Path, PathBuf};

use crate::Sample;
use crate::{Class, Real};

/// What the first line of a CSV file holds.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Header {
    /// `N_SAMPLES,N_FEATURES,class names...`, the layout of scikit-learn's bundled data sets
    /// (`iris.csv`, `wine_data.csv`, `breast_cancer.csv`). The counts are checked against the
    /// rows found and against the widths asked for.
    Counts,
    /// No header: every line is a sample (`digits.csv`). Classes are named `0`, `1`, ...
    None,
}

/// Samples `([T; I], Class<C>)` read from CSV, with the names of their classes.
#[derive(Clone, Debug, PartialEq)]
pub struct Labelled<T, const I: usize, const C: usize> {
    /// The samples, in file order.
    pub samples: Vec<Sample<T, I, Class<C>>>,
    /// `C` class names: from the header, or the class indices.
    pub class_names: Vec<String>,
}

/// Why a CSV file could not be loaded. Lines are counted from 1, as an editor counts them, and
/// columns from 1.
#[derive(Debug)]
pub enum CsvError {
    /// The file could not be read (it is missing, or not UTF-8).
    Io {
        /// The file.
        path: PathBuf,
        /// What went wrong.
        error: io::Error,
    },
    /// The text is not well-formed CSV (an unterminated quote, say).
    Malformed {
        /// Where the reader stopped.
        line: u64,
        /// The CSV reader's description.
        message: String,
    },
    /// The first line is not `N_SAMPLES,N_FEATURES,class names...` (with [`Header::Counts`]).
    InvalidHeader {
        /// What is wrong with it.
        reason: &'static str,
    },
    /// The header declares another number of features than the `I` asked for.
    FeatureCount {
        /// Declared by the header.
        declared: usize,
        /// `I`.
        expected: usize,
    },
    /// The header names another number of classes than the `C` asked for.
    ClassCount {
        /// Class names in the header.
        declared: usize,
        /// `C`.
        expected: usize,
    },
    /// The file holds no sample (a header declaring 0, or no line at all), so there is nothing
    /// to train on or to fit a [`Standardiser`](super::Standardiser) to.
    NoSamples,
    /// The header declares another number of samples than the file has.
    SampleCount {
        /// Declared by the header.
        declared: usize,
        /// Sample lines in the file.
        found: usize,
    },
    /// A line does not have `I` features and a label.
    ColumnCount {
        /// The line.
        line: u64,
        /// Its fields.
        found: usize,
        /// `I + 1`.
        expected: usize,
    },
    /// A feature is not a number.
    NotANumber {
        /// The line.
        line: u64,
        /// The column.
        column: usize,
        /// The field as written.
        field: String,
    },
    /// A feature is NaN or infinite, or overflows the scalar type (`1e39` as `f32`).
    NonFinite {
        /// The line.
        line: u64,
        /// The column.
        column: usize,
        /// The field as written.
        field: String,
    },
    /// The label (last field) is not an integer.
    InvalidLabel {
        /// The line.
        line: u64,
        /// The field as written.
        field: String,
    },
    /// The label is an integer outside `0..C`.
    LabelOutOfRange {
        /// The line.
        line: u64,
        /// The label.
        label: i64,
        /// `C`.
        classes: usize,
    },
}

impl fmt::Display for CsvError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            CsvError::Io { path, error } => write!(f, "cannot read {}: {error}", path.display()),
            CsvError::Malformed { line, message } => write!(f, "line {line}: malformed CSV: {message}"),
            CsvError::InvalidHeader { reason } => {
                write!(
                    f,
                    "line 1: the header should be `N_SAMPLES,N_FEATURES,class names...`, but {reason}"
                )
            }
            CsvError::FeatureCount { declared, expected } => write!(
                f,
                "line 1: the header declares {declared} features, but the samples are read as {expected}"
            ),
            CsvError::ClassCount { declared, expected } => write!(
                f,
                "line 1: the header names {declared} classes, but the labels are read as Class<{expected}>"
            ),
            CsvError::NoSamples => f.write_str("the file holds no sample"),
            CsvError::SampleCount { declared, found } => {
                write!(f, "the header declares {declared} samples, but the file has {found}")
            }
            CsvError::ColumnCount { line, found, expected } => write!(
                f,
                "line {line}: {found} fields, expected {expected} ({} features and a label)",
                expected - 1
            ),
            CsvError::NotANumber { line, column, field } => {
                write!(f, "line {line}, column {column}: `{field}` is not a number")
            }
            CsvError::NonFinite { line, column, field } => {
                write!(f, "line {line}, column {column}: `{field}` is not a finite number")
            }
            CsvError::InvalidLabel { line, field } => {
                write!(f, "line {line}: the label `{field}` is not a class index")
            }
            CsvError::LabelOutOfRange { line, label, classes } => {
                write!(
                    f,
                    "line {line}: the label {label} is out of range for {classes} classes"
                )
            }
        }
    }
}

impl std::error::Error for CsvError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            CsvError::Io { error, .. } => Some(error),
            _ => None,
        }
    }
}

/// Reads samples of `I` features and a class index below `C` from CSV text: every line
/// `feature_1,...,feature_I,label`, after an optional header (see [`Header`]). Blank lines are
/// skipped and fields may be quoted or padded with spaces.
///
/// The widths are the caller's types, so the samples go straight to a network of those widths;
/// a file that does not match them is an error naming the line, never a panic. With
/// `include_str!` the data is compiled into the program:
///
/// ```
/// use static_nn::data::{parse_csv, Header};
///
/// let iris_csv = include_str!(concat!(env!("CARGO_MANIFEST_DIR"), "/data/iris.csv"));
/// let iris = parse_csv::<f32, 4, 3>(iris_csv, Header::Counts).unwrap();
/// assert_eq!(iris.samples.len(), 150);
/// assert_eq!(iris.samples[0].0, [5.1, 3.5, 1.4, 0.2]);
/// assert_eq!(iris.class_names, ["setosa", "versicolor", "virginica"]);
///
/// let error = parse_csv::<f32, 4, 3>("1,2,3,4,0\n1,2,x,4,1\n", Header::None).unwrap_err();
/// assert_eq!(error.to_string(), "line 2, column 3: `x` is not a number");
/// ```
///
/// Memory is reserved in proportion to the text, never to the header's sample count, which is
/// checked against the lines found.
///
/// # Errors
/// Every [`CsvError`] but [`CsvError::Io`]; the first problem found, in file order.
pub fn parse_csv<T: Real, const I: usize, const C: usize>(
    text: &str,
    header: Header,
) -> Result<Labelled<T, I, C>, CsvError> {
    let mut reader = ::csv::ReaderBuilder::new()
        .has_headers(false)
        // Rows of the wrong length are reported by this loader, with the expected count.
        .flexible(true)
        .trim(::csv::Trim::All)
        .from_reader(text.as_bytes());
    let mut records = reader.records();
    let mut lines = LineCounter {
        text: text.as_bytes(),
        at: 0,
        line: 1,
    };
    let malformed = |e: ::csv::Error| CsvError::Malformed {
        line: e.position().map_or(0, |p| p.line()),
        message: e.to_string(),
    };

    let (declared_samples, class_names) = match header {
        Header::None => (None, (0..C).map(|c| c.to_string()).collect()),
        Header::Counts => {
            let record = records
                .next()
                .ok_or(CsvError::InvalidHeader {
                    reason: "the file is empty",
                })?
                .map_err(malformed)?;
            let count = |index: usize, missing: &'static str, invalid: &'static str| {
                record
                    .get(index)
                    .ok_or(CsvError::InvalidHeader { reason: missing })?
                    .parse::<usize>()
                    .map_err(|_| CsvError::InvalidHeader { reason: invalid })
            };
            let samples = count(0, "it is empty", "its first field is not a sample count")?;
            let features = count(1, "it has one field", "its second field is not a feature count")?;
            if features != I {
                return Err(CsvError::FeatureCount {
                    declared: features,
                    expected: I,
                });
            }
            let names: Vec<String> = record.iter().skip(2).map(String::from).collect();
            if names.len() != C {
                return Err(CsvError::ClassCount {
                    declared: names.len(),
                    expected: C,
                });
            }
            (Some(samples), names)
        }
    };

    // The header's count is a claim, not a fact: the reservation is bounded by what the text
    // can hold (a sample line is at least `I + 1` one-character fields and `I` commas).
    let mut samples = Vec::with_capacity(declared_samples.unwrap_or(0).min(text.len() / (2 * I + 1)));
    for record in records {
        let record = record.map_err(malformed)?;
        let line = lines.line_of(record.position().map_or(0, |p| p.byte() as usize));
        if record.len() != I + 1 {
            return Err(CsvError::ColumnCount {
                line,
                found: record.len(),
                expected: I + 1,
            });
        }
        let mut features = [T::zero(); I];
        for (column, (value, field)) in features.iter_mut().zip(&record).enumerate() {
            *value = parse_real(field).map_err(|kind| {
                let (line, column, field) = (line, column + 1, field.to_string());
                match kind {
                    NumberError::NotANumber => CsvError::NotANumber { line, column, field },
                    NumberError::NonFinite => CsvError::NonFinite { line, column, field },
                }
            })?;
        }
        let field = &record[I];
        let label = field.parse::<i64>().map_err(|_| CsvError::InvalidLabel {
            line,
            field: field.to_string(),
        })?;
        let class = usize::try_from(label)
            .ok()
            .and_then(Class::new)
            .ok_or(CsvError::LabelOutOfRange {
                line,
                label,
                classes: C,
            })?;
        samples.push((features, class));
    }

    match declared_samples {
        _ if samples.is_empty() => Err(CsvError::NoSamples),
        Some(declared) if declared != samples.len() => Err(CsvError::SampleCount {
            declared,
            found: samples.len(),
        }),
        _ => Ok(Labelled { samples, class_names }),
    }
}

/// [`parse_csv`] on the contents of the file at `path`.
///
/// # Errors
/// [`CsvError::Io`] if the file cannot be read or is not UTF-8; otherwise as [`parse_csv`].
pub fn read_csv<T: Real, const I: usize, const C: usize>(
    path: impl AsRef<Path>,
    header: Header,
) -> Result<Labelled<T, I, C>, CsvError> {
    let path = path.as_ref();
    let text = std::fs::read_to_string(path).map_err(|error| CsvError::Io {
        path: path.to_path_buf(),
        error,
    })?;
    parse_csv(&text, header)
}

/// Line numbers of records from their byte offsets. The CSV reader's own line count skips the
/// blank lines before a record and its offset points at them, so the record's line is found by
/// stepping over line breaks and counting them, incrementally since records come in order.
struct LineCounter<'t> {
    text: &'t [u8],
    /// An offset at or before the next record's.
    at: usize,
    /// The line of `at`.
    line: u64,
}

impl LineCounter<'_> {
    /// The line of the first character at or after `offset` that is not a line break.
    fn line_of(&mut self, offset: usize) -> u64 {
        let mut start = offset.min(self.text.len());
        while start < self.text.len() && matches!(self.text[start], b'\r' | b'\n') {
            start += 1;
        }
        let from = self.at.min(start);
        self.line += self.text[from..start].iter().filter(|&&b| b == b'\n').count() as u64;
        self.at = start;
        self.line
    }
}

enum NumberError {
    NotANumber,
    NonFinite,
}

/// Parses a field as `T` directly, so that an `f32` is the nearest `f32` to the decimal (going
/// through `f64` would round twice), and rejects NaN, infinities and overflow.
fn parse_real<T: Real>(field: &str) -> Result<T, NumberError> {
    // `Real` is sealed to f32 and f64; both conversions below are exact.
    let value = if core::mem::size_of::<T>() == 4 {
        field.parse::<f32>().map(|v| T::of(f64::from(v)))
    } else {
        field.parse::<f64>().map(T::of)
    }
    .map_err(|_| NumberError::NotANumber)?;
    if value.is_finite() {
        Ok(value)
    } else {
        Err(NumberError::NonFinite)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse<const I: usize, const C: usize>(text: &str, header: Header) -> Result<Labelled<f32, I, C>, CsvError> {
        parse_csv::<f32, I, C>(text, header)
    }

    #[test]
    fn reads_the_header_layout() {
        let text = "3,2,cat,dog\n1.5,-2,0\n\n 3 ,\"4e1\",1\n0.1,0.2,0\n";
        let data = parse::<2, 2>(text, Header::Counts).unwrap();
        assert_eq!(data.class_names, ["cat", "dog"]);
        let labels: Vec<usize> = data.samples.iter().map(|s| s.1.index()).collect();
        assert_eq!(labels, [0, 1, 0]);
        assert_eq!(data.samples[0].0, [1.5, -2.0]);
        assert_eq!(data.samples[1].0, [3.0, 40.0]);
        // The nearest f32 to 0.1, not the f32 nearest to the f64 nearest to 0.1.
        assert_eq!(data.samples[2].0[0], 0.1_f32);
    }

    #[test]
    fn reads_headerless_lines_with_numbered_classes() {
        let data = parse_csv::<f64, 1, 3>("0.5,2\r\n-1,0\r\n", Header::None).unwrap();
        assert_eq!(
            data.samples,
            [([0.5], Class::new(2).unwrap()), ([-1.0], Class::new(0).unwrap())]
        );
        assert_eq!(data.class_names, ["0", "1", "2"]);
    }

    #[test]
    fn the_shipped_data_sets_load_into_their_widths() {
        let root = concat!(env!("CARGO_MANIFEST_DIR"), "/data/");
        let wine = read_csv::<f32, 13, 3>(format!("{root}wine_data.csv"), Header::Counts).unwrap();
        let cancer = read_csv::<f32, 30, 2>(format!("{root}breast_cancer.csv"), Header::Counts).unwrap();
        let digits = read_csv::<f32, 64, 10>(format!("{root}digits.csv"), Header::None).unwrap();
        assert_eq!(
            (wine.samples.len(), cancer.samples.len(), digits.samples.len()),
            (178, 569, 1797)
        );
        assert_eq!(cancer.class_names, ["malignant", "benign"]);
    }

    #[test]
    fn a_wrong_column_count_names_its_line() {
        let error = parse::<2, 2>("2,2,a,b\n1,2,0\n1,2\n", Header::Counts).unwrap_err();
        assert!(
            matches!(
                error,
                CsvError::ColumnCount {
                    line: 3,
                    found: 2,
                    expected: 3
                }
            ),
            "{error:?}"
        );
        assert_eq!(
            error.to_string(),
            "line 3: 2 fields, expected 3 (2 features and a label)"
        );
        let error = parse::<2, 2>("1,2,3,0\n", Header::None).unwrap_err();
        assert!(
            matches!(
                error,
                CsvError::ColumnCount {
                    line: 1,
                    found: 4,
                    expected: 3
                }
            ),
            "{error:?}"
        );
    }

    #[test]
    fn non_numbers_and_non_finite_values_name_line_and_column() {
        let error = parse::<2, 2>("1,2,0\n\n1,two,1\n", Header::None).unwrap_err();
        assert!(
            matches!(&error, CsvError::NotANumber { line: 3, column: 2, field } if field == "two"),
            "{error:?}"
        );
        let error = parse::<3, 2>("1,2,3,0\n4,5,6,1\n7,8,NaN,1\n", Header::None).unwrap_err();
        assert!(
            matches!(error, CsvError::NonFinite { line: 3, column: 3, .. }),
            "{error:?}"
        );
        assert_eq!(error.to_string(), "line 3, column 3: `NaN` is not a finite number");
        let error = parse::<1, 2>("-inf,0\n", Header::None).unwrap_err();
        assert!(
            matches!(error, CsvError::NonFinite { line: 1, column: 1, .. }),
            "{error:?}"
        );
        // Finite in f64, infinite in f32.
        assert!(parse_csv::<f64, 1, 2>("1e39,0\n", Header::None).is_ok());
        let error = parse::<1, 2>("1e39,0\n", Header::None).unwrap_err();
        assert!(
            matches!(error, CsvError::NonFinite { line: 1, column: 1, .. }),
            "{error:?}"
        );
    }

    #[test]
    fn labels_must_be_class_indices_in_range() {
        let error = parse::<1, 3>("0.5,2\n0.5,3\n", Header::None).unwrap_err();
        assert!(
            matches!(
                error,
                CsvError::LabelOutOfRange {
                    line: 2,
                    label: 3,
                    classes: 3
                }
            ),
            "{error:?}"
        );
        assert_eq!(error.to_string(), "line 2: the label 3 is out of range for 3 classes");
        let error = parse::<1, 3>("0.5,-1\n", Header::None).unwrap_err();
        assert!(
            matches!(error, CsvError::LabelOutOfRange { line: 1, label: -1, .. }),
            "{error:?}"
        );
        let error = parse::<1, 3>("0.5,1\n0.5,1.0\n", Header::None).unwrap_err();
        assert!(
            matches!(&error, CsvError::InvalidLabel { line: 2, field } if field == "1.0"),
            "{error:?}"
        );
    }

    #[test]
    fn the_header_is_checked_against_the_widths_and_the_rows() {
        let rows = "1,2,0\n3,4,1\n";
        let error = parse::<2, 2>(&format!("3,2,a,b\n{rows}"), Header::Counts).unwrap_err();
        assert!(
            matches!(error, CsvError::SampleCount { declared: 3, found: 2 }),
            "{error:?}"
        );
        let error = parse::<2, 2>(&format!("2,3,a,b\n{rows}"), Header::Counts).unwrap_err();
        assert!(
            matches!(
                error,
                CsvError::FeatureCount {
                    declared: 3,
                    expected: 2
                }
            ),
            "{error:?}"
        );
        let error = parse::<2, 3>(&format!("2,2,a,b\n{rows}"), Header::Counts).unwrap_err();
        assert!(
            matches!(
                error,
                CsvError::ClassCount {
                    declared: 2,
                    expected: 3
                }
            ),
            "{error:?}"
        );
        assert_eq!(
            error.to_string(),
            "line 1: the header names 2 classes, but the labels are read as Class<3>"
        );
        for (text, reason) in [
            ("", "the file is empty"),
            ("2\n", "it has one field"),
            ("two,2,a,b\n", "its first field is not a sample count"),
            ("2,2.5,a,b\n", "its second field is not a feature count"),
        ] {
            let error = parse::<2, 2>(text, Header::Counts).unwrap_err();
            assert!(
                matches!(error, CsvError::InvalidHeader { reason: r } if r == reason),
                "{text:?}: {error:?}"
            );
        }
    }

    #[test]
    fn a_huge_declared_count_reserves_nothing_and_is_a_sample_count_error() {
        let row = "1,2,3,4,0\n";
        for declared in ["1000000000000", "100000000", "18446744073709551615"] {
            let error = parse::<4, 3>(&format!("{declared},4,a,b,c\n{row}"), Header::Counts).unwrap_err();
            assert!(
                matches!(error, CsvError::SampleCount { declared: d, found: 1 } if d.to_string() == declared),
                "{declared}: {error:?}"
            );
        }
        let error = parse::<4, 3>(&format!("18446744073709551616,4,a,b,c\n{row}"), Header::Counts).unwrap_err();
        assert!(matches!(error, CsvError::InvalidHeader { .. }), "{error:?}");
    }

    #[test]
    fn a_file_without_samples_is_an_error() {
        for (text, header) in [
            ("0,4,a,b,c\n", Header::Counts),
            ("0,4,a,b,c", Header::Counts),
            ("3,4,a,b,c\n\n", Header::Counts),
            ("", Header::None),
            ("\n\n", Header::None),
        ] {
            let error = parse::<4, 3>(text, header).unwrap_err();
            assert!(matches!(error, CsvError::NoSamples), "{text:?}: {error:?}");
        }
        assert_eq!(CsvError::NoSamples.to_string(), "the file holds no sample");
        let error = parse::<4, 3>("0,4,a,b,c\n1,2,3,4,0\n", Header::Counts).unwrap_err();
        assert!(
            matches!(error, CsvError::SampleCount { declared: 0, found: 1 }),
            "{error:?}"
        );
    }

    #[test]
    fn malformed_csv_and_missing_files_are_errors() {
        let error = read_csv::<f32, 1, 2>("/nonexistent/data.csv", Header::None).unwrap_err();
        assert!(matches!(&error, CsvError::Io { error, .. } if error.kind() == io::ErrorKind::NotFound));
        assert!(error.to_string().starts_with("cannot read /nonexistent/data.csv: "));
        // A quote left open swallows the rest of the file into one field.
        let error = parse::<1, 2>("1,0\n\"2,1\n3,0\n", Header::None).unwrap_err();
        assert!(
            matches!(error, CsvError::ColumnCount { line: 2, found: 1, .. }),
            "{error:?}"
        );
    }
}
