//! A multilayer perceptron's type in one line.

/// The type of a multilayer perceptron: `Mlp![T, I -> H1 -> ... -> O, Activation]` is the
/// sequence of [`Dense`](crate::Dense) layers through those widths with the activation between
/// them and none after the last (it outputs logits or values), as [`Seq!`](crate::Seq) spells
/// it. Widths are literals, constants or `{ expressions }`.
///
/// With the type named, everything that trains it follows in one line each; the workspace and
/// the optimizer take their shapes from it (or infer them from their first use):
///
/// ```
/// use static_nn::prelude::*;
/// use static_nn::nalgebra::SMatrix;
///
/// const PIXELS: usize = 64;
/// type Digits = Mlp![f32, PIXELS -> 64 -> 10, Relu];
/// // the same as
/// type Spelled = (Dense<f32, PIXELS, 64>, Relu, Dense<f32, 64, 10>);
///
/// let mut net: Spelled = Digits::build(Init::HeUniform, &mut Rng::new(0));
/// let mut workspace = Workspace::<f32, Digits, SMatrix<f32, PIXELS, 32>>::new_boxed();
/// let mut adam = Adam::<f32, Digits>::new_boxed(AdamConfig::default());
///
/// let x = SMatrix::<f32, PIXELS, 32>::zeros();
/// let labels = [Class::new(3).unwrap(); 32];
/// let loss = workspace.train_step(&mut net, &mut *adam, &CrossEntropy, &x, &labels);
/// assert!(loss.is_finite());
///
/// // Deeper: five dense layers and four activations, nine positions as in nn.Sequential
/// // (nested past eight by `Seq!`).
/// type Deep = Mlp![f64, 8 -> 32 -> 32 -> 32 -> 32 -> 2, Tanh];
/// assert_eq!(Deep::tensor_infos().last().unwrap().layer, 8);
/// ```
#[macro_export]
macro_rules! Mlp {
    // The accumulating rules come first: a `ty` fragment that fails to parse is an error, not a
    // reason to try the next rule.
    (@layers [$t:ty] [$act:ty] [$($done:ty,)*] $a:tt $b:tt) => {
        $crate::Seq![$($done,)* $crate::Dense<$t, $a, $b>]
    };
    (@layers [$t:ty] [$act:ty] [$($done:ty,)*] $a:tt $b:tt $($rest:tt)+) => {
        $crate::Mlp!(@layers [$t] [$act] [$($done,)* $crate::Dense<$t, $a, $b>, $act,] $b $($rest)+)
    };
    ($t:ty, $($width:tt)->+, $act:ty $(,)?) => {
        $crate::Mlp!(@layers [$t] [$act] [] $($width)+)
    };
}
