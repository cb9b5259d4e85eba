"""The expedite forecast model written in SimPy, the way an analyst would build it.

Reads the same scenario TOML as `expedite forecast` and plays the same model (issue 3,
"Semantics", and issue 8): paperwork stages drawn per case, the current stage conditioned
on the days already spent, congressional review from the AECA 36(b) thresholds; stages and
deliveries given as milestones are facts. Each production line keeps an order book: one
SimPy process per line from its book date (a dated backlog's date, what was ordered
earlier queueing then; else the earliest of its orders' and cases' order dates; the start
for a plain integer backlog), taking units from a priority store keyed by (tier, order
time, orders before cases, case id, line index, unit index) with the backlog first; the
rate plan is scaled by the line's realised rate multiplier and its ramp-ups slip, both
drawn once per trial per line; a new configuration waits a first-delivery delay, unless
the case states a promised first delivery and its channel a promise slip: then the first
delivery is the promise plus the slip (past a promise already missed, conditioned on the
slip being longer than the days since), not before the contract; a delivery span holds
the final delivery back from the first. Lead time and transport as before. It exists to be
timed against the Rust engine (bench/forecast.sh), so it stays plain: Python's `random` for
draws; a conditioned PERT draw uses rejection (Python's standard library has no beta
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
MILESTONE_STAGES = [
    ("contract", "on_contract"),
    ("loa", "implemented"),
    ("notification", "congressional_review"),
    ("request", "lor_received"),
]
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
        if self.kind == "normal":  # a signed offset: the first-delivery delay, promise slip
            self.sd = (spec["p90"] - spec["median"]) / Z_P90
            self.normal = statistics.NormalDist(spec["median"], self.sd)
        if self.kind == "weibull":
            self.shape = (math.log(math.log(10)) - math.log(math.log(2))) / math.log(
                spec["p90"] / spec["median"])
            self.scale = spec["median"] / math.log(2) ** (1 / self.shape)

    def maximum(self):
        s = self.spec
        return {"fixed": s.get("days", s.get("value")), "lognormal": math.inf,
                "weibull": math.inf, "normal": math.inf}.get(
            self.kind, s.get("max"))

    def sample(self, rng):
        s = self.spec
        if self.kind == "fixed":
            return s.get("days", s.get("value"))
        if self.kind == "uniform":
            return rng.uniform(s["min"], s["max"])
        if self.kind == "triangular":
            return rng.triangular(s["min"], s["max"], s["mode"])
        if self.kind == "pert":
            return s["min"] + (s["max"] - s["min"]) * rng.betavariate(self.alpha, self.beta)
        if self.kind == "weibull":
            return rng.weibullvariate(self.scale, self.shape)
        if self.kind == "normal":
            return rng.gauss(s["median"], self.sd)
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
        if self.kind == "normal":
            low = self.normal.cdf(elapsed)
            p = low + rng.random() * (1 - low)
            return max(self.normal.inv_cdf(min(p, 1 - 1e-16)) - elapsed, 0.0)
        if self.kind == "weibull":
            survived = math.exp(-((elapsed / self.scale) ** self.shape))
            p = 1 - survived * (1 - rng.random())
            return self.scale * (-math.log1p(-min(p, 1 - 1e-16))) ** (1 / self.shape) - elapsed
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


def case_facts(case, start):
    """Stage, since, order date (days since start or None), delivered units per case line,
    first recorded delivery, and whether every unit is delivered."""
    milestones = case.get("milestones", {})
    lines = case["lines"]
    delivered = [0] * len(lines)
    dates = []
    for delivery in milestones.get("deliveries", []):
        line_id = delivery.get("line")
        index = next((i for i, l in enumerate(lines) if l["line"] == line_id), 0)
        delivered[index] += delivery["units"]
        dates.append((day(delivery["date"]) - start).days)
    done = sum(delivered) >= sum(l["quantity"] for l in lines) and dates
    stage, since = case.get("stage"), case.get("since")
    if stage is None:
        if dates:
            stage, since = ("delivered", max(dates)) if done else ("delivering", min(dates))
        else:
            for key, name in MILESTONE_STAGES:
                if key in milestones:
                    stage, since = name, (day(milestones[key]) - start).days
                    break
    else:
        since = (day(since) - start).days
    order = None
    if "contract" in milestones:
        order = (day(milestones["contract"]) - start).days
    elif stage in AFTER_CONTRACT:
        order = since if stage == "on_contract" or "loa" not in milestones else (
            day(milestones["loa"]) - start).days
    first = min(dates) if dates else (since if stage in ("delivering", "delivered") else None)
    return stage, since, order, delivered, first, stage == "delivered"


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
        self.facts = [case_facts(case, self.start) for case in scenario["cases"]]
        self.books = [self.book(i, line) for i, line in enumerate(scenario["lines"])]
        self.line_dists = [
            (Dist(line["rate_multiplier"]) if "rate_multiplier" in line else None,
             Dist(line["ramp_slip"]) if "ramp_slip" in line else None,
             Dist(line["first_delivery_delay"]) if "first_delivery_delay" in line else None,
             Dist(line["delivery_span"]) if "delivery_span" in line else None)
            for line in scenario["lines"]
        ]

    def book(self, index, line):
        """(book time, backlog units, backlog arrival time, orders) of a line."""
        backlog = line.get("backlog", 0)
        orders = [((day(o["date"]) - self.start).days, o.get("tier", 1), o["units"])
                  for o in line.get("orders", [])]
        if isinstance(backlog, int):
            units, as_of, includes = backlog, 0, False
        else:
            units = backlog["units"]
            as_of = (day(backlog["as_of"]) - self.start).days
            includes = backlog.get("includes_cases", False)
        if includes:
            for case, (stage, _, order, delivered, _, done) in zip(self.s["cases"], self.facts):
                if order is None or done or order > as_of:
                    continue
                for k, case_line in enumerate(case["lines"]):
                    if case_line["line"] != line["id"]:
                        continue
                    by_then = sum(
                        d["units"] for d in case.get("milestones", {}).get("deliveries", [])
                        if (day(d["date"]) - self.start).days <= as_of
                        and d.get("line", case["lines"][0]["line"]) == line["id"]
                        and k == next(i for i, l in enumerate(case["lines"])
                                      if l["line"] == line["id"]))
                    units -= case_line["quantity"] - by_then
            # The rest are other customers' orders, dated evenly at the planned rate over
            # the time the line needs to build them before as_of (their dates are not
            # published), at the backlog's tier (default 1), ahead of explicit orders of the
            # same day.
            units = max(units, 0)
            steps = [((day(s["from"]) - self.start).days, s["per_year"]) for s in line["rate"]]
            planned = next((r for t, r in reversed(steps) if t <= as_of), 0.0)
            if planned <= 0:
                planned = next((r for t, r in steps if t > as_of and r > 0), 0.0)
            spacing = 365.0 / planned if planned > 0 else 0.0
            tier = backlog.get("tier", 1)
            orders = [(as_of - (units - k) * spacing, tier, 1, -1) for k in range(units)] + [
                (t, tier, n, k) for k, (t, tier, n) in enumerate(orders)]
            units = 0
        else:
            orders = [(t, tier, n, k) for k, (t, tier, n) in enumerate(orders)]
        # A dated backlog opens the book on its date (earlier orders and cases queue then);
        # dated orders alone open it on the earliest order or case order date; else the start.
        book = 0
        if not isinstance(backlog, int):
            book = min(0, as_of)
        elif orders:
            book = min([0] + [o[0] for o in orders])
            for case, (stage, _, order, delivered, _, done) in zip(self.s["cases"], self.facts):
                if order is None or done:
                    continue
                if any(l["line"] == line["id"] and l["quantity"] > delivered[k]
                       for k, l in enumerate(case["lines"])):
                    book = min(book, order)
        return book, max(units, 0), as_of, orders

    def segments(self, line, book, multiplier, slip):
        """(start, units per day) from the line's book time on; zero before the first step."""
        steps = []
        for k, step in enumerate(line["rate"]):
            t = (day(step["from"]) - self.start).days
            if k > 0 and step["per_year"] > line["rate"][k - 1]["per_year"]:
                t += slip
            steps.append((t, step["per_year"]))
        points = sorted({book} | {t for t, _ in steps if t >= book})
        out = []
        for t in points:
            rate = 0.0
            for k, (from_t, per_year) in enumerate(steps):
                if from_t <= t:
                    rate = per_year  # the latest step in the plan wins
            out.append((t, rate * multiplier / 365))
        return out

    def trial(self, rng):
        origin = min(book for book, _, _, _ in self.books)
        env = simpy.Environment(initial_time=origin)
        cases = self.s["cases"]
        stores = [simpy.PriorityStore(env) for _ in self.s["lines"]]
        results = [dict(contract=None, lines={}) for _ in cases]
        draws = [
            (m.sample(rng) if m else 1.0, s.sample(rng) if s else 0.0)
            for m, s, _, _ in self.line_dists
        ]
        for index, line in enumerate(self.s["lines"]):
            env.process(self.book_process(env, index, stores[index]))
        for index, case in enumerate(cases):
            env.process(self.case_process(env, index, case, stores, results, rng))
        for index, line in enumerate(self.s["lines"]):
            book = self.books[index][0]
            segments = self.segments(line, book, *draws[index])
            env.process(self.line_process(env, line, book, segments, stores[index], results))
        env.run()
        return results

    def book_process(self, env, index, store):
        """Puts the backlog block and the orders in the queue at their dates."""
        book, units, as_of, orders = self.books[index]
        arrivals = [(max(as_of, book), (-1, 0, 0, 0, 0, 0), units)] if units else []
        arrivals += [(t, (tier, t, 0, k, 0, 0), n) for t, tier, n, k in orders]
        for t, key, n in sorted(arrivals, key=lambda a: a[0]):
            if t > env.now:
                yield env.timeout(t - env.now)
            for unit in range(n):
                store.put(simpy.PriorityItem(key[:5] + (unit,), None))

    def case_process(self, env, index, case, stores, results, rng):
        channel_name = case.get("channel", "fms")
        channel = self.channels.get(channel_name, {})
        stage, since, order, delivered, first, done = self.facts[index]
        transport = channel.get("transport")
        if done:
            return
        if order is not None:
            contract = float(order)
        else:
            contract = 0.0
            for name in PAPERWORK[PAPERWORK.index(stage):]:
                elapsed = -since if name == stage else 0
                if name == "congressional_review" and channel_name == "fms":
                    contract += max(review_days(case) - elapsed, 0)
                elif name in channel:
                    contract += channel[name].remaining(elapsed, rng)
        result = results[index]
        result["contract"] = contract
        result["transport"] = [transport.sample(rng) if transport else 0.0 for _ in case["lines"]]
        result["first_transport"] = transport.sample(rng) if transport else 0.0
        delay = None
        if case.get("new_configuration", True) and first is None:
            delay = next((self.line_dists[self.line_index[l["line"]]][2] for l in case["lines"]
                          if self.line_dists[self.line_index[l["line"]]][2]), None) or channel.get(
                "first_delivery_delay")
        result["delay"] = delay.sample(rng) if delay else 0.0
        result["promised"] = None
        slip = channel.get("promise_slip")
        if "promised_first_delivery" in case and slip and first is None and not any(delivered):
            promised = (day(case["promised_first_delivery"]) - self.start).days
            # The slip takes the delay's place (it was measured against the promise alone).
            result["promised"] = max(promised, 0) + slip.remaining(-promised, rng)
            result["delay"] = 0.0
        span = next((self.line_dists[self.line_index[l["line"]]][3] for l in case["lines"]
                     if self.line_dists[self.line_index[l["line"]]][3]), None) or channel.get(
            "delivery_span")
        result["span"] = span.sample(rng) if span else None
        result["first_known"] = first
        if contract > env.now:
            yield env.timeout(contract - env.now)
        tier = case.get("tier", 1)
        for line_number, line in enumerate(case["lines"]):
            store = stores[self.line_index[line["line"]]]
            for unit in range(line["quantity"] - delivered[line_number]):
                key = (tier, contract, 1, self.case_rank[case["id"]], line_number, unit)
                store.put(simpy.PriorityItem(key, (index, line_number, line["quantity"])))

    def line_process(self, env, line, book, segments, store, results):
        lead = line.get("lead_time_days", 0)
        if book > env.now:
            yield env.timeout(book - env.now)
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


def final_delivery(result):
    """Final delivery (days since start) of a case from one trial, never before the start."""
    if result.get("contract") is None:
        return 0.0
    built = [result["lines"].get(k) for k in range(len(result["transport"]))]
    final = max((b[2] + t for b, t in zip(built, result["transport"]) if b), default=0.0)
    if result["first_known"] is None and result["promised"] is not None:
        first = max(result["promised"], result["contract"])  # nothing delivered before ordered
        final = max(final, first)
        first = max(first, 0.0)
    elif result["first_known"] is None:
        first = min((b[0] for b in built if b), default=0.0) + result["first_transport"] + result["delay"]
        if result["delay"]:
            final = max(final, first)
        first = max(first, 0.0)
    else:
        first = result["first_known"]
    if result["span"] is not None:
        # A delivery span: the final delivery no earlier than the first plus the span.
        final = max(final, first + result["span"])
    return max(final, 0.0)


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
        finals.append([final_delivery(r) for r in results[:5]])
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
