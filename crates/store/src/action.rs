//! One user action = one transaction = domain rows + change-log entries + one audit
//! entry; one page of pulled records = one transaction = domain rows + the pull cursor +
//! one audit entry, and no change-log entry. Nothing else in the crate opens a write
//! transaction, and outside one the connection refuses writes (`PRAGMA query_only`).

use chrono::{DateTime, Utc};
use lifebridge_domain::entities::{EntityKind, RecordId};
use lifebridge_domain::hlc::{Hlc, HlcClock};
use rusqlite::{Transaction, TransactionBehavior};
use serde::Serialize;
use uuid::Uuid;

use crate::{Result, Store, StoreError, audit};
use lifebridge_protocol::records::RemoteKind;

/// Who is acting. Staff actions carry the staff id into the audit trail; the system
/// (device set-up, demo seeding, replication) acts with none.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Actor {
    pub staff_id: Option<RecordId>,
}

impl Actor {
    pub fn system() -> Actor {
        Actor { staff_id: None }
    }

    pub fn staff(id: RecordId) -> Actor {
        Actor { staff_id: Some(id) }
    }
}

/// Where the rows a transaction writes come from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Origin {
    /// A user action on this device: every row gets its change-log entry, which is
    /// what replication pushes.
    Local,
    /// A page of records pulled from the station, applied up to `cursor`: they are not
    /// this device's changes, so none enters the change log (it would be pushed back as
    /// this device's own); their clocks are observed, and the pull cursor moves in the
    /// same transaction.
    Pulled { cursor: u64 },
}

pub(crate) struct ActionCtx<'t> {
    pub(crate) tx: &'t Transaction<'t>,
    pub(crate) device_id: Uuid,
    pub(crate) now: DateTime<Utc>,
    origin: Origin,
    clock: &'t mut HlcClock,
    audit_seq: i64,
    next_change_seq: i64,
    touched: Vec<serde_json::Value>,
    detail: serde_json::Value,
}

impl ActionCtx<'_> {
    fn now_ms(&self) -> u64 {
        u64::try_from(self.now.timestamp_millis()).unwrap_or(0)
    }

    /// Appends the full row to the change log and returns its JSON for the domain
    /// table's `body` column, so both always hold the same bytes.
    pub(crate) fn log_change<T: Serialize>(
        &mut self,
        entity: EntityKind,
        id: RecordId,
        row: &T,
    ) -> Result<String> {
        if self.origin != Origin::Local {
            return Err(StoreError::Corrupt(format!(
                "a pulled {} record was about to enter this device's change log",
                entity.as_str()
            )));
        }
        let body = serde_json::to_string(row)?;
        let now_ms = self.now_ms();
        let hlc = self
            .clock
            .tick(now_ms)
            .map_err(|e| StoreError::Corrupt(e.to_string()))?;
        self.tx.execute(
            "INSERT INTO change_log (seq, device_id, hlc, entity, entity_id, body, audit_seq)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
            (
                self.next_change_seq,
                self.device_id.to_string(),
                hlc.to_string(),
                entity.as_str(),
                id.to_string(),
                &body,
                self.audit_seq,
            ),
        )?;
        self.next_change_seq += 1;
        self.touched
            .push(serde_json::json!({"entity": entity.as_str(), "id": id.to_string()}));
        Ok(body)
    }

    /// Names a pulled record in the audit entry and lets this device's clock observe its
    /// stamp, so whatever this device does next orders after what it has seen. A stamp
    /// from a clock set days ahead would drag this device's clock with it for good, and
    /// a counter at its limit must not stop the sync: such stamps are applied without
    /// being observed.
    pub(crate) fn pulled(&mut self, kind: RemoteKind, id: RecordId, hlc: Hlc) {
        self.touched
            .push(serde_json::json!({"kind": kind, "id": id}));
        let now_ms = self.now_ms();
        if hlc.wall_ms <= now_ms.saturating_add(crate::replication::MAX_OBSERVED_LEAD_MS) {
            let _ = self.clock.observe(hlc, now_ms);
        }
    }

    /// Replaces the audit entry's detail with what only the action's outcome tells.
    pub(crate) fn set_detail(&mut self, detail: serde_json::Value) {
        self.detail = detail;
    }
}

impl Store {
    /// Runs `body` as one user action. On `Ok`, the rows, change-log entries and audit
    /// entry are durably committed together; on `Err`, nothing is written.
    pub(crate) fn act<T>(
        &mut self,
        actor: Actor,
        action: &'static str,
        detail: serde_json::Value,
        body: impl FnOnce(&mut ActionCtx<'_>) -> Result<T>,
    ) -> Result<T> {
        self.act_with(Origin::Local, actor, action, detail, body)
    }

    /// [`Store::act`] for rows from `origin`: the one transaction, audit and clock path.
    pub(crate) fn act_with<T>(
        &mut self,
        origin: Origin,
        actor: Actor,
        action: &'static str,
        detail: serde_json::Value,
        body: impl FnOnce(&mut ActionCtx<'_>) -> Result<T>,
    ) -> Result<T> {
        // The connection refuses writes outside this transaction (see `connection()`).
        crate::allow_writes(&self.conn, true)?;
        let done = (|| -> Result<(T, HlcClock)> {
            let tx = self
                .conn
                .transaction_with_behavior(TransactionBehavior::Immediate)?;
            // The clock only advances in memory once the transaction has committed.
            let mut clock = self.clock;
            let (audit_seq, next_change_seq): (i64, i64) = tx.query_row(
                "SELECT (SELECT COALESCE(MAX(seq), 0) + 1 FROM audit_log),
                    (SELECT COALESCE(MAX(seq), 0) + 1 FROM change_log)",
                [],
                |r| Ok((r.get(0)?, r.get(1)?)),
            )?;
            let now = crate::now();
            let mut ctx = ActionCtx {
                tx: &tx,
                device_id: self.device_id,
                now,
                origin,
                clock: &mut clock,
                audit_seq,
                next_change_seq,
                touched: Vec::new(),
                detail,
            };
            let value = body(&mut ctx)?;
            let touched = std::mem::take(&mut ctx.touched);
            let detail = std::mem::take(&mut ctx.detail);
            drop(ctx);
            if let Origin::Pulled { cursor } = origin {
                crate::tables::sync_state::set(
                    &tx,
                    crate::replication::PULL_CURSOR_KEY,
                    &serde_json::json!(cursor),
                )?;
            }
            audit::append(
                &tx,
                audit::NewEntry {
                    seq: audit_seq,
                    at: now,
                    device_id: self.device_id,
                    staff_id: actor.staff_id,
                    action,
                    detail: serde_json::json!({"records": touched, "detail": detail}),
                },
            )?;
            tx.execute(
                "UPDATE device SET last_hlc = ?1 WHERE singleton = 1",
                [clock.last().to_string()],
            )?;
            tx.commit()?;
            Ok((value, clock))
        })();
        // Runs after a failed action too: its transaction has rolled back by now.
        let locked = crate::allow_writes(&self.conn, false);
        let (value, clock) = done?;
        locked?;
        self.clock = clock;
        Ok(value)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::StoreKey;

    #[test]
    fn a_pulled_page_never_writes_the_change_log_and_leaves_the_connection_read_only() {
        let dir = tempfile::tempdir().unwrap();
        let key = StoreKey::new("correct horse battery").unwrap();
        let mut store = Store::create(&dir.path().join("device.db"), &key, "BUS-07").unwrap();
        let before = store.last_change_seq().unwrap();
        let err = store
            .act_with(
                Origin::Pulled { cursor: 5 },
                Actor::system(),
                "replication.pull",
                serde_json::Value::Null,
                |ctx| ctx.log_change(EntityKind::Staff, Uuid::now_v7(), &serde_json::json!({})),
            )
            .unwrap_err();
        assert!(matches!(err, StoreError::Corrupt(_)), "{err}");
        // The whole page rolled back: no entry, no cursor.
        assert_eq!(store.last_change_seq().unwrap(), before);
        assert_eq!(store.pull_cursor().unwrap(), 0);
        assert!(
            store
                .connection()
                .execute("DELETE FROM sync_state", [])
                .is_err()
        );
        // A page that writes no change log commits, cursor and all.
        store
            .act_with(
                Origin::Pulled { cursor: 5 },
                Actor::system(),
                "replication.pull",
                serde_json::Value::Null,
                |_| Ok(()),
            )
            .unwrap();
        assert_eq!(store.pull_cursor().unwrap(), 5);
        assert_eq!(store.last_change_seq().unwrap(), before);
    }
}
