//! Quantised networks in the binary format: a round trip is bit-identical, and hostile input
//! gets a typed error, no panic, no allocation and an untouched target.

use allocation_counter::measure;
use nalgebra::SMatrix;
use proptest::prelude::*;
use proptest::test_runner::{Config, RngAlgorithm, TestRng, TestRunner};
use static_nn::format::{self, Error};
use static_nn::quantised::{
    Int8Clamp, Int8Dense, Int8Lookup, Int8Network, Int8Relu, Int8Softmax, Ranges, SOFTMAX_OUTPUT,
};
use static_nn::{Dense, Init, Parameters, Relu, Rng, Softmax, Tanh};

mod forged_checksum;
use forged_checksum::forge_checksum;

type Real = (Dense<f32, 3, 6>, Relu, Dense<f32, 6, 5>, Tanh, Dense<f32, 5, 2>);
type Quantised = Int8Network<(Int8Dense<3, 6>, Int8Relu, Int8Dense<6, 5>, Int8Lookup, Int8Dense<5, 2>), 3>;

fn quantised(seed: u64) -> Quantised {
    let net = Real::build(Init::PyTorch, &mut Rng::new(seed));
    let mut rng = Rng::new(seed + 1);
    let calibration: Vec<[f32; 3]> = (0..64)
        .map(|_| core::array::from_fn(|_| rng.uniform(-2.0, 2.0) as f32))
        .collect();
    Int8Network::quantise(&net, &calibration, Ranges::MinMax).unwrap()
}

/// Where the input scale sits: the file ends with `input.scale` (4 bytes), `input.zero_point`
/// (1), `output.scale` (4), `output.zero_point` (1) and the checksum (4).
fn input_scale_at(bytes: &[u8]) -> usize {
    bytes.len() - 14
}

#[test]
fn a_round_trip_is_bit_identical() {
    let saved = quantised(1);
    let bytes = format::int8_to_vec(&saved).unwrap();
    assert_eq!(
        bytes.len(),
        format::int8_saved_len::<(Int8Dense<3, 6>, Int8Relu, Int8Dense<6, 5>, Int8Lookup, Int8Dense<5, 2>)>()
    );
    let mut buffer = vec![0u8; bytes.len()];
    assert_eq!(format::save_int8(&saved, &mut buffer), Ok(bytes.len()));
    assert_eq!(buffer, bytes);

    let mut loaded = quantised(2);
    assert_ne!(loaded, saved);
    let allocations = measure(|| format::load_int8(&mut loaded, &bytes).unwrap());
    assert_eq!(allocations.count_total, 0);
    assert_eq!(loaded, saved);
    let x = SMatrix::<i8, 3, 7>::from_fn(|i, j| (i as i8 * 37).wrapping_add(j as i8 * 19));
    assert_eq!(loaded.forward(&x), saved.forward(&x));

    assert!(matches!(
        format::save_int8(&saved, &mut buffer[..10]),
        Err(Error::BufferTooSmall { .. })
    ));
}

/// A classifier ending in TFLite's softmax, with a clamp before it: both layers' parameters
/// round-trip, and the softmax's output encoding is TFLite's.
#[test]
fn clamp_and_softmax_round_trip() {
    type Classifier = (Dense<f32, 3, 6>, Relu, Dense<f32, 6, 4>, Softmax);
    let net = Classifier::build(Init::PyTorch, &mut Rng::new(5));
    let mut rng = Rng::new(6);
    let calibration: Vec<[f32; 3]> = (0..64)
        .map(|_| core::array::from_fn(|_| rng.uniform(-2.0, 2.0) as f32))
        .collect();
    let quantised = Int8Network::quantise(&net, &calibration, Ranges::MinMax).unwrap();
    assert_eq!(quantised.output, SOFTMAX_OUTPUT);
    let (first, relu, last, softmax) = quantised.network;
    let saved = Int8Network {
        input: quantised.input,
        network: (
            first.clone(),
            relu,
            last.clone(),
            Int8Clamp { min: -100, max: 100 },
            softmax,
        ),
        output: quantised.output,
    };
    let bytes = format::int8_to_vec(&saved).unwrap();
    let mut loaded = Int8Network {
        network: (
            first,
            relu,
            last,
            Int8Clamp { min: 0, max: 0 },
            Int8Softmax {
                input_multiplier: 0,
                input_left_shift: 0,
                diff_min: 0,
            },
        ),
        ..saved
    };
    assert_ne!(loaded, saved);
    format::load_int8(&mut loaded, &bytes).unwrap();
    assert_eq!(loaded, saved);
    // Probabilities: each sample's outputs decode to about 1 in total.
    let sample = [0.5_f32, -1.0, 1.5];
    let p: [f32; 4] = loaded.predict(&sample);
    assert!((p.iter().sum::<f32>() - 1.0).abs() < 0.02, "{p:?}");
}

#[test]
fn scales_must_be_positive_and_finite() {
    let bytes = format::int8_to_vec(&quantised(1)).unwrap();
    for (scale, expected) in [
        (0.0_f32, "OutOfRange"),
        (-0.5, "OutOfRange"),
        (f32::NAN, "NonFinite"),
        (f32::INFINITY, "NonFinite"),
    ] {
        let mut edited = bytes.clone();
        let at = input_scale_at(&edited);
        edited[at..at + 4].copy_from_slice(&scale.to_le_bytes());
        forge_checksum(&mut edited);
        let mut net = quantised(2);
        let before = net.clone();
        let error = format::load_int8(&mut net, &edited).unwrap_err();
        assert!(format!("{error:?}").starts_with(expected), "{scale}: {error:?}");
        assert!(error.to_string().contains("input.scale"), "{error}");
        assert_eq!(net, before);
    }
}

#[test]
fn other_networks_and_float_files_are_refused() {
    let bytes = format::int8_to_vec(&quantised(1)).unwrap();
    let mut wider: Int8Network<(Int8Dense<3, 7>, Int8Relu, Int8Dense<7, 5>, Int8Lookup, Int8Dense<5, 2>), 3> = {
        let net = <(Dense<f32, 3, 7>, Relu, Dense<f32, 7, 5>, Tanh, Dense<f32, 5, 2>)>::build(
            Init::PyTorch,
            &mut Rng::new(3),
        );
        Int8Network::quantise(&net, &[[0.5_f32, 1.0, -1.0]], Ranges::MinMax).unwrap()
    };
    let error = format::load_int8(&mut wider, &bytes).unwrap_err();
    assert_eq!(
        error.to_string(),
        "shape mismatch for 0.weight: the network has [7, 3], the file [6, 3]"
    );

    let real = Real::build(Init::PyTorch, &mut Rng::new(4));
    let float_file = format::to_vec(&real).unwrap();
    let mut net = quantised(2);
    let before = net.clone();
    assert!(matches!(
        format::load_int8(&mut net, &float_file),
        Err(Error::UnexpectedTensor { .. })
    ));
    assert_eq!(net, before);
    let mut real = real;
    assert!(matches!(
        format::load(&mut real, &bytes),
        Err(Error::UnexpectedTensor { .. })
    ));
}

/// Random edits: bytes overwritten, the file cut or extended, and half the time the checksum
/// recomputed so that the checks behind it run.
#[test]
fn hostile_edits_get_typed_errors_and_leave_the_target_untouched() {
    let bytes = format::int8_to_vec(&quantised(1)).unwrap();
    let edits = (
        proptest::collection::vec((any::<proptest::sample::Index>(), any::<u8>()), 0..6),
        proptest::option::of(any::<proptest::sample::Index>()),
        any::<bool>(),
    );
    let config = Config {
        cases: 3000,
        failure_persistence: None,
        ..Config::default()
    };
    let mut runner = TestRunner::new_with_rng(config, TestRng::deterministic_rng(RngAlgorithm::ChaCha));
    let (refused, accepted) = (std::cell::Cell::new(0), std::cell::Cell::new(0));
    runner
        .run(&edits, |(overwrites, length, forge)| {
            let mut edited = bytes.clone();
            for (at, value) in &overwrites {
                let at = at.index(edited.len());
                edited[at] = *value;
            }
            if let Some(length) = length {
                edited.resize(length.index(2 * bytes.len() + 1), 0x5A);
            }
            if forge {
                forge_checksum(&mut edited);
            }
            let mut net = quantised(2);
            let before = net.clone();
            let mut result = Ok(());
            let allocations = measure(|| result = format::load_int8(&mut net, &edited));
            prop_assert_eq!(allocations.count_total, 0);
            match result {
                Err(error) => {
                    prop_assert_eq!(&net, &before, "{} changed the network", error);
                    refused.set(refused.get() + 1);
                }
                Ok(()) => {
                    prop_assert!(net.input.scale > 0.0 && net.output.scale.is_finite() && net.output.scale > 0.0);
                    accepted.set(accepted.get() + 1);
                }
            }
            Ok(())
        })
        .unwrap();
    let (refused, accepted) = (refused.get(), accepted.get());
    assert!(
        refused > 1000 && accepted > 10,
        "refused {refused}, accepted {accepted}"
    );
}
