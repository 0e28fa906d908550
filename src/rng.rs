//! A small, seedable, platform-independent random number generator.

/// A seedable pseudo-random generator (SplitMix64) that works in `no_std`.
///
/// Everything random in the crate (weight initialisation, shuffling, dropout masks) draws from
/// an `Rng` that the caller passes in: there is no global generator. The sequence depends only on
/// the seed, and every derived value (uniform, normal) is computed with operations that round the
/// same way on every platform (the normal sampler uses the `libm` crate rather than the
/// platform's maths library), so the same seed gives the same weights everywhere.
///
/// SplitMix64 passes BigCrush, needs one `u64` of state and accepts any seed, including 0.
///
/// ```
/// use static_nn::Rng;
/// let mut a = Rng::new(42);
/// let mut b = Rng::new(42);
/// assert_eq!(a.next_u64(), b.next_u64());
/// let u = a.uniform(-1.0, 1.0);
/// assert!((-1.0..1.0).contains(&u));
/// ```
#[derive(Clone, Debug, PartialEq, Eq, bytemuck::Zeroable)]
pub struct Rng {
    state: u64,
}

const GOLDEN_GAMMA: u64 = 0x9E37_79B9_7F4A_7C15;

/// SplitMix64's output function: a bijective mixer of 64 bits.
#[inline]
pub(crate) fn mix64(mut z: u64) -> u64 {
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

impl Rng {
    /// A generator whose whole sequence is determined by `seed`.
    pub const fn new(seed: u64) -> Self {
        Self { state: seed }
    }

    /// The generator's whole state: `Rng::new(rng.state())` continues the same sequence, which
    /// is how a saved training run resumes its shuffling exactly.
    ///
    /// ```
    /// use static_nn::Rng;
    /// let mut rng = Rng::new(3);
    /// rng.next_u64();
    /// let mut resumed = Rng::new(rng.state());
    /// assert_eq!(resumed.next_u64(), rng.next_u64());
    /// ```
    pub const fn state(&self) -> u64 {
        self.state
    }

    /// The next 64 uniformly distributed bits.
    #[inline]
    pub fn next_u64(&mut self) -> u64 {
        self.state = self.state.wrapping_add(GOLDEN_GAMMA);
        mix64(self.state)
    }

    /// A uniform `f64` in `[0, 1)` with 53 random bits.
    #[inline]
    pub fn next_f64(&mut self) -> f64 {
        (self.next_u64() >> 11) as f64 * (1.0 / (1u64 << 53) as f64)
    }

    /// A uniform `f64` in `[low, high)`.
    #[inline]
    pub fn uniform(&mut self, low: f64, high: f64) -> f64 {
        low + (high - low) * self.next_f64()
    }

    /// A standard normal `f64` (Box–Muller, using the portable `libm` functions).
    pub fn normal(&mut self) -> f64 {
        // 1 - u lies in (0, 1], so the logarithm is finite.
        let u1 = 1.0 - self.next_f64();
        let u2 = self.next_f64();
        libm::sqrt(-2.0 * libm::log(u1)) * libm::cos(core::f64::consts::TAU * u2)
    }

    /// A uniform integer in `0..n` (Lemire's multiply-shift with rejection, so exactly uniform).
    ///
    /// # Panics
    /// If `n` is 0.
    pub fn below(&mut self, n: u64) -> u64 {
        assert!(n > 0, "Rng::below needs a non-empty range");
        let threshold = n.wrapping_neg() % n;
        loop {
            let product = u128::from(self.next_u64()) * u128::from(n);
            if (product as u64) >= threshold {
                return (product >> 64) as u64;
            }
        }
    }

    /// Shuffles `items` in place (Fisher–Yates).
    pub fn shuffle<E>(&mut self, items: &mut [E]) {
        for i in (1..items.len()).rev() {
            let j = self.below(i as u64 + 1) as usize;
            items.swap(i, j);
        }
    }
}

/// The generator's whole state, so that a checkpoint resumes the same sequence (of shuffles,
/// dropout masks, ...).
impl crate::Counters for Rng {
    fn counter_names() -> impl Iterator<Item = &'static str> {
        ["rng"].into_iter()
    }
    fn counters(&self) -> impl Iterator<Item = u64> {
        [self.state].into_iter()
    }
    fn set_counter(&mut self, index: usize, value: u64) {
        assert_eq!(index, 0, "Rng has one counter");
        self.state = value;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sequence_is_fixed_by_the_seed() {
        // Reference values of SplitMix64 seeded with 0 (Vigna's splitmix64.c).
        let mut rng = Rng::new(0);
        assert_eq!(rng.next_u64(), 0xE220_A839_7B1D_CDAF);
        assert_eq!(rng.next_u64(), 0x6E78_9E6A_A1B9_65F4);
        assert_eq!(rng.next_u64(), 0x06C4_5D18_8009_454F);
    }

    #[test]
    fn uniform_and_normal_have_the_right_moments() {
        let mut rng = Rng::new(7);
        let n = 100_000;
        let (mut sum_u, mut sum_n, mut sum_n2) = (0.0, 0.0, 0.0);
        for _ in 0..n {
            let u = rng.uniform(-1.0, 1.0);
            assert!((-1.0..1.0).contains(&u));
            sum_u += u;
            let z = rng.normal();
            sum_n += z;
            sum_n2 += z * z;
        }
        let n = n as f64;
        assert!((sum_u / n).abs() < 0.01);
        assert!((sum_n / n).abs() < 0.01);
        assert!((sum_n2 / n - 1.0).abs() < 0.02);
    }

    #[test]
    fn below_is_uniform_and_in_range() {
        let mut rng = Rng::new(3);
        let mut counts = [0u32; 6];
        for _ in 0..60_000 {
            counts[rng.below(6) as usize] += 1;
        }
        for c in counts {
            assert!((9_500..10_500).contains(&c), "{counts:?}");
        }
    }

    #[test]
    fn shuffle_is_a_permutation_and_reproducible() {
        let mut a: [u32; 20] = core::array::from_fn(|i| i as u32);
        let mut b = a;
        Rng::new(9).shuffle(&mut a);
        Rng::new(9).shuffle(&mut b);
        assert_eq!(a, b);
        assert_ne!(a, core::array::from_fn(|i| i as u32));
        let mut sorted = a;
        sorted.sort_unstable();
        assert_eq!(sorted, core::array::from_fn(|i| i as u32));
    }
}
