//! Elman recurrent layer with tanh (PyTorch's `nn.RNN`, one layer).

use nalgebra::{SMatrix, SVector};

use crate::layer::gates::gated_layer;
use crate::{Activation, Layer, Real, Stream, Tanh};

/// A plain (Elman) recurrent layer from `I` input features to `H` hidden units: PyTorch's
/// `nn.RNN(I, H)` (one layer, tanh, unidirectional, with biases), on time-major sequences
/// `[SMatrix<T, I, B>; L]` (PyTorch's default `batch_first=False`; columns are samples).
///
/// **Forward**, for each step `t`:
/// ```text
/// a_t = W_ih x_t + b_ih + W_hh h_{t−1} + b_hh        h_t = tanh(a_t)
/// ```
/// with [`Real::tanh_branchless`] (within 2 ulp). No gate protects the state: on the way back
/// the gradient is multiplied at every step by `W_hhᵀ` and the slopes `1 − h²`, so over many
/// steps it explodes when the spectral radius of `W_hh` is well above 1 and vanishes when the
/// product stays below 1 ([`guide::clipping`](crate::guide::clipping) measures both; the
/// gates of [`Gru`](crate::Gru) and [`Lstm`](crate::Lstm) are the remedy for vanishing).
///
/// **Inputs and outputs**, as for [`Gru`](crate::Gru):
/// - `[SMatrix<T, I, B>; L]` → the output sequence `[SMatrix<T, H, B>; L]` from `h_0 = 0`
///   (PyTorch's `output`; [`LastStep`](crate::LastStep) keeps `h_L`, PyTorch's `h_n`).
/// - `([SMatrix<T, I, B>; L], SMatrix<T, H, B>)` → `([SMatrix<T, H, B>; L], SMatrix<T, H, B>)`,
///   like PyTorch's `output, h_n = rnn(x, h_0)`; backward returns the gradient with respect to
///   `h_0` and takes one for `h_L`.
///
/// **Backward** (through time). With `dh` the gradient reaching `h_t` (from `dy_t` and from
/// step `t + 1`):
/// ```text
/// da = dh ⊙ tanh'(a_t)
/// ∂W_ih += da x_tᵀ    ∂W_hh += da h_{t−1}ᵀ    ∂b_ih += da    ∂b_hh += da
/// dx_t = W_ihᵀ da     dh_{t−1} = W_hhᵀ da
/// ```
/// The cache holds the pre-activations `a_t`, from which `tanh'` is computed as [`Tanh`]
/// computes it (accurate where the unit saturates, unlike `1 − h²`); the previous hidden states
/// are the layer's output, which backward receives.
///
/// **Truncated backpropagation through time** with [`bptt_window`](Rnn::bptt_window) `= k > 0`:
/// no gradient flows through the hidden state from one chunk of `k` steps into the previous one
/// (PyTorch's `h = h.detach()` every `k` steps); `0` (the default) is full backpropagation.
///
/// **Weights**, in PyTorch's names, shapes and order (`named_parameters()`): `weight_ih_l0`
/// `H × I`, `weight_hh_l0` `H × H`, `bias_ih_l0` and `bias_hh_l0` `H`. [`Init::PyTorch`](crate::Init::PyTorch) draws
/// every tensor from `U(−1/√H, 1/√H)`, as PyTorch does; the other schemes use fan-in `I`
/// (resp. `H`), fan-out `H` and zero biases. A PyTorch `nn.RNN`'s `state_dict` imports through
/// `format::safetensors` once its keys carry the layer's position (`0.weight_ih_l0`, ...).
///
/// **Streaming.** [`Stream`] carries `h` from frame to frame; the outputs are those of the
/// whole-sequence forward, bit for bit (one kernel serves both).
///
/// ```
/// use static_nn::{Dense, Init, LastStep, Layer, Parameters, Rng, Rnn};
/// use nalgebra::SMatrix;
///
/// type Net = (Rnn<f64, 2, 8>, LastStep, Dense<f64, 8, 1>);
/// let net = Net::build(Init::PyTorch, &mut Rng::new(0));
/// let sequence = [SMatrix::<f64, 2, 4>::from_element(0.5); 10]; // 10 steps, batch of 4
/// let y: SMatrix<f64, 1, 4> = net.forward(&sequence);
/// assert!(y.iter().all(|v| v.is_finite()));
/// ```
#[derive(Clone, Debug, PartialEq, bytemuck::Zeroable)]
#[zeroable(bound = "T: Real")]
// On x86-64 the weights start on a cache line, where the kernels load them 32 or 64 bytes at a
// time: a load that straddles two lines costs two, and a layer left wherever its owner's frame
// put it ran at a speed that changed from build to build (see ARCHITECTURE.md).
#[cfg_attr(target_arch = "x86_64", repr(C, align(64)))]
pub struct Rnn<T, const I: usize, const H: usize> {
    /// `weight_ih_l0`, `H × I`.
    pub weight_ih: SMatrix<T, H, I>,
    /// `weight_hh_l0`, `H × H`.
    pub weight_hh: SMatrix<T, H, H>,
    /// `bias_ih_l0`.
    pub bias_ih: SVector<T, H>,
    /// `bias_hh_l0`.
    pub bias_hh: SVector<T, H>,
    /// Truncated backpropagation through time: chunk length in steps, `0` for none (the
    /// default). Not a tensor: not trained, not saved with the weights.
    pub bptt_window: usize,
}

impl<T: Real, const I: usize, const H: usize> Rnn<T, I, H> {
    /// A layer whose weights and biases are all zero, with full backpropagation through time.
    pub fn zeros() -> Self {
        bytemuck::Zeroable::zeroed()
    }

    /// One step for all samples: `h` becomes `h_t`; returns the pre-activation `a_t`.
    #[inline(always)]
    fn advance<const B: usize>(&self, x: &SMatrix<T, I, B>, h: &mut SMatrix<T, H, B>) -> SMatrix<T, H, B> {
        let mut a = self.weight_ih * x;
        let recurrent = self.weight_hh * *h;
        for ((mut a, r), _) in a.column_iter_mut().zip(recurrent.column_iter()).zip(0..B) {
            for j in 0..H {
                a[j] = (a[j] + self.bias_ih[j]) + (r[j] + self.bias_hh[j]);
            }
        }
        *h = a.map(|v| v.tanh_branchless());
        a
    }

    /// The output sequence from `h0`, recording the pre-activations if `cache` is given.
    fn run<const B: usize, const L: usize>(
        &self,
        x: &[SMatrix<T, I, B>; L],
        h0: &SMatrix<T, H, B>,
        mut cache: Option<&mut [SMatrix<T, H, B>; L]>,
    ) -> [SMatrix<T, H, B>; L] {
        let mut h = *h0;
        let mut y = [SMatrix::zeros(); L];
        for t in 0..L {
            let a = self.advance(&x[t], &mut h);
            if let Some(cache) = cache.as_deref_mut() {
                cache[t] = a;
            }
            y[t] = h;
        }
        y
    }

    /// Backpropagation through time: adds the parameter gradient into `grad`, writes the input
    /// gradient into `dx` if given, and returns the gradient with respect to `h0`.
    #[allow(clippy::too_many_arguments)]
    fn backpropagate<const B: usize, const L: usize>(
        &self,
        x: &[SMatrix<T, I, B>; L],
        h0: &SMatrix<T, H, B>,
        y: &[SMatrix<T, H, B>; L],
        cache: &[SMatrix<T, H, B>; L],
        dy: &[SMatrix<T, H, B>; L],
        dh_last: &SMatrix<T, H, B>,
        grad: &mut Self,
        mut dx: Option<&mut [SMatrix<T, I, B>; L]>,
    ) -> SMatrix<T, H, B> {
        let one = T::one();
        let mut carry = *dh_last;
        for t in (0..L).rev() {
            let h_prev = if t == 0 { h0 } else { &y[t - 1] };
            let da = (dy[t] + carry).zip_zip_map(&cache[t], &y[t], |d, a, h| d * Tanh.derivative(a, h));
            for column in da.column_iter() {
                grad.bias_ih += column;
                grad.bias_hh += column;
            }
            grad.weight_ih.gemm(one, &da, &x[t].transpose(), one);
            grad.weight_hh.gemm(one, &da, &h_prev.transpose(), one);
            if let Some(dx) = dx.as_deref_mut() {
                dx[t] = self.weight_ih.tr_mul(&da);
            }
            let truncated = self.bptt_window > 0 && t > 0 && t % self.bptt_window == 0;
            carry = if truncated {
                SMatrix::zeros()
            } else {
                self.weight_hh.tr_mul(&da)
            };
        }
        carry
    }
}

// One gate: PyTorch's tensors, names, order and initialisation bounds, as for `Gru` and `Lstm`.
gated_layer!(Rnn, 1);

/// The whole output sequence from `h_0 = 0`.
impl<T: Real, const I: usize, const H: usize, const B: usize, const L: usize> Layer<T, [SMatrix<T, I, B>; L]>
    for Rnn<T, I, H>
{
    type Output = [SMatrix<T, H, B>; L];
    type Cache = [SMatrix<T, H, B>; L];

    fn forward(&self, x: &[SMatrix<T, I, B>; L]) -> Self::Output {
        self.run(x, &SMatrix::zeros(), None)
    }

    fn forward_train(&self, x: &[SMatrix<T, I, B>; L], cache: &mut Self::Cache) -> Self::Output {
        self.run(x, &SMatrix::zeros(), Some(cache))
    }

    fn backward(
        &self,
        x: &[SMatrix<T, I, B>; L],
        y: &Self::Output,
        cache: &Self::Cache,
        dy: &Self::Output,
        grad: &mut Self,
    ) -> [SMatrix<T, I, B>; L] {
        let mut dx = [SMatrix::zeros(); L];
        let zero = SMatrix::zeros();
        self.backpropagate(x, &zero, y, cache, dy, &zero, grad, Some(&mut dx));
        dx
    }

    fn backward_parameters(
        &self,
        x: &[SMatrix<T, I, B>; L],
        y: &Self::Output,
        cache: &Self::Cache,
        dy: &Self::Output,
        grad: &mut Self,
    ) {
        let zero = SMatrix::zeros();
        self.backpropagate(x, &zero, y, cache, dy, &zero, grad, None);
    }
}

/// A sequence and an initial state `h_0` → the output sequence and the final state `h_L`.
impl<T: Real, const I: usize, const H: usize, const B: usize, const L: usize>
    Layer<T, ([SMatrix<T, I, B>; L], SMatrix<T, H, B>)> for Rnn<T, I, H>
{
    type Output = ([SMatrix<T, H, B>; L], SMatrix<T, H, B>);
    type Cache = [SMatrix<T, H, B>; L];

    fn forward(&self, (x, h0): &([SMatrix<T, I, B>; L], SMatrix<T, H, B>)) -> Self::Output {
        let y = self.run(x, h0, None);
        let h_last = y.last().copied().unwrap_or(*h0);
        (y, h_last)
    }

    fn forward_train(
        &self,
        (x, h0): &([SMatrix<T, I, B>; L], SMatrix<T, H, B>),
        cache: &mut Self::Cache,
    ) -> Self::Output {
        let y = self.run(x, h0, Some(cache));
        let h_last = y.last().copied().unwrap_or(*h0);
        (y, h_last)
    }

    fn backward(
        &self,
        (x, h0): &([SMatrix<T, I, B>; L], SMatrix<T, H, B>),
        (y, _): &Self::Output,
        cache: &Self::Cache,
        (dy, dh_last): &Self::Output,
        grad: &mut Self,
    ) -> ([SMatrix<T, I, B>; L], SMatrix<T, H, B>) {
        let mut dx = [SMatrix::zeros(); L];
        let dh0 = self.backpropagate(x, h0, y, cache, dy, dh_last, grad, Some(&mut dx));
        (dx, dh0)
    }
}

impl<T: Real, const I: usize, const H: usize, const B: usize> Stream<T, SMatrix<T, I, B>> for Rnn<T, I, H> {
    type Output = SMatrix<T, H, B>;
    type State = SMatrix<T, H, B>;

    #[inline]
    fn step(&self, x: &SMatrix<T, I, B>, h: &mut SMatrix<T, H, B>) -> SMatrix<T, H, B> {
        self.advance(x, h);
        *h
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{GradCheck, Init, Parameters, Rng, Tensors};
    use bytemuck::Zeroable;
    use nalgebra::{Matrix2, Vector2};

    fn sequence<const C: usize, const B: usize, const L: usize>(seed: f64) -> [SMatrix<f64, C, B>; L] {
        core::array::from_fn(|t| SMatrix::from_fn(|c, b| ((t * 7 + c * 3 + b * 5) as f64 * 0.61 + seed).sin()))
    }

    fn rnn(seed: u64) -> Rnn<f64, 3, 4> {
        // Larger than PyTorch's default bound, so that the units leave tanh's linear range.
        let mut rnn = Rnn::build(Init::XavierUniform, &mut Rng::new(seed));
        rnn.bias_ih = SVector::from_fn(|j, _| (j as f64 - 1.5) * 0.3);
        rnn.bias_hh = SVector::from_fn(|j, _| 0.2 - j as f64 * 0.1);
        rnn
    }

    #[test]
    fn forward_matches_the_formula_computed_by_hand() {
        // PyTorch's nn.RNN(2, 2) formula, h_t = tanh(W_ih x_t + b_ih + W_hh h_{t−1} + b_hh),
        // evaluated step by step outside the layer.
        let layer = Rnn {
            weight_ih: Matrix2::new(0.5, -0.25, 0.75, 0.1),
            weight_hh: Matrix2::new(0.3, -0.6, 0.2, 0.4),
            bias_ih: Vector2::new(0.1, -0.2),
            bias_hh: Vector2::new(0.05, 0.15),
            bptt_window: 0,
        };
        let x = [Vector2::new(1.0, 2.0), Vector2::new(-0.5, 0.5)];
        let y = layer.forward(&x);
        // Step 1: a = (0.5 − 0.5 + 0.1 + 0.05, 0.75 + 0.2 − 0.2 + 0.15) = (0.15, 0.9).
        let h1 = Vector2::new(0.15_f64.tanh(), 0.9_f64.tanh());
        // Step 2: W_ih x_2 = (−0.375, −0.325), W_hh h_1 = (0.3 h₁ − 0.6 h₂, 0.2 h₁ + 0.4 h₂).
        let a2 = Vector2::new(
            -0.375 + 0.1 + 0.3 * h1[0] - 0.6 * h1[1] + 0.05,
            -0.325 - 0.2 + 0.2 * h1[0] + 0.4 * h1[1] + 0.15,
        );
        assert!((y[0] - h1).abs().max() < 1e-15);
        assert!((y[1] - a2.map(f64::tanh)).abs().max() < 1e-15);
        assert!(
            (h1 - Vector2::new(0.148_885_033_623_317_98, 0.716_297_870_199_024_5))
                .abs()
                .max()
                < 1e-15
        );
    }

    #[test]
    fn gradient_check_for_lengths_one_and_several() {
        let layer = rnn(1);
        let report = GradCheck::default().strict().layer(&layer, &sequence::<3, 2, 1>(0.1));
        assert!(report.passed(), "{report}");
        let report = GradCheck::default().strict().layer(&layer, &sequence::<3, 2, 6>(0.2));
        assert!(report.passed(), "{report}");
        assert_eq!(report.tensors.len(), 4 + 6);
    }

    #[test]
    fn gradient_check_with_an_initial_state_reaches_h0() {
        let layer = rnn(2);
        let x = (
            sequence::<3, 2, 5>(0.3),
            SMatrix::<f64, 4, 2>::from_fn(|j, b| 0.4 - 0.2 * (j + b) as f64),
        );
        let report = GradCheck::default().strict().layer(&layer, &x);
        assert!(report.passed(), "{report}");
        assert_eq!(report.tensors.len(), 4 + 5 + 1);
        assert_eq!(report.tensors.last().unwrap().compared, 8, "{report}");
    }

    #[test]
    fn batch_equals_single_samples_and_backward_accumulates() {
        let layer = rnn(3);
        let x = sequence::<3, 3, 4>(0.4);
        let dy = sequence::<4, 3, 4>(0.9);
        let mut cache = Zeroable::zeroed();
        let y = layer.forward_train(&x, &mut cache);
        let mut grad = Rnn::zeros();
        let dx = layer.backward(&x, &y, &cache, &dy, &mut grad);
        let mut single_grad = Rnn::zeros();
        for b in 0..3 {
            let xb: [SMatrix<f64, 3, 1>; 4] = core::array::from_fn(|t| x[t].column(b).into());
            let dyb: [SMatrix<f64, 4, 1>; 4] = core::array::from_fn(|t| dy[t].column(b).into());
            let mut cache_b = Zeroable::zeroed();
            let yb = layer.forward_train(&xb, &mut cache_b);
            let dxb = layer.backward(&xb, &yb, &cache_b, &dyb, &mut single_grad);
            for t in 0..4 {
                assert!((yb[t] - y[t].column(b)).abs().max() < 1e-15);
                assert!((dxb[t] - dx[t].column(b)).abs().max() < 1e-15);
            }
        }
        for (a, b) in grad.tensors().zip(single_grad.tensors()) {
            assert!(a.iter().zip(b).all(|(a, b)| (a - b).abs() < 1e-14));
        }
        let mut twice = grad.clone();
        layer.backward_parameters(&x, &y, &cache, &dy, &mut twice);
        for (a, b) in twice.tensors().zip(grad.tensors()) {
            assert!(a.iter().zip(b).all(|(a, b)| (a - 2.0 * b).abs() < 1e-14));
        }
        assert_eq!(twice.bptt_window, 0);
    }

    #[test]
    fn truncated_backpropagation_is_chunks_with_detached_states() {
        let mut layer = rnn(4);
        layer.bptt_window = 3;
        let x = sequence::<3, 2, 7>(0.5);
        let dy = sequence::<4, 2, 7>(1.1);
        let mut cache = Zeroable::zeroed();
        let y = layer.forward_train(&x, &mut cache);
        let mut truncated = Rnn::zeros();
        let dx = layer.backward(&x, &y, &cache, &dy, &mut truncated);

        // The same gradient from three separate runs, each starting from the previous chunk's
        // last state taken as a constant.
        fn chunk<const L: usize>(
            layer: &Rnn<f64, 3, 4>,
            x: &[SMatrix<f64, 3, 2>; 7],
            dy: &[SMatrix<f64, 4, 2>; 7],
            start: usize,
            h0: SMatrix<f64, 4, 2>,
            grad: &mut Rnn<f64, 3, 4>,
        ) -> ([SMatrix<f64, 3, 2>; L], SMatrix<f64, 4, 2>) {
            let input = (core::array::from_fn(|t| x[start + t]), h0);
            let mut cache = Zeroable::zeroed();
            let y = layer.forward_train(&input, &mut cache);
            let d_out = (core::array::from_fn(|t| dy[start + t]), SMatrix::zeros());
            let (dx, _) = layer.backward(&input, &y, &cache, &d_out, grad);
            (dx, y.1)
        }
        let mut chunked = Rnn::zeros();
        let (dx0, h3) = chunk::<3>(&layer, &x, &dy, 0, SMatrix::zeros(), &mut chunked);
        let (dx1, h6) = chunk::<3>(&layer, &x, &dy, 3, h3, &mut chunked);
        let (dx2, _) = chunk::<1>(&layer, &x, &dy, 6, h6, &mut chunked);
        for (a, b) in truncated.tensors().zip(chunked.tensors()) {
            assert!(a.iter().zip(b).all(|(a, b)| (a - b).abs() < 1e-14));
        }
        let pieces = dx0.iter().chain(&dx1).chain(&dx2);
        for (a, b) in dx.iter().zip(pieces) {
            assert!((a - b).abs().max() < 1e-15);
        }
        // And it differs from the full gradient.
        layer.bptt_window = 0;
        let mut full = Rnn::zeros();
        layer.backward_parameters(&x, &y, &cache, &dy, &mut full);
        assert!((full.weight_hh - truncated.weight_hh).abs().max() > 1e-3);
    }

    #[test]
    fn streaming_equals_the_whole_sequence_bit_for_bit() {
        let layer = rnn(5);
        let x = sequence::<3, 2, 9>(0.6);
        let y = layer.forward(&x);
        let mut h = Rnn::<f64, 3, 4>::stream_state();
        for t in 0..9 {
            assert_eq!(layer.step(&x[t], &mut h), y[t]);
        }
        let (y_state, h_last) = layer.forward(&(x, SMatrix::zeros()));
        assert_eq!((y_state, h_last), (y, y[8]));
    }

    #[test]
    fn tensors_have_pytorch_names_shapes_and_order() {
        let infos: Vec<_> = Rnn::<f32, 3, 4>::tensor_infos()
            .map(|t| (t.name, t.rows, t.cols))
            .collect();
        assert_eq!(
            infos,
            [
                ("weight_ih_l0", 4, 3),
                ("weight_hh_l0", 4, 4),
                ("bias_ih_l0", 4, 1),
                ("bias_hh_l0", 4, 1)
            ]
        );
        let bound = 0.5; // 1/√H
        let built = Rnn::<f64, 3, 4>::build(Init::PyTorch, &mut Rng::new(0));
        assert!(built.tensors().flatten().all(|v| v.abs() <= bound));
        assert!(built.bias_hh.iter().any(|&v| v != 0.0));
    }

    #[cfg(feature = "alloc")]
    #[test]
    fn rust_source_spells_every_field() {
        let mut layer = Rnn::<f64, 1, 1>::zeros();
        layer.weight_hh[(0, 0)] = 0.5;
        layer.bptt_window = 3;
        let source = crate::AsConst(&layer).to_string();
        assert!(source.starts_with("::static_nn::Rnn { weight_ih: "), "{source}");
        assert!(
            source.contains("[[0.5_f64]]") && source.ends_with("bptt_window: 3_usize, }"),
            "{source}"
        );
    }
}
