//! Element loops compiled for the widest vector instructions the CPU has.

/// Runs `f` compiled for the widest instruction set this CPU has (AVX-512 or AVX2 with FMA on
/// x86-64 with `std`; the target's baseline elsewhere). Only code inlined into `f` benefits, so
/// the loops it calls are `#[inline(always)]`; each call costs a cached feature test.
#[inline(always)]
pub(crate) fn widest<R>(f: impl FnOnce() -> R) -> R {
    #[cfg(x86_kernels)]
    if let Some(isa) = crate::x86::Isa::best() {
        return isa.run(f);
    }
    f()
}
