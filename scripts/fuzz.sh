#!/usr/bin/env bash
# Coverage-guided fuzzing (clang libFuzzer + ASan + UBSan) of the config loader, the HDF5
# dataset readers (D4RL and Minari layouts) and the runtime's .sqp loader and step, each for a
# fixed time, one after the other (CPU is shared). fuzz_policy's seeds come from build/seqrl
# (scripts/policy_seeds.sh). Findings (crashes, hangs over 10 s, sanitizer reports, leaks) go to
# build-fuzz/findings/<target>/; exit status 1 if there is any.
#   bash scripts/fuzz.sh [seconds per target, default 600] [targets..., default all three]
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
seconds=${1:-600}
shift $(($# > 0))
targets=("$@")
((${#targets[@]})) || targets=(fuzz_config fuzz_dataset fuzz_policy)
mkdir -p build-fuzz
cmake -S . -B build-fuzz -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo -DCMAKE_C_COMPILER=clang \
  -DCMAKE_CXX_COMPILER=clang++ -DSEQRL_CUDA=OFF -DSEQRL_TESTS=OFF -DSEQRL_FUZZ=ON > build-fuzz/cmake.log
ninja -C build-fuzz "${targets[@]}"
found=0
for target in "${targets[@]}"; do
  corpus=build-fuzz/corpus/$target findings=build-fuzz/findings/$target
  mkdir -p "$corpus" "$findings"
  extra=()
  if [ "$target" = fuzz_config ]; then
    cp -n configs/*.yaml configs/sac/*.yaml "$corpus"/ 2>/dev/null || true
    extra=(-dict=fuzz/yaml.dict)
  elif [ "$target" = fuzz_policy ] && [ -z "$(ls -A "$corpus")" ]; then
    bash scripts/policy_seeds.sh "$corpus"
  fi  # fuzz_dataset writes its own seed files into an empty corpus
  asan=${ASAN_OPTIONS:-}
  if [ "$target" = fuzz_dataset ]; then
    # HDF5 mallocs what a header declares and handles NULL, as glibc gives for absurd sizes: let
    # ASan return NULL too. Leaks inside libhdf5 on corrupt files are the library's (CI's ASan
    # job runs without leak checks for the same reason).
    # Every input is read first in a child process (core/child_probe.h), forked once; a small
    # quarantine keeps ASan's heap, and so that fork and any after a crash, small.
    asan=allocator_may_return_null=1:detect_leaks=0:quarantine_size_mb=8
    extra=(-malloc_limit_mb=1048576 -detect_leaks=0)
  fi
  start=$(date +%s)
  ASAN_OPTIONS=$asan build-fuzz/fuzz/$target "$corpus" "${extra[@]}" -max_total_time="$seconds" -timeout=10 \
    -rss_limit_mb=4096 -print_final_stats=1 -artifact_prefix="$findings/" > "build-fuzz/$target.log" 2>&1 || true
  execs=$(grep -o 'stat::number_of_executed_units: *[0-9]*' "build-fuzz/$target.log" | grep -o '[0-9]*$' || echo 0)
  n=$(find "$findings" -type f | wc -l)
  found=$((found + n))
  echo "$target: $execs execs in $(( $(date +%s) - start )) s, $(find "$corpus" -type f | wc -l) corpus files, $n findings ($findings)"
done
[ "$found" -eq 0 ]
