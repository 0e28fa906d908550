//! static-nn's `format::tflite` against microflow 0.1.3, a `no_std` Rust engine that compiles
//! int8 TensorFlow Lite models into code with its `#[model]` macro, on TFLite Micro's sine model
//! (tests/fixtures/sine.tflite, the file microflow ships).
//!
//! ```text
//! cargo test --manifest-path tests/tflite_microflow/Cargo.toml
//! ```
//!
//! microflow's arithmetic is not TFLite's. Its `fully_connected` requantises in `f32`:
//!
//! ```text
//! y = roundf(output_zero_point + (bias_scale / output_scale) · bias
//!            + (input_scale · weight_scale / output_scale) · (Σ x·w − input_zero_point · Σ w))
//! ```
//!
//! where TFLite (`FullyConnectedPerChannel`, and static-nn) multiplies the `int32` sum with the
//! bias by a 31-bit fixed-point multiplier and rounds twice (`MultiplyByQuantizedMultiplier`);
//! it reads only the first weight scale (no per-channel weights); and its `quantize` rounds
//! `x / scale + zero_point` in one `roundf` where TFLite rounds `x / scale` and then adds the
//! zero point. So the two can differ by one step wherever a value lies near a rounding tie.
//! These tests pin both sides down: static-nn equals an independent TFLite computation written
//! here from TFLite's reference kernels, microflow equals a transcription of its `f32`
//! formula, and both transcriptions read the same weights, biases and scales, so every
//! difference is the arithmetic's.

#[cfg(test)]
mod tests {
    use microflow::model;
    use static_nalgebra::SMatrix;
    use static_nn::format::tflite;
    use static_nn::quantised::{Int8Dense, Int8Layer, Int8Network};

    #[model("../fixtures/sine.tflite")]
    struct MicroflowSine;

    type Sine = (Int8Dense<1, 16>, Int8Dense<16, 16>, Int8Dense<16, 1>);

    fn ours() -> Int8Network<Sine, 1> {
        tflite::read(include_bytes!("../../fixtures/sine.tflite")).unwrap()
    }

    /// One layer's encodings as the file stores them (`f32` bits read with flatc's Python
    /// code, independently of both readers): input scale, weight scale, bias scale, output scale
    /// and the input and output zero points, and whether ReLU is fused.
    struct Scales {
        input: u32,
        weight: u32,
        bias: u32,
        output: u32,
        input_zero_point: i32,
        output_zero_point: i32,
        relu: bool,
    }

    const LAYERS: [Scales; 3] = [
        Scales {
            input: 0x3cc9_4f5d,
            weight: 0x3b86_9b6e,
            bias: 0x38d3_b388,
            output: 0x3c34_52bd,
            input_zero_point: -128,
            output_zero_point: -128,
            relu: true,
        },
        Scales {
            input: 0x3c34_52bd,
            weight: 0x3c17_b116,
            bias: 0x38d5_b314,
            output: 0x3c0e_02f7,
            input_zero_point: -128,
            output_zero_point: -128,
            relu: true,
        },
        Scales {
            input: 0x3c0e_02f7,
            weight: 0x3c4c_1ea2,
            bias: 0x38e2_76b6,
            output: 0x3c07_7d81,
            input_zero_point: -128,
            output_zero_point: 7,
            relu: false,
        },
    ];

    /// A layer's weights (`[out][in]`) and biases, as static-nn read them.
    fn layers(sine: &Int8Network<Sine, 1>) -> [(Vec<Vec<i8>>, Vec<i32>); 3] {
        fn of<const I: usize, const O: usize>(layer: &Int8Dense<I, O>) -> (Vec<Vec<i8>>, Vec<i32>) {
            let p = layer.parameters();
            (p.weight.iter().map(|row| row.to_vec()).collect(), p.bias.to_vec())
        }
        [of(&sine.network.0), of(&sine.network.1), of(&sine.network.2)]
    }

    /// TFLite's `QuantizeMultiplier`, from `quantization_util.cc`: `frexp`, then
    /// `round(q · 2^31)` (C's `round`), halved if it reaches `2^31`.
    fn quantize_multiplier(real: f64) -> (i64, i32) {
        let mut shift = 0;
        let mut q = real;
        while q >= 1.0 {
            q /= 2.0;
            shift += 1;
        }
        while q < 0.5 {
            q *= 2.0;
            shift -= 1;
        }
        let mut fixed = (q * 2_147_483_648.0).round() as i64;
        if fixed == 1 << 31 {
            fixed /= 2;
            shift += 1;
        }
        (fixed, shift)
    }

    /// TFLite's `MultiplyByQuantizedMultiplier` with `SaturatingRoundingDoublingHighMul` and
    /// `RoundingDivideByPOT` written out in `i64` as gemmlowp states them.
    fn multiply(x: i32, multiplier: i64, shift: i32) -> i32 {
        let (left, right) = (shift.max(0), (-shift).max(0));
        let a = i64::from(x) << left;
        let ab = a * multiplier;
        let nudge = if ab >= 0 { 1 << 30 } else { 1 - (1 << 30) };
        let high = (ab + nudge) / (1 << 31);
        let mask = (1i64 << right) - 1;
        let remainder = high & mask;
        let threshold = (mask >> 1) + i64::from(high < 0);
        ((high >> right) + i64::from(remainder > threshold)) as i32
    }

    /// TFLite Micro's int8 `FULLY_CONNECTED` on one sample.
    fn tflite_layer(scales: &Scales, weight: &[Vec<i8>], bias: &[i32], x: &[i8]) -> Vec<i8> {
        let real = f64::from(f32::from_bits(scales.input)) * f64::from(f32::from_bits(scales.weight))
            / f64::from(f32::from_bits(scales.output));
        let (multiplier, shift) = quantize_multiplier(real);
        let min = if scales.relu {
            scales.output_zero_point.max(-128)
        } else {
            -128
        };
        weight
            .iter()
            .zip(bias)
            .map(|(row, &b)| {
                let acc: i32 = row
                    .iter()
                    .zip(x)
                    .map(|(&w, &v)| i32::from(w) * (i32::from(v) - scales.input_zero_point))
                    .sum::<i32>()
                    + b;
                (multiply(acc, multiplier, shift) + scales.output_zero_point).clamp(min, 127) as i8
            })
            .collect()
    }

    /// microflow's `fully_connected` on one sample, its constants computed in `f32` as its
    /// macro does.
    fn microflow_layer(scales: &Scales, weight: &[Vec<i8>], bias: &[i32], x: &[i8]) -> Vec<i8> {
        let [input, weight_scale, bias_scale, output] =
            [scales.input, scales.weight, scales.bias, scales.output].map(f32::from_bits);
        let scale = input * weight_scale / output;
        weight
            .iter()
            .zip(bias)
            .map(|(row, &b)| {
                let dot: i32 = row.iter().zip(x).map(|(&w, &v)| i32::from(w) * i32::from(v)).sum();
                let offset = row.iter().map(|&w| i32::from(w)).sum::<i32>() * scales.input_zero_point;
                let y =
                    (scales.output_zero_point as f32 + bias_scale / output * b as f32 + scale * (dot - offset) as f32)
                        .round() as i8;
                if scales.relu {
                    y.max(scales.output_zero_point as i8)
                } else {
                    y
                }
            })
            .collect()
    }

    fn network(layer: fn(&Scales, &[Vec<i8>], &[i32], &[i8]) -> Vec<i8>, sine: &Int8Network<Sine, 1>, q: i8) -> i8 {
        let mut h = vec![q];
        for (scales, (weight, bias)) in LAYERS.iter().zip(layers(sine)) {
            h = layer(scales, &weight, &bias, &h);
        }
        h[0]
    }

    /// The int8 inputs on which static-nn's output differs from microflow's.
    fn differing_inputs(sine: &Int8Network<Sine, 1>) -> Vec<i8> {
        (-128..=127_i8)
            .filter(|&q| sine.network.forward(&SMatrix::<i8, 1, 1>::new(q))[0] != network(microflow_layer, sine, q))
            .collect()
    }

    /// Every one of the 256 inputs: static-nn gives TFLite's integers, microflow its own
    /// formula's, and they differ by a step or two (a step in a hidden layer can become two) on
    /// the inputs where the two roundings part.
    #[test]
    fn every_int8_input_gives_tflites_integers_and_microflow_differs_by_its_rounding() {
        let sine = ours();
        let output_scale = f32::from_bits(LAYERS[2].output);
        assert_eq!(sine.output.scale, output_scale);
        for q in -128..=127_i8 {
            let y = sine.network.forward(&SMatrix::<i8, 1, 1>::new(q))[0];
            assert_eq!(y, network(tflite_layer, &sine, q), "TFLite at {q}");
            let theirs = MicroflowSine::predict_quantized(microflow::buffer::Buffer2D::from_element(q))[0];
            let emulated = network(microflow_layer, &sine, q);
            assert_eq!(theirs, output_scale * (emulated as f32 - 7.0), "microflow at {q}");
            assert!(
                (i32::from(y) - i32::from(emulated)).abs() <= 2,
                "{q}: {y} vs {emulated}"
            );
        }
        let differ = differing_inputs(&sine);
        println!(
            "static-nn and microflow differ on {} of 256 int8 inputs: {differ:?}",
            differ.len()
        );
        assert!(differ.len() < 16, "{differ:?}");
    }

    /// Real inputs: both encode the input to the same integer, so the real outputs are equal
    /// exactly where the int8 outputs above are.
    #[test]
    fn real_inputs_agree_wherever_the_int8_outputs_agree() {
        let sine = ours();
        let differ = differing_inputs(&sine);
        let (mut same, mut total) = (0, 0);
        for k in -10_000..=10_000 {
            let x = k as f32 * 1e-3;
            let q = sine.input.quantise(x);
            let [y] = sine.predict(&[x]);
            let theirs = MicroflowSine::predict(microflow::buffer::Buffer2D::from_element(x))[0];
            let theirs_from_q = MicroflowSine::predict_quantized(microflow::buffer::Buffer2D::from_element(q))[0];
            assert_eq!(
                theirs, theirs_from_q,
                "microflow encodes {x} as another integer than TFLite"
            );
            assert_eq!(y == theirs, !differ.contains(&q), "{x}: {y} vs {theirs}");
            total += 1;
            same += usize::from(y == theirs);
        }
        println!("static-nn and microflow agree on {same} of {total} real inputs in [-10, 10]");
    }
}
