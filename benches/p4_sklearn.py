#!/usr/bin/env python3
"""P4 with scikit-learn's MLPClassifier: the comparison for `just bench`'s P4.

Reads its settings from benches/p4.toml (so the two stay the same sweep):
the same four Fashion-MNIST IDX files (Debian package dataset-fashion-mnist),
a class-balanced subset of the training split of the same size and the same
count a class (largest remainder, as data.max_rows takes it; the rows
themselves are drawn by NumPy, not by mlpsweep's ChaCha8), pixels / 255, the
10,000 test images; one MLPClassifier a (depth, width, seed): ReLU, Adam with
the study's learning rate (betas 0.9/0.999, eps 1e-8: sklearn's defaults and
mlpsweep's), batch_size, max_iter = epochs with tol = 0 and
n_iter_no_change > max_iter (so every net trains every epoch), no early
stopping, alpha = 0 (no L2), shuffled minibatches; Glorot-uniform weights
(sklearn's own init; mlpsweep's xavier_uniform, whose biases start at zero
where sklearn draws them). After training each net is scored on the
training subset and the test images (log loss and accuracy), as mlpsweep's
final evaluation is; mlpsweep also evaluates once before training.

Parallelism: `--jobs N` (default 2, matching `mlpsweep run --jobs 2`) runs
the nets over N joblib (loky) worker processes, each with its BLAS limited
to one thread (threadpoolctl), as mlpsweep runs one single-threaded trial
per core; `--jobs 1` runs them one after another in this process, BLAS
also on one thread. `--dtype float32` (default) trains in float32, as
mlpsweep does (MLPClassifier keeps float32 input in float32).

Timing: from the start of this script (before NumPy and sklearn are
imported) to the end, data reading included; `time python3
benches/p4_sklearn.py` gives the whole process. Prints the time, GFLOP/s
with the bench's FLOP count (examples/bench.rs: 2 · rows · epochs ·
(3 · weights - the first layer's)), and the median test accuracy a
configuration as a check that the nets learned.

Needs: pip install --user scikit-learn (numpy, scipy, joblib, threadpoolctl
come with it).
"""

import time

T0 = time.perf_counter()

import argparse  # noqa: E402
import gzip  # noqa: E402
import os  # noqa: E402
import statistics  # noqa: E402
import sys  # noqa: E402
import tomllib  # noqa: E402
import warnings  # noqa: E402

import numpy as np  # noqa: E402
from joblib import Parallel, delayed  # noqa: E402
from sklearn.exceptions import ConvergenceWarning  # noqa: E402
from sklearn.neural_network import MLPClassifier  # noqa: E402
from threadpoolctl import threadpool_limits  # noqa: E402

FASHION = "/usr/share/datasets/fashion-mnist"
HERE = os.path.dirname(os.path.abspath(__file__))


def idx(path):
    """An IDX file (gzip'd) as an array: big-endian magic, dims, then bytes."""
    with gzip.open(path, "rb") as f:
        raw = f.read()
    magic = int.from_bytes(raw[:4], "big")
    ndim = magic & 0xFF
    if magic >> 8 != 0x08:
        sys.exit(f"{path}: not unsigned-byte IDX (magic {magic:#010x})")
    dims = [int.from_bytes(raw[4 + 4 * i : 8 + 4 * i], "big") for i in range(ndim)]
    data = np.frombuffer(raw, dtype=np.uint8, offset=4 + 4 * ndim)
    return data.reshape(dims)


def quotas(sizes, count):
    """Rows a class: floor(count · n_c / n), the rest to the largest
    remainders, the lower class first on a tie (as data.max_rows)."""
    n = sum(sizes)
    base = [count * s // n for s in sizes]
    rem = sorted(range(len(sizes)), key=lambda c: (-(count * sizes[c] % n), c))
    for c in rem[: count - sum(base)]:
        base[c] += 1
    return base


def subset(y, count, seed):
    """A class-balanced subset of `count` rows, in file order."""
    classes = int(y.max()) + 1
    members = [np.flatnonzero(y == c) for c in range(classes)]
    rng = np.random.default_rng(seed)
    chosen = []
    for rows, q in zip(members, quotas([len(m) for m in members], count)):
        chosen.extend(rng.permutation(rows)[:q])
    return np.sort(np.array(chosen))


def load(study, dtype):
    need = [
        "train-images-idx3-ubyte.gz",
        "train-labels-idx1-ubyte.gz",
        "t10k-images-idx3-ubyte.gz",
        "t10k-labels-idx1-ubyte.gz",
    ]
    for f in need:
        if not os.path.exists(os.path.join(FASHION, f)):
            sys.exit(
                f"{FASHION}/{f} is absent: sudo apt-get install dataset-fashion-mnist"
            )
    xs, ys = (idx(os.path.join(FASHION, f)) for f in need[:2])
    xt, yt = (idx(os.path.join(FASHION, f)) for f in need[2:])
    data = study["data"]
    rows = subset(ys, data["max_rows"], data.get("seed", 0))
    flat = lambda x: (x.reshape(len(x), -1) / 255.0).astype(dtype)  # noqa: E731
    return flat(xs[rows]), ys[rows].astype(np.int64), flat(xt), yt.astype(np.int64)


def log_loss(net, x, y):
    p = net.predict_proba(x)
    return float(-np.mean(np.log(np.clip(p[np.arange(len(y)), y], 1e-12, None))))


def train(depth, width, seed, train_cfg, data):
    """One net, trained and scored; BLAS on one thread."""
    x, y, xt, yt = data
    with threadpool_limits(limits=1), warnings.catch_warnings():
        # max_iter is the epoch count here, not a cap that was hit.
        warnings.simplefilter("ignore", ConvergenceWarning)
        net = MLPClassifier(
            hidden_layer_sizes=(width,) * depth,
            activation="relu",
            solver="adam",
            alpha=0.0,
            batch_size=train_cfg["batch_size"],
            learning_rate_init=train_cfg["lr"],
            max_iter=train_cfg["epochs"],
            tol=0.0,
            n_iter_no_change=train_cfg["epochs"] + 1,
            early_stopping=False,
            shuffle=True,
            random_state=seed,
        )
        net.fit(x, y)
        # The final evaluation mlpsweep does: loss and accuracy, both splits.
        scores = {
            "train_loss": log_loss(net, x, y),
            "val_loss": log_loss(net, xt, yt),
            "train_acc": float(np.mean(net.predict(x) == y)),
            "val_acc": float(np.mean(net.predict(xt) == yt)),
        }
    return depth, width, seed, scores, net.n_iter_, net.coefs_[0].dtype.name


def weights(sizes):
    return sum(a * b for a, b in zip(sizes, sizes[1:]))


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--jobs", type=int, default=2)
    ap.add_argument("--dtype", choices=["float32", "float64"], default="float32")
    ap.add_argument("--study", default=os.path.join(HERE, "p4.toml"))
    args = ap.parse_args()
    with open(args.study, "rb") as f:
        study = tomllib.load(f)
    m, t = study["model"], study["train"]
    assert study["data"]["kind"] == "fashion_mnist" and study["data"]["val"] == "test"
    assert m["activation"] == "relu" and m["init"] == "xavier_uniform"
    assert t["optimizer"] == "adam" and t.get("l2", 0) == 0
    seeds = range(study["seeds"])
    grid = [(d, w, s) for d in study["grid"]["depth"] for w in study["grid"]["width"] for s in seeds]
    data = load(study, np.dtype(args.dtype))
    t_data = time.perf_counter() - T0
    if args.jobs == 1:
        out = [train(d, w, s, t, data) for d, w, s in grid]
    else:
        out = Parallel(n_jobs=args.jobs, backend="loky")(
            delayed(train)(d, w, s, t, data) for d, w, s in grid
        )
    secs = time.perf_counter() - T0
    n_rows, n_in = data[0].shape
    flops = sum(
        2 * n_rows * t["epochs"] * (3 * weights([n_in] + [w] * d + [10]) - n_in * w)
        for d, w, _ in grid
    )
    iters = {o[4] for o in out}
    dtypes = {o[5] for o in out}
    print(
        f"P4 sklearn {__import__('sklearn').__version__} (MLPClassifier, {args.dtype} "
        f"weights {sorted(dtypes)}, epochs run {sorted(iters)}), "
        f"{'sequential' if args.jobs == 1 else f'joblib loky x {args.jobs}'}, "
        f"BLAS 1 thread a net: {secs:.2f} s for {len(out)} nets "
        f"(data read in {t_data:.2f} s), {flops / secs / 1e9:.1f} GFLOP/s"
    )
    for d in study["grid"]["depth"]:
        accs = [
            f"{w}: {statistics.median(o[3]['val_acc'] for o in out if o[:2] == (d, w)):.3f}"
            for w in study["grid"]["width"]
        ]
        print(f"  median test accuracy, depth {d}, by width: " + ", ".join(accs))


if __name__ == "__main__":
    main()
