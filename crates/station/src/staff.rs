//! Station staff accounts (table `station_staff`). The station is the staff directory:
//! an account with a device role is also a `staff` feed record carrying its PIN hash,
//! so one person has one name and one PIN on every tablet and at the desk.

use chrono::{DateTime, Utc};
use lifebridge_protocol::records::RemoteKind;
use uuid::Uuid;

use crate::feed::{self, FeedItem};
use crate::params;
use crate::storage::sql::{Row, Tx};
use crate::storage::{Result, parse_time, parse_uuid};

/// A member of station staff who signs at the desk (table `station_staff`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StaffRow {
    pub staff_id: Uuid,
    pub name: String,
    /// One or more roles separated by commas (`receiving`, or device roles such as
    /// `driver` or `registration,phlebotomist`): see `receiving::StaffRole`.
    pub role: String,
    pub pin_hash: String,
    pub created_at: String,
    /// `false` once closed (`lifebridge-station staff deactivate`): signs nothing.
    pub active: bool,
}

/// The feed item that sends a staff account to every device, when it holds a device
/// role (`receiving` accounts stay at the station).
pub fn staff_item(
    station_id: Uuid,
    staff: &StaffRow,
    now: DateTime<Utc>,
) -> Result<Option<FeedItem>> {
    let Some(account) = staff.device_account() else {
        return Ok(None);
    };
    Ok(Some(feed::station_item(
        station_id,
        RemoteKind::Staff,
        staff.staff_id,
        None,
        serde_json::to_string(&account)?,
        now,
    )))
}

const STAFF_COLUMNS: &str = "staff_id, name, role, pin_hash, created_at, active";

fn to_staff(mut r: Row) -> Result<StaffRow> {
    Ok(StaffRow {
        staff_id: parse_uuid(r.str(0)?)?,
        active: r.int(5)? != 0,
        name: r.text(1)?,
        role: r.text(2)?,
        pin_hash: r.text(3)?,
        created_at: r.text(4)?,
    })
}

/// Sends the account to the devices when it holds a device role.
async fn send(tx: &mut dyn Tx, staff: &StaffRow, now: DateTime<Utc>) -> Result<()> {
    let station = feed::station_id(tx).await?;
    if let Some(item) = staff_item(station, staff, now)? {
        feed::append(tx, &[item]).await?;
    }
    Ok(())
}

/// `false` when a staff member of that name exists (nothing is written).
pub async fn add(tx: &mut dyn Tx, staff: &StaffRow) -> Result<bool> {
    let n = tx
        .execute(
            "INSERT INTO station_staff (staff_id, name, role, pin_hash, created_at, active)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6) ON CONFLICT (name) DO NOTHING",
            params![
                staff.staff_id,
                &staff.name,
                &staff.role,
                &staff.pin_hash,
                &staff.created_at,
                staff.active,
            ],
        )
        .await?;
    if n > 0 {
        send(tx, staff, parse_time(&staff.created_at)?).await?;
    }
    Ok(n > 0)
}

pub async fn by_name(tx: &mut dyn Tx, name: &str) -> Result<Option<StaffRow>> {
    tx.query_opt(
        &format!("SELECT {STAFF_COLUMNS} FROM station_staff WHERE name = ?1"),
        params![name],
    )
    .await?
    .map(to_staff)
    .transpose()
}

/// Every account, open and closed, by name.
pub async fn list(tx: &mut dyn Tx) -> Result<Vec<StaffRow>> {
    tx.query(
        &format!("SELECT {STAFF_COLUMNS} FROM station_staff ORDER BY name"),
        &[],
    )
    .await?
    .into_iter()
    .map(to_staff)
    .collect()
}

/// Stores the account's roles, PIN hash and open/closed state (by `staff_id`; the name
/// stays) and sends it to the devices again; `false` when there is no such account.
pub async fn update(tx: &mut dyn Tx, staff: &StaffRow, now: DateTime<Utc>) -> Result<bool> {
    let n = tx
        .execute(
            "UPDATE station_staff SET pin_hash = ?2, active = ?3, role = ?4 WHERE staff_id = ?1",
            params![staff.staff_id, &staff.pin_hash, staff.active, &staff.role],
        )
        .await?;
    if n > 0 {
        send(tx, staff, now).await?;
    }
    Ok(n > 0)
}
