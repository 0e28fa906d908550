//! Ordered traversal of the tensors inside networks, gradients, optimizer states and batches.

use nalgebra::SMatrix;

use crate::Real;

/// Where a tensor sits in a network and what shape it has.
///
/// `layer` is the tensor's position in the flattened sequence of layers, counted the way
/// PyTorch's `nn.Sequential` counts (activations take a position too), so the tensor
/// `layer: 2, name: "weight"` is PyTorch's `2.weight`. `rows x cols` is the mathematical shape;
/// the data is stored column-major, as nalgebra stores it. `torch` says how PyTorch shapes the
/// same numbers (see [`TensorInfo::torch_dims`]).
///
/// ```
/// use static_nn::TensorInfo;
/// let bias = TensorInfo::vector("bias", 4);
/// assert_eq!(*bias.torch_dims(), [4]);
/// let conv = TensorInfo::kernel("weight", 8, 3, 5);
/// assert_eq!((conv.rows, conv.cols), (8, 15));
/// assert_eq!(*conv.torch_dims(), [8, 3, 5]);
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct TensorInfo {
    /// Position of the owning layer in the flattened sequence.
    pub layer: usize,
    /// The tensor's name within its layer, e.g. `"weight"`, `"bias"`.
    pub name: &'static str,
    /// Number of rows.
    pub rows: usize,
    /// Number of columns.
    pub cols: usize,
    /// How PyTorch shapes the tensor.
    pub torch: TorchShape,
}

/// How PyTorch shapes a tensor that this crate holds as a `rows × cols` matrix (the variants are
/// not called `Vector` and `Matrix` so that compiler messages keep printing nalgebra's `Matrix`
/// without its path). PyTorch's
/// row-major order over these dimensions is the row-major order of the `rows × cols` matrix in
/// every case, so converting is one transposition.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum TorchShape {
    /// `[rows]`, with `cols` 1: biases, a norm's scale and shift, running statistics.
    Rank1,
    /// `[rows, cols]`: linear and recurrent weights.
    Rank2,
    /// `[rows, cols / kernel, kernel]`: a convolution weight `(out, in, kernel)`.
    Kernel(usize),
}

/// A tensor's dimensions in PyTorch's order (at most three); dereferences to a slice.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct TorchDims {
    dims: [usize; 3],
    rank: usize,
}

impl core::ops::Deref for TorchDims {
    type Target = [usize];
    fn deref(&self) -> &[usize] {
        &self.dims[..self.rank]
    }
}

impl TensorInfo {
    /// A vector of `len` entries at layer position 0 (PyTorch shape `[len]`).
    pub const fn vector(name: &'static str, len: usize) -> Self {
        Self {
            layer: 0,
            name,
            rows: len,
            cols: 1,
            torch: TorchShape::Rank1,
        }
    }

    /// A `rows × cols` matrix at layer position 0 (PyTorch shape `[rows, cols]`).
    pub const fn matrix(name: &'static str, rows: usize, cols: usize) -> Self {
        Self {
            layer: 0,
            name,
            rows,
            cols,
            torch: TorchShape::Rank2,
        }
    }

    /// A convolution kernel at layer position 0, held as `out × (in · kernel)` with column
    /// `i · kernel + k` for input channel `i` and tap `k` (PyTorch shape `[out, in, kernel]`).
    pub const fn kernel(name: &'static str, out: usize, inputs: usize, kernel: usize) -> Self {
        Self {
            layer: 0,
            name,
            rows: out,
            cols: inputs * kernel,
            torch: TorchShape::Kernel(kernel),
        }
    }

    /// The tensor's shape in PyTorch, e.g. `[out, in]` for a linear weight and `[out]` for its
    /// bias, so that a `Dense<T, 1, O>` weight is `[O, 1]` as `nn.Linear(1, O)` has it.
    pub const fn torch_dims(&self) -> TorchDims {
        match self.torch {
            TorchShape::Rank1 => TorchDims {
                dims: [self.rows, 0, 0],
                rank: 1,
            },
            TorchShape::Rank2 => TorchDims {
                dims: [self.rows, self.cols, 0],
                rank: 2,
            },
            TorchShape::Kernel(kernel) => TorchDims {
                dims: [self.rows, self.cols / kernel, kernel],
                rank: 3,
            },
        }
    }

    /// Number of scalars in the tensor.
    pub const fn len(&self) -> usize {
        self.rows * self.cols
    }

    /// Whether the tensor holds no scalars.
    pub const fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The same tensor, with its layer position moved `offset` places along.
    pub const fn shifted(self, offset: usize) -> Self {
        Self {
            layer: self.layer + offset,
            ..self
        }
    }
}

/// A value made of a fixed, ordered list of tensors.
///
/// Networks, their gradients, optimizer states (copies of gradients) and batches all implement
/// it, and two values of the same type always yield tensors of the same lengths in the same
/// order. That is what lets an optimizer walk a network, its gradient and its own state in
/// lock-step with `zip`, without knowing which layers the network has.
///
/// ```
/// use static_nn::{Dense, Tensors};
/// let layer = Dense::<f64, 3, 2>::zeros();
/// let lengths: Vec<usize> = layer.tensors().map(|t| t.len()).collect();
/// assert_eq!(lengths, [6, 2]);
/// let names: Vec<&str> = Dense::<f64, 3, 2>::tensor_infos().map(|t| t.name).collect();
/// assert_eq!(names, ["weight", "bias"]);
/// ```
pub trait Tensors<T: Real> {
    /// Number of positions this value occupies in a flattened sequence of layers.
    const LAYERS: usize;

    /// The tensors' data, in order, each column-major.
    fn tensors(&self) -> impl Iterator<Item = &[T]>;

    /// The tensors' data, mutable, in the same order as [`Tensors::tensors`].
    fn tensors_mut(&mut self) -> impl Iterator<Item = &mut [T]>;

    /// Names, positions and shapes of the tensors, in the same order as [`Tensors::tensors`].
    fn tensor_infos() -> impl Iterator<Item = TensorInfo>;

    /// Total number of scalars.
    fn scalar_count() -> usize {
        Self::tensor_infos().map(|t| t.len()).sum()
    }

    /// Sets every scalar to zero.
    fn set_zero(&mut self) {
        for t in self.tensors_mut() {
            t.fill(T::zero());
        }
    }

    /// Multiplies every scalar by `factor`.
    fn scale(&mut self, factor: T) {
        for t in self.tensors_mut() {
            for v in t {
                *v *= factor;
            }
        }
    }

    /// Sum of the squares of every scalar (the squared L2 norm over all tensors).
    fn squared_norm(&self) -> T {
        let mut sum = T::zero();
        for t in self.tensors() {
            for &v in t {
                sum += v * v;
            }
        }
        sum
    }
}

impl<T: Real> Tensors<T> for () {
    const LAYERS: usize = 1;

    fn tensors(&self) -> impl Iterator<Item = &[T]> {
        core::iter::empty()
    }
    fn tensors_mut(&mut self) -> impl Iterator<Item = &mut [T]> {
        core::iter::empty()
    }
    fn tensor_infos() -> impl Iterator<Item = TensorInfo> {
        core::iter::empty()
    }
}

impl<T: Real, const R: usize, const C: usize> Tensors<T> for SMatrix<T, R, C> {
    const LAYERS: usize = 1;

    fn tensors(&self) -> impl Iterator<Item = &[T]> {
        core::iter::once(self.as_slice())
    }
    fn tensors_mut(&mut self) -> impl Iterator<Item = &mut [T]> {
        core::iter::once(self.as_mut_slice())
    }
    fn tensor_infos() -> impl Iterator<Item = TensorInfo> {
        core::iter::once(if C == 1 {
            TensorInfo::vector("tensor", R)
        } else {
            TensorInfo::matrix("tensor", R, C)
        })
    }
}

impl<T: Real, A: Tensors<T>, const N: usize> Tensors<T> for [A; N] {
    const LAYERS: usize = A::LAYERS * N;

    fn tensors(&self) -> impl Iterator<Item = &[T]> {
        self.iter().flat_map(|a| a.tensors())
    }
    fn tensors_mut(&mut self) -> impl Iterator<Item = &mut [T]> {
        self.iter_mut().flat_map(|a| a.tensors_mut())
    }
    fn tensor_infos() -> impl Iterator<Item = TensorInfo> {
        (0..N).flat_map(|i| A::tensor_infos().map(move |t| t.shifted(i * A::LAYERS)))
    }
}

/// A boxed value has the tensors of the value (a network, a gradient or an optimizer built by
/// `build_boxed` / `new_boxed`).
#[cfg(feature = "alloc")]
impl<T: Real, A: Tensors<T>> Tensors<T> for alloc::boxed::Box<A> {
    const LAYERS: usize = A::LAYERS;

    fn tensors(&self) -> impl Iterator<Item = &[T]> {
        (**self).tensors()
    }
    fn tensors_mut(&mut self) -> impl Iterator<Item = &mut [T]> {
        (**self).tensors_mut()
    }
    fn tensor_infos() -> impl Iterator<Item = TensorInfo> {
        A::tensor_infos()
    }
}

/// Implements `Tensors` for tuples by chaining the elements' tensors and shifting each element's
/// layer positions past the ones before it.
macro_rules! tuple_tensors {
    ($($A:ident $i:tt),+) => {
        impl<T: Real, $($A: Tensors<T>),+> Tensors<T> for ($($A,)+) {
            const LAYERS: usize = 0 $(+ $A::LAYERS)+;

            fn tensors(&self) -> impl Iterator<Item = &[T]> {
                core::iter::empty() $(.chain(self.$i.tensors()))+
            }
            fn tensors_mut(&mut self) -> impl Iterator<Item = &mut [T]> {
                core::iter::empty() $(.chain(self.$i.tensors_mut()))+
            }
            // The running offset is written once more after the last element.
            #[allow(unused_assignments)]
            fn tensor_infos() -> impl Iterator<Item = TensorInfo> {
                let mut offset = 0;
                core::iter::empty() $(.chain({
                    let start = offset;
                    offset += $A::LAYERS;
                    $A::tensor_infos().map(move |t| t.shifted(start))
                }))+
            }
        }
    };
}

tuple_tensors!(A 0);
tuple_tensors!(A 0, B 1);
tuple_tensors!(A 0, B 1, C 2);
tuple_tensors!(A 0, B 1, C 2, D 3);
tuple_tensors!(A 0, B 1, C 2, D 3, E 4);
tuple_tensors!(A 0, B 1, C 2, D 3, E 4, F 5);
tuple_tensors!(A 0, B 1, C 2, D 3, E 4, F 5, G 6);
tuple_tensors!(A 0, B 1, C 2, D 3, E 4, F 5, G 6, H 7);

#[cfg(test)]
mod tests {
    use super::*;
    use nalgebra::{Matrix2, Vector3};

    #[test]
    fn tuples_chain_tensors_and_shift_layers() {
        type Pair = (Matrix2<f64>, ((), Vector3<f64>));
        let infos: Vec<TensorInfo> = Pair::tensor_infos().collect();
        assert_eq!(infos.len(), 2);
        assert_eq!((infos[0].layer, infos[0].rows, infos[0].cols), (0, 2, 2));
        assert_eq!((infos[1].layer, infos[1].rows, infos[1].cols), (2, 3, 1));
        assert_eq!(<Pair as Tensors<f64>>::LAYERS, 3);
        assert_eq!(Pair::scalar_count(), 7);
    }

    #[test]
    fn arrays_repeat_their_element() {
        let mut a = [Vector3::new(1.0, 2.0, 3.0); 2];
        assert_eq!(a.squared_norm(), 28.0);
        a.scale(2.0);
        assert_eq!(a[1], Vector3::new(2.0, 4.0, 6.0));
        let layers: Vec<usize> = <[Vector3<f64>; 2]>::tensor_infos().map(|t| t.layer).collect();
        assert_eq!(layers, [0, 1]);
        a.set_zero();
        assert_eq!(a.squared_norm(), 0.0);
    }
}
