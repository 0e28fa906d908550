//! PyTorch interchange through [safetensors](https://huggingface.co/docs/safetensors) files
//! (feature `safetensors`, which needs an allocator for the file's JSON header).
//!
//! The functions mirror the binary format's: [`to_vec`] / [`load`] on bytes, [`save_file`] /
//! [`load_file`] on files, a `_with` variant of each taking PyTorch's module [`Names`] (and, to
//! write, a [`Dtype`]), and [`Loader::load_safetensors`](super::Loader::load_safetensors) for
//! the checks.
//!
//! # Names
//!
//! Without a mapping, tensors are named as PyTorch's `nn.Sequential` names them in a
//! `state_dict` (`0.weight`, `0.bias`, `2.weight`, buffers such as `1.running_mean`): the layer's
//! position, then the tensor's name. A model written as a class has its own attribute names
//! (`gru.weight_ih_l0`, `head.weight`, or a bare `weight` for a lone `nn.Conv1d`); [`Names`]
//! maps each of them to a layer position once, for loading and saving alike. An
//! `nn.GRU(..., num_layers=k)` or `nn.LSTM(..., num_layers=k)` is `k` stacked single-layer cells
//! (`[Gru<T, H, H>; k]` after a first `Gru<T, I, H>`), named with PyTorch's `_l{i}` suffixes by
//! [`Names::stacked`].
//!
//! # Layout and scalar types
//!
//! Tensors are laid out as PyTorch lays them out: row-major, a `Dense<T, I, O>` weight as
//! `[O, I]` (like `nn.Linear.weight`), a one-column tensor (a bias, a batch-norm statistic) as a
//! vector `[O]`. Shapes are PyTorch's ([`TensorInfo::torch_dims`](crate::TensorInfo::torch_dims)):
//! `[out, in]` for a linear weight, `[out]` for a bias, `[out, in, kernel]` for a convolution
//! weight (loading also accepts its `(out, in · kernel)` reshape).
//!
//! Loading accepts `F16`, `BF16`, `F32` and `F64` tensors into `f32` and `f64` networks alike.
//! Each value is converted exactly when the network's type holds it (every `F16`, `BF16` and
//! `F32` value into `f64`, `F16`/`BF16` into `f32`) and otherwise rounded to the nearest `f32`,
//! ties to even (`F64` into `f32`, as PyTorch's `tensor.float()` does); a value beyond `f32`'s
//! range becomes infinite and is refused as non-finite. Saving writes the network's own type
//! ([`to_vec`]) or the [`Dtype`] asked for ([`to_vec_with`]), rounding to nearest, ties to even;
//! a value beyond the chosen type's range (65504 for `F16`) is refused.
//!
//! A model built in PyTorch as
//! `nn.Sequential(nn.Linear(3, 8), nn.Tanh(), nn.Linear(8, 8), nn.ReLU(), nn.Linear(8, 2))` and
//! saved with `safetensors.torch.save_file(model.state_dict(), path)` loads into
//! `(Dense<f32, 3, 8>, Tanh, Dense<f32, 8, 8>, Relu, Dense<f32, 8, 2>)`:
//!
//! ```
//! use static_nn::format::safetensors;
//! use static_nn::{Dense, Init, Parameters, Relu, Rng, Tanh};
//!
//! type Net = (Dense<f32, 3, 8>, Tanh, Dense<f32, 8, 8>, Relu, Dense<f32, 8, 2>);
//! let mut net = Net::build(Init::PyTorch, &mut Rng::new(0));
//! safetensors::load_file(&mut net, "tests/fixtures/pytorch_mlp.safetensors").unwrap();
//!
//! let bytes = safetensors::to_vec(&net).unwrap(); // loads back into PyTorch the same way
//! let mut again = Net::build(Init::PyTorch, &mut Rng::new(1));
//! safetensors::load(&mut again, &bytes).unwrap();
//! assert_eq!(again.4.weight, net.4.weight);
//! ```
//!
//! A class with its own attribute names, `self.gru = nn.GRU(4, 8, num_layers=3)` and
//! `self.head = nn.Linear(8, 1)`, maps onto positions once:
//!
//! ```
//! use static_nn::format::safetensors::{self, Dtype, Names};
//! use static_nn::{Dense, Gru, Init, LastStep, Parameters, Rng};
//!
//! type Net = (Gru<f64, 4, 8>, [Gru<f64, 8, 8>; 2], LastStep, Dense<f64, 8, 1>);
//! let names = Names::new().stacked("gru", 0, 3).module("head", 4);
//! assert_eq!(names.name(2, "weight_hh_l0"), "gru.weight_hh_l2");
//!
//! let net = Net::build(Init::PyTorch, &mut Rng::new(0));
//! let half = safetensors::to_vec_with(&net, &names, Dtype::F16).unwrap();
//! let mut loaded = Net::build(Init::PyTorch, &mut Rng::new(1));
//! safetensors::load_with(&mut loaded, &half, &names).unwrap();
//! assert!((loaded.3.weight - net.3.weight).abs().max() < 1e-3); // F16 keeps 11 bits
//!
//! // Positional names do not match the class's: the error lists what the file holds.
//! let error = safetensors::load(&mut loaded, &half).unwrap_err().to_string();
//! assert!(error.contains("gru.bias_hh_l0, gru.bias_hh_l1"), "{error}");
//! assert!(error.contains("Names::new().module(\"gru\", 0)"), "{error}");
//! ```
//!
//! Loading is strict: every tensor of the network must be in the file with its shape, and the
//! file must hold nothing else, except PyTorch's `BatchNorm` step counter
//! `{layer}.num_batches_tracked` (an `I64` scalar or `[1]`, as PyTorch writes it) next to a batch norm's `{layer}.running_mean`, which is skipped
//! (it only matters for PyTorch's `momentum=None`, which [`BatchNorm`](crate::BatchNorm) does
//! not offer). Saving does not write it. Like [`format::load`](super::load), a failed load leaves
//! the network unchanged.

use alloc::borrow::Cow;
use alloc::string::String;
use alloc::vec::Vec;
use core::mem::size_of;

use safetensors::{SafeTensorError, SafeTensors, View};
use serde::de::{Deserialize, Deserializer, IgnoredAny, MapAccess, Visitor};

use super::container::Entry;
use super::error::NameList;
use super::{Error, Loader, Name, Shape, weight_entries};
use crate::{Parameters, Real, TensorInfo, TorchDims, TorchShape};

/// A scalar type of a safetensors file that networks load from and save to.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Dtype {
    /// IEEE 754 binary16 (PyTorch's `torch.float16`): 11 significant bits, largest 65504.
    F16,
    /// bfloat16 (`torch.bfloat16`): `f32`'s range with 8 significant bits.
    BF16,
    /// IEEE 754 binary32 (`torch.float32`).
    F32,
    /// IEEE 754 binary64 (`torch.float64`).
    F64,
}

impl Dtype {
    /// The dtype of `T`: `F32` for `f32`, `F64` for `f64`.
    pub fn of<T: Real>() -> Self {
        if size_of::<T>() == 4 { Dtype::F32 } else { Dtype::F64 }
    }

    fn file(self) -> safetensors::Dtype {
        match self {
            Dtype::F16 => safetensors::Dtype::F16,
            Dtype::BF16 => safetensors::Dtype::BF16,
            Dtype::F32 => safetensors::Dtype::F32,
            Dtype::F64 => safetensors::Dtype::F64,
        }
    }

    fn from_file(dtype: safetensors::Dtype) -> Option<Self> {
        match dtype {
            safetensors::Dtype::F16 => Some(Dtype::F16),
            safetensors::Dtype::BF16 => Some(Dtype::BF16),
            safetensors::Dtype::F32 => Some(Dtype::F32),
            safetensors::Dtype::F64 => Some(Dtype::F64),
            _ => None,
        }
    }

    const fn width(self) -> usize {
        match self {
            Dtype::F16 | Dtype::BF16 => 2,
            Dtype::F32 => 4,
            Dtype::F64 => 8,
        }
    }

    /// A value from its little-endian bytes; every dtype's values are exact in `f64`.
    fn read(self, bytes: &[u8]) -> f64 {
        match self {
            Dtype::F16 => half::f16::from_bits(u16::from_le_bytes([bytes[0], bytes[1]])).to_f64(),
            Dtype::BF16 => half::bf16::from_bits(u16::from_le_bytes([bytes[0], bytes[1]])).to_f64(),
            Dtype::F32 => f64::from(f32::from_le_bytes([bytes[0], bytes[1], bytes[2], bytes[3]])),
            Dtype::F64 => {
                let mut b = [0; 8];
                b.copy_from_slice(&bytes[..8]);
                f64::from_le_bytes(b)
            }
        }
    }

    /// Appends `value` rounded to this dtype (nearest, ties to even), little-endian; returns
    /// whether it is finite there.
    fn write(self, value: f64, out: &mut Vec<u8>) -> bool {
        match self {
            Dtype::F16 => {
                let v = half::f16::from_f64(value);
                out.extend_from_slice(&v.to_bits().to_le_bytes());
                v.is_finite()
            }
            Dtype::BF16 => {
                let v = half::bf16::from_f64(value);
                out.extend_from_slice(&v.to_bits().to_le_bytes());
                v.is_finite()
            }
            Dtype::F32 => {
                let v = value as f32;
                out.extend_from_slice(&v.to_le_bytes());
                v.is_finite()
            }
            Dtype::F64 => {
                out.extend_from_slice(&value.to_le_bytes());
                value.is_finite()
            }
        }
    }
}

/// How PyTorch names a network's tensors: a layer position's module prefix, written once and
/// used to load and to save.
///
/// A layer no rule covers keeps `nn.Sequential`'s positional name `{position}.{name}`; when
/// rules overlap, the first one added wins.
///
/// ```
/// use static_nn::format::safetensors::Names;
///
/// // self.conv = nn.Conv1d(...); self.gru = nn.GRU(..., num_layers=2);
/// // self.head = nn.Sequential(nn.Linear(...), nn.ReLU(), nn.Linear(...))
/// let names = Names::new().module("conv", 0).stacked("gru", 2, 2).sequential("head", 5, 3);
/// assert_eq!(names.name(0, "weight"), "conv.weight");
/// assert_eq!(names.name(1, "weight"), "1.weight"); // not mapped: positional
/// assert_eq!(names.name(3, "bias_hh_l0"), "gru.bias_hh_l1");
/// assert_eq!(names.name(7, "bias"), "head.2.bias");
/// // A bare module's state_dict has no prefix at all.
/// assert_eq!(Names::new().module("", 0).name(0, "weight"), "weight");
/// ```
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Names {
    rules: Vec<Rule>,
}

#[derive(Clone, Debug, PartialEq, Eq)]
struct Rule {
    prefix: String,
    first: usize,
    layers: usize,
    kind: RuleKind,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum RuleKind {
    Module,
    Stacked,
    Sequential,
}

impl Names {
    /// No rules: every layer keeps its positional `nn.Sequential` name.
    pub fn new() -> Self {
        Self::default()
    }

    /// The layer at `position` is PyTorch's module `prefix`: its tensors are `{prefix}.{name}`
    /// (`head.weight`), or just `{name}` for an empty prefix (a bare module's `state_dict`).
    #[must_use]
    pub fn module(self, prefix: &str, position: usize) -> Self {
        self.rule(prefix, position, 1, RuleKind::Module)
    }

    /// The `layers` recurrent layers from `first` on are one multi-layer PyTorch module,
    /// `nn.GRU(..., num_layers=layers)` or `nn.LSTM(..., num_layers=layers)` named `prefix`:
    /// layer `first + i`'s `weight_ih_l0` is `{prefix}.weight_ih_l{i}`.
    #[must_use]
    pub fn stacked(self, prefix: &str, first: usize, layers: usize) -> Self {
        self.rule(prefix, first, layers, RuleKind::Stacked)
    }

    /// The `layers` layers from `first` on are an `nn.Sequential` named `prefix`: layer
    /// `first + i`'s `weight` is `{prefix}.{i}.weight`.
    #[must_use]
    pub fn sequential(self, prefix: &str, first: usize, layers: usize) -> Self {
        self.rule(prefix, first, layers, RuleKind::Sequential)
    }

    fn rule(mut self, prefix: &str, first: usize, layers: usize, kind: RuleKind) -> Self {
        self.rules.push(Rule {
            prefix: prefix.into(),
            first,
            layers,
            kind,
        });
        self
    }

    /// PyTorch's name of the tensor `name` (as [`TensorInfo::name`] gives it) of the layer at
    /// `position`.
    pub fn name(&self, position: usize, name: &str) -> String {
        let rule = self
            .rules
            .iter()
            .find(|rule| (rule.first..rule.first + rule.layers).contains(&position));
        let Some(rule) = rule else {
            return alloc::format!("{position}.{name}");
        };
        let index = position - rule.first;
        let dot = if rule.prefix.is_empty() { "" } else { "." };
        match rule.kind {
            RuleKind::Module => alloc::format!("{}{dot}{name}", rule.prefix),
            RuleKind::Sequential => alloc::format!("{}{dot}{index}.{name}", rule.prefix),
            RuleKind::Stacked => match name.strip_suffix("_l0") {
                Some(stem) => alloc::format!("{}{dot}{stem}_l{index}", rule.prefix),
                None => alloc::format!("{}{dot}{index}.{name}", rule.prefix),
            },
        }
    }

    fn key(&self, entry: &Entry) -> String {
        self.name(entry.layer.unwrap_or_default(), entry.name)
    }
}

/// PyTorch's dimensions for an entry.
fn torch_dims(entry: &Entry) -> TorchDims {
    let info = TensorInfo {
        layer: 0,
        name: entry.name,
        rows: entry.rows,
        cols: entry.cols,
        torch: entry.torch,
    };
    info.torch_dims()
}

fn torch_shape(entry: &Entry) -> Shape {
    Shape::new(&torch_dims(entry))
}

/// PyTorch's shape, or for a convolution kernel also the `(out, in · kernel)` reshape, which
/// holds the same numbers in the same order.
fn accepts(entry: &Entry, shape: &[usize]) -> bool {
    *torch_dims(entry) == *shape || (matches!(entry.torch, TorchShape::Kernel(_)) && shape == [entry.rows, entry.cols])
}

fn dtype_name(dtype: safetensors::Dtype) -> &'static str {
    match dtype {
        safetensors::Dtype::F16 => "F16",
        safetensors::Dtype::BF16 => "BF16",
        safetensors::Dtype::F32 => "F32",
        safetensors::Dtype::F64 => "F64",
        safetensors::Dtype::I64 => "I64",
        safetensors::Dtype::I32 => "I32",
        safetensors::Dtype::I16 => "I16",
        safetensors::Dtype::I8 => "I8",
        safetensors::Dtype::U8 => "U8",
        safetensors::Dtype::BOOL => "BOOL",
        _ => "another dtype",
    }
}

fn malformed(error: SafeTensorError) -> Error {
    Error::Malformed {
        what: match error {
            SafeTensorError::HeaderTooSmall => "shorter than a safetensors header length",
            SafeTensorError::HeaderTooLarge => "the safetensors header is larger than 100 MB",
            SafeTensorError::InvalidHeaderLength => "the safetensors header runs past the end of the file",
            SafeTensorError::InvalidHeader(_) => "the safetensors header is not UTF-8",
            SafeTensorError::InvalidHeaderDeserialization(_) => "the safetensors header is not valid safetensors JSON",
            SafeTensorError::MetadataIncompleteBuffer => "the data section's length differs from the header's offsets",
            SafeTensorError::ValidationOverflow => "a tensor's size overflows",
            SafeTensorError::TensorInvalidInfo => "a tensor's shape and dtype do not match its data length",
            _ => "the safetensors header's offsets are invalid",
        },
    }
}

/// One tensor in PyTorch's layout, ready to serialize.
struct Torch {
    dtype: safetensors::Dtype,
    shape: Vec<usize>,
    data: Vec<u8>,
}

impl View for &Torch {
    fn dtype(&self) -> safetensors::Dtype {
        self.dtype
    }
    fn shape(&self) -> &[usize] {
        &self.shape
    }
    fn data(&self) -> Cow<'_, [u8]> {
        Cow::Borrowed(&self.data)
    }
    fn data_len(&self) -> usize {
        self.data.len()
    }
}

/// A safetensors file holding `net`'s parameters and buffers with positional `nn.Sequential`
/// names, in the network's own scalar type: `to_vec_with(net, &Names::new(), Dtype::of::<T>())`.
///
/// # Errors
/// As [`to_vec_with`].
pub fn to_vec<T: Real, N: Parameters<T>>(net: &N) -> Result<Vec<u8>, Error> {
    to_vec_with(net, &Names::new(), Dtype::of::<T>())
}

/// A safetensors file holding `net`'s parameters and buffers, named by `names`, with values
/// rounded to `dtype` (nearest, ties to even).
///
/// # Errors
/// [`Error::NonFinite`] for a value that is not finite in `dtype` (beyond 65504 for `F16`, or
/// already NaN or infinite; index in PyTorch's row-major order); [`Error::Malformed`] if two
/// tensors get one name from `names`.
pub fn to_vec_with<T: Real, N: Parameters<T>>(net: &N, names: &Names, dtype: Dtype) -> Result<Vec<u8>, Error> {
    let mut tensors: Vec<(String, Torch)> = Vec::new();
    for (entry, values) in weight_entries::<T, N>().zip(net.tensors().chain(net.buffers())) {
        let name = names.key(&entry);
        let mut data = Vec::with_capacity(values.len() * dtype.width());
        // Row-major: entry (r, c) of PyTorch's array is values[c * rows + r].
        for r in 0..entry.rows {
            for c in 0..entry.cols {
                if !dtype.write(values[c * entry.rows + r].to_f64(), &mut data) {
                    return Err(Error::NonFinite {
                        tensor: Name::from_bytes(name.as_bytes()),
                        index: r * entry.cols + c,
                    });
                }
            }
        }
        if tensors.iter().any(|(other, _)| *other == name) {
            return Err(Error::Malformed {
                what: "the names give two tensors one name",
            });
        }
        let tensor = Torch {
            dtype: dtype.file(),
            shape: torch_dims(&entry).to_vec(),
            data,
        };
        tensors.push((name, tensor));
    }
    safetensors::serialize(tensors.iter().map(|(name, tensor)| (name.as_str(), tensor)), None).map_err(malformed)
}

/// Loads a safetensors file with positional `nn.Sequential` names into `net`, rejecting
/// non-finite values: `Loader::default().load_safetensors(net, bytes, &Names::new())`. On error
/// `net` is unchanged.
///
/// # Errors
/// See [`Loader::load_safetensors`].
pub fn load<T: Real, N: Parameters<T>>(net: &mut N, bytes: &[u8]) -> Result<(), Error> {
    Loader::default().load_safetensors(net, bytes, &Names::new())
}

/// Loads a safetensors file whose tensors `names` names into `net`, rejecting non-finite
/// values. On error `net` is unchanged.
///
/// # Errors
/// See [`Loader::load_safetensors`].
pub fn load_with<T: Real, N: Parameters<T>>(net: &mut N, bytes: &[u8], names: &Names) -> Result<(), Error> {
    Loader::default().load_safetensors(net, bytes, names)
}

/// Saves `net` to a safetensors file with positional names in its own scalar type (as
/// [`to_vec`]).
///
/// # Errors
/// The file system's errors; a format [`Error`] comes as [`std::io::ErrorKind::InvalidData`]
/// with the [`Error`] inside.
#[cfg(feature = "std")]
pub fn save_file<T: Real, N: Parameters<T>>(net: &N, path: impl AsRef<std::path::Path>) -> std::io::Result<()> {
    save_file_with(net, path, &Names::new(), Dtype::of::<T>())
}

/// Saves `net` to a safetensors file named by `names`, in `dtype` (as [`to_vec_with`]).
///
/// # Errors
/// As [`save_file`].
#[cfg(feature = "std")]
pub fn save_file_with<T: Real, N: Parameters<T>>(
    net: &N,
    path: impl AsRef<std::path::Path>,
    names: &Names,
    dtype: Dtype,
) -> std::io::Result<()> {
    let bytes = to_vec_with(net, names, dtype).map_err(|e| std::io::Error::new(std::io::ErrorKind::InvalidData, e))?;
    std::fs::write(path, bytes)
}

/// Loads a safetensors file with positional names into `net` (as [`load`]). On error `net` is
/// unchanged.
///
/// # Errors
/// The file system's errors; a format [`Error`] comes as [`std::io::ErrorKind::InvalidData`]
/// with the [`Error`] inside (`error.get_ref()` and `downcast_ref::<format::Error>()`).
#[cfg(feature = "std")]
pub fn load_file<T: Real, N: Parameters<T>>(net: &mut N, path: impl AsRef<std::path::Path>) -> std::io::Result<()> {
    load_file_with(net, path, &Names::new())
}

/// Loads a safetensors file whose tensors `names` names into `net` (as [`load_with`]).
///
/// # Errors
/// As [`load_file`].
#[cfg(feature = "std")]
pub fn load_file_with<T: Real, N: Parameters<T>>(
    net: &mut N,
    path: impl AsRef<std::path::Path>,
    names: &Names,
) -> std::io::Result<()> {
    let bytes = std::fs::read(path)?;
    load_with(net, &bytes, names).map_err(|e| std::io::Error::new(std::io::ErrorKind::InvalidData, e))
}

/// A tensor of the file that the network uses.
struct Found<'a> {
    entry: Entry,
    dtype: Dtype,
    data: &'a [u8],
}

impl Loader {
    /// Loads a safetensors file whose tensors `names` names into `net` (see the
    /// [module](self)). On error `net` is unchanged: every check runs before the first value is
    /// written.
    ///
    /// # Errors
    /// [`Error::Truncated`] or [`Error::Malformed`] for a file that is not valid safetensors;
    /// [`Error::NamesDiffer`] for a tensor of the network the file lacks while it holds tensors
    /// the network does not use (listed, with a suggested [`Names`]), [`Error::MissingTensor`]
    /// when it holds none; [`Error::ScalarMismatch`] for a dtype other than `F16`, `BF16`,
    /// `F32` and `F64`; [`Error::ShapeMismatch`]; [`Error::NonFinite`] (index in PyTorch's
    /// row-major order) unless non-finite values are allowed; [`Error::UnexpectedTensor`] for a
    /// tensor the network does not have; [`Error::DuplicateTensor`] for a name the header gives
    /// twice; [`Error::OutOfRange`] for a negative running variance; a `num_batches_tracked` that
    /// is not PyTorch's `I64` scalar is a [`Error::ScalarMismatch`] or [`Error::ShapeMismatch`].
    pub fn load_safetensors<T: Real, N: Parameters<T>>(
        &self,
        net: &mut N,
        bytes: &[u8],
        names: &Names,
    ) -> Result<(), Error> {
        if let Some(len) = bytes.get(..8) {
            let mut n = [0; 8];
            n.copy_from_slice(len);
            let needed = usize::try_from(u64::from_le_bytes(n))
                .unwrap_or(usize::MAX)
                .saturating_add(8);
            if needed > bytes.len() {
                return Err(Error::Truncated {
                    needed,
                    available: bytes.len(),
                });
            }
        }
        let file = SafeTensors::deserialize(bytes).map_err(malformed)?;
        if let Some(name) = repeated_name(bytes) {
            return Err(Error::DuplicateTensor {
                tensor: Name::from_bytes(name.as_bytes()),
            });
        }
        let keys: Vec<String> = weight_entries::<T, N>().map(|entry| names.key(&entry)).collect();
        let known = |name: &str| keys.iter().any(|key| key == name);
        // PyTorch's batch norm saves a step counter beside its running statistics; it only
        // matters for `momentum=None`, which this crate does not offer, so it is skipped, but
        // only in the form PyTorch writes (checked below): anything else is not that counter.
        let skipped = |name: &str| match name.strip_suffix("num_batches_tracked") {
            Some("") => known("running_mean"),
            Some(layer) => layer.ends_with('.') && known(&alloc::format!("{layer}running_mean")),
            None => false,
        };

        let mut found = Vec::with_capacity(keys.len());
        for (entry, name) in weight_entries::<T, N>().zip(&keys) {
            let Ok(view) = file.tensor(name) else {
                let mut unused: Vec<&str> = file
                    .names()
                    .into_iter()
                    .filter(|name| !known(name) && !skipped(name))
                    .collect();
                unused.sort_unstable();
                let tensor = Name::from_bytes(name.as_bytes());
                return Err(if unused.is_empty() {
                    Error::MissingTensor { tensor }
                } else {
                    Error::NamesDiffer {
                        missing: tensor,
                        position: entry.layer.unwrap_or_default(),
                        unused: NameList::new(unused.iter().map(|name| name.as_bytes()), unused.len()),
                    }
                });
            };
            let Some(dtype) = Dtype::from_file(view.dtype()) else {
                return Err(Error::ScalarMismatch {
                    expected: T::NAME,
                    found: dtype_name(view.dtype()),
                });
            };
            if !accepts(&entry, view.shape()) {
                return Err(Error::ShapeMismatch {
                    tensor: Name::from_bytes(name.as_bytes()),
                    expected: torch_shape(&entry),
                    found: Shape::new(view.shape()),
                });
            }
            let data = view.data();
            let non_finite = data
                .chunks_exact(dtype.width())
                .position(|v| !T::of(dtype.read(v)).is_finite());
            if let (false, Some(index)) = (self.allow_non_finite, non_finite) {
                return Err(Error::NonFinite {
                    tensor: Name::from_bytes(name.as_bytes()),
                    index,
                });
            }
            if entry.non_negative {
                super::container::check_non_negative(&entry, data.chunks_exact(dtype.width()).map(|v| dtype.read(v)))?;
            }
            found.push(Found { entry, dtype, data });
        }
        for name in file.names() {
            if known(name) {
                continue;
            }
            if !skipped(name) {
                return Err(Error::UnexpectedTensor {
                    tensor: Name::from_bytes(name.as_bytes()),
                    expected: None,
                });
            }
            let view = file.tensor(name).map_err(malformed)?;
            if view.dtype() != safetensors::Dtype::I64 {
                return Err(Error::ScalarMismatch {
                    expected: "I64",
                    found: dtype_name(view.dtype()),
                });
            }
            if !matches!(view.shape(), [] | [1]) {
                return Err(Error::ShapeMismatch {
                    tensor: Name::from_bytes(name.as_bytes()),
                    expected: Shape::new(&[]),
                    found: Shape::new(view.shape()),
                });
            }
        }

        let parameters = N::tensor_infos().count();
        let (tensors, buffers) = found.split_at(parameters);
        for (out, tensor) in net.tensors_mut().zip(tensors) {
            transpose_into(out, tensor);
        }
        for (out, tensor) in net.buffers_mut().zip(buffers) {
            transpose_into(out, tensor);
        }
        Ok(())
    }
}

/// Writes PyTorch's row-major data into column-major storage, converting to `T`.
fn transpose_into<T: Real>(out: &mut [T], tensor: &Found<'_>) {
    let entry = &tensor.entry;
    for (i, v) in tensor.data.chunks_exact(tensor.dtype.width()).enumerate() {
        let (r, c) = (i / entry.cols, i % entry.cols);
        out[c * entry.rows + r] = T::of(tensor.dtype.read(v));
    }
}

/// The first tensor name that the JSON header of a safetensors file (already accepted by the
/// reader) gives twice, compared after unescaping. The reader keeps the last of equal keys, so
/// such a file would otherwise load one of two different tensors silently. The key list is
/// bounded by the header's size.
fn repeated_name(bytes: &[u8]) -> Option<String> {
    struct Keys(Vec<String>);

    impl<'de> Deserialize<'de> for Keys {
        fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
            struct KeyVisitor;
            impl<'de> Visitor<'de> for KeyVisitor {
                type Value = Keys;
                fn expecting(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
                    f.write_str("a JSON object")
                }
                fn visit_map<M: MapAccess<'de>>(self, mut map: M) -> Result<Keys, M::Error> {
                    let mut keys = Vec::new();
                    while let Some(key) = map.next_key::<String>()? {
                        map.next_value::<IgnoredAny>()?;
                        keys.push(key);
                    }
                    Ok(Keys(keys))
                }
            }
            deserializer.deserialize_map(KeyVisitor)
        }
    }

    let mut len = [0; 8];
    len.copy_from_slice(bytes.get(..8)?);
    let end = usize::try_from(u64::from_le_bytes(len)).ok()?.checked_add(8)?;
    let Keys(mut keys) = serde_json::from_slice(bytes.get(8..end)?).ok()?;
    keys.sort_unstable();
    keys.windows(2)
        .find(|pair| pair[0] == pair[1])
        .map(|pair| pair[0].clone())
}
