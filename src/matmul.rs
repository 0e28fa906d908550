//! The matrix products of a dense layer, for layers too large for nalgebra's simple loop:
//! register-tiled kernels that load each weight once per tile of batch columns and allocate
//! nothing.
//!
//! Three products, all on column-major slices (nalgebra's layout):
//!
//! | product | shapes | kernel |
//! |---|---|---|
//! | forward `Y = W X + b` | `O × I` times `I × B` | outer products: [`gemm`] with `X`'s columns |
//! | weight gradient `dW += dY Xᵀ` | `O × B` times `B × I` | outer products: [`gemm`] with `X`'s rows |
//! | input gradient `dX = Wᵀ dY` | `I × O` times `O × B` | dot products: [`gemm_tn`] |
//!
//! An outer-product tile keeps an `MR × NR` block of the result in registers and, for each
//! step `p` of the inner dimension, loads `MR` consecutive entries of column `p` of the left
//! operand (contiguous in column-major order) and multiplies them by `NR` values of row `p` of
//! the right operand: `MR · NR` multiply-adds for `MR + NR` loads, and every weight is loaded
//! once per `NR` batch columns. The right operand's block is first copied, `KC` steps at a
//! time, into a panel on the stack whose rows are those `NR` values, whatever its layout. A
//! dot-product tile computes `MI × NJ` entries of `Aᵀ B` at once, each as vector-wide partial
//! sums over contiguous columns.
//!
//! The drivers here are generic, safe code: blocking, packing, and the rows and columns that do
//! not fill a tile (a plain loop). The tiles are passed in: [`dispatch`] uses the portable
//! tiles below on every target, and on x86-64 with `std` the AVX2 and AVX-512 tiles of
//! `crate::x86`, chosen at run time.
//!
//! Operands are read in place: a weight matrix the size of a statically shaped layer (784 × 128
//! in `f32` is 392 KiB) sits in the L2 cache, so there is nothing to gain from packing the
//! left operand, and nothing to allocate or keep between calls.

mod dispatch;

use crate::Real;

pub use dispatch::{
    InstructionSet, KernelChoice, UnsupportedInstructionSet, force_instruction_set, instruction_set, kernel_choice,
};
pub(crate) use dispatch::{forward, input_gradient, weight_gradient};

/// Whether a product of an `m × k` by a `k × n` matrix goes to the tiled kernels rather than
/// nalgebra's loop. Below this, a kernel call's fixed costs (dispatch, packing, edges, a
/// horizontal sum per output of the dot-product kernel) outweigh what the tiles save.
pub(crate) const fn is_large(m: usize, k: usize, n: usize) -> bool {
    m >= NARROW && k >= 8 && n >= 4 && m * k * n >= 2048
}

/// Whether `Dense`'s forward product `W X + b` goes to the kernels: as [`is_large`], from 16,384
/// multiply-adds. Below that the layer's own unrolled loop (`small_forward`), column by column,
/// is faster: W2's 32 × 32 layer at batch 8 (8,192) made W2's inference 730-830 ns on the
/// kernels and 420-530 ns without (AMD EPYC Zen 4, AVX-512).
pub(crate) const fn forward_is_large(m: usize, k: usize, n: usize) -> bool {
    is_large(m, k, n) && m * k * n >= 16_384
}

/// Whether `dW += dY Xᵀ` for a layer of `o` outputs, `i` inputs and batch `b` goes to the
/// kernels: as [`is_large`], or computed transposed for a narrow layer
/// ([`weight_gradient_with`]).
pub(crate) const fn weight_gradient_is_large(o: usize, b: usize, i: usize) -> bool {
    is_large(o, b, i) || (is_large(i, b, o) && o * i <= TRANSPOSED)
}

/// Whether [`input_gradient_with`] computes `C = Aᵀ·B` (`A` is `k × m`) transposed, with outer
/// products: when the dot products would be shorter than a vector and `A` fits [`TRANSPOSED`].
pub(crate) const fn input_gradient_is_transposed(m: usize, k: usize) -> bool {
    k < NARROW && m * k <= TRANSPOSED
}

/// `c + a·b`, fused (one rounding, one instruction) where the caller is compiled with FMA.
#[inline(always)]
fn multiply_add<T: Real, const FMA: bool>(a: T, b: T, c: T) -> T {
    if FMA { a.mul_add(b, c) } else { a * b + c }
}

/// What the result starts from.
#[derive(Clone, Copy)]
pub(crate) enum Start<'a, T> {
    /// Every column starts as this vector (the bias of a forward pass).
    Columns(&'a [T]),
    /// The result's current contents: the product is added to it (gradient accumulation).
    Current,
}

/// How the right operand `B` (`k × n`) is stored.
#[derive(Clone, Copy)]
pub(crate) enum Right<'a, T> {
    /// Column-major `k × n`: `B(p, j) = b[j·k + p]` (the forward pass's input).
    Columns(&'a [T]),
    /// The transpose of a column-major `n × k` matrix: `B(p, j) = b[p·n + j]` (`Xᵀ` in the
    /// weight gradient).
    Rows(&'a [T]),
}

impl<T: Real> Right<'_, T> {
    #[inline(always)]
    fn at(&self, k: usize, n: usize, p: usize, j: usize) -> T {
        match *self {
            Right::Columns(b) => b[j * k + p],
            Right::Rows(b) => b[p * n + j],
        }
    }
}

/// Steps of the inner dimension per packed panel of the right operand: `KC × NR` values on the
/// stack (16 KiB for `f64` with `NR = 8`).
const KC: usize = 256;

/// `C = start + A·B` with `A` column-major `m × k`, `C` column-major `m × n`, computed tile by
/// tile with `tile(a, m, panel, block)`, which must add `A[.., p] · panel[p]` to the [`Block`]'s
/// starting values for every row `p` of the panel and store the sums in its columns of `C`,
/// `a` starting at the tile's first row in the panel's first column.
/// Rows left below the last `MR`-row tile get one tile of `MH` rows (`half`, the same with a
/// single vector per column) if there are at least `MH` of them, so that a 16-output layer
/// still runs in vectors where `MR` is 32.
///
/// # Panics
/// If a slice is shorter than its shape says.
#[inline(always)]
#[allow(clippy::too_many_arguments)]
pub(crate) fn gemm<T: Real, const MR: usize, const MH: usize, const NR: usize, const FMA: bool>(
    a: &[T],
    b: Right<'_, T>,
    c: &mut [T],
    start: Start<'_, T>,
    (m, k, n): (usize, usize, usize),
    tile: impl Fn(&[T], usize, &[[T; NR]], Block<'_, T>),
    half: impl Fn(&[T], usize, &[[T; NR]], Block<'_, T>),
) {
    let (a, c) = (&a[..m * k], &mut c[..m * n]);
    match b {
        Right::Columns(b) | Right::Rows(b) => assert!(b.len() >= k * n),
    }
    if let Start::Columns(bias) = start {
        assert!(bias.len() >= m);
    }
    let full_rows = m - m % MR;
    let tiled_rows = if m - full_rows >= MH { full_rows + MH } else { full_rows };
    let mut panel = [[T::zero(); NR]; KC];
    // The last group of columns may be narrower than `NR`: its panel is padded with zeros and
    // only its own columns are stored. One entry at a time instead (as before) made AVX2's
    // 6-column tiles leave 2 of W3's 32 columns, and 4 of W4's 16, to a latency-bound scalar
    // loop that took most of the time (W3 inference 4.5 times as long as with AVX-512).
    for j0 in (0..n).step_by(NR) {
        let columns = NR.min(n - j0);
        for p0 in (0..k).step_by(KC) {
            let steps = KC.min(k - p0);
            pack(&b, &mut panel[..steps], (k, n), p0, (j0, columns));
            let panel = &panel[..steps];
            let first = p0 == 0;
            // The bias on the first panel of a forward pass, `C` otherwise.
            let from = |i0: usize| match start {
                Start::Columns(bias) if first => Some(&bias[i0..]),
                _ => None,
            };
            for i0 in (0..full_rows).step_by(MR) {
                let block = Block::new(&mut c[j0 * m + i0..], m, columns, from(i0));
                tile(&a[p0 * m + i0..], m, panel, block);
            }
            if tiled_rows > full_rows {
                let block = Block::new(&mut c[j0 * m + full_rows..], m, columns, from(full_rows));
                half(&a[p0 * m + full_rows..], m, panel, block);
            }
        }
    }
    // The rows below the last tile, across every column.
    edge::<T, FMA>(a, &b, c, start, (m, k, n), tiled_rows..m, 0..n);
}

/// The part of `C` one tile computes: `R` rows (the tile's height) of the first `columns` of its
/// `NR` columns; the others are padding of the last, narrower group of columns.
///
/// The tile reads its starting values and writes its sums here directly: the vector tiles keep
/// them in registers from the load to the store. Going through an array on the stack instead
/// copied every block twice more, which with the 32-step products of a batch of 32 (the weight
/// gradients) was a sixth of the tile's time.
pub(crate) struct Block<'a, T> {
    /// `C` from the block's first entry on: column `j` of the block starts at `j · m`.
    c: &'a mut [T],
    m: usize,
    columns: usize,
    /// Every column starts from these values (the bias, on the first panel of a forward pass);
    /// `None`: from `C`'s current contents.
    from: Option<&'a [T]>,
}

impl<'a, T: Real> Block<'a, T> {
    #[inline(always)]
    fn new(c: &'a mut [T], m: usize, columns: usize, from: Option<&'a [T]>) -> Self {
        Self { c, m, columns, from }
    }

    /// How many of an `NR`-column tile's columns are in `C`: the constant `NR` when the tile is
    /// whole, which keeps the loops over columns of constant length (a run-time bound cost
    /// AVX-512's W3 12 %).
    #[inline(always)]
    pub(crate) fn columns<const NR: usize>(&self) -> usize {
        if self.columns == NR { NR } else { self.columns }
    }

    /// The starting values of column `j`, from its first row on.
    #[inline(always)]
    pub(crate) fn start(&self, j: usize) -> &[T] {
        match self.from {
            Some(values) => values,
            None => &self.c[j * self.m..],
        }
    }

    /// Column `j` of `C`, from the block's first row on.
    #[inline(always)]
    pub(crate) fn column_mut(&mut self, j: usize) -> &mut [T] {
        &mut self.c[j * self.m..]
    }

    /// The block as an `R × NR` array (padding columns zero), for the portable tiles.
    #[inline(always)]
    fn load<const R: usize, const NR: usize>(&self) -> [[T; R]; NR] {
        let mut acc = [[T::zero(); R]; NR];
        for (j, column) in acc.iter_mut().enumerate().take(self.columns::<NR>()) {
            column.copy_from_slice(&self.start(j)[..R]);
        }
        acc
    }

    /// Writes the array's columns that are in `C` to `C`.
    #[inline(always)]
    fn store<const R: usize, const NR: usize>(mut self, acc: &[[T; R]; NR]) {
        for (j, column) in acc.iter().enumerate().take(self.columns::<NR>()) {
            self.column_mut(j)[..R].copy_from_slice(column);
        }
    }
}

/// Copies `B[p0.., j0..j0 + columns]` into `panel`, one row of `NR` values per step (zeros
/// after the first `columns`), reading `B` in its storage order.
#[inline(always)]
fn pack<T: Real, const NR: usize>(
    b: &Right<'_, T>,
    panel: &mut [[T; NR]],
    (k, n): (usize, usize),
    p0: usize,
    (j0, columns): (usize, usize),
) {
    match *b {
        Right::Columns(_) if columns == NR => {
            for (p, row) in panel.iter_mut().enumerate() {
                for (j, value) in row.iter_mut().enumerate() {
                    *value = b.at(k, n, p0 + p, j0 + j);
                }
            }
        }
        Right::Columns(_) => {
            for (p, row) in panel.iter_mut().enumerate() {
                for (j, value) in row.iter_mut().enumerate() {
                    *value = if j < columns {
                        b.at(k, n, p0 + p, j0 + j)
                    } else {
                        T::zero()
                    };
                }
            }
        }
        Right::Rows(b) if columns == NR => {
            for (p, row) in panel.iter_mut().enumerate() {
                row.copy_from_slice(&b[(p0 + p) * n + j0..(p0 + p) * n + j0 + NR]);
            }
        }
        Right::Rows(b) => {
            for (p, row) in panel.iter_mut().enumerate() {
                let (inside, outside) = row.split_at_mut(columns);
                inside.copy_from_slice(&b[(p0 + p) * n + j0..(p0 + p) * n + j0 + columns]);
                outside.fill(T::zero());
            }
        }
    }
}

/// The portable tile of [`gemm`], in plain loops.
#[inline(always)]
pub(crate) fn tile<T: Real, const MR: usize, const NR: usize>(
    a: &[T],
    m: usize,
    panel: &[[T; NR]],
    block: Block<'_, T>,
) {
    let mut acc = block.load::<MR, NR>();
    for (p, right) in panel.iter().enumerate() {
        let left: &[T; MR] = a[p * m..p * m + MR].try_into().unwrap();
        for (sum, &b) in acc.iter_mut().zip(right) {
            for (s, &a) in sum.iter_mut().zip(left) {
                *s += a * b;
            }
        }
    }
    block.store(&acc);
}

/// [`gemm`] on the block `rows × columns` of `C`, one entry at a time.
#[inline(always)]
fn edge<T: Real, const FMA: bool>(
    a: &[T],
    b: &Right<'_, T>,
    c: &mut [T],
    start: Start<'_, T>,
    (m, k, n): (usize, usize, usize),
    rows: core::ops::Range<usize>,
    columns: core::ops::Range<usize>,
) {
    for j in columns {
        for i in rows.clone() {
            let mut sum = match start {
                Start::Columns(bias) => bias[i],
                Start::Current => c[j * m + i],
            };
            for p in 0..k {
                sum = multiply_add::<T, FMA>(a[p * m + i], b.at(k, n, p, j), sum);
            }
            c[j * m + i] = sum;
        }
    }
}

/// Entries of a left operand transposed onto the stack (8 KiB in `f32`, 16 KiB in `f64`).
pub(crate) const TRANSPOSED: usize = 2048;

/// Below this many rows, a product is computed transposed, so that its long side runs down
/// the vector registers.
const NARROW: usize = 16;

/// `dW += dY Xᵀ` with `dY` column-major `m × n`, `X` column-major `k × n`, `dW` column-major
/// `m × k`, through `outer` ([`gemm`] with the caller's tiles). A layer with fewer than 16 outputs (`m`) and at most
/// [`TRANSPOSED`] weights gets `dWᵀ = X dYᵀ` computed on the stack and added transposed, so that
/// the tiles run down its inputs instead of a handful of rows.
#[inline(always)]
pub(crate) fn weight_gradient_with<T: Real>(
    dy: &[T],
    x: &[T],
    dw: &mut [T],
    (m, n, k): (usize, usize, usize),
    outer: impl Fn(&[T], Right<'_, T>, &mut [T], Start<'_, T>, (usize, usize, usize)),
) {
    if m < NARROW && m * k <= TRANSPOSED {
        let mut transposed = [T::zero(); TRANSPOSED];
        outer(x, Right::Rows(dy), &mut transposed, Start::Current, (k, n, m));
        let dw = &mut dw[..m * k];
        for (i, column) in dw.chunks_exact_mut(m).enumerate() {
            for (o, value) in column.iter_mut().enumerate() {
                *value += transposed[o * k + i];
            }
        }
    } else {
        outer(dy, Right::Rows(x), dw, Start::Current, (m, n, k));
    }
}

/// `C = Aᵀ·B` with `A` column-major `k × m`, `B` column-major `k × n`: [`gemm_tn`]'s dot
/// products, unless the dot products would be shorter than a vector (`k < 16`) and `A` fits
/// [`TRANSPOSED`]: then `Aᵀ` is copied onto the stack and [`gemm`]'s outer products run down
/// its `m` rows.
#[inline(always)]
pub(crate) fn input_gradient_with<T: Real, const MI: usize, const NJ: usize, const FMA: bool>(
    a: &[T],
    b: &[T],
    c: &mut [T],
    (m, k, n): (usize, usize, usize),
    outer: impl Fn(&[T], Right<'_, T>, &mut [T], Start<'_, T>, (usize, usize, usize)),
    dots: impl Fn(&[T], &[T], usize, &mut [[T; NJ]; MI]),
) {
    if input_gradient_is_transposed(m, k) {
        let mut transposed = [T::zero(); TRANSPOSED];
        for (i, column) in a[..k * m].chunks_exact(k).enumerate() {
            for (p, &value) in column.iter().enumerate() {
                transposed[p * m + i] = value;
            }
        }
        c[..m * n].fill(T::zero());
        outer(&transposed, Right::Columns(b), c, Start::Current, (m, k, n));
    } else {
        gemm_tn::<T, MI, NJ, FMA>(a, b, c, (m, k, n), dots);
    }
}

/// `C = Aᵀ·B` with `A` column-major `k × m` and `B` column-major `k × n`: every entry of `C` is
/// the dot product of a column of `A` with a column of `B`, both contiguous. Tiles of `MI × NJ`
/// entries are computed by `dots(a, b, k, out)`, `a` and `b` starting at the tile's first
/// columns; the rest entry by entry.
///
/// # Panics
/// If a slice is shorter than its shape says.
#[inline(always)]
pub(crate) fn gemm_tn<T: Real, const MI: usize, const NJ: usize, const FMA: bool>(
    a: &[T],
    b: &[T],
    c: &mut [T],
    (m, k, n): (usize, usize, usize),
    dots: impl Fn(&[T], &[T], usize, &mut [[T; NJ]; MI]),
) {
    let (a, b, c) = (&a[..k * m], &b[..k * n], &mut c[..m * n]);
    let full_rows = m - m % MI;
    let full_columns = n - n % NJ;
    for j0 in (0..full_columns).step_by(NJ) {
        for i0 in (0..full_rows).step_by(MI) {
            let mut out = [[T::zero(); NJ]; MI];
            dots(&a[i0 * k..], &b[j0 * k..], k, &mut out);
            for (i, row) in out.iter().enumerate() {
                for (j, &value) in row.iter().enumerate() {
                    c[(j0 + j) * m + i0 + i] = value;
                }
            }
        }
    }
    let dot = |i: usize, j: usize| {
        let (x, y) = (&a[i * k..(i + 1) * k], &b[j * k..(j + 1) * k]);
        x.iter()
            .zip(y)
            .fold(T::zero(), |s, (&u, &v)| multiply_add::<T, FMA>(u, v, s))
    };
    for j in 0..n {
        let rows = if j < full_columns { full_rows..m } else { 0..m };
        for i in rows {
            c[j * m + i] = dot(i, j);
        }
    }
}

/// The portable tile of [`gemm_tn`]: `L`-wide partial sums, summed across lanes at the end.
#[inline(always)]
pub(crate) fn dots<T: Real, const L: usize, const MI: usize, const NJ: usize>(
    a: &[T],
    b: &[T],
    k: usize,
    out: &mut [[T; NJ]; MI],
) {
    let body = k - k % L;
    let mut acc = [[[T::zero(); L]; NJ]; MI];
    for p0 in (0..body).step_by(L) {
        for (i, row) in acc.iter_mut().enumerate() {
            let left: &[T; L] = a[i * k + p0..i * k + p0 + L].try_into().unwrap();
            for (j, sum) in row.iter_mut().enumerate() {
                let right: &[T; L] = b[j * k + p0..j * k + p0 + L].try_into().unwrap();
                for lane in 0..L {
                    sum[lane] += left[lane] * right[lane];
                }
            }
        }
    }
    for (i, row) in acc.iter().enumerate() {
        for (j, sum) in row.iter().enumerate() {
            let mut total = sum.iter().fold(T::zero(), |s, &v| s + v);
            for p in body..k {
                total += a[i * k + p] * b[j * k + p];
            }
            out[i][j] = total;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Rng;
    use nalgebra::DMatrix;

    fn random(rows: usize, cols: usize, rng: &mut Rng) -> DMatrix<f64> {
        DMatrix::from_fn(rows, cols, |_, _| rng.uniform(-1.0, 1.0))
    }

    /// Shapes around every tile size: below, at, above and far from multiples of each.
    const SIZES: [usize; 12] = [1, 2, 3, 5, 7, 8, 9, 16, 17, 31, 33, 70];

    fn close(a: &DMatrix<f64>, b: &DMatrix<f64>, k: usize) -> bool {
        (a - b).abs().max() <= 1e-13 * k as f64
    }

    /// The three products through the run-time dispatch (the best kernel this machine has),
    /// against nalgebra, on every combination of sizes.
    #[test]
    fn dispatched_products_equal_nalgebra_f64() {
        let mut rng = Rng::new(9);
        for &m in &SIZES {
            for &k in &SIZES {
                for &n in &SIZES {
                    let (a, x) = (random(m, k, &mut rng), random(k, n, &mut rng));
                    let bias = random(m, 1, &mut rng);
                    let mut y = DMatrix::zeros(m, n);
                    forward(a.as_slice(), x.as_slice(), bias.as_slice(), y.as_mut_slice(), (m, k, n));
                    let mut expected = &a * &x;
                    for mut column in expected.column_iter_mut() {
                        column += &bias;
                    }
                    assert!(close(&y, &expected, k), "forward {m}x{k}x{n}");

                    // dW (m × k) += dY (m × n) Xᵀ with X k × n.
                    let dy = random(m, n, &mut rng);
                    let mut dw = random(m, k, &mut rng);
                    let expected = &dw + &dy * x.transpose();
                    weight_gradient(dy.as_slice(), x.as_slice(), dw.as_mut_slice(), (m, n, k));
                    assert!(close(&dw, &expected, n), "weight gradient {m}x{n}x{k}");

                    // dX (k × n) = Aᵀ dY.
                    let mut dx = DMatrix::zeros(k, n);
                    input_gradient(a.as_slice(), dy.as_slice(), dx.as_mut_slice(), (k, m, n));
                    assert!(close(&dx, &(a.transpose() * &dy), m), "input gradient {k}x{m}x{n}");
                }
            }
        }
    }

    /// Every compiled variant (portable, AVX2, AVX-512 where the machine has them) in `T`
    /// against an `f64` reference, on shapes that exercise full tiles, half tiles, edges and
    /// the narrow transposed products.
    fn every_variant_equals_nalgebra<T: Real>(tolerance: f64) {
        let mut rng = Rng::new(10);
        for (m, k, n) in [
            (128, 784, 32),
            (64, 64, 16),
            (16, 64, 16),
            (48, 20, 24),
            (33, 17, 9),
            (16, 8, 4),
            (10, 128, 32),
            (70, 3, 31),
        ] {
            let (a, x, bias) = (random(m, k, &mut rng), random(k, n, &mut rng), random(m, 1, &mut rng));
            let dy = random(m, n, &mut rng);
            let cast = |v: &DMatrix<f64>| v.map(|e| T::of(e));
            let (at, xt, bias_t, dy_t) = (cast(&a), cast(&x), cast(&bias), cast(&dy));
            let mut expected_y = &a * &x;
            for mut column in expected_y.column_iter_mut() {
                column += &bias;
            }
            let expected_dw = &dy * x.transpose();
            let expected_dx = a.transpose() * &dy;
            let error = |got: &DMatrix<T>, expected: &DMatrix<f64>| (got.map(|e| e.to_f64()) - expected).abs().max();
            for variant in dispatch::Variant::available() {
                let bound = |len: usize| tolerance * len as f64;
                let mut y = DMatrix::<T>::zeros(m, n);
                variant.forward(
                    at.as_slice(),
                    xt.as_slice(),
                    bias_t.as_slice(),
                    y.as_mut_slice(),
                    (m, k, n),
                );
                let e = error(&y, &expected_y);
                assert!(e < bound(k), "{variant:?} {} forward {m}x{k}x{n}: {e}", T::NAME);
                let mut dw = DMatrix::<T>::zeros(m, k);
                variant.weight_gradient(dy_t.as_slice(), xt.as_slice(), dw.as_mut_slice(), (m, n, k));
                let e = error(&dw, &expected_dw);
                assert!(e < bound(n), "{variant:?} {} weight gradient {m}x{n}x{k}: {e}", T::NAME);
                let mut dx = DMatrix::<T>::zeros(k, n);
                variant.input_gradient(at.as_slice(), dy_t.as_slice(), dx.as_mut_slice(), (k, m, n));
                let e = error(&dx, &expected_dx);
                assert!(e < bound(m), "{variant:?} {} input gradient {k}x{m}x{n}: {e}", T::NAME);
            }
        }
    }

    /// The products the calibration chooses between give the same bits in every vector
    /// instruction set, on every combination of sizes around the tiles (whole tiles, half
    /// tiles, padded column groups, edge rows): the forward pass, the weight gradient (both
    /// orientations) and the input gradient where it is computed with outer products. The input
    /// gradient's dot products are not among them (their partial sums are as wide as a vector).
    fn vector_variants_agree_bit_for_bit<T: Real>() {
        let vector: Vec<_> = dispatch::Variant::available()
            .into_iter()
            .filter(|variant| *variant != dispatch::Variant::Portable)
            .collect();
        let Some((first, others)) = vector.split_first() else {
            return;
        };
        let mut rng = Rng::new(11);
        let bits = |m: &DMatrix<T>| m.iter().map(|v| v.to_f64().to_bits()).collect::<Vec<_>>();
        for &m in &SIZES {
            for &k in &SIZES {
                for &n in &SIZES {
                    let cast = |v: DMatrix<f64>| v.map(|e| T::of(e));
                    let (a, x, bias) = (
                        cast(random(m, k, &mut rng)),
                        cast(random(k, n, &mut rng)),
                        cast(random(m, 1, &mut rng)),
                    );
                    let (dy, dw) = (cast(random(m, n, &mut rng)), cast(random(m, k, &mut rng)));
                    let run = |variant: dispatch::Variant| {
                        let mut y = DMatrix::<T>::zeros(m, n);
                        variant.forward(a.as_slice(), x.as_slice(), bias.as_slice(), y.as_mut_slice(), (m, k, n));
                        let mut dw = dw.clone();
                        variant.weight_gradient(dy.as_slice(), x.as_slice(), dw.as_mut_slice(), (m, n, k));
                        let mut dx = DMatrix::<T>::zeros(k, n);
                        if input_gradient_is_transposed(k, m) {
                            variant.input_gradient(a.as_slice(), dy.as_slice(), dx.as_mut_slice(), (k, m, n));
                        }
                        [bits(&y), bits(&dw), bits(&dx)]
                    };
                    let expected = run(*first);
                    for &variant in others {
                        let got = run(variant);
                        for (product, (got, expected)) in ["forward", "weight gradient", "input gradient"]
                            .iter()
                            .zip(got.iter().zip(&expected))
                        {
                            assert!(
                                got == expected,
                                "{variant:?} and {first:?} differ: {} {product} {m}x{k}x{n}",
                                T::NAME
                            );
                        }
                    }
                }
            }
        }
    }

    #[test]
    fn vector_variants_agree_bit_for_bit_f32() {
        vector_variants_agree_bit_for_bit::<f32>();
    }

    #[test]
    fn vector_variants_agree_bit_for_bit_f64() {
        vector_variants_agree_bit_for_bit::<f64>();
    }

    #[test]
    fn every_variant_equals_nalgebra_f32() {
        every_variant_equals_nalgebra::<f32>(1e-5);
    }

    #[test]
    fn every_variant_equals_nalgebra_f64() {
        every_variant_equals_nalgebra::<f64>(1e-13);
    }
}
