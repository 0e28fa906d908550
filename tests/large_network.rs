//! A 784-128-10 network with its workspace and optimizer state (well over a megabyte) builds on
//! the heap and trains inside a thread with a 2 MiB stack, the default for test threads.

use nalgebra::SMatrix;
use static_nn::prelude::*;

type Mnist = (Dense<f32, 784, 128>, Relu, Dense<f32, 128, 10>);
const BATCH: usize = 32;
type Batch = SMatrix<f32, 784, BATCH>;

#[test]
fn builds_and_trains_in_a_two_mebibyte_thread() {
    let handle = std::thread::Builder::new()
        .stack_size(2 << 20)
        .spawn(|| {
            let mut net = Mnist::build_boxed(Init::HeUniform, &mut Rng::new(3));
            let mut workspace = Workspace::<f32, Mnist, Batch>::new_boxed();
            let mut optimizer = Sgd::<f32, Mnist>::new_boxed(SgdConfig {
                momentum: 0.9,
                ..SgdConfig::with_lr(0.05)
            });
            // The batch is 100 KB: it lives on the heap too.
            let mut x: Box<Batch> = static_nn::zeroed_box();
            let mut rng = Rng::new(4);
            let mut labels = [0usize; BATCH];
            for (j, label) in labels.iter_mut().enumerate() {
                *label = j % 10;
                // Class k lights up pixels k*78 .. k*78+78, plus noise.
                for i in 0..784 {
                    let on = i / 78 == *label;
                    x[(i, j)] = if on { 1.0 } else { 0.0 } + rng.uniform(-0.1, 0.1) as f32;
                }
            }
            let labels = Class::<10>::batch(labels).unwrap();
            let first = workspace.train_step(&mut *net, &mut *optimizer, &CrossEntropy, &x, &labels);
            let mut last = first;
            for _ in 0..30 {
                last = workspace.train_step(&mut *net, &mut *optimizer, &CrossEntropy, &x, &labels);
            }
            (first, last)
        })
        .unwrap();
    let (first, last) = handle.join().expect("training overflowed or panicked");
    assert!(first > 1.5, "initial loss near ln 10, got {first}");
    assert!(last < 0.1 * first, "loss fell from {first} to only {last}");
}
