//! The instruction set each kind of work runs is measured at first use or forced, and results
//! do not depend on it: small networks (whole passes in one instruction set), networks large
//! enough for the tiled products, recurrent streaming steps and optimizer steps give the same
//! bits under every vector instruction set this CPU has.
//!
//! One test, because forcing a choice is global to the process and the steps depend on order
//! (the first call measures; forcing comes after).

use static_nn::nalgebra::SMatrix;
use static_nn::prelude::*;
use static_nn::{Gru, InstructionSet, Lstm, force_instruction_set, instruction_set, kernel_choice};

/// The vector instruction sets this CPU runs, narrowest first.
fn vector_sets() -> Vec<InstructionSet> {
    let mut sets = Vec::new();
    #[cfg(target_arch = "x86_64")]
    if std::is_x86_feature_detected!("avx2") && std::is_x86_feature_detected!("fma") {
        sets.push(InstructionSet::Avx2Fma);
        if std::is_x86_feature_detected!("avx512f") {
            sets.push(InstructionSet::Avx512);
        }
    }
    sets
}

fn bits<T: Real>(values: impl IntoIterator<Item = T>) -> Vec<u64> {
    values.into_iter().map(|v| v.to_f64().to_bits()).collect()
}

fn input<T: Real, const R: usize, const C: usize>(seed: usize) -> SMatrix<T, R, C> {
    SMatrix::from_fn(|i, j| T::of((((i * C + j) * 7 + seed) as f64 * 0.37).sin()))
}

/// Every parameter after a few Adam steps, with each step's loss and the inference output: the
/// bits of a whole training run of network `N` at batch `B`.
fn trained<T, N, const I: usize, const O: usize, const B: usize>() -> Vec<u64>
where
    T: Real,
    N: Layer<T, SMatrix<T, I, B>, Output = SMatrix<T, O, B>> + Parameters<T>,
{
    let mut net = N::build_boxed(Init::PyTorch, &mut Rng::new(3));
    let mut workspace = Workspace::<T, N, SMatrix<T, I, B>>::new_boxed();
    let mut adam = Adam::<T, N>::new_boxed(AdamConfig::default());
    let mut out = Vec::new();
    for step in 0..3 {
        let (x, target) = (input::<T, I, B>(step), input::<T, O, B>(step + 100));
        out.push(
            workspace
                .train_step(&mut *net, &mut *adam, &Mse, &x, &target)
                .to_f64()
                .to_bits(),
        );
    }
    out.extend(bits(net.tensors().flatten().copied()));
    out.extend(bits(net.forward(&input::<T, I, B>(9)).iter().copied()));
    out
}

/// Ten streaming steps of a recurrent network of hidden width 16.
fn streamed<N: Stream<f32, SMatrix<f32, 1, 1>, Output = SMatrix<f32, 1, 1>> + Parameters<f32>>() -> Vec<u64> {
    let net = N::build(Init::PyTorch, &mut Rng::new(4));
    let mut state = N::stream_state();
    (0..10)
        .map(|t| net.step(&input::<f32, 1, 1>(t), &mut state)[0].to_bits().into())
        .collect()
}

type W1 = (Dense<f32, 2, 16>, Tanh, Dense<f32, 16, 16>, Tanh, Dense<f32, 16, 1>);
/// Forward 48 × 64 × 32 and both gradients on the tiled kernels; the second layer's input
/// gradient (10 outputs) is computed with outer products.
type Products<T> = (Dense<T, 64, 48>, Relu, Dense<T, 48, 10>);
/// 64 outputs: its input gradient runs the dot-product kernel.
type Wide = (Dense<f32, 16, 64>, Relu, Dense<f32, 64, 64>, Relu, Dense<f32, 64, 16>);

/// Everything the choice could change, in one list of bits.
fn results() -> Vec<u64> {
    let mut all = trained::<f32, W1, 2, 1, 1>();
    all.extend(trained::<f32, Products<f32>, 64, 10, 32>());
    all.extend(trained::<f64, Products<f64>, 64, 10, 32>());
    all.extend(trained::<f32, Wide, 16, 16, 16>());
    all.extend(streamed::<(Gru<f32, 1, 16>, Dense<f32, 16, 1>)>());
    all.extend(streamed::<(Lstm<f32, 1, 16>, Dense<f32, 16, 1>)>());
    all
}

#[test]
fn the_choice_is_measured_or_forced_and_changes_no_result() {
    let sets = vector_sets();
    let widest = sets.last().copied().unwrap_or(InstructionSet::Portable);
    assert_eq!(instruction_set(), widest);

    let measured = kernel_choice();
    for chosen in [measured.products, measured.passes] {
        assert!(sets.contains(&chosen) || (sets.is_empty() && chosen == InstructionSet::Portable));
    }
    assert_eq!(
        kernel_choice(),
        measured,
        "a second call measured again and chose otherwise"
    );
    let reference = results();

    for &set in &sets {
        force_instruction_set(set).unwrap();
        let choice = kernel_choice();
        assert_eq!((choice.products, choice.passes), (set, set));
        assert!(results() == reference, "forcing {set} changed a result");
    }

    if !sets.is_empty() {
        let refused = force_instruction_set(InstructionSet::Portable).unwrap_err();
        assert_eq!((refused.requested, refused.widest), (InstructionSet::Portable, widest));
        assert!(refused.to_string().contains("portable"), "{refused}");
    }
    if sets.len() < 2 {
        let refused = force_instruction_set(InstructionSet::Avx512).unwrap_err();
        assert!(refused.to_string().contains("AVX-512 was requested"), "{refused}");
    }
    assert_eq!(
        kernel_choice().products,
        *sets.last().unwrap_or(&InstructionSet::Portable)
    );
}
