-- Donations and deferrals go out exactly as their device pushed them, so their feed rows
-- stop copying the body: `entry_seq` names the change entry (of `origin_device`) that
-- holds it, the pull reads the body from there, and `body` is left empty. Every other
-- record (merged donors, the station's own records) keeps its body here and no
-- `entry_seq`. The copies already held are moved: each such row is matched to the entry
-- it was copied from (same device, record, clock and body), through an index made for
-- this migration only.
ALTER TABLE feed ADD COLUMN entry_seq BIGINT;
CREATE INDEX change_entry_by_entity_id_0011 ON change_entry (entity_id);
UPDATE feed SET entry_seq = (
    SELECT MIN(c.seq) FROM change_entry c
    WHERE c.entity_id = feed.record_id AND c.device_id = feed.origin_device
      AND c.entity = feed.kind AND c.hlc = feed.hlc AND c.body = feed.body
)
WHERE kind IN ('donation', 'deferral') AND target_device IS NULL AND field_clocks IS NULL;
UPDATE feed SET body = '' WHERE entry_seq IS NOT NULL;
DROP INDEX change_entry_by_entity_id_0011;

-- The digest of each change entry is no longer stored: it is a function of the entry's
-- own columns (entity, entity_id, hlc, body; lifebridge_protocol::ingest::digest_of),
-- computed when a re-sent batch must be compared with what is held, instead of on every
-- entry of every push.
ALTER TABLE change_entry DROP COLUMN digest;
