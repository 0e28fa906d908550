//! What every update rule's hyperparameter type has: a learning rate, PyTorch's defaults and a
//! constructor from the learning rate, generated from one field list by [`hyperparameters!`].

use crate::Real;

/// The learning rate among a rule's hyperparameters, which schedules change between steps.
///
/// The optimizer reads and writes it through [`Optimizer::learning_rate`](crate::Optimizer) and
/// [`Optimizer::set_learning_rate`](crate::Optimizer), which checks the new value; a
/// [`Rule`](crate::optim::Rule) only has to say where it is kept.
pub trait LearningRate<T: Real> {
    /// The learning rate.
    fn learning_rate(&self) -> T;

    /// Changes the learning rate (already checked to be finite and ≥ 0).
    fn set_learning_rate(&mut self, learning_rate: T);
}

/// Defines a rule's hyperparameter type from its field list, each field with its documentation
/// and PyTorch's default: the struct (`Clone`, `Copy`, `Debug`, `PartialEq`, `Zeroable`),
/// `Default`, `with_lr` and [`LearningRate`] over its first field, `lr`.
macro_rules! hyperparameters {
    (
        $(#[$meta:meta])*
        pub struct $name:ident<$t:ident> {
            $(#[$lr_meta:meta])*
            pub lr: $lr_type:ty = $lr:expr,
            $(
                $(#[$field_meta:meta])*
                pub $field:ident: $field_type:ty = $default:expr,
            )*
        }
    ) => {
        $(#[$meta])*
        #[derive(Clone, Copy, Debug, PartialEq, bytemuck::Zeroable)]
        pub struct $name<$t> {
            $(#[$lr_meta])*
            pub lr: $lr_type,
            $(
                $(#[$field_meta])*
                pub $field: $field_type,
            )*
        }

        impl<$t: $crate::Real> Default for $name<$t> {
            fn default() -> Self {
                Self {
                    lr: $lr,
                    $($field: $default,)*
                }
            }
        }

        impl<$t: $crate::Real> $name<$t> {
            /// PyTorch's defaults with the given learning rate.
            pub fn with_lr(lr: $t) -> Self {
                Self { lr, ..Self::default() }
            }
        }

        impl<$t: $crate::Real> $crate::optim::LearningRate<$t> for $name<$t> {
            fn learning_rate(&self) -> $t {
                self.lr
            }
            fn set_learning_rate(&mut self, learning_rate: $t) {
                self.lr = learning_rate;
            }
        }
    };
}
pub(crate) use hyperparameters;
