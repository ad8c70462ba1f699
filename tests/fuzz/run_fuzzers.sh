#!/usr/bin/env bash
# Builds the libFuzzer targets of ink's file parsers with clang and runs each for N seconds
# (default 60) on its seed corpus; prints libFuzzer's final stats and any crash it found.
# Usage: tests/fuzz/run_fuzzers.sh [seconds] [build-dir]
# New interesting inputs go to <build-dir>/fuzz_corpus/<name>, crashes to
# <build-dir>/fuzz_artifacts/<name>/; the committed seeds in tests/fuzz/corpus stay as they are.
set -euo pipefail
seconds=${1:-60}
root=$(cd "$(dirname "$0")/../.." && pwd)
build=${2:-$root/build/fuzz}

if ! command -v clang++ >/dev/null || ! compgen -G "/usr/lib/llvm-*/lib/clang/*/lib/linux/libclang_rt.fuzzer-x86_64.a" >/dev/null; then
  sudo_cmd=""
  [ "$(id -u)" = 0 ] || sudo_cmd="sudo"
  $sudo_cmd apt-get install -y clang libclang-rt-14-dev libomp-14-dev
fi

cmake -S "$root" -B "$build" -DCMAKE_BUILD_TYPE=Release -DCMAKE_CXX_COMPILER=clang++ -DINK_BUILD_FUZZERS=ON \
  -DINK_BUILD_BENCH=OFF -DINK_BUILD_EXAMPLES=OFF >/dev/null
cmake --build "$build" -j"$(nproc)" --target fuzz_idx fuzz_safetensors fuzz_image

status=0
for name in idx safetensors image; do
  corpus=$build/fuzz_corpus/$name
  artifacts=$build/fuzz_artifacts/$name
  mkdir -p "$corpus" "$artifacts"
  echo "=== fuzz_$name: ${seconds}s"
  if "$build/tests/fuzz/fuzz_$name" -max_total_time="$seconds" -timeout=10 -rss_limit_mb=2048 -print_final_stats=1 \
      -artifact_prefix="$artifacts/" "$corpus" "$root/tests/fuzz/corpus/$name" >"$build/fuzz_$name.log" 2>&1; then
    grep -E "stat::(number_of_executed_units|average_exec_per_sec|peak_rss_mb)|Done [0-9]+ runs" "$build/fuzz_$name.log" || true
  else
    status=1
    echo "fuzz_$name FOUND A PROBLEM (log: $build/fuzz_$name.log, input in $artifacts):"
    grep -E "ERROR|SUMMARY|Test unit written" "$build/fuzz_$name.log" || tail -n 30 "$build/fuzz_$name.log"
  fi
done
exit $status
