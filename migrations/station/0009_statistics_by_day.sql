-- The statistics by day: sums of the tally's rows (migration 0008) kept at every push in
-- the push's own transaction, so a period's figures read O(days x drives) rows, never
-- one row per donation (crates/station/src/statistics/by_day.rs says what each holds).
-- Days are yyyymmdd integers (China Standard Time). Filled from the tally when this
-- migration is applied.

-- Current donations by day and drive (the site is the drive's, read at the request, so
-- renaming a drive's site moves nothing): complete and partial ones and their volume,
-- and aborted ones.
CREATE TABLE stat_day_drive (
    day        INTEGER NOT NULL,
    drive_id   TEXT NOT NULL,
    donations  BIGINT NOT NULL,
    aborted    BIGINT NOT NULL,
    volume_ml  BIGINT NOT NULL,
    PRIMARY KEY (day, drive_id)
);

-- Current complete and partial donations by day and the donor's ABO/RhD.
CREATE TABLE stat_day_group (
    day        INTEGER NOT NULL,
    abo_rh     TEXT NOT NULL,
    donations  BIGINT NOT NULL,
    PRIMARY KEY (day, abo_rh)
);

-- Current screenings by day.
CREATE TABLE stat_day_screening (
    day         INTEGER NOT NULL,
    screenings  BIGINT NOT NULL,
    deferred    BIGINT NOT NULL,
    permanent   BIGINT NOT NULL,
    PRIMARY KEY (day)
);

-- People, counted once each: `period` 'day' counts a person on each day they gave
-- (complete or partial), 'year' on the day of their first donation of that year. Each
-- with whether they gave on an earlier day (repeat: for 'year', in an earlier year) and
-- the residence of the donor record of that first donation.
CREATE TABLE stat_day_people (
    period           TEXT NOT NULL,
    day              INTEGER NOT NULL,
    donors           BIGINT NOT NULL,
    repeat_donors    BIGINT NOT NULL,
    rural_donors     BIGINT NOT NULL,
    residence_known  BIGINT NOT NULL,
    PRIMARY KEY (period, day)
);

-- The row each push's upkeep of these sums locks first, so concurrent pushes keep them
-- in turn (crates/station/src/statistics/tally.rs `record`).
INSERT INTO station_meta (key, value) VALUES ('statistics_by_day', 'kept at each push')
    ON CONFLICT (key) DO NOTHING;
