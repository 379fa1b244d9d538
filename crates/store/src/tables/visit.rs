//! `visit`: drive, donor and check-in time as columns, and the body.

use lifebridge_domain::entities::Visit;
use rusqlite::Connection;

use crate::Result;

/// `donor_id` is the donor this device files the visit under: the record's own, or for
/// one pulled from another tablet of the bus the donor holding the same person under
/// another id.
pub(crate) fn insert(tx: &Connection, visit: &Visit, donor_id: &str, body: &str) -> Result<()> {
    tx.execute(
        "INSERT INTO visit (id, drive_id, donor_id, checked_in_at, body) VALUES (?1, ?2, ?3, ?4, ?5)",
        (
            visit.id.to_string(),
            visit.drive_id.to_string(),
            donor_id,
            visit.checked_in_at.to_rfc3339(),
            body,
        ),
    )?;
    Ok(())
}
