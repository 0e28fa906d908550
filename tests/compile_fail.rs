//! Shape mistakes are compile errors, with messages that name the mistake. Each case's expected
//! compiler output is committed next to it (`tests/compile_fail/*.stderr`); regenerate with
//! `TRYBUILD=overwrite cargo test --test compile_fail` after reading the diff.
//!
//! Some lengths (a convolution's or pooling layer's output length, `Flatten`'s width) are
//! checked by compile-time assertions that rustc evaluates while generating code, which
//! `cargo check` skips. trybuild compiles with `cargo build` when a `pass` case is present, so
//! the `compile_pass` case below is what makes those checks visible here, exactly as a user's
//! `cargo build` sees them.

#[test]
fn shape_errors_do_not_compile() {
    let cases = trybuild::TestCases::new();
    cases.compile_fail("tests/compile_fail/*.rs");
    cases.pass("tests/compile_pass/*.rs");
}
