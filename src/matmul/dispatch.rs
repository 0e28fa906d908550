//! Which compiled copy of the kernels runs: chosen once per call from the CPU's features.
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
//! The detection caches its answer: a call costs one load and one test.

use core::mem::size_of;

use super::{Right, Start, gemm, input_gradient_with, weight_gradient_with};
use crate::Real;
#[cfg(x86_kernels)]
use crate::x86;

/// The instruction sets the kernels are compiled for.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Variant {
    /// The target's baseline (no FMA).
    Portable,
    /// AVX2 with FMA (256-bit vectors) or AVX-512 (512-bit), which the CPU was found to have.
    #[cfg(x86_kernels)]
    X86(x86::Isa),
}

/// The instruction set the crate's matrix kernels and element loops run on this machine.
///
/// On x86-64 with `std` the choice is made at run time from the CPU's features; without `std`
/// it comes from the compile-time target features (`-C target-cpu=native` or
/// `-C target-feature=+avx2,+fma`), so a `no_std` build for such a target keeps the fast kernels.
///
/// ```
/// let isa = static_nn::instruction_set();
/// println!("static-nn runs {isa}");
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

/// The instruction set the kernels run on this machine (see [`InstructionSet`]).
pub fn instruction_set() -> InstructionSet {
    match Variant::best() {
        Variant::Portable => InstructionSet::Portable,
        #[cfg(x86_kernels)]
        Variant::X86(isa) => isa.instruction_set(),
    }
}

/// `Y = W X + b`: `W` is `m × k`, `X` is `k × n`, `b` has length `m`, `Y` is `m × n`.
#[inline]
pub(crate) fn forward<T: Real>(w: &[T], x: &[T], bias: &[T], y: &mut [T], shape: (usize, usize, usize)) {
    Variant::best().forward(w, x, bias, y, shape);
}

/// `dW += dY Xᵀ`: `dY` is `m × n`, `X` is `k × n`, `dW` is `m × k`; `shape` is `(m, n, k)`.
#[inline]
pub(crate) fn weight_gradient<T: Real>(dy: &[T], x: &[T], dw: &mut [T], shape: (usize, usize, usize)) {
    Variant::best().weight_gradient(dy, x, dw, shape);
}

/// `dX = Wᵀ dY`: `W` is `k × m`, `dY` is `k × n`, `dX` is `m × n`; `shape` is `(m, k, n)`.
#[inline]
pub(crate) fn input_gradient<T: Real>(w: &[T], dy: &[T], dx: &mut [T], shape: (usize, usize, usize)) {
    Variant::best().input_gradient(w, dy, dx, shape);
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
    pub(crate) fn best() -> Self {
        #[cfg(x86_kernels)]
        if let Some(isa) = x86::Isa::best() {
            return Self::X86(isa);
        }
        Self::Portable
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
