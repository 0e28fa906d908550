//! The one error type of the weight formats, and the small inline values it carries.

use core::fmt;

use crate::Number;

/// Why weights, a checkpoint or a safetensors file could not be read or written.
///
/// Every variant says what is wrong and where; none allocates, so the type works in `no_std`
/// and is `Copy`. A failed load never changes the target: everything is validated before the
/// first value is written.
#[derive(Clone, Copy, Debug, PartialEq)]
#[non_exhaustive]
pub enum Error {
    /// The input ends before the data it declares (or before a complete header).
    Truncated {
        /// Bytes the input must have.
        needed: usize,
        /// Bytes it has.
        available: usize,
    },
    /// The caller's output buffer cannot hold what is being saved.
    BufferTooSmall {
        /// Bytes the output needs.
        needed: usize,
        /// Bytes the buffer has.
        available: usize,
    },
    /// The input does not start with the format's magic bytes: it is not a static-nn file.
    BadMagic,
    /// The file was written by a version of the format this build cannot read.
    UnsupportedVersion {
        /// The file's format version.
        found: u16,
        /// The version this build reads and writes.
        supported: u16,
    },
    /// The file's scalars are of another type than the network's (`f32` weights into an `f64`
    /// network, or a safetensors dtype such as `F16`).
    ScalarMismatch {
        /// The network's scalar type.
        expected: &'static str,
        /// The file's scalar type.
        found: &'static str,
    },
    /// A tensor has the same name in the file and the network but another shape.
    ShapeMismatch {
        /// The tensor, as PyTorch names it (`2.weight`).
        tensor: Name,
        /// Its shape in the network.
        expected: Shape,
        /// Its shape in the file.
        found: Shape,
    },
    /// The network has a tensor the file lacks.
    MissingTensor {
        /// The tensor the file should hold.
        tensor: Name,
    },
    /// The network has a tensor the file lacks, while the file holds tensors the network does not
    /// use: usually PyTorch's module names (`gru.weight_ih_l0`) where positional names
    /// (`0.weight_ih_l0`) were looked for, which a
    /// [`safetensors::Names`](super::safetensors::Names) maps.
    NamesDiffer {
        /// The first tensor of the network the file lacks, by the name looked for.
        missing: Name,
        /// The position of its layer.
        position: usize,
        /// The file's tensors that the network does not use.
        unused: NameList,
    },
    /// The file holds a tensor the network does not have at that place.
    UnexpectedTensor {
        /// The file's tensor.
        tensor: Name,
        /// The tensor the network has at that place, for formats where order matters.
        expected: Option<Name>,
    },
    /// The file names a tensor twice (safetensors, whose reader would keep the last one).
    DuplicateTensor {
        /// The tensor named twice.
        tensor: Name,
    },
    /// The header's shape signature is not the network's although every tensor matches: the
    /// header was altered.
    SignatureMismatch {
        /// The network's signature.
        expected: u64,
        /// The file's signature.
        found: u64,
    },
    /// A value is NaN or infinite (rejected unless [`Loader::allow_non_finite`](super::Loader)).
    NonFinite {
        /// The tensor holding it.
        tensor: Name,
        /// Its index in the tensor's data, in the file's order.
        index: usize,
    },
    /// A value is well-formed but outside what training can continue from (a negative running
    /// variance, a schedule's learning rate of NaN): refused at load, not left to poison a later
    /// step.
    OutOfRange {
        /// The tensor or counter holding it (`1.running_var`, `extra.lr_bits`).
        tensor: Name,
        /// Its index in the tensor's data, in the file's order (0 for a counter).
        index: usize,
        /// The value.
        value: Number,
        /// What it must be.
        expected: &'static str,
    },
    /// The bytes do not match their checksum: the file is corrupted.
    ChecksumMismatch {
        /// The checksum stored in the file.
        stored: u32,
        /// The checksum of the bytes read.
        computed: u32,
    },
    /// The input breaks a rule of its format that no other variant covers.
    Malformed {
        /// The rule it breaks.
        what: &'static str,
    },
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Error::Truncated { needed, available } => {
                write!(f, "input truncated: {needed} bytes needed, {available} available")
            }
            Error::BufferTooSmall { needed, available } => {
                write!(
                    f,
                    "output buffer too small: {needed} bytes needed, {available} available"
                )
            }
            Error::BadMagic => f.write_str("not a static-nn weight file (bad magic bytes)"),
            Error::UnsupportedVersion { found, supported } => {
                write!(
                    f,
                    "unsupported format version {found} (this build reads version {supported})"
                )
            }
            Error::ScalarMismatch { expected, found } => {
                write!(
                    f,
                    "scalar type mismatch: the network uses {expected}, the file holds {found}"
                )
            }
            Error::ShapeMismatch {
                tensor,
                expected,
                found,
            } => write!(
                f,
                "shape mismatch for {tensor}: the network has {expected}, the file {found}"
            ),
            Error::MissingTensor { tensor } => write!(f, "tensor {tensor} is missing from the file"),
            Error::NamesDiffer {
                missing,
                position,
                unused,
            } => {
                write!(
                    f,
                    "tensor {missing} is missing from the file, which holds {} tensors the network does not use: {unused}; \
                     if they are PyTorch module names, map them to layer positions once with format::safetensors::Names, \
                     e.g. Names::new().module(\"",
                    unused.count()
                )?;
                let first = unused.names().next().unwrap_or_default();
                let prefix = first
                    .iter()
                    .rposition(|&b| b == b'.')
                    .map_or(&first[..0], |dot| &first[..dot]);
                write!(f, "{}\", {position})", Name::from_bytes(prefix))?;
                if missing.as_bytes().ends_with(b"_l0") {
                    write!(
                        f,
                        ", or .stacked(\"{}\", {position}, num_layers) for a multi-layer nn.GRU or nn.LSTM",
                        Name::from_bytes(prefix)
                    )?;
                }
                Ok(())
            }
            Error::UnexpectedTensor { tensor, expected: None } => {
                write!(f, "the file holds {tensor}, which the network does not have")
            }
            Error::UnexpectedTensor {
                tensor,
                expected: Some(expected),
            } => write!(f, "the file holds {tensor} where the network has {expected}"),
            Error::DuplicateTensor { tensor } => write!(f, "the file names {tensor} twice"),
            Error::SignatureMismatch { expected, found } => write!(
                f,
                "shape signature mismatch: the network's is {expected:#018x}, the file's {found:#018x}"
            ),
            Error::NonFinite { tensor, index } => write!(f, "non-finite value in {tensor} at index {index}"),
            Error::OutOfRange {
                tensor,
                index,
                value,
                expected,
            } => write!(f, "{tensor} holds {value} at index {index}; it must be {expected}"),
            Error::ChecksumMismatch { stored, computed } => write!(
                f,
                "checksum mismatch: stored {stored:#010x}, computed {computed:#010x} (the file is corrupted)"
            ),
            Error::Malformed { what } => write!(f, "malformed input: {what}"),
        }
    }
}

impl core::error::Error for Error {}

/// A tensor's name (`2.weight`, `optimizer.steps`), held inline so that errors need no
/// allocator. Names longer than [`Name::CAPACITY`] bytes are cut and shown with `…`.
#[derive(Clone, Copy, PartialEq, Eq)]
pub struct Name {
    bytes: [u8; Name::CAPACITY],
    len: u8,
    cut: bool,
}

impl Name {
    /// The longest name kept whole, in bytes.
    pub const CAPACITY: usize = 48;

    /// A name from raw bytes (as read from a file; need not be UTF-8).
    pub fn from_bytes(name: &[u8]) -> Self {
        let mut this = Self::empty();
        this.push(name);
        this
    }

    pub(crate) const fn empty() -> Self {
        Self {
            bytes: [0; Self::CAPACITY],
            len: 0,
            cut: false,
        }
    }

    /// PyTorch's `nn.Sequential` name of a layer's tensor: `{layer}.{name}`.
    pub fn of_layer(layer: usize, name: &str) -> Self {
        let mut this = Self::from_bytes(decimal(layer).as_bytes());
        this.push(b".");
        this.push(name.as_bytes());
        this
    }

    /// Appends bytes, cutting at [`Name::CAPACITY`].
    pub(crate) fn push(&mut self, more: &[u8]) {
        let start = usize::from(self.len);
        let room = Self::CAPACITY - start;
        let taken = more.len().min(room);
        self.bytes[start..start + taken].copy_from_slice(&more[..taken]);
        self.len += taken as u8;
        self.cut |= taken < more.len();
    }

    /// The name's bytes (cut at [`Name::CAPACITY`]).
    pub fn as_bytes(&self) -> &[u8] {
        &self.bytes[..usize::from(self.len)]
    }
}

impl fmt::Display for Name {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for chunk in self.as_bytes().utf8_chunks() {
            f.write_str(chunk.valid())?;
            if !chunk.invalid().is_empty() {
                f.write_str("\u{FFFD}")?;
            }
        }
        if self.cut {
            f.write_str("…")?;
        }
        Ok(())
    }
}

impl fmt::Debug for Name {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "\"{self}\"")
    }
}

/// The first names of a list of tensor names, as many as fit in one [`Name`] joined by `, `,
/// and how many there are in all: inline, so errors stay small and allocation-free.
#[derive(Clone, Copy, PartialEq, Eq)]
pub struct NameList {
    joined: Name,
    shown: u8,
    // u32 (saturating) keeps `Error` within 128 bytes, the size clippy asks error types to keep.
    count: u32,
}

impl NameList {
    /// Keeps the first of `names` that fit in [`Name::CAPACITY`] bytes (at least one, cut if
    /// it is longer), of `count` in all.
    #[cfg(feature = "safetensors")]
    pub(crate) fn new<'a>(names: impl Iterator<Item = &'a [u8]>, count: usize) -> Self {
        let mut joined = Name::empty();
        let mut shown = 0u8;
        for name in names {
            let separator: &[u8] = if shown == 0 { b"" } else { b", " };
            if shown > 0 && joined.as_bytes().len() + separator.len() + name.len() > Name::CAPACITY || shown == u8::MAX
            {
                break;
            }
            joined.push(separator);
            joined.push(name);
            shown += 1;
        }
        Self {
            joined,
            shown,
            count: u32::try_from(count).unwrap_or(u32::MAX),
        }
    }

    /// The names kept, in order (the first one cut if it alone is longer than
    /// [`Name::CAPACITY`]).
    pub fn names(&self) -> impl Iterator<Item = &[u8]> {
        self.joined
            .as_bytes()
            .split(|&b| b == b',')
            .map(|name| name.strip_prefix(b" ").unwrap_or(name))
            .take(usize::from(self.shown))
    }

    /// How many names the list has in all.
    pub const fn count(&self) -> usize {
        self.count as usize
    }
}

impl fmt::Display for NameList {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.joined)?;
        if self.count() > usize::from(self.shown) {
            write!(f, " and {} more", self.count() - usize::from(self.shown))?;
        }
        Ok(())
    }
}

impl fmt::Debug for NameList {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "[{}] of {}", self.joined, self.count)
    }
}

/// A tensor's shape as a file or a network states it: up to [`Shape::MAX_RANK`] dimensions
/// held inline (a deeper shape keeps its first dimensions and is shown with `…`). Dimensions are
/// kept as `u32`, which keeps the error small; larger ones are shown as `u32::MAX`.
#[derive(Clone, Copy, PartialEq, Eq)]
pub struct Shape {
    dims: [u32; Shape::MAX_RANK],
    rank: u8,
}

impl Shape {
    /// The most dimensions kept.
    pub const MAX_RANK: usize = 4;

    /// A `rows × cols` matrix.
    pub fn matrix(rows: usize, cols: usize) -> Self {
        Self::new(&[rows, cols])
    }

    /// A shape with the given dimensions, outermost first.
    pub fn new(dims: &[usize]) -> Self {
        let mut kept = [0; Self::MAX_RANK];
        for (k, &d) in kept.iter_mut().zip(dims) {
            *k = u32::try_from(d).unwrap_or(u32::MAX);
        }
        Self {
            dims: kept,
            rank: u8::try_from(dims.len()).unwrap_or(u8::MAX),
        }
    }

    /// The dimensions kept, outermost first.
    pub fn dims(&self) -> &[u32] {
        &self.dims[..self.rank().min(Self::MAX_RANK)]
    }

    /// The number of dimensions.
    pub const fn rank(&self) -> usize {
        self.rank as usize
    }
}

impl fmt::Display for Shape {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("[")?;
        for (i, d) in self.dims().iter().enumerate() {
            if i > 0 {
                f.write_str(", ")?;
            }
            write!(f, "{d}")?;
        }
        if self.rank() > Self::MAX_RANK {
            f.write_str(", …")?;
        }
        f.write_str("]")
    }
}

impl fmt::Debug for Shape {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(self, f)
    }
}

/// The decimal digits of `n`, on the stack.
pub(crate) fn decimal(n: usize) -> Decimal {
    let mut digits = [0u8; 20];
    let mut start = digits.len();
    let mut rest = n;
    loop {
        start -= 1;
        digits[start] = b'0' + (rest % 10) as u8;
        rest /= 10;
        if rest == 0 {
            break;
        }
    }
    Decimal { digits, start }
}

/// A number's decimal digits, as [`decimal`] writes them.
pub(crate) struct Decimal {
    digits: [u8; 20],
    start: usize,
}

impl Decimal {
    pub(crate) fn as_bytes(&self) -> &[u8] {
        &self.digits[self.start..]
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_print_like_pytorch_and_survive_bad_bytes() {
        assert_eq!(Name::of_layer(12, "weight").to_string(), "12.weight");
        assert_eq!(Name::of_layer(0, "bias").to_string(), "0.bias");
        assert_eq!(Name::from_bytes(b"a\xffb").to_string(), "a\u{FFFD}b");
        let long = [b'x'; 60];
        let name = Name::from_bytes(&long);
        assert_eq!(name.as_bytes().len(), Name::CAPACITY);
        assert!(name.to_string().ends_with('…'));
    }

    #[test]
    fn shapes_and_messages_name_what_is_wrong() {
        assert_eq!(Shape::matrix(16, 8).to_string(), "[16, 8]");
        assert_eq!(Shape::new(&[1, 2, 3, 4, 5]).to_string(), "[1, 2, 3, 4, …]");
        let e = Error::ShapeMismatch {
            tensor: Name::of_layer(2, "weight"),
            expected: Shape::matrix(3, 16),
            found: Shape::matrix(3, 8),
        };
        assert_eq!(
            e.to_string(),
            "shape mismatch for 2.weight: the network has [3, 16], the file [3, 8]"
        );
        let e = Error::Truncated {
            needed: 100,
            available: 7,
        };
        assert_eq!(e.to_string(), "input truncated: 100 bytes needed, 7 available");
    }
}
