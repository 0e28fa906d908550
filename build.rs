//! Decides once whether the x86-64 vector kernels (`src/x86.rs`) are compiled in, so that the
//! condition has one home instead of a long `cfg` repeated at every use.
//!
//! They are when the target is x86-64 and either `std` is on (the kernels are then chosen at run
//! time by `is_x86_feature_detected!`) or the compile-time target features already include AVX2
//! and FMA (`-C target-cpu=native`, `-C target-feature=+avx2,+fma`): a `no_std` build can then use
//! them without detection, because a binary compiled for those features cannot run without them.
//!
//! Likewise it sets `cfg(arm_dsp)`, which compiles in the `int8` product on the Cortex-M DSP
//! extension (`src/arm_int8.rs`), when the target has that extension: every ARMv7E-M target
//! (`thumbv7em-*`: Cortex-M4 and M7), or any ARM target whose features include `dsp`. Stable
//! rustc reports no ARM target features (they are unstable), so on stable the target's name is
//! what tells; the feature covers nightly and a future stabilisation.

fn main() {
    println!("cargo::rustc-check-cfg=cfg(x86_kernels)");
    println!("cargo::rustc-check-cfg=cfg(arm_dsp)");
    println!("cargo::rerun-if-changed=build.rs");
    let arch = std::env::var("CARGO_CFG_TARGET_ARCH").unwrap_or_default();
    let features = std::env::var("CARGO_CFG_TARGET_FEATURE").unwrap_or_default();
    let has = |feature: &str| features.split(',').any(|f| f == feature);
    let std = std::env::var_os("CARGO_FEATURE_STD").is_some();
    if arch == "x86_64" && (std || (has("avx2") && has("fma"))) {
        println!("cargo::rustc-cfg=x86_kernels");
    }
    let target = std::env::var("TARGET").unwrap_or_default();
    if arch == "arm" && (target.starts_with("thumbv7em-") || has("dsp")) {
        println!("cargo::rustc-cfg=arm_dsp");
    }
}
