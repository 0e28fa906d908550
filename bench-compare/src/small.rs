//! `-- small`: the four small, latency-bound paths of issue 13, timed exactly as
//! `rtneural/bench.cpp` times RTNeural's compile-time models, so the two programs' figures can
//! be set side by side: one sample per call on rotating inputs, 20,000 calls per round, the
//! median of 41 rounds of this thread's CPU time (preemption by other jobs is not counted),
//! ns per sample; run both programs three times, interleaved, and take the best median.

use std::hint::black_box;

use static_nn::nalgebra::SMatrix;
use static_nn::{Dense, Gru, Init, Layer, Lstm, Parameters, Relu, Rng, Stream, Tanh};

type W1 = (Dense<f32, 2, 16>, Tanh, Dense<f32, 16, 16>, Tanh, Dense<f32, 16, 1>);
type W2 = (Dense<f32, 8, 32>, Relu, Dense<f32, 32, 32>, Relu, Dense<f32, 32, 4>);
type GruNet = (Gru<f32, 1, 16>, Dense<f32, 16, 1>);
type LstmNet = (Lstm<f32, 1, 16>, Dense<f32, 16, 1>);

/// This thread's CPU time in nanoseconds.
pub fn cpu_time() -> f64 {
    let mut t = libc::timespec { tv_sec: 0, tv_nsec: 0 };
    // SAFETY: `t` is a valid, writable timespec; the clock id is a constant libc defines.
    unsafe { libc::clock_gettime(libc::CLOCK_THREAD_CPUTIME_ID, &mut t) };
    t.tv_sec as f64 * 1e9 + t.tv_nsec as f64
}

/// The median over 41 rounds of the CPU time per call of `f`, 20,000 calls a round.
fn median(mut f: impl FnMut() -> f32) -> f64 {
    const CALLS: usize = 20_000;
    let mut rounds: Vec<f64> = (0..41)
        .map(|_| {
            let start = cpu_time();
            let mut sum = 0.0;
            for _ in 0..CALLS {
                sum += f();
            }
            black_box(sum);
            (cpu_time() - start) / CALLS as f64
        })
        .collect();
    rounds.sort_by(f64::total_cmp);
    rounds[rounds.len() / 2]
}

/// 64 inputs of width `N` in [-0.5, 0.5).
fn inputs<const N: usize>(rng: &mut Rng) -> Vec<SMatrix<f32, N, 1>> {
    (0..64)
        .map(|_| SMatrix::from_fn(|_, _| rng.uniform(-0.5, 0.5) as f32))
        .collect()
}

pub fn run() {
    let mut rng = Rng::new(7);
    let (w1_net, w2_net) = (W1::build(Init::PyTorch, &mut rng), W2::build(Init::PyTorch, &mut rng));
    let gru_net = GruNet::build(Init::PyTorch, &mut rng);
    let lstm_net = LstmNet::build(Init::PyTorch, &mut rng);
    let (x1, x2, x) = (inputs::<2>(&mut rng), inputs::<8>(&mut rng), inputs::<1>(&mut rng));
    let (mut gru_state, mut lstm_state) = (GruNet::stream_state(), LstmNet::stream_state());
    let mut i = 0;
    let mut next = || {
        i = (i + 1) % 64;
        i
    };
    let w1 = median(|| w1_net.forward(black_box(&x1[next()]))[0]);
    let w2 = median(|| w2_net.forward(black_box(&x2[next()]))[0]);
    let gru = median(|| gru_net.step(black_box(&x[next()]), &mut gru_state)[0]);
    let lstm = median(|| lstm_net.step(black_box(&x[next()]), &mut lstm_state)[0]);
    println!("{}", crate::machine());
    println!("ns per sample, median of 41 rounds of thread CPU time:");
    println!("W1 {w1:.1}  W2 {w2:.1}  GRU {gru:.1}  LSTM {lstm:.1}");
}
