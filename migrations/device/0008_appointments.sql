-- Appointments the station sent for a site and day. The station is their only writer;
-- a later record with the same id replaces the row. They never enter the change log.
CREATE TABLE appointment (
    id          TEXT PRIMARY KEY,
    date        TEXT NOT NULL,
    site_name   TEXT NOT NULL,
    body        TEXT NOT NULL
);
CREATE INDEX appointment_by_day_site ON appointment(date, site_name);
