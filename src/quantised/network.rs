//! A quantised network with the encodings of its input and output.

use nalgebra::SMatrix;

use super::{Affine, Int8Context, Int8Layer};
#[cfg(feature = "alloc")]
use super::{Quantise, QuantiseContext, QuantiseError, Ranges, WeightRanges};
use crate::Real;

/// An `int8` network `N` for `I` real inputs, with the encoding of its input (applied by
/// [`quantise_input`](Self::quantise_input)) and of its output (undone by
/// [`predict`](Self::predict)).
///
/// ```
/// use static_nn::quantised::{Int8Network, Ranges};
/// use static_nn::{Dense, Init, Parameters, Relu, Rng};
///
/// type Net = (Dense<f32, 2, 8>, Relu, Dense<f32, 8, 3>);
/// let net = Net::build(Init::PyTorch, &mut Rng::new(1));
/// let calibration: Vec<[f32; 2]> = (0..50).map(|i| [i as f32 / 25.0 - 1.0, 1.0 - i as f32 / 50.0]).collect();
/// let int8 = Int8Network::quantise(&net, &calibration, Ranges::MinMax).unwrap();
///
/// let real = static_nn::Predict::predict(&net, &[0.5, -0.25]);
/// let approximate = int8.predict(&[0.5_f32, -0.25]);
/// for (r, a) in real.iter().zip(&approximate) {
///     assert!((r - a).abs() < 0.05, "{real:?} vs {approximate:?}");
/// }
/// ```
#[derive(Clone, Debug, PartialEq, bytemuck::Zeroable)]
pub struct Int8Network<N, const I: usize> {
    /// The encoding of the real input.
    pub input: Affine,
    /// The `int8` layers.
    pub network: N,
    /// The encoding of the last layer's output.
    pub output: Affine,
}

/// `::static_nn::quantised::Int8Network { input, network, output }`: a quantised network
/// compiled into a program, written out by [`AsConst`](crate::AsConst).
impl<N: crate::ConstExpr, const I: usize> crate::ConstExpr for Int8Network<N, I> {
    fn fmt_const(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.write_str("::static_nn::quantised::Int8Network { input: ")?;
        self.input.fmt_const(f)?;
        f.write_str(", network: ")?;
        self.network.fmt_const(f)?;
        f.write_str(", output: ")?;
        self.output.fmt_const(f)?;
        f.write_str(" }")
    }
}

impl<N, const I: usize> Int8Network<N, I> {
    /// Post-training quantisation of `net`, with activation ranges from its values on
    /// `calibration` (a representative subset of the training inputs) under `ranges`.
    ///
    /// # Errors
    /// No calibration samples, a non-finite input, weight or intermediate value, or a
    /// percentile outside `(50, 100]`.
    #[cfg(feature = "alloc")]
    pub fn quantise<T: Real, F>(net: &F, calibration: &[[T; I]], ranges: Ranges) -> Result<Self, QuantiseError>
    where
        F: Quantise<T, SMatrix<T, I, 1>, Int8 = N>,
    {
        Self::quantise_with(net, calibration, ranges, WeightRanges::MaxAbs)
    }

    /// [`quantise`](Self::quantise) with each output channel's weight scale chosen by
    /// `weights` instead of the largest weight.
    ///
    /// # Errors
    /// As [`quantise`](Self::quantise).
    #[cfg(feature = "alloc")]
    pub fn quantise_with<T: Real, F>(
        net: &F,
        calibration: &[[T; I]],
        ranges: Ranges,
        weights: WeightRanges,
    ) -> Result<Self, QuantiseError>
    where
        F: Quantise<T, SMatrix<T, I, 1>, Int8 = N>,
    {
        let inputs: alloc::vec::Vec<SMatrix<T, I, 1>> =
            calibration.iter().map(|x| SMatrix::from_column_slice(x)).collect();
        let mut values = super::ranges::values_of::<T, _>(&inputs);
        let (min, max) = ranges.range(&mut values)?;
        let input = Affine::from_range(min, max);
        let converted = net.quantise(
            &inputs,
            QuantiseContext {
                input,
                ranges,
                weights,
                clamp: None,
            },
        )?;
        Ok(Self {
            input,
            network: converted.layer,
            output: converted.output,
        })
    }

    /// The sample encoded as the network's input.
    pub fn quantise_input<T: Real>(&self, x: &[T; I]) -> SMatrix<i8, I, 1> {
        SMatrix::from_fn(|i, _| self.input.quantise(x[i].to_f64() as f32))
    }

    /// A batch of samples (columns) encoded as the network's input.
    pub fn quantise_inputs<T: Real, const B: usize>(&self, x: &SMatrix<T, I, B>) -> SMatrix<i8, I, B> {
        Int8Context::best().run(
            #[inline(always)]
            |context| self.encode(context, x),
        )
    }

    /// [`Affine::quantise`] of every value: `f32` samples with the AVX-512 encoding where the
    /// context's kernel is VNNI (the same integers, see `x86_int8::encode`), otherwise a loop
    /// the compiler vectorises for the instruction set of the function it is inlined into.
    #[inline(always)]
    fn encode<T: Real, const B: usize>(&self, context: Int8Context, x: &SMatrix<T, I, B>) -> SMatrix<i8, I, B> {
        let mut y = SMatrix::<i8, I, B>::zeros();
        #[cfg(all(feature = "std", target_arch = "x86_64"))]
        if let Some(values) = T::as_f32_slice(x.as_slice())
            && crate::x86_int8::encode(context, values, self.input, y.as_mut_slice())
        {
            return y;
        }
        let _ = context;
        for (q, &v) in y.as_mut_slice().iter_mut().zip(x.as_slice()) {
            *q = self.input.quantise(v.to_f64() as f32);
        }
        y
    }

    /// The `int8` output for a batch of encoded inputs.
    #[inline]
    pub fn forward<const B: usize>(&self, x: &SMatrix<i8, I, B>) -> N::Output
    where
        N: Int8Layer<SMatrix<i8, I, B>>,
    {
        self.network.forward(x)
    }

    /// The `int8` output for a batch of real samples (columns): [`quantise_inputs`](Self::quantise_inputs)
    /// then [`forward`](Self::forward), as one pass compiled for the CPU's kernel.
    #[inline]
    pub fn forward_real<T: Real, const B: usize>(&self, x: &SMatrix<T, I, B>) -> N::Output
    where
        N: Int8Layer<SMatrix<i8, I, B>>,
    {
        Int8Context::best().run(
            #[inline(always)]
            |context| self.network.forward_in(context, &self.encode(context, x)),
        )
    }

    /// The `int8` output for one real sample, encoded and run in one pass.
    #[inline]
    fn forward_sample<T: Real>(&self, x: &[T; I]) -> N::Output
    where
        N: Int8Layer<SMatrix<i8, I, 1>>,
    {
        Int8Context::best().run(
            #[inline(always)]
            |context| self.network.forward_in(context, &self.quantise_input(x)),
        )
    }

    /// The real output for one sample: encode, run in `int8`, decode.
    pub fn predict<T: Real, const K: usize>(&self, x: &[T; I]) -> [f32; K]
    where
        N: Int8Layer<SMatrix<i8, I, 1>, Output = SMatrix<i8, K, 1>>,
    {
        let y = self.forward_sample(x);
        core::array::from_fn(|k| self.output.dequantise(y[k]))
    }

    /// The class with the largest output for one sample (the first of equals), read off the
    /// integers: decoding is increasing, so it cannot change the order.
    pub fn classify<T: Real, const K: usize>(&self, x: &[T; I]) -> usize
    where
        N: Int8Layer<SMatrix<i8, I, 1>, Output = SMatrix<i8, K, 1>>,
    {
        let y = self.forward_sample(x);
        let mut best = 0;
        for k in 1..K {
            if y[k] > y[best] {
                best = k;
            }
        }
        best
    }
}
