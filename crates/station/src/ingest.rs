//! A device's push: one batch applied in one transaction (see
//! [`lifebridge_protocol::ingest`] for the rule), written once for both backends.
//!
//! The steps: the device's held seq (its row locked), the digests of entries it sends
//! again, the plan, the entry rows, the feed (donors merged per field), the donors' new
//! state, the manifests projected for the desk, the device's new held seq. Every step
//! is a handful of statements for the whole batch, never one round trip per entry.

use std::collections::{BTreeMap, BTreeSet};

use chrono::{DateTime, Utc};
use lifebridge_domain::entities::EntityKind;
use lifebridge_protocol::ingest::{digest_of, plan};
use lifebridge_protocol::records::LocalChange;
use lifebridge_protocol::wire::AuditHead;
use uuid::Uuid;

use crate::feed::{DonorState, derive_feed};
use crate::params;
use crate::storage::sql::{Row, Tx, Value, list};
use crate::storage::{Result, StorageError, parse_hlc, parse_uuid};
use crate::{feed, manifests};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PushOutcome {
    pub held_seq: u64,
    pub stored: u32,
}

/// Applies one batch (see [`lifebridge_protocol::ingest`]).
pub async fn push(
    tx: &mut dyn Tx,
    device_id: Uuid,
    entries: &[LocalChange],
    audit_head: Option<&AuditHead>,
    now: DateTime<Utc>,
    policy: crate::validate::Policy,
) -> Result<PushOutcome> {
    // Locks this device's row: two copies of one request (a retrying proxy) apply one
    // after the other, and the second finds everything held.
    let Some(row) = tx
        .query_opt(
            "SELECT held_seq FROM device WHERE device_id = ?1 AND revoked_at IS NULL FOR UPDATE",
            params![device_id],
        )
        .await?
    else {
        return Err(StorageError::Invalid(format!(
            "device {device_id} is not enrolled"
        )));
    };
    let held = row.count(0)?;
    let mut digests = BTreeMap::new();
    if let Some(first) = entries.first()
        && first.seq <= held
    {
        // Only a re-sent batch reads them back: the digest is computed from the stored
        // entry, never stored (every push would pay for a value only a retry reads).
        let rows = tx
            .query(
                &format!("{HELD_ENTRIES} AND seq >= ?2 AND seq <= ?3"),
                params![device_id, first.seq as i64, held as i64],
            )
            .await?;
        for r in rows {
            let (seq, digest) = held_digest(&r)?;
            digests.insert(seq, digest);
        }
    }
    let plan = plan(held, entries, &digests)?;
    // Checked with every batch, a re-sent one too: a restored tablet re-sends old ones.
    crate::audit_head::check_and_keep(tx, device_id, audit_head, entries).await?;
    let new = &entries[plan.new_from..];
    if new.is_empty() {
        return Ok(PushOutcome {
            held_seq: held,
            stored: 0,
        });
    }
    // Every check of what the device sends, before anything is written.
    let records = crate::validate::batch(tx, device_id, new, now, policy).await?;
    store_entries(tx, device_id, new, now).await?;
    let mut donors = load_donors(tx, new).await?;
    // On a bus, the tablets share the drive, the queue and the decisions (issue 10).
    let hub = crate::hub::store::is_hub(tx).await?;
    let mut changed = BTreeSet::new();
    let mut items = Vec::new();
    for entry in new {
        let held = donors
            .get(&entry.entity_id)
            .filter(|_| entry.entity == EntityKind::Donor);
        let (item, state) = derive_feed(device_id, entry, held, now);
        if let Some(state) = state {
            donors.insert(entry.entity_id, state);
            changed.insert(entry.entity_id);
        }
        items.extend(item);
        if hub {
            items.extend(feed::bus_item(device_id, entry));
        }
    }
    save_donors(tx, &donors, &changed).await?;
    let donations = records.iter().filter_map(|r| match &r.detail {
        crate::validate::Detail::Donation(d) => Some(d.as_ref()),
        _ => None,
    });
    crate::leases::record_used(tx, device_id, donations).await?;
    let mut tally = crate::statistics::tally::Changes::default();
    for entry in new.iter().filter(|e| e.entity != EntityKind::Donor) {
        tally.add(entry.entity, entry.entity_id, &entry.body);
    }
    for id in &changed {
        if let Some(state) = donors.get(id) {
            tally.add(EntityKind::Donor, *id, &state.body);
        }
    }
    crate::statistics::tally::record(tx, &tally).await?;
    for entry in new {
        if let Some(manifest) = manifests::pushed(entry) {
            manifests::arrive(tx, &manifest, &entry.body, false, now).await?;
        }
    }
    feed::append(tx, &items).await?;
    tx.execute(
        "UPDATE device SET held_seq = ?2 WHERE device_id = ?1",
        params![device_id, plan.held_after as i64],
    )
    .await?;
    Ok(PushOutcome {
        held_seq: plan.held_after,
        stored: new.len() as u32,
    })
}

/// A device's held entries, as [`held_digest`] reads them (`?1` the device).
pub(crate) const HELD_ENTRIES: &str =
    "SELECT seq, entity, entity_id, hlc, body FROM change_entry WHERE device_id = ?1";

/// The seq and [`lifebridge_protocol::ingest::entry_digest`] of a held entry: the
/// columns hold exactly the text the device's entry was written as.
pub(crate) fn held_digest(r: &Row) -> Result<(u64, String)> {
    Ok((
        r.count(0)?,
        digest_of(r.str(1)?, r.str(2)?, r.str(3)?, r.str(4)?),
    ))
}

async fn store_entries(
    tx: &mut dyn Tx,
    device_id: Uuid,
    new: &[LocalChange],
    now: DateTime<Utc>,
) -> Result<()> {
    let device = Value::from(device_id);
    // Milliseconds and `Z`: the same instant as anywhere else a time is stored (RFC 3339,
    // UTC), in 24 bytes instead of 35 on every row of every push.
    let received = Value::Text(now.to_rfc3339_opts(chrono::SecondsFormat::Millis, true));
    let mut values = Vec::with_capacity(new.len() * 8);
    for entry in new {
        values.extend([
            device.clone(),
            Value::Int(entry.seq as i64),
            entry.hlc.to_string().into(),
            entry.entity.as_str().into(),
            entry.entity_id.into(),
            Value::Text(entry.body.clone()),
            entry
                .field_clocks
                .as_ref()
                .map(serde_json::to_string)
                .transpose()?
                .into(),
            received.clone(),
        ]);
    }
    tx.insert_rows(
        "INSERT INTO change_entry (device_id, seq, hlc, entity, entity_id, body, field_clocks, received_at)",
        8,
        values,
        "",
    )
    .await
}

/// Every donor the batch touches, locked and loaded in a few statements.
pub(crate) async fn load_donors(
    tx: &mut dyn Tx,
    new: &[LocalChange],
) -> Result<BTreeMap<Uuid, DonorState>> {
    let ids: Vec<Value> = new
        .iter()
        .filter(|e| e.entity == EntityKind::Donor)
        .map(|e| e.entity_id.to_string())
        .collect::<BTreeSet<_>>()
        .into_iter()
        .map(Value::Text)
        .collect();
    let mut donors = BTreeMap::new();
    for chunk in ids.chunks(crate::storage::sql::ROWS_PER_STATEMENT) {
        let rows = tx
            .query_once(
                &format!(
                    "SELECT donor_id, body, field_clocks, hlc FROM donor_state
                     WHERE donor_id IN ({}) ORDER BY donor_id FOR UPDATE",
                    list(1, chunk.len())
                ),
                chunk,
            )
            .await?;
        for mut r in rows {
            donors.insert(
                parse_uuid(r.str(0)?)?,
                DonorState {
                    field_clocks: serde_json::from_str(r.str(2)?)?,
                    hlc: parse_hlc(r.str(3)?)?,
                    body: r.text(1)?,
                },
            );
        }
    }
    Ok(donors)
}

pub(crate) async fn save_donors(
    tx: &mut dyn Tx,
    donors: &BTreeMap<Uuid, DonorState>,
    changed: &BTreeSet<Uuid>,
) -> Result<()> {
    if changed.is_empty() {
        return Ok(());
    }
    let mut values = Vec::with_capacity(changed.len() * 4);
    for (id, state) in donors.iter().filter(|(id, _)| changed.contains(id)) {
        values.extend([
            Value::from(*id),
            Value::Text(state.body.clone()),
            serde_json::to_string(&state.field_clocks)?.into(),
            state.hlc.to_string().into(),
        ]);
    }
    tx.insert_rows(
        "INSERT INTO donor_state (donor_id, body, field_clocks, hlc)",
        4,
        values,
        "ON CONFLICT (donor_id) DO UPDATE SET body = excluded.body,
             field_clocks = excluded.field_clocks, hlc = excluded.hlc",
    )
    .await
}
