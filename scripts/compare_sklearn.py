#!/usr/bin/env python3
"""Times static-nn against scikit-learn's MLPClassifier on the UCI digits (data/digits.csv).

Both fit the same model: 64 inputs, one hidden layer of 64 ReLU units, 10 outputs, Adam with
learning rate 1e-3, batches of 32, standardised inputs, on the five training splits of a
stratified 5-fold cross-validation; both are scored on the held-out fold.

- static-nn: `cargo run --release --example digits` with STATIC_NN_TIMING set, which prints each
  fold's training time (standardisation, set-up and 100 epochs) and held-out accuracy.
- scikit-learn, as configured in data/README.md (its defaults: L2 alpha 1e-4, at most 200
  epochs, stopping once the training loss has not improved by 1e-4 for 10 epochs); and again
  for exactly 100 epochs, as many as static-nn runs, for a per-epoch comparison.

Every fit is repeated (--repeats, default 5) and the median time is reported, with the spread
of the repeats, because the machine may be busy. Usage:

    pip install scikit-learn
    python3 scripts/compare_sklearn.py [--repeats N] [--threads N]
"""

import argparse
import os
import platform
import re
import statistics
import subprocess
import sys
import time
import warnings
from pathlib import Path

import numpy as np
import sklearn
from sklearn.exceptions import ConvergenceWarning
from sklearn.model_selection import StratifiedKFold
from sklearn.neural_network import MLPClassifier
from sklearn.preprocessing import StandardScaler
from threadpoolctl import threadpool_limits

ROOT = Path(__file__).resolve().parent.parent
EPOCHS = 100  # what examples/digits.rs trains


def cpu_model():
    try:
        out = subprocess.run(["lscpu"], capture_output=True, text=True, check=True).stdout
        for line in out.splitlines():
            if line.startswith("Model name:"):
                return line.split(":", 1)[1].strip()
    except (OSError, subprocess.CalledProcessError):
        pass
    return platform.processor() or "unknown CPU"


def sklearn_folds(x, y, fixed_epochs):
    """(seconds, accuracy, epochs) of each fold's fit."""
    results = []
    folds = StratifiedKFold(n_splits=5, shuffle=True, random_state=0)
    for fold, (train, test) in enumerate(folds.split(x, y)):
        scaler = StandardScaler().fit(x[train])
        x_train, x_test = scaler.transform(x[train]), scaler.transform(x[test])
        options = dict(hidden_layer_sizes=(64,), activation="relu", solver="adam",
                       learning_rate_init=1e-3, batch_size=32, random_state=fold)
        if fixed_epochs:
            # No early stop: exactly EPOCHS epochs.
            options.update(max_iter=EPOCHS, n_iter_no_change=EPOCHS + 1, tol=0.0)
        model = MLPClassifier(**options)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", ConvergenceWarning)
            start = time.perf_counter()
            model.fit(x_train, y[train])
            seconds = time.perf_counter() - start
        results.append((seconds, model.score(x_test, y[test]), model.n_iter_))
    return results


def static_nn_folds(binary):
    out = subprocess.run([binary], capture_output=True, text=True, check=True,
                         env={**os.environ, "STATIC_NN_TIMING": "1"}).stdout
    results = []
    for line in out.splitlines():
        fields = dict(re.findall(r"(\w+)=(\S+)", line))
        results.append((float(fields["fit_seconds"]), float(fields["accuracy"]), int(fields["epochs"])))
    if len(results) != 5:
        sys.exit(f"unexpected output from {binary}:\n{out}")
    return results


def summarise(name, repeats):
    """repeats: a list (one per repeat) of lists of (seconds, accuracy, epochs) per fold."""
    per_fold = [statistics.median(r[f][0] for r in repeats) for f in range(5)]
    fit = statistics.median(per_fold)
    # Spread: each repeat's median fold time, relative to the overall median.
    repeat_medians = [statistics.median(f[0] for f in r) for r in repeats]
    spread = (min(repeat_medians) / fit - 1, max(repeat_medians) / fit - 1)
    accuracies = [f[1] for f in repeats[0]]
    epochs = statistics.median(f[2] for r in repeats for f in r)
    return {
        "name": name, "fit": fit, "spread": spread, "epochs": epochs,
        "per_epoch_ms": 1e3 * fit / epochs,
        "accuracy": (statistics.mean(accuracies), statistics.pstdev(accuracies)),
    }


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--threads", type=int, default=None,
                        help="limit scikit-learn's BLAS threads (static-nn uses one)")
    args = parser.parse_args()

    data = np.loadtxt(ROOT / "data" / "digits.csv", delimiter=",")
    x, y = data[:, :-1], data[:, -1].astype(int)

    subprocess.run(["cargo", "build", "--release", "--quiet", "--example", "digits"], cwd=ROOT, check=True)
    binary = ROOT / "target" / "release" / "examples" / "digits"

    runs = {"static-nn": [], "scikit-learn (defaults)": [], f"scikit-learn ({EPOCHS} epochs)": []}
    with threadpool_limits(limits=args.threads):
        for repeat in range(args.repeats):
            print(f"repeat {repeat + 1}/{args.repeats}", file=sys.stderr)
            runs["static-nn"].append(static_nn_folds(binary))
            runs["scikit-learn (defaults)"].append(sklearn_folds(x, y, fixed_epochs=False))
            runs[f"scikit-learn ({EPOCHS} epochs)"].append(sklearn_folds(x, y, fixed_epochs=True))

    threads = args.threads if args.threads else "default"
    print(f"digits, 64-64-10 ReLU, Adam lr 1e-3, batch 32, stratified 5-fold; {args.repeats} repeats")
    print(f"{cpu_model()}; Python {platform.python_version()}, scikit-learn {sklearn.__version__} "
          f"(BLAS threads: {threads}), static-nn single-threaded, f32")
    print(f"{'':<28} {'fit (median)':>13} {'repeats spread':>16} {'epochs':>7} {'per epoch':>10} {'held-out accuracy':>19}")
    summaries = [summarise(name, repeats) for name, repeats in runs.items()]
    for s in summaries:
        low, high = s["spread"]
        mean, std = s["accuracy"]
        print(f"{s['name']:<28} {s['fit']:>11.3f} s {100 * low:>+6.0f}%..{100 * high:+.0f}% "
              f"{s['epochs']:>7.0f} {s['per_epoch_ms']:>7.2f} ms {mean:>12.3f} ± {std:.3f}")
    ours = summaries[0]
    for s in summaries[1:]:
        print(f"static-nn is {s['fit'] / ours['fit']:.1f}x faster per fit and "
              f"{s['per_epoch_ms'] / ours['per_epoch_ms']:.1f}x per epoch than {s['name']}")


if __name__ == "__main__":
    main()
