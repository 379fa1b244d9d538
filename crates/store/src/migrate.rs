//! Applies `migrations/device/*.sql` in order, once each, and refuses to run against a
//! store whose applied migrations differ from the ones this build ships.

use rusqlite::Connection;
use sha2::{Digest, Sha256};

use crate::{Result, StoreError};

struct Migration {
    version: u32,
    name: &'static str,
    sql: &'static str,
}

const MIGRATIONS: &[Migration] = &[
    Migration {
        version: 1,
        name: "0001_initial",
        sql: include_str!("../../../migrations/device/0001_initial.sql"),
    },
    Migration {
        version: 2,
        name: "0002_visits",
        sql: include_str!("../../../migrations/device/0002_visits.sql"),
    },
    Migration {
        version: 3,
        name: "0003_labels",
        sql: include_str!("../../../migrations/device/0003_labels.sql"),
    },
    Migration {
        version: 4,
        name: "0004_replication_index",
        sql: include_str!("../../../migrations/device/0004_replication_index.sql"),
    },
    Migration {
        version: 5,
        name: "0005_release_replicated",
        sql: include_str!("../../../migrations/device/0005_release_replicated.sql"),
    },
    Migration {
        version: 6,
        name: "0006_cold_chain",
        sql: include_str!("../../../migrations/device/0006_cold_chain.sql"),
    },
    Migration {
        version: 7,
        name: "0007_handoff",
        sql: include_str!("../../../migrations/device/0007_handoff.sql"),
    },
    Migration {
        version: 8,
        name: "0008_appointments",
        sql: include_str!("../../../migrations/device/0008_appointments.sql"),
    },
    Migration {
        version: 9,
        name: "0009_donor_alias",
        sql: include_str!("../../../migrations/device/0009_donor_alias.sql"),
    },
    Migration {
        version: 10,
        name: "0010_replicated_version",
        sql: include_str!("../../../migrations/device/0010_replicated_version.sql"),
    },
];

pub(crate) fn latest_version() -> u32 {
    MIGRATIONS.iter().map(|m| m.version).max().unwrap_or(0)
}

fn checksum(sql: &str) -> String {
    hex::encode(Sha256::digest(sql.as_bytes()))
}

pub(crate) fn apply(conn: &mut Connection) -> Result<()> {
    conn.execute_batch(
        "CREATE TABLE IF NOT EXISTS schema_migration (
             version     INTEGER PRIMARY KEY,
             name        TEXT NOT NULL,
             sha256      TEXT NOT NULL,
             applied_at  TEXT NOT NULL
         )",
    )?;
    let applied: Vec<(u32, String)> = {
        let mut stmt =
            conn.prepare("SELECT version, sha256 FROM schema_migration ORDER BY version")?;
        stmt.query_map([], |r| Ok((r.get(0)?, r.get(1)?)))?
            .collect::<rusqlite::Result<_>>()?
    };
    if let Some((found, _)) = applied.last()
        && *found > latest_version()
    {
        return Err(StoreError::SchemaTooNew {
            found: *found,
            supported: latest_version(),
        });
    }
    for migration in MIGRATIONS {
        match applied.iter().find(|(v, _)| *v == migration.version) {
            Some((_, sum)) if *sum == checksum(migration.sql) => continue,
            Some(_) => {
                return Err(StoreError::MigrationTampered {
                    version: migration.version,
                    name: migration.name.to_owned(),
                });
            }
            None => {
                let tx = conn.transaction()?;
                tx.execute_batch(migration.sql)?;
                tx.execute(
                    "INSERT INTO schema_migration (version, name, sha256, applied_at)
                     VALUES (?1, ?2, ?3, ?4)",
                    (
                        migration.version,
                        migration.name,
                        checksum(migration.sql),
                        crate::now().to_rfc3339(),
                    ),
                )?;
                tx.commit()?;
            }
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    /// Migration 10 rebuilds `donation_release` without its reference to `staff`: the
    /// releases a schema-9 store holds stay, whole, and a release naming an account
    /// this device does not hold (pulled from another tablet) can then be written.
    #[test]
    #[allow(clippy::unwrap_used)]
    fn migration_10_keeps_every_release_and_drops_the_staff_reference() {
        let mut conn = rusqlite::Connection::open_in_memory().unwrap();
        conn.pragma_update(None, "foreign_keys", "ON").unwrap();
        for m in super::MIGRATIONS.iter().filter(|m| m.version < 10) {
            conn.execute_batch(m.sql).unwrap();
        }
        conn.execute_batch(
            "INSERT INTO staff (id, display_name, active, body) VALUES ('s', 'n', 1, '{}');
             INSERT INTO donor (id, doc_kind, doc_number, name, birth_date, field_clocks, body)
                 VALUES ('p', 'passport', 'P1', 'n', '1990-01-01', '{}', '{}');
             INSERT INTO donation (id, donor_id, din, procedure, started_at, origin_device, body)
                 VALUES ('d', 'p', 'A999926000001', 'whole_blood', 't', 'o', '{}');
             INSERT INTO donation_release (din, donation_id, released_by, released_at, pieces, id, body)
                 VALUES ('A999926000001', 'd', 's', 't', '[]', 'r', '{\"id\":\"r\"}');",
        )
        .unwrap();
        let tx = conn.transaction().unwrap();
        tx.execute_batch(super::MIGRATIONS[9].sql).unwrap();
        tx.commit().unwrap();
        let row: (String, String, String, String) = conn
            .query_row(
                "SELECT din, donation_id, released_by, body FROM donation_release WHERE id = 'r'",
                [],
                |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?)),
            )
            .unwrap();
        assert_eq!(
            row,
            (
                "A999926000001".to_owned(),
                "d".to_owned(),
                "s".to_owned(),
                r#"{"id":"r"}"#.to_owned()
            )
        );
        conn.execute(
            "UPDATE donation_release SET released_by = 'an account made on another tablet'",
            [],
        )
        .unwrap();
        let faults: i64 = conn
            .query_row("SELECT COUNT(*) FROM pragma_foreign_key_check", [], |r| {
                r.get(0)
            })
            .unwrap();
        assert_eq!(faults, 0);
        // The id stays unique.
        assert!(
            conn.execute(
                "INSERT INTO donation_release (din, donation_id, released_by, released_at, pieces, id)
                 VALUES ('A999926000002', 'd', 's', 't', '[]', 'r')",
                [],
            )
            .is_err()
        );
    }

    /// Devices tell the station their schema with the protocol's constant; a migration
    /// added here without raising it would make them claim the wrong schema.
    #[test]
    fn the_protocol_speaks_the_schema_this_store_writes() {
        assert_eq!(
            super::latest_version(),
            lifebridge_protocol::wire::SCHEMA_VERSION
        );
        assert_eq!(
            super::MIGRATIONS.len(),
            lifebridge_protocol::wire::SCHEMA_VERSION as usize
        );
    }
}
