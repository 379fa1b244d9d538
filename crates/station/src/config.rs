//! Station configuration: a TOML file, overridden by command-line flags. Every field
//! has a default, so `lifebridge-station` with no arguments runs a loopback station
//! with an embedded SQLite database.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};

use serde::Deserialize;

#[derive(Debug, Clone, Deserialize, PartialEq)]
#[serde(default, deny_unknown_fields)]
pub struct Config {
    /// Address to listen on. Plain HTTP is allowed only on a loopback address.
    pub listen: SocketAddr,
    /// Folder for the SQLite database (and nothing else the station needs to keep).
    pub data_dir: PathBuf,
    /// `postgres://…` to use PostgreSQL instead of the embedded SQLite database.
    pub database_url: Option<String>,
    pub tls: Option<TlsConfig>,
    /// Largest request body accepted, compressed, in bytes.
    pub max_body_bytes: usize,
    /// Largest request body accepted once inflated, in bytes.
    pub max_inflated_bytes: usize,
    /// Most bytes of records in one pull page (JSON before compression). A record
    /// larger than this still goes, alone in its page (docs/security.md "Pull pages").
    pub max_pull_page_bytes: usize,
    /// A device clock further than this from the station's gets a warning.
    pub clock_skew_bound_secs: u64,
    /// Hours an enrollment code stays valid.
    pub enrollment_valid_hours: u32,
    /// DIN leasing; without it the station leases no ranges.
    pub din: Option<DinConfig>,
    /// Seconds a client may take to send a request's headers; a connection that
    /// stalls inside its headers is closed (docs/security.md).
    pub header_read_timeout_secs: u64,
    /// Seconds a request may take from its headers to its answer, the body's upload
    /// and the wait for a turn included; past it the answer is 503.
    pub request_timeout_secs: u64,
    /// Requests worked on at once; others wait their turn. `/healthz` never waits.
    pub max_concurrent_requests: usize,
    /// `/v1/events` streams open at once (one per running device); beyond it the answer
    /// is 503 and the device keeps to its periodic sync. Streams count in neither the
    /// deadline nor `max_concurrent_requests`.
    pub max_event_streams: usize,
    /// Serve `/metrics` on this address only (plain HTTP, its own port), not on
    /// `listen`: for a monitoring network, or to keep the counts off the devices'
    /// network. Without it `/metrics` is served on `listen`.
    pub metrics_listen: Option<SocketAddr>,
    /// A station for demos and training (`make run`, the end-to-end tests): besides
    /// DINs it leased, it accepts donations numbered from the training facility
    /// ([`lifebridge_domain::din::TRAINING_FACILITY`]) the demo seeder uses. A real
    /// station never does.
    pub training: bool,
}

#[derive(Debug, Clone, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct TlsConfig {
    /// PEM certificate chain.
    pub cert: PathBuf,
    /// PEM private key (PKCS#8, PKCS#1 or SEC1).
    pub key: PathBuf,
}

#[derive(Debug, Clone, Deserialize, PartialEq)]
#[serde(default, deny_unknown_fields)]
pub struct DinConfig {
    /// The blood establishment's ISBT 128 facility identification number.
    pub facility: String,
    /// Lease more numbers when a device holds fewer unissued ones than this.
    pub reserve: u32,
    /// Numbers per lease.
    pub lease_size: u32,
    /// First number leased in a new year.
    pub start_sequence: u32,
    /// Most numbers of the current year one device may hold leased and not yet seen
    /// used in a pushed donation. With the defaults a device holds at most
    /// `reserve + lease_size` (700) in normal work; 2000 leaves room for a few days
    /// offline, and a stolen tablet cannot drain the year's numbers.
    pub max_outstanding: u32,
    /// Most numbers leased to one device in any 24 hours (four default leases: a
    /// busy bus uses two or three hundred a day).
    pub max_per_day: u32,
}

impl Default for DinConfig {
    fn default() -> Self {
        DinConfig {
            facility: String::new(),
            reserve: 200,
            lease_size: 500,
            start_sequence: 1,
            max_outstanding: 2000,
            max_per_day: 2000,
        }
    }
}

impl Default for Config {
    fn default() -> Self {
        Config {
            listen: SocketAddr::from(([127, 0, 0, 1], 8707)),
            data_dir: PathBuf::from("lifebridge-station-data"),
            database_url: None,
            tls: None,
            max_body_bytes: 8 * 1024 * 1024,
            max_inflated_bytes: 64 * 1024 * 1024,
            // A page a slow link carries in well under the device's request timeout.
            max_pull_page_bytes: 4 * 1024 * 1024,
            clock_skew_bound_secs: 120,
            enrollment_valid_hours: 72,
            din: None,
            header_read_timeout_secs: 15,
            // A full batch over a slow mobile link: 8 MiB at 100 kB/s is 80 s.
            request_timeout_secs: 120,
            max_concurrent_requests: 64,
            max_event_streams: 1000,
            metrics_listen: None,
            training: false,
        }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error("cannot read the configuration file {path}: {source}")]
    Read {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("configuration file {path}: {message}")]
    Parse { path: PathBuf, message: String },
    #[error("configuration: {field}: {problem}")]
    Invalid {
        field: &'static str,
        problem: String,
    },
}

impl Config {
    pub fn from_file(path: &Path) -> Result<Config, ConfigError> {
        let text = std::fs::read_to_string(path).map_err(|source| ConfigError::Read {
            path: path.to_owned(),
            source,
        })?;
        toml::from_str(&text).map_err(|e| ConfigError::Parse {
            path: path.to_owned(),
            message: e.to_string(),
        })
    }

    pub fn validate(&self) -> Result<(), ConfigError> {
        if self.tls.is_none() && !self.listen.ip().is_loopback() {
            return Err(ConfigError::Invalid {
                field: "listen",
                problem: format!(
                    "{} is not a loopback address: plain HTTP is allowed only on loopback; \
                     give [tls] cert and key to serve HTTPS (see docs/api.md)",
                    self.listen
                ),
            });
        }
        if self.max_body_bytes < 1024 || self.max_inflated_bytes < self.max_body_bytes {
            return Err(ConfigError::Invalid {
                field: "max_body_bytes",
                problem: "must be at least 1024 and at most max_inflated_bytes".into(),
            });
        }
        if self.max_pull_page_bytes < 1024 {
            return Err(ConfigError::Invalid {
                field: "max_pull_page_bytes",
                problem: "must be at least 1024".into(),
            });
        }
        for (field, value) in [
            ("header_read_timeout_secs", self.header_read_timeout_secs),
            ("request_timeout_secs", self.request_timeout_secs),
        ] {
            if !(1..=3600).contains(&value) {
                return Err(ConfigError::Invalid {
                    field,
                    problem: "must be between 1 and 3600 seconds".into(),
                });
            }
        }
        if !(1..=10_000).contains(&self.max_concurrent_requests) {
            return Err(ConfigError::Invalid {
                field: "max_concurrent_requests",
                problem: "must be between 1 and 10000".into(),
            });
        }
        if !(1..=100_000).contains(&self.max_event_streams) {
            return Err(ConfigError::Invalid {
                field: "max_event_streams",
                problem: "must be between 1 and 100000".into(),
            });
        }
        if self
            .metrics_listen
            .is_some_and(|m| m == self.listen && m.port() != 0)
        {
            return Err(ConfigError::Invalid {
                field: "metrics_listen",
                problem: "must differ from listen".into(),
            });
        }
        if let Some(din) = &self.din {
            din.facility
                .parse::<lifebridge_domain::FacilityId>()
                .map_err(|e| ConfigError::Invalid {
                    field: "din.facility",
                    problem: e.to_string(),
                })?;
            if din.lease_size == 0 || din.lease_size > 100_000 {
                return Err(ConfigError::Invalid {
                    field: "din.lease_size",
                    problem: "must be between 1 and 100000".into(),
                });
            }
            for (field, cap) in [
                ("din.max_outstanding", din.max_outstanding),
                ("din.max_per_day", din.max_per_day),
            ] {
                // A cap below one lease would refuse every lease.
                if cap < din.lease_size {
                    return Err(ConfigError::Invalid {
                        field,
                        problem: format!(
                            "must be at least din.lease_size ({}); it is {cap}",
                            din.lease_size
                        ),
                    });
                }
            }
            if din.start_sequence > 999_999 {
                return Err(ConfigError::Invalid {
                    field: "din.start_sequence",
                    problem: "must be at most 999999".into(),
                });
            }
        }
        Ok(())
    }
}
