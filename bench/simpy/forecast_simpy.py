"""The expedite forecast model written in SimPy, the way an analyst would build it.

Reads the same scenario TOML as `expedite forecast` and plays the same model (issue 3,
"Semantics"): paperwork stages drawn per case, the current stage conditioned on the days
already spent, congressional review from the AECA 36(b) thresholds, one SimPy process per
production line taking units from a priority store keyed by (tier, contract time, case id,
line index, unit index) with the backlog first, lead time and transport. It exists to be
timed against the Rust engine (bench/forecast.sh), so it stays plain: Python's `random`
for draws; a conditioned PERT draw uses rejection (Python's standard library has no beta
inverse CDF) where the Rust engine inverts the distribution function.

    python3 forecast_simpy.py SCENARIO.toml [--trials N] [--seed S]

Prints one JSON object: seconds per trial (each trial timed alone), their median, and the
median final-delivery day (days since start) of the first cases, to compare with Rust.
"""

import argparse
import datetime as dt
import json
import math
import random
import statistics
import sys
import time
import tomllib

import simpy

PAPERWORK = [
    "lor_received",
    "lor_actionable",
    "loa_development",
    "congressional_review",
    "offered",
    "implemented",
]
AFTER_CONTRACT = ["on_contract", "delivering", "delivered"]
NATO_PLUS_5 = {
    "ALB", "BEL", "BGR", "CAN", "HRV", "CZE", "DNK", "EST", "FIN", "FRA", "DEU", "GRC", "HUN",
    "ISL", "ITA", "LVA", "LTU", "LUX", "MNE", "NLD", "MKD", "NOR", "POL", "PRT", "ROU", "SVK",
    "SVN", "ESP", "SWE", "TUR", "GBR", "USA", "JPN", "AUS", "KOR", "ISR", "NZL",
}
Z_P90 = 1.2815515655446004


def day(text):
    return dt.date.fromisoformat(str(text))


class Dist:
    """A stage-duration distribution: fresh draws and draws conditioned on elapsed days."""

    def __init__(self, spec):
        self.kind = spec["dist"]
        self.spec = spec
        if self.kind == "pert":
            lo, mode, hi = spec["min"], spec["mode"], spec["max"]
            self.alpha = 1 + 4 * (mode - lo) / (hi - lo) if hi > lo else 1
            self.beta = 1 + 4 * (hi - mode) / (hi - lo) if hi > lo else 1
        if self.kind == "lognormal":
            self.mu = math.log(spec["median"])
            self.sigma = math.log(spec["p90"] / spec["median"]) / Z_P90
            self.normal = statistics.NormalDist(self.mu, self.sigma)

    def maximum(self):
        s = self.spec
        return {"fixed": s.get("days"), "lognormal": math.inf}.get(self.kind, s.get("max"))

    def sample(self, rng):
        s = self.spec
        if self.kind == "fixed":
            return s["days"]
        if self.kind == "uniform":
            return rng.uniform(s["min"], s["max"])
        if self.kind == "triangular":
            return rng.triangular(s["min"], s["max"], s["mode"])
        if self.kind == "pert":
            return s["min"] + (s["max"] - s["min"]) * rng.betavariate(self.alpha, self.beta)
        return rng.lognormvariate(self.mu, self.sigma)

    def remaining(self, elapsed, rng):
        if elapsed <= 0:
            return self.sample(rng)
        if elapsed >= self.maximum():
            return 0.0
        s = self.spec
        if self.kind == "fixed":
            return s["days"] - elapsed
        if self.kind == "uniform":
            return rng.uniform(elapsed, s["max"]) - elapsed
        if self.kind == "lognormal":
            low = self.normal.cdf(math.log(elapsed))
            p = low + rng.random() * (1 - low)
            return math.exp(self.normal.inv_cdf(min(p, 1 - 1e-16))) - elapsed
        for _ in range(10_000):  # triangular and PERT: rejection
            x = self.sample(rng)
            if x > elapsed:
                return x - elapsed
        return 0.0


def review_days(case):
    values = {"mde": 0, "total": 0}
    for line in case["lines"]:
        value = line["quantity"] * float(line["unit_usd"])
        values["total"] += value
        if line.get("mde"):
            values["mde"] += value
    if case["purchaser"] in NATO_PLUS_5:
        needed = values["mde"] >= 25e6 or values["total"] >= 100e6
        return 15 if needed else 0
    needed = values["mde"] >= 14e6 or values["total"] >= 50e6
    return 50 if needed else 0


class Model:
    def __init__(self, scenario):
        self.s = scenario
        self.start = day(scenario["start"])
        self.channels = {
            name: {stage: Dist(spec) for stage, spec in stages.items()}
            for name, stages in scenario.get("channels", {}).items()
        }
        self.line_index = {line["id"]: i for i, line in enumerate(scenario["lines"])}
        self.case_rank = {
            case["id"]: rank for rank, case in enumerate(sorted(scenario["cases"], key=lambda c: c["id"]))
        }

    def segments(self, line):
        """(start, units per day) from time 0 on; zero before the first step."""
        points = [(0.0, 0.0)]
        for step in line["rate"]:
            t = (day(step["from"]) - self.start).days
            rate = step["per_year"] / 365
            if t <= 0:
                points[0] = (0.0, rate)
            else:
                points.append((float(t), rate))
        return points

    def trial(self, rng):
        env = simpy.Environment()
        cases = self.s["cases"]
        stores = [simpy.PriorityStore(env) for _ in self.s["lines"]]
        results = [dict(contract=None, first=math.inf, lines={}) for _ in cases]
        for index, line in enumerate(self.s["lines"]):
            for unit in range(line.get("backlog", 0)):
                stores[index].put(simpy.PriorityItem((0, -math.inf, -1, 0, unit), None))
        for index, case in enumerate(cases):
            env.process(self.case_process(env, index, case, stores, results, rng))
        for index, line in enumerate(self.s["lines"]):
            env.process(self.line_process(env, line, stores[index], results))
        env.run()
        return results

    def case_process(self, env, index, case, stores, results, rng):
        channel = self.channels.get(case.get("channel", "fms"), {})
        stage = case["stage"]
        since = (day(case["since"]) - self.start).days
        transport = channel.get("transport")
        if stage == "delivered":
            return
        if stage in AFTER_CONTRACT:
            contract = float(since)
        else:
            contract = 0.0
            for name in PAPERWORK[PAPERWORK.index(stage):]:
                elapsed = -since if name == stage else 0
                if name == "congressional_review" and case.get("channel", "fms") == "fms":
                    contract += max(review_days(case) - elapsed, 0)
                elif name in channel:
                    contract += channel[name].remaining(elapsed, rng)
        result = results[index]
        result["contract"] = contract
        result["transport"] = [transport.sample(rng) if transport else 0.0 for _ in case["lines"]]
        result["first_transport"] = transport.sample(rng) if transport else 0.0
        if contract > env.now:
            yield env.timeout(contract - env.now)
        tier = case.get("tier", 1)
        for line_number, line in enumerate(case["lines"]):
            store = stores[self.line_index[line["line"]]]
            for unit in range(line["quantity"]):
                key = (tier, contract, self.case_rank[case["id"]], line_number, unit)
                store.put(simpy.PriorityItem(key, (index, line_number, line["quantity"])))

    def line_process(self, env, line, store, results):
        segments = self.segments(line)
        lead = line.get("lead_time_days", 0)
        while True:
            item = yield store.get()
            yield env.timeout(self.work_time(segments, env.now))
            if item.item is None:
                continue
            index, line_number, quantity = item.item
            done = results[index]["lines"].setdefault(line_number, [math.inf, 0, 0.0])
            done[0] = min(done[0], env.now + lead)
            done[1] += 1
            done[2] = max(done[2], env.now + lead)

    @staticmethod
    def work_time(segments, now):
        work, t = 1.0, now
        i = max(k for k, seg in enumerate(segments) if seg[0] <= now)
        while True:
            rate = segments[i][1]
            end = segments[i + 1][0] if i + 1 < len(segments) else math.inf
            if rate > 0 and t + work / rate <= end:
                return t + work / rate - now
            if rate > 0:
                work -= (end - t) * rate
            t, i = end, i + 1


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("scenario")
    parser.add_argument("--trials", type=int, default=3)
    parser.add_argument("--seed", type=int, default=7)
    args = parser.parse_args()
    with open(args.scenario, "rb") as file:
        scenario = tomllib.load(file)
    model = Model(scenario)
    seconds, finals = [], []
    for trial in range(args.trials):
        rng = random.Random(args.seed * 1_000_003 + trial)
        began = time.perf_counter()
        results = model.trial(rng)
        seconds.append(time.perf_counter() - began)
        finals.append([
            max((done[2] + t for done, t in zip(
                (r["lines"].get(k, [0, 0, 0.0]) for k in range(len(r["transport"]))), r["transport"])),
                default=0.0)
            for r in results[:5]
        ])
    print(json.dumps({
        "trials": args.trials,
        "seconds_per_trial": seconds,
        "median_seconds_per_trial": statistics.median(seconds),
        "median_final_delivery_day_first_cases": [
            math.ceil(statistics.median(f[i] for f in finals)) for i in range(len(finals[0]))
        ] if finals else [],
    }))


if __name__ == "__main__":
    sys.exit(main())
