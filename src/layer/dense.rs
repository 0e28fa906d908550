//! The fully connected layer.

use nalgebra::{ArrayStorage, SMatrix, SVector};

use super::fields::{const_struct, parameter_fields};
use crate::{Layer, Real, Stream, TensorInfo, matmul};

/// A fully connected layer `y = W x + b`, with `W` of shape `O × I` (PyTorch's `nn.Linear`).
///
/// A batch is a matrix whose `B` columns are samples: `X` is `I × B`, `Y` is `O × B`, and the
/// bias is added to every column.
///
/// Backward, for `dY = ∂L/∂Y`:
/// - `∂L/∂W += dY Xᵀ` (a sum of outer products over the batch),
/// - `∂L/∂b += Σ_columns dY`,
/// - `∂L/∂X = Wᵀ dY` (skipped by [`Layer::backward_parameters`], e.g. for the first layer).
///
/// The cache is empty: backward reads the stored input. The layer is its own gradient type.
///
/// ```
/// use static_nn::{Dense, Layer};
/// use static_nn::nalgebra::{Matrix2x3, Vector2, Vector3};
///
/// let layer = Dense::new(Matrix2x3::new(1.0, 0.0, 2.0, 0.0, 1.0, -1.0), Vector2::new(0.5, 0.0));
/// let y = layer.forward(&Vector3::new(1.0_f64, 2.0, 3.0));
/// assert_eq!(y, Vector2::new(7.5, -1.0));
/// ```
#[derive(Clone, Debug, PartialEq, bytemuck::Zeroable)]
#[zeroable(bound = "T: Real")]
// On x86-64 the weights start on a cache line, where the kernels load them 32 or 64 bytes at a
// time: a load that straddles two lines costs two, and a layer left wherever its owner's frame
// put it ran at a speed that changed from build to build (see ARCHITECTURE.md).
#[cfg_attr(target_arch = "x86_64", repr(C, align(64)))]
pub struct Dense<T, const I: usize, const O: usize> {
    /// The weight matrix `W`, `O × I`.
    pub weight: SMatrix<T, O, I>,
    /// The bias `b`, length `O`.
    pub bias: SVector<T, O>,
}

impl<T: Real, const I: usize, const O: usize> Dense<T, I, O> {
    /// A layer with the given weight and bias.
    pub const fn new(weight: SMatrix<T, O, I>, bias: SVector<T, O>) -> Self {
        Self { weight, bias }
    }

    /// A layer whose weight and bias are all zero.
    pub fn zeros() -> Self {
        Self::new(SMatrix::zeros(), SVector::zeros())
    }

    /// Adds `dY Xᵀ` to the weight gradient and the column sum of `dY` to the bias gradient.
    #[inline(always)]
    fn accumulate<const B: usize>(&self, x: &SMatrix<T, I, B>, dy: &SMatrix<T, O, B>, grad: &mut Self) {
        if matmul::weight_gradient_is_large(O, B, I) {
            matmul::weight_gradient(dy.as_slice(), x.as_slice(), grad.weight.as_mut_slice(), (O, B, I));
            for dy_col in dy.column_iter() {
                grad.bias += dy_col;
            }
            return;
        }
        for (x_col, dy_col) in x.column_iter().zip(dy.column_iter()) {
            grad.weight.ger(T::one(), &dy_col, &x_col, T::one());
            grad.bias += dy_col;
        }
    }
}

// `reset` draws `W` column by column, then `b`, as [`Init`] documents for fan-in `I`, fan-out `O`.
parameter_fields! {
    [T: Real, const I: usize, const O: usize] Dense<T, I, O>;
    reset(init);
    tensors {
        weight: TensorInfo::matrix("weight", O, I) => weight(I, O),
        bias: TensorInfo::vector("bias", O) => bias(I),
    }
    {
        type Gradient = Self;
    }
}

/// Independent partial sums per output in [`small_forward`] and the recurrent layers' gate
/// projections.
pub(crate) const CHAINS: usize = 4;

/// `W X + b` for products too small for the kernels, written over fixed-length arrays that the
/// compiler unrolls and keeps in vector registers (nalgebra's loop takes run-time strides
/// through a call per column of `W`: W2's 32 × 32 layer took 4× as long).
///
/// Per column `x`, from 8 inputs on, input `k` adds `W[:, k] xₖ` into partial sum `k mod CHAINS`,
/// and the partial sums are added pairwise at the end, then the bias. A small network at batch 1
/// is a chain of dependent layers, so latency is what counts: one running sum per output made a
/// 16-input layer 16 dependent additions, four make it 4 plus 2. Below 8 inputs there is one
/// sum (nalgebra's order, `w₀x₀ + w₁x₁ + …` then the bias): the gain would be one addition,
/// and on a Cortex-M4 the spare sums cost loads and stores (iris 4-16-3 measured more
/// instructions with them). Every target does the same operations in the same order, so
/// results are the same bit for bit everywhere (the firmware tests rely on it).
#[inline(always)]
fn small_forward<T: Real, const I: usize, const O: usize, const B: usize>(
    weight: &SMatrix<T, O, I>,
    bias: &SVector<T, O>,
    x: &SMatrix<T, I, B>,
) -> SMatrix<T, O, B> {
    // nalgebra's storage is the column-major array itself: `w[k]` is column `k` of `W`.
    let (w, bias, x) = (&weight.data.0, &bias.data.0[0], &x.data.0);
    let mut y = [[T::zero(); O]; B];
    for (y, x) in y.iter_mut().zip(x) {
        if I < 2 * CHAINS {
            for (k, (w, &x)) in w.iter().zip(x).enumerate() {
                for (y, &w) in y.iter_mut().zip(w) {
                    *y = if k == 0 { w * x } else { *y + w * x };
                }
            }
        } else {
            // The first `CHAINS` inputs start the partial sums, the others add to them. One loop
            // over the rows updates all four sums, so that the compiler vectorises along the rows
            // (contiguous); with the sums in one array updated one after the other, LLVM's Zen 4
            // cost model (`-C target-cpu=native`) vectorised across them with gathers and
            // scatters, and W2 took 1.2 µs.
            let [mut s0, mut s1, mut s2, mut s3] = [[T::zero(); O]; CHAINS];
            for r in 0..O {
                s0[r] = w[0][r] * x[0];
                s1[r] = w[1][r] * x[1];
                s2[r] = w[2][r] * x[2];
                s3[r] = w[3][r] * x[3];
            }
            let (w, x) = (&w[CHAINS..], &x[CHAINS..]);
            for (w, x) in w.chunks_exact(CHAINS).zip(x.chunks_exact(CHAINS)) {
                for r in 0..O {
                    s0[r] += w[0][r] * x[0];
                    s1[r] += w[1][r] * x[1];
                    s2[r] += w[2][r] * x[2];
                    s3[r] += w[3][r] * x[3];
                }
            }
            let rest = w.len() - w.len() % CHAINS;
            for ((s, w), &x) in [&mut s0, &mut s1, &mut s2].into_iter().zip(&w[rest..]).zip(&x[rest..]) {
                for (s, &w) in s.iter_mut().zip(w) {
                    *s += w * x;
                }
            }
            for (r, y) in y.iter_mut().enumerate() {
                *y = (s0[r] + s1[r]) + (s2[r] + s3[r]);
            }
        }
        for (y, &b) in y.iter_mut().zip(bias) {
            *y += b;
        }
    }
    SMatrix::from_array_storage(ArrayStorage(y))
}

impl<T: Real, const I: usize, const O: usize, const B: usize> Layer<T, SMatrix<T, I, B>> for Dense<T, I, O> {
    type Output = SMatrix<T, O, B>;
    type Cache = ();

    #[inline(always)]
    fn forward(&self, x: &SMatrix<T, I, B>) -> SMatrix<T, O, B> {
        if matmul::forward_is_large(O, I, B) {
            let mut y = SMatrix::<T, O, B>::zeros();
            matmul::forward(
                self.weight.as_slice(),
                x.as_slice(),
                self.bias.as_slice(),
                y.as_mut_slice(),
                (O, I, B),
            );
            return y;
        }
        small_forward(&self.weight, &self.bias, x)
    }

    #[inline(always)]
    fn forward_train(&self, x: &SMatrix<T, I, B>, _cache: &mut ()) -> SMatrix<T, O, B> {
        self.forward(x)
    }

    #[inline(always)]
    fn backward(
        &self,
        x: &SMatrix<T, I, B>,
        _y: &SMatrix<T, O, B>,
        _cache: &(),
        dy: &SMatrix<T, O, B>,
        grad: &mut Self,
    ) -> SMatrix<T, I, B> {
        self.accumulate(x, dy, grad);
        if matmul::is_large(I, O, B) {
            let mut dx = SMatrix::<T, I, B>::zeros();
            matmul::input_gradient(self.weight.as_slice(), dy.as_slice(), dx.as_mut_slice(), (I, O, B));
            return dx;
        }
        // One dot product per entry, as `tr_mul`, written so that each is a reduction over a
        // contiguous column: compiled for AVX-512 (`Workspace`'s step), `tr_mul` became gathers.
        let mut dx = SMatrix::<T, I, B>::zeros();
        for (mut dx_col, dy_col) in dx.column_iter_mut().zip(dy.column_iter()) {
            for (d, w_col) in dx_col.iter_mut().zip(self.weight.column_iter()) {
                *d = w_col.dot(&dy_col);
            }
        }
        dx
    }

    #[inline(always)]
    fn backward_parameters(
        &self,
        x: &SMatrix<T, I, B>,
        _y: &SMatrix<T, O, B>,
        _cache: &(),
        dy: &SMatrix<T, O, B>,
        grad: &mut Self,
    ) {
        self.accumulate(x, dy, grad);
    }
}

/// Frame by frame, a dense layer is itself: it keeps no state.
impl<T: Real, const I: usize, const O: usize, const B: usize> Stream<T, SMatrix<T, I, B>> for Dense<T, I, O> {
    type Output = SMatrix<T, O, B>;
    type State = ();

    #[inline(always)]
    fn step(&self, x: &SMatrix<T, I, B>, _state: &mut ()) -> SMatrix<T, O, B> {
        self.forward(x)
    }
}

const_struct!([T: Real, const I: usize, const O: usize] Dense<T, I, O> = Dense { weight, bias });

impl<T: Real, const I: usize, const O: usize> approx::AbsDiffEq for Dense<T, I, O> {
    type Epsilon = T;
    fn default_epsilon() -> T {
        T::default_epsilon()
    }
    fn abs_diff_eq(&self, other: &Self, epsilon: T) -> bool {
        self.weight.abs_diff_eq(&other.weight, epsilon) && self.bias.abs_diff_eq(&other.bias, epsilon)
    }
}

impl<T: Real, const I: usize, const O: usize> approx::RelativeEq for Dense<T, I, O> {
    fn default_max_relative() -> T {
        T::default_max_relative()
    }
    fn relative_eq(&self, other: &Self, epsilon: T, max_relative: T) -> bool {
        self.weight.relative_eq(&other.weight, epsilon, max_relative)
            && self.bias.relative_eq(&other.bias, epsilon, max_relative)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::GradCheck;
    use crate::{Init, Parameters, Rng};
    use nalgebra::{Matrix2x3, Vector2};

    fn layer() -> Dense<f64, 3, 2> {
        Dense::new(
            Matrix2x3::new(0.5, -1.0, 2.0, 1.5, 0.25, -0.75),
            Vector2::new(0.1, -0.2),
        )
    }

    #[test]
    fn forward_matches_hand_computed_values() {
        let x = SMatrix::<f64, 3, 2>::new(1.0, -2.0, 0.5, 3.0, 1.0, -1.0);
        let y = layer().forward(&x);
        // Column 0: x = (1, 0.5, 1); column 1: x = (-2, 3, -1).
        let expected = SMatrix::<f64, 2, 2>::new(
            0.5 - 0.5 + 2.0 + 0.1,
            -1.0 - 3.0 - 2.0 + 0.1,
            1.5 + 0.125 - 0.75 - 0.2,
            -3.0 + 0.75 + 0.75 - 0.2,
        );
        assert!((y - expected).abs().max() < 1e-15, "{y} vs {expected}");
    }

    #[test]
    fn backward_matches_hand_computed_values() {
        let x = SMatrix::<f64, 3, 1>::new(1.0, 2.0, 3.0);
        let dy = SMatrix::<f64, 2, 1>::new(1.0, -2.0);
        let mut grad = Dense::zeros();
        let dx = layer().backward(&x, &layer().forward(&x), &(), &dy, &mut grad);
        assert_eq!(grad.weight, Matrix2x3::new(1.0, 2.0, 3.0, -2.0, -4.0, -6.0));
        assert_eq!(grad.bias, Vector2::new(1.0, -2.0));
        // Wᵀ dy
        assert_eq!(dx, SMatrix::<f64, 3, 1>::new(0.5 - 3.0, -1.0 - 0.5, 2.0 + 1.5));
    }

    #[test]
    fn gradient_check() {
        let layer = Dense::<f64, 4, 3>::build(Init::PyTorch, &mut Rng::new(5));
        let x = SMatrix::<f64, 4, 5>::from_fn(|i, j| (i as f64 - 1.5) * 0.7 + j as f64 * 0.3);
        let report = GradCheck::default().strict().layer(&layer, &x);
        assert!(report.passed(), "{report}");
        assert_eq!(report.tensors.len(), 3);
    }

    #[test]
    fn batch_equals_single_samples() {
        let x = SMatrix::<f64, 3, 4>::from_fn(|i, j| (i * 4 + j) as f64 * 0.1 - 0.5);
        let dy = SMatrix::<f64, 2, 4>::from_fn(|i, j| (i + j) as f64 * 0.2 - 0.3);
        let y = layer().forward(&x);
        let mut batch_grad = Dense::zeros();
        let dx = layer().backward(&x, &y, &(), &dy, &mut batch_grad);
        let mut single_grad = Dense::zeros();
        for b in 0..4 {
            let xb: SMatrix<f64, 3, 1> = x.column(b).into();
            let dyb: SMatrix<f64, 2, 1> = dy.column(b).into();
            assert_eq!(layer().forward(&xb), y.column(b));
            let dxb = layer().backward(&xb, &layer().forward(&xb), &(), &dyb, &mut single_grad);
            assert!((dxb - dx.column(b)).abs().max() < 1e-15);
        }
        assert!((batch_grad.weight - single_grad.weight).abs().max() < 1e-14);
        assert!((batch_grad.bias - single_grad.bias).abs().max() < 1e-14);
    }

    #[test]
    fn backward_accumulates() {
        let x = SMatrix::<f64, 3, 2>::from_fn(|i, j| (i + 2 * j) as f64 - 1.0);
        let dy = SMatrix::<f64, 2, 2>::new(0.5, -1.0, 2.0, 0.25);
        let y = layer().forward(&x);
        let mut once = Dense::zeros();
        layer().backward_parameters(&x, &y, &(), &dy, &mut once);
        let mut twice = Dense::zeros();
        layer().backward_parameters(&x, &y, &(), &dy, &mut twice);
        layer().backward_parameters(&x, &y, &(), &dy, &mut twice);
        assert_eq!(twice.weight, once.weight * 2.0);
        assert_eq!(twice.bias, once.bias * 2.0);
    }

    /// Forward and backward against nalgebra's formulas, in `f64` and `f32`, plus a strict
    /// gradient check: whichever of nalgebra's loop, the tiled kernels or the narrow layers'
    /// transposed products the shape selects.
    fn check_shape<const I: usize, const O: usize, const B: usize>() {
        let layer = Dense::<f64, I, O>::build(Init::PyTorch, &mut Rng::new((I * 100 + O) as u64));
        let x = SMatrix::<f64, I, B>::from_fn(|i, j| ((i * B + j) as f64 * 0.37).sin());
        let dy = SMatrix::<f64, O, B>::from_fn(|i, j| ((i * B + j) as f64 * 0.53).cos());
        let mut expected_y = layer.weight * x;
        for mut column in expected_y.column_iter_mut() {
            column += &layer.bias;
        }
        let y = layer.forward(&x);
        assert!((y - expected_y).abs().max() < 1e-13, "{I}-{O} batch {B}: forward");
        // Start from a non-zero gradient: backward must add to it.
        let mut grad = Dense::new(SMatrix::from_element(0.5), SVector::from_element(-0.25));
        let dx = layer.backward(&x, &y, &(), &dy, &mut grad);
        let expected_weight = dy * x.transpose() + SMatrix::<f64, O, I>::from_element(0.5);
        assert!(
            (grad.weight - expected_weight).abs().max() < 1e-13,
            "{I}-{O} batch {B}: dW"
        );
        assert!(
            (dx - layer.weight.transpose() * dy).abs().max() < 1e-13,
            "{I}-{O} batch {B}: dX"
        );
        let report = GradCheck::default().strict().layer(&layer, &x);
        assert!(report.passed(), "{I}-{O} batch {B}: {report}");

        let layer32 = Dense::<f32, I, O>::new(layer.weight.cast(), layer.bias.cast());
        let (x32, dy32) = (x.cast::<f32>(), dy.cast::<f32>());
        let y32 = layer32.forward(&x32);
        assert!(
            (y32.cast::<f64>() - y).abs().max() < 1e-5,
            "{I}-{O} batch {B}: f32 forward"
        );
        let mut grad32 = Dense::zeros();
        let dx32 = layer32.backward(&x32, &y32, &(), &dy32, &mut grad32);
        let dw = grad.weight - SMatrix::<f64, O, I>::from_element(0.5);
        assert!(
            (grad32.weight.cast::<f64>() - dw).abs().max() < 1e-4,
            "{I}-{O} batch {B}: f32 dW"
        );
        assert!(
            (dx32.cast::<f64>() - dx).abs().max() < 1e-4,
            "{I}-{O} batch {B}: f32 dX"
        );
    }

    #[test]
    fn every_product_path_matches_nalgebra_around_the_thresholds() {
        check_shape::<16, 16, 8>(); // exactly 2048 multiply-adds: kernel dW, dot-product dX
        check_shape::<16, 16, 7>(); // just below: loops
        check_shape::<32, 32, 16>(); // exactly 16,384: kernel forward
        check_shape::<32, 32, 15>(); // just below: the small forward, four partial sums
        check_shape::<7, 16, 32>(); // 7 inputs: one-sum forward, kernel dW, loop dX
        check_shape::<16, 15, 16>(); // 15 outputs: small forward, transposed dW and dX
        check_shape::<33, 17, 9>(); // sizes that fill no tile evenly
        check_shape::<40, 10, 8>(); // narrow: transposed dW and dX
        check_shape::<70, 33, 13>(); // several tiles and edges in every direction
        check_shape::<9, 40, 5>(); // 9 inputs: small forward, loop dX
    }

    #[test]
    fn same_seed_same_weights_in_both_precisions() {
        let a = Dense::<f32, 5, 4>::build(Init::HeNormal, &mut Rng::new(11));
        let b = Dense::<f64, 5, 4>::build(Init::HeNormal, &mut Rng::new(11));
        for (x, y) in a.weight.iter().zip(b.weight.iter()) {
            assert_eq!(*x, *y as f32);
        }
        assert_eq!(a.bias, SVector::<f32, 4>::zeros());
        // First draw of seed 11 under PyTorch's rule, bound 1/sqrt(5): a fixed literal on every platform.
        let c = Dense::<f64, 5, 4>::build(Init::PyTorch, &mut Rng::new(11));
        let mut rng = Rng::new(11);
        let bound = 1.0 / 5f64.sqrt();
        assert_eq!(c.weight[(0, 0)], rng.uniform(-bound, bound));
    }
}
