//! The workloads with dfdx 0.13 on its CPU device: `forward_mut` on a traced input, the loss,
//! `backward`, `Adam::update`, `zero_grads`; inference with `forward`.

use std::cell::RefCell;
use std::hint::black_box;
use std::rc::Rc;

use dfdx::optim::{Adam, AdamConfig};
use dfdx::prelude::*;

use crate::{Contender, classes, input, regression_target};

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
/// function `$loss` and a target given row-major `B × O`.
macro_rules! contender {
    ($model:ty, $i:literal, $o:literal, $b:literal, $loss:ident, $target:expr) => {{
        let dev: Cpu = Cpu::seed_from_u64(1);
        let model = Rc::new(RefCell::new(dev.build_module::<$model, f32>()));
        let mut grads = Some(model.borrow().alloc_grads());
        let mut adam = Adam::new(&*model.borrow(), AdamConfig::default());
        let x: Tensor<Rank2<$b, $i>, f32, Cpu> = dev.tensor_from_vec(input($i * $b), (Const::<$b>, Const::<$i>));
        let target: Tensor<Rank2<$b, $o>, f32, Cpu> = dev.tensor_from_vec($target, (Const::<$b>, Const::<$o>));
        let (trained, x2) = (model.clone(), x.clone());
        Contender {
            name: "dfdx 0.13",
            train: Box::new(move || {
                let mut model = trained.borrow_mut();
                let y = model.forward_mut(black_box(&x).trace(grads.take().unwrap()));
                let loss = $loss(y, target.clone());
                black_box(loss.array());
                let mut g = loss.backward();
                adam.update(&mut *model, &g).unwrap();
                model.zero_grads(&mut g);
                grads = Some(g);
            }),
            infer: Box::new(move || {
                black_box(model.borrow().forward(black_box(x2.clone())));
            }),
        }
    }};
}

/// `K × B` column-major is `B × K` row-major: the same vector.
fn one_hot(b: usize) -> Vec<f32> {
    let mut v = vec![0.0; b * 10];
    for (j, c) in classes(b).into_iter().enumerate() {
        v[j * 10 + c] = 1.0;
    }
    v
}

/// The dfdx version of workload `k` (0 for W1 ... 3 for W4).
pub fn contender(k: usize) -> Contender {
    match k {
        0 => contender!(W1, 2, 1, 1, mse_loss, regression_target(1, 1)),
        1 => contender!(W2, 8, 4, 8, mse_loss, regression_target(4, 8)),
        2 => contender!(W3, 784, 10, 32, cross_entropy_with_logits_loss, one_hot(32)),
        _ => contender!(W4, 16, 16, 16, mse_loss, regression_target(16, 16)),
    }
}
