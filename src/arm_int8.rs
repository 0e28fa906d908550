//! The `int8` fully connected product on the Cortex-M DSP extension (ARMv7E-M: Cortex-M4 and
//! M7): `smlad` adds two 16 × 16-bit products into a 32-bit sum in one instruction, where the
//! portable loop spends a load, a sign extension, a multiply-add and loop counting on each.
//! Compiled in by `cfg(arm_dsp)` (`build.rs`), so only for targets that have the instructions.
//!
//! The crate's only `unsafe` outside x86: `core::arch::arm::__smlad` and `__sxtab16` are
//! unstable (`stdarch_arm_dsp`), so the four instructions are inline assembly, which is
//! `unsafe` to write although these read and write nothing but registers.
//!
//! Exactness: the same `int32` sums as the portable loop, `Σ w · (x + 128)`, wrapping the same
//! way (`smlad` adds modulo 2^32 and only sets the sticky `Q` flag on overflow; a weight in
//! `[-128, 127]` and `x + 128` in `[0, 255]` each fit a signed 16-bit half), and the same
//! requantisation ([`Requantisation::output`]). Four bytes are read as one word and split into
//! two pairs of 16-bit halves, bytes 0 and 2 and bytes 1 and 3, the same split for weights and
//! inputs, so `smlad` multiplies matching halves (the order of CMSIS-NN's
//! `arm_nn_vec_mat_mult_t_s8`, which needs no reordering of the weights); `sxtab16` adds 128 to
//! each input half as it widens it.

#![allow(unsafe_code)]

use core::arch::asm;

use crate::quantised::Requantisation;

/// 128 in each 16-bit half: `x + 128` for the inputs, as the folded bias expects.
const INPUT_OFFSET: u32 = 0x0080_0080;

/// `offset` plus bytes 0 and 2 of `word`, each sign-extended into one 16-bit half.
#[inline(always)]
fn even_bytes_plus(offset: u32, word: u32) -> u32 {
    let halves: u32;
    // SAFETY: `sxtab16` reads two registers and writes one, touching no memory or flags; the
    // DSP extension it belongs to is what `cfg(arm_dsp)` stands for.
    unsafe {
        asm!("sxtab16 {0}, {1}, {2}", lateout(reg) halves, in(reg) offset, in(reg) word,
             options(pure, nomem, nostack, preserves_flags));
    }
    halves
}

/// `offset` plus bytes 1 and 3 of `word`, each sign-extended into one 16-bit half.
#[inline(always)]
fn odd_bytes_plus(offset: u32, word: u32) -> u32 {
    let halves: u32;
    // SAFETY: as in `even_bytes_plus`; the rotation is part of the instruction.
    unsafe {
        asm!("sxtab16 {0}, {1}, {2}, ror #8", lateout(reg) halves, in(reg) offset, in(reg) word,
             options(pure, nomem, nostack, preserves_flags));
    }
    halves
}

/// Bytes 0 and 2 of `word`, each sign-extended into one 16-bit half.
#[inline(always)]
fn even_bytes(word: u32) -> u32 {
    let halves: u32;
    // SAFETY: as in `even_bytes_plus`.
    unsafe {
        asm!("sxtb16 {0}, {1}", lateout(reg) halves, in(reg) word,
             options(pure, nomem, nostack, preserves_flags));
    }
    halves
}

/// Bytes 1 and 3 of `word`, each sign-extended into one 16-bit half.
#[inline(always)]
fn odd_bytes(word: u32) -> u32 {
    let halves: u32;
    // SAFETY: as in `even_bytes_plus`.
    unsafe {
        asm!("sxtb16 {0}, {1}, ror #8", lateout(reg) halves, in(reg) word,
             options(pure, nomem, nostack, preserves_flags));
    }
    halves
}

/// `sum` plus the products of the low halves and of the high halves of `a` and `b`, wrapping.
#[inline(always)]
fn dual_multiply_add(a: u32, b: u32, sum: i32) -> i32 {
    let result: i32;
    // SAFETY: `smlad` reads three registers and writes one, touching no memory; it may set the
    // sticky `Q` flag, so the flags are not declared preserved.
    unsafe {
        asm!("smlad {0}, {1}, {2}, {3}", lateout(reg) result, in(reg) a, in(reg) b, in(reg) sum,
             options(pure, nomem, nostack));
    }
    result
}

/// Bytes `at..at + 4` of `bytes` as one little-endian word (bytes 0 and 2 become the low
/// halves).
#[inline(always)]
fn word(bytes: &[i8], at: usize) -> u32 {
    let four: [i8; 4] = bytes[at..at + 4].try_into().unwrap_or_default();
    u32::from_le_bytes(four.map(|b| b as u8))
}

/// `Σ w · (x + 128)` for two rows of weights and one input column of the same length, four
/// inputs at a time: each input word is widened once for both rows.
#[inline(always)]
fn two_dot_products(first: &[i8], second: &[i8], column: &[i8]) -> (i32, i32) {
    let (mut a, mut b) = (0i32, 0i32);
    let words = column.len() / 4;
    for at in (0..words).map(|k| 4 * k) {
        let x = word(column, at);
        let (x_even, x_odd) = (even_bytes_plus(INPUT_OFFSET, x), odd_bytes_plus(INPUT_OFFSET, x));
        let (first, second) = (word(first, at), word(second, at));
        a = dual_multiply_add(even_bytes(first), x_even, a);
        a = dual_multiply_add(odd_bytes(first), x_odd, a);
        b = dual_multiply_add(even_bytes(second), x_even, b);
        b = dual_multiply_add(odd_bytes(second), x_odd, b);
    }
    for i in 4 * words..column.len() {
        let x = i32::from(column[i]) + 128;
        a = a.wrapping_add(i32::from(first[i]) * x);
        b = b.wrapping_add(i32::from(second[i]) * x);
    }
    (a, b)
}

/// `Y = requantise(W (X + 128))`: `W` is `o × i` row-major (the packed order with blocks of one
/// output, see [`Int8Dense`](crate::quantised::Int8Dense)), `X` is `b` columns of `i`, `Y` is
/// `b` columns of `o`.
///
/// The sums come two rows at a time (an odd last row is paired with itself) and are
/// requantised one output at a time, so that the requantisation is inlined once: its two
/// copies, one per row of a pair, made the iris firmware larger than in `f32`.
#[inline(always)]
pub(crate) fn dense(
    w: &[i8],
    x: &[i8],
    y: &mut [i8],
    (o_len, i_len, b_len): (usize, usize, usize),
    r: &Requantisation<'_>,
) {
    assert!(w.len() >= o_len * i_len && x.len() >= i_len * b_len && y.len() >= o_len * b_len);
    let row = |o: usize| &w[o * i_len..(o + 1) * i_len];
    for b in 0..b_len {
        let column = &x[b * i_len..(b + 1) * i_len];
        let mut second_sum = 0;
        for o in 0..o_len {
            let sum = if o % 2 == 0 {
                let next = if o + 1 < o_len { o + 1 } else { o };
                let (first_sum, next_sum) = two_dot_products(row(o), row(next), column);
                second_sum = next_sum;
                first_sum
            } else {
                second_sum
            };
            y[b * o_len + o] = r.output(o, sum);
        }
    }
}
