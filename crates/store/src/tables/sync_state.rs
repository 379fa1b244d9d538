//! `sync_state`: small replication settings (cursors, credential, station address) as
//! JSON text under a key.

use rusqlite::Connection;

use crate::Result;

pub(crate) fn set(conn: &Connection, key: &str, value: &serde_json::Value) -> Result<()> {
    conn.execute(
        "INSERT INTO sync_state (key, value) VALUES (?1, ?2)
         ON CONFLICT (key) DO UPDATE SET value = excluded.value",
        (key, value.to_string()),
    )?;
    Ok(())
}
