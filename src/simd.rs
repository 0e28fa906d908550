//! Element loops and whole passes compiled for the CPU's vector instructions.

/// Runs `f` compiled for a vector instruction set of this CPU: on x86-64, AVX-512 or AVX2 with
/// FMA, whichever the calibration found faster for passes (`x86::calibration::Work::Passes`);
/// the target's baseline elsewhere. Only code inlined into `f` benefits, so the loops it calls
/// are `#[inline(always)]`; each call costs one cached load and test.
#[inline(always)]
pub(crate) fn widest<R>(f: impl FnOnce() -> R) -> R {
    #[cfg(x86_kernels)]
    if let Some(isa) = crate::x86::calibration::Work::Passes.isa() {
        return isa.run(f);
    }
    f()
}
