#!/usr/bin/env bash
# Fails, naming the files, when a C/C++/CUDA source differs from what .clang-format makes of it.
# Fix with: git ls-files '*.cpp' '*.h' '*.cu' '*.cuh' '*.c' | xargs clang-format -i
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
if ! command -v clang-format >/dev/null; then
  sudo_cmd=""; [ "$(id -u)" -eq 0 ] || sudo_cmd="sudo"
  DEBIAN_FRONTEND=noninteractive $sudo_cmd apt-get install -y -qq --no-install-recommends clang-format
fi
bad=()
while IFS= read -r f; do
  clang-format --style=file "$f" | cmp -s - "$f" || bad+=("$f")
done < <(git ls-files '*.cpp' '*.h' '*.cu' '*.cuh' '*.c')
if ((${#bad[@]})); then
  echo "not formatted with .clang-format (clang-format $(clang-format --version | grep -o '[0-9.]*' | head -1)):" >&2
  printf '  %s\n' "${bad[@]}" >&2
  exit 1
fi
echo "format: every source matches .clang-format"
