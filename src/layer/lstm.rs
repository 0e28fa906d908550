//! Long short-term memory layer (PyTorch's `nn.LSTM`, one layer).

use nalgebra::SMatrix;

use crate::layer::gates::{add_outer, add_transposed, column, column_mut, gated_layer, project};
use crate::{Layer, Real, Stream};

/// The state `(h, c)` of an [`Lstm`] for a batch of `B`: hidden state and cell state, as
/// PyTorch's `(h_n, c_n)`.
pub type LstmState<T, const H: usize, const B: usize> = (SMatrix<T, H, B>, SMatrix<T, H, B>);

/// A long short-term memory layer from `I` input features to `H` hidden units: PyTorch's
/// `nn.LSTM(I, H)` (one layer, unidirectional, with biases, no projection), on time-major
/// sequences `[SMatrix<T, I, B>; L]` (PyTorch's default `batch_first=False`).
///
/// **Forward**, for each step `t` with `(h, c) = (h_{t−1}, c_{t−1})` (PyTorch's equations and
/// gate order i, f, g, o):
/// ```text
/// i = σ(W_ii x_t + b_ii + W_hi h + b_hi)      g = tanh(W_ig x_t + b_ig + W_hg h + b_hg)
/// f = σ(W_if x_t + b_if + W_hf h + b_hf)      o = σ(W_io x_t + b_io + W_ho h + b_ho)
/// c_t = f ⊙ c + i ⊙ g
/// h_t = o ⊙ tanh(c_t)
/// ```
/// with the gate functions of [`Real::sigmoid_branchless`] and [`Real::tanh_branchless`].
///
/// **Inputs and outputs** mirror [`Gru`](crate::Gru): a sequence alone (zero initial state) →
/// the output sequence of `h_t` (follow with [`LastStep`](crate::LastStep) for `h_L`); or
/// `(sequence, (h_0, c_0))` → `(output, (h_L, c_L))`, like PyTorch's
/// `output, (h_n, c_n) = lstm(x, (h_0, c_0))`, whose backward returns the gradients with
/// respect to `h_0` and `c_0` and takes gradients for `h_L` and `c_L`.
///
/// **Backward** (through time). With `dh`, `dc` the gradients reaching `h_t`, `c_t`:
/// ```text
/// dc' = dc + dh ⊙ o ⊙ (1 − tanh² c_t)
/// da_i = dc' ⊙ g ⊙ i(1 − i)      da_f = dc' ⊙ c ⊙ f(1 − f)
/// da_g = dc' ⊙ i ⊙ (1 − g²)      da_o = dh ⊙ tanh c_t ⊙ o(1 − o)
/// with a = (da_i, da_f, da_g, da_o): ∂W_ih += a x_tᵀ, ∂W_hh += a hᵀ, ∂b_ih += a, ∂b_hh += a,
/// dx_t = W_ihᵀ a,   dh_{t−1} = W_hhᵀ a,   dc_{t−1} = dc' ⊙ f
/// ```
/// The cache holds `i`, `f`, `g`, `o`, `c_t` and `tanh c_t` per step ([`LstmStep`]).
/// Truncated backpropagation through time works as for [`Gru`](crate::Gru), cutting both `h`
/// and `c` ([`bptt_window`](Lstm::bptt_window)).
///
/// **Weights**: `weight_ih_l0` `4H × I`, `weight_hh_l0` `4H × H`, `bias_ih_l0`, `bias_hh_l0`
/// `4H`, rows stacked i, f, g, o; `weight_ih[k][(j, gate)]` is `weight_ih_l0[gate·H + j, k]`.
/// [`Init::PyTorch`](crate::Init::PyTorch) draws every tensor from `U(−1/√H, 1/√H)`, as PyTorch does.
///
/// **Streaming.** [`Stream`] carries `(h, c)` ([`LstmState`]); the outputs are those of the
/// whole-sequence forward, bit for bit.
///
/// ```
/// use static_nn::{Init, Layer, Lstm, Parameters, Rng};
/// use static_nn::nalgebra::SMatrix;
///
/// let lstm = Lstm::<f32, 1, 4>::build(Init::PyTorch, &mut Rng::new(0));
/// let x = [SMatrix::<f32, 1, 1>::new(1.0); 3];
/// let (y, (h, c)) = lstm.forward(&(x, (SMatrix::zeros(), SMatrix::zeros())));
/// assert_eq!(y[2], h);
/// assert!(c.iter().all(|v| v.is_finite()));
/// ```
#[derive(Clone, Debug, PartialEq, bytemuck::Zeroable)]
#[zeroable(bound = "T: Real")]
// On x86-64 the weights start on a cache line, where the kernels load them 32 or 64 bytes at a
// time: a load that straddles two lines costs two, and a layer left wherever its owner's frame
// put it ran at a speed that changed from build to build (see ARCHITECTURE.md).
#[cfg_attr(target_arch = "x86_64", repr(C, align(64)))]
pub struct Lstm<T, const I: usize, const H: usize> {
    /// `weight_ih_l0`, column `k` per entry; each entry's columns are the gates i, f, g, o.
    pub weight_ih: [SMatrix<T, H, 4>; I],
    /// `weight_hh_l0`, column `k` per entry; each entry's columns are the gates i, f, g, o.
    pub weight_hh: [SMatrix<T, H, 4>; H],
    /// `bias_ih_l0`; columns i, f, g, o.
    pub bias_ih: SMatrix<T, H, 4>,
    /// `bias_hh_l0`; columns i, f, g, o.
    pub bias_hh: SMatrix<T, H, 4>,
    /// Truncated backpropagation through time: chunk length in steps, `0` for none (the
    /// default). Not a tensor: not trained, not saved with the weights.
    pub bptt_window: usize,
}

/// What the training forward pass of an [`Lstm`] records for one time step.
#[derive(Clone, Copy, Debug, PartialEq, bytemuck::Zeroable)]
#[zeroable(bound = "T: Real")]
pub struct LstmStep<T, const H: usize, const B: usize> {
    /// The input gate.
    pub i: SMatrix<T, H, B>,
    /// The forget gate.
    pub f: SMatrix<T, H, B>,
    /// The cell candidate.
    pub g: SMatrix<T, H, B>,
    /// The output gate.
    pub o: SMatrix<T, H, B>,
    /// The new cell state `c_t`.
    pub c: SMatrix<T, H, B>,
    /// `tanh c_t`.
    pub tanh_c: SMatrix<T, H, B>,
}

impl<T: Real, const I: usize, const H: usize> Lstm<T, I, H> {
    /// A layer whose weights and biases are all zero, with full backpropagation through time.
    pub fn zeros() -> Self {
        bytemuck::Zeroable::zeroed()
    }

    /// One step for all samples: `(h, c)` becomes `(h_t, c_t)`; `record(b, j, [i, f, g, o, c,
    /// tanh c])` sees the gates.
    #[inline(always)]
    fn advance<const B: usize>(
        &self,
        x: &SMatrix<T, I, B>,
        (h, c): &mut LstmState<T, H, B>,
        mut record: impl FnMut(usize, usize, [T; 6]),
    ) {
        for b in 0..B {
            let gi = project(&self.weight_ih, &self.bias_ih, column(x, b));
            let mut a = project(&self.weight_hh, &(gi + self.bias_hh), column(h, b));
            // One pass per function over whole gate vectors keeps many exponentials in flight.
            // The output gate comes after the new cell state and its tanh in program order:
            // only the last product waits for it, and its operations would otherwise compete
            // with that chain's for the vector units.
            let (a_if, a_go) = a.as_mut_slice().split_at_mut(2 * H);
            let (a_g, a_o) = a_go.split_at_mut(H);
            for v in a_if.iter_mut() {
                *v = v.sigmoid_branchless();
            }
            for v in a_g.iter_mut() {
                *v = v.tanh_branchless();
            }
            let (i, f) = a_if.split_at(H);
            let g = &*a_g;
            // The new state is computed in local arrays and written once: updated in place
            // through the state's slices, the gates were stored to memory and reloaded behind a
            // run-time check that the state and the gates do not overlap.
            let c_prev = column(c, b);
            let (mut c_new, mut tanh_c, mut h_new) = ([T::zero(); H], [T::zero(); H], [T::zero(); H]);
            for j in 0..H {
                c_new[j] = f[j] * c_prev[j] + i[j] * g[j];
                tanh_c[j] = c_new[j].tanh_branchless();
            }
            for v in a_o.iter_mut() {
                *v = v.sigmoid_branchless();
            }
            let o = &*a_o;
            for j in 0..H {
                h_new[j] = o[j] * tanh_c[j];
            }
            column_mut(c, b).copy_from_slice(&c_new);
            column_mut(h, b).copy_from_slice(&h_new);
            for j in 0..H {
                record(b, j, [i[j], f[j], g[j], o[j], c_new[j], tanh_c[j]]);
            }
        }
    }

    /// The output sequence and final cell state from `state0`, recording the gates if `cache`
    /// is given.
    fn run<const B: usize, const L: usize>(
        &self,
        x: &[SMatrix<T, I, B>; L],
        state0: &LstmState<T, H, B>,
        mut cache: Option<&mut [LstmStep<T, H, B>; L]>,
    ) -> ([SMatrix<T, H, B>; L], SMatrix<T, H, B>) {
        let mut state = *state0;
        let mut y = [SMatrix::zeros(); L];
        for t in 0..L {
            match cache.as_deref_mut() {
                Some(cache) => {
                    let step = &mut cache[t];
                    self.advance(&x[t], &mut state, |b, j, [i, f, g, o, c, tanh_c]| {
                        step.i[(j, b)] = i;
                        step.f[(j, b)] = f;
                        step.g[(j, b)] = g;
                        step.o[(j, b)] = o;
                        step.c[(j, b)] = c;
                        step.tanh_c[(j, b)] = tanh_c;
                    });
                }
                None => self.advance(&x[t], &mut state, |_, _, _| {}),
            }
            y[t] = state.0;
        }
        (y, state.1)
    }

    /// Backpropagation through time from the gradients `d_last` reaching the final state:
    /// adds the parameter gradient into `grad`, writes the input gradient into `dx` if given,
    /// and returns the gradient with respect to the initial state.
    #[allow(clippy::too_many_arguments)]
    fn backpropagate<const B: usize, const L: usize>(
        &self,
        x: &[SMatrix<T, I, B>; L],
        (h0, c0): &LstmState<T, H, B>,
        y: &[SMatrix<T, H, B>; L],
        cache: &[LstmStep<T, H, B>; L],
        dy: &[SMatrix<T, H, B>; L],
        d_last: &LstmState<T, H, B>,
        grad: &mut Self,
        mut dx: Option<&mut [SMatrix<T, I, B>; L]>,
    ) -> LstmState<T, H, B> {
        let one = T::one();
        let (mut carry_h, mut carry_c) = *d_last;
        for t in (0..L).rev() {
            let (h_prev, c_prev) = if t == 0 { (h0, c0) } else { (&y[t - 1], &cache[t - 1].c) };
            let step = &cache[t];
            let mut dh_prev = SMatrix::<T, H, B>::zeros();
            let mut dc_prev = SMatrix::<T, H, B>::zeros();
            for b in 0..B {
                let mut a = SMatrix::<T, H, 4>::zeros();
                for j in 0..H {
                    let (i, f, g, o) = (step.i[(j, b)], step.f[(j, b)], step.g[(j, b)], step.o[(j, b)]);
                    let tanh_c = step.tanh_c[(j, b)];
                    let dh = dy[t][(j, b)] + carry_h[(j, b)];
                    let dc = carry_c[(j, b)] + dh * o * (one - tanh_c * tanh_c);
                    a[(j, 0)] = dc * g * i * (one - i);
                    a[(j, 1)] = dc * c_prev[(j, b)] * f * (one - f);
                    a[(j, 2)] = dc * i * (one - g * g);
                    a[(j, 3)] = dh * tanh_c * o * (one - o);
                    dc_prev[(j, b)] = dc * f;
                }
                grad.bias_ih += a;
                grad.bias_hh += a;
                add_outer(&mut grad.weight_ih, &a, column(&x[t], b));
                add_outer(&mut grad.weight_hh, &a, column(h_prev, b));
                if let Some(dx) = dx.as_deref_mut() {
                    add_transposed(&self.weight_ih, &a, column_mut(&mut dx[t], b));
                }
                add_transposed(&self.weight_hh, &a, column_mut(&mut dh_prev, b));
            }
            let truncated = self.bptt_window > 0 && t > 0 && t % self.bptt_window == 0;
            (carry_h, carry_c) = if truncated {
                (SMatrix::zeros(), SMatrix::zeros())
            } else {
                (dh_prev, dc_prev)
            };
        }
        (carry_h, carry_c)
    }
}

gated_layer!(Lstm, 4);

/// The whole output sequence from a zero state.
impl<T: Real, const I: usize, const H: usize, const B: usize, const L: usize> Layer<T, [SMatrix<T, I, B>; L]>
    for Lstm<T, I, H>
{
    type Output = [SMatrix<T, H, B>; L];
    type Cache = [LstmStep<T, H, B>; L];

    fn forward(&self, x: &[SMatrix<T, I, B>; L]) -> Self::Output {
        self.run(x, &bytemuck::Zeroable::zeroed(), None).0
    }

    fn forward_train(&self, x: &[SMatrix<T, I, B>; L], cache: &mut Self::Cache) -> Self::Output {
        self.run(x, &bytemuck::Zeroable::zeroed(), Some(cache)).0
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
        let zero = bytemuck::Zeroable::zeroed();
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
        let zero = bytemuck::Zeroable::zeroed();
        self.backpropagate(x, &zero, y, cache, dy, &zero, grad, None);
    }
}

/// A sequence and an initial state `(h_0, c_0)` → the output sequence and `(h_L, c_L)`.
impl<T: Real, const I: usize, const H: usize, const B: usize, const L: usize>
    Layer<T, ([SMatrix<T, I, B>; L], LstmState<T, H, B>)> for Lstm<T, I, H>
{
    type Output = ([SMatrix<T, H, B>; L], LstmState<T, H, B>);
    type Cache = [LstmStep<T, H, B>; L];

    fn forward(&self, (x, state0): &([SMatrix<T, I, B>; L], LstmState<T, H, B>)) -> Self::Output {
        let (y, c_last) = self.run(x, state0, None);
        let h_last = y.last().copied().unwrap_or(state0.0);
        (y, (h_last, c_last))
    }

    fn forward_train(
        &self,
        (x, state0): &([SMatrix<T, I, B>; L], LstmState<T, H, B>),
        cache: &mut Self::Cache,
    ) -> Self::Output {
        let (y, c_last) = self.run(x, state0, Some(cache));
        let h_last = y.last().copied().unwrap_or(state0.0);
        (y, (h_last, c_last))
    }

    fn backward(
        &self,
        (x, state0): &([SMatrix<T, I, B>; L], LstmState<T, H, B>),
        (y, _): &Self::Output,
        cache: &Self::Cache,
        (dy, d_last): &Self::Output,
        grad: &mut Self,
    ) -> ([SMatrix<T, I, B>; L], LstmState<T, H, B>) {
        let mut dx = [SMatrix::zeros(); L];
        let d_state0 = self.backpropagate(x, state0, y, cache, dy, d_last, grad, Some(&mut dx));
        (dx, d_state0)
    }
}

impl<T: Real, const I: usize, const H: usize, const B: usize> Stream<T, SMatrix<T, I, B>> for Lstm<T, I, H> {
    type Output = SMatrix<T, H, B>;
    type State = LstmState<T, H, B>;

    #[inline(always)]
    fn step(&self, x: &SMatrix<T, I, B>, state: &mut LstmState<T, H, B>) -> SMatrix<T, H, B> {
        self.advance(x, state, |_, _, _| {});
        state.0
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

    fn lstm(seed: u64) -> Lstm<f64, 3, 4> {
        let mut lstm = Lstm::build(Init::XavierUniform, &mut Rng::new(seed));
        lstm.bias_ih = SMatrix::from_fn(|j, g| (j as f64 - 1.5) * 0.3 + g as f64 * 0.2);
        lstm.bias_hh = SMatrix::from_fn(|j, g| (g as f64 - 1.5) * 0.25 - j as f64 * 0.1);
        lstm
    }

    #[test]
    fn gradient_check_for_lengths_one_and_several() {
        let layer = lstm(1);
        let report = GradCheck::default().strict().layer(&layer, &sequence::<3, 2, 1>(0.1));
        assert!(report.passed(), "{report}");
        let report = GradCheck::default().strict().layer(&layer, &sequence::<3, 2, 6>(0.2));
        assert!(report.passed(), "{report}");
    }

    #[test]
    fn gradient_check_with_an_initial_state_reaches_h0_and_c0() {
        let layer = lstm(2);
        let state0 = (
            SMatrix::<f64, 4, 2>::from_fn(|j, b| 0.4 - 0.2 * (j + b) as f64),
            SMatrix::<f64, 4, 2>::from_fn(|j, b| 0.3 * j as f64 - 0.5 * b as f64),
        );
        let report = GradCheck::default()
            .strict()
            .layer(&layer, &(sequence::<3, 2, 5>(0.3), state0));
        assert!(report.passed(), "{report}");
        assert_eq!(report.tensors.len(), 4 + 5 + 2);
        assert!(
            report.tensors[report.tensors.len() - 2..]
                .iter()
                .all(|t| t.compared == 8),
            "{report}"
        );
    }

    #[test]
    fn batch_equals_single_samples_and_backward_accumulates() {
        let layer = lstm(3);
        let x = sequence::<3, 3, 4>(0.4);
        let dy = sequence::<4, 3, 4>(0.9);
        let mut cache = Zeroable::zeroed();
        let y = layer.forward_train(&x, &mut cache);
        let mut grad = Lstm::zeros();
        let dx = layer.backward(&x, &y, &cache, &dy, &mut grad);
        let mut single_grad = Lstm::zeros();
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
    }

    #[test]
    fn truncated_backpropagation_is_chunks_with_detached_states() {
        let mut layer = lstm(4);
        layer.bptt_window = 2;
        let x = sequence::<3, 2, 4>(0.5);
        let dy = sequence::<4, 2, 4>(1.1);
        let mut cache = Zeroable::zeroed();
        let y = layer.forward_train(&x, &mut cache);
        let mut truncated = Lstm::zeros();
        let dx = layer.backward(&x, &y, &cache, &dy, &mut truncated);

        let mut chunked = Lstm::zeros();
        let mut state = LstmState::<f64, 4, 2>::zeroed();
        let mut pieces = Vec::new();
        for start in [0, 2] {
            let input = ([x[start], x[start + 1]], state);
            let mut chunk_cache = Zeroable::zeroed();
            let out = layer.forward_train(&input, &mut chunk_cache);
            let d_out = ([dy[start], dy[start + 1]], Zeroable::zeroed());
            let (dx_chunk, _) = layer.backward(&input, &out, &chunk_cache, &d_out, &mut chunked);
            pieces.extend(dx_chunk);
            state = out.1;
        }
        for (a, b) in truncated.tensors().zip(chunked.tensors()) {
            assert!(a.iter().zip(b).all(|(a, b)| (a - b).abs() < 1e-14));
        }
        for (a, b) in dx.iter().zip(&pieces) {
            assert!((a - b).abs().max() < 1e-15);
        }
    }

    #[test]
    fn streaming_equals_the_whole_sequence_bit_for_bit() {
        let layer = lstm(5);
        let x = sequence::<3, 2, 9>(0.6);
        let y = layer.forward(&x);
        let mut state = Lstm::<f64, 3, 4>::stream_state();
        for t in 0..9 {
            assert_eq!(layer.step(&x[t], &mut state), y[t]);
        }
        let (y_state, (h_last, c_last)) = layer.forward(&(x, Zeroable::zeroed()));
        assert_eq!((y_state, h_last, c_last), (y, state.0, state.1));
    }

    #[test]
    fn tensors_have_pytorch_names_and_shapes() {
        let infos: Vec<_> = Lstm::<f32, 3, 4>::tensor_infos()
            .map(|t| (t.name, t.rows, t.cols))
            .collect();
        assert_eq!(
            infos,
            [
                ("weight_ih_l0", 16, 3),
                ("weight_hh_l0", 16, 4),
                ("bias_ih_l0", 16, 1),
                ("bias_hh_l0", 16, 1)
            ]
        );
    }
}
