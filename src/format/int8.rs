//! Quantised networks in the binary format: the `int8` layers' integer tensors (kinds 4 and
//! 5), then the input and output encodings.

use super::container::{self, Entry, Kind, Value};
use super::{Error, Number};
use crate::quantised::{Int8Element, Int8Network, Int8Tensors, Int8Values, Int8ValuesMut};

/// The entries of the encodings, after the layers': `input.scale` (`f32`),
/// `input.zero_point` (`i8`), `output.scale`, `output.zero_point`.
fn encoding_entries() -> [Entry; 4] {
    [
        Entry::scalar(Kind::Parameter, "input", "scale"),
        Entry::scalar(Kind::Int8, "input", "zero_point"),
        Entry::scalar(Kind::Parameter, "output", "scale"),
        Entry::scalar(Kind::Int8, "output", "zero_point"),
    ]
}

fn entries<N: Int8Tensors>() -> impl Iterator<Item = Entry> {
    let layers = (0..N::COUNT).map(|index| {
        let (info, element) = N::info(index, 0);
        let kind = match element {
            Int8Element::Int8 => Kind::Int8,
            Int8Element::Int32 => Kind::Int32,
        };
        Entry::tensor(kind, "", info)
    });
    layers.chain(encoding_entries())
}

/// The size in bytes of the file [`save_int8`] writes for an `int8` network of layers `N`.
pub fn int8_saved_len<N: Int8Tensors>() -> usize {
    container::encoded_len::<f32>(entries::<N>())
}

/// Writes a quantised network into `out` and returns the number of bytes written
/// ([`int8_saved_len`]): every layer's tensors ([`Int8Tensors`], integers stored as they are,
/// matrices row-major), then the input and output encodings (scales as `f32`). The file is a
/// version-1 file of `f32` scalars (see the [format](super#the-binary-format-version-1)).
/// Allocates nothing.
///
/// ```
/// use static_nn::format;
/// use static_nn::quantised::{Int8Network, Ranges};
/// use static_nn::{Dense, Init, Parameters, Relu, Rng};
///
/// type Net = (Dense<f32, 2, 4>, Relu, Dense<f32, 4, 1>);
/// let net = Net::build(Init::PyTorch, &mut Rng::new(1));
/// let calibration = [[0.5_f32, -1.0], [1.0, 0.25], [-0.5, 0.75]];
/// let int8 = Int8Network::quantise(&net, &calibration, Ranges::MinMax).unwrap();
///
/// let bytes = format::int8_to_vec(&int8).unwrap();
/// let mut loaded = int8.clone();
/// loaded.input.scale = 1.0;
/// format::load_int8(&mut loaded, &bytes).unwrap();
/// assert_eq!(loaded, int8);
/// ```
///
/// # Errors
/// [`Error::BufferTooSmall`] if `out` is shorter than [`int8_saved_len`].
pub fn save_int8<N: Int8Tensors, const I: usize>(net: &Int8Network<N, I>, out: &mut [u8]) -> Result<usize, Error> {
    container::encode(
        entries::<N>,
        |put| {
            net.network.visit(&mut |values| match values {
                Int8Values::Int8(values) => put(Value::Int8(values)),
                Int8Values::Int32(values) => put(Value::Int32(values)),
            });
            for encoding in [net.input, net.output] {
                put(Value::Reals(&[encoding.scale]));
                put(Value::Int8(&[encoding.zero_point]));
            }
        },
        out,
    )
}

/// [`save_int8`] into a new vector.
///
/// # Errors
/// As [`save_int8`], except that the buffer is always large enough.
#[cfg(feature = "alloc")]
pub fn int8_to_vec<N: Int8Tensors, const I: usize>(net: &Int8Network<N, I>) -> Result<alloc::vec::Vec<u8>, Error> {
    let mut bytes = alloc::vec![0; int8_saved_len::<N>()];
    save_int8(net, &mut bytes)?;
    Ok(bytes)
}

/// Loads a quantised network saved by [`save_int8`] into `net`. Allocates nothing. On error
/// `net` is unchanged: every check runs before the first value is written.
///
/// # Errors
/// The container's checks in the order of the [validation](super#validation) list (length,
/// magic, version, scalar type, checksum, every entry's name, kind and shape, signature),
/// then [`Error::NonFinite`] or [`Error::OutOfRange`] for a scale that is not a positive
/// finite number. Every integer is accepted: the kernels give TFLite's integers for any of
/// them (see [`Int8Dense`](crate::quantised::Int8Dense)).
pub fn load_int8<N: Int8Tensors, const I: usize>(net: &mut Int8Network<N, I>, bytes: &[u8]) -> Result<(), Error> {
    let mut data = container::validate::<f32, _>(bytes, entries::<N>, false)?;
    let mut scales = data.clone();
    for entry in entries::<N>().take(N::COUNT) {
        scales.skip::<f32>(&entry);
    }
    for entry in encoding_entries() {
        if entry.kind == Kind::Int8 {
            scales.skip::<f32>(&entry);
            continue;
        }
        let scale = scales.reals::<f32>(1).fold(0.0, |_, v| v);
        if scale <= 0.0 {
            return Err(Error::OutOfRange {
                tensor: entry.display_name(),
                index: 0,
                value: Number::real(f64::from(scale)),
                expected: "> 0",
            });
        }
    }
    net.network.load(&mut |values| match values {
        Int8ValuesMut::Int8(values) => data.read_int8(values),
        Int8ValuesMut::Int32(values) => data.read_int32(values),
    });
    for encoding in [&mut net.input, &mut net.output] {
        data.read_reals(core::slice::from_mut(&mut encoding.scale));
        data.read_int8(core::slice::from_mut(&mut encoding.zero_point));
    }
    Ok(())
}
