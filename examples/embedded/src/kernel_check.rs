//! Random `int8` layers and inputs, the same on every machine (a fixed xorshift sequence), run
//! by every `int8` kernel the machine has. The `int8_kernels` firmware runs them on the device,
//! where the Cortex-M4's `smlad` kernel meets the portable loop; `tests/embedded.rs` runs the
//! same cases on the host (where `tests/quantised_reference.rs` checks the portable loop
//! against the specification) and compares a hash of every output.

use static_nn::nalgebra::SMatrix;
use static_nn::quantised::{Int8Dense, Int8DenseParameters, Int8Kernel};

/// Marsaglia's xorshift32: the same numbers on every machine.
pub struct Bits(u32);

impl Bits {
    /// The sequence after `seed` (not 0).
    pub fn new(seed: u32) -> Self {
        Bits(seed)
    }

    /// The next 32 bits.
    pub fn word(&mut self) -> u32 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 17;
        self.0 ^= self.0 << 5;
        self.0
    }

    fn byte(&mut self) -> i8 {
        self.word() as i8
    }
}

/// The outcome of [`check`] for one shape.
pub struct Checked {
    /// Cases on which a kernel's output differed from the portable loop's.
    pub disagreements: u32,
    /// FNV-1a of the portable loop's outputs, every case in order.
    pub hash: u32,
}

/// A layer of case `case`: even cases as a quantiser makes them (multipliers in `[2^30, 2^31)`,
/// shifts from −20 to 1, biases up to ±2^29, the clamp in order), odd ones with any bits at
/// all (shifts beyond ±31, an eighth of the multipliers `INT32_MIN`, crossed clamps). Cases 2
/// and 3 of every four have all weights and inputs at one extreme each, for the largest sums.
fn layer<const I: usize, const O: usize>(bits: &mut Bits, case: u32) -> Int8Dense<I, O> {
    let extreme = case % 4 >= 2;
    let anything = case % 2 == 1;
    let (sign, edge) = (bits.word() & 1 == 0, bits.byte());
    let weight = core::array::from_fn(|_| {
        core::array::from_fn(|_| match (extreme, sign) {
            (true, true) => i8::MIN,
            (true, false) => i8::MAX,
            _ => bits.byte(),
        })
    });
    let bias = core::array::from_fn(|_| {
        if anything {
            bits.word() as i32
        } else {
            (bits.word() as i32) >> 2
        }
    });
    let multiplier = core::array::from_fn(|_| {
        if anything && bits.word().is_multiple_of(8) {
            i32::MIN
        } else if anything {
            bits.word() as i32
        } else {
            (bits.word() >> 1 | 1 << 30) as i32
        }
    });
    let shift = core::array::from_fn(|_| {
        if anything {
            bits.byte()
        } else {
            (bits.word() % 22) as i8 - 20
        }
    });
    let (a, b) = (bits.byte(), bits.byte());
    let (output_min, output_max) = if anything { (a, b) } else { (a.min(b), a.max(b)) };
    Int8Dense::new(Int8DenseParameters {
        weight,
        bias,
        multiplier,
        shift,
        input_zero_point: if extreme { edge } else { bits.byte() },
        output_zero_point: bits.byte(),
        output_min,
        output_max,
    })
}

/// `cases` random layers of shape `I → O` on batches of `B`, each run by every kernel
/// available here and compared with the portable loop.
pub fn check<const I: usize, const O: usize, const B: usize>(seed: u32, cases: u32) -> Checked {
    let mut bits = Bits::new(seed);
    let mut checked = Checked {
        disagreements: 0,
        hash: 0x811c_9dc5,
    };
    for case in 0..cases {
        let layer = layer::<I, O>(&mut bits, case);
        let x = if case % 4 >= 2 {
            SMatrix::<i8, I, B>::from_element(if bits.word() & 1 == 0 { i8::MIN } else { i8::MAX })
        } else {
            SMatrix::<i8, I, B>::from_fn(|_, _| bits.byte())
        };
        let expected = layer.forward_with(Int8Kernel::Portable, &x);
        if Int8Kernel::available().any(|kernel| layer.forward_with(kernel, &x) != expected) {
            checked.disagreements += 1;
        }
        for &y in expected.iter() {
            checked.hash = (checked.hash ^ u32::from(y as u8)).wrapping_mul(0x0100_0193);
        }
    }
    checked
}

/// [`check`] for one shape: `(seed, cases)` to the outcome.
pub type Check = fn(u32, u32) -> Checked;

/// The shapes checked, each as `(name, check)`: both networks' layers, every remainder of the
/// inputs by four, odd and even output counts, batches, and no inputs at all (each output is
/// its requantised bias).
pub const SHAPES: [(&str, Check); 9] = [
    ("4x16x1", check::<4, 16, 1>),
    ("16x3x1", check::<16, 3, 1>),
    ("64x10x1", check::<64, 10, 1>),
    ("64x64x1", check::<64, 64, 1>),
    ("23x37x3", check::<23, 37, 3>),
    ("5x3x2", check::<5, 3, 2>),
    ("1x1x1", check::<1, 1, 1>),
    ("30x2x4", check::<30, 2, 4>),
    ("0x3x2", check::<0, 3, 2>),
];

/// Cases per shape.
pub const CASES: u32 = 200;
