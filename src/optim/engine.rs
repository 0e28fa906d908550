//! The one optimizer engine: step counting, learning rate, state, traversal, construction,
//! checkpoint plumbing and the non-finite guard, written once for every update rule.

use bytemuck::Zeroable;

use super::{GradientBound, LearningRate, MAX_STEPS, NonFiniteUpdate, Optimizer, OptimizerState};
use crate::{Layer, Parameters, Real, TensorInfo, Tensors};

/// One buffer of an update rule's state, shaped like the network's gradient.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Slot {
    /// PyTorch's name for the buffer (`exp_avg_sq`).
    pub name: &'static str,
    /// Whether every value is ≥ 0 by construction (a second moment, a sum of squares): a
    /// checkpoint holding a negative one is refused at load.
    pub non_negative: bool,
}

/// How one algorithm turns a gradient into an update, element by element: its hyperparameters
/// and its arithmetic, nothing else. [`Engine`] does the rest.
///
/// `K` is the number of state buffers ([`Rule::SLOTS`]); each is a copy of the network's
/// gradient. A rule is its own hyperparameter type (`AdamConfig` is Adam's rule), so the
/// engine's `config` field is what the user built, and it holds the [`LearningRate`].
pub trait Rule<T: Real, const K: usize>: Copy + Zeroable + LearningRate<T> {
    /// The algorithm's name, as in panic messages ("Adam").
    const NAME: &'static str;

    /// The state buffers, in the order of [`Engine::state`] and of the checkpoint.
    const SLOTS: [Slot; K];

    /// What the element function needs besides the element's values, computed once per step.
    type Step: Copy;

    /// Panics, naming the hyperparameter, on a value PyTorch also rejects.
    fn validate(&self);

    /// The value every entry of each state buffer starts from (zero unless the rule says).
    fn initial_state(&self) -> [T; K] {
        [T::zero(); K]
    }

    /// The per-step constants of step `t` (counting from 1).
    fn prepare(&self, t: u64) -> Self::Step;

    /// Whether every value the element function of `step` writes, and the parameter it returns,
    /// is finite for every element whose parameter, gradient and state lie within `bounds`:
    /// the guard's cheapest shortcut, decided once per step from a few maxima instead of
    /// element by element, and without reading the state. It must never promise wrongly; the
    /// default, `false`, is always correct (the guard then checks the elements).
    fn certain_within(&self, step: &Self::Step, bounds: &Bounds<T, K>) -> bool {
        let _ = (step, bounds);
        false
    }

    /// Hands `walk` the element function of this configuration, chosen once per step (so the
    /// element loop is branch-free and vectorises), with the mask of the state buffers it
    /// writes as [`Walk::run`]'s `WRITTEN`. The function maps `(parameter, gradient, state)` to
    /// their new values, and returns a buffer the configuration does not write unchanged.
    fn with_element<W: Walk<T, K>>(&self, step: Self::Step, walk: W) -> W::Output;
}

/// What the guard knows of the values an update reads, for [`Rule::certain_within`]. Each
/// bound is finite and ≥ 0, or not finite (NaN or ∞) when an entry is not finite or the bound
/// is unknown; a rule relying on a bound checks that it is finite.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Bounds<T, const K: usize> {
    /// At least the magnitude `|p|` of every parameter.
    pub parameter: T,
    /// At least the magnitude `|g|` of every gradient entry.
    pub gradient: T,
    /// Per state buffer, at least the magnitude of every entry; for a buffer whose
    /// [`Slot::non_negative`] is set, every entry is moreover ≥ 0 when the bound is finite.
    pub state: [T; K],
}

/// What the engine does with a rule's element function: check every element, or write them.
pub trait Walk<T: Real, const K: usize> {
    /// What the walk returns.
    type Output;

    /// Walks every parameter with `element`; bit `k` of `WRITTEN` says whether state buffer `k`
    /// changes. A constant, so that a buffer left alone is neither loaded, checked nor stored:
    /// without AMSGrad, Adam's `max_exp_avg_sq` costs nothing.
    ///
    /// `certain` is the check pass's shortcut: given the same arguments as `element`, `true`
    /// promises that every value `element` returns for a written buffer, and the parameter, is
    /// finite, decided more cheaply than by computing them (Adam's skips its square root and
    /// division). It must never promise wrongly; `false` merely sends the tensor to the exact
    /// check, so `|_, _, _| false` is always correct.
    fn run<const WRITTEN: usize, E, C>(self, element: E, certain: C) -> Self::Output
    where
        E: Fn(T, T, [T; K]) -> (T, [T; K]) + Copy,
        C: Fn(T, T, [T; K]) -> bool + Copy;
}

/// An optimizer: an update [`Rule`] (`R`, whose hyperparameters are `config`) applied to the
/// network `N`, with `K` state buffers shaped like `N`'s gradient and a step counter.
///
/// Every optimizer of the crate is this type with its rule: [`Adam<T, N>`](crate::Adam) is
/// `Engine<T, N, AdamConfig<T>, 3>`. The state's type names the network, so a state built for one
/// network does not compile with another, and a step allocates nothing.
#[derive(Zeroable)]
#[zeroable(bound = "")]
pub struct Engine<T, N, R, const K: usize>
where
    T: Real,
    N: Parameters<T>,
    R: Rule<T, K>,
{
    /// Hyperparameters; may be changed between steps (the learning rate through
    /// [`Optimizer::set_learning_rate`], which checks it).
    pub config: R,
    /// The state buffers, named by [`Rule::SLOTS`] (each rule's documentation lists them):
    /// `adam.state[1]` is Adam's `exp_avg_sq`. Writing through it (or through
    /// [`Tensors::tensors_mut`]) makes the next guarded step check every value it writes, as
    /// [`OptimizerState`] explains.
    pub state: OptimizerState<T, N::Gradient, K>,
    /// Steps taken so far (PyTorch's `state["step"]`), at most [`MAX_STEPS`].
    pub steps: u64,
}

impl<T: Real, N: Parameters<T>, R: Rule<T, K>, const K: usize> Clone for Engine<T, N, R, K> {
    fn clone(&self) -> Self {
        Self {
            config: self.config,
            state: self.state.clone(),
            steps: self.steps,
        }
    }
}

/// The optimizer's state, for saving and restoring: the tensors of each buffer of
/// [`Rule::SLOTS`] in turn, each in the network's order, laid out as an array of them is.
/// [`Engine::steps`] and the learning rate complete the state.
impl<T: Real, N: Parameters<T>, R: Rule<T, K>, const K: usize> Tensors<T> for Engine<T, N, R, K> {
    const LAYERS: usize = <[N::Gradient; K] as Tensors<T>>::LAYERS;

    fn tensors(&self) -> impl Iterator<Item = &[T]> {
        self.state.buffers.tensors()
    }
    fn tensors_mut(&mut self) -> impl Iterator<Item = &mut [T]> {
        self.state.forget_bounds();
        self.state.buffers.tensors_mut()
    }
    fn tensor_infos() -> impl Iterator<Item = TensorInfo> {
        <[N::Gradient; K]>::tensor_infos()
    }
}

impl<T: Real, N: Parameters<T>, R: Rule<T, K>, const K: usize> Engine<T, N, R, K> {
    /// A fresh optimizer: no steps taken, the state at the rule's initial values (zero, or
    /// Adagrad's `initial_accumulator_value`).
    ///
    /// # Panics
    /// On a hyperparameter PyTorch also rejects (a negative learning rate, a beta outside
    /// `[0, 1)`, ...); the message names it.
    pub fn new(config: R) -> Self {
        let mut engine = Self::zeroed();
        engine.start(config);
        engine
    }

    /// Like [`Engine::new`], built directly on the heap (for networks too large for the stack).
    ///
    /// # Panics
    /// As [`Engine::new`].
    #[cfg(feature = "alloc")]
    pub fn new_boxed(config: R) -> alloc::boxed::Box<Self> {
        let mut engine = crate::zeroed_box::<Self>();
        engine.start(config);
        engine
    }

    fn start(&mut self, config: R) {
        config.validate();
        check_learning_rate(R::NAME, config.learning_rate());
        self.config = config;
        let masks = magnitude_masks::<T, R, K>();
        let buffers = self.state.buffers.iter_mut().zip(&mut self.state.bounds);
        for (k, ((buffer, bound), value)) in buffers.zip(config.initial_state()).enumerate() {
            if value != T::zero() {
                for t in buffer.tensors_mut() {
                    t.fill(value);
                }
            }
            *bound = from_high_word(high_word(value) & masks[k]);
        }
    }

    /// Writes the update of one step whose constants are `step`. `MEASURE` (the guarded step)
    /// also measures the bounds of the state buffers it writes; otherwise every bound is
    /// forgotten.
    fn write<const MEASURE: bool>(&mut self, net: &mut N, grad: &N::Gradient, step: R::Step) {
        let mut largest = [0; K];
        let written = self.config.with_element(
            step,
            Write::<T, N, K, MEASURE> {
                net,
                grad,
                state: &mut self.state.buffers,
                masks: magnitude_masks::<T, R, K>(),
                largest: &mut largest,
            },
        );
        if !MEASURE {
            self.state.forget_bounds();
            return;
        }
        for (k, (bound, word)) in self.state.bounds.iter_mut().zip(largest).enumerate() {
            if written >> k & 1 == 1 {
                *bound = from_high_word(word);
            }
        }
    }

    /// Whether the rule vouches for the update of `step` from [`Bounds`]: the state's, kept
    /// by the last guarded step, and the parameters' and gradient's, measured now (they are
    /// public, so they may have changed since). The measurement is skipped when the rule
    /// refuses even with parameters and gradient at 0 (it has no shortcut, or a state bound
    /// is unknown). Whatever the rule answers for zeros, the promise rests on the second
    /// answer alone, given bounds that hold.
    fn certain(&mut self, net: &mut N, grad: &N::Gradient, step: &R::Step, gradient: Option<T>) -> bool {
        let mut bounds = Bounds {
            parameter: T::zero(),
            gradient: T::zero(),
            state: self.state.bounds,
        };
        if !self.config.certain_within(step, &bounds) {
            return false;
        }
        let buffers = &mut self.state.buffers;
        (bounds.parameter, bounds.gradient) = match gradient {
            Some(bound) => (magnitudes::<T, N, K, false>(net, grad, buffers).0, bound),
            None => magnitudes::<T, N, K, true>(net, grad, buffers),
        };
        self.config.certain_within(step, &bounds)
    }

    /// [`Optimizer::try_step`], with the gradient's bound measured here (`None`) or given.
    fn guarded_step(&mut self, net: &mut N, grad: &N::Gradient, gradient: Option<T>) -> Result<(), NonFiniteUpdate<T>> {
        let steps = self.next_step();
        let step = self.config.prepare(steps);
        if !self.certain(net, grad, &step, gradient) {
            let check = Check::<T, N, K> {
                net,
                grad,
                state: &mut self.state.buffers,
                names: R::SLOTS.map(|slot| slot.name),
            };
            self.config.with_element(step, check)?;
        }
        self.steps = steps;
        self.write::<true>(net, grad, step);
        Ok(())
    }

    /// The step counter after one more step: saturated at [`MAX_STEPS`], where every rule's
    /// step-dependent factor has long reached its limit.
    fn next_step(&self) -> u64 {
        self.steps.saturating_add(1).min(MAX_STEPS)
    }
}

/// Panics unless `learning_rate` is finite and ≥ 0.
fn check_learning_rate<T: Real>(name: &str, learning_rate: T) {
    assert!(
        learning_rate.is_finite() && learning_rate >= T::zero(),
        "{name} learning rate must be finite and >= 0, got {learning_rate}"
    );
}

impl<T: Real, N: Parameters<T>, R: Rule<T, K>, const K: usize> Optimizer<T, N> for Engine<T, N, R, K> {
    fn step(&mut self, net: &mut N, grad: &N::Gradient) {
        self.steps = self.next_step();
        let step = self.config.prepare(self.steps);
        self.write::<false>(net, grad, step);
    }

    /// Fused: each layer is updated by the rule's element loop right after its backward pass
    /// ([`Layer::backward_update`]). The same element function on the same values as
    /// [`Optimizer::step`] after the whole backward pass, so the same bits.
    fn backward_step<X>(
        &mut self,
        net: &mut N,
        x: &X,
        output: &N::Output,
        cache: &N::Cache,
        dy: &N::Output,
        grad: &mut N::Gradient,
    ) where
        N: Layer<T, X>,
    {
        self.steps = self.next_step();
        let step = self.config.prepare(self.steps);
        self.state.forget_bounds();
        let fused = Fused::<T, N, X, K> {
            net,
            x,
            output,
            cache,
            dy,
            grad,
            state: &mut self.state.buffers,
        };
        self.config.with_element(step, fused);
    }

    fn try_step(&mut self, net: &mut N, grad: &N::Gradient) -> Result<(), NonFiniteUpdate<T>> {
        self.guarded_step(net, grad, None)
    }

    fn try_step_within(
        &mut self,
        net: &mut N,
        grad: &N::Gradient,
        gradient_bound: GradientBound<T>,
    ) -> Result<(), NonFiniteUpdate<T>> {
        self.guarded_step(net, grad, Some(gradient_bound.value()))
    }

    fn learning_rate(&self) -> T {
        self.config.learning_rate()
    }

    fn set_learning_rate(&mut self, learning_rate: T) {
        check_learning_rate(R::NAME, learning_rate);
        self.config.set_learning_rate(learning_rate);
    }

    fn steps(&self) -> u64 {
        self.steps
    }

    fn set_steps(&mut self, steps: u64) {
        assert!(
            steps <= MAX_STEPS,
            "{} step count must be <= {MAX_STEPS}, got {steps}",
            R::NAME
        );
        self.steps = steps;
    }

    fn non_negative_state() -> impl Iterator<Item = bool> {
        R::SLOTS
            .into_iter()
            .flat_map(|slot| N::Gradient::tensor_infos().map(move |_| slot.non_negative))
    }
}

/// `f`, with its argument types fixed to what [`Parameters::zip_gradient`] calls it with (which
/// a closure bound to a variable does not infer).
#[inline(always)]
fn visitor<T, const K: usize, F: FnMut(&mut [T], &[T], [&mut [T]; K])>(f: F) -> F {
    f
}

/// The write pass: every element's new values stored. With `MEASURE`, the largest
/// [`high_word`] of each written state buffer's new values, under the buffer's mask from
/// [`magnitude_masks`], is gathered into `largest`. Returns the mask of buffers written.
struct Write<'a, T: Real, N: Parameters<T>, const K: usize, const MEASURE: bool> {
    net: &'a mut N,
    grad: &'a N::Gradient,
    state: &'a mut [N::Gradient; K],
    masks: [u32; K],
    largest: &'a mut [u32; K],
}

impl<T: Real, N: Parameters<T>, const K: usize, const MEASURE: bool> Walk<T, K> for Write<'_, T, N, K, MEASURE> {
    type Output = usize;

    #[inline(always)]
    fn run<const WRITTEN: usize, E, C>(self, element: E, _certain: C) -> usize
    where
        E: Fn(T, T, [T; K]) -> (T, [T; K]) + Copy,
        C: Fn(T, T, [T; K]) -> bool + Copy,
    {
        let Self {
            net,
            grad,
            state,
            masks,
            largest,
        } = self;
        crate::simd::widest(
            #[inline(always)]
            || {
                let mut write = visitor(
                    #[inline(always)]
                    |p, g, s| {
                        let words = write_elements::<T, K, WRITTEN, MEASURE, E>(p, g, s, element, masks);
                        for (largest, word) in largest.iter_mut().zip(words) {
                            *largest = (*largest).max(word);
                        }
                    },
                );
                net.zip_gradient(grad, state.each_mut(), &mut write);
            },
        );
        WRITTEN
    }
}

/// The fused pass: the backward pass of `net`, each layer's elements written as soon as its
/// gradient is complete ([`Optimizer::backward_step`]). Nothing is measured.
struct Fused<'a, T: Real, N: Layer<T, X>, X, const K: usize> {
    net: &'a mut N,
    x: &'a X,
    output: &'a N::Output,
    cache: &'a N::Cache,
    dy: &'a N::Output,
    grad: &'a mut N::Gradient,
    state: &'a mut [N::Gradient; K],
}

impl<T: Real, N: Layer<T, X>, X, const K: usize> Walk<T, K> for Fused<'_, T, N, X, K> {
    type Output = ();

    #[inline(always)]
    fn run<const WRITTEN: usize, E, C>(self, element: E, _certain: C)
    where
        E: Fn(T, T, [T; K]) -> (T, [T; K]) + Copy,
        C: Fn(T, T, [T; K]) -> bool + Copy,
    {
        let Self {
            net,
            x,
            output,
            cache,
            dy,
            grad,
            state,
        } = self;
        crate::simd::widest(
            #[inline(always)]
            || {
                let mut write = visitor(
                    #[inline(always)]
                    |p, g, s| {
                        // Without measuring, the masks are not read.
                        write_elements::<T, K, WRITTEN, false, E>(p, g, s, element, [0; K]);
                    },
                );
                net.backward_parameters_update(x, output, cache, dy, grad, state.each_mut(), &mut write);
            },
        );
    }
}

/// The element loop of the write pass, returning what it measured (see [`Write`]). The state
/// slices are taken out of their array before the loop (one, two or three, the counts the
/// rules use) and passed as separate arguments of a function inlined here, which tells the
/// compiler that they do not overlap: the loop then vectorises without run-time overlap
/// checks. A state buffer outside `WRITTEN` is not stored. The measurement is an integer
/// maximum, which vectorises, and costs nothing measurable beside the loop's memory traffic.
#[inline(always)]
fn write_elements<
    T: Real,
    const K: usize,
    const WRITTEN: usize,
    const MEASURE: bool,
    E: Fn(T, T, [T; K]) -> (T, [T; K]) + Copy,
>(
    p: &mut [T],
    g: &[T],
    mut s: [&mut [T]; K],
    element: E,
    masks: [u32; K],
) -> [u32; K] {
    match s.as_mut_slice() {
        [a] => lanes(write_one::<T, K, WRITTEN, MEASURE, E>(p, g, a, element, masks)),
        [a, b, c] => lanes(write_three::<T, K, WRITTEN, MEASURE, E>(p, g, a, b, c, element, masks)),
        s => {
            let mut largest = [0; K];
            let n = p.len();
            for i in 0..n {
                let (param, state) = element(p[i], g[i], core::array::from_fn(|k| s[k][i]));
                p[i] = param;
                for (k, (buffer, value)) in s.iter_mut().zip(state).enumerate() {
                    if written::<WRITTEN>(k) {
                        buffer[i] = value;
                        if MEASURE {
                            largest[k] = largest[k].max(high_word(value) & masks[k]);
                        }
                    }
                }
            }
            largest
        }
    }
}

/// [`write_elements`] with one state buffer.
#[inline(always)]
fn write_one<
    T: Real,
    const K: usize,
    const WRITTEN: usize,
    const MEASURE: bool,
    E: Fn(T, T, [T; K]) -> (T, [T; K]) + Copy,
>(
    p: &mut [T],
    g: &[T],
    a: &mut [T],
    element: E,
    masks: [u32; K],
) -> [u32; 1] {
    let n = p.len();
    // Equal lengths, made visible to the compiler so that the loop has no bounds checks.
    let (g, a) = (&g[..n], &mut a[..n]);
    let mut largest = 0;
    for i in 0..n {
        let (param, state) = element(p[i], g[i], lanes([a[i]]));
        p[i] = param;
        if written::<WRITTEN>(0) {
            a[i] = state[0];
            if MEASURE {
                largest = largest.max(high_word(state[0]) & masks[0]);
            }
        }
    }
    [largest]
}

/// [`write_elements`] with three state buffers.
#[inline(always)]
fn write_three<
    T: Real,
    const K: usize,
    const WRITTEN: usize,
    const MEASURE: bool,
    E: Fn(T, T, [T; K]) -> (T, [T; K]) + Copy,
>(
    p: &mut [T],
    g: &[T],
    a: &mut [T],
    b: &mut [T],
    c: &mut [T],
    element: E,
    masks: [u32; K],
) -> [u32; 3] {
    let n = p.len();
    let (g, a, b, c) = (&g[..n], &mut a[..n], &mut b[..n], &mut c[..n]);
    let [mut largest_a, mut largest_b, mut largest_c] = [0; 3];
    for i in 0..n {
        let (param, state) = element(p[i], g[i], lanes([a[i], b[i], c[i]]));
        p[i] = param;
        let buffers = [
            (&mut a[i], &mut largest_a),
            (&mut b[i], &mut largest_b),
            (&mut c[i], &mut largest_c),
        ];
        for (k, ((buffer, largest), value)) in buffers.into_iter().zip(state).enumerate() {
            if written::<WRITTEN>(k) {
                *buffer = value;
                if MEASURE {
                    *largest = (*largest).max(high_word(value) & masks[k]);
                }
            }
        }
    }
    [largest_a, largest_b, largest_c]
}

/// Per state buffer, the mask that [`high_word`] is measured under: the sign is dropped for a
/// buffer of any sign (its bound is on the magnitude), and kept for a non-negative one
/// ([`Slot::non_negative`]), where a negative entry (sign bit set) makes the largest word
/// decode to an unknown bound ([`from_high_word`]).
fn magnitude_masks<T: Real, R: Rule<T, K>, const K: usize>() -> [u32; K] {
    R::SLOTS.map(|slot| if slot.non_negative { u32::MAX } else { i32::MAX as u32 })
}

/// The 32 high bits of `x`'s representation: sign, exponent and leading mantissa bits (all of
/// an `f32`). Without the sign, the words of two floats compare as unsigned integers like the
/// magnitudes do, up to the dropped low mantissa bits, with ∞ and then NaN above every finite
/// value: their maximum over a buffer is an integer reduction, which vectorises.
#[inline(always)]
fn high_word<T: Real>(x: T) -> u32 {
    let words = bytemuck::cast_slice::<T, u32>(core::slice::from_ref(&x));
    if cfg!(target_endian = "little") {
        words[words.len() - 1]
    } else {
        words[0]
    }
}

/// The largest value whose [`high_word`] is `word` (its low bits all ones in `f64`): a bound on
/// every value with a smaller word. NaN if the sign bit is set (a negative value in a
/// non-negative buffer, see [`magnitude_masks`]); ∞ or NaN if the word is ∞'s or NaN's.
fn from_high_word<T: Real>(word: u32) -> T {
    if word >> 31 == 1 {
        T::of(f64::NAN)
    } else if core::mem::size_of::<T>() == 4 {
        T::of(f64::from(f32::from_bits(word)))
    } else {
        T::of(f64::from_bits(u64::from(word) << 32 | u64::from(u32::MAX)))
    }
}

/// The bounds [`Bounds::parameter`] and [`Bounds::gradient`]: the largest magnitudes in `net`
/// and, with `GRADIENT`, in `grad` (otherwise 0), rounded up to [`from_high_word`]'s, in one
/// pass.
fn magnitudes<T: Real, N: Parameters<T>, const K: usize, const GRADIENT: bool>(
    net: &mut N,
    grad: &N::Gradient,
    state: &mut [N::Gradient; K],
) -> (T, T) {
    let (mut parameter, mut gradient) = (0, 0);
    crate::simd::widest(
        #[inline(always)]
        || {
            let mut measure = visitor(
                #[inline(always)]
                |p: &mut [T], g: &[T], _| {
                    let n = p.len();
                    let g = &g[..n];
                    let (mut largest_p, mut largest_g) = (0, 0);
                    for i in 0..n {
                        largest_p = largest_p.max(high_word(p[i]) & i32::MAX as u32);
                        if GRADIENT {
                            largest_g = largest_g.max(high_word(g[i]) & i32::MAX as u32);
                        }
                    }
                    parameter = largest_p.max(parameter);
                    gradient = largest_g.max(gradient);
                },
            );
            net.zip_gradient(grad, state.each_mut(), &mut measure);
        },
    );
    (from_high_word(parameter), from_high_word(gradient))
}

/// Whether state buffer `k` is in the mask `WRITTEN`.
#[inline(always)]
const fn written<const WRITTEN: usize>(k: usize) -> bool {
    WRITTEN >> k & 1 == 1
}

/// `values` as an array of length `K`, where `K` is `J` (the arm of a match on the length).
#[inline(always)]
fn lanes<T: Copy, const K: usize, const J: usize>(values: [T; J]) -> [T; K] {
    core::array::from_fn(|k| values[k])
}

/// The check pass: every element's new values computed, none stored, the first non-finite one
/// reported.
struct Check<'a, T: Real, N: Parameters<T>, const K: usize> {
    net: &'a mut N,
    grad: &'a N::Gradient,
    state: &'a mut [N::Gradient; K],
    names: [&'static str; K],
}

impl<T: Real, N: Parameters<T>, const K: usize> Walk<T, K> for Check<'_, T, N, K> {
    type Output = Result<(), NonFiniteUpdate<T>>;

    #[inline(always)]
    fn run<const WRITTEN: usize, E, C>(self, element: E, certain: C) -> Self::Output
    where
        E: Fn(T, T, [T; K]) -> (T, [T; K]) + Copy,
        C: Fn(T, T, [T; K]) -> bool + Copy,
    {
        let Self {
            net,
            grad,
            state,
            names,
        } = self;
        let mut tensor = 0;
        let mut found = None;
        crate::simd::widest(
            #[inline(always)]
            || {
                let mut check = visitor(
                    #[inline(always)]
                    |p, g, s| {
                        if found.is_none()
                            && !all_certain(p, g, &s, certain)
                            && !all_finite::<T, K, WRITTEN, E>(p, g, &s, element)
                        {
                            found = Some(locate::<T, N, K, WRITTEN, E>(tensor, p, g, &s, element, names));
                        }
                        tensor += 1;
                    },
                );
                net.zip_gradient(grad, state.each_mut(), &mut check);
            },
        );
        found.map_or(Ok(()), Err)
    }
}

/// Whether every new value of a tensor's elements is finite: a branch-free pass that
/// vectorises (the common case), before [`locate`] looks for the culprit. Each value's
/// [`non_finite_bits`] are ORed into one word (an integer reduction, which the
/// compiler vectorises where it would not reorder a float one). Buffers outside `WRITTEN` are
/// not checked, nor, then, loaded.
#[inline(always)]
fn all_finite<T: Real, const K: usize, const WRITTEN: usize, E: Fn(T, T, [T; K]) -> (T, [T; K]) + Copy>(
    p: &[T],
    g: &[T],
    s: &[&mut [T]; K],
    element: E,
) -> bool {
    let n = p.len();
    let g = &g[..n];
    let s: [&[T]; K] = core::array::from_fn(|k| &s[k][..n]);
    let mut bits = 0;
    for i in 0..n {
        let (param, new) = element(p[i], g[i], core::array::from_fn(|k| s[k][i]));
        bits |= non_finite_bits(param);
        for (k, value) in new.into_iter().enumerate() {
            if written::<WRITTEN>(k) {
                bits |= non_finite_bits(value);
            }
        }
    }
    bits == 0
}

/// Whether `certain` promises every element of a tensor: the cheap pass the exact one
/// ([`all_finite`]) backs up. The refusals are counted as integers, which vectorises.
#[inline(always)]
fn all_certain<T: Real, const K: usize, C: Fn(T, T, [T; K]) -> bool + Copy>(
    p: &[T],
    g: &[T],
    s: &[&mut [T]; K],
    certain: C,
) -> bool {
    let n = p.len();
    let g = &g[..n];
    let s: [&[T]; K] = core::array::from_fn(|k| &s[k][..n]);
    let mut refused = 0u32;
    for i in 0..n {
        refused |= u32::from(!certain(p[i], g[i], core::array::from_fn(|k| s[k][i])));
    }
    refused == 0
}

/// The bits of `x − x`: all zero for a finite `x` (the difference is +0), those of a NaN (never
/// all zero) for an infinite or NaN one.
#[inline(always)]
#[expect(clippy::eq_op, reason = "x - x is +0 only for a finite x, which is the test")]
fn non_finite_bits<T: Real>(x: T) -> u32 {
    let difference = x - x;
    bytemuck::cast_slice::<T, u32>(core::slice::from_ref(&difference))
        .iter()
        .fold(0, |bits, &word| bits | word)
}

/// The first element of a tensor whose update is not finite, as an error.
#[cold]
fn locate<
    T: Real,
    N: Parameters<T>,
    const K: usize,
    const WRITTEN: usize,
    E: Fn(T, T, [T; K]) -> (T, [T; K]) + Copy,
>(
    tensor: usize,
    p: &[T],
    g: &[T],
    s: &[&mut [T]; K],
    element: E,
    names: [&'static str; K],
) -> NonFiniteUpdate<T> {
    let info = N::Gradient::tensor_infos().nth(tensor);
    let info = info.expect("the walk visits only the network's tensors");
    for i in 0..p.len() {
        let (param, state) = element(p[i], g[i], core::array::from_fn(|k| s[k][i]));
        if !param.is_finite() {
            return NonFiniteUpdate {
                tensor: info,
                index: i,
                value: "parameter",
                new: param,
            };
        }
        for k in 0..K {
            if written::<WRITTEN>(k) && !state[k].is_finite() {
                return NonFiniteUpdate {
                    tensor: info,
                    index: i,
                    value: names[k],
                    new: state[k],
                };
            }
        }
    }
    unreachable!("all_finite found a non-finite value that locate did not")
}

#[cfg(test)]
mod tests {
    use crate::optim::test_support::Net;
    use crate::{Adam, AdamConfig, Optimizer, Parameters, Real, Rng, Tensors};

    /// Checks the guard's bounds against the state: each known bound covers every entry of its
    /// buffer (and a non-negative buffer's entries are ≥ 0), within the rounding up of
    /// `from_high_word`.
    fn assert_covered<T: Real, N: Parameters<T>>(adam: &Adam<T, N>) {
        for (k, (buffer, bound)) in adam.state.buffers.iter().zip(adam.state.bounds).enumerate() {
            let values: Vec<T> = buffer.tensors().flatten().copied().collect();
            let largest = values.iter().fold(T::zero(), |largest, v| largest.max(v.abs()));
            assert!(bound.is_finite(), "buffer {k}: bound {bound}");
            let tight = largest * T::of(1.0 + 1e-6) + T::of(1e-300);
            assert!(
                largest <= bound && bound <= tight,
                "buffer {k}: {largest} within {bound}"
            );
            if k > 0 {
                assert!(values.iter().all(|&v| v >= T::zero()), "buffer {k} is non-negative");
            }
        }
    }

    fn measured<T: Real>() {
        type Small<T> = (crate::Dense<T, 3, 4>, crate::Dense<T, 4, 2>);
        let mut rng = Rng::new(5);
        let mut net = Small::<T>::build(crate::Init::PyTorch, &mut rng);
        let mut adam = Adam::<T, Small<T>>::new(AdamConfig {
            amsgrad: true,
            ..AdamConfig::default()
        });
        assert_covered(&adam);
        let mut grad = Small::<T>::build(crate::Init::PyTorch, &mut rng);
        for step in 0..20 {
            for t in grad.tensors_mut() {
                t.iter_mut()
                    .for_each(|v| *v = T::of(rng.uniform(-1.0, 1.0) * 10f64.powi(step % 7 - 3)));
            }
            adam.try_step(&mut net, &grad).unwrap();
            assert_covered(&adam);
        }
        adam.step(&mut net, &grad);
        assert!(
            adam.state.bounds.iter().all(|b| !b.is_finite()),
            "a plain step forgets the bounds"
        );
        adam.try_step(&mut net, &grad).unwrap();
        assert_covered(&adam);
    }

    #[test]
    fn guarded_steps_measure_the_state_they_write() {
        measured::<f32>();
        measured::<f64>();
        let mut adam: Adam<f64, Net> = bytemuck::Zeroable::zeroed();
        assert_eq!(adam.state.bounds, [0.0; 3], "zeroed state is bounded by 0");
        let _ = &mut adam.state[2];
        assert!(
            adam.state.bounds.iter().all(|b| b.is_nan()),
            "mutable access forgets the bounds"
        );
    }
}
