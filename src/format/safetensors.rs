//! PyTorch interchange through [safetensors](https://huggingface.co/docs/safetensors) files
//! (feature `safetensors`, which needs an allocator for the file's JSON header).
//!
//! Tensors are named as PyTorch's `nn.Sequential` names them in a `state_dict` (`0.weight`,
//! `0.bias`, `2.weight`, buffers such as `1.running_mean`) and laid out as PyTorch lays them out:
//! row-major, a `Dense<T, I, O>` weight as `[O, I]` (like `nn.Linear.weight`), a one-column
//! tensor (a bias, a batch-norm statistic) as a vector `[O]`. The scalar type is `F32` for
//! `f32` networks and `F64` for `f64` ones.
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
//! let bytes = std::fs::read("tests/fixtures/pytorch_mlp.safetensors").unwrap();
//! let mut net = Net::build(Init::PyTorch, &mut Rng::new(0));
//! safetensors::import(&mut net, &bytes).unwrap();
//!
//! let exported = safetensors::export(&net).unwrap(); // loads back into PyTorch the same way
//! let mut again = Net::build(Init::PyTorch, &mut Rng::new(1));
//! safetensors::import(&mut again, &exported).unwrap();
//! assert_eq!(again.4.weight, net.4.weight);
//! ```
//!
//! Import is strict: every tensor of the network must be in the file with its dtype and shape,
//! exactly once, and the file must hold nothing else, except PyTorch's `BatchNorm` step counter
//! `{layer}.num_batches_tracked` (an `I64` scalar or `[1]`, as PyTorch writes it) next to a
//! batch norm's `{layer}.running_mean`, which is skipped (it only matters for PyTorch's
//! `momentum=None`, which [`BatchNorm`](crate::BatchNorm) does not offer). Export does not write
//! it. Like [`load`](super::load), a failed import leaves the network unchanged.
//!
//! Shapes are PyTorch's ([`TensorInfo::torch_dims`](crate::TensorInfo::torch_dims)): `[out, in]`
//! for a linear weight, `[out]` for a bias, `[out, in, kernel]` for a convolution weight (import
//! also accepts its `(out, in · kernel)` reshape).

use alloc::borrow::Cow;
use alloc::string::String;
use alloc::vec::Vec;
use core::mem::{size_of, size_of_val};

use safetensors::{Dtype, SafeTensorError, SafeTensors, View};
use serde::de::{Deserialize, Deserializer, IgnoredAny, MapAccess, Visitor};

use super::container::Entry;
use super::{Error, Loader, Name, Shape, weight_entries};
use crate::{Parameters, Real, TensorInfo, TorchDims, TorchShape};

/// PyTorch's `state_dict` key of an entry: `{layer}.{name}`.
fn key(entry: &Entry) -> String {
    alloc::format!("{}.{}", entry.layer.unwrap_or_default(), entry.name)
}

fn dtype<T: Real>() -> Dtype {
    if size_of::<T>() == 4 { Dtype::F32 } else { Dtype::F64 }
}

fn dtype_name(dtype: Dtype) -> &'static str {
    match dtype {
        Dtype::F16 => "F16",
        Dtype::BF16 => "BF16",
        Dtype::F32 => "F32",
        Dtype::F64 => "F64",
        Dtype::I64 => "I64",
        Dtype::I32 => "I32",
        Dtype::U8 => "U8",
        Dtype::BOOL => "BOOL",
        _ => "a dtype other than F32 or F64",
    }
}

/// The shape PyTorch gives the tensor: a vector for one column, else `[rows, cols]`.
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
    dtype: Dtype,
    shape: Vec<usize>,
    data: Vec<u8>,
}

impl View for &Torch {
    fn dtype(&self) -> Dtype {
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

/// A safetensors file holding `net`'s parameters and buffers, with PyTorch's names and layout.
///
/// # Errors
/// [`Error::Malformed`] if the safetensors writer refuses the tensors (it cannot for networks
/// of this crate).
pub fn export<T: Real, N: Parameters<T>>(net: &N) -> Result<Vec<u8>, Error> {
    let tensors: Vec<(String, Torch)> = weight_entries::<T, N>()
        .zip(net.tensors().chain(net.buffers()))
        .map(|(entry, values)| {
            let mut data = Vec::with_capacity(size_of_val(values));
            // Row-major: entry (r, c) of PyTorch's array is values[c * rows + r].
            for r in 0..entry.rows {
                for c in 0..entry.cols {
                    let mut v = values[c * entry.rows + r];
                    if cfg!(target_endian = "big") {
                        bytemuck::bytes_of_mut(&mut v).reverse();
                    }
                    data.extend_from_slice(bytemuck::bytes_of(&v));
                }
            }
            let tensor = Torch {
                dtype: dtype::<T>(),
                shape: torch_dims(&entry).to_vec(),
                data,
            };
            (key(&entry), tensor)
        })
        .collect();
    safetensors::serialize(tensors.iter().map(|(name, tensor)| (name.as_str(), tensor)), None).map_err(malformed)
}

/// Loads a safetensors file with PyTorch's names and layout into `net`, rejecting non-finite
/// values: `Loader::default().import_safetensors(net, bytes)`. On error `net` is unchanged.
///
/// # Errors
/// See [`Loader::import_safetensors`].
pub fn import<T: Real, N: Parameters<T>>(net: &mut N, bytes: &[u8]) -> Result<(), Error> {
    Loader::default().import_safetensors(net, bytes)
}

impl Loader {
    /// Loads a safetensors file with PyTorch's names and layout into `net` (see the
    /// [module](self)). On error `net` is unchanged: every check runs before the first value is
    /// written.
    ///
    /// # Errors
    /// [`Error::Truncated`] or [`Error::Malformed`] for a file that is not valid safetensors;
    /// [`Error::MissingTensor`] for a tensor of the network the file lacks;
    /// [`Error::ScalarMismatch`] for a dtype other than the network's;
    /// [`Error::ShapeMismatch`]; [`Error::NonFinite`] (index in PyTorch's row-major order) unless
    /// non-finite values are allowed; [`Error::UnexpectedTensor`] for a tensor the network does
    /// not have; [`Error::DuplicateTensor`] for a name the header gives twice;
    /// [`Error::OutOfRange`] for a negative running variance; a
    /// `num_batches_tracked` that is not PyTorch's `I64` scalar is a [`Error::ScalarMismatch`]
    /// or [`Error::ShapeMismatch`].
    pub fn import_safetensors<T: Real, N: Parameters<T>>(&self, net: &mut N, bytes: &[u8]) -> Result<(), Error> {
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

        let mut views = Vec::new();
        for entry in weight_entries::<T, N>() {
            let name = key(&entry);
            let view = file.tensor(&name).map_err(|_| Error::MissingTensor {
                tensor: Name::from_bytes(name.as_bytes()),
            })?;
            if view.dtype() != dtype::<T>() {
                return Err(Error::ScalarMismatch {
                    expected: T::NAME,
                    found: dtype_name(view.dtype()),
                });
            }
            if !accepts(&entry, view.shape()) {
                return Err(Error::ShapeMismatch {
                    tensor: Name::from_bytes(name.as_bytes()),
                    expected: torch_shape(&entry),
                    found: Shape::new(view.shape()),
                });
            }
            let data = view.data();
            let non_finite = data
                .chunks_exact(size_of::<T>())
                .position(|v| !read::<T>(v).is_finite());
            if let (false, Some(index)) = (self.allow_non_finite, non_finite) {
                return Err(Error::NonFinite {
                    tensor: Name::from_bytes(name.as_bytes()),
                    index,
                });
            }
            if entry.non_negative {
                super::container::check_non_negative(
                    &entry,
                    data.chunks_exact(size_of::<T>()).map(|v| read::<T>(v).to_f64()),
                )?;
            }
            views.push((entry, data));
        }
        let known = |name: &str| views.iter().any(|(entry, _)| key(entry) == name);
        // PyTorch's batch norm saves a step counter beside its running statistics; it only
        // matters for `momentum=None`, which this crate does not offer, so it is skipped, but
        // only in the form PyTorch writes: anything else is not that counter.
        let skipped = |name: &str| {
            name.strip_suffix(".num_batches_tracked")
                .is_some_and(|layer| known(&alloc::format!("{layer}.running_mean")))
        };
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
            if view.dtype() != Dtype::I64 {
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
        let (tensors, buffers) = views.split_at(parameters);
        for (out, (entry, data)) in net.tensors_mut().zip(tensors) {
            transpose_into(out, entry, data);
        }
        for (out, (entry, data)) in net.buffers_mut().zip(buffers) {
            transpose_into(out, entry, data);
        }
        Ok(())
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

/// Writes PyTorch's row-major data into column-major storage.
fn transpose_into<T: Real>(out: &mut [T], entry: &Entry, data: &[u8]) {
    for (i, v) in data.chunks_exact(size_of::<T>()).enumerate() {
        let (r, c) = (i / entry.cols, i % entry.cols);
        out[c * entry.rows + r] = read(v);
    }
}

/// A scalar from its little-endian bytes.
fn read<T: Real>(bytes: &[u8]) -> T {
    let mut v = T::zero();
    bytemuck::bytes_of_mut(&mut v).copy_from_slice(bytes);
    if cfg!(target_endian = "big") {
        bytemuck::bytes_of_mut(&mut v).reverse();
    }
    v
}
