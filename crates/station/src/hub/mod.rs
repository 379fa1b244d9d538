//! A station that runs on a bus as a hub (`lifebridge-station hub`): the bus's tablets
//! enroll with it exactly as with a station, push to it and pull from it, so a donor
//! registered on one tablet is on every tablet of the bus with no internet. Everything
//! a station does it does too (ingest, validation, the feed, leases); what it adds is
//! the link to the city station (`relay`):
//!
//! - **upstream**, each tablet's entries go to the station under the tablet's own id and
//!   seqs (the relay header, the hub's own token), so `(device, seq)` is the key end to
//!   end and an entry reaches the station once whether it came through the hub, straight
//!   from the tablet at the yard, or both. The station registers each tablet as relayed
//!   by this hub first and checks every relayed entry as the tablet's own.
//! - **downstream**, the hub pulls the station's change sequence as a device and imports
//!   it into its own feed (`store::import`): donors merged per field, other vehicles'
//!   donations and deferrals, staff, rules, appointments, records addressed to one of
//!   its tablets; the DIN ranges the station leases the hub become its sub-lease pool,
//!   from which it leases its tablets (`store::sublease`).
//!
//! The link is one loop (`relay::Relay::run`); nothing a tablet does waits for it.

pub mod page;
pub mod relay;
pub mod store;

use std::sync::Arc;
use std::time::Duration;

use lifebridge_client::{StationClient, Trust};

use crate::config::Config;
use crate::db::Storage;
use relay::{Relay, RelayError};

/// What the first start of a hub enrolls it with.
#[derive(Clone)]
pub struct Enrollment {
    pub url: String,
    pub code: String,
    pub name: String,
    /// The station's certificate to pin (PEM); `None` for plain HTTP to loopback.
    pub cert_pem: Option<String>,
}

/// How long one request to the station may take (a full batch over a slow link).
const UPSTREAM_TIMEOUT: Duration = Duration::from_secs(120);

fn client(url: &str, cert_pem: Option<&str>) -> Result<StationClient, RelayError> {
    let trust = match cert_pem {
        Some(pem) => Trust::PinnedPem(pem.to_owned()),
        None => Trust::LoopbackHttp,
    };
    Ok(StationClient::new(url, trust, UPSTREAM_TIMEOUT)?)
}

/// The hub's relay, after enrolling it with the station on its first start (`enroll`);
/// later starts use the link kept in its database.
pub async fn connect(
    storage: Arc<dyn Storage>,
    enroll: Option<Enrollment>,
    config: &Config,
) -> Result<Relay, RelayError> {
    let link = match (storage.hub_upstream().await?, enroll) {
        (Some(link), None) => link,
        (Some(link), Some(_)) => {
            return Err(RelayError::Enrolled(link.url));
        }
        (None, None) => return Err(RelayError::NotAHub),
        (None, Some(e)) => {
            let station_id = storage.station_id().await?;
            let answer = client(&e.url, e.cert_pem.as_deref())?
                .enroll(&e.code, station_id, &e.name)
                .await?;
            let link = store::Upstream {
                url: e.url,
                cert_pem: e.cert_pem,
                device_id: answer.device_id,
                name: answer.device_name,
                token: answer.token,
                pull_cursor: 0,
                paused: false,
                enrolled_at: chrono::Utc::now().to_rfc3339(),
            };
            storage.hub_set_upstream(link.clone()).await?;
            tracing::info!(station = %link.url, station_id = %answer.station_id, name = %link.name,
                "hub enrolled with the station");
            link
        }
    };
    let facility = match &config.din {
        Some(din) => Some(
            din.facility
                .parse()
                .map_err(|e: lifebridge_domain::DinError| {
                    RelayError::Config(format!("din.facility: {e}"))
                })?,
        ),
        None => None,
    };
    Ok(Relay::new(
        storage,
        client(&link.url, link.cert_pem.as_deref())?.with_token(link.token),
        facility,
    ))
}
