-- Lifebridge station, schema 4: a staff account can be closed (someone leaves, a PIN is
-- compromised) without deleting it: hand-offs it signed still name it. A closed account
-- signs nothing at the desk and is sent to the devices closed, so no tablet lets it in.
ALTER TABLE station_staff ADD COLUMN active INTEGER NOT NULL DEFAULT 1;
