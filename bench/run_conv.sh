#!/usr/bin/env bash
# Builds bench_conv (Release, build/bench) and runs ink's convolution against oneDNN (when
# installed) and im2col + Eigen GEMM in one process, at 1 and 2 threads, ink and the peer
# called alternately. Prints, per shape and direction, the median GFLOP/s of each side and the
# median of the per-pair ratios ink time / peer time (below 1: ink is faster), then the median
# of those ratios over the shapes. Extra arguments go to the benchmark, e.g.
#   bench/run_conv.sh --benchmark_filter='conv/(a|b)/'      REPS=3 bench/run_conv.sh
# Also writes the run's plot to docs/images/conv_gflops.png (PLOT=path to change it).
set -euo pipefail
cd "$(dirname "$0")/.."
# oneDNN (the peer) and matplotlib for the plot (Debian's, seen by /usr/bin/python3).
# ocl-icd-opencl-dev: Debian recommends it with libdnnl-dev, and its CMake config requires OpenCL.
bash scripts/install-deps.sh libdnnl-dev ocl-icd-opencl-dev python3-matplotlib

build=build/bench
cmake -S . -B "$build" -DCMAKE_BUILD_TYPE=Release >/dev/null
cmake --build "$build" -j "$(nproc)" --target bench_conv >/dev/null

out="$build/bench_conv.json"
# Threads pinned (OMP_PROC_BIND=true), as in run_gemm.sh: unpinned, with background jobs on the
# machine, Linux often put both threads of the process on one core.
OMP_PROC_BIND="${OMP_PROC_BIND:-true}" "$build/bench/bench_conv" --benchmark_repetitions="${REPS:-1}" \
  --benchmark_out="$out" --benchmark_out_format=json "$@" >/dev/null

python3 - "$out" <<'PY'
import json, os, statistics, sys
runs = [r for r in json.load(open(sys.argv[1]))["benchmarks"] if r.get("run_type") == "iteration"]
by = {}  # (case, dir, peer, threads) -> list of runs (one per repetition)
fma = {}
errors = []
for r in runs:
    name = r["run_name"].split("/iterations:")[0].removesuffix("/real_time")
    parts = name.split("/")
    if parts[0] == "fma_peak":
        fma.setdefault(parts[1], []).append(r["FLOPS"] / 1e9)
        continue
    if r.get("error_occurred"):
        errors.append(f"{name}: {r.get('error_message')}")
        continue
    _, case, d, peer, th = parts
    by.setdefault((case, d, peer, int(th.split(":")[1])), []).append(r)
for th, v in sorted(fma.items()):
    print(f"FMA-only burst, {th}: {statistics.median(v):.0f} GFLOP/s (what the cores gave during this run)")
print(f"OMP_PROC_BIND={os.environ.get('OMP_PROC_BIND', 'true')}")
for e in errors:
    print("ERROR", e)
cases = ["a", "b", "c", "d", "e", "f", "g", "h", "i", "G1", "G2"]
dirs = ["fwd", "bwd_data", "bwd_weights"]
def get(case, d, peer, th, key):
    rs = by.get((case, d, peer, th))
    return statistics.median(r[key] for r in rs) if rs else None
f1 = lambda x: "-" if x is None else f"{x / 1e9:.0f}"
f2 = lambda x: "-" if x is None else f"{x:.2f}"
for th in (1, 2):
    if not any(k[3] == th for k in by):
        continue
    print(f"\n{th} thread(s). GFLOP/s are medians over the pairs; ratios are medians of per-pair ink time / peer time.\n")
    print("| shape | dir | ink GFLOP/s | oneDNN GFLOP/s | ink/oneDNN time | oneDNN impl | ink GFLOP/s | Eigen GFLOP/s | ink/Eigen time |")
    print("|---|---|---|---|---|---|---|---|---|")
    for case in cases:
        for d in dirs:
            if (case, d, "onednn", th) not in by and (case, d, "eigen", th) not in by:
                continue
            impl = (by.get((case, d, "onednn", th)) or [{}])[0].get("label", "-")
            print(f"| {case} | {d} | {f1(get(case, d, 'onednn', th, 'ink_FLOPS'))} | {f1(get(case, d, 'onednn', th, 'peer_FLOPS'))} "
                  f"| {f2(get(case, d, 'onednn', th, 'ink_over_peer_time'))} | {impl} "
                  f"| {f1(get(case, d, 'eigen', th, 'ink_FLOPS'))} | {f1(get(case, d, 'eigen', th, 'peer_FLOPS'))} "
                  f"| {f2(get(case, d, 'eigen', th, 'ink_over_peer_time'))} |")
    for d in dirs:
        cells = []
        for peer in ("onednn", "eigen"):
            v = [get(c, d, peer, th, "ink_over_peer_time") for c in cases]
            v = [x for x in v if x is not None]
            cells.append(f"{statistics.median(v):.2f} over {len(v)} shapes" if v else "-")
        print(f"| median | {d} | | | {cells[0]} | | | | {cells[1]} |")
PY
/usr/bin/python3 bench/plot_conv.py "$out" "${PLOT:-docs/images/conv_gflops.png}"
