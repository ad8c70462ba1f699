#!/usr/bin/env bash
# Installs the Debian packages ink needs to build, test and run its examples, and only those
# that are missing, so a second run costs a few dpkg queries. Run as root (or with sudo).
set -euo pipefail
packages=(g++ cmake make libeigen3-dev libstb-dev catch2 libbenchmark-dev zlib1g-dev dataset-fashion-mnist "$@")
missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  echo "ink: installing ${missing[*]}"
  sudo_cmd=""
  [ "$(id -u)" = 0 ] || sudo_cmd="sudo"
  export DEBIAN_FRONTEND=noninteractive
  $sudo_cmd apt-get update -qq
  $sudo_cmd apt-get install -y -qq --no-install-recommends "${missing[@]}"
fi
