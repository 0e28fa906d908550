//! `data::parse_csv` with and without a header: never a panic; an accepted set is non-empty and
//! finite.
#![no_main]

use libfuzzer_sys::fuzz_target;
use static_nn::data::{Header, parse_csv};

fuzz_target!(|data: &[u8]| {
    let text = String::from_utf8_lossy(data);
    for header in [Header::Counts, Header::None] {
        if let Ok(set) = parse_csv::<f32, 2, 3>(&text, header) {
            assert!(!set.samples.is_empty());
            assert!(set.samples.iter().all(|(x, _)| x.iter().all(|v| v.is_finite())));
        }
    }
});
