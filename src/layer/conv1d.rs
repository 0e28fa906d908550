//! One-dimensional convolution over a sequence.

use core::marker::PhantomData;

use nalgebra::{SMatrix, SVector};

use super::fields::parameter_fields;
use crate::ConstExpr;
use crate::layer::padding::{Causal, Padding, PaddingMode, Valid};
use crate::layer::stride::{Stride, Subsampling};
use crate::{Layer, Real, Stream, TensorInfo};

/// A 1-D convolution (PyTorch's `nn.Conv1d`, which computes a cross-correlation) from `CI` to
/// `CO` channels with kernel size `K`, stride `S`, zero padding `P` and dilation `D`, on
/// sequences of length `LI`, giving sequences of length `LO`.
///
/// **Layout.** A sequence is time-major, `[SMatrix<T, C, B>; L]`: entry `t` holds the `C`
/// channels of every sample at step `t` (columns are samples, as everywhere in this crate).
/// Per sample that is PyTorch's "channels × length". Each tap is then a plain
/// `(CO × CI)·(CI × B)` product, a convolution's output feeds a [`Gru`](crate::Gru) directly,
/// and [`Flatten`](crate::Flatten) turns it into PyTorch's `nn.Flatten` order.
///
/// **Forward.** With `before` zeros of padding in front (see [`Padding`]):
/// `y_t[o] = b[o] + Σ_i Σ_k W[o, i, k] · x_{t·S + k·D − before}[i]`, where steps outside
/// `0..LI` are zeros.
///
/// **Backward.** `∂L/∂W[o, i, k] += Σ_t dy_t[o] · x_{t·S + k·D − before}[i]`,
/// `∂L/∂b += Σ_t dy_t`, `∂L/∂x_p[i] += Σ_{t, k: t·S + k·D − before = p} Σ_o W[o, i, k] dy_t[o]`.
/// The cache is empty: backward reads the input.
///
/// **Weights.** `weight[i]` is the `CO × K` kernel seen by input channel `i`, so
/// `weight[i][(o, k)]` is PyTorch's `weight[o, i, k]`. As a tensor ([`Tensors`](crate::Tensors)) the weight is
/// `CO × (CI·K)`, column `i·K + k`: exactly PyTorch's `weight.reshape(CO, CI * K)`, and its
/// [`TensorInfo::torch_dims`] are PyTorch's `[CO, CI, K]`, so safetensors files move between the
/// two unchanged. Names `weight` and `bias`; [`Init::PyTorch`](crate::Init::PyTorch) draws both from
/// `U(−1/√(CI·K), 1/√(CI·K))`, as PyTorch does.
///
/// **Lengths.** `LO` must be PyTorch's `L_out = (LI + before + after − D·(K − 1) − 1) / S + 1`
/// (rounded down). Stable Rust cannot compute that in a type, so `LO` is written out and
/// checked by a compile-time assertion. That assertion is evaluated when the layer's code is
/// generated: a wrong length fails `cargo build`, `cargo test` and `cargo run` with the message
/// below, but `cargo check` (and so an editor's inline diagnostics) does not see it. The same
/// applies to [`Same`](crate::Same) with a stride above 1, which PyTorch also
/// rejects. Feeding a sequence of another length than `LI`, or another channel count than
/// `CI`, is an ordinary type error that `cargo check` reports.
///
/// ```text
/// error[E0080]: evaluation panicked: Conv1d: LO must be (LI + padding − dilation·(K − 1) − 1) / stride + 1
/// ```
///
/// **Streaming.** A [`Causal`] convolution with stride 1 implements [`Stream`] frame for frame:
/// its state is a ring buffer of the last `K·D` input frames ([`ConvHistory`]). Every other
/// convolution (padding [`Valid`], [`Zeros`](crate::Zeros) or [`Same`](crate::Same) with any
/// stride, [`Causal`] with a stride from 2 to 64, see [`Subsampling`]) streams on `Option`
/// frames ([`ConvWindow`]): `None` until the window `dilation·(K − 1) + 1` is full (counting
/// the zeros before the input), then an output every `S` frames, each equal to the
/// whole-sequence [`Layer::forward`]'s; the layers after it go in a
/// [`Downstream`](crate::Downstream). A causal convolution's first output comes with the first
/// frame. Outputs whose window reaches into the padding after the end need the end of the
/// sequence, which a stream does not have: they are not produced (a causal convolution has no
/// such outputs).
///
/// ```
/// use static_nn::{Conv1d, Init, Layer, Parameters, Rng, Stream};
/// use static_nn::nalgebra::SMatrix;
///
/// // Kernel 3, stride 2, no padding: length 9 -> 4 outputs, at input frames 3, 5, 7 and 9.
/// let conv = Conv1d::<f64, 1, 2, 3, 9, 4, 2>::build(Init::PyTorch, &mut Rng::new(0));
/// let x: [SMatrix<f64, 1, 1>; 9] = core::array::from_fn(|t| SMatrix::from_element(t as f64));
/// let whole = conv.forward(&x);
/// let mut state = Conv1d::<f64, 1, 2, 3, 9, 4, 2>::stream_state();
/// let streamed: Vec<_> = x.iter().filter_map(|frame| conv.step(&Some(*frame), &mut state)).collect();
/// assert_eq!(streamed, whole);
/// ```
///
/// ```
/// use static_nn::{Conv1d, Init, Layer, Parameters, Rng};
/// use static_nn::nalgebra::SMatrix;
///
/// // 2 channels in, 4 out, kernel 3, stride 2, no padding: length 9 -> (9 - 2 - 1) / 2 + 1 = 4.
/// let conv = Conv1d::<f32, 2, 4, 3, 9, 4, 2>::build(Init::PyTorch, &mut Rng::new(0));
/// let x = [SMatrix::<f32, 2, 1>::new(1.0, -1.0); 9];
/// let y: [SMatrix<f32, 4, 1>; 4] = conv.forward(&x);
/// assert_eq!(y[0], y[3]); // a constant input gives a constant output away from the edges
/// ```
#[derive(Clone, Debug, PartialEq, bytemuck::Zeroable)]
#[zeroable(bound = "T: Real")]
pub struct Conv1d<
    T,
    const CI: usize,
    const CO: usize,
    const K: usize,
    const LI: usize,
    const LO: usize,
    const S: usize = 1,
    P = Valid,
    const D: usize = 1,
> {
    /// `weight[i]`: the `CO × K` kernel applied to input channel `i`.
    pub weight: [SMatrix<T, CO, K>; CI],
    /// The bias, one per output channel.
    pub bias: SVector<T, CO>,
    padding: PhantomData<P>,
}

/// The last `K·D` input frames of a streaming causal [`Conv1d`] (`K·D` is at least its reach
/// `D·(K − 1)` plus the current frame), and where the next one goes. Zero is the state before
/// the first frame, which is exactly the causal zero padding.
#[derive(Clone, Debug, PartialEq, bytemuck::Zeroable)]
#[zeroable(bound = "T: Real")]
pub struct ConvHistory<T, const CI: usize, const B: usize, const K: usize, const D: usize> {
    frames: [[SMatrix<T, CI, B>; K]; D],
    next: usize,
}

/// The state of a streaming [`Conv1d`] on `Option` frames: the last `K·D` input frames, how
/// many have arrived (counted up to the window's length), and where the stride stands. Zero is
/// the state before the first frame; the zero frames in the history are the padding before the
/// input.
#[derive(Clone, Debug, PartialEq, bytemuck::Zeroable)]
#[zeroable(bound = "T: Real")]
pub struct ConvWindow<T, const CI: usize, const B: usize, const K: usize, const D: usize> {
    history: ConvHistory<T, CI, B, K, D>,
    received: usize,
    phase: usize,
}

impl<
    T,
    const CI: usize,
    const CO: usize,
    const K: usize,
    const LI: usize,
    const LO: usize,
    const S: usize,
    P,
    const D: usize,
> Conv1d<T, CI, CO, K, LI, LO, S, P, D>
where
    T: Real,
    P: Padding,
{
    /// The shape rules; evaluated wherever the layer computes.
    const CHECK: () = {
        assert!(
            K > 0 && S > 0 && D > 0,
            "Conv1d: kernel size, stride and dilation must be positive"
        );
        assert!(
            !matches!(P::MODE, PaddingMode::Same) || S == 1,
            "Conv1d: padding `Same` needs stride 1 (as in PyTorch)"
        );
        let (before, after) = P::MODE.amounts(D * (K - 1));
        assert!(
            LI + before + after > D * (K - 1),
            "Conv1d: the padded input is shorter than the kernel's reach dilation·(K − 1) + 1"
        );
        assert!(
            LO == (LI + before + after - D * (K - 1) - 1) / S + 1,
            "Conv1d: LO must be (LI + padding − dilation·(K − 1) − 1) / stride + 1"
        );
    };

    /// Zeros in front of the input.
    const BEFORE: usize = P::MODE.amounts(D * (K - 1)).0;

    /// A layer with the given kernels (`weight[i][(o, k)]` is PyTorch's `weight[o, i, k]`) and
    /// bias.
    pub const fn new(weight: [SMatrix<T, CO, K>; CI], bias: SVector<T, CO>) -> Self {
        Self {
            weight,
            bias,
            padding: PhantomData,
        }
    }

    /// A layer whose weights and bias are all zero.
    pub fn zeros() -> Self {
        Self::new([SMatrix::zeros(); CI], SVector::zeros())
    }

    /// The input step that tap `k` of output step `t` reads, or `None` where it reads padding.
    #[inline]
    fn source(t: usize, k: usize) -> Option<usize> {
        (t * S + k * D).checked_sub(Self::BEFORE).filter(|&p| p < LI)
    }

    fn accumulate<const B: usize>(
        &self,
        x: &[SMatrix<T, CI, B>; LI],
        dy: &[SMatrix<T, CO, B>; LO],
        grad: &mut Self,
        mut dx: Option<&mut [SMatrix<T, CI, B>; LI]>,
    ) {
        let () = Self::CHECK;
        for (t, dy_t) in dy.iter().enumerate() {
            for column in dy_t.column_iter() {
                grad.bias += column;
            }
            for k in 0..K {
                let Some(p) = Self::source(t, k) else { continue };
                for i in 0..CI {
                    let kernel = self.weight[i].column(k);
                    let mut kernel_grad = grad.weight[i].column_mut(k);
                    for (b, dy_tb) in dy_t.column_iter().enumerate() {
                        kernel_grad.axpy(x[p][(i, b)], &dy_tb, T::one());
                        if let Some(dx) = dx.as_deref_mut() {
                            dx[p][(i, b)] += kernel.dot(&dy_tb);
                        }
                    }
                }
            }
        }
    }
}

// `reset` draws the weight in tensor order, then the bias, with fan-in `CI·K` and fan-out `CO·K`.
parameter_fields! {
    [
        T: Real,
        const CI: usize,
        const CO: usize,
        const K: usize,
        const LI: usize,
        const LO: usize,
        const S: usize,
        P: Padding,
        const D: usize,
    ] Conv1d<T, CI, CO, K, LI, LO, S, P, D>;
    reset(init);
    tensors {
        weight: TensorInfo::kernel("weight", CO, CI, K) => weight(CI * K, CO * K),
        bias: TensorInfo::vector("bias", CO) => bias(CI * K),
    }
    {
        type Gradient = Self;
    }
}

impl<
    T,
    const CI: usize,
    const CO: usize,
    const K: usize,
    const LI: usize,
    const LO: usize,
    const S: usize,
    P,
    const D: usize,
    const B: usize,
> Layer<T, [SMatrix<T, CI, B>; LI]> for Conv1d<T, CI, CO, K, LI, LO, S, P, D>
where
    T: Real,
    P: Padding,
{
    type Output = [SMatrix<T, CO, B>; LO];
    type Cache = ();

    fn forward(&self, x: &[SMatrix<T, CI, B>; LI]) -> Self::Output {
        let () = Self::CHECK;
        let mut y = [SMatrix::<T, CO, B>::zeros(); LO];
        for (t, y_t) in y.iter_mut().enumerate() {
            for mut column in y_t.column_iter_mut() {
                column.copy_from(&self.bias);
            }
            for k in 0..K {
                let Some(p) = Self::source(t, k) else { continue };
                for i in 0..CI {
                    let kernel = self.weight[i].column(k);
                    for (b, mut y_tb) in y_t.column_iter_mut().enumerate() {
                        y_tb.axpy(x[p][(i, b)], &kernel, T::one());
                    }
                }
            }
        }
        y
    }

    fn forward_train(&self, x: &[SMatrix<T, CI, B>; LI], _cache: &mut ()) -> Self::Output {
        self.forward(x)
    }

    fn backward(
        &self,
        x: &[SMatrix<T, CI, B>; LI],
        _y: &Self::Output,
        _cache: &(),
        dy: &Self::Output,
        grad: &mut Self,
    ) -> [SMatrix<T, CI, B>; LI] {
        let mut dx = [SMatrix::zeros(); LI];
        self.accumulate(x, dy, grad, Some(&mut dx));
        dx
    }

    fn backward_parameters(
        &self,
        x: &[SMatrix<T, CI, B>; LI],
        _y: &Self::Output,
        _cache: &(),
        dy: &Self::Output,
        grad: &mut Self,
    ) {
        self.accumulate(x, dy, grad, None);
    }
}

/// `Conv1d::new(weight, bias)` (sizes and padding come from the declared type), for
/// [`format::rust_source`](crate::format::rust_source).
impl<
    T,
    const CI: usize,
    const CO: usize,
    const K: usize,
    const LI: usize,
    const LO: usize,
    const S: usize,
    P,
    const D: usize,
> ConstExpr for Conv1d<T, CI, CO, K, LI, LO, S, P, D>
where
    T: Real,
    P: Padding,
{
    fn fmt_const(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.write_str("::static_nn::Conv1d::new(")?;
        self.weight.fmt_const(f)?;
        f.write_str(", ")?;
        self.bias.fmt_const(f)?;
        f.write_str(")")
    }
}

impl<
    T,
    const CI: usize,
    const CO: usize,
    const K: usize,
    const LI: usize,
    const LO: usize,
    const S: usize,
    P,
    const D: usize,
> Conv1d<T, CI, CO, K, LI, LO, S, P, D>
where
    T: Real,
    P: Padding,
{
    /// Pushes `x` into the history and returns the output whose window ends at it.
    fn push_and_convolve<const B: usize>(
        &self,
        x: &SMatrix<T, CI, B>,
        state: &mut ConvHistory<T, CI, B, K, D>,
    ) -> SMatrix<T, CO, B> {
        let ring = state.frames.as_flattened_mut();
        let len = ring.len();
        ring[state.next] = *x;
        let mut y = SMatrix::<T, CO, B>::zeros();
        for mut column in y.column_iter_mut() {
            column.copy_from(&self.bias);
        }
        // Taps in the order of the whole-sequence forward, so both round identically.
        for k in 0..K {
            let frame = &ring[(state.next + len - (K - 1 - k) * D) % len];
            for i in 0..CI {
                let kernel = self.weight[i].column(k);
                for (b, mut y_b) in y.column_iter_mut().enumerate() {
                    y_b.axpy(frame[(i, b)], &kernel, T::one());
                }
            }
        }
        state.next = (state.next + 1) % len;
        y
    }

    /// One frame into a window stream: the output whose window ends at it, when that window is
    /// one of the forward pass's (full, and on the stride).
    fn step_window<const B: usize>(
        &self,
        x: &SMatrix<T, CI, B>,
        state: &mut ConvWindow<T, CI, B, K, D>,
    ) -> Option<SMatrix<T, CO, B>> {
        let () = Self::CHECK;
        let reach = D * (K - 1);
        // While few frames have arrived, the padded index of this one says where the stride
        // stands (output t's window ends at index t·S + reach); after that, the phase does.
        let phase = if state.received <= reach {
            (Self::BEFORE + state.received).checked_sub(reach)
        } else {
            Some(state.phase)
        };
        state.received = (state.received + 1).min(reach + 1);
        match phase {
            Some(phase) if phase % S == 0 => {
                state.phase = (phase + 1) % S;
                Some(self.push_and_convolve(x, &mut state.history))
            }
            Some(phase) => {
                state.phase = (phase + 1) % S;
                self.push_history(x, &mut state.history);
                None
            }
            None => {
                self.push_history(x, &mut state.history);
                None
            }
        }
    }

    /// Pushes `x` into the history without computing an output.
    fn push_history<const B: usize>(&self, x: &SMatrix<T, CI, B>, state: &mut ConvHistory<T, CI, B, K, D>) {
        let ring = state.frames.as_flattened_mut();
        let len = ring.len();
        ring[state.next] = *x;
        state.next = (state.next + 1) % len;
    }
}

/// A causal convolution with stride 1 streams: output `t` needs inputs up to `t` only.
impl<
    T,
    const CI: usize,
    const CO: usize,
    const K: usize,
    const LI: usize,
    const LO: usize,
    const D: usize,
    const B: usize,
> Stream<T, SMatrix<T, CI, B>> for Conv1d<T, CI, CO, K, LI, LO, 1, Causal, D>
where
    T: Real,
{
    type Output = SMatrix<T, CO, B>;
    type State = ConvHistory<T, CI, B, K, D>;

    fn step(&self, x: &SMatrix<T, CI, B>, state: &mut Self::State) -> SMatrix<T, CO, B> {
        let () = Self::CHECK;
        self.push_and_convolve(x, state)
    }
}

/// Implements `Stream` on `Option` frames for every padding, with any stride (a causal one with
/// a stride above 1: with stride 1 it streams plain frames).
macro_rules! stream_window {
    ($($padding:ty $(, const $n:ident)? $(; where $bound:ty)?);+) => {$(
        impl<
            T,
            const CI: usize,
            const CO: usize,
            const K: usize,
            const LI: usize,
            const LO: usize,
            const S: usize,
            const D: usize,
            const B: usize,
            $(const $n: usize,)?
        > Stream<T, Option<SMatrix<T, CI, B>>> for Conv1d<T, CI, CO, K, LI, LO, S, $padding, D>
        where
            T: Real,
            $($bound: Subsampling,)?
        {
            type Output = Option<SMatrix<T, CO, B>>;
            type State = ConvWindow<T, CI, B, K, D>;

            fn step(&self, x: &Option<SMatrix<T, CI, B>>, state: &mut Self::State) -> Option<SMatrix<T, CO, B>> {
                x.as_ref().and_then(|x| self.step_window(x, state))
            }
        }
    )+};
}

stream_window!(
    Valid;
    crate::layer::padding::Same;
    crate::layer::padding::Zeros<N>, const N;
    Causal; where Stride<S>
);

#[cfg(test)]
mod tests {
    use super::*;
    use crate::GradCheck;
    use crate::layer::padding::{Same, Zeros};
    use crate::{Init, Parameters, Rng, Tensors};
    use bytemuck::Zeroable;

    fn sequence<const C: usize, const B: usize, const L: usize>(seed: f64) -> [SMatrix<f64, C, B>; L] {
        core::array::from_fn(|t| SMatrix::from_fn(|c, b| ((t * 7 + c * 3 + b * 5) as f64 * 0.61 + seed).sin()))
    }

    fn assert_close<const C: usize, const B: usize, const L: usize>(
        a: &[SMatrix<f64, C, B>; L],
        b: &[SMatrix<f64, C, B>; L],
    ) {
        for (a, b) in a.iter().zip(b) {
            assert!((a - b).abs().max() < 1e-15, "{a} vs {b}");
        }
    }

    /// The forward written out from PyTorch's definition, one output entry at a time.
    fn reference<const CI: usize, const CO: usize, const K: usize, const LI: usize, const LO: usize, const B: usize>(
        weight: &[SMatrix<f64, CO, K>; CI],
        bias: &SVector<f64, CO>,
        x: &[SMatrix<f64, CI, B>; LI],
        stride: usize,
        before: usize,
        dilation: usize,
    ) -> [SMatrix<f64, CO, B>; LO] {
        core::array::from_fn(|t| {
            SMatrix::from_fn(|o, b| {
                let mut sum = bias[o];
                for i in 0..CI {
                    for k in 0..K {
                        let p = (t * stride + k * dilation) as isize - before as isize;
                        if (0..LI as isize).contains(&p) {
                            sum += weight[i][(o, k)] * x[p as usize][(i, b)];
                        }
                    }
                }
                sum
            })
        })
    }

    #[test]
    fn forward_matches_the_definition_for_every_padding_stride_and_dilation() {
        let mut rng = Rng::new(9);
        let x = sequence::<2, 3, 10>(0.2);
        let a = Conv1d::<f64, 2, 3, 3, 10, 8>::build(Init::PyTorch, &mut rng);
        assert_close(
            &a.forward(&x),
            &reference::<2, 3, 3, 10, 8, 3>(&a.weight, &a.bias, &x, 1, 0, 1),
        );
        let b = Conv1d::<f64, 2, 3, 3, 10, 3, 3, Zeros<1>, 2>::build(Init::PyTorch, &mut rng);
        assert_close(
            &b.forward(&x),
            &reference::<2, 3, 3, 10, 3, 3>(&b.weight, &b.bias, &x, 3, 1, 2),
        );
        let c = Conv1d::<f64, 2, 3, 4, 10, 10, 1, Same, 1>::build(Init::PyTorch, &mut rng);
        assert_close(
            &c.forward(&x),
            &reference::<2, 3, 4, 10, 10, 3>(&c.weight, &c.bias, &x, 1, 1, 1),
        );
        let d = Conv1d::<f64, 2, 3, 3, 10, 10, 1, Causal, 2>::build(Init::PyTorch, &mut rng);
        assert_close(
            &d.forward(&x),
            &reference::<2, 3, 3, 10, 10, 3>(&d.weight, &d.bias, &x, 1, 4, 2),
        );
    }

    #[test]
    fn gradient_check_with_strides_dilation_and_padding() {
        let mut rng = Rng::new(10);
        let x = sequence::<2, 2, 9>(0.4);
        let strided = Conv1d::<f64, 2, 3, 3, 9, 4, 2>::build(Init::PyTorch, &mut rng);
        let report = GradCheck::default().strict().layer(&strided, &x);
        assert!(report.passed(), "{report}");
        let padded = Conv1d::<f64, 2, 3, 2, 9, 4, 3, Zeros<2>, 2>::build(Init::PyTorch, &mut rng);
        let report = GradCheck::default().strict().layer(&padded, &x);
        assert!(report.passed(), "{report}");
        let same = Conv1d::<f64, 2, 2, 4, 9, 9, 1, Same>::build(Init::PyTorch, &mut rng);
        let report = GradCheck::default().strict().layer(&same, &x);
        assert!(report.passed(), "{report}");
        let one_step = Conv1d::<f64, 2, 3, 1, 1, 1>::build(Init::PyTorch, &mut rng);
        let report = GradCheck::default()
            .strict()
            .layer(&one_step, &sequence::<2, 2, 1>(0.3));
        assert!(report.passed(), "{report}");
    }

    #[test]
    fn batch_equals_single_samples_and_backward_accumulates() {
        let conv = Conv1d::<f64, 2, 3, 3, 8, 6>::build(Init::PyTorch, &mut Rng::new(11));
        let x = sequence::<2, 3, 8>(0.1);
        let y = conv.forward(&x);
        let dy = sequence::<3, 3, 6>(0.7);
        let mut grad = Conv1d::zeros();
        let dx = conv.backward(&x, &y, &(), &dy, &mut grad);
        let mut single_grad = Conv1d::zeros();
        for b in 0..3 {
            let xb: [SMatrix<f64, 2, 1>; 8] = core::array::from_fn(|t| x[t].column(b).into());
            let dyb: [SMatrix<f64, 3, 1>; 6] = core::array::from_fn(|t| dy[t].column(b).into());
            let yb = conv.forward(&xb);
            let dxb = conv.backward(&xb, &yb, &(), &dyb, &mut single_grad);
            for t in 0..8 {
                assert!((dxb[t] - dx[t].column(b)).abs().max() < 1e-15);
            }
            for t in 0..6 {
                assert_eq!(yb[t], y[t].column(b));
            }
        }
        for i in 0..2 {
            assert!((grad.weight[i] - single_grad.weight[i]).abs().max() < 1e-14);
        }
        let mut twice = grad.clone();
        conv.backward_parameters(&x, &y, &(), &dy, &mut twice);
        assert!((twice.bias - grad.bias * 2.0).abs().max() < 1e-14);
        assert!((twice.weight[1] - grad.weight[1] * 2.0).abs().max() < 1e-14);
    }

    #[test]
    fn weight_tensor_is_pytorch_reshape_order() {
        let mut conv = Conv1d::<f64, 2, 3, 4, 8, 5>::zeros();
        conv.weight[1][(2, 3)] = 7.0; // PyTorch weight[2, 1, 3]
        let flat = conv.tensors().next().unwrap();
        // Column-major CO × (CI·K): column i·K + k = 1·4 + 3 = 7, row 2.
        assert_eq!(flat[7 * 3 + 2], 7.0);
        let info = <Conv1d<f64, 2, 3, 4, 8, 5>>::tensor_infos().next().unwrap();
        assert_eq!((info.name, info.rows, info.cols), ("weight", 3, 8));
    }

    #[test]
    fn streaming_a_causal_convolution_equals_the_whole_sequence() {
        let conv = Conv1d::<f64, 2, 3, 3, 12, 12, 1, Causal, 2>::build(Init::PyTorch, &mut Rng::new(12));
        let x = sequence::<2, 2, 12>(0.5);
        let y = conv.forward(&x);
        let mut state = ConvHistory::zeroed();
        for t in 0..12 {
            assert_eq!(conv.step(&x[t], &mut state), y[t], "step {t}");
        }
    }

    /// Streams `x` frame by frame and returns the outputs that came out.
    fn streamed<C, const CI: usize, const CO: usize, const L: usize>(
        conv: &C,
        x: &[SMatrix<f64, CI, 2>; L],
    ) -> Vec<SMatrix<f64, CO, 2>>
    where
        C: Stream<f64, Option<SMatrix<f64, CI, 2>>, Output = Option<SMatrix<f64, CO, 2>>>,
    {
        let mut state = C::stream_state();
        x.iter()
            .filter_map(|frame| conv.step(&Some(*frame), &mut state))
            .collect()
    }

    #[test]
    fn streaming_valid_strided_and_padded_convolutions_equals_the_whole_sequence() {
        let mut rng = Rng::new(13);
        let x = sequence::<2, 2, 13>(0.3);

        // Every output comes out, at the frame where its window ends.
        let valid = Conv1d::<f64, 2, 3, 3, 13, 5, 2, Valid, 2>::build(Init::PyTorch, &mut rng);
        assert_eq!(streamed(&valid, &x), valid.forward(&x));
        let wide_stride = Conv1d::<f64, 2, 3, 2, 13, 3, 5>::build(Init::PyTorch, &mut rng);
        assert_eq!(streamed(&wide_stride, &x), wide_stride.forward(&x));
        let plain = Conv1d::<f64, 2, 3, 4, 13, 10>::build(Init::PyTorch, &mut rng);
        assert_eq!(streamed(&plain, &x), plain.forward(&x));

        // With padding after the end, all but the outputs that need it.
        let zeros = Conv1d::<f64, 2, 3, 3, 13, 8, 2, Zeros<2>>::build(Init::PyTorch, &mut rng);
        let whole = zeros.forward(&x);
        let stream = streamed(&zeros, &x);
        assert_eq!(stream.len(), 7);
        assert_eq!(stream, whole[..7]);
        // More zeros in front than the kernel reaches: outputs of padding alone come first.
        let deep = Conv1d::<f64, 2, 3, 2, 13, 9, 2, Zeros<3>>::build(Init::PyTorch, &mut rng);
        let whole = deep.forward(&x);
        let stream = streamed(&deep, &x);
        assert_eq!(
            stream,
            whole[1..8],
            "output 0 sees padding only: it precedes every frame"
        );
        let same = Conv1d::<f64, 2, 3, 5, 13, 13, 1, Same>::build(Init::PyTorch, &mut rng);
        let stream = streamed(&same, &x);
        assert_eq!(stream, same.forward(&x)[..11]);
    }

    #[test]
    fn streaming_strided_causal_convolutions_equals_the_whole_sequence() {
        let mut rng = Rng::new(15);
        let x = sequence::<2, 2, 13>(0.7);

        // Output t's window ends at input frame t·S: the first comes with the first frame.
        let two = Conv1d::<f64, 2, 3, 3, 13, 7, 2, Causal>::build(Init::PyTorch, &mut rng);
        let mut state = <Conv1d<f64, 2, 3, 3, 13, 7, 2, Causal>>::stream_state();
        let first = two.step(&Some(x[0]), &mut state);
        assert_eq!(first, Some(two.forward(&x)[0]));
        assert_eq!(two.step(&Some(x[1]), &mut state), None);
        assert_eq!(streamed(&two, &x), two.forward(&x));

        let dilated = Conv1d::<f64, 2, 3, 4, 13, 5, 3, Causal, 2>::build(Init::PyTorch, &mut rng);
        assert_eq!(streamed(&dilated, &x), dilated.forward(&x));
        // A stride longer than the kernel's reach skips frames that no window sees.
        let sparse = Conv1d::<f64, 2, 3, 2, 13, 3, 5, Causal>::build(Init::PyTorch, &mut rng);
        assert_eq!(streamed(&sparse, &x), sparse.forward(&x));
    }

    #[test]
    fn a_strided_causal_convolution_streams_into_a_recurrent_network() {
        type Net = (
            Conv1d<f64, 2, 4, 3, 13, 5, 3, Causal, 2>,
            crate::Downstream<(
                crate::Tanh,
                crate::Gru<f64, 4, 5>,
                crate::LastStep,
                crate::Dense<f64, 5, 1>,
            )>,
        );
        let net = Net::build(Init::PyTorch, &mut Rng::new(16));
        let x = sequence::<2, 2, 13>(0.4);
        let mut state = Net::stream_state();
        let outputs: Vec<_> = x
            .iter()
            .filter_map(|frame| net.step(&Some(*frame), &mut state))
            .collect();
        assert_eq!(outputs.len(), 5);
        let whole = net.forward(&x);
        assert!((outputs[4] - whole).abs().max() < 1e-15);
    }

    #[test]
    fn a_strided_convolution_streams_into_a_recurrent_network() {
        type Net = (
            Conv1d<f64, 2, 4, 3, 13, 6, 2>,
            crate::Downstream<(
                crate::Relu,
                crate::Gru<f64, 4, 5>,
                crate::LastStep,
                crate::Dense<f64, 5, 1>,
            )>,
        );
        let net = Net::build(Init::PyTorch, &mut Rng::new(14));
        let x = sequence::<2, 2, 13>(0.9);
        let mut state = Net::stream_state();
        let last = x.iter().filter_map(|frame| net.step(&Some(*frame), &mut state)).last();
        let whole = net.forward(&x);
        assert!((last.unwrap() - whole).abs().max() < 1e-15);
    }
}
