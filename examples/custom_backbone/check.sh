#!/usr/bin/env bash
# CI for the out-of-tree backbone: install seqrl from build/ into a temporary prefix, build this
# project against the *installed* package, run `backbones check ema` and a 50-step train of
# the ema backbone on the embedded Hopper data (evaluation: one recurrent episode).
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
cmake --install "$root/build" --prefix "$work/prefix" > /dev/null
cmake -S "$root/examples/custom_backbone" -B "$work/build" -G Ninja -DCMAKE_PREFIX_PATH="$work/prefix" > /dev/null
cmake --build "$work/build" -j "$(nproc)"
exe="$work/build/seqrl_ema"
"$exe" backbones list | grep -q '^ema ' || { echo "check.sh: ema missing from backbones list" >&2; exit 1; }
"$exe" backbones check ema
cd "$root"
"$exe" train -c configs/quickstart.yaml model.backbone=ema train.steps=50 train.warmup_steps=10 \
  train.log_every=10 train.checkpoint_every=50 train.eval_every=0 'eval.targets=[1800]' eval.episodes=1 \
  eval.modes=recurrent run.out_dir="$work/runs"
test -f "$work"/runs/*/eval.json
echo "examples/custom_backbone: OK"
