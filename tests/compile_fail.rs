//! Shape mistakes are compile errors, with messages that name the mistake. Each case's expected
//! compiler output is committed next to it (`tests/compile_fail/*.stderr`); regenerate with
//! `TRYBUILD=overwrite cargo test --test compile_fail` after reading the diff.
//!
//! Some checks are constant assertions, which the compiler evaluates when it instantiates generic
//! code: a `Concat`'s declared width, a batch norm trained on one sample, a convolution's or
//! pooling layer's output length, `Flatten`'s width. `cargo build` reports them, `cargo check`
//! does not. trybuild checks with `cargo check` unless there are `pass` cases, so the
//! `compile_pass` cases, which prove that the same assertions accept correct shapes, also make
//! every case here go through `cargo build`, exactly as a user's build sees them.

#[test]
fn shape_errors_do_not_compile() {
    let cases = trybuild::TestCases::new();
    cases.pass("tests/compile_pass/*.rs");
    cases.compile_fail("tests/compile_fail/*.rs");
}
