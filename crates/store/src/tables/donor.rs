//! `donor`: identity document, name, birth date and phone as columns, the merged
//! per-field clocks (what replication stored) and the body.

use lifebridge_domain::entities::Donor;
use rusqlite::Connection;

use crate::Result;
use crate::replication::FieldClocks;

pub(crate) fn insert(
    tx: &Connection,
    donor: &Donor,
    clocks: &FieldClocks,
    body: &str,
) -> Result<()> {
    tx.execute(
        "INSERT INTO donor (id, doc_kind, doc_number, name, birth_date, phone, field_clocks, body)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)",
        (
            donor.id.to_string(),
            donor.document.kind().as_str(),
            donor.document.number(),
            &donor.name,
            donor.birth_date.to_string(),
            &donor.phone,
            serde_json::to_string(clocks)?,
            body,
        ),
    )?;
    Ok(())
}

/// Rewrites the row of `donor.id`. `clocks` is `None` for a local edit: the change log
/// is where this device's own clocks live, so the stored (replicated) ones stay.
pub(crate) fn update(
    tx: &Connection,
    donor: &Donor,
    clocks: Option<&FieldClocks>,
    body: &str,
) -> Result<()> {
    let clocks = clocks.map(serde_json::to_string).transpose()?;
    tx.execute(
        "UPDATE donor SET doc_kind = ?2, doc_number = ?3, name = ?4, birth_date = ?5,
             phone = ?6, field_clocks = COALESCE(?7, field_clocks), body = ?8
         WHERE id = ?1",
        (
            donor.id.to_string(),
            donor.document.kind().as_str(),
            donor.document.number(),
            &donor.name,
            donor.birth_date.to_string(),
            &donor.phone,
            clocks,
            body,
        ),
    )?;
    Ok(())
}
