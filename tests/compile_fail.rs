//! Shape mistakes are compile errors, with messages that name the mistake. Each case's expected
//! compiler output is committed next to it (`tests/compile_fail/*.stderr`); regenerate with
//! `TRYBUILD=overwrite cargo test --test compile_fail` after reading the diff.

#[test]
fn shape_errors_do_not_compile() {
    let cases = trybuild::TestCases::new();
    cases.compile_fail("tests/compile_fail/*.rs");
}
