//! The `int8` fully connected product on x86-64 vector instructions, chosen at run time: AVX-512
//! VNNI (`vpdpbusd`, 64 multiply-adds of `u8 × i8` into `i32` per instruction) and AVX2
//! (`vpmaddwd` on sign-extended `i16`). With `src/x86.rs`, the crate's only `unsafe` code, for
//! the same two reasons: intrinsics need their CPU feature, and loads and stores go through
//! pointers.
//!
//! Soundness rests on one invariant: the `unsafe fn`s compiled with `#[target_feature]` are
//! called only from [`dense`], after `is_x86_feature_detected!` reported their features (the
//! cached answer is only ever written from detection). Every load and store is of a whole
//! vector inside a slice whose length is asserted first, or masked to the slice's end.
//!
//! Exactness: both kernels compute the same `int32` sums as the portable loop, wrapping the
//! same way. VNNI multiplies unsigned by signed bytes, so the input is offset by 128 (`x ^ 0x80`
//! reads `x + 128` as `u8`) and `(128 + zero point) · Σ w` is subtracted:
//! `Σ w (x − z) = Σ w (x + 128) − (128 + z) Σ w`, equal modulo 2^32. AVX2 subtracts the zero
//! point in `i16` (`x − z` is in `[-255, 255]`) and multiplies exactly. The requantisation after
//! the sums is the portable one, output by output.

#![allow(unsafe_code)]

use core::arch::x86_64::*;
use core::sync::atomic::{AtomicU8, Ordering};

use crate::quantised::{Int8Kernel, Requantisation};

/// Output rows per block: one AVX-512 vector of sums.
const ROWS: usize = 16;

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
pub(crate) fn has(kernel: Int8Kernel) -> bool {
    match kernel {
        Int8Kernel::Portable => true,
        Int8Kernel::Avx2 => found() & HAS_AVX2 != 0,
        Int8Kernel::Avx512Vnni => found() & HAS_VNNI != 0,
    }
}

/// Runs `kernel` if it is a vector kernel the CPU has, and says whether it did.
pub(crate) fn dense(
    kernel: Int8Kernel,
    w: &[i8],
    x: &[i8],
    y: &mut [i8],
    shape: (usize, usize, usize),
    r: &Requantisation<'_>,
) -> bool {
    let (o_len, i_len, b_len) = shape;
    assert!(w.len() >= o_len * i_len && x.len() >= i_len * b_len && y.len() >= o_len * b_len);
    assert!(r.bias.len() >= o_len && r.multiplier.len() >= o_len && r.shift.len() >= o_len);
    if !has(kernel) {
        return false;
    }
    match kernel {
        Int8Kernel::Portable => return false,
        // SAFETY: detection found AVX-512 F, BW and VNNI; the lengths are asserted above.
        Int8Kernel::Avx512Vnni => unsafe { dense_vnni(w, x, y, shape, r) },
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

/// Sixteen vectors of sixteen `i32` partial sums each, reduced to one vector whose lane `r` is
/// the total of vector `r`: pairwise 32- and 64-bit interleaves within 128-bit blocks, then
/// block shuffles across them.
///
/// # Safety
/// The CPU has AVX-512F.
#[inline(always)]
unsafe fn reduce16(v: &[__m512i; ROWS]) -> __m512i {
    // SAFETY (whole body): the caller guarantees AVX-512F; no memory is touched.
    unsafe {
        let mut pairs = [_mm512_setzero_si512(); 8];
        for (j, p) in pairs.iter_mut().enumerate() {
            let (a, b) = (v[2 * j], v[2 * j + 1]);
            *p = _mm512_add_epi32(_mm512_unpacklo_epi32(a, b), _mm512_unpackhi_epi32(a, b));
        }
        let mut quads = [_mm512_setzero_si512(); 4];
        for (k, q) in quads.iter_mut().enumerate() {
            let (a, b) = (pairs[2 * k], pairs[2 * k + 1]);
            *q = _mm512_add_epi32(_mm512_unpacklo_epi64(a, b), _mm512_unpackhi_epi64(a, b));
        }
        let halves = |a: __m512i, b: __m512i| {
            _mm512_add_epi32(
                _mm512_shuffle_i32x4::<0b10_00_10_00>(a, b),
                _mm512_shuffle_i32x4::<0b11_01_11_01>(a, b),
            )
        };
        let low = halves(quads[0], quads[1]);
        let high = halves(quads[2], quads[3]);
        halves(low, high)
    }
}

/// The VNNI product, sixteen outputs at a time; weights of a block are read once per sample
/// (they stay in L1), their sums once per call.
///
/// # Safety
/// The CPU has AVX-512 F, BW and VNNI; the slices hold the shapes' values.
#[target_feature(enable = "avx512f,avx512bw,avx512vnni")]
unsafe fn dense_vnni(
    w: &[i8],
    x: &[i8],
    y: &mut [i8],
    (o_len, i_len, b_len): (usize, usize, usize),
    r: &Requantisation<'_>,
) {
    // SAFETY (whole body): the features are this function's; every load is masked to the
    // bytes of a row or column that exist (`byte_mask` of what is left), and nothing is stored
    // through a pointer.
    unsafe {
        let offset = _mm512_set1_epi8(-128);
        let ones = _mm512_set1_epi8(1);
        let correction = 128 + r.input_zero_point;
        let mut sums = [0i32; ROWS];
        let mut weight_sums = [0i32; ROWS];
        for block in (0..o_len).step_by(ROWS) {
            let rows = ROWS.min(o_len - block);
            let mut acc = [_mm512_setzero_si512(); ROWS];
            for (row, a) in acc.iter_mut().enumerate().take(rows) {
                let weights = &w[(block + row) * i_len..(block + row + 1) * i_len];
                for k in (0..i_len).step_by(64) {
                    let wv = _mm512_maskz_loadu_epi8(byte_mask(i_len - k), weights[k..].as_ptr());
                    *a = _mm512_dpbusd_epi32(*a, ones, wv);
                }
            }
            _mm512_storeu_si512(weight_sums.as_mut_ptr().cast(), reduce16(&acc));
            for b in 0..b_len {
                let column = &x[b * i_len..(b + 1) * i_len];
                let mut acc = [_mm512_setzero_si512(); ROWS];
                for k in (0..i_len).step_by(64) {
                    let mask = byte_mask(i_len - k);
                    let xv = _mm512_xor_si512(_mm512_maskz_loadu_epi8(mask, column[k..].as_ptr()), offset);
                    for (row, a) in acc.iter_mut().enumerate().take(rows) {
                        let weights = &w[(block + row) * i_len + k..(block + row + 1) * i_len];
                        let wv = _mm512_maskz_loadu_epi8(mask, weights.as_ptr());
                        *a = _mm512_dpbusd_epi32(*a, xv, wv);
                    }
                }
                _mm512_storeu_si512(sums.as_mut_ptr().cast(), reduce16(&acc));
                let out = &mut y[b * o_len + block..b * o_len + block + rows];
                for (row, o) in out.iter_mut().enumerate() {
                    let sum = sums[row].wrapping_sub(correction.wrapping_mul(weight_sums[row]));
                    *o = r.output(block + row, sum);
                }
            }
        }
    }
}

/// The AVX2 product: eight outputs at a time, `x − z` and `w` widened to `i16`, `vpmaddwd`
/// into `i32`, a horizontal-add reduction.
///
/// # Safety
/// The CPU has AVX2; the slices hold the shapes' values.
#[target_feature(enable = "avx2")]
unsafe fn dense_avx2(
    w: &[i8],
    x: &[i8],
    y: &mut [i8],
    (o_len, i_len, b_len): (usize, usize, usize),
    r: &Requantisation<'_>,
) {
    const LANES: usize = 8;
    let body = i_len - i_len % 16;
    // SAFETY (whole body): the feature is this function's; each 16-byte load reads
    // `slice[k..k + 16]` with `k + 16 <= body <= len` (checked by the slicing), and the tail
    // is summed in scalar code.
    unsafe {
        let zero_point = _mm256_set1_epi16(r.input_zero_point as i16);
        let load16 = |s: &[i8]| _mm256_cvtepi8_epi16(_mm_loadu_si128(s[..16].as_ptr().cast()));
        let mut sums = [0i32; LANES];
        for b in 0..b_len {
            let column = &x[b * i_len..(b + 1) * i_len];
            for block in (0..o_len).step_by(LANES) {
                let rows = LANES.min(o_len - block);
                let mut acc = [_mm256_setzero_si256(); LANES];
                for k in (0..body).step_by(16) {
                    let xv = _mm256_sub_epi16(load16(&column[k..]), zero_point);
                    for (row, a) in acc.iter_mut().enumerate().take(rows) {
                        let wv = load16(&w[(block + row) * i_len + k..]);
                        *a = _mm256_add_epi32(*a, _mm256_madd_epi16(xv, wv));
                    }
                }
                let h01 = _mm256_hadd_epi32(acc[0], acc[1]);
                let h23 = _mm256_hadd_epi32(acc[2], acc[3]);
                let h45 = _mm256_hadd_epi32(acc[4], acc[5]);
                let h67 = _mm256_hadd_epi32(acc[6], acc[7]);
                let h0123 = _mm256_hadd_epi32(h01, h23);
                let h4567 = _mm256_hadd_epi32(h45, h67);
                let total = _mm256_add_epi32(
                    _mm256_permute2x128_si256::<0x20>(h0123, h4567),
                    _mm256_permute2x128_si256::<0x31>(h0123, h4567),
                );
                _mm256_storeu_si256(sums.as_mut_ptr().cast(), total);
                for row in 0..rows {
                    let weights = &w[(block + row) * i_len..(block + row + 1) * i_len];
                    let mut sum = sums[row];
                    for k in body..i_len {
                        sum = sum.wrapping_add(i32::from(weights[k]) * (i32::from(column[k]) - r.input_zero_point));
                    }
                    y[b * o_len + block + row] = r.output(block + row, sum);
                }
            }
        }
    }
}
