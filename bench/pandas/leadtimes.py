"""Lead times by supplier from the SIPRI trade register, in pandas: the same computation as
`expedite sipri leadtimes --by supplier --format json`, for the benchmark in bench/sipri.sh.

Same input handling (header found by its text, Latin-1, records broken by a raw line break
joined again, '?' flag columns by position) and the same definitions (median; p90 by linear
interpolation, numpy's default; shares among deals with a delivery). Prints the same JSON.
"""

import io
import json
import sys

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
    # Join records broken by a raw line break inside Comments (no quotes in this export).
    records, pending = [], None
    for line in lines[header + 1:]:
        line = line.rstrip("\r")
        if not line:
            continue
        if pending is not None:
            line = pending + " " + line
            pending = None
        if line.count(",") < len(COLUMNS) - 1:
            pending = line
            continue
        records.append(line)
    frame = pd.read_csv(io.StringIO("\n".join(records)), header=None, names=COLUMNS,
                        dtype={"delivery_years": str, "comments": str}, keep_default_na=False,
                        na_values={"ordered": [""], "tiv_total": [""]})
    return frame, generated


def lead_times(frame):
    years = frame["delivery_years"].str.split("; ")
    has_delivery = frame["delivery_years"] != ""
    first = years.map(lambda ys: int(min(ys)) if ys != [""] else None)
    last = years.map(lambda ys: int(max(ys)) if ys != [""] else None)
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
        stat = lambda value: None if n == 0 else round(float(value), 4)
        share = lambda years: None if n == 0 else round(float((to_first <= years).sum()) / n, 4)
        groups.append({
            "key": key,
            "deals": int(len(group)),
            "deals_with_delivery": int(n),
            "deals_fully_delivered": int(group["full"].sum()),
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
    return groups


def main():
    frame, generated = read_register(sys.argv[1])
    report = {"source": {"generated": generated, "rows": int(len(frame))}, "groups": lead_times(frame)}
    json.dump(report, sys.stdout, indent=2)
    print()


if __name__ == "__main__":
    main()
