"""Lead times by supplier from the SIPRI trade register, in pandas: the same computation as
`expedite sipri leadtimes --by supplier --format json`, for the benchmark in bench/sipri.sh.

Same input handling (header found by its text, Latin-1, records broken by a raw line break
joined again, '?' flag columns by position) and the same definitions (median; p90 by linear
interpolation, numpy's default; shares among deals with a delivery; deals delivered before
their order year left out as data errors; a Kaplan-Meier estimate with undelivered deals
censored at the register's last year). Prints the same JSON.
"""

import io
import json
import sys
from datetime import datetime

import pandas as pd

COLUMNS = [
    "recipient", "supplier", "order_year", "order_year_flag", "ordered", "ordered_flag",
    "designation", "description", "delivered", "delivered_flag", "delivery_years", "status",
    "comments", "tiv_unit", "tiv_total", "tiv_delivered",
]


def read_register(path):
    raw = open(path, "rb").read()
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError:
        text = raw.decode("latin-1")
    lines = text.split("\n")
    header = next(i for i, line in enumerate(lines) if line.startswith("Recipient,Supplier,Year of order"))
    generated = next((l.split(":", 1)[1].strip() for l in lines[:header] if l.startswith("Data generated:")), None)
    # Join records broken by a raw line break inside Comments (no quotes in this export),
    # keeping the physical line (1-based) where each record starts.
    records, starts, pending, pending_start = [], [], None, None
    for index, line in enumerate(lines[header + 1:], start=header + 2):
        line = line.rstrip("\r")
        if not line:
            continue
        if pending is not None:
            line = pending + " " + line
            start = pending_start
            pending = None
        else:
            start = index
        if line.count(",") < len(COLUMNS) - 1:
            pending, pending_start = line, start
            continue
        records.append(line)
        starts.append(start)
    frame = pd.read_csv(io.StringIO("\n".join(records)), header=None, names=COLUMNS,
                        dtype={"delivery_years": str, "comments": str}, keep_default_na=False,
                        na_values={"ordered": [""], "tiv_total": [""]})
    frame["line"] = starts
    return frame, generated


def kaplan_meier_quantile(observations, share):
    """The first time by which the estimated share with the event reaches `share`, or None."""
    observations = sorted(observations)
    at_risk, surviving, index = len(observations), 1.0, 0
    while index < len(observations):
        time = observations[index][0]
        same = [o for o in observations[index:] if o[0] == time]
        events = sum(1 for _, event in same if event)
        if events:
            surviving *= 1.0 - events / at_risk
            if surviving <= 1.0 - share + 1e-12:
                return float(time)
        at_risk -= len(same)
        index += len(same)
    return None


def lead_times(frame):
    years = frame["delivery_years"].str.split("; ")
    has_delivery = frame["delivery_years"] != ""
    first = years.map(lambda ys: int(min(ys)) if ys != [""] else None)
    last = years.map(lambda ys: int(max(ys)) if ys != [""] else None)
    last_year = int(max(frame["order_year"].max(), last.dropna().max()))
    # A first delivery before the order year is a data error, outside the statistics.
    wrong = has_delivery & (first < frame["order_year"])
    data_errors = [
        {"line": int(row.line), "sipri_id": None, "supplier": row.supplier,
         "recipient": row.recipient, "designation": row.designation,
         "order_year": int(row.order_year), "first_delivery_year": int(first[index])}
        for index, row in frame[wrong].iterrows()
    ]
    frame, first, last, has_delivery = frame[~wrong], first[~wrong], last[~wrong], has_delivery[~wrong]
    frame = frame.assign(
        to_first=(first - frame["order_year"]).where(has_delivery),
        full=has_delivery & (frame["ordered"] == frame["delivered"]),
    )
    frame["to_full"] = (last - frame["order_year"]).where(frame["full"])
    groups = []
    for key, group in frame.groupby("supplier"):
        to_first = group["to_first"].dropna()
        to_full = group["to_full"].dropna()
        n = len(to_first)
        waiting = int(len(group)) - n
        censored = [(max(last_year - int(year), 0), False)
                    for year in group.loc[group["to_first"].isna(), "order_year"]]
        observations = [(int(t), True) for t in to_first] + censored
        stat = lambda value: None if n == 0 else round(float(value), 4)
        share = lambda years: None if n == 0 else round(float((to_first <= years).sum()) / n, 4)
        groups.append({
            "key": key,
            "deals": int(len(group)),
            "deals_with_delivery": int(n),
            "deals_fully_delivered": (int(group["full"].sum()) if group["ordered"].notna().any()
                                      else None),
            "deals_undelivered": waiting,
            "mostly_undelivered": waiting * 2 > len(group),
            "first_delivery_years_km": {
                "median": kaplan_meier_quantile(observations, 0.5),
                "p90": kaplan_meier_quantile(observations, 0.9),
            },
            "first_delivery_years": {
                "median": stat(to_first.median()) if n else None,
                "p90": stat(to_first.quantile(0.9)) if n else None,
                "mean": stat(to_first.mean()) if n else None,
            },
            "full_delivery_years": {"median": round(float(to_full.median()), 4) if len(to_full) else None},
            "share_first_delivery_within_years": {"1": share(1), "2": share(2), "3": share(3)},
            # Missing, not zero, when no deal of the group has an order TIV (as expedite).
            "tiv_total_order": (None if pd.isna(tiv := group["tiv_total"].sum(min_count=1))
                                else round(float(tiv), 2) + 0.0),
        })
    groups.sort(key=lambda g: (-g["deals"], g["key"]))
    return groups, last_year, data_errors


def export_date(generated):
    """`13 Mar 2025 10:02:49 AM` as `2025-03-13`, as expedite dates the export."""
    if generated is None:
        return None
    try:
        return datetime.strptime(generated.strip(), "%d %b %Y %I:%M:%S %p").date().isoformat()
    except ValueError:
        return generated


def main():
    frame, generated = read_register(sys.argv[1])
    groups, last_year, data_errors = lead_times(frame)
    report = {
        "source": {"generated": generated, "rows": int(len(frame))},
        "censored_at_year": last_year,
        "groups": groups,
        "data_errors": data_errors,
        "sources": [{"name": "SIPRI Arms Transfers Database, trade register export",
                     "date": export_date(generated)}],
    }
    json.dump(report, sys.stdout, indent=2)
    print()


if __name__ == "__main__":
    main()
