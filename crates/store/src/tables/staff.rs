//! `staff` (name and whether active as columns, and the body) and `staff_credential`
//! (the PIN hash and the sign-in lock-out).

use chrono::{DateTime, Utc};
use lifebridge_domain::entities::Staff;
use rusqlite::Connection;

use crate::Result;

/// Writes the account, replacing an earlier version; `Ok(true)` when the row changed.
pub(crate) fn upsert(tx: &Connection, staff: &Staff, body: &str) -> Result<bool> {
    let changed = tx.execute(
        "INSERT INTO staff (id, display_name, active, body) VALUES (?1, ?2, ?3, ?4)
         ON CONFLICT (id) DO UPDATE SET display_name = excluded.display_name,
           active = excluded.active, body = excluded.body
         WHERE staff.body IS NOT excluded.body",
        (
            staff.id.to_string(),
            &staff.display_name,
            staff.active,
            body,
        ),
    )?;
    Ok(changed > 0)
}

/// Sets the account's PIN hash; `Ok(true)` when it changed. A new hash (a PIN reset)
/// also lifts a lock-out.
pub(crate) fn set_pin_hash(tx: &Connection, staff_id: &str, pin_hash: &str) -> Result<bool> {
    let changed = tx.execute(
        "INSERT INTO staff_credential (staff_id, pin_hash) VALUES (?1, ?2)
         ON CONFLICT (staff_id) DO UPDATE SET pin_hash = excluded.pin_hash,
           failed_attempts = 0, locked_until = NULL
         WHERE staff_credential.pin_hash IS NOT excluded.pin_hash",
        (staff_id, pin_hash),
    )?;
    Ok(changed > 0)
}

/// The sign-in lock-out: wrong PINs counted so far and, once locked, until when.
pub(crate) fn set_failed_attempts(
    tx: &Connection,
    staff_id: &str,
    failed_attempts: u32,
    locked_until: Option<DateTime<Utc>>,
) -> Result<()> {
    tx.execute(
        "UPDATE staff_credential SET failed_attempts = ?2, locked_until = ?3 WHERE staff_id = ?1",
        (
            staff_id,
            failed_attempts,
            locked_until.map(|t| t.to_rfc3339()),
        ),
    )?;
    Ok(())
}
