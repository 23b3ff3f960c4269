#!/usr/bin/env bash
# Builds and checks seqrl on a GPU machine that has PyTorch (pip, CUDA) but no internet and
# none of our Debian packages. Three steps:
#   scripts/gpu.sh fetch   on the dev box (Debian 12, apt): apt-get download the build's Debian
#                          packages (everything except libtorch) into ./.debs (git-ignored;
#                          carry it to the GPU machine)
#   scripts/gpu.sh build   on the GPU box: unpack them with dpkg -x into ./.debs/prefix and build
#                          against the LibTorch inside the GPU box's PyTorch (cxx11 ABI wheels)
#   scripts/gpu.sh test    on the GPU box: the CUDA tests (GPU vs CPU), the test suite, a short CUDA
#                          training run, then the benchmarks; output also under $OUT if set
# The same build is checked without a GPU by scripts/torch2.sh (PyPI wheel, tests on the CPU).
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
debs="$root/.debs"
prefix="$debs/prefix"
build="$root/build-gpu"
lib="$prefix/usr/lib/x86_64-linux-gnu"
packages=(libhdf5-dev libhdf5-103-1 libhdf5-cpp-103-1 libhdf5-hl-100 libsz2 libaec0 libcurl4 zlib1g-dev
          libmujoco-dev libmujoco2.2.2 libqhull-dev libqhull-r8.0 libqhull8.0 libqhullcpp8.0
          libyaml-cpp-dev libyaml-cpp0.7 libspdlog-dev libspdlog1.10 libfmt-dev libfmt9
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
    # The torch package folder itself (not torch.utils.cmake_prefix_path): its lib/ then comes
    # first when CMake looks for libtorch.so.
    torch_root="$(python3 -c 'import os, torch; print(os.path.dirname(torch.__file__))')"
    export LD_LIBRARY_PATH="$lib:${LD_LIBRARY_PATH:-}"
    cmake -S "$root" -B "$build" -G Ninja -DCMAKE_BUILD_TYPE=Release -DSEQRL_CUDA=ON \
      -DCMAKE_PREFIX_PATH="$torch_root;$lib/cmake;$prefix/usr/share/cmake;$prefix/usr" \
      -DTORCH_CUDA_ARCH_LIST="${SEQRL_CUDA_ARCH:-9.0}"
    cmake --build "$build" -j "$(nproc)"
    ;;
  test)
    export LD_LIBRARY_PATH="$lib:${LD_LIBRARY_PATH:-}"
    out="${OUT:-$build/gpu-out}"
    mkdir -p "$out"
    nvidia-smi --query-gpu=name,driver_version,memory.total --format=csv | tee "$out/device.txt"
    "$build/tests/test_kernels" --gtest_filter='ScanCuda*' 2>&1 | tee "$out/test_kernels.txt"
    # The whole suite too (the LibTorch 2.x + CUDA build); `seqrl plot`'s tests need gnuplot.
    ctest --test-dir "$build" -j "$(nproc)" -E plot 2>&1 | tail -30 | tee "$out/ctest.txt"
    (cd "$root" && "$build/seqrl" train -c configs/quickstart.yaml run.device=cuda run.out_dir="$build/runs") \
      2>&1 | tee "$out/train_cuda.txt"
    "$build/seqrl" bench scan --device cuda --shape 64,4096,512 2>&1 | tee "$out/bench_scan.txt"
    "$build/seqrl" bench backbone --device cuda --backbones all --seq 64,512,4096 --batch 64 --dim 128 \
      2>&1 | tee "$out/bench_backbone.txt"
    "$build/seqrl" bench sac --device cuda 2>&1 | tee "$out/bench_sac.txt"
    ;;
  *)
    echo "usage: scripts/gpu.sh fetch|build|test" >&2
    exit 2
    ;;
esac
