-- Lifebridge device store, schema 6: the cold chain on the vehicle. Transport boxes,
-- the bags packed into them (and taken out again: a packing that `removes` another),
-- their temperature readings, and the manifests the driver signs at dispatch. Each is a
-- replicated record with one writer (this device): id + body like every domain table.

CREATE TABLE transport_box (
    id          TEXT PRIMARY KEY,
    drive_id    TEXT NOT NULL REFERENCES drive(id),
    code        TEXT NOT NULL,
    class       TEXT NOT NULL,
    body        TEXT NOT NULL
);
-- The code is what the driver and the receiving desk scan: one box per code per drive.
CREATE UNIQUE INDEX transport_box_code ON transport_box(drive_id, code);

CREATE TABLE box_packing (
    id           TEXT PRIMARY KEY,
    box_id       TEXT NOT NULL REFERENCES transport_box(id),
    donation_id  TEXT NOT NULL REFERENCES donation(id),
    din          TEXT NOT NULL,
    removes      TEXT REFERENCES box_packing(id),
    body         TEXT NOT NULL
);
CREATE INDEX box_packing_by_box ON box_packing(box_id);
CREATE INDEX box_packing_by_din ON box_packing(din);
-- A packing is undone at most once.
CREATE UNIQUE INDEX box_packing_removes ON box_packing(removes) WHERE removes IS NOT NULL;

CREATE TABLE temperature_reading (
    id           TEXT PRIMARY KEY,
    box_id       TEXT NOT NULL REFERENCES transport_box(id),
    measured_at  TEXT NOT NULL,
    body         TEXT NOT NULL
);
CREATE INDEX temperature_reading_by_box ON temperature_reading(box_id, measured_at);

CREATE TABLE manifest (
    id             TEXT PRIMARY KEY,
    drive_id       TEXT NOT NULL REFERENCES drive(id),
    dispatched_at  TEXT NOT NULL,
    body           TEXT NOT NULL
);
CREATE INDEX manifest_by_drive ON manifest(drive_id);

-- Which manifest carried each box (a box goes in at most one). Derived from the
-- manifest's body, written in the same action; it is what makes a box read-only.
CREATE TABLE manifest_box (
    box_id       TEXT PRIMARY KEY REFERENCES transport_box(id),
    manifest_id  TEXT NOT NULL REFERENCES manifest(id)
);
