//! Hostile inputs: what an attacker or a careless user can hand the loaders. Every loader either
//! refuses with a typed error and leaves its target bit-identical, or accepts a state from which
//! the next guarded step is finite or refused; memory stays bounded by the input (the binary
//! loaders allocate nothing). Feature `safetensors`.

use allocation_counter::measure;
use nalgebra::SMatrix;
use proptest::prelude::{Just, ProptestConfig, Strategy, TestCaseError, any, prop_assert, prop_oneof, proptest};
use proptest::test_runner::RngSeed;
use static_nn::data::{Header, parse_csv};
use static_nn::format::{self, Error, Loader, Name};
use static_nn::optim::{PlateauConfig, ReduceLrOnPlateau, Schedule, StepLr};
use static_nn::prelude::*;
use static_nn::{Counters, Number};

mod forged_checksum;
use forged_checksum::forge_checksum;

type Normed = (Dense<f64, 2, 3>, BatchNorm<f64, 3>, Tanh, Dense<f64, 3, 1>);

fn normed(seed: u64) -> Normed {
    Normed::build(Init::PyTorch, &mut Rng::new(seed))
}

fn negative_variance() -> Error {
    Error::OutOfRange {
        tensor: Name::from_bytes(b"1.running_var"),
        index: 1,
        value: Number::real(-0.25),
        expected: "≥ 0",
    }
}

#[test]
fn a_negative_running_variance_is_refused_by_every_loader() {
    let mut poisoned = normed(1);
    poisoned.1.running_var[1] = -0.25;
    let sgd = Sgd::<f64, Normed>::new(SgdConfig::with_lr(0.1));

    let mut net = normed(2);
    let before = net.clone();
    let weights = format::to_vec(&poisoned).unwrap();
    assert_eq!(format::load(&mut net, &weights), Err(negative_variance()));
    assert_eq!(
        Loader::default().allow_non_finite().load(&mut net, &weights),
        Err(negative_variance())
    );
    let checkpoint = format::checkpoint_to_vec(&poisoned, &sgd, &()).unwrap();
    let mut resumed = Sgd::new(SgdConfig::with_lr(0.1));
    assert_eq!(
        format::load_checkpoint(&mut net, &mut resumed, &mut (), &checkpoint),
        Err(negative_variance())
    );
    #[cfg(feature = "safetensors")]
    {
        let exported = format::safetensors::to_vec(&poisoned).unwrap();
        assert_eq!(format::safetensors::load(&mut net, &exported), Err(negative_variance()));
    }
    assert_eq!(net, before);
    assert_eq!(
        negative_variance().to_string(),
        "1.running_var holds -0.25 at index 1; it must be ≥ 0"
    );
}

#[test]
fn a_plateau_schedule_with_a_nan_or_negative_rate_is_refused_at_load() {
    let net = normed(1);
    let sgd = Sgd::<f64, Normed>::new(SgdConfig::with_lr(0.1));
    for (lr, best, tensor, value) in [
        (f64::NAN, 1.0, "extra.lr_bits", f64::NAN),
        (-1.0, 1.0, "extra.lr_bits", -1.0),
        (f64::INFINITY, 1.0, "extra.lr_bits", f64::INFINITY),
        (0.1, f64::NAN, "extra.best_bits", f64::NAN),
        (0.1, f64::NEG_INFINITY, "extra.best_bits", f64::NEG_INFINITY),
    ] {
        let mut plateau = ReduceLrOnPlateau::new(0.1, PlateauConfig::default());
        plateau.lr = lr;
        plateau.best = best;
        let bytes = format::checkpoint_to_vec(&net, &sgd, &plateau).unwrap();
        let mut target = (normed(2), Sgd::new(SgdConfig::with_lr(0.5)));
        let mut restored = ReduceLrOnPlateau::new(0.2, PlateauConfig::default());
        let before = (target.0.clone(), restored);
        let error = format::load_checkpoint(&mut target.0, &mut target.1, &mut restored, &bytes).unwrap_err();
        let Error::OutOfRange {
            tensor: name,
            value: found,
            ..
        } = error
        else {
            panic!("{error:?}");
        };
        assert_eq!(
            (name, found),
            (Name::from_bytes(tensor.as_bytes()), Number::real(value))
        );
        assert_eq!(
            (target.0, restored, target.1.learning_rate()),
            (before.0, before.1, 0.5)
        );
    }
}

#[test]
fn a_schedule_counter_at_its_largest_loads_and_steps() {
    let net = normed(1);
    let sgd = Sgd::<f64, Normed>::new(SgdConfig::with_lr(0.1));
    let mut schedule = StepLr::new(0.1_f64, 3, 0.5);
    schedule.steps = u64::MAX;
    let bytes = format::checkpoint_to_vec(&net, &sgd, &schedule).unwrap();
    let mut restored = StepLr::new(0.1_f64, 3, 0.5);
    let (mut target, mut optimizer) = (normed(2), Sgd::new(SgdConfig::with_lr(0.1)));
    format::load_checkpoint(&mut target, &mut optimizer, &mut restored, &bytes).unwrap();
    restored.step(0.0);
    assert_eq!(restored.steps, u64::MAX);
    assert!(restored.learning_rate().is_finite());
}

// ---------------------------------------------------------------------------------------------
// Fuzzing every loader with fixed seeds. `HOSTILE_CASES` sets the cases per property (default
// 64, which runs in seconds in a debug build); the long campaign in the README runs 100,000 per
// loader in release.
// ---------------------------------------------------------------------------------------------

fn config(seed: u64) -> ProptestConfig {
    let cases = std::env::var("HOSTILE_CASES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(64);
    ProptestConfig {
        cases,
        failure_persistence: None,
        rng_seed: RngSeed::Fixed(seed),
        ..ProptestConfig::default()
    }
}

/// A network with every kind of saved state: parameters, running statistics, and dropout (whose
/// call counter lives in the workspace).
type Full = (
    Dense<f64, 2, 3>,
    BatchNorm<f64, 3>,
    Tanh,
    Dropout<f64>,
    Dense<f64, 3, 1>,
);
type FullInput = SMatrix<f64, 2, 4>;
type Extra = (ReduceLrOnPlateau<f64>, Workspace<f64, Full, FullInput>);

fn full(seed: u64) -> Full {
    let mut net = Full::build(Init::PyTorch, &mut Rng::new(seed));
    net.3 = Dropout::new(0.25, 5);
    net
}

fn full_batch(step: u64) -> (FullInput, SMatrix<f64, 1, 4>) {
    let s = step as f64;
    (
        SMatrix::from_fn(|i, j| ((i * 4 + j) as f64 * 0.7 + s).sin()),
        SMatrix::from_fn(|_, j| (j as f64 * 0.5 + s).cos()),
    )
}

/// A trained network, optimizer and extra state, and the bytes of each format for them.
struct Files {
    weights: Vec<u8>,
    checkpoint: Vec<u8>,
    safetensors: Vec<u8>,
}

fn trained<O: Optimizer<f64, Full>>(mut optimizer: O) -> (Full, O, Extra) {
    let mut net = full(1);
    let mut extra: Extra = (ReduceLrOnPlateau::new(0.1, PlateauConfig::default()), Workspace::new());
    for step in 0..3 {
        let (x, y) = full_batch(step);
        let loss = extra
            .1
            .try_train_step(&mut net, &mut optimizer, &Mse, &x, &y, None)
            .unwrap();
        extra.0.step(loss);
    }
    (net, optimizer, extra)
}

fn files() -> Files {
    let (net, adam, extra) = trained(Adam::new(AdamConfig::with_lr(0.01)));
    Files {
        weights: format::to_vec(&net).unwrap(),
        checkpoint: format::checkpoint_to_vec(&net, &adam, &extra).unwrap(),
        safetensors: format::safetensors::to_vec(&net).unwrap(),
    }
}

/// Every saved value of a network, as bits.
fn bits<N: Parameters<f64>>(net: &N) -> Vec<u64> {
    net.tensors()
        .chain(net.buffers())
        .flatten()
        .map(|v| v.to_bits())
        .collect()
}

/// What an accepted network must satisfy: every value finite, every variance ≥ 0.
fn sound(net: &Full) -> bool {
    bits(net).iter().all(|&b| f64::from_bits(b).is_finite()) && net.1.running_var.iter().all(|&v| v >= 0.0)
}

/// A hostile edit of a valid file: bytes overwritten, header fields forged, the file cut or
/// extended, and (half the time) the checksum recomputed so that later checks are reached.
#[derive(Clone, Debug)]
struct Edit {
    bytes: Vec<(proptest::sample::Index, u8)>,
    field: Option<(usize, u64)>,
    length: Option<proptest::sample::Index>,
    forge: bool,
}

fn edit() -> impl Strategy<Value = Edit> {
    let field = proptest::option::of((
        proptest::sample::select(vec![8usize, 10, 12, 16, 24]),
        prop_oneof![
            Just(0u64),
            Just(u64::MAX),
            Just(u64::from(u32::MAX)),
            any::<u64>(),
            0..1000u64
        ],
    ));
    (
        proptest::collection::vec((any::<proptest::sample::Index>(), any::<u8>()), 0..6),
        field,
        proptest::option::of(any::<proptest::sample::Index>()),
        any::<bool>(),
    )
        .prop_map(|(bytes, field, length, forge)| Edit {
            bytes,
            field,
            length,
            forge,
        })
}

fn apply(edit: &Edit, file: &[u8]) -> Vec<u8> {
    let mut bytes = file.to_vec();
    for (at, value) in &edit.bytes {
        let at = at.index(bytes.len());
        bytes[at] = *value;
    }
    if let Some((at, value)) = edit.field {
        let width = if at == 8 || at == 10 {
            2
        } else if at == 12 {
            4
        } else {
            8
        };
        bytes[at..at + width].copy_from_slice(&value.to_le_bytes()[..width]);
    }
    if let Some(length) = &edit.length {
        bytes.resize(length.index(2 * bytes.len() + 1), 0x5A);
    }
    if edit.forge {
        forge_checksum(&mut bytes);
    }
    bytes
}

fn weights_survive(bytes: &[u8]) -> Result<(), TestCaseError> {
    let mut net = full(9);
    let before = bits(&net);
    let mut result = Ok(());
    let allocations = measure(|| result = format::load(&mut net, bytes));
    prop_assert!(allocations.count_total == 0, "loading allocated {allocations:?}");
    match result {
        Err(error) => prop_assert!(bits(&net) == before, "{error} changed the network"),
        Ok(()) => prop_assert!(sound(&net), "accepted an unsound network"),
    }
    Ok(())
}

fn checkpoint_survives(bytes: &[u8]) -> Result<(), TestCaseError> {
    let mut net = full(9);
    let mut adam = Adam::<f64, Full>::new(AdamConfig::with_lr(0.5));
    let mut extra: Extra = (ReduceLrOnPlateau::new(0.3, PlateauConfig::default()), Workspace::new());
    let before = (bits(&net), adam.learning_rate(), adam.steps(), extra.0);
    let mut result = Ok(());
    let allocations = measure(|| result = format::load_checkpoint(&mut net, &mut adam, &mut extra, bytes));
    prop_assert!(allocations.count_total == 0, "loading allocated {allocations:?}");
    match result {
        Err(error) => {
            let after = (bits(&net), adam.learning_rate(), adam.steps(), extra.0);
            prop_assert!(after == before, "{error} changed the target");
            prop_assert!(extra.1.counters().eq([0]), "{error} changed the workspace");
        }
        Ok(()) => {
            prop_assert!(sound(&net), "accepted an unsound network");
            prop_assert!(extra.0.lr.is_finite() && extra.0.lr >= 0.0 && !extra.0.best.is_nan());
        }
    }
    Ok(())
}

fn safetensors_survive(bytes: &[u8]) -> Result<(), TestCaseError> {
    let mut net = full(9);
    let before = bits(&net);
    let mut result = Ok(());
    let allocations = measure(|| result = format::safetensors::load(&mut net, bytes));
    // The JSON header is parsed into owned names and shapes: memory in proportion to the input.
    let bound = 64 * bytes.len() as u64 + 64 * 1024;
    prop_assert!(
        allocations.bytes_max <= bound,
        "{allocations:?} for {} bytes",
        bytes.len()
    );
    match result {
        Err(error) => prop_assert!(bits(&net) == before, "{error} changed the network"),
        Ok(()) => prop_assert!(sound(&net), "accepted an unsound network"),
    }
    Ok(())
}

fn csv_survives(text: &str) -> Result<(), TestCaseError> {
    let mut result = None;
    let allocations = measure(|| result = Some(parse_csv::<f32, 2, 3>(text, Header::Counts)));
    let bound = 16 * text.len() as u64 + 16 * 1024;
    prop_assert!(
        allocations.bytes_max <= bound,
        "{allocations:?} for {} bytes",
        text.len()
    );
    if let Some(Ok(data)) = result {
        prop_assert!(!data.samples.is_empty());
        prop_assert!(data.samples.iter().all(|(x, _)| x.iter().all(|v| v.is_finite())));
    }
    Ok(())
}

/// CSV-like text: a header whose counts may be anything, then lines from a small alphabet.
fn csv_text() -> impl Strategy<Value = String> {
    let count = prop_oneof![
        Just("0".to_string()),
        Just("18446744073709551615".to_string()),
        Just("1000000000000".to_string()),
        (0..5u64).prop_map(|n| n.to_string()),
        "[0-9]{1,25}",
    ];
    let line = "[-0-9.e,\" aNI]{0,20}";
    (count, proptest::collection::vec(line, 0..8)).prop_map(|(count, lines)| {
        let mut text = format!("{count},2,a,b,c\n");
        for line in lines {
            text.push_str(&line);
            text.push('\n');
        }
        text
    })
}

proptest! {
    #![proptest_config(config(14))]

    #[test]
    fn weight_files_never_panic_allocate_or_half_write(edit in edit()) {
        let files = files();
        weights_survive(&apply(&edit, &files.weights))?;
    }

    #[test]
    fn random_bytes_are_refused_by_every_binary_loader(bytes in proptest::collection::vec(any::<u8>(), 0..400)) {
        weights_survive(&bytes)?;
        checkpoint_survives(&bytes)?;
        safetensors_survive(&bytes)?;
    }

    #[test]
    fn checkpoints_never_panic_allocate_or_half_write(edit in edit()) {
        let files = files();
        checkpoint_survives(&apply(&edit, &files.checkpoint))?;
    }

    #[test]
    fn safetensors_files_never_panic_or_half_write(
        edits in proptest::collection::vec(
            (any::<proptest::sample::Index>(), proptest::sample::select(b"{}[]\",:0123456789 -eFI.\\u".to_vec())),
            1..5,
        ),
        in_header in any::<bool>(),
        keep in any::<proptest::sample::Index>(),
    ) {
        let mut bytes = files().safetensors;
        let header_end = 8 + u64::from_le_bytes(bytes[..8].try_into().unwrap()) as usize;
        for (at, value) in edits {
            let at = if in_header { 8 + at.index(header_end - 8) } else { at.index(bytes.len()) };
            bytes[at] = value;
        }
        if !in_header {
            bytes.truncate(keep.index(bytes.len() + 1));
        }
        safetensors_survive(&bytes)?;
    }

    #[test]
    fn csv_never_panics_and_allocates_in_proportion_to_the_text(text in csv_text()) {
        csv_survives(&text)?;
    }

    #[test]
    fn csv_of_random_bytes_never_panics(bytes in proptest::collection::vec(any::<u8>(), 0..200)) {
        csv_survives(&String::from_utf8_lossy(&bytes))?;
        let mut result = None;
        let allocations = measure(|| result = Some(parse_csv::<f64, 3, 2>(&String::from_utf8_lossy(&bytes), Header::None)));
        prop_assert!(allocations.bytes_max <= 16 * bytes.len() as u64 + 16 * 1024);
    }
}

// Checkpoint values: a valid checkpoint with hostile numbers written into its value slots and
// the checksum recomputed, so that only the values are wrong.

fn hostile_real() -> impl Strategy<Value = f64> {
    prop_oneof![
        proptest::sample::select(vec![
            f64::NAN,
            f64::INFINITY,
            f64::NEG_INFINITY,
            f64::MAX,
            -f64::MAX,
            1e300,
            -1e300,
            1e30,
            -1e30,
            -1.0,
            -0.0,
            0.0,
            1e-310,
            f64::MIN_POSITIVE,
        ]),
        any::<f64>(),
    ]
}

fn hostile_counter() -> impl Strategy<Value = u64> {
    prop_oneof![
        proptest::sample::select(vec![0, 1, 2, u64::MAX, u64::MAX - 1, 1 << 53, u64::from(u32::MAX)]),
        any::<u64>(),
    ]
}

/// A slot to overwrite and the bits to write: a real's or a counter's.
fn slot_edits() -> impl Strategy<Value = Vec<(proptest::sample::Index, u64)>> {
    let bits = prop_oneof![hostile_real().prop_map(f64::to_bits), hostile_counter()];
    proptest::collection::vec((any::<proptest::sample::Index>(), bits), 1..4)
}

/// Loads a checkpoint whose values were replaced, then takes a guarded step. Either the load is
/// refused, or the step is refused, or the step leaves every value it is responsible for finite.
/// `everything` also requires finite weights and optimizer state after an accepted step.
fn values_survive<O: Optimizer<f64, Full>>(
    make: impl Fn() -> O,
    edits: &[(proptest::sample::Index, u64)],
    everything: bool,
) -> Result<(), TestCaseError> {
    let (net, optimizer, extra) = trained(make());
    let mut bytes = format::checkpoint_to_vec(&net, &optimizer, &extra).unwrap();
    let reals: usize = net
        .tensors()
        .chain(net.buffers())
        .chain(optimizer.tensors())
        .map(<[f64]>::len)
        .sum();
    let slots = reals + 2 + Extra::counter_names().count();
    let data = bytes.len() - 4 - 8 * slots;
    let steps = reals + 1;
    for (slot, value) in edits {
        let slot = slot.index(slots);
        // Bounding the optimizer's step counter is the optimizer engine's part of the promise.
        if slot == steps && !everything {
            continue;
        }
        let at = data + 8 * slot;
        bytes[at..at + 8].copy_from_slice(&value.to_le_bytes());
    }
    forge_checksum(&mut bytes);

    let mut net = full(9);
    let mut optimizer = make();
    let mut extra: Extra = (ReduceLrOnPlateau::new(0.3, PlateauConfig::default()), Workspace::new());
    if format::load_checkpoint(&mut net, &mut optimizer, &mut extra, &bytes).is_err() {
        return Ok(());
    }
    let (x, y) = full_batch(optimizer.steps());
    let before = bits(&net);
    match extra.1.try_train_step(&mut net, &mut optimizer, &Mse, &x, &y, None) {
        Err(error) => {
            prop_assert!(bits(&net) == before, "the refused step ({error}) changed the network");
        }
        Ok(loss) => {
            prop_assert!(loss.is_finite());
            let buffers = net.buffers().flatten().all(|v| v.is_finite());
            prop_assert!(buffers && net.1.running_var.iter().all(|&v| v >= 0.0), "{:?}", net.1);
            if everything {
                prop_assert!(sound(&net), "an accepted step wrote a non-finite weight");
                let state = optimizer.tensors().flatten().all(|v| v.is_finite());
                prop_assert!(
                    state && optimizer.learning_rate().is_finite(),
                    "non-finite optimizer state"
                );
            }
        }
    }
    Ok(())
}

fn sgd() -> Sgd<f64, Full> {
    Sgd::new(SgdConfig {
        momentum: 0.9,
        ..SgdConfig::with_lr(0.05)
    })
}

fn adam() -> Adam<f64, Full> {
    Adam::new(AdamConfig::with_lr(0.01))
}

fn adam_w() -> AdamW<f64, Full> {
    AdamW::new(AdamWConfig::with_lr(0.01))
}

fn rms_prop() -> RmsProp<f64, Full> {
    RmsProp::new(RmsPropConfig {
        momentum: 0.5,
        centered: true,
        ..RmsPropConfig::with_lr(0.01)
    })
}

fn adagrad() -> Adagrad<f64, Full> {
    Adagrad::new(AdagradConfig::with_lr(0.05))
}

proptest! {
    #![proptest_config(config(15))]

    #[test]
    fn checkpoint_values_never_poison_a_buffer(edits in slot_edits()) {
        values_survive(sgd, &edits, false)?;
        values_survive(adam, &edits, false)?;
        values_survive(adam_w, &edits, false)?;
        values_survive(rms_prop, &edits, false)?;
        values_survive(adagrad, &edits, false)?;
    }
}

proptest! {
    #![proptest_config(config(16))]

    /// The whole promise, optimizer included: its step counters, learning rate and state are
    /// validated at load and its writes guarded by the optimizer engine.
    #[test]
    fn checkpoint_values_never_poison_a_step(edits in slot_edits()) {
        values_survive(sgd, &edits, true)?;
        values_survive(adam, &edits, true)?;
        values_survive(adam_w, &edits, true)?;
        values_survive(rms_prop, &edits, true)?;
        values_survive(adagrad, &edits, true)?;
    }
}

// ---------------------------------------------------------------------------------------------
// TensorFlow Lite models: a real model (TFLite Micro's sine) with bytes overwritten, fields'
// bytes set to extreme values, and cut short. The reader runs the flatbuffers verifier first,
// then checks every tensor it reads; it returns a network only when every layer was read, so
// there is no target to half-write, and it allocates only the verifier's error trace.
// ---------------------------------------------------------------------------------------------

#[cfg(feature = "tflite")]
mod tflite_models {
    use allocation_counter::measure;
    use nalgebra::SMatrix;
    use proptest::prelude::{Just, TestCaseError, any, prop_assert, prop_oneof, proptest};
    use static_nn::format::tflite;
    use static_nn::quantised::{Int8Dense, Int8Layer, Int8Network};

    use super::config;

    const SINE: &[u8] = include_bytes!("fixtures/sine.tflite");
    type Sine = (Int8Dense<1, 16>, Int8Dense<16, 16>, Int8Dense<16, 1>);

    fn survives(bytes: &[u8]) -> Result<Option<tflite::Error>, TestCaseError> {
        let mut result = None;
        let allocations = measure(|| result = Some(tflite::read::<Sine, 1>(bytes)));
        prop_assert!(
            allocations.bytes_max <= 16 * 1024,
            "{allocations:?} for {} bytes",
            bytes.len()
        );
        match result.expect("measured") {
            Err(error) => {
                prop_assert!(!error.to_string().is_empty());
                Ok(Some(error))
            }
            Ok(net) => {
                sound(&net)?;
                Ok(None)
            }
        }
    }

    /// An accepted network has usable encodings and runs on every input.
    fn sound(net: &Int8Network<Sine, 1>) -> Result<(), TestCaseError> {
        for affine in [net.input, net.output] {
            prop_assert!(affine.scale.is_finite() && affine.scale > 0.0, "{affine:?}");
        }
        for q in -128..=127_i8 {
            let y = net.network.forward(&SMatrix::<i8, 1, 1>::new(q));
            prop_assert!(net.output.dequantise(y[0]).is_finite());
        }
        Ok(())
    }

    #[test]
    fn the_unmodified_model_is_read() {
        assert_eq!(survives(SINE).unwrap(), None);
    }

    /// Every strict prefix is refused: the verifier finds the offsets that point past the end.
    #[test]
    fn every_truncation_is_refused() {
        for len in 0..SINE.len() {
            let error = survives(&SINE[..len]).unwrap();
            assert!(error.is_some(), "{len} bytes accepted");
        }
    }

    proptest! {
        #![proptest_config(config(17))]

        #[test]
        fn edited_models_never_panic_or_allocate_in_proportion(
            edits in proptest::collection::vec(
                (
                    any::<proptest::sample::Index>(),
                    prop_oneof![Just(0u8), Just(0xFF), Just(0x7F), Just(0x80), Just(1), any::<u8>()],
                ),
                1..8,
            ),
            words in proptest::collection::vec(
                (any::<proptest::sample::Index>(), prop_oneof![Just(0u32), Just(u32::MAX), Just(0x7FFF_FFFF), Just(0x8000_0000), any::<u32>()]),
                0..3,
            ),
            keep in proptest::option::of(any::<proptest::sample::Index>()),
        ) {
            let mut bytes = SINE.to_vec();
            for (at, value) in edits {
                let at = at.index(bytes.len());
                bytes[at] = value;
            }
            // Four-byte fields (offsets, lengths, indices, scales) set to extremes, aligned as
            // flatbuffers aligns them.
            for (at, value) in words {
                let at = at.index(bytes.len() / 4) * 4;
                bytes[at..at + 4].copy_from_slice(&value.to_le_bytes());
            }
            if let Some(keep) = keep {
                bytes.truncate(keep.index(bytes.len() + 1));
            }
            survives(&bytes)?;
        }

        #[test]
        fn random_bytes_with_the_identifier_are_refused(mut bytes in proptest::collection::vec(any::<u8>(), 8..600)) {
            bytes[4..8].copy_from_slice(b"TFL3");
            survives(&bytes)?;
        }
    }
}
