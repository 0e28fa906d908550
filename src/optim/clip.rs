//! Gradient clipping, as `torch.nn.utils.clip_grad_norm_` and `clip_grad_value_`.

use core::fmt;

use crate::{Real, Tensors};

/// The L2 norm of all tensors together, `√(Σ g²)` over every entry of every tensor.
///
/// If the sum of squares overflows while every entry is finite (entries around 1e20 in `f32`),
/// the norm is recomputed with the entries scaled by the largest one, so it is finite whenever it
/// is representable. It is NaN or infinite exactly when an entry is, or when the norm itself
/// exceeds the type's range.
///
/// ```
/// use static_nn::optim::global_norm;
/// use static_nn::nalgebra::Vector2;
/// assert_eq!(global_norm(&(Vector2::new(3.0_f64, 0.0), Vector2::new(0.0, 4.0))), 5.0);
/// assert_eq!(global_norm(&Vector2::new(3e30_f32, 4e30)), 5e30);
/// ```
pub fn global_norm<T: Real, G: Tensors<T>>(grad: &G) -> T {
    // A loop rather than `fold`: a chain's `fold` is a function of its own, compiled without
    // the vector instruction set `widest` gives the loop body.
    let sum = crate::simd::widest(
        #[inline(always)]
        || {
            let mut sum = T::zero();
            for t in grad.tensors() {
                sum += sum_of_squares(t);
            }
            sum
        },
    );
    if sum.is_finite() {
        return sum.sqrt();
    }
    let mut largest = T::zero();
    for &v in grad.tensors().flatten() {
        if !v.is_finite() {
            return v.abs();
        }
        largest = largest.max(v.abs());
    }
    let mut scaled = T::zero();
    for &v in grad.tensors().flatten() {
        let r = v / largest;
        scaled += r * r;
    }
    largest * scaled.sqrt()
}

/// A bound on the magnitude of every entry of one gradient, measured by this crate's norm
/// check, which [`Optimizer::try_step_within`](crate::Optimizer::try_step_within) trusts.
///
/// Only the crate makes one, from the [`global_norm`] (or [`clip_grad_norm`]'s returned norm) of
/// the gradient it then passes along, so a bound cannot be forged or paired with another
/// gradient: the guard's promise does not rest on the caller. [`GradientBound::value`] reads it.
///
/// The bound is `norm + 2 √MIN_POSITIVE` (the term is about 2e-19 in `f32`), also valid after
/// [`clip_grad_norm`] or [`clip_grad_value`], which only shrink entries. Why it holds: every
/// term of the norm's sum of squares is ≥ 0 and rounding is monotone, so the computed sum is at
/// least each entry's computed square `x ⊗ x`, and the computed root at least `√(x ⊗ x)`
/// rounded, which is exactly `|x|` in binary floating point with rounding to nearest when the
/// square is a normal number. An entry whose square is subnormal or 0 is below
/// `√MIN_POSITIVE` (1.1e-19 in `f32`), the added term. When the sum overflows, the norm is the
/// largest entry times a root of at least 1, so at least that entry.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct GradientBound<T>(T);

impl<T: Real> GradientBound<T> {
    /// The bound of a gradient whose [`global_norm`] is the finite `norm`.
    pub(crate) fn of_norm(norm: T) -> Self {
        // 2 √MIN_POSITIVE, a power of two: √2⁻¹²⁶ = 2⁻⁶³ in `f32`, √2⁻¹⁰²² = 2⁻⁵¹¹ in `f64`.
        let exponent: u64 = if core::mem::size_of::<T>() == 4 { 62 } else { 510 };
        Self(norm + T::of(f64::from_bits((1023 - exponent) << 52)))
    }

    /// The largest magnitude an entry of the gradient can have.
    pub fn value(self) -> T {
        self.0
    }
}

/// `Σ v²` with eight running sums rather than one: the additions no longer wait for each other,
/// which makes the sum several times faster on large tensors (the rounding differs from a
/// sequential sum by a few ulps, as PyTorch's vectorised reductions do).
#[inline(always)]
pub(crate) fn sum_of_squares<T: Real>(values: &[T]) -> T {
    let mut lanes = [T::zero(); 8];
    let chunks = values.chunks_exact(8);
    let rest = chunks.remainder();
    for chunk in chunks {
        for (lane, &v) in lanes.iter_mut().zip(chunk) {
            *lane += v * v;
        }
    }
    let tail = rest.iter().fold(T::zero(), |sum, &v| sum + v * v);
    lanes.iter().fold(tail, |sum, &lane| sum + lane)
}

/// Scales the whole gradient down so that its global L2 norm is at most `max_norm`, as PyTorch's
/// `clip_grad_norm_`, and returns the norm it had before.
///
/// With `total` the [`global_norm`] of all tensors and `coef = max_norm / (total + 1e-6)`, every
/// entry is multiplied by `coef` if `coef < 1`, and left alone otherwise (so a norm within 1e-6
/// of `max_norm` is still scaled, very slightly, as in PyTorch). Scaling every tensor by
/// one factor keeps the gradient's direction, which is what makes this the usual cure for
/// exploding gradients.
///
/// # Errors
/// If `total` is NaN or infinite (an entry is NaN or infinite), the gradient is left exactly as it
/// was and [`NonFiniteNorm`] is returned. PyTorch's default would scale by NaN instead.
///
/// # Panics
/// If `max_norm` is negative or NaN.
///
/// ```
/// use static_nn::optim::clip_grad_norm;
/// use static_nn::nalgebra::Vector2;
///
/// let mut grad = Vector2::new(30.0_f64, 40.0);
/// let norm = clip_grad_norm(&mut grad, 5.0).unwrap();
/// assert_eq!(norm, 50.0);
/// assert!((grad - Vector2::new(3.0, 4.0)).norm() < 1e-6);
///
/// let mut bad = Vector2::new(f64::NAN, 1.0);
/// assert!(clip_grad_norm(&mut bad, 5.0).is_err());
/// assert_eq!(bad[1], 1.0);
/// ```
pub fn clip_grad_norm<T: Real, G: Tensors<T>>(grad: &mut G, max_norm: T) -> Result<T, NonFiniteNorm<T>> {
    assert!(
        max_norm >= T::zero(),
        "clip_grad_norm needs max_norm >= 0, got {max_norm}"
    );
    let total = global_norm(grad);
    if !total.is_finite() {
        return Err(NonFiniteNorm { norm: total });
    }
    let coefficient = max_norm / (total + T::of(1e-6));
    if coefficient < T::one() {
        grad.scale(coefficient);
    }
    Ok(total)
}

/// Clamps every entry of the gradient to `[−clip_value, clip_value]`, as PyTorch's
/// `clip_grad_value_`. NaN entries stay NaN.
///
/// Unlike [`clip_grad_norm`] this changes the gradient's direction: large entries are cut,
/// small ones kept.
///
/// # Panics
/// If `clip_value` is negative or NaN.
///
/// ```
/// use static_nn::optim::clip_grad_value;
/// use static_nn::nalgebra::Vector3;
/// let mut grad = Vector3::new(-5.0_f64, 0.5, 2.0);
/// clip_grad_value(&mut grad, 1.0);
/// assert_eq!(grad, Vector3::new(-1.0, 0.5, 1.0));
/// ```
pub fn clip_grad_value<T: Real, G: Tensors<T>>(grad: &mut G, clip_value: T) {
    assert!(
        clip_value >= T::zero(),
        "clip_grad_value needs clip_value >= 0, got {clip_value}"
    );
    for t in grad.tensors_mut() {
        for v in t {
            // Comparisons rather than max/min, which would turn NaN into a bound.
            *v = if *v > clip_value {
                clip_value
            } else if *v < -clip_value {
                -clip_value
            } else {
                *v
            };
        }
    }
}

/// A clipping rule, for code that lets its user choose one (such as [`Trainer`](crate::Trainer)).
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Clip<T> {
    /// [`clip_grad_norm`] with this `max_norm`.
    Norm(T),
    /// [`clip_grad_value`] with this `clip_value`.
    Value(T),
}

impl<T: Real> Clip<T> {
    /// Applies the rule to `grad`.
    ///
    /// # Errors
    /// As [`clip_grad_norm`]; value clipping cannot fail.
    ///
    /// # Panics
    /// If the threshold is negative or NaN.
    pub fn apply<G: Tensors<T>>(self, grad: &mut G) -> Result<(), NonFiniteNorm<T>> {
        match self {
            Clip::Norm(max_norm) => clip_grad_norm(grad, max_norm).map(|_| ()),
            Clip::Value(clip_value) => {
                clip_grad_value(grad, clip_value);
                Ok(())
            }
        }
    }
}

/// The gradient's global norm is NaN or infinite, so it was not clipped (nor changed at all).
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct NonFiniteNorm<T> {
    /// The norm found: NaN or ±∞.
    pub norm: T,
}

impl<T: Real> fmt::Display for NonFiniteNorm<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "the gradient's global norm is {}: an entry is NaN or infinite, or the norm exceeds the range of {}; the gradient was left unchanged",
            self.norm,
            T::NAME
        )
    }
}

impl<T: Real> core::error::Error for NonFiniteNorm<T> {}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{Dense, Init, Parameters, Rng};
    use nalgebra::{Vector2, Vector3};

    type Net = (Dense<f64, 3, 2>, Dense<f64, 2, 1>);

    /// [`GradientBound`] of the norm covers every entry, before and after clipping: gradients of
    /// one, a few and many entries across every magnitude (squares that underflow, sums that
    /// overflow): without the added term it fails.
    fn bound_covers<T: Real>() {
        type Wide<T> = nalgebra::SVector<T, 40>;
        let mut rng = Rng::new(21);
        let magnitudes = [1e-300, 1e-40, 1e-25, 1e-19, 1e-3, 1.0, 3.7, 1e18, 1e30, 1e300];
        for case in 0..20_000 {
            let scale = magnitudes[case % magnitudes.len()];
            let used = [1, 2, 3, 40][case / magnitudes.len() % 4];
            let mut grad = Wide::<T>::zeros();
            for v in grad.iter_mut().take(used) {
                *v = T::of(scale * rng.uniform(-1.0, 1.0));
            }
            let largest = grad.iter().fold(T::zero(), |largest, v| largest.max(v.abs()));
            let norm = global_norm(&grad);
            if !norm.is_finite() {
                continue;
            }
            let bound = GradientBound::of_norm(norm).value();
            assert!(largest <= bound, "{largest} above {bound} (norm {norm}) in {grad:?}");
            let (mut clipped, mut clamped) = (grad, grad);
            clip_grad_norm(&mut clipped, T::of(rng.uniform(0.0, 2.0) * scale)).unwrap();
            clip_grad_value(&mut clamped, T::of(rng.uniform(0.0, 2.0) * scale));
            for v in clipped.iter().chain(clamped.iter()) {
                assert!(v.abs() <= bound);
            }
        }
    }

    #[test]
    fn gradient_bound_covers_every_entry() {
        bound_covers::<f32>();
        bound_covers::<f64>();
    }

    fn gradient(scale: f64) -> Net {
        let mut grad = Net::build(Init::PyTorch, &mut Rng::new(8));
        grad.scale(scale);
        grad
    }

    /// The norm written out over every entry of every tensor.
    fn norm_by_hand(grad: &Net) -> f64 {
        let weights = grad.0.weight.iter().chain(grad.0.bias.iter());
        let all = weights.chain(grad.1.weight.iter()).chain(grad.1.bias.iter());
        all.map(|v| v * v).sum::<f64>().sqrt()
    }

    #[test]
    fn norm_above_the_maximum_is_scaled_down_to_it() {
        let mut grad = gradient(10.0);
        let before = grad.clone();
        let total = norm_by_hand(&before);
        assert!(total > 2.0);
        let returned = clip_grad_norm(&mut grad, 2.0).unwrap();
        assert!((returned - total).abs() < 1e-14 * total);
        let coefficient = 2.0 / (total + 1e-6);
        assert!((grad.0.weight - before.0.weight * coefficient).norm() < 1e-15);
        assert!((grad.1.bias - before.1.bias * coefficient).norm() < 1e-15);
        assert!((norm_by_hand(&grad) - 2.0).abs() < 1e-6);
    }

    #[test]
    fn norm_below_the_maximum_is_left_alone() {
        let mut grad = gradient(0.1);
        let before = grad.clone();
        let total = clip_grad_norm(&mut grad, 2.0).unwrap();
        assert!((total - norm_by_hand(&before)).abs() < 1e-15);
        assert_eq!(grad.0.weight, before.0.weight);
        assert_eq!(grad.1.bias, before.1.bias);
        // As in PyTorch, a norm equal to the maximum is still scaled, by max / (max + 1e-6).
        let mut at = Vector2::new(2.0, 0.0);
        assert_eq!(clip_grad_norm(&mut at, 2.0).unwrap(), 2.0);
        assert_eq!(at, Vector2::new(2.0 * (2.0 / (2.0 + 1e-6)), 0.0));
    }

    #[test]
    fn non_finite_norm_is_an_error_and_the_gradient_is_untouched() {
        for bad in [f64::NAN, f64::INFINITY, f64::NEG_INFINITY] {
            let mut grad = gradient(10.0);
            grad.1.weight[(0, 1)] = bad;
            let before = grad.clone();
            let error = clip_grad_norm(&mut grad, 1.0).unwrap_err();
            assert!(error.norm.is_nan() || error.norm == f64::INFINITY, "{bad}: {error}");
            assert_eq!(grad.0.weight, before.0.weight);
            assert_eq!(grad.1.weight.as_slice()[0], before.1.weight.as_slice()[0]);
            assert!(Clip::Norm(1.0).apply(&mut grad).is_err());
        }
        let message = NonFiniteNorm { norm: f32::NAN }.to_string();
        assert!(message.starts_with("the gradient's global norm is NaN"), "{message}");
        assert!(message.contains("f32"), "{message}");
    }

    #[test]
    fn norm_of_long_tensors_matches_the_sequential_sum() {
        for len in [7usize, 8, 9, 23, 64] {
            let values: Vec<f64> = (0..len).map(|i| (i as f64 * 0.77).sin()).collect();
            let sequential: f64 = values.iter().map(|v| v * v).sum();
            assert!(
                (sum_of_squares(&values) - sequential).abs() < 1e-14 * sequential,
                "{len}"
            );
        }
        let grad = (
            nalgebra::SMatrix::<f64, 5, 7>::from_fn(|i, j| (i * 7 + j) as f64),
            Vector2::new(1.0, 2.0),
        );
        let expected = ((0..35).map(|k| (k * k) as f64).sum::<f64>() + 5.0).sqrt();
        assert!((global_norm(&grad) - expected).abs() < 1e-13 * expected);
    }

    #[test]
    fn overflowing_squares_still_give_a_finite_norm() {
        let mut grad = Vector2::new(3e20_f32, -4e20);
        assert_eq!(grad.norm_squared(), f32::INFINITY);
        let total = clip_grad_norm(&mut grad, 1.0).unwrap();
        assert!((total - 5e20).abs() < 1e14, "{total}");
        assert!((grad - Vector2::new(0.6, -0.8)).norm() < 1e-6, "{grad}");
        // A norm beyond the type's range is not finite, even though every entry is.
        let mut huge = Vector2::new(3e38_f32, 3e38);
        assert!(clip_grad_norm(&mut huge, 1.0).is_err());
        assert_eq!(huge, Vector2::new(3e38, 3e38));
    }

    #[test]
    fn value_clipping_clamps_each_entry() {
        let mut grad = (Vector3::new(-3.0_f64, 0.25, 7.0), Vector2::new(-0.5, f64::NAN));
        clip_grad_value(&mut grad, 0.5);
        assert_eq!(grad.0, Vector3::new(-0.5, 0.25, 0.5));
        assert_eq!(grad.1[0], -0.5);
        assert!(grad.1[1].is_nan());
        let mut same = Vector2::new(4.0_f64, -4.0);
        Clip::Value(1.0).apply(&mut same).unwrap();
        assert_eq!(same, Vector2::new(1.0, -1.0));
    }

    #[test]
    #[should_panic(expected = "clip_grad_norm needs max_norm >= 0, got -1")]
    fn negative_max_norm_is_rejected() {
        let _ = clip_grad_norm(&mut Vector2::new(1.0_f64, 1.0), -1.0);
    }
}
