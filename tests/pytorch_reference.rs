//! Forward outputs of the sequence layers against PyTorch on a fixed small case.
//!
//! The constants at the end were printed by `scripts/sequence_reference.py` (torch 2.15.0,
//! float64), which also recomputes each with numpy from the equations in PyTorch's documentation
//! and refuses to print unless both agree to 1e-13. Weights and inputs are the exact binary
//! fractions of [`grid`], computed identically here and there. Weights are loaded through
//! [`Tensors::tensors_mut`] from PyTorch's row-major shapes, which also checks that every
//! layer's tensors have PyTorch's layout.

use nalgebra::SMatrix;
use static_nn::bytemuck::Zeroable;
use static_nn::prelude::*;

/// `((7 i0 + 3 i1 + 5 i2 + 11 i3 + salt) mod 13 − 6) / 16`, as in the script.
fn grid(index: &[usize], salt: usize) -> f64 {
    let k: usize = index.iter().zip([7, 3, 5, 11]).map(|(i, p)| i * p).sum::<usize>() + salt;
    ((k % 13) as f64 - 6.0) / 16.0
}

/// Loads each tensor of `net`, in order, from a PyTorch tensor given as `f(row, column)` of its
/// row-major 2-D view (a conv weight `(O, C, K)` viewed as `(O, C·K)`).
fn load<N: Tensors<f64>>(net: &mut N, tensors: &[&dyn Fn(usize, usize) -> f64]) {
    let infos: Vec<_> = N::tensor_infos().collect();
    assert_eq!(infos.len(), tensors.len());
    for ((data, info), f) in net.tensors_mut().zip(infos).zip(tensors) {
        for col in 0..info.cols {
            for row in 0..info.rows {
                data[col * info.rows + row] = f(row, col);
            }
        }
    }
}

fn assert_close(ours: f64, torch: f64, what: &str) {
    assert!((ours - torch).abs() < 1e-13, "{what}: {ours} vs PyTorch {torch}");
}

const I: usize = 2;
const H: usize = 3;
const L: usize = 4;
const B: usize = 2;

fn recurrent_input() -> [SMatrix<f64, I, B>; L] {
    core::array::from_fn(|t| SMatrix::from_fn(|i, b| grid(&[t, b, i], 5)))
}

fn h0() -> SMatrix<f64, H, B> {
    SMatrix::from_fn(|j, b| grid(&[b, j], 6))
}

#[test]
fn gru_matches_pytorch() {
    let mut gru = Gru::<f64, I, H>::zeros();
    load(
        &mut gru,
        &[
            &|r, c| grid(&[r, c], 1),
            &|r, c| grid(&[r, c], 2),
            &|r, _| grid(&[r], 3),
            &|r, _| grid(&[r], 4),
        ],
    );
    let (y, h_n) = gru.forward(&(recurrent_input(), h0()));
    for t in 0..L {
        for b in 0..B {
            for j in 0..H {
                assert_close(y[t][(j, b)], GRU_OUTPUT[t][b][j], "GRU output");
            }
        }
    }
    assert_eq!(h_n, y[L - 1]);
}

#[test]
fn lstm_matches_pytorch() {
    let mut lstm = Lstm::<f64, I, H>::zeros();
    load(
        &mut lstm,
        &[
            &|r, c| grid(&[r, c], 7),
            &|r, c| grid(&[r, c], 8),
            &|r, _| grid(&[r], 9),
            &|r, _| grid(&[r], 10),
        ],
    );
    let c0 = SMatrix::from_fn(|j, b| grid(&[b, j], 11));
    let (y, (h_n, c_n)) = lstm.forward(&(recurrent_input(), (h0(), c0)));
    for t in 0..L {
        for b in 0..B {
            for j in 0..H {
                assert_close(y[t][(j, b)], LSTM_OUTPUT[t][b][j], "LSTM output");
            }
        }
    }
    for b in 0..B {
        for j in 0..H {
            assert_close(c_n[(j, b)], LSTM_C_N[b][j], "LSTM c_n");
        }
    }
    assert_eq!(h_n, y[L - 1]);
}

/// A `(N, C, L)` PyTorch input as a time-major sequence.
fn conv_input<const C: usize, const LEN: usize>(salt: usize) -> [SMatrix<f64, C, B>; LEN] {
    core::array::from_fn(|t| SMatrix::from_fn(|c, b| grid(&[b, c, t], salt)))
}

/// Compares a time-major output with PyTorch's `(N, O, L)` array.
fn assert_sequence_close<const O: usize, const LEN: usize>(
    ours: &[SMatrix<f64, O, B>; LEN],
    torch: &[[[f64; LEN]; O]; B],
    what: &str,
) {
    for t in 0..LEN {
        for o in 0..O {
            for b in 0..B {
                assert_close(ours[t][(o, b)], torch[b][o][t], what);
            }
        }
    }
}

/// Loads a conv weight `(3, 2, K)` and bias `(3)` from the grid.
fn load_conv<N: Tensors<f64>, const K: usize>(conv: &mut N, weight_salt: usize) {
    load(
        conv,
        &[&|o, col| grid(&[o, col / K, col % K], weight_salt), &|o, _| {
            grid(&[o], weight_salt + 1)
        }],
    );
}

#[test]
fn conv1d_matches_pytorch_for_stride_padding_dilation_same_and_causal() {
    let mut strided = Conv1d::<f64, 2, 3, 3, 9, 4, 2, Zeros<1>, 2>::zeros();
    load_conv::<_, 3>(&mut strided, 13);
    assert_sequence_close(&strided.forward(&conv_input::<2, 9>(12)), &CONV_STRIDED, "strided conv");

    let x = conv_input::<2, 6>(15);
    let mut same = Conv1d::<f64, 2, 3, 4, 6, 6, 1, Same>::zeros();
    load_conv::<_, 4>(&mut same, 16);
    assert_sequence_close(&same.forward(&x), &CONV_SAME, "same conv");

    type CausalConv = Conv1d<f64, 2, 3, 3, 6, 6, 1, Causal, 2>;
    let mut causal = CausalConv::zeros();
    load_conv::<_, 3>(&mut causal, 18);
    let y = causal.forward(&x);
    assert_sequence_close(&y, &CONV_CAUSAL, "causal conv");
    let mut state = <CausalConv as Stream<f64, SMatrix<f64, 2, B>>>::stream_state();
    for t in 0..6 {
        assert_eq!(causal.step(&x[t], &mut state), y[t]);
    }
}

#[test]
fn pooling_matches_pytorch() {
    let x: [SMatrix<f64, 2, B>; 7] = core::array::from_fn(|t| SMatrix::from_fn(|c, b| POOL_INPUT[b][c][t]));
    assert_sequence_close(&MaxPool1d::<3, 7, 3, 2>.forward(&x), &MAX_POOL, "max pool");
    assert_sequence_close(&AvgPool1d::<3, 7, 3, 2>.forward(&x), &AVG_POOL, "avg pool");
}

#[test]
fn flatten_lines_up_with_pytorch_linear_weights() {
    type Net = (Conv1d<f64, 2, 3, 3, 6, 4>, Flatten<12>, Dense<f64, 12, 2>);
    let mut net = Net::zeroed();
    load_conv::<_, 3>(&mut net.0, 20);
    load(&mut net.2, &[&|r, c| grid(&[r, c], 22), &|r, _| grid(&[r], 23)]);
    let y = net.forward(&conv_input::<2, 6>(15));
    for b in 0..B {
        for o in 0..2 {
            assert_close(y[(o, b)], CONV_FLATTEN_LINEAR[b][o], "conv -> flatten -> linear");
        }
    }
}

// Printed by scripts/sequence_reference.py.
const GRU_OUTPUT: [[[f64; 3]; 2]; 4] = [
    [
        [0.0382450248471005, -0.20390278184814348, 0.29738886619312094],
        [-0.2415300311021122, -0.3094127114553766, 0.023533116271414804],
    ],
    [
        [0.02503363490932722, -0.2861228178105062, 0.21252925641401832],
        [-0.14368387692146173, -0.4462139701482781, 0.07429484594924733],
    ],
    [
        [0.034751123276914736, -0.42251574626617094, 0.19024662001815157],
        [-0.10523398658824352, -0.39633243376932437, 0.06071385827376567],
    ],
    [
        [0.0475157564521259, -0.4757809539441575, 0.16285645092406026],
        [-0.057922986990864796, -0.4767537011016838, 0.09241112115283398],
    ],
];
const LSTM_OUTPUT: [[[f64; 3]; 2]; 4] = [
    [
        [0.011082360949756084, -0.03623217044640448, -0.26763798956567747],
        [0.01782524627252853, 0.03926671357688615, -0.09090762646225317],
    ],
    [
        [0.06300675101793697, -0.042611661972100576, -0.2895494807644612],
        [-0.018755411699589438, 0.030431764514186634, -0.2751139833065877],
    ],
    [
        [0.011950607496235312, -0.02799186352429542, -0.35972018963196845],
        [0.04891198406458828, 0.013733985401747922, -0.29101847381161094],
    ],
    [
        [0.0012427607475153449, -0.019848317093093263, -0.37637962859766494],
        [0.007142581406577835, 0.008085527324748222, -0.35994868792148027],
    ],
];
const LSTM_C_N: [[f64; 3]; 2] = [
    [0.0024096691452991596, -0.05936076995286879, -0.7272153234446888],
    [0.013552949892606716, 0.024129723793939944, -0.6762932884441202],
];
const CONV_STRIDED: [[[f64; 4]; 3]; 2] = [
    [
        [-0.328125, -0.078125, -0.31640625, -0.33984375],
        [0.09375, -0.01171875, 0.2734375, 0.03515625],
        [-0.296875, -0.046875, -0.25390625, -0.25],
    ],
    [
        [-0.45703125, -0.40234375, -0.4375, -0.3046875],
        [0.32421875, 0.05078125, 0.18359375, 0.07421875],
        [-0.3671875, -0.30859375, -0.36328125, -0.2578125],
    ],
];
const CONV_SAME: [[[f64; 6]; 3]; 2] = [
    [
        [-0.30078125, -0.0703125, -0.09765625, -0.328125, 0.1796875, -0.23828125],
        [0.6484375, 0.140625, 0.140625, 0.546875, 0.13671875, 0.3046875],
        [
            -0.23046875,
            -0.00390625,
            0.0234375,
            -0.25390625,
            0.24609375,
            -0.16796875,
        ],
    ],
    [
        [0.1796875, -0.33203125, -0.0546875, -0.08203125, -0.3125, 0.0234375],
        [0.14453125, 0.546875, 0.140625, 0.140625, 0.640625, 0.21484375],
        [0.26171875, -0.25, -0.01953125, 0.0078125, -0.234375, 0.1015625],
    ],
];
const CONV_CAUSAL: [[[f64; 6]; 3]; 2] = [
    [
        [0.06640625, -0.03125, -0.1171875, -0.05078125, 0.125, 0.05859375],
        [-0.4453125, -0.26953125, -0.37109375, -0.3671875, -0.33984375, -0.5],
        [0.109375, 0.05078125, -0.06640625, 0.02734375, 0.2109375, 0.109375],
    ],
    [
        [-0.0703125, 0.0859375, -0.10546875, -0.08984375, 0.01171875, 0.1484375],
        [
            -0.19921875,
            -0.48046875,
            -0.3046875,
            -0.40234375,
            -0.421875,
            -0.37890625,
        ],
        [0.02734375, 0.12109375, 0.00390625, -0.0546875, 0.109375, 0.2109375],
    ],
];
const POOL_INPUT: [[[f64; 7]; 2]; 2] = [
    [
        [
            0.0,
            0.7379313711099627,
            0.9960239899165367,
            0.606453523378315,
            -0.17746242484086014,
            -0.8459837010754461,
            -0.9644053617015307,
        ],
        [
            -0.4557239019148055,
            0.34929133232673487,
            0.927180408695427,
            0.9021718337562941,
            0.29052739534690886,
            -0.5100320402437528,
            -0.9789439169873124,
        ],
    ],
    [
        [
            -0.8112989998441588,
            -0.11610814134245845,
            0.6545818595662513,
            0.9996310013497329,
            0.6946716040871542,
            -0.061996947733243844,
            -0.7783520785342962,
        ],
        [
            -0.9885849534745251,
            -0.5559919652079808,
            0.2381339532480202,
            0.8774136306020448,
            0.9461564284508708,
            0.39966244699214964,
            -0.40671143307933405,
        ],
    ],
];
const MAX_POOL: [[[f64; 3]; 2]; 2] = [
    [
        [0.9960239899165367, 0.9960239899165367, -0.17746242484086014],
        [0.927180408695427, 0.927180408695427, 0.29052739534690886],
    ],
    [
        [0.6545818595662513, 0.9996310013497329, 0.6946716040871542],
        [0.2381339532480202, 0.9461564284508708, 0.9461564284508708],
    ],
];
const AVG_POOL: [[[f64; 3]; 2]; 2] = [
    [
        [0.5779851203421664, 0.47500502948466394, -0.6626171625392789],
        [0.27358261303578546, 0.7066265459328767, -0.3994828539613855],
    ],
    [
        [-0.09094176054012197, 0.7829614883343794, -0.04855914072679527],
        [-0.43548098847816186, 0.6872346707669786, 0.31303581412122883],
    ],
];
const CONV_FLATTEN_LINEAR: [[f64; 2]; 2] = [[0.371826171875, -0.17333984375], [0.229248046875, -0.226806640625]];
