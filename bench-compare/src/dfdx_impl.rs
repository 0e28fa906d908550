//! The workloads with dfdx 0.13 on its CPU device: `forward_mut` on a traced input, the loss,
//! `backward`, `Adam::update`, `zero_grads`; inference with `forward`.

use std::cell::RefCell;
use std::hint::black_box;
use std::rc::Rc;

use dfdx::optim::{Adam, AdamConfig};
use dfdx::prelude::*;

use crate::{Batches, Contender, next};

type W1 = (Linear<2, 16>, Tanh, Linear<16, 16>, Tanh, Linear<16, 1>);
type W2 = (Linear<8, 32>, ReLU, Linear<32, 32>, ReLU, Linear<32, 4>);
type W3 = (Linear<784, 128>, ReLU, Linear<128, 10>);
type W4 = (
    Linear<16, 64>,
    ReLU,
    Repeated<(Linear<64, 64>, ReLU), 5>,
    Linear<64, 16>,
);

/// Builds the contender for model `$model` with inputs `$i × $b`, outputs `$o`, the loss
/// function `$loss`, and targets given row-major `B × O`, one per batch of `$batches`.
macro_rules! contender {
    ($model:ty, $i:literal, $o:literal, $b:literal, $loss:ident, $batches:expr, $targets:expr) => {{
        let dev: Cpu = Cpu::seed_from_u64(1);
        let model = Rc::new(RefCell::new(dev.build_module::<$model, f32>()));
        let mut grads = Some(model.borrow().alloc_grads());
        let mut adam = Adam::new(&*model.borrow(), AdamConfig::default());
        let batches: &Batches = $batches;
        let xs: Vec<Tensor<Rank2<$b, $i>, f32, Cpu>> = batches
            .inputs
            .iter()
            .map(|v| dev.tensor_from_vec(v.clone(), (Const::<$b>, Const::<$i>)))
            .collect();
        let targets: Vec<Tensor<Rank2<$b, $o>, f32, Cpu>> = $targets
            .into_iter()
            .map(|v| dev.tensor_from_vec(v, (Const::<$b>, Const::<$o>)))
            .collect();
        let (trained, xs2) = (model.clone(), xs.clone());
        let (mut i, mut j) = (0, 0);
        Contender {
            name: "dfdx 0.13",
            train: Box::new(move || {
                let k = next(&mut i, xs.len());
                let mut model = trained.borrow_mut();
                let y = model.forward_mut(black_box(&xs[k]).trace(grads.take().unwrap()));
                let loss = $loss(y, targets[k].clone());
                black_box(loss.array());
                let mut g = loss.backward();
                adam.update(&mut *model, &g).unwrap();
                model.zero_grads(&mut g);
                grads = Some(g);
            }),
            infer: Box::new(move || {
                let k = next(&mut j, xs2.len());
                black_box(model.borrow().forward(black_box(xs2[k].clone())));
            }),
        }
    }};
}

/// Regression targets: `K × B` column-major is `B × K` row-major, the same vector.
fn regression(batches: &Batches) -> Vec<Vec<f32>> {
    batches.targets.clone()
}

/// One-hot rows `B × 10` of each batch's classes.
fn one_hot(batches: &Batches) -> Vec<Vec<f32>> {
    batches
        .classes
        .iter()
        .map(|classes| {
            let mut v = vec![0.0; classes.len() * 10];
            for (j, &c) in classes.iter().enumerate() {
                v[j * 10 + c] = 1.0;
            }
            v
        })
        .collect()
}

/// The dfdx version of workload `k` (0 for W1 ... 3 for W4), cycling through `count` batches.
pub fn contender(k: usize, count: usize) -> Contender {
    let batches = Batches::of_workload(k, count);
    match k {
        0 => contender!(W1, 2, 1, 1, mse_loss, &batches, regression(&batches)),
        1 => contender!(W2, 8, 4, 8, mse_loss, &batches, regression(&batches)),
        2 => contender!(
            W3,
            784,
            10,
            32,
            cross_entropy_with_logits_loss,
            &batches,
            one_hot(&batches)
        ),
        _ => contender!(W4, 16, 16, 16, mse_loss, &batches, regression(&batches)),
    }
}
