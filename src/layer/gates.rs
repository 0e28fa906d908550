//! Stacked gate weights of the recurrent layers, stored in PyTorch's layout, and the loops
//! over them.
//!
//! PyTorch stacks a recurrent layer's `G` gates into one `(G·H) × N` matrix (`weight_ih_l0`,
//! `weight_hh_l0`). Stored column-major, column `k` is the `G·H` gate weights that input `k`
//! feeds; here it is the `H × G` matrix `weight[k]` (its column `g` is gate `g`). A whole
//! stacked matrix is then one contiguous tensor in PyTorch's layout, and every loop below runs
//! over contiguous memory of a length known at compile time, which the compiler vectorises.

use nalgebra::SMatrix;

use crate::Real;
use crate::layer::dense::CHAINS;

/// Column `b` of a matrix as a slice.
#[inline(always)]
pub(crate) fn column<T: Real, const R: usize, const B: usize>(m: &SMatrix<T, R, B>, b: usize) -> &[T] {
    &m.as_slice()[b * R..(b + 1) * R]
}

/// Column `b` of a matrix as a mutable slice.
#[inline(always)]
pub(crate) fn column_mut<T: Real, const R: usize, const B: usize>(m: &mut SMatrix<T, R, B>, b: usize) -> &mut [T] {
    &mut m.as_mut_slice()[b * R..(b + 1) * R]
}

/// Rows of a stacked matrix that [`project`] accumulates at once: sixteen `f32` are four SSE
/// registers, few enough that the sums stay in registers across all columns.
const BLOCK: usize = 16;

/// `bias + Σ_k v[k] · weight[k]`: one sample's gate pre-activations.
///
/// The rows are taken in blocks of [`BLOCK`], each summed over every column before the next,
/// so that the running sums live in registers rather than being stored and reloaded per column.
#[inline(always)]
pub(crate) fn project<T: Real, const H: usize, const G: usize, const N: usize>(
    weight: &[SMatrix<T, H, G>; N],
    bias: &SMatrix<T, H, G>,
    v: &[T],
) -> SMatrix<T, H, G> {
    let mut out = *bias;
    let rows = H * G;
    // The first four blocks (all of a 16-unit LSTM's rows in `f32`) are written out one after
    // the other, and the rest is a loop: in straight-line code `out` stays in vector registers,
    // where a loop over the blocks stored it to the stack and reloaded it at every step.
    let mut block = |start: usize| {
        if start + BLOCK <= rows {
            project_rows::<T, H, G, N, BLOCK>(weight, v, &mut out, start);
            start + BLOCK
        } else {
            start
        }
    };
    let mut start = block(0);
    start = block(start);
    start = block(start);
    start = block(start);
    while start + BLOCK <= rows {
        project_rows::<T, H, G, N, BLOCK>(weight, v, &mut out, start);
        start += BLOCK;
    }
    // The rest, one row at a time: H·G is a constant, so this loop is unrolled as well.
    for row in start..rows {
        let mut acc = out.as_slice()[row];
        for (w, &vk) in weight.iter().zip(v) {
            acc += w.as_slice()[row] * vk;
        }
        out.as_mut_slice()[row] = acc;
    }
    out
}

/// Entry `r` of the first `chains` partial sums, added pairwise (`chains` is a constant where
/// this is inlined, so the match disappears).
#[inline(always)]
fn combine<T: Real, const W: usize>(sums: &[[T; W]; CHAINS], chains: usize, r: usize) -> T {
    match chains {
        0 => T::zero(),
        1 => sums[0][r],
        2 => sums[0][r] + sums[1][r],
        3 => (sums[0][r] + sums[1][r]) + sums[2][r],
        _ => (sums[0][r] + sums[1][r]) + (sums[2][r] + sums[3][r]),
    }
}

/// Adds `Σ_k v[k] · weight[k]` to rows `start .. start + W` of `out`.
///
/// As in `Dense`'s small product, column `k` goes into partial sum `k mod CHAINS` and the
/// partial sums are added pairwise at the end: a streaming step waits for this sum, and one running sum per row made it `N`
/// dependent additions (16 for a hidden size of 16) where four make it `N / 4` plus 2.
#[inline(always)]
fn project_rows<T: Real, const H: usize, const G: usize, const N: usize, const W: usize>(
    weight: &[SMatrix<T, H, G>; N],
    v: &[T],
    out: &mut SMatrix<T, H, G>,
    start: usize,
) {
    let out = &mut out.as_mut_slice()[start..start + W];
    // A copy of a fixed-length slice, which is always inlined; `core::array::from_fn` is not,
    // and once this function grew past the inliner's budget each call became a function call.
    let rows = |w: &SMatrix<T, H, G>| -> [T; W] {
        let mut row = [T::zero(); W];
        row.copy_from_slice(&w.as_slice()[start..start + W]);
        row
    };
    // Four separate sums updated in one loop over the rows, as in `Dense`'s small product: with
    // the sums in one array updated one after the other, LLVM's Zen 4 cost model
    // (`-C target-cpu=native`) vectorised across them with gathers and scatters, and a 16-unit
    // GRU step took 1.2 µs instead of 75 ns.
    let [mut s0, mut s1, mut s2, mut s3] = [[T::zero(); W]; CHAINS];
    s0.copy_from_slice(out);
    let rest = N - N % CHAINS;
    // The first four columns start the other three sums: added to zero, each product cost an
    // addition per vector of rows (12 of a 16-unit LSTM step's 128 in the recurrent product).
    let first = if N >= CHAINS { CHAINS } else { 0 };
    if N >= CHAINS {
        let (w0, w1, w2, w3) = (rows(&weight[0]), rows(&weight[1]), rows(&weight[2]), rows(&weight[3]));
        for r in 0..W {
            s0[r] += w0[r] * v[0];
            s1[r] = w1[r] * v[1];
            s2[r] = w2[r] * v[2];
            s3[r] = w3[r] * v[3];
        }
    }
    for (weight, v) in weight[first..]
        .chunks_exact(CHAINS)
        .zip(v[first..].chunks_exact(CHAINS))
    {
        let (w0, w1, w2, w3) = (rows(&weight[0]), rows(&weight[1]), rows(&weight[2]), rows(&weight[3]));
        for r in 0..W {
            s0[r] += w0[r] * v[0];
            s1[r] += w1[r] * v[1];
            s2[r] += w2[r] * v[2];
            s3[r] += w3[r] * v[3];
        }
    }
    for ((sum, w), &vk) in [&mut s0, &mut s1, &mut s2]
        .into_iter()
        .zip(&weight[rest..])
        .zip(&v[rest..])
    {
        for (a, &w) in sum.iter_mut().zip(&rows(w)) {
            *a += w * vk;
        }
    }
    let sums = [s0, s1, s2, s3];
    // The first partial sum started from `out`; those no column reached are not added.
    let chains = if N < CHAINS { N.max(1) } else { CHAINS };
    for (r, o) in out.iter_mut().enumerate() {
        *o = combine(&sums, chains, r);
    }
}

/// `grad[k] += v[k] · g` for every `k`: one sample's contribution to a weight gradient.
#[inline(always)]
pub(crate) fn add_outer<T: Real, const H: usize, const G: usize, const N: usize>(
    grad: &mut [SMatrix<T, H, G>; N],
    g: &SMatrix<T, H, G>,
    v: &[T],
) {
    for (w, &vk) in grad.iter_mut().zip(v) {
        for (w, &g) in w.as_mut_slice().iter_mut().zip(g.as_slice()) {
            *w += g * vk;
        }
    }
}

/// `out[k] += ⟨weight[k], g⟩` for every `k`: one sample's input gradient `Wᵀ g`.
#[inline(always)]
pub(crate) fn add_transposed<T: Real, const H: usize, const G: usize, const N: usize>(
    weight: &[SMatrix<T, H, G>; N],
    g: &SMatrix<T, H, G>,
    out: &mut [T],
) {
    for (w, o) in weight.iter().zip(out) {
        let mut dot = T::zero();
        for (&w, &g) in w.as_slice().iter().zip(g.as_slice()) {
            dot += w * g;
        }
        *o += dot;
    }
}

/// Implements `Tensors`, `Parameters` and `ConstExpr` for a recurrent layer with `G` stacked
/// gates (Elman RNN 1, GRU 3, LSTM 4): the four tensors `weight_ih_l0`, `weight_hh_l0`, `bias_ih_l0`,
/// `bias_hh_l0` in PyTorch's order and layout, drawn in that order from U(-1/√H, 1/√H) for
/// [`Init::PyTorch`](crate::Init::PyTorch) (PyTorch's rule for every tensor of a recurrent
/// layer) and otherwise with fan-in `I` or `H`; the hyperparameter `bptt_window` (default 0).
macro_rules! gated_layer {
    ($name:ident, $gates:literal) => {
        $crate::layer::fields::parameter_fields! {
            [T: $crate::Real, const I: usize, const H: usize] $name<T, I, H>;
            reset(init);
            tensors {
                weight_ih: $crate::TensorInfo::matrix("weight_ih_l0", $gates * H, I)
                    => weight(if init == $crate::Init::PyTorch { H } else { I }, $gates * H),
                weight_hh: $crate::TensorInfo::matrix("weight_hh_l0", $gates * H, H) => weight(H, $gates * H),
                bias_ih: $crate::TensorInfo::vector("bias_ih_l0", $gates * H) => bias(H),
                bias_hh: $crate::TensorInfo::vector("bias_hh_l0", $gates * H) => bias(H),
            }
            {
                type Gradient = Self;

                fn set_hyperparameters(&mut self, template: Option<&Self>) {
                    self.bptt_window = template.map_or(0, |t| t.bptt_window);
                }
            }
        }
        $crate::layer::fields::const_struct!(
            [T: $crate::Real, const I: usize, const H: usize] $name<T, I, H> = $name {
                weight_ih, weight_hh, bias_ih, bias_hh, bptt_window
            }
        );
    };
}
pub(crate) use gated_layer;
