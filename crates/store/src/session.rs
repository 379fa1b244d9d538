//! Staff sign-in: PIN checked against its argon2 hash, lock-out after repeated failures.
//! Attempts are audited (who tried, when, whether it worked) but not replicated: PIN
//! hashes and counters never leave the device.

use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString};
use chrono::{DateTime, Duration, Utc};
use lifebridge_domain::entities::{RecordId, Staff};
use rusqlite::OptionalExtension;

use crate::{Actor, Result, Store, StoreError, records};

/// Failures in a row that lock a staff member out.
pub const MAX_FAILED_ATTEMPTS: u32 = 5;
/// How long the lock-out lasts.
pub const LOCKOUT_MINUTES: i64 = 5;

/// A PIN is 4 to 8 digits, on the bus and at the station alike.
pub fn pin_is_well_formed(pin: &str) -> bool {
    (4..=8).contains(&pin.len()) && pin.bytes().all(|b| b.is_ascii_digit())
}

/// The argon2id hash (PHC string, salted) kept instead of the PIN.
pub fn hash_pin(pin: &str) -> std::result::Result<String, argon2::password_hash::Error> {
    let salt = SaltString::generate(&mut argon2::password_hash::rand_core::OsRng);
    Ok(argon2::Argon2::default()
        .hash_password(pin.as_bytes(), &salt)?
        .to_string())
}

/// Whether `pin` matches `hash`; an error when `hash` is not a readable PHC string.
pub fn pin_matches(
    hash: &str,
    pin: &str,
) -> std::result::Result<bool, argon2::password_hash::Error> {
    let parsed = PasswordHash::new(hash)?;
    Ok(argon2::Argon2::default()
        .verify_password(pin.as_bytes(), &parsed)
        .is_ok())
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SignInError {
    #[error("wrong PIN; {remaining} attempts left before a {LOCKOUT_MINUTES}-minute lock-out")]
    WrongPin { remaining: u32 },
    #[error("too many wrong PINs: locked until {until}")]
    LockedOut { until: DateTime<Utc> },
    #[error("this staff member is not active on this device")]
    Inactive,
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
        let matches = pin_matches(&hash, pin)
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
