//! Every `int8` kernel against a plain, slow implementation written from TensorFlow Lite's
//! specification, bit for bit, on random layers (fixed seeds): the rounding rules are written
//! here as exact rational arithmetic in `i128`, not as the shifts and nudges of the kernels.

use nalgebra::SMatrix;
use proptest::prelude::*;
use proptest::test_runner::{Config, RngAlgorithm, TestRng, TestRunner};
use static_nn::quantised::{
    Affine, Int8Dense, Int8DenseParameters, Int8Kernel, Int8Layer, Int8Lookup, Int8Network, Ranges,
    multiply_by_quantized_multiplier, quantize_multiplier,
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

/// The output of a quantised classifier is its dequantised logits; no `int8` softmax is
/// offered (see the `quantised` module docs). Softmax and decoding are both increasing, so the
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
