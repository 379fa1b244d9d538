-- Lifebridge station, schema 10: the register of pre-printed DIN rolls
-- (crates/station/src/rolls.rs, docs/security.md "DIN"). Station staff register a roll
-- of labels printed ahead of time (`lifebridge-station rolls register`); a donation
-- numbered from it is accepted from any device, or, when the roll was handed to one
-- (`device_id`), from that device only. A roll never overlaps a lease or another roll,
-- and the lease counters skip every registered roll.
CREATE TABLE din_roll (
    roll_id        TEXT PRIMARY KEY,
    facility       TEXT NOT NULL,
    year           INTEGER NOT NULL,
    first_seq      BIGINT NOT NULL,
    last_seq       BIGINT NOT NULL,
    -- The device the roll was handed to; NULL: any enrolled device may use it.
    device_id      TEXT,
    registered_at  TEXT NOT NULL
);
CREATE INDEX din_roll_by_range ON din_roll (facility, year, first_seq);
