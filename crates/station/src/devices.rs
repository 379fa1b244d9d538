//! Enrolled devices: enrollment codes and bearer tokens (stored only as SHA-256
//! hashes), the device list and revocation; bus hubs and the tablets registered through
//! them ([`register_tablet`], [`crate::relay`]).

use chrono::{DateTime, Utc};
use lifebridge_domain::messages::Message;
use serde::Serialize;
use uuid::Uuid;

use crate::params;
use crate::storage::sql::{Row, Tx};
use crate::storage::{Result, StorageError, parse_uuid};

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct DeviceRecord {
    pub device_id: Uuid,
    pub name: String,
    pub enrolled_at: String,
    pub revoked_at: Option<String>,
    pub held_seq: u64,
    /// The highest feed cursor this station handed the device ([`crate::restore`]).
    pub pulled_seq: u64,
    pub kind: DeviceKind,
    /// The hub this tablet is relayed through now, if any.
    pub via_hub: Option<Uuid>,
}

/// What an enrolled device is (migration 0012).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum DeviceKind {
    /// A workstation with its own store (enrolled here, or registered through a hub).
    Tablet,
    /// A bus hub: relays for the tablets registered through it.
    Hub,
}

impl DeviceKind {
    pub fn as_str(self) -> &'static str {
        match self {
            DeviceKind::Tablet => "tablet",
            DeviceKind::Hub => "hub",
        }
    }

    fn parse(text: &str) -> Result<DeviceKind> {
        match text {
            "tablet" => Ok(DeviceKind::Tablet),
            "hub" => Ok(DeviceKind::Hub),
            other => Err(StorageError::Corrupt(format!(
                "unknown device kind {other:?}"
            ))),
        }
    }
}

const DEVICE_COLS: &str =
    "device_id, name, enrolled_at, revoked_at, held_seq, pulled_seq, kind, via_hub";

fn to_device(mut r: Row) -> Result<DeviceRecord> {
    Ok(DeviceRecord {
        device_id: parse_uuid(r.str(0)?)?,
        held_seq: r.count(4)?,
        pulled_seq: r.count(5)?,
        kind: DeviceKind::parse(r.str(6)?)?,
        via_hub: r.opt_str(7)?.map(parse_uuid).transpose()?,
        name: r.text(1)?,
        enrolled_at: r.text(2)?,
        revoked_at: r.opt_text(3)?,
    })
}

/// The `token_hash` of a tablet known only through a hub: it has no token of its own.
/// The column is NOT NULL UNIQUE; a token hash is 64 hex digits, so no credential ever
/// hashes to this value (and [`by_token`] never finds such a row).
fn relayed_token(device_id: Uuid) -> String {
    format!("relayed:{device_id}")
}

pub async fn create_enrollment(
    tx: &mut dyn Tx,
    kind: DeviceKind,
    name: &str,
    code_hash: &str,
    now: DateTime<Utc>,
    expires_at: DateTime<Utc>,
) -> Result<()> {
    tx.execute(
        "INSERT INTO enrollment (code_hash, name, created_at, expires_at, kind) VALUES (?1, ?2, ?3, ?4, ?5)",
        params![code_hash, name, now.to_rfc3339(), expires_at.to_rfc3339(), kind.as_str()],
    )
    .await?;
    Ok(())
}

/// What [`redeem_enrollment`] fails with when the device id is enrolled already: the
/// transaction rolls back, so the code stays unused.
pub const ALREADY_ENROLLED: &str = "already enrolled";

/// Uses up an enrollment code and enrolls the device; `None` when the code is unknown,
/// used or expired; [`ALREADY_ENROLLED`] when the device id is enrolled already. A
/// tablet known so far only through a hub (no token of its own) enrolls with a tablet
/// code and keeps its row: its held seq, and the hub it is relayed through.
pub async fn redeem_enrollment(
    tx: &mut dyn Tx,
    code_hash: &str,
    device_id: Uuid,
    token_hash: &str,
    now: DateTime<Utc>,
) -> Result<Option<DeviceRecord>> {
    let at = now.to_rfc3339();
    let Some(mut row) = tx
        .query_opt(
            "UPDATE enrollment SET used_at = ?2, device_id = ?3
             WHERE code_hash = ?1 AND used_at IS NULL AND expires_at > ?2
             RETURNING name, kind",
            params![code_hash, &at, device_id],
        )
        .await?
    else {
        return Ok(None);
    };
    let name = row.text(0)?;
    let kind = DeviceKind::parse(row.str(1)?)?;
    let inserted = tx
        .execute(
            "INSERT INTO device (device_id, name, token_hash, enrolled_at, kind) VALUES (?1, ?2, ?3, ?4, ?5)
             ON CONFLICT (device_id) DO NOTHING",
            params![device_id, &name, token_hash, &at, kind.as_str()],
        )
        .await?;
    if inserted == 1 {
        return Ok(Some(DeviceRecord {
            device_id,
            name,
            enrolled_at: at,
            revoked_at: None,
            held_seq: 0,
            pulled_seq: 0,
            kind,
            via_hub: None,
        }));
    }
    if kind == DeviceKind::Tablet {
        let taken = tx
            .query_opt(
                &format!(
                    "UPDATE device SET token_hash = ?2, name = ?3
                     WHERE device_id = ?1 AND token_hash = ?4 AND kind = 'tablet' AND revoked_at IS NULL
                     RETURNING {DEVICE_COLS}"
                ),
                params![device_id, token_hash, &name, relayed_token(device_id)],
            )
            .await?;
        if let Some(row) = taken {
            let device = to_device(row)?;
            tracing::info!(%device_id, name = %device.name, held_seq = device.held_seq, via_hub = ?device.via_hub,
                "a tablet known through a hub enrolled directly; it keeps what the station holds of it");
            return Ok(Some(device));
        }
    }
    Err(StorageError::Invalid(ALREADY_ENROLLED.into()))
}

/// The enrolled, unrevoked device with this credential.
pub async fn by_token(tx: &mut dyn Tx, token_hash: &str) -> Result<Option<DeviceRecord>> {
    tx.query_opt(
        &format!("SELECT {DEVICE_COLS} FROM device WHERE token_hash = ?1 AND revoked_at IS NULL"),
        params![token_hash],
    )
    .await?
    .map(to_device)
    .transpose()
}

/// The device with this credential, revoked or not.
pub async fn by_token_even_revoked(
    tx: &mut dyn Tx,
    token_hash: &str,
) -> Result<Option<DeviceRecord>> {
    tx.query_opt(
        &format!("SELECT {DEVICE_COLS} FROM device WHERE token_hash = ?1"),
        params![token_hash],
    )
    .await?
    .map(to_device)
    .transpose()
}

/// The device with this id, revoked or not.
pub async fn by_id(tx: &mut dyn Tx, device_id: Uuid) -> Result<Option<DeviceRecord>> {
    tx.query_opt(
        &format!("SELECT {DEVICE_COLS} FROM device WHERE device_id = ?1"),
        params![device_id],
    )
    .await?
    .map(to_device)
    .transpose()
}

/// Registers `tablet` as relayed by `hub` (`POST /v1/hub/tablets`); the tablet's row,
/// or why not (a `relay_refused.*` message; nothing is written then):
///
/// - unknown: a tablet row with no token of its own, relayed by `hub`;
/// - relayed by `hub` already: unchanged (idempotent);
/// - enrolled directly, or relayed by a revoked hub: now relayed by `hub` (logged);
/// - relayed by another hub that is not revoked: refused, naming it;
/// - revoked, or a hub itself: refused.
pub async fn register_tablet(
    tx: &mut dyn Tx,
    hub: Uuid,
    tablet: Uuid,
    name: &str,
    now: DateTime<Utc>,
) -> Result<std::result::Result<DeviceRecord, Message>> {
    // The hub's row is locked first and read again: a revocation committed since the
    // request was authenticated wins.
    let Some(hub_row) = tx
        .query_opt(
            &format!("SELECT {DEVICE_COLS} FROM device WHERE device_id = ?1 FOR UPDATE"),
            params![hub],
        )
        .await?
        .map(to_device)
        .transpose()?
    else {
        return Err(StorageError::Invalid(format!("hub {hub} is not enrolled")));
    };
    if let Some(refusal) = hub_refusal(&hub_row) {
        return Ok(Err(refusal));
    }
    let held = tx
        .query_opt(
            &format!("SELECT {DEVICE_COLS} FROM device WHERE device_id = ?1 FOR UPDATE"),
            params![tablet],
        )
        .await?
        .map(to_device)
        .transpose()?;
    let at = now.to_rfc3339();
    let device = match held {
        None => {
            tx.execute(
                "INSERT INTO device (device_id, name, token_hash, enrolled_at, kind, via_hub)
                 VALUES (?1, ?2, ?3, ?4, 'tablet', ?5)",
                params![tablet, name, relayed_token(tablet), &at, hub],
            )
            .await?;
            tracing::info!(%hub, %tablet, name, "tablet registered through a hub");
            DeviceRecord {
                device_id: tablet,
                name: name.to_owned(),
                enrolled_at: at.clone(),
                revoked_at: None,
                held_seq: 0,
                pulled_seq: 0,
                kind: DeviceKind::Tablet,
                via_hub: Some(hub),
            }
        }
        Some(t) if t.revoked_at.is_some() => {
            return Ok(Err(Message::new("relay_refused.tablet_revoked")
                .with("tablet", tablet.to_string())
                .with("name", t.name)));
        }
        Some(t) if t.kind == DeviceKind::Hub => {
            return Ok(Err(Message::new("relay_refused.tablet_is_hub")
                .with("tablet", tablet.to_string())
                .with("name", t.name)));
        }
        Some(t) if t.via_hub == Some(hub) => t,
        Some(mut t) => {
            if let Some(other) = t.via_hub {
                let other_row = by_id(tx, other).await?;
                if let Some(o) = other_row.filter(|o| o.revoked_at.is_none()) {
                    return Ok(Err(Message::new("relay_refused.other_hub")
                        .with("tablet", tablet.to_string())
                        .with("name", t.name)
                        .with("hub", o.name)
                        .with("hub_id", other.to_string())));
                }
                tracing::warn!(%hub, %tablet, previous_hub = %other,
                    "tablet moved from a revoked hub to this one");
            } else {
                tracing::info!(%hub, %tablet, name = %t.name,
                    "a tablet enrolled directly is now also relayed by a hub");
            }
            tx.execute(
                "UPDATE device SET via_hub = ?2 WHERE device_id = ?1",
                params![tablet, hub],
            )
            .await?;
            t.via_hub = Some(hub);
            t
        }
    };
    tx.execute(
        "INSERT INTO hub_tablet (hub_id, tablet_id, registered_at) VALUES (?1, ?2, ?3)
         ON CONFLICT (tablet_id, hub_id) DO NOTHING",
        params![hub, tablet, &at],
    )
    .await?;
    Ok(Ok(device))
}

/// Why `hub` may not relay or register (not a hub, or revoked), if it may not.
pub fn hub_refusal(hub: &DeviceRecord) -> Option<Message> {
    if hub.kind != DeviceKind::Hub {
        return Some(Message::new("relay_refused.not_a_hub").with("device", hub.name.clone()));
    }
    hub.revoked_at.as_ref().map(|at| {
        Message::new("relay_refused.hub_revoked")
            .with("hub", hub.name.clone())
            .with("at", at.clone())
    })
}

pub async fn all(tx: &mut dyn Tx) -> Result<Vec<DeviceRecord>> {
    tx.query(
        &format!("SELECT {DEVICE_COLS} FROM device ORDER BY enrolled_at"),
        &[],
    )
    .await?
    .into_iter()
    .map(to_device)
    .collect()
}

/// Revokes by device id or name; `None` when no such active device exists.
pub async fn revoke(
    tx: &mut dyn Tx,
    id_or_name: &str,
    now: DateTime<Utc>,
) -> Result<Option<DeviceRecord>> {
    tx.query_opt(
        &format!(
            "UPDATE device SET revoked_at = ?2
             WHERE (device_id = ?1 OR name = ?1) AND revoked_at IS NULL
             RETURNING {DEVICE_COLS}"
        ),
        params![id_or_name, now.to_rfc3339()],
    )
    .await?
    .map(to_device)
    .transpose()
}
