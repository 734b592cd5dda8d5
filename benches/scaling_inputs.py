"""Writes the scenarios of docs/performance.md's load scaling tables.

python3 benches/scaling_inputs.py generators N OUT.json
    N services on one /8 for 60 h, each a constant of 5 with Poisson noise: 3,600 generator
    samples each (one a minute), N x 3,600 over the run (the cap is 10,000,000).
python3 benches/scaling_inputs.py jobs DAYS OUT.json
    One job on a /8 for DAYS days: an execution of 10,000 tasks, each with its own duration
    from a list of 10,000, repeated every minute (1,440 executions a day).
python3 benches/scaling_inputs.py windows HOURS OUT.json
    250 services flapping on a /20 for HOURS hours, each a constant of 3 with Poisson noise (a
    new count every minute): with 20 minutes of retention a service needs about one /28 block,
    and its starts fail whenever it wants a second one and none is free. About 3,200 failure
    windows an hour: 32 hours make the ~100,000-window run of docs/performance.md ("Report
    size").
python3 benches/scaling_inputs.py trace N OUT.json
    N services on a /16 for 7 days, each replaying a CSV trace (trace.csv beside OUT.json) of
    a diurnal instance count with noise, one row per service per minute (N x 10,080 rows),
    and one revision swap a day: the input of docs/performance.md's "Cheap studies".
"""
import json
import math
import os
import random
import sys

kind, n, out = sys.argv[1], int(sys.argv[2]), sys.argv[3]
if kind == "trace":
    days = 7
    rng = random.Random(92)
    shape = [(rng.uniform(2, 14), rng.uniform(0, 1440)) for _ in range(n)]
    workloads = []
    for i in range(n):
        swaps = [{"at": f"{d * 1440 + rng.randrange(1440)}m", "rollout": f"{rng.randrange(5)}m"}
                 for d in range(days)]
        workloads.append({"name": f"svc-{i:04}", "subnet": "run",
                          "demand": {"type": "trace", "trace": "t"}, "swaps": swaps})
    noise = random.Random(0x5EED)
    with open(os.path.join(os.path.dirname(os.path.abspath(out)), "trace.csv"), "w") as f:
        f.write("time,workload,instances\n")
        for m in range(days * 1440):
            rows = []
            for i, (mean, phase) in enumerate(shape):
                day = math.sin(2 * math.pi * (m - phase) / 1440)
                v = max(0.0, mean * (1 + 0.6 * day) + noise.uniform(-1.5, 1.5))
                rows.append(f"{m}m,svc-{i:04},{round(v)}\n")
            f.write("".join(rows))
    scenario = {
        "name": f"trace-{n}x{days}d", "description": "a scaling input", "duration": f"{days}d",
        "subnets": [{"name": "run", "cidr": "10.0.0.0/16"}], "workloads": workloads,
        "traces": [{"name": "t", "format": "csv", "file": "trace.csv"}],
    }
    with open(out, "w") as f:
        json.dump(scenario, f)
    sys.exit(0)
if kind == "generators":
    workloads = [
        {"name": f"s{i}", "subnet": "s", "noise": "poisson",
         "demand": {"type": "constant", "value": 5}}
        for i in range(n)
    ]
    duration = "60h"
elif kind == "windows":
    workloads = [
        {"name": f"s{i}", "subnet": "s", "noise": "poisson",
         "demand": {"type": "constant", "value": 3}}
        for i in range(250)
    ]
    duration = f"{n}h"
else:
    durations = [f"{1 + i % 5}m" for i in range(10000)]
    workloads = [{
        "name": "etl", "kind": "job", "subnet": "s",
        "executions": [{"start": "0s", "tasks": 10000, "parallelism": 100,
                        "task_duration": durations, "repeat_every": "1m"}],
    }]
    duration = f"{n}d"
cidr = "10.0.0.0/20" if kind == "windows" else "10.0.0.0/8"
scenario = {
    "name": kind, "description": "a scaling input", "duration": duration,
    "subnets": [{"name": "s", "cidr": cidr}], "workloads": workloads,
}
with open(out, "w") as f:
    json.dump(scenario, f)
