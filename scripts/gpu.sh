#!/usr/bin/env bash
# Builds and checks seqrl's CUDA scans on a GPU machine that has PyTorch (pip) but no internet.
# UNTESTED here (the dev box has no GPU). Three steps:
#   scripts/gpu.sh fetch   on the dev box (internet): apt-get download the build's Debian
#                          packages (everything except libtorch) into ./.debs
#   scripts/gpu.sh build   on the GPU box: unpack them with dpkg -x into ./.debs/prefix and build
#                          against the LibTorch inside the GPU box's PyTorch (cxx11 ABI wheels)
#   scripts/gpu.sh test    on the GPU box: CUDA tests, then `seqrl bench scan --device cuda`
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
debs="$root/.debs"
prefix="$debs/prefix"
build="$root/build-gpu"
packages=(libhdf5-dev libhdf5-103-1 libhdf5-cpp-103-1 libsz2 libaec0 libcurl4 zlib1g-dev libmujoco-dev libmujoco2.2.2
          libqhull-dev libqhull-r8.0 libyaml-cpp-dev libyaml-cpp0.7 libspdlog-dev libspdlog1.10 libfmt-dev libfmt9
          libgtest-dev libcli11-dev)

case "${1:-}" in
  fetch)
    mkdir -p "$debs"
    echo '*' > "$debs/.gitignore"  # keep the downloads out of git
    (cd "$debs" && apt-get download "${packages[@]}")
    ;;
  build)
    mkdir -p "$prefix"
    for deb in "$debs"/*.deb; do dpkg -x "$deb" "$prefix"; done
    torch_cmake="$(python3 -c 'import torch; print(torch.utils.cmake_prefix_path)')"
    lib="$prefix/usr/lib/x86_64-linux-gnu"
    export LD_LIBRARY_PATH="$lib:${LD_LIBRARY_PATH:-}"
    cmake -S "$root" -B "$build" -G Ninja -DCMAKE_BUILD_TYPE=Release -DSEQRL_CUDA=ON \
      -DCMAKE_PREFIX_PATH="$torch_cmake;$lib/cmake;$prefix/usr/share/cmake;$prefix/usr" \
      -DCMAKE_CUDA_ARCHITECTURES="${SEQRL_CUDA_ARCH:-90}"
    cmake --build "$build" -j "$(nproc)" --target test_kernels seqrl_cli
    ;;
  test)
    export LD_LIBRARY_PATH="$prefix/usr/lib/x86_64-linux-gnu:${LD_LIBRARY_PATH:-}"
    "$build/tests/test_kernels"
    "$build/seqrl" bench scan --device cuda --shape 64,4096,512
    ;;
  *)
    echo "usage: scripts/gpu.sh fetch|build|test" >&2
    exit 2
    ;;
esac
