use nalgebra::SMatrix;

use crate::{Class, Loss, Real};

/// Softmax cross-entropy from logits with class-index targets (PyTorch's `CrossEntropyLoss`),
/// averaged over the batch.
///
/// For each column `z` with class `c`: `logsumexp(z) − z_c`, where `logsumexp` subtracts the
/// largest logit first, so logits of ±1000 give a finite, exact loss. Gradient:
/// `(softmax(z) − onehot(c)) / B`, with the target's entry computed as `−Σ_{j≠c} p_j / B`
/// rather than `(p_c − 1) / B`: the two are equal, but for a confident prediction (`p_c` near 1)
/// the subtraction would cancel almost every digit, while the sum keeps full relative precision
/// (for `p_c = 1 − 1.9e-13`, 6e-3 relative error against one rounding).
///
/// ```
/// use static_nn::{Class, CrossEntropy, Loss};
/// use static_nn::nalgebra::Vector3;
/// let logits = Vector3::new(0.0_f64, 0.0, 0.0);
/// let loss = CrossEntropy.value(&logits, &Class::batch([1]).unwrap());
/// assert!((loss - 3f64.ln()).abs() < 1e-15);
/// ```
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct CrossEntropy;

/// `logsumexp` of one column.
fn log_sum_exp<T: Real, const C: usize>(z: &nalgebra::SVectorView<'_, T, C>) -> T {
    let max = z.max();
    let sum = z.iter().fold(T::zero(), |s, &v| s + (v - max).exp());
    max + sum.ln()
}

impl<T: Real, const C: usize, const B: usize> Loss<T, SMatrix<T, C, B>> for CrossEntropy {
    type Target = [Class<C>; B];

    fn value(&self, y: &SMatrix<T, C, B>, target: &[Class<C>; B]) -> T {
        let terms = y
            .column_iter()
            .zip(target)
            .map(|(z, class)| log_sum_exp(&z).to_f64() - z[class.index()].to_f64());
        crate::loss::mean_of(B, terms)
    }

    fn value_and_gradient(&self, y: &SMatrix<T, C, B>, target: &[Class<C>; B]) -> (T, SMatrix<T, C, B>) {
        let inv_batch = T::one() / T::of(B as f64);
        let mut total = 0.0;
        let mut grad = *y;
        for ((z, mut g), class) in y.column_iter().zip(grad.column_iter_mut()).zip(target) {
            // One exponential per logit, kept for both the sum and the softmax: `exp(z − lse)`
            // again took as long as the rest of a 64-64-10 training step's loss.
            let max = z.max();
            g.apply(|v| *v = (*v - max).exp());
            let sum = g.sum();
            let lse = max + sum.ln();
            // In f64 and divided first, as in `value`: `lse − z` overflows f32 near 1e38.
            total += (lse.to_f64() - z[class.index()].to_f64()) / B as f64;
            let scale = inv_batch / sum;
            g.apply(|v| *v *= scale);
            let others = g
                .iter()
                .enumerate()
                .filter(|&(j, _)| j != class.index())
                .fold(T::zero(), |s, (_, &p)| s + p);
            g[class.index()] = -others;
        }
        (T::of(total), grad)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::loss::test_support::check_loss;
    use nalgebra::Vector3;

    #[test]
    fn value_matches_literal() {
        // -log softmax([1, 2, 3])[0] = log(e + e² + e³) - 1 = 2.4076059644443806
        let y = Vector3::new(1.0f64, 2.0, 3.0);
        let loss = CrossEntropy.value(&y, &Class::batch([0]).unwrap());
        assert!((loss - 2.4076059644443806).abs() < 1e-15);
    }

    #[test]
    fn a_confident_prediction_keeps_the_target_gradient_precise() {
        // z = (30, 0, 0), class 0: p_1 = p_2 = e^-30 / (1 + 2 e^-30), gradient -2 p_1.
        let tiny = (-30.0f64).exp();
        let exact = -2.0 * tiny / (1.0 + 2.0 * tiny);
        let (_, grad) = CrossEntropy.value_and_gradient(&Vector3::new(30.0, 0.0, 0.0), &Class::batch([0]).unwrap());
        // exp(z_j − logsumexp) carries the rounding of its argument, |z_j − logsumexp| ≈ 30
        // times ε, relative: that, and nothing from cancellation.
        let relative = ((grad[0] - exact) / exact).abs();
        assert!(relative < 64.0 * f64::EPSILON, "{relative:e}");
        // p_c − 1 would be 1 − 1.87e-13 rounded to a multiple of 2^-53: about 6e-4 off.
        let cancelled = (1.0 / (1.0 + 2.0 * tiny)) - 1.0;
        assert!(((cancelled - exact) / exact).abs() > 1e-4);

        // In f32 the same holds at z = (12, 0, 0).
        let tiny = (-12.0f64).exp();
        let exact = -2.0 * tiny / (1.0 + 2.0 * tiny);
        let (_, grad) = CrossEntropy.value_and_gradient(&Vector3::new(12.0f32, 0.0, 0.0), &Class::batch([0]).unwrap());
        assert!(((f64::from(grad[0]) - exact) / exact).abs() < 32.0 * f64::from(f32::EPSILON));
    }

    #[test]
    fn extreme_logits_give_finite_exact_loss_and_gradient() {
        let y = SMatrix::<f64, 2, 2>::new(1000.0, -1000.0, -1000.0, 1000.0);
        let target = Class::batch([1, 1]).unwrap();
        let (loss, grad) = CrossEntropy.value_and_gradient(&y, &target);
        // Column 0 predicts class 0 with certainty but the target is 1: loss 2000; column 1 is right: 0.
        assert_eq!(loss, 1000.0);
        assert_eq!(grad, SMatrix::<f64, 2, 2>::new(0.5, 0.0, -0.5, 0.0));
        let y32 = y.map(|v| v as f32);
        let (loss32, grad32) = CrossEntropy.value_and_gradient(&y32, &target);
        assert_eq!(loss32, 1000.0);
        assert!(grad32.iter().all(|g| g.is_finite()));
    }

    #[test]
    fn gradient_check() {
        let y = SMatrix::<f64, 4, 3>::from_fn(|i, j| ((i * 3 + j) as f64 * 0.9).cos() * 3.0);
        check_loss(&CrossEntropy, &y, &Class::batch([0, 3, 2]).unwrap());
    }

    #[test]
    fn f32_mean_near_the_largest_float_does_not_overflow() {
        // Each column's loss is 2e38; the sum of the two is not an f32, their mean is.
        let y = SMatrix::<f32, 2, 2>::new(1e38, 1e38, -1e38, -1e38);
        let target = Class::batch([1, 1]).unwrap();
        let (loss, grad) = CrossEntropy.value_and_gradient(&y, &target);
        assert_eq!(loss, 2e38);
        assert_eq!(CrossEntropy.value(&y, &target), 2e38);
        assert_eq!(grad, SMatrix::<f32, 2, 2>::new(0.5, 0.5, -0.5, -0.5));
    }
}
