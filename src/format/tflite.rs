//! Import of `int8` TensorFlow Lite models into an [`Int8Network`] whose layers the caller
//! states as types (feature `tflite`).
//!
//! ```
//! use static_nn::format::tflite;
//! use static_nn::quantised::{Int8Dense, Int8Network};
//!
//! // TensorFlow Lite Micro's `hello_world` model: sin(x) for x in [0, 2π], three fully
//! // connected layers (the first two with a fused ReLU), int8 input and output.
//! type Sine = (Int8Dense<1, 16>, Int8Dense<16, 16>, Int8Dense<16, 1>);
//! let bytes = include_bytes!("../../tests/fixtures/sine.tflite");
//! let sine: Int8Network<Sine, 1> = tflite::read(bytes).unwrap();
//!
//! let x = core::f32::consts::FRAC_PI_2;
//! let [y] = sine.predict(&[x]);
//! assert!((y - 1.0).abs() < 0.1, "sin(π/2) ≈ {y}");
//!
//! // Another network type is refused, naming what differs.
//! let wider = tflite::read::<(Int8Dense<1, 32>, Int8Dense<32, 16>, Int8Dense<16, 1>), 1>(bytes);
//! assert_eq!(
//!     wider.unwrap_err().to_string(),
//!     "the weights of operator 0 (tensor 6): shape [16, 1] in the model, [32, 1] in the network type"
//! );
//! ```
//!
//! # What is read
//!
//! The first subgraph, which must be a chain from its one input to its one output:
//!
//! | operator | becomes | condition |
//! |---|---|---|
//! | `QUANTIZE` first, from a `FLOAT32` input | the network's input encoding ([`Int8Network::input`]) | |
//! | `FULLY_CONNECTED` | [`Int8Dense`] | `int8` input, weights and output, `int32` bias (or none); fused `NONE`, `RELU`, `RELU6` or `RELU_N1_TO_1`; weights per tensor or per output channel |
//! | `RELU` | [`Int8Relu`] | the output encoded as the input |
//! | `RELU6` | [`Int8Clamp`] ([`Int8Clamp::relu6`]) | the output encoded as the input |
//! | `SOFTMAX` | [`Int8Softmax`] ([`Int8Softmax::with_beta`]) | `int8` input and output, the output encoded as TFLite fixes it ([`SOFTMAX_OUTPUT`]: scale 1/256, zero point −128); `beta · input_scale` above `2^-26` |
//! | `DEQUANTIZE` last, to a `FLOAT32` output | the network's output encoding ([`Int8Network::output`]) | |
//!
//! The input and output tensors hold one sample (`I` values, e.g. shape `[1, I]`). A model
//! with an `int8` input or output tensor takes its encoding from that tensor. Every
//! other operator is refused by name. A `SOFTMAX` without options has beta 0, as TFLite's
//! parser leaves it, and is refused.
//!
//! # The same integers as TensorFlow Lite
//!
//! Each fully connected layer's requantisation multiplier is TFLite's
//! (`PopulateConvolutionQuantizationParams`, `GetQuantizedConvolutionMultipler`):
//! [`quantize_multiplier`] of
//! `double(input_scale) · double(weight_scale[o]) / double(output_scale)`, and its fused
//! activation's clamp is `CalculateActivationRangeQuantized`'s: `zero_point + round(f / scale)`
//! in `f32` for `f` = 0, 6 or ±1, clamped to `[-128, 127]`. [`Int8Dense`] then computes what
//! `reference_integer_ops::FullyConnectedPerChannel` computes. The bias tensor's own scale is
//! not read, as TFLite's kernels do not read it.
//!
//! # Untrusted input
//!
//! The file is checked by the flatbuffers verifier before anything is read (every offset,
//! vector and string in bounds, at most 64 tables deep), then every tensor an operator reads is
//! checked against the network type: its element type, shape, quantisation (scales positive
//! and finite, zero points in `[-128, 127]`, weights' zero points 0) and data length. The
//! network is built into a fresh value and returned only when every layer was read; nothing
//! is allocated in proportion to a count the file declares.

// The code `flatc --rust` writes from schema.fbs, as it wrote it. Its `unsafe` is the flatbuffers
// runtime's unchecked reads, which are sound after its verifier has run (`read` reads only
// through the verified root).
#[allow(unsafe_code, clippy::all, clippy::pedantic, missing_docs, unused_imports, dead_code)]
#[rustfmt::skip]
#[path = "tflite/schema_generated.rs"]
mod schema_generated;

use core::fmt;

use flatbuffers::{ForwardsUOffset, InvalidFlatbuffer, Vector, VerifierOptions};
use schema_generated::tflite as schema;

use super::Shape;
use crate::quantised::{
    Affine, Int8Clamp, Int8Dense, Int8DenseParameters, Int8Network, Int8Relu, Int8Softmax, SOFTMAX_OUTPUT,
    quantize_multiplier,
};

/// Reads an `int8` TensorFlow Lite model into a network of type `N` for `I` real inputs.
///
/// # Errors
/// The bytes are not a TensorFlow Lite model or fail the flatbuffers verifier; the model's
/// operators or tensors do not match `N` and `I`; or a tensor's type, quantisation or data is
/// not what `int8` inference needs. [`Error`] names what and where.
pub fn read<N: TfliteLayers, const I: usize>(bytes: &[u8]) -> Result<Int8Network<N, I>, Error> {
    let mut graph = Graph::new(bytes)?;
    let input = graph.start::<I>()?;
    let network = N::read(&mut graph)?;
    let output = graph.finish()?;
    Ok(Int8Network { input, network, output })
}

/// `int8` layers (and tuples of them) that can be read from a TensorFlow Lite model's
/// operators, in order.
pub trait TfliteLayers: Sized {
    /// Reads the layer from the next operators of `graph`.
    ///
    /// # Errors
    /// As [`read`].
    fn read(graph: &mut Graph<'_>) -> Result<Self, Error>;
}

/// A TensorFlow Lite model's first subgraph, verified, being read operator by operator.
pub struct Graph<'a> {
    tensors: Vector<'a, ForwardsUOffset<schema::Tensor<'a>>>,
    operators: Vector<'a, ForwardsUOffset<schema::Operator<'a>>>,
    codes: Vector<'a, ForwardsUOffset<schema::OperatorCode<'a>>>,
    buffers: Vector<'a, ForwardsUOffset<schema::Buffer<'a>>>,
    model_input: usize,
    model_output: usize,
    /// The index of the next operator to read.
    next: usize,
    /// The tensor the next operator must read: the last one's output.
    current: usize,
}

/// The role of a tensor in the model, for error messages.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Role {
    /// The subgraph's input.
    ModelInput,
    /// The subgraph's output.
    ModelOutput,
    /// The input of an operator (its index in the subgraph).
    Input(usize),
    /// The weights of an operator.
    Weights(usize),
    /// The bias of an operator.
    Bias(usize),
    /// The output of an operator.
    Output(usize),
}

/// A tensor of the model: its index in the subgraph and what it is for.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Tensor {
    /// The index in the subgraph's tensors.
    pub index: usize,
    /// What the tensor is for.
    pub role: Role,
}

/// What is wrong with a tensor's quantisation parameters.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Quantisation {
    /// The tensor has none, or no scale.
    Missing,
    /// It uses custom quantisation (`details`) instead of scales and zero points.
    Custom,
    /// A scale that is zero, negative or not finite.
    Scale(f32),
    /// A zero point outside `[-128, 127]`, or not 0 for weights.
    ZeroPoint(i64),
    /// As many scales or zero points as `found`, where 1 (per tensor) or `per_channel` are read.
    Count {
        /// How many the tensor has.
        found: usize,
        /// The number of output channels.
        per_channel: usize,
    },
    /// Per-channel weights quantised along dimension `0` is the only one read.
    Dimension(i32),
    /// A `RELU` or `RELU6` whose output encoding differs from its input's.
    Rescaled,
    /// A `SOFTMAX` output encoded otherwise than TFLite fixes it (scale 1/256, zero point −128).
    SoftmaxOutput,
}

/// Why a TensorFlow Lite model could not be read.
#[derive(Clone, Debug, PartialEq)]
#[non_exhaustive]
pub enum Error {
    /// The bytes do not carry TensorFlow Lite's file identifier `TFL3`.
    NotTflite,
    /// The flatbuffers verifier refused the bytes (an offset, vector or string out of bounds,
    /// a truncated file, tables nested too deep).
    Malformed(InvalidFlatbuffer),
    /// The model lacks a part every model has (`"subgraphs"`, `"tensors"`, …).
    Missing(&'static str),
    /// The subgraph has another number of inputs or outputs than one.
    Endpoints {
        /// Its inputs.
        inputs: usize,
        /// Its outputs.
        outputs: usize,
    },
    /// An index into one of the model's lists is out of range.
    Index {
        /// The list: `"tensor"`, `"buffer"` or `"operator code"`.
        list: &'static str,
        /// The index.
        index: i64,
        /// The list's length.
        len: usize,
    },
    /// An operator that has no `int8` layer here, with its builtin code (named by Display).
    UnsupportedOperator {
        /// Its index in the subgraph.
        operator: usize,
        /// Its builtin code (`BuiltinOperator`).
        code: i32,
    },
    /// An operator this reader supports, where the network type has a layer read from another.
    UnexpectedOperator {
        /// Its index in the subgraph.
        operator: usize,
        /// Its builtin code (`BuiltinOperator`).
        found: i32,
        /// The builtin code the network type's layer is read from.
        expected: i32,
    },
    /// A fused activation other than `NONE`, `RELU`, `RELU6` and `RELU_N1_TO_1`.
    UnsupportedActivation {
        /// The operator.
        operator: usize,
        /// Its code (`ActivationFunctionType`).
        code: i8,
    },
    /// A `FULLY_CONNECTED` with shuffled weights (`SHUFFLED4x16INT8`).
    ShuffledWeights {
        /// The operator.
        operator: usize,
    },
    /// An operator with another number of inputs or outputs than its kind has.
    Arity {
        /// The operator.
        operator: usize,
        /// Its inputs.
        inputs: usize,
        /// Its outputs.
        outputs: usize,
    },
    /// The network type has more layers than the model has operators.
    MissingOperator {
        /// The index the next operator would have.
        operator: usize,
    },
    /// The model has operators after those the network type reads.
    ExtraOperators {
        /// The operators read.
        read: usize,
        /// The operators in the model.
        total: usize,
    },
    /// An operator does not read the previous operator's output (or the model's input), or
    /// the last does not write the model's output: the model is not a chain.
    NotAChain {
        /// The operator whose input is another tensor, or the number of operators when the
        /// last output is not the model's output.
        operator: usize,
    },
    /// A tensor's shape differs from the network type's.
    Shape {
        /// The tensor.
        tensor: Tensor,
        /// Its shape in the network type.
        expected: Shape,
        /// Its shape in the model.
        found: Shape,
    },
    /// A tensor's element type is not the one its role needs.
    ElementType {
        /// The tensor.
        tensor: Tensor,
        /// The type it needs.
        expected: &'static str,
        /// Its code (`TensorType`, named by Display).
        found: i8,
    },
    /// A tensor's quantisation parameters cannot be used.
    Quantisation {
        /// The tensor.
        tensor: Tensor,
        /// What is wrong.
        problem: Quantisation,
    },
    /// A constant tensor's data has another length than its shape needs (0: not a constant).
    Data {
        /// The tensor.
        tensor: Tensor,
        /// Bytes its shape needs.
        needed: usize,
        /// Bytes the buffer holds.
        available: usize,
    },
    /// A sparse tensor, or one whose data lies outside the flatbuffer (files over 2 GB).
    Layout {
        /// The tensor.
        tensor: Tensor,
    },
    /// A `SOFTMAX` whose `beta` and input scale TFLite's prepare step refuses: their product is
    /// not above `2^-26`, or one is not finite (a `SOFTMAX` without options has beta 0).
    SoftmaxScaling {
        /// The operator.
        operator: usize,
        /// Its `beta`.
        beta: f32,
        /// The scale of its input.
        input_scale: f32,
    },
}

fn operator_name(code: i32) -> Option<&'static str> {
    schema::BuiltinOperator(code).variant_name()
}

impl fmt::Display for Role {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::ModelInput => f.write_str("the model's input"),
            Self::ModelOutput => f.write_str("the model's output"),
            Self::Input(o) => write!(f, "the input of operator {o}"),
            Self::Weights(o) => write!(f, "the weights of operator {o}"),
            Self::Bias(o) => write!(f, "the bias of operator {o}"),
            Self::Output(o) => write!(f, "the output of operator {o}"),
        }
    }
}

impl fmt::Display for Tensor {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} (tensor {})", self.role, self.index)
    }
}

impl fmt::Display for Quantisation {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Missing => f.write_str("no quantisation scale"),
            Self::Custom => f.write_str("custom quantisation instead of scales and zero points"),
            Self::Scale(s) => write!(f, "scale {s}, which is not positive and finite"),
            Self::ZeroPoint(z) => write!(f, "zero point {z}, outside what int8 allows there"),
            Self::Count { found, per_channel } => {
                write!(f, "{found} scales or zero points, where 1 or {per_channel} are read")
            }
            Self::Dimension(d) => write!(f, "per-channel quantisation along dimension {d}, not 0"),
            Self::Rescaled => f.write_str("an output encoding other than its input's"),
            Self::SoftmaxOutput => f.write_str("an encoding other than softmax's scale 1/256 and zero point -128"),
        }
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::NotTflite => f.write_str("not a TensorFlow Lite model: no TFL3 identifier"),
            Self::Malformed(e) => write!(f, "malformed TensorFlow Lite model: {e}"),
            Self::Missing(part) => write!(f, "the model has no {part}"),
            Self::Endpoints { inputs, outputs } => {
                write!(
                    f,
                    "the model has {inputs} inputs and {outputs} outputs, not one of each"
                )
            }
            Self::Index { list, index, len } => write!(f, "{list} index {index} is outside the model's {len}"),
            Self::UnsupportedOperator { operator, code } => match operator_name(*code) {
                Some(name) => write!(f, "operator {operator} is {name}, which has no int8 layer here"),
                None => write!(f, "operator {operator} has the unknown builtin code {code}"),
            },
            Self::UnexpectedOperator {
                operator,
                found,
                expected,
            } => write!(
                f,
                "operator {operator} is {}, where the network type has a layer read from {}",
                operator_name(*found).unwrap_or("unknown"),
                operator_name(*expected).unwrap_or("unknown")
            ),
            Self::UnsupportedActivation { operator, code } => {
                let name = schema::ActivationFunctionType(*code)
                    .variant_name()
                    .unwrap_or("unknown");
                write!(
                    f,
                    "operator {operator} fuses the activation {name} ({code}), which has no int8 form here"
                )
            }
            Self::ShuffledWeights { operator } => write!(f, "operator {operator} has shuffled weights"),
            Self::Arity {
                operator,
                inputs,
                outputs,
            } => write!(f, "operator {operator} has {inputs} inputs and {outputs} outputs"),
            Self::MissingOperator { operator } => {
                write!(
                    f,
                    "the network type has more layers than the model: operator {operator} is missing"
                )
            }
            Self::ExtraOperators { read, total } => {
                write!(f, "the network type reads {read} of the model's {total} operators")
            }
            Self::NotAChain { operator } => write!(
                f,
                "operator {operator} does not read the previous operator's output (or the last does not write the model's output)"
            ),
            Self::Shape {
                tensor,
                expected,
                found,
            } => write!(
                f,
                "{tensor}: shape {found} in the model, {expected} in the network type"
            ),
            Self::ElementType {
                tensor,
                expected,
                found,
            } => {
                let name = schema::TensorType(*found).variant_name().unwrap_or("unknown");
                write!(f, "{tensor} is {name}, not {expected}")
            }
            Self::Quantisation { tensor, problem } => write!(f, "{tensor} has {problem}"),
            Self::Data {
                tensor,
                needed,
                available,
            } => write!(f, "{tensor} needs {needed} bytes of data, its buffer has {available}"),
            Self::Layout { tensor } => write!(f, "{tensor} is sparse or stored outside the file"),
            Self::SoftmaxScaling {
                operator,
                beta,
                input_scale,
            } => write!(
                f,
                "operator {operator} is a SOFTMAX with beta {beta} on an input of scale {input_scale}; TFLite needs beta · scale above 2^-26"
            ),
        }
    }
}

impl core::error::Error for Error {}

const BUILTIN_QUANTIZE: i32 = schema::BuiltinOperator::QUANTIZE.0;
const BUILTIN_DEQUANTIZE: i32 = schema::BuiltinOperator::DEQUANTIZE.0;
const BUILTIN_FULLY_CONNECTED: i32 = schema::BuiltinOperator::FULLY_CONNECTED.0;
const BUILTIN_RELU: i32 = schema::BuiltinOperator::RELU.0;
const BUILTIN_RELU6: i32 = schema::BuiltinOperator::RELU6.0;
const BUILTIN_SOFTMAX: i32 = schema::BuiltinOperator::SOFTMAX.0;
/// The operators some layer is read from (the ends' `QUANTIZE` and `DEQUANTIZE` aside).
const SUPPORTED: [i32; 4] = [BUILTIN_FULLY_CONNECTED, BUILTIN_RELU, BUILTIN_RELU6, BUILTIN_SOFTMAX];

/// A tensor's quantisation: its scales, zero points (absent: 0) and the dimension they run along.
struct Parameters<'a> {
    scales: Vector<'a, f32>,
    zero_points: Option<Vector<'a, i64>>,
    dimension: i32,
}

/// One operator being read: its index, its inputs and its outputs.
struct Operator<'a> {
    index: usize,
    inputs: Vector<'a, i32>,
    outputs: Vector<'a, i32>,
    operator: schema::Operator<'a>,
}

impl<'a> Graph<'a> {
    fn new(bytes: &'a [u8]) -> Result<Self, Error> {
        if bytes.len() < 8 || !schema::model_buffer_has_identifier(bytes) {
            return Err(Error::NotTflite);
        }
        let options = VerifierOptions::default();
        let model = schema::root_as_model_with_opts(&options, bytes).map_err(Error::Malformed)?;
        let subgraph = model
            .subgraphs()
            .and_then(|s| s.iter().next())
            .ok_or(Error::Missing("subgraphs"))?;
        let tensors = subgraph.tensors().ok_or(Error::Missing("tensors"))?;
        let (inputs, outputs) = (subgraph.inputs(), subgraph.outputs());
        let (model_input, model_output) = match (inputs, outputs) {
            (Some(i), Some(o)) if i.len() == 1 && o.len() == 1 => (i.get(0), o.get(0)),
            _ => {
                return Err(Error::Endpoints {
                    inputs: inputs.map_or(0, |v| v.len()),
                    outputs: outputs.map_or(0, |v| v.len()),
                });
            }
        };
        let mut graph = Self {
            tensors,
            operators: subgraph.operators().ok_or(Error::Missing("operators"))?,
            codes: model.operator_codes().ok_or(Error::Missing("operator codes"))?,
            buffers: model.buffers().ok_or(Error::Missing("buffers"))?,
            model_input: 0,
            model_output: 0,
            next: 0,
            current: 0,
        };
        graph.model_input = graph.tensor_index(model_input)?;
        graph.model_output = graph.tensor_index(model_output)?;
        graph.current = graph.model_input;
        Ok(graph)
    }

    fn tensor_index(&self, index: i32) -> Result<usize, Error> {
        usize::try_from(index)
            .ok()
            .filter(|&i| i < self.tensors.len())
            .ok_or(Error::Index {
                list: "tensor",
                index: index.into(),
                len: self.tensors.len(),
            })
    }

    fn tensor(&self, index: usize) -> schema::Tensor<'a> {
        self.tensors.get(index)
    }

    /// The builtin code of the next operator, without reading it.
    fn peek(&self) -> Result<Option<i32>, Error> {
        if self.next >= self.operators.len() {
            return Ok(None);
        }
        let index = self.operators.get(self.next).opcode_index();
        if index as usize >= self.codes.len() {
            return Err(Error::Index {
                list: "operator code",
                index: index.into(),
                len: self.codes.len(),
            });
        }
        let code = self.codes.get(index as usize);
        // TFLite's `GetBuiltinCode`: codes below 127 may sit in the old one-byte field only.
        Ok(Some(code.builtin_code().0.max(code.deprecated_builtin_code().into())))
    }

    /// Reads the next operator, which must have builtin `code`, `inputs` inputs (a range) and
    /// one output, and read the current tensor.
    fn operator(&mut self, code: i32, inputs: core::ops::RangeInclusive<usize>) -> Result<Operator<'a>, Error> {
        let index = self.next;
        let found = self.peek()?.ok_or(Error::MissingOperator { operator: index })?;
        if found != code {
            return Err(if SUPPORTED.contains(&found) {
                Error::UnexpectedOperator {
                    operator: index,
                    found,
                    expected: code,
                }
            } else {
                Error::UnsupportedOperator {
                    operator: index,
                    code: found,
                }
            });
        }
        let operator = self.operators.get(index);
        let (ins, outs) = (operator.inputs(), operator.outputs());
        let (ins, outs) = match (ins, outs) {
            (Some(i), Some(o)) if inputs.contains(&i.len()) && o.len() == 1 => (i, o),
            _ => {
                return Err(Error::Arity {
                    operator: index,
                    inputs: ins.map_or(0, |v| v.len()),
                    outputs: outs.map_or(0, |v| v.len()),
                });
            }
        };
        if self.tensor_index(ins.get(0))? != self.current {
            return Err(Error::NotAChain { operator: index });
        }
        self.next += 1;
        Ok(Operator {
            index,
            inputs: ins,
            outputs: outs,
            operator,
        })
    }

    /// The element count of a tensor, checked against `expected` elements.
    fn check_elements(&self, tensor: Tensor, expected: usize) -> Result<(), Error> {
        let shape = self.tensor(tensor.index).shape();
        let mut count = Some(1usize);
        for d in shape.into_iter().flatten() {
            count = count.and_then(|c| c.checked_mul(usize::try_from(d).ok()?));
        }
        if count == Some(expected) {
            Ok(())
        } else {
            Err(Error::Shape {
                tensor,
                expected: Shape::new(&[expected]),
                found: self.shape(tensor.index),
            })
        }
    }

    /// The tensor's shape as [`Shape`] keeps it: the first four dimensions, and a fifth
    /// standing for any beyond them (displayed as `…`).
    fn shape(&self, index: usize) -> Shape {
        let shape = self.tensor(index).shape();
        let mut dims = [0usize; Shape::MAX_RANK + 1];
        let rank = shape.map_or(0, |s| s.len()).min(Shape::MAX_RANK + 1);
        for (d, v) in dims.iter_mut().zip(shape.into_iter().flatten()) {
            *d = usize::try_from(v).unwrap_or(usize::MAX);
        }
        Shape::new(&dims[..rank])
    }

    fn check_type(&self, tensor: Tensor, expected: schema::TensorType) -> Result<(), Error> {
        let found = self.tensor(tensor.index).type_();
        if found == expected {
            Ok(())
        } else {
            Err(Error::ElementType {
                tensor,
                expected: expected.variant_name().unwrap_or("unknown"),
                found: found.0,
            })
        }
    }

    /// The scales and zero points of a tensor, checked to be plain and present.
    fn quantisation(&self, tensor: Tensor) -> Result<Parameters<'a>, Error> {
        let problem = |problem| Error::Quantisation { tensor, problem };
        let q = self
            .tensor(tensor.index)
            .quantization()
            .ok_or(problem(Quantisation::Missing))?;
        if q.details_type() != schema::QuantizationDetails::NONE {
            return Err(problem(Quantisation::Custom));
        }
        let scales = q
            .scale()
            .filter(|s| !s.is_empty())
            .ok_or(problem(Quantisation::Missing))?;
        for s in scales {
            if !(s.is_finite() && s > 0.0) {
                return Err(problem(Quantisation::Scale(s)));
            }
        }
        Ok(Parameters {
            scales,
            zero_points: q.zero_point(),
            dimension: q.quantized_dimension(),
        })
    }

    /// The per-tensor `int8` encoding of an activation tensor, after checking its type and
    /// that it holds `elements` values.
    fn activation(&self, tensor: Tensor, elements: usize) -> Result<Affine, Error> {
        self.check_type(tensor, schema::TensorType::INT8)?;
        self.check_elements(tensor, elements)?;
        self.check_plain(tensor)?;
        let Parameters {
            scales, zero_points, ..
        } = self.quantisation(tensor)?;
        let zero_points_len = zero_points.map_or(0, |z| z.len());
        if scales.len() != 1 || zero_points_len > 1 {
            return Err(Error::Quantisation {
                tensor,
                problem: Quantisation::Count {
                    found: scales.len().max(zero_points_len),
                    per_channel: 1,
                },
            });
        }
        let zero_point = zero_points.and_then(|z| z.iter().next()).unwrap_or(0);
        let zero_point = i8::try_from(zero_point).map_err(|_| Error::Quantisation {
            tensor,
            problem: Quantisation::ZeroPoint(zero_point),
        })?;
        Ok(Affine {
            scale: scales.get(0),
            zero_point,
        })
    }

    /// Refuses sparse tensors.
    fn check_plain(&self, tensor: Tensor) -> Result<(), Error> {
        if self.tensor(tensor.index).sparsity().is_some() {
            return Err(Error::Layout { tensor });
        }
        Ok(())
    }

    /// The constant data of a tensor, exactly `bytes` long.
    fn data(&self, tensor: Tensor, bytes: usize) -> Result<&'a [u8], Error> {
        self.check_plain(tensor)?;
        let index = self.tensor(tensor.index).buffer();
        if index as usize >= self.buffers.len() {
            return Err(Error::Index {
                list: "buffer",
                index: index.into(),
                len: self.buffers.len(),
            });
        }
        let buffer = self.buffers.get(index as usize);
        if buffer.offset() > 1 {
            return Err(Error::Layout { tensor });
        }
        let data = buffer.data().map_or(&[][..], |d| d.bytes());
        if data.len() != bytes {
            return Err(Error::Data {
                tensor,
                needed: bytes,
                available: data.len(),
            });
        }
        Ok(data)
    }

    /// The model's input encoding, with a leading `QUANTIZE` for a `FLOAT32` input.
    fn start<const I: usize>(&mut self) -> Result<Affine, Error> {
        let tensor = Tensor {
            index: self.model_input,
            role: Role::ModelInput,
        };
        if self.tensor(self.model_input).type_() != schema::TensorType::FLOAT32 {
            return self.activation(tensor, I);
        }
        self.check_elements(tensor, I)?;
        let operator = self.operator(BUILTIN_QUANTIZE, 1..=1)?;
        let output = self.tensor_index(operator.outputs.get(0))?;
        let affine = self.activation(
            Tensor {
                index: output,
                role: Role::Output(operator.index),
            },
            I,
        )?;
        self.current = output;
        Ok(affine)
    }

    /// The model's output encoding, with a trailing `DEQUANTIZE` to a `FLOAT32` output, after
    /// checking that every operator was read.
    fn finish(&mut self) -> Result<Affine, Error> {
        let last = Tensor {
            index: self.current,
            role: Role::ModelOutput,
        };
        let elements = self.elements(self.current);
        let affine = self.activation(last, elements)?;
        if self.peek()? == Some(BUILTIN_DEQUANTIZE) {
            let operator = self.operator(BUILTIN_DEQUANTIZE, 1..=1)?;
            let output = self.tensor_index(operator.outputs.get(0))?;
            let tensor = Tensor {
                index: output,
                role: Role::Output(operator.index),
            };
            self.check_type(tensor, schema::TensorType::FLOAT32)?;
            self.check_elements(tensor, elements)?;
            self.current = output;
        }
        if self.next < self.operators.len() {
            return Err(Error::ExtraOperators {
                read: self.next,
                total: self.operators.len(),
            });
        }
        if self.current != self.model_output {
            return Err(Error::NotAChain { operator: self.next });
        }
        Ok(affine)
    }

    /// The element count of a tensor whose shape an earlier check has fixed.
    fn elements(&self, index: usize) -> usize {
        self.tensor(index)
            .shape()
            .iter()
            .flatten()
            .fold(1usize, |c, d| c.saturating_mul(usize::try_from(d).unwrap_or(0)))
    }
}

/// `CalculateActivationRangeQuantized`: `zero_point + round(f / scale)` in `f32` (`TfLiteRound`,
/// half away from zero), clamped to the `int8` range.
fn activation_bound(output: Affine, f: f32) -> i8 {
    let steps = libm::roundf(f / output.scale).clamp(-1024.0, 1024.0) as i32;
    (i32::from(output.zero_point) + steps).clamp(-128, 127) as i8
}

/// A `FULLY_CONNECTED` operator: `[input, weights (O × I), bias (O, optional)]` to one output.
impl<const I: usize, const O: usize> TfliteLayers for Int8Dense<I, O> {
    fn read(graph: &mut Graph<'_>) -> Result<Self, Error> {
        let input_index = graph.current;
        let operator = graph.operator(BUILTIN_FULLY_CONNECTED, 2..=3)?;
        let at = operator.index;
        let input = graph.activation(
            Tensor {
                index: input_index,
                role: Role::Input(at),
            },
            I,
        )?;

        let options = operator.operator.builtin_options_as_fully_connected_options();
        let activation = options.map_or(schema::ActivationFunctionType::NONE, |o| o.fused_activation_function());
        if options.is_some_and(|o| o.weights_format() != schema::FullyConnectedOptionsWeightsFormat::DEFAULT) {
            return Err(Error::ShuffledWeights { operator: at });
        }

        let weights = Tensor {
            index: graph.tensor_index(operator.inputs.get(1))?,
            role: Role::Weights(at),
        };
        graph.check_type(weights, schema::TensorType::INT8)?;
        let weight_shape = graph.tensor(weights.index).shape();
        if weight_shape.is_none_or(|s| s.len() != 2 || s.get(0) as usize != O || s.get(1) as usize != I) {
            return Err(Error::Shape {
                tensor: weights,
                expected: Shape::matrix(O, I),
                found: graph.shape(weights.index),
            });
        }
        let Parameters {
            scales: weight_scales,
            zero_points: weight_zero_points,
            dimension,
        } = graph.quantisation(weights)?;
        let zero_points_len = weight_zero_points.map_or(0, |z| z.len());
        let per_channel = weight_scales.len() != 1;
        if (per_channel && weight_scales.len() != O) || (zero_points_len != 0 && zero_points_len != weight_scales.len())
        {
            return Err(Error::Quantisation {
                tensor: weights,
                problem: Quantisation::Count {
                    found: if weight_scales.len() == 1 || weight_scales.len() == O {
                        zero_points_len
                    } else {
                        weight_scales.len()
                    },
                    per_channel: O,
                },
            });
        }
        if per_channel && dimension != 0 {
            return Err(Error::Quantisation {
                tensor: weights,
                problem: Quantisation::Dimension(dimension),
            });
        }
        if let Some(z) = weight_zero_points.into_iter().flatten().find(|&z| z != 0) {
            return Err(Error::Quantisation {
                tensor: weights,
                problem: Quantisation::ZeroPoint(z),
            });
        }
        let weight_data = graph.data(weights, O * I)?;

        let bias = match operator.inputs.len() {
            3 if operator.inputs.get(2) >= 0 => {
                let tensor = Tensor {
                    index: graph.tensor_index(operator.inputs.get(2))?,
                    role: Role::Bias(at),
                };
                graph.check_type(tensor, schema::TensorType::INT32)?;
                graph.check_elements(tensor, O)?;
                Some(graph.data(tensor, 4 * O)?)
            }
            _ => None,
        };

        let output_index = graph.tensor_index(operator.outputs.get(0))?;
        let output = graph.activation(
            Tensor {
                index: output_index,
                role: Role::Output(at),
            },
            O,
        )?;
        let (output_min, output_max) = match activation {
            schema::ActivationFunctionType::NONE => (-128, 127),
            schema::ActivationFunctionType::RELU => (activation_bound(output, 0.0), 127),
            schema::ActivationFunctionType::RELU6 => (activation_bound(output, 0.0), activation_bound(output, 6.0)),
            schema::ActivationFunctionType::RELU_N1_TO_1 => {
                (activation_bound(output, -1.0), activation_bound(output, 1.0))
            }
            other => {
                return Err(Error::UnsupportedActivation {
                    operator: at,
                    code: other.0,
                });
            }
        };

        let mut parameters = Int8DenseParameters {
            weight: [[0; I]; O],
            bias: [0; O],
            multiplier: [0; O],
            shift: [0; O],
            input_zero_point: input.zero_point,
            output_zero_point: output.zero_point,
            output_min,
            output_max,
        };
        for (q, &byte) in parameters.weight.as_flattened_mut().iter_mut().zip(weight_data) {
            *q = byte as i8;
        }
        if let Some(bias) = bias {
            for (b, bytes) in parameters.bias.iter_mut().zip(bias.chunks_exact(4)) {
                *b = i32::from_le_bytes([bytes[0], bytes[1], bytes[2], bytes[3]]);
            }
        }
        for o in 0..O {
            let weight_scale = weight_scales.get(if per_channel { o } else { 0 });
            let (multiplier, shift) =
                quantize_multiplier(f64::from(input.scale) * f64::from(weight_scale) / f64::from(output.scale));
            parameters.multiplier[o] = multiplier;
            parameters.shift[o] = shift as i8;
        }
        graph.current = output_index;
        Ok(Int8Dense::new(parameters))
    }
}

impl Graph<'_> {
    /// Reads an elementwise operator with builtin `code` whose output is encoded as its input
    /// (what TFLite's converter writes for `RELU` and `RELU6`), and returns that encoding.
    fn same_encoding(&mut self, code: i32) -> Result<Affine, Error> {
        let input_index = self.current;
        let elements = self.elements(input_index);
        let operator = self.operator(code, 1..=1)?;
        let input = self.activation(
            Tensor {
                index: input_index,
                role: Role::Input(operator.index),
            },
            elements,
        )?;
        let output_index = self.tensor_index(operator.outputs.get(0))?;
        let output_tensor = Tensor {
            index: output_index,
            role: Role::Output(operator.index),
        };
        if self.activation(output_tensor, elements)? != input {
            return Err(Error::Quantisation {
                tensor: output_tensor,
                problem: Quantisation::Rescaled,
            });
        }
        self.current = output_index;
        Ok(input)
    }
}

/// A standalone `RELU` whose output is encoded as its input (what TFLite's converter writes),
/// so that TFLite's requantisation by 1 changes nothing and ReLU is `max(q, zero_point)`.
impl TfliteLayers for Int8Relu {
    fn read(graph: &mut Graph<'_>) -> Result<Self, Error> {
        let encoding = graph.same_encoding(BUILTIN_RELU)?;
        Ok(Int8Relu {
            zero_point: encoding.zero_point,
        })
    }
}

/// A standalone `RELU6` whose output is encoded as its input: TensorFlow Lite Micro's
/// `Relu6Quantized`, which clamps to the input's zero point and 6 in the input's encoding.
impl TfliteLayers for Int8Clamp {
    fn read(graph: &mut Graph<'_>) -> Result<Self, Error> {
        Ok(Int8Clamp::relu6(graph.same_encoding(BUILTIN_RELU6)?))
    }
}

/// A `SOFTMAX` from an `int8` input to TFLite's fixed `int8` output encoding, with the
/// parameters TFLite Micro's `CalculateSoftmaxParams` computes from `beta` and the input scale.
impl TfliteLayers for Int8Softmax {
    fn read(graph: &mut Graph<'_>) -> Result<Self, Error> {
        let input_index = graph.current;
        let elements = graph.elements(input_index);
        let operator = graph.operator(BUILTIN_SOFTMAX, 1..=1)?;
        let input = graph.activation(
            Tensor {
                index: input_index,
                role: Role::Input(operator.index),
            },
            elements,
        )?;
        let output_index = graph.tensor_index(operator.outputs.get(0))?;
        let output_tensor = Tensor {
            index: output_index,
            role: Role::Output(operator.index),
        };
        // TFLite Micro checks `scale == 1.f / 256` exactly.
        let output = graph.activation(output_tensor, elements)?;
        if output.scale != SOFTMAX_OUTPUT.scale || output.zero_point != SOFTMAX_OUTPUT.zero_point {
            return Err(Error::Quantisation {
                tensor: output_tensor,
                problem: Quantisation::SoftmaxOutput,
            });
        }
        let beta = operator
            .operator
            .builtin_options_as_softmax_options()
            .map_or(0.0, |o| o.beta());
        let layer = Int8Softmax::with_beta(input.scale, beta).ok_or(Error::SoftmaxScaling {
            operator: operator.index,
            beta,
            input_scale: input.scale,
        })?;
        graph.current = output_index;
        Ok(layer)
    }
}

/// Implements `TfliteLayers` for a tuple: each element reads its operators in turn.
macro_rules! tflite_tuple {
    ($($L:ident)+) => {
        impl<$($L: TfliteLayers,)+> TfliteLayers for ($($L,)+) {
            fn read(graph: &mut Graph<'_>) -> Result<Self, Error> {
                Ok(($($L::read(graph)?,)+))
            }
        }
    };
}

tflite_tuple!(A);
tflite_tuple!(A B);
tflite_tuple!(A B C);
tflite_tuple!(A B C D);
tflite_tuple!(A B C D E);
tflite_tuple!(A B C D E F);
tflite_tuple!(A B C D E F G);
tflite_tuple!(A B C D E F G H);

#[cfg(test)]
mod tests {
    use alloc::vec;
    use alloc::vec::Vec;

    use flatbuffers::FlatBufferBuilder;

    use super::schema::{ActivationFunctionType as Activation, BuiltinOperator as Op, TensorType};
    use super::*;
    use crate::quantised::Int8Layer;

    #[derive(Clone)]
    struct TensorSpec {
        shape: Vec<i32>,
        kind: TensorType,
        data: Option<Vec<u8>>,
        scales: Vec<f32>,
        zero_points: Vec<i64>,
        dimension: i32,
    }

    #[derive(Clone)]
    struct OperatorSpec {
        code: Op,
        inputs: Vec<i32>,
        outputs: Vec<i32>,
        activation: Option<Activation>,
        beta: Option<f32>,
    }

    /// A one-subgraph model, written with the generated builders.
    #[derive(Clone)]
    struct ModelSpec {
        tensors: Vec<TensorSpec>,
        operators: Vec<OperatorSpec>,
        input: i32,
        output: i32,
    }

    fn activation(shape: &[i32], scale: f32, zero_point: i64) -> TensorSpec {
        TensorSpec {
            shape: shape.to_vec(),
            kind: TensorType::INT8,
            data: None,
            scales: vec![scale],
            zero_points: vec![zero_point],
            dimension: 0,
        }
    }

    fn real(shape: &[i32]) -> TensorSpec {
        TensorSpec {
            kind: TensorType::FLOAT32,
            scales: vec![],
            zero_points: vec![],
            ..activation(shape, 1.0, 0)
        }
    }

    fn constant(shape: &[i32], kind: TensorType, data: Vec<u8>, scales: Vec<f32>) -> TensorSpec {
        TensorSpec {
            shape: shape.to_vec(),
            kind,
            data: Some(data),
            zero_points: vec![0; scales.len()],
            scales,
            dimension: 0,
        }
    }

    fn operator(code: Op, inputs: &[i32], output: i32, activation: Option<Activation>) -> OperatorSpec {
        OperatorSpec {
            code,
            inputs: inputs.to_vec(),
            outputs: vec![output],
            activation,
            beta: None,
        }
    }

    const WEIGHTS: [i8; 12] = [10, -20, 30, -127, 127, 0, 5, 6, 7, -1, -2, -3];
    const BIAS: [i32; 4] = [100, -200, 3000, -40000];
    const WEIGHT_SCALES: [f32; 4] = [0.01, 0.03, 0.005, 0.07];
    const LAST_WEIGHTS: [i8; 8] = [1, 2, 3, 4, -5, -6, -7, -8];

    /// `f32[1, 3]` → QUANTIZE → FULLY_CONNECTED (per channel, bias, RELU6) → RELU →
    /// FULLY_CONNECTED (per tensor, no bias) → DEQUANTIZE → `f32[1, 2]`.
    fn base() -> ModelSpec {
        ModelSpec {
            tensors: vec![
                real(&[1, 3]),
                activation(&[1, 3], 0.05, 3),
                constant(
                    &[4, 3],
                    TensorType::INT8,
                    WEIGHTS.map(|w| w as u8).to_vec(),
                    WEIGHT_SCALES.to_vec(),
                ),
                constant(
                    &[4],
                    TensorType::INT32,
                    BIAS.iter().flat_map(|b| b.to_le_bytes()).collect(),
                    vec![1e-4],
                ),
                activation(&[1, 4], 0.1, -10),
                activation(&[1, 4], 0.1, -10),
                constant(
                    &[2, 4],
                    TensorType::INT8,
                    LAST_WEIGHTS.map(|w| w as u8).to_vec(),
                    vec![0.02],
                ),
                activation(&[1, 2], 0.25, 5),
                real(&[1, 2]),
            ],
            operators: vec![
                operator(Op::QUANTIZE, &[0], 1, None),
                operator(Op::FULLY_CONNECTED, &[1, 2, 3], 4, Some(Activation::RELU6)),
                operator(Op::RELU, &[4], 5, None),
                operator(Op::FULLY_CONNECTED, &[5, 6, -1], 7, Some(Activation::NONE)),
                operator(Op::DEQUANTIZE, &[7], 8, None),
            ],
            input: 0,
            output: 8,
        }
    }

    impl ModelSpec {
        fn bytes(&self) -> Vec<u8> {
            let mut fbb = FlatBufferBuilder::new();
            let mut buffers = vec![schema::Buffer::create(&mut fbb, &schema::BufferArgs::default())];
            let mut tensors = Vec::new();
            for t in &self.tensors {
                let buffer = match &t.data {
                    Some(d) => {
                        let data = fbb.create_vector(d);
                        let args = schema::BufferArgs {
                            data: Some(data),
                            ..Default::default()
                        };
                        buffers.push(schema::Buffer::create(&mut fbb, &args));
                        buffers.len() - 1
                    }
                    None => 0,
                };
                let shape = fbb.create_vector(&t.shape);
                let quantization = (!t.scales.is_empty()).then(|| {
                    let scale = fbb.create_vector(&t.scales);
                    let zero_point = fbb.create_vector(&t.zero_points);
                    let args = schema::QuantizationParametersArgs {
                        scale: Some(scale),
                        zero_point: Some(zero_point),
                        quantized_dimension: t.dimension,
                        ..Default::default()
                    };
                    schema::QuantizationParameters::create(&mut fbb, &args)
                });
                let args = schema::TensorArgs {
                    shape: Some(shape),
                    type_: t.kind,
                    buffer: buffer as u32,
                    quantization,
                    ..Default::default()
                };
                tensors.push(schema::Tensor::create(&mut fbb, &args));
            }
            let mut codes = Vec::new();
            let mut operators = Vec::new();
            for (index, o) in self.operators.iter().enumerate() {
                let args = schema::OperatorCodeArgs {
                    deprecated_builtin_code: o.code.0.min(127) as i8,
                    builtin_code: o.code,
                    ..Default::default()
                };
                codes.push(schema::OperatorCode::create(&mut fbb, &args));
                let inputs = fbb.create_vector(&o.inputs);
                let outputs = fbb.create_vector(&o.outputs);
                let fully_connected = o.activation.map(|a| {
                    let args = schema::FullyConnectedOptionsArgs {
                        fused_activation_function: a,
                        ..Default::default()
                    };
                    let options = schema::FullyConnectedOptions::create(&mut fbb, &args).as_union_value();
                    (schema::BuiltinOptions::FullyConnectedOptions, options)
                });
                let softmax = o.beta.map(|beta| {
                    let options = schema::SoftmaxOptions::create(&mut fbb, &schema::SoftmaxOptionsArgs { beta });
                    (schema::BuiltinOptions::SoftmaxOptions, options.as_union_value())
                });
                let options = fully_connected.or(softmax);
                let args = schema::OperatorArgs {
                    opcode_index: index as u32,
                    inputs: Some(inputs),
                    outputs: Some(outputs),
                    builtin_options_type: options.map_or(schema::BuiltinOptions::NONE, |(kind, _)| kind),
                    builtin_options: options.map(|(_, value)| value),
                };
                operators.push(schema::Operator::create(&mut fbb, &args));
            }
            let args = schema::SubGraphArgs {
                tensors: Some(fbb.create_vector(&tensors)),
                inputs: Some(fbb.create_vector(&[self.input])),
                outputs: Some(fbb.create_vector(&[self.output])),
                operators: Some(fbb.create_vector(&operators)),
            };
            let subgraph = schema::SubGraph::create(&mut fbb, &args);
            let args = schema::ModelArgs {
                version: 3,
                operator_codes: Some(fbb.create_vector(&codes)),
                subgraphs: Some(fbb.create_vector(&[subgraph])),
                buffers: Some(fbb.create_vector(&buffers)),
            };
            let model = schema::Model::create(&mut fbb, &args);
            schema::finish_model_buffer(&mut fbb, model);
            fbb.finished_data().to_vec()
        }
    }

    type Net = (Int8Dense<3, 4>, Int8Relu, Int8Dense<4, 2>);
    type Edit = fn(&mut ModelSpec);

    fn read_net(spec: &ModelSpec) -> Result<Int8Network<Net, 3>, Error> {
        read(&spec.bytes())
    }

    #[test]
    fn a_real_ended_chain_reads_with_tflites_parameters() {
        let net = read_net(&base()).unwrap();
        assert_eq!(
            net.input,
            Affine {
                scale: 0.05,
                zero_point: 3
            }
        );
        assert_eq!(
            net.output,
            Affine {
                scale: 0.25,
                zero_point: 5
            }
        );
        let first = net.network.0.parameters();
        assert_eq!(first.weight.as_flattened(), &WEIGHTS);
        assert_eq!(first.bias, BIAS);
        for (o, &scale) in WEIGHT_SCALES.iter().enumerate() {
            let (multiplier, shift) = quantize_multiplier(f64::from(0.05_f32) * f64::from(scale) / f64::from(0.1_f32));
            assert_eq!(
                (first.multiplier[o], i32::from(first.shift[o])),
                (multiplier, shift),
                "channel {o}"
            );
        }
        assert_ne!(first.multiplier[0], first.multiplier[1]);
        assert_eq!((first.input_zero_point, first.output_zero_point), (3, -10));
        // RELU6: from the zero point to -10 + round(6 / 0.1) = 50.
        assert_eq!((first.output_min, first.output_max), (-10, 50));
        assert_eq!(net.network.1, Int8Relu { zero_point: -10 });
        let last = net.network.2.parameters();
        assert_eq!(last.bias, [0, 0]);
        let per_tensor = quantize_multiplier(f64::from(0.1_f32) * f64::from(0.02_f32) / f64::from(0.25_f32));
        assert_eq!(last.multiplier, [per_tensor.0; 2]);
        assert_eq!((last.output_min, last.output_max), (-128, 127));
    }

    #[test]
    fn an_int8_ended_chain_takes_its_encodings_from_the_end_tensors() {
        let mut spec = base();
        spec.operators.remove(4);
        spec.operators.remove(0);
        spec.input = 1;
        spec.output = 7;
        let net = read_net(&spec).unwrap();
        assert_eq!((net.input.zero_point, net.output.zero_point), (3, 5));
    }

    #[test]
    fn other_operators_are_refused_by_name() {
        let mut spec = base();
        spec.operators[2].code = Op::LOGISTIC;
        let error = read_net(&spec).unwrap_err();
        assert_eq!(error, Error::UnsupportedOperator { operator: 2, code: 14 });
        assert_eq!(
            error.to_string(),
            "operator 2 is LOGISTIC, which has no int8 layer here"
        );
        spec.operators[2].code = Op(250);
        assert_eq!(
            read_net(&spec).unwrap_err().to_string(),
            "operator 2 has the unknown builtin code 250"
        );
        // A supported operator where the network type expects another is named as a mismatch.
        spec.operators[2].code = Op::SOFTMAX;
        assert_eq!(
            read_net(&spec).unwrap_err().to_string(),
            "operator 2 is SOFTMAX, where the network type has a layer read from RELU"
        );
    }

    #[test]
    fn bad_quantisation_is_named() {
        let output = Tensor {
            index: 4,
            role: Role::Output(1),
        };
        let cases: [(Edit, Error); 6] = [
            (
                |s| s.tensors[4].scales[0] = 0.0,
                Error::Quantisation {
                    tensor: output,
                    problem: Quantisation::Scale(0.0),
                },
            ),
            (
                |s| s.tensors[4].scales[0] = f32::NAN,
                Error::Quantisation {
                    tensor: output,
                    problem: Quantisation::Scale(f32::NAN),
                },
            ),
            (
                |s| s.tensors[4].zero_points[0] = 200,
                Error::Quantisation {
                    tensor: output,
                    problem: Quantisation::ZeroPoint(200),
                },
            ),
            (
                |s| s.tensors[2].zero_points[1] = 1,
                Error::Quantisation {
                    tensor: Tensor {
                        index: 2,
                        role: Role::Weights(1),
                    },
                    problem: Quantisation::ZeroPoint(1),
                },
            ),
            (
                |s| s.tensors[2].scales.truncate(3),
                Error::Quantisation {
                    tensor: Tensor {
                        index: 2,
                        role: Role::Weights(1),
                    },
                    problem: Quantisation::Count {
                        found: 3,
                        per_channel: 4,
                    },
                },
            ),
            (
                |s| s.tensors[5].zero_points[0] = -9,
                Error::Quantisation {
                    tensor: Tensor {
                        index: 5,
                        role: Role::Output(2),
                    },
                    problem: Quantisation::Rescaled,
                },
            ),
        ];
        for (edit, expected) in cases {
            let mut spec = base();
            edit(&mut spec);
            let error = read_net(&spec).unwrap_err();
            // NaN is not equal to itself: compare the messages.
            assert_eq!(error.to_string(), expected.to_string());
        }
    }

    #[test]
    fn tensors_that_do_not_fit_the_type_are_named() {
        let weights = Tensor {
            index: 2,
            role: Role::Weights(1),
        };
        let mut spec = base();
        spec.tensors[2].kind = TensorType::UINT8;
        assert_eq!(
            read_net(&spec).unwrap_err(),
            Error::ElementType {
                tensor: weights,
                expected: "INT8",
                found: 3
            }
        );
        let mut spec = base();
        spec.tensors[2].data.as_mut().unwrap().pop();
        assert_eq!(
            read_net(&spec).unwrap_err(),
            Error::Data {
                tensor: weights,
                needed: 12,
                available: 11
            }
        );
        let wider = read::<(Int8Dense<3, 5>, Int8Relu, Int8Dense<5, 2>), 3>(&base().bytes());
        assert_eq!(
            wider.unwrap_err().to_string(),
            "the weights of operator 1 (tensor 2): shape [4, 3] in the model, [5, 3] in the network type"
        );
        let mut spec = base();
        spec.operators[1].activation = Some(Activation::TANH);
        assert_eq!(
            read_net(&spec).unwrap_err(),
            Error::UnsupportedActivation { operator: 1, code: 4 }
        );
    }

    #[test]
    fn the_graph_must_be_the_chain_the_type_states() {
        let shorter = read::<(Int8Dense<3, 4>, Int8Relu), 3>(&base().bytes());
        assert_eq!(shorter.unwrap_err(), Error::ExtraOperators { read: 3, total: 5 });
        let mut spec = base();
        spec.operators[3].inputs[0] = 4;
        assert_eq!(read_net(&spec).unwrap_err(), Error::NotAChain { operator: 3 });
        let mut spec = base();
        spec.output = 7;
        assert_eq!(read_net(&spec).unwrap_err(), Error::NotAChain { operator: 5 });
        let mut spec = base();
        spec.operators.truncate(3);
        spec.output = 5;
        assert_eq!(read_net(&spec).unwrap_err(), Error::MissingOperator { operator: 3 });
        assert_eq!(
            read_net(&ModelSpec { input: 9, ..base() }).unwrap_err(),
            Error::Index {
                list: "tensor",
                index: 9,
                len: 9
            }
        );
        assert_eq!(read::<Net, 3>(b"not a model at all").unwrap_err(), Error::NotTflite);
    }

    /// [`base`] with the `RELU` replaced by a `RELU6` and a `SOFTMAX` (beta 1) before the
    /// `DEQUANTIZE`: `… → RELU6 → FULLY_CONNECTED → SOFTMAX → DEQUANTIZE → f32[1, 2]`.
    fn classifier() -> ModelSpec {
        let mut spec = base();
        spec.operators[2].code = Op::RELU6;
        spec.tensors.insert(8, activation(&[1, 2], 1.0 / 256.0, -128));
        spec.operators.insert(
            4,
            OperatorSpec {
                beta: Some(1.0),
                ..operator(Op::SOFTMAX, &[7], 8, None)
            },
        );
        spec.operators[5].inputs[0] = 8;
        spec.operators[5].outputs[0] = 9;
        spec.output = 9;
        spec
    }

    type Classifier = (Int8Dense<3, 4>, Int8Clamp, Int8Dense<4, 2>, Int8Softmax);

    fn read_classifier(spec: &ModelSpec) -> Result<Int8Network<Classifier, 3>, Error> {
        read(&spec.bytes())
    }

    #[test]
    fn softmax_and_relu6_read_with_tflites_parameters() {
        let net = read_classifier(&classifier()).unwrap();
        // RELU6 on scale 0.1, zero point -10: from -10 to -10 + 60.
        assert_eq!(net.network.1, Int8Clamp { min: -10, max: 50 });
        assert_eq!(net.network.3, Int8Softmax::new(0.25).unwrap());
        assert_eq!(net.output, SOFTMAX_OUTPUT);
        let p: [f32; 2] = net.predict(&[0.3, -0.2, 0.9]);
        assert!((p[0] + p[1] - 1.0).abs() < 0.01, "{p:?}");

        let mut spec = classifier();
        spec.operators[4].beta = Some(2.0);
        assert_eq!(
            read_classifier(&spec).unwrap().network.3,
            Int8Softmax::with_beta(0.25, 2.0).unwrap()
        );
    }

    #[test]
    fn softmax_beyond_tflites_domain_is_refused() {
        let mut spec = classifier();
        spec.operators[4].beta = None;
        let error = read_classifier(&spec).unwrap_err();
        assert_eq!(
            error,
            Error::SoftmaxScaling {
                operator: 4,
                beta: 0.0,
                input_scale: 0.25
            }
        );
        assert_eq!(
            error.to_string(),
            "operator 4 is a SOFTMAX with beta 0 on an input of scale 0.25; TFLite needs beta · scale above 2^-26"
        );
        let output = Tensor {
            index: 8,
            role: Role::Output(4),
        };
        let cases: [Edit; 3] = [
            |s| s.tensors[8].scales[0] = 1.0 / 255.0,
            |s| s.tensors[8].zero_points[0] = 0,
            |s| s.tensors[8].kind = TensorType::INT16,
        ];
        for (k, edit) in cases.into_iter().enumerate() {
            let mut spec = classifier();
            edit(&mut spec);
            let error = read_classifier(&spec).unwrap_err();
            if k < 2 {
                assert_eq!(
                    error,
                    Error::Quantisation {
                        tensor: output,
                        problem: Quantisation::SoftmaxOutput
                    }
                );
            } else {
                assert_eq!(
                    error,
                    Error::ElementType {
                        tensor: output,
                        expected: "INT8",
                        found: 7
                    }
                );
            }
        }
        let mut spec = classifier();
        spec.tensors[5].zero_points[0] = -9;
        assert_eq!(
            read_classifier(&spec).unwrap_err(),
            Error::Quantisation {
                tensor: Tensor {
                    index: 5,
                    role: Role::Output(2)
                },
                problem: Quantisation::Rescaled
            }
        );
        // A network type with RELU where the model has RELU6 names the operator.
        let relu = read::<(Int8Dense<3, 4>, Int8Relu, Int8Dense<4, 2>, Int8Softmax), 3>(&classifier().bytes());
        assert_eq!(
            relu.unwrap_err().to_string(),
            "operator 2 is RELU6, where the network type has a layer read from RELU"
        );
    }

    /// The classifier's bytes with random bytes overwritten: the reader never panics, and an
    /// accepted network (softmax and clamp parameters included) runs on extreme inputs.
    #[test]
    fn edited_classifiers_never_panic() {
        let bytes = classifier().bytes();
        let mut rng = crate::Rng::new(16);
        let mut accepted = 0;
        for _ in 0..3000 {
            let mut edited = bytes.clone();
            for _ in 0..1 + rng.below(4) {
                let at = rng.below(edited.len() as u64) as usize;
                edited[at] = rng.below(256) as u8;
            }
            if let Ok(net) = read::<Classifier, 3>(&edited) {
                accepted += 1;
                for x in [[-128_i8, 0, 127], [127, 127, 127], [-128, -128, -128]] {
                    let y = net.network.forward(&nalgebra::Vector3::from(x));
                    assert!(net.output.dequantise(y[0]).is_finite());
                }
            }
        }
        // Edits of unread bytes (padding, names) leave the model readable: both sides are hit.
        assert!(accepted > 0 && accepted < 3000, "{accepted}");
    }
}
