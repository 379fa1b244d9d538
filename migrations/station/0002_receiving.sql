-- Lifebridge station, schema 2: the receiving desk. Same rules as schema 1: plain
-- types, text timestamps (RFC 3339, UTC), no sequences or autoincrement.

-- Every manifest the desk knows, by how it arrived: the body of the `manifest` change
-- entry a vehicle pushed, and/or the manifest QR scanned at the desk. Whichever came
-- second is compared with the first: `qr_matches` is 1 when they are the same
-- manifest, 0 when they differ (the desk shows it), NULL until both are here.
CREATE TABLE manifest (
    manifest_id      TEXT PRIMARY KEY,
    device_id        TEXT NOT NULL,
    site_name        TEXT NOT NULL,
    dispatched_at    TEXT NOT NULL,
    replicated_body  TEXT,
    qr_body          TEXT,
    qr_matches       INTEGER,
    first_seen_at    TEXT NOT NULL
);
CREATE INDEX manifest_by_dispatch ON manifest (dispatched_at);

-- Station staff who sign at the desk: receiving staff, and drivers (who sign the
-- hand-off with a PIN set at the station). PINs are argon2id hashes.
CREATE TABLE station_staff (
    staff_id    TEXT PRIMARY KEY,
    name        TEXT NOT NULL UNIQUE,
    role        TEXT NOT NULL,
    pin_hash    TEXT NOT NULL,
    created_at  TEXT NOT NULL
);

-- One receiving at the desk: which manifests, opened by whom; signed once.
CREATE TABLE receipt (
    receipt_id    TEXT PRIMARY KEY,
    manifest_ids  TEXT NOT NULL,
    opened_by     TEXT NOT NULL,
    opened_at     TEXT NOT NULL,
    signed_at     TEXT
);

-- Every bag scanned at the desk, as scanned (a rescan is a new row; the latest counts).
CREATE TABLE desk_scan (
    receipt_id  TEXT NOT NULL,
    scan_id     TEXT NOT NULL,
    din         TEXT NOT NULL,
    box_code    TEXT,
    scanned_at  TEXT NOT NULL,
    scanned_by  TEXT NOT NULL,
    PRIMARY KEY (receipt_id, scan_id)
);

-- The signed hand-off (lifebridge_domain::handoff::HandoffRecord). Never edited.
CREATE TABLE handoff (
    handoff_id  TEXT PRIMARY KEY,
    receipt_id  TEXT NOT NULL UNIQUE,
    signed_at   TEXT NOT NULL,
    body        TEXT NOT NULL
);
