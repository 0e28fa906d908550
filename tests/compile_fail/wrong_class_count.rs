// Cross-entropy targets carry their class count: labels for 3 classes cannot score 10 logits.
use static_nn::prelude::*;
use static_nn::nalgebra::SMatrix;

fn main() {
    let logits = SMatrix::<f32, 10, 2>::zeros();
    let labels: [Class<3>; 2] = Class::batch([0, 2]).unwrap();
    let _ = CrossEntropy.value(&logits, &labels);
}
