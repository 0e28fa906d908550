//! The binary weight format: round trips for every layer type, every validation error, and
//! property tests over random and mutated inputs (never a panic, never a half-written network).

use nalgebra::SMatrix;
use proptest::prelude::{ProptestConfig, Strategy, TestCaseError, any, prop_assert, proptest};
use static_nn::format::{self, Error, Loader, Name, Shape};
use static_nn::prelude::*;
use static_nn::{Seq, TensorInfo};

mod forged_checksum;
use forged_checksum::{crc32, forge_checksum};

/// Every layer type of the crate, with non-default hyperparameters.
type EveryLayer<T> = Seq![
    Dense<T, 3, 4>, Sigmoid, Dense<T, 4, 4>, Relu, Dense<T, 4, 4>, LeakyRelu<T>, Dense<T, 4, 4>, Elu<T>,
    Dense<T, 4, 4>, Softplus, Dense<T, 4, 4>, Gelu, Dense<T, 4, 4>, Silu, Dense<T, 4, 4>, Identity,
    [(Dense<T, 4, 4>, Tanh); 2], Dense<T, 4, 2>, Softmax,
];

fn every_layer<T: Real>(seed: u64) -> EveryLayer<T> {
    EveryLayer::<T>::build(Init::PyTorch, &mut Rng::new(seed))
}

fn same_bits<T: Real, N: Parameters<T>>(a: &N, b: &N) -> bool {
    let bits = |n: &N| -> Vec<u8> {
        n.tensors()
            .chain(n.buffers())
            .flat_map(|t| bytemuck::cast_slice::<T, u8>(t).to_vec())
            .collect()
    };
    bits(a) == bits(b)
}

fn round_trip<T: Real>() {
    let trained = every_layer::<T>(1);
    let bytes = format::to_vec(&trained).unwrap();
    assert_eq!(bytes.len(), format::saved_len::<T, EveryLayer<T>>());
    let mut net = every_layer::<T>(2);
    assert!(!same_bits(&net, &trained));
    format::load(&mut net, &bytes).unwrap();
    assert!(same_bits(&net, &trained));
    // Saving again gives the same bytes.
    assert_eq!(format::to_vec(&net).unwrap(), bytes);
}

#[test]
fn every_layer_round_trips_f32() {
    round_trip::<f32>();
}

#[test]
fn every_layer_round_trips_f64() {
    round_trip::<f64>();
}

/// A layer with a buffer (as batch norm's running statistics), to test that buffers are saved.
#[derive(Clone, Debug, bytemuck::Zeroable)]
struct Running {
    mean: nalgebra::Vector3<f64>,
}

impl Tensors<f64> for Running {
    const LAYERS: usize = 1;
    fn tensors(&self) -> impl Iterator<Item = &[f64]> {
        core::iter::empty()
    }
    fn tensors_mut(&mut self) -> impl Iterator<Item = &mut [f64]> {
        core::iter::empty()
    }
    fn tensor_infos() -> impl Iterator<Item = TensorInfo> {
        core::iter::empty()
    }
}

impl Parameters<f64> for Running {
    type Gradient = ();
    fn reset(&mut self, _init: Init, _rng: &mut Rng) {
        self.mean = nalgebra::Vector3::zeros();
    }
    fn buffers(&self) -> impl Iterator<Item = &[f64]> {
        core::iter::once(self.mean.as_slice())
    }
    fn buffers_mut(&mut self) -> impl Iterator<Item = &mut [f64]> {
        core::iter::once(self.mean.as_mut_slice())
    }
    fn buffer_infos() -> impl Iterator<Item = TensorInfo> {
        core::iter::once(TensorInfo::vector("running_mean", 3))
    }
}

#[test]
fn buffers_are_saved_after_the_parameters() {
    type Net = (Dense<f64, 2, 3>, Running, Dense<f64, 3, 1>);
    let mut trained = Net::build(Init::PyTorch, &mut Rng::new(3));
    trained.1.mean = nalgebra::Vector3::new(0.5, -1.5, 2.5);
    let bytes = format::to_vec(&trained).unwrap();
    let mut net = Net::build(Init::PyTorch, &mut Rng::new(4));
    format::load(&mut net, &bytes).unwrap();
    assert!(same_bits(&net, &trained));
    assert_eq!(net.1.mean, trained.1.mean);
    // The buffer is in the directory under its PyTorch name.
    assert!(bytes.windows(14).any(|w| w == b"1.running_mean"));
}

#[test]
fn the_layout_matches_the_documented_table() {
    let net = Dense::<f32, 2, 1>::new(SMatrix::from([[1.0], [2.0]]), SMatrix::from([[3.0]]));
    let bytes = format::to_vec(&net).unwrap();
    assert_eq!(&bytes[..8], b"\x89SNN\r\n\x1a\n");
    assert_eq!(&bytes[8..12], &[1, 0, 4, 0]); // version 1, f32, reserved
    assert_eq!(u32::from_le_bytes(bytes[12..16].try_into().unwrap()), 2); // two entries
    assert_eq!(
        u64::from_le_bytes(bytes[16..24].try_into().unwrap()),
        format::signature::<f32, Dense<f32, 2, 1>>()
    );
    assert_eq!(
        u64::from_le_bytes(bytes[24..32].try_into().unwrap()),
        bytes.len() as u64
    );
    // Entry 0: parameter, name "0.weight" (8 bytes), 1 x 2.
    assert_eq!(&bytes[32..42], &[0, 8, 1, 0, 0, 0, 2, 0, 0, 0]);
    assert_eq!(&bytes[42..50], b"0.weight");
    assert_eq!(&bytes[50..60], &[0, 6, 1, 0, 0, 0, 1, 0, 0, 0]);
    assert_eq!(&bytes[60..66], b"0.bias");
    let data: Vec<f32> = bytes[66..78]
        .chunks(4)
        .map(|c| f32::from_le_bytes(c.try_into().unwrap()))
        .collect();
    assert_eq!(data, [1.0, 2.0, 3.0]);
    let crc = u32::from_le_bytes(bytes[78..82].try_into().unwrap());
    assert_eq!(bytes.len(), 82);
    // The zlib CRC-32 of everything before it (value computed with Python's zlib.crc32).
    assert_eq!(crc, crc32(&bytes[..78]));
}

#[test]
fn column_major_order_is_what_is_stored() {
    // W = [[1, 2, 3], [4, 5, 6]] is stored column by column: 1 4 2 5 3 6.
    let net = Dense::<f64, 3, 2>::new(
        nalgebra::Matrix2x3::new(1.0, 2.0, 3.0, 4.0, 5.0, 6.0),
        nalgebra::Vector2::zeros(),
    );
    let bytes = format::to_vec(&net).unwrap();
    let weight_start = 32 + 10 + 8 + 10 + 6;
    let stored: Vec<f64> = bytes[weight_start..weight_start + 48]
        .chunks(8)
        .map(|c| f64::from_le_bytes(c.try_into().unwrap()))
        .collect();
    assert_eq!(stored, [1.0, 4.0, 2.0, 5.0, 3.0, 6.0]);
}

type Small = (Dense<f32, 2, 3>, Tanh, Dense<f32, 3, 1>);

fn small_bytes() -> Vec<u8> {
    format::to_vec(&Small::build(Init::PyTorch, &mut Rng::new(5))).unwrap()
}

/// Loads `bytes` into a fresh network and checks that an error leaves it untouched.
fn load_error<T: Real, N: Parameters<T> + Clone>(bytes: &[u8]) -> Error {
    let mut net = N::build(Init::PyTorch, &mut Rng::new(9));
    let before = net.clone();
    let error = format::load(&mut net, bytes).unwrap_err();
    assert!(same_bits(&net, &before), "{error}");
    error
}

#[test]
fn each_validation_error_names_what_is_wrong() {
    let good = small_bytes();
    assert_eq!(
        load_error::<f32, Small>(&good[..20]),
        Error::Truncated {
            needed: 32,
            available: 20
        }
    );
    assert_eq!(
        load_error::<f32, Small>(&good[..good.len() - 1]),
        Error::Truncated {
            needed: good.len(),
            available: good.len() - 1
        }
    );
    let mut bad = good.clone();
    bad[1] = b'X';
    assert_eq!(load_error::<f32, Small>(&bad), Error::BadMagic);
    let mut bad = good.clone();
    bad[8] = 2;
    assert_eq!(
        load_error::<f32, Small>(&bad),
        Error::UnsupportedVersion { found: 2, supported: 1 }
    );
    assert_eq!(
        load_error::<f64, (Dense<f64, 2, 3>, Tanh, Dense<f64, 3, 1>)>(&good),
        Error::ScalarMismatch {
            expected: "f64",
            found: "f32"
        }
    );
    let mut bad = good.clone();
    let last_value = good.len() - 5;
    bad[last_value] ^= 0x01;
    assert!(matches!(load_error::<f32, Small>(&bad), Error::ChecksumMismatch { .. }));
    let mut longer = good.clone();
    longer.push(0);
    assert!(matches!(load_error::<f32, Small>(&longer), Error::Malformed { .. }));

    // Another network: the first differing tensor is named with both shapes.
    assert_eq!(
        load_error::<f32, (Dense<f32, 2, 3>, Tanh, Dense<f32, 3, 2>)>(&good),
        Error::ShapeMismatch {
            tensor: Name::of_layer(2, "weight"),
            expected: Shape::matrix(2, 3),
            found: Shape::matrix(1, 3),
        }
    );
    assert_eq!(
        load_error::<f32, (Dense<f32, 2, 3>, Tanh, Tanh, Dense<f32, 3, 1>)>(&good),
        Error::UnexpectedTensor {
            tensor: Name::of_layer(2, "weight"),
            expected: Some(Name::of_layer(3, "weight")),
        }
    );
    assert_eq!(
        load_error::<f32, (Dense<f32, 2, 3>, Tanh, Dense<f32, 3, 1>, Tanh, Dense<f32, 1, 1>)>(&good),
        Error::MissingTensor {
            tensor: Name::of_layer(4, "weight")
        }
    );
    assert_eq!(
        load_error::<f32, (Dense<f32, 2, 3>,)>(&good),
        Error::UnexpectedTensor {
            tensor: Name::of_layer(2, "weight"),
            expected: None,
        }
    );

    // A header whose signature was altered (and resealed) is caught by the signature.
    let mut bad = good.clone();
    bad[16] ^= 0xFF;
    forge_checksum(&mut bad);
    assert!(matches!(
        load_error::<f32, Small>(&bad),
        Error::SignatureMismatch { .. }
    ));

    // Non-finite values are refused with their place, unless allowed.
    let mut net = Small::build(Init::PyTorch, &mut Rng::new(5));
    net.2.weight[(0, 1)] = f32::INFINITY;
    let with_inf = format::to_vec(&net).unwrap();
    assert_eq!(
        load_error::<f32, Small>(&with_inf),
        Error::NonFinite {
            tensor: Name::of_layer(2, "weight"),
            index: 1
        }
    );
    let mut target = Small::build(Init::PyTorch, &mut Rng::new(0));
    Loader::default()
        .allow_non_finite()
        .load(&mut target, &with_inf)
        .unwrap();
    assert_eq!(target.2.weight[(0, 1)], f32::INFINITY);
}

#[test]
fn saving_into_a_short_buffer_is_an_error() {
    let net = Small::build(Init::PyTorch, &mut Rng::new(5));
    let mut buffer = [0u8; 16];
    assert_eq!(
        format::save(&net, &mut buffer),
        Err(Error::BufferTooSmall {
            needed: format::saved_len::<f32, Small>(),
            available: 16
        })
    );
}

#[test]
fn files_round_trip_and_errors_come_as_invalid_data() {
    let dir = std::env::temp_dir().join(format!("static-nn-weights-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join("small.snn");
    let trained = Small::build(Init::PyTorch, &mut Rng::new(5));
    format::save_file(&trained, &path).unwrap();
    let mut net = Small::build(Init::PyTorch, &mut Rng::new(6));
    format::load_file(&mut net, &path).unwrap();
    assert!(same_bits(&net, &trained));
    let mut other = <(Dense<f32, 2, 4>, Tanh, Dense<f32, 4, 1>)>::build(Init::PyTorch, &mut Rng::new(6));
    let error = format::load_file(&mut other, &path).unwrap_err();
    assert_eq!(error.kind(), std::io::ErrorKind::InvalidData);
    let inner = error.get_ref().and_then(|e| e.downcast_ref::<Error>()).unwrap();
    assert!(matches!(inner, Error::ShapeMismatch { .. }));
    std::fs::remove_dir_all(&dir).unwrap();
}

/// Loads arbitrary bytes: the result is `Ok` or a typed error, and on error the network is
/// bit-identical to before.
fn load_never_panics_or_half_writes(bytes: &[u8]) -> Result<(), TestCaseError> {
    let mut net = Small::build(Init::PyTorch, &mut Rng::new(9));
    let before = net.clone();
    match format::load(&mut net, bytes) {
        Ok(()) => {}
        Err(error) => {
            prop_assert!(same_bits(&net, &before), "{error}");
            // Every error prints.
            prop_assert!(!error.to_string().is_empty());
        }
    }
    Ok(())
}

/// A valid file with some bytes changed, some cut off or appended, and optionally resealed with
/// a correct checksum so that the checks behind the checksum are reached too.
fn mutated() -> impl Strategy<Value = Vec<u8>> {
    let good = small_bytes();
    let len = good.len();
    (
        proptest::collection::vec((0..len, any::<u8>()), 0..6),
        0..len + 8,
        any::<bool>(),
    )
        .prop_map(move |(edits, keep, seal)| {
            let mut bytes = good.clone();
            for (at, value) in edits {
                bytes[at] = value;
            }
            if seal {
                forge_checksum(&mut bytes);
            }
            bytes.resize(keep, 0);
            bytes
        })
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 2000, failure_persistence: None, ..ProptestConfig::default() })]

    #[test]
    fn random_bytes_are_rejected_cleanly(bytes in proptest::collection::vec(any::<u8>(), 0..200)) {
        load_never_panics_or_half_writes(&bytes)?;
    }

    #[test]
    fn random_bytes_behind_a_valid_magic_are_rejected_cleanly(tail in proptest::collection::vec(any::<u8>(), 0..200)) {
        let mut bytes = small_bytes()[..12].to_vec();
        bytes.extend(tail);
        load_never_panics_or_half_writes(&bytes)?;
    }

    #[test]
    fn mutated_files_are_rejected_cleanly(bytes in mutated()) {
        load_never_panics_or_half_writes(&bytes)?;
    }

    #[test]
    fn any_finite_weights_round_trip(values in proptest::collection::vec(any::<f64>(), 13)) {
        let mut net = <(Dense<f64, 2, 3>, Tanh, Dense<f64, 3, 1>)>::build(Init::PyTorch, &mut Rng::new(0));
        for (v, x) in net.tensors_mut().flatten().zip(&values) {
            *v = *x;
        }
        let bytes = format::to_vec(&net).unwrap();
        let mut loaded = net.clone();
        loaded.set_zero();
        let result = format::load(&mut loaded, &bytes);
        if values.iter().all(|v| v.is_finite()) {
            prop_assert!(result.is_ok());
            prop_assert!(same_bits(&loaded, &net));
        } else {
            let is_non_finite = matches!(result, Err(Error::NonFinite { .. }));
            prop_assert!(is_non_finite);
        }
    }
}
