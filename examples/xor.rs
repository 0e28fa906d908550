//! Learns XOR with a 2-16-16-1 tanh network: the smallest problem a linear model cannot solve.
//!
//! Run with `cargo run --release --example xor`.

use nalgebra::SMatrix;
use static_nn::prelude::*;

/// Two inputs, two hidden layers of 16 tanh units, one output.
type Xor = (Dense<f32, 2, 16>, Tanh, Dense<f32, 16, 16>, Tanh, Dense<f32, 16, 1>);

fn main() {
    let mut net = Xor::build(Init::XavierUniform, &mut Rng::new(42));
    let mut optimizer = Sgd::new(SgdConfig {
        lr: 0.1,
        momentum: 0.9,
        ..SgdConfig::default()
    });
    let mut workspace = Workspace::new();

    // The four cases are one batch; columns are samples.
    let x = SMatrix::<f32, 2, 4>::from_columns(&[
        [0.0, 0.0].into(),
        [0.0, 1.0].into(),
        [1.0, 0.0].into(),
        [1.0, 1.0].into(),
    ]);
    let target = SMatrix::<f32, 1, 4>::new(0.0, 1.0, 1.0, 0.0);

    println!("step        loss");
    let mut step = 0;
    let loss = loop {
        let loss = workspace.train_step(&mut net, &mut optimizer, &Mse, &x, &target);
        if step % 50 == 0 {
            println!("{step:>4}  {loss:>10.3e}");
        }
        step += 1;
        if loss < 1e-3 || step == 5_000 {
            break loss;
        }
    };
    println!("{step:>4}  {loss:>10.3e}  (stopped)");
    assert!(loss < 1e-3, "XOR did not converge: loss {loss}");

    let prediction = net.forward(&x);
    for (input, output) in x.column_iter().zip(prediction.iter()) {
        println!("{} xor {} -> {output:.3}", input[0], input[1]);
    }
}
