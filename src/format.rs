//! Saving and loading weights and checkpoints: a versioned binary format that loads in `no_std`
//! without allocating, Rust source generation for weights compiled into a binary, and
//! safetensors for PyTorch.
//!
//! # Three ways to ship a trained network
//!
//! | path | function | at run time | needs |
//! |---|---|---|---|
//! | bytes | [`save`] / [`load`] (`include_bytes!`, flash, a file) | validate, then copy into the network | nothing: `no_std`, no allocator |
//! | Rust source | [`rust_source`] writes a `static`/`const` item | nothing: the weights are the binary's data | `std` to generate; nothing to use |
//! | quantised | [`save_int8`] / [`load_int8`] for an [`Int8Network`](crate::quantised::Int8Network), or its [`AsConst`](crate::AsConst) as Rust source | as bytes or Rust source | as bytes or Rust source |
//! | PyTorch | `format::safetensors` (`safetensors` feature) | parse, transpose | `alloc` |
//! | TensorFlow Lite | `format::tflite::read` (`tflite` feature), `int8` models into an [`Int8Network`](crate::quantised::Int8Network) | verify, check against the type, build | `alloc` |
//!
//! ```
//! use static_nn::{format, Dense, Init, Parameters, Rng, Tanh};
//!
//! type Net = (Dense<f32, 2, 8>, Tanh, Dense<f32, 8, 1>);
//! let trained = Net::build(Init::PyTorch, &mut Rng::new(1));
//!
//! // Save into a caller's buffer (no allocation; `format::to_vec` and `save_file` exist with std).
//! let mut buffer = [0u8; 512];
//! let len = format::save(&trained, &mut buffer).unwrap();
//! assert_eq!(len, format::saved_len::<f32, Net>());
//!
//! // Load: everything is checked before anything is written.
//! let mut net = Net::build(Init::PyTorch, &mut Rng::new(2));
//! format::load(&mut net, &buffer[..len]).unwrap();
//! assert_eq!(net.0.weight, trained.0.weight);
//!
//! // Another network's weights are refused, naming the tensor.
//! let mut wider = <(Dense<f32, 2, 16>, Tanh, Dense<f32, 16, 1>)>::build(Init::PyTorch, &mut Rng::new(3));
//! let error = format::load(&mut wider, &buffer[..len]).unwrap_err();
//! assert_eq!(error.to_string(), "shape mismatch for 0.weight: the network has [16, 2], the file [8, 2]");
//! ```
//!
//! What a file holds is what PyTorch's `state_dict` holds: a network's trainable tensors
//! ([`Tensors::tensors`](crate::Tensors::tensors)) and its buffers ([`Parameters::buffers`], e.g. batch-norm running
//! statistics). Hyperparameters that are part of a layer's value but not tensors (a
//! [`LeakyRelu`](crate::LeakyRelu)'s slope) come from the network you load into, as in PyTorch;
//! [`rust_source`] does write them.
//!
//! # The binary format, version 1
//!
//! All integers and scalars are little-endian. A file is a header, a directory, the data and a
//! checksum, with no padding:
//!
//! | offset | bytes | field |
//! |---|---|---|
//! | 0 | 8 | magic `89 53 4E 4E 0D 0A 1A 0A` (`\x89SNN\r\n\x1a\n`: the high byte and the line endings catch 7-bit and text-mode copies, as PNG's do) |
//! | 8 | 2 | format version, `u16` = 1 |
//! | 10 | 1 | scalar width in bytes: 4 for `f32`, 8 for `f64` (IEEE 754 binary32 / binary64) |
//! | 11 | 1 | reserved, 0 |
//! | 12 | 4 | number of directory entries `n`, `u32` |
//! | 16 | 8 | shape signature, `u64` (below) |
//! | 24 | 8 | total length of the file in bytes, checksum included, `u64` |
//! | 32 | … | `n` directory entries |
//! | … | … | the data of each entry, in directory order |
//! | end − 4 | 4 | CRC-32 (IEEE 802.3, as zlib's `crc32`) of every byte before it, `u32` |
//!
//! A directory entry (10 bytes plus the name):
//!
//! | offset | bytes | field |
//! |---|---|---|
//! | 0 | 1 | kind: 0 parameter, 1 buffer, 2 training state, 3 counter, 4 `i8` tensor, 5 `i32` tensor |
//! | 1 | 1 | name length `k` (1–255) |
//! | 2 | 4 | rows, `u32` |
//! | 6 | 4 | columns, `u32` |
//! | 10 | `k` | name, UTF-8, no terminator |
//!
//! Names are PyTorch's `nn.Sequential` names, `{layer}.{name}` (`0.weight`, `2.bias`,
//! `1.running_mean`), from [`TensorInfo`](crate::TensorInfo); a checkpoint's training state is prefixed with its
//! owner (`optimizer.0.weight`, `optimizer.lr`, `optimizer.steps`, `extra.state`). The data of
//! parameters, buffers and training state is `rows × cols` scalars in **column-major** order
//! (entry `(r, c)` at index `c·rows + r`, nalgebra's memory order; a `Dense` weight is
//! `out × in`, so PyTorch's row-major `[out, in]` array is its transpose in memory). A counter
//! is one `u64` (its rows and columns are 1). The `i8` and `i32` tensors of a quantised
//! network ([`save_int8`]) are `rows × cols` integers in **row-major** order (TFLite's
//! `[out, in]`), `i32` little-endian; its encodings' scales are `f32` parameters (`input.scale`,
//! `output.scale`) with `i8` zero points.
//!
//! The **shape signature** is 64-bit FNV-1a (offset basis `0xcbf29ce484222325`, prime
//! `0x100000001b3`) over the scalar-width byte followed by the directory bytes exactly as
//! stored. It identifies the network type (scalar type, tensor names, shapes, order) in 8 bytes;
//! [`signature`] computes it for a type.
//!
//! # Validation
//!
//! [`Loader`] checks, in this order, and writes nothing before all checks pass, so a failed
//! load leaves the network bit-identical: the length of the header ([`Error::Truncated`]), the
//! magic ([`Error::BadMagic`]), the version, the scalar type, the declared length against the
//! input's, the checksum, every directory entry against the network's tensors in order (name
//! and kind, then shape), the signature, the data length, and finally that every value is
//! finite (unless [`Loader::allow_non_finite`]) and every running variance ≥ 0
//! ([`Error::OutOfRange`]; [`Parameters::non_negative_buffers`] says which buffers are
//! variances). A checkpoint's extra counters are then offered to
//! [`Counters::check_counter`]. Loading and saving into a buffer allocate
//! nothing and work in `no_std`.
//!
//! # Compile-time embedding
//!
//! Constant trait methods are not stable Rust, so a generic `const fn` cannot decode bytes into
//! any network. Instead [`rust_source`] (with `std`) writes a Rust item that builds the network
//! from its layers' `const` constructors, e.g. `Dense::new(SMatrix::from_array_storage(..))`;
//! `include!` it and the weights are the binary's read-only data, with no parsing, checksum or
//! copy at run time. Each layer says how to write itself through [`ConstExpr`](crate::ConstExpr).
//!
//! # Checkpoints
//!
//! [`save_checkpoint`] adds to the weights the optimizer's state tensors, its learning rate and
//! step count, and any extra [`Counters`] (a schedule's position, a random generator), so that
//! training resumed from a checkpoint is bit-identical to training that never stopped.

mod checkpoint;
#[cfg(feature = "alloc")]
mod codegen;
mod container;
mod crc32;
mod error;
mod int8;
#[cfg(feature = "safetensors")]
pub mod safetensors;
#[cfg(feature = "tflite")]
pub mod tflite;

pub use crate::{Number, Rejected};
#[cfg(feature = "alloc")]
pub use checkpoint::checkpoint_to_vec;
pub use checkpoint::{checkpoint_len, load_checkpoint, save_checkpoint};
#[cfg(feature = "alloc")]
pub use codegen::rust_source;
pub use error::{Error, Name, NameList, Shape};
#[cfg(feature = "alloc")]
pub use int8::int8_to_vec;
pub use int8::{int8_saved_len, load_int8, save_int8};

use container::{Data, Entry, Kind, Value};

use crate::{Counters, Optimizer, Parameters, Real};

/// The format version this build reads and writes.
pub const VERSION: u16 = container::VERSION;

/// The directory of a network's weights: its parameters, then its buffers.
fn weight_entries<T: Real, N: Parameters<T>>() -> impl Iterator<Item = Entry> {
    let parameters = N::tensor_infos().map(|info| Entry::tensor(Kind::Parameter, "", info));
    let buffers = N::buffer_infos()
        .zip(N::non_negative_buffers())
        .map(|(info, non_negative)| Entry::tensor(Kind::Buffer, "", info).non_negative(non_negative));
    parameters.chain(buffers)
}

fn weight_values<T: Real, N: Parameters<T>>(net: &N) -> impl Iterator<Item = Value<'_, T>> {
    net.tensors().chain(net.buffers()).map(Value::Reals)
}

fn read_weights<T: Real, N: Parameters<T>>(net: &mut N, data: &mut Data<'_>) {
    for tensor in net.tensors_mut() {
        data.read_reals(tensor);
    }
    for buffer in net.buffers_mut() {
        data.read_reals(buffer);
    }
}

/// The size in bytes of the file [`save`] writes for a network of type `N`.
pub fn saved_len<T: Real, N: Parameters<T>>() -> usize {
    container::encoded_len::<T>(weight_entries::<T, N>())
}

/// The shape signature of `N`'s weight files: a 64-bit digest of the scalar type and of every
/// tensor's name, shape and place (see the [format](self#the-binary-format-version-1)). Two
/// network types with the same signature have the same tensors.
///
/// ```
/// use static_nn::{format, Dense, Relu, Tanh};
/// let a = format::signature::<f32, (Dense<f32, 4, 8>, Tanh, Dense<f32, 8, 3>)>();
/// let b = format::signature::<f32, (Dense<f32, 4, 8>, Relu, Dense<f32, 8, 3>)>();
/// let c = format::signature::<f32, (Dense<f32, 4, 9>, Tanh, Dense<f32, 9, 3>)>();
/// assert_eq!(a, b); // activations hold no tensors
/// assert_ne!(a, c);
/// ```
pub fn signature<T: Real, N: Parameters<T>>() -> u64 {
    container::signature::<T>(weight_entries::<T, N>())
}

/// Writes `net`'s parameters and buffers into `out` and returns the number of bytes written
/// ([`saved_len`]). Allocates nothing.
///
/// # Errors
/// [`Error::BufferTooSmall`] if `out` is shorter than [`saved_len`]; [`Error::Malformed`] for a
/// network the format cannot describe (a tensor name over 255 bytes, a dimension over 2³²).
pub fn save<T: Real, N: Parameters<T>>(net: &N, out: &mut [u8]) -> Result<usize, Error> {
    container::encode(weight_entries::<T, N>, |put| weight_values(net).for_each(put), out)
}

/// [`save`] into a new vector.
///
/// # Errors
/// As [`save`], except that the buffer is always large enough.
#[cfg(feature = "alloc")]
pub fn to_vec<T: Real, N: Parameters<T>>(net: &N) -> Result<alloc::vec::Vec<u8>, Error> {
    let mut bytes = alloc::vec![0; saved_len::<T, N>()];
    save(net, &mut bytes)?;
    Ok(bytes)
}

/// Loads weights saved by [`save`] into `net`, rejecting non-finite values: the same as
/// `Loader::default().load(net, bytes)`. On error `net` is unchanged.
///
/// # Errors
/// See [`Loader::load`].
pub fn load<T: Real, N: Parameters<T>>(net: &mut N, bytes: &[u8]) -> Result<(), Error> {
    Loader::default().load(net, bytes)
}

/// Saves `net`'s weights to a file.
///
/// # Errors
/// The file system's errors; a format [`Error`] from [`save`] comes as
/// [`std::io::ErrorKind::InvalidData`] with the [`Error`] inside.
#[cfg(feature = "std")]
pub fn save_file<T: Real, N: Parameters<T>>(net: &N, path: impl AsRef<std::path::Path>) -> std::io::Result<()> {
    let bytes = to_vec(net).map_err(|e| std::io::Error::new(std::io::ErrorKind::InvalidData, e))?;
    std::fs::write(path, bytes)
}

/// Loads a file written by [`save_file`] into `net`, rejecting non-finite values. On error
/// `net` is unchanged.
///
/// # Errors
/// The file system's errors; a format [`Error`] comes as [`std::io::ErrorKind::InvalidData`]
/// with the [`Error`] inside (`error.get_ref()` and `downcast_ref::<format::Error>()`).
#[cfg(feature = "std")]
pub fn load_file<T: Real, N: Parameters<T>>(net: &mut N, path: impl AsRef<std::path::Path>) -> std::io::Result<()> {
    let bytes = std::fs::read(path)?;
    load(net, &bytes).map_err(|e| std::io::Error::new(std::io::ErrorKind::InvalidData, e))
}

/// How to load: the checks to make. `Loader::default()` makes them all.
///
/// ```
/// use static_nn::{format, Dense, Parameters};
/// use static_nn::format::{Error, Loader};
///
/// let mut net = Dense::<f64, 2, 1>::zeros();
/// net.bias[0] = f64::NAN;
/// let bytes = format::to_vec(&net).unwrap();
/// assert!(matches!(format::load(&mut net, &bytes), Err(Error::NonFinite { index: 0, .. })));
/// Loader::default().allow_non_finite().load(&mut net, &bytes).unwrap();
/// ```
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Loader {
    /// Accept NaN and infinite values (default: reject them with [`Error::NonFinite`]).
    pub allow_non_finite: bool,
}

impl Loader {
    /// Accepts NaN and infinite values.
    pub const fn allow_non_finite(self) -> Self {
        Self { allow_non_finite: true }
    }

    /// Loads weights saved by [`save`] into `net`. Allocates nothing. On error `net` is
    /// unchanged: every check runs before the first value is written.
    ///
    /// # Errors
    /// Whichever check fails first, in the order of the [validation](self#validation) list.
    pub fn load<T: Real, N: Parameters<T>>(&self, net: &mut N, bytes: &[u8]) -> Result<(), Error> {
        let mut data = container::validate::<T, _>(bytes, weight_entries::<T, N>, self.allow_non_finite)?;
        read_weights(net, &mut data);
        Ok(())
    }

    /// Loads a checkpoint saved by [`save_checkpoint`] into a network, its optimizer and extra
    /// training state. Allocates nothing; on error nothing is changed.
    ///
    /// # Errors
    /// As [`Loader::load`], over the checkpoint's longer directory.
    pub fn load_checkpoint<T, N, O, E>(
        &self,
        net: &mut N,
        optimizer: &mut O,
        extra: &mut E,
        bytes: &[u8],
    ) -> Result<(), Error>
    where
        T: Real,
        N: Parameters<T>,
        O: Optimizer<T, N>,
        E: Counters,
    {
        checkpoint::load(net, optimizer, extra, bytes, self.allow_non_finite)
    }
}
