-- Lifebridge station, schema 12: bus hubs (issue 10; docs/security.md "Bus hubs").
-- A hub is `lifebridge-station` on a bus, enrolled here like a device but of kind
-- `hub`: it relays its tablets' change-log entries under their own ids and seqs
-- (crates/station/src/relay.rs). An enrollment code says which kind it enrolls.
ALTER TABLE enrollment ADD COLUMN kind TEXT NOT NULL DEFAULT 'tablet';
ALTER TABLE device ADD COLUMN kind TEXT NOT NULL DEFAULT 'tablet';
-- The hub a tablet is relayed through now (NULL: none). A tablet known only through a
-- hub has a device row with no token of its own (`token_hash` 'relayed:<id>', which no
-- SHA-256 hex digest equals).
ALTER TABLE device ADD COLUMN via_hub TEXT;
CREATE INDEX device_by_hub ON device (via_hub);
-- Every hub a tablet was ever registered through: the numbers such a hub sub-leased to
-- it stay valid for its donations after the tablet moves to another hub (a hub whose
-- disk was lost is replaced, and its tablets push again what the station lacks).
CREATE TABLE hub_tablet (
    hub_id         TEXT NOT NULL,
    tablet_id      TEXT NOT NULL,
    registered_at  TEXT NOT NULL,
    PRIMARY KEY (tablet_id, hub_id)
);
