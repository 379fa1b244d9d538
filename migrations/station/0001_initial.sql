-- Lifebridge station, schema 1. One file serves SQLite and PostgreSQL (and the
-- PostgreSQL-compatible distributed engines): plain types, text timestamps (RFC 3339,
-- UTC), no sequences or autoincrement, keys that include the device id.
-- Released migrations are never edited; add a new file instead.

-- station_id and other one-off values.
CREATE TABLE station_meta (
    key    TEXT PRIMARY KEY,
    value  TEXT NOT NULL
);

-- Counters taken inside the writing transaction. `feed` numbers the station's change
-- sequence: taking it locks the row until commit, so sequence order is commit order
-- and a device pulling after a cursor can never miss a row committed late.
CREATE TABLE station_counter (
    name   TEXT PRIMARY KEY,
    value  BIGINT NOT NULL
);
INSERT INTO station_counter (name, value) VALUES ('feed', 0);

CREATE TABLE device (
    device_id    TEXT PRIMARY KEY,
    name         TEXT NOT NULL,
    -- SHA-256 of the bearer token; the token itself is shown once and never stored.
    token_hash   TEXT NOT NULL UNIQUE,
    enrolled_at  TEXT NOT NULL,
    revoked_at   TEXT,
    -- Highest change-log seq held for this device; every seq up to it is present.
    held_seq     BIGINT NOT NULL DEFAULT 0
);

CREATE TABLE enrollment (
    code_hash   TEXT PRIMARY KEY,
    name        TEXT NOT NULL,
    created_at  TEXT NOT NULL,
    expires_at  TEXT NOT NULL,
    used_at     TEXT,
    device_id   TEXT
);

-- Every device's change log, exactly as pushed. Never updated, never deleted.
CREATE TABLE change_entry (
    device_id     TEXT NOT NULL,
    seq           BIGINT NOT NULL,
    hlc           TEXT NOT NULL,
    entity        TEXT NOT NULL,
    entity_id     TEXT NOT NULL,
    body          TEXT NOT NULL,
    field_clocks  TEXT,
    digest        TEXT NOT NULL,
    received_at   TEXT NOT NULL,
    PRIMARY KEY (device_id, seq)
);

-- The merged donor (per-field last-writer-wins by hybrid logical clock).
CREATE TABLE donor_state (
    donor_id      TEXT PRIMARY KEY,
    body          TEXT NOT NULL,
    field_clocks  TEXT NOT NULL,
    hlc           TEXT NOT NULL
);

-- What devices pull, in station order. `target_device` is set for records meant for
-- one device only (its DIN leases).
CREATE TABLE feed (
    station_seq    BIGINT PRIMARY KEY,
    kind           TEXT NOT NULL,
    record_id      TEXT NOT NULL,
    origin_device  TEXT NOT NULL,
    target_device  TEXT,
    hlc            TEXT NOT NULL,
    body           TEXT NOT NULL,
    field_clocks   TEXT
);

-- Next unleased DIN sequence number per facility and nominal year.
CREATE TABLE din_counter (
    facility  TEXT NOT NULL,
    year      INTEGER NOT NULL,
    next_seq  BIGINT NOT NULL,
    PRIMARY KEY (facility, year)
);

CREATE TABLE din_lease (
    device_id    TEXT NOT NULL,
    lease_id     TEXT NOT NULL,
    facility     TEXT NOT NULL,
    year         INTEGER NOT NULL,
    first_seq    BIGINT NOT NULL,
    last_seq     BIGINT NOT NULL,
    station_seq  BIGINT NOT NULL,
    granted_at   TEXT NOT NULL,
    PRIMARY KEY (device_id, lease_id)
);

CREATE TABLE reference_document (
    kind          TEXT NOT NULL,
    version       TEXT NOT NULL,
    body          TEXT NOT NULL,
    published_at  TEXT NOT NULL,
    PRIMARY KEY (kind, version)
);
