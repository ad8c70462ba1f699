#!/usr/bin/env bash
# Quick start 2: install what is missing, build, and run the whole test suite: once in
# Release, once under AddressSanitizer + UndefinedBehaviorSanitizer. ctest's summary of the
# sanitizer run is the last line printed.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/install-deps.sh clang libomp-dev  # clang: the clang_compiles test
jobs=$(nproc)
# Every option explicit: demo.sh configures the same folder with tests off.
cmake -S . -B build/release -DCMAKE_BUILD_TYPE=Release -DINK_BUILD_TESTS=ON -DINK_BUILD_EXAMPLES=ON \
  -DINK_BUILD_BENCH=ON -DINK_SANITIZE=OFF >/dev/null
cmake --build build/release -j "$jobs"
(cd build/release && ctest --output-on-failure -j "$jobs")
cmake -S . -B build/sanitize -DCMAKE_BUILD_TYPE=RelWithDebInfo -DINK_SANITIZE=ON \
  -DINK_BUILD_TESTS=ON -DINK_BUILD_BENCH=OFF -DINK_BUILD_EXAMPLES=OFF >/dev/null
cmake --build build/sanitize -j "$jobs"
cd build/sanitize
ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 UBSAN_OPTIONS=print_stacktrace=1 \
  ctest --output-on-failure -j "$jobs"
