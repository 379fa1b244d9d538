//! `donation_release`: DIN, donation, who released it when and the pieces verified as
//! columns, and the body.

use lifebridge_domain::entities::DonationRelease;
use rusqlite::Connection;

use crate::Result;

pub(crate) fn insert(tx: &Connection, release: &DonationRelease, body: &str) -> Result<()> {
    tx.execute(
        "INSERT INTO donation_release (din, donation_id, released_by, released_at, pieces, id, body)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
        (
            release.din.as_str(),
            release.donation_id.to_string(),
            release.released_by.to_string(),
            release.released_at.to_rfc3339(),
            serde_json::to_string(&release.pieces)?,
            release.id.to_string(),
            body,
        ),
    )?;
    Ok(())
}
