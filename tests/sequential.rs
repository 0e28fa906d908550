//! Composition: tuples, nested sequences, arrays of blocks. Whole networks pass the gradient
//! checker, batches equal single samples, gradients accumulate, positions count like PyTorch.

use nalgebra::SMatrix;
use static_nn::prelude::*;
use static_nn::{Seq, TensorInfo, seq};

type Deep = Seq![
    Dense<f64, 3, 5>, Tanh, Dense<f64, 5, 5>, Sigmoid, Dense<f64, 5, 5>, Gelu, Dense<f64, 5, 5>, Silu,
    Dense<f64, 5, 5>, Softplus, Dense<f64, 5, 4>,
];
type Blocks = (Dense<f64, 3, 6>, [(Dense<f64, 6, 6>, Elu<f64>); 3], Dense<f64, 6, 2>);

fn input<const B: usize>() -> SMatrix<f64, 3, B> {
    SMatrix::from_fn(|i, j| ((i * 7 + j * 3) as f64 * 0.61).sin() * 1.5)
}

#[test]
fn deep_nested_sequence_passes_the_gradient_checker_with_every_loss() {
    let net = Deep::build(Init::XavierUniform, &mut Rng::new(10));
    let x = input::<4>();
    let checker = GradCheck::default().strict();
    let target = SMatrix::<f64, 4, 4>::from_fn(|i, j| ((i + j) % 2) as f64);
    for report in [
        checker.network(&net, &Mse, &x, &target),
        checker.network(&net, &BceWithLogits, &x, &target),
        checker.network(&net, &Huber::new(0.1), &x, &target),
        checker.network(&net, &CrossEntropy, &x, &Class::batch([0, 3, 1, 2]).unwrap()),
    ] {
        assert!(report.passed(), "{report}");
        // Six dense layers (weight and bias) and the input.
        assert_eq!(report.tensors.len(), 13);
    }
}

#[test]
fn arrays_of_blocks_pass_the_gradient_checker() {
    let net = Blocks::build(Init::HeNormal, &mut Rng::new(11));
    let report = GradCheck::default().strict().layer(&net, &input::<3>());
    assert!(report.passed(), "{report}");
}

#[test]
fn positions_count_like_pytorch_sequential() {
    let positions: Vec<(usize, &str)> = Deep::tensor_infos().map(|t| (t.layer, t.name)).collect();
    let expected: Vec<(usize, &str)> = [0, 2, 4, 6, 8, 10]
        .iter()
        .flat_map(|&l| [(l, "weight"), (l, "bias")])
        .collect();
    assert_eq!(positions, expected);
    let blocks: Vec<usize> = Blocks::tensor_infos().map(|t: TensorInfo| t.layer).step_by(2).collect();
    assert_eq!(blocks, [0, 1, 3, 5, 7]);
}

#[test]
fn a_batch_equals_its_single_samples() {
    let net = Deep::build(Init::PyTorch, &mut Rng::new(12));
    let x = input::<5>();
    let dy = SMatrix::<f64, 4, 5>::from_fn(|i, j| (i as f64 - j as f64) * 0.1);
    let mut cache = Zeroable::zeroed();
    let y = net.forward_train(&x, &mut cache);
    assert_eq!(y, net.forward(&x));
    let mut batch_grad: <Deep as Parameters<f64>>::Gradient = Zeroable::zeroed();
    let dx = net.backward(&x, &y, &cache, &dy, &mut batch_grad);

    let mut single_grad: <Deep as Parameters<f64>>::Gradient = Zeroable::zeroed();
    for b in 0..5 {
        let xb: SMatrix<f64, 3, 1> = x.column(b).into();
        let dyb: SMatrix<f64, 4, 1> = dy.column(b).into();
        let mut cache = Zeroable::zeroed();
        let yb = net.forward_train(&xb, &mut cache);
        assert!((yb - y.column(b)).abs().max() < 1e-14);
        let dxb = net.backward(&xb, &yb, &cache, &dyb, &mut single_grad);
        assert!((dxb - dx.column(b)).abs().max() < 1e-14);
    }
    for (a, b) in batch_grad.tensors().zip(single_grad.tensors()) {
        for (a, b) in a.iter().zip(b) {
            assert!((a - b).abs() < 1e-13, "{a} vs {b}");
        }
    }
}

#[test]
fn backward_accumulates_into_the_gradient() {
    let net = Blocks::build(Init::PyTorch, &mut Rng::new(13));
    let x = input::<2>();
    let mut workspace = Workspace::new();
    let target = SMatrix::<f64, 2, 2>::from_element(0.3);
    workspace.compute_gradient(&net, &Mse, &x, &target);
    let once = workspace.grad.clone();
    workspace.accumulate_gradient(&net, &Mse, &x, &target);
    for (twice, once) in workspace.grad.tensors().zip(once.tensors()) {
        for (t, o) in twice.iter().zip(once) {
            // Equal up to the order of additions within a batch.
            assert!((t - 2.0 * o).abs() <= 1e-15 * o.abs(), "{t} vs 2 * {o}");
        }
    }
    workspace.compute_gradient(&net, &Mse, &x, &target);
    assert_eq!(workspace.grad.squared_norm(), once.squared_norm());
}

#[test]
fn seq_values_match_seq_types() {
    type Long = Seq![Dense<f32, 1, 2>, Relu, Dense<f32, 2, 2>, Relu, Dense<f32, 2, 2>, Relu, Dense<f32, 2, 2>, Relu, Dense<f32, 2, 1>];
    let net: Long = seq![
        Dense::zeros(),
        Relu,
        Dense::zeros(),
        Relu,
        Dense::zeros(),
        Relu,
        Dense::zeros(),
        Relu,
        Dense::zeros(),
    ];
    assert_eq!(net.forward(&SMatrix::<f32, 1, 1>::new(1.0))[0], 0.0);
    assert_eq!(<Long as Tensors<f32>>::LAYERS, 9);
}

use static_nn::bytemuck::Zeroable;
