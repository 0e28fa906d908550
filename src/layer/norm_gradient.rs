//! The affine pair (γ `weight`, β `bias`) shared by the normalisation layers: their gradient type,
//! and the one field list that gives both layers their traversal and initialisation.

use nalgebra::SVector;

use crate::Real;

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

super::fields::tensor_fields!([T: Real, const F: usize] NormGradient<T, F>; {
    weight: crate::TensorInfo::vector("weight", F),
    bias: crate::TensorInfo::vector("bias", F),
});

/// Implements `Tensors` and `Parameters` for a normalisation layer `$name<T, F>` whose
/// trainable tensors are the affine pair (γ `weight`, initially 1; β `bias`, initially 0) with
/// [`NormGradient`] as gradient; buffers and other `Parameters` items follow as in
/// `parameter_fields!`.
macro_rules! affine_norm {
    ($name:ident; $(buffers $buffers:tt)? { $($item:item)* }) => {
        $crate::layer::fields::parameter_fields! {
            [T: $crate::Real, const F: usize] $name<T, F>;
            reset(_init);
            tensors {
                weight: $crate::TensorInfo::vector("weight", F) => value(T::one()),
                bias: $crate::TensorInfo::vector("bias", F) => value(T::zero()),
            }
            $(buffers $buffers)?
            {
                type Gradient = $crate::layer::norm_gradient::NormGradient<T, F>;
                $($item)*
            }
        }
    };
}
pub(crate) use affine_norm;
