//! `screening`: donor, drive, time and what it supersedes as columns, and the body.

use lifebridge_domain::entities::Screening;
use rusqlite::Connection;

use crate::Result;

pub(crate) fn insert(tx: &Connection, screening: &Screening, body: &str) -> Result<()> {
    tx.execute(
        "INSERT INTO screening (id, donor_id, drive_id, recorded_at, supersedes, body)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
        (
            screening.id.to_string(),
            screening.donor_id.to_string(),
            screening.drive_id.to_string(),
            screening.recorded_at.to_rfc3339(),
            screening.supersedes.map(|s| s.to_string()),
            body,
        ),
    )?;
    Ok(())
}
