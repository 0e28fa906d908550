//! The `int8` fully connected product on x86-64 vector instructions, chosen at run time: AVX-512
//! VNNI (`vpdpbusd`, 64 multiply-adds of `u8 × i8` into `i32` per instruction) and the portable
//! loop compiled for AVX2. With `src/x86.rs`, the crate's only `unsafe` code, for
//! the same two reasons: intrinsics need their CPU feature, and loads and stores go through
//! pointers.
//!
//! Soundness rests on one invariant: the `unsafe fn`s that use AVX-512 (compiled with
//! `#[target_feature]`, or `#[inline(always)]` bodies that inline into such a function) are
//! called only from [`run`], [`dense`] and [`encode`] for the kernel of an [`Int8Context`],
//! which holds only a kernel that `is_x86_feature_detected!` reported (its field is private;
//! `new` checks the cached answer, which is only ever written from detection, and the one
//! unchecked constructor is called only inside the functions compiled for a detected kernel).
//! The bodies are called directly only for a context made that way, so that they inline into
//! the function compiled for the kernel; a copy of such a context used elsewhere still names a
//! kernel the CPU has. Every load and store is of a whole vector inside a slice whose length is
//! asserted first, or masked to the slice's end.
//!
//! Exactness: both kernels compute the same `int32` sums as the portable loop, `Σ w · (x + 128)`
//! wrapping the same way, to which the layer's folded bias adds `bias − (128 + z) Σ w`
//! (see [`Int8Dense`](crate::quantised::Int8Dense)). VNNI multiplies unsigned by signed bytes, and
//! `x ^ 0x80` reads `x + 128` as `u8`. VNNI then requantises sixteen outputs per vector, lane
//! for lane the integers of the portable code ([`requantise`]).

#![allow(unsafe_code)]

use core::arch::x86_64::*;
use core::sync::atomic::{AtomicU8, Ordering};

use crate::quantised::{Affine, BLOCK, Int8Context, Int8Kernel, Requantisation, portable};

const UNKNOWN: u8 = 0;

/// Which kernels the CPU has: bit 0 AVX2, bit 1 AVX-512 VNNI (with F, BW and VL); only written from
/// detection.
static FOUND: AtomicU8 = AtomicU8::new(UNKNOWN);
const DETECTED: u8 = 0b100;
const HAS_AVX2: u8 = 0b001;
const HAS_VNNI: u8 = 0b010;

fn found() -> u8 {
    let known = FOUND.load(Ordering::Relaxed);
    if known != UNKNOWN {
        return known;
    }
    let mut bits = DETECTED;
    if std::is_x86_feature_detected!("avx2") {
        bits |= HAS_AVX2;
    }
    if std::is_x86_feature_detected!("avx512f")
        && std::is_x86_feature_detected!("avx512bw")
        && std::is_x86_feature_detected!("avx512vl")
        && std::is_x86_feature_detected!("avx512vnni")
    {
        bits |= HAS_VNNI;
    }
    FOUND.store(bits, Ordering::Relaxed);
    bits
}

/// Whether the CPU can run `kernel`.
#[inline]
pub(crate) fn has(kernel: Int8Kernel) -> bool {
    match kernel {
        Int8Kernel::Portable => true,
        Int8Kernel::ArmDsp => false,
        Int8Kernel::Avx2 => found() & HAS_AVX2 != 0,
        Int8Kernel::Avx512Vnni => found() & HAS_VNNI != 0,
    }
}

/// Runs `f` compiled for the instruction set of the context's kernel.
#[inline(always)]
pub(crate) fn run<R>(context: Int8Context, f: impl FnOnce(Int8Context) -> R) -> R {
    match context.kernel() {
        Int8Kernel::Portable | Int8Kernel::ArmDsp => f(context),
        // SAFETY: a context holds only a kernel that detection found (`Int8Context::new`).
        Int8Kernel::Avx2 => unsafe { run_avx2(f) },
        // SAFETY: as above.
        Int8Kernel::Avx512Vnni => unsafe { run_vnni(f) },
    }
}

/// # Safety
/// The CPU has AVX2.
#[target_feature(enable = "avx2")]
unsafe fn run_avx2<R>(f: impl FnOnce(Int8Context) -> R) -> R {
    f(Int8Context::detected(Int8Kernel::Avx2))
}

/// # Safety
/// The CPU has AVX-512 F, BW, VL and VNNI.
#[target_feature(enable = "avx512f,avx512bw,avx512vl,avx512vnni")]
unsafe fn run_vnni<R>(f: impl FnOnce(Int8Context) -> R) -> R {
    f(Int8Context::detected(Int8Kernel::Avx512Vnni))
}

/// Runs the context's kernel if it is a vector kernel, and says whether it did.
#[inline(always)]
pub(crate) fn dense<const O: usize, const I: usize, const B: usize>(
    context: Int8Context,
    w: &[i8],
    x: &[i8],
    y: &mut [i8],
    r: &Requantisation<'_>,
) -> bool {
    let shape = (O, I, B);
    let (o_len, i_len, b_len) = shape;
    assert!(w.len() >= o_len * i_len && x.len() >= i_len * b_len && y.len() >= o_len * b_len);
    assert!(r.folded_bias.len() >= o_len && r.constants.len() >= o_len);
    match context.kernel() {
        Int8Kernel::Portable | Int8Kernel::ArmDsp => return false,
        // SAFETY: a context holds only a kernel that detection found; the lengths are asserted
        // above.
        Int8Kernel::Avx512Vnni if context.compiled() => unsafe { dense_inline::<O, I, B>(w, x, y, r) },
        // SAFETY: as above.
        Int8Kernel::Avx512Vnni => unsafe { dense_vnni::<O, I, B>(w, x, y, r) },
        // SAFETY: as above.
        Int8Kernel::Avx2 => unsafe { dense_avx2(w, x, y, shape, r) },
    }
    true
}

/// Encodes real inputs with `affine` ([`Affine::quantise`] of each value, the same integers) if
/// the context's kernel is AVX-512 VNNI, and says whether it did.
#[inline(always)]
pub(crate) fn encode(context: Int8Context, x: &[f32], affine: Affine, y: &mut [i8]) -> bool {
    assert!(y.len() >= x.len());
    match context.kernel() {
        // SAFETY: a context holds only a kernel that detection found; `y` is asserted above to
        // hold as many values as `x`.
        Int8Kernel::Avx512Vnni if context.compiled() => unsafe { encode_inline(x, affine, y) },
        // SAFETY: as above.
        Int8Kernel::Avx512Vnni => unsafe { encode_vnni(x, affine, y) },
        _ => return false,
    }
    true
}

/// [`Affine::quantise`] of sixteen values: the same division, then its rounding half away from
/// zero as `trunc(RZ(v + copysign(0.5, v)))` instead of the scalar code's tie test (four
/// instructions fewer per vector, none of them a compare that waits on the sum).
///
/// Why it is the same integer: the clamp keeps `|v| <= 1024`, so every integer the sum can reach
/// is an `f32`. For `v >= 0` the real sum `a = v + 1/2` lies in `[n, n + 1)` with
/// `n = floor(v + 1/2)`, C's `round(v)`; rounding `a` toward zero gives the largest `f32` at most
/// `a`, which is at least the `f32` `n` and below `n + 1`, so truncation gives `n`. For `v < 0`
/// (and `-0`) the same holds mirrored: `a = v − 1/2` lies in `(m − 1, m]` with
/// `m = ceil(v − 1/2) = −round(−v)`, rounding toward zero stays in `[a, m]`, and truncation gives
/// `m`. A NaN quotient keeps the zero point, as `roundf` then `as` gives 0 steps; the narrowing
/// to bytes saturates as the clamp to `[−128, 127]` does.
///
/// # Safety
/// The CPU has AVX-512 F.
#[inline(always)]
unsafe fn quantise16(x: __m512, scale: __m512, zero_point: __m512i) -> __m128i {
    // SAFETY (whole body): the caller guarantees AVX-512 F; no memory is touched.
    unsafe {
        let v = _mm512_div_ps(x, scale);
        let ordered = _mm512_cmp_ps_mask::<_CMP_ORD_Q>(v, v);
        let clamped = _mm512_min_ps(_mm512_max_ps(v, _mm512_set1_ps(-1024.0)), _mm512_set1_ps(1024.0));
        // 0.5 with the sign of `v`, which the clamp keeps (NaN lanes are replaced below), taken
        // from `v` so that it does not wait for the clamp: bits of 0.5 where the sign mask is 0,
        // of `v` where it is 1.
        let half = _mm512_castsi512_ps(_mm512_ternarylogic_epi32::<0xCA>(
            _mm512_set1_epi32(i32::MIN),
            _mm512_castps_si512(v),
            _mm512_castps_si512(_mm512_set1_ps(0.5)),
        ));
        let sum = _mm512_add_round_ps::<{ _MM_FROUND_TO_ZERO | _MM_FROUND_NO_EXC }>(clamped, half);
        let steps = _mm512_cvttps_epi32(sum);
        _mm512_cvtsepi32_epi8(_mm512_mask_add_epi32(zero_point, ordered, steps, zero_point))
    }
}

/// Sixty-four values at a time, each group written with one whole store (four stores of
/// sixteen bytes would make the first layer's load of the same 64 bytes wait for all of them
/// to reach the cache); the last values with masked loads and a masked store.
///
/// # Safety
/// The CPU has AVX-512 F and BW; `y` holds at least `x.len()` values.
#[target_feature(enable = "avx512f,avx512bw,avx512vl,avx512vnni")]
#[inline]
unsafe fn encode_vnni(x: &[f32], affine: Affine, y: &mut [i8]) {
    // SAFETY: the caller's guarantees.
    unsafe { encode_inline(x, affine, y) }
}

/// [`encode_vnni`] for a caller compiled for AVX-512 already, into which it inlines.
///
/// # Safety
/// As [`encode_vnni`].
#[inline(always)]
unsafe fn encode_inline(x: &[f32], affine: Affine, y: &mut [i8]) {
    // SAFETY (whole body): the caller guarantees the features and the lengths; whole loads and
    // stores are of 64 values inside `x` and 64 bytes inside `y`; the rest are masked to the
    // `x.len() % 64` values that remain.
    unsafe {
        let scale = _mm512_set1_ps(affine.scale);
        let zero_point = _mm512_set1_epi32(i32::from(affine.zero_point));
        let whole = x.len() / 64;
        let source = x.as_ptr();
        let target = y.as_mut_ptr();
        for c in 0..whole {
            let at = source.add(64 * c);
            let mut parts = [_mm_setzero_si128(); 4];
            for (k, part) in parts.iter_mut().enumerate() {
                *part = quantise16(_mm512_loadu_ps(at.add(16 * k)), scale, zero_point);
            }
            let bytes = _mm512_inserti32x4::<3>(
                _mm512_inserti32x4::<2>(
                    _mm512_inserti32x4::<1>(_mm512_castsi128_si512(parts[0]), parts[1]),
                    parts[2],
                ),
                parts[3],
            );
            _mm512_storeu_si512(target.add(64 * c).cast(), bytes);
        }
        let done = 64 * whole;
        for k in 0..(x.len() - done).div_ceil(16) {
            let from = done + 16 * k;
            let mask = ((1u32 << (x.len() - from).min(16)) - 1) as __mmask16;
            let v = _mm512_maskz_loadu_ps(mask, source.add(from));
            _mm_mask_storeu_epi8(target.add(from), mask, quantise16(v, scale, zero_point));
        }
    }
}

/// The mask of the first `n` of 64 bytes.
#[inline(always)]
fn byte_mask(n: usize) -> u64 {
    if n >= 64 { u64::MAX } else { (1u64 << n) - 1 }
}

/// Every output's requantisation constants in the form the VNNI kernel reads them, derived
/// once when the layer is built ([`Int8Dense::new`](crate::quantised::Int8Dense::new)) rather
/// than per block on every call, which at batch 1 cost about as much as the requantisation.
///
/// The 64-bit constants of the rounding right shift ([`requantise`]) act on 64-bit lanes that
/// hold a block's even outputs in one vector and its odd outputs in another, so they are
/// stored in that order: in each block of [`BLOCK`] outputs (the last may be shorter), first the
/// even outputs' values, then the odd ones', each half read by one load.
#[derive(Clone, Debug, PartialEq, Eq, bytemuck::Zeroable)]
pub(crate) struct Constants<const O: usize> {
    /// The left shift, `clamp(shift, 0, 31)`, in the outputs' order.
    left: [i32; O],
    /// The multiplier, in the even-then-odd order (only the low 32 bits are read).
    multiplier: [i64; O],
    /// `2^30 + 2^(30 + e)`, or `2^30` when the exponent `e = clamp(−shift, 0, 31)` of the right
    /// shift is 0; even-then-odd order.
    nudge: [i64; O],
    /// `2^31` where `e >= 1`, else 0: subtracted from a product below `−2^30`; even-then-odd.
    negative: [i64; O],
    /// `31 + e`; even-then-odd.
    total: [i64; O],
    /// Whether some output shifts left (a multiplier of 1 or more, which TFLite's converter
    /// never makes): otherwise the kernel skips the shift.
    shifts_left: bool,
    /// Whether some multiplier is `i32::MIN`, the one case whose product (`2^62`) rounds to
    /// `2^31` and needs gemmlowp's saturation; otherwise every rounded product fits in `int32`
    /// and the kernel reads it off the 64-bit lane instead of narrowing with saturation.
    saturates: bool,
}

/// Where output `o`'s 64-bit constants go: in its block, the even outputs first.
const fn split_index<const O: usize>(o: usize) -> usize {
    let block = o - o % BLOCK;
    let rows = if O - block < BLOCK { O - block } else { BLOCK };
    let lane = o - block;
    block
        + if lane.is_multiple_of(2) {
            lane / 2
        } else {
            rows.div_ceil(2) + lane / 2
        }
}

impl<const O: usize> Constants<O> {
    /// The constants of these multipliers and shifts ([`multiply_by_quantized_multiplier`]'s
    /// clamps of the shifts included).
    ///
    /// [`multiply_by_quantized_multiplier`]: crate::quantised::multiply_by_quantized_multiplier
    pub(crate) const fn new(multiplier: &[i32; O], shift: &[i8; O]) -> Self {
        let mut constants = Self {
            left: [0; O],
            multiplier: [0; O],
            nudge: [0; O],
            negative: [0; O],
            total: [0; O],
            shifts_left: false,
            saturates: false,
        };
        let mut o = 0;
        while o < O {
            let s = shift[o] as i32;
            let left = if s > 31 {
                31
            } else if s < 0 {
                0
            } else {
                s
            };
            let right = if -s > 31 {
                31
            } else if -s < 0 {
                0
            } else {
                -s
            };
            let at = split_index::<O>(o);
            constants.left[o] = left;
            constants.multiplier[at] = multiplier[o] as i64;
            constants.nudge[at] = (1 << 30) + if right > 0 { 1i64 << (30 + right) } else { 0 };
            constants.negative[at] = if right > 0 { 1 << 31 } else { 0 };
            constants.total[at] = 31 + right as i64;
            constants.shifts_left |= left > 0;
            constants.saturates |= multiplier[o] == i32::MIN;
            o += 1;
        }
        constants
    }

    /// The constants as slices, for [`Requantisation`].
    pub(crate) fn slices(&self) -> ConstantSlices<'_> {
        ConstantSlices {
            left: &self.left,
            multiplier: &self.multiplier,
            nudge: &self.nudge,
            negative: &self.negative,
            total: &self.total,
            shifts_left: self.shifts_left,
            saturates: self.saturates,
        }
    }
}

/// A layer's [`Constants`], borrowed without their width.
#[derive(Clone, Copy, Debug)]
pub(crate) struct ConstantSlices<'a> {
    left: &'a [i32],
    multiplier: &'a [i64],
    nudge: &'a [i64],
    negative: &'a [i64],
    total: &'a [i64],
    shifts_left: bool,
    saturates: bool,
}

impl ConstantSlices<'_> {
    /// The number of outputs every slice covers.
    #[inline(always)]
    fn len(&self) -> usize {
        let wide = [self.multiplier, self.nudge, self.negative, self.total];
        wide.iter()
            .fold(self.left.len(), |shortest, values| shortest.min(values.len()))
    }
}

/// The even or the odd half of a block's 64-bit constants: `count` values from `from`.
///
/// # Safety
/// The CPU has AVX-512 F; `values` holds at least `from + count` values, `count <= 8`.
#[inline(always)]
unsafe fn load(values: &[i64], (count, from): (usize, usize)) -> __m512i {
    // SAFETY: the masked load reads only the first `count` values after `from`.
    unsafe { _mm512_maskz_loadu_epi64(((1u32 << count) - 1) as __mmask8, values[from..].as_ptr()) }
}

/// One block's requantisation parameters: per output lane the folded bias and the left shift;
/// per 64-bit lane (`[even outputs, odd outputs]`) the multiplier and the constants of the
/// rounding right shift ([`requantise`]).
#[derive(Clone, Copy)]
struct Lanes {
    folded_bias: __m512i,
    left: __m512i,
    multiplier: [__m512i; 2],
    nudge: [__m512i; 2],
    negative: [__m512i; 2],
    shift: [__m512i; 2],
}

/// The parameters of outputs `block..block + rows` (`rows <= 16`): masked loads, lanes past
/// `rows` are 0.
///
/// # Safety
/// The CPU has AVX-512 F; the slices of `r` hold at least `block + rows` values.
#[inline(always)]
unsafe fn lanes(r: &Requantisation<'_>, block: usize, rows: usize) -> Lanes {
    // SAFETY (whole body): masked loads read only the first `rows` values after `block`: the
    // even half `rows.div_ceil(2)` from `block`, the odd half `rows / 2` after it.
    unsafe {
        let mask = ((1u32 << rows) - 1) as __mmask16;
        let even_count = rows.div_ceil(2);
        let halves = [(even_count, block), (rows / 2, block + even_count)];
        let c = &r.constants;
        Lanes {
            folded_bias: _mm512_maskz_loadu_epi32(mask, r.folded_bias[block..].as_ptr()),
            left: _mm512_maskz_loadu_epi32(mask, c.left[block..].as_ptr()),
            multiplier: [load(c.multiplier, halves[0]), load(c.multiplier, halves[1])],
            nudge: [load(c.nudge, halves[0]), load(c.nudge, halves[1])],
            negative: [load(c.negative, halves[0]), load(c.negative, halves[1])],
            shift: [load(c.total, halves[0]), load(c.total, halves[1])],
        }
    }
}

/// `RoundingDivideByPOT(SaturatingRoundingDoublingHighMul(·), e)` of eight 64-bit products
/// `p = a · b` as one rounding: `(p + 2^30 + 2^(30 + e) − [p < −2^30] · 2^31) >> (31 + e)`,
/// or `(p + 2^30) >> 31` for `e = 0` (see [`requantise`]).
///
/// # Safety
/// The CPU has AVX-512F.
#[inline(always)]
unsafe fn rounded(product: __m512i, p: &Lanes, k: usize) -> __m512i {
    // SAFETY (whole body): the caller guarantees AVX-512F; no memory is touched.
    unsafe {
        let sum = _mm512_add_epi64(product, p.nudge[k]);
        let negative = _mm512_cmplt_epi64_mask(product, _mm512_set1_epi64(-(1 << 30)));
        _mm512_srav_epi64(_mm512_mask_sub_epi64(sum, negative, sum, p.negative[k]), p.shift[k])
    }
}

/// Lane `2j` from `even[j]`, lane `2j + 1` from `odd[j]`.
const INTERLEAVE: [i32; 16] = [0, 16, 1, 17, 2, 18, 3, 19, 4, 20, 5, 21, 6, 22, 7, 23];

/// [`Requantisation::output`] on sixteen sums (the folded bias included) at once before the
/// clamp, lane for lane the same integers (the caller narrows them to bytes with saturation and
/// then clamps, which gives what clamping in `int32` gives, as `[min, max]` lies inside the byte
/// range).
///
/// `SaturatingRoundingDoublingHighMul(a, b)` is `h = ⌊(a b + 2^30) / 2^31⌋` (its documentation
/// proves it), and for `e >= 1` `RoundingDivideByPOT(h, e)` is `⌊(h + 2^(e−1) − [h < 0]) / 2^e⌋`
/// (ties away from zero: the remainder test of gemmlowp written as one floor). As
/// `⌊(⌊y / A⌋ + k) / B⌋ = ⌊(y + k A) / (A B)⌋` for integers, the two roundings are one
/// arithmetic shift of the 64-bit product ([`rounded`]), and `h < 0` exactly when
/// `a b < −2^30`. Every result fits in `int32` but one: for `a = b = INT32_MIN` and `e = 0`
/// the floor is `2^31` where gemmlowp saturates to `INT32_MAX`, which the saturating narrowing
/// to 32 bits gives (for `e >= 1` the two agree: `2^(31−e)`). Without a multiplier of
/// `INT32_MIN` in the layer, `|a b| <= 2^62 − 2^31` and every result fits in `int32`, so the
/// low half of each 64-bit lane is the result: a blend of the even lanes with the odd ones
/// shifted up, three instructions shorter in latency than the two saturating narrowings and
/// their interleave. The zero point is then added in wrapping `int32`, as in the portable code.
///
/// # Safety
/// The CPU has AVX-512F.
#[inline(always)]
unsafe fn requantise(sum: __m512i, p: &Lanes, r: &Requantisation<'_>) -> __m512i {
    // SAFETY (whole body): the caller guarantees AVX-512F; `INTERLEAVE` is read whole.
    unsafe {
        let x = if r.constants.shifts_left {
            _mm512_sllv_epi32(sum, p.left)
        } else {
            sum
        };
        let even = rounded(_mm512_mul_epi32(x, p.multiplier[0]), p, 0);
        let odd = rounded(_mm512_mul_epi32(_mm512_srli_epi64::<32>(x), p.multiplier[1]), p, 1);
        let scaled = if r.constants.saturates {
            _mm512_permutex2var_epi32(
                _mm512_castsi256_si512(_mm512_cvtsepi64_epi32(even)),
                _mm512_loadu_si512(INTERLEAVE.as_ptr().cast()),
                _mm512_castsi256_si512(_mm512_cvtsepi64_epi32(odd)),
            )
        } else {
            _mm512_mask_blend_epi32(0xAAAA, even, _mm512_slli_epi64::<32>(odd))
        };
        _mm512_add_epi32(scaled, _mm512_set1_epi32(r.output_zero_point))
    }
}

/// Independent chains of sums per block.
const CHAINS: usize = 4;

/// `x ^ OFFSET` reads each of four `i8` in an `i32` as the `u8` `x + 128`.
const OFFSET: i32 = 0x8080_8080_u32 as i32;

/// The VNNI product: up to four blocks of sixteen outputs at a time ([`blocks`]).
///
/// # Safety
/// The CPU has AVX-512 F, BW and VNNI; the slices hold the shapes' values.
#[target_feature(enable = "avx512f,avx512bw,avx512vl,avx512vnni")]
#[inline]
unsafe fn dense_vnni<const O: usize, const I: usize, const B: usize>(
    w: &[i8],
    x: &[i8],
    y: &mut [i8],
    r: &Requantisation<'_>,
) {
    // SAFETY: the caller's guarantees.
    unsafe { dense_inline::<O, I, B>(w, x, y, r) }
}

/// [`dense_vnni`] for a caller compiled for AVX-512 VNNI already (a pass that
/// [`Int8Context::run`] compiled), into which it inlines: a called layer took its parameters
/// through the stack and its inputs and outputs through memory at batch 1.
///
/// # Safety
/// As [`dense_vnni`].
#[inline(always)]
unsafe fn dense_inline<const O: usize, const I: usize, const B: usize>(
    w: &[i8],
    x: &[i8],
    y: &mut [i8],
    r: &Requantisation<'_>,
) {
    let shape = (O, I, B);
    let o_len = O;
    let mut first = 0;
    while first < o_len {
        // SAFETY: the caller's guarantees, and `first < o_len`.
        unsafe {
            match (o_len - first).div_ceil(BLOCK) {
                1 => blocks::<1>(w, x, y, shape, r, first),
                2 => blocks::<2>(w, x, y, shape, r, first),
                3 => blocks::<3>(w, x, y, shape, r, first),
                _ => blocks::<4>(w, x, y, shape, r, first),
            }
        }
        first += 4 * BLOCK;
    }
}

/// `Q` blocks of sixteen outputs from output `first` (the last may be partial), each sample's
/// input read once for all of them and each load of weights used for two samples where the
/// batch has them ([`samples`]): for each group of four inputs, one `vpdpbusd` per block of
/// the group (offset to `x + 128`, in every lane) by the block's four weights of each output
/// (side by side in the packed order); each block's sixteen sums requantised together and
/// clamped, and the `Q` blocks' bytes written with one whole store (through a local buffer
/// when they end before 64), never a masked one: a load that reads what a masked store or
/// several stores wrote waits for them to reach the cache, and the next layer and the caller
/// read these bytes at once.
///
/// # Safety
/// The CPU has AVX-512 F, BW and VNNI; the slices hold the shapes' values; `first < o_len`
/// and the `Q`-th block starts before `o_len`.
#[inline(always)]
unsafe fn blocks<const Q: usize>(
    w: &[i8],
    x: &[i8],
    y: &mut [i8],
    (o_len, i_len, b_len): (usize, usize, usize),
    r: &Requantisation<'_>,
    first: usize,
) {
    let groups = i_len / 4;
    // SAFETY (whole body): the caller guarantees the features. A block of `rows` outputs holds
    // `rows · i_len` packed weights from `start · i_len`: group `g` is `4 · rows` bytes from
    // `g · 4 · rows`, the last inputs' `rows` bytes follow; a load of a group's weights is of
    // 64 bytes inside the block's weights, or masked to the group's bytes (all 64 of a group
    // in a block before the last, which is whole), and the last inputs' loads are masked to
    // their bytes; every store is of the blocks' outputs, whole into `y` or into a local
    // buffer. Input groups are read four at a time from `4 · 4 ⌊g / 4⌋`, masked to the
    // `4 · groups <= i_len` bytes of whole groups. Pointers are computed with `wrapping_add`,
    // and all accesses are inside the slices by the assertion in `dense`.
    unsafe {
        // Plain loops, not `array::from_fn`: its closures would not inherit the target features
        // and would not be inlined.
        let (mut start, mut rows) = ([0; Q], [0; Q]);
        let mut weights = [w.as_ptr(); Q];
        let (mut group_masks, mut lane_masks) = ([0u64; Q], [0 as __mmask16; Q]);
        let zero = _mm512_setzero_si512();
        let mut parameters = [Lanes {
            folded_bias: zero,
            left: zero,
            multiplier: [zero; 2],
            nudge: [zero; 2],
            negative: [zero; 2],
            shift: [zero; 2],
        }; Q];
        for q in 0..Q {
            start[q] = first + q * BLOCK;
            rows[q] = BLOCK.min(o_len - start[q]);
            weights[q] = w.as_ptr().wrapping_add(start[q] * i_len);
            group_masks[q] = byte_mask(4 * rows[q]);
            lane_masks[q] = ((1u32 << rows[q]) - 1) as __mmask16;
            parameters[q] = lanes(r, start[q], rows[q]);
        }
        let blocks = Blocks {
            weights,
            rows,
            group_masks,
            lane_masks,
            parameters,
            count: o_len.min(first + Q * BLOCK) - first,
            upper: _mm_set1_epi8(r.max as i8),
            lower: _mm_set1_epi8(r.min as i8),
            groups,
            first,
        };
        // Two samples share each load of the weights (the loads, 64 bytes per `vpdpbusd`, not
        // the products, bound a layer over a batch); a single sample keeps four chains of sums
        // per block, since at batch 1 the layer is a chain of dependent steps.
        let mut b = 0;
        while b + 2 <= b_len {
            samples::<Q, 2, 2>(&blocks, x, y, (o_len, i_len), r, b);
            b += 2;
        }
        if b < b_len {
            samples::<Q, 1, CHAINS>(&blocks, x, y, (o_len, i_len), r, b);
        }
    }
}

/// What [`samples`] reads of `Q` blocks of outputs: per block the weights, the number of
/// outputs, the masks of a group's weights and of a block's lanes, and the requantisation
/// parameters; the clamp as bytes; the number of groups of four inputs; the first output and
/// the number of outputs of all the blocks.
struct Blocks<const Q: usize> {
    weights: [*const i8; Q],
    rows: [usize; Q],
    group_masks: [u64; Q],
    lane_masks: [__mmask16; Q],
    parameters: [Lanes; Q],
    count: usize,
    upper: __m128i,
    lower: __m128i,
    groups: usize,
    first: usize,
}

/// The `Q` blocks' outputs for samples `b..b + S`, with `C` chains of sums per block and sample
/// ([`blocks`]).
///
/// # Safety
/// As [`blocks`], with `b + S <= b_len`.
#[inline(always)]
unsafe fn samples<const Q: usize, const S: usize, const C: usize>(
    blocks: &Blocks<Q>,
    x: &[i8],
    y: &mut [i8],
    (o_len, i_len): (usize, usize),
    r: &Requantisation<'_>,
    b: usize,
) {
    let Blocks {
        weights,
        rows,
        group_masks,
        lane_masks,
        parameters,
        count,
        upper,
        lower,
        groups,
        first,
    } = *blocks;
    // SAFETY (whole body): as in `blocks`, for the columns `b..b + S` of `x` and `y`.
    unsafe {
        let zero = _mm512_setzero_si512();
        // Four groups are offset with one vector `xor` and each is then broadcast with one
        // permutation, rather than moved through a general register: at batch 1 the next
        // layer's inputs are this layer's outputs, still in a vector register, and the first
        // groups' products need not wait for the last groups' inputs.
        let four = |s: usize, g: usize| {
            let column = &x[(b + s) * i_len..(b + s + 1) * i_len];
            let chunk = 4 * (g / 4);
            let bytes = _mm_maskz_loadu_epi8(
                byte_mask(4 * (groups - chunk)) as __mmask16,
                column.as_ptr().wrapping_add(4 * chunk),
            );
            let offset = _mm_xor_si128(bytes, _mm_set1_epi32(OFFSET));
            _mm512_permutexvar_epi32(_mm512_set1_epi32((g % 4) as i32), _mm512_castsi128_si512(offset))
        };
        // `C` chains of sums per block and sample, so that each `vpdpbusd` waits on one `C`
        // groups back. The folded bias starts the first chain, one addition fewer after the
        // products.
        let mut acc = [[[zero; Q]; C]; S];
        for chains in acc.iter_mut() {
            for (q, sum) in chains[0].iter_mut().enumerate() {
                *sum = parameters[q].folded_bias;
            }
        }
        let mut g = 0;
        while g + C <= groups {
            for (c, group) in (g..g + C).enumerate() {
                let mut xc = [zero; S];
                for (s, v) in xc.iter_mut().enumerate() {
                    *v = four(s, group);
                }
                for q in 0..Q {
                    let from = group * 4 * rows[q];
                    let at = weights[q].wrapping_add(from);
                    // Whole loads fold into `vpdpbusd`: every group of a whole block, and of the
                    // last block those whose 64 bytes end inside its weights (the bytes past the
                    // group only reach lanes past `rows`, which are never stored). Only the last
                    // groups of a partial block are masked.
                    let wv = if q + 1 < Q || from + 64 <= rows[q] * i_len {
                        _mm512_loadu_si512(at.cast())
                    } else {
                        _mm512_maskz_loadu_epi8(group_masks[q], at)
                    };
                    for s in 0..S {
                        acc[s][c][q] = _mm512_dpbusd_epi32(acc[s][c][q], xc[s], wv);
                    }
                }
            }
            g += C;
        }
        for (c, group) in (g..groups).enumerate() {
            let mut xc = [zero; S];
            for (s, v) in xc.iter_mut().enumerate() {
                *v = four(s, group);
            }
            for q in 0..Q {
                let at = weights[q].wrapping_add(group * 4 * rows[q]);
                let wv = _mm512_maskz_loadu_epi8(group_masks[q], at);
                for s in 0..S {
                    acc[s][c][q] = _mm512_dpbusd_epi32(acc[s][c][q], xc[s], wv);
                }
            }
        }
        for (s, chains) in acc.iter().enumerate() {
            let column = &x[(b + s) * i_len..(b + s + 1) * i_len];
            let mut sums = [zero; Q];
            for (q, sum) in sums.iter_mut().enumerate() {
                *sum = chains
                    .iter()
                    .fold(zero, |total, chain| _mm512_add_epi32(total, chain[q]));
            }
            for (t, &input) in column[4 * groups..].iter().enumerate() {
                let xv = _mm512_set1_epi32(i32::from(input) + 128);
                for q in 0..Q {
                    let last = weights[q].wrapping_add(groups * 4 * rows[q] + t * rows[q]);
                    let loaded = _mm512_maskz_loadu_epi8(u64::from(lane_masks[q]), last);
                    let wv = _mm512_cvtepi8_epi32(_mm512_castsi512_si128(loaded));
                    sums[q] = _mm512_add_epi32(sums[q], _mm512_mullo_epi32(wv, xv));
                }
            }
            // Four whole blocks narrow together: two saturating packs to 16 bits and one to 8
            // (lane by lane, so a permutation puts the blocks back in order) and one clamp, six
            // instructions where one block at a time takes about twenty. Fewer blocks narrow one
            // by one, each clamped on its own, so that the next layer's first groups, which read
            // only the first block, need not wait for the others.
            let mut bytes = zero;
            if Q == 4 {
                let mut scaled = [zero; Q];
                for ((value, &sum), lanes) in scaled.iter_mut().zip(&sums).zip(&parameters) {
                    *value = requantise(sum, lanes, r);
                }
                let packed = _mm512_packs_epi16(
                    _mm512_packs_epi32(scaled[0], scaled[1]),
                    _mm512_packs_epi32(scaled[2], scaled[3]),
                );
                // Lane `l` holds four outputs `4l..4l + 4` of each block in turn.
                let order = _mm512_setr_epi32(0, 4, 8, 12, 1, 5, 9, 13, 2, 6, 10, 14, 3, 7, 11, 15);
                let wide = _mm512_permutexvar_epi32(order, packed);
                bytes = _mm512_max_epi8(
                    _mm512_min_epi8(wide, _mm512_broadcast_i32x4(upper)),
                    _mm512_broadcast_i32x4(lower),
                );
            } else {
                for q in 0..Q {
                    let narrowed = _mm512_cvtsepi32_epi8(requantise(sums[q], &parameters[q], r));
                    let block = _mm_max_epi8(_mm_min_epi8(narrowed, upper), lower);
                    bytes = match q {
                        0 => _mm512_inserti32x4::<0>(bytes, block),
                        1 => _mm512_inserti32x4::<1>(bytes, block),
                        2 => _mm512_inserti32x4::<2>(bytes, block),
                        _ => _mm512_inserti32x4::<3>(bytes, block),
                    };
                }
            }
            let at = (b + s) * o_len + first;
            let out = &mut y[at..at + count];
            if count == 4 * BLOCK {
                _mm512_storeu_si512(out.as_mut_ptr().cast(), bytes);
            } else {
                let mut buffer = [0i8; 4 * BLOCK];
                _mm512_storeu_si512(buffer.as_mut_ptr().cast(), bytes);
                out.copy_from_slice(&buffer[..count]);
            }
        }
    }
}

/// The portable loop compiled for AVX2: the compiler widens the byte products to `vpmaddwd`.
///
/// # Safety
/// The CPU has AVX2; the slices hold the shapes' values.
#[target_feature(enable = "avx2")]
#[inline]
unsafe fn dense_avx2(w: &[i8], x: &[i8], y: &mut [i8], shape: (usize, usize, usize), r: &Requantisation<'_>) {
    portable::<BLOCK>(w, x, y, shape, r);
}
