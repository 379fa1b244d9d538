//! `drive`: date, site and end as columns, and the body.

use lifebridge_domain::entities::Drive;
use rusqlite::Connection;

use crate::Result;

pub(crate) fn insert(tx: &Connection, drive: &Drive, body: &str) -> Result<()> {
    tx.execute(
        "INSERT INTO drive (id, date, site_name, body) VALUES (?1, ?2, ?3, ?4)",
        (
            drive.id.to_string(),
            drive.date.to_string(),
            &drive.site_name,
            body,
        ),
    )?;
    Ok(())
}

/// Ending a drive: its end time is the one column that changes.
pub(crate) fn update(tx: &Connection, drive: &Drive, body: &str) -> Result<()> {
    tx.execute(
        "UPDATE drive SET body = ?2, ended_at = ?3 WHERE id = ?1",
        (
            drive.id.to_string(),
            body,
            drive.ended_at.map(|t| t.to_rfc3339()),
        ),
    )?;
    Ok(())
}
