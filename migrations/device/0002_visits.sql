-- Lifebridge device store, schema 2: check-in visits, for the chair queue.
-- A visit is one donor's pass through one drive: checked in, then screened, then on
-- the chair, then done (or deferred). Its status is derived from the screening and
-- donation that reference the same donor and drive, never stored twice.

CREATE TABLE visit (
    id             TEXT PRIMARY KEY,
    drive_id       TEXT NOT NULL REFERENCES drive(id),
    donor_id       TEXT NOT NULL REFERENCES donor(id),
    checked_in_at  TEXT NOT NULL,
    body           TEXT NOT NULL
);
CREATE INDEX visit_by_drive ON visit(drive_id, checked_in_at);
