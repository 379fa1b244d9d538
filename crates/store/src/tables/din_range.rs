//! `din_range`: facility, year, first and last number and source as columns, and the body.

use lifebridge_domain::din::DinRange;
use lifebridge_domain::entities::DinRangeRecord;
use rusqlite::{Connection, OptionalExtension};

use crate::Result;

/// The id of a range this device holds that shares a number with `range`.
pub(crate) fn overlapping(conn: &Connection, range: &DinRange) -> Result<Option<String>> {
    Ok(conn
        .query_row(
            "SELECT id FROM din_range WHERE facility = ?1 AND year = ?2
             AND first_seq <= ?4 AND last_seq >= ?3",
            (
                range.facility().as_str(),
                range.year(),
                range.first(),
                range.last(),
            ),
            |r| r.get(0),
        )
        .optional()?)
}

pub(crate) fn insert(tx: &Connection, record: &DinRangeRecord, body: &str) -> Result<()> {
    let source = serde_json::to_value(record.source)?;
    tx.execute(
        "INSERT INTO din_range (id, facility, year, first_seq, last_seq, source, body)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
        (
            record.id.to_string(),
            record.range.facility().as_str(),
            record.range.year(),
            record.range.first(),
            record.range.last(),
            source.as_str().unwrap_or_default(),
            body,
        ),
    )?;
    Ok(())
}
