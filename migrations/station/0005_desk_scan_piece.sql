-- Lifebridge station, schema 5: a desk scan names the label piece its flags identify
-- (a container, a sample tube), as lifebridge_domain::labels::LabelPiece JSON, so the
-- desk receives each bag's sample tubes with it and a bag whose tubes are missing is a
-- discrepancy. NULL for scans that named no piece (and for scans made before).
ALTER TABLE desk_scan ADD COLUMN piece TEXT;
