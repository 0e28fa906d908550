//! The `int8` fully connected product on x86-64 vector instructions, chosen at run time: AVX-512
//! VNNI (`vpdpbusd`, 64 multiply-adds of `u8 × i8` into `i32` per instruction) and the portable
//! loop compiled for AVX2. With `src/x86.rs`, the crate's only `unsafe` code, for
//! the same two reasons: intrinsics need their CPU feature, and loads and stores go through
//! pointers.
//!
//! Soundness rests on one invariant: the `unsafe fn`s compiled with `#[target_feature]` are
//! called only from [`dense`], after `is_x86_feature_detected!` reported their features (the
//! cached answer is only ever written from detection). Every load and store is of a whole
//! vector inside a slice whose length is asserted first, or masked to the slice's end.
//!
//! Exactness: both kernels compute the same `int32` sums as the portable loop, `Σ w · (x + 128)`
//! wrapping the same way, to which the layer's folded bias adds `bias − (128 + z) Σ w`
//! (see [`Int8Dense`](crate::quantised::Int8Dense)). VNNI multiplies unsigned by signed bytes, and
//! `x ^ 0x80` reads `x + 128` as `u8`. VNNI then requantises sixteen outputs per vector, lane
//! for lane the integers of the portable code ([`requantise`]).

#![allow(unsafe_code)]

use core::arch::x86_64::*;
use core::sync::atomic::{AtomicU8, Ordering};

use crate::quantised::{BLOCK, Int8Kernel, Requantisation, portable};

const UNKNOWN: u8 = 0;

/// Which kernels the CPU has: bit 0 AVX2, bit 1 AVX-512 VNNI (with F and BW); only written from
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

/// Runs `kernel` if it is a vector kernel the CPU has, and says whether it did.
pub(crate) fn dense<const O: usize, const I: usize, const B: usize>(
    kernel: Int8Kernel,
    w: &[i8],
    x: &[i8],
    y: &mut [i8],
    r: &Requantisation<'_>,
) -> bool {
    let shape = (O, I, B);
    let (o_len, i_len, b_len) = shape;
    assert!(w.len() >= o_len * i_len && x.len() >= i_len * b_len && y.len() >= o_len * b_len);
    assert!(r.folded_bias.len() >= o_len && r.multiplier.len() >= o_len && r.shift.len() >= o_len);
    if !has(kernel) {
        return false;
    }
    match kernel {
        Int8Kernel::Portable | Int8Kernel::ArmDsp => return false,
        // SAFETY: detection found AVX-512 F, BW and VNNI; the lengths are asserted above.
        Int8Kernel::Avx512Vnni => unsafe { dense_vnni::<O, I, B>(w, x, y, r) },
        // SAFETY: detection found AVX2; the lengths are asserted above.
        Int8Kernel::Avx2 => unsafe { dense_avx2(w, x, y, shape, r) },
    }
    true
}

/// The mask of the first `n` of 64 bytes.
#[inline(always)]
fn byte_mask(n: usize) -> u64 {
    if n >= 64 { u64::MAX } else { (1u64 << n) - 1 }
}

/// One block's requantisation parameters, one output per lane.
#[derive(Clone, Copy)]
struct Lanes {
    folded_bias: __m512i,
    multiplier: __m512i,
    left: __m512i,
    right: __m512i,
}

/// The parameters of outputs `block..block + rows` (`rows <= 16`); lanes past `rows` are 0.
///
/// # Safety
/// The CPU has AVX-512 F and BW; the slices of `r` hold at least `block + rows` values.
#[inline(always)]
unsafe fn lanes(r: &Requantisation<'_>, block: usize, rows: usize) -> Lanes {
    // SAFETY (whole body): masked loads read only the first `rows` values after `block`.
    unsafe {
        let mask = ((1u32 << rows) - 1) as __mmask16;
        let shift = _mm512_cvtepi8_epi32(_mm512_castsi512_si128(_mm512_maskz_loadu_epi8(
            u64::from(mask),
            r.shift[block..].as_ptr(),
        )));
        let (zero, limit) = (_mm512_setzero_si512(), _mm512_set1_epi32(31));
        Lanes {
            folded_bias: _mm512_maskz_loadu_epi32(mask, r.folded_bias[block..].as_ptr()),
            multiplier: _mm512_maskz_loadu_epi32(mask, r.multiplier[block..].as_ptr()),
            left: _mm512_min_epi32(_mm512_max_epi32(shift, zero), limit),
            right: _mm512_min_epi32(_mm512_max_epi32(_mm512_sub_epi32(zero, shift), zero), limit),
        }
    }
}

/// [`Requantisation::output`] on sixteen sums at once, lane for lane the same integers:
/// `SaturatingRoundingDoublingHighMul` as `(a · b + 2^30) >> 31` on 64-bit products (for a
/// negative product, C's truncating division of `a · b + 1 − 2^30` by 2^31 equals that floor),
/// its one overflow (`a = b = INT32_MIN`) patched; `RoundingDivideByPOT` with per-lane masks.
///
/// # Safety
/// The CPU has AVX-512F.
#[inline(always)]
unsafe fn requantise(sum: __m512i, p: &Lanes, r: &Requantisation<'_>) -> __m512i {
    // SAFETY (whole body): the caller guarantees AVX-512F; no memory is touched.
    unsafe {
        let x = _mm512_sllv_epi32(_mm512_add_epi32(sum, p.folded_bias), p.left);
        let nudge = _mm512_set1_epi64(1 << 30);
        let even = _mm512_srai_epi64::<31>(_mm512_add_epi64(_mm512_mul_epi32(x, p.multiplier), nudge));
        let odd = _mm512_mul_epi32(_mm512_srli_epi64::<32>(x), _mm512_srli_epi64::<32>(p.multiplier));
        let odd = _mm512_slli_epi64::<32>(_mm512_srai_epi64::<31>(_mm512_add_epi64(odd, nudge)));
        let high = _mm512_mask_blend_epi32(0xAAAA, even, odd);
        let min = _mm512_set1_epi32(i32::MIN);
        let overflow = _mm512_cmpeq_epi32_mask(x, min) & _mm512_cmpeq_epi32_mask(p.multiplier, min);
        let high = _mm512_mask_mov_epi32(high, overflow, _mm512_set1_epi32(i32::MAX));

        let one = _mm512_set1_epi32(1);
        let mask = _mm512_sub_epi32(_mm512_sllv_epi32(one, p.right), one);
        let remainder = _mm512_and_si512(high, mask);
        let threshold = _mm512_add_epi32(_mm512_srai_epi32::<1>(mask), _mm512_srli_epi32::<31>(high));
        let shifted = _mm512_srav_epi32(high, p.right);
        let scaled = _mm512_mask_add_epi32(shifted, _mm512_cmpgt_epi32_mask(remainder, threshold), shifted, one);

        let y = _mm512_add_epi32(scaled, _mm512_set1_epi32(r.output_zero_point));
        _mm512_max_epi32(_mm512_min_epi32(y, _mm512_set1_epi32(r.max)), _mm512_set1_epi32(r.min))
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
#[target_feature(enable = "avx512f,avx512bw,avx512vnni")]
unsafe fn dense_vnni<const O: usize, const I: usize, const B: usize>(
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
/// input read once for all of them: for each group of four inputs, one `vpdpbusd` per block of
/// the group (offset to `x + 128`, in every lane) by the block's four weights of each output
/// (side by side in the packed order), in [`CHAINS`] chains of sums per block; each block's
/// sixteen sums requantised together.
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
    // `g · 4 · rows`, the last inputs' `rows` bytes follow, and every load is masked to those
    // bytes (all 64 of a group in a block before the last, which is whole); every store is
    // masked to the block's `rows` outputs in `y`'s column `b`. An input group is read as one
    // unaligned `i32` at `4 · g` with `4 · g + 4 <= i_len`. Pointers are computed with
    // `wrapping_add`, and all accesses are inside the slices by the assertion in `dense`.
    unsafe {
        // Plain loops, not `array::from_fn`: its closures would not inherit the target features
        // and would not be inlined.
        let (mut start, mut rows) = ([0; Q], [0; Q]);
        let mut weights = [w.as_ptr(); Q];
        let (mut group_masks, mut lane_masks) = ([0u64; Q], [0 as __mmask16; Q]);
        let zero = _mm512_setzero_si512();
        let mut parameters = [Lanes {
            folded_bias: zero,
            multiplier: zero,
            left: zero,
            right: zero,
        }; Q];
        for q in 0..Q {
            start[q] = first + q * BLOCK;
            rows[q] = BLOCK.min(o_len - start[q]);
            weights[q] = w.as_ptr().wrapping_add(start[q] * i_len);
            group_masks[q] = byte_mask(4 * rows[q]);
            lane_masks[q] = ((1u32 << rows[q]) - 1) as __mmask16;
            parameters[q] = lanes(r, start[q], rows[q]);
        }
        for b in 0..b_len {
            let column = &x[b * i_len..(b + 1) * i_len];
            let four = |g: usize| {
                let bytes = column.as_ptr().wrapping_add(4 * g).cast::<i32>().read_unaligned();
                _mm512_set1_epi32(bytes ^ OFFSET)
            };
            // Four chains of sums per block, so that each `vpdpbusd` waits on one four groups
            // back: at batch 1 the layer is a chain of dependent steps.
            let mut acc = [[zero; Q]; CHAINS];
            let mut g = 0;
            while g + CHAINS <= groups {
                for (c, chain) in acc.iter_mut().enumerate() {
                    let xc = four(g + c);
                    for q in 0..Q {
                        let at = weights[q].wrapping_add((g + c) * 4 * rows[q]);
                        // Whole blocks' loads fold into `vpdpbusd`; only the last can be partial.
                        let wv = if q + 1 < Q {
                            _mm512_loadu_si512(at.cast())
                        } else {
                            _mm512_maskz_loadu_epi8(group_masks[q], at)
                        };
                        chain[q] = _mm512_dpbusd_epi32(chain[q], xc, wv);
                    }
                }
                g += CHAINS;
            }
            for (c, chain) in acc.iter_mut().enumerate().take(groups - g) {
                let xc = four(g + c);
                for q in 0..Q {
                    let at = weights[q].wrapping_add((g + c) * 4 * rows[q]);
                    chain[q] = _mm512_dpbusd_epi32(chain[q], xc, _mm512_maskz_loadu_epi8(group_masks[q], at));
                }
            }
            let mut sums = [zero; Q];
            for (q, sum) in sums.iter_mut().enumerate() {
                *sum = acc.iter().fold(zero, |total, chain| _mm512_add_epi32(total, chain[q]));
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
            for q in 0..Q {
                let out = y.as_mut_ptr().wrapping_add(b * o_len + start[q]);
                _mm512_mask_cvtepi32_storeu_epi8(out, lane_masks[q], requantise(sums[q], &parameters[q], r));
            }
        }
    }
}

/// The portable loop compiled for AVX2: the compiler widens the byte products to `vpmaddwd`.
///
/// # Safety
/// The CPU has AVX2; the slices hold the shapes' values.
#[target_feature(enable = "avx2")]
unsafe fn dense_avx2(w: &[i8], x: &[i8], y: &mut [i8], shape: (usize, usize, usize), r: &Requantisation<'_>) {
    portable::<BLOCK>(w, x, y, shape, r);
}
