//! `screening`: donor, drive, time and what it supersedes as columns, and the body.

use lifebridge_domain::entities::Screening;
use rusqlite::Connection;

use crate::Result;

/// `donor_id` is the donor this device files the screening under: the record's own, or
/// for one pulled from another tablet the donor holding the same person under another id.
pub(crate) fn insert(
    tx: &Connection,
    screening: &Screening,
    donor_id: &str,
    body: &str,
) -> Result<()> {
    tx.execute(
        "INSERT INTO screening (id, donor_id, drive_id, recorded_at, supersedes, body)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
        (
            screening.id.to_string(),
            donor_id,
            screening.drive_id.to_string(),
            screening.recorded_at.to_rfc3339(),
            screening.supersedes.map(|s| s.to_string()),
            body,
        ),
    )?;
    Ok(())
}
