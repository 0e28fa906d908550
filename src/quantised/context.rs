//! The kernel an `int8` forward pass runs with, chosen once per pass.

use super::Int8Kernel;

/// A kernel this CPU is known to have, chosen once for a whole forward pass.
///
/// [`Int8Layer::forward`](super::Int8Layer::forward) picks one, compiles the pass for its
/// instruction set ([`run`](Self::run)) and hands it to every layer's
/// [`forward_in`](super::Int8Layer::forward_in), so that a network makes one feature test and
/// one call into vector code per pass instead of one per layer, and the layers' outputs stay in
/// that code's registers and stack. A context can only be built for a kernel the CPU has (the
/// field is private and the public constructors check), which is what lets the vector kernels
/// trust it.
///
/// ```
/// use static_nn::quantised::{Int8Context, Int8Kernel, Int8Layer, Int8Relu};
/// use nalgebra::Vector2;
///
/// let relu = Int8Relu { zero_point: 0 };
/// let context = Int8Context::new(Int8Kernel::Avx512Vnni);
/// // The portable kernel stands in where the CPU lacks the one asked for.
/// assert!(context.kernel() == Int8Kernel::Avx512Vnni || context.kernel() == Int8Kernel::Portable);
/// let y = context.run(|context| relu.forward_in(context, &Vector2::new(-3_i8, 4)));
/// assert_eq!(y, Vector2::new(0, 4));
/// ```
#[derive(Clone, Copy, Debug)]
pub struct Int8Context {
    kernel: Int8Kernel,
    /// Whether this value was made inside a function compiled for the kernel's instruction set
    /// ([`detected`](Self::detected)), where the x86 kernels inline into the pass instead of
    /// being called as functions compiled for it.
    #[cfg(all(feature = "std", target_arch = "x86_64"))]
    compiled: bool,
}

/// Contexts are equal when their kernels are: where one was made does not change the integers.
impl PartialEq for Int8Context {
    fn eq(&self, other: &Self) -> bool {
        self.kernel == other.kernel
    }
}

impl Eq for Int8Context {}

impl Int8Context {
    /// The fastest kernel this CPU has.
    #[inline]
    pub fn best() -> Self {
        Self {
            kernel: Int8Kernel::best(),
            #[cfg(all(feature = "std", target_arch = "x86_64"))]
            compiled: false,
        }
    }

    /// `kernel` if this CPU has it, otherwise the portable one.
    #[inline]
    pub fn new(kernel: Int8Kernel) -> Self {
        Self {
            kernel: if kernel.is_available() {
                kernel
            } else {
                Int8Kernel::Portable
            },
            #[cfg(all(feature = "std", target_arch = "x86_64"))]
            compiled: false,
        }
    }

    /// The context of a kernel that detection has already found, as a constant: what the
    /// functions compiled for that kernel's features hand to the pass they run, so that every
    /// choice of kernel inside it folds away. The caller vouches for the detection.
    #[cfg(all(feature = "std", target_arch = "x86_64"))]
    #[inline(always)]
    pub(crate) const fn detected(kernel: Int8Kernel) -> Self {
        Self { kernel, compiled: true }
    }

    /// Whether the context was made by [`detected`](Self::detected), inside a function compiled
    /// for its kernel.
    #[cfg(all(feature = "std", target_arch = "x86_64"))]
    #[inline(always)]
    pub(crate) const fn compiled(self) -> bool {
        self.compiled
    }

    /// The kernel.
    #[inline]
    pub fn kernel(self) -> Int8Kernel {
        self.kernel
    }

    /// Runs `f` compiled for the kernel's instruction set (on x86-64 with `std`; elsewhere as
    /// it is). Only code inlined into `f` is compiled that way, so the layers' `forward_in` are
    /// `#[inline]`.
    #[inline(always)]
    pub fn run<R>(self, f: impl FnOnce(Self) -> R) -> R {
        #[cfg(all(feature = "std", target_arch = "x86_64"))]
        return crate::x86_int8::run(self, f);
        #[cfg(not(all(feature = "std", target_arch = "x86_64")))]
        return f(self);
    }
}
