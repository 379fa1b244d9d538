-- The statistics tally: what the figures read from each record, kept at every push so
-- the statistics page reads one period's rows by day and parses no body
-- (crates/station/src/statistics/tally.rs). Days are yyyymmdd integers (China Standard
-- Time), which both databases order alike. Filled from the records already held when
-- this migration is applied.
CREATE TABLE stat_donation (
    donation_id  TEXT PRIMARY KEY,
    day          INTEGER NOT NULL,
    started_at   TEXT NOT NULL,
    donor_id     TEXT NOT NULL,
    drive_id     TEXT NOT NULL,
    outcome      TEXT NOT NULL,
    volume_ml    BIGINT NOT NULL,
    supersedes   TEXT,
    -- The donor's identity document (kind:number), or its id while the donor is unknown.
    person       TEXT NOT NULL
);
CREATE INDEX stat_donation_by_day ON stat_donation (day);
CREATE INDEX stat_donation_by_person ON stat_donation (person, day);
CREATE INDEX stat_donation_by_donor ON stat_donation (donor_id);
CREATE INDEX stat_donation_by_supersedes ON stat_donation (supersedes);

CREATE TABLE stat_screening (
    screening_id  TEXT PRIMARY KEY,
    day           INTEGER NOT NULL,
    deferred      INTEGER NOT NULL,
    permanent     INTEGER NOT NULL,
    supersedes    TEXT
);
CREATE INDEX stat_screening_by_day ON stat_screening (day);
CREATE INDEX stat_screening_by_supersedes ON stat_screening (supersedes);

CREATE TABLE stat_drive (
    drive_id  TEXT PRIMARY KEY,
    site      TEXT NOT NULL
);

CREATE TABLE stat_donor (
    donor_id  TEXT PRIMARY KEY,
    person    TEXT NOT NULL,
    abo_rh    TEXT NOT NULL,
    rural     INTEGER
);

-- Records whose latest body the figures cannot read (counted, not used).
CREATE TABLE stat_unreadable (
    entity     TEXT NOT NULL,
    record_id  TEXT NOT NULL,
    PRIMARY KEY (entity, record_id)
);

-- The DINs seen in pushed donations, by the device that pushed them: numbers leased to a
-- device and not seen here are what it holds outstanding (the lease caps,
-- docs/security.md "DIN leases").
CREATE TABLE din_used (
    facility   TEXT NOT NULL,
    year       INTEGER NOT NULL,
    sequence   BIGINT NOT NULL,
    device_id  TEXT NOT NULL,
    PRIMARY KEY (facility, year, sequence)
);
CREATE INDEX din_used_by_device ON din_used (device_id, facility, year);
