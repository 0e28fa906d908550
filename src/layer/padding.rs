//! Zero padding of a convolution's input sequence.

use core::fmt::Debug;

/// How many zero steps a [`Conv1d`](crate::Conv1d) adds before and after its input, as a type:
/// [`Valid`] (none), [`Zeros<N>`] (`N` each side), [`Same`] and [`Causal`].
///
/// Sealed: the convolution's length check and its streaming support rely on knowing every mode.
pub trait Padding: Copy + Clone + Debug + Default + PartialEq + Eq + Send + Sync + 'static + sealed::Sealed {
    /// The mode, from which [`PaddingMode::amounts`] computes the zeros on each side.
    const MODE: PaddingMode;
}

/// The padding modes, as values (see [`Padding`]).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum PaddingMode {
    /// The same number of zeros before and after.
    Zeros(usize),
    /// PyTorch's `padding='same'`: `reach / 2` before, the rest after.
    Same,
    /// All `reach` zeros before, none after.
    Causal,
}

impl PaddingMode {
    /// The zeros `(before, after)` for a kernel whose taps reach `reach = dilation · (K − 1)`
    /// steps beyond the first.
    ///
    /// ```
    /// use static_nn::PaddingMode;
    /// assert_eq!(PaddingMode::Same.amounts(3), (1, 2)); // PyTorch pads even kernels this way
    /// assert_eq!(PaddingMode::Causal.amounts(4), (4, 0));
    /// assert_eq!(PaddingMode::Zeros(2).amounts(4), (2, 2));
    /// ```
    pub const fn amounts(self, reach: usize) -> (usize, usize) {
        match self {
            PaddingMode::Zeros(n) => (n, n),
            PaddingMode::Same => (reach / 2, reach - reach / 2),
            PaddingMode::Causal => (reach, 0),
        }
    }
}

/// No padding (PyTorch's `padding=0` or `'valid'`): the output is shorter than the input by
/// the kernel's reach.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, bytemuck::Zeroable)]
pub struct Valid;

/// `N` zeros before and after the input (PyTorch's `padding=N`).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, bytemuck::Zeroable)]
pub struct Zeros<const N: usize>;

/// PyTorch's `padding='same'`: output as long as the input (stride 1 only, as in PyTorch);
/// for an odd reach the extra zero goes after the input.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, bytemuck::Zeroable)]
pub struct Same;

/// All zeros before the input, so that output step `t` sees only input steps `≤ t` (a causal,
/// or "temporal", convolution; PyTorch: `F.pad(x, (reach, 0))` then a valid convolution). With
/// stride 1 it [streams](crate::Stream) an output for every input frame.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, bytemuck::Zeroable)]
pub struct Causal;

impl Padding for Valid {
    const MODE: PaddingMode = PaddingMode::Zeros(0);
}
impl<const N: usize> Padding for Zeros<N> {
    const MODE: PaddingMode = PaddingMode::Zeros(N);
}
impl Padding for Same {
    const MODE: PaddingMode = PaddingMode::Same;
}
impl Padding for Causal {
    const MODE: PaddingMode = PaddingMode::Causal;
}

mod sealed {
    pub trait Sealed {}
    impl Sealed for super::Valid {}
    impl<const N: usize> Sealed for super::Zeros<N> {}
    impl Sealed for super::Same {}
    impl Sealed for super::Causal {}
}
