#!/usr/bin/env bash
# Builds the real tools of the gitops tests from their Go modules (test/gitops/go.mod):
# sops, age, age-keygen, unseal (sealed-secrets' own SealedSecret.Unseal) and crdcheck
# (a CRD's structural schema, pruning and validation, with kube-apiserver's apiextensions code).
# Usage: test/gitops/build-tools.sh [OUTDIR]   (default: node_modules/.cache/gitops-bin)
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
out="${1:-$here/../../node_modules/.cache/gitops-bin}"
mkdir -p "$out"
cd "$here"
go build -o "$out/" github.com/getsops/sops/v3/cmd/sops filippo.io/age/cmd/age filippo.io/age/cmd/age-keygen ./unseal ./crdcheck
echo "$out"
