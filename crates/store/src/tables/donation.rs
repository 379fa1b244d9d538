//! `donation`: donor, drive, DIN, procedure, start, what it supersedes and which device
//! recorded it as columns, and the body.

use lifebridge_domain::entities::Donation;
use rusqlite::Connection;
use uuid::Uuid;

use crate::Result;

/// Where a donation row files its record on this device. A local donation files under
/// its own donor and drive; one pulled from another vehicle under the donor this device
/// holds for that person (perhaps an alias) and under no drive when the drive is not here.
pub(crate) struct Filing<'a> {
    pub donor_id: &'a str,
    pub drive_id: Option<&'a str>,
    pub origin_device: Uuid,
}

pub(crate) fn insert(
    tx: &Connection,
    donation: &Donation,
    filing: Filing<'_>,
    body: &str,
) -> Result<()> {
    tx.execute(
        "INSERT INTO donation (id, donor_id, drive_id, din, procedure, started_at, supersedes,
                               origin_device, body)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)",
        (
            donation.id.to_string(),
            filing.donor_id,
            filing.drive_id,
            donation.din.as_str(),
            donation.procedure.as_str(),
            donation.started_at.to_rfc3339(),
            donation.supersedes.map(|s| s.to_string()),
            filing.origin_device.to_string(),
            body,
        ),
    )?;
    Ok(())
}

/// Finishing a collection on the chair changes only what the body holds (end time,
/// volume, reactions, outcome); the indexed columns were fixed when it started.
pub(crate) fn replace_body(tx: &Connection, donation: &Donation, body: &str) -> Result<()> {
    tx.execute(
        "UPDATE donation SET body = ?2 WHERE id = ?1",
        (donation.id.to_string(), body),
    )?;
    Ok(())
}
