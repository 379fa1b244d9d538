//! Staff PIN policy, the same on the bus and at the station: what a PIN looks like, how
//! it is hashed (argon2id, PHC string) and when repeated failures lock a person out.
//!
//! This crate reads no clock and no random source, so the salt is an argument: the
//! caller (device store, station) draws it from the operating system. With the salt
//! given, hashing is a pure function and can be tested as one.

use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString};
use argon2::{Algorithm, Argon2, Params, Version};

use crate::messages::{Message, Param};

/// The error argon2 gives for an unusable salt or an unreadable stored hash.
pub use argon2::password_hash::Error as PinHashError;

/// Failures in a row that lock a staff member out.
pub const MAX_FAILED_ATTEMPTS: u32 = 5;
/// How long the lock-out lasts.
pub const LOCKOUT_MINUTES: i64 = 5;
/// Bytes of random salt per hash (the argon2 recommendation).
pub const SALT_LEN: usize = 16;

/// Digits a PIN has at least, and at most.
pub const MIN_DIGITS: usize = 4;
pub const MAX_DIGITS: usize = 8;
/// Digits at least for an account whose PIN signs: a dispatch or a hand-off (drivers,
/// receiving staff), medical decisions and deferral lifts (physicians), new accounts
/// (supervisors). The station sends its accounts' hashes to every tablet, so a leaked
/// device token lets someone guess offline: 10^6 PINs at [`ARGON2_MEMORY_KIB`] each
/// instead of 10^4 (docs/security.md).
pub const MIN_SIGNING_DIGITS: usize = 6;

/// argon2id memory per hash in KiB (64 MiB: RFC 9106's second recommendation, against
/// the library default of 19 MiB), passes over it, and lanes. A verify takes this much
/// memory and time on the tablet at every sign-in and signature; the cost an offline
/// guesser pays per guess is the same. The parameters are written into each hash, so
/// hashes made before still verify.
pub const ARGON2_MEMORY_KIB: u32 = 64 * 1024;
pub const ARGON2_PASSES: u32 = 3;
pub const ARGON2_LANES: u32 = 1;

/// A PIN is 4 to 8 digits, on the bus and at the station alike.
pub fn pin_is_well_formed(pin: &str) -> bool {
    (MIN_DIGITS..=MAX_DIGITS).contains(&pin.len()) && pin.bytes().all(|b| b.is_ascii_digit())
}

/// Whether `pin` is allowed for an account whose PIN `signs` (see
/// [`MIN_SIGNING_DIGITS`]; `Role::signs` says which device roles do).
pub fn pin_is_allowed(pin: &str, signs: bool) -> bool {
    pin_is_well_formed(pin) && (!signs || pin.len() >= MIN_SIGNING_DIGITS)
}

/// Why `pin` may not be set for an account with `roles` (whose PIN `signs`), in the
/// catalogue's words naming the field and what is allowed; `None` when it may. The one
/// refusal of the policy, for accounts the station issues and accounts a tablet adds.
pub fn refusal(pin: &str, signs: bool, roles: impl Into<Param>) -> Option<Message> {
    if !pin_is_well_formed(pin) {
        return Some(Message::new("staff_account.pin_format"));
    }
    if !pin_is_allowed(pin, signs) {
        return Some(
            Message::new("staff_account.pin_too_short_to_sign")
                .with("digits", MIN_SIGNING_DIGITS.to_string())
                .with("roles", roles),
        );
    }
    None
}

fn hasher() -> Result<Argon2<'static>, PinHashError> {
    let params = Params::new(ARGON2_MEMORY_KIB, ARGON2_PASSES, ARGON2_LANES, None)?;
    Ok(Argon2::new(Algorithm::Argon2id, Version::V0x13, params))
}

/// The argon2id hash (PHC string) kept instead of the PIN, salted with `salt`, which the
/// caller draws fresh from a secure random source for every hash.
pub fn hash_pin(pin: &str, salt: &[u8; SALT_LEN]) -> Result<String, PinHashError> {
    let salt = SaltString::encode_b64(salt)?;
    Ok(hasher()?.hash_password(pin.as_bytes(), &salt)?.to_string())
}

/// Whether `pin` matches `hash`; an error when `hash` is not a readable PHC string. The
/// cost is the one written in the hash (older hashes keep theirs until the PIN is set
/// again).
pub fn pin_matches(hash: &str, pin: &str) -> Result<bool, PinHashError> {
    let parsed = PasswordHash::new(hash)?;
    Ok(hasher()?.verify_password(pin.as_bytes(), &parsed).is_ok())
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn well_formed_pins_are_four_to_eight_digits() {
        assert!(pin_is_well_formed("2580"));
        assert!(pin_is_well_formed("12345678"));
        assert!(!pin_is_well_formed("123"));
        assert!(!pin_is_well_formed("123456789"));
        assert!(!pin_is_well_formed("12a4"));
        assert!(!pin_is_well_formed(" 2580"));
    }

    #[test]
    fn accounts_that_sign_need_six_digits() {
        assert!(pin_is_allowed("2580", false));
        assert!(!pin_is_allowed("2580", true));
        assert!(!pin_is_allowed("25801", true));
        assert!(pin_is_allowed("258013", true));
        assert!(pin_is_allowed("25801346", true));
        assert!(!pin_is_allowed("258013467", true));
        assert!(!pin_is_allowed("25a013", true));
    }

    #[test]
    fn a_refusal_names_the_field_and_what_is_allowed() {
        assert_eq!(refusal("2580", false, "registration"), None);
        assert_eq!(refusal("258013", true, "driver"), None);
        let format = refusal("25a0", false, "registration").unwrap();
        assert_eq!(format.code, "staff_account.pin_format");
        assert_eq!(format.to_string(), "PIN: must be 4 to 8 digits");
        let short = refusal("2580", true, "driver").unwrap();
        assert_eq!(short.code, "staff_account.pin_too_short_to_sign");
        assert!(short.to_string().contains("driver"), "{short}");
        assert!(short.to_string().contains("at least 6 digits"), "{short}");
    }

    /// The policy's cost is in every new hash; a verify is timed (a debug build of this
    /// crate, dependencies at the workspace's dev opt-level 1, on whatever machine runs
    /// the tests: an upper bound, not the tablet figure).
    #[test]
    fn a_hash_carries_the_policy_cost_and_older_hashes_still_verify() {
        let hash = hash_pin("258013", &[7; SALT_LEN]).unwrap();
        let parsed = PasswordHash::new(&hash).unwrap();
        let params = Params::try_from(&parsed).unwrap();
        assert_eq!(params.m_cost(), 64 * 1024);
        assert_eq!(params.t_cost(), 3);
        assert_eq!(params.p_cost(), 1);
        let started = std::time::Instant::now();
        assert!(pin_matches(&hash, "258013").unwrap());
        eprintln!("one PIN verify took {:?}", started.elapsed());
        // A hash made with the library's default (19 MiB, 2 passes) before this policy.
        let salt = SaltString::encode_b64(&[7; SALT_LEN]).unwrap();
        let old = Argon2::default()
            .hash_password(b"2580", &salt)
            .unwrap()
            .to_string();
        assert!(pin_matches(&old, "2580").unwrap());
        assert!(!pin_matches(&old, "2581").unwrap());
    }

    #[test]
    fn a_hash_is_argon2id_matches_its_pin_only_and_depends_on_the_salt() {
        let hash = hash_pin("2580", &[7; SALT_LEN]).unwrap();
        assert!(hash.starts_with("$argon2id$"));
        assert!(pin_matches(&hash, "2580").unwrap());
        assert!(!pin_matches(&hash, "2581").unwrap());
        assert_eq!(hash, hash_pin("2580", &[7; SALT_LEN]).unwrap());
        assert_ne!(hash, hash_pin("2580", &[8; SALT_LEN]).unwrap());
        assert!(pin_matches("not a hash", "2580").is_err());
    }
}
