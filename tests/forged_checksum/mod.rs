//! A bitwise CRC-32 straight from its definition, independent of the crate's table version,
//! for tests that check the crate's checksums or forge one after editing a file so that the
//! checks behind the checksum run.

/// The zlib (IEEE) CRC-32 of `bytes`.
pub fn crc32(bytes: &[u8]) -> u32 {
    let mut crc = !0u32;
    for &b in bytes {
        crc ^= u32::from(b);
        for _ in 0..8 {
            crc = if crc & 1 != 0 {
                (crc >> 1) ^ 0xEDB8_8320
            } else {
                crc >> 1
            };
        }
    }
    !crc
}

/// Rewrites the trailing CRC-32 of a weight or checkpoint file to match its edited contents
/// (files shorter than a checksum are left as they are).
pub fn forge_checksum(bytes: &mut [u8]) {
    if bytes.len() >= 4 {
        let end = bytes.len() - 4;
        let crc = crc32(&bytes[..end]);
        bytes[end..].copy_from_slice(&crc.to_le_bytes());
    }
}
