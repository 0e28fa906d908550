//! Files written by the version before Core v2 (commit 2b5ed26, with `files()` below) still load:
//! weights and Adam checkpoints of every layer that has tensors or buffers, flat and sequence.
//! Today's version writes the same weight files byte for byte, and a loaded checkpoint resumes
//! with exactly the state the same two steps give today.

use static_nn::format;
use static_nn::prelude::*;

/// Every layer with tensors or buffers that a flat network holds.
type Flat = (
    Dense<f64, 3, 4>,
    BatchNorm<f64, 4>,
    LeakyRelu<f64>,
    LayerNorm<f64, 4>,
    Dropout<f64>,
    Dense<f64, 4, 2>,
);
/// The sequence layers with tensors.
type Sequence = (
    Conv1d<f64, 2, 3, 3, 8, 6>,
    Gru<f64, 3, 4>,
    Lstm<f64, 4, 3>,
    LastStep,
    Dense<f64, 3, 1>,
);

fn flat() -> Flat {
    let mut net = Flat::build(Init::PyTorch, &mut Rng::new(5));
    for (i, buffer) in net.buffers_mut().enumerate() {
        for (j, v) in buffer.iter_mut().enumerate() {
            *v = 0.25 + (i * 4 + j) as f64 * 0.125;
        }
    }
    net
}

fn sequence() -> Sequence {
    Sequence::build(Init::XavierUniform, &mut Rng::new(6))
}

/// Two Adam steps with a made-up gradient, so that the state is not zero.
fn trained_adam<N: Parameters<f64>>(net: &mut N) -> Adam<f64, N> {
    let mut adam = Adam::new(AdamConfig::with_lr(0.01));
    let mut grad = <N::Gradient as bytemuck::Zeroable>::zeroed();
    for (i, t) in grad.tensors_mut().enumerate() {
        for (j, v) in t.iter_mut().enumerate() {
            *v = ((i * 7 + j) as f64 * 0.37).sin();
        }
    }
    adam.step(net, &grad);
    adam.step(net, &grad);
    adam
}

fn files() -> [(&'static str, Vec<u8>); 4] {
    let (mut f, mut s) = (flat(), sequence());
    let weights_f = format::to_vec(&f).unwrap();
    let weights_s = format::to_vec(&s).unwrap();
    let adam_f = trained_adam(&mut f);
    let adam_s = trained_adam(&mut s);
    [
        ("flat.snn", weights_f),
        ("sequence.snn", weights_s),
        ("flat_adam.ckpt", format::checkpoint_to_vec(&f, &adam_f, &()).unwrap()),
        (
            "sequence_adam.ckpt",
            format::checkpoint_to_vec(&s, &adam_s, &()).unwrap(),
        ),
    ]
}

const BEFORE: [(&str, &[u8]); 4] = [
    ("flat.snn", include_bytes!("fixtures/before_core_v2/flat.snn")),
    ("sequence.snn", include_bytes!("fixtures/before_core_v2/sequence.snn")),
    (
        "flat_adam.ckpt",
        include_bytes!("fixtures/before_core_v2/flat_adam.ckpt"),
    ),
    (
        "sequence_adam.ckpt",
        include_bytes!("fixtures/before_core_v2/sequence_adam.ckpt"),
    ),
];

fn scalars<T: Tensors<f64>>(value: &T) -> Vec<u64> {
    value.tensors().flatten().map(|v| v.to_bits()).collect()
}

fn buffers<N: Parameters<f64>>(net: &N) -> Vec<u64> {
    net.buffers().flatten().map(|v| v.to_bits()).collect()
}

#[test]
fn weights_written_before_load_and_are_written_the_same_today() {
    let mut loaded = Flat::build(Init::HeNormal, &mut Rng::new(99));
    format::load(&mut loaded, BEFORE[0].1).unwrap();
    let today = flat();
    assert_eq!((scalars(&loaded), buffers(&loaded)), (scalars(&today), buffers(&today)));

    let mut loaded = Sequence::build(Init::HeNormal, &mut Rng::new(99));
    format::load(&mut loaded, BEFORE[1].1).unwrap();
    assert_eq!(scalars(&loaded), scalars(&sequence()));

    for ((name, before), (today_name, today)) in BEFORE.iter().zip(files()).take(2) {
        assert_eq!(
            (*name, *before),
            (today_name, today.as_slice()),
            "{name} is written differently"
        );
    }
}

#[test]
fn checkpoints_written_before_resume_with_todays_state() {
    let mut net = flat();
    let adam = trained_adam(&mut net);
    let mut resumed = Flat::build(Init::HeNormal, &mut Rng::new(99));
    let mut resumed_adam = Adam::new(AdamConfig::with_lr(0.01));
    format::load_checkpoint(&mut resumed, &mut resumed_adam, &mut (), BEFORE[2].1).unwrap();
    assert_eq!((scalars(&resumed), buffers(&resumed)), (scalars(&net), buffers(&net)));
    assert_eq!(
        (scalars(&resumed_adam), resumed_adam.steps()),
        (scalars(&adam), adam.steps())
    );

    let mut net = sequence();
    let adam = trained_adam(&mut net);
    let mut resumed = Sequence::build(Init::HeNormal, &mut Rng::new(99));
    let mut resumed_adam = Adam::new(AdamConfig::with_lr(0.01));
    format::load_checkpoint(&mut resumed, &mut resumed_adam, &mut (), BEFORE[3].1).unwrap();
    assert_eq!(scalars(&resumed), scalars(&net));
    assert_eq!(
        (scalars(&resumed_adam), resumed_adam.steps()),
        (scalars(&adam), adam.steps())
    );
}
