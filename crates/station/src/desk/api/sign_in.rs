//! Signing in at the desk, and every PIN the desk asks for (receiver, driver, witness).

use std::net::{IpAddr, SocketAddr};
use std::sync::Arc;

use axum::extract::rejection::JsonRejection;
use axum::extract::{ConnectInfo, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use chrono::Utc;
use lifebridge_domain::cold_chain::Signatory;
use lifebridge_domain::messages::Message;
use serde::Deserialize;
use serde_json::json;

use super::{Desk, DeskError, DeskResult, poisoned};
use crate::desk::auth::{LOCKOUT_MINUTES, Refused, pin_matches};
use crate::staff::{StaffRole, StaffRow};

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

/// Checks `name`'s PIN, counted against the name's lock-out and the address's budget
/// before it is checked; the staff member when the PIN is right, the account open and
/// (if `role` is given) holding that role. Every failure answers the same `wrong_pin`,
/// so a right PIN of a closed account or of someone without the role tells nothing.
pub(super) async fn check_pin(
    desk: &Desk,
    from: IpAddr,
    name: &str,
    pin: &str,
    who: Who,
    role: Option<StaffRole>,
) -> DeskResult<StaffRow> {
    let name = name.trim();
    let attempt = desk
        .auth
        .begin(name, from, Utc::now())
        .map_err(|refused| match refused {
            Refused::NameLocked { until } => DeskError::new(
                StatusCode::TOO_MANY_REQUESTS,
                "locked_out",
                Message::new("receiving.locked_out")
                    .with("who", who.name())
                    .with("name", name)
                    .with("until", desk_clock(until)),
            ),
            Refused::AddressLimited { until } => DeskError::new(
                StatusCode::TOO_MANY_REQUESTS,
                "too_many_attempts",
                Message::new("receiving.too_many_attempts").with("until", desk_clock(until)),
            ),
        })?;
    let staff = desk.app.storage.staff_by_name(name).await?;
    let hash = staff.as_ref().map(|s| s.pin_hash.clone());
    let pin = pin.to_owned();
    // argon2 costs about 64 MiB and a good fraction of a second by design: off the
    // async workers, so a burst of sign-ins cannot stall pushes, and only a few at a
    // time, so a burst cannot take the station's memory either (the rest wait here).
    let permit = desk.pin_checks.acquire().await.map_err(|_| poisoned())?;
    let matches = tokio::task::spawn_blocking(move || pin_matches(hash.as_deref(), &pin))
        .await
        .map_err(|_| poisoned())?;
    drop(permit);
    match staff {
        Some(s) if matches && s.active && role.is_none_or(|r| s.has_role(r)) => {
            desk.auth.succeeded(attempt);
            Ok(s)
        }
        _ => Err(DeskError::new(
            StatusCode::UNAUTHORIZED,
            "wrong_pin",
            Message::new("receiving.wrong_pin")
                .with("who", who.name())
                .with("left", attempt.left.to_string())
                .with("minutes", LOCKOUT_MINUTES.to_string()),
        )),
    }
}

#[derive(Deserialize)]
pub(super) struct SignInRequest {
    name: String,
    pin: String,
}

pub(super) async fn sign_in(
    State(desk): State<Arc<Desk>>,
    ConnectInfo(from): ConnectInfo<SocketAddr>,
    body: Result<axum::Json<SignInRequest>, JsonRejection>,
) -> DeskResult<Response> {
    let axum::Json(req) = body?;
    let staff = check_pin(
        &desk,
        from.ip(),
        &req.name,
        &req.pin,
        Who::ReceivingStaff,
        Some(StaffRole::Receiving),
    )
    .await?;
    let signatory = Signatory {
        staff_id: staff.staff_id,
        name: staff.name,
    };
    let token = desk.auth.open_session(signatory.clone(), Utc::now());
    Ok(axum::Json(json!({"token": token, "staff": signatory})).into_response())
}

/// A lock-out's end as the desk's staff read a clock: China time (the zh-CN text gives no
/// zone, so a UTC time there would be eight hours off).
fn desk_clock(t: chrono::DateTime<Utc>) -> String {
    lifebridge_domain::china_local(t)
        .format("%H:%M")
        .to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_lock_out_ends_at_the_desk_s_own_clock() {
        let until = chrono::DateTime::parse_from_rfc3339("2026-12-02T02:15:00Z")
            .unwrap()
            .with_timezone(&Utc);
        assert_eq!(desk_clock(until), "10:15");
    }
}
