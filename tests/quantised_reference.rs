//! Every `int8` kernel against a plain, slow implementation written from TensorFlow Lite's
//! specification, bit for bit, on random layers (fixed seeds): the rounding rules are written
//! here as exact rational arithmetic in `i128`, not as the shifts and nudges of the kernels.

use nalgebra::SMatrix;
use proptest::prelude::*;
use proptest::test_runner::{Config, RngAlgorithm, TestRng, TestRunner};
use static_nn::quantised::{
    Affine, Int8Clamp, Int8Dense, Int8DenseParameters, Int8Kernel, Int8Layer, Int8Lookup, Int8Network, Int8Softmax,
    Ranges, multiply_by_quantized_multiplier, quantize_multiplier,
};
use static_nn::{Activation, Dense, Init, Parameters, Predict, Relu, Rng, Sigmoid, Tanh};

fn runner(cases: u32) -> TestRunner {
    let config = Config {
        cases,
        failure_persistence: None,
        ..Config::default()
    };
    TestRunner::new_with_rng(config, TestRng::deterministic_rng(RngAlgorithm::ChaCha))
}

/// `SaturatingRoundingDoublingHighMul`: `2ab / 2^32` to the nearest integer, ties toward +∞
/// (what the nudge and C's truncating division give), saturating the one overflow.
fn high_mul(a: i32, b: i32) -> i32 {
    if a == i32::MIN && b == i32::MIN {
        return i32::MAX;
    }
    let product = i128::from(a) * i128::from(b);
    (product + (1 << 30)).div_euclid(1 << 31) as i32
}

/// `RoundingDivideByPOT`: `x / 2^e` to the nearest integer, ties away from zero.
fn divide_by_power_of_two(x: i32, e: u32) -> i32 {
    let d = 1i128 << e;
    let magnitude = (i128::from(x).abs() * 2 + d) / (2 * d);
    (if x < 0 { -magnitude } else { magnitude }) as i32
}

/// `MultiplyByQuantizedMultiplier`, for `x · 2^max(shift, 0)` within `int32`.
fn multiply(x: i32, multiplier: i32, shift: i32) -> i32 {
    let scaled = i32::try_from(i64::from(x) << shift.max(0)).expect("the left shift stays within int32");
    divide_by_power_of_two(high_mul(scaled, multiplier), (-shift).max(0) as u32)
}

/// TFLite's `FullyConnectedPerChannel`, one multiply-add at a time, with the sum checked to stay
/// within `int32` as the specification requires.
fn dense<const I: usize, const O: usize, const B: usize>(
    layer: &Int8Dense<I, O>,
    x: &SMatrix<i8, I, B>,
) -> SMatrix<i8, O, B> {
    let layer = layer.parameters();
    SMatrix::from_fn(|o, b| {
        let mut sum: i64 = 0;
        for i in 0..I {
            sum += i64::from(layer.weight[o][i]) * (i64::from(x[(i, b)]) - i64::from(layer.input_zero_point));
        }
        let acc = i32::try_from(sum + i64::from(layer.bias[o])).expect("the accumulator stays within int32");
        let scaled = multiply(acc, layer.multiplier[o], i32::from(layer.shift[o])) + i32::from(layer.output_zero_point);
        scaled.clamp(i32::from(layer.output_min), i32::from(layer.output_max)) as i8
    })
}

#[test]
fn arithmetic_matches_the_rounding_rules() {
    let cases = (any::<i32>(), any::<i32>(), -31i32..=30);
    runner(20_000)
        .run(&cases, |(x, m, shift)| {
            let x = x >> shift.max(0);
            prop_assert_eq!(multiply_by_quantized_multiplier(x, m, shift), multiply(x, m, shift));
            Ok(())
        })
        .unwrap();
    // Ties, both signs, both roundings; the saturating product.
    for x in [-7, -5, -3, -1, 1, 3, 5, 7, i32::MIN, i32::MAX] {
        for shift in [-3, -1, 0] {
            assert_eq!(
                multiply_by_quantized_multiplier(x, 1 << 30, shift),
                multiply(x, 1 << 30, shift)
            );
        }
    }
    assert_eq!(multiply_by_quantized_multiplier(i32::MIN, i32::MIN, 0), i32::MAX);
}

/// `QuantizeMultiplier` written as "the power of two that puts the value in `[1/2, 1)`, then
/// round the 31-bit mantissa", without `frexp`.
#[test]
fn multiplier_is_the_rounded_31_bit_mantissa() {
    runner(20_000)
        .run(&(-30.0f64..10.0), |exponent| {
            let real = 2f64.powf(exponent);
            let mut shift = real.log2().floor() as i32 + 1;
            // `log2` may land on the wrong side of a power of two.
            while real * 2f64.powi(-shift) >= 1.0 {
                shift += 1;
            }
            while real * 2f64.powi(-shift) < 0.5 {
                shift -= 1;
            }
            let mut mantissa = (real * 2f64.powi(31 - shift)).round() as i64;
            if mantissa == 1 << 31 {
                mantissa /= 2;
                shift += 1;
            }
            prop_assert_eq!(quantize_multiplier(real), (mantissa as i32, shift));
            Ok(())
        })
        .unwrap();
}

/// A random layer: weights over the whole `int8` range (−128 too, which the specification
/// excludes but a loaded layer may hold), biases up to ±2^29, multipliers and shifts as
/// `QuantizeMultiplier` makes them for scales from 2^-20 to 2, zero points and clamps anywhere.
fn random_layer<const I: usize, const O: usize>() -> impl Strategy<Value = Int8Dense<I, O>> {
    (
        proptest::collection::vec(any::<i8>(), I * O),
        proptest::collection::vec(-(1i32 << 29)..(1 << 29), O),
        proptest::collection::vec(((1i32 << 30)..=i32::MAX, -20i32..=1), O),
        any::<(i8, i8, i8, i8)>(),
    )
        .prop_map(
            |(weights, bias, multipliers, (input_zero_point, output_zero_point, a, b))| {
                Int8Dense::new(Int8DenseParameters {
                    weight: core::array::from_fn(|o| core::array::from_fn(|i| weights[o * I + i])),
                    bias: core::array::from_fn(|o| bias[o]),
                    multiplier: core::array::from_fn(|o| multipliers[o].0),
                    shift: core::array::from_fn(|o| multipliers[o].1 as i8),
                    input_zero_point,
                    output_zero_point,
                    output_min: a.min(b),
                    output_max: a.max(b),
                })
            },
        )
}

fn random_input<const I: usize, const B: usize>() -> impl Strategy<Value = SMatrix<i8, I, B>> {
    proptest::collection::vec(any::<i8>(), I * B).prop_map(|v| SMatrix::from_column_slice(&v))
}

fn check_dense<const I: usize, const O: usize, const B: usize>(cases: u32) {
    let mut kernels = 0;
    for kernel in Int8Kernel::available() {
        kernels += 1;
        runner(cases)
            .run(&(random_layer::<I, O>(), random_input::<I, B>()), |(layer, x)| {
                let expected = dense(&layer, &x);
                prop_assert_eq!(
                    layer.forward_with(kernel, &x),
                    expected,
                    "{:?} on {}x{}x{}",
                    kernel,
                    I,
                    O,
                    B
                );
                prop_assert_eq!(layer.forward(&x), expected);
                Ok(())
            })
            .unwrap();
    }
    assert!(kernels >= 1);
}

#[test]
fn dense_matches_the_reference_on_random_layers() {
    check_dense::<64, 64, 1>(200);
    check_dense::<64, 64, 32>(50);
    check_dense::<64, 10, 1>(200);
    check_dense::<64, 10, 32>(50);
    check_dense::<1, 1, 1>(200);
    check_dense::<3, 5, 2>(200);
    check_dense::<17, 31, 3>(100);
    check_dense::<129, 33, 5>(50);
    check_dense::<300, 16, 4>(30);
    check_dense::<5, 70, 2>(100);
}

/// Every product at its extreme: `|acc|` up to 300 · 128 · 255 + 2^30, and outputs pinned to
/// −128 and 127.
#[test]
fn large_accumulators_and_saturation() {
    for kernel in Int8Kernel::available() {
        for (weight, input, input_zero_point, bias) in [
            (-128i8, 127i8, -128i8, 1 << 30),
            (127, -128, 127, -(1 << 30)),
            (-128, -128, 127, 0),
            (127, 127, -128, 0),
        ] {
            let mut parameters = Int8DenseParameters::<300, 4> {
                weight: [[weight; 300]; 4],
                bias: [bias; 4],
                multiplier: [1 << 30, i32::MAX, 1 << 30, 1 << 30],
                shift: [-24, -31, 0, -10],
                input_zero_point,
                output_zero_point: 0,
                output_min: -128,
                output_max: 127,
            };
            let layer = Int8Dense::new(parameters.clone());
            let x = SMatrix::<i8, 300, 2>::from_element(input);
            let y = layer.forward_with(kernel, &x);
            assert_eq!(y, dense(&layer, &x), "{kernel:?}");
            assert!(y.iter().any(|&v| v == 127 || v == -128), "{y}");
            parameters.output_min = 5;
            parameters.output_max = 9;
            let layer = Int8Dense::new(parameters);
            let clamped = layer.forward_with(kernel, &x);
            assert_eq!(clamped, dense(&layer, &x), "{kernel:?}");
            assert!(clamped.iter().all(|&v| (5..=9).contains(&v)));
        }
    }
}

/// The edges of the requantisation that random parameters almost never reach, on every kernel:
/// the one overflow of `SaturatingRoundingDoublingHighMul` (`INT32_MIN · INT32_MIN`, saturated
/// to `INT32_MAX`) with and without a right shift, a left shift that wraps, the largest right
/// shift, and a zero point added to `INT32_MAX` (wrapping, as `int32` arithmetic does); and
/// the largest products of a layer without an `INT32_MIN` multiplier, which the VNNI kernel
/// rounds without saturating.
#[test]
fn requantisation_edges_agree_on_every_kernel() {
    const O: usize = 18;
    let shift: [i8; O] = [0, -1, -2, -31, 0, 3, 31, -30, 0, -1, 1, 0, -5, 0, 2, -3, 0, -31];
    let x = SMatrix::<i8, 3, 3>::from_column_slice(&[0, 0, 0, 5, -7, 1, -128, 127, -1]);
    for (extreme, output_zero_point) in [i32::MIN, i32::MIN + 1]
        .into_iter()
        .flat_map(|m| [(m, 0), (m, 100), (m, -100)])
    {
        let layer = Int8Dense::new(Int8DenseParameters::<3, O> {
            weight: core::array::from_fn(|o| if o % 3 == 0 { [0; 3] } else { [1, -1, 2] }),
            bias: core::array::from_fn(|o| if o % 2 == 0 { i32::MIN } else { i32::MAX }),
            multiplier: core::array::from_fn(|o| if o < 9 { extreme } else { i32::MAX }),
            shift,
            input_zero_point: 0,
            output_zero_point,
            output_min: -128,
            output_max: 127,
        });
        let expected = layer.forward_with(Int8Kernel::Portable, &x);
        for kernel in Int8Kernel::available() {
            assert_eq!(layer.forward_with(kernel, &x), expected, "{kernel:?}");
        }
        // Output 0 (no weights, no shift): INT32_MIN · INT32_MIN saturates to INT32_MAX, which
        // a positive zero point wraps negative; (INT32_MIN + 1) · INT32_MIN rounds to
        // INT32_MAX, the largest product without saturation.
        let saturated = if output_zero_point > 0 { -128 } else { 127 };
        assert_eq!(expected[(0, 0)], saturated, "zero point {output_zero_point}");
        assert_eq!(multiply_by_quantized_multiplier(i32::MIN, extreme, 0), i32::MAX);
        assert!(expected.iter().any(|&v| v != 127 && v != -128), "{expected}");
    }
}

/// `LUTPopulate` entry by entry, and the layer reads `lut[128 + q]`.
#[test]
fn lookup_tables_match_the_specification() {
    let cases = (1e-4f32..1.0, any::<i8>());
    runner(300)
        .run(&cases, |(scale, zero_point)| {
            let input = Affine { scale, zero_point };
            let tanh = Int8Lookup::tanh(input);
            let sigmoid = Int8Lookup::sigmoid(input);
            for q in -128i32..=127 {
                let real = scale * (q - i32::from(zero_point)) as f32;
                let expected_tanh = (libm::roundf(libm::tanhf(real) * 128.0) as i32).clamp(-128, 127);
                let expected_sigmoid =
                    (libm::roundf((1.0 / (1.0 + libm::expf(-real))) * 256.0) as i32 - 128).clamp(-128, 127);
                let x = SMatrix::<i8, 1, 1>::new(q as i8);
                prop_assert_eq!(i32::from(tanh.forward(&x)[0]), expected_tanh);
                prop_assert_eq!(i32::from(sigmoid.forward(&x)[0]), expected_sigmoid);
            }
            Ok(())
        })
        .unwrap();
}

/// The converted parameters are TFLite's formulas applied to the real layer.
#[test]
fn conversion_follows_the_formulas() {
    type Net = (Dense<f32, 6, 5>, Relu, Dense<f32, 5, 3>);
    let net = Net::build(Init::PyTorch, &mut Rng::new(11));
    let mut rng = Rng::new(12);
    let calibration: Vec<[f32; 6]> = (0..200)
        .map(|_| core::array::from_fn(|_| rng.uniform(-2.0, 3.0) as f32))
        .collect();
    let int8 = Int8Network::quantise(&net, &calibration, Ranges::MinMax).unwrap();
    let (first, relu, last) = &int8.network;
    let first = first.parameters();

    let (min, max) = calibration
        .iter()
        .flatten()
        .fold((0.0f32, 0.0f32), |(lo, hi), &v| (lo.min(v), hi.max(v)));
    assert_eq!(int8.input, Affine::from_range(min, max));
    // ReLU folded: the first layer's clamp starts at its zero point, and the standalone clamp
    // uses the same one.
    assert_eq!(first.output_min, first.output_zero_point);
    assert_eq!(relu.zero_point, first.output_zero_point);
    for o in 0..5 {
        let row = net.0.weight.row(o);
        let scale = row.iter().fold(0.0f32, |m, w| m.max(w.abs())) / 127.0;
        assert_eq!(first.weight[o].iter().map(|w| w.unsigned_abs()).max(), Some(127));
        for i in 0..6 {
            assert!((f32::from(first.weight[o][i]) - row[i] / scale).abs() <= 0.5 + 1e-4);
        }
        let bias_scale = int8.input.scale * scale;
        assert!((first.bias[o] as f32 - net.0.bias[o] / bias_scale).abs() <= 0.5 + 1e-3);
        assert!(first.multiplier[o] >= 1 << 30);
    }
    // The int8 network is close to the real one: a few output steps.
    for x in &calibration[..20] {
        let real = net.predict(x);
        let approximate = int8.predict(x);
        for (r, a) in real.iter().zip(&approximate) {
            assert!((r - a).abs() < 6.0 * int8.output.scale, "{real:?} vs {approximate:?}");
        }
    }
    let _ = last;
}

/// The real range of a layer's outputs on the calibration inputs, as an encoding.
fn encoding_of(outputs: impl Iterator<Item = f32>) -> Affine {
    let (min, max) = outputs.fold((f32::INFINITY, f32::NEG_INFINITY), |(lo, hi), v| (lo.min(v), hi.max(v)));
    Affine::from_range(min, max)
}

/// Tanh and sigmoid convert to their tables, built from the previous layer's output encoding.
#[test]
fn activations_convert_to_tables() {
    type Net = (Dense<f32, 4, 8>, Tanh, Dense<f32, 8, 8>, Sigmoid, Dense<f32, 8, 2>);
    let net = Net::build(Init::XavierUniform, &mut Rng::new(5));
    let mut rng = Rng::new(6);
    let calibration: Vec<[f32; 4]> = (0..100)
        .map(|_| core::array::from_fn(|_| rng.uniform(-1.0, 1.0) as f32))
        .collect();
    let int8 = Int8Network::quantise(&net, &calibration, Ranges::MinMax).unwrap();
    let (_, tanh, second, sigmoid, _) = &int8.network;

    let first_outputs: Vec<_> = calibration.iter().map(|x| net.0.predict(x)).collect();
    assert_eq!(
        *tanh,
        Int8Lookup::tanh(encoding_of(first_outputs.iter().flatten().copied()))
    );
    let second_outputs: Vec<_> = first_outputs
        .iter()
        .map(|h| {
            net.2
                .predict(&core::array::from_fn(|i| Activation::<f32>::value(&Tanh, h[i])))
        })
        .collect();
    assert_eq!(second.parameters().input_zero_point, 0);
    assert_eq!(
        *sigmoid,
        Int8Lookup::sigmoid(encoding_of(second_outputs.iter().flatten().copied()))
    );
    for x in &calibration[..20] {
        let real = net.predict(x);
        let approximate = int8.predict(x);
        for (r, a) in real.iter().zip(&approximate) {
            assert!((r - a).abs() < 0.05, "{real:?} vs {approximate:?}");
        }
    }
}

/// Parameters no conversion makes but a hand-written or loaded layer may hold (any multiplier,
/// `INT32_MIN` included or, in half the layers, replaced by `INT32_MIN + 1`; shifts beyond ±31;
/// crossed clamps): every kernel still gives the portable code's integers, and the layer gives
/// its parameters back.
#[test]
fn kernels_agree_on_any_parameters() {
    let any_layer = (
        proptest::collection::vec(any::<i8>(), 40 * 20),
        proptest::collection::vec(any::<i32>(), 20),
        proptest::collection::vec((prop_oneof![Just(i32::MIN), any::<i32>()], any::<i8>()), 20),
        any::<(i8, i8, i8, i8)>(),
        any::<bool>(),
    )
        .prop_map(
            |(
                weights,
                bias,
                multipliers,
                (input_zero_point, output_zero_point, output_min, output_max),
                saturating,
            )| {
                let multiplier = |o: usize| match multipliers[o].0 {
                    i32::MIN if !saturating => i32::MIN + 1,
                    m => m,
                };
                Int8DenseParameters::<40, 20> {
                    weight: core::array::from_fn(|o| core::array::from_fn(|i| weights[o * 40 + i])),
                    bias: core::array::from_fn(|o| bias[o]),
                    multiplier: core::array::from_fn(multiplier),
                    shift: core::array::from_fn(|o| multipliers[o].1),
                    input_zero_point,
                    output_zero_point,
                    output_min,
                    output_max,
                }
            },
        );
    let input = prop_oneof![
        Just(SMatrix::<i8, 40, 17>::from_element(i8::MIN)),
        random_input::<40, 17>()
    ];
    runner(300)
        .run(&(any_layer, input), |(parameters, x)| {
            let layer = Int8Dense::new(parameters.clone());
            prop_assert_eq!(layer.parameters(), parameters);
            let expected = layer.forward_with(Int8Kernel::Portable, &x);
            for kernel in Int8Kernel::available() {
                prop_assert_eq!(layer.forward_with(kernel, &x), expected, "{:?}", kernel);
            }
            Ok(())
        })
        .unwrap();
}

/// The output of a quantised classifier is its dequantised logits. Softmax and decoding are both increasing, so the
/// class read off the integers is the argmax of the softmax of the decoded logits, ties going
/// to the first class, on every sample.
#[test]
fn classify_is_the_argmax_of_the_softmax_of_the_decoded_logits() {
    type Net = (Dense<f32, 4, 12>, Relu, Dense<f32, 12, 5>);
    let net = Net::build(Init::PyTorch, &mut Rng::new(21));
    let mut rng = Rng::new(22);
    let samples: Vec<[f32; 4]> = (0..2000)
        .map(|_| core::array::from_fn(|_| rng.uniform(-3.0, 3.0) as f32))
        .collect();
    let int8 = Int8Network::quantise(&net, &samples[..200], Ranges::MinMax).unwrap();
    let mut ties = 0;
    for x in &samples {
        let logits: [f32; 5] = int8.predict(x);
        let largest = logits.iter().fold(f32::NEG_INFINITY, |m, &v| m.max(v));
        let exponentials = logits.map(|v| (v - largest).exp());
        let total: f32 = exponentials.iter().sum();
        let softmax = exponentials.map(|e| e / total);
        let first_best = (0..5).fold(0, |best, k| if softmax[k] > softmax[best] { k } else { best });
        assert_eq!(int8.classify(x), first_best, "{logits:?}");
        ties += usize::from(logits.iter().filter(|&&v| v == largest).count() > 1);
    }
    // Quantised logits tie now and then: the rule for ties is exercised.
    assert!(ties > 0);
}

/// Fixed-point numbers as gemmlowp defines them: an `int32` raw value `r` with `k` integer bits
/// stands for `r / 2^(31 − k)`. The softmax reference below is written on these definitions in
/// `i64`, from TFLite's `reference_ops::Softmax`, `CalculateSoftmaxParams` and gemmlowp's
/// `fixedpoint.h`, sharing nothing with the crate.
mod softmax_reference {
    use super::{divide_by_power_of_two, high_mul};

    /// Raw `int32` of an `i64` the way C++'s two's complement `int32` addition wraps.
    fn wrap(x: i64) -> i64 {
        i64::from(x as i32)
    }

    /// `SaturatingRoundingMultiplyByPOT<e>` for `e > 0`: `x · 2^e`, clamped to `int32`.
    fn times_power_of_two(x: i64, e: u32) -> i64 {
        (x * (1 << e)).clamp(i64::from(i32::MIN), i64::from(i32::MAX))
    }

    fn mul(a: i64, b: i64) -> i64 {
        i64::from(high_mul(a as i32, b as i32))
    }

    fn divide(x: i64, e: u32) -> i64 {
        i64::from(divide_by_power_of_two(x as i32, e))
    }

    /// `exp(a)` for `a ≤ 0` in Q5.26, to Q0.31.
    fn exp_on_negative_values(a: i64) -> i64 {
        if a == 0 {
            return i64::from(i32::MAX);
        }
        let quarter = 1i64 << 24;
        // `a mod 1/4` in [0, 1/4), then minus 1/4: in [−1/4, 0).
        let remainder_in_quarter = a.rem_euclid(quarter) - quarter;
        // Q5.26 to Q0.31: five more fractional bits.
        let x = times_power_of_two(remainder_in_quarter, 5) + (1 << 28);
        let x2 = mul(x, x);
        let x3 = mul(x2, x);
        let x4 = mul(x2, x2);
        let taylor = divide(wrap(mul(wrap(divide(x4, 2) + x3), 715_827_883) + x2), 1);
        let mut result = wrap(1_895_147_668 + mul(1_895_147_668, wrap(x + taylor)));
        // What is left, a multiple of 1/4 in Q5.26, as a sum of powers of two.
        let rest = remainder_in_quarter - a;
        let factors = [
            1_672_461_947,
            1_302_514_674,
            790_015_084,
            290_630_308,
            39_332_535,
            720_401,
            242,
        ];
        for (bit, factor) in (24..=30).zip(factors) {
            if rest >> bit & 1 == 1 {
                result = mul(result, factor);
            }
        }
        result
    }

    /// `1 / (1 + a)` for `a` in `[0, 1)`, Q0.31 to Q0.31, by Newton–Raphson in Q2.29.
    fn one_over_one_plus(a: i64) -> i64 {
        let sum = a + i64::from(i32::MAX);
        let half = (sum + if sum >= 0 { 1 } else { -1 }) / 2;
        let mut x = wrap(1_515_870_810 + mul(half, -1_010_580_540));
        for _ in 0..3 {
            let error = wrap((1 << 29) - mul(half, x));
            x = wrap(x + times_power_of_two(mul(x, error), 2));
        }
        times_power_of_two(x, 1)
    }

    /// `CalculateSoftmaxParams`: `PreprocessSoftmaxScaling` with 5 integer bits
    /// (`QuantizeMultiplierGreaterThanOne` of `min(beta · scale · 2^26, 2^31 − 1)`) and the negated
    /// `CalculateInputRadius` (`floor(31 · 2^26 / 2^shift)` in `double`).
    pub fn parameters(scale: f32, beta: f32) -> Option<(i32, i32, i32)> {
        let real = (f64::from(beta) * f64::from(scale) * 2f64.powi(26)).min(2f64.powi(31) - 1.0);
        if !(scale.is_finite() && beta.is_finite() && real > 1.0) {
            return None;
        }
        let mut shift = 0;
        while real >= 2f64.powi(shift) {
            shift += 1;
        }
        let mut mantissa = (real / 2f64.powi(shift) * 2f64.powi(31)).round() as i64;
        if mantissa == 1 << 31 {
            mantissa /= 2;
            shift += 1;
        }
        let radius = (31.0 * 2f64.powi(26) / 2f64.powi(shift)).floor();
        Some((mantissa as i32, shift, -(radius as i32)))
    }

    /// `reference_ops::Softmax<int8_t, int8_t>` on one row.
    pub fn softmax(row: &[i8], (multiplier, shift, diff_min): (i32, i32, i32)) -> Vec<i8> {
        let max = row.iter().map(|&q| i64::from(q)).max().unwrap();
        let exponential = |q: i8| {
            let diff = i64::from(q) - max;
            (diff >= i64::from(diff_min)).then(|| {
                let scaled = i64::from(high_mul(i32::try_from(diff << shift).unwrap(), multiplier));
                exp_on_negative_values(scaled)
            })
        };
        // Each exponential rescaled from Q0.31 to Q12.19.
        let sum: i64 = row.iter().filter_map(|&q| exponential(q)).map(|e| divide(e, 12)).sum();
        let sum = i64::from(i32::try_from(sum).expect("the sum stays within int32"));
        let mut headroom = 0;
        while sum << headroom < 1 << 31 {
            headroom += 1;
        }
        let reciprocal = one_over_one_plus((sum << headroom) - (1 << 31));
        let exponent = 12 - headroom + 31 - 8;
        assert!((0..=31).contains(&exponent), "TFLite refuses this row");
        row.iter()
            .map(|&q| match exponential(q) {
                Some(e) => (divide(mul(reciprocal, e), exponent as u32) - 128).clamp(-128, 127) as i8,
                None => -128,
            })
            .collect()
    }
}

/// `Int8Softmax` against the reference on random rows of random scales from `2^-23` to `2^8`
/// (below `2^-26` TFLite refuses the scale; from 16 up only the maximum escapes −128), rows of
/// one to 300 values, with saturated values (−128, 127) in most rows; beta 1 in most cases.
fn check_softmax<const R: usize, const B: usize>(cases: u32) {
    let row = proptest::collection::vec(
        prop_oneof![3 => any::<i8>(), 1 => Just(-128i8), 1 => Just(127i8), 1 => 100i8..=127],
        R * B,
    );
    runner(cases)
        .run(
            &(-23.0f32..8.0, prop_oneof![3 => Just(1.0f32), 1 => 0.25f32..4.0], row),
            |(exponent, beta, values)| {
                let scale = 2f32.powf(exponent);
                let parameters = softmax_reference::parameters(scale, beta).unwrap();
                let layer = Int8Softmax::with_beta(scale, beta).unwrap();
                prop_assert_eq!(
                    (
                        layer.input_multiplier,
                        i32::from(layer.input_left_shift),
                        layer.diff_min
                    ),
                    parameters
                );
                let x = SMatrix::<i8, R, B>::from_column_slice(&values);
                let y = layer.forward(&x);
                for b in 0..B {
                    let column: Vec<i8> = x.column(b).iter().copied().collect();
                    let found: Vec<i8> = y.column(b).iter().copied().collect();
                    prop_assert_eq!(
                        &found,
                        &softmax_reference::softmax(&column, parameters),
                        "scale {}",
                        scale
                    );
                }
                Ok(())
            },
        )
        .unwrap();
}

#[test]
fn softmax_matches_the_reference() {
    check_softmax::<1, 1>(200);
    check_softmax::<3, 4>(1000);
    check_softmax::<10, 2>(2000);
    check_softmax::<64, 1>(500);
    check_softmax::<300, 1>(100);
}

/// The reference above transcribes TFLite; this pins both to the mathematics: every output is
/// within one step (1/256) of `round(256 · softmax(scale · x)) − 128`, computed in `f64`.
#[test]
fn softmax_is_within_one_step_of_the_real_softmax() {
    runner(2000)
        .run(
            &(-8.0f32..3.0, proptest::collection::vec(any::<i8>(), 8)),
            |(exponent, values)| {
                let scale = 2f32.powf(exponent);
                let x = SMatrix::<i8, 8, 1>::from_column_slice(&values);
                let y = Int8Softmax::new(scale).unwrap().forward(&x);
                let max = values.iter().copied().max().unwrap();
                let exponentials: Vec<f64> = values
                    .iter()
                    .map(|&q| (f64::from(scale) * f64::from(i32::from(q) - i32::from(max))).exp())
                    .collect();
                let total: f64 = exponentials.iter().sum();
                for (k, e) in exponentials.iter().enumerate() {
                    let exact = ((256.0 * e / total).round() - 128.0).clamp(-128.0, 127.0);
                    prop_assert!(
                        (f64::from(y[k]) - exact).abs() <= 1.0,
                        "scale {}, {:?}: {:?}",
                        scale,
                        values,
                        y
                    );
                }
                Ok(())
            },
        )
        .unwrap();
}

#[test]
fn softmax_parameters_at_the_extremes_of_the_scale() {
    for scale in [
        2f32.powi(-26),
        2f32.powi(-26) * 1.000_001,
        0.1,
        0.5,
        1.0,
        15.999,
        16.0,
        31.999_998,
        32.0,
        1e30,
        f32::MAX,
    ] {
        let expected = softmax_reference::parameters(scale, 1.0);
        let found = Int8Softmax::new(scale).map(|l| (l.input_multiplier, i32::from(l.input_left_shift), l.diff_min));
        assert_eq!(found, expected, "scale {scale}");
        if let Some(parameters) = expected {
            let rows: [[i8; 5]; 4] = [
                [-128; 5],
                [127, -128, -128, -128, -128],
                [127, 126, 0, -127, -128],
                [1, 2, 3, 4, 5],
            ];
            let layer = Int8Softmax::new(scale).unwrap();
            for row in rows {
                let y = layer.forward(&SMatrix::<i8, 5, 1>::from_column_slice(&row));
                assert_eq!(
                    y.as_slice(),
                    softmax_reference::softmax(&row, parameters),
                    "scale {scale}, {row:?}"
                );
            }
        }
    }
    assert_eq!(Int8Softmax::new(2f32.powi(-27)), None);
    assert_eq!(Int8Softmax::with_beta(0.5, 0.0), None);
    assert_eq!(Int8Softmax::with_beta(0.5, -1.0), None);
    assert_eq!(Int8Softmax::with_beta(0.5, f32::NAN), None);
}

/// TFLite Micro's `Relu6Prepare` and `Relu6Quantized`: `zero` is the zero point,
/// `six = clamp(round(6.0f / scale) + zero_point)` in `f32`, and each output is the input
/// clamped to `[zero, six]`.
#[test]
fn clamp_matches_relu6_on_random_encodings() {
    let cases = (-12.0f32..6.0, any::<i8>(), any::<i8>());
    runner(5000)
        .run(&cases, |(exponent, zero_point, q)| {
            let scale = 2f32.powf(exponent);
            let six = ((6.0f32 / scale).round() as i64 + i64::from(zero_point)).clamp(-128, 127);
            let expected = i64::from(q).max(i64::from(zero_point)).min(six) as i8;
            let layer = Int8Clamp::relu6(Affine { scale, zero_point });
            prop_assert_eq!(layer.forward(&SMatrix::<i8, 1, 1>::new(q))[0], expected);
            Ok(())
        })
        .unwrap();
}

/// TFLite's `AffineQuantize` of one value: `round(x / scale)` (half away from zero) plus the
/// zero point, saturated; a NaN is 0 steps, as `roundf` then a saturating `as` gives.
fn encode(x: f32, affine: Affine) -> i8 {
    let steps = (x / affine.scale).round().clamp(-1024.0, 1024.0) as i32;
    (steps + i32::from(affine.zero_point)).clamp(-128, 127) as i8
}

/// The vector encoding of a batch (AVX-512 where the CPU has it) gives the integers of the
/// scalar formula on every value, for scales small, large, subnormal, zero, negative, infinite
/// and NaN: quotients on and beside every tie in the byte range, the digits' pixels (8 / (16 /
/// 255) = 127.49999 in `f32`), specials, and bit patterns spread over all of `f32`, in batches
/// whose length is not a multiple of the vector (a masked tail).
#[test]
fn batch_encoding_matches_the_formula_on_any_value() {
    let scales = [
        16.0 / 255.0,
        5.1 / 255.0,
        1.0,
        0.1,
        1.0 / 3.0,
        0.007_843_138,
        1e-30,
        1e30,
        1e-40,
        0.0,
        -0.5,
        f32::INFINITY,
        f32::NAN,
    ];
    let mut bits = 0x2545_F491_u32;
    for (n, &scale) in scales.iter().enumerate() {
        let zero_point = [-128, -1, 0, 5, 127][n % 5];
        let affine = Affine { scale, zero_point };
        let mut values = vec![
            0.0,
            -0.0,
            f32::INFINITY,
            f32::NEG_INFINITY,
            f32::NAN,
            f32::MAX,
            -f32::MAX,
            1e-45,
        ];
        values.extend((0..=16).map(|pixel| pixel as f32));
        for k in -300..300 {
            let tie = (k as f32 + 0.5) * scale;
            values.extend((-2..=2).map(|d| f32::from_bits(tie.to_bits().wrapping_add_signed(d))));
        }
        values.extend((0..100_000).map(|_| {
            bits ^= bits << 13;
            bits ^= bits >> 17;
            bits ^= bits << 5;
            f32::from_bits(bits)
        }));
        let int8 = Int8Network::<(), 23> {
            input: affine,
            network: (),
            output: affine,
        };
        for chunk in values.chunks(23 * 3) {
            let x = SMatrix::<f32, 23, 3>::from_fn(|i, j| chunk.get(j * 23 + i).copied().unwrap_or(0.5));
            let encoded = int8.quantise_inputs(&x);
            for (q, &v) in encoded.iter().zip(x.iter()) {
                assert_eq!(*q, encode(v, affine), "{v} / {scale}");
                assert_eq!(*q, affine.quantise(v), "{v} / {scale}");
            }
        }
    }
}

/// The batch encoding equals the formula on every `f32` bit pattern, for four scales (the
/// digits benchmark's 16/255 with zero point −128, 1/3, 0.1, 1/127.5): 2³⁴ encodings, minutes in
/// release, so run by hand: `cargo test --release --test quantised_reference -- --ignored`.
#[test]
#[ignore = "2^34 encodings; run in release"]
fn batch_encoding_matches_the_formula_on_every_input() {
    for (scale, zero_point) in [(16.0 / 255.0, -128), (1.0 / 3.0, 5), (0.1, -1), (0.007_843_138, 0)] {
        let affine = Affine { scale, zero_point };
        let int8 = Int8Network::<(), 64> {
            input: affine,
            network: (),
            output: affine,
        };
        for start in (0..1u64 << 32).step_by(64 * 64) {
            let x = SMatrix::<f32, 64, 64>::from_fn(|i, j| f32::from_bits((start + (j * 64 + i) as u64) as u32));
            let encoded = int8.quantise_inputs(&x);
            for (q, &v) in encoded.iter().zip(x.iter()) {
                assert_eq!(*q, encode(v, affine), "{v} / {scale}");
            }
        }
    }
}
