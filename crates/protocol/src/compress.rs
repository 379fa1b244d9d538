//! Request and response bodies travel gzip-compressed: a day's records from a bus
//! shrink several times, which matters on a weak mobile signal.

use std::io::{Read, Write};

use flate2::Compression;
use flate2::read::GzDecoder;
use flate2::write::GzEncoder;

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum DecompressError {
    #[error("the body inflates to more than {limit} bytes")]
    TooLarge { limit: usize },
    #[error("the body is not valid gzip: {0}")]
    Corrupt(String),
}

pub fn gzip(data: &[u8]) -> Vec<u8> {
    let mut enc = GzEncoder::new(Vec::with_capacity(data.len() / 4 + 64), Compression::fast());
    // Writing into a Vec cannot fail.
    let _ = enc.write_all(data);
    enc.finish().unwrap_or_default()
}

/// Inflates `data`, refusing to produce more than `limit` bytes (a small body must not
/// be able to exhaust the station's memory).
pub fn gunzip_limited(data: &[u8], limit: usize) -> Result<Vec<u8>, DecompressError> {
    let mut out = Vec::new();
    let mut reader = GzDecoder::new(data).take(limit as u64 + 1);
    reader
        .read_to_end(&mut out)
        .map_err(|e| DecompressError::Corrupt(e.to_string()))?;
    if out.len() > limit {
        return Err(DecompressError::TooLarge { limit });
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trip_and_limit() {
        let data = vec![b'x'; 100_000];
        let z = gzip(&data);
        assert!(z.len() < 1000);
        assert_eq!(gunzip_limited(&z, 100_000).unwrap(), data);
        assert_eq!(
            gunzip_limited(&z, 99_999),
            Err(DecompressError::TooLarge { limit: 99_999 })
        );
        assert!(matches!(
            gunzip_limited(b"not gzip", 10),
            Err(DecompressError::Corrupt(_))
        ));
    }
}
