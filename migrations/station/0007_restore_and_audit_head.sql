-- Lifebridge station, schema 7: what a station restored from a backup, and a device's
-- audit trail, are checked against (docs/security.md).
--
-- pulled_seq: the highest feed cursor this station handed the device. A device that
-- pulls from a cursor past it pulled from a history this database no longer holds (the
-- station was restored from a backup): it pulls again from here. Devices enrolled before
-- this column existed can hold any cursor up to the feed's last seq.
ALTER TABLE device ADD COLUMN pulled_seq BIGINT NOT NULL DEFAULT 0;
UPDATE device SET pulled_seq = (SELECT value FROM station_counter WHERE name = 'feed');

-- The head (seq and hash) of the device's audit chain at its last acknowledged push; a
-- later push whose chain is shorter, or as long but different, is refused.
ALTER TABLE device ADD COLUMN audit_seq BIGINT;
ALTER TABLE device ADD COLUMN audit_hash TEXT;
