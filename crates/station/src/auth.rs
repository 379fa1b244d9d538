//! Enrollment codes and device credentials. Both are random, shown once, and stored
//! only as SHA-256 hashes: a copy of the station database grants nothing.

use sha2::{Digest, Sha256};

/// Letters and digits that cannot be confused when read aloud or typed (no I, L, O, U).
const CODE_ALPHABET: &[u8] = b"0123456789ABCDEFGHJKMNPQRSTVWXYZ";

/// A one-time enrollment code such as `7KQ2-M9XD-3HPA`.
pub fn new_enrollment_code() -> String {
    let bytes: [u8; 12] = rand::random();
    let chars: Vec<char> = bytes
        .iter()
        .map(|b| CODE_ALPHABET[usize::from(*b) % CODE_ALPHABET.len()] as char)
        .collect();
    chars
        .chunks(4)
        .map(|c| c.iter().collect::<String>())
        .collect::<Vec<_>>()
        .join("-")
}

/// Codes are compared without dashes, spaces or case, as a person types them.
pub fn enrollment_code_hash(code: &str) -> String {
    let normal: String = code
        .chars()
        .filter(|c| c.is_ascii_alphanumeric())
        .map(|c| c.to_ascii_uppercase())
        .collect();
    hex::encode(Sha256::digest(normal.as_bytes()))
}

pub fn new_token() -> String {
    let bytes: [u8; 32] = rand::random();
    format!("lbs_{}", hex::encode(bytes))
}

pub fn token_hash(token: &str) -> String {
    hex::encode(Sha256::digest(token.as_bytes()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_are_typable_and_hash_the_same_however_typed() {
        let code = new_enrollment_code();
        assert_eq!(code.len(), 14);
        let typed = code.to_lowercase().replace('-', " ");
        assert_eq!(enrollment_code_hash(&typed), enrollment_code_hash(&code));
        assert_ne!(new_token(), new_token());
    }
}
