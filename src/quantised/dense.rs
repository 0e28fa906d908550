//! The `int8` fully connected layer.

#[cfg(feature = "alloc")]
use alloc::vec::Vec;
use core::fmt;

use nalgebra::SMatrix;

use super::kernel::{self, BLOCK, Requantisation};
#[cfg(feature = "alloc")]
use super::{
    Affine, Converted, Quantise, QuantiseContext, QuantiseError, arithmetic::quantize_multiplier, ranges::values_of,
};
use super::{Int8Context, Int8Kernel, Int8Layer};
use crate::ConstExpr;
#[cfg(feature = "alloc")]
use crate::{Dense, Layer, Real};

/// A fully connected layer in TFLite's `int8` arithmetic (`FullyConnectedPerChannel`), for an
/// input of width `I` and `O` outputs.
///
/// For each output `o` and sample `x`:
///
/// ```text
/// acc = Σ_i weight[o][i] · (x[i] − input_zero_point)       int32
/// acc += bias[o]
/// acc = MultiplyByQuantizedMultiplier(acc, multiplier[o], shift[o])
/// y[o] = clamp(acc + output_zero_point, output_min, output_max)
/// ```
///
/// Built from its [`Int8DenseParameters`] by [`new`](Self::new) (a `const fn`, so a layer can
/// be a compiled-in constant), which also folds the input zero point into the bias once:
/// the kernels compute `Σ_i weight[o][i] · (x[i] + 128) + bias[o] − (128 + input_zero_point) ·
/// Σ_i weight[o][i]`, which equals `acc` above in `int32` (both wrap modulo 2^32), with the
/// input read as the unsigned byte that AVX-512 VNNI multiplies. The fields are private so that
/// the folded bias always agrees with the weights, and so that the weights can be stored in
/// the order the kernels read them: blocks of sixteen outputs, and in each block the outputs'
/// weights four inputs at a time side by side (one `vpdpbusd` adds four products into each of
/// sixteen sums, with no horizontal reduction).
///
/// ```
/// use static_nn::quantised::{Int8Dense, Int8DenseParameters, Int8Layer};
/// use nalgebra::Vector2;
///
/// // One output, multiplier 1/2 (2^30 · 2^(0 − 31)).
/// const LAYER: Int8Dense<2, 1> = Int8Dense::new(Int8DenseParameters {
///     weight: [[3, -2]],
///     bias: [4],
///     multiplier: [1 << 30],
///     shift: [0],
///     input_zero_point: 1,
///     output_zero_point: -10,
///     output_min: -128,
///     output_max: 127,
/// });
/// // 3 (5 − 1) − 2 (2 − 1) + 4 = 14, halved = 7, plus −10.
/// assert_eq!(LAYER.forward(&Vector2::new(5_i8, 2))[0], -3);
/// assert_eq!(LAYER.parameters().bias, [4]);
/// ```
#[derive(Clone, Debug, PartialEq, Eq, bytemuck::Zeroable)]
// The weights first and on a cache line on x86-64, where the kernels load a block's weights 64
// bytes at a time: a load that straddles two lines costs two (16 % of the digits network's first
// layer on a Zen 4).
#[cfg_attr(all(feature = "std", target_arch = "x86_64"), repr(C, align(64)))]
pub struct Int8Dense<const I: usize, const O: usize> {
    /// The weights in the kernels' order ([`pack`]), `I · O` bytes read as one slice.
    packed: [[i8; I]; O],
    /// `bias[o] − (128 + input_zero_point) · Σ_i weight[o][i]`, wrapping.
    folded_bias: [i32; O],
    multiplier: [i32; O],
    shift: [i8; O],
    input_zero_point: i8,
    output_zero_point: i8,
    output_min: i8,
    output_max: i8,
    /// The requantisation constants the VNNI kernel reads, derived from `multiplier` and
    /// `shift` by `new` (at compile time for a constant layer).
    #[cfg(all(feature = "std", target_arch = "x86_64"))]
    constants: crate::x86_int8::Constants<O>,
}

/// The parameters of an [`Int8Dense`], as TFLite stores them.
///
/// Weights are symmetric per output channel (zero point 0, values in `[-127, 127]`); the bias
/// is `int32` in units of `input_scale · weight_scale[o]`; `multiplier[o] · 2^(shift[o] − 31)`
/// is `input_scale · weight_scale[o] / output_scale` ([`quantize_multiplier`](super::quantize_multiplier)). A folded ReLU
/// is `output_min = output_zero_point`.
#[derive(Clone, Debug, PartialEq, Eq, bytemuck::Zeroable)]
pub struct Int8DenseParameters<const I: usize, const O: usize> {
    /// `weight[o]` holds output `o`'s `I` weights (TFLite's row-major `[O, I]`).
    pub weight: [[i8; I]; O],
    /// The bias of each output, `int32`, zero point 0.
    pub bias: [i32; O],
    /// The mantissa of each output's requantisation multiplier.
    pub multiplier: [i32; O],
    /// The exponent of each output's requantisation multiplier (positive: left shift).
    pub shift: [i8; O],
    /// The zero point of the input encoding.
    pub input_zero_point: i8,
    /// The zero point of the output encoding.
    pub output_zero_point: i8,
    /// The smallest output: −128, or the zero point when a ReLU is folded in.
    pub output_min: i8,
    /// The largest output: 127, or the encoding of 6 for ReLU6.
    pub output_max: i8,
}

/// `(128 + input_zero_point) · Σ_i weight[o][i]`, the part of `Σ_i weight · (x + 128)` that is
/// not the product with `x − input_zero_point`.
const fn offset<const I: usize>(weight: &[i8; I], input_zero_point: i8) -> i32 {
    let mut sum = 0i32;
    let mut i = 0;
    while i < I {
        sum = sum.wrapping_add(weight[i] as i32);
        i += 1;
    }
    (128 + input_zero_point as i32).wrapping_mul(sum)
}

/// Where weight `(o, i)` goes in the packed order: outputs in blocks of `BLOCK`; in a block
/// of `rows` outputs, first for each group of four inputs the `rows` outputs' four weights side
/// by side, then for each of the `I % 4` last inputs the `rows` outputs' weights.
const fn packed_index<const I: usize, const O: usize, const BLOCK: usize>(o: usize, i: usize) -> usize {
    let block = o - o % BLOCK;
    let rows = if O - block < BLOCK { O - block } else { BLOCK };
    let lane = o - block;
    let groups = I / 4;
    let within = if i < 4 * groups {
        (i / 4) * 4 * rows + lane * 4 + i % 4
    } else {
        groups * 4 * rows + (i - 4 * groups) * rows + lane
    };
    block * I + within
}

/// The weights in the packed order, in an array of the same shape.
const fn pack<const I: usize, const O: usize, const BLOCK: usize>(weight: &[[i8; I]; O]) -> [[i8; I]; O] {
    let mut packed = [[0i8; I]; O];
    let mut o = 0;
    while o < O {
        let mut i = 0;
        while i < I {
            let at = packed_index::<I, O, BLOCK>(o, i);
            packed[at / I][at % I] = weight[o][i];
            i += 1;
        }
        o += 1;
    }
    packed
}

impl<const I: usize, const O: usize> Int8Dense<I, O> {
    /// The layer with these parameters.
    pub const fn new(parameters: Int8DenseParameters<I, O>) -> Self {
        let mut folded_bias = [0i32; O];
        let mut o = 0;
        while o < O {
            folded_bias[o] =
                parameters.bias[o].wrapping_sub(offset(&parameters.weight[o], parameters.input_zero_point));
            o += 1;
        }
        Self {
            packed: pack::<I, O, BLOCK>(&parameters.weight),
            folded_bias,
            multiplier: parameters.multiplier,
            shift: parameters.shift,
            input_zero_point: parameters.input_zero_point,
            output_zero_point: parameters.output_zero_point,
            output_min: parameters.output_min,
            output_max: parameters.output_max,
            #[cfg(all(feature = "std", target_arch = "x86_64"))]
            constants: crate::x86_int8::Constants::new(&parameters.multiplier, &parameters.shift),
        }
    }

    /// The layer's parameters ([`new`](Self::new) of them gives the layer back).
    pub fn parameters(&self) -> Int8DenseParameters<I, O> {
        let packed = self.packed.as_flattened();
        let weight: [[i8; I]; O] =
            core::array::from_fn(|o| core::array::from_fn(|i| packed[packed_index::<I, O, BLOCK>(o, i)]));
        Int8DenseParameters {
            bias: core::array::from_fn(|o| self.folded_bias[o].wrapping_add(offset(&weight[o], self.input_zero_point))),
            weight,
            multiplier: self.multiplier,
            shift: self.shift,
            input_zero_point: self.input_zero_point,
            output_zero_point: self.output_zero_point,
            output_min: self.output_min,
            output_max: self.output_max,
        }
    }

    pub(crate) fn requantisation(&self) -> Requantisation<'_> {
        Requantisation {
            folded_bias: &self.folded_bias,
            multiplier: &self.multiplier,
            shift: &self.shift,
            output_zero_point: i32::from(self.output_zero_point),
            min: i32::from(self.output_min),
            max: i32::from(self.output_max),
            #[cfg(all(feature = "std", target_arch = "x86_64"))]
            constants: self.constants.slices(),
        }
    }

    /// [`forward`](Int8Layer::forward) with a chosen kernel (the portable one if the CPU lacks
    /// it): for tests and benchmarks, since every kernel gives the same integers.
    pub fn forward_with<const B: usize>(&self, kernel: Int8Kernel, x: &SMatrix<i8, I, B>) -> SMatrix<i8, O, B> {
        Int8Context::new(kernel).run(
            #[inline(always)]
            |context| self.forward_in(context, x),
        )
    }
}

impl<const I: usize, const O: usize, const B: usize> Int8Layer<SMatrix<i8, I, B>> for Int8Dense<I, O> {
    type Output = SMatrix<i8, O, B>;

    #[inline(always)]
    fn forward_in(&self, context: Int8Context, x: &SMatrix<i8, I, B>) -> SMatrix<i8, O, B> {
        let mut y = SMatrix::<i8, O, B>::zeros();
        kernel::dense::<O, I, B>(
            context,
            self.packed.as_flattened(),
            x.as_slice(),
            y.as_mut_slice(),
            &self.requantisation(),
        );
        y
    }
}

/// `::static_nn::quantised::Int8Dense::new(Int8DenseParameters { .. })`: the constructor is a
/// `const fn`, so the packed order and the folded bias are computed by the compiler.
impl<const I: usize, const O: usize> ConstExpr for Int8Dense<I, O> {
    fn fmt_const(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let p = self.parameters();
        f.write_str("::static_nn::quantised::Int8Dense::new(::static_nn::quantised::Int8DenseParameters { weight: ")?;
        p.weight.fmt_const(f)?;
        f.write_str(", bias: ")?;
        p.bias.fmt_const(f)?;
        f.write_str(", multiplier: ")?;
        p.multiplier.fmt_const(f)?;
        f.write_str(", shift: ")?;
        p.shift.fmt_const(f)?;
        for (name, value) in [
            ("input_zero_point", p.input_zero_point),
            ("output_zero_point", p.output_zero_point),
            ("output_min", p.output_min),
            ("output_max", p.output_max),
        ] {
            write!(f, ", {name}: ")?;
            value.fmt_const(f)?;
        }
        f.write_str(" })")
    }
}

/// Per channel symmetric weights, `int32` biases and multipliers, as TFLite's converter
/// (`SymmetricPerChannelQuantizeValues`, `SymmetricPerChannelBiasQuantize`) and TFLite Micro's
/// `PopulateConvolutionQuantizationParams` compute them:
///
/// ```text
/// weight_scale[o] = max_i |W[o][i]| / 127   (1 for an all-zero row; or a clipped range, see WeightRanges)
/// weight[o][i] = clamp(round(W[o][i] · (1 / weight_scale[o])), -127, 127)
/// bias[o] = round(b[o] · (1 / (input_scale · weight_scale[o])))
/// multiplier[o], shift[o] = QuantizeMultiplier(input_scale · weight_scale[o] / output_scale)   (in double)
/// ```
/// The output encoding covers the calibration outputs, clamped first to the next layer's clamp
/// when it folds one (ReLU: `output_min` is then the zero point).
#[cfg(feature = "alloc")]
impl<T: Real, const I: usize, const O: usize> Quantise<T, SMatrix<T, I, 1>> for Dense<T, I, O> {
    type Int8 = Int8Dense<I, O>;

    fn quantise(
        &self,
        calibration: &[SMatrix<T, I, 1>],
        context: QuantiseContext,
    ) -> Result<Converted<Int8Dense<I, O>, SMatrix<T, O, 1>>, QuantiseError> {
        let real = |v: T| v.to_f64() as f32;
        if self
            .weight
            .iter()
            .chain(self.bias.iter())
            .any(|&v| !real(v).is_finite())
        {
            return Err(QuantiseError::NonFinite);
        }
        let outputs: Vec<_> = calibration.iter().map(|x| self.forward(x)).collect();
        let mut values = values_of::<T, _>(&outputs);
        let (low, high) = context.clamp.unwrap_or((f32::NEG_INFINITY, f32::INFINITY));
        for v in &mut values {
            *v = v.clamp(low, high);
        }
        let (min, max) = context.ranges.range(&mut values)?;
        let output = Affine::from_range(min, max);
        let input_scale = context.input.scale;

        let mut layer = Int8DenseParameters {
            weight: [[0; I]; O],
            bias: [0; O],
            multiplier: [0; O],
            shift: [0; O],
            input_zero_point: context.input.zero_point,
            output_zero_point: output.zero_point,
            output_min: if low.is_finite() { output.quantise(low) } else { -128 },
            output_max: if high.is_finite() { output.quantise(high) } else { 127 },
        };
        let mut input_power = [0.0f64; I];
        for x in calibration {
            for (power, &v) in input_power.iter_mut().zip(x.iter()) {
                *power += (v.to_f64() * v.to_f64()) / calibration.len() as f64;
            }
        }
        let mut row = Vec::with_capacity(I);
        for o in 0..O {
            row.clear();
            row.extend((0..I).map(|i| real(self.weight[(o, i)])));
            let weight_scale = context.weights.scale(&row, &input_power);
            let inverse = 1.0 / weight_scale;
            for (i, q) in layer.weight[o].iter_mut().enumerate() {
                *q = libm::roundf(real(self.weight[(o, i)]) * inverse).clamp(-127.0, 127.0) as i8;
            }
            let bias_scale = input_scale * weight_scale;
            let bias_inverse = if bias_scale == 0.0 { 0.0 } else { 1.0 / bias_scale };
            layer.bias[o] =
                libm::roundf(real(self.bias[o]) * bias_inverse).clamp(-2_147_483_647.0, 2_147_483_647.0) as i32;
            let (multiplier, shift) =
                quantize_multiplier(f64::from(input_scale) * f64::from(weight_scale) / f64::from(output.scale));
            layer.multiplier[o] = multiplier;
            layer.shift[o] = shift as i8;
        }
        Ok(Converted {
            layer: Int8Dense::new(layer),
            output,
            calibration: outputs,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::quantised::kernel::portable;

    /// The two packed orders (blocks of 16 outputs on x86, of 1 elsewhere) give the same
    /// integers through the portable loop, and a block of 1 is the row-major order.
    #[test]
    fn both_block_sizes_compute_the_same_integers() {
        const I: usize = 23;
        const O: usize = 37;
        let mut bits = 0x1234_5678_u32;
        let mut next = move || {
            bits ^= bits << 13;
            bits ^= bits >> 17;
            bits ^= bits << 5;
            bits as i32
        };
        let weight: [[i8; I]; O] = core::array::from_fn(|_| core::array::from_fn(|_| next() as i8));
        let x: [i8; I * 3] = core::array::from_fn(|_| next() as i8);
        let layer = Int8Dense::new(Int8DenseParameters {
            weight,
            bias: core::array::from_fn(|_| next() % 100_000),
            multiplier: core::array::from_fn(|_| (1 << 30) + (next() & 0x3fff_ffff)),
            shift: core::array::from_fn(|_| (next() % 10 - 8) as i8),
            input_zero_point: 3,
            output_zero_point: -7,
            output_min: -128,
            output_max: 127,
        });
        let r = layer.requantisation();
        let row_major = pack::<I, O, 1>(&weight);
        assert_eq!(row_major, weight);
        let sixteen = pack::<I, O, 16>(&weight);
        assert_ne!(sixteen, weight);
        let (mut one, mut blocks) = ([0i8; O * 3], [0i8; O * 3]);
        portable::<1>(row_major.as_flattened(), &x, &mut one, (O, I, 3), &r);
        portable::<16>(sixteen.as_flattened(), &x, &mut blocks, (O, I, 3), &r);
        assert_eq!(one, blocks);
        assert!(one.iter().any(|&v| v != one[0]));
    }

    /// Without inputs each output is its requantised bias, in both packed orders (the
    /// row-major loop once stopped at the end of the empty weights and wrote nothing).
    #[test]
    fn a_layer_without_inputs_gives_its_requantised_biases() {
        let layer = Int8Dense::<0, 3>::new(Int8DenseParameters {
            weight: [[]; 3],
            bias: [100, -50, 7],
            multiplier: [1 << 30; 3],
            shift: [0; 3],
            input_zero_point: 5,
            output_zero_point: 1,
            output_min: -128,
            output_max: 127,
        });
        let r = layer.requantisation();
        let (mut one, mut blocks) = ([0i8; 6], [0i8; 6]);
        portable::<1>(&[], &[], &mut one, (3, 0, 2), &r);
        portable::<16>(&[], &[], &mut blocks, (3, 0, 2), &r);
        // Half of 100, −50 and 7 (3.5 rounds up), plus the zero point, for both samples.
        assert_eq!(one, [51, -24, 5, 51, -24, 5]);
        assert_eq!(blocks, one);
    }
}
