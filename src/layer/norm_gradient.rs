//! The gradient type shared by the normalisation layers.

use nalgebra::SVector;

use crate::{Real, TensorInfo, Tensors};

/// The per-feature scale γ (`weight`) and shift β (`bias`) of a normalisation layer
/// ([`BatchNorm`](crate::BatchNorm), [`LayerNorm`](crate::LayerNorm)), as a gradient or as an
/// optimizer's state.
///
/// It holds exactly the layer's trainable tensors, with the same names, so an optimizer's state
/// carries no copy of a layer's buffers or hyperparameters.
#[derive(Clone, Debug, PartialEq, bytemuck::Zeroable)]
#[zeroable(bound = "T: Real")]
pub struct NormGradient<T, const F: usize> {
    /// With respect to γ, length `F`.
    pub weight: SVector<T, F>,
    /// With respect to β, length `F`.
    pub bias: SVector<T, F>,
}

impl<T: Real, const F: usize> Tensors<T> for NormGradient<T, F> {
    const LAYERS: usize = 1;

    fn tensors(&self) -> impl Iterator<Item = &[T]> {
        [self.weight.as_slice(), self.bias.as_slice()].into_iter()
    }
    fn tensors_mut(&mut self) -> impl Iterator<Item = &mut [T]> {
        [self.weight.as_mut_slice(), self.bias.as_mut_slice()].into_iter()
    }
    fn tensor_infos() -> impl Iterator<Item = TensorInfo> {
        scale_and_shift_infos(F)
    }
}

/// The infos of the `weight` and `bias` vectors of a normalisation layer over `features`.
pub(crate) fn scale_and_shift_infos(features: usize) -> impl Iterator<Item = TensorInfo> {
    ["weight", "bias"]
        .into_iter()
        .map(move |name| TensorInfo::vector(name, features))
}
