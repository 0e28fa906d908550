//! PyTorch interchange through safetensors (feature `safetensors`; CI runs
//! `cargo test --features safetensors --test safetensors`).
//!
//! The fixtures were written by `scripts/make_pytorch_fixture.py` with the reference Python
//! `safetensors` package; no Python is needed here.

use nalgebra::SMatrix;
use proptest::prelude::{ProptestConfig, Strategy, TestCaseError, any, prop_assert, proptest};
use safetensors::SafeTensors;
use static_nn::format::{Error, Loader, Name, Shape, safetensors as st};
use static_nn::prelude::*;

/// `nn.Sequential(nn.Linear(3, 8), nn.Tanh(), nn.Linear(8, 8), nn.ReLU(), nn.Linear(8, 2))`.
type Torch = (Dense<f32, 3, 8>, Tanh, Dense<f32, 8, 8>, Relu, Dense<f32, 8, 2>);

const MODEL: &[u8] = include_bytes!("fixtures/pytorch_mlp.safetensors");
const IO: &[u8] = include_bytes!("fixtures/pytorch_mlp_io.safetensors");

fn fresh() -> Torch {
    Torch::build(Init::PyTorch, &mut Rng::new(0))
}

/// A row-major `[rows, C]` float32 array of the io fixture, as a `C × rows` batch.
fn batch<const C: usize>(name: &str) -> SMatrix<f32, C, 6> {
    let file = SafeTensors::deserialize(IO).unwrap();
    let view = file.tensor(name).unwrap();
    assert_eq!(view.shape(), [6, C]);
    let values: Vec<f32> = view
        .data()
        .chunks(4)
        .map(|c| f32::from_le_bytes(c.try_into().unwrap()))
        .collect();
    // Row b of PyTorch's batch is column b here.
    SMatrix::from_column_slice(&values)
}

#[test]
fn the_pytorch_fixture_reproduces_its_recorded_outputs() {
    let mut net = fresh();
    st::load(&mut net, MODEL).unwrap();
    let x = batch::<3>("input");
    let expected = batch::<2>("output");
    let y = net.forward(&x);
    let worst = (y - expected).abs().max();
    assert!(worst <= 1e-6, "largest difference {worst:e}\n{y}\n{expected}");
    // PyTorch's [out, in] weight is the transpose of the stored column-major data.
    let file = SafeTensors::deserialize(MODEL).unwrap();
    let w = file.tensor("0.weight").unwrap();
    let first_row_second = f32::from_le_bytes(w.data()[4..8].try_into().unwrap());
    assert_eq!(net.0.weight[(0, 1)], first_row_second);
}

#[test]
fn export_writes_what_the_python_package_writes() {
    let mut net = fresh();
    st::load(&mut net, MODEL).unwrap();
    // Same names, dtype, shapes, row-major data and tensor order: the very same bytes.
    assert_eq!(st::to_vec(&net).unwrap(), MODEL);
}

#[test]
fn f64_networks_round_trip() {
    type Net = (Dense<f64, 2, 5>, Sigmoid, Dense<f64, 5, 3>);
    let net = Net::build(Init::PyTorch, &mut Rng::new(4));
    let bytes = st::to_vec(&net).unwrap();
    let file = SafeTensors::deserialize(&bytes).unwrap();
    assert_eq!(file.tensor("2.weight").unwrap().shape(), [3, 5]);
    assert_eq!(file.tensor("2.bias").unwrap().shape(), [3]);
    let mut loaded = Net::build(Init::PyTorch, &mut Rng::new(5));
    st::load(&mut loaded, &bytes).unwrap();
    assert_eq!(loaded.0.weight, net.0.weight);
    assert_eq!(loaded.2.bias, net.2.bias);
}

#[test]
fn every_float_dtype_loads_into_f32_and_f64_networks() {
    type Wide = (Dense<f64, 2, 5>, Sigmoid, Dense<f64, 5, 3>);
    type Narrow = (Dense<f32, 2, 5>, Sigmoid, Dense<f32, 5, 3>);
    let mut wide = Wide::build(Init::PyTorch, &mut Rng::new(4));
    wide.0.weight[(1, 0)] = 0.1; // not exact in any narrower type
    let names = st::Names::new();

    // F64 into f32 rounds to the nearest f32, as PyTorch's `.float()` does.
    let mut narrow = Narrow::build(Init::PyTorch, &mut Rng::new(5));
    st::load(&mut narrow, &st::to_vec(&wide).unwrap()).unwrap();
    assert_eq!(narrow.0.weight[(1, 0)], 0.1f32);
    assert_eq!(narrow.2.bias, wide.2.bias.map(|v| v as f32));

    // F32 into f64 is exact, so f32 -> F32 -> f64 keeps every bit.
    let mut back = Wide::build(Init::PyTorch, &mut Rng::new(6));
    st::load(&mut back, &st::to_vec(&narrow).unwrap()).unwrap();
    assert_eq!(back.2.weight, narrow.2.weight.map(f64::from));

    // Half precision keeps 11 (F16) or 8 (BF16) significant bits, rounded to nearest.
    for (dtype, bits) in [(st::Dtype::F16, 11), (st::Dtype::BF16, 8)] {
        let bytes = st::to_vec_with(&wide, &names, dtype).unwrap();
        let tolerance = 0.5f64.powi(bits); // half an ulp, relative
        st::load(&mut back, &bytes).unwrap();
        st::load(&mut narrow, &bytes).unwrap();
        for (ours, theirs) in back.0.weight.iter().zip(&wide.0.weight) {
            assert!(
                (ours - theirs).abs() <= tolerance * theirs.abs(),
                "{dtype:?}: {ours} vs {theirs}"
            );
        }
        assert_eq!(narrow.0.weight, back.0.weight.map(|v| v as f32)); // half values are exact in f32
    }
    assert_eq!(
        SafeTensors::deserialize(&st::to_vec_with(&wide, &names, st::Dtype::BF16).unwrap())
            .unwrap()
            .tensor("0.weight")
            .unwrap()
            .dtype(),
        safetensors::Dtype::BF16
    );

    // A value beyond F16's range (65504) is refused rather than written as infinity.
    wide.2.bias[1] = 70000.0;
    assert_eq!(
        st::to_vec_with(&wide, &names, st::Dtype::F16).unwrap_err(),
        Error::NonFinite {
            tensor: Name::of_layer(2, "bias"),
            index: 1
        }
    );
    // One beyond f32's range does not load into an f32 network.
    wide.2.bias[1] = 1e300;
    assert!(matches!(
        st::load(&mut narrow, &st::to_vec(&wide).unwrap()),
        Err(Error::NonFinite { index: 1, .. })
    ));
}

/// Writes a safetensors file from `(name, shape, values)` with the reference crate.
fn file_with(tensors: &[(&str, Vec<usize>, Vec<f32>)]) -> Vec<u8> {
    let views: Vec<(String, safetensors::tensor::TensorView<'_>)> = tensors
        .iter()
        .map(|(name, shape, values)| {
            let view = safetensors::tensor::TensorView::new(
                safetensors::Dtype::F32,
                shape.clone(),
                bytemuck::cast_slice(values.as_slice()),
            )
            .unwrap();
            (name.to_string(), view)
        })
        .collect();
    safetensors::serialize(views, None).unwrap()
}

type Tiny = (Dense<f32, 2, 3>, Tanh, Dense<f32, 3, 1>);

fn tiny_tensors() -> Vec<(&'static str, Vec<usize>, Vec<f32>)> {
    vec![
        ("0.weight", vec![3, 2], vec![0.5; 6]),
        ("0.bias", vec![3], vec![0.25; 3]),
        ("2.weight", vec![1, 3], vec![-1.0; 3]),
        ("2.bias", vec![1], vec![2.0]),
    ]
}

fn import_error(bytes: &[u8]) -> Error {
    let mut net = Tiny::build(Init::PyTorch, &mut Rng::new(3));
    let before = net.clone();
    let error = st::load(&mut net, bytes).unwrap_err();
    assert_eq!(net.0.weight, before.0.weight);
    assert_eq!(net.2.bias, before.2.bias);
    error
}

#[test]
fn names_dtypes_and_shapes_are_checked() {
    let mut net = Tiny::build(Init::PyTorch, &mut Rng::new(3));
    st::load(&mut net, &file_with(&tiny_tensors())).unwrap();
    assert_eq!(net.2.bias[0], 2.0);

    // A bias is a vector in PyTorch, never a column.
    let mut tensors = tiny_tensors();
    tensors[1].1 = vec![3, 1];
    assert_eq!(
        import_error(&file_with(&tensors)),
        Error::ShapeMismatch {
            tensor: Name::of_layer(0, "bias"),
            expected: Shape::new(&[3]),
            found: Shape::new(&[3, 1])
        }
    );

    let mut tensors = tiny_tensors();
    tensors.remove(2);
    assert_eq!(
        import_error(&file_with(&tensors)),
        Error::MissingTensor {
            tensor: Name::of_layer(2, "weight")
        }
    );

    // PyTorch module names where positions were looked for: the error lists them and suggests
    // the mapping, which then loads the file.
    let mut tensors = tiny_tensors();
    tensors[2].0 = "head.weight";
    tensors[3].0 = "head.bias";
    let error = import_error(&file_with(&tensors));
    assert!(matches!(error, Error::NamesDiffer { position: 2, .. }), "{error:?}");
    assert_eq!(
        error.to_string(),
        "tensor 2.weight is missing from the file, which holds 2 tensors the network does not use: \
         head.bias, head.weight; if they are PyTorch module names, map them to layer positions once \
         with format::safetensors::Names, e.g. Names::new().module(\"head\", 2)"
    );
    st::load_with(&mut net, &file_with(&tensors), &st::Names::new().module("head", 2)).unwrap();

    let mut tensors = tiny_tensors();
    tensors.push(("1.num_batches_tracked", vec![1], vec![0.0]));
    assert_eq!(
        import_error(&file_with(&tensors)),
        Error::UnexpectedTensor {
            tensor: Name::from_bytes(b"1.num_batches_tracked"),
            expected: None
        }
    );

    let mut tensors = tiny_tensors();
    tensors[0].1 = vec![2, 3]; // not transposed
    assert_eq!(
        import_error(&file_with(&tensors)),
        Error::ShapeMismatch {
            tensor: Name::of_layer(0, "weight"),
            expected: Shape::new(&[3, 2]),
            found: Shape::new(&[2, 3])
        }
    );

    let mut tensors = tiny_tensors();
    tensors[3].2 = vec![f32::NAN];
    assert_eq!(
        import_error(&file_with(&tensors)),
        Error::NonFinite {
            tensor: Name::of_layer(2, "bias"),
            index: 0
        }
    );
    Loader::default()
        .allow_non_finite()
        .load_safetensors(&mut net, &file_with(&tensors), &st::Names::new())
        .unwrap();
    assert!(net.2.bias[0].is_nan());

    let integers: Vec<i64> = vec![1; 6];
    let view = safetensors::tensor::TensorView::new(
        safetensors::Dtype::I64,
        vec![3, 2],
        bytemuck::cast_slice(integers.as_slice()),
    )
    .unwrap();
    let integer_file = safetensors::serialize([("0.weight", view)], None).unwrap();
    assert_eq!(
        import_error(&integer_file),
        Error::ScalarMismatch {
            expected: "f32",
            found: "I64"
        }
    );

    assert_eq!(
        import_error(&MODEL[..100]),
        Error::Truncated {
            needed: 8 + u64::from_le_bytes(MODEL[..8].try_into().unwrap()) as usize,
            available: 100
        }
    );
    assert!(matches!(import_error(b"\x02\0\0\0\0\0\0\0{]"), Error::Malformed { .. }));
}

fn import_never_panics_or_half_writes(bytes: &[u8]) -> Result<(), TestCaseError> {
    let mut net = fresh();
    let before = net.clone();
    if let Err(error) = st::load(&mut net, bytes) {
        prop_assert!(
            net.0.weight == before.0.weight && net.4.bias == before.4.bias,
            "{error}"
        );
        prop_assert!(!error.to_string().is_empty());
    }
    Ok(())
}

fn mutated() -> impl Strategy<Value = Vec<u8>> {
    let len = MODEL.len();
    (proptest::collection::vec((0..len, any::<u8>()), 1..6), 0..len + 8).prop_map(|(edits, keep)| {
        let mut bytes = MODEL.to_vec();
        for (at, value) in edits {
            bytes[at] = value;
        }
        bytes.resize(keep, 0);
        bytes
    })
}

/// Edits inside the JSON header only, where the parser is exercised hardest.
fn mutated_header() -> impl Strategy<Value = Vec<u8>> {
    let header_len = 8 + u64::from_le_bytes(MODEL[..8].try_into().unwrap()) as usize;
    proptest::collection::vec(
        (
            8..header_len,
            proptest::sample::select(b"{}[]\",:0123456789 -e.FI".to_vec()),
        ),
        1..4,
    )
    .prop_map(|edits| {
        let mut bytes = MODEL.to_vec();
        for (at, value) in edits {
            bytes[at] = value;
        }
        bytes
    })
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 1000, failure_persistence: None, ..ProptestConfig::default() })]

    #[test]
    fn random_bytes_are_rejected_cleanly(bytes in proptest::collection::vec(any::<u8>(), 0..300)) {
        import_never_panics_or_half_writes(&bytes)?;
    }

    #[test]
    fn mutated_files_are_rejected_cleanly(bytes in mutated()) {
        import_never_panics_or_half_writes(&bytes)?;
    }

    #[test]
    fn mutated_headers_are_rejected_cleanly(bytes in mutated_header()) {
        import_never_panics_or_half_writes(&bytes)?;
    }
}

#[test]
fn batch_norm_step_counters_from_pytorch_are_skipped() {
    type Normed = (Dense<f32, 2, 3>, BatchNorm<f32, 3>);
    let floats = [
        ("0.weight", vec![3, 2], vec![0.5f32; 6]),
        ("0.bias", vec![3], vec![0.25; 3]),
        ("1.weight", vec![3], vec![2.0; 3]),
        ("1.bias", vec![3], vec![-1.0; 3]),
        ("1.running_mean", vec![3], vec![0.1; 3]),
        ("1.running_var", vec![3], vec![4.0; 3]),
    ];
    let counter = 7i64.to_le_bytes();
    let with_extra = |name: &str, dtype, shape: Vec<usize>, data: &[u8]| {
        let mut views: Vec<(String, safetensors::tensor::TensorView<'_>)> = floats
            .iter()
            .map(|(name, shape, values)| {
                let bytes = bytemuck::cast_slice(values.as_slice());
                let view = safetensors::tensor::TensorView::new(safetensors::Dtype::F32, shape.clone(), bytes);
                (name.to_string(), view.unwrap())
            })
            .collect();
        let view = safetensors::tensor::TensorView::new(dtype, shape, data).unwrap();
        views.push((name.to_string(), view));
        safetensors::serialize(views, None).unwrap()
    };
    let with_counter = |name: &str| with_extra(name, safetensors::Dtype::I64, vec![], &counter);

    let mut net = Normed::build(Init::PyTorch, &mut Rng::new(0));
    st::load(&mut net, &with_counter("1.num_batches_tracked")).unwrap();
    assert_eq!(net.1.running_var, nalgebra::Vector3::repeat(4.0));
    assert_eq!(net.1.weight, nalgebra::Vector3::repeat(2.0));

    // Only next to a batch norm: anywhere else it is an unexpected tensor.
    let before = net.clone();
    let error = st::load(&mut net, &with_counter("0.num_batches_tracked")).unwrap_err();
    assert_eq!(
        error,
        Error::UnexpectedTensor {
            tensor: Name::from_bytes(b"0.num_batches_tracked"),
            expected: None
        }
    );
    assert_eq!(net.1.running_var, before.1.running_var);

    // PyTorch writes an I64 scalar (older versions `[1]`); anything else is not its counter.
    let name = "1.num_batches_tracked";
    st::load(&mut net, &with_extra(name, safetensors::Dtype::I64, vec![1], &counter)).unwrap();
    let floats = [0u8; 4000];
    let error = st::load(
        &mut net,
        &with_extra(name, safetensors::Dtype::F32, vec![1000], &floats),
    )
    .unwrap_err();
    assert_eq!(
        error,
        Error::ScalarMismatch {
            expected: "I64",
            found: "F32"
        }
    );
    let error = st::load(&mut net, &with_extra(name, safetensors::Dtype::I64, vec![2], &[0; 16])).unwrap_err();
    assert_eq!(
        error,
        Error::ShapeMismatch {
            tensor: Name::from_bytes(name.as_bytes()),
            expected: Shape::new(&[]),
            found: Shape::new(&[2])
        }
    );
    assert_eq!(net.1.running_var, before.1.running_var);
}

/// A safetensors file written by hand: `header` is the JSON, `data` the data section.
fn raw_file(header: &str, data: &[f32]) -> Vec<u8> {
    let mut bytes = (header.len() as u64).to_le_bytes().to_vec();
    bytes.extend_from_slice(header.as_bytes());
    bytes.extend_from_slice(bytemuck::cast_slice(data));
    bytes
}

#[test]
fn a_tensor_named_twice_is_refused() {
    let tensor = |name: &str, shape: &str, from: usize, to: usize| {
        format!(r#""{name}":{{"dtype":"F32","shape":{shape},"data_offsets":[{from},{to}]}}"#)
    };
    let tensors = [
        tensor("0.weight", "[3,2]", 0, 24),
        tensor("0.bias", "[3]", 24, 36),
        tensor("2.weight", "[1,3]", 36, 48),
        tensor("2.bias", "[1]", 48, 52),
    ];
    let data = [0.5f32; 13];
    let mut net = Tiny::build(Init::PyTorch, &mut Rng::new(3));
    st::load(&mut net, &raw_file(&format!("{{{}}}", tensors.join(",")), &data)).unwrap();

    // The reference reader keeps the last of two equal keys; escaped, the name is the same.
    for repeated in [r#""0.bias""#, r#""0.bias""#] {
        let again = tensors[1].replacen(r#""0.bias""#, repeated, 1);
        let header = format!("{{{},{again}}}", tensors.join(","));
        assert!(SafeTensors::deserialize(&raw_file(&header, &data)).is_ok());
        let error = import_error(&raw_file(&header, &data));
        assert_eq!(
            error,
            Error::DuplicateTensor {
                tensor: Name::from_bytes(b"0.bias")
            }
        );
        assert_eq!(error.to_string(), "the file names 0.bias twice");
    }
}

#[test]
fn shapes_are_pytorchs_even_where_a_matrix_looks_like_a_vector() {
    // nn.Linear(1, 3).weight is [3, 1]; a Conv1d weight is [out, in, kernel].
    type OneInput = (Dense<f32, 1, 3>, Relu, Conv1d<f32, 3, 2, 2, 4, 3>);
    let net = OneInput::build(Init::PyTorch, &mut Rng::new(8));
    let bytes = st::to_vec(&net).unwrap();
    let file = SafeTensors::deserialize(&bytes).unwrap();
    assert_eq!(file.tensor("0.weight").unwrap().shape(), [3, 1]);
    assert_eq!(file.tensor("0.bias").unwrap().shape(), [3]);
    assert_eq!(file.tensor("2.weight").unwrap().shape(), [2, 3, 2]);
    // PyTorch's element (o, i, k) of the kernel is tap k of input channel i for output o.
    let kernel = file.tensor("2.weight").unwrap();
    let values: &[f32] = bytemuck::cast_slice(kernel.data());
    assert_eq!(values[3 * 2 + 2 + 1], net.2.weight[1][(1, 1)]);

    let mut loaded = OneInput::build(Init::PyTorch, &mut Rng::new(9));
    st::load(&mut loaded, &bytes).unwrap();
    assert_eq!(loaded.0.weight, net.0.weight);
    assert_eq!(loaded.2.weight, net.2.weight);
}
