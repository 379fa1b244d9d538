//! The device's background replicator: push this device's changes, then pull what the
//! station has for it, page by page; on failure wait with exponential backoff and
//! jitter, probing the station until it answers again.
//!
//! It keeps no state of its own: both cursors live in the device store and move only
//! in the same transaction as what they describe (or after the station has durably
//! acknowledged), so killing the app at any point loses nothing and repeats at most
//! one batch, which the station recognises and skips.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use chrono::{DateTime, Utc};
use lifebridge_store::Store;
use tokio::sync::{Notify, watch};

use crate::SyncError;
use crate::client::StationClient;
use lifebridge_domain::entities::EntityKind;
use lifebridge_domain::messages::Message;
use lifebridge_protocol::records::LocalChange;
use lifebridge_protocol::wire::{ClockWarning, ErrorCode, MAX_BATCH_ENTRIES, RefusedEntry};

#[derive(Debug, Clone)]
pub struct ReplicatorConfig {
    /// Change-log entries in the first push request ([`BatchSize`] adapts it).
    pub batch_size: u32,
    /// The most entries one push request grows to (at most the station's
    /// [`MAX_BATCH_ENTRIES`]).
    pub max_batch_size: u32,
    /// Records per pull page.
    pub page_size: u32,
    /// Time between syncs while everything works.
    pub interval: Duration,
    /// First wait after a failure; doubles up to `backoff_max`, with full jitter.
    pub backoff_base: Duration,
    pub backoff_max: Duration,
    /// Keep the station's `/v1/events` stream open while running and sync as soon as it
    /// says the feed moved past this device's pull cursor (a bus hub's tablets see each
    /// other's records within a second). Off, only the interval and the waker sync.
    pub live: bool,
}

impl Default for ReplicatorConfig {
    fn default() -> Self {
        ReplicatorConfig {
            batch_size: 500,
            max_batch_size: MAX_BATCH_ENTRIES as u32,
            page_size: 500,
            interval: Duration::from_secs(60),
            backoff_base: Duration::from_secs(2),
            backoff_max: Duration::from_secs(300),
            live: true,
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Phase {
    #[default]
    Idle,
    Pushing,
    Pulling,
    /// Waiting to retry after a failure.
    Backoff,
}

/// What the app shows the crew.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SyncStatus {
    pub phase: Phase,
    /// Own changes the station has not acknowledged.
    pub pending: u64,
    pub last_success: Option<DateTime<Utc>>,
    pub last_error: Option<String>,
    pub consecutive_failures: u32,
    /// Set while the station says this device's clock is far off.
    pub clock_warning: Option<ClockWarning>,
    /// The entry the station refused at the last push, with its reason (a catalogue
    /// message for the crew); cleared once a sync succeeds.
    pub refused: Option<RefusedEntry>,
    /// Why the station made no DIN lease at the last pull although this device runs
    /// low (a cap, numbers used up, a failure): a catalogue message for the crew.
    /// Records still synced; cleared by the next pull that leases or needs no lease.
    pub lease_refused: Option<Message>,
    /// Since when the station (or bus hub) has not answered: the first failed contact
    /// after the last one that worked (a sync, a probe, the event stream opening).
    /// `None` while it answers.
    pub unreachable_since: Option<DateTime<Utc>>,
}

impl SyncStatus {
    /// A contact with the station failed; `unreachable` when nothing answered at all.
    fn contact_failed(&mut self, unreachable: bool) {
        if unreachable && self.unreachable_since.is_none() {
            self.unreachable_since = Some(Utc::now());
        }
    }
}

/// Leases granted this many days ago or later are reported with every pull: more than
/// any station backup that is restored will be old.
pub const LEASES_REPORTED_DAYS: i64 = 400;

/// What the pull of one sync learnt.
#[derive(Debug, Clone, Copy, Default)]
struct Pulled {
    /// The highest seq the station holds for this device, when it says.
    held_seq: Option<u64>,
    /// The station moved the pull cursor back (it was restored from a backup).
    rewound: bool,
}

/// An entry of this device's change log, as a refusal names it.
#[derive(Debug, Clone, Copy)]
struct LocalName {
    seq: u64,
    entity: EntityKind,
    entity_id: uuid::Uuid,
}

impl LocalName {
    fn of(entry: &LocalChange) -> LocalName {
        LocalName {
            seq: entry.seq,
            entity: entry.entity,
            entity_id: entry.entity_id,
        }
    }
}

/// The refusal of a tablet the station is ahead of (restored from a backup), naming the
/// entry at which it noticed.
fn behind_entry(held: u64, last: u64, at: LocalName) -> RefusedEntry {
    RefusedEntry {
        seq: at.seq,
        entity: at.entity,
        entity_id: at.entity_id,
        reason: Message::new("sync.tablet_behind_station")
            .with("held", held.to_string())
            .with("last", last.to_string()),
    }
}

/// What one successful sync did.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SyncReport {
    pub pushed: u64,
    pub push_requests: u32,
    pub bytes_sent: u64,
    pub pulled: u64,
    pub skipped: Vec<String>,
}

/// The size of the next push request. The station makes one durable commit per
/// acknowledged batch, so a backlog moves fastest in large batches, while a flaky link
/// wastes least in small ones: the batch starts at the configured size, doubles after
/// each acknowledged round trip up to its cap, and halves after a failed one. A 413 (the
/// body is larger than the station takes) halves it and lowers the cap to that size, so
/// it does not grow back into the same refusal.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct BatchSize {
    current: u32,
    cap: u32,
}

impl BatchSize {
    /// Starts at `start` and grows to `max`, both kept within 1..=[`MAX_BATCH_ENTRIES`].
    pub fn new(start: u32, max: u32) -> BatchSize {
        let cap = max.clamp(1, MAX_BATCH_ENTRIES as u32);
        BatchSize {
            current: start.clamp(1, cap),
            cap,
        }
    }

    pub fn get(self) -> u32 {
        self.current
    }

    pub fn cap(self) -> u32 {
        self.cap
    }

    /// The station acknowledged a batch.
    pub fn acknowledged(&mut self) {
        self.current = self.current.saturating_mul(2).min(self.cap);
    }

    /// A request of `sent` entries failed on the way (no answer, a 5xx).
    pub fn failed(&mut self, sent: u32) {
        self.current = (sent.min(self.current) / 2).max(1);
    }

    /// A request of `sent` entries was refused as too large (413). `false` when it held
    /// one entry: nothing smaller can be sent.
    pub fn too_large(&mut self, sent: u32) -> bool {
        if sent <= 1 {
            return false;
        }
        self.failed(sent);
        self.cap = self.current;
        true
    }
}

pub struct Replicator {
    store: Arc<Mutex<Store>>,
    client: StationClient,
    config: ReplicatorConfig,
    /// Kept between syncs (a long-lived replicator keeps what it learnt of the link);
    /// never held across an await.
    batch: Mutex<BatchSize>,
    status: watch::Sender<SyncStatus>,
    wake: Arc<Notify>,
}

/// Runs a store call off the async threads.
async fn with_store<T: Send + 'static>(
    store: &Arc<Mutex<Store>>,
    f: impl FnOnce(&mut Store) -> lifebridge_store::Result<T> + Send + 'static,
) -> Result<T, SyncError> {
    let store = store.clone();
    tokio::task::spawn_blocking(move || {
        let mut guard = store
            .lock()
            .map_err(|_| SyncError::Config("the device store lock is poisoned".into()))?;
        f(&mut guard).map_err(SyncError::Store)
    })
    .await
    .map_err(|e| SyncError::Config(format!("store task failed: {e}")))?
}

/// `base · 2^(failures-1)`, capped, then a uniformly random part of it ("full jitter"),
/// so a fleet of buses that lost the station together does not return in lockstep.
pub fn backoff_delay(config: &ReplicatorConfig, failures: u32) -> Duration {
    let exp = failures.saturating_sub(1).min(20);
    let ceiling = config
        .backoff_base
        .saturating_mul(1u32 << exp)
        .min(config.backoff_max);
    let fraction: f64 = rand::random();
    ceiling.mul_f64(0.5 + fraction / 2.0)
}

impl Replicator {
    pub fn new(
        store: Arc<Mutex<Store>>,
        client: StationClient,
        config: ReplicatorConfig,
    ) -> (Replicator, watch::Receiver<SyncStatus>) {
        let (status, rx) = watch::channel(SyncStatus::default());
        let batch = Mutex::new(BatchSize::new(config.batch_size, config.max_batch_size));
        (
            Replicator {
                store,
                client,
                config,
                batch,
                status,
                wake: Arc::new(Notify::new()),
            },
            rx,
        )
    }

    /// Wakes the background loop now (e.g. the crew tapped "sync", or the OS reported
    /// a network).
    pub fn waker(&self) -> Arc<Notify> {
        self.wake.clone()
    }

    pub fn status(&self) -> watch::Receiver<SyncStatus> {
        self.status.subscribe()
    }

    fn set(&self, f: impl FnOnce(&mut SyncStatus)) {
        self.status.send_modify(f);
    }

    /// Reads or adjusts the push batch size.
    fn batch<T>(&self, f: impl FnOnce(&mut BatchSize) -> T) -> T {
        // The lock guards two integers; a panic elsewhere cannot leave them inconsistent.
        let mut guard = self
            .batch
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        f(&mut guard)
    }

    /// One full sync: push everything pending, then pull every page.
    pub async fn sync_once(&self) -> Result<SyncReport, SyncError> {
        let result = self.sync_inner().await;
        let pending = with_store(&self.store, |s| s.pending_changes()).await.ok();
        match &result {
            Ok(_) => self.set(|st| {
                st.phase = Phase::Idle;
                st.last_success = Some(Utc::now());
                st.last_error = None;
                st.unreachable_since = None;
                st.refused = None;
                st.consecutive_failures = 0;
                if let Some(p) = pending {
                    st.pending = p;
                }
            }),
            Err(e) => {
                let message = e.to_string();
                let refused = match e {
                    SyncError::Refused(r) => Some((**r).clone()),
                    _ => None,
                };
                let unreachable = matches!(e, SyncError::Unreachable(_));
                self.set(|st| {
                    st.phase = Phase::Idle;
                    st.contact_failed(unreachable);
                    // Whatever else failed, the station did answer.
                    if !unreachable {
                        st.unreachable_since = None;
                    }
                    st.last_error = Some(message);
                    if refused.is_some() {
                        st.refused = refused;
                    }
                    st.consecutive_failures = st.consecutive_failures.saturating_add(1);
                    if let Some(p) = pending {
                        st.pending = p;
                    }
                });
            }
        }
        result
    }

    async fn sync_inner(&self) -> Result<SyncReport, SyncError> {
        let mut report = SyncReport::default();
        let mut refused = self.push_all(&mut report).await?;
        let pulled = self.pull_all(&mut report).await?;
        if let Some(held) = pulled.held_seq {
            let (cursor, last) = with_store(&self.store, |s| {
                Ok((s.push_cursor()?, s.last_change_seq()?))
            })
            .await?;
            if held > last && refused.is_none() {
                // The station holds entries this device no longer has: it was restored
                // from a backup, and whatever it writes next reuses their numbers. (A
                // reused number the push met already says so, more precisely.)
                let at = with_store(&self.store, move |s| {
                    Ok(s.changes_after(last.saturating_sub(1), 1)?.pop())
                })
                .await?;
                match at {
                    Some(e) => {
                        refused = Some(Box::new(behind_entry(held, last, LocalName::of(&e))));
                    }
                    None => {
                        let why = Message::new("sync.tablet_behind_station")
                            .with("held", held.to_string())
                            .with("last", last.to_string());
                        return Err(SyncError::Protocol(why.to_string()));
                    }
                }
            } else if held < cursor || (pulled.rewound && refused.is_some()) {
                // The station holds less than it acknowledged, or pulled us back: it was
                // restored from a backup. Push again from what it holds; the leases it
                // lost were reported with this pull, so donations numbered from them pass.
                tracing::warn!(
                    held,
                    cursor,
                    "the station holds less than it acknowledged (restored from a backup?); pushing again from there"
                );
                if held < cursor {
                    with_store(&self.store, move |s| s.set_push_cursor(held)).await?;
                }
                refused = self.push_all(&mut report).await?;
            }
        }
        match refused {
            Some(entry) => Err(SyncError::Refused(entry)),
            None => Ok(report),
        }
    }

    /// Pushes every pending entry; an entry the station refuses (or a sequence number it
    /// holds with other content) is returned, not an error, so the pull still runs.
    async fn push_all(
        &self,
        report: &mut SyncReport,
    ) -> Result<Option<Box<RefusedEntry>>, SyncError> {
        self.set(|st| st.phase = Phase::Pushing);
        // Each round trip either moves the cursor forward or is answered with the seq
        // the station needs; a station that keeps asking for the same thing is broken.
        let mut stalled = 0;
        // An entry the station refused: what precedes it is still pushed, and the pull
        // goes on (new deferrals must still arrive); the sync then fails, so the entry
        // is offered again only after the backoff, never in a tight loop.
        let mut refused: Option<Box<RefusedEntry>> = None;
        loop {
            let batch = self.batch(|b| b.get());
            let (mut entries, pending, last_seq, head) = with_store(&self.store, move |s| {
                let cursor = s.push_cursor()?;
                Ok((
                    s.changes_after(cursor, batch)?,
                    s.pending_changes()?,
                    s.last_change_seq()?,
                    s.audit_head()?,
                ))
            })
            .await?;
            self.set(|st| st.pending = pending);
            if let Some(r) = &refused {
                entries.retain(|e| e.seq < r.seq);
            }
            let Some(first) = entries.first().map(|e| e.seq) else {
                break;
            };
            let last = entries.last().map_or(first, |e| e.seq);
            let count = u32::try_from(entries.len()).unwrap_or(u32::MAX);
            // What names an entry in a refusal, kept as the batch moves into the request.
            let names: Vec<LocalName> = entries.iter().map(LocalName::of).collect();
            let new_cursor = match self
                .client
                .push_with_head(entries, head.clone())
                .await
                .map_err(SyncError::from)
            {
                Ok((answer, sent)) => {
                    // The station now holds this head: `store check` verifies against it.
                    if let Some(head) = head {
                        with_store(&self.store, move |s| s.set_acked_audit_head(&head)).await?;
                    }
                    self.batch(BatchSize::acknowledged);
                    report.pushed += u64::from(answer.stored);
                    report.push_requests += 1;
                    report.bytes_sent += sent as u64;
                    self.set(|st| st.clock_warning = answer.clock.clock_warning.clone());
                    if answer.held_seq < last {
                        return Err(SyncError::Protocol(format!(
                            "the station accepted the batch {first}..={last} but holds only up to {}",
                            answer.held_seq
                        )));
                    }
                    if answer.held_seq > last_seq {
                        // Everything sent is held as sent; the station holds more than
                        // this device ever wrote: it was restored from a backup.
                        with_store(&self.store, move |s| s.set_push_cursor(last)).await?;
                        if let Some(at) = names.last() {
                            refused = Some(Box::new(behind_entry(answer.held_seq, last_seq, *at)));
                        }
                        break;
                    }
                    answer.held_seq
                }
                Err(SyncError::Station { body, .. }) if body.error == ErrorCode::SequenceGap => {
                    let expected = body.expected_seq.ok_or_else(|| {
                        SyncError::Protocol("sequence_gap answer without expected_seq".into())
                    })?;
                    tracing::warn!(
                        expected,
                        first,
                        "station needs earlier entries; resending from there"
                    );
                    expected.saturating_sub(1)
                }
                Err(SyncError::Station { body, .. })
                    if body.error == ErrorCode::SequenceConflict =>
                {
                    // The station holds this seq with other content: this device reused
                    // numbers, so it was restored from a backup. Nothing more of it can be
                    // stored under this device's id; the crew is told what to do.
                    let seq = body.conflicting_seq.unwrap_or(first);
                    let at = names
                        .iter()
                        .find(|n| n.seq == seq)
                        .or(names.first())
                        .copied()
                        .ok_or_else(|| SyncError::Protocol("an empty batch conflicted".into()))?;
                    tracing::error!(
                        seq,
                        "the station holds this seq with other content: tablet restored from a backup?"
                    );
                    refused = Some(Box::new(RefusedEntry {
                        seq: at.seq,
                        entity: at.entity,
                        entity_id: at.entity_id,
                        reason: Message::new("sync.tablet_restored")
                            .with("seq", at.seq.to_string()),
                    }));
                    break;
                }
                Err(SyncError::Station { body, .. }) if body.error == ErrorCode::EntryRefused => {
                    let entry = body.refused.ok_or_else(|| {
                        SyncError::Protocol("entry_refused answer without the refused entry".into())
                    })?;
                    tracing::warn!(seq = entry.seq, reason = %entry.reason, "the station refused an entry");
                    if refused.is_some() || entry.seq <= first {
                        refused = Some(entry);
                        break;
                    }
                    refused = Some(entry);
                    continue;
                }
                Err(SyncError::Station { status, body })
                    if status == 413 || body.error == ErrorCode::BodyTooLarge =>
                {
                    if self.batch(|b| b.too_large(count)) {
                        tracing::warn!(count, "push too large for the station; halving the batch");
                        continue;
                    }
                    return Err(SyncError::Station { status, body });
                }
                Err(e) => {
                    if matches!(&e, SyncError::Unreachable(_))
                        || matches!(&e, SyncError::Station { status, .. } if *status >= 500)
                    {
                        self.batch(|b| b.failed(count));
                    }
                    return Err(e);
                }
            };
            let progressed = new_cursor >= first;
            with_store(&self.store, move |s| s.set_push_cursor(new_cursor)).await?;
            if progressed {
                stalled = 0;
            } else {
                stalled += 1;
                if stalled > 3 {
                    return Err(SyncError::Protocol(format!(
                        "the station keeps asking for seq {} but refuses it",
                        new_cursor + 1
                    )));
                }
            }
        }
        if refused.is_none() {
            self.set(|st| st.pending = 0);
        }
        Ok(refused)
    }

    /// Pulls every page, reporting the leases this device holds with each request.
    async fn pull_all(&self, report: &mut SyncReport) -> Result<Pulled, SyncError> {
        self.set(|st| st.phase = Phase::Pulling);
        // Pages come until the station says there are no more (a page ends at
        // `page_size` records or at the station's byte bound). The DIN count goes with
        // the first page only: the station counts leases the device has not pulled yet
        // itself, so asking once per sync is enough.
        let mut first_page = true;
        let mut pulled = Pulled::default();
        loop {
            let (after, unused, leases) = with_store(&self.store, |s| {
                Ok((
                    s.pull_cursor()?,
                    s.unused_leased_dins()?,
                    s.held_leases(LEASES_REPORTED_DAYS)?,
                ))
            })
            .await?;
            let ask = first_page.then_some(unused);
            let page = self
                .client
                .pull_reporting(after, self.config.page_size, ask, leases)
                .await?;
            self.set(|st| {
                st.clock_warning = page.clock.clock_warning.clone();
                if first_page {
                    st.lease_refused = page.lease_refused.clone();
                }
            });
            if let Some(why) = &page.lease_refused {
                tracing::warn!(code = %why.code, "the station made no DIN lease");
            }
            first_page = false;
            let more = page.more;
            let n = page.records.len() as u64;
            let cursor = page.cursor;
            pulled.held_seq = page.held_seq.or(pulled.held_seq);
            let records = page.records;
            let applied =
                with_store(&self.store, move |s| s.apply_remote(&records, cursor)).await?;
            report.pulled += n;
            report.skipped.extend(applied.skipped);
            if cursor < after {
                // A station restored from a backup pulls this device back to the last
                // cursor it remembers handing it; once per sync, or it is broken.
                if pulled.rewound {
                    return Err(SyncError::Protocol(format!(
                        "the station moved the pull cursor back twice (to {cursor})"
                    )));
                }
                tracing::warn!(
                    after,
                    cursor,
                    "the station pulled this device back (restored from a backup?)"
                );
                pulled.rewound = true;
                continue;
            }
            if !more || cursor <= after {
                break;
            }
        }
        Ok(pulled)
    }

    /// Runs until `shutdown` turns true: sync, wait, sync again; after a failure, wait
    /// with backoff and probe the station before the next full attempt. A wake (a local
    /// commit, the crew's "sync now") or an event saying the station's feed moved past
    /// this device's cursor ([`ReplicatorConfig::live`]) ends the wait at once.
    pub async fn run(self, shutdown: watch::Receiver<bool>) {
        tokio::join!(
            self.sync_loop(shutdown.clone()),
            self.follow_events(shutdown)
        );
    }

    /// Keeps one `/v1/events` stream open and wakes the sync loop when the feed moves
    /// past this device's pull cursor. A stream that fails or ends is opened again after
    /// the same backoff as a failed sync; nothing else waits on it.
    async fn follow_events(&self, mut shutdown: watch::Receiver<bool>) {
        if !self.config.live {
            return;
        }
        let mut failures: u32 = 0;
        loop {
            if *shutdown.borrow() {
                return;
            }
            let opened = tokio::select! {
                opened = self.client.events() => opened,
                _ = shutdown.changed() => return,
            };
            let broke = match opened {
                Ok(mut events) => {
                    failures = 0;
                    self.set(|st| st.unreachable_since = None);
                    loop {
                        let next = tokio::select! {
                            next = events.next() => next,
                            _ = shutdown.changed() => return,
                        };
                        match next {
                            Some(Ok(cursor)) => self.heard(cursor).await,
                            Some(Err(e)) => break Some(SyncError::from(e)),
                            None => break None,
                        }
                    }
                }
                Err(e) => Some(SyncError::from(e)),
            };
            if let Some(e) = broke {
                tracing::debug!(error = %e, "the station's event stream failed");
                let unreachable = matches!(e, SyncError::Unreachable(_));
                self.set(|st| st.contact_failed(unreachable));
            }
            failures = failures.saturating_add(1);
            tokio::select! {
                () = tokio::time::sleep(backoff_delay(&self.config, failures)) => {}
                _ = shutdown.changed() => return,
            }
        }
    }

    /// The station's feed reached `cursor`: sync now if that is past this device's pull
    /// cursor (a record this device pushed itself moves the feed too, but its own sync
    /// has pulled past it by the time the event comes).
    async fn heard(&self, cursor: u64) {
        let pulled = with_store(&self.store, |s| s.pull_cursor()).await;
        if pulled.map_or(true, |pulled| cursor > pulled) {
            self.wake.notify_one();
        }
    }

    async fn sync_loop(&self, mut shutdown: watch::Receiver<bool>) {
        let mut failures: u32 = 0;
        loop {
            if *shutdown.borrow() {
                return;
            }
            let ok = if failures > 0 {
                match self.client.probe().await {
                    Ok(()) => self.sync_once().await.is_ok(),
                    Err(e) => {
                        let message = e.to_string();
                        let unreachable = matches!(e, crate::client::ClientError::Unreachable(_));
                        self.set(|st| {
                            st.contact_failed(unreachable);
                            st.last_error = Some(message);
                            st.consecutive_failures = st.consecutive_failures.saturating_add(1);
                        });
                        false
                    }
                }
            } else {
                self.sync_once().await.is_ok()
            };
            let wait = if ok {
                failures = 0;
                self.config.interval
            } else {
                failures = failures.saturating_add(1);
                self.set(|st| st.phase = Phase::Backoff);
                backoff_delay(&self.config, failures)
            };
            tokio::select! {
                () = tokio::time::sleep(wait) => {}
                () = self.wake.notified() => {}
                _ = shutdown.changed() => {}
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_batch_grows_after_acknowledged_round_trips_up_to_its_cap() {
        let mut b = BatchSize::new(500, MAX_BATCH_ENTRIES as u32);
        let mut sizes = vec![b.get()];
        for _ in 0..4 {
            b.acknowledged();
            sizes.push(b.get());
        }
        assert_eq!(sizes, [500, 1000, 2000, 2000, 2000]);
    }

    #[test]
    fn the_cap_never_exceeds_what_the_station_takes() {
        let mut b = BatchSize::new(50_000, 100_000);
        assert_eq!(b.get(), MAX_BATCH_ENTRIES as u32);
        b.acknowledged();
        assert_eq!(b.get(), MAX_BATCH_ENTRIES as u32);
        assert_eq!(
            BatchSize::new(0, 0).get(),
            1,
            "an empty setting still sends"
        );
        assert_eq!(
            ReplicatorConfig::default().max_batch_size,
            MAX_BATCH_ENTRIES as u32
        );
    }

    #[test]
    fn a_failure_halves_the_batch_and_growth_resumes() {
        let mut b = BatchSize::new(800, 2000);
        b.failed(800);
        assert_eq!(b.get(), 400);
        // A short last batch that failed halves from what was sent.
        b.failed(30);
        assert_eq!(b.get(), 15);
        b.acknowledged();
        assert_eq!(b.get(), 30);
        for _ in 0..10 {
            b.failed(b.get());
        }
        assert_eq!(b.get(), 1, "never below one entry");
        for _ in 0..20 {
            b.acknowledged();
        }
        assert_eq!(b.get(), 2000, "a failure does not lower the cap");
    }

    #[test]
    fn a_413_halves_the_batch_and_lowers_the_cap() {
        let mut b = BatchSize::new(2000, 2000);
        assert!(b.too_large(2000));
        assert_eq!((b.get(), b.cap()), (1000, 1000));
        b.acknowledged();
        assert_eq!(b.get(), 1000, "it does not grow back into the refusal");
        assert!(b.too_large(1000));
        assert_eq!(b.get(), 500);
        let mut one = BatchSize::new(1, 2000);
        assert!(
            !one.too_large(1),
            "one entry too large: nothing smaller to send"
        );
    }
}

/// What enrollment keeps in the device store's `sync_state` under
/// [`crate::STATION_KEY`]: where the station is, who it is, this device's credential,
/// and the station's name for this device (the one its desk and manifests show).
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct EnrolledStation {
    pub url: String,
    pub station_id: uuid::Uuid,
    pub token: String,
    /// Absent in stores enrolled before the name was kept.
    #[serde(default)]
    pub device_name: Option<String>,
}

/// The station this device enrolled with, if it has.
pub fn enrolled_station(
    store: &Store,
) -> Result<Option<EnrolledStation>, lifebridge_store::StoreError> {
    store
        .sync_value(crate::STATION_KEY)?
        .map(serde_json::from_value)
        .transpose()
        .map_err(lifebridge_store::StoreError::from)
}

/// The name the station enrolled this device under, once enrolled.
pub fn enrolled_name(store: &Store) -> Result<Option<String>, lifebridge_store::StoreError> {
    Ok(enrolled_station(store)?.and_then(|station| station.device_name))
}

/// Exchanges an enrollment code for a credential and keeps it (and the station's
/// address) in the device store's `sync_state`.
pub async fn enroll(
    store: &Arc<Mutex<Store>>,
    client: &StationClient,
    code: &str,
    device_name: &str,
) -> Result<String, SyncError> {
    let device_id = with_store(store, |s| Ok(s.device_id())).await?;
    let answer = client.enroll(code, device_id, device_name).await?;
    let token = answer.token.clone();
    let base = client.base_url().to_owned();
    with_store(store, move |s| {
        let enrolled = EnrolledStation {
            url: base,
            station_id: answer.station_id,
            token: answer.token,
            device_name: Some(answer.device_name),
        };
        s.set_sync_value(crate::STATION_KEY, &serde_json::to_value(enrolled)?)
    })
    .await?;
    Ok(token)
}
