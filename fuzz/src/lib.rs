//! What the fuzz targets share: a network with parameters, running statistics and dropout, and
//! its saved values as bits.

use static_nn::prelude::*;

/// Parameters, batch-norm running statistics, and dropout (whose counter the workspace holds).
pub type Net = (Dense<f64, 2, 3>, BatchNorm<f64, 3>, Tanh, Dropout<f64>, Dense<f64, 3, 1>);

/// The network loaded into, always the same.
pub fn target() -> Net {
    Net::build(Init::PyTorch, &mut Rng::new(9))
}

/// Every saved value of `net`, as bits.
pub fn bits(net: &Net) -> Vec<u64> {
    net.tensors().chain(net.buffers()).flatten().map(|v| v.to_bits()).collect()
}

/// What an accepted network must satisfy: every value finite, every variance ≥ 0.
pub fn sound(net: &Net) -> bool {
    bits(net).iter().all(|&b| f64::from_bits(b).is_finite()) && net.1.running_var.iter().all(|&v| v >= 0.0)
}

/// `data` with its last four bytes replaced by the CRC-32 (IEEE) of the rest, so that a
/// mutated file gets past the checksum to the checks behind it.
pub fn with_checksum(data: &[u8]) -> Vec<u8> {
    let mut bytes = data.to_vec();
    if bytes.len() >= 4 {
        let end = bytes.len() - 4;
        let mut crc = !0u32;
        for &b in &bytes[..end] {
            crc ^= u32::from(b);
            for _ in 0..8 {
                crc = if crc & 1 != 0 { (crc >> 1) ^ 0xEDB8_8320 } else { crc >> 1 };
            }
        }
        bytes[end..].copy_from_slice(&(!crc).to_le_bytes());
    }
    bytes
}
