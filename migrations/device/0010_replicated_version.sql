-- Lifebridge device store, schema 10: which version of each one-writer record pulled
-- from another tablet this device holds (issue 10, a bus of tablets). A record has one
-- writer, the device that created it; a later version from that writer (a drive ended,
-- a collection finished) replaces the earlier one only when its clock is later, and a
-- version from any other device is refused. Filled only by replication; never enters
-- the change log. Records pulled before this schema have no row: the next version
-- pulled replaces them (pages arrive in the station's commit order).
CREATE TABLE replicated_version (
    kind           TEXT NOT NULL,
    id             TEXT NOT NULL,
    origin_device  TEXT NOT NULL,
    hlc            TEXT NOT NULL,
    PRIMARY KEY (kind, id)
);

-- A release pulled from another tablet names the staff member who released the bag
-- there, whose account this tablet may not hold (one made on that tablet): the release
-- keeps the name of the account, no longer a reference to this device's staff table,
-- so the crew lead's tablet knows the bag left the chair and can end the drive.
CREATE TABLE donation_release_v10 (
    din          TEXT PRIMARY KEY,
    donation_id  TEXT NOT NULL REFERENCES donation(id),
    released_by  TEXT NOT NULL,
    released_at  TEXT NOT NULL,
    pieces       TEXT NOT NULL,
    id           TEXT,
    body         TEXT
);
INSERT INTO donation_release_v10 (din, donation_id, released_by, released_at, pieces, id, body)
    SELECT din, donation_id, released_by, released_at, pieces, id, body FROM donation_release;
DROP TABLE donation_release;
ALTER TABLE donation_release_v10 RENAME TO donation_release;
CREATE UNIQUE INDEX donation_release_by_id ON donation_release(id);
