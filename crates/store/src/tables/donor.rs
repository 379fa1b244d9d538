//! `donor`: identity document, name, birth date and phone as columns, the merged
//! per-field clocks (what replication stored) and the body.

use lifebridge_domain::entities::Donor;
use rusqlite::Connection;

use crate::Result;
use lifebridge_domain::merge::FieldClocks;

/// Writes the row of `donor.id`, new or replacing the one there. `clocks` are the
/// merged clocks replication stores; `None` for a local action, whose clocks are in the
/// change log: a new row then starts with none and an edited one keeps its own.
pub(crate) fn write(
    tx: &Connection,
    donor: &Donor,
    clocks: Option<&FieldClocks>,
    body: &str,
) -> Result<()> {
    let clocks = clocks.map(serde_json::to_string).transpose()?;
    tx.execute(
        "INSERT INTO donor (id, doc_kind, doc_number, name, birth_date, phone, field_clocks, body)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, COALESCE(?7, '{}'), ?8)
         ON CONFLICT (id) DO UPDATE SET doc_kind = excluded.doc_kind,
           doc_number = excluded.doc_number, name = excluded.name,
           birth_date = excluded.birth_date, phone = excluded.phone,
           field_clocks = COALESCE(?7, donor.field_clocks), body = excluded.body",
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
