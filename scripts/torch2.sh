#!/usr/bin/env bash
# Builds seqrl against a LibTorch 2.x with CUDA on a machine WITHOUT a GPU, then runs the whole
# test suite on the CPU with it: proves the code compiles against LibTorch 2.x + nvcc (the CUDA
# kernels linked in, SEQRL_WITH_CUDA=1) and behaves the same as on Debian's 1.13. The GPU tests
# skip (no device). Needs nvcc (CUDA 13 for torch >= 2.11 wheels) and the packages of
# scripts/setup.sh; downloads one torch wheel from PyPI (~530 MB) into .torch2/.
#   scripts/torch2.sh [VERSION]     default 2.11.0, the version on the GPU machines
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
version="${1:-2.11.0}"
work="$root/.torch2"
build="$root/build-torch2"
mkdir -p "$work"
echo '*' > "$work/.gitignore"

if [ ! -d "$work/torch-$version/torch/share/cmake/Torch" ]; then
  python3 -m pip download --no-deps --only-binary=:all: --python-version 3.11 \
    --platform manylinux_2_28_x86_64 -d "$work" "torch==$version"
  mkdir -p "$work/torch-$version"
  unzip -q -o "$work"/torch-"$version"-*.whl 'torch/include/*' 'torch/lib/*' 'torch/share/*' -d "$work/torch-$version"
fi
torch="$work/torch-$version/torch"

# The wheel's CUDA libraries come from other pip packages (cuSPARSELt, NVSHMEM, cuFile, ...);
# those not in the local CUDA toolkit get empty stand-ins so that libtorch_cuda.so loads. Nothing
# calls them without a GPU (lazy binding), and they are never linked into what we ship.
stubs="$work/stubs"
mkdir -p "$stubs"
export LD_LIBRARY_PATH="$torch/lib:$stubs:/usr/local/cuda/lib64:${LD_LIBRARY_PATH:-}"
# The driver (libcuda.so.1) gets none: without it CUDA reports no device, as it should here.
for lib in "$torch"/lib/*.so; do
  for missing in $(ldd "$lib" | awk '/not found/ && $1 !~ /^libcuda[.]so/ {print $1}'); do
    [ -e "$stubs/$missing" ] && continue
    # The symbol versions torch's libraries ask of it (else the loader warns on every start).
    for l in "$torch"/lib/*.so; do readelf -V "$l"; done |
      awk -v f="$missing" '/File:/ {want = ($5 == f); next} want && $2 == "Name:" {print $3 " { };"}' |
      sort -u > "$stubs/$missing.map"
    versions=()
    [ -s "$stubs/$missing.map" ] && versions=(-Wl,--version-script,"$stubs/$missing.map")
    gcc -shared -Wl,-soname,"$missing" "${versions[@]}" -o "$stubs/$missing" -x c /dev/null
  done
done

cmake -S "$root" -B "$build" -G Ninja -DCMAKE_BUILD_TYPE=Release -DSEQRL_CUDA=ON \
  -DCMAKE_PREFIX_PATH="$torch" -DTORCH_CUDA_ARCH_LIST=9.0 \
  -DCMAKE_EXE_LINKER_FLAGS="-Wl,-rpath-link,$stubs -Wl,--allow-shlib-undefined"
cmake --build "$build" -j "$(nproc)"
ctest --test-dir "$build" --output-on-failure -j "$(nproc)"
