//! Which compiled copy of the kernels runs: chosen once per call from the CPU's features and,
//! where the CPU has more than one vector instruction set, from a measurement at first use
//! (`crate::x86::calibration`).
//!
//! The kernels in [`super`] are generic, safe code whose inner loops have fixed trip counts.
//! Here they are instantiated three times: for the baseline target (SSE2 on x86-64, NEON on
//! AArch64, scalar on a Cortex-M), and on x86-64 with `std` also inside functions compiled for
//! AVX2 + FMA and for AVX-512, where the same loops become 256- or 512-bit fused multiply-adds.
//! The tile sizes fit each instruction set's registers: an `MR × NR` tile of the result takes
//! `MR · NR / lanes` vector registers, at most 16 of the 32 (AVX-512) or 12 of the 16 (AVX2,
//! SSE2), leaving room for the operands.
//!
//! Calling a function compiled for features the CPU may lack is `unsafe`; that is confined to
//! `crate::x86`, whose `Isa` values exist only for instruction sets `is_x86_feature_detected!` found.
//! The detection and the calibration cache their answers: a call costs one load and one test.

use core::mem::size_of;

use super::{Right, Start, gemm, input_gradient_is_transposed, input_gradient_with, weight_gradient_with};
use crate::Real;
#[cfg(x86_kernels)]
use crate::x86::{self, calibration, calibration::Work};

/// The instruction sets the kernels are compiled for.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Variant {
    /// The target's baseline (no FMA).
    Portable,
    /// AVX2 with FMA (256-bit vectors) or AVX-512 (512-bit), which the CPU was found to have.
    #[cfg(x86_kernels)]
    X86(x86::Isa),
}

/// An instruction set the crate's kernels are compiled for.
///
/// On x86-64 with `std` the sets are found at run time from the CPU's features; without `std`
/// they come from the compile-time target features (`-C target-cpu=native` or
/// `-C target-feature=+avx2,+fma`), so a `no_std` build for such a target keeps the fast kernels.
/// Where the CPU has both AVX2 and AVX-512, which of them each kind of work runs is measured at
/// first use ([`kernel_choice`]) or forced ([`force_instruction_set`]).
///
/// ```
/// let isa = static_nn::instruction_set();
/// println!("static-nn's widest kernels run {isa}");
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum InstructionSet {
    /// The target's baseline (SSE2 on x86-64, NEON on AArch64, scalar on a Cortex-M), no FMA.
    Portable,
    /// AVX2 with FMA: 256-bit vectors.
    Avx2Fma,
    /// AVX-512F: 512-bit vectors.
    Avx512,
}

impl core::fmt::Display for InstructionSet {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.write_str(match self {
            Self::Portable => "the target's baseline instructions",
            Self::Avx2Fma => "AVX2 + FMA",
            Self::Avx512 => "AVX-512",
        })
    }
}

/// The widest instruction set the kernels are compiled for that this machine runs (see
/// [`InstructionSet`]); [`kernel_choice`] tells which one each kind of work runs.
pub fn instruction_set() -> InstructionSet {
    Variant::widest().instruction_set()
}

/// Which instruction set each kind of work runs on this machine.
///
/// Where the CPU has both AVX2 with FMA and AVX-512 (x86-64), the first call that needs a kind
/// of work (or this function) times a small representative problem on both, a few tens of
/// microseconds once per process, and keeps the faster: AVX-512 unless AVX2 is faster by more
/// than a sixteenth. Every later call reads the stored answer (one relaxed atomic load, no
/// allocation, also without `std`). The results do not depend on the choice: only kernels
/// that give the same bits are measured against each other. [`force_instruction_set`] replaces
/// the measurement with a fixed choice.
///
/// ```
/// let choice = static_nn::kernel_choice();
/// println!("large products: {}; small networks: {}", choice.products, choice.passes);
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct KernelChoice {
    /// The matrix products of dense layers large enough for the tiled kernels (from
    /// 16 × 8 × 4 and 2,048 multiply-adds, 16,384 for the forward pass): bound by throughput.
    /// The input gradient's dot products (layers of at least 16 outputs) always run on
    /// [`instruction_set`], the widest, because their sums are grouped by the vector width.
    pub products: InstructionSet,
    /// Whole passes of small networks (a tuple's inference and streaming step, the
    /// `Workspace`'s forward and backward pass) and the element loops of activations and
    /// optimizers: bound by latency for small networks.
    pub passes: InstructionSet,
}

/// Which instruction set each kind of work runs, measuring on the first call (see
/// [`KernelChoice`]).
pub fn kernel_choice() -> KernelChoice {
    KernelChoice {
        products: Variant::for_products().instruction_set(),
        passes: Variant::for_passes().instruction_set(),
    }
}

/// Makes every kind of work run `set` from now on, in this process, instead of the measured
/// choice: for reproducible speed, or to compare instruction sets. The results are the same
/// either way.
///
/// # Errors
/// [`UnsupportedInstructionSet`] if this CPU cannot run `set`, or if `set` is the portable code
/// on a CPU with vector kernels (it does not fuse multiply-adds, so its results differ in the
/// last bits); nothing changes then.
///
/// ```
/// use static_nn::{InstructionSet, force_instruction_set, instruction_set, kernel_choice};
///
/// force_instruction_set(instruction_set())?;
/// assert_eq!(kernel_choice().products, instruction_set());
/// # Ok::<(), static_nn::UnsupportedInstructionSet>(())
/// ```
pub fn force_instruction_set(set: InstructionSet) -> Result<(), UnsupportedInstructionSet> {
    #[cfg(x86_kernels)]
    let forced = calibration::force(set);
    #[cfg(not(x86_kernels))]
    let forced = set == InstructionSet::Portable;
    if forced {
        Ok(())
    } else {
        Err(UnsupportedInstructionSet {
            requested: set,
            widest: instruction_set(),
        })
    }
}

/// [`force_instruction_set`] was asked for an instruction set it cannot choose on this machine.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct UnsupportedInstructionSet {
    /// The instruction set asked for.
    pub requested: InstructionSet,
    /// The widest one this machine runs.
    pub widest: InstructionSet,
}

impl core::fmt::Display for UnsupportedInstructionSet {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        if self.requested == InstructionSet::Portable {
            write!(
                f,
                "the portable kernels cannot be forced on a CPU that runs {}: they do not fuse multiply-adds, so \
                 their results would differ",
                self.widest
            )
        } else {
            write!(
                f,
                "{} was requested, but this machine runs at most {}",
                self.requested, self.widest
            )
        }
    }
}

impl core::error::Error for UnsupportedInstructionSet {}

/// `Y = W X + b`: `W` is `m × k`, `X` is `k × n`, `b` has length `m`, `Y` is `m × n`.
#[inline]
pub(crate) fn forward<T: Real>(w: &[T], x: &[T], bias: &[T], y: &mut [T], shape: (usize, usize, usize)) {
    Variant::for_products().forward(w, x, bias, y, shape);
}

/// `dW += dY Xᵀ`: `dY` is `m × n`, `X` is `k × n`, `dW` is `m × k`; `shape` is `(m, n, k)`.
#[inline]
pub(crate) fn weight_gradient<T: Real>(dy: &[T], x: &[T], dw: &mut [T], shape: (usize, usize, usize)) {
    Variant::for_products().weight_gradient(dy, x, dw, shape);
}

/// `dX = Wᵀ dY`: `W` is `k × m`, `dY` is `k × n`, `dX` is `m × n`; `shape` is `(m, k, n)`.
///
/// Computed transposed (outer products) it follows the calibration; as dot products it runs on
/// the widest set, whose 16-lane partial sums AVX2's 8 lanes would not reproduce bit for bit.
#[inline]
pub(crate) fn input_gradient<T: Real>(w: &[T], dy: &[T], dx: &mut [T], shape: (usize, usize, usize)) {
    let (m, k, _) = shape;
    let variant = if input_gradient_is_transposed(m, k) {
        Variant::for_products()
    } else {
        Variant::widest()
    };
    variant.input_gradient(w, dy, dx, shape);
}

/// The portable tiles: `[MR NR]` and `[L MI NJ]` for `f32` and `f64`, sized for 16 vector
/// registers of 128 bits (SSE2, NEON), and harmless where there are none.
mod portable {
    use super::*;
    use crate::matmul::{dots, tile};

    pub(super) fn forward<T: Real>(w: &[T], x: &[T], bias: &[T], y: &mut [T], shape: (usize, usize, usize)) {
        let (x, start) = (Right::Columns(x), Start::Columns(bias));
        if size_of::<T>() == 4 {
            outer::<T, 8, 4, 4>(w, x, y, start, shape);
        } else {
            outer::<T, 4, 2, 4>(w, x, y, start, shape);
        }
    }

    pub(super) fn weight_gradient<T: Real>(dy: &[T], x: &[T], dw: &mut [T], shape: (usize, usize, usize)) {
        if size_of::<T>() == 4 {
            weight_gradient_with(dy, x, dw, shape, outer::<T, 8, 4, 4>);
        } else {
            weight_gradient_with(dy, x, dw, shape, outer::<T, 4, 2, 4>);
        }
    }

    pub(super) fn input_gradient<T: Real>(w: &[T], dy: &[T], dx: &mut [T], shape: (usize, usize, usize)) {
        if size_of::<T>() == 4 {
            input_gradient_with::<T, 2, 4, false>(w, dy, dx, shape, outer::<T, 8, 4, 4>, dots::<T, 4, 2, 4>);
        } else {
            input_gradient_with::<T, 2, 4, false>(w, dy, dx, shape, outer::<T, 4, 2, 4>, dots::<T, 2, 2, 4>);
        }
    }

    /// [`gemm`] with the `MR × NR` tile and the `MH × NR` half tile.
    #[inline(always)]
    fn outer<T: Real, const MR: usize, const MH: usize, const NR: usize>(
        a: &[T],
        b: Right<'_, T>,
        c: &mut [T],
        start: Start<'_, T>,
        shape: (usize, usize, usize),
    ) {
        gemm::<T, MR, MH, NR, false>(a, b, c, start, shape, tile::<T, MR, NR>, tile::<T, MH, NR>);
    }
}

impl Variant {
    /// The widest variant this CPU runs.
    #[inline]
    pub(crate) fn widest() -> Self {
        #[cfg(x86_kernels)]
        if let Some(isa) = x86::Isa::widest() {
            return Self::X86(isa);
        }
        Self::Portable
    }

    /// The variant the calibration chose for the large products.
    #[inline]
    pub(crate) fn for_products() -> Self {
        #[cfg(x86_kernels)]
        if let Some(isa) = Work::Products.isa() {
            return Self::X86(isa);
        }
        Self::Portable
    }

    /// The variant the calibration chose for `simd::widest`'s passes.
    fn for_passes() -> Self {
        #[cfg(x86_kernels)]
        if let Some(isa) = Work::Passes.isa() {
            return Self::X86(isa);
        }
        Self::Portable
    }

    fn instruction_set(self) -> InstructionSet {
        match self {
            Variant::Portable => InstructionSet::Portable,
            #[cfg(x86_kernels)]
            Variant::X86(isa) => isa.instruction_set(),
        }
    }

    /// Every variant this CPU runs, narrowest first.
    #[cfg(test)]
    pub(crate) fn available() -> Vec<Self> {
        let mut variants = vec![Self::Portable];
        #[cfg(x86_kernels)]
        variants.extend(x86::Isa::detect().map(Self::X86));
        variants
    }

    /// See [`forward`].
    #[inline]
    pub(crate) fn forward<T: Real>(self, w: &[T], x: &[T], bias: &[T], y: &mut [T], shape: (usize, usize, usize)) {
        match self {
            Variant::Portable => portable::forward(w, x, bias, y, shape),
            #[cfg(x86_kernels)]
            Variant::X86(isa) => isa.forward(w, x, bias, y, shape),
        }
    }

    /// See [`weight_gradient`].
    #[inline]
    pub(crate) fn weight_gradient<T: Real>(self, dy: &[T], x: &[T], dw: &mut [T], shape: (usize, usize, usize)) {
        match self {
            Variant::Portable => portable::weight_gradient(dy, x, dw, shape),
            #[cfg(x86_kernels)]
            Variant::X86(isa) => isa.weight_gradient(dy, x, dw, shape),
        }
    }

    /// See [`input_gradient`].
    #[inline]
    pub(crate) fn input_gradient<T: Real>(self, w: &[T], dy: &[T], dx: &mut [T], shape: (usize, usize, usize)) {
        match self {
            Variant::Portable => portable::input_gradient(w, dy, dx, shape),
            #[cfg(x86_kernels)]
            Variant::X86(isa) => isa.input_gradient(w, dy, dx, shape),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// With `std`, the kernels follow the CPU's run-time features on x86-64 and are the portable
    /// ones elsewhere.
    #[test]
    fn instruction_set_follows_the_features_available() {
        #[cfg(all(feature = "std", target_arch = "x86_64"))]
        let expected = if std::is_x86_feature_detected!("avx512f") && std::is_x86_feature_detected!("fma") {
            InstructionSet::Avx512
        } else if std::is_x86_feature_detected!("avx2") && std::is_x86_feature_detected!("fma") {
            InstructionSet::Avx2Fma
        } else {
            InstructionSet::Portable
        };
        // The unit tests need `std`, so this is another architecture; the `no_std` answers on
        // x86-64 are checked by `tests/no_std_kernels`.
        #[cfg(not(all(feature = "std", target_arch = "x86_64")))]
        let expected = InstructionSet::Portable;
        assert_eq!(instruction_set(), expected);
    }
}
