//! Trains iris 4-16-3 on the device, from scratch: Adam, gradient clipping, no allocator, all
//! state on the stack. Prints the mean loss of every tenth epoch, the training accuracy and
//! the trained weights (standardisation folded in); fails if any step was not finite.
#![no_std]
#![no_main]

use cortex_m_rt::entry;
use static_nn::Tensors;
use static_nn_embedded::board::{self, Line};
use static_nn_embedded::training::{EPOCHS, Training};
use static_nn_embedded::{IRIS_TRAIN, IRIS_TRAIN_LEN};

#[entry]
fn main() -> ! {
    board::measured((), |()| ());
    let mut training = Training::new(&IRIS_TRAIN);
    let mut finite = true;
    for epoch in 0..EPOCHS {
        training.shuffle();
        let mut total = 0.0;
        for step in 0..Training::<IRIS_TRAIN_LEN>::STEPS_PER_EPOCH {
            let loss = if epoch == 0 && step == 0 {
                board::measured(step, |step| training.step(step))
            } else {
                training.step(step)
            };
            finite &= loss.is_some();
            total += loss.unwrap_or(f32::NAN);
        }
        if (epoch + 1) % 10 == 0 {
            Line::new("train-loss")
                .decimal(epoch as u32 + 1)
                .hex(total.to_bits())
                .send();
        }
    }
    Line::new("train-correct")
        .decimal(training.correct() as u32)
        .decimal(IRIS_TRAIN_LEN as u32)
        .send();
    let net = training.finish();
    for (position, tensor) in net.tensors().enumerate() {
        Line::new("train-weights").decimal(position as u32).send();
        for chunk in tensor.chunks(8) {
            Line::new("w").floats(chunk.iter().copied()).send();
        }
    }
    board::finish(finite)
}
