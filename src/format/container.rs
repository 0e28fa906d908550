//! The container shared by weight files and checkpoints: header, directory, data, checksum.
//! The byte layout is specified in the [module documentation](super).

use core::mem::{size_of, size_of_val};

use super::crc32::{Crc32, crc32};
use super::error::{Error, Name, Shape, decimal};
use crate::Number;
#[cfg(feature = "safetensors")]
use crate::TorchShape;
use crate::{Real, TensorInfo};

pub(crate) const MAGIC: [u8; 8] = *b"\x89SNN\r\n\x1a\n";
pub(crate) const VERSION: u16 = 1;
pub(crate) const HEADER_LEN: usize = 32;
const ENTRY_HEAD_LEN: usize = 10;
const CHECKSUM_LEN: usize = 4;

/// What a directory entry holds; stored as its discriminant.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Kind {
    /// A trainable tensor of the network.
    Parameter = 0,
    /// A buffer of the network (saved, not trained).
    Buffer = 1,
    /// A tensor of training state (an optimizer's moments, its learning rate).
    State = 2,
    /// One `u64` counter (steps taken, a schedule's position).
    Counter = 3,
    /// A tensor of `i8` (an `int8` layer's weights, shifts, zero points, table).
    Int8 = 4,
    /// A tensor of little-endian `i32` (an `int8` layer's biases and multipliers).
    Int32 = 5,
}

impl Kind {
    fn from_byte(byte: u8) -> Option<Self> {
        match byte {
            0 => Some(Kind::Parameter),
            1 => Some(Kind::Buffer),
            2 => Some(Kind::State),
            3 => Some(Kind::Counter),
            4 => Some(Kind::Int8),
            5 => Some(Kind::Int32),
            _ => None,
        }
    }

    fn element_len<T>(self) -> usize {
        match self {
            Kind::Counter => size_of::<u64>(),
            Kind::Int8 => size_of::<i8>(),
            Kind::Int32 => size_of::<i32>(),
            Kind::Parameter | Kind::Buffer | Kind::State => size_of::<T>(),
        }
    }
}

/// One entry of a directory: what a file holds, or what a network expects it to hold.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Entry {
    pub(crate) kind: Kind,
    /// A section name such as `optimizer`, or empty for the network's own tensors.
    pub(crate) prefix: &'static str,
    pub(crate) layer: Option<usize>,
    pub(crate) name: &'static str,
    pub(crate) rows: usize,
    pub(crate) cols: usize,
    /// How PyTorch shapes the tensor (safetensors only; the binary format stores rows × cols).
    #[cfg(feature = "safetensors")]
    pub(crate) torch: TorchShape,
    /// Whether every value must be ≥ 0 (a running variance); checked at load, not stored.
    pub(crate) non_negative: bool,
}

impl Entry {
    pub(crate) fn tensor(kind: Kind, prefix: &'static str, info: TensorInfo) -> Self {
        Self {
            kind,
            prefix,
            layer: Some(info.layer),
            name: info.name,
            rows: info.rows,
            cols: info.cols,
            #[cfg(feature = "safetensors")]
            torch: info.torch,
            non_negative: false,
        }
    }

    /// The same entry, whose values must be ≥ 0 if `non_negative`.
    pub(crate) fn non_negative(self, non_negative: bool) -> Self {
        Self { non_negative, ..self }
    }

    pub(crate) fn scalar(kind: Kind, prefix: &'static str, name: &'static str) -> Self {
        Self {
            kind,
            prefix,
            layer: None,
            name,
            rows: 1,
            cols: 1,
            #[cfg(feature = "safetensors")]
            torch: crate::TorchShape::Rank1,
            non_negative: false,
        }
    }

    /// Calls `f` with the pieces of the full name, `prefix.layer.name`, in order.
    fn for_each_name_part(&self, mut f: impl FnMut(&[u8])) {
        if !self.prefix.is_empty() {
            f(self.prefix.as_bytes());
            f(b".");
        }
        if let Some(layer) = self.layer {
            f(decimal(layer).as_bytes());
            f(b".");
        }
        f(self.name.as_bytes());
    }

    fn name_len(&self) -> usize {
        let mut len = 0;
        self.for_each_name_part(|part| len += part.len());
        len
    }

    fn name_is(&self, bytes: &[u8]) -> bool {
        let mut rest = bytes;
        let mut same = true;
        self.for_each_name_part(|part| match rest.strip_prefix(part) {
            Some(tail) if same => rest = tail,
            _ => same = false,
        });
        same && rest.is_empty()
    }

    pub(crate) fn display_name(&self) -> Name {
        let mut name = Name::empty();
        self.for_each_name_part(|part| name.push(part));
        name
    }

    /// Whether the entry holds scalars of the file's type (not a counter or integers).
    pub(crate) fn holds_reals(&self) -> bool {
        matches!(self.kind, Kind::Parameter | Kind::Buffer | Kind::State)
    }

    pub(crate) fn len(&self) -> usize {
        self.rows * self.cols
    }

    pub(crate) fn data_len<T>(&self) -> usize {
        self.len() * self.kind.element_len::<T>()
    }

    /// Kind, name length, rows and columns as stored (the name follows them).
    fn head(&self) -> [u8; ENTRY_HEAD_LEN] {
        let mut head = [0; ENTRY_HEAD_LEN];
        head[0] = self.kind as u8;
        head[1] = self.name_len() as u8;
        head[2..6].copy_from_slice(&(self.rows as u32).to_le_bytes());
        head[6..10].copy_from_slice(&(self.cols as u32).to_le_bytes());
        head
    }
}

/// A value to save, in directory order.
pub(crate) enum Value<'a, T> {
    Reals(&'a [T]),
    Counter(u64),
    Int8(&'a [i8]),
    Int32(&'a [i32]),
}

/// The size in bytes of a file with this directory.
pub(crate) fn encoded_len<T>(entries: impl Iterator<Item = Entry>) -> usize {
    HEADER_LEN
        + entries
            .map(|e| ENTRY_HEAD_LEN + e.name_len() + e.data_len::<T>())
            .sum::<usize>()
        + CHECKSUM_LEN
}

/// 64-bit FNV-1a over the scalar width and the encoded directory.
pub(crate) fn signature<T>(entries: impl Iterator<Item = Entry>) -> u64 {
    let mut hash = Fnv::new();
    hash.update(&[size_of::<T>() as u8]);
    for entry in entries {
        hash.update(&entry.head());
        entry.for_each_name_part(|part| hash.update(part));
    }
    hash.0
}

struct Fnv(u64);

impl Fnv {
    const fn new() -> Self {
        Self(0xcbf2_9ce4_8422_2325)
    }

    fn update(&mut self, bytes: &[u8]) {
        for &b in bytes {
            self.0 = (self.0 ^ u64::from(b)).wrapping_mul(0x0000_0100_0000_01b3);
        }
    }
}

/// The name PyTorch and this crate give the scalar type stored `width` bytes wide.
fn scalar_name(width: u8) -> &'static str {
    match width {
        4 => "f32",
        8 => "f64",
        _ => "an unknown scalar type",
    }
}

/// A cursor that writes into the caller's buffer (whose length was checked beforehand).
struct Cursor<'a> {
    out: &'a mut [u8],
    pos: usize,
    crc: Crc32,
}

impl Cursor<'_> {
    fn put(&mut self, bytes: &[u8]) {
        self.out[self.pos..self.pos + bytes.len()].copy_from_slice(bytes);
        self.crc.update(bytes);
        self.pos += bytes.len();
    }
}

/// Writes a file with the directory `entries()` and the data `values` into `out`, returning its
/// length.
///
/// # Panics
/// If `values` does not follow `entries()` (a `Tensors` implementation whose data disagrees
/// with its `TensorInfo`s).
pub(crate) fn encode<T: Real, I: Iterator<Item = Entry>>(
    entries: impl Fn() -> I,
    values: impl FnOnce(&mut dyn FnMut(Value<'_, T>)),
    out: &mut [u8],
) -> Result<usize, Error> {
    let total = encoded_len::<T>(entries());
    if out.len() < total {
        return Err(Error::BufferTooSmall {
            needed: total,
            available: out.len(),
        });
    }
    let mut count = 0u32;
    for entry in entries() {
        if entry.name_len() > usize::from(u8::MAX) {
            return Err(Error::Malformed {
                what: "a tensor name is longer than 255 bytes",
            });
        }
        if u32::try_from(entry.rows).is_err() || u32::try_from(entry.cols).is_err() {
            return Err(Error::Malformed {
                what: "a tensor dimension does not fit in 32 bits",
            });
        }
        count = count.checked_add(1).ok_or(Error::Malformed {
            what: "more than 2^32 tensors",
        })?;
    }

    let mut cursor = Cursor {
        out: &mut out[..total],
        pos: 0,
        crc: Crc32::new(),
    };
    cursor.put(&MAGIC);
    cursor.put(&VERSION.to_le_bytes());
    cursor.put(&[size_of::<T>() as u8, 0]);
    cursor.put(&count.to_le_bytes());
    cursor.put(&signature::<T>(entries()).to_le_bytes());
    cursor.put(&(total as u64).to_le_bytes());
    for entry in entries() {
        cursor.put(&entry.head());
        entry.for_each_name_part(|part| cursor.put(part));
    }
    let mut expected = entries();
    values(&mut |value| {
        let entry = expected.next().expect("more tensors than TensorInfos");
        let (kind, len) = match value {
            Value::Reals(reals) => {
                for &v in reals {
                    cursor.put(bytemuck::bytes_of(&to_le(v)));
                }
                (None, reals.len())
            }
            Value::Counter(c) => {
                cursor.put(&c.to_le_bytes());
                (Some(Kind::Counter), 1)
            }
            Value::Int8(values) => {
                cursor.put(bytemuck::cast_slice(values));
                (Some(Kind::Int8), values.len())
            }
            Value::Int32(values) => {
                for v in values {
                    cursor.put(&v.to_le_bytes());
                }
                (Some(Kind::Int32), values.len())
            }
        };
        let kind_agrees = match kind {
            None => entry.holds_reals(),
            Some(kind) => entry.kind == kind,
        };
        assert!(
            kind_agrees && len == entry.len(),
            "tensor {} holds {} values of another kind or count than its TensorInfo says",
            entry.display_name(),
            len
        );
    });
    assert!(expected.next().is_none(), "fewer tensors than TensorInfos");
    let checksum = cursor.crc.finish();
    cursor.put(&checksum.to_le_bytes());
    debug_assert_eq!(cursor.pos, total);
    Ok(total)
}

/// A scalar with its bytes in little-endian order (a no-op on little-endian machines).
fn to_le<T: Real>(v: T) -> T {
    let mut v = v;
    if cfg!(target_endian = "big") {
        bytemuck::bytes_of_mut(&mut v).reverse();
    }
    v
}

fn u16_at(bytes: &[u8], at: usize) -> u16 {
    u16::from_le_bytes([bytes[at], bytes[at + 1]])
}

fn u32_at(bytes: &[u8], at: usize) -> u32 {
    let mut b = [0; 4];
    b.copy_from_slice(&bytes[at..at + 4]);
    u32::from_le_bytes(b)
}

fn u64_at(bytes: &[u8], at: usize) -> u64 {
    let mut b = [0; 8];
    b.copy_from_slice(&bytes[at..at + 8]);
    u64::from_le_bytes(b)
}

const DIRECTORY_OVERRUN: Error = Error::Malformed {
    what: "the directory runs past the end of the data",
};

/// Checks everything about `bytes` against the directory `entries()` and returns the data
/// section, which [`Data`] then decodes without further checks. Nothing is written anywhere.
pub(crate) fn validate<'a, T: Real, I: Iterator<Item = Entry>>(
    bytes: &'a [u8],
    entries: impl Fn() -> I,
    allow_non_finite: bool,
) -> Result<Data<'a>, Error> {
    if bytes.len() < HEADER_LEN {
        return Err(Error::Truncated {
            needed: HEADER_LEN,
            available: bytes.len(),
        });
    }
    if bytes[..8] != MAGIC {
        return Err(Error::BadMagic);
    }
    let version = u16_at(bytes, 8);
    if version != VERSION {
        return Err(Error::UnsupportedVersion {
            found: version,
            supported: VERSION,
        });
    }
    if usize::from(bytes[10]) != size_of::<T>() {
        return Err(Error::ScalarMismatch {
            expected: T::NAME,
            found: scalar_name(bytes[10]),
        });
    }
    if bytes[11] != 0 {
        return Err(Error::Malformed {
            what: "the reserved header byte is not zero",
        });
    }
    let count = u32_at(bytes, 12);
    let stored_signature = u64_at(bytes, 16);
    let total = usize::try_from(u64_at(bytes, 24)).unwrap_or(usize::MAX);
    if total < HEADER_LEN + CHECKSUM_LEN {
        return Err(Error::Malformed {
            what: "the declared length is shorter than a header and checksum",
        });
    }
    if total > bytes.len() {
        return Err(Error::Truncated {
            needed: total,
            available: bytes.len(),
        });
    }
    if total < bytes.len() {
        return Err(Error::Malformed {
            what: "bytes follow the declared end of the file",
        });
    }
    let (checked, stored_crc) = bytes.split_at(total - CHECKSUM_LEN);
    let stored = u32_at(stored_crc, 0);
    let computed = crc32(checked);
    if stored != computed {
        return Err(Error::ChecksumMismatch { stored, computed });
    }

    let body = &checked[HEADER_LEN..];
    let mut pos = 0;
    let mut expected = entries();
    for _ in 0..count {
        let head = body.get(pos..pos + ENTRY_HEAD_LEN).ok_or(DIRECTORY_OVERRUN)?;
        let kind = Kind::from_byte(head[0]).ok_or(Error::Malformed {
            what: "a directory entry has an unknown kind",
        })?;
        let name_end = pos + ENTRY_HEAD_LEN + usize::from(head[1]);
        let name = body.get(pos + ENTRY_HEAD_LEN..name_end).ok_or(DIRECTORY_OVERRUN)?;
        let (rows, cols) = (u32_at(head, 2) as usize, u32_at(head, 6) as usize);
        pos = name_end;
        let Some(want) = expected.next() else {
            return Err(Error::UnexpectedTensor {
                tensor: Name::from_bytes(name),
                expected: None,
            });
        };
        if want.kind != kind || !want.name_is(name) {
            return Err(Error::UnexpectedTensor {
                tensor: Name::from_bytes(name),
                expected: Some(want.display_name()),
            });
        }
        if (want.rows, want.cols) != (rows, cols) {
            return Err(Error::ShapeMismatch {
                tensor: want.display_name(),
                expected: Shape::matrix(want.rows, want.cols),
                found: Shape::matrix(rows, cols),
            });
        }
    }
    if let Some(want) = expected.next() {
        return Err(Error::MissingTensor {
            tensor: want.display_name(),
        });
    }
    let expected_signature = signature::<T>(entries());
    if stored_signature != expected_signature {
        return Err(Error::SignatureMismatch {
            expected: expected_signature,
            found: stored_signature,
        });
    }
    let data = &body[pos..];
    if data.len() != entries().map(|e| e.data_len::<T>()).sum::<usize>() {
        return Err(Error::Malformed {
            what: "the data section's length differs from what the directory declares",
        });
    }
    let mut rest = data;
    for entry in entries() {
        let (values, tail) = rest.split_at(entry.data_len::<T>());
        rest = tail;
        if !entry.holds_reals() {
            continue;
        }
        if let (false, Some(index)) = (
            allow_non_finite,
            values.chunks_exact(size_of::<T>()).position(|v| !is_finite::<T>(v)),
        ) {
            return Err(Error::NonFinite {
                tensor: entry.display_name(),
                index,
            });
        }
        if entry.non_negative {
            check_non_negative(&entry, values.chunks_exact(size_of::<T>()).map(real::<T>))?;
        }
    }
    Ok(Data { rest: data })
}

/// The little-endian bytes of a `T`, as an `f64` (exactly).
fn real<T: Real>(bytes: &[u8]) -> f64 {
    let mut v = T::zero();
    bytemuck::bytes_of_mut(&mut v).copy_from_slice(bytes);
    to_le(v).to_f64()
}

/// Refuses a negative value in an entry that must be ≥ 0, naming the entry and the first such
/// value (−0 compares equal to 0 and passes).
pub(crate) fn check_non_negative(entry: &Entry, values: impl Iterator<Item = f64>) -> Result<(), Error> {
    for (index, value) in values.enumerate() {
        if value < 0.0 {
            return Err(Error::OutOfRange {
                tensor: entry.display_name(),
                index,
                value: Number::real(value),
                expected: "≥ 0",
            });
        }
    }
    Ok(())
}

/// Whether the little-endian bytes of a `T` encode a finite number (the exponent is not all ones).
fn is_finite<T>(v: &[u8]) -> bool {
    if size_of::<T>() == 4 {
        u32_at(v, 0) & 0x7F80_0000 != 0x7F80_0000
    } else {
        u64_at(v, 0) & 0x7FF0_0000_0000_0000 != 0x7FF0_0000_0000_0000
    }
}

/// A validated data section, read front to back in directory order.
#[derive(Clone)]
pub(crate) struct Data<'a> {
    rest: &'a [u8],
}

impl Data<'_> {
    fn take(&mut self, len: usize) -> &[u8] {
        let (now, rest) = self.rest.split_at(len);
        self.rest = rest;
        now
    }

    /// Fills `out` with the next tensor's values.
    pub(crate) fn read_reals<T: Real>(&mut self, out: &mut [T]) {
        let bytes = self.take(size_of_val(out));
        for (v, b) in out.iter_mut().zip(bytes.chunks_exact(size_of::<T>())) {
            bytemuck::bytes_of_mut(v).copy_from_slice(b);
            *v = to_le(*v);
        }
    }

    /// Steps over the next entry's data.
    pub(crate) fn skip<T>(&mut self, entry: &Entry) {
        self.take(entry.data_len::<T>());
    }

    /// The next `len` values, without storing them.
    pub(crate) fn reals<T: Real>(&mut self, len: usize) -> impl Iterator<Item = T> + '_ {
        let bytes = self.take(len * size_of::<T>());
        bytes
            .chunks_exact(size_of::<T>())
            .map(|b| to_le(bytemuck::pod_read_unaligned::<T>(b)))
    }

    /// Fills `out` with the next `i8` tensor's values.
    pub(crate) fn read_int8(&mut self, out: &mut [i8]) {
        out.copy_from_slice(bytemuck::cast_slice(self.take(out.len())));
    }

    /// Fills `out` with the next `i32` tensor's values.
    pub(crate) fn read_int32(&mut self, out: &mut [i32]) {
        let bytes = self.take(size_of_val(out));
        for (v, b) in out.iter_mut().zip(bytes.chunks_exact(4)) {
            *v = i32::from_le_bytes([b[0], b[1], b[2], b[3]]);
        }
    }

    /// The next counter.
    pub(crate) fn read_counter(&mut self) -> u64 {
        u64_at(self.take(size_of::<u64>()), 0)
    }
}
