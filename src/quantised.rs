//! `int8` inference: post-training quantisation to TensorFlow Lite's 8-bit specification, and
//! compile-time-shaped `int8` layers that give the same integers as TFLite Micro's reference
//! kernels for the same quantised parameters.
//!
//! ```
//! use static_nn::quantised::{Int8Network, Ranges};
//! use static_nn::{Dense, Init, Parameters, Relu, Rng, Tanh};
//!
//! type Net = (Dense<f32, 4, 16>, Relu, Dense<f32, 16, 8>, Tanh, Dense<f32, 8, 3>);
//! let net = Net::build(Init::PyTorch, &mut Rng::new(3));
//! let mut rng = Rng::new(4);
//! let calibration: Vec<[f32; 4]> = (0..100).map(|_| core::array::from_fn(|_| rng.uniform(-1.0, 1.0) as f32)).collect();
//!
//! let int8 = Int8Network::quantise(&net, &calibration, Ranges::MinMax).unwrap();
//! let class = int8.classify(&[0.1_f32, -0.3, 0.8, 0.0]);
//! assert!(class < 3);
//! ```
//!
//! # What follows TFLite, and where
//!
//! From the [TFLite 8-bit quantisation specification](https://ai.google.dev/edge/litert/models/quantization_spec):
//!
//! > `real_value = (int8_value - zero_point) * scale` … Per-axis (aka per-channel in Conv ops)
//! > or per-tensor weights are represented by int8 two's complement values in the range
//! > `[-127, 127]` with zero-point equal to 0. Per-tensor activations/inputs are represented by
//! > int8 two's complement values in the range `[-128, 127]`, with a zero-point in range
//! > `[-128, 127]`.
//!
//! and, for `FULLY_CONNECTED`, bias `int32` with "scale: input0_scale * input1_scale[...]" and
//! zero point 0; for `TANH` output scale `1.0 / 128.0`, zero point 0; for `LOGISTIC` output
//! scale `1.0 / 256.0`, zero point −128.
//!
//! | piece | TFLite source it follows | here |
//! |---|---|---|
//! | weights per output channel, symmetric | `SymmetricPerChannelQuantizeValues` | [`Quantise`] for [`Dense`](crate::Dense) |
//! | activation ranges | `GetAsymmetricQuantizationParams` (min/max of calibration) | [`Affine::from_range`], [`Ranges`] |
//! | bias | `SymmetricPerChannelBiasQuantize` | as weights |
//! | multiplier | `QuantizeMultiplier`, `PopulateConvolutionQuantizationParams` | [`quantize_multiplier`] |
//! | requantisation | `MultiplyByQuantizedMultiplier` (`SaturatingRoundingDoublingHighMul`, `RoundingDivideByPOT`) | [`multiply_by_quantized_multiplier`] |
//! | fully connected | `reference_integer_ops::FullyConnectedPerChannel` | [`Int8Dense`] |
//! | fused ReLU | `CalculateActivationRangeQuantized` | [`Int8DenseParameters::output_min`] |
//! | tanh, logistic | `LUTPopulate` + `lut[128 + q]` | [`Int8Lookup`] |
//! | softmax | `reference_ops::Softmax`, `CalculateSoftmaxParams` (gemmlowp's fixed-point `exp` and reciprocal) | [`Int8Softmax`] |
//! | standalone RELU6 | `Relu6Prepare`, `Relu6Quantized` | [`Int8Clamp`] |
//!
//! Rounding, in the code TFLite runs: `SaturatingRoundingDoublingHighMul` adds a nudge of
//! `2^30` (or `1 − 2^30` for a negative product) and divides with C's truncation, so a tie
//! rounds away from zero when the product is positive and toward zero when it is negative;
//! `RoundingDivideByPOT` rounds ties away from zero. The tests pin both to the integers.
//!
//! # The output
//!
//! The last layer's integers decode with [`Int8Network::output`]; for classification the
//! class is their argmax ([`Int8Network::classify`]), which decoding cannot change. A network
//! that ends in [`Softmax`](crate::Softmax) quantises it to [`Int8Softmax`], TFLite's `int8`
//! softmax, whose output is probabilities in steps of 1/256 ([`SOFTMAX_OUTPUT`]); a classifier
//! does not need it, and an `f32` softmax of the logits [`Int8Network::predict`] decodes is
//! finer.
//!
//! # Costs
//!
//! Inference is `no_std` and allocates nothing; conversion needs `alloc`. The product runs on
//! AVX-512 VNNI (`vpdpbusd`) or AVX2 when the CPU has them, on the Cortex-M DSP extension
//! (`smlad`) on ARMv7E-M targets and as plain Rust elsewhere, with the same integers. The kernel is chosen once per forward pass ([`Int8Context`]): the whole pass,
//! and with [`Int8Network::forward_real`] the encoding of the real input too, runs inside one
//! function compiled for it.

mod affine;
mod arithmetic;
mod clamp;
mod context;
#[cfg(feature = "alloc")]
mod convert;
mod dense;
#[cfg(feature = "alloc")]
mod error;
mod kernel;
mod layer;
mod lookup;
mod network;
#[cfg(feature = "alloc")]
mod ranges;
mod relu;
mod softmax;
mod tensors;
#[cfg(feature = "alloc")]
mod weight_ranges;

pub use affine::Affine;
pub use arithmetic::{
    multiply_by_quantized_multiplier, quantize_multiplier, rounding_divide_by_power_of_two,
    saturating_rounding_doubling_high_mul,
};
pub use clamp::Int8Clamp;
pub use context::Int8Context;
#[cfg(feature = "alloc")]
pub use convert::{Converted, Quantise, QuantiseContext};
pub use dense::{Int8Dense, Int8DenseParameters};
#[cfg(feature = "alloc")]
pub use error::QuantiseError;
pub use kernel::Int8Kernel;
#[cfg(arm_dsp)]
pub(crate) use kernel::Requantisation;
#[cfg(all(feature = "std", target_arch = "x86_64"))]
pub(crate) use kernel::{BLOCK, Requantisation, portable};
pub use layer::Int8Layer;
pub use lookup::{Int8Lookup, SIGMOID_OUTPUT, TANH_OUTPUT};
pub use network::Int8Network;
#[cfg(feature = "alloc")]
pub use ranges::Ranges;
pub use relu::Int8Relu;
pub use softmax::{Int8Softmax, SOFTMAX_OUTPUT};
pub use tensors::{Int8Element, Int8Tensors, Int8Values, Int8ValuesMut};
#[cfg(feature = "alloc")]
pub use weight_ranges::WeightRanges;
