//! Diagnostics on whole networks: vanishing and exploding gradients, saturation, dead units, the
//! non-finite guard and the first-order check of steepest descent.

use nalgebra::SMatrix;
use static_nn::diagnostics::{ActivationHealth, Diagnosis, Finding, Monitor, Thresholds};
use static_nn::prelude::*;
use static_nn::{NonFiniteStep, Seq, TrainError};

const I: usize = 8;
const B: usize = 16;
type Input = SMatrix<f64, I, B>;

fn batch(seed: u64) -> (Input, [Class<4>; B]) {
    let mut rng = Rng::new(seed);
    let x = Input::from_fn(|_, _| rng.uniform(-1.0, 1.0));
    let labels = std::array::from_fn(|j| Class::new((j * 7 + seed as usize) % 4).unwrap());
    (x, labels)
}

/// Eight sigmoid layers of 32.
type DeepSigmoid = Seq![
    Dense<f64, I, 32>, Sigmoid, [(Dense<f64, 32, 32>, Sigmoid); 7], Dense<f64, 32, 4>,
];
/// The same depth with ReLU.
type DeepRelu = Seq![
    Dense<f64, I, 32>, Relu, [(Dense<f64, 32, 32>, Relu); 7], Dense<f64, 32, 4>,
];
/// The same depth, sigmoids behind batch norm.
type DeepNormalised = Seq![
    Dense<f64, I, 32>, BatchNorm<f64, 32>, Sigmoid,
    [(Dense<f64, 32, 32>, BatchNorm<f64, 32>, Sigmoid); 7],
    Dense<f64, 32, 4>,
];

type Monitored<N> = Monitor<f64, N, Input, 64>;

/// One monitored step of SGD (lr `lr`, optional clipping); returns the findings of the step
/// and of the activations.
fn findings_of_one_step<N>(net: &mut N, lr: f64, clip: Option<Clip<f64>>) -> (Box<Monitored<N>>, Vec<Finding<f64>>)
where
    N: Layer<f64, Input, Output = SMatrix<f64, 4, B>>,
{
    let (x, labels) = batch(1);
    let mut workspace = Workspace::<f64, N, Input>::new_boxed();
    let mut monitor = Monitor::<f64, N, Input, 64>::new_boxed().unwrap();
    let mut health = ActivationHealth::<f64, 16, 512>::new(net, &x, &workspace).unwrap();
    let mut sgd = Sgd::new(SgdConfig::with_lr(lr));
    monitor
        .train_step(&mut workspace, net, &mut sgd, &CrossEntropy, &x, &labels, clip)
        .unwrap();
    health.record(net, &x, &workspace);
    let thresholds = Thresholds::default();
    let mut findings: Vec<_> = monitor.record().findings(&thresholds).collect();
    findings.extend(health.findings(&thresholds));
    (monitor, findings)
}

#[test]
fn a_deep_sigmoid_network_vanishes_and_relu_with_he_init_or_batch_norm_does_not() {
    let mut sigmoid = DeepSigmoid::build(Init::PyTorch, &mut Rng::new(2));
    let (monitor, findings) = findings_of_one_step(&mut sigmoid, 0.1, None);
    let ratio = monitor.record().stats.gradient_ratio().unwrap();
    assert!(ratio < 1e-3, "{}", monitor.record());
    assert!(
        findings.contains(&Finding::VanishingGradient {
            first: 0,
            last: 16,
            ratio
        }),
        "{findings:?}"
    );
    // Layer by layer: each sigmoid (derivative at most 1/4) shrinks the gradient further.
    let norms: Vec<f64> = monitor
        .record()
        .stats
        .layers()
        .iter()
        .map(|l| l.stats.grad_norm)
        .collect();
    assert!(norms.windows(2).all(|w| w[0] < w[1]), "{norms:?}");

    let mut relu = DeepRelu::build(Init::HeUniform, &mut Rng::new(2));
    let (monitor, findings) = findings_of_one_step(&mut relu, 0.1, None);
    let ratio = monitor.record().stats.gradient_ratio().unwrap();
    assert!((1e-1..1e1).contains(&ratio), "{}", monitor.record());
    assert!(
        !findings
            .iter()
            .any(|f| matches!(f, Finding::VanishingGradient { .. } | Finding::ExplodingGradient { .. })),
        "{findings:?}"
    );

    let mut normalised = DeepNormalised::build(Init::PyTorch, &mut Rng::new(2));
    let (monitor, findings) = findings_of_one_step(&mut normalised, 0.1, None);
    let ratio = monitor.record().stats.gradient_ratio().unwrap();
    assert!(ratio > 1e-2, "{}", monitor.record());
    assert!(
        !findings
            .iter()
            .any(|f| matches!(f, Finding::VanishingGradient { .. } | Finding::Saturated { .. })),
        "{findings:?}"
    );
}

#[test]
fn a_saturated_sigmoid_network_is_reported_saturated_and_its_first_layer_gets_almost_nothing() {
    type Net = Seq![Dense<f64, I, 32>, Sigmoid, [(Dense<f64, 32, 32>, Sigmoid); 3], Dense<f64, 32, 4>];
    let mut net = Net::build(Init::PyTorch, &mut Rng::new(3));
    // Biases of ±10 pin every sigmoid near 0 or 1, where its derivative is about 5e-5.
    let mut sign = 1.0;
    net.0.bias.iter_mut().for_each(|b| {
        sign = -sign;
        *b = 10.0 * sign;
    });
    for block in &mut net.2 {
        block.0.bias.iter_mut().for_each(|b| {
            sign = -sign;
            *b = 10.0 * sign;
        });
    }
    let (monitor, findings) = findings_of_one_step(&mut net, 0.1, None);
    let stats = &monitor.record().stats;
    let (first, last) = (stats.layer(0).unwrap().grad_norm, stats.layer(8).unwrap().grad_norm);
    assert!(
        first < 1e-4 * last,
        "first {first:e}, last {last:e}\n{}",
        monitor.record()
    );
    let saturated: Vec<usize> = findings
        .iter()
        .filter_map(|f| match *f {
            Finding::Saturated { layer, fraction } if fraction > 0.8 => Some(layer),
            _ => None,
        })
        .collect();
    assert_eq!(saturated, [1, 3, 5, 7], "{findings:?}");
    assert!(findings.iter().any(|f| matches!(f, Finding::VanishingGradient { .. })));
    // Summarised: the saturated layers on one line, and saturation named as the cause.
    let diagnosis = Diagnosis::of(findings.iter().copied());
    let text = diagnosis.to_string();
    let saturated_lines: Vec<&str> = text.lines().filter(|l| l.contains("saturated:")).collect();
    assert_eq!(saturated_lines.len(), 1, "{text}");
    assert!(
        saturated_lines[0].starts_with("4 layers (1 to 7) are saturated"),
        "{text}"
    );
    assert!(
        text.contains("cause: saturated units pass almost no gradient"),
        "{text}"
    );
}

/// Without saturation, the diagnosis blames the slopes and the weights, and every kind of
/// finding carries a cause, a fix and a chapter of the guide that exists.
#[test]
fn the_diagnosis_of_a_vanishing_gradient_without_saturation_names_slopes_and_weights() {
    let mut sigmoid = DeepSigmoid::build(Init::PyTorch, &mut Rng::new(2));
    let (_, findings) = findings_of_one_step(&mut sigmoid, 0.1, None);
    assert!(
        !findings.iter().any(|f| matches!(f, Finding::Saturated { .. })),
        "{findings:?}"
    );
    let diagnosis = Diagnosis::of(findings.iter().copied());
    let text = diagnosis.to_string();
    assert!(text.starts_with("vanishing gradient: layer 0's"), "{text}");
    assert!(text.contains("cause: no layer is reported saturated"), "{text}");
    assert!(text.contains("see: static_nn::guide::saturation"), "{text}");
    // One line per kind: no two lines start alike.
    let symptoms: Vec<&str> = text.lines().filter(|l| !l.starts_with(' ')).collect();
    assert_eq!(symptoms.len(), diagnosis.groups().count(), "{text}");

    let every_kind = [
        Finding::<f64>::VanishingGradient {
            first: 0,
            last: 2,
            ratio: 1e-3,
        },
        Finding::ExplodingGradient {
            first: 0,
            last: 2,
            ratio: 1e3,
        },
        Finding::NonFiniteGradient { layer: 0, count: 1 },
        Finding::UpdateTooSmall { layer: 0, ratio: 1e-7 },
        Finding::UpdateTooLarge { layer: 0, ratio: 1.0 },
        Finding::NonLinearStep {
            predicted: 1.0,
            actual: -1.0,
        },
        Finding::Saturated {
            layer: 1,
            fraction: 0.9,
        },
        Finding::DeadUnits {
            layer: 1,
            dead: 3,
            units: 4,
        },
    ];
    for finding in every_kind {
        assert!(!finding.cause().is_empty() && !finding.fix().is_empty());
        assert!(
            ["guide::saturation", "guide::descent", "guide::clipping"].contains(&finding.chapter()),
            "{finding:#}"
        );
        assert_eq!(format!("{finding:#}").lines().count(), 4);
    }
    assert_eq!(Diagnosis::of(every_kind).groups().count(), 8);
    assert!(Diagnosis::<f64>::of([]).is_empty());
}

#[test]
fn dead_relu_units_are_reported() {
    type Net = (Dense<f64, I, 32>, Relu, Dense<f64, 32, 4>);
    let mut net = Net::build(Init::HeUniform, &mut Rng::new(4));
    // Inputs lie in [-1, 1]; a bias of -10 keeps 24 of the 32 units negative on every sample.
    net.0.bias.rows_mut(0, 24).fill(-10.0);
    let (_, findings) = findings_of_one_step(&mut net, 0.1, None);
    assert!(
        findings.contains(&Finding::DeadUnits {
            layer: 1,
            dead: 24,
            units: 32
        }),
        "{findings:?}"
    );
}

#[test]
fn a_large_init_explodes_and_clipping_brings_it_back() {
    let mut exploding = DeepRelu::build(Init::HeUniform, &mut Rng::new(5));
    for t in exploding.tensors_mut() {
        t.iter_mut().for_each(|v| *v *= 3.0);
    }
    let start = exploding.clone();
    let (monitor, findings) = findings_of_one_step(&mut exploding, 0.05, None);
    let too_large = findings
        .iter()
        .filter(|f| matches!(f, Finding::UpdateTooLarge { ratio, .. } if *ratio > 1.0))
        .count();
    assert_eq!(
        too_large, 9,
        "every layer moved by more than its own size: {findings:?}"
    );
    assert!(monitor.record().stats.total.grad_norm > 1e3);

    // Twenty steps without clipping: the loss does not come down (or a step is refused).
    let train = |net: &mut DeepRelu, clip| -> Result<(f64, f64), NonFiniteStep<f64>> {
        let mut workspace = Workspace::<f64, DeepRelu, Input>::new_boxed();
        let mut monitor = Monitor::<f64, DeepRelu, Input, 64>::new_boxed().unwrap();
        let mut sgd = Sgd::new(SgdConfig::with_lr(0.05));
        let (x, labels) = batch(6);
        let mut first = None;
        for _ in 0..20 {
            let loss = monitor.train_step(&mut workspace, net, &mut sgd, &CrossEntropy, &x, &labels, clip)?;
            first.get_or_insert(loss);
            let findings: Vec<_> = monitor.record().findings(&Thresholds::default()).collect();
            if clip.is_some() {
                assert!(
                    !findings.iter().any(|f| matches!(f, Finding::UpdateTooLarge { .. })),
                    "{findings:?}"
                );
            }
        }
        Ok((first.unwrap(), CrossEntropy.value(&net.forward(&x), &labels)))
    };
    let mut unclipped = start.clone();
    if let Ok((before, after)) = train(&mut unclipped, None) {
        assert!(after >= 0.5 * before || after.is_nan(), "{before} → {after}");
    }
    let mut clipped = start;
    let (before, after) = train(&mut clipped, Some(Clip::Norm(1.0))).unwrap();
    assert!(after < 0.5 * before, "{before} → {after}");
}

/// A loss whose value is finite but whose gradient has a NaN.
struct PoisonedGradient;

impl<const C: usize> Loss<f64, SMatrix<f64, 4, C>> for PoisonedGradient {
    type Target = [Class<4>; C];
    fn value(&self, y: &SMatrix<f64, 4, C>, target: &Self::Target) -> f64 {
        CrossEntropy.value(y, target)
    }
    fn value_and_gradient(&self, y: &SMatrix<f64, 4, C>, target: &Self::Target) -> (f64, SMatrix<f64, 4, C>) {
        let (value, mut gradient) = CrossEntropy.value_and_gradient(y, target);
        gradient[(2, C - 1)] = f64::NAN;
        (value, gradient)
    }
}

fn bits<V: Tensors<f64>>(value: &V) -> Vec<u64> {
    value.tensors().flatten().map(|v| v.to_bits()).collect()
}

#[test]
fn the_non_finite_guard_leaves_weights_and_optimizer_state_bit_identical() {
    type Net = (
        Dense<f64, I, 16>,
        BatchNorm<f64, 16>,
        Tanh,
        Dropout<f64>,
        Dense<f64, 16, 4>,
    );
    let mut net = Net::build(Init::PyTorch, &mut Rng::new(7));
    net.3.p = 0.2;
    let mut adam = Adam::<f64, Net>::new(AdamConfig {
        amsgrad: true,
        weight_decay: 1e-3,
        ..AdamConfig::with_lr(0.01)
    });
    let mut workspace = Workspace::<f64, Net, Input>::new_boxed();
    let mut monitor = Monitor::<f64, Net, Input, 16>::new_boxed().unwrap();
    monitor.first_order = true;
    let (x, labels) = batch(8);
    for _ in 0..3 {
        workspace
            .try_train_step(&mut net, &mut adam, &CrossEntropy, &x, &labels, None)
            .unwrap();
    }
    let snapshot = |net: &Net, adam: &Adam<f64, Net>| {
        let buffers: Vec<u64> = net.buffers().flatten().map(|v| v.to_bits()).collect();
        (
            bits(net),
            buffers,
            bits(adam),
            adam.steps(),
            adam.learning_rate().to_bits(),
        )
    };
    let before = snapshot(&net, &adam);

    let mut nan_input = x;
    nan_input[(3, 5)] = f64::NAN;
    for clip in [None, Some(Clip::Norm(1.0)), Some(Clip::Value(0.1))] {
        let refused = workspace.try_train_step(&mut net, &mut adam, &CrossEntropy, &nan_input, &labels, clip);
        assert!(
            matches!(refused, Err(NonFiniteStep::Loss { loss }) if loss.is_nan()),
            "{refused:?}"
        );
        assert_eq!(snapshot(&net, &adam), before);

        let refused = workspace.try_train_step(&mut net, &mut adam, &PoisonedGradient, &x, &labels, clip);
        assert!(
            matches!(refused, Err(NonFiniteStep::Gradient { norm }) if norm.is_nan()),
            "{refused:?}"
        );
        assert_eq!(snapshot(&net, &adam), before);

        let refused = monitor.train_step(
            &mut workspace,
            &mut net,
            &mut adam,
            &PoisonedGradient,
            &x,
            &labels,
            clip,
        );
        assert!(refused.is_err());
        assert_eq!(snapshot(&net, &adam), before);
        let record = monitor.record();
        assert!(!record.stepped && record.first_order().is_none());
        // The statistics say where: row 2 of the last layer's weight and its bias (the NaN is
        // in output 2), and every layer before it.
        let findings: Vec<_> = record.findings(&Thresholds::default()).collect();
        assert!(
            findings.contains(&Finding::NonFiniteGradient { layer: 4, count: 17 }),
            "{findings:?}"
        );
    }
    // The guard refuses before anything happens, so training goes on as if nothing happened.
    let mut twin = net.clone();
    let mut twin_adam = adam.clone();
    let mut twin_workspace = Workspace::<f64, Net, Input>::new_boxed();
    twin_workspace.cache = workspace.cache.clone();
    workspace
        .try_train_step(&mut net, &mut adam, &CrossEntropy, &x, &labels, None)
        .unwrap();
    twin_workspace
        .try_train_step(&mut twin, &mut twin_adam, &CrossEntropy, &x, &labels, None)
        .unwrap();
    assert_eq!(bits(&net), bits(&twin));
}

#[test]
fn the_first_order_prediction_holds_for_a_small_step_and_fails_for_a_large_one() {
    type Net = (Dense<f64, I, 16>, Tanh, Dense<f64, 16, 4>);
    let (x, labels) = batch(9);
    let check = |lr: f64| {
        let mut net = Net::build(Init::XavierUniform, &mut Rng::new(9));
        let mut workspace = Workspace::<f64, Net, Input>::new();
        let mut monitor = Monitor::<f64, Net, Input, 4>::new().unwrap();
        monitor.first_order = true;
        let mut sgd = Sgd::new(SgdConfig::with_lr(lr));
        monitor
            .train_step(&mut workspace, &mut net, &mut sgd, &CrossEntropy, &x, &labels, None)
            .unwrap();
        let record = *monitor.record();
        let check = record.first_order().unwrap();
        // Plain SGD: −g·Δθ = lr ‖g‖².
        let norm = record.stats.total.grad_norm;
        assert!((check.predicted / (lr * norm * norm) - 1.0).abs() < 1e-12, "{check}");
        // The loss after the step is the network's loss on the batch.
        assert_eq!(check.loss_after, CrossEntropy.value(&net.forward(&x), &labels));
        (check, record.findings(&Thresholds::default()).collect::<Vec<_>>())
    };
    let (small, findings) = check(1e-3);
    assert!((small.agreement() - 1.0).abs() < 1e-2, "{small}");
    assert!(!findings.iter().any(|f| matches!(f, Finding::NonLinearStep { .. })));
    let (large, findings) = check(50.0);
    assert!(large.agreement() < 0.5, "{large}");
    assert!(
        findings.iter().any(|f| matches!(f, Finding::NonLinearStep { .. })),
        "{findings:?}"
    );
}

/// The trainer goes through the same guard: a NaN gradient is refused even without clipping.
#[test]
fn the_trainer_refuses_a_non_finite_gradient_without_clipping() {
    type Net = (Dense<f64, 2, 4>, Tanh, Dense<f64, 4, 4>);
    let samples: Vec<([f64; 2], Class<4>)> = (0..8).map(|i| ([i as f64, 1.0], Class::new(i % 4).unwrap())).collect();
    let mut net = Net::build(Init::PyTorch, &mut Rng::new(0));
    let before = net.clone();
    let mut sgd = Sgd::new(SgdConfig::default());
    let mut trainer = Trainer::<f64, Net, 2, 4>::new(TrainConfig::with_epochs(1));
    let error = trainer
        .fit(&mut net, &mut sgd, &PoisonedGradient, &samples, None, |_| {})
        .unwrap_err();
    assert!(
        matches!(error, TrainError::NonFiniteGradient { epoch: 1, batch: 1, norm } if norm.is_nan()),
        "{error}"
    );
    assert_eq!(net, before);
}

/// Activations over sequences are seen once for the whole sequence: a conv channel that is
/// negative at every step of every sample is dead, one that fires at a single step is not.
#[test]
fn activation_health_sees_through_sequences() {
    type SequenceNet = (Conv1d<f64, 1, 3, 2, 5, 4>, Relu);
    type Sequence = [SMatrix<f64, 1, 2>; 5];
    let mut net = SequenceNet::build(Init::PyTorch, &mut Rng::new(4));
    net.0.bias = nalgebra::Vector3::new(-100.0, 100.0, 0.0);
    net.0.weight[0] = SMatrix::<f64, 3, 2>::new(0.0, 0.0, 0.0, 0.0, 1.0, 0.0);
    // Channel 2 sees the input at the first tap only: positive at one step of one sample.
    let mut x: Sequence = [SMatrix::from_element(-1.0); 5];
    x[3][(0, 1)] = 2.0;
    let mut workspace = Workspace::<f64, SequenceNet, Sequence>::new();
    workspace.output = net.forward_train(&x, &mut workspace.cache);
    let health = {
        let mut health = ActivationHealth::<f64, 2, 8>::new(&net, &x, &workspace).unwrap();
        health.record(&net, &x, &workspace);
        health
    };
    let relu = health.layers()[0];
    assert_eq!((relu.position, relu.units, relu.samples), (1, 3, 8));
    assert_eq!(relu.dead, 1, "{relu:?}");
}
