#!/bin/sh
# Runs today's bench-compare harness against static-nn as it was at an earlier commit (default
# d87a63b, the parent of the Core v2 optimizer engine, issue 12's "before"), so that before and
# after are timed the same way on the same machine. The harness is copied into an export of that
# commit; its dfdx contender is left out (dfdx's figures do not depend on static-nn, and it is
# the longest build), as are the instruction-set report and the `kernels=` choice the old library
# cannot give.
#
#     bench-compare/at_commit.sh [COMMIT] [bench-compare arguments...]
#
# Run it next to `cargo run --release -p bench-compare`, alternately, and compare the rows of the
# same run's nalgebra contender. Builds in a temporary directory, removed afterwards.
set -eu
commit=${1:-d87a63b}
[ $# -gt 0 ] && shift
root=$(git rev-parse --show-toplevel)
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
git -C "$root" archive "$commit" | tar -x -C "$work"
rm -rf "$work/bench-compare"
cp -r "$root/bench-compare" "$work/bench-compare"
rm -rf "$work/bench-compare/rtneural" "$work/bench-compare/src/dfdx_impl.rs" "$work/bench-compare/src/kernels.rs"
cp "$root/Cargo.lock" "$work/Cargo.lock"
cd "$work/bench-compare"
sed -i -e '/^mod dfdx_impl;/d' -e '/dfdx_impl::contender/d' -e '/^mod kernels;/d' \
    -e '/kernels::force_from_arguments(&mut args);/d' -e 's/let mut args: Vec<String>/let args: Vec<String>/' -e 's/kernels::report()/"(not reported at this commit)"/' src/main.rs
sed -i '/^dfdx = /d' Cargo.toml
cd "$work"
cargo build --quiet --release --offline -p bench-compare
./target/release/bench-compare "$@"
