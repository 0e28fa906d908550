//! Shape mistakes are compile errors, with messages that name the mistake. Each case's expected
//! compiler output is committed next to it (`tests/compile_fail/*.stderr`); regenerate with
//! `TRYBUILD=overwrite cargo test --test compile_fail` after reading the diff.
//!
//! Two checks (a `Concat`'s declared width, a batch norm trained on one sample) are constant
//! assertions, which the compiler evaluates when it instantiates generic code: `cargo build`
//! reports them, `cargo check` does not. trybuild checks with `cargo check` unless there are
//! `pass` cases, so the `compile_pass` case, which proves that the same assertions accept
//! correct widths, also makes every case here go through `cargo build`.

#[test]
fn shape_errors_do_not_compile() {
    let cases = trybuild::TestCases::new();
    cases.pass("tests/compile_pass/*.rs");
    cases.compile_fail("tests/compile_fail/*.rs");
}
