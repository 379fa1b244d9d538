//! Staff sign-in: PIN checked against its argon2 hash, lock-out after repeated failures.
//! Attempts are audited (who tried, when, whether it worked) but not replicated: PIN
//! hashes and counters never leave the device.

use chrono::{DateTime, Duration, Utc};
use lifebridge_domain::entities::{RecordId, Staff};
use lifebridge_domain::messages::Message;
use lifebridge_domain::pin::{self, LOCKOUT_MINUTES, MAX_FAILED_ATTEMPTS};
use password_hash::rand_core::{OsRng, RngCore};
use rusqlite::OptionalExtension;

use crate::{Actor, Result, Store, StoreError, records};

/// A new argon2id hash of `pin` (the policy is `lifebridge_domain::pin`), salted from the
/// operating system's random source, which the domain crate does not read.
pub(crate) fn new_pin_hash(pin: &str) -> std::result::Result<String, pin::PinHashError> {
    let mut salt = [0u8; pin::SALT_LEN];
    OsRng.fill_bytes(&mut salt);
    pin::hash_pin(pin, &salt)
}

/// Why a PIN was not accepted. `Display` is the English text of [`SignInError::message`].
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SignInError {
    #[error("{}", self.message())]
    WrongPin { remaining: u32 },
    #[error("{}", self.message())]
    LockedOut { until: DateTime<Utc> },
    #[error("{}", self.message())]
    Inactive,
}

impl SignInError {
    /// The answer for the person who typed the PIN (`sign_in.*`).
    pub fn message(&self) -> Message {
        match self {
            SignInError::WrongPin { remaining } => Message::new("sign_in.wrong_pin")
                .with("remaining", remaining.to_string())
                .with("minutes", LOCKOUT_MINUTES.to_string()),
            SignInError::LockedOut { until } => {
                Message::new("sign_in.locked_out").with("until", until.to_string())
            }
            SignInError::Inactive => Message::new("sign_in.inactive"),
        }
    }
}

impl Store {
    /// Checks `pin` for `staff_id`. The outer `Result` is the store failing; the inner
    /// one is the answer a person sees.
    pub fn sign_in(&mut self, staff_id: RecordId, pin: &str) -> Result<Result<Staff, SignInError>> {
        let staff = records::load_staff(&self.conn, staff_id)?;
        if !staff.active {
            return Ok(Err(SignInError::Inactive));
        }
        let (hash, failed, locked_until): (String, u32, Option<String>) = self
            .conn
            .query_row(
                "SELECT pin_hash, failed_attempts, locked_until FROM staff_credential WHERE staff_id = ?1",
                [staff_id.to_string()],
                |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)),
            )
            .optional()?
            .ok_or(StoreError::Missing {
                entity: "staff credential",
                id: staff_id.to_string(),
            })?;
        let now = crate::now();
        if let Some(until) = locked_until
            .as_deref()
            .and_then(|t| DateTime::parse_from_rfc3339(t).ok())
            .map(|t| t.with_timezone(&Utc))
            && until > now
        {
            self.act(
                Actor::staff(staff_id),
                "staff.sign_in_refused",
                serde_json::json!({"locked_until": until}),
                |_| Ok(()),
            )?;
            return Ok(Err(SignInError::LockedOut { until }));
        }
        let matches = pin::pin_matches(&hash, pin)
            .map_err(|e| StoreError::Corrupt(format!("PIN hash of {}: {e}", staff.display_name)))?;
        let id = staff_id.to_string();
        if matches {
            self.act(
                Actor::staff(staff_id),
                "staff.sign_in",
                serde_json::json!({}),
                |ctx| crate::tables::staff::set_failed_attempts(ctx.tx, &id, 0, None),
            )?;
            return Ok(Ok(staff));
        }
        let failed = failed + 1;
        let locked =
            (failed >= MAX_FAILED_ATTEMPTS).then(|| now + Duration::minutes(LOCKOUT_MINUTES));
        self.act(
            Actor::staff(staff_id),
            "staff.sign_in_failed",
            serde_json::json!({"failed_attempts": failed, "locked_until": locked}),
            |ctx| {
                // A lock-out starts the count again for when it ends.
                let count = if locked.is_some() { 0 } else { failed };
                crate::tables::staff::set_failed_attempts(ctx.tx, &id, count, locked)
            },
        )?;
        Ok(Err(match locked {
            Some(until) => SignInError::LockedOut { until },
            None => SignInError::WrongPin {
                remaining: MAX_FAILED_ATTEMPTS - failed,
            },
        }))
    }
}
