//! Times static-nn, dfdx 0.13, a plain nalgebra implementation and the same with its products
//! through `matrixmultiply` (see `nalgebra_impl`) on the four reference workloads, in one
//! process, interleaved round by round, on one thread, f32:
//!
//! - W1 2-16-16-1 tanh, MSE, batch 1
//! - W2 8-32-32-4 relu, MSE, batch 8
//! - W3 784-128-10 relu, softmax cross-entropy, batch 32
//! - W4 16-(64 × 6)-16 relu, MSE, batch 16
//!
//! A training step is forward, loss, backward and an Adam update (lr 1e-3, PyTorch's defaults);
//! inference is one forward pass. Every implementation cycles through the same
//! [`FRESH_BATCHES`] random batches with random targets (fixed seeds), one per step. The program
//! prints the CPU, the instruction sets in use and the measured one-core peak, then median times
//! per step, ratios to static-nn, and heap allocations per step counted by the global allocator
//! of this binary; last, a separately labelled row times W1 after a long run on one fixed batch
//! (the subnormal regime).
//!
//! `cargo run --release -p bench-compare` (add `-- quick` for a shorter run). `-- long [STEPS]`
//! trains W1 for millions of steps and prints the time per step as Adam's state decays
//! towards subnormal numbers. `-- small` times static-nn's small paths (W1, W2, GRU-16 and
//! LSTM-16 streaming steps) the way `rtneural/bench.cpp` times RTNeural's. `-- parts` times
//! W1's training step and its parts (gradient, Adam's update, forward) against the plain
//! nalgebra step. `-- fused` times each workload's fused training step against the same step
//! unfused (gradient, then the update). `-- guard` times the guarded training step against the
//! plain one on W1 and W3, taking turns. `kernels=avx2` or `kernels=avx512` anywhere on the
//! command line forces static-nn's instruction set instead of its calibration at first use.

mod dfdx_impl;
mod fused;
mod guard;
mod kernels;
mod nalgebra_impl;
mod parts;
mod peak;
mod small;
mod static_nn_impl;

use std::alloc::{GlobalAlloc, Layout, System};
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Instant;

/// Counts every allocation (and reallocation) made by the process.
struct Counting;

static ALLOCATIONS: AtomicU64 = AtomicU64::new(0);

// SAFETY: every call is forwarded unchanged to the system allocator; only a counter is added.
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        ALLOCATIONS.fetch_add(1, Ordering::Relaxed);
        unsafe { System.alloc(layout) }
    }
    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        unsafe { System.dealloc(ptr, layout) }
    }
    unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
        ALLOCATIONS.fetch_add(1, Ordering::Relaxed);
        unsafe { System.alloc_zeroed(layout) }
    }
    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        ALLOCATIONS.fetch_add(1, Ordering::Relaxed);
        unsafe { System.realloc(ptr, layout, new_size) }
    }
}

#[global_allocator]
static GLOBAL: Counting = Counting;

/// One implementation of one workload: a training step and an inference pass on fixed data.
pub struct Contender {
    pub name: &'static str,
    pub train: Box<dyn FnMut()>,
    pub infer: Box<dyn FnMut()>,
}

/// One workload: its name, batch width, FLOPs of an inference pass (matrix products), and the
/// contenders, static-nn first.
pub struct Workload {
    pub name: &'static str,
    pub batch: usize,
    pub inference_flops: f64,
    pub contenders: Vec<Contender>,
}

/// How many distinct batches each implementation cycles through: every step trains on the next
/// one, as a real training loop does. Training on one fixed batch instead lets a network converge
/// until its gradients and optimizer state are subnormal numbers, whose arithmetic is many times
/// slower on x86-64; that measures the CPU's subnormal penalty, not the implementation, so it is
/// a separate, labelled row ([`SUBNORMAL_STEPS`]).
pub const FRESH_BATCHES: usize = 8;

/// Steps on one fixed batch before the labelled subnormal-regime row is timed.
pub const SUBNORMAL_STEPS: u64 = 300_000;

/// The batches of one workload, the same values for every implementation: inputs `I × B`
/// column-major (which is also row-major `B × I`) uniform in [-1, 1], regression targets
/// `K × B` column-major uniform in [-1, 1], or classes uniform in `0..K`.
pub struct Batches {
    pub inputs: Vec<Vec<f32>>,
    pub targets: Vec<Vec<f32>>,
    pub classes: Vec<Vec<usize>>,
}

impl Batches {
    /// `count` batches of `batch` samples with `inputs` features and `outputs` targets (or
    /// classes), drawn from one fixed seed.
    pub fn new(count: usize, inputs: usize, outputs: usize, batch: usize) -> Self {
        let mut rng = static_nn::Rng::new(3);
        let mut draw = |len: usize| (0..len).map(|_| rng.uniform(-1.0, 1.0) as f32).collect::<Vec<f32>>();
        let inputs_and_targets: Vec<(Vec<f32>, Vec<f32>)> = (0..count)
            .map(|_| (draw(inputs * batch), draw(outputs * batch)))
            .collect();
        let mut rng = static_nn::Rng::new(4);
        let classes = (0..count)
            .map(|_| (0..batch).map(|_| rng.below(outputs as u64) as usize).collect())
            .collect();
        let (inputs, targets) = inputs_and_targets.into_iter().unzip();
        Self {
            inputs,
            targets,
            classes,
        }
    }

    /// The batches of workload `k` (0 for W1 ... 3 for W4).
    pub fn of_workload(k: usize, count: usize) -> Self {
        let (inputs, outputs, batch) = WORKLOAD_SHAPES[k];
        Self::new(count, inputs, outputs, batch)
    }
}

/// `(inputs, outputs, batch)` of W1 ... W4.
pub const WORKLOAD_SHAPES: [(usize, usize, usize); 4] = [(2, 1, 1), (8, 4, 8), (784, 10, 32), (16, 16, 16)];

/// The index after `i` in a cycle of `n`.
#[inline(always)]
pub fn next(i: &mut usize, n: usize) -> usize {
    let current = *i;
    *i = if current + 1 == n { 0 } else { current + 1 };
    current
}

fn allocations_per_call(f: &mut dyn FnMut(), calls: u64) -> f64 {
    f();
    let before = ALLOCATIONS.load(Ordering::Relaxed);
    for _ in 0..calls {
        f();
    }
    (ALLOCATIONS.load(Ordering::Relaxed) - before) as f64 / calls as f64
}

/// Iterations per round so that a round takes about `target` seconds.
fn calibrate(f: &mut dyn FnMut(), target: f64) -> u64 {
    let mut n = 1u64;
    loop {
        let start = Instant::now();
        for _ in 0..n {
            f();
        }
        let elapsed = start.elapsed().as_secs_f64();
        if elapsed > target / 4.0 || n > 1 << 24 {
            return ((n as f64 * target / elapsed.max(1e-9)) as u64).max(1);
        }
        n *= 2;
    }
}

fn median(values: &mut [f64]) -> f64 {
    values.sort_by(f64::total_cmp);
    values[values.len() / 2]
}

fn format_time(seconds: f64) -> String {
    if seconds < 1e-6 {
        format!("{:.1} ns", seconds * 1e9)
    } else if seconds < 1e-3 {
        format!("{:.2} µs", seconds * 1e6)
    } else {
        format!("{:.3} ms", seconds * 1e3)
    }
}

struct Timing {
    train: f64,
    infer: f64,
    train_spread: f64,
    infer_spread: f64,
    train_allocations: f64,
    infer_allocations: f64,
}

/// Median time per call of each contender's training step and inference, measured in `rounds`
/// interleaved rounds (every contender once per round, in turn), and the relative spread
/// (interquartile range over median).
fn measure(workload: &mut Workload, rounds: usize, round_seconds: f64) -> Vec<Timing> {
    let n = workload.contenders.len();
    let mut iterations = Vec::new();
    for c in &mut workload.contenders {
        iterations.push((
            calibrate(&mut c.train, round_seconds),
            calibrate(&mut c.infer, round_seconds),
        ));
    }
    let mut train = vec![Vec::new(); n];
    let mut infer = vec![Vec::new(); n];
    for _ in 0..rounds {
        for (i, c) in workload.contenders.iter_mut().enumerate() {
            let (train_iterations, infer_iterations) = iterations[i];
            let start = Instant::now();
            for _ in 0..train_iterations {
                (c.train)();
            }
            train[i].push(start.elapsed().as_secs_f64() / train_iterations as f64);
            let start = Instant::now();
            for _ in 0..infer_iterations {
                (c.infer)();
            }
            infer[i].push(start.elapsed().as_secs_f64() / infer_iterations as f64);
        }
    }
    let spread = |v: &mut Vec<f64>| {
        let m = median(v);
        (v[v.len() * 3 / 4] - v[v.len() / 4]) / m
    };
    workload
        .contenders
        .iter_mut()
        .enumerate()
        .map(|(i, c)| Timing {
            train: median(&mut train[i]),
            infer: median(&mut infer[i]),
            train_spread: spread(&mut train[i]),
            infer_spread: spread(&mut infer[i]),
            train_allocations: allocations_per_call(&mut c.train, 20),
            infer_allocations: allocations_per_call(&mut c.infer, 20),
        })
        .collect()
}

/// The CPU's model name as the kernel reports it (`/proc/cpuinfo`), and the vector instruction
/// sets it offers that matter here.
fn machine() -> String {
    let model = std::fs::read_to_string("/proc/cpuinfo")
        .ok()
        .and_then(|info| {
            info.lines()
                .find(|l| l.starts_with("model name"))
                .and_then(|l| l.split(':').nth(1))
                .map(|m| m.trim().to_string())
        })
        .unwrap_or_else(|| "unknown CPU".to_string());
    #[cfg(target_arch = "x86_64")]
    let features: Vec<&str> = [
        ("avx2", std::is_x86_feature_detected!("avx2")),
        ("fma", std::is_x86_feature_detected!("fma")),
        ("avx512f", std::is_x86_feature_detected!("avx512f")),
        ("avx512vnni", std::is_x86_feature_detected!("avx512vnni")),
    ]
    .into_iter()
    .filter_map(|(name, found)| found.then_some(name))
    .collect();
    #[cfg(not(target_arch = "x86_64"))]
    let features: Vec<&str> = Vec::new();
    format!(
        "CPU: {model}; it offers {}; static-nn's kernels run {}",
        features.join(", "),
        kernels::report()
    )
}

fn workload(k: usize, count: usize) -> Workload {
    let make = [
        static_nn_impl::w1,
        static_nn_impl::w2,
        static_nn_impl::w3,
        static_nn_impl::w4,
    ][k];
    let mut workload = make(count);
    workload
        .contenders
        .push(nalgebra_impl::contender::<nalgebra_impl::Plain>(k, count));
    workload
        .contenders
        .push(nalgebra_impl::contender::<nalgebra_impl::Blocked>(k, count));
    workload.contenders.push(dfdx_impl::contender(k, count));
    workload
}

fn run() {
    let quick = std::env::args().any(|a| a == "quick");
    let (rounds, round_seconds) = if quick { (11, 0.01) } else { (31, 0.02) };
    println!("{}", machine());
    let peak = peak::measure();
    println!("{peak}");
    println!();
    println!(
        "Every implementation trains and infers on the same {FRESH_BATCHES} random batches with random targets, in turn."
    );
    println!();
    println!(
        "| workload | implementation | train step | ratio | allocs/step | inference | ratio | allocs | inference GFLOP/s |"
    );
    println!("|---|---|---|---|---|---|---|---|---|");
    for k in 0..4 {
        let mut workload = workload(k, FRESH_BATCHES);
        let timings = measure(&mut workload, rounds, round_seconds);
        let ours = (timings[0].train, timings[0].infer);
        for (c, t) in workload.contenders.iter().zip(&timings) {
            println!(
                "| {} (batch {}) | {} | {} ±{:.0}% | {:.2} | {} | {} ±{:.0}% | {:.2} | {} | {:.1} |",
                workload.name,
                workload.batch,
                c.name,
                format_time(t.train),
                t.train_spread * 50.0,
                t.train / ours.0,
                t.train_allocations,
                format_time(t.infer),
                t.infer_spread * 50.0,
                t.infer / ours.1,
                t.infer_allocations,
                workload.inference_flops / t.infer / 1e9,
            );
        }
    }
    println!();
    println!("ratio = time / static-nn's time (above 1: static-nn is faster); ± is half the interquartile range.");
    println!();
    subnormal_regime(
        rounds,
        round_seconds,
        if quick { SUBNORMAL_STEPS / 3 } else { SUBNORMAL_STEPS },
    );
}

/// The labelled long-run row: W1 trained on one fixed batch for `steps` steps before timing.
/// The peers' gradients and Adam moments then decay into subnormal numbers, which x86-64 computes
/// with slow microcode; static-nn stores subnormal optimizer state as zero (a real feature, but
/// not the speed of the implementations on fresh data).
fn subnormal_regime(rounds: usize, round_seconds: f64, steps: u64) {
    let mut workload = workload(0, 1);
    for c in &mut workload.contenders {
        for _ in 0..steps {
            (c.train)();
        }
    }
    let timings = measure(&mut workload, rounds, round_seconds);
    println!(
        "Subnormal regime (not a like-for-like speed comparison): W1 trained on one fixed batch, timed after {steps} steps."
    );
    println!();
    println!("| workload | implementation | train step | ratio |");
    println!("|---|---|---|---|");
    for (c, t) in workload.contenders.iter().zip(&timings) {
        println!(
            "| W1 one fixed batch, after {steps} steps | {} | {} ±{:.0}% | {:.2} |",
            c.name,
            format_time(t.train),
            t.train_spread * 50.0,
            t.train / timings[0].train,
        );
    }
}

/// `loop WORKLOAD train|infer CONTENDER N`: runs one contender `N` times and nothing else, for
/// `perf stat -e cycles:u`, whose count does not depend on what else the machine is doing.
fn run_loop(args: &[String]) {
    let k: usize = args[0].trim_start_matches(['w', 'W']).parse::<usize>().unwrap() - 1;
    let mut workload = workload(k, FRESH_BATCHES);
    let contender = workload
        .contenders
        .iter_mut()
        .find(|c| c.name.starts_with(args[2].as_str()))
        .unwrap();
    let n: u64 = args[3].parse().unwrap();
    let f = if args[1] == "train" {
        &mut contender.train
    } else {
        &mut contender.infer
    };
    for _ in 0..n {
        f();
    }
}

fn main() {
    let mut args: Vec<String> = std::env::args().skip(1).collect();
    kernels::force_from_arguments(&mut args);
    if args.first().is_some_and(|a| a == "long") {
        let steps = args.get(1).map_or(3_000_000, |n| n.parse().unwrap());
        static_nn_impl::long_run(steps);
        return;
    }
    if args.first().is_some_and(|a| a == "parts") {
        parts::run();
        return;
    }
    if args.first().is_some_and(|a| a == "fused") {
        fused::run();
        return;
    }
    if args.first().is_some_and(|a| a == "guard") {
        guard::run();
        return;
    }
    if args.first().is_some_and(|a| a == "small") {
        small::run();
        return;
    }
    if args.first().is_some_and(|a| a == "loop") {
        rayon::ThreadPoolBuilder::new().num_threads(1).build_global().unwrap();
        let args = args[1..].to_vec();
        std::thread::Builder::new()
            .stack_size(256 << 20)
            .spawn(move || run_loop(&args))
            .unwrap()
            .join()
            .unwrap();
        return;
    }
    // dfdx's matrix products would otherwise use every core; the comparison is for one.
    rayon::ThreadPoolBuilder::new().num_threads(1).build_global().unwrap();
    // W3's matrices and optimizer states are large; the plain nalgebra version keeps them on
    // the stack as a user would write it.
    std::thread::Builder::new()
        .stack_size(256 << 20)
        .spawn(run)
        .unwrap()
        .join()
        .unwrap();
}
