//! Layer normalisation over the features of each sample.

use nalgebra::{RowSVector, SMatrix, SVector};

use super::fields::const_struct;
use super::norm_gradient::{NormGradient, affine_norm};
use crate::{Layer, Real};

/// Layer normalisation of each sample (column) over its `F` features (rows), with a learnable
/// per-feature scale and shift: PyTorch's `LayerNorm(F)` with its defaults (`eps` 1e-5,
/// `elementwise_affine`, bias).
///
/// For each sample `j`:
/// ```text
/// μ_j  = (1/F) Σ_i x_ij                 σ²_j = (1/F) Σ_i (x_ij − μ_j)²   (biased)
/// x̂_ij = (x_ij − μ_j) / √(σ²_j + eps)    y_ij = γ_i x̂_ij + β_i
/// ```
/// Samples do not interact, so training and inference compute the same thing and a batch
/// equals its single columns; there are no running statistics.
///
/// **Backward**, with `dy = ∂L/∂y`, `g_ij = γ_i dy_ij` and `s_j = 1/√(σ²_j + eps)`:
/// ```text
/// ∂L/∂γ_i += Σ_j dy_ij x̂_ij            ∂L/∂β_i += Σ_j dy_ij
/// ∂L/∂x_ij  = s_j (g_ij − (1/F) Σ_k g_kj − x̂_ij (1/F) Σ_k g_kj x̂_kj)
/// ```
/// The cache ([`LayerNormCache`]) holds `μ_j` and `s_j`; backward recomputes `x̂` from the input.
///
/// ```
/// use static_nn::{Layer, LayerNorm};
/// use static_nn::nalgebra::{Vector2, Vector4};
///
/// let mut ln = LayerNorm::<f64, 4>::new();
/// ln.bias = Vector4::from_element(1.0);
/// // Mean 2.5, variance 1.25.
/// let y = ln.forward(&Vector4::new(1.0, 2.0, 3.0, 4.0));
/// let s = 1.0 / (1.25 + 1e-5_f64).sqrt();
/// let expected = Vector4::new(1.0 - 1.5 * s, 1.0 - 0.5 * s, 1.0 + 0.5 * s, 1.0 + 1.5 * s);
/// assert!((y - expected).abs().max() < 1e-15);
/// ```
#[derive(Clone, Debug, PartialEq, bytemuck::Zeroable)]
#[zeroable(bound = "T: Real")]
pub struct LayerNorm<T, const F: usize> {
    /// The scale γ, length `F` (PyTorch's `weight`; initially 1).
    pub weight: SVector<T, F>,
    /// The shift β, length `F` (PyTorch's `bias`; initially 0).
    pub bias: SVector<T, F>,
    /// Added to the variance before its square root (default 1e-5).
    pub eps: T,
}

/// What [`LayerNorm`]'s training forward pass records: each sample's mean and inverse standard
/// deviation.
#[derive(Clone, Debug, PartialEq, bytemuck::Zeroable)]
#[zeroable(bound = "T: Real")]
pub struct LayerNormCache<T, const B: usize> {
    /// The mean `μ_j` of each sample.
    pub mean: RowSVector<T, B>,
    /// `s_j = 1/√(σ²_j + eps)` of each sample.
    pub inv_std: RowSVector<T, B>,
}

impl<T: Real, const F: usize> LayerNorm<T, F> {
    /// A layer with PyTorch's initial values: γ = 1, β = 0, `eps` 1e-5.
    pub fn new() -> Self {
        Self {
            weight: SVector::from_element(T::one()),
            bias: SVector::zeros(),
            eps: T::of(1e-5),
        }
    }

    /// Normalises `x` with per-sample statistics written into `cache`.
    fn normalise<const B: usize>(&self, x: &SMatrix<T, F, B>, cache: &mut LayerNormCache<T, B>) -> SMatrix<T, F, B> {
        let n = T::of(F as f64);
        let mut y = *x;
        // Columns as plain slices, since nalgebra's generic iterators do not vectorise (a
        // zero-width input has no entries, hence no chunks, whatever the chunk size).
        for (j, column) in y.as_mut_slice().chunks_exact_mut(F.max(1)).enumerate() {
            let mean = column.iter().fold(T::zero(), |sum, &v| sum + v) / n;
            // Two passes: the variance of values far from zero keeps its precision.
            let var = column.iter().fold(T::zero(), |sum, &v| sum + (v - mean) * (v - mean)) / n;
            let inv_std = T::one() / (var + self.eps).sqrt();
            for (i, v) in column.iter_mut().enumerate() {
                *v = (*v - mean) * inv_std * self.weight[i] + self.bias[i];
            }
            cache.mean[j] = mean;
            cache.inv_std[j] = inv_std;
        }
        y
    }

    /// Adds the γ and β gradients into `grad` and, if `dx` is given, writes the input gradient.
    fn backward_into<const B: usize>(
        &self,
        x: &SMatrix<T, F, B>,
        cache: &LayerNormCache<T, B>,
        dy: &SMatrix<T, F, B>,
        grad: &mut NormGradient<T, F>,
        mut dx: Option<&mut SMatrix<T, F, B>>,
    ) {
        let n = T::of(F as f64);
        for j in 0..B {
            let (mean, inv_std) = (cache.mean[j], cache.inv_std[j]);
            let (x_col, dy_col) = (&x.as_slice()[j * F..][..F], &dy.as_slice()[j * F..][..F]);
            let (mut sum_g, mut sum_g_xhat) = (T::zero(), T::zero());
            for (i, (&x_i, &dy_i)) in x_col.iter().zip(dy_col).enumerate() {
                let x_hat = (x_i - mean) * inv_std;
                grad.weight[i] += dy_i * x_hat;
                grad.bias[i] += dy_i;
                let g = dy_i * self.weight[i];
                sum_g += g;
                sum_g_xhat += g * x_hat;
            }
            if let Some(dx) = dx.as_deref_mut() {
                let dx_col = &mut dx.as_mut_slice()[j * F..][..F];
                for (i, (out, (&x_i, &dy_i))) in dx_col.iter_mut().zip(x_col.iter().zip(dy_col)).enumerate() {
                    let x_hat = (x_i - mean) * inv_std;
                    let g = dy_i * self.weight[i];
                    *out = inv_std * (g - sum_g / n - x_hat * sum_g_xhat / n);
                }
            }
        }
    }
}

impl<T: Real, const F: usize> Default for LayerNorm<T, F> {
    /// As [`LayerNorm::new`].
    fn default() -> Self {
        Self::new()
    }
}

// `reset` sets γ and β to PyTorch's initial values ([`LayerNorm::new`]), draws nothing, and
// keeps `eps`.
affine_norm! {
    LayerNorm;
    {
        fn set_hyperparameters(&mut self, template: Option<&Self>) {
            self.eps = template.map_or_else(|| Self::new().eps, |t| t.eps);
        }
    }
}

impl<T: Real, const F: usize, const B: usize> Layer<T, SMatrix<T, F, B>> for LayerNorm<T, F> {
    type Output = SMatrix<T, F, B>;
    type Cache = LayerNormCache<T, B>;

    fn forward(&self, x: &SMatrix<T, F, B>) -> SMatrix<T, F, B> {
        self.normalise(x, &mut bytemuck::Zeroable::zeroed())
    }

    fn forward_train(&self, x: &SMatrix<T, F, B>, cache: &mut LayerNormCache<T, B>) -> SMatrix<T, F, B> {
        self.normalise(x, cache)
    }

    fn backward(
        &self,
        x: &SMatrix<T, F, B>,
        _y: &SMatrix<T, F, B>,
        cache: &LayerNormCache<T, B>,
        dy: &SMatrix<T, F, B>,
        grad: &mut NormGradient<T, F>,
    ) -> SMatrix<T, F, B> {
        let mut dx = SMatrix::zeros();
        self.backward_into(x, cache, dy, grad, Some(&mut dx));
        dx
    }

    fn backward_parameters(
        &self,
        x: &SMatrix<T, F, B>,
        _y: &SMatrix<T, F, B>,
        cache: &LayerNormCache<T, B>,
        dy: &SMatrix<T, F, B>,
        grad: &mut NormGradient<T, F>,
    ) {
        self.backward_into(x, cache, dy, grad, None);
    }
}

const_struct!([T: Real, const F: usize] LayerNorm<T, F> = LayerNorm { weight, bias, eps });

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{Dense, GradCheck, Mse, Relu};
    use crate::{Init, Parameters, Rng};
    use bytemuck::Zeroable;

    /// PyTorch's documented formulas, written out sample by sample, with the backward pass in
    /// staged form (through `∂L/∂σ²` and `∂L/∂μ`). Returns `y`, `dx` and `dγ`.
    fn reference<const F: usize, const B: usize>(
        gamma: &SVector<f64, F>,
        beta: &SVector<f64, F>,
        x: &SMatrix<f64, F, B>,
        dy: &SMatrix<f64, F, B>,
    ) -> (SMatrix<f64, F, B>, SMatrix<f64, F, B>, SVector<f64, F>) {
        let n = F as f64;
        let (mut y, mut dx, mut dgamma) = (SMatrix::zeros(), SMatrix::zeros(), SVector::zeros());
        for j in 0..B {
            let mean = (0..F).map(|i| x[(i, j)]).sum::<f64>() / n;
            let var = (0..F).map(|i| (x[(i, j)] - mean).powi(2)).sum::<f64>() / n;
            let std = (var + 1e-5).sqrt();
            let dx_hat: Vec<f64> = (0..F).map(|i| dy[(i, j)] * gamma[i]).collect();
            let dvar: f64 = (0..F)
                .map(|i| dx_hat[i] * (x[(i, j)] - mean) * -0.5 / std.powi(3))
                .sum();
            let dmean = (0..F).map(|i| -dx_hat[i] / std).sum::<f64>()
                + dvar * (0..F).map(|i| -2.0 * (x[(i, j)] - mean)).sum::<f64>() / n;
            for i in 0..F {
                y[(i, j)] = gamma[i] * (x[(i, j)] - mean) / std + beta[i];
                dx[(i, j)] = dx_hat[i] / std + dvar * 2.0 * (x[(i, j)] - mean) / n + dmean / n;
                dgamma[i] += dy[(i, j)] * (x[(i, j)] - mean) / std;
            }
        }
        (y, dx, dgamma)
    }

    fn layer<const F: usize>() -> LayerNorm<f64, F> {
        let mut ln = LayerNorm::new();
        ln.weight = SVector::from_fn(|i, _| 1.2 - 0.35 * i as f64);
        ln.bias = SVector::from_fn(|i, _| 0.1 * i as f64 - 0.2);
        ln
    }

    fn input<const F: usize, const B: usize>() -> SMatrix<f64, F, B> {
        SMatrix::from_fn(|i, j| ((i * B + j) as f64 * 1.3).sin() * 2.0 + j as f64)
    }

    #[test]
    fn forward_and_backward_match_pytorch_formulas() {
        let ln = layer::<5>();
        let x = input::<5, 3>();
        let dy = SMatrix::<f64, 5, 3>::from_fn(|i, j| ((i + 3 * j) as f64 * 0.7).cos());
        let (y_ref, dx_ref, dgamma) = reference(&ln.weight, &ln.bias, &x, &dy);
        let mut cache = LayerNormCache::zeroed();
        let y = ln.forward_train(&x, &mut cache);
        assert!((y - y_ref).abs().max() < 1e-14, "{y} vs {y_ref}");
        assert_eq!(ln.forward(&x), y);
        let mut grad = NormGradient::zeroed();
        let dx = ln.backward(&x, &y, &cache, &dy, &mut grad);
        assert!((dx - dx_ref).abs().max() < 1e-13, "{dx} vs {dx_ref}");
        assert!((grad.weight - dgamma).abs().max() < 1e-14);
        assert_eq!(grad.bias, dy.column_sum());
    }

    #[test]
    fn gradient_check_for_several_widths() {
        fn check<const F: usize>() {
            let report = GradCheck::default().strict().layer(&layer::<F>(), &input::<F, 3>());
            assert!(report.passed(), "F = {F}\n{report}");
            assert_eq!(report.tensors.len(), 3);
        }
        check::<2>();
        check::<3>();
        check::<5>();
        check::<8>();
        check::<16>();
    }

    #[test]
    fn a_single_feature_normalises_to_the_shift_without_nan() {
        let ln = layer::<1>();
        let x = SMatrix::<f64, 1, 3>::new(-4.0, 0.0, 7.0);
        assert_eq!(ln.forward(&x), SMatrix::<f64, 1, 3>::from_element(ln.bias[0]));
        let report = GradCheck::default().strict().layer(&ln, &x);
        assert!(report.passed(), "{report}");
    }

    #[test]
    fn gradient_check_inside_a_network() {
        type Net = (Dense<f64, 3, 6>, LayerNorm<f64, 6>, Relu, Dense<f64, 6, 2>);
        let mut net = Net::build(Init::PyTorch, &mut Rng::new(8));
        net.1 = layer::<6>();
        let x = input::<3, 4>();
        let report = GradCheck::default()
            .strict()
            .network(&net, &Mse, &x, &SMatrix::from_element(0.3));
        assert!(report.passed(), "{report}");
    }

    #[test]
    fn batch_equals_single_samples() {
        let ln = layer::<4>();
        let x = input::<4, 3>();
        let dy = SMatrix::<f64, 4, 3>::from_fn(|i, j| (i as f64 - j as f64) * 0.3);
        let mut cache = LayerNormCache::zeroed();
        let y = ln.forward_train(&x, &mut cache);
        let mut batch_grad = NormGradient::zeroed();
        let dx = ln.backward(&x, &y, &cache, &dy, &mut batch_grad);
        let mut single_grad = NormGradient::zeroed();
        for b in 0..3 {
            let xb: SMatrix<f64, 4, 1> = x.column(b).into();
            let dyb: SMatrix<f64, 4, 1> = dy.column(b).into();
            let mut cb = LayerNormCache::zeroed();
            let yb = ln.forward_train(&xb, &mut cb);
            assert_eq!(yb, y.column(b));
            let dxb = ln.backward(&xb, &yb, &cb, &dyb, &mut single_grad);
            assert!((dxb - dx.column(b)).abs().max() < 1e-15);
        }
        assert!((batch_grad.weight - single_grad.weight).abs().max() < 1e-14);
        assert!((batch_grad.bias - single_grad.bias).abs().max() < 1e-14);
    }

    #[test]
    fn backward_accumulates_and_reset_restores_defaults() {
        let ln = layer::<3>();
        let x = input::<3, 2>();
        let dy = SMatrix::<f64, 3, 2>::new(1.0, -0.5, 0.25, 2.0, 0.0, -1.0);
        let mut cache = LayerNormCache::zeroed();
        let y = ln.forward_train(&x, &mut cache);
        let mut once = NormGradient::zeroed();
        ln.backward_parameters(&x, &y, &cache, &dy, &mut once);
        let mut twice = NormGradient::zeroed();
        ln.backward(&x, &y, &cache, &dy, &mut twice);
        ln.backward_parameters(&x, &y, &cache, &dy, &mut twice);
        assert_eq!(twice.weight, once.weight * 2.0);
        assert_eq!(twice.bias, once.bias * 2.0);

        let built = LayerNorm::<f32, 3>::build(Init::HeNormal, &mut Rng::new(0));
        assert_eq!(built, LayerNorm::new());
        assert_eq!((built.weight[0], built.bias[0], built.eps), (1.0, 0.0, 1e-5));
    }
}
