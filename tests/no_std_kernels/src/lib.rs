//! A `no_std` build of static-nn takes its x86-64 kernels from the compile-time target features.
//!
//! Run by `.ci/run` twice, so that both answers are checked:
//!
//! ```sh
//! RUSTFLAGS="-C target-feature=+avx2,+fma" cargo test --manifest-path tests/no_std_kernels/Cargo.toml
//! cargo test --manifest-path tests/no_std_kernels/Cargo.toml
//! ```
//!
//! static-nn is a dependency here, built with `default-features = false`, so it is compiled
//! without `std` even though this crate's test harness links it.

#![no_std]

#[cfg(test)]
mod tests {
    use static_nn::nalgebra::SMatrix;
    use static_nn::{Dense, InstructionSet, Layer, instruction_set, kernel_choice};

    /// What a `no_std` build must report for this build's target features: without run-time
    /// detection, the features the compiler was told it may assume.
    fn expected() -> InstructionSet {
        if cfg!(all(
            target_arch = "x86_64",
            target_feature = "avx2",
            target_feature = "fma"
        )) {
            if cfg!(target_feature = "avx512f") {
                InstructionSet::Avx512
            } else {
                InstructionSet::Avx2Fma
            }
        } else {
            InstructionSet::Portable
        }
    }

    /// With `+avx2,+fma` this is the AVX2 kernels (AVX-512 with `+avx512f` too), without them the
    /// portable ones: `.ci/run` runs it both ways.
    #[test]
    fn the_target_features_select_the_kernels() {
        assert_eq!(instruction_set(), expected());
    }

    /// Each kind of work runs a set the build was compiled for: with AVX2 only (or none) there
    /// is nothing to measure; with AVX-512 too, the calibration measures without `std`.
    #[test]
    fn every_kind_of_work_runs_a_compiled_set() {
        let choice = kernel_choice();
        for set in [choice.products, choice.passes] {
            let narrower = expected() == InstructionSet::Avx512 && set == InstructionSet::Avx2Fma;
            assert!(set == expected() || narrower, "{set} in a build for {}", expected());
        }
    }

    /// A product large enough for the tiled kernels (32 × 32 weights, 8 columns) agrees with
    /// the definition, whichever kernel the build selected.
    #[test]
    fn the_selected_kernel_computes_the_product() {
        let weight = SMatrix::<f32, 32, 32>::from_fn(|i, j| ((i * 7 + j * 3) % 11) as f32 / 11.0 - 0.5);
        let bias = SMatrix::<f32, 32, 1>::from_fn(|i, _| i as f32 / 64.0);
        let x = SMatrix::<f32, 32, 8>::from_fn(|i, j| ((i * 5 + j * 13) % 17) as f32 / 17.0 - 0.5);
        let y = Dense::new(weight, bias).forward(&x);
        for j in 0..8 {
            for i in 0..32 {
                let exact: f64 = f64::from(bias[i])
                    + (0..32)
                        .map(|k| f64::from(weight[(i, k)]) * f64::from(x[(k, j)]))
                        .sum::<f64>();
                let error = (f64::from(y[(i, j)]) - exact).abs();
                assert!(error < 1e-5, "y[{i}, {j}] = {} but the product is {exact}", y[(i, j)]);
            }
        }
    }
}
