-- The statistics page reads every donation, screening and drive on each request; without
-- this index that is a scan of every change entry of every kind (labels alone are ~12 per
-- donation). Ordered as the reader wants them: per device, in seq order.
CREATE INDEX change_entry_by_entity ON change_entry (entity, device_id, seq);
