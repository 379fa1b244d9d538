-- Lifebridge device store, schema 4: replication reads a donor's own change-log
-- entries to tell which fields each entry changed (per-field merges); without this
-- index every donor entry pushed or merged scans the whole change log.
CREATE INDEX change_log_by_entity ON change_log(entity, entity_id, seq);
