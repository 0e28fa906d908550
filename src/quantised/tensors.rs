//! The tensors of `int8` layers in a fixed order: what the binary format saves and loads.

use super::{Int8Clamp, Int8Dense, Int8DenseParameters, Int8Lookup, Int8Relu, Int8Softmax};
use crate::{TensorInfo, TorchShape};

/// The element type of a tensor of an `int8` layer.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Int8Element {
    /// `i8`: weights, shifts, zero points, clamps, tables.
    Int8,
    /// `i32`: biases and multipliers.
    Int32,
}

/// The values of one tensor of an `int8` layer.
#[derive(Clone, Copy, Debug)]
pub enum Int8Values<'a> {
    /// An `i8` tensor.
    Int8(&'a [i8]),
    /// An `i32` tensor.
    Int32(&'a [i32]),
}

/// The storage of one tensor of an `int8` layer, to be filled.
#[derive(Debug)]
pub enum Int8ValuesMut<'a> {
    /// An `i8` tensor.
    Int8(&'a mut [i8]),
    /// An `i32` tensor.
    Int32(&'a mut [i32]),
}

/// The tensors of an `int8` layer (or of a tuple or array of them), in a fixed order with
/// PyTorch-style names (`0.weight`, `1.zero_point`): how
/// [`format::save_int8`](crate::format::save_int8) and
/// [`format::load_int8`](crate::format::load_int8) see a quantised network.
///
/// [`visit`](Self::visit) and [`load`](Self::load) give the tensors in the order and with the
/// lengths [`info`](Self::info) declares. Matrices are row-major (TFLite's `[out, in]`).
pub trait Int8Tensors {
    /// How many tensors the value holds.
    const COUNT: usize;
    /// How many layer positions it takes (1 for a layer; the sum for a tuple or an array).
    const LAYERS: usize;

    /// The name, shape and element type of tensor `index` (`< COUNT`; a tuple panics past its
    /// count), for a value whose first layer sits at position `first_layer`.
    fn info(index: usize, first_layer: usize) -> (TensorInfo, Int8Element);

    /// Calls `f` with each tensor's values, in order.
    fn visit(&self, f: &mut dyn FnMut(Int8Values<'_>));

    /// Calls `f` with each tensor's storage, in order, for `f` to fill; the layer is rebuilt
    /// from what `f` wrote.
    fn load(&mut self, f: &mut dyn FnMut(Int8ValuesMut<'_>));
}

fn info(layer: usize, name: &'static str, rows: usize, cols: usize, element: Int8Element) -> (TensorInfo, Int8Element) {
    let torch = if cols == 1 {
        TorchShape::Rank1
    } else {
        TorchShape::Rank2
    };
    (
        TensorInfo {
            layer,
            name,
            rows,
            cols,
            torch,
        },
        element,
    )
}

/// `weight` (`O × I`), `bias`, `multiplier`, `shift` (`O` each), then `input_zero_point`,
/// `output_zero_point`, `output_min`, `output_max` (one value each): the fields of
/// [`Int8DenseParameters`].
impl<const I: usize, const O: usize> Int8Tensors for Int8Dense<I, O> {
    const COUNT: usize = 8;
    const LAYERS: usize = 1;

    fn info(index: usize, first_layer: usize) -> (TensorInfo, Int8Element) {
        use Int8Element::{Int8, Int32};
        let (name, rows, cols, element) = match index {
            0 => ("weight", O, I, Int8),
            1 => ("bias", O, 1, Int32),
            2 => ("multiplier", O, 1, Int32),
            3 => ("shift", O, 1, Int8),
            4 => ("input_zero_point", 1, 1, Int8),
            5 => ("output_zero_point", 1, 1, Int8),
            6 => ("output_min", 1, 1, Int8),
            _ => ("output_max", 1, 1, Int8),
        };
        info(first_layer, name, rows, cols, element)
    }

    fn visit(&self, f: &mut dyn FnMut(Int8Values<'_>)) {
        let p = self.parameters();
        f(Int8Values::Int8(p.weight.as_flattened()));
        f(Int8Values::Int32(&p.bias));
        f(Int8Values::Int32(&p.multiplier));
        f(Int8Values::Int8(&p.shift));
        for value in [p.input_zero_point, p.output_zero_point, p.output_min, p.output_max] {
            f(Int8Values::Int8(&[value]));
        }
    }

    fn load(&mut self, f: &mut dyn FnMut(Int8ValuesMut<'_>)) {
        let mut p = Int8DenseParameters {
            weight: [[0; I]; O],
            bias: [0; O],
            multiplier: [0; O],
            shift: [0; O],
            input_zero_point: 0,
            output_zero_point: 0,
            output_min: 0,
            output_max: 0,
        };
        f(Int8ValuesMut::Int8(p.weight.as_flattened_mut()));
        f(Int8ValuesMut::Int32(&mut p.bias));
        f(Int8ValuesMut::Int32(&mut p.multiplier));
        f(Int8ValuesMut::Int8(&mut p.shift));
        for value in [
            &mut p.input_zero_point,
            &mut p.output_zero_point,
            &mut p.output_min,
            &mut p.output_max,
        ] {
            f(Int8ValuesMut::Int8(core::slice::from_mut(value)));
        }
        *self = Int8Dense::new(p);
    }
}

/// `zero_point` (one value).
impl Int8Tensors for Int8Relu {
    const COUNT: usize = 1;
    const LAYERS: usize = 1;

    fn info(_: usize, first_layer: usize) -> (TensorInfo, Int8Element) {
        info(first_layer, "zero_point", 1, 1, Int8Element::Int8)
    }

    fn visit(&self, f: &mut dyn FnMut(Int8Values<'_>)) {
        f(Int8Values::Int8(&[self.zero_point]));
    }

    fn load(&mut self, f: &mut dyn FnMut(Int8ValuesMut<'_>)) {
        f(Int8ValuesMut::Int8(core::slice::from_mut(&mut self.zero_point)));
    }
}

/// `table` (256 values).
impl Int8Tensors for Int8Lookup {
    const COUNT: usize = 1;
    const LAYERS: usize = 1;

    fn info(_: usize, first_layer: usize) -> (TensorInfo, Int8Element) {
        info(first_layer, "table", 256, 1, Int8Element::Int8)
    }

    fn visit(&self, f: &mut dyn FnMut(Int8Values<'_>)) {
        f(Int8Values::Int8(&self.table));
    }

    fn load(&mut self, f: &mut dyn FnMut(Int8ValuesMut<'_>)) {
        f(Int8ValuesMut::Int8(&mut self.table));
    }
}

/// `min`, `max` (one value each).
impl Int8Tensors for Int8Clamp {
    const COUNT: usize = 2;
    const LAYERS: usize = 1;

    fn info(index: usize, first_layer: usize) -> (TensorInfo, Int8Element) {
        info(first_layer, ["min", "max"][index], 1, 1, Int8Element::Int8)
    }

    fn visit(&self, f: &mut dyn FnMut(Int8Values<'_>)) {
        f(Int8Values::Int8(&[self.min]));
        f(Int8Values::Int8(&[self.max]));
    }

    fn load(&mut self, f: &mut dyn FnMut(Int8ValuesMut<'_>)) {
        f(Int8ValuesMut::Int8(core::slice::from_mut(&mut self.min)));
        f(Int8ValuesMut::Int8(core::slice::from_mut(&mut self.max)));
    }
}

/// `input_multiplier` (`i32`), `input_left_shift` (`i8`), `diff_min` (`i32`), one value each.
impl Int8Tensors for Int8Softmax {
    const COUNT: usize = 3;
    const LAYERS: usize = 1;

    fn info(index: usize, first_layer: usize) -> (TensorInfo, Int8Element) {
        match index {
            0 => info(first_layer, "input_multiplier", 1, 1, Int8Element::Int32),
            1 => info(first_layer, "input_left_shift", 1, 1, Int8Element::Int8),
            _ => info(first_layer, "diff_min", 1, 1, Int8Element::Int32),
        }
    }

    fn visit(&self, f: &mut dyn FnMut(Int8Values<'_>)) {
        f(Int8Values::Int32(&[self.input_multiplier]));
        f(Int8Values::Int8(&[self.input_left_shift]));
        f(Int8Values::Int32(&[self.diff_min]));
    }

    fn load(&mut self, f: &mut dyn FnMut(Int8ValuesMut<'_>)) {
        f(Int8ValuesMut::Int32(core::slice::from_mut(&mut self.input_multiplier)));
        f(Int8ValuesMut::Int8(core::slice::from_mut(&mut self.input_left_shift)));
        f(Int8ValuesMut::Int32(core::slice::from_mut(&mut self.diff_min)));
    }
}

/// Implements `Int8Tensors` for a tuple: each element's tensors, its layers after the previous
/// elements' layers.
macro_rules! int8_tensors_tuple {
    ($($L:ident $i:tt),+) => {
        impl<$($L: Int8Tensors),+> Int8Tensors for ($($L,)+) {
            const COUNT: usize = 0 $(+ $L::COUNT)+;
            const LAYERS: usize = 0 $(+ $L::LAYERS)+;

            fn info(index: usize, first_layer: usize) -> (TensorInfo, Int8Element) {
                let (mut index, mut first_layer) = (index, first_layer);
                $(
                    if index < $L::COUNT {
                        return $L::info(index, first_layer);
                    }
                    index -= $L::COUNT;
                    first_layer += $L::LAYERS;
                )+
                let _ = (index, first_layer);
                panic!("tensor index past the tuple's COUNT")
            }

            fn visit(&self, f: &mut dyn FnMut(Int8Values<'_>)) {
                $(self.$i.visit(f);)+
            }

            fn load(&mut self, f: &mut dyn FnMut(Int8ValuesMut<'_>)) {
                $(self.$i.load(f);)+
            }
        }
    };
}

int8_tensors_tuple!(A 0);
int8_tensors_tuple!(A 0, B 1);
int8_tensors_tuple!(A 0, B 1, C 2);
int8_tensors_tuple!(A 0, B 1, C 2, D 3);
int8_tensors_tuple!(A 0, B 1, C 2, D 3, E 4);
int8_tensors_tuple!(A 0, B 1, C 2, D 3, E 4, F 5);
int8_tensors_tuple!(A 0, B 1, C 2, D 3, E 4, F 5, G 6);
int8_tensors_tuple!(A 0, B 1, C 2, D 3, E 4, F 5, G 6, H 7);

/// `N` copies, one after another.
impl<L: Int8Tensors, const N: usize> Int8Tensors for [L; N] {
    const COUNT: usize = N * L::COUNT;
    const LAYERS: usize = N * L::LAYERS;

    fn info(index: usize, first_layer: usize) -> (TensorInfo, Int8Element) {
        L::info(index % L::COUNT, first_layer + index / L::COUNT * L::LAYERS)
    }

    fn visit(&self, f: &mut dyn FnMut(Int8Values<'_>)) {
        for layer in self {
            layer.visit(f);
        }
    }

    fn load(&mut self, f: &mut dyn FnMut(Int8ValuesMut<'_>)) {
        for layer in self {
            layer.load(f);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tuple_positions_follow_the_layers() {
        type Net = (Int8Dense<3, 2>, Int8Relu, [Int8Lookup; 2], Int8Dense<2, 1>);
        assert_eq!(Net::COUNT, 8 + 1 + 2 + 8);
        let names: std::vec::Vec<_> = (0..Net::COUNT)
            .map(|i| {
                let (info, _) = Net::info(i, 0);
                (info.layer, info.name, info.rows, info.cols)
            })
            .collect();
        assert_eq!(names[0], (0, "weight", 2, 3));
        assert_eq!(names[8], (1, "zero_point", 1, 1));
        assert_eq!(names[9], (2, "table", 256, 1));
        assert_eq!(names[10], (3, "table", 256, 1));
        assert_eq!(names[11], (4, "weight", 1, 2));
    }
}
