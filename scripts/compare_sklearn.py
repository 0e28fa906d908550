#!/usr/bin/env python3
"""Times static-nn against scikit-learn's MLPClassifier on the UCI digits (data/digits.csv).

Both run the same protocol: a stratified 5-fold cross-validation of one model (64 inputs, one
hidden layer of 64 ReLU units, 10 outputs, Adam with learning rate 1e-3, batches of 32), each
fold standardised on its training split, trained on it and scored on the held-out fold.

- static-nn: `cargo run --release --example digits` with STATIC_NN_TIMING set, 100 epochs per
  fold. The five folds train at the same time, one per core (rayon; RAYON_NUM_THREADS=1 for
  one core). Its time is the whole process's wall time: start-up, reading the CSV, the folds,
  the standardisation, training and scoring. It also prints each fold's training time.
- scikit-learn, as configured in data/README.md (its defaults: L2 alpha 1e-4, at most 200
  epochs, stopping once the training loss has not improved by 1e-4 for 10 epochs); and again
  for exactly 100 epochs, as many as static-nn runs, for a per-epoch comparison. Its time is
  the wall time of the same protocol in this process (splits, scaler, fits, scoring); its folds
  run one after another, and its BLAS may use every core (the thread count is printed).

Every protocol is repeated (--repeats, default 5) and the median time is reported, with the
spread of the repeats, because the machine may be busy. Each side's CPU time (every thread's,
user and system) is reported too: on a machine shared with other jobs it moves less than the
wall time. Usage:

    pip install scikit-learn threadpoolctl
    python3 scripts/compare_sklearn.py [--repeats N] [--threads N]
"""

import argparse
import os
import platform
import re
import resource
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
from threadpoolctl import threadpool_info, threadpool_limits

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


def sklearn_protocol(x, y, fixed_epochs):
    """(wall seconds, CPU seconds of the whole protocol, [(fit seconds, accuracy, epochs) per fold])."""
    results = []
    begin, begin_cpu = time.perf_counter(), time.process_time()
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
    return time.perf_counter() - begin, time.process_time() - begin_cpu, results


def static_nn_protocol(binary, threads):
    """As sklearn_protocol, timing the whole process; `threads` sets RAYON_NUM_THREADS."""
    env = {**os.environ, "STATIC_NN_TIMING": "1"}
    env.pop("RAYON_NUM_THREADS", None)
    if threads:
        env["RAYON_NUM_THREADS"] = str(threads)
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    begin = time.perf_counter()
    out = subprocess.run([binary], capture_output=True, text=True, check=True, env=env).stdout
    wall = time.perf_counter() - begin
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    results = []
    for line in out.splitlines():
        fields = dict(re.findall(r"(\w+)=(\S+)", line))
        if "fold" in fields:
            results.append((float(fields["fit_seconds"]), float(fields["accuracy"]), int(fields["epochs"])))
        elif "threads" in fields:
            used = int(fields["threads"])
    if len(results) != 5:
        sys.exit(f"unexpected output from {binary}:\n{out}")
    return wall, cpu, results, used


def summarise(name, repeats):
    """repeats: a list (one per repeat) of (protocol wall seconds, protocol CPU seconds,
    [(fit seconds, accuracy, epochs) per fold])."""
    protocol = statistics.median(r[0] for r in repeats)
    cpu = statistics.median(r[1] for r in repeats)
    spread = (min(r[0] for r in repeats) / protocol - 1, max(r[0] for r in repeats) / protocol - 1)
    fit = statistics.median(statistics.median(f[0] for f in r[2]) for r in repeats)
    accuracies = [f[1] for f in repeats[0][2]]
    epochs = statistics.median(f[2] for r in repeats for f in r[2])
    return {
        "name": name, "protocol": protocol, "cpu": cpu, "spread": spread, "fit": fit, "epochs": epochs,
        "per_epoch_ms": 1e3 * fit / epochs,
        "accuracy": (statistics.mean(accuracies), statistics.pstdev(accuracies)),
    }


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--threads", type=int, default=None,
                        help="limit scikit-learn's BLAS threads (default: its own choice)")
    args = parser.parse_args()

    data = np.loadtxt(ROOT / "data" / "digits.csv", delimiter=",")
    x, y = data[:, :-1], data[:, -1].astype(int)

    subprocess.run(["cargo", "build", "--release", "--quiet", "--example", "digits"], cwd=ROOT, check=True)
    binary = ROOT / "target" / "release" / "examples" / "digits"

    cores = os.cpu_count()
    ours, ours_one = "static-nn (folds on all cores)", "static-nn (one core)"
    runs = {ours: [], ours_one: [], "scikit-learn (defaults)": [], f"scikit-learn ({EPOCHS} epochs)": []}
    threads = {}
    with threadpool_limits(limits=args.threads):
        blas = ", ".join(f"{p['internal_api']} {p['num_threads']}" for p in threadpool_info()) or "none found"
        for repeat in range(args.repeats):
            print(f"repeat {repeat + 1}/{args.repeats}", file=sys.stderr)
            for name, limit in ((ours, None), (ours_one, 1)):
                wall, cpu, folds, used = static_nn_protocol(binary, limit)
                runs[name].append((wall, cpu, folds))
                threads[name] = used
            runs["scikit-learn (defaults)"].append(sklearn_protocol(x, y, fixed_epochs=False))
            runs[f"scikit-learn ({EPOCHS} epochs)"].append(sklearn_protocol(x, y, fixed_epochs=True))

    print(f"digits, 64-64-10 ReLU, Adam lr 1e-3, batch 32, stratified 5-fold; {args.repeats} repeats")
    print(f"{cpu_model()}, {cores} cores; Python {platform.python_version()}, scikit-learn {sklearn.__version__} "
          f"(BLAS threads: {blas}, folds one after another); static-nn f32, folds on "
          f"{threads[ours]} threads, then on {threads[ours_one]}")
    print(f"{'':<32} {'protocol (median)':>17} {'repeats spread':>15} {'CPU time':>9} {'fit per fold':>13} "
          f"{'epochs':>7} {'per epoch':>10} {'held-out accuracy':>19}")
    summaries = [summarise(name, repeats) for name, repeats in runs.items()]
    for s in summaries:
        low, high = s["spread"]
        mean, std = s["accuracy"]
        print(f"{s['name']:<32} {s['protocol']:>15.3f} s {100 * low:>+6.0f}%..{100 * high:+.0f}% "
              f"{s['cpu']:>7.3f} s {s['fit']:>11.3f} s {s['epochs']:>7.0f} {s['per_epoch_ms']:>7.2f} ms {mean:>12.3f} ± {std:.3f}")
    for ours_summary in summaries[:2]:
        for s in summaries[2:]:
            print(f"{ours_summary['name']} is {s['protocol'] / ours_summary['protocol']:.1f}x faster over the "
                  f"whole protocol (CPU time {s['cpu'] / ours_summary['cpu']:.1f}x less) and "
                  f"{s['per_epoch_ms'] / ours_summary['per_epoch_ms']:.1f}x per epoch of a fold's fit than {s['name']}")


if __name__ == "__main__":
    main()
