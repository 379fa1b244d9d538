-- Lifebridge device store, schema 10: which version of each one-writer record pulled
-- from another tablet this device holds (issue 10, a bus of tablets). A record has one
-- writer, the device that created it; a later version from that writer (a drive ended,
-- a collection finished) replaces the earlier one only when its clock is later, and a
-- version from any other device is refused. Filled only by replication; never enters
-- the change log. Records pulled before this schema have no row: the next version
-- pulled replaces them (pages arrive in the station's commit order).
CREATE TABLE replicated_version (
    kind           TEXT NOT NULL,
    id             TEXT NOT NULL,
    origin_device  TEXT NOT NULL,
    hlc            TEXT NOT NULL,
    PRIMARY KEY (kind, id)
);
