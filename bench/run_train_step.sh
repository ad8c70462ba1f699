#!/usr/bin/env bash
# Training-step speed and peak RSS of ink against PyTorch on the same machine, in one run: the
# classifier, one DCGAN D+G step and one VAE step (batch 64, fp32, random 28x28 data).
# Builds bench_train_step (Release, build/bench), checks that ink's and PyTorch's models have
# the same parameter counts, then runs ink 1T, PyTorch 1T, ink 2T, PyTorch 2T, REPS times
# (default 3), each run STEPS timed steps (default 20) after WARMUP (default 3) per model.
# Then the peak RSS (/usr/bin/time -f %M) of RSS_STEPS steps (default 20) of each model alone,
# per framework and thread count. Prints one table of medians over the repetitions.
#   bench/run_train_step.sh            REPS=1 STEPS=5 RSS_STEPS=5 bench/run_train_step.sh
# Environment: REPS, STEPS, WARMUP, RSS_STEPS, THREADS (default "1 2"), JOBS (build jobs).
set -euo pipefail
cd "$(dirname "$0")/.."

# python3-torch: Debian's PyTorch (1.13), seen by /usr/bin/python3; time: /usr/bin/time.
bash scripts/install-deps.sh python3-torch time

build=build/bench
cmake -S . -B "$build" -DCMAKE_BUILD_TYPE=Release -DINK_BUILD_BENCH=ON >/dev/null
cmake --build "$build" -j "${JOBS:-$(nproc)}" --target bench_train_step >/dev/null

ink="$build/bench/bench_train_step"
# PyTorch with a warm heap (../shared/PEERS.md): its default malloc hands large buffers back to
# the OS and page-faults them in again every step (its classifier step: 90 ms warm, 310 ms
# without, docs/performance.md). GLIBC_TUNABLES, when set, is passed on instead.
warm_heap="${GLIBC_TUNABLES:-glibc.malloc.mmap_max=0:glibc.malloc.trim_threshold=68719476736}"
torch=(env "GLIBC_TUNABLES=$warm_heap" /usr/bin/python3 bench/reference/train_step_torch.py)
reps="${REPS:-3}" steps="${STEPS:-20}" warmup="${WARMUP:-3}" rss_steps="${RSS_STEPS:-20}"
threads="${THREADS:-1 2}"
# Threads pinned, as in run_conv.sh: unpinned, with background jobs on the machine, Linux often
# put both threads of the process on one core. Both frameworks use OpenMP, so both are pinned.
export OMP_PROC_BIND="${OMP_PROC_BIND:-true}"

out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT

# The models must be the same: equal parameter counts, model by model.
"$ink" --params >"$out/params_ink"
"${torch[@]}" --params >"$out/params_torch"
if ! cmp -s "$out/params_ink" "$out/params_torch"; then
  echo "parameter counts differ (ink | PyTorch):" >&2
  paste "$out/params_ink" "$out/params_torch" >&2
  exit 1
fi

echo "load average before the run: $(cut -d' ' -f1-3 /proc/loadavg); OMP_PROC_BIND=$OMP_PROC_BIND;" \
  "$reps reps x ($warmup warm-up + $steps timed steps);" \
  "$(/usr/bin/python3 -c 'import torch; print("PyTorch", torch.__version__)')"

for rep in $(seq 1 "$reps"); do
  for th in $threads; do
    # Google Benchmark's context lines go to stderr: kept, and shown only if the run fails.
    if ! "$ink" --threads="$th" --steps="$steps" --warmup="$warmup" \
      --benchmark_out="$out/ink_${th}_${rep}.json" --benchmark_out_format=json >/dev/null 2>"$out/ink.log"; then
      cat "$out/ink.log" >&2
      exit 1
    fi
    "${torch[@]}" --threads "$th" --steps "$steps" --warmup "$warmup" >"$out/torch_${th}_${rep}.txt"
  done
done

for th in $threads; do
  for model in classifier dcgan vae; do
    /usr/bin/time -f %M -o "$out/rss_ink_${model}_${th}" "$ink" --threads="$th" --model="$model" --rss-steps="$rss_steps"
    /usr/bin/time -f %M -o "$out/rss_torch_${model}_${th}" "${torch[@]}" --threads "$th" --model "$model" --rss-steps "$rss_steps"
  done
done

/usr/bin/python3 - "$out" "$reps" "$threads" <<'PY'
import glob, json, os, statistics, sys
out, reps, threads = sys.argv[1], int(sys.argv[2]), [int(t) for t in sys.argv[3].split()]
models = ["classifier", "dcgan", "vae"]
ink, torch = {}, {}  # (model, threads, rep) -> ms per step
for rep in range(1, reps + 1):
    for th in threads:
        for r in json.load(open(f"{out}/ink_{th}_{rep}.json"))["benchmarks"]:
            if r.get("error_occurred"):
                sys.exit(f"ink: {r['name']}: {r.get('error_message')}")
            _, model, t = r["run_name"].split("/iterations:")[0].split("/")[:3]
            assert r["time_unit"] == "ms"
            ink[(model, int(t.split(":")[1]), rep)] = r["real_time"]
        for line in open(f"{out}/torch_{th}_{rep}.txt"):
            _, model, t, ms = line.split()
            torch[(model, int(t), rep)] = float(ms)
params = dict(line.split() for line in open(f"{out}/params_ink"))
rss = lambda fw, m, th: int(open(f"{out}/rss_{fw}_{m}_{th}").read().split()[-1]) / 1024
print(f"\nms per training step: medians over {reps} rep(s); the ratio is the median of the per-rep ratios"
      " ink / PyTorch (below 1: ink is faster). Peak RSS of a run of one model alone.\n")
print("| model | params | threads | ink ms | PyTorch ms | ink/PyTorch | ink RSS MiB | PyTorch RSS MiB |")
print("|---|---|---|---|---|---|---|---|")
for m in models:
    for th in threads:
        i = [ink[(m, th, r)] for r in range(1, reps + 1)]
        t = [torch[(m, th, r)] for r in range(1, reps + 1)]
        ratio = statistics.median(a / b for a, b in zip(i, t))
        print(f"| {m} | {params[m]} | {th} | {statistics.median(i):.1f} | {statistics.median(t):.1f} | {ratio:.2f} "
              f"| {rss('ink', m, th):.0f} | {rss('torch', m, th):.0f} |")
PY
