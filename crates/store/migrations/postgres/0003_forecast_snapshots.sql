-- Every forecast of a stored case that said something new (issue 11), so that an alert can
-- compare a case's forecast with its previous one: the P10/P50/P90 of its first and final
-- delivery, its place in each line's queue and the inputs that explain a change (JSON).
-- A forecast is derived data (it can be computed again from the history), so these rows
-- are not chained; a recompute that says the same as the case's last row adds none.

CREATE TABLE forecast_snapshots (
    case_id     TEXT NOT NULL,
    seq         BIGINT NOT NULL,
    purchaser   TEXT NOT NULL,
    agency      TEXT NOT NULL,
    computed_at TEXT NOT NULL,
    as_of       TEXT NOT NULL,
    first_p10   TEXT NOT NULL,
    first_p50   TEXT NOT NULL,
    first_p90   TEXT NOT NULL,
    final_p10   TEXT NOT NULL,
    final_p50   TEXT NOT NULL,
    final_p90   TEXT NOT NULL,
    queues      TEXT NOT NULL,
    inputs      TEXT NOT NULL,
    PRIMARY KEY (case_id, seq)
);
CREATE INDEX forecast_snapshots_by_purchaser ON forecast_snapshots (purchaser, case_id, seq);
CREATE INDEX forecast_snapshots_by_agency ON forecast_snapshots (agency, case_id, seq);
