-- Cases, their lines, their append-only event history, and access tokens (SQLite).
-- `state` caches the case as replayed from its events; `verify` checks it against them.

CREATE TABLE cases (
    id          TEXT PRIMARY KEY NOT NULL,
    purchaser   TEXT NOT NULL,
    agency      TEXT NOT NULL,
    channel     TEXT NOT NULL,
    stage       TEXT NOT NULL,
    version     BIGINT NOT NULL,
    head_hash   TEXT NOT NULL,
    samm_due    TEXT,
    search      TEXT NOT NULL,
    state       TEXT NOT NULL,
    opened_on   TEXT NOT NULL,
    updated_at  TEXT NOT NULL
);
CREATE INDEX cases_by_purchaser ON cases (purchaser, id);
CREATE INDEX cases_by_agency ON cases (agency, id);
CREATE INDEX cases_by_stage ON cases (stage, id);

CREATE TABLE case_lines (
    case_id         TEXT NOT NULL REFERENCES cases (id),
    position        BIGINT NOT NULL,
    item            TEXT NOT NULL,
    quantity        BIGINT NOT NULL,
    unit_cents      TEXT NOT NULL,
    mde             BIGINT NOT NULL,
    category        TEXT NOT NULL,
    production_line TEXT,
    PRIMARY KEY (case_id, position)
);

CREATE TABLE events (
    case_id     TEXT NOT NULL REFERENCES cases (id),
    seq         BIGINT NOT NULL,
    recorded_at TEXT NOT NULL,
    actor       TEXT NOT NULL,
    body        TEXT NOT NULL,
    prev_hash   TEXT NOT NULL,
    hash        TEXT NOT NULL,
    PRIMARY KEY (case_id, seq)
);

-- History is append-only; the hash chain detects anyone who drops these triggers.
CREATE TRIGGER events_no_update BEFORE UPDATE ON events
BEGIN
    SELECT RAISE(ABORT, 'events are append-only');
END;
CREATE TRIGGER events_no_delete BEFORE DELETE ON events
BEGIN
    SELECT RAISE(ABORT, 'events are append-only');
END;

CREATE TABLE tokens (
    id          TEXT PRIMARY KEY NOT NULL,
    name        TEXT NOT NULL UNIQUE,
    secret_hash TEXT NOT NULL UNIQUE,
    role        TEXT NOT NULL,
    country     TEXT,
    agency      TEXT,
    created_at  TEXT NOT NULL,
    revoked_at  TEXT
);
