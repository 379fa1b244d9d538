-- Lifebridge device store, schema 3: releasing a donation from the chair.
--
-- A donation is released (the bag may leave the donor chair) only once every label of
-- its set was scanned and matched. The release is this device's own fact, written in
-- the same action as its audit entry; the scans it rests on replicate as label_scan rows.

CREATE TABLE donation_release (
    din          TEXT PRIMARY KEY,
    donation_id  TEXT NOT NULL REFERENCES donation(id),
    released_by  TEXT NOT NULL REFERENCES staff(id),
    released_at  TEXT NOT NULL,
    -- JSON array of the pieces verified, e.g. [{"kind":"bag","piece":1}, ...]
    pieces       TEXT NOT NULL
);

CREATE INDEX label_print_by_din ON label_print(din);
