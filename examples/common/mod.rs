//! What the data-set examples share: stratified 5-fold cross-validation of an MLP with
//! standardised inputs, a progress bar with live loss and accuracy, a training-curve plot, and
//! the report compared with scikit-learn's `MLPClassifier` on the same data.
//!
//! Each example includes this module with `#[path = "common/mod.rs"] mod common;` and uses
//! the parts it needs; `tests/iris.rs` includes the iris example itself, so the test trains
//! exactly what the example trains.
#![allow(dead_code)] // each example and test uses a different part

use std::path::{Path, PathBuf};
use std::time::Instant;

use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
use nalgebra::SMatrix;
use rayon::prelude::*;
use static_nn::data::{ConfusionMatrix, Folds, Labelled, Standardiser};
use static_nn::prelude::*;
use static_nn::train::History;

/// How an experiment trains, apart from the network's type and the batch width.
#[derive(Clone, Copy, Debug)]
pub struct Settings {
    /// The data set's name, for messages and the plot's file name.
    pub name: &'static str,
    /// Cross-validation folds.
    pub folds: usize,
    /// Seed of the folds, the weights and the shuffling.
    pub seed: u64,
    /// Epochs per fold: fixed in advance, so the held-out fold selects nothing.
    pub epochs: usize,
    /// Adam's learning rate.
    pub lr: f32,
    /// Adam's L2 penalty (`weight_decay`), as scikit-learn's `alpha`.
    pub weight_decay: f32,
    /// scikit-learn's `MLPClassifier` accuracy on the same folds' protocol (data/README.md).
    pub sklearn: (f64, f64),
}

/// What the program shows while it runs.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Output {
    /// A progress bar, the confusion matrix and a plot.
    Interactive,
    /// Nothing while training; one machine-readable line per fold (for scripts/).
    Timing,
    /// Nothing at all (tests).
    Quiet,
}

impl Output {
    /// `Timing` when the environment variable `STATIC_NN_TIMING` is set, else `Interactive`.
    pub fn from_env() -> Self {
        if std::env::var_os("STATIC_NN_TIMING").is_some() {
            Output::Timing
        } else {
            Output::Interactive
        }
    }
}

/// The outcome of cross-validation.
pub struct Report<const C: usize> {
    /// Held-out accuracy of each fold.
    pub accuracies: Vec<f64>,
    /// Seconds each fold's training took (standardisation, set-up and every epoch); the folds
    /// train at the same time, so these overlap.
    pub seconds: Vec<f64>,
    /// Seconds the whole cross-validation took.
    pub total_seconds: f64,
    /// Every fold's held-out predictions, added up.
    pub confusion: ConfusionMatrix<C>,
    /// Each fold's training history; `validation` is the held-out fold.
    pub histories: Vec<History<f32>>,
}

impl<const C: usize> Report<C> {
    /// Mean and standard deviation (population, as scikit-learn's `cross_val_score(...).std()`)
    /// of the held-out accuracies.
    pub fn accuracy(&self) -> (f64, f64) {
        mean_std(&self.accuracies)
    }
}

pub fn mean_std(values: &[f64]) -> (f64, f64) {
    let n = values.len() as f64;
    let mean = values.iter().sum::<f64>() / n;
    let variance = values.iter().map(|v| (v - mean).powi(2)).sum::<f64>() / n;
    (mean, variance.sqrt())
}

/// Stratified k-fold cross-validation of the network `N`, trained with Adam in batches of `B`
/// on inputs standardised with each training split's statistics.
pub fn cross_validate<N, const I: usize, const C: usize, const B: usize>(
    data: &Labelled<f32, I, C>,
    settings: &Settings,
    output: Output,
) -> Report<C>
where
    N: Layer<f32, SMatrix<f32, I, B>, Output = SMatrix<f32, C, B>>
        + Layer<f32, SMatrix<f32, I, 1>, Output = SMatrix<f32, C, 1>>
        + Send,
{
    cross_validate_then::<N, I, C, B>(data, settings, output, |_, _, _| {})
}

/// [`cross_validate`], calling `trained(net, train, test)` with each fold's trained network and
/// its standardised training and held-out samples, fold after fold once all are trained.
///
/// The folds train at the same time, one per core (rayon's pool: `RAYON_NUM_THREADS` limits
/// it). Each builds its own network, optimizer and trainer from the fold's seed, so the report
/// is the same on one core or many.
pub fn cross_validate_then<N, const I: usize, const C: usize, const B: usize>(
    data: &Labelled<f32, I, C>,
    settings: &Settings,
    output: Output,
    mut trained: impl FnMut(&N, &[([f32; I], Class<C>)], &[([f32; I], Class<C>)]),
) -> Report<C>
where
    N: Layer<f32, SMatrix<f32, I, B>, Output = SMatrix<f32, C, B>>
        + Layer<f32, SMatrix<f32, I, 1>, Output = SMatrix<f32, C, 1>>
        + Send,
{
    let start = Instant::now();
    let folds = Folds::stratified(&data.samples, settings.folds, settings.seed);
    let bar = progress_bar(settings, output);
    let fits: Vec<Fit<N, I, C>> = (0..folds.k())
        .into_par_iter()
        .map(|fold| fit_fold::<N, I, C, B>(data, &folds, fold, settings, output, &bar))
        .collect();
    bar.finish_and_clear();
    let mut report = Report {
        accuracies: Vec::new(),
        seconds: Vec::new(),
        total_seconds: 0.0,
        confusion: ConfusionMatrix::new(),
        histories: Vec::new(),
    };
    for (fold, fit) in fits.into_iter().enumerate() {
        trained(&*fit.net, &fit.train, &fit.test);
        let confusion = ConfusionMatrix::of(&*fit.net, &fit.test);
        for (total, fold_row) in report.confusion.counts.iter_mut().zip(confusion.counts) {
            for (t, c) in total.iter_mut().zip(fold_row) {
                *t += c;
            }
        }
        if output == Output::Timing {
            println!(
                "fold={} epochs={} fit_seconds={:.6} accuracy={:.6}",
                fold + 1,
                settings.epochs,
                fit.seconds,
                confusion.accuracy()
            );
        }
        report.accuracies.push(confusion.accuracy());
        report.seconds.push(fit.seconds);
        report.histories.push(fit.history);
    }
    report.total_seconds = start.elapsed().as_secs_f64();
    if output == Output::Timing {
        println!(
            "protocol_seconds={:.6} threads={}",
            report.total_seconds,
            rayon::current_num_threads()
        );
    }
    report
}

/// One trained fold: the network, its standardised splits, the seconds its training took and
/// its history.
struct Fit<N, const I: usize, const C: usize> {
    net: Box<N>,
    train: Vec<([f32; I], Class<C>)>,
    test: Vec<([f32; I], Class<C>)>,
    seconds: f64,
    history: History<f32>,
}

/// Standardises fold `fold`'s splits and trains a network on it. The held-out fold is scored
/// after every epoch for the curves only: nothing is chosen on it (no early stopping; the epoch
/// count is fixed); in timing mode it is not scored until the end, as scikit-learn's `fit` does
/// not score it.
fn fit_fold<N, const I: usize, const C: usize, const B: usize>(
    data: &Labelled<f32, I, C>,
    folds: &Folds,
    fold: usize,
    settings: &Settings,
    output: Output,
    bar: &ProgressBar,
) -> Fit<N, I, C>
where
    N: Layer<f32, SMatrix<f32, I, B>, Output = SMatrix<f32, C, B>>
        + Layer<f32, SMatrix<f32, I, 1>, Output = SMatrix<f32, C, 1>>,
{
    let start = Instant::now();
    let (mut train, mut test) = folds.split(fold, &data.samples);
    let standardiser = Standardiser::fit(&train);
    standardiser.apply(&mut train);
    standardiser.apply(&mut test);

    let mut net = N::build_boxed(Init::HeUniform, &mut Rng::new(settings.seed + fold as u64));
    let mut adam = Adam::<f32, N>::new_boxed(AdamConfig {
        weight_decay: settings.weight_decay,
        ..AdamConfig::with_lr(settings.lr)
    });
    let mut trainer = Trainer::<f32, N, I, B>::new(TrainConfig {
        seed: settings.seed + fold as u64,
        ..TrainConfig::with_epochs(settings.epochs)
    });
    let held_out = (output != Output::Timing).then_some(&test[..]);
    let history = trainer
        .fit(&mut *net, &mut *adam, &CrossEntropy, &train, held_out, |record| {
            if let Some(held_out) = record.validation {
                bar.set_message(format!(
                    "fold {}/{}  loss {:.4}  accuracy: train {:5.1}%  held-out {:5.1}%",
                    fold + 1,
                    folds.k(),
                    record.train.loss,
                    100.0 * record.train.accuracy.unwrap_or(0.0),
                    100.0 * held_out.accuracy.unwrap_or(0.0)
                ));
            }
            bar.inc(1);
        })
        .expect("training failed");
    Fit {
        net,
        train,
        test,
        seconds: start.elapsed().as_secs_f64(),
        history,
    }
}

fn progress_bar(settings: &Settings, output: Output) -> ProgressBar {
    let bar = ProgressBar::new((settings.folds * settings.epochs) as u64);
    if output == Output::Interactive {
        bar.set_style(
            ProgressStyle::with_template("{prefix} [{bar:30}] {pos}/{len} epochs  {msg}")
                .expect("a valid template")
                .progress_chars("=> "),
        );
        bar.set_prefix(settings.name);
    } else {
        bar.set_draw_target(ProgressDrawTarget::hidden());
    }
    bar
}

/// Prints the summary of an interactive run and writes the plot.
pub fn summarise<const I: usize, const C: usize>(
    data: &Labelled<f32, I, C>,
    architecture: &str,
    batch: usize,
    settings: &Settings,
    report: &Report<C>,
) {
    let (mean, std) = report.accuracy();
    let (sk_mean, sk_std) = settings.sklearn;
    println!(
        "{}: {} samples, {I} features, {C} classes; network {architecture}",
        settings.name,
        data.samples.len()
    );
    println!(
        "Adam lr {}, weight decay {}, batch {batch}, {} epochs; inputs standardised on each training split",
        settings.lr, settings.weight_decay, settings.epochs
    );
    let folds: Vec<String> = report.accuracies.iter().map(|a| format!("{:.3}", a)).collect();
    println!(
        "\nheld-out accuracy, stratified {}-fold: {mean:.3} ± {std:.3}  (folds {})",
        settings.folds,
        folds.join(", ")
    );
    println!("scikit-learn MLPClassifier, same protocol: {sk_mean:.3} ± {sk_std:.3}");
    println!(
        "cross-validation: {:.1} ms, the folds on {} threads at once ({:.1} ms per fold, median)\n",
        1e3 * report.total_seconds,
        rayon::current_num_threads(),
        1e3 * median(&report.seconds)
    );
    println!(
        "held-out predictions of all folds:\n{}",
        report.confusion.with_names(&data.class_names)
    );
    match plot_curves(settings, report) {
        Ok(path) => println!("training curves: {}", path.display()),
        Err(error) => eprintln!("could not draw the training curves: {error}"),
    }
}

pub fn median(values: &[f64]) -> f64 {
    let mut sorted = values.to_vec();
    sorted.sort_by(f64::total_cmp);
    let n = sorted.len();
    if n % 2 == 1 {
        sorted[n / 2]
    } else {
        (sorted[n / 2 - 1] + sorted[n / 2]) / 2.0
    }
}

/// Mean over the folds of each epoch's training and held-out loss and accuracy, drawn as two
/// panels into `target/plots/<name>.svg`.
fn plot_curves<const C: usize>(settings: &Settings, report: &Report<C>) -> Result<PathBuf, Box<dyn std::error::Error>> {
    use plotters::prelude::*;

    let epochs = settings.epochs;
    let mean_over_folds = |value: &dyn Fn(&static_nn::train::EpochRecord<f32>) -> f32| -> Vec<(f64, f64)> {
        (0..epochs)
            .map(|e| {
                let sum: f64 = report.histories.iter().map(|h| f64::from(value(&h.epochs[e]))).sum();
                ((e + 1) as f64, sum / report.histories.len() as f64)
            })
            .collect()
    };
    let train_loss = mean_over_folds(&|r| r.train.loss);
    let held_out_loss = mean_over_folds(&|r| r.validation.map_or(f32::NAN, |v| v.loss));
    let train_accuracy = mean_over_folds(&|r| 100.0 * r.train.accuracy.unwrap_or(0.0));
    let held_out_accuracy = mean_over_folds(&|r| 100.0 * r.validation.and_then(|v| v.accuracy).unwrap_or(0.0));

    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("target/plots");
    std::fs::create_dir_all(&dir)?;
    let path = dir.join(format!("{}.svg", settings.name.replace(' ', "_")));
    let file = path.clone();
    let root = SVGBackend::new(&file, (1000, 400)).into_drawing_area();
    root.fill(&WHITE)?;
    let (left, right) = root.split_horizontally(500);
    let x_range = 1.0..epochs as f64;
    let plain = |v: &f64| format!("{v}");

    let losses = train_loss.iter().chain(&held_out_loss).map(|p| p.1);
    let (low, high) = losses.fold((f64::INFINITY, 0.0_f64), |(l, h), v| (l.min(v), h.max(v)));
    let mut chart = ChartBuilder::on(&left)
        .caption(
            format!("{}: cross-entropy (mean of {} folds)", settings.name, settings.folds),
            ("sans-serif", 18),
        )
        .margin(12)
        .x_label_area_size(36)
        .y_label_area_size(56)
        .build_cartesian_2d(x_range.clone(), (low * 0.8..high * 1.2).log_scale())?;
    chart
        .configure_mesh()
        .light_line_style(WHITE)
        .x_desc("epoch")
        .y_desc("loss (log scale)")
        .x_label_formatter(&plain)
        .y_label_formatter(&|v| format!("{v:.2}"))
        .draw()?;
    draw_pair(&mut chart, &train_loss, &held_out_loss)?;

    let lowest = train_accuracy
        .iter()
        .chain(&held_out_accuracy)
        .map(|p| p.1)
        .fold(100.0_f64, f64::min);
    let mut chart = ChartBuilder::on(&right)
        .caption(format!("{}: accuracy", settings.name), ("sans-serif", 18))
        .margin(12)
        .x_label_area_size(36)
        .y_label_area_size(56)
        .build_cartesian_2d(x_range, (lowest - 2.0).max(0.0)..100.5)?;
    chart
        .configure_mesh()
        .light_line_style(WHITE)
        .x_desc("epoch")
        .y_desc("accuracy (%)")
        .x_label_formatter(&plain)
        .y_label_formatter(&plain)
        .draw()?;
    draw_pair(&mut chart, &train_accuracy, &held_out_accuracy)?;
    root.present()?;
    Ok(path)
}

fn draw_pair<'a, DB: plotters::prelude::DrawingBackend + 'a, CT>(
    chart: &mut plotters::prelude::ChartContext<'a, DB, CT>,
    train: &[(f64, f64)],
    held_out: &[(f64, f64)],
) -> Result<(), Box<dyn std::error::Error>>
where
    CT: plotters::coord::CoordTranslate<From = (f64, f64)>,
    DB::ErrorType: 'static,
{
    use plotters::prelude::*;
    let blue = RGBColor(31, 119, 180);
    let orange = RGBColor(255, 127, 14);
    chart
        .draw_series(LineSeries::new(train.iter().copied(), blue.stroke_width(2)))?
        .label("training")
        .legend(move |(x, y)| PathElement::new(vec![(x, y), (x + 20, y)], blue.stroke_width(2)));
    chart
        .draw_series(LineSeries::new(held_out.iter().copied(), orange.stroke_width(2)))?
        .label("held-out fold")
        .legend(move |(x, y)| PathElement::new(vec![(x, y), (x + 20, y)], orange.stroke_width(2)));
    chart
        .configure_series_labels()
        .position(SeriesLabelPosition::MiddleRight)
        .background_style(WHITE.mix(0.8))
        .border_style(BLACK)
        .draw()?;
    Ok(())
}
