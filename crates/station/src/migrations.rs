//! Applies `migrations/station/*.sql` once each, in order, and refuses a database whose
//! applied migrations differ from the ones this build ships.

use sha2::{Digest, Sha256};

use crate::storage::sql::Tx;
use crate::storage::{Result, StorageError};

pub struct Migration {
    pub version: i64,
    pub name: &'static str,
    pub sql: &'static str,
}

pub const MIGRATIONS: &[Migration] = &[
    Migration {
        version: 1,
        name: "0001_initial",
        sql: include_str!("../../../migrations/station/0001_initial.sql"),
    },
    Migration {
        version: 2,
        name: "0002_receiving",
        sql: include_str!("../../../migrations/station/0002_receiving.sql"),
    },
    Migration {
        version: 3,
        name: "0003_change_entry_by_entity",
        sql: include_str!("../../../migrations/station/0003_change_entry_by_entity.sql"),
    },
    Migration {
        version: 4,
        name: "0004_staff_active",
        sql: include_str!("../../../migrations/station/0004_staff_active.sql"),
    },
    Migration {
        version: 5,
        name: "0005_desk_scan_piece",
        sql: include_str!("../../../migrations/station/0005_desk_scan_piece.sql"),
    },
    Migration {
        version: 6,
        name: "0006_desk_scan_manual",
        sql: include_str!("../../../migrations/station/0006_desk_scan_manual.sql"),
    },
    Migration {
        version: 7,
        name: "0007_restore_and_audit_head",
        sql: include_str!("../../../migrations/station/0007_restore_and_audit_head.sql"),
    },
    Migration {
        version: 8,
        name: "0008_statistics_tally_din_used",
        sql: include_str!("../../../migrations/station/0008_statistics_tally_din_used.sql"),
    },
    Migration {
        version: 9,
        name: "0009_statistics_by_day",
        sql: include_str!("../../../migrations/station/0009_statistics_by_day.sql"),
    },
    Migration {
        version: 10,
        name: "0010_din_roll",
        sql: include_str!("../../../migrations/station/0010_din_roll.sql"),
    },
    Migration {
        version: 11,
        name: "0011_lean_push",
        sql: include_str!("../../../migrations/station/0011_lean_push.sql"),
    },
    Migration {
        version: 12,
        name: "0012_hubs",
        sql: include_str!("../../../migrations/station/0012_hubs.sql"),
    },
    Migration {
        version: 13,
        name: "0013_hub",
        sql: include_str!("../../../migrations/station/0013_hub.sql"),
    },
];

pub fn checksum(sql: &str) -> String {
    hex::encode(Sha256::digest(sql.as_bytes()))
}

const CREATE_TABLE: &str = "CREATE TABLE IF NOT EXISTS station_migration (
    version     BIGINT PRIMARY KEY,
    name        TEXT NOT NULL,
    sha256      TEXT NOT NULL,
    applied_at  TEXT NOT NULL
)";

pub fn check_applied(applied: &[(i64, String)]) -> Result<()> {
    let latest = MIGRATIONS.last().map_or(0, |m| m.version);
    for (version, sum) in applied {
        match MIGRATIONS.iter().find(|m| m.version == *version) {
            None if *version > latest => {
                return Err(StorageError::Invalid(format!(
                    "the station database has schema version {version}, newer than this program ({latest}); update lifebridge-station"
                )));
            }
            Some(m) if checksum(m.sql) != *sum => {
                return Err(StorageError::Invalid(format!(
                    "station migration {version} ({}) was changed after it was applied; released migrations must never be edited",
                    m.name
                )));
            }
            _ => {}
        }
    }
    Ok(())
}

/// Creates the migration table if needed, checks what was applied and applies the rest,
/// and makes the station id once; one algorithm for both backends.
pub async fn apply(tx: &mut dyn Tx) -> Result<()> {
    tx.batch(CREATE_TABLE).await?;
    let applied = tx
        .query("SELECT version, sha256 FROM station_migration", &[])
        .await?
        .into_iter()
        .map(|mut r| Ok((r.int(0)?, r.text(1)?)))
        .collect::<Result<Vec<_>>>()?;
    check_applied(&applied)?;
    for m in MIGRATIONS {
        if applied.iter().any(|(v, _)| *v == m.version) {
            continue;
        }
        tx.batch(m.sql).await?;
        fill(tx, m.version).await?;
        tx.execute(
            "INSERT INTO station_migration (version, name, sha256, applied_at) VALUES (?1, ?2, ?3, ?4)",
            crate::params![m.version, m.name, checksum(m.sql), chrono::Utc::now().to_rfc3339()],
        )
        .await?;
    }
    tx.execute(
        "INSERT INTO station_meta (key, value) VALUES ('station_id', ?1) ON CONFLICT (key) DO NOTHING",
        crate::params![uuid::Uuid::now_v7()],
    )
    .await?;
    Ok(())
}

/// Fills what a migration adds from the records the station already holds, in the
/// migration's transaction (SQL alone cannot read the JSON bodies on both backends).
async fn fill(tx: &mut dyn Tx, version: i64) -> Result<()> {
    if version == 8 {
        crate::statistics::tally::rebuild_rows(tx).await?;
        crate::leases::rebuild_used(tx).await?;
    }
    if version == 9 {
        crate::statistics::by_day::rebuild(tx).await?;
    }
    Ok(())
}

/// Applies the migrations to a SQLite connection (the station's own file, or a
/// benchmark's bare table).
pub fn apply_sqlite(conn: &mut rusqlite::Connection) -> Result<()> {
    crate::storage::sqlite::migrate(conn)
}

pub fn create_table_sql() -> &'static str {
    CREATE_TABLE
}
