//! Which of the CPU's instruction sets each kind of work runs: measured at first use, because
//! the widest is not the fastest everywhere. AVX-512 was tuned on AMD Zen 4 and 5; on an Intel
//! Xeon (Sapphire Rapids) the same kernels reached 46 % of the core's peak where Zen 5 reached
//! 80 %, and small networks lost a third of their time at the dispatch boundary (frequency
//! licence, start-up of the 512-bit units, other tile preferences). A table of
//! microarchitectures could not be checked on any machine this project has; a measurement
//! checks itself wherever it runs.
//!
//! Two kinds of work are chosen separately ([`Work`]): large matrix products, which are bound
//! by throughput, and passes of small networks, which are bound by latency. For each, the first
//! call times a small representative problem on the narrowest and the widest set the CPU has,
//! [`ROUNDS`] times each, alternately, keeps each set's fastest time, and stores the choice in
//! an atomic; every later call reads it with one relaxed load. Nothing allocates, and the
//! timer is the time-stamp counter (`rdtsc`), so it works without `std` too. The measurement
//! takes a few tens of microseconds once per process (the figures are in ARCHITECTURE.md).
//!
//! Only kernels that give the same bits are measured against each other, so that results never
//! depend on the choice: the outer-product tiles add the same fused multiply-adds in the same
//! order for every element whatever their width, and the closures of `simd::widest` never fuse
//! (Rust does not contract `a * b + c`) and reduce in orders fixed by the code. The input
//! gradient's dot-product tile sums 8 lanes with AVX2 and 16 with AVX-512, so its last bits
//! depend on the set; it stays on the widest ([`super::Isa::widest`]).
//!
//! The widest set is kept unless the narrower one is faster by more than a sixteenth, so that a
//! machine where both are equal (Zen 4 runs AVX-512 on 256-bit units) makes the same choice
//! every time rather than follow the noise.

use core::arch::x86_64::_rdtsc;
use core::hint::black_box;
use core::sync::atomic::{AtomicU8, Ordering};

use super::{Isa, UNKNOWN, Unknown, decode, encode};
use crate::InstructionSet;

/// A kind of work whose instruction set is chosen on its own.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Work {
    /// The products of the tiled kernels: a dense layer's forward pass and weight gradient from
    /// `matmul::is_large`'s sizes on (W3, W4), and its input gradient where that is computed
    /// with outer products (fewer than 16 outputs).
    Products,
    /// Closures compiled for an instruction set by `simd::widest`: a tuple's inference pass and
    /// streaming step, the `Workspace`'s forward and backward pass, activation and optimizer
    /// loops (W1, W2, the recurrent steps).
    Passes,
}

static PRODUCTS: Choice = Choice::new();
static PASSES: Choice = Choice::new();

impl Work {
    /// The instruction set this work runs on (`None`: the portable code), measured on the first
    /// call.
    #[inline(always)]
    pub(crate) fn isa(self) -> Option<Isa> {
        match self {
            Work::Products => PRODUCTS.get(|| faster(time_products)),
            Work::Passes => PASSES.get(|| faster(time_passes)),
        }
    }
}

/// Makes every kind of work run `set` from now on. Refused (`false`) for a set the CPU cannot
/// run, and for the portable code where the CPU has vector kernels, whose fused multiply-adds
/// round differently.
pub(crate) fn force(set: InstructionSet) -> bool {
    let isa = Isa::detect().find(|isa| isa.instruction_set() == set);
    let allowed = match set {
        InstructionSet::Portable => Isa::detect().next().is_none(),
        _ => isa.is_some(),
    };
    if allowed {
        PRODUCTS.force(isa);
        PASSES.force(isa);
    }
    allowed
}

/// One kind of work's instruction set, in an atomic.
pub(crate) struct Choice(AtomicU8);

impl Choice {
    pub(crate) const fn new() -> Self {
        Self(AtomicU8::new(UNKNOWN))
    }

    /// The stored instruction set, or `measure`'s answer stored on the first call.
    #[inline(always)]
    pub(crate) fn get(&self, measure: impl FnOnce() -> Option<Isa>) -> Option<Isa> {
        match decode(self.0.load(Ordering::Relaxed)) {
            Ok(isa) => isa,
            Err(Unknown) => self.settle(measure),
        }
    }

    /// Measures and stores, unless a set was stored meanwhile (forced, or measured by another
    /// thread): that one is kept and returned, so a forced choice is never overwritten.
    #[cold]
    #[inline(never)]
    fn settle(&self, measure: impl FnOnce() -> Option<Isa>) -> Option<Isa> {
        let measured = measure();
        match self
            .0
            .compare_exchange(UNKNOWN, encode(measured), Ordering::Relaxed, Ordering::Relaxed)
        {
            Ok(_) => measured,
            Err(stored) => decode(stored).unwrap_or(measured),
        }
    }

    fn force(&self, isa: Option<Isa>) {
        self.0.store(encode(isa), Ordering::Relaxed);
    }
}

/// How many times each set is timed: the fastest of four is the set's speed, so that an
/// interruption, a cold cache or the 512-bit units waking up in one round does not decide.
const ROUNDS: usize = 4;

/// The narrowest and the widest set the CPU has, whichever `time` (cycles of one sample) finds
/// faster: the widest unless the narrowest is faster by more than a sixteenth.
fn faster(time: fn(Isa) -> u64) -> Option<Isa> {
    let mut sets = Isa::detect();
    let narrowest = sets.next()?;
    let Some(widest) = sets.last() else {
        return Some(narrowest);
    };
    let (mut narrow, mut wide) = (u64::MAX, u64::MAX);
    for _ in 0..ROUNDS {
        narrow = narrow.min(time(narrowest));
        wide = wide.min(time(widest));
    }
    Some(if narrow + narrow / 16 < wide { narrowest } else { widest })
}

/// The time-stamp counter: cycles at a constant rate, so that a lower clock while a set runs
/// (a frequency licence) counts against it.
fn cycles() -> u64 {
    // SAFETY: `rdtsc` is in every x86-64 CPU and only reads the counter.
    unsafe { _rdtsc() }
}

/// The products' sample: `f32` `Y = W X + b` with `W` 64 × 64 and 32 columns (131,072
/// multiply-adds, about 2 µs): whole AVX-512 (32 × 8) and AVX2 (16 × 6, with a padded last
/// group) tiles, 64 steps each, as in W3's and W4's forward passes and weight gradients
/// (steps = batch = 32). Zeros would do as well: the timing of a multiply-add does not depend
/// on normal values. 32 KiB of stack, once.
fn time_products(isa: Isa) -> u64 {
    const M: usize = 64;
    const K: usize = 64;
    const N: usize = 32;
    let (w, x, bias) = ([0.5_f32; M * K], [0.5_f32; K * N], [0.0_f32; M]);
    let mut y = [0.0_f32; M * N];
    let start = cycles();
    isa.forward(black_box(&w[..]), black_box(&x[..]), &bias, &mut y, (M, K, N));
    let end = cycles();
    black_box(&y);
    end - start
}

/// Width of the passes' sample network.
const WIDTH: usize = 16;

/// Calls of the small network per sample of the passes (about 1 µs).
const CALLS: usize = 16;

/// Two dependent 16 × 16 layers at batch 1 with a division in their activation
/// (`y / (1 + |y|)`), the shape of W1's hidden layers: bound by latency, 16 `f32` in one
/// AVX-512 register or two AVX2 registers.
#[inline(always)]
fn small_network(w: &[[f32; WIDTH]; WIDTH], x: [f32; WIDTH]) -> [f32; WIDTH] {
    let mut h = x;
    for _ in 0..2 {
        let mut y = [0.0; WIDTH];
        for (column, &v) in w.iter().zip(&h) {
            for (y, &w) in y.iter_mut().zip(column) {
                *y += w * v;
            }
        }
        h = y.map(|y| y / (1.0 + y.abs()));
    }
    h
}

/// The passes' sample: [`CALLS`] calls of [`small_network`], each entered through
/// [`Isa::run`] as `simd::widest` enters a pass.
fn time_passes(isa: Isa) -> u64 {
    let w = [[1.0 / WIDTH as f32; WIDTH]; WIDTH];
    let mut x = [0.5; WIDTH];
    let start = cycles();
    for _ in 0..CALLS {
        let w = black_box(&w);
        x = isa.run(
            #[inline(always)]
            || small_network(w, x),
        );
    }
    let end = cycles();
    black_box(x);
    end - start
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The calibration picks one of the sets the CPU has for both kinds of work, and a second
    /// call reads the cached answer without measuring again.
    #[test]
    fn a_choice_is_measured_once_and_is_a_set_the_cpu_has() {
        for time in [time_products, time_passes] {
            let choice = Choice::new();
            let mut measured = 0;
            let mut measure = || {
                measured += 1;
                faster(time)
            };
            let first = choice.get(&mut measure);
            for _ in 0..3 {
                assert_eq!(choice.get(&mut measure), first);
            }
            assert_eq!(measured, 1);
            assert_eq!(first.is_some(), Isa::detect().next().is_some());
            assert!(first.is_none_or(|isa| Isa::detect().any(|found| found == isa)));
        }
    }

    /// A set stored while a measurement runs (forced by the user) wins over the measurement.
    #[test]
    fn a_forced_choice_is_not_overwritten_by_a_measurement() {
        let Some(narrowest) = Isa::detect().next() else {
            return;
        };
        let choice = Choice::new();
        let widest = Isa::detect().last();
        let got = choice.get(|| {
            choice.force(Some(narrowest));
            widest
        });
        assert_eq!(got, Some(narrowest));
        assert_eq!(choice.get(|| unreachable!("measured twice")), Some(narrowest));
    }
}
