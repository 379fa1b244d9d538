-- Lifebridge device store, schema 1.
-- Released migrations are never edited: the store refuses to open when an applied
-- migration's checksum differs from the one it ships. Add a new file instead.
--
-- Every domain table keeps the whole record as JSON in `body` (the same row that is
-- replicated) plus the columns the crew's queries need, indexed.

CREATE TABLE device (
    singleton   INTEGER PRIMARY KEY CHECK (singleton = 1),
    device_id   TEXT NOT NULL,
    name        TEXT NOT NULL,
    created_at  TEXT NOT NULL,
    -- Last hybrid logical clock timestamp issued, so a restart never goes backwards.
    last_hlc    TEXT NOT NULL
);

CREATE TABLE staff (
    id            TEXT PRIMARY KEY,
    display_name  TEXT NOT NULL,
    active        INTEGER NOT NULL,
    body          TEXT NOT NULL
);

-- PIN hashes stay on the device; they are never replicated.
CREATE TABLE staff_credential (
    staff_id        TEXT PRIMARY KEY REFERENCES staff(id),
    pin_hash        TEXT NOT NULL,
    failed_attempts INTEGER NOT NULL DEFAULT 0,
    locked_until    TEXT
);

CREATE TABLE drive (
    id          TEXT PRIMARY KEY,
    date        TEXT NOT NULL,
    site_name   TEXT NOT NULL,
    ended_at    TEXT,
    body        TEXT NOT NULL
);
CREATE INDEX drive_by_date ON drive(date);

CREATE TABLE donor (
    id            TEXT PRIMARY KEY,
    doc_kind      TEXT NOT NULL,
    doc_number    TEXT NOT NULL,
    name          TEXT NOT NULL,
    birth_date    TEXT NOT NULL,
    phone         TEXT,
    -- Per-field hybrid logical clock stamps, for last-writer-wins merges of edits made
    -- on two vehicles (JSON object: field name -> HLC text).
    field_clocks  TEXT NOT NULL,
    body          TEXT NOT NULL,
    UNIQUE (doc_kind, doc_number)
);
CREATE INDEX donor_by_name ON donor(name);
CREATE INDEX donor_by_phone ON donor(phone);
CREATE INDEX donor_by_name_birth ON donor(name, birth_date);

CREATE TABLE screening (
    id           TEXT PRIMARY KEY,
    donor_id     TEXT NOT NULL REFERENCES donor(id),
    drive_id     TEXT NOT NULL REFERENCES drive(id),
    recorded_at  TEXT NOT NULL,
    supersedes   TEXT REFERENCES screening(id),
    body         TEXT NOT NULL
);
CREATE INDEX screening_by_donor ON screening(donor_id);

CREATE TABLE deferral (
    id          TEXT PRIMARY KEY,
    donor_id    TEXT NOT NULL REFERENCES donor(id),
    code        TEXT NOT NULL,
    start       TEXT NOT NULL,
    until       TEXT,
    lifts       TEXT REFERENCES deferral(id),
    body        TEXT NOT NULL
);
CREATE INDEX deferral_by_donor ON deferral(donor_id);

CREATE TABLE din_range (
    id          TEXT PRIMARY KEY,
    facility    TEXT NOT NULL,
    year        INTEGER NOT NULL,
    first_seq   INTEGER NOT NULL,
    last_seq    INTEGER NOT NULL,
    source      TEXT NOT NULL,
    body        TEXT NOT NULL,
    CHECK (first_seq <= last_seq)
);

-- Donations from other vehicles arrive by replication as summaries; `origin_device`
-- tells them apart from this device's own records.
CREATE TABLE donation (
    id             TEXT PRIMARY KEY,
    donor_id       TEXT NOT NULL REFERENCES donor(id),
    drive_id       TEXT REFERENCES drive(id),
    din            TEXT NOT NULL,
    procedure      TEXT NOT NULL,
    started_at     TEXT NOT NULL,
    supersedes     TEXT REFERENCES donation(id),
    origin_device  TEXT NOT NULL,
    body           TEXT NOT NULL
);
CREATE INDEX donation_by_donor ON donation(donor_id);
CREATE INDEX donation_by_din ON donation(din);

-- One row per DIN this device has issued. The primary key makes issuing a DIN twice
-- impossible, whatever the code above it does.
CREATE TABLE din_issued (
    din          TEXT PRIMARY KEY,
    range_id     TEXT NOT NULL REFERENCES din_range(id),
    sequence     INTEGER NOT NULL,
    donation_id  TEXT NOT NULL REFERENCES donation(id),
    issued_at    TEXT NOT NULL
);
CREATE INDEX din_issued_by_range ON din_issued(range_id, sequence);

CREATE TABLE label_print (
    id           TEXT PRIMARY KEY,
    donation_id  TEXT NOT NULL REFERENCES donation(id),
    din          TEXT NOT NULL,
    kind         TEXT NOT NULL,
    piece        INTEGER NOT NULL,
    supersedes   TEXT REFERENCES label_print(id),
    body         TEXT NOT NULL
);
CREATE INDEX label_print_by_donation ON label_print(donation_id);

CREATE TABLE label_scan (
    id           TEXT PRIMARY KEY,
    donation_id  TEXT NOT NULL REFERENCES donation(id),
    result       TEXT NOT NULL,
    body         TEXT NOT NULL
);
CREATE INDEX label_scan_by_donation ON label_scan(donation_id);

-- Versioned reference data from the station: rules tables and questionnaires.
CREATE TABLE reference_document (
    kind        TEXT NOT NULL,
    version     TEXT NOT NULL,
    body        TEXT NOT NULL,
    adopted_at  TEXT NOT NULL,
    PRIMARY KEY (kind, version)
);

-- The replication log of this device's own changes. `seq` is gap-free: it is taken as
-- max + 1 inside the writing transaction, and rows are never deleted.
CREATE TABLE change_log (
    seq        INTEGER PRIMARY KEY,
    device_id  TEXT NOT NULL,
    hlc        TEXT NOT NULL UNIQUE,
    entity     TEXT NOT NULL,
    entity_id  TEXT NOT NULL,
    body       TEXT NOT NULL,
    audit_seq  INTEGER NOT NULL
);

-- Who did what, when. Each entry hashes the previous one, so a removed or altered
-- entry breaks the chain and `lifebridge store check` says where.
CREATE TABLE audit_log (
    seq        INTEGER PRIMARY KEY,
    at         TEXT NOT NULL,
    device_id  TEXT NOT NULL,
    staff_id   TEXT,
    action     TEXT NOT NULL,
    detail     TEXT NOT NULL,
    prev_hash  TEXT NOT NULL,
    hash       TEXT NOT NULL
);

-- Replication cursors and other small settings (key -> JSON value).
CREATE TABLE sync_state (
    key    TEXT PRIMARY KEY,
    value  TEXT NOT NULL
);
