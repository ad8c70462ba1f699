#!/usr/bin/env bash
# Quick start 1: install what is missing, build in Release, run the main demo.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/install-deps.sh
jobs=$(nproc)
cmake -S . -B build/release -DCMAKE_BUILD_TYPE=Release -DINK_BUILD_TESTS=OFF -DINK_BUILD_BENCH=OFF >/dev/null
cmake --build build/release --target demo train_classifier train_vae train_dcgan -j "$jobs"
./build/release/examples/demo
