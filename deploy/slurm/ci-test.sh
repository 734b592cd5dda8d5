#!/usr/bin/env bash
# The Slurm recipe on a real Slurm: starts a one-node cluster on this machine (munged,
# slurmctld, slurmd; every file under a temporary folder), submits a sweep with
# deploy/slurm/submit.sh as a job array of 4 tasks (`--shard auto`) and its merge step,
# waits, and checks that the merged files are byte-identical to the same sweep run unsharded.
# Stops what it started and removes its folder on exit. Bounded: 20 s for the cluster to
# come up, 90 s for the jobs.
#
#   IPSIM=target/release/ipsim deploy/slurm/ci-test.sh
#
# Needs root (the daemons run as root, as the job's user); installs Debian's slurm-wlm and
# munge with apt-get when slurmctld is missing. Without root or apt-get it says why and exits
# 0: the same check with each engine's variables set by hand is the test
# `batch::shard_auto_under_each_engine_merges_to_the_unsharded_sweep` (cargo test).
set -euo pipefail
cd "$(dirname "$0")/../.."
repo=$(pwd)
ipsim=$(realpath "${IPSIM:-target/debug/ipsim}")
say() { echo "slurm-ci: $*"; }
fail() {
    echo "slurm-ci: FAILED: $*" >&2
    exit 1
}
[[ -x $ipsim ]] || fail "no ipsim binary at $ipsim (set IPSIM)"

if ! command -v slurmctld >/dev/null || ! command -v munged >/dev/null; then
    if [[ $(id -u) != 0 ]] || ! command -v apt-get >/dev/null; then
        say "SKIPPED: slurm-wlm and munge are not installed and cannot be (needs root and apt-get)"
        exit 0
    fi
    say "installing slurm-wlm and munge (Debian packages)"
    export DEBIAN_FRONTEND=noninteractive
    timeout 150 apt-get install -y -qq slurm-wlm munge >/dev/null ||
        { timeout 60 apt-get update -qq && timeout 150 apt-get install -y -qq slurm-wlm munge >/dev/null; } ||
        fail "apt-get could not install slurm-wlm and munge"
fi
if [[ $(id -u) != 0 ]]; then
    say "SKIPPED: a one-node Slurm here needs root (its daemons and the job run as root)"
    exit 0
fi

t=$(mktemp -d /tmp/ipsim-slurm-ci.XXXXXX)
chmod 755 "$t"
cleanup() {
    local code=$?
    export SLURM_CONF=$t/slurm.conf
    scancel --quiet --full -u root 2>/dev/null || true
    for f in slurmd slurmctld munge/munged; do
        [[ -f $t/$f.pid ]] && kill "$(cat "$t/$f.pid")" 2>/dev/null || true
    done
    for f in slurmd slurmctld munge/munged; do
        for _ in $(seq 50); do
            [[ -f $t/$f.pid ]] && kill -0 "$(cat "$t/$f.pid")" 2>/dev/null || break
            sleep 0.1
        done
    done
    if ((code != 0)); then
        for log in "$t"/*.log "$t"/results/*.log; do
            [[ -f $log ]] && { echo "--- $log"; tail -n 30 "$log"; }
        done >&2
    fi
    rm -rf "$t"
    exit "$code"
}
trap cleanup EXIT
# A timeout's SIGTERM still stops the daemons and removes the folder.
trap 'exit 124' TERM INT

host=$(hostname -s)
# Ports away from Slurm's defaults, so that a Slurm already on the machine is left alone.
ctld_port=${IPSIM_CI_SLURMCTLD_PORT:-16817}
d_port=${IPSIM_CI_SLURMD_PORT:-16818}
mkdir -p "$t/munge" "$t/state" "$t/spool" "$t/results"
chmod 700 "$t/munge"
head -c 1024 /dev/urandom >"$t/munge/munge.key"
chmod 400 "$t/munge/munge.key"
munged --key-file="$t/munge/munge.key" --socket="$t/munge/munge.sock" \
    --pid-file="$t/munge/munged.pid" --log-file="$t/munge.log" \
    --seed-file="$t/munge/munged.seed" --force ||
    fail "munged did not start"
# The socket's folder must be searchable by the daemons and by sbatch.
chmod 711 "$t/munge"

cat >"$t/slurm.conf" <<EOF
ClusterName=ipsimci
SlurmctldHost=$host(127.0.0.1)
SlurmUser=root
SlurmdUser=root
SlurmctldPort=$ctld_port
SlurmdPort=$d_port
AuthType=auth/munge
AuthInfo=socket=$t/munge/munge.sock
CredType=cred/munge
StateSaveLocation=$t/state
SlurmdSpoolDir=$t/spool
SlurmctldPidFile=$t/slurmctld.pid
SlurmdPidFile=$t/slurmd.pid
SlurmctldLogFile=$t/slurmctld.log
SlurmdLogFile=$t/slurmd.log
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
SelectType=select/cons_tres
SelectTypeParameters=CR_CPU
JobAcctGatherType=jobacct_gather/none
AccountingStorageType=accounting_storage/none
JobCompType=jobcomp/none
MpiDefault=none
ReturnToService=2
SchedulerType=sched/backfill
NodeName=$host NodeAddr=127.0.0.1 CPUs=$(nproc) State=UNKNOWN
PartitionName=ci Nodes=$host Default=YES MaxTime=5 State=UP
EOF
export SLURM_CONF=$t/slurm.conf
slurmctld -i -f "$SLURM_CONF" || fail "slurmctld did not start"
slurmd -f "$SLURM_CONF" || fail "slurmd did not start"
up=""
for _ in $(seq 40); do
    if [[ $(sinfo -h -N -o %t 2>/dev/null) == idle ]]; then
        up=1
        break
    fi
    sleep 0.5
done
[[ -n $up ]] || fail "the node did not come up within 20 s: $(sinfo -N 2>&1 | tail -2)"
say "one-node cluster up: $(sinfo -h -o '%P %a %D %t %N')"

sweep=(--vary surge.peak=120..200:20 --vary subnet.edge-subnet.prefix=22..23 --seeds 3)
"$ipsim" -q sweep scenarios/surge.json "${sweep[@]}" --out "$t/whole"

export IPSIM=$ipsim
mapfile -t ids < <(deploy/slurm/submit.sh 4 "$t/results" scenarios/surge.json "${sweep[@]}")
array=${ids[0]}
merge=${ids[1]}
say "submitted job array $array (4 tasks) and merge job $merge"
state() { scontrol show job "$1" 2>/dev/null | grep -o 'JobState=[A-Z_]*' | sort -u | tr '\n' ' '; }
done=""
for _ in $(seq 180); do
    s=$(state "$merge")
    case $s in
        *COMPLETED*) done=1 && break ;;
        *FAILED* | *CANCELLED* | *TIMEOUT* | *NODE_FAIL* | *OUT_OF_MEMORY*)
            fail "the merge job ended $s; the array: $(state "$array")" ;;
    esac
    a=$(state "$array")
    [[ $a == *FAILED* || $a == *CANCELLED* ]] && fail "a task of the array ended: $a"
    sleep 0.5
done
[[ -n $done ]] || fail "the jobs did not finish within 90 s: array $(state "$array"), merge $(state "$merge")"

for i in 0 1 2 3; do
    [[ -f $t/results/shard-$i/sweep.json ]] || fail "task $i wrote no shard-$i/sweep.json"
    grep -q "shard $i/4 (Slurm job array: SLURM_ARRAY_TASK_ID=$i, SLURM_ARRAY_TASK_COUNT=4" \
        "$t/results/ipsim-sweep-${array}_$i.log" ||
        fail "task $i did not take shard $i/4 from Slurm: $(cat "$t/results/ipsim-sweep-${array}_$i.log")"
done
for f in sweep.json sweep.csv heatmap.png; do
    cmp "$t/whole/$f" "$t/results/sweep/$f" || fail "$f merged from the array differs from the unsharded sweep"
done
[[ $(ls "$t/whole" | sort) == $(ls "$t/results/sweep" | sort) ]] ||
    fail "the merged folder holds other files than the unsharded one"
say "ok: 4 array tasks with --shard auto, merged, are byte-identical to the unsharded sweep (sweep.json, sweep.csv, heatmap.png)"
