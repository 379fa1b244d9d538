//! Desk sign-ins: a PIN per station account, with the device's lock-out; sessions kept in
//! memory only.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use axum::extract::State;
use axum::extract::rejection::JsonRejection;
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use chrono::{DateTime, Duration, Utc};
use lifebridge_domain::cold_chain::Signatory;
use lifebridge_domain::messages::Message;
use serde::Deserialize;
use serde_json::json;

use crate::staff::{StaffRole, StaffRow, pin_matches};

use super::*;

/// How long a desk sign-in lasts: one shift.
pub const SESSION_HOURS: i64 = 12;
// Wrong PINs in a row before a name is locked, and for how long: the device's rule.
use lifebridge_domain::pin::{LOCKOUT_MINUTES, MAX_FAILED_ATTEMPTS};

#[derive(Debug, Clone)]
struct Session {
    staff: Signatory,
    expires: DateTime<Utc>,
}

/// Desk sign-ins and PIN failures. Kept in memory: a restarted station asks staff to
/// sign in again, which costs a PIN, and no session token ever reaches the disk.
#[derive(Default)]
pub struct DeskState {
    sessions: Mutex<HashMap<String, Session>>,
    failures: Mutex<HashMap<String, Failures>>,
}

/// Wrong PINs in a row for one name, and the end of its lock-out if any.
type Failures = (u32, Option<DateTime<Utc>>);

pub(super) fn session(desk: &Desk, headers: &HeaderMap) -> DeskResult<Signatory> {
    let token = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "))
        .map(str::trim)
        .unwrap_or_default();
    let now = Utc::now();
    let sessions = desk.desk.sessions.lock().map_err(|_| poisoned())?;
    match sessions.get(&crate::auth::token_hash(token)) {
        Some(s) if s.expires > now => Ok(s.staff.clone()),
        _ => Err(DeskError::new(
            StatusCode::UNAUTHORIZED,
            "unauthorized",
            Message::new("receiving.unauthorized"),
        )),
    }
}

/// Who is asked for a PIN, as the refusals name them (`receiving.who.*`).
#[derive(Debug, Clone, Copy)]
pub(super) enum Who {
    /// Signing in at the desk.
    ReceivingStaff,
    /// The signed-in receiver, signing.
    Receiver,
    Driver,
    SecondPerson,
}

impl Who {
    fn name(self) -> Message {
        Message::new(match self {
            Who::ReceivingStaff => "receiving.who.receiving_staff",
            Who::Receiver => "receiving.who.receiver",
            Who::Driver => "receiving.who.driver",
            Who::SecondPerson => "receiving.who.second_person",
        })
    }
}

/// Checks `name`'s PIN with lock-out; the staff member on success.
pub(super) async fn check_pin(
    desk: &Desk,
    name: &str,
    pin: &str,
    who: Who,
) -> DeskResult<StaffRow> {
    let now = Utc::now();
    let name = name.trim();
    {
        let failures = desk.desk.failures.lock().map_err(|_| poisoned())?;
        if let Some((_, Some(until))) = failures.get(name)
            && *until > now
        {
            return Err(DeskError::new(
                StatusCode::TOO_MANY_REQUESTS,
                "locked_out",
                Message::new("receiving.locked_out")
                    .with("who", who.name())
                    .with("name", name)
                    .with("until", until.format("%H:%M").to_string()),
            ));
        }
    }
    let staff = desk.app.storage.staff_by_name(name).await?;
    let ok = staff.as_ref().is_some_and(|s| pin_matches(s, pin));
    if ok && staff.as_ref().is_some_and(|s| !s.active) {
        return Err(DeskError::new(
            StatusCode::FORBIDDEN,
            "account_closed",
            Message::new("receiving.account_closed")
                .with("who", who.name())
                .with("name", name),
        ));
    }
    let mut failures = desk.desk.failures.lock().map_err(|_| poisoned())?;
    match staff {
        Some(s) if ok => {
            failures.remove(name);
            Ok(s)
        }
        _ => {
            let entry = failures.entry(name.to_owned()).or_insert((0, None));
            entry.0 += 1;
            let left = MAX_FAILED_ATTEMPTS.saturating_sub(entry.0);
            if left == 0 {
                *entry = (0, Some(now + Duration::minutes(LOCKOUT_MINUTES)));
            }
            Err(DeskError::new(
                StatusCode::UNAUTHORIZED,
                "wrong_pin",
                Message::new("receiving.wrong_pin")
                    .with("who", who.name())
                    .with("left", left.to_string())
                    .with("minutes", LOCKOUT_MINUTES.to_string()),
            ))
        }
    }
}

#[derive(Deserialize)]
pub(super) struct SignInRequest {
    name: String,
    pin: String,
}

pub(super) async fn sign_in(
    State(desk): State<Arc<Desk>>,
    body: Result<axum::Json<SignInRequest>, JsonRejection>,
) -> DeskResult<Response> {
    let axum::Json(req) = body?;
    let staff = check_pin(&desk, &req.name, &req.pin, Who::ReceivingStaff).await?;
    if !staff.has_role(StaffRole::Receiving) {
        return Err(DeskError::new(
            StatusCode::FORBIDDEN,
            "not_receiving_staff",
            Message::new("receiving.not_receiving_staff").with("name", staff.name.as_str()),
        ));
    }
    let token = crate::auth::new_token();
    let signatory = Signatory {
        staff_id: staff.staff_id,
        name: staff.name,
    };
    desk.desk.sessions.lock().map_err(|_| poisoned())?.insert(
        crate::auth::token_hash(&token),
        Session {
            staff: signatory.clone(),
            expires: Utc::now() + Duration::hours(SESSION_HOURS),
        },
    );
    Ok(axum::Json(json!({"token": token, "staff": signatory})).into_response())
}
