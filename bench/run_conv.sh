#!/usr/bin/env bash
# Builds bench_conv (Release, build/bench) and runs ink's convolution against oneDNN (when
# installed) and im2col + Eigen GEMM in one process, at 1 and 2 threads, ink and the peer
# called alternately. Prints, per shape and direction, the median GFLOP/s of each side and the
# median of the per-pair ratios ink time / peer time (below 1: ink is faster), then the median
# of those ratios over the shapes. Extra arguments go to the benchmark, e.g.
#   bench/run_conv.sh --benchmark_filter='conv/(a|b)/'      REPS=3 bench/run_conv.sh
# Also writes the run's plot to docs/images/conv_gflops.png (PLOT=path to change it).
#
# Against PyTorch (skipped with TORCH=0): bench/reference/conv_torch.py times PyTorch's CPU
# convolution (Debian's python3-torch, installed if missing) on the same shapes, directions and
# thread counts in its own process, in rounds interleaved with ink's: for each shape and thread
# count, bench_conv runs that shape's benchmarks, then conv_torch.py that shape (one process per
# round, so that its thread settings are made before torch starts). REPS repeats the rounds
# (instead of bench_conv's --benchmark_repetitions). A second table gives, per shape and
# direction, ink's GFLOP/s (bench_conv's "alone" benchmarks: ink's calls back to back, timed as
# conv_torch.py times PyTorch's), PyTorch's, the ratio ink time / PyTorch time and the count of
# shapes where ink is faster. The rounds' files
# stay in build/bench/conv_rounds/, PyTorch's lines together in build/bench/conv_torch.tsv, and
# the plot gets a PyTorch bar. TORCH_ARGS adds options to conv_torch.py (e.g.
# "--openblas-core detect").
set -euo pipefail
cd "$(dirname "$0")/.."
torch_on="${TORCH:-1}"
# oneDNN (the peer) and matplotlib for the plot (Debian's, seen by /usr/bin/python3).
# ocl-icd-opencl-dev: Debian recommends it with libdnnl-dev, and its CMake config requires OpenCL.
# python3-torch: Debian's PyTorch 1.13, seen by /usr/bin/python3.
deps=(libdnnl-dev ocl-icd-opencl-dev python3-matplotlib)
[ "$torch_on" = 0 ] || deps+=(python3-torch)
bash scripts/install-deps.sh "${deps[@]}"

build=build/bench
cmake -S . -B "$build" -DCMAKE_BUILD_TYPE=Release >/dev/null
cmake --build "$build" -j "$(nproc)" --target bench_conv >/dev/null

out="$build/bench_conv.json"
bench="$build/bench/bench_conv"
# Threads pinned (OMP_PROC_BIND=true), as in run_gemm.sh: unpinned, with background jobs on the
# machine, Linux often put both threads of the process on one core. Exported: PyTorch's OpenMP
# threads are pinned the same way.
export OMP_PROC_BIND="${OMP_PROC_BIND:-true}"
rounds="$build/conv_rounds"
if [ "$torch_on" = 0 ]; then
  "$bench" --benchmark_repetitions="${REPS:-1}" \
    --benchmark_out="$out" --benchmark_out_format=json "$@" >/dev/null
else
  rm -rf "$rounds" && mkdir -p "$rounds"
  # The benchmarks the arguments select (all by default), grouped into rounds of one shape and
  # thread count; each round's filter lists its benchmarks by name (a later
  # --benchmark_filter overrides an earlier one).
  "$bench" --benchmark_list_tests "$@" 2>/dev/null | grep '^conv/' | sed -E 's#/iterations:.*##' >"$rounds/tests"
  shapes=$(awk -F/ '$1 == "conv" && !seen[$2]++ { print $2 }' "$rounds/tests")
  # The FMA-only burst (AVX-512 CPUs) runs whatever the filter: it says whether the second core
  # was there for the 2-thread rounds.
  fma=$("$bench" --benchmark_list_tests --benchmark_filter='^fma_peak/' 2>/dev/null | grep '^fma_peak/' | sed -E 's#/real_time$##; s#$#/#' | paste -sd'|' || true)
  torch=(/usr/bin/python3 bench/reference/conv_torch.py)
  read -r -a torch_args <<<"${TORCH_ARGS:-}"
  echo "load average before the run: $(cut -d' ' -f1-3 /proc/loadavg); rounds of one shape and thread count," \
    "ink (bench_conv) then PyTorch (conv_torch.py), ${REPS:-1} time(s) over: $(echo $shapes)" >&2
  # bench_conv with the given arguments into the JSON file $1; Google Benchmark's context lines
  # (stderr, once per round) are kept in the log and shown only if a run fails.
  ink() {
    local json="$1"
    shift
    if ! "$bench" "$@" --benchmark_out="$json" --benchmark_out_format=json >/dev/null 2>"$rounds/bench_conv.log"; then
      cat "$rounds/bench_conv.log" >&2
      exit 1
    fi
  }
  for rep in $(seq 1 "${REPS:-1}"); do
    # The FMA-only burst, once per repetition: what the cores gave.
    [ -z "$fma" ] || ink "$rounds/fma_$rep.json" --benchmark_filter="^($fma)"
    for s in $shapes; do
      for th in 1 2; do
        names=$(awk -F/ -v s="$s" -v t="threads:$th" '$1 == "conv" && $2 == s && $5 == t { print $0 "/" }' "$rounds/tests")
        [ -n "$names" ] || continue
        dirs=$(echo "$names" | awk -F/ '!seen[$3]++ { print $3 }' | paste -sd,)
        ink "$rounds/ink_${rep}_${s}_${th}.json" "$@" --benchmark_filter="^($(echo "$names" | paste -sd'|'))"
        "${torch[@]}" --threads "$th" --shapes "$s" --dirs "$dirs" "${torch_args[@]}" >"$rounds/torch_${rep}_${s}_${th}.tsv"
      done
    done
  done
  # One JSON of every round, for the table below and the plot.
  /usr/bin/python3 - "$rounds" "$out" <<'PY'
import glob, json, sys
rounds, out = sys.argv[1], sys.argv[2]
files = sorted(glob.glob(f"{rounds}/fma_*.json")) + sorted(glob.glob(f"{rounds}/ink_*.json"))
merged = None
for f in files:
    text = open(f).read()
    if not text.strip():  # no benchmark ran
        continue
    j = json.loads(text)
    if merged is None:
        merged = j
    else:
        merged["benchmarks"] += j["benchmarks"]
json.dump(merged or {"benchmarks": []}, open(out, "w"), indent=1)
PY
  cat "$rounds"/torch_*.tsv >"$build/conv_torch.tsv"
fi

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
[ "$torch_on" = 0 ] || /usr/bin/python3 - "$rounds" <<'PY'
import glob, json, os, re, statistics, sys
rounds = sys.argv[1]
cases = ["a", "b", "c", "d", "e", "f", "g", "h", "i", "G1", "G2"]
dirs = ["fwd", "bwd_data", "bwd_weights"]
ink, torch, impl, cpu, head = {}, {}, {}, {}, {}  # (case, dir, threads) -> per-rep values
for f in sorted(glob.glob(f"{rounds}/ink_*.json")):
    rep = int(os.path.basename(f).split("_")[1])
    per, alone = {}, {}
    for r in json.load(open(f))["benchmarks"]:
        if r.get("run_type") != "iteration" or r.get("error_occurred"):
            continue
        _, case, d, peer, th = r["run_name"].split("/iterations:")[0].removesuffix("/real_time").split("/")
        k = (case, d, int(th.split(":")[1]))
        (alone if peer == "alone" else per).setdefault(k, []).append(r["ink_FLOPS"] / 1e9)
    # ink's GFLOP/s of this round: its calls back to back ("alone", timed as conv_torch.py times
    # PyTorch), else the median over its pairings.
    for k in per.keys() | alone.keys():
        ink.setdefault(k, {})[rep] = statistics.median(alone.get(k) or per[k])
for f in sorted(glob.glob(f"{rounds}/torch_*.tsv")):
    rep = int(os.path.basename(f).split("_")[1])
    for line in open(f):
        if line.startswith("#"):
            if line.startswith("# PyTorch") or line.startswith("# threads"):
                th = re.search(r"get_num_threads\(\)=(\d+)", line)
                head.setdefault(int(th.group(1)) if th else 0, []).append(line.strip("# \n"))
            continue
        case, d, th, ms, gf, calls, cw, im = line.rstrip("\n").split("\t")
        k = (case, d, int(th))
        torch.setdefault(k, {})[rep] = float(gf)
        cpu.setdefault(k, []).append(float(cw))
        impl[k] = im
if not torch:
    print("\nAgainst PyTorch: no results (no convolution benchmark selected)")
    sys.exit(0)
f1 = lambda x: "-" if x is None else f"{x:.0f}"
print("\nAgainst PyTorch (bench/reference/conv_torch.py, its own process, in rounds interleaved with ink's;"
      " ink's calls back to back, bench_conv's 'alone' benchmarks, as PyTorch's are).")
print(head.get(0, ["?"])[0])
for th in (1, 2):
    keys = [(c, d, th) for c in cases for d in dirs if (c, d, th) in torch]
    if not keys:
        continue
    print(f"\n{th} thread(s), PyTorch: {(head.get(th) or ['?'])[0]}")
    print("GFLOP/s: medians over the rounds; ink/PyTorch time: median over the rounds of the per-round ratios (below 1: ink is faster).\n")
    print("| shape | dir | ink GFLOP/s | PyTorch GFLOP/s | ink/PyTorch time | PyTorch impl | PyTorch CPU/wall |")
    print("|---|---|---|---|---|---|---|")
    ratio = {}
    for k in keys:
        i, t = ink.get(k, {}), torch[k]
        both = [rep for rep in t if rep in i]
        ratio[k] = statistics.median(t[rep] / i[rep] for rep in both) if both else None  # time ratio = inverse rate ratio
        gi = statistics.median(i.values()) if i else None
        print(f"| {k[0]} | {k[1]} | {f1(gi)} | {f1(statistics.median(t.values()))} "
              f"| {'-' if ratio[k] is None else f'{ratio[k]:.2f}'} | {impl[k]} | {statistics.median(cpu[k]):.2f} |")
    for d in dirs:
        v = [ratio[k] for k in keys if k[1] == d and ratio[k] is not None]
        if v:
            print(f"| {d}: ink faster on | {sum(x < 1 for x in v)} of {len(v)} shapes | | median ratio {statistics.median(v):.2f} | | | |")
    shapes = sorted({k[0] for k in keys}, key=cases.index)
    every = [c for c in shapes if all(ratio.get((c, d, th)) is not None and ratio[(c, d, th)] < 1
                                      for d in dirs if (c, d, th) in ratio)]
    print(f"\n{th} thread(s): ink faster than PyTorch in every direction on {len(every)} of {len(shapes)} shapes"
          f" ({' '.join(every) or 'none'}); on {sum(r < 1 for r in ratio.values() if r is not None)} of"
          f" {sum(r is not None for r in ratio.values())} (shape, direction) pairs.")
PY
plot_torch=()
[ "$torch_on" = 0 ] || plot_torch=("$build/conv_torch.tsv")
/usr/bin/python3 bench/plot_conv.py "$out" "${PLOT:-docs/images/conv_gflops.png}" "${plot_torch[@]}"
