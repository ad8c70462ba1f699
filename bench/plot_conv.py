#!/usr/bin/python3
"""GFLOP/s per convolution shape and direction for ink, oneDNN and im2col + Eigen, from the JSON
that bench/run_conv.sh writes (build/bench/bench_conv.json), as a PNG: one panel per thread
count, one group of bars per (shape, direction). Each bar is the median over repetitions of
the paired runs' per-call GFLOP/s; ink's bar is from its pairing with oneDNN (with Eigen when
oneDNN is absent). With a third argument, the TSV of bench/reference/conv_torch.py (lines of
several runs, as run_conv.sh writes build/bench/conv_torch.tsv), a PyTorch bar too: the median
of its runs. Needs Debian's python3-matplotlib (run_conv.sh installs it).

    /usr/bin/python3 bench/plot_conv.py build/bench/bench_conv.json docs/images/conv_gflops.png [build/bench/conv_torch.tsv]
"""
import json
import statistics
import sys

import matplotlib

matplotlib.use("Agg")  # no display: write the file only
import matplotlib.pyplot as plt  # noqa: E402

CASES = ["a", "b", "c", "d", "e", "f", "g", "h", "i", "G1", "G2"]
DIRS = [("fwd", "F"), ("bwd_data", "D"), ("bwd_weights", "W")]
COLOURS = {"ink": "#1f77b4", "oneDNN": "#d62728", "Eigen": "#7f7f7f", "PyTorch": "#ff7f0e"}


def load(path):
    """(case, dir, peer, threads) -> list of iteration runs."""
    by = {}
    for r in json.load(open(path))["benchmarks"]:
        if r.get("run_type") != "iteration" or r.get("error_occurred"):
            continue
        parts = r["run_name"].split("/iterations:")[0].removesuffix("/real_time").split("/")
        if parts[0] != "conv":
            continue
        _, case, d, peer, th = parts
        by.setdefault((case, d, peer, int(th.split(":")[1])), []).append(r)
    return by


def load_torch(path):
    """(case, dir, threads) -> PyTorch's GFLOP/s, the median over the runs in the TSV."""
    by = {}
    for line in open(path):
        if line.startswith("#") or not line.strip():
            continue
        case, d, th, _ms, gflops = line.split("\t")[:5]
        by.setdefault((case, d, int(th)), []).append(float(gflops))
    return {k: statistics.median(v) for k, v in by.items()}


def median(by, key, counter):
    runs = by.get(key)
    return statistics.median(r[counter] for r in runs) / 1e9 if runs else None


def main():
    if len(sys.argv) not in (3, 4):
        sys.exit("usage: plot_conv.py BENCH_CONV_JSON OUT_PNG [CONV_TORCH_TSV]")
    by = load(sys.argv[1])
    torch = load_torch(sys.argv[3]) if len(sys.argv) == 4 else None
    threads = sorted({k[3] for k in by})
    if not threads:
        sys.exit(f"plot_conv.py: no convolution runs in {sys.argv[1]}")
    fig, axes = plt.subplots(len(threads), 1, figsize=(14, 4.2 * len(threads)), squeeze=False)
    for ax, th in zip(axes[:, 0], threads):
        labels, series = [], {"ink": [], "oneDNN": [], "Eigen": []}
        if torch is not None:
            series["PyTorch"] = []
        for case in CASES:
            for d, short in DIRS:
                if not any((case, d, p, th) in by for p in ("onednn", "eigen")):
                    continue
                labels.append(f"{case}{short}")
                ink_peer = "onednn" if (case, d, "onednn", th) in by else "eigen"
                series["ink"].append(median(by, (case, d, ink_peer, th), "ink_FLOPS"))
                series["oneDNN"].append(median(by, (case, d, "onednn", th), "peer_FLOPS"))
                series["Eigen"].append(median(by, (case, d, "eigen", th), "peer_FLOPS"))
                if torch is not None:
                    series["PyTorch"].append(torch.get((case, d, th)))
        width = 0.8 / len(series)
        for i, (name, values) in enumerate(series.items()):
            xs = [x + (i - (len(series) - 1) / 2) * width for x in range(len(labels))]
            ax.bar(xs, [v or 0 for v in values], width, label=name, color=COLOURS[name])
        ax.set_xticks(range(len(labels)))
        ax.set_xticklabels(labels, fontsize=8)
        ax.set_ylabel("GFLOP/s")
        ax.set_title(f"{th} thread{'s' if th > 1 else ''}: shape letter (docs/kernels.md) + F forward, "
                     "D input gradient, W weight gradient")
        ax.grid(axis="y", alpha=0.3)
        ax.legend(loc="upper right")
    fig.tight_layout()
    fig.savefig(sys.argv[2], dpi=100)
    print(f"wrote {sys.argv[2]}")


if __name__ == "__main__":
    main()
