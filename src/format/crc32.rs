//! CRC-32 (IEEE 802.3, as zlib, PNG and gzip compute it), with a 16-entry table.
//!
//! The checksum only has to catch corruption (a flipped bit, a truncated copy), not forgery, and
//! it runs once per load, so it is written here rather than pulled in as a dependency. Four
//! bits per lookup keep the table at 64 bytes of flash, where a byte-wise table takes 1 KiB (a
//! sixth of the whole iris firmware in `examples/embedded`). The price is speed on large files:
//! loading the 407 KB of a 784-128-10 network takes 2.2 ms with this table and 1.0 ms with a
//! byte-wise one (`benches/format.rs`), both far below reading the file.

/// The reflected IEEE polynomial.
const POLY: u32 = 0xEDB8_8320;

/// The CRC of each 4-bit value, built at compile time.
const TABLE: [u32; 16] = {
    let mut table = [0u32; 16];
    let mut i = 0;
    while i < 16 {
        let mut c = i as u32;
        let mut k = 0;
        while k < 4 {
            c = if c & 1 != 0 { (c >> 1) ^ POLY } else { c >> 1 };
            k += 1;
        }
        table[i] = c;
        i += 1;
    }
    table
};

/// A running CRC-32: feed it bytes with [`Crc32::update`], read it with [`Crc32::finish`].
#[derive(Clone, Copy, Debug)]
pub(crate) struct Crc32(u32);

impl Crc32 {
    pub(crate) const fn new() -> Self {
        Self(!0)
    }

    pub(crate) fn update(&mut self, bytes: &[u8]) {
        let mut c = self.0;
        for &b in bytes {
            c ^= u32::from(b);
            c = (c >> 4) ^ TABLE[(c & 0xF) as usize];
            c = (c >> 4) ^ TABLE[(c & 0xF) as usize];
        }
        self.0 = c;
    }

    pub(crate) const fn finish(self) -> u32 {
        !self.0
    }
}

/// The CRC-32 of `bytes`.
pub(crate) fn crc32(bytes: &[u8]) -> u32 {
    let mut crc = Crc32::new();
    crc.update(bytes);
    crc.finish()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn matches_the_standard_check_values() {
        // The CRC catalogue's check value for CRC-32/ISO-HDLC, and zlib.crc32 of the others.
        assert_eq!(crc32(b"123456789"), 0xCBF4_3926);
        assert_eq!(crc32(b""), 0);
        assert_eq!(crc32(b"The quick brown fox jumps over the lazy dog"), 0x414F_A339);
        let mut split = Crc32::new();
        split.update(b"1234");
        split.update(b"56789");
        assert_eq!(split.finish(), 0xCBF4_3926);
    }
}
