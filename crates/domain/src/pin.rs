//! Staff PIN policy, the same on the bus and at the station: what a PIN looks like, how
//! it is hashed (argon2id, PHC string) and when repeated failures lock a person out.
//!
//! This crate reads no clock and no random source, so the salt is an argument: the
//! caller (device store, station) draws it from the operating system. With the salt
//! given, hashing is a pure function and can be tested as one.

use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString};

/// The error argon2 gives for an unusable salt or an unreadable stored hash.
pub use argon2::password_hash::Error as PinHashError;

/// Failures in a row that lock a staff member out.
pub const MAX_FAILED_ATTEMPTS: u32 = 5;
/// How long the lock-out lasts.
pub const LOCKOUT_MINUTES: i64 = 5;
/// Bytes of random salt per hash (the argon2 recommendation).
pub const SALT_LEN: usize = 16;

/// A PIN is 4 to 8 digits, on the bus and at the station alike.
pub fn pin_is_well_formed(pin: &str) -> bool {
    (4..=8).contains(&pin.len()) && pin.bytes().all(|b| b.is_ascii_digit())
}

/// The argon2id hash (PHC string) kept instead of the PIN, salted with `salt`, which the
/// caller draws fresh from a secure random source for every hash.
pub fn hash_pin(pin: &str, salt: &[u8; SALT_LEN]) -> Result<String, PinHashError> {
    let salt = SaltString::encode_b64(salt)?;
    Ok(argon2::Argon2::default()
        .hash_password(pin.as_bytes(), &salt)?
        .to_string())
}

/// Whether `pin` matches `hash`; an error when `hash` is not a readable PHC string.
pub fn pin_matches(hash: &str, pin: &str) -> Result<bool, PinHashError> {
    let parsed = PasswordHash::new(hash)?;
    Ok(argon2::Argon2::default()
        .verify_password(pin.as_bytes(), &parsed)
        .is_ok())
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
