"""Two one-off checks on a SIPRI register's US deals on catalog lines.

1. Does anything a buyer knows at signing explain the first-delivery offset's spread?

The offset's spread (the shared sd of `expedite calibrate`'s delay fit) sets the least width
of a calibrated forecast band. This one-off check asks whether a covariate known on the day
of the order would narrow it: it fits each covariate's slope on the register deals ordered
before 2015 (the deals the shipped parameters saw) and measures the spread of the offsets
of the deals ordered from 2015 on (unseen) with and without it.

2. How long do real buyers take to receive a whole order? The span from the first to the
last delivery year of each completed deal (everything ordered delivered), by line.

Usage (the register is the user's SIPRI export; nothing of it is kept):

    expedite calibrate crates/data/data/cases/timelines.csv --observed 2026-03-31 \
        --register REGISTER.csv --out /tmp/all.toml --format json > /tmp/all.json
    python3 docs/analysis/register_analysis.py /tmp/all.json REGISTER.csv

Standard library only. Offsets are year-dated (± 365 days), so every spread printed here
includes that blur; the fit's sd does not.
"""

import csv
import json
import math
import re
import statistics
import sys
from collections import defaultdict

SPLIT_YEAR = 2015
CASE = re.compile(r"(\w+)-(.+)-(\d{4})-SIPRI(\d+) \((-?\d+) ± 365 d\)")


def register_deals(calibration_json):
    """The dated register deals behind the delay fits, once each."""
    fits = json.load(open(calibration_json, encoding="utf-8"))["fit"]
    deals = {}
    for fit in fits:
        if not fit["parameter"].endswith("first_delivery_delay"):
            continue
        for case in fit.get("cases", []):
            match = CASE.fullmatch(case)
            if match:
                buyer, line, year, row, offset = match.groups()
                deals[int(row)] = dict(buyer=buyer, line=line, year=int(year),
                                       row=int(row), offset=float(offset))
    return list(deals.values())


def add_register_facts(deals, register_csv):
    lines = open(register_csv, encoding="latin-1").read().split("\n")
    for deal in deals:
        record = next(csv.reader([lines[deal["row"] - 1]]))
        deal["year_uncertain"] = record[3].strip() == "?"
        number = record[4].strip().strip("?").strip()
        deal["units"] = float(number) if number else math.nan
        delivered = record[8].strip().strip("?").strip()
        deal["complete"] = bool(delivered) and float(delivered) >= deal["units"]
        years = [int(y.strip().strip("?")) for y in record[10].split(";") if y.strip()]
        deal["delivery_span_years"] = max(years) - min(years) if years else None


def add_covariates(deals):
    first_order = {}
    for deal in deals:
        key = (deal["buyer"], deal["line"])
        first_order[key] = min(first_order.get(key, 9999), deal["year"])
    for deal in deals:
        deal["repeat buyer of the line"] = float(
            deal["year"] > first_order[(deal["buyer"], deal["line"])])
        deal["order year"] = float(deal["year"])
        deal["log units ordered"] = math.log(deal["units"]) if deal["units"] > 0 else math.nan
        others = sum(other["units"] for other in deals
                     if other["line"] == deal["line"] and other is not deal
                     and deal["year"] - 1 <= other["year"] <= deal["year"]
                     and not math.isnan(other["units"]))
        deal["log units others ordered on the line that year and the last"] = math.log1p(others)
        deal["order year uncertain (?)"] = float(deal["year_uncertain"])


def line_residuals(deals, train):
    pooled = statistics.mean(d["offset"] for d in train)
    by_line = defaultdict(list)
    for deal in train:
        by_line[deal["line"]].append(deal["offset"])
    means = {line: statistics.mean(v) for line, v in by_line.items() if len(v) >= 5}
    for deal in deals:
        deal["residual"] = deal["offset"] - means.get(deal["line"], pooled)


def slope(train, name):
    """Least-squares slope of the residual on the covariate centred within each line."""
    usable = [d for d in train if not math.isnan(d[name])]
    centre = {line: statistics.mean(d[name] for d in usable if d["line"] == line)
              for line in {d["line"] for d in usable}}
    x = [d[name] - centre[d["line"]] for d in usable]
    y = [d["residual"] for d in usable]
    spread = sum(v * v for v in x)
    return (sum(a * b for a, b in zip(x, y)) / spread if spread else 0.0), centre


def rms(values):
    return math.sqrt(sum(v * v for v in values) / len(values))


def buyer_effects(train, shrink=4):
    by_buyer = defaultdict(list)
    for deal in train:
        by_buyer[deal["buyer"]].append(deal["residual"])
    return {buyer: sum(v) / (len(v) + shrink) for buyer, v in by_buyer.items()}


def report_spans(deals):
    by_line = defaultdict(list)
    for deal in deals:
        if deal["complete"] and deal["delivery_span_years"] is not None:
            by_line[deal["line"]].append(deal["delivery_span_years"])
    print()
    print("Completed deals: last delivery year - first delivery year (every order year)")
    print(f"{'line':10} {'deals':>5} {'median':>6} {'max':>4}")
    for line, spans in sorted(by_line.items()):
        print(f"{line:10} {len(spans):5} {statistics.median(spans):6.1f} {max(spans):4}")


def main(calibration_json, register_csv):
    deals = register_deals(calibration_json)
    add_register_facts(deals, register_csv)
    report_covariates(deals)
    report_spans(deals)


def report_covariates(deals):
    add_covariates(deals)
    train = [d for d in deals if d["year"] < SPLIT_YEAR]
    test = [d for d in deals if d["year"] >= SPLIT_YEAR]
    line_residuals(deals, train)
    base = rms([d["residual"] for d in test])
    print(f"{len(train)} deals ordered before {SPLIT_YEAR} fit the slopes; "
          f"{len(test)} ordered from {SPLIT_YEAR} test them.")
    print(f"Offset spread around each line's mean (rms, days): before {SPLIT_YEAR} "
          f"{rms([d['residual'] for d in train]):.0f}, from {SPLIT_YEAR} {base:.0f}.")
    print(f"{'covariate':58} {'slope':>8} {'unseen rms':>10} {'change':>7}")
    names = ["repeat buyer of the line", "order year", "log units ordered",
             "log units others ordered on the line that year and the last",
             "order year uncertain (?)"]
    for name in names:
        b, centre = slope(train, name)
        residuals = [d["residual"] - b * (d[name] - centre.get(d["line"], d[name]))
                     if not math.isnan(d[name]) else d["residual"] for d in test]
        after = rms(residuals)
        print(f"{name:58} {b:8.1f} {after:10.0f} {100 * (after / base - 1):6.1f}%")
    effects = buyer_effects(train)
    after = rms([d["residual"] - effects.get(d["buyer"], 0.0) for d in test])
    print(f"{'the buyer (its mean residual, shrunk by 4 deals)':58} {'':>8} "
          f"{after:10.0f} {100 * (after / base - 1):6.1f}%")


if __name__ == "__main__":
    main(*sys.argv[1:3])
