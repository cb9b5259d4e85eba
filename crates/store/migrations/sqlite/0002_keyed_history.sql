-- The keyed history: each case row carries a keyed digest of its columns, and one ledger
-- record (keyed too) holds the count of cases and a digest over every case's chain end,
-- so a deleted case or an emptied table shows up in `expedite verify`. The key itself
-- never enters the database. Tokens may expire.

ALTER TABLE cases ADD COLUMN row_mac TEXT NOT NULL DEFAULT '';

CREATE TABLE ledger (
    id      BIGINT PRIMARY KEY NOT NULL CHECK (id = 1),
    cases   BIGINT NOT NULL,
    digest  TEXT NOT NULL,
    mac     TEXT NOT NULL
);

ALTER TABLE tokens ADD COLUMN expires_at TEXT;
