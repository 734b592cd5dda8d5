#!/usr/bin/env bash
# Runs deploy/kubernetes/sweep.yaml, waits for every index, then the merge step.
#
#   deploy/kubernetes/run.sh [TIMEOUT]      # TIMEOUT for each wait, default 24h
#
# Edit the image (REGISTRY/ipsim:VERSION) and the sweep's arguments in both files first.
# The results stay on the ipsim-results volume: /results/surge/sweep holds sweep.csv,
# sweep.json and heatmap.png.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
timeout=${1:-24h}
kubectl apply -f "$here/sweep.yaml"
kubectl wait --for=condition=complete --timeout="$timeout" job/ipsim-sweep
kubectl apply -f "$here/merge.yaml"
kubectl wait --for=condition=complete --timeout="$timeout" job/ipsim-merge
kubectl logs job/ipsim-merge
