-- Hand-offs the station's receiving desk signed for this device's manifests. The
-- station is their only writer; each is final (a correction is a new hand-off), so a
-- record is stored once and never changed. They never enter the change log.
CREATE TABLE handoff (
    id          TEXT PRIMARY KEY,
    signed_at   TEXT NOT NULL,
    body        TEXT NOT NULL
);

-- Which manifests each hand-off covers (a desk may receive two buses' manifests at once).
CREATE TABLE handoff_manifest (
    manifest_id  TEXT NOT NULL,
    handoff_id   TEXT NOT NULL REFERENCES handoff(id),
    PRIMARY KEY (manifest_id, handoff_id)
);
