-- Lifebridge device store, schema 5: the release of a donation from the chair is a
-- record of its own that replicates like the others (id + body, as every domain table).

ALTER TABLE donation_release ADD COLUMN id TEXT;
ALTER TABLE donation_release ADD COLUMN body TEXT;
CREATE UNIQUE INDEX donation_release_by_id ON donation_release(id);
