"""Writes the scenarios of docs/performance.md's load scaling tables.

python3 benches/scaling_inputs.py generators N OUT.json
    N services on one /8 for 60 h, each a constant of 5 with Poisson noise: 3,600 generator
    samples each (one a minute), N x 3,600 over the run (the cap is 10,000,000).
python3 benches/scaling_inputs.py jobs DAYS OUT.json
    One job on a /8 for DAYS days: an execution of 10,000 tasks, each with its own duration
    from a list of 10,000, repeated every minute (1,440 executions a day).
"""
import json
import sys

kind, n, out = sys.argv[1], int(sys.argv[2]), sys.argv[3]
if kind == "generators":
    workloads = [
        {"name": f"s{i}", "subnet": "s", "noise": "poisson",
         "demand": {"type": "constant", "value": 5}}
        for i in range(n)
    ]
    duration = "60h"
else:
    durations = [f"{1 + i % 5}m" for i in range(10000)]
    workloads = [{
        "name": "etl", "kind": "job", "subnet": "s",
        "executions": [{"start": "0s", "tasks": 10000, "parallelism": 100,
                        "task_duration": durations, "repeat_every": "1m"}],
    }]
    duration = f"{n}d"
scenario = {
    "name": kind, "description": "a scaling input", "duration": duration,
    "subnets": [{"name": "s", "cidr": "10.0.0.0/8"}], "workloads": workloads,
}
with open(out, "w") as f:
    json.dump(scenario, f)
