//! The fully connected `int8` product with TFLite's requantisation, portable, on x86 vector
//! instructions chosen at run time and on the Cortex-M DSP extension where the target has it.
//! Every variant gives the same integers.

use super::Int8Context;
use super::arithmetic::multiply_by_quantized_multiplier;

/// Everything after the integer dot product `Σ w · (x + 128)`: per output channel bias (with the
/// input zero point folded in, see [`Int8Dense`](super::Int8Dense)), multiplier and shift, and
/// the per tensor output zero point and clamp.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Requantisation<'a> {
    pub(crate) folded_bias: &'a [i32],
    pub(crate) multiplier: &'a [i32],
    pub(crate) shift: &'a [i8],
    pub(crate) output_zero_point: i32,
    pub(crate) min: i32,
    pub(crate) max: i32,
    /// The multipliers and shifts as the VNNI kernel reads them.
    #[cfg(all(feature = "std", target_arch = "x86_64"))]
    pub(crate) constants: crate::x86_int8::ConstantSlices<'a>,
}

impl Requantisation<'_> {
    /// TFLite's `FullyConnectedPerChannel` after the sum: `acc += bias[o]`,
    /// `acc = MultiplyByQuantizedMultiplier(acc, multiplier[o], shift[o])`,
    /// `acc += output_offset`, clamp to the activation range (the lower bound wins if a
    /// hand-written layer has them crossed, as in the vector kernels).
    #[inline(always)]
    pub(crate) fn output(&self, o: usize, sum: i32) -> i8 {
        let scaled = multiply_by_quantized_multiplier(
            sum.wrapping_add(self.folded_bias[o]),
            self.multiplier[o],
            i32::from(self.shift[o]),
        );
        scaled.wrapping_add(self.output_zero_point).min(self.max).max(self.min) as i8
    }
}

/// An implementation of the `int8` product. All give the same integers; the fastest the CPU
/// has runs by default.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Int8Kernel {
    /// Plain Rust, compiled for the target (and on x86-64 with `std` also inside functions
    /// compiled for AVX2 and AVX-512, where the compiler vectorises it).
    Portable,
    /// The portable code compiled for AVX2, where the compiler widens the products to 16 and
    /// 32 bits (x86-64 with `std`).
    Avx2,
    /// AVX-512 VNNI: `vpdpbusd`, four byte products summed into each 32-bit lane (x86-64 with
    /// `std`).
    Avx512Vnni,
    /// The Cortex-M DSP extension: `smlad`, two 16-bit products summed into a 32-bit sum, on
    /// inputs and weights widened two bytes at a time (targets built for ARMv7E-M, such as
    /// `thumbv7em-none-eabihf`: Cortex-M4 and M7).
    ArmDsp,
}

impl Int8Kernel {
    /// The kernels this CPU can run, slowest first.
    pub fn available() -> impl Iterator<Item = Int8Kernel> {
        [
            Int8Kernel::Portable,
            Int8Kernel::Avx2,
            Int8Kernel::Avx512Vnni,
            Int8Kernel::ArmDsp,
        ]
        .into_iter()
        .filter(|k| k.is_available())
    }

    /// Whether this CPU can run the kernel.
    #[inline]
    pub fn is_available(self) -> bool {
        if self == Int8Kernel::ArmDsp {
            return cfg!(arm_dsp);
        }
        #[cfg(all(feature = "std", target_arch = "x86_64"))]
        return crate::x86_int8::has(self);
        #[cfg(not(all(feature = "std", target_arch = "x86_64")))]
        return self == Int8Kernel::Portable;
    }

    /// The fastest kernel this CPU can run.
    #[inline]
    pub fn best() -> Int8Kernel {
        if Int8Kernel::ArmDsp.is_available() {
            Int8Kernel::ArmDsp
        } else if Int8Kernel::Avx512Vnni.is_available() {
            Int8Kernel::Avx512Vnni
        } else if Int8Kernel::Avx2.is_available() {
            Int8Kernel::Avx2
        } else {
            Int8Kernel::Portable
        }
    }
}

/// Outputs per block of the packed weights (see [`Int8Dense`](super::Int8Dense)): one
/// AVX-512 vector of `int32` sums where the x86 kernels run; elsewhere 1, which makes the
/// packed order TFLite's row-major order and the portable loop one dot product per output
/// (smaller and faster on a microcontroller than sixteen sums in memory), the order the
/// Cortex-M DSP kernel reads too.
pub(crate) const BLOCK: usize = if cfg!(all(feature = "std", target_arch = "x86_64")) {
    16
} else {
    1
};

/// `Y = requantise(W (X + 128))` with the kernel of `context`: `W` is `o × i` in the packed
/// order of [`Int8Dense`](super::Int8Dense), `X` is `b` columns of `i`, `Y` is `b` columns of
/// `o`.
#[inline(always)]
pub(crate) fn dense<const O: usize, const I: usize, const B: usize>(
    context: Int8Context,
    w: &[i8],
    x: &[i8],
    y: &mut [i8],
    r: &Requantisation<'_>,
) {
    let shape = (O, I, B);
    #[cfg(all(feature = "std", target_arch = "x86_64"))]
    if crate::x86_int8::dense::<O, I, B>(context, w, x, y, r) {
        return;
    }
    #[cfg(arm_dsp)]
    if context.kernel() == Int8Kernel::ArmDsp {
        crate::arm_int8::dense(w, x, y, shape, r);
        return;
    }
    let _ = context;
    crate::simd::widest(
        #[inline(always)]
        || portable::<BLOCK>(w, x, y, shape, r),
    );
}

/// `BLOCK` dot products at a time over weights packed in blocks of `BLOCK` outputs, with the
/// input read as `x + 128`, in `i32` (wrapping, as the hardware TFLite runs on), written as
/// plain sums of products so that the compiler vectorises them.
#[inline(always)]
pub(crate) fn portable<const BLOCK: usize>(
    w: &[i8],
    x: &[i8],
    y: &mut [i8],
    (o_len, i_len, b_len): (usize, usize, usize),
    r: &Requantisation<'_>,
) {
    if BLOCK == 1 {
        // The row-major order: one dot product per output, the least code.
        for b in 0..b_len {
            let column = &x[b * i_len..(b + 1) * i_len];
            for o in 0..o_len {
                let row = &w[o * i_len..(o + 1) * i_len];
                let mut sum = 0i32;
                for (&w, &x) in row.iter().zip(column) {
                    sum = sum.wrapping_add(i32::from(w) * (i32::from(x) + 128));
                }
                y[b * o_len + o] = r.output(o, sum);
            }
        }
        return;
    }
    let groups = i_len / 4;
    for block in (0..o_len).step_by(BLOCK) {
        let rows = BLOCK.min(o_len - block);
        let (body, rest) = w[block * i_len..(block + rows) * i_len].split_at(groups * 4 * rows);
        for b in 0..b_len {
            let column = &x[b * i_len..(b + 1) * i_len];
            let mut sums = [0i32; BLOCK];
            for (weights, inputs) in body.chunks_exact(4 * rows).zip(column.chunks_exact(4)) {
                for (sum, lane) in sums.iter_mut().zip(weights.chunks_exact(4)) {
                    for (&w, &x) in lane.iter().zip(inputs) {
                        *sum = sum.wrapping_add(i32::from(w) * (i32::from(x) + 128));
                    }
                }
            }
            for (weights, &x) in rest.chunks_exact(rows).zip(&column[4 * groups..]) {
                for (sum, &w) in sums.iter_mut().zip(weights) {
                    *sum = sum.wrapping_add(i32::from(w) * (i32::from(x) + 128));
                }
            }
            for (lane, &sum) in sums.iter().enumerate().take(rows) {
                y[b * o_len + block + lane] = r.output(block + lane, sum);
            }
        }
    }
}
