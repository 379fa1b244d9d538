//! Station staff accounts (table `station_staff`). The station is the staff directory:
//! an account with a device role is also a `staff` feed record carrying its PIN hash,
//! so one person has one name and one PIN on every tablet and at the desk.

use chrono::{DateTime, Utc};
use lifebridge_domain::entities::{Role, Staff};
use lifebridge_domain::messages::Message;
use lifebridge_domain::pin;
use lifebridge_protocol::records::RemoteKind;
use lifebridge_protocol::records::StaffAccount;
use serde::{Deserialize, Serialize};
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
    /// `driver` or `registration,phlebotomist`): see [`StaffRole`].
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

pub(crate) const STAFF_COLUMNS: &str = "staff_id, name, role, pin_hash, created_at, active";

pub(crate) fn to_staff(mut r: Row) -> Result<StaffRow> {
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

/// What a station staff member may do. `Receiving` works only at the desk; every other
/// role is a device role, and an account holding one is sent to every device
/// ([`StaffAccount`]), so a driver signs the dispatch on
/// the tablet and the hand-off at the desk with one name and one PIN.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum StaffRole {
    /// Receives at the desk and signs as the receiver.
    Receiving,
    /// A role on the tablets; `Driver` also hands over and signs at the desk.
    Device(Role),
}

impl StaffRole {
    pub fn as_str(self) -> &'static str {
        match self {
            StaffRole::Receiving => "receiving",
            StaffRole::Device(role) => role.as_str(),
        }
    }

    pub fn parse(text: &str) -> Result<StaffRole, Message> {
        match text.trim() {
            "receiving" => Ok(StaffRole::Receiving),
            other => Role::parse(other)
                .map(StaffRole::Device)
                .ok_or_else(|| Message::new("staff_account.unknown_role").with("role", other)),
        }
    }

    /// Roles as written on the command line and stored (`station_staff.role`): one or
    /// more, separated by commas; stored sorted, each once.
    pub fn parse_list(text: &str) -> Result<Vec<StaffRole>, Message> {
        let mut roles = text
            .split(',')
            .filter(|part| !part.trim().is_empty())
            .map(StaffRole::parse)
            .collect::<Result<Vec<_>, _>>()?;
        roles.sort();
        roles.dedup();
        if roles.is_empty() {
            return Err(Message::new("staff_account.no_role"));
        }
        if roles.contains(&StaffRole::Receiving) && roles.len() > 1 {
            // The receiver and the driver sign as two different people; one account
            // holding both could sign a hand-off alone.
            return Err(Message::new("staff_account.receiving_alone"));
        }
        Ok(roles)
    }

    fn join(roles: &[StaffRole]) -> String {
        roles
            .iter()
            .map(|r| r.as_str())
            .collect::<Vec<_>>()
            .join(",")
    }
}

impl StaffRow {
    /// The roles stored for this account; an unreadable one grants nothing.
    pub fn roles(&self) -> Vec<StaffRole> {
        self.role
            .split(',')
            .filter_map(|r| StaffRole::parse(r).ok())
            .collect()
    }

    pub fn has_role(&self, role: StaffRole) -> bool {
        self.roles().contains(&role)
    }

    /// The account as devices receive it, when it holds any device role.
    pub fn device_account(&self) -> Option<StaffAccount> {
        let roles: Vec<Role> = self
            .roles()
            .into_iter()
            .filter_map(|r| match r {
                StaffRole::Device(role) => Some(role),
                StaffRole::Receiving => None,
            })
            .collect();
        (!roles.is_empty()).then(|| StaffAccount {
            staff: Staff {
                id: self.staff_id,
                display_name: self.name.clone(),
                roles,
                active: self.active,
            },
            pin_hash: self.pin_hash.clone(),
        })
    }
}

/// Checks a new staff member and hashes the PIN (argon2id, as on the device). `roles`
/// is one role or several separated by commas. A refusal is a catalogue message
/// (`staff_account.*`) the administration command renders in the operator's language.
pub fn new_staff(
    name: &str,
    roles: &str,
    pin: &str,
    now: DateTime<Utc>,
) -> Result<StaffRow, Message> {
    let name = name.trim();
    if name.is_empty() || name.chars().count() > 32 {
        return Err(Message::new("staff_account.name_length"));
    }
    let roles = StaffRole::parse_list(roles)?;
    let pin_hash = hashed_pin(pin, &roles)?;
    Ok(StaffRow {
        staff_id: Uuid::now_v7(),
        name: name.to_owned(),
        role: StaffRole::join(&roles),
        pin_hash,
        created_at: now.to_rfc3339(),
        active: true,
    })
}

/// The account with a new PIN (checked and hashed as for a new account).
pub fn with_new_pin(staff: &StaffRow, pin: &str) -> Result<StaffRow, Message> {
    Ok(StaffRow {
        pin_hash: hashed_pin(pin, &staff.roles())?,
        ..staff.clone()
    })
}

/// The account with new roles. A desk account stays a desk account and a tablet
/// account a tablet account: the devices hold the one and not the other, so moving
/// between them is a new account (and `deactivate` for the old one).
pub fn with_roles(staff: &StaffRow, roles: &str) -> Result<StaffRow, Message> {
    let roles = StaffRole::parse_list(roles)?;
    let was_desk = staff.has_role(StaffRole::Receiving);
    let is_desk = roles.contains(&StaffRole::Receiving);
    if was_desk != is_desk {
        return Err(
            Message::new("staff_account.desk_tablet_move").with("name", staff.name.as_str())
        );
    }
    Ok(StaffRow {
        role: StaffRole::join(&roles),
        ..staff.clone()
    })
}

/// Whether an account with these roles signs (`pin::MIN_SIGNING_DIGITS`): the desk's
/// receiving staff sign hand-offs; of the device roles, those `Role::signs` names.
fn signs(roles: &[StaffRole]) -> bool {
    roles.iter().any(|r| match r {
        StaffRole::Receiving => true,
        StaffRole::Device(role) => role.signs(),
    })
}

fn hashed_pin(pin: &str, roles: &[StaffRole]) -> Result<String, Message> {
    let pin = pin.trim();
    if let Some(refusal) = pin::refusal(pin, signs(roles), StaffRole::join(roles)) {
        return Err(refusal);
    }
    // The domain reads no random source: the salt is drawn here, fresh for every hash.
    let salt: [u8; pin::SALT_LEN] = rand::random();
    pin::hash_pin(pin, &salt)
        .map_err(|e| Message::new("staff_account.pin_not_hashed").with("detail", e.to_string()))
}
