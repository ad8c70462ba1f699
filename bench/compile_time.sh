#!/usr/bin/env bash
# Prints how long g++ -O2 takes to compile bench/compile_time/small_cnn.cpp, a program that
# defines and trains a small CNN with ink (the figure docs/performance.md keeps). Runs the
# compile three times and reports wall and user CPU seconds of each: the machine is shared, and
# user time is the less noisy of the two.
#
# With --libtorch it also installs Debian's libtorch-dev and compiles the same program written
# with libtorch (bench/compile_time/small_cnn_libtorch.cpp) alternately with ink's, and prints
# each pair's ratio of user times: the host's speed moves by a fifth within an hour, so the
# ratio to a peer measured in the same minutes is the figure that compares across runs.
set -euo pipefail
cd "$(dirname "$0")/.."
with_libtorch=0
case "${1:-}" in
  --libtorch) with_libtorch=1 ;;
  "") ;;
  *) echo "usage: $0 [--libtorch]" >&2; exit 2 ;;
esac
extra=(time)  # /usr/bin/time
[ "$with_libtorch" = 1 ] && extra+=(libtorch-dev)
bash scripts/install-deps.sh "${extra[@]}"
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT

# Compiles and links one program; prints "<label> compile <i>: <wall> s wall, <user> s user"
# and leaves the user seconds in $user.
compile() {
  local label=$1 i=$2 wall
  shift 2
  /usr/bin/time -o "$out/time" -f "%e %U" g++ "$@"
  read -r wall user <"$out/time"
  echo "$label compile $i: $wall s wall, $user s user"
}

ratios=()
for i in 1 2 3; do
  compile ink "$i" -std=c++20 -O2 -fopenmp -Iinclude -I/usr/include/eigen3 -I/usr/include/stb \
    bench/compile_time/small_cnn.cpp -o "$out/small_cnn"
  ink_user=$user
  if [ "$with_libtorch" = 1 ]; then
    # The flags TorchConfig.cmake gives a user's target, and the libraries it links.
    compile libtorch "$i" -std=c++20 -O2 -D_GLIBCXX_USE_CXX11_ABI=1 -I/usr/include/torch/csrc/api/include \
      bench/compile_time/small_cnn_libtorch.cpp -o "$out/small_cnn_libtorch" -ltorch -ltorch_cpu -lc10
    ratios+=("$(awk -v a="$ink_user" -v b="$user" 'BEGIN { printf "%.3f", a / b }')")
  fi
done
"$out/small_cnn" | tail -1
if [ "$with_libtorch" = 1 ]; then
  "$out/small_cnn_libtorch" | tail -1
  echo "ink / libtorch user time, per pair: ${ratios[*]}"
  echo "median: $(printf '%s\n' "${ratios[@]}" | sort -n | sed -n "$(((${#ratios[@]} + 1) / 2))p")"
fi
