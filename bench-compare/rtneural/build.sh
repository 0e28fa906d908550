#!/usr/bin/env bash
# Builds bench.cpp against an RTNeural checkout (with its xsimd submodule) in four ways:
# xsimd and Eigen backends, each with g++'s defaults (SSE2) and with -march=native.
#   bench-compare/rtneural/build.sh /path/to/RTNeural [output directory]
# then run each binary three times, interleaved with `cargo run --release -p bench-compare -- small`.
set -euo pipefail
rtneural=$1
out=${2:-target/rtneural}
mkdir -p "$out"
source=$(dirname "$0")/bench.cpp
include=(-I"$rtneural" -I"$rtneural/modules/Eigen" -I"$rtneural/modules/xsimd/include")
# xsimd loads whole aligned vectors: 16 bytes for SSE2, 64 for AVX-512; Eigen accepts at most 32.
g++ -std=c++17 -O3 "${include[@]}" -DRTNEURAL_USE_XSIMD=1 -DRTNEURAL_DEFAULT_ALIGNMENT=16 "$source" -o "$out/xsimd_default"
g++ -std=c++17 -O3 "${include[@]}" -DRTNEURAL_USE_EIGEN=1 -DRTNEURAL_DEFAULT_ALIGNMENT=16 "$source" -o "$out/eigen_default"
g++ -std=c++17 -O3 -march=native "${include[@]}" -DRTNEURAL_USE_XSIMD=1 -DRTNEURAL_DEFAULT_ALIGNMENT=64 "$source" -o "$out/xsimd_native"
g++ -std=c++17 -O3 -march=native "${include[@]}" -DRTNEURAL_USE_EIGEN=1 -DRTNEURAL_DEFAULT_ALIGNMENT=32 "$source" -o "$out/eigen_native"
