//! One user action = one transaction = domain rows + change-log entries + one audit
//! entry. Nothing else in the crate opens a write transaction.

use chrono::{DateTime, Utc};
use lifebridge_domain::entities::{EntityKind, RecordId};
use lifebridge_domain::hlc::HlcClock;
use rusqlite::{Transaction, TransactionBehavior};
use serde::Serialize;
use uuid::Uuid;

use crate::{Result, Store, StoreError, audit};

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

pub(crate) struct ActionCtx<'t> {
    pub(crate) tx: &'t Transaction<'t>,
    pub(crate) device_id: Uuid,
    pub(crate) now: DateTime<Utc>,
    clock: &'t mut HlcClock,
    audit_seq: i64,
    next_change_seq: i64,
    touched: Vec<serde_json::Value>,
}

impl ActionCtx<'_> {
    /// Appends the full row to the change log and returns its JSON for the domain
    /// table's `body` column, so both always hold the same bytes.
    pub(crate) fn log_change<T: Serialize>(
        &mut self,
        entity: EntityKind,
        id: RecordId,
        row: &T,
    ) -> Result<String> {
        let body = serde_json::to_string(row)?;
        let now_ms = u64::try_from(self.now.timestamp_millis()).unwrap_or(0);
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
            clock: &mut clock,
            audit_seq,
            next_change_seq,
            touched: Vec::new(),
        };
        let value = body(&mut ctx)?;
        let touched = std::mem::take(&mut ctx.touched);
        drop(ctx);
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
        self.clock = clock;
        Ok(value)
    }
}
