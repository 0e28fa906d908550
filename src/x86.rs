//! Code for x86-64 instruction sets beyond the baseline (AVX2 with FMA, AVX-512), chosen at run
//! time: the crate's only `unsafe` code. It holds the tiles of the matrix products and
//! [`Isa::run`], which compiles a closure (the optimizers' element loops) for an instruction set.
//! Which of the CPU's sets each kind of work runs is measured at first use ([`calibration`]).
//!
//! Matrix tiles.
//! Why not leave it to the compiler: the portable tiles of [`super`] have fixed trip counts,
//! but LLVM vectorises their accumulator loops the wrong way round (gathers and scatters across
//! the tile's columns), which made a 784-128-10 forward pass six times slower than nalgebra's
//! loop. Written with vector types, the `MR × NR` accumulators stay in registers and each step
//! is `MR / lanes` loads, `NR` broadcasts and `MR · NR / lanes` fused multiply-adds.
//!
//! Two kinds of `unsafe`, both local:
//! - the intrinsics need the CPU feature they are compiled for: every function here that uses
//!   one is an `unsafe fn` whose contract is "the CPU has AVX2 and FMA" (or "AVX-512F"), and the
//!   only callers are the entry points at the bottom, compiled with those features and called
//!   by `dispatch` after `is_x86_feature_detected!`;
//! - unaligned loads and stores through pointers: each goes through [`Lanes::load`] or
//!   [`Lanes::store`], which take a slice and assert that it holds a whole vector first.

#![allow(unsafe_code)]

use core::arch::x86_64::*;
use core::mem::size_of;
use core::sync::atomic::{AtomicU8, Ordering};

use bytemuck::{cast_slice, cast_slice_mut};

use crate::Real;
use crate::matmul::{Block, Right, Start, gemm, input_gradient_with, weight_gradient_with};

pub(crate) mod calibration;

/// A SIMD vector of `LANES` scalars, with the few operations the tiles need.
trait Lanes: Copy {
    type Scalar: Copy;
    const LANES: usize;
    /// # Safety
    /// The CPU has the vector type's feature (as for every method).
    unsafe fn zero() -> Self;
    /// The first `LANES` values of `s`. # Safety: as [`Lanes::zero`]. # Panics: if `s` is shorter.
    unsafe fn load(s: &[Self::Scalar]) -> Self;
    /// Writes the lanes to the first `LANES` values of `s`. # Safety: as [`Lanes::zero`].
    unsafe fn store(self, s: &mut [Self::Scalar]);
    /// Every lane `x`. # Safety: as [`Lanes::zero`].
    unsafe fn splat(x: Self::Scalar) -> Self;
    /// `self · b + c`, fused. # Safety: as [`Lanes::zero`].
    unsafe fn mul_add(self, b: Self, c: Self) -> Self;
    /// The sum of the lanes. # Safety: as [`Lanes::zero`].
    unsafe fn sum(self) -> Self::Scalar;
}

macro_rules! lanes {
    ($vector:ty, $scalar:ty, $lanes:literal,
     $zero:ident, $load:ident, $store:ident, $splat:ident, $fma:ident, |$v:ident| $sum:expr) => {
        impl Lanes for $vector {
            type Scalar = $scalar;
            const LANES: usize = $lanes;
            #[inline(always)]
            unsafe fn zero() -> Self {
                // SAFETY: the caller guarantees the feature.
                unsafe { $zero() }
            }
            #[inline(always)]
            unsafe fn load(s: &[$scalar]) -> Self {
                assert!(s.len() >= $lanes);
                // SAFETY: `s` holds at least one vector (asserted); the load is unaligned; the
                // caller guarantees the feature.
                unsafe { $load(s.as_ptr()) }
            }
            #[inline(always)]
            unsafe fn store(self, s: &mut [$scalar]) {
                assert!(s.len() >= $lanes);
                // SAFETY: as for `load`.
                unsafe { $store(s.as_mut_ptr(), self) }
            }
            #[inline(always)]
            unsafe fn splat(x: $scalar) -> Self {
                // SAFETY: the caller guarantees the feature.
                unsafe { $splat(x) }
            }
            #[inline(always)]
            unsafe fn mul_add(self, b: Self, c: Self) -> Self {
                // SAFETY: the caller guarantees the feature.
                unsafe { $fma(self, b, c) }
            }
            #[inline(always)]
            unsafe fn sum(self) -> $scalar {
                let $v = self;
                // SAFETY: the caller guarantees the feature.
                unsafe { $sum }
            }
        }
    };
}

lanes!(
    __m512,
    f32,
    16,
    _mm512_setzero_ps,
    _mm512_loadu_ps,
    _mm512_storeu_ps,
    _mm512_set1_ps,
    _mm512_fmadd_ps,
    |v| _mm512_reduce_add_ps(v)
);
lanes!(
    __m512d,
    f64,
    8,
    _mm512_setzero_pd,
    _mm512_loadu_pd,
    _mm512_storeu_pd,
    _mm512_set1_pd,
    _mm512_fmadd_pd,
    |v| _mm512_reduce_add_pd(v)
);
lanes!(
    __m256,
    f32,
    8,
    _mm256_setzero_ps,
    _mm256_loadu_ps,
    _mm256_storeu_ps,
    _mm256_set1_ps,
    _mm256_fmadd_ps,
    |v| {
        let quad = _mm_add_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps::<1>(v));
        let pair = _mm_add_ps(quad, _mm_movehl_ps(quad, quad));
        _mm_cvtss_f32(_mm_add_ss(pair, _mm_shuffle_ps::<1>(pair, pair)))
    }
);
lanes!(
    __m256d,
    f64,
    4,
    _mm256_setzero_pd,
    _mm256_loadu_pd,
    _mm256_storeu_pd,
    _mm256_set1_pd,
    _mm256_fmadd_pd,
    |v| {
        let pair = _mm_add_pd(_mm256_castpd256_pd128(v), _mm256_extractf128_pd::<1>(v));
        _mm_cvtsd_f64(_mm_add_sd(pair, _mm_unpackhi_pd(pair, pair)))
    }
);

/// The outer-product tile (see `matmul::gemm`): `MV` vectors per column, `NR` columns, so
/// `MR = MV · LANES` rows. The block's starting values are loaded straight into the
/// accumulator registers and the sums stored straight from them.
///
/// # Safety
/// The CPU has `V`'s feature.
#[inline(always)]
unsafe fn tile<V: Lanes, const MV: usize, const MR: usize, const NR: usize>(
    a: &[V::Scalar],
    m: usize,
    panel: &[[V::Scalar; NR]],
    mut block: Block<'_, V::Scalar>,
) where
    V::Scalar: Real,
{
    debug_assert_eq!(MV * V::LANES, MR);
    let columns = block.columns::<NR>();
    // SAFETY (every block below): the caller guarantees the feature; loads and stores check
    // their bounds.
    let mut sums = [[unsafe { V::zero() }; MV]; NR];
    for (j, sum) in sums.iter_mut().enumerate().take(columns) {
        let start = block.start(j);
        for (v, s) in sum.iter_mut().enumerate() {
            *s = unsafe { V::load(&start[v * V::LANES..]) };
        }
    }
    for (p, right) in panel.iter().enumerate() {
        let column = &a[p * m..];
        let mut left = [unsafe { V::zero() }; MV];
        for (v, l) in left.iter_mut().enumerate() {
            *l = unsafe { V::load(&column[v * V::LANES..]) };
        }
        for (sum, &b) in sums.iter_mut().zip(right) {
            let b = unsafe { V::splat(b) };
            for (s, &l) in sum.iter_mut().zip(&left) {
                *s = unsafe { l.mul_add(b, *s) };
            }
        }
    }
    for (j, sum) in sums.iter().enumerate().take(columns) {
        let column = block.column_mut(j);
        for (v, s) in sum.iter().enumerate() {
            unsafe { s.store(&mut column[v * V::LANES..]) };
        }
    }
}

/// The dot-product tile (see `matmul::gemm_tn`): `MI × NJ` vectors of partial sums.
///
/// # Safety
/// The CPU has `V`'s feature.
#[inline(always)]
unsafe fn dots<V: Lanes<Scalar = S>, S: crate::Real, const MI: usize, const NJ: usize>(
    a: &[S],
    b: &[S],
    k: usize,
    out: &mut [[S; NJ]; MI],
) {
    let body = k - k % V::LANES;
    // SAFETY (every block below): the caller guarantees the feature; loads check their bounds.
    let mut sums = [[unsafe { V::zero() }; NJ]; MI];
    for p0 in (0..body).step_by(V::LANES) {
        let mut left = [unsafe { V::zero() }; MI];
        for (i, l) in left.iter_mut().enumerate() {
            *l = unsafe { V::load(&a[i * k + p0..]) };
        }
        for j in 0..NJ {
            let right = unsafe { V::load(&b[j * k + p0..]) };
            for (row, &l) in sums.iter_mut().zip(&left) {
                row[j] = unsafe { l.mul_add(right, row[j]) };
            }
        }
    }
    for (i, (row, out_row)) in sums.iter().zip(out.iter_mut()).enumerate() {
        for (j, (sum, value)) in row.iter().zip(out_row.iter_mut()).enumerate() {
            let mut total = unsafe { sum.sum() };
            for p in body..k {
                total = a[i * k + p].mul_add(b[j * k + p], total);
            }
            *value = total;
        }
    }
}

/// The three products for one instruction set: `$feature` is its `target_feature` string,
/// `$v32`/`$v64` its vector types, then per scalar type the tile sizes `[MV MR MH NR]` (vectors
/// per column, rows, rows of the half tile, columns) and `[MI NJ]` of the dot-product tile.
macro_rules! products {
    ($module:ident, $feature:literal, $v32:ty, $v64:ty,
     f32 [$mv32:literal $mr32:literal $mh32:literal $nr32:literal] [$mi32:literal $nj32:literal]
     f64 [$mv64:literal $mr64:literal $mh64:literal $nr64:literal] [$mi64:literal $nj64:literal]) => {
        mod $module {
            use super::*;

            products!(@typed $feature, f32, $v32, $mv32, $mr32, $mh32, $nr32, $mi32, $nj32,
                      outer_f32, forward_f32, weight_gradient_f32, input_gradient_f32);
            products!(@typed $feature, f64, $v64, $mv64, $mr64, $mh64, $nr64, $mi64, $nj64,
                      outer_f64, forward_f64, weight_gradient_f64, input_gradient_f64);
        }
    };
    (@typed $feature:literal, $t:ty, $v:ty, $mv:literal, $mr:literal, $mh:literal, $nr:literal,
     $mi:literal, $nj:literal, $outer:ident, $forward:ident, $weight_gradient:ident, $input_gradient:ident) => {
        /// `gemm` with this instruction set's tiles and `B`'s layout (`ROWS`: [`Right::Rows`]),
        /// in one copy per layout that the three products call. Inlined into each of them
        /// (twice into the weight gradient), the fully unrolled tiles would be compiled four
        /// times instead of two, about 7 % of the crate's release build time; one call is
        /// nothing next to a product large enough for the kernels. The layout stays a
        /// constant: matched at run time it cost W2's training step 3 % more instructions.
        ///
        /// # Safety
        /// The CPU has the features named in `target_feature`.
        #[target_feature(enable = $feature)]
        #[inline(never)]
        unsafe fn $outer<const ROWS: bool>(
            a: &[$t],
            b: &[$t],
            c: &mut [$t],
            start: Start<'_, $t>,
            shape: (usize, usize, usize),
        ) {
            let b = if ROWS { Right::Rows(b) } else { Right::Columns(b) };
            gemm::<$t, $mr, $mh, $nr, true>(
                a,
                b,
                c,
                start,
                shape,
                // SAFETY (both closures): this function's features are the tiles'.
                |a, m, p, acc| unsafe { tile::<$v, $mv, $mr, $nr>(a, m, p, acc) },
                |a, m, p, acc| unsafe { tile::<$v, 1, $mh, $nr>(a, m, p, acc) },
            );
        }

        /// # Safety
        /// The CPU has the features named in `target_feature`.
        #[target_feature(enable = $feature)]
        pub(crate) unsafe fn $forward(w: &[$t], x: &[$t], bias: &[$t], y: &mut [$t], shape: (usize, usize, usize)) {
            // SAFETY: this function's features are `$outer`'s.
            unsafe { $outer::<false>(w, x, y, Start::Columns(bias), shape) }
        }

        /// # Safety
        /// The CPU has the features named in `target_feature`.
        #[target_feature(enable = $feature)]
        pub(crate) unsafe fn $weight_gradient(dy: &[$t], x: &[$t], dw: &mut [$t], shape: (usize, usize, usize)) {
            // SAFETY: this function's features are `$outer`'s.
            weight_gradient_with(dy, x, dw, shape, |a, b, c, start, shape| unsafe {
                match b {
                    Right::Rows(b) => $outer::<true>(a, b, c, start, shape),
                    Right::Columns(b) => $outer::<false>(a, b, c, start, shape),
                }
            });
        }

        /// # Safety
        /// The CPU has the features named in `target_feature`.
        #[target_feature(enable = $feature)]
        pub(crate) unsafe fn $input_gradient(w: &[$t], dy: &[$t], dx: &mut [$t], shape: (usize, usize, usize)) {
            input_gradient_with::<$t, $mi, $nj, true>(
                w,
                dy,
                dx,
                shape,
                // SAFETY (both closures): this function's features are `$outer`'s and the tile's.
                |a, b, c, start, shape| unsafe {
                    match b {
                        Right::Rows(b) => $outer::<true>(a, b, c, start, shape),
                        Right::Columns(b) => $outer::<false>(a, b, c, start, shape),
                    }
                },
                |a, b, k, out| unsafe { dots::<$v, $t, $mi, $nj>(a, b, k, out) },
            );
        }
    };
}

// Accumulators: AVX2 2 × 6 = 12 of 16 registers, AVX-512 2 × 8 = 16 of 32; dot tiles 3 × 4 and 4 × 4.
products!(avx2, "avx2,fma", __m256, __m256d, f32 [2 16 8 6] [3 4] f64 [2 8 4 6] [3 4]);
products!(avx512, "avx512f,avx2,fma", __m512, __m512d, f32 [2 32 16 8] [4 4] f64 [2 16 8 8] [4 4]);

/// [`Isa::widest`]'s answer once known: only ever written with what detection found.
static WIDEST: AtomicU8 = AtomicU8::new(UNKNOWN);
const UNKNOWN: u8 = 0;
const NONE: u8 = 1;
const AVX2: u8 = 2;
const AVX512: u8 = 3;

/// An instruction set's code in an atomic; `UNKNOWN` is none yet.
fn encode(isa: Option<Isa>) -> u8 {
    match isa {
        Some(Isa(Level::Avx512)) => AVX512,
        Some(Isa(Level::Avx2)) => AVX2,
        None => NONE,
    }
}

/// An atomic's code that no instruction set is written under yet.
struct Unknown;

/// The instruction set [`encode`] wrote as `code`. Inlined into every hot path, so the common
/// answers come first and the unknown one last.
#[inline(always)]
fn decode(code: u8) -> Result<Option<Isa>, Unknown> {
    match code {
        AVX512 => Ok(Some(Isa(Level::Avx512))),
        AVX2 => Ok(Some(Isa(Level::Avx2))),
        NONE => Ok(None),
        _ => Err(Unknown),
    }
}

/// An x86-64 instruction set the CPU has: a value exists only where `is_x86_feature_detected!`
/// found the features, which is what makes calling the functions compiled for it sound.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Isa(Level);

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Level {
    /// AVX2 and FMA: 256-bit vectors.
    Avx2,
    /// AVX-512F (with AVX2 and FMA): 512-bit vectors.
    Avx512,
}

/// Runs `$module::$f32` or `$module::$f64` for the `Isa` `$isa`, with the `T` slices viewed as
/// `f32` or `f64` (`T` is one of the two, so the view is free and cannot fail).
macro_rules! typed {
    ($isa:expr, $T:ty, {$f32:ident, $f64:ident} ($($input:expr),*) -> $out:expr, $shape:expr) => {
        match ($isa.0, size_of::<$T>() == 4) {
            // SAFETY (each arm): an `Isa` is only built for features the CPU has.
            (Level::Avx2, true) => unsafe { avx2::$f32($(cast_slice($input),)* cast_slice_mut($out), $shape) },
            (Level::Avx2, false) => unsafe { avx2::$f64($(cast_slice($input),)* cast_slice_mut($out), $shape) },
            (Level::Avx512, true) => unsafe { avx512::$f32($(cast_slice($input),)* cast_slice_mut($out), $shape) },
            (Level::Avx512, false) => unsafe { avx512::$f64($(cast_slice($input),)* cast_slice_mut($out), $shape) },
        }
    };
}

impl Isa {
    /// The instruction sets this CPU has, narrowest first: found at run time with `std`, and
    /// without it taken from the compile-time target features, which a binary built for them
    /// may assume.
    pub(crate) fn detect() -> impl Iterator<Item = Isa> {
        #[cfg(feature = "std")]
        let (avx2, avx512) = {
            let avx2 = std::is_x86_feature_detected!("avx2") && std::is_x86_feature_detected!("fma");
            (avx2, avx2 && std::is_x86_feature_detected!("avx512f"))
        };
        #[cfg(not(feature = "std"))]
        let (avx2, avx512) = {
            let avx2 = cfg!(all(target_feature = "avx2", target_feature = "fma"));
            (avx2, avx2 && cfg!(target_feature = "avx512f"))
        };
        [(avx2, Level::Avx2), (avx512, Level::Avx512)]
            .into_iter()
            .filter_map(|(found, level)| found.then_some(Isa(level)))
    }

    /// The public name of this instruction set.
    pub(crate) fn instruction_set(self) -> crate::InstructionSet {
        match self.0 {
            Level::Avx2 => crate::InstructionSet::Avx2Fma,
            Level::Avx512 => crate::InstructionSet::Avx512,
        }
    }

    /// The widest instruction set this CPU has: one relaxed load once known. The input
    /// gradient's dot products run on it whatever the calibration chose (see
    /// [`calibration`]).
    #[inline(always)]
    pub(crate) fn widest() -> Option<Isa> {
        match decode(WIDEST.load(Ordering::Relaxed)) {
            Ok(isa) => isa,
            Err(Unknown) => Self::find_widest(),
        }
    }

    #[cold]
    fn find_widest() -> Option<Isa> {
        let widest = Self::detect().last();
        WIDEST.store(encode(widest), Ordering::Relaxed);
        widest
    }

    /// Runs `f` compiled for this instruction set: everything `f` inlines (`#[inline(always)]`
    /// element loops) uses its vector width and fused multiply-adds.
    #[inline(always)]
    pub(crate) fn run<R>(self, f: impl FnOnce() -> R) -> R {
        match self.0 {
            // SAFETY (both arms): an `Isa` is only built for features the CPU has.
            Level::Avx2 => unsafe { run_avx2(f) },
            Level::Avx512 => unsafe { run_avx512(f) },
        }
    }

    /// `Y = W X + b`, as `matmul::forward`.
    #[inline]
    pub(crate) fn forward<T: Real>(self, w: &[T], x: &[T], bias: &[T], y: &mut [T], shape: (usize, usize, usize)) {
        typed!(self, T, {forward_f32, forward_f64}(w, x, bias) -> y, shape);
    }

    /// `dW += dY Xᵀ`, as `matmul::weight_gradient`.
    #[inline]
    pub(crate) fn weight_gradient<T: Real>(self, dy: &[T], x: &[T], dw: &mut [T], shape: (usize, usize, usize)) {
        typed!(self, T, {weight_gradient_f32, weight_gradient_f64}(dy, x) -> dw, shape);
    }

    /// `dX = Wᵀ dY`, as `matmul::input_gradient`.
    #[inline]
    pub(crate) fn input_gradient<T: Real>(self, w: &[T], dy: &[T], dx: &mut [T], shape: (usize, usize, usize)) {
        typed!(self, T, {input_gradient_f32, input_gradient_f64}(w, dy) -> dx, shape);
    }
}

// `#[inline]` on both: called from code already compiled for the same features (a tuple or
// an array of layers inside a tuple, each choosing again), LLVM inlines the call, and a layer's
// output is no longer returned through memory. W4's hidden layers are an array of
// `(Dense, Relu)`: its inference copied 4 KB activations for 19 % of its time, 9 % after, and
// went from 11.6-11.8 to 10.4-10.5 µs (AMD EPYC Zen 4). From code without the features the
// call cannot be inlined, so the boundary stays where `simd::widest` puts it.

/// # Safety
/// The CPU has AVX2 and FMA.
#[target_feature(enable = "avx2,fma")]
#[inline]
unsafe fn run_avx2<R>(f: impl FnOnce() -> R) -> R {
    f()
}

/// # Safety
/// The CPU has AVX-512F, AVX2 and FMA.
#[target_feature(enable = "avx512f,avx2,fma")]
#[inline]
unsafe fn run_avx512<R>(f: impl FnOnce() -> R) -> R {
    f()
}
