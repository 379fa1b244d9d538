//! The checks every action shares: text fields, and who may act.

use lifebridge_domain::entities::{RecordId, Role, Staff};

use crate::{Actor, Result, StoreError, queries};

pub(crate) fn require_text(field: &str, value: &str, max_chars: usize) -> Result<String> {
    let trimmed = value.trim();
    if trimmed.is_empty() {
        return Err(StoreError::invalid(field, "must not be empty"));
    }
    if trimmed.chars().count() > max_chars {
        return Err(StoreError::invalid(
            field,
            format!("must be at most {max_chars} characters"),
        ));
    }
    Ok(trimmed.to_owned())
}

pub(super) fn optional_text(
    field: &str,
    value: Option<&str>,
    max_chars: usize,
) -> Result<Option<String>> {
    match value.map(str::trim) {
        None | Some("") => Ok(None),
        Some(v) => require_text(field, v, max_chars).map(Some),
    }
}

pub(crate) fn load_staff(tx: &rusqlite::Connection, id: RecordId) -> Result<Staff> {
    queries::get_body(tx, "staff", id)?.ok_or(StoreError::Missing {
        entity: "staff member",
        id: id.to_string(),
    })
}

/// Refuses the action unless `staff_id` names an open account. Checked at every
/// action, not only at sign-in: a closed account stops working at its next action,
/// even on a tablet where it is still signed in.
pub(crate) fn require_active(tx: &rusqlite::Connection, staff_id: RecordId) -> Result<Staff> {
    let staff = load_staff(tx, staff_id)?;
    if !staff.active {
        return Err(StoreError::AccountClosed {
            staff: staff.display_name,
        });
    }
    Ok(staff)
}

/// Refuses the action unless `staff_id` names an active staff member with `role`.
pub(crate) fn require_role(
    tx: &rusqlite::Connection,
    staff_id: RecordId,
    role: Role,
    action: &'static str,
) -> Result<Staff> {
    let staff = require_active(tx, staff_id)?;
    if !staff.has_role(role) {
        return Err(StoreError::NotPermitted {
            staff: staff.display_name,
            action,
            role: role.as_str(),
        });
    }
    Ok(staff)
}

pub(crate) fn actor_staff(actor: Actor, action: &'static str) -> Result<RecordId> {
    actor.staff_id.ok_or_else(|| {
        StoreError::invalid(
            "actor",
            format!("{action} must be done by a signed-in staff member"),
        )
    })
}
