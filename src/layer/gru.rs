//! Gated recurrent unit layer (PyTorch's `nn.GRU`, one layer).

use nalgebra::SMatrix;

use crate::layer::gates::{add_outer, add_transposed, column, column_mut, gated_layer, project};
use crate::{Layer, Real, Stream};

/// A gated recurrent unit layer from `I` input features to `H` hidden units: PyTorch's
/// `nn.GRU(I, H)` (one layer, unidirectional, with biases), on time-major sequences
/// `[SMatrix<T, I, B>; L]` (PyTorch's default `batch_first=False`; columns are samples).
///
/// **Forward**, for each step `t` with `h = h_{t−1}` (PyTorch's equations and gate order r, z, n):
/// ```text
/// r = σ(W_ir x_t + b_ir + W_hr h + b_hr)
/// z = σ(W_iz x_t + b_iz + W_hz h + b_hz)
/// n = tanh(W_in x_t + b_in + r ⊙ (W_hn h + b_hn))
/// h_t = (1 − z) ⊙ n + z ⊙ h
/// ```
/// computed as `n + z ⊙ (h − n)` with the gate functions of [`Real::sigmoid_branchless`] and
/// [`Real::tanh_branchless`] (within 2 ulp), so the whole cell vectorises.
///
/// **Inputs and outputs.** The layer takes any sequence length `L` (the length is in the input
/// type, not the layer's, as in PyTorch):
/// - `[SMatrix<T, I, B>; L]` → the whole output sequence `[SMatrix<T, H, B>; L]` (PyTorch's
///   `output`), starting from `h_0 = 0`. Follow it with [`LastStep`](crate::LastStep) for the
///   final hidden state `h_L` alone (PyTorch's `h_n`).
/// - `([SMatrix<T, I, B>; L], SMatrix<T, H, B>)`, a sequence and an initial state `h_0` →
///   `([SMatrix<T, H, B>; L], SMatrix<T, H, B>)`, the output sequence and `h_L`, like PyTorch's
///   `output, h_n = gru(x, h_0)`. Backward then returns the gradient with respect to `h_0` as
///   the second part of the input gradient, and takes one for `h_L` as the second part of `dy`.
///
/// **Backward** (through time). With `dh` the gradient reaching `h_t` (from `dy_t` and from
/// step `t + 1`):
/// ```text
/// dn = dh ⊙ (1 − z)            da_n = dn ⊙ (1 − n²)
/// dz = dh ⊙ (h − n)            da_z = dz ⊙ z(1 − z)
/// da_r = da_n ⊙ (W_hn h + b_hn) ⊙ r(1 − r)
/// input gates  g_i = (da_r, da_z, da_n):      ∂W_ih += g_i x_tᵀ,  ∂b_ih += g_i,  dx_t = W_ihᵀ g_i
/// hidden gates g_h = (da_r, da_z, r ⊙ da_n):  ∂W_hh += g_h hᵀ,    ∂b_hh += g_h
/// dh_{t−1} = z ⊙ dh + W_hhᵀ g_h
/// ```
/// The cache holds `r`, `z`, `n` and `W_hn h + b_hn` per step ([`GruStep`]); the previous
/// hidden states are the layer's output, which backward receives.
///
/// **Truncated backpropagation through time.** With [`bptt_window`](Gru::bptt_window) `= k >
/// 0`, the sequence is cut into chunks of `k` steps from its start and no gradient flows from
/// one chunk into the previous one through the hidden state: PyTorch's `h = h.detach()` every
/// `k` steps. The forward pass is unchanged. `0` (the default) is full backpropagation.
///
/// **Weights**, in PyTorch's names, shapes and layout (tensor order of
/// `named_parameters()`): `weight_ih_l0` `3H × I`, `weight_hh_l0` `3H × H`, `bias_ih_l0` and
/// `bias_hh_l0` `3H`, rows stacked r, z, n. The fields hold them column by column:
/// `weight_ih[i][(j, g)]` is `weight_ih_l0[g·H + j, i]`, and `bias_ih[(j, g)]` is
/// `bias_ih_l0[g·H + j]`. [`Init::PyTorch`](crate::Init::PyTorch) draws every tensor from `U(−1/√H, 1/√H)`, as
/// PyTorch does; the other schemes use fan-in `I` (resp. `H`) and fan-out `3H` for the weights
/// and zero biases. A PyTorch `nn.GRU`'s `state_dict` imports through `format::safetensors`
/// once its keys carry the layer's position (`0.weight_ih_l0`, ...).
///
/// **Streaming.** [`Stream`] carries `h` (`SMatrix<T, H, B>`) from frame to frame; the outputs
/// are those of the whole-sequence forward, bit for bit (one kernel serves both).
///
/// ```
/// use static_nn::{Dense, Gru, Init, LastStep, Layer, Parameters, Rng};
/// use static_nn::nalgebra::SMatrix;
///
/// // A many-to-one model: 2 features per step, 8 hidden units, one output.
/// type Net = (Gru<f64, 2, 8>, LastStep, Dense<f64, 8, 1>);
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
pub struct Gru<T, const I: usize, const H: usize> {
    /// `weight_ih_l0`, column `i` per entry; each entry's columns are the gates r, z, n.
    pub weight_ih: [SMatrix<T, H, 3>; I],
    /// `weight_hh_l0`, column `k` per entry; each entry's columns are the gates r, z, n.
    pub weight_hh: [SMatrix<T, H, 3>; H],
    /// `bias_ih_l0`; columns r, z, n.
    pub bias_ih: SMatrix<T, H, 3>,
    /// `bias_hh_l0`; columns r, z, n.
    pub bias_hh: SMatrix<T, H, 3>,
    /// Truncated backpropagation through time: chunk length in steps, `0` for none (the
    /// default). Not a tensor: not trained, not saved with the weights.
    pub bptt_window: usize,
}

/// What the training forward pass of a [`Gru`] records for one time step.
#[derive(Clone, Copy, Debug, PartialEq, bytemuck::Zeroable)]
#[zeroable(bound = "T: Real")]
pub struct GruStep<T, const H: usize, const B: usize> {
    /// The reset gate.
    pub r: SMatrix<T, H, B>,
    /// The update gate.
    pub z: SMatrix<T, H, B>,
    /// The candidate state.
    pub n: SMatrix<T, H, B>,
    /// `W_hn h + b_hn`, the hidden part of the candidate before the reset gate.
    pub hn: SMatrix<T, H, B>,
}

impl<T: Real, const I: usize, const H: usize> Gru<T, I, H> {
    /// A layer whose weights and biases are all zero, with full backpropagation through time.
    pub fn zeros() -> Self {
        bytemuck::Zeroable::zeroed()
    }

    /// One step for all samples: `h` becomes `h_t`; `record(b, j, [r, z, n, hn])` sees the gates.
    #[inline(always)]
    fn advance<const B: usize>(
        &self,
        x: &SMatrix<T, I, B>,
        h: &mut SMatrix<T, H, B>,
        mut record: impl FnMut(usize, usize, [T; 4]),
    ) {
        for b in 0..B {
            let mut gi = project(&self.weight_ih, &self.bias_ih, column(x, b));
            let gh = project(&self.weight_hh, &self.bias_hh, column(h, b));
            // Gates r and z are rows 0..2H of both. Each function runs over a whole gate vector,
            // which keeps many exponentials in flight, in the order the step needs them: r, then
            // the candidate n, and z last, so that z's operations, which only the final blend
            // waits for, come after n's in program order and do not delay them.
            let (gi_rz, gi_n) = gi.as_mut_slice().split_at_mut(2 * H);
            let (gh_rz, gh_n) = gh.as_slice().split_at(2 * H);
            let (gi_r, gi_z) = gi_rz.split_at_mut(H);
            let (gh_r, gh_z) = gh_rz.split_at(H);
            for (a, &b) in gi_r.iter_mut().zip(gh_r) {
                *a = (*a + b).sigmoid_branchless();
            }
            let r = &*gi_r;
            let mut n = [T::zero(); H];
            for j in 0..H {
                n[j] = (gi_n[j] + r[j] * gh_n[j]).tanh_branchless();
            }
            for (a, &b) in gi_z.iter_mut().zip(gh_z) {
                *a = (*a + b).sigmoid_branchless();
            }
            let z = &*gi_z;
            // The new state is computed in local arrays and written once, as in `Lstm`: updated
            // in place, the gates went through memory behind a run-time overlap check.
            let h_prev = column(h, b);
            let mut h_new = [T::zero(); H];
            for j in 0..H {
                h_new[j] = n[j] + z[j] * (h_prev[j] - n[j]);
            }
            column_mut(h, b).copy_from_slice(&h_new);
            for j in 0..H {
                record(b, j, [r[j], z[j], n[j], gh_n[j]]);
            }
        }
    }

    /// The output sequence from `h0`, recording the gates if `cache` is given.
    fn run<const B: usize, const L: usize>(
        &self,
        x: &[SMatrix<T, I, B>; L],
        h0: &SMatrix<T, H, B>,
        mut cache: Option<&mut [GruStep<T, H, B>; L]>,
    ) -> [SMatrix<T, H, B>; L] {
        let mut h = *h0;
        let mut y = [SMatrix::zeros(); L];
        for t in 0..L {
            match cache.as_deref_mut() {
                Some(cache) => {
                    let step = &mut cache[t];
                    self.advance(&x[t], &mut h, |b, j, [r, z, n, hn]| {
                        step.r[(j, b)] = r;
                        step.z[(j, b)] = z;
                        step.n[(j, b)] = n;
                        step.hn[(j, b)] = hn;
                    });
                }
                None => self.advance(&x[t], &mut h, |_, _, _| {}),
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
        cache: &[GruStep<T, H, B>; L],
        dy: &[SMatrix<T, H, B>; L],
        dh_last: &SMatrix<T, H, B>,
        grad: &mut Self,
        mut dx: Option<&mut [SMatrix<T, I, B>; L]>,
    ) -> SMatrix<T, H, B> {
        let one = T::one();
        let mut carry = *dh_last;
        for t in (0..L).rev() {
            let h_prev = if t == 0 { h0 } else { &y[t - 1] };
            let step = &cache[t];
            let mut dh_prev = SMatrix::<T, H, B>::zeros();
            for b in 0..B {
                let mut g_i = SMatrix::<T, H, 3>::zeros();
                let mut g_h = SMatrix::<T, H, 3>::zeros();
                for j in 0..H {
                    let (r, z, n, hn) = (step.r[(j, b)], step.z[(j, b)], step.n[(j, b)], step.hn[(j, b)]);
                    let dh = dy[t][(j, b)] + carry[(j, b)];
                    let da_n = dh * (one - z) * (one - n * n);
                    let da_z = dh * (h_prev[(j, b)] - n) * z * (one - z);
                    let da_r = da_n * hn * r * (one - r);
                    g_i[(j, 0)] = da_r;
                    g_i[(j, 1)] = da_z;
                    g_i[(j, 2)] = da_n;
                    g_h[(j, 0)] = da_r;
                    g_h[(j, 1)] = da_z;
                    g_h[(j, 2)] = r * da_n;
                    dh_prev[(j, b)] = z * dh;
                }
                grad.bias_ih += g_i;
                grad.bias_hh += g_h;
                add_outer(&mut grad.weight_ih, &g_i, column(&x[t], b));
                add_outer(&mut grad.weight_hh, &g_h, column(h_prev, b));
                if let Some(dx) = dx.as_deref_mut() {
                    add_transposed(&self.weight_ih, &g_i, column_mut(&mut dx[t], b));
                }
                add_transposed(&self.weight_hh, &g_h, column_mut(&mut dh_prev, b));
            }
            let truncated = self.bptt_window > 0 && t > 0 && t % self.bptt_window == 0;
            carry = if truncated { SMatrix::zeros() } else { dh_prev };
        }
        carry
    }
}

gated_layer!(Gru, 3);

/// The whole output sequence from `h_0 = 0`.
impl<T: Real, const I: usize, const H: usize, const B: usize, const L: usize> Layer<T, [SMatrix<T, I, B>; L]>
    for Gru<T, I, H>
{
    type Output = [SMatrix<T, H, B>; L];
    type Cache = [GruStep<T, H, B>; L];

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
    Layer<T, ([SMatrix<T, I, B>; L], SMatrix<T, H, B>)> for Gru<T, I, H>
{
    type Output = ([SMatrix<T, H, B>; L], SMatrix<T, H, B>);
    type Cache = [GruStep<T, H, B>; L];

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

impl<T: Real, const I: usize, const H: usize, const B: usize> Stream<T, SMatrix<T, I, B>> for Gru<T, I, H> {
    type Output = SMatrix<T, H, B>;
    type State = SMatrix<T, H, B>;

    #[inline(always)]
    fn step(&self, x: &SMatrix<T, I, B>, h: &mut SMatrix<T, H, B>) -> SMatrix<T, H, B> {
        self.advance(x, h, |_, _, _| {});
        *h
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::GradCheck;
    use crate::{Init, Parameters, Rng, Tensors};
    use bytemuck::Zeroable;

    fn sequence<const C: usize, const B: usize, const L: usize>(seed: f64) -> [SMatrix<f64, C, B>; L] {
        core::array::from_fn(|t| SMatrix::from_fn(|c, b| ((t * 7 + c * 3 + b * 5) as f64 * 0.61 + seed).sin()))
    }

    fn gru(seed: u64) -> Gru<f64, 3, 4> {
        // Larger than PyTorch's default bound, so that the gates leave their linear range.
        let mut gru = Gru::build(Init::XavierUniform, &mut Rng::new(seed));
        gru.bias_ih = SMatrix::from_fn(|j, g| (j as f64 - 1.5) * 0.3 + g as f64 * 0.2);
        gru.bias_hh = SMatrix::from_fn(|j, g| (g as f64 - 1.0) * 0.25 - j as f64 * 0.1);
        gru
    }

    #[test]
    fn gradient_check_for_lengths_one_and_several() {
        let layer = gru(1);
        let report = GradCheck::default().strict().layer(&layer, &sequence::<3, 2, 1>(0.1));
        assert!(report.passed(), "{report}");
        let report = GradCheck::default().strict().layer(&layer, &sequence::<3, 2, 6>(0.2));
        assert!(report.passed(), "{report}");
        assert_eq!(report.tensors.len(), 4 + 6);
    }

    #[test]
    fn gradient_check_with_an_initial_state_reaches_h0() {
        let layer = gru(2);
        let x = (
            sequence::<3, 2, 5>(0.3),
            SMatrix::<f64, 4, 2>::from_fn(|j, b| 0.4 - 0.2 * (j + b) as f64),
        );
        let report = GradCheck::default().strict().layer(&layer, &x);
        assert!(report.passed(), "{report}");
        // Four tensors, five input steps and h0.
        assert_eq!(report.tensors.len(), 4 + 5 + 1);
        assert!(report.tensors.last().unwrap().compared == 8, "{report}");
    }

    #[test]
    fn batch_equals_single_samples_and_backward_accumulates() {
        let layer = gru(3);
        let x = sequence::<3, 3, 4>(0.4);
        let dy = sequence::<4, 3, 4>(0.9);
        let mut cache = Zeroable::zeroed();
        let y = layer.forward_train(&x, &mut cache);
        let mut grad = Gru::zeros();
        let dx = layer.backward(&x, &y, &cache, &dy, &mut grad);
        let mut single_grad = Gru::zeros();
        for b in 0..3 {
            let xb: [SMatrix<f64, 3, 1>; 4] = core::array::from_fn(|t| x[t].column(b).into());
            let dyb: [SMatrix<f64, 4, 1>; 4] = core::array::from_fn(|t| dy[t].column(b).into());
            let mut cache_b = Zeroable::zeroed();
            let yb = layer.forward_train(&xb, &mut cache_b);
            let dxb = layer.backward(&xb, &yb, &cache_b, &dyb, &mut single_grad);
            for t in 0..4 {
                assert_eq!(yb[t], y[t].column(b));
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
        let mut layer = gru(4);
        layer.bptt_window = 3;
        let x = sequence::<3, 2, 7>(0.5);
        let dy = sequence::<4, 2, 7>(1.1);
        let mut cache = Zeroable::zeroed();
        let y = layer.forward_train(&x, &mut cache);
        let mut truncated = Gru::zeros();
        let dx = layer.backward(&x, &y, &cache, &dy, &mut truncated);

        // The same gradient from three separate runs, each starting from the previous chunk's
        // last state taken as a constant.
        fn chunk<const L: usize>(
            layer: &Gru<f64, 3, 4>,
            x: &[SMatrix<f64, 3, 2>; 7],
            dy: &[SMatrix<f64, 4, 2>; 7],
            start: usize,
            h0: SMatrix<f64, 4, 2>,
            grad: &mut Gru<f64, 3, 4>,
        ) -> ([SMatrix<f64, 3, 2>; L], SMatrix<f64, 4, 2>) {
            let input = (core::array::from_fn(|t| x[start + t]), h0);
            let mut cache = Zeroable::zeroed();
            let y = layer.forward_train(&input, &mut cache);
            let d_out = (core::array::from_fn(|t| dy[start + t]), SMatrix::zeros());
            let (dx, _) = layer.backward(&input, &y, &cache, &d_out, grad);
            (dx, y.1)
        }
        let mut chunked = Gru::zeros();
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
        let mut full = Gru::zeros();
        layer.backward_parameters(&x, &y, &cache, &dy, &mut full);
        assert!((full.weight_hh[0] - truncated.weight_hh[0]).abs().max() > 1e-3);
    }

    #[test]
    fn streaming_equals_the_whole_sequence_bit_for_bit() {
        let layer = gru(5);
        let x = sequence::<3, 2, 9>(0.6);
        let y = layer.forward(&x);
        let mut h = Gru::<f64, 3, 4>::stream_state();
        for t in 0..9 {
            assert_eq!(layer.step(&x[t], &mut h), y[t]);
        }
        let (y_state, h_last) = layer.forward(&(x, SMatrix::zeros()));
        assert_eq!((y_state, h_last), (y, y[8]));
    }

    #[test]
    fn tensors_have_pytorch_names_shapes_and_layout() {
        let infos: Vec<_> = Gru::<f32, 3, 4>::tensor_infos()
            .map(|t| (t.name, t.rows, t.cols))
            .collect();
        assert_eq!(
            infos,
            [
                ("weight_ih_l0", 12, 3),
                ("weight_hh_l0", 12, 4),
                ("bias_ih_l0", 12, 1),
                ("bias_hh_l0", 12, 1)
            ]
        );
        let mut layer = Gru::<f32, 3, 4>::zeros();
        layer.weight_ih[2][(1, 2)] = 1.0; // weight_ih_l0[2·4 + 1, 2]: gate n, unit 1, input 2
        let flat = layer.tensors().next().unwrap();
        assert_eq!(flat.iter().position(|&v| v == 1.0), Some(2 * 12 + 9)); // column-major (12 × 3)
        let bound = 0.5; // 1/√H
        let built = Gru::<f64, 3, 4>::build(Init::PyTorch, &mut Rng::new(0));
        assert!(built.tensors().flatten().all(|v| v.abs() <= bound));
        assert!(built.bias_hh.iter().any(|&v| v != 0.0));
    }
}
