//! Inverted dropout with reproducible masks.

use nalgebra::SMatrix;

use crate::rng::mix64;
use crate::{Init, Layer, Parameters, Real, Rng, TensorInfo, Tensors};

/// Inverted dropout (PyTorch's `Dropout(p)`): in training, each entry is zeroed with
/// probability `p` and the kept ones are scaled by `1/(1 − p)`, so the expected output equals
/// the input; in inference ([`Layer::forward`]) it is the identity.
///
/// ```text
/// training:  y = m ⊙ x,   m_k = 1/(1 − p) with probability 1 − p, else 0
/// backward:  ∂L/∂x = m ⊙ dy          (the very mask of the forward pass)
/// ```
///
/// **Randomness.** The mask of the `n`-th training call made with a cache is a pure function of
/// `(seed, n, entry)`: entry `k` (column-major) is dropped when the `k`-th uniform draw of a
/// SplitMix64 stream keyed by `(seed, n)` is below `p`. The call counter lives in the cache
/// ([`DropoutCache`]), so a [`Workspace`](crate::Workspace) draws a new mask each step, and the
/// gradient checker, which starts every evaluation from a fresh cache, sees the same mask every
/// time. Nothing is allocated and nothing depends on the platform: the same seed gives the same
/// masks on a microcontroller and on a desktop. Unlike PyTorch, there is no global generator to
/// seed.
///
/// **Defaults.** [`Parameters::build`] sets `p` to PyTorch's 0.5; a network written as a value
/// keeps the `p` it was written with ([`Parameters::initialised`]). Initialisation draws the
/// seed from the builder's [`Rng`] (one draw), so a network built from a seed is reproducible
/// and two dropout layers in it draw independent masks.
///
/// The cache holds the call counter and the last mask (`m`, in the scalar type).
///
/// ```
/// use static_nn::{Dropout, Layer};
/// use static_nn::bytemuck::Zeroable;
/// use static_nn::nalgebra::SMatrix;
///
/// let dropout = Dropout::new(0.25, 7);
/// let x = SMatrix::<f64, 4, 8>::from_element(3.0);
/// assert_eq!(dropout.forward(&x), x); // inference: identity
///
/// let mut cache = Zeroable::zeroed();
/// let y = dropout.forward_train(&x, &mut cache);
/// // Every entry is either dropped or scaled by 1/(1 - 0.25).
/// assert!(y.iter().all(|&v| v == 0.0 || v == 4.0));
/// // The same seed and the same call number give the same mask.
/// assert_eq!(Dropout::new(0.25, 7).forward_train(&x, &mut Zeroable::zeroed()), y);
/// ```
#[derive(Clone, Copy, Debug, PartialEq, bytemuck::Zeroable)]
pub struct Dropout<T> {
    /// The probability that an entry is zeroed, in `[0, 1]` (default 0.5).
    pub p: T,
    /// Selects the sequence of masks.
    pub seed: u64,
}

/// What [`Dropout`]'s training forward pass records.
#[derive(Clone, Debug, PartialEq, bytemuck::Zeroable)]
#[zeroable(bound = "T: Real")]
pub struct DropoutCache<T, const R: usize, const C: usize> {
    /// Training calls made with this cache so far; the next call uses mask number `calls`.
    pub calls: u64,
    /// The last mask: `1/(1 − p)` where the entry was kept, 0 where it was dropped.
    pub mask: SMatrix<T, R, C>,
}

impl<T: Real> Dropout<T> {
    /// Dropout with probability `p` and mask sequence `seed`.
    ///
    /// # Panics
    /// If `p` is not in `[0, 1]` (as PyTorch).
    pub fn new(p: T, seed: u64) -> Self {
        assert!(
            p >= T::zero() && p <= T::one(),
            "dropout probability has to be between 0 and 1, but got {p}"
        );
        Self { p, seed }
    }

    /// Fills `mask` with mask number `call`: `1/(1 − p)` for kept entries, 0 for dropped ones.
    fn draw_mask<const R: usize, const C: usize>(&self, call: u64, mask: &mut SMatrix<T, R, C>) {
        let mut stream = Rng::new(mix64(self.seed ^ mix64(call)));
        // An entry is dropped when its uniform draw u = bits/2^53 (Rng::next_f64) is below p,
        // that is when bits < ⌈p·2^53⌉: compared as integers, with no conversion per entry.
        let threshold = libm::ceil(self.p.to_f64() * (1u64 << 53) as f64) as u64;
        // Never used when p = 1 (nothing is kept), so its infinity cannot reach the output.
        let scale = T::one() / (T::one() - self.p);
        // A plain slice: nalgebra's generic matrix iterators do not vectorise.
        for m in mask.as_mut_slice() {
            *m = if stream.next_u64() >> 11 < threshold {
                T::zero()
            } else {
                scale
            };
        }
    }
}

impl<T: Real> Default for Dropout<T> {
    /// `p` 0.5 (PyTorch's default), seed 0.
    fn default() -> Self {
        Self::new(T::of(0.5), 0)
    }
}

// Written out rather than `parameter_free_layer!`, whose `reset` draws nothing: a seed shared
// by every dropout layer of a network would give them identical masks.
impl<T: Real> Tensors<T> for Dropout<T> {
    const LAYERS: usize = 1;

    fn tensors(&self) -> impl Iterator<Item = &[T]> {
        core::iter::empty()
    }
    fn tensors_mut(&mut self) -> impl Iterator<Item = &mut [T]> {
        core::iter::empty()
    }
    fn tensor_infos() -> impl Iterator<Item = TensorInfo> {
        core::iter::empty()
    }
}

impl<T: Real> Parameters<T> for Dropout<T> {
    type Gradient = ();

    /// Draws a new seed from `rng`; keeps `p`.
    fn reset(&mut self, _init: Init, rng: &mut Rng) {
        self.seed = rng.next_u64();
    }
    /// The default `p` is PyTorch's 0.5.
    fn set_hyperparameters(&mut self, template: Option<&Self>) {
        self.p = template.map_or_else(|| T::of(0.5), |t| t.p);
    }
}

impl<T: Real, const R: usize, const C: usize> Layer<T, SMatrix<T, R, C>> for Dropout<T> {
    type Output = SMatrix<T, R, C>;
    type Cache = DropoutCache<T, R, C>;

    #[inline]
    fn forward(&self, x: &SMatrix<T, R, C>) -> SMatrix<T, R, C> {
        *x
    }

    fn forward_train(&self, x: &SMatrix<T, R, C>, cache: &mut DropoutCache<T, R, C>) -> SMatrix<T, R, C> {
        self.draw_mask(cache.calls, &mut cache.mask);
        cache.calls = cache.calls.wrapping_add(1);
        multiply(x, &cache.mask)
    }

    fn backward(
        &self,
        _x: &SMatrix<T, R, C>,
        _y: &SMatrix<T, R, C>,
        cache: &DropoutCache<T, R, C>,
        dy: &SMatrix<T, R, C>,
        _grad: &mut (),
    ) -> SMatrix<T, R, C> {
        multiply(dy, &cache.mask)
    }

    /// The call counter selects the next mask, so resuming bit for bit needs it.
    fn cache_counter_names() -> impl Iterator<Item = &'static str> {
        core::iter::once("dropout_calls")
    }
    fn cache_counters(cache: &DropoutCache<T, R, C>) -> impl Iterator<Item = u64> {
        core::iter::once(cache.calls)
    }
    fn cache_counters_mut(cache: &mut DropoutCache<T, R, C>) -> impl Iterator<Item = &mut u64> {
        core::iter::once(&mut cache.calls)
    }

    /// Inference mode: the identity.
    fn forward_eval(&self, x: &SMatrix<T, R, C>, _cache: &mut DropoutCache<T, R, C>) -> SMatrix<T, R, C> {
        *x
    }

    fn backward_eval(
        &self,
        _x: &SMatrix<T, R, C>,
        _y: &SMatrix<T, R, C>,
        _cache: &DropoutCache<T, R, C>,
        dy: &SMatrix<T, R, C>,
        _grad: &mut (),
    ) -> SMatrix<T, R, C> {
        *dy
    }
}

/// `a ⊙ b`, over plain slices.
fn multiply<T: Real, const R: usize, const C: usize>(a: &SMatrix<T, R, C>, b: &SMatrix<T, R, C>) -> SMatrix<T, R, C> {
    let mut product = *a;
    for (p, &m) in product.as_mut_slice().iter_mut().zip(b.as_slice()) {
        *p *= m;
    }
    product
}

/// Written as a struct literal; an embedded network runs inference, where dropout is the
/// identity, but keeps its settings so that it could be trained further.
impl<T: Real> crate::ConstExpr for Dropout<T> {
    fn fmt_const(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.write_str("::static_nn::Dropout { p: ")?;
        crate::const_expr::fmt_real(self.p, f)?;
        write!(f, ", seed: {}_u64 }}", self.seed)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{Dense, GradCheck, Mse, Sigmoid};
    use bytemuck::Zeroable;

    fn train<const R: usize, const C: usize>(
        dropout: &Dropout<f64>,
        x: &SMatrix<f64, R, C>,
        cache: &mut DropoutCache<f64, R, C>,
    ) -> SMatrix<f64, R, C> {
        dropout.forward_train(x, cache)
    }

    #[test]
    fn same_seed_same_masks_and_each_call_a_new_one() {
        let x = SMatrix::<f64, 6, 5>::from_element(1.0);
        let (a, b) = (Dropout::new(0.5, 11), Dropout::new(0.5, 11));
        let (mut cache_a, mut cache_b) = (DropoutCache::zeroed(), DropoutCache::zeroed());
        let mut previous = SMatrix::zeros();
        for call in 0..4 {
            let ya = train(&a, &x, &mut cache_a);
            assert_eq!(ya, train(&b, &x, &mut cache_b), "call {call}");
            assert_ne!(ya, previous, "call {call} repeated the previous mask");
            previous = ya;
        }
        // Mask number 3 depends only on the seed and the number, not on the calls before it.
        let mut fresh = DropoutCache {
            calls: 3,
            ..DropoutCache::zeroed()
        };
        assert_eq!(train(&a, &x, &mut fresh), previous);
        // Another seed, another mask.
        assert_ne!(
            train(&Dropout::new(0.5, 12), &x, &mut DropoutCache::zeroed()),
            train(&a, &x, &mut DropoutCache::zeroed())
        );
    }

    #[test]
    fn masks_are_fixed_by_the_seed_on_every_platform() {
        // Mask 0 of seed 1 with p = 0.5: a literal, since the stream is portable SplitMix64.
        let kept = [1, 0, 0, 1, 0, 1, 0, 0, 0, 1, 1, 1, 1, 0, 0, 1];
        let expected = SMatrix::<f64, 1, 16>::from_fn(|_, k| 2.0 * kept[k] as f64);
        let ones = SMatrix::<f64, 1, 16>::from_element(1.0);
        assert_eq!(
            train(&Dropout::new(0.5, 1), &ones, &mut DropoutCache::zeroed()),
            expected
        );
        // f32 draws the same mask (p = 0.5 is exact in both).
        let y32 = Dropout::new(0.5f32, 1).forward_train(&ones.cast::<f32>(), &mut Zeroable::zeroed());
        assert_eq!(y32, expected.cast::<f32>());
    }

    #[test]
    fn the_dropped_fraction_is_p_and_the_mean_is_kept() {
        let p = 0.3;
        let dropout = Dropout::new(p, 2024);
        let x = SMatrix::<f64, 10, 10>::from_element(1.0);
        let mut cache = DropoutCache::zeroed();
        let (mut dropped, mut sum, calls) = (0usize, 0.0, 400);
        for _ in 0..calls {
            let y = train(&dropout, &x, &mut cache);
            dropped += y.iter().filter(|&&v| v == 0.0).count();
            sum += y.sum();
        }
        let n = (calls * 100) as f64;
        // Standard deviation of the dropped fraction: √(p (1 − p) / n) ≈ 0.0023.
        let fraction = dropped as f64 / n;
        assert!((fraction - p).abs() < 0.01, "dropped {fraction}");
        // Inverted dropout: the mean output stays the mean input, 1.
        assert!((sum / n - 1.0).abs() < 0.02, "mean {}", sum / n);
    }

    #[test]
    fn gradient_flows_only_through_kept_units_scaled() {
        let dropout = Dropout::new(0.4, 5);
        let x = SMatrix::<f64, 5, 4>::from_fn(|i, j| 1.0 + (i * 4 + j) as f64);
        let dy = SMatrix::<f64, 5, 4>::from_fn(|i, j| (i as f64 - j as f64) * 0.5 + 0.25);
        let mut cache = DropoutCache::zeroed();
        let y = train(&dropout, &x, &mut cache);
        let dx = dropout.backward(&x, &y, &cache, &dy, &mut ());
        let (mut kept, mut dropped) = (0, 0);
        for k in 0..20 {
            if y[k] == 0.0 {
                dropped += 1;
                assert_eq!(dx[k], 0.0);
            } else {
                kept += 1;
                assert_eq!(y[k], x[k] / 0.6);
                assert_eq!(dx[k], dy[k] / 0.6);
            }
        }
        assert!(kept > 0 && dropped > 0);
    }

    #[test]
    fn gradient_check_with_a_fixed_mask() {
        let x = SMatrix::<f64, 6, 3>::from_fn(|i, j| (i * 3 + j) as f64 * 0.2 - 1.0);
        let report = GradCheck::default().strict().layer(&Dropout::new(0.5, 3), &x);
        assert!(report.passed(), "{report}");
        assert!(report.tensors[0].exact_zeros > 0, "some entries are dropped");

        type Net = (Dense<f64, 3, 8>, Sigmoid, Dropout<f64>, Dense<f64, 8, 2>);
        let net = Net::build(Init::PyTorch, &mut Rng::new(4));
        let x = SMatrix::<f64, 3, 4>::from_fn(|i, j| (i + j) as f64 * 0.3 - 0.5);
        let report = GradCheck::default()
            .strict()
            .network(&net, &Mse, &x, &SMatrix::from_element(0.1));
        assert!(report.passed(), "{report}");
    }

    #[test]
    fn extreme_probabilities() {
        let x = SMatrix::<f64, 3, 3>::from_fn(|i, j| (i + j) as f64 - 2.0);
        assert_eq!(train(&Dropout::new(0.0, 1), &x, &mut DropoutCache::zeroed()), x);
        let all = train(&Dropout::new(1.0, 1), &x, &mut DropoutCache::zeroed());
        assert_eq!(
            all,
            SMatrix::<f64, 3, 3>::zeros(),
            "p = 1 drops everything and makes no NaN"
        );
    }

    #[test]
    #[should_panic(expected = "between 0 and 1")]
    fn probability_above_one_panics() {
        let _ = Dropout::new(1.5f32, 0);
    }

    #[test]
    fn reset_draws_distinct_seeds() {
        type Net = (Dropout<f32>, Dense<f32, 2, 2>, Dropout<f32>);
        let a = Net::build(Init::PyTorch, &mut Rng::new(9));
        let b = Net::build(Init::PyTorch, &mut Rng::new(9));
        assert_eq!(a.0, b.0);
        assert_ne!(a.0.seed, a.2.seed);
        assert_eq!(a.2.p, 0.5);
    }
}
