#!/usr/bin/env bash
# Seed files for fuzz_policy: every backbone, 1 layer × 8 wide, trained for one step on the
# embedded data and exported by `seqrl export` as float32 and float16 (a few KB each).
#   bash scripts/policy_seeds.sh OUT_DIR [SEQRL_BINARY, default build/seqrl]
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
out=$1 seqrl=${2:-build/seqrl}
[ -x "$seqrl" ] || { echo "policy_seeds.sh: $seqrl not found; build it first (bash scripts/setup.sh)" >&2; exit 1; }
mkdir -p "$out"
runs=$(mktemp -d)
trap 'rm -rf "$runs"' EXIT
for backbone in $("$seqrl" backbones list | awk 'NR > 1 && $1 !~ /^model\./ {print $1}'); do
  "$seqrl" --threads 1 --log-level warn train -c configs/quickstart.yaml model.backbone="$backbone" \
    model.embed_dim=8 model.layers=1 model.heads=2 model.context=2 model.max_ep_len=4 train.steps=1 \
    train.warmup_steps=1 train.checkpoint_every=1 train.eval_every=0 eval.episodes=1 'eval.targets=[100]' \
    eval.modes=recurrent run.out_dir="$runs" run.name="$backbone" > /dev/null
  for dtype in float32 float16; do
    "$seqrl" --log-level warn export "$runs/$backbone"-* --dtype "$dtype" -o "$out/$backbone-$dtype.sqp" > /dev/null
  done
done
