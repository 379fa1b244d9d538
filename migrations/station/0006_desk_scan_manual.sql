-- Lifebridge station, schema 6: a desk scan typed instead of scanned (the DIN with its
-- check character, a reason and a second station account's PIN) keeps why and who
-- confirmed it, as lifebridge_domain::handoff::DeskManual JSON. NULL for scans (and for
-- every row written before), which read back as scans.
ALTER TABLE desk_scan ADD COLUMN manual TEXT;
