#!/usr/bin/env bash
# Installs every Debian package seqrl needs, then configures and builds it.
# Idempotent: packages already present are skipped by apt, the build is incremental.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"

packages=(
  build-essential cmake ninja-build pkg-config
  libtorch-dev libopenblas0-openmp   # without openblas libtorch falls back to reference BLAS (~9x slower)
  libhdf5-dev libmujoco-dev libqhull-dev
  libyaml-cpp-dev libspdlog-dev libfmt-dev libgtest-dev libcli11-dev
  gnuplot-nox
  nlohmann-json3-dev
  slurm-wlm munge   # the sweep tests start a private one-node Slurm (scripts/slurm_local.sh)
)

# SEQRL_EXTRA_PACKAGES: more to install alike (CI's fuzz job adds clang's).
read -r -a extra <<< "${SEQRL_EXTRA_PACKAGES:-}"
packages+=("${extra[@]}")

missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if ((${#missing[@]})); then
  sudo_cmd=""; [ "$(id -u)" -eq 0 ] || sudo_cmd="sudo"
  $sudo_cmd apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo_cmd apt-get install -y -qq --no-install-recommends "${missing[@]}"
fi

cmake -S "$root" -B "$root/build" -G Ninja -DCMAKE_BUILD_TYPE=Release ${SEQRL_CMAKE_ARGS:-}
cmake --build "$root/build" -j "$(nproc)"
