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

/// `bias + Σ_k v[k] · weight[k]`: one sample's gate pre-activations.
#[inline(always)]
pub(crate) fn project<T: Real, const H: usize, const G: usize, const N: usize>(
    weight: &[SMatrix<T, H, G>; N],
    bias: &SMatrix<T, H, G>,
    v: &[T],
) -> SMatrix<T, H, G> {
    let mut acc = *bias;
    for (w, &vk) in weight.iter().zip(v) {
        for (a, &w) in acc.as_mut_slice().iter_mut().zip(w.as_slice()) {
            *a += w * vk;
        }
    }
    acc
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

/// The stacked matrix as one tensor, in PyTorch's layout (see the module documentation).
#[inline]
pub(crate) fn flat<T: Real, const H: usize, const G: usize, const N: usize>(weight: &[SMatrix<T, H, G>; N]) -> &[T] {
    bytemuck::cast_slice(weight)
}

/// The stacked matrix as one mutable tensor.
#[inline]
pub(crate) fn flat_mut<T: Real, const H: usize, const G: usize, const N: usize>(
    weight: &mut [SMatrix<T, H, G>; N],
) -> &mut [T] {
    bytemuck::cast_slice_mut(weight)
}
