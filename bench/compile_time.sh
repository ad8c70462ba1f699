#!/usr/bin/env bash
# Prints how long g++ -O2 takes to compile bench/compile_time/small_cnn.cpp, a program that
# defines and trains a small CNN with ink (the figure docs/performance.md keeps). Runs the
# compile three times and reports wall and user CPU seconds of each: the machine is shared, and
# user time is the less noisy of the two.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/install-deps.sh time  # /usr/bin/time
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT
for i in 1 2 3; do
  /usr/bin/time -f "compile $i: %e s wall, %U s user" \
    g++ -std=c++20 -O2 -fopenmp -Iinclude -I/usr/include/eigen3 -I/usr/include/stb \
    bench/compile_time/small_cnn.cpp -o "$out/small_cnn"
done
"$out/small_cnn" | tail -1
