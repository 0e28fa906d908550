//! Weight initialisation schemes.

use crate::{Real, Rng};

/// How a layer draws its initial weights. Biases start at zero except under [`Init::PyTorch`].
///
/// `fan_in` is the number of inputs of a unit (`I` for `Dense<T, I, O>`), `fan_out` the number
/// of outputs (`O`).
///
/// | scheme | weight | bias |
/// |---|---|---|
/// | `PyTorch` (default) | U(-1/√fan_in, 1/√fan_in), as `torch.nn.Linear` | same |
/// | `XavierUniform` | U(-a, a), a = √(6/(fan_in+fan_out)) (Glorot, for tanh) | 0 |
/// | `XavierNormal` | N(0, 2/(fan_in+fan_out)) | 0 |
/// | `HeUniform` | U(-a, a), a = √(6/fan_in) (Kaiming, for ReLU) | 0 |
/// | `HeNormal` | N(0, 2/fan_in) | 0 |
///
/// Draws come from the caller's [`Rng`], in a fixed order (the weight column by column, then the
/// bias), so the same seed gives the same network on every platform.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum Init {
    /// PyTorch's `nn.Linear` default.
    #[default]
    PyTorch,
    /// Glorot & Bengio (2010), uniform. Keeps the variance of activations and gradients
    /// through depth for activations with slope 1 at 0, such as tanh. A sigmoid's slope at 0
    /// is 1/4, so through sigmoids each layer still shrinks the gradient about four times
    /// ([`guide::saturation`](crate::guide::saturation)).
    XavierUniform,
    /// Glorot & Bengio (2010), normal.
    XavierNormal,
    /// He et al. (2015), uniform; suits ReLU.
    HeUniform,
    /// He et al. (2015), normal.
    HeNormal,
}

impl Init {
    /// Fills a weight tensor of a layer with the given fans.
    pub fn fill_weight<T: Real>(self, weight: &mut [T], fan_in: usize, fan_out: usize, rng: &mut Rng) {
        let fan_in = fan_in as f64;
        let fan_out = fan_out as f64;
        match self {
            Init::PyTorch => fill_uniform(weight, 1.0 / libm::sqrt(fan_in), rng),
            Init::XavierUniform => fill_uniform(weight, libm::sqrt(6.0 / (fan_in + fan_out)), rng),
            Init::XavierNormal => fill_normal(weight, libm::sqrt(2.0 / (fan_in + fan_out)), rng),
            Init::HeUniform => fill_uniform(weight, libm::sqrt(6.0 / fan_in), rng),
            Init::HeNormal => fill_normal(weight, libm::sqrt(2.0 / fan_in), rng),
        }
    }

    /// Fills a bias tensor of a layer with the given fan-in.
    pub fn fill_bias<T: Real>(self, bias: &mut [T], fan_in: usize, rng: &mut Rng) {
        match self {
            Init::PyTorch => fill_uniform(bias, 1.0 / libm::sqrt(fan_in as f64), rng),
            _ => bias.fill(T::zero()),
        }
    }
}

fn fill_uniform<T: Real>(values: &mut [T], bound: f64, rng: &mut Rng) {
    for v in values {
        *v = T::of(rng.uniform(-bound, bound));
    }
}

fn fill_normal<T: Real>(values: &mut [T], std: f64, rng: &mut Rng) {
    for v in values {
        *v = T::of(std * rng.normal());
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn moments(init: Init, fan_in: usize, fan_out: usize) -> (f64, f64, f64) {
        let mut w = [0.0f64; 20_000];
        init.fill_weight(&mut w, fan_in, fan_out, &mut Rng::new(1));
        let n = w.len() as f64;
        let mean = w.iter().sum::<f64>() / n;
        let var = w.iter().map(|v| (v - mean).powi(2)).sum::<f64>() / n;
        let max = w.iter().fold(0.0f64, |m, v| m.max(v.abs()));
        (mean, var, max)
    }

    #[test]
    fn schemes_have_their_documented_spread() {
        // Uniform on (-a, a) has variance a^2 / 3.
        let (_, var, max) = moments(Init::PyTorch, 16, 4);
        assert!(max <= 0.25 && (var - 0.0625 / 3.0).abs() < 1e-3);
        let (_, var, max) = moments(Init::XavierUniform, 10, 20);
        assert!(max <= (0.2f64).sqrt() && (var - 2.0 / 30.0).abs() < 2e-3);
        let (_, var, max) = moments(Init::HeUniform, 8, 100);
        assert!(max <= 0.75f64.sqrt() && (var - 0.25).abs() < 5e-3);
        let (mean, var, _) = moments(Init::HeNormal, 8, 100);
        assert!(mean.abs() < 0.01 && (var - 0.25).abs() < 0.01);
        let (mean, var, _) = moments(Init::XavierNormal, 10, 10);
        assert!(mean.abs() < 0.01 && (var - 0.1).abs() < 0.005);
    }

    #[test]
    fn bias_is_zero_except_for_pytorch() {
        let mut b = [1.0f32; 4];
        Init::HeUniform.fill_bias(&mut b, 3, &mut Rng::new(0));
        assert_eq!(b, [0.0; 4]);
        Init::PyTorch.fill_bias(&mut b, 4, &mut Rng::new(0));
        assert!(b.iter().all(|v| v.abs() <= 0.5 && *v != 0.0));
    }
}
