use super::engine::{Bounds, Engine, Rule, Slot, Walk};
use super::flush_subnormal;
use crate::Real;

/// Defines the hyperparameter type of an Adam variant: Adam's and AdamW's have the same fields
/// and differ in what their weight decay means and its default.
macro_rules! adam_hyperparameters {
    (
        $(#[$meta:meta])*
        pub struct $name:ident<T> {
            $(#[$decay_meta:meta])*
            pub weight_decay: T = $decay:expr,
        }
    ) => {
        super::hyperparameters::hyperparameters! {
            $(#[$meta])*
            pub struct $name<T> {
                /// Learning rate (default 1e-3).
                pub lr: T = T::of(1e-3),
                /// Decay rate β₁ of the first-moment average, PyTorch's `betas[0]` (default 0.9).
                pub beta1: T = T::of(0.9),
                /// Decay rate β₂ of the second-moment average, PyTorch's `betas[1]` (default
                /// 0.999).
                pub beta2: T = T::of(0.999),
                /// Added to the denominator, outside the square root (default 1e-8).
                pub eps: T = T::of(1e-8),
                $(#[$decay_meta])*
                pub weight_decay: T = $decay,
                /// Use the running maximum of the second moment (AMSGrad, default false).
                pub amsgrad: bool = false,
            }
        }
    };
}
pub(super) use adam_hyperparameters;

adam_hyperparameters! {
    /// Hyperparameters of [`Adam`]. Defaults are PyTorch's: `lr` 1e-3, `betas` (0.9, 0.999),
    /// `eps` 1e-8, no weight decay, no AMSGrad.
    pub struct AdamConfig<T> {
        /// L2 penalty added to the gradient, `g + wd·p` (default 0). For decoupled weight decay
        /// use [`AdamW`](crate::AdamW).
        pub weight_decay: T = T::zero(),
    }
}

/// Adam, as `torch.optim.Adam`: steps scaled per parameter by running estimates of the
/// gradient's first and second moments.
///
/// Each step, for every parameter `p` with gradient `g` (step `t` counts from 1):
/// ```text
/// g ← g + weight_decay · p
/// m ← β₁ m + (1 − β₁) g                     first moment (exp_avg)
/// v ← β₂ v + (1 − β₂) g²                    second moment (exp_avg_sq)
/// v̂ ← max(v̂, v) if amsgrad, else v          (max_exp_avg_sq)
/// p ← p − lr · (m / (1 − β₁ᵗ)) / (√(v̂ / (1 − β₂ᵗ)) + eps)
/// ```
/// Dividing by the root mean square of recent gradients gives every parameter a step of
/// roughly `lr`, whatever the scale of its gradient: flat directions speed up, steep ones slow
/// down. The `1 − βᵗ` factors undo the bias of averages that start at zero.
///
/// The state is `exp_avg`, `exp_avg_sq` and `max_exp_avg_sq` (PyTorch's names), in
/// [`Engine::state`](crate::optim::Engine) `[0]`, `[1]` and `[2]`, each shaped like the network's
/// gradient, and the step counter. `max_exp_avg_sq` stays zero without AMSGrad.
///
/// ```
/// use static_nn::{Adam, AdamConfig, Dense, Optimizer};
/// use static_nn::nalgebra::{Matrix1, Vector1};
///
/// let mut net = Dense::<f64, 1, 1>::new(Matrix1::new(1.0), Vector1::new(0.0));
/// let grad = Dense::new(Matrix1::new(0.5), Vector1::new(-4.0));
/// let mut adam = Adam::new(AdamConfig::with_lr(0.1));
/// adam.step(&mut net, &grad);
/// // The first step moves every parameter by lr against the sign of its gradient (up to eps).
/// assert!((net.weight[0] - 0.9).abs() < 1e-7);
/// assert!((net.bias[0] - 0.1).abs() < 1e-7);
/// ```
pub type Adam<T, N> = Engine<T, N, AdamConfig<T>, 3>;

/// Adam's state buffers; AdamW's too.
pub(super) const SLOTS: [Slot; 3] = [
    Slot {
        name: "exp_avg",
        non_negative: false,
    },
    Slot {
        name: "exp_avg_sq",
        non_negative: true,
    },
    Slot {
        name: "max_exp_avg_sq",
        non_negative: true,
    },
];

impl<T: Real> Rule<T, 3> for AdamConfig<T> {
    const NAME: &'static str = "Adam";
    const SLOTS: [Slot; 3] = SLOTS;
    type Step = Constants<T>;

    fn validate(&self) {
        validate(self, "Adam");
    }
    fn prepare(&self, t: u64) -> Constants<T> {
        Constants::new(self.lr, self.beta1, self.beta2, self.eps, self.weight_decay, t)
    }
    #[inline(always)]
    fn with_element<W: Walk<T, 3>>(&self, c: Constants<T>, walk: W) -> W::Output {
        self.with_decay(c, Decay::L2, walk)
    }
    fn certain_within(&self, c: &Constants<T>, bounds: &Bounds<T, 3>) -> bool {
        certain_within(c, self.amsgrad, self.weight_decay != T::zero(), false, bounds)
    }
}

impl<T: Real> AdamConfig<T> {
    /// [`Rule::with_element`] with the weight decay applied as `decay` (AdamW's is decoupled).
    /// A zero decay takes the decay-free loop: adding or multiplying by it would change nothing.
    #[inline(always)]
    pub(super) fn with_decay<W: Walk<T, 3>>(&self, c: Constants<T>, decay: Decay, walk: W) -> W::Output {
        let decay = if self.weight_decay == T::zero() {
            Decay::None
        } else {
            decay
        };
        dispatch(c, self.amsgrad, decay, walk)
    }
}

/// Panics on hyperparameters PyTorch also rejects; shared with [`AdamW`](crate::AdamW).
pub(super) fn validate<T: Real>(config: &AdamConfig<T>, name: &str) {
    assert!(config.eps >= T::zero(), "{name} eps must be >= 0, got {}", config.eps);
    for (i, beta) in [config.beta1, config.beta2].into_iter().enumerate() {
        assert!(
            beta >= T::zero() && beta < T::one(),
            "{name} beta{} must be in [0, 1), got {beta}",
            i + 1
        );
    }
    assert!(
        config.weight_decay >= T::zero(),
        "{name} weight decay must be >= 0, got {}",
        config.weight_decay
    );
}

/// How weight decay enters an Adam step.
#[derive(Clone, Copy)]
pub(super) enum Decay {
    /// None at all.
    None,
    /// Added to the gradient (Adam).
    L2,
    /// Applied to the parameter before the step (AdamW).
    Decoupled,
}

/// The per-step constants, computed once per step rather than once per parameter.
#[derive(Clone, Copy)]
pub struct Constants<T> {
    one_minus_beta1: T,
    beta2: T,
    one_minus_beta2: T,
    /// `lr / (1 − β₁ᵗ)`.
    step_size: T,
    /// `√(1 − β₂ᵗ)`.
    bias_correction2_sqrt: T,
    eps: T,
    weight_decay: T,
    /// `1 − lr · weight_decay`, the decoupled decay factor.
    keep: T,
    /// `eps · LIMIT`: below it, `step_size · m` divided by a denominator of at least `eps` is at
    /// most [`LIMIT`].
    eps_limit: T,
}

/// A magnitude whose double is finite in both precisions: a parameter within it, moved by at
/// most as much, stays finite.
const LIMIT: f64 = f32::MAX as f64 / 4.0;

impl<T: Real> Constants<T> {
    /// The constants of step `t`; `t` ≥ 1 and β < 1 make both bias corrections positive.
    pub(super) fn new(lr: T, beta1: T, beta2: T, eps: T, weight_decay: T, t: u64) -> Self {
        let t = T::of(t as f64);
        Self {
            one_minus_beta1: T::one() - beta1,
            beta2,
            one_minus_beta2: T::one() - beta2,
            step_size: lr / (T::one() - decayed(beta1, t)),
            bias_correction2_sqrt: (T::one() - decayed(beta2, t)).sqrt(),
            eps,
            weight_decay,
            keep: T::one() - lr * weight_decay,
            eps_limit: eps * T::of(LIMIT),
        }
    }
}

/// `βᵗ`, or 0 once `(β − 1) t < −69`: since `ln β ≤ β − 1`, `βᵗ` is then below
/// `e^-69 ≈ 1e-30`, where `1 − βᵗ` is 1 in both precisions. Past that, `powf` takes its slow
/// underflow path, a fifth of a small network's step. The bound needs no logarithm (two `ln`
/// calls a step were 4% of W1's optimizer step) and, for the betas near 1 that Adam uses, is
/// as tight as one.
fn decayed<T: Real>(beta: T, t: T) -> T {
    if (beta - T::one()) * t < T::of(-69.0) {
        T::zero()
    } else {
        power(beta, t)
    }
}

/// `βᵗ`, out of line. Inlined, `powf` is a pure intrinsic to the compiler, which then computes
/// it for both betas before [`decayed`]'s test, on every step, and the test saves nothing.
#[inline(never)]
fn power<T: Real>(beta: T, t: T) -> T {
    beta.powf(t)
}

/// Hands `walk` the element function of one Adam variant; the state buffers written are the
/// moments, and the maximum only with AMSGrad.
///
/// Once `1 − β₂ᵗ` rounds to 1 (with the default β₂, after about 17,300 steps in `f32` and
/// 36,500 in `f64`), dividing by its root changes no bit, so the element skips the division:
/// with the square root and the step's own division, it was one of the three operations of the
/// divider that bound the loop. Only where the x86 kernels are compiled in: on a microcontroller
/// the second copy of every variant took the iris training firmware from 35 to 51 KB of flash.
#[inline(always)]
fn dispatch<T: Real, W: Walk<T, 3>>(c: Constants<T>, amsgrad: bool, decay: Decay, walk: W) -> W::Output {
    if cfg!(x86_kernels) && c.bias_correction2_sqrt == T::one() {
        variant::<T, W, false>(c, amsgrad, decay, walk)
    } else {
        variant::<T, W, true>(c, amsgrad, decay, walk)
    }
}

/// [`dispatch`] once it is known whether the second moment is still `CORRECTED`.
#[inline(always)]
fn variant<T: Real, W: Walk<T, 3>, const CORRECTED: bool>(
    c: Constants<T>,
    amsgrad: bool,
    decay: Decay,
    walk: W,
) -> W::Output {
    match (amsgrad, decay) {
        (false, Decay::None) => walk.run::<0b011, _, _>(
            move |p, g, s| element::<T, false, false, false, CORRECTED>(&c, p, g, s),
            move |p, g, s| certainly_finite::<T, false, false, false>(&c, p, g, s),
        ),
        (false, Decay::L2) => walk.run::<0b011, _, _>(
            move |p, g, s| element::<T, false, true, false, CORRECTED>(&c, p, g, s),
            move |p, g, s| certainly_finite::<T, false, true, false>(&c, p, g, s),
        ),
        (false, Decay::Decoupled) => walk.run::<0b011, _, _>(
            move |p, g, s| element::<T, false, false, true, CORRECTED>(&c, p, g, s),
            move |p, g, s| certainly_finite::<T, false, false, true>(&c, p, g, s),
        ),
        (true, Decay::None) => walk.run::<0b111, _, _>(
            move |p, g, s| element::<T, true, false, false, CORRECTED>(&c, p, g, s),
            move |p, g, s| certainly_finite::<T, true, false, false>(&c, p, g, s),
        ),
        (true, Decay::L2) => walk.run::<0b111, _, _>(
            move |p, g, s| element::<T, true, true, false, CORRECTED>(&c, p, g, s),
            move |p, g, s| certainly_finite::<T, true, true, false>(&c, p, g, s),
        ),
        (true, Decay::Decoupled) => walk.run::<0b111, _, _>(
            move |p, g, s| element::<T, true, false, true, CORRECTED>(&c, p, g, s),
            move |p, g, s| certainly_finite::<T, true, false, true>(&c, p, g, s),
        ),
    }
}

/// One element, in PyTorch's order of operations (`lerp` for the first moment, the denominator
/// `√v̂ / √(1 − β₂ᵗ) + eps`, without the division when not `CORRECTED`: the divisor is then 1);
/// subnormal moments are stored as 0 ([`flush_subnormal`]).
#[inline(always)]
fn element<T: Real, const AMSGRAD: bool, const L2: bool, const DECOUPLED: bool, const CORRECTED: bool>(
    c: &Constants<T>,
    param: T,
    grad: T,
    state: [T; 3],
) -> (T, [T; 3]) {
    let (param, [first, second, max]) = moments::<T, AMSGRAD, L2, DECOUPLED>(c, param, grad, state);
    let root = if AMSGRAD { max } else { second }.sqrt();
    let denominator = if CORRECTED {
        root / c.bias_correction2_sqrt
    } else {
        root
    } + c.eps;
    (param - c.step_size * first / denominator, [first, second, max])
}

/// The start of [`element`]: the decayed parameter and the new state.
#[inline(always)]
fn moments<T: Real, const AMSGRAD: bool, const L2: bool, const DECOUPLED: bool>(
    c: &Constants<T>,
    param: T,
    grad: T,
    [m, v, v_max]: [T; 3],
) -> (T, [T; 3]) {
    let param = if DECOUPLED { param * c.keep } else { param };
    let grad = if L2 { grad + c.weight_decay * param } else { grad };
    let first = flush_subnormal(m + c.one_minus_beta1 * (grad - m));
    let second = flush_subnormal(c.beta2 * v + c.one_minus_beta2 * grad * grad);
    let max = if AMSGRAD { v_max.max(second) } else { v_max };
    (param, [first, second, max])
}

/// Whether every value [`element`] writes is certainly finite, decided without its square root
/// and division (the guard's fast path; `false` only sends it to the exact check). The state is
/// computed as [`element`] computes it. With the square root's argument ≥ 0, the denominator is
/// at least `eps` (a root over a positive correction, plus `eps`), so with
/// `|step_size · m| < eps · LIMIT` the step is at most `LIMIT`, and a parameter within `LIMIT`
/// stays finite. With `eps` = 0 nothing passes (the comparison is strict), since the
/// denominator could then be 0.
#[inline(always)]
fn certainly_finite<T: Real, const AMSGRAD: bool, const L2: bool, const DECOUPLED: bool>(
    c: &Constants<T>,
    param: T,
    grad: T,
    state: [T; 3],
) -> bool {
    let (param, [first, second, max]) = moments::<T, AMSGRAD, L2, DECOUPLED>(c, param, grad, state);
    let limit = T::of(LIMIT);
    let root = if AMSGRAD { max } else { second };
    let moments_finite = first.is_finite() & second.is_finite() & (!AMSGRAD | max.is_finite());
    moments_finite & (root >= T::zero()) & (param.abs() <= limit) & ((c.step_size * first).abs() < c.eps_limit)
}

/// Whether every value [`element`] writes is certainly finite for every parameter, gradient
/// and state within `bounds` ([`Rule::certain_within`]; shared with [`AdamW`](crate::AdamW)).
///
/// The proof follows [`element`] operation by operation. Rounding to nearest is monotone and
/// symmetric, so `|fl(a ∘ b)| ≤ fl(|a| • |b|)` where `∘` is `+`, `−` or `×` and `•` is `+` for
/// `±` and `×` for `×`: evaluating the same expression on the bounds, with every constant
/// replaced by its magnitude, bounds the magnitude of what any element computes. In order:
/// - the parameter, after the decoupled decay: `|p · keep| ≤ P |keep|`;
/// - the gradient, with L2 decay: `|g + wd p| ≤ G + |wd| P`; call the bound `G'`;
/// - the first moment, `m + (1 − β₁)(g − m)`: at most `M + |1 − β₁| (G' + M)` (flushing a
///   subnormal to 0 only lowers it);
/// - the second moment, `β₂ v + (1 − β₂) g g`: both terms are ≥ 0 when `β₂ ≥ 0`, `1 − β₂ ≥ 0`
///   and `v ≥ 0` (a non-negative buffer, [`Bounds::state`]), so it lies in
///   `[0, β₂ V + (1 − β₂) G' G']`; with AMSGrad its maximum with `v̂ ∈ [0, V̂]` lies in
///   `[0, max(V̂, that)]`. `1 − β₂ ≥ 0` needs no test of its own: a `β₂` above 1 (or NaN)
///   makes `1 − β₂ᵗ` negative (or NaN) and its root NaN, which the test of the correction
///   refuses;
/// - the denominator `√root / √(1 − β₂ᵗ) + eps` (without the division once the correction
///   is exactly 1), with that root finite and ≥ 0 and the correction > 0, is ≥ `eps` (or ∞,
///   making the step 0);
/// - so, as in [`certainly_finite`], `|step_size · first| < eps · LIMIT` bounds the step by
///   `LIMIT` (rounding included), and a parameter within `LIMIT` moves to within `2 LIMIT`,
///   which is finite. `eps` ≤ 0 fails the strict comparison.
///
/// A bound that is not finite (unknown, or some entry is not finite) makes `first` or `second`
/// not finite, and is refused through them (`first` through the strict comparison, which ∞
/// and NaN fail); only `V̂`, which they do not involve, is tested on its own. The constants are not trusted either: the configuration is public and may have
/// been changed after its validation (a β above 1, a negative decay).
pub(super) fn certain_within<T: Real>(
    c: &Constants<T>,
    amsgrad: bool,
    l2: bool,
    decoupled: bool,
    bounds: &Bounds<T, 3>,
) -> bool {
    let [m, v, v_max] = bounds.state;
    let param = if decoupled {
        bounds.parameter * c.keep.abs()
    } else {
        bounds.parameter
    };
    let grad = if l2 {
        bounds.gradient + c.weight_decay.abs() * param
    } else {
        bounds.gradient
    };
    let first = m + c.one_minus_beta1.abs() * (grad + m);
    let second = c.beta2 * v + c.one_minus_beta2 * grad * grad;
    let root_finite = second.is_finite() & (!amsgrad | v_max.is_finite());
    let root_non_negative = (c.beta2 >= T::zero()) & (c.bias_correction2_sqrt > T::zero());
    // Also refuses a `first` that is not finite: the product is then ∞ or NaN.
    let step_bounded = (c.step_size.abs() * first) < c.eps_limit;
    root_finite & root_non_negative & (param <= T::of(LIMIT)) & step_bounded
}

#[cfg(test)]
pub(super) mod tests {
    use super::*;
    use crate::optim::test_support::{self, Net, QUADRATIC_START, ROSENBROCK_START, minimise, quadratic, rosenbrock};
    use crate::{Optimizer, Tensors};
    use nalgebra::Vector2;

    /// Adam and AdamW written out from PyTorch's documented algorithms, over flat vectors: the
    /// weight decay multiplies the parameter when `decoupled` (AdamW), else it is added to the
    /// gradient (Adam).
    pub(in crate::optim) fn reference(config: AdamConfig<f64>, decoupled: bool) -> impl FnMut(u64, &mut [f64], &[f64]) {
        let n = test_support::len();
        let (mut m, mut v, mut v_max) = (vec![0.0f64; n], vec![0.0f64; n], vec![0.0f64; n]);
        move |t, p, g| {
            let (b1, b2) = (config.beta1, config.beta2);
            for i in 0..n {
                let g = if decoupled {
                    p[i] *= 1.0 - config.lr * config.weight_decay;
                    g[i]
                } else {
                    g[i] + config.weight_decay * p[i]
                };
                m[i] = b1 * m[i] + (1.0 - b1) * g;
                v[i] = b2 * v[i] + (1.0 - b2) * g * g;
                v_max[i] = v_max[i].max(v[i]);
                let second = if config.amsgrad { v_max[i] } else { v[i] };
                let m_hat = m[i] / (1.0 - b1.powi(t as i32));
                let v_hat = second / (1.0 - b2.powi(t as i32));
                p[i] -= config.lr * m_hat / (v_hat.sqrt() + config.eps);
            }
        }
    }

    /// The guard's shortcut never promises a finite update that is not: random parameters,
    /// gradients and state drawn across every magnitude (0, subnormal, huge, infinite, NaN,
    /// negative second moments), under every variant and an `eps` of 0, tiny or default.
    fn shortcut_is_sound<T: Real>() {
        fn check<T: Real, const A: bool, const L: bool, const D: bool>(c: &Constants<T>, values: [T; 5]) -> bool {
            let [p, g, m, v, v_max] = values;
            if !certainly_finite::<T, A, L, D>(c, p, g, [m, v, v_max]) {
                return false;
            }
            let (param, [first, second, max]) = element::<T, A, L, D, true>(c, p, g, [m, v, v_max]);
            assert!(
                param.is_finite() && first.is_finite() && second.is_finite() && (!A || max.is_finite()),
                "promised finite, got {param}, [{first}, {second}, {max}] from {values:?}"
            );
            true
        }
        let magnitudes = [
            0.0,
            1e-45,
            1e-310,
            1e-30,
            1e-8,
            1.0,
            1e10,
            1e19,
            1e30,
            3e38,
            1e300,
            f64::INFINITY,
            f64::NAN,
        ];
        let mut rng = crate::Rng::new(7);
        let mut draw = || {
            let magnitude = magnitudes[(rng.uniform(0.0, magnitudes.len() as f64) as usize).min(magnitudes.len() - 1)];
            T::of(magnitude * rng.uniform(-2.0, 2.0))
        };
        let mut promised = 0;
        for case in 0..20_000 {
            let eps = [0.0, 1e-40, 1e-8][case % 3];
            let (weight_decay, lr) = ([0.0, 0.1, 1e30][case / 3 % 3], [1e-3, 10.0][case / 9 % 2]);
            let c = Constants::new(
                T::of(lr),
                T::of(0.9),
                T::of(0.999),
                T::of(eps),
                T::of(weight_decay),
                1 + case as u64 % 5,
            );
            let values = [draw(), draw(), draw(), draw(), draw()];
            promised += usize::from(check::<T, false, false, false>(&c, values));
            promised += usize::from(check::<T, true, true, false>(&c, values));
            promised += usize::from(check::<T, false, false, true>(&c, values));
            promised += usize::from(check::<T, true, false, true>(&c, values));
        }
        // The shortcut is taken often enough to be worth having.
        assert!(promised > 5_000, "{promised} promises");
    }

    #[test]
    fn guard_shortcut_is_sound() {
        shortcut_is_sound::<f32>();
        shortcut_is_sound::<f64>();
    }

    /// The guard's per-step bound never promises a finite update that is not: hyperparameters
    /// including ones the constructors reject but the public configuration allows afterwards
    /// (β of 1, above 1 or negative; negative weight decay; eps 0 or huge), bounds across every
    /// magnitude (∞ and NaN meaning unknown), and for each, elements at the bounds' corners
    /// with adversarial signs and inside them.
    fn bound_is_sound<T: Real>() {
        /// The element's update, with the division by the correction and, where the
        /// correction is exactly 1 (where `dispatch` drops the division), without.
        fn both<T: Real, const A: bool, const L: bool, const D: bool>(
            c: &Constants<T>,
            p: T,
            g: T,
            state: [T; 3],
        ) -> [(T, [T; 3]); 2] {
            let corrected = element::<T, A, L, D, true>(c, p, g, state);
            let uncorrected = if c.bias_correction2_sqrt == T::one() {
                element::<T, A, L, D, false>(c, p, g, state)
            } else {
                corrected
            };
            [corrected, uncorrected]
        }
        let magnitudes = [
            0.0,
            1e-45,
            1e-30,
            1e-8,
            1.0,
            1e10,
            1e19,
            1e30,
            3e38,
            1e300,
            f64::INFINITY,
            f64::NAN,
        ];
        let betas = [0.0, 0.5, 0.9, 0.999, 1.0, 1.5, -0.5];
        let mut rng = crate::Rng::new(11);
        let mut pick = |values: &[f64]| values[(rng.uniform(0.0, values.len() as f64) as usize).min(values.len() - 1)];
        let mut promised = 0;
        for case in 0..20_000 {
            let c = Constants::new(
                T::of(pick(&[1e-3, 10.0, 1e30, 3e38])),
                T::of(pick(&betas)),
                T::of(pick(&betas)),
                T::of(pick(&[0.0, 1e-40, 1e-8, 10.0])),
                T::of(pick(&[0.0, 0.1, 1e30, -1.0])),
                1 + case as u64 % 5,
            );
            let [parameter, gradient, m, v, v_max] =
                core::array::from_fn(|_| T::of(pick(&magnitudes) * pick(&[0.5, 1.0, 2.0])));
            let bounds = Bounds {
                parameter,
                gradient,
                state: [m, v, v_max],
            };
            let corners: [[f64; 5]; 4] = [
                [1.0, 1.0, -1.0, 1.0, 1.0],
                [-1.0, -1.0, 1.0, 1.0, 0.0],
                [1.0, -1.0, 1.0, 0.0, 1.0],
                [0.5, 0.25, -0.75, 0.5, 0.25],
            ];
            for (amsgrad, l2, decoupled) in [
                (false, false, false),
                (false, true, false),
                (false, false, true),
                (true, true, false),
                (true, false, true),
            ] {
                if !certain_within(&c, amsgrad, l2, decoupled, &bounds) {
                    continue;
                }
                promised += 1;
                for corner in corners {
                    // Where a bound is not finite, the entries are unknown: take hostile ones.
                    let within = [parameter, gradient, m, v, v_max];
                    let [p, g, m, v, v_max] = core::array::from_fn(|i| {
                        if within[i].is_finite() {
                            within[i] * T::of(corner[i])
                        } else {
                            T::of([f64::INFINITY, -f64::INFINITY, f64::NAN, -1.0][(i + case) % 4])
                        }
                    });
                    let state = [m, v, v_max];
                    let updates = match (amsgrad, l2, decoupled) {
                        (false, false, false) => both::<T, false, false, false>(&c, p, g, state),
                        (false, true, false) => both::<T, false, true, false>(&c, p, g, state),
                        (false, false, true) => both::<T, false, false, true>(&c, p, g, state),
                        (true, true, false) => both::<T, true, true, false>(&c, p, g, state),
                        _ => both::<T, true, false, true>(&c, p, g, state),
                    };
                    for (param, [first, second, max]) in updates {
                        assert!(
                            param.is_finite()
                                && first.is_finite()
                                && second.is_finite()
                                && (!amsgrad || max.is_finite()),
                            "promised finite, got {param}, [{first}, {second}, {max}] from {:?} within {bounds:?}",
                            [p, g, m, v, v_max]
                        );
                    }
                }
            }
        }
        // Enough of the draws are vouched for that every condition is exercised.
        assert!(promised > 1_000, "{promised} promises");
    }

    #[test]
    fn guard_bound_is_sound() {
        bound_is_sound::<f32>();
        bound_is_sound::<f64>();
    }

    /// With eps 0, a zero gradient on zero state divides 0 by 0: the guard refuses it, though
    /// every input is finite.
    #[test]
    fn guard_refuses_zero_over_zero() {
        let mut net = Vector2::new(1.0_f32, 2.0);
        let mut adam = Adam::<f32, Vector2<f32>>::new(AdamConfig {
            eps: 0.0,
            ..AdamConfig::default()
        });
        let error = adam.try_step(&mut net, &Vector2::zeros()).unwrap_err();
        assert!(error.new.is_nan());
        assert_eq!((net, adam.steps), (Vector2::new(1.0, 2.0), 0));
    }

    fn variants() -> [AdamConfig<f64>; 4] {
        [
            AdamConfig::with_lr(0.01),
            AdamConfig {
                weight_decay: 0.1,
                ..AdamConfig::with_lr(0.01)
            },
            AdamConfig {
                amsgrad: true,
                ..AdamConfig::with_lr(0.02)
            },
            AdamConfig {
                amsgrad: true,
                weight_decay: 0.05,
                beta1: 0.8,
                beta2: 0.99,
                eps: 1e-3,
                lr: 0.03,
            },
        ]
    }

    test_support::rule_tests!(variants(), |config| reference(config, false));

    /// lr 0.1 on the quadratic, 0.02 on Rosenbrock.
    #[test]
    fn converges_on_quadratic_and_rosenbrock() {
        for amsgrad in [false, true] {
            let config = AdamConfig {
                amsgrad,
                ..AdamConfig::with_lr(0.1)
            };
            let end = minimise(Adam::new(config), quadratic, QUADRATIC_START, 2000);
            assert!(end.norm() < 1e-4, "amsgrad {amsgrad}: quadratic ended at {end}");
            let config = AdamConfig {
                amsgrad,
                ..AdamConfig::with_lr(0.02)
            };
            let end = minimise(Adam::new(config), rosenbrock, ROSENBROCK_START, 10_000);
            let error = (end - Vector2::new(1.0, 1.0)).norm();
            assert!(error < 1e-3, "amsgrad {amsgrad}: Rosenbrock ended at {end}");
        }
    }

    #[test]
    fn amsgrad_keeps_the_running_maximum() {
        let mut theta = Vector2::new(1.0_f64, 1.0);
        let mut adam = Adam::new(AdamConfig {
            amsgrad: true,
            ..AdamConfig::default()
        });
        adam.step(&mut theta, &Vector2::new(2.0, 0.0));
        adam.step(&mut theta, &Vector2::new(0.0, 0.0));
        // v after the second step is 0.999 · 0.001 · 4; the maximum remembers 0.001 · 4.
        assert!((adam.state[1][0] - 0.999 * 0.004).abs() < 1e-15);
        assert!((adam.state[2][0] - 0.004).abs() < 1e-15);
        let mut plain = Adam::<f64, Vector2<f64>>::new(AdamConfig::default());
        plain.step(&mut theta, &Vector2::new(2.0, 0.0));
        assert_eq!(plain.state[2], Vector2::zeros());
    }

    /// Both sides of the step where `1 − β₂ᵗ` rounds to 1 in `f32` (about 17,320 with β₂ =
    /// 0.999), past which the element skips its division by the root of it: every step is the
    /// written-out formula's, bit for bit.
    #[test]
    fn late_steps_equal_the_formula_bit_for_bit() {
        let c = AdamConfig::<f32>::default();
        for t in [17_000, 17_300, 17_400, 1_000_000] {
            // Parameters at 0, so that the update's last bit is the parameter's.
            let (mut theta, g) = (Vector2::zeros(), Vector2::new(0.3_f32, -0.7));
            let (m, v) = (Vector2::new(1e-3_f32, -2e-3), Vector2::new(1e-6_f32, 3e-6));
            let mut adam = Adam::<f32, Vector2<f32>>::new(c);
            (adam.state[0], adam.state[1]) = (m, v);
            adam.set_steps(t - 1);
            adam.step(&mut theta, &g);
            let tf = t as f32;
            let correction2 = (1.0 - c.beta2.powf(tf)).sqrt();
            let step_size = c.lr / (1.0 - c.beta1.powf(tf));
            for i in 0..2 {
                let m = m[i] + (1.0 - c.beta1) * (g[i] - m[i]);
                let v = c.beta2 * v[i] + (1.0 - c.beta2) * g[i] * g[i];
                let want = 0.0 - step_size * m / (v.sqrt() / correction2 + c.eps);
                assert_eq!(theta[i].to_bits(), want.to_bits(), "step {t}, parameter {i}");
            }
        }
    }

    #[test]
    fn subnormal_moments_are_stored_as_zero() {
        // Near the smallest subnormal, m − 0.1 m rounds back to m: without the flush the state
        // would stay subnormal (and slow) forever once the gradient vanishes.
        let mut theta = nalgebra::Vector2::new(1.0_f32, 1.0);
        let mut adam = Adam::new(AdamConfig::default());
        adam.state[0] = nalgebra::Vector2::new(f32::from_bits(1), 1e-3);
        adam.state[1] = nalgebra::Vector2::new(f32::from_bits(1), 1e-3);
        adam.step(&mut theta, &nalgebra::Vector2::zeros());
        assert_eq!(adam.state[0][0], 0.0);
        assert_eq!(adam.state[1][0], 0.0);
        assert!(adam.state[0][1] > 0.0 && adam.state[1][1] > 0.0);
        for _ in 0..100_000 {
            adam.step(&mut theta, &nalgebra::Vector2::zeros());
        }
        assert!(adam.tensors().flatten().all(|v| !v.is_subnormal()));
    }

    #[test]
    fn state_tensors_come_in_the_documented_order() {
        type Pair = crate::Dense<f64, 2, 1>;
        let mut adam = Adam::<f64, Pair>::new(AdamConfig::default());
        for (i, t) in adam.tensors_mut().enumerate() {
            t.fill(i as f64);
        }
        assert_eq!(adam.state[0].bias[0], 1.0);
        assert_eq!(adam.state[1].weight[0], 2.0);
        assert_eq!(adam.state[2].bias[0], 5.0);
        let infos: Vec<(usize, &str)> = Adam::<f64, Pair>::tensor_infos().map(|t| (t.layer, t.name)).collect();
        assert_eq!(
            infos,
            [
                (0, "weight"),
                (0, "bias"),
                (1, "weight"),
                (1, "bias"),
                (2, "weight"),
                (2, "bias")
            ]
        );
    }

    #[test]
    fn boxed_equals_stacked() {
        let config = AdamConfig::with_lr(0.5);
        let a = Adam::<f64, Net>::new(config);
        let b = Adam::<f64, Net>::new_boxed(config);
        assert_eq!(a.config, b.config);
        assert_eq!(b.steps, 0);
        assert!(b.tensors().flatten().all(|&v| v == 0.0));
    }

    #[test]
    #[should_panic(expected = "Adam beta2 must be in [0, 1), got 1")]
    fn beta_of_one_is_rejected() {
        let _ = Adam::<f64, Net>::new(AdamConfig {
            beta2: 1.0,
            ..AdamConfig::default()
        });
    }
}
