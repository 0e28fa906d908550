//! The fully connected `int8` product with TFLite's requantisation, portable and on x86 vector
//! instructions chosen at run time. Every variant gives the same integers.

use super::arithmetic::multiply_by_quantized_multiplier;

/// Everything after the integer dot product: per output channel bias, multiplier and shift,
/// and the per tensor zero points and clamp.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Requantisation<'a> {
    pub(crate) bias: &'a [i32],
    pub(crate) multiplier: &'a [i32],
    pub(crate) shift: &'a [i8],
    pub(crate) input_zero_point: i32,
    pub(crate) output_zero_point: i32,
    pub(crate) min: i32,
    pub(crate) max: i32,
}

impl Requantisation<'_> {
    /// TFLite's `FullyConnectedPerChannel` after the sum: `acc += bias[o]`,
    /// `acc = MultiplyByQuantizedMultiplier(acc, multiplier[o], shift[o])`,
    /// `acc += output_offset`, clamp to the activation range.
    #[inline(always)]
    pub(crate) fn output(&self, o: usize, sum: i32) -> i8 {
        let scaled = multiply_by_quantized_multiplier(
            sum.wrapping_add(self.bias[o]),
            self.multiplier[o],
            i32::from(self.shift[o]),
        );
        scaled.wrapping_add(self.output_zero_point).clamp(self.min, self.max) as i8
    }
}

/// An implementation of the `int8` product. All give the same integers; the fastest the CPU
/// has runs by default.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Int8Kernel {
    /// Plain Rust, compiled for the target (and on x86-64 with `std` also inside functions
    /// compiled for AVX2 and AVX-512, where the compiler vectorises it).
    Portable,
    /// AVX2: `vpmaddwd` on inputs and weights widened to 16 bits (x86-64 with `std`).
    Avx2,
    /// AVX-512 VNNI: `vpdpbusd`, four byte products summed into each 32-bit lane (x86-64 with
    /// `std`).
    Avx512Vnni,
}

impl Int8Kernel {
    /// The kernels this CPU can run, slowest first.
    pub fn available() -> impl Iterator<Item = Int8Kernel> {
        [Int8Kernel::Portable, Int8Kernel::Avx2, Int8Kernel::Avx512Vnni]
            .into_iter()
            .filter(|k| k.is_available())
    }

    /// Whether this CPU can run the kernel.
    pub fn is_available(self) -> bool {
        #[cfg(all(feature = "std", target_arch = "x86_64"))]
        return crate::x86_int8::has(self);
        #[cfg(not(all(feature = "std", target_arch = "x86_64")))]
        return self == Int8Kernel::Portable;
    }

    /// The fastest kernel this CPU can run.
    pub fn best() -> Int8Kernel {
        Self::available().last().unwrap_or(Int8Kernel::Portable)
    }
}

/// `Y = requantise(W (X − zero point))` with `kernel`, or the portable code if the CPU lacks
/// it: `W` is `o × i` row-major (each output's weights contiguous), `X` is `b` columns of `i`,
/// `Y` is `b` columns of `o`.
#[inline]
pub(crate) fn dense(
    kernel: Int8Kernel,
    w: &[i8],
    x: &[i8],
    y: &mut [i8],
    shape: (usize, usize, usize),
    r: &Requantisation<'_>,
) {
    #[cfg(all(feature = "std", target_arch = "x86_64"))]
    if crate::x86_int8::dense(kernel, w, x, y, shape, r) {
        return;
    }
    let _ = kernel;
    crate::simd::widest(
        #[inline(always)]
        || portable(w, x, y, shape, r),
    );
}

/// One dot product per output, in `i32` (wrapping, as the hardware TFLite runs on), written as
/// a plain sum of products so that the compiler vectorises it (`pmaddwd`).
#[inline(always)]
pub(crate) fn portable(
    w: &[i8],
    x: &[i8],
    y: &mut [i8],
    (o_len, i_len, b_len): (usize, usize, usize),
    r: &Requantisation<'_>,
) {
    let zero_point = r.input_zero_point;
    for b in 0..b_len {
        let column = &x[b * i_len..(b + 1) * i_len];
        for o in 0..o_len {
            let row = &w[o * i_len..(o + 1) * i_len];
            let mut sum = 0i32;
            for (&w, &x) in row.iter().zip(column) {
                sum = sum.wrapping_add(i32::from(w) * (i32::from(x) - zero_point));
            }
            y[b * o_len + o] = r.output(o, sum);
        }
    }
}
