//! Strides as types, for what a convolution can do depending on its stride.

/// The stride `S` of a [`Conv1d`](crate::Conv1d) as a type, so that an implementation can
/// depend on it through [`Subsampling`].
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Stride<const S: usize>;

/// The strides above 1 (up to 64): a [`Causal`](crate::Causal) convolution with such a stride
/// emits an output every `S` frames, so it streams `Option` frames, while one with stride 1
/// streams plain frames, an output for every input.
///
/// Stable Rust cannot bound a const parameter (`S > 1`) in an implementation, hence the list. A
/// causal convolution with stride 1 that also streamed `Option` frames would leave
/// `Net::stream_state()` ambiguous (which frames?), so the bound keeps it out.
///
/// ```
/// use static_nn::{Causal, Conv1d, Init, Layer, Parameters, Rng, Stream};
/// use static_nn::nalgebra::SMatrix;
///
/// // Kernel 3, stride 4, causal: length 12 -> 3 outputs, at input frames 1, 5 and 9.
/// type Net = Conv1d<f64, 1, 2, 3, 12, 3, 4, Causal>;
/// let conv = Net::build(Init::PyTorch, &mut Rng::new(0));
/// let x: [SMatrix<f64, 1, 1>; 12] = core::array::from_fn(|t| SMatrix::from_element(t as f64));
/// let mut state = Net::stream_state();
/// let streamed: Vec<_> = x.iter().filter_map(|frame| conv.step(&Some(*frame), &mut state)).collect();
/// assert_eq!(streamed, conv.forward(&x));
/// ```
#[diagnostic::on_unimplemented(
    message = "a causal convolution with `{Self}` does not stream `Option` frames",
    note = "with stride 1 it streams plain frames (`SMatrix<T, channels, B>`), an output for every input; strides 2 to 64 stream `Option` frames"
)]
pub trait Subsampling: sealed::Sealed {}

macro_rules! subsampling {
    ($($s:literal)+) => {$(
        impl sealed::Sealed for Stride<$s> {}
        impl Subsampling for Stride<$s> {}
    )+};
}

subsampling!(
    2 3 4 5 6 7 8 9 10 11 12 13 14 15 16 17 18 19 20 21 22 23 24 25 26 27 28 29 30 31 32 33
    34 35 36 37 38 39 40 41 42 43 44 45 46 47 48 49 50 51 52 53 54 55 56 57 58 59 60 61 62 63 64
);

mod sealed {
    pub trait Sealed {}
}
