//! Committed generated files (Rust source of networks) checked against what the crate writes
//! today, and rewritten on request.

/// Asserts that the file `tests/generated/{name}` holds `expected`; with `STATIC_NN_REGENERATE`
/// set, writes it first. `test` is the test binary that regenerates it, for the message.
pub fn assert_fresh(name: &str, expected: &str, test: &str) {
    let path = format!("{}/tests/generated/{name}", env!("CARGO_MANIFEST_DIR"));
    if std::env::var_os("STATIC_NN_REGENERATE").is_some() {
        std::fs::write(&path, expected).unwrap();
    }
    let committed = std::fs::read_to_string(&path).unwrap();
    assert!(
        committed == expected,
        "tests/generated/{name} is stale: run `STATIC_NN_REGENERATE=1 cargo test --test {test}`"
    );
}
