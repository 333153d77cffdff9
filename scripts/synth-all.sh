#!/bin/sh
# Synthesizes every example and main.ts in each mode (scripts/synth-all.ts) from
# a fixed seed, and compares the sha256 list with a baseline when one is given:
#   scripts/synth-all.sh OUT_DIR SEED_DIR [BASELINE_SHA256SUMS]
# The seed (PEM files and store copies, with private keys) is made on the first
# run; keep it outside the repository and reuse it for the run to compare.
set -eu
out=${1:?OUT_DIR}; seed=${2:?SEED_DIR}; baseline=${3:-}
cd "$(dirname "$0")/.."
node -r tsx/cjs scripts/synth-all.ts "$out" "$seed"
if [ -n "$baseline" ]; then
  diff "$baseline" "$out/SHA256SUMS" && echo "synth-all: identical to $baseline"
fi
