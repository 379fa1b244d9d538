//! `deferral`: donor, code, start, end and what it lifts as columns, and the body.

use lifebridge_domain::entities::Deferral;
use rusqlite::Connection;

use crate::Result;

/// `donor_id` is the donor this device files the deferral under: the record's own, or
/// for a pulled one the donor holding the same person under another id.
pub(crate) fn insert(
    tx: &Connection,
    deferral: &Deferral,
    donor_id: &str,
    body: &str,
) -> Result<()> {
    tx.execute(
        "INSERT INTO deferral (id, donor_id, code, start, until, lifts, body)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
        (
            deferral.id.to_string(),
            donor_id,
            &deferral.code,
            deferral.start.to_string(),
            deferral.until.map(|d| d.to_string()),
            deferral.lifts.map(|d| d.to_string()),
            body,
        ),
    )?;
    Ok(())
}
