//! Batch normalisation over the samples of a batch.

use core::marker::PhantomData;

use nalgebra::{SMatrix, SVector};

use super::fields::const_struct;
use super::norm_gradient::{NormGradient, affine_norm};
use crate::{BufferFault, Layer, Real, TensorInfo};

/// Batch normalisation of each feature (row) over the `B` samples (columns) of a batch:
/// PyTorch's `BatchNorm1d(F)` with its defaults (`eps` 1e-5, `momentum` 0.1, affine, tracking
/// running statistics).
///
/// **Training** ([`Layer::forward_train`]), for each feature `i`:
/// ```text
/// μ_i  = (1/B) Σ_j x_ij                 σ²_i = (1/B) Σ_j (x_ij − μ_i)²   (biased)
/// x̂_ij = (x_ij − μ_i) / √(σ²_i + eps)    y_ij = γ_i x̂_ij + β_i
/// ```
/// then [`Layer::update_buffers`], which [`Workspace::train_step`](crate::Workspace::train_step)
/// calls after the backward pass:
/// ```text
/// running_mean ← (1 − momentum) running_mean + momentum μ
/// running_var  ← (1 − momentum) running_var  + momentum σ² B/(B − 1)   (unbiased)
/// ```
/// **Inference** ([`Layer::forward`]): `y = γ (x − running_mean) / √(running_var + eps) + β`,
/// each sample on its own, so any batch width works, including 1.
///
/// **Backward** (training), with `dy = ∂L/∂y` and `s_i = 1/√(σ²_i + eps)`:
/// ```text
/// ∂L/∂γ_i += Σ_j dy_ij x̂_ij            ∂L/∂β_i += Σ_j dy_ij
/// ∂L/∂x_ij  = γ_i s_i (dy_ij − (1/B) Σ_k dy_ik − x̂_ij (1/B) Σ_k dy_ik x̂_ik)
/// ```
/// The cache ([`BatchNormCache`]) holds `μ` and `σ²`; backward recomputes `x̂` from the input.
///
/// **Buffers.** `running_mean` and `running_var` are [`Parameters::buffers`](crate::Parameters::buffers), not trainable
/// tensors: optimizers and the gradient checker never see them, whatever saves a model's
/// weights saves them too (through that traversal), and only [`Layer::update_buffers`]
/// changes them. PyTorch keeps a third buffer,
/// `num_batches_tracked`, which it reads only when `momentum=None` (a cumulative average, not
/// offered here); it is not kept. The safetensors importer skips it; when writing a
/// `state_dict` for PyTorch, any count gives the same model.
///
/// **A training batch of one sample does not compile.** Its variance is 0 and its unbiased
/// variance 0/0 (PyTorch raises an error at run time). The check is a constant assertion, which
/// `cargo build`, `cargo test` and `cargo run` evaluate but `cargo check` does not: it fails when
/// the compiler instantiates `forward_train` for `B = 1`.
///
/// ```
/// use static_nn::{BatchNorm, Layer};
/// use static_nn::bytemuck::Zeroable;
/// use static_nn::nalgebra::{SMatrix, Vector2};
///
/// let mut bn = BatchNorm::<f64, 2>::new();
/// // Feature 0 has batch mean 2 and variance 1; feature 1 is constant.
/// let x = SMatrix::<f64, 2, 2>::new(1.0, 3.0,
///                                   5.0, 5.0);
/// let mut cache = Zeroable::zeroed();
/// let y = bn.forward_train(&x, &mut cache);
/// let s = 1.0 / (1.0 + 1e-5_f64).sqrt();
/// assert!((y - SMatrix::<f64, 2, 2>::new(-s, s, 0.0, 0.0)).abs().max() < 1e-15);
///
/// bn.update_buffers(&cache);
/// assert!((bn.running_mean - Vector2::new(0.2, 0.5)).abs().max() < 1e-15);
/// assert!((bn.running_var - Vector2::new(0.9 + 0.1 * 2.0, 0.9)).abs().max() < 1e-15);
///
/// // Inference uses the running statistics, one sample at a time if need be.
/// let single = bn.forward(&Vector2::new(0.2, 0.5));
/// assert_eq!(single, Vector2::zeros());
/// ```
#[derive(Clone, Debug, PartialEq, bytemuck::Zeroable)]
#[zeroable(bound = "T: Real")]
pub struct BatchNorm<T, const F: usize> {
    /// The scale γ, length `F` (PyTorch's `weight`; initially 1).
    pub weight: SVector<T, F>,
    /// The shift β, length `F` (PyTorch's `bias`; initially 0).
    pub bias: SVector<T, F>,
    /// The running mean used by inference (a buffer; initially 0).
    pub running_mean: SVector<T, F>,
    /// The running unbiased variance used by inference (a buffer; initially 1).
    pub running_var: SVector<T, F>,
    /// Added to the variance before its square root (default 1e-5).
    pub eps: T,
    /// Weight of the new batch in the running statistics (default 0.1).
    pub momentum: T,
}

/// What [`BatchNorm`]'s training forward pass records: the batch statistics of each feature.
///
/// The batch width `B` is part of the type so that a direct call of
/// [`update_buffers`](Layer::update_buffers), whose only argument is the cache, knows which
/// batch width (hence which unbiased correction) it is for.
#[derive(Clone, Debug, PartialEq, bytemuck::Zeroable)]
#[zeroable(bound = "T: Real")]
pub struct BatchNormCache<T, const F: usize, const B: usize> {
    /// The batch mean `μ`.
    pub mean: SVector<T, F>,
    /// The biased batch variance `σ²`.
    pub var: SVector<T, F>,
    batch: PhantomData<[T; B]>,
}

impl<T: Real, const F: usize> BatchNorm<T, F> {
    /// Feature `i`'s running mean and variance after [`Layer::update_buffers`] with `cache`:
    /// one formula for the update and for the guard's check of it.
    #[inline]
    fn updated<const B: usize>(&self, cache: &BatchNormCache<T, F, B>, i: usize) -> (T, T) {
        let () = <Self as TrainingBatch<B>>::HAS_TWO_SAMPLES;
        let m = self.momentum;
        let unbiased = T::of(B as f64 / (B - 1) as f64);
        (
            (T::one() - m) * self.running_mean[i] + m * cache.mean[i],
            (T::one() - m) * self.running_var[i] + m * cache.var[i] * unbiased,
        )
    }

    /// A layer with PyTorch's initial values: γ = 1, β = 0, running mean 0, running variance 1,
    /// `eps` 1e-5, `momentum` 0.1.
    pub fn new() -> Self {
        Self {
            weight: SVector::from_element(T::one()),
            bias: SVector::zeros(),
            running_mean: SVector::zeros(),
            running_var: SVector::from_element(T::one()),
            eps: T::of(1e-5),
            momentum: T::of(0.1),
        }
    }

    /// `1/√(var + eps)` for each feature.
    fn inverse_std(&self, var: &SVector<T, F>) -> SVector<T, F> {
        var.map(|v| T::one() / (v + self.eps).sqrt())
    }

    /// Adds the γ and β gradients into `grad`; returns `1/√(σ² + eps)`, `Σ_j dy_ij` and
    /// `Σ_j dy_ij x̂_ij`, which the input gradient reuses.
    fn accumulate<const B: usize>(
        &self,
        x: &SMatrix<T, F, B>,
        cache: &BatchNormCache<T, F, B>,
        dy: &SMatrix<T, F, B>,
        grad: &mut NormGradient<T, F>,
    ) -> (SVector<T, F>, SVector<T, F>, SVector<T, F>) {
        let inv_std = self.inverse_std(&cache.var);
        let mut sum_dy = SVector::<T, F>::zeros();
        let mut sum_dy_xhat = SVector::<T, F>::zeros();
        for (x_col, dy_col) in x.column_iter().zip(dy.column_iter()) {
            for i in 0..F {
                let x_hat = (x_col[i] - cache.mean[i]) * inv_std[i];
                sum_dy[i] += dy_col[i];
                sum_dy_xhat[i] += dy_col[i] * x_hat;
            }
        }
        grad.weight += &sum_dy_xhat;
        grad.bias += &sum_dy;
        (inv_std, sum_dy, sum_dy_xhat)
    }
}

impl<T: Real, const F: usize> Default for BatchNorm<T, F> {
    /// As [`BatchNorm::new`].
    fn default() -> Self {
        Self::new()
    }
}

/// The compile-time check that a training batch has at least two samples, on the `BatchNorm`
/// type itself, so that the compiler's error names the user's layer.
trait TrainingBatch<const B: usize> {
    const HAS_TWO_SAMPLES: ();
}

impl<T, const F: usize, const B: usize> TrainingBatch<B> for BatchNorm<T, F> {
    const HAS_TWO_SAMPLES: () = assert!(
        B >= 2,
        "batch norm in training mode needs batches of at least 2 samples: one sample has variance 0 and unbiased variance 0/0"
    );
}

// `reset` sets the tensors and buffers to PyTorch's initial values ([`BatchNorm::new`]), draws
// nothing, and keeps `eps` and `momentum`.
affine_norm! {
    BatchNorm;
    buffers {
        running_mean: TensorInfo::vector("running_mean", F) => value(T::zero()),
        running_var: TensorInfo::vector("running_var", F) => value(T::one()),
    }
    {
        fn set_hyperparameters(&mut self, template: Option<&Self>) {
            let defaults = Self::new();
            let template = template.unwrap_or(&defaults);
            (self.eps, self.momentum) = (template.eps, template.momentum);
        }

        /// A negative running variance makes inference's `√(running_var + eps)` NaN.
        fn non_negative_buffers() -> impl Iterator<Item = bool> {
            [false, true].into_iter()
        }

        /// The state dict holds the buffers after the tensors, as PyTorch's does.
        fn state_dict_mut(&mut self) -> impl Iterator<Item = &mut [T]> {
            [
                self.weight.as_mut_slice(),
                self.bias.as_mut_slice(),
                self.running_mean.as_mut_slice(),
                self.running_var.as_mut_slice(),
            ]
            .into_iter()
        }
    }
}

impl<T: Real, const F: usize, const B: usize> Layer<T, SMatrix<T, F, B>> for BatchNorm<T, F> {
    type Output = SMatrix<T, F, B>;
    type Cache = BatchNormCache<T, F, B>;

    fn forward(&self, x: &SMatrix<T, F, B>) -> SMatrix<T, F, B> {
        let scale = self.weight.component_mul(&self.inverse_std(&self.running_var));
        let mut y = *x;
        for mut column in y.column_iter_mut() {
            for i in 0..F {
                column[i] = (column[i] - self.running_mean[i]) * scale[i] + self.bias[i];
            }
        }
        y
    }

    fn forward_train(&self, x: &SMatrix<T, F, B>, cache: &mut BatchNormCache<T, F, B>) -> SMatrix<T, F, B> {
        let () = <Self as TrainingBatch<B>>::HAS_TWO_SAMPLES;
        let n = T::of(B as f64);
        cache.mean = SVector::zeros();
        for column in x.column_iter() {
            cache.mean += column;
        }
        cache.mean /= n;
        // Two passes: the variance of values far from zero keeps its precision.
        cache.var = SVector::zeros();
        for column in x.column_iter() {
            for i in 0..F {
                let d = column[i] - cache.mean[i];
                cache.var[i] += d * d;
            }
        }
        cache.var /= n;

        let inv_std = self.inverse_std(&cache.var);
        let mut y = *x;
        for mut column in y.column_iter_mut() {
            for i in 0..F {
                column[i] = (column[i] - cache.mean[i]) * inv_std[i] * self.weight[i] + self.bias[i];
            }
        }
        y
    }

    fn backward(
        &self,
        x: &SMatrix<T, F, B>,
        _y: &SMatrix<T, F, B>,
        cache: &BatchNormCache<T, F, B>,
        dy: &SMatrix<T, F, B>,
        grad: &mut NormGradient<T, F>,
    ) -> SMatrix<T, F, B> {
        let (inv_std, sum_dy, sum_dy_xhat) = self.accumulate(x, cache, dy, grad);
        let n = T::of(B as f64);
        let mut dx = *dy;
        for (mut d, x_col) in dx.column_iter_mut().zip(x.column_iter()) {
            for i in 0..F {
                let x_hat = (x_col[i] - cache.mean[i]) * inv_std[i];
                d[i] = self.weight[i] * inv_std[i] * (d[i] - sum_dy[i] / n - x_hat * sum_dy_xhat[i] / n);
            }
        }
        dx
    }

    fn backward_parameters(
        &self,
        x: &SMatrix<T, F, B>,
        _y: &SMatrix<T, F, B>,
        cache: &BatchNormCache<T, F, B>,
        dy: &SMatrix<T, F, B>,
        grad: &mut NormGradient<T, F>,
    ) {
        self.accumulate(x, cache, dy, grad);
    }

    /// Inference mode with gradients (PyTorch's `bn.eval()` then `backward()`): the
    /// [`forward`](Layer::forward) function, with any batch width, 1 included. Records nothing.
    fn forward_eval(&self, x: &SMatrix<T, F, B>, _cache: &mut BatchNormCache<T, F, B>) -> SMatrix<T, F, B> {
        self.forward(x)
    }

    /// The running statistics are constants here, so with `s_i = 1/√(running_var_i + eps)` and
    /// `x̂_ij = (x_ij − running_mean_i) s_i`: `∂L/∂x_ij = γ_i s_i dy_ij`,
    /// `∂L/∂γ_i += Σ_j dy_ij x̂_ij`, `∂L/∂β_i += Σ_j dy_ij`.
    fn backward_eval(
        &self,
        x: &SMatrix<T, F, B>,
        _y: &SMatrix<T, F, B>,
        _cache: &BatchNormCache<T, F, B>,
        dy: &SMatrix<T, F, B>,
        grad: &mut NormGradient<T, F>,
    ) -> SMatrix<T, F, B> {
        let inv_std = self.inverse_std(&self.running_var);
        let mut dx = *dy;
        for ((mut d, x_col), dy_col) in dx.column_iter_mut().zip(x.column_iter()).zip(dy.column_iter()) {
            for i in 0..F {
                let x_hat = (x_col[i] - self.running_mean[i]) * inv_std[i];
                grad.weight[i] += dy_col[i] * x_hat;
                grad.bias[i] += dy_col[i];
                d[i] = self.weight[i] * inv_std[i] * dy_col[i];
            }
        }
        dx
    }

    fn update_buffers(&mut self, cache: &BatchNormCache<T, F, B>) {
        for i in 0..F {
            (self.running_mean[i], self.running_var[i]) = self.updated(cache, i);
        }
    }

    fn check_buffer_update(&self, cache: &BatchNormCache<T, F, B>, position: usize) -> Result<(), BufferFault<T>> {
        for i in 0..F {
            let (mean, var) = self.updated(cache, i);
            let fault = |buffer, value| BufferFault {
                layer: position,
                buffer,
                index: i,
                value,
            };
            if !mean.is_finite() {
                return Err(fault("running_mean", mean));
            }
            if !(var.is_finite() && var >= T::zero()) {
                return Err(fault("running_var", var));
            }
        }
        Ok(())
    }
}

// Generated source embeds a trained batch norm with its running statistics.
const_struct!([T: Real, const F: usize] BatchNorm<T, F> = BatchNorm {
    weight, bias, running_mean, running_var, eps, momentum
});

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{Dense, GradCheck, Mse, NonFiniteStep, Sgd, SgdConfig, Tanh, Workspace};
    use crate::{Init, Parameters, Rng, Tensors};
    use bytemuck::Zeroable;
    use nalgebra::{Vector2, Vector3};

    /// PyTorch's documented training-mode formulas, written out feature by feature, with the
    /// backward pass in the staged form of Ioffe & Szegedy (2015) rather than the compact one
    /// the layer uses. Returns `y`, `dx`, `dγ`, `dβ`, the batch mean and the unbiased variance.
    #[allow(clippy::type_complexity)]
    fn reference<const F: usize, const B: usize>(
        gamma: &[f64; F],
        beta: &[f64; F],
        x: &SMatrix<f64, F, B>,
        dy: &SMatrix<f64, F, B>,
    ) -> (
        SMatrix<f64, F, B>,
        SMatrix<f64, F, B>,
        [f64; F],
        [f64; F],
        [f64; F],
        [f64; F],
    ) {
        let eps = 1e-5;
        let n = B as f64;
        let (mut y, mut dx) = (SMatrix::zeros(), SMatrix::zeros());
        let (mut dgamma, mut dbeta, mut means, mut unbiased) = ([0.0; F], [0.0; F], [0.0; F], [0.0; F]);
        for i in 0..F {
            let mean = (0..B).map(|j| x[(i, j)]).sum::<f64>() / n;
            let var = (0..B).map(|j| (x[(i, j)] - mean).powi(2)).sum::<f64>() / n;
            let std = (var + eps).sqrt();
            let x_hat: Vec<f64> = (0..B).map(|j| (x[(i, j)] - mean) / std).collect();
            for j in 0..B {
                y[(i, j)] = gamma[i] * x_hat[j] + beta[i];
            }
            let dx_hat: Vec<f64> = (0..B).map(|j| dy[(i, j)] * gamma[i]).collect();
            let dvar: f64 = (0..B)
                .map(|j| dx_hat[j] * (x[(i, j)] - mean) * -0.5 * (var + eps).powf(-1.5))
                .sum();
            let dmean: f64 = (0..B).map(|j| -dx_hat[j] / std).sum::<f64>()
                + dvar * (0..B).map(|j| -2.0 * (x[(i, j)] - mean)).sum::<f64>() / n;
            for j in 0..B {
                dx[(i, j)] = dx_hat[j] / std + dvar * 2.0 * (x[(i, j)] - mean) / n + dmean / n;
            }
            dgamma[i] = (0..B).map(|j| dy[(i, j)] * x_hat[j]).sum();
            dbeta[i] = (0..B).map(|j| dy[(i, j)]).sum();
            means[i] = mean;
            unbiased[i] = var * n / (n - 1.0);
        }
        (y, dx, dgamma, dbeta, means, unbiased)
    }

    fn close<const R: usize, const C: usize>(a: &SMatrix<f64, R, C>, b: &SMatrix<f64, R, C>, tol: f64) -> bool {
        a.iter()
            .zip(b.iter())
            .all(|(a, b)| (a - b).abs() <= tol * (1.0 + b.abs()))
    }

    #[test]
    fn forward_and_running_statistics_match_hand_computed_values() {
        let mut bn = BatchNorm::<f64, 2>::new();
        bn.weight = Vector2::new(2.0, 3.0);
        bn.bias = Vector2::new(0.5, -1.0);
        // Feature 0: (1, 3, 5, 7), mean 4, biased variance 5, unbiased 20/3.
        // Feature 1: (-2, -2, 2, 2), mean 0, biased variance 4, unbiased 16/3.
        let x = SMatrix::<f64, 2, 4>::new(1.0, 3.0, 5.0, 7.0, -2.0, -2.0, 2.0, 2.0);
        let mut cache = BatchNormCache::zeroed();
        let y = bn.forward_train(&x, &mut cache);
        let (s0, s1) = (1.0 / (5.0f64 + 1e-5).sqrt(), 1.0 / (4.0f64 + 1e-5).sqrt());
        let expected = SMatrix::<f64, 2, 4>::new(
            0.5 - 6.0 * s0,
            0.5 - 2.0 * s0,
            0.5 + 2.0 * s0,
            0.5 + 6.0 * s0,
            -1.0 - 6.0 * s1,
            -1.0 - 6.0 * s1,
            -1.0 + 6.0 * s1,
            -1.0 + 6.0 * s1,
        );
        assert!(close(&y, &expected, 1e-15), "{y} vs {expected}");
        assert_eq!(cache.mean, Vector2::new(4.0, 0.0));
        assert_eq!(cache.var, Vector2::new(5.0, 4.0));

        bn.update_buffers(&cache);
        let expected_mean = Vector2::new(0.1 * 4.0, 0.0);
        let expected_var = Vector2::new(0.9 + 0.1 * 20.0 / 3.0, 0.9 + 0.1 * 16.0 / 3.0);
        assert!(close(&bn.running_mean, &expected_mean, 1e-15));
        assert!(close(&bn.running_var, &expected_var, 1e-15), "{}", bn.running_var);
    }

    #[test]
    fn training_matches_pytorch_formulas_over_several_updates() {
        let mut bn = BatchNorm::<f64, 3>::new();
        let gamma = [1.5, -0.7, 0.2];
        let beta = [0.1, 0.0, -2.0];
        bn.weight = Vector3::from(gamma);
        bn.bias = Vector3::from(beta);
        let (mut running_mean, mut running_var) = ([0.0; 3], [1.0; 3]);
        for step in 0..5 {
            let t = step as f64;
            let x = SMatrix::<f64, 3, 4>::from_fn(|i, j| ((i * 4 + j) as f64 * 0.9 + t).sin() * (1.0 + t) + t * 0.5);
            let dy = SMatrix::<f64, 3, 4>::from_fn(|i, j| ((i + 2 * j) as f64 * 0.4 - t).cos());
            let (y_ref, dx_ref, dgamma, dbeta, mean, unbiased) = reference(&gamma, &beta, &x, &dy);

            let mut cache = BatchNormCache::zeroed();
            let y = bn.forward_train(&x, &mut cache);
            let mut grad = NormGradient::zeroed();
            let dx = bn.backward(&x, &y, &cache, &dy, &mut grad);
            assert!(close(&y, &y_ref, 1e-13), "step {step}: {y} vs {y_ref}");
            assert!(close(&dx, &dx_ref, 1e-12), "step {step}: {dx} vs {dx_ref}");
            assert!(close(&grad.weight, &Vector3::from(dgamma), 1e-13));
            assert!(close(&grad.bias, &Vector3::from(dbeta), 1e-13));

            bn.update_buffers(&cache);
            for i in 0..3 {
                running_mean[i] = (1.0 - 0.1) * running_mean[i] + 0.1 * mean[i];
                running_var[i] = (1.0 - 0.1) * running_var[i] + 0.1 * unbiased[i];
            }
            assert!(
                close(&bn.running_mean, &Vector3::from(running_mean), 1e-14),
                "step {step}"
            );
            assert!(
                close(&bn.running_var, &Vector3::from(running_var), 1e-14),
                "step {step}"
            );
        }
        // Inference normalises with the running statistics, not the batch's.
        let x = SMatrix::<f64, 3, 2>::from_fn(|i, j| i as f64 - j as f64 * 0.5);
        let y = bn.forward(&x);
        let expected = SMatrix::<f64, 3, 2>::from_fn(|i, j| {
            gamma[i] * (x[(i, j)] - running_mean[i]) / (running_var[i] + 1e-5).sqrt() + beta[i]
        });
        assert!(close(&y, &expected, 1e-14), "{y} vs {expected}");
    }

    #[test]
    fn inference_treats_each_sample_on_its_own() {
        let mut bn = BatchNorm::<f64, 3>::new();
        bn.running_mean = Vector3::new(1.0, -2.0, 0.5);
        bn.running_var = Vector3::new(4.0, 0.25, 1.0);
        bn.weight = Vector3::new(1.0, 2.0, -1.0);
        let x = SMatrix::<f64, 3, 4>::from_fn(|i, j| (i * 4 + j) as f64 * 0.3 - 1.0);
        let y = bn.forward(&x);
        for b in 0..4 {
            let single: SMatrix<f64, 3, 1> = x.column(b).into();
            assert_eq!(bn.forward(&single), y.column(b));
        }
    }

    #[test]
    fn inference_mode_backward_checks_with_one_sample_and_more() {
        fn check<const B: usize>() {
            let mut bn = BatchNorm::<f64, 3>::new();
            bn.weight = Vector3::new(1.3, -0.6, 2.0);
            bn.bias = Vector3::new(0.2, -0.4, 1.0);
            bn.running_mean = Vector3::new(0.5, -1.0, 0.1);
            bn.running_var = Vector3::new(2.0, 0.3, 1.5);
            let x = SMatrix::<f64, 3, B>::from_fn(|i, j| ((i * B + j) as f64 * 1.7).sin() * (i + 1) as f64);
            let report = GradCheck::default().strict().layer(&crate::Eval(bn.clone()), &x);
            assert!(report.passed(), "B = {B}\n{report}");
            assert_eq!(report.tensors.len(), 3, "weight, bias and the input");

            // dx = γ dy / √(running_var + eps), entry by entry.
            let dy = SMatrix::<f64, 3, B>::from_fn(|i, j| (i + 2 * j) as f64 - 1.5);
            let mut grad = NormGradient::zeroed();
            let mut cache = Zeroable::zeroed();
            let y = bn.forward_eval(&x, &mut cache);
            assert_eq!(y, bn.forward(&x));
            let dx = bn.backward_eval(&x, &y, &cache, &dy, &mut grad);
            for i in 0..3 {
                for j in 0..B {
                    let expected = bn.weight[i] * dy[(i, j)] / (bn.running_var[i] + bn.eps).sqrt();
                    assert!((dx[(i, j)] - expected).abs() < 1e-15);
                }
            }
            assert_eq!(grad.bias, dy.column_sum());
        }
        check::<1>();
        check::<4>();
    }

    #[test]
    fn gradient_check_for_batches_of_2_4_8() {
        fn check<const B: usize>() {
            let mut bn = BatchNorm::<f64, 3>::new();
            bn.weight = Vector3::new(1.3, -0.6, 2.0);
            bn.bias = Vector3::new(0.2, -0.4, 1.0);
            let x = SMatrix::<f64, 3, B>::from_fn(|i, j| ((i * B + j) as f64 * 1.7).sin() * (i + 1) as f64);
            let report = GradCheck::default().strict().layer(&bn, &x);
            assert!(report.passed(), "B = {B}\n{report}");
            assert_eq!(report.tensors.len(), 3, "weight, bias and the input; no buffers");
            assert_eq!(report.tensor(0, "weight").unwrap().compared, 3);
        }
        check::<2>();
        check::<4>();
        check::<8>();
    }

    #[test]
    fn gradient_check_inside_a_network() {
        type Net = (Dense<f64, 2, 4>, BatchNorm<f64, 4>, Tanh, Dense<f64, 4, 1>);
        let mut net = Net::build(Init::PyTorch, &mut Rng::new(3));
        net.1.weight = SVector::from_fn(|i, _| 0.5 + i as f64 * 0.3);
        net.1.bias = SVector::from_fn(|i, _| i as f64 * 0.1 - 0.15);
        let x = SMatrix::<f64, 2, 5>::from_fn(|i, j| (i + 2 * j) as f64 * 0.4 - 1.0);
        let target = SMatrix::<f64, 1, 5>::from_fn(|_, j| j as f64 * 0.2);
        let report = GradCheck::default().strict().network(&net, &Mse, &x, &target);
        assert!(report.passed(), "{report}");
    }

    #[test]
    fn backward_accumulates() {
        let bn = BatchNorm::<f64, 2>::new();
        let x = SMatrix::<f64, 2, 3>::new(0.5, -1.0, 2.0, 1.0, 0.0, 0.25);
        let dy = SMatrix::<f64, 2, 3>::new(1.0, 0.5, -0.5, 2.0, -1.0, 0.0);
        let mut cache = BatchNormCache::zeroed();
        let y = bn.forward_train(&x, &mut cache);
        let mut once = NormGradient::zeroed();
        bn.backward_parameters(&x, &y, &cache, &dy, &mut once);
        let mut twice = NormGradient::zeroed();
        bn.backward(&x, &y, &cache, &dy, &mut twice);
        bn.backward(&x, &y, &cache, &dy, &mut twice);
        assert_eq!(twice.weight, once.weight * 2.0);
        assert_eq!(twice.bias, once.bias * 2.0);
    }

    #[test]
    fn running_statistics_are_buffers_that_only_the_training_step_changes() {
        type Net = (Dense<f64, 2, 3>, BatchNorm<f64, 3>);
        assert_eq!(
            Net::tensor_infos().map(|t| t.name).collect::<Vec<_>>(),
            ["weight", "bias", "weight", "bias"]
        );
        let buffers: Vec<_> = Net::buffer_infos().map(|t| (t.layer, t.name, t.rows)).collect();
        assert_eq!(buffers, [(1, "running_mean", 3), (1, "running_var", 3)]);

        let mut net = Net::build(Init::PyTorch, &mut Rng::new(1));
        assert_eq!(net.1, BatchNorm::new());
        let x = SMatrix::<f64, 2, 4>::from_fn(|i, j| (i * 4 + j) as f64 - 3.0);
        let mut workspace = Workspace::new();
        let mut sgd = Sgd::new(SgdConfig::with_lr(0.1));
        workspace.train_step(&mut net, &mut sgd, &Mse, &x, &SMatrix::<f64, 3, 4>::zeros());
        let batch_mean = workspace.cache.0.1.column_sum() / 4.0;
        assert!(close(&net.1.running_mean, &(batch_mean * 0.1), 1e-15));
        assert_ne!(net.1.running_var, Vector3::from_element(1.0));

        // The optimizer state holds only γ and β.
        assert_eq!(<Sgd<f64, Net> as Tensors<f64>>::scalar_count(), 9 + 6);
        // Inference changes nothing.
        let before = net.clone();
        let _ = net.forward(&x);
        assert_eq!(net, before);
    }

    #[test]
    fn a_step_that_would_overflow_the_running_variance_is_refused_whole() {
        type Net = (Dense<f32, 2, 3>, BatchNorm<f32, 3>, Dense<f32, 3, 1>);
        let mut net = Net::build(crate::Init::PyTorch, &mut Rng::new(4));
        let mut sgd = Sgd::new(SgdConfig {
            momentum: 0.9,
            ..SgdConfig::with_lr(0.1)
        });
        let mut workspace = Workspace::new();
        let ordinary = SMatrix::<f32, 2, 4>::from_fn(|i, j| (i + 2 * j) as f32 * 0.3);
        let target = SMatrix::<f32, 1, 4>::from_element(0.5);
        workspace
            .try_train_step(&mut net, &mut sgd, &Mse, &ordinary, &target, None)
            .unwrap();
        let (net_before, sgd_before) = (net.clone(), sgd.clone());

        // The batch variance overflows f32, so the normalised output (and with it the loss and
        // the gradient) is finite while the running variance would become +∞.
        let huge = ordinary.map(|v| (v - 0.5) * 1e30);
        let refused = workspace.try_train_step(&mut net, &mut sgd, &Mse, &huge, &target, None);
        let Err(NonFiniteStep::Buffer(fault)) = refused else {
            panic!("{refused:?}");
        };
        assert_eq!((fault.layer, fault.buffer), (1, "running_var"));
        assert_eq!(fault.value, f32::INFINITY);
        assert_eq!(
            NonFiniteStep::Buffer(fault).to_string(),
            format!(
                "1.running_var[{}] would become inf; the step was not taken",
                fault.index
            )
        );
        assert_eq!(net, net_before);
        assert_eq!(sgd.steps, sgd_before.steps);
        assert!(sgd.tensors().flatten().eq(sgd_before.tensors().flatten()));

        // The unguarded step stays available, and does what it is told.
        workspace.train_step(&mut net, &mut sgd, &Mse, &huge, &target);
        assert!(net.1.running_var.iter().any(|v| v.is_infinite()));
    }

    #[test]
    fn composites_report_the_position_of_the_buffer_that_would_go_wrong() {
        type Net = (Dense<f64, 2, 3>, [(BatchNorm<f64, 3>, Tanh); 2], Dense<f64, 3, 1>);
        let mut net = Net::build(crate::Init::PyTorch, &mut Rng::new(2));
        let mut workspace = Workspace::<f64, Net, SMatrix<f64, 2, 4>>::new();
        let x = SMatrix::<f64, 2, 4>::from_fn(|i, j| (i * 4 + j) as f64 * 0.1);
        workspace.compute_gradient(&net, &Mse, &x, &SMatrix::zeros());
        assert_eq!(net.check_buffer_update(&workspace.cache, 0), Ok(()));
        // A momentum above 1 extrapolates: the second batch norm's variance would go negative.
        net.1[1].0.momentum = 2.0;
        net.1[1].0.running_var = Vector3::repeat(10.0);
        let fault = net.check_buffer_update(&workspace.cache, 0).unwrap_err();
        assert_eq!((fault.layer, fault.buffer, fault.index), (3, "running_var", 0));
        assert!(fault.value < 0.0);
    }

    #[test]
    fn variances_are_the_buffers_that_must_not_be_negative() {
        type Net = (Dense<f64, 2, 3>, [(BatchNorm<f64, 3>, Tanh); 2]);
        let flags: Vec<bool> = Net::non_negative_buffers().collect();
        assert_eq!(flags, [false, true, false, true]);
        assert_eq!(flags.len(), Net::buffer_infos().count());
    }
}
