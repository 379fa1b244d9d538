-- Two vehicles that register the same person offline make two donors with one identity
-- document. A device keeps one row per document (the first it held) and notes every
-- other id the station sends for that document here, so that donations and deferrals
-- recorded under the other id count in this donor's history and eligibility.
-- Filled only by replication; never enters the change log.
CREATE TABLE donor_alias (
    alias_id    TEXT PRIMARY KEY,
    donor_id    TEXT NOT NULL REFERENCES donor(id),
    noted_at    TEXT NOT NULL
);
CREATE INDEX donor_alias_by_donor ON donor_alias(donor_id);
