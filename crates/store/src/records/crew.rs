//! Staff accounts added on this device, and starting a drive.

use chrono::NaiveDate;
use lifebridge_domain::entities::{Drive, EntityKind, RecordId, Role, SiteKind, Staff};
use lifebridge_domain::pin;
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::tables;
use crate::{Actor, Result, Store, StoreError};

use super::*;

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct NewStaff {
    pub display_name: String,
    pub roles: Vec<Role>,
    pub pin: String,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct NewDrive {
    pub site_name: String,
    pub site_kind: SiteKind,
    pub vehicle: Option<String>,
    pub date: NaiveDate,
    pub crew: Vec<RecordId>,
}

impl Store {
    /// Adds an account on this device (a colleague joining a weekend shift with no
    /// network). Staff need the supervisor role for it; the system actor (provisioning,
    /// the demo) does not. Accounts the station issues arrive by replication instead.
    pub fn add_staff(&mut self, actor: Actor, new: NewStaff) -> Result<Staff> {
        if let Some(staff_id) = actor.staff_id {
            require_role(&self.conn, staff_id, Role::Supervisor, "add staff accounts")?;
        }
        let display_name = require_text("display_name", &new.display_name, 64)?;
        if self.staff_by_name(&display_name)?.is_some_and(|s| s.active) {
            return Err(StoreError::invalid(
                "display_name",
                format!(
                    "{display_name} already has an account here; names are how staff pick themselves at sign-in, so each must be unique"
                ),
            ));
        }
        if new.roles.is_empty() {
            return Err(StoreError::invalid(
                "roles",
                "a staff member needs at least one role",
            ));
        }
        // The station's PIN policy, here too: an account whose role signs (a dispatch,
        // a medical decision, a new account) needs the longer PIN, whoever issues it.
        let signs = new.roles.iter().any(|role| role.signs());
        let role_names: Vec<&str> = new.roles.iter().map(|role| role.as_str()).collect();
        if let Some(message) = pin::refusal(&new.pin, signs, role_names.join(",")) {
            return Err(StoreError::Refused {
                field: "pin".to_owned(),
                message,
            });
        }
        let pin_hash = crate::session::new_pin_hash(&new.pin)
            .map_err(|e| StoreError::invalid("pin", format!("could not be hashed: {e}")))?;
        let mut roles = new.roles;
        roles.sort();
        roles.dedup();
        let staff = Staff {
            id: Uuid::now_v7(),
            display_name,
            roles,
            active: true,
        };
        self.act(actor, "staff.add", serde_json::json!({}), |ctx| {
            let body = ctx.log_change(EntityKind::Staff, staff.id, &staff)?;
            tables::staff::upsert(ctx.tx, &staff, &body)?;
            tables::staff::set_pin_hash(ctx.tx, &staff.id.to_string(), &pin_hash)?;
            Ok(staff.clone())
        })
    }

    pub fn start_drive(&mut self, actor: Actor, new: NewDrive) -> Result<Drive> {
        let staff_id = actor_staff(actor, "starting a drive")?;
        let site_name = require_text("site_name", &new.site_name, 100)?;
        let vehicle = optional_text("vehicle", new.vehicle.as_deref(), 32)?;
        if new.site_kind == SiteKind::Vehicle && vehicle.is_none() {
            return Err(StoreError::invalid(
                "vehicle",
                "a drive on a vehicle must name the vehicle",
            ));
        }
        // On a bus the crew lead opens the day's drive once and every tablet joins it:
        // a second drive beside one another tablet opened would split the queue.
        if let Some(open) = self.drives_on(new.date)?.into_iter().find(|d| {
            d.ended_at.is_none()
                && crate::queries::written_elsewhere(&self.conn, "drive", d.id)
                    .is_ok_and(|w| w.is_some())
        }) {
            return Err(StoreError::Refused {
                field: "date".to_owned(),
                message: lifebridge_domain::messages::Message::new("sync.drive_open_elsewhere")
                    .with("site", open.site_name),
            });
        }
        let mut crew = new.crew;
        if !crew.contains(&staff_id) {
            crew.push(staff_id);
        }
        // Every role may start a drive, but only on an open account, and a closed
        // account is not put on a new crew.
        for member in &crew {
            require_active(&self.conn, *member)?;
        }
        let drive = Drive {
            id: Uuid::now_v7(),
            site_name,
            site_kind: new.site_kind,
            vehicle,
            date: new.date,
            crew,
            started_at: crate::now(),
            ended_at: None,
        };
        self.act(actor, "drive.start", serde_json::json!({}), |ctx| {
            let body = ctx.log_change(EntityKind::Drive, drive.id, &drive)?;
            tables::drive::insert(ctx.tx, &drive, &body)?;
            Ok(drive.clone())
        })
    }
}
