//! The iris example's training, run by the test suite: the same network, settings, folds and
//! seeds as `cargo run --example iris`, because this file includes the example itself.

#[allow(dead_code)] // the example's `main`
#[path = "../examples/iris.rs"]
mod iris;

use iris::common::Output;

#[test]
fn the_iris_example_reaches_its_held_out_accuracy() {
    let data = iris::data();
    let report = iris::run(&data, Output::Quiet);
    let (mean, _) = report.accuracy();
    assert!(
        mean >= 0.93,
        "held-out accuracy {mean:.3}, folds {:?}",
        report.accuracies
    );
    // Every sample was held out exactly once.
    assert_eq!(report.confusion.total(), 150);
}
