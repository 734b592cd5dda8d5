#!/usr/bin/env bash
# Checks ipsim against an independent SimPy implementation of docs/model.md, and compares
# their speed.
# Installs SimPy into target/reference-venv (PyPI), exports a replay with the
# reference_export example, runs the model on it, and compares the occupancy at every minute.
#   bash benches/reference/run.sh [SERVICES] [DAYS] [PREFIX]     (default: 100 1 20)
set -euo pipefail
cd "$(dirname "$0")/../.."
services=${1:-100}
days=${2:-1}
prefix=${3:-20}
venv=target/reference-venv
if [ ! -x "$venv/bin/python" ]; then
  python3 -m venv "$venv"
fi
"$venv/bin/pip" install --quiet --disable-pip-version-check 'simpy==4.1.1'
out=target/reference
cargo run --release --quiet -p ipsim-benches --example reference_export -- "$out" "$services" "$days" "$prefix"
"$venv/bin/python" benches/reference/model.py "$out"
