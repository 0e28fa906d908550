//! Which instruction set static-nn's kernels run for each kind of work: reported with every
//! table, and forced by a `kernels=avx2` or `kernels=avx512` argument (anywhere on the command
//! line) to time one instruction set against the other.

use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Instant;

use static_nn::InstructionSet;

static FORCED: AtomicBool = AtomicBool::new(false);

/// Forces the instruction set named by a `kernels=` argument, if there is one, and removes it
/// from `args`.
pub fn force_from_arguments(args: &mut Vec<String>) {
    let Some(position) = args.iter().position(|a| a.starts_with("kernels=")) else {
        return;
    };
    let argument = args.remove(position);
    let name = &argument["kernels=".len()..];
    let set = match name {
        "avx2" => InstructionSet::Avx2Fma,
        "avx512" => InstructionSet::Avx512,
        other => panic!("kernels={other}: expected kernels=avx2 or kernels=avx512"),
    };
    static_nn::force_instruction_set(set).unwrap_or_else(|e| panic!("kernels={name}: {e}"));
    FORCED.store(true, Ordering::Relaxed);
}

/// The choice for large products and for small networks' passes, and how it was made: forced, or
/// measured, with the time the measurement took when this is the first call that needs it.
pub fn report() -> String {
    let start = Instant::now();
    let choice = static_nn::kernel_choice();
    let how = if FORCED.load(Ordering::Relaxed) {
        "forced by kernels=".to_owned()
    } else {
        format!(
            "calibrated at first use in {:.0} µs",
            start.elapsed().as_secs_f64() * 1e6
        )
    };
    format!(
        "{} for large products and {} for small networks' passes ({how})",
        choice.products, choice.passes
    )
}
