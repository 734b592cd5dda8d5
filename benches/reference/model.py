"""The allocation model of docs/model.md in SimPy, written apart from ipsim to check it.

Covers what the reference replay uses: services on one subnet, service-scoped /28 blocks with
the edge blocks excluded, first-fit, 2 addresses per instance, fixed 20-minute retention, no
linger, 10-second retries, revision swaps with whole-percent rollouts. Events at one
millisecond run in the model's class order (docs/model.md, "Event order") through SimPy's
own event priorities:
1 expiries, 3 demand changes / swaps / rollout steps, 4 the evaluation, 5 start attempts,
6 the per-minute sample, which therefore sees the state after every event of its millisecond.

Usage: python model.py DIR  (reads trace.csv, swaps.csv, setup.json, ipsim_minutes.csv and
ipsim_time.json written by the reference_export example; writes reference_minutes.csv and
compares the two, minute by minute).
"""

import csv
import json
import os
import math
import sys
import time
from fractions import Fraction

import simpy

EXPIRE, DEMAND, EVALUATE, START, SAMPLE = 1, 3, 4, 5, 6
BLOCK = 16
IPS = 2
RETENTION_MS = 20 * 60 * 1000
RETRY_MS = 10_000
MINUTE = 60_000


def at(env, delay, priority, fn, *args):
    """Schedules fn(*args) after delay ms, at the given priority (lower runs first)."""
    ev = simpy.Event(env)
    ev._ok = True
    ev._value = None
    ev.callbacks.append(lambda _e: fn(*args))
    env.schedule(ev, priority, delay)


class Subnet:
    def __init__(self, prefix):
        size = 1 << (32 - prefix)
        self.usable = size - 4
        self.n_blocks = size // BLOCK
        # The first and last blocks hold Google's reserved addresses: not reservable.
        self.free_blocks = list(range(1, self.n_blocks - 1))  # sorted ascending
        self.owner = [None] * self.n_blocks
        self.free_mask = [0xFFFF] * self.n_blocks
        self.in_use = 0
        self.retained = 0

    def reserved_blocks(self):
        return sum(1 for o in self.owner if o is not None)

    def sample(self):
        reserved = self.reserved_blocks() * BLOCK
        return (self.in_use, self.retained, reserved - self.in_use - self.retained,
                self.usable - reserved, self.reserved_blocks(), len(self.free_blocks))


class Revision:
    def __init__(self, share):
        self.share = share
        self.running = []   # instances, in start order
        self.pending = []   # requests, in request order


class Service:
    def __init__(self, idx):
        self.idx = idx
        self.demand = 0
        self.revisions = [Revision(Fraction(1))]
        self.blocks = set()
        self.rollout = None  # (start, R, k, new, bases, generation)
        self.generation = 0

    def free(self, sn):
        return sum(bin(sn.free_mask[b]).count("1") for b in self.blocks)


class Model:
    def __init__(self, env, setup):
        self.env = env
        self.sn = Subnet(setup["prefix"])
        self.services = [Service(i) for i in range(setup["services"])]
        self.dirty = set()
        self.eval_at = None
        self.samples = []

    # --- class 3 ---
    def mark(self, s):
        self.dirty.add(s.idx)
        if self.eval_at != self.env.now:
            self.eval_at = self.env.now
            at(self.env, 0, EVALUATE, self.evaluate)

    def set_demand(self, points):
        for w, n in points:
            self.services[w].demand = n
            self.mark(self.services[w])

    def rollout_step(self, s, generation=None):
        if s.rollout is None or (generation is not None and generation != s.rollout[5]):
            return
        start, r, k_done, new, bases, gen = s.rollout
        e = self.env.now - start
        k = min(100, (100 * (e + 1) - 1) // r)
        if k > k_done:
            new.share = Fraction(k, 100)
            for rev, base in bases:
                rev.share = base * Fraction(100 - k, 100)
            k_done = k
        if k_done >= 100:
            s.rollout = None
        else:
            s.rollout = (start, r, k_done, new, bases, gen)
            nxt = start + ((k_done + 1) * r) // 100
            at(self.env, nxt - self.env.now, DEMAND, self.rollout_step, s, gen)
        if generation is not None:
            self.mark(s)

    def swap(self, s, rollout):
        if s.rollout is not None:
            self.rollout_step(s)  # a step due now comes before the swap freezes the shares
        new = Revision(Fraction(0))
        olds = list(s.revisions)
        s.revisions.append(new)
        s.generation += 1
        if rollout == 0:
            for rev in olds:
                rev.share = Fraction(0)
            new.share = Fraction(1)
            s.rollout = None
        else:
            s.rollout = (self.env.now, rollout, 0, new, [(r, r.share) for r in olds], s.generation)
            self.rollout_step(s)
        self.mark(s)

    # --- class 4 ---
    def evaluate(self):
        for w in sorted(self.dirty):
            s = self.services[w]
            for rev in list(s.revisions):
                desired = math.ceil(s.demand * rev.share)
                have = len(rev.running) + len(rev.pending)
                if desired > have:
                    for _ in range(desired - have):
                        req = {"service": s, "rev": rev, "alive": True}
                        rev.pending.append(req)
                        at(self.env, 0, START, self.attempt, req)
                elif desired < have:
                    excess = have - desired
                    while excess and rev.pending:
                        rev.pending.pop()["alive"] = False
                        excess -= 1
                    while excess and rev.running:
                        self.stop(rev.running.pop())
                        excess -= 1
        self.dirty.clear()

    def stop(self, inst):
        self.sn.in_use -= IPS
        self.sn.retained += IPS
        at(self.env, RETENTION_MS, EXPIRE, self.expire, inst)

    # --- class 1 ---
    def expire(self, inst):
        s, holding = inst
        self.sn.retained -= IPS
        for b, mask in holding:
            self.sn.free_mask[b] |= mask
            if self.sn.free_mask[b] == 0xFFFF:  # wholly free: released at once
                self.sn.owner[b] = None
                s.blocks.discard(b)
                self.insert_free(b)

    def insert_free(self, b):
        lo, hi = 0, len(self.sn.free_blocks)
        while lo < hi:
            mid = (lo + hi) // 2
            if self.sn.free_blocks[mid] < b:
                lo = mid + 1
            else:
                hi = mid
        self.sn.free_blocks.insert(lo, b)

    # --- class 5 ---
    def attempt(self, req):
        if not req["alive"]:
            return
        s, rev = req["service"], req["rev"]
        have = s.free(self.sn)
        if have < IPS:
            need = IPS - have
            picked = []
            for b in self.sn.free_blocks:  # first-fit: lowest address first
                if need <= 0:
                    break
                picked.append(b)
                need -= BLOCK
            if need > 0:
                at(self.env, RETRY_MS, START, self.attempt, req)
                return
            for b in picked:
                self.sn.free_blocks.remove(b)
                self.sn.owner[b] = s.idx
                s.blocks.add(b)
        holding = []
        need = IPS
        for b in sorted(s.blocks):  # the lowest free addresses across the owner's blocks
            m = self.sn.free_mask[b]
            take = 0
            while need and m:
                bit = m & -m
                take |= bit
                m ^= bit
                need -= 1
            if take:
                self.sn.free_mask[b] = m
                holding.append((b, take))
            if not need:
                break
        req["alive"] = False
        for i in range(len(rev.pending) - 1, -1, -1):
            if rev.pending[i] is req:
                del rev.pending[i]
                break
        rev.running.append((s, holding))
        self.sn.in_use += IPS

    # --- class 6 ---
    def sample(self):
        self.samples.append(self.sn.sample())
        at(self.env, MINUTE, SAMPLE, self.sample)


def main(d):
    setup = json.load(open(f"{d}/setup.json"))
    by_time = {}
    with open(f"{d}/trace.csv") as f:
        for row in csv.DictReader(f):
            by_time.setdefault(int(row["time_ms"]), []).append((int(row["workload"]), int(row["instances"])))
    swaps = []
    with open(f"{d}/swaps.csv") as f:
        for row in csv.DictReader(f):
            swaps.append((int(row["time_ms"]), int(row["workload"]), int(row["rollout_ms"])))

    def run():
        env = simpy.Environment()
        m = Model(env, setup)
        for s in m.services:  # every service is evaluated at 0 (its clamp holds from the start)
            m.mark(s)
        for t, pts in sorted(by_time.items()):
            at(env, t, DEMAND, m.set_demand, pts)
        for t, w, r in swaps:
            at(env, t, DEMAND, m.swap, m.services[w], r)
        at(env, 0, SAMPLE, m.sample)
        env.run(until=setup["duration_ms"])
        return m

    # Best of 3, as ipsim's time is its best of 5; REFERENCE_RUNS=1 runs once, for timing the
    # whole process against one `ipsim run` (docs/performance.md).
    seconds = float("inf")
    runs = int(os.environ.get("REFERENCE_RUNS", "3"))
    for _ in range(runs):
        t0 = time.perf_counter()
        m = run()
        seconds = min(seconds, time.perf_counter() - t0)

    names = ["in_use", "retained", "reserved_idle", "unreserved", "reserved_blocks", "free_blocks"]
    with open(f"{d}/reference_minutes.csv", "w") as f:
        f.write("minute," + ",".join(names) + "\n")
        for i, s in enumerate(m.samples):
            f.write(f"{i}," + ",".join(map(str, s)) + "\n")
    ipsim = [tuple(int(r[n]) for n in names) for r in csv.DictReader(open(f"{d}/ipsim_minutes.csv"))]
    mismatches = [(i, a, b) for i, (a, b) in enumerate(zip(m.samples, ipsim)) if a != b]
    ipsim_time = json.load(open(f"{d}/ipsim_time.json"))
    print(f"reference (SimPy {simpy.__version__}): {len(m.samples)} minutes in {seconds:.2f} s (best of {runs})")
    print(f"ipsim: {ipsim_time['events']} events in {ipsim_time['seconds']:.4f} s (best of 5)")
    print(f"minutes compared: {min(len(m.samples), len(ipsim))}, mismatches: {len(mismatches)}")
    for i, a, b in mismatches[:5]:
        print(f"  minute {i}: reference {a} ipsim {b}")
    print(f"ipsim is {seconds / ipsim_time['seconds']:.0f} times faster")
    ok = not mismatches and len(m.samples) == len(ipsim) and seconds >= 50 * ipsim_time["seconds"]
    print("AGREE and at least 50x faster" if ok else "CHECK FAILED")
    sys.exit(0 if ok else 1)


if __name__ == "__main__":
    main(sys.argv[1] if len(sys.argv) > 1 else "target/reference")
