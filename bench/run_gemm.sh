#!/usr/bin/env bash
# Builds bench_gemm (Release, build/gemm) and runs ink against Eigen and OpenBLAS in one
# process, repetitions randomly interleaved, then prints median GFLOP/s and the ratios
# ink time / peer time (below 1: ink is faster), timed separately and in alternating pairs.
# Extra arguments go to the benchmark, e.g.
#   bench/run_gemm.sh --benchmark_filter='1024x|fma'     REPS=9 bench/run_gemm.sh
set -euo pipefail
cd "$(dirname "$0")/.."

# OpenBLAS is an optional peer; Google Benchmark is required.
if [ "$(id -u)" = 0 ] && ! dpkg -s libopenblas-dev libbenchmark-dev >/dev/null 2>&1; then
  DEBIAN_FRONTEND=noninteractive apt-get install -y libopenblas-dev libbenchmark-dev >/dev/null
fi

build=build/gemm
cmake -S . -B "$build" -DCMAKE_BUILD_TYPE=Release >/dev/null
cmake --build "$build" -j "$(nproc)" --target bench_gemm >/dev/null

out="$build/bench_gemm.json"
# The environment pins OpenBLAS to its Haswell (AVX2) kernels, and OpenBLAS 0.3.21 does not
# recognise every AVX-512 CPU by itself (on an Intel Xeon with AVX512-FP16 it fell back to its
# SSE3 "Prescott" kernels: 22 GFLOP/s on 1024^3). So here only, its kernel is named from the
# CPU's flags (SkylakeX with AVX-512, Haswell with AVX2). Its worker threads stop spinning quickly
# (OPENBLAS_THREAD_TIMEOUT) so that they do not steal the second core from the next benchmark.
# OpenMP threads are pinned (OMP_PROC_BIND=true; override it to compare): unpinned, with
# background jobs on the machine, Linux often put both of the process's threads on one core,
# and a 2-thread 256^3 GEMM took 12 ms instead of 0.16 ms (ink and Eigen alike).
openblas_core=Prescott
grep -qw avx2 /proc/cpuinfo && openblas_core=Haswell
grep -qw avx512f /proc/cpuinfo && openblas_core=SkylakeX
env -u OPENBLAS_L2_SIZE OPENBLAS_CORETYPE="${OPENBLAS_CORE:-$openblas_core}" OPENBLAS_THREAD_TIMEOUT=4 \
  OMP_PROC_BIND="${OMP_PROC_BIND:-true}" \
  "$build/bench/bench_gemm" --benchmark_repetitions="${REPS:-5}" --benchmark_enable_random_interleaving=true \
  --benchmark_report_aggregates_only=true --benchmark_out="$out" --benchmark_out_format=json \
  --benchmark_min_time="${MIN_TIME:-0.2}" "$@" >/dev/null

python3 - "$out" <<'EOF'
import json, os, sys
runs = json.load(open(sys.argv[1]))["benchmarks"]
med = {}  # run name -> counters of the median aggregate
for r in runs:
    if r.get("aggregate_name") == "median":
        med[r["run_name"].removesuffix("/real_time")] = r
for t in (1, 2):
    peak = med.get(f"fma_peak/threads:{t}")
    if peak:
        print(f"FMA-only burst, {t} thread(s): {peak['FLOPS'] / 1e9:.0f} GFLOP/s (what the cores gave during this run)")
print(f"OMP_PROC_BIND={os.environ.get('OMP_PROC_BIND', 'true')}")
order = ["256x256x256", "512x512x512", "1024x1024x1024", "2048x2048x2048",
         "64x3136x576", "128x784x1152", "256x196x2304", "32x784x9"]
rows = [(s, f"threads:{t}") for s in order for t in (1, 2)]
fmt = lambda x: f"{x:.1f}" if x else "-"

print("\nEach implementation timed on its own (median GFLOP/s over repetitions):\n")
print("| M x N x K | threads | ink | Eigen | OpenBLAS | ink/Eigen time | ink/OpenBLAS time |")
print("|---|---|---|---|---|---|---|")
for shape, th in rows:
    ink = med.get(f"sgemm/ink/{shape}/{th}")
    if not ink:
        continue
    ink = ink["FLOPS"] / 1e9
    peer = lambda p: med[f"sgemm/{p}/{shape}/{th}"]["FLOPS"] / 1e9 if f"sgemm/{p}/{shape}/{th}" in med else None
    eig, obl = peer("eigen"), peer("openblas")
    ratio = lambda x: f"{x / ink:.2f}" if x else "-"  # time ratio = peer GFLOP/s / ink GFLOP/s
    print(f"| {shape} | {th.split(':')[1]} | {ink:.1f} | {fmt(eig)} | {fmt(obl)} | {ratio(eig)} | {ratio(obl)} |")

print("\nPaired: ink and the peer called alternately, median of the per-pair ratios:\n")
print("| M x N x K | threads | ink GFLOP/s | OpenBLAS GFLOP/s | ink/OpenBLAS time | ink GFLOP/s | Eigen GFLOP/s | ink/Eigen time |")
print("|---|---|---|---|---|---|---|---|")
for shape, th in rows:
    cells = []
    for p in ("openblas", "eigen"):
        r = med.get(f"paired/{p}/{shape}/{th}")
        cells += [fmt(r["ink_FLOPS"] / 1e9), fmt(r["peer_FLOPS"] / 1e9), f"{r['ink_over_peer_time']:.2f}"] if r else ["-"] * 3
    if any(c != "-" for c in cells):
        print(f"| {shape} | {th.split(':')[1]} | " + " | ".join(cells) + " |")
EOF
