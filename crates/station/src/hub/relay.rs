//! The hub's link to the city station: one round registers new tablets, relays what the
//! station does not hold of each tablet, then imports what the station has new. Rounds
//! run every few seconds and at once after a failure's backoff; the state is in the
//! hub's database, so a hub killed at any instant resumes where the station's answers
//! say it is.

use std::sync::Arc;
use std::time::Duration;

use chrono::{DateTime, Utc};
use lifebridge_client::{ClientError, StationClient};
use lifebridge_domain::din::FacilityId;
use lifebridge_protocol::wire::{ErrorCode, MAX_BATCH_ENTRIES, MAX_PULL_PAGE};
use serde::Serialize;
use tokio::sync::{Notify, watch};

use crate::db::Storage;
use crate::storage::StorageError;

/// How the hub's link to the station stands, for its page and its log.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct LinkStatus {
    /// Held off by an operator.
    pub paused: bool,
    /// The last round that reached the station and finished.
    pub last_contact: Option<DateTime<Utc>>,
    /// Since when every round has failed to reach the station (`None` while it answers).
    pub unreachable_since: Option<DateTime<Utc>>,
    /// Why the last round failed.
    pub last_error: Option<String>,
    /// Entries relayed and records imported since the hub started.
    pub relayed: u64,
    pub imported: u64,
}

/// What one round did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Round {
    pub registered: u32,
    pub relayed: u64,
    pub imported: u64,
    /// The link is held off: nothing was sent.
    pub paused: bool,
}

#[derive(Debug, thiserror::Error)]
pub enum RelayError {
    #[error(transparent)]
    Station(#[from] ClientError),
    #[error("hub database: {0}")]
    Storage(#[from] StorageError),
    #[error(
        "this station is not a hub: enroll it with `lifebridge-station hub --upstream URL --code CODE`"
    )]
    NotAHub,
    #[error("this hub is enrolled with {0} already: start it without --upstream and --code")]
    Enrolled(String),
    #[error("hub settings: {0}")]
    Config(String),
}

pub struct Relay {
    storage: Arc<dyn Storage>,
    client: StationClient,
    /// The facility whose DINs the hub asks the station for (none: it asks for none).
    facility: Option<FacilityId>,
    status: watch::Sender<LinkStatus>,
    wake: Arc<Notify>,
    /// Seconds between rounds while nothing fails.
    pub interval: Duration,
}

impl Relay {
    /// `client` must carry the hub's token (`StationClient::with_token`).
    pub fn new(
        storage: Arc<dyn Storage>,
        client: StationClient,
        facility: Option<FacilityId>,
    ) -> Relay {
        Relay {
            storage,
            client,
            facility,
            status: watch::channel(LinkStatus::default()).0,
            wake: Arc::new(Notify::new()),
            interval: Duration::from_secs(2),
        }
    }

    pub fn status(&self) -> watch::Receiver<LinkStatus> {
        self.status.subscribe()
    }

    /// Notified to start a round now (a tablet pushed, the operator resumed the link).
    pub fn waker(&self) -> Arc<Notify> {
        self.wake.clone()
    }

    /// Registers, relays and imports once.
    pub async fn round(&self) -> Result<Round, RelayError> {
        let link = self
            .storage
            .hub_upstream()
            .await?
            .ok_or(RelayError::NotAHub)?;
        let mut round = Round {
            paused: link.paused,
            ..Round::default()
        };
        self.status.send_modify(|s| s.paused = link.paused);
        if link.paused {
            return Ok(round);
        }
        for tablet in self.storage.hub_tablets().await? {
            if tablet.revoked {
                continue;
            }
            let mut relayed = tablet.relayed_seq;
            if !tablet.registered {
                let answer = match self
                    .client
                    .register_tablet(tablet.device_id, &tablet.name)
                    .await
                {
                    Ok(a) => a,
                    Err(e) => match self.refused(tablet.device_id, e).await {
                        Some(e) => return Err(e),
                        None => continue,
                    },
                };
                self.storage
                    .hub_note_relay(
                        tablet.device_id,
                        Some(answer.held_seq),
                        Some(Utc::now()),
                        None,
                    )
                    .await?;
                relayed = relayed.max(answer.held_seq);
                round.registered += 1;
                tracing::info!(tablet = %tablet.device_id, name = %tablet.name, held_seq = answer.held_seq,
                    "hub: tablet registered with the station");
            }
            round.relayed += self.relay_tablet(tablet.device_id, relayed).await?;
        }
        round.imported = self.import(&link).await?;
        self.status.send_modify(|s| {
            s.last_contact = Some(Utc::now());
            s.unreachable_since = None;
            s.last_error = None;
            s.relayed += round.relayed;
            s.imported += round.imported;
        });
        Ok(round)
    }

    /// Pushes what the station does not hold of one tablet; returns the entries it took.
    async fn relay_tablet(&self, device: uuid::Uuid, mut relayed: u64) -> Result<u64, RelayError> {
        let client = self.client.relaying_for(device);
        let mut sent = 0u64;
        loop {
            let entries = self
                .storage
                .hub_entries_after(device, relayed, MAX_BATCH_ENTRIES as u32)
                .await?;
            let Some(last) = entries.last().map(|e| e.seq) else {
                return Ok(sent);
            };
            match client.push(entries).await {
                Ok((answer, _)) => {
                    self.storage
                        .hub_note_relay(device, Some(answer.held_seq), None, None)
                        .await?;
                    sent += u64::from(answer.stored);
                    if answer.held_seq < last {
                        // The station holds less than it just acknowledged: never loop on it.
                        tracing::error!(tablet = %device, held = answer.held_seq, last,
                            "hub: the station acknowledged less than the batch it was sent");
                        return Ok(sent);
                    }
                    relayed = answer.held_seq;
                }
                // The station holds less than the hub thought (restored from a backup, or
                // the tablet's registration is new): send from what it needs.
                Err(ClientError::Station { body, .. })
                    if body.error == ErrorCode::SequenceGap
                        && body.expected_seq.is_some_and(|s| s >= 1 && s - 1 < relayed) =>
                {
                    relayed = body.expected_seq.map_or(0, |s| s - 1);
                }
                Err(e) => {
                    return match self.refused(device, e).await {
                        Some(e) => Err(e),
                        None => Ok(sent),
                    };
                }
            }
        }
    }

    /// A refusal about one tablet is noted on it (the others go on: `None`); anything else
    /// ends the round (`Some`).
    async fn refused(&self, device: uuid::Uuid, e: ClientError) -> Option<RelayError> {
        match &e {
            // About the hub itself (revoked, or its credential gone): the round ends.
            ClientError::Station { body, .. } if body.error == ErrorCode::Unauthorized => {
                Some(e.into())
            }
            ClientError::Station { status, body } if (400..500).contains(status) => {
                tracing::warn!(tablet = %device, code = ?body.error, "hub: the station refused a relay: {}", body.message);
                let why = format!("{status}: {}", body.message);
                match self
                    .storage
                    .hub_note_relay(device, None, None, Some(why))
                    .await
                {
                    Ok(()) => None,
                    Err(s) => Some(s.into()),
                }
            }
            _ => Some(e.into()),
        }
    }

    /// Imports the station's new records page by page; returns how many were appended.
    async fn import(&self, link: &crate::hub::store::Upstream) -> Result<u64, RelayError> {
        let mut cursor = link.pull_cursor;
        let mut imported = 0u64;
        let mut ask_lease = true;
        loop {
            let unused = match (&self.facility, ask_lease) {
                (Some(f), true) => Some(
                    self.storage
                        .hub_unleased(f.clone(), crate::server::nominal_year(Utc::now()))
                        .await?,
                ),
                _ => None,
            };
            // One lease request per round is enough; the pages after it only read.
            ask_lease = false;
            let page = self.client.pull(cursor, MAX_PULL_PAGE, unused).await?;
            if let Some(why) = &page.lease_refused {
                tracing::warn!(code = %why.code, "hub: the station leased the hub no DINs");
            }
            let outcome = self
                .storage
                .hub_import(page.records, page.cursor, Utc::now())
                .await?;
            imported += outcome.appended;
            cursor = page.cursor;
            if !page.more {
                return Ok(imported);
            }
        }
    }

    /// Rounds until `shutdown`: every `interval`, at once when woken, and after a failure
    /// with a backoff that grows to 16 s.
    pub async fn run(self, mut shutdown: watch::Receiver<bool>) {
        let mut failures = 0u32;
        loop {
            let pause = match self.round().await {
                Ok(r) => {
                    failures = 0;
                    if r.relayed > 0 || r.imported > 0 || r.registered > 0 {
                        tracing::info!(
                            relayed = r.relayed,
                            imported = r.imported,
                            registered = r.registered,
                            "hub: round"
                        );
                    }
                    self.interval
                }
                Err(e) => {
                    failures = failures.saturating_add(1);
                    let now = Utc::now();
                    tracing::warn!("hub: the station link failed: {e}");
                    self.status.send_modify(|s| {
                        s.unreachable_since.get_or_insert(now);
                        s.last_error = Some(e.to_string());
                    });
                    backoff(failures)
                }
            };
            tokio::select! {
                () = tokio::time::sleep(pause) => {}
                () = self.wake.notified() => {}
                _ = shutdown.changed() => return,
            }
            if *shutdown.borrow() {
                return;
            }
        }
    }
}

/// 1, 2, 4, 8, then 16 s after consecutive failures.
fn backoff(failures: u32) -> Duration {
    Duration::from_secs(1u64 << failures.clamp(1, 5).saturating_sub(1))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_backoff_grows_to_sixteen_seconds() {
        let secs: Vec<u64> = (1..=7).map(|f| backoff(f).as_secs()).collect();
        assert_eq!(secs, [1, 2, 4, 8, 16, 16, 16]);
    }
}
