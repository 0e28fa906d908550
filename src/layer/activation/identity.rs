use crate::{Activation, Real};

/// `f(z) = z`: a placeholder layer, e.g. for a linear output.
///
/// ```
/// use static_nn::{Identity, Layer};
/// use static_nn::nalgebra::Vector2;
/// assert_eq!(Identity.forward(&Vector2::new(1.0_f32, -2.0)), Vector2::new(1.0, -2.0));
/// ```
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, bytemuck::Zeroable)]
pub struct Identity;

impl<T: Real> Activation<T> for Identity {
    #[inline]
    fn value(&self, z: T) -> T {
        z
    }
    #[inline]
    fn derivative(&self, _z: T, _y: T) -> T {
        T::one()
    }
}

crate::elementwise_layer!(Identity);
crate::const_expr::const_path!(Identity, "::static_nn::Identity");

#[cfg(test)]
mod tests {
    use super::*;
    use crate::layer::activation::test_support::check_activation;

    #[test]
    fn gradient_and_batch() {
        check_activation(Identity, Identity, [-3.0, -1.0, -0.5, 0.0, 0.25, 1.0, 2.0, 7.0]);
    }
}
