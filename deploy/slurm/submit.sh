#!/usr/bin/env bash
# Submits a sweep to Slurm as a job array of N tasks, and its merge step after it:
#
#   deploy/slurm/submit.sh N RESULTS SCENARIO [ipsim sweep arguments]
#   deploy/slurm/submit.sh 8 /shared/surge scenarios/surge.json \
#       --vary surge.peak=100..1000:10 --vary subnet.edge-subnet.prefix=20..24 --seeds 50
#
# Prints the array's job ID and the merge job's ID, one per line. When both are done,
# RESULTS/sweep holds sweep.csv, sweep.json (and heatmap.png for two --vary), exactly as one
# `ipsim sweep` on one machine writes them; RESULTS/shard-I holds task I's part. Extra
# sbatch options (partition, account, time limit) go in SBATCH_* variables, e.g.
# SBATCH_PARTITION=batch. IPSIM (the binary, default `ipsim` on PATH) is passed to the jobs.
set -euo pipefail
if (($# < 3)); then
    echo "usage: deploy/slurm/submit.sh N RESULTS SCENARIO [ipsim sweep arguments]" >&2
    exit 2
fi
n=$1
# Absolute paths: the jobs run in RESULTS, on whichever node.
results=$(realpath -m "$2")
scenario=$(realpath "$3")
shift 3
here=$(cd "$(dirname "$0")" && pwd)
[[ $n =~ ^[1-9][0-9]*$ ]] || {
    echo "submit.sh: N must be a whole number of 1 or more, not '$n'" >&2
    exit 2
}
mkdir -p "$results"
array=$(sbatch --parsable --array="0-$((n - 1))" --chdir="$results" --export=ALL \
    "$here/sweep.sbatch" "$results" "$scenario" "$@")
array=${array%%;*}
merge=$(sbatch --parsable --dependency="afterok:$array" --kill-on-invalid-dep=yes \
    --chdir="$results" --export=ALL "$here/merge.sbatch" "$results" "$n")
echo "$array"
echo "${merge%%;*}"
