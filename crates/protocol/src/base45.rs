//! base45 (RFC 9285): two bytes become three characters of the QR alphanumeric set
//! (digits, upper-case letters, ` $%*+-./:`), which a QR encoder packs at 5.5 bits a
//! character instead of 8. The one home of base45 for every QR this project draws: the
//! manifest QR (`manifest_code`) and the donor's pre-fill code (`prefill_code`); the
//! `/prefill` page has its JavaScript twin (crates/station/ui/prefill.js), which the
//! station's tests decode with [`decode`].

/// The 45 characters, in value order.
pub const ALPHABET: &[u8; 45] = b"0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ $%*+-./:";

/// Why a text is not base45. `Display` is English, for a refusal's detail.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Base45Error {
    #[error(
        "the data is {0} characters long, which no base45 text can be (a character is missing or extra)"
    )]
    Length(usize),
    #[error("'{0}' is not a base45 character")]
    Character(String),
    #[error("a base45 group is out of range")]
    GroupOutOfRange,
    #[error("the last base45 group is out of range")]
    LastGroupOutOfRange,
}

pub fn encode(bytes: &[u8]) -> String {
    let mut out = String::with_capacity(bytes.len() / 2 * 3 + 2);
    for pair in bytes.chunks(2) {
        let (mut n, digits) = match pair {
            [a, b] => (usize::from(*a) * 256 + usize::from(*b), 3),
            [a] => (usize::from(*a), 2),
            _ => continue,
        };
        for _ in 0..digits {
            out.push(char::from(ALPHABET[n % 45]));
            n /= 45;
        }
    }
    out
}

fn value(c: u8) -> Option<usize> {
    ALPHABET.iter().position(|&x| x == c)
}

pub fn decode(text: &str) -> Result<Vec<u8>, Base45Error> {
    let raw = text.as_bytes();
    if raw.len() % 3 == 1 {
        return Err(Base45Error::Length(raw.len()));
    }
    let mut out = Vec::with_capacity(raw.len() / 3 * 2 + 1);
    for group in raw.chunks(3) {
        let mut n = 0usize;
        for (i, &c) in group.iter().enumerate() {
            let Some(v) = value(c) else {
                return Err(Base45Error::Character(
                    char::from(c).escape_default().to_string(),
                ));
            };
            n += v * 45usize.pow(i as u32);
        }
        if group.len() == 3 {
            if n > 0xFFFF {
                return Err(Base45Error::GroupOutOfRange);
            }
            out.push((n >> 8) as u8);
            out.push((n & 0xFF) as u8);
        } else {
            if n > 0xFF {
                return Err(Base45Error::LastGroupOutOfRange);
            }
            out.push(n as u8);
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn matches_rfc_9285_examples() {
        assert_eq!(encode(b"AB"), "BB8");
        assert_eq!(encode(b"Hello!!"), "%69 VD92EX0");
        assert_eq!(encode(b"base-45"), "UJCLQE7W581");
        assert_eq!(decode("QED8WEX0").unwrap(), b"ietf!");
        assert!(decode("GGW").is_err());
        assert!(decode("ab").is_err());
    }

    #[test]
    fn every_byte_pair_round_trips() {
        let bytes: Vec<u8> = (0..=255u8).chain((0..=255u8).rev()).collect();
        assert_eq!(decode(&encode(&bytes)).unwrap(), bytes);
        assert_eq!(decode(&encode(&bytes[..7])).unwrap(), &bytes[..7]);
    }
}
