//! The station's storage API ([`Storage`]), implemented once for every
//! [`Backend`]: each method is one transaction running one algorithm from the module
//! named for it (`ingest`, `feed`, `leases`, `devices`, `staff`, `manifests`, `desk`,
//! `appointments`).

use std::sync::Arc;

use async_trait::async_trait;
use chrono::{DateTime, NaiveDate, Utc};
use lifebridge_domain::cold_chain::Manifest;
use lifebridge_domain::entities::Appointment;
use lifebridge_domain::handoff::{DeskScan, HandoffRecord};
use lifebridge_protocol::records::{HeldLease, LocalChange};
use lifebridge_protocol::wire::AuditHead;
use serde::Serialize;
use uuid::Uuid;

use crate::desk::receipts::ReceiptRow;
use crate::devices::{DeviceKind, DeviceRecord};
use crate::feed::{PageBound, PullPage};
use crate::ingest::PushOutcome;
use crate::leases::{LeaseNeed, LeaseOutcome, LeasePolicy};
use crate::manifests::ManifestRow;
use crate::params;
use crate::rolls::RollRow;
use crate::staff::StaffRow;
use crate::statistics::{Statistics, StatisticsSources, latest_bodies};
use crate::storage::sql::{Backend, Mode, Tx, TxFuture};
use crate::storage::{Result, StorageError};
use crate::validate::Policy;
use crate::{
    appointments, desk, devices, feed, hub, ingest, leases, manifests, restore, rolls, staff,
};
use lifebridge_domain::din::DinRange;
use lifebridge_domain::messages::Message;

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct Counts {
    pub devices: u64,
    pub revoked_devices: u64,
    pub change_entries: u64,
    pub feed_records: u64,
    pub donors: u64,
    pub din_leases: u64,
}

/// One stored change entry, for audits and tests.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredEntry {
    pub seq: u64,
    pub digest: String,
}

#[async_trait]
pub trait Storage: Send + Sync + 'static {
    /// This station's id (made once, when the database is created).
    async fn station_id(&self) -> Result<Uuid>;
    async fn ping(&self) -> Result<()>;

    async fn create_enrollment(
        &self,
        name: &str,
        code_hash: &str,
        now: DateTime<Utc>,
        expires_at: DateTime<Utc>,
    ) -> Result<()> {
        self.create_enrollment_as(DeviceKind::Tablet, name, code_hash, now, expires_at)
            .await
    }
    /// An enrollment code whose redemption enrolls a device of `kind` (a bus hub).
    async fn create_enrollment_as(
        &self,
        kind: DeviceKind,
        name: &str,
        code_hash: &str,
        now: DateTime<Utc>,
        expires_at: DateTime<Utc>,
    ) -> Result<()>;
    /// Uses up an enrollment code and enrolls the device; `None` when the code is
    /// unknown, used or expired (or the device id is already enrolled).
    async fn redeem_enrollment(
        &self,
        code_hash: &str,
        device_id: Uuid,
        token_hash: &str,
        now: DateTime<Utc>,
    ) -> Result<Option<DeviceRecord>>;
    /// The enrolled, unrevoked device with this credential.
    async fn device_by_token(&self, token_hash: &str) -> Result<Option<DeviceRecord>>;
    /// The device with this credential even when revoked (to tell a revoked hub why).
    async fn device_by_token_even_revoked(&self, token_hash: &str) -> Result<Option<DeviceRecord>>;
    /// The device with this id, revoked or not.
    async fn device(&self, device_id: Uuid) -> Result<Option<DeviceRecord>>;
    async fn devices(&self) -> Result<Vec<DeviceRecord>>;
    /// Registers `tablet` as relayed by `hub` ([`devices::register_tablet`]); the inner
    /// error says why not (nothing is written).
    async fn register_tablet(
        &self,
        hub: Uuid,
        tablet: Uuid,
        name: &str,
        now: DateTime<Utc>,
    ) -> Result<Result<DeviceRecord, Message>>;
    /// Revokes by device id or name; `None` when no such active device exists.
    async fn revoke_device(
        &self,
        id_or_name: &str,
        now: DateTime<Utc>,
    ) -> Result<Option<DeviceRecord>>;

    /// Applies one batch in one transaction (see [`lifebridge_protocol::ingest`]). Takes the
    /// batch by value: it moves into the transaction without a copy.
    async fn push(
        &self,
        device_id: Uuid,
        entries: Vec<LocalChange>,
        audit_head: Option<AuditHead>,
        now: DateTime<Utc>,
        policy: Policy,
    ) -> Result<PushOutcome>;
    /// A page of what `device_id` pulls after `after`, after leasing it DINs when it
    /// runs low. A lease refused or failed never fails the pull: the page says why.
    async fn pull(
        &self,
        device_id: Uuid,
        after: u64,
        bound: PageBound,
        lease: Option<LeaseNeed>,
    ) -> Result<PullPage>;
    /// Where a pull from `after` starts: `after`, or the highest cursor this database
    /// handed the device when `after` is past it (restored from a backup), once the
    /// leases the device reports and this database lost are registered again
    /// ([`crate::restore::resume`]).
    async fn resume_pull(
        &self,
        device_id: Uuid,
        after: u64,
        leases: Vec<HeldLease>,
        policy: Option<LeasePolicy>,
        now: DateTime<Utc>,
    ) -> Result<u64>;
    /// Remembers the highest cursor handed to the device ([`crate::restore::pulled`]).
    async fn record_pulled(&self, device_id: Uuid, cursor: u64) -> Result<()>;
    /// Adds a rules table or questionnaire to the feed; `false` if that version exists.
    async fn publish_reference(
        &self,
        kind: &str,
        version: &str,
        document: &serde_json::Value,
        now: DateTime<Utc>,
    ) -> Result<bool>;

    /// Sends appointments to every device; one whose latest published version is
    /// identical is left out. Returns how many were published.
    async fn publish_appointments(
        &self,
        appointments: &[Appointment],
        now: DateTime<Utc>,
    ) -> Result<u32>;
    /// The latest published version of every appointment on `date`.
    async fn appointments_on(&self, date: NaiveDate) -> Result<Vec<Appointment>>;

    async fn counts(&self) -> Result<Counts>;
    /// Every entry held for a device, in seq order.
    async fn entries(&self, device_id: Uuid) -> Result<Vec<StoredEntry>>;
    /// The merged donor as the station holds it.
    async fn donor(&self, donor_id: Uuid) -> Result<Option<String>>;

    // The receiving desk (crate::receiving).

    /// Records a manifest loaded from its QR at the desk; compares it with the
    /// replicated copy if that arrived first.
    async fn put_manifest_qr(&self, manifest: &Manifest, now: DateTime<Utc>)
    -> Result<ManifestRow>;
    async fn manifest_row(&self, manifest_id: Uuid) -> Result<Option<ManifestRow>>;
    /// The latest manifests by dispatch time, newest first.
    async fn manifest_rows(&self, limit: u32) -> Result<Vec<ManifestRow>>;
    /// `false` when a staff member of that name exists (nothing is written). An account
    /// with a device role is also sent to every device, in the same transaction.
    async fn add_staff(&self, staff: &StaffRow) -> Result<bool>;
    async fn staff_by_name(&self, name: &str) -> Result<Option<StaffRow>>;
    /// Every account, open and closed, by name.
    async fn staff_list(&self) -> Result<Vec<StaffRow>>;
    /// Stores the account's roles, PIN hash and open/closed state (by `staff_id`; the
    /// name stays), and sends it to the devices again, in one transaction. `false` when
    /// there is no such account.
    async fn update_staff(&self, staff: &StaffRow, now: DateTime<Utc>) -> Result<bool>;
    async fn open_receipt(&self, receipt: &ReceiptRow) -> Result<()>;
    /// The receipt with its scans in scan order.
    async fn receipt(&self, receipt_id: Uuid) -> Result<Option<ReceiptRow>>;
    /// `false` when the receipt is unknown or already signed (nothing is written).
    async fn add_desk_scan(
        &self,
        receipt_id: Uuid,
        scan_id: Uuid,
        scan: &DeskScan,
        scanned_by: Uuid,
    ) -> Result<bool>;
    /// Stores the signed hand-off and sends it to each manifest's device, in one
    /// transaction; `false` when the receipt was signed already (nothing is written).
    async fn sign_receipt(&self, receipt_id: Uuid, record: &HandoffRecord) -> Result<bool>;
    /// The signed hand-off of a receipt, as stored.
    async fn handoff_of(&self, receipt_id: Uuid) -> Result<Option<String>>;
    /// What the statistics are computed from (the full read: every body held).
    async fn statistics_sources(&self) -> Result<StatisticsSources>;
    /// The figures for `date` from the tally kept at each push (what the page shows).
    async fn statistics(&self, date: NaiveDate) -> Result<Statistics>;
    /// The body of the latest published reference document of `kind` (`rules`).
    async fn latest_reference(&self, kind: &str) -> Result<Option<String>>;

    // The register of pre-printed DIN rolls (crate::rolls).

    /// Registers a pre-printed roll, handed to the device `device` (id or name) when
    /// given; the inner error says why not (nothing is written).
    async fn register_roll(
        &self,
        range: &DinRange,
        device: Option<&str>,
        now: DateTime<Utc>,
    ) -> Result<Result<RollRow, Message>>;
    /// Hands a registered roll to `device` (id or name), or to any device (`None`).
    async fn assign_roll(
        &self,
        roll_id: Uuid,
        device: Option<&str>,
    ) -> Result<Result<RollRow, Message>>;
    /// Every registered roll.
    async fn rolls(&self) -> Result<Vec<RollRow>>;

    /// A hub's link to its city station (`None` on a station that is no hub).
    async fn hub_upstream(&self) -> Result<Option<hub::store::Upstream>>;
    /// Keeps the link made at the hub's enrollment; `false` when it has one already.
    async fn hub_set_upstream(&self, link: hub::store::Upstream) -> Result<bool>;
    /// Holds the upstream link off (`true`) or lets it run; `false` when no hub.
    async fn hub_set_paused(&self, paused: bool) -> Result<bool>;
    /// The hub's tablets and how far the station holds each.
    async fn hub_tablets(&self) -> Result<Vec<hub::store::Tablet>>;
    /// Notes what the station answered for a tablet ([`hub::store::note_relay`]).
    async fn hub_note_relay(
        &self,
        device: Uuid,
        held_upstream: Option<u64>,
        registered_now: Option<DateTime<Utc>>,
        error: Option<String>,
    ) -> Result<()>;
    /// A tablet's entries after `after`, as it pushed them.
    async fn hub_entries_after(
        &self,
        device: Uuid,
        after: u64,
        limit: u32,
    ) -> Result<Vec<LocalChange>>;
    /// Imports a page pulled from the station, with its cursor ([`hub::store::import`]).
    async fn hub_import(
        &self,
        records: Vec<lifebridge_protocol::records::RemoteRecord>,
        cursor: u64,
        now: DateTime<Utc>,
    ) -> Result<hub::store::ImportOutcome>;
    /// DIN numbers the hub holds from the station and has not sub-leased.
    async fn hub_unleased(
        &self,
        facility: lifebridge_domain::din::FacilityId,
        year: u8,
    ) -> Result<u64>;
    /// The feed's last station seq, moved right after each commit that appends to it
    /// (`/v1/events`).
    fn feed_head(&self) -> tokio::sync::watch::Receiver<u64>;
}

/// Runs `work` over owned arguments `args` in one transaction. The arguments are
/// shared, not copied, when a backend runs `work` again.
async fn run<B, A, T>(
    backend: &B,
    mode: Mode,
    args: A,
    work: for<'a> fn(&'a mut dyn Tx, &'a A) -> TxFuture<'a, T>,
) -> Result<T>
where
    B: Backend,
    A: Send + Sync + 'static,
    T: Send + 'static,
{
    let args = Arc::new(args);
    backend
        .transact(mode, move |tx| {
            let args = args.clone();
            Box::pin(async move { work(tx, &args).await })
        })
        .await
}

use Mode::{Read, Write};

#[async_trait]
impl<B: Backend> Storage for B {
    fn feed_head(&self) -> tokio::sync::watch::Receiver<u64> {
        self.feed_watch()
    }

    async fn station_id(&self) -> Result<Uuid> {
        run(self, Read, (), |tx, ()| Box::pin(feed::station_id(tx))).await
    }

    async fn ping(&self) -> Result<()> {
        run(self, Read, (), |tx, ()| {
            Box::pin(async move { tx.query_one("SELECT 1", &[]).await.map(drop) })
        })
        .await
    }

    async fn create_enrollment_as(
        &self,
        kind: DeviceKind,
        name: &str,
        code_hash: &str,
        now: DateTime<Utc>,
        expires_at: DateTime<Utc>,
    ) -> Result<()> {
        let args = (kind, name.to_owned(), code_hash.to_owned(), now, expires_at);
        run(self, Write, args, |tx, (kind, name, code, now, expires)| {
            Box::pin(devices::create_enrollment(
                tx, *kind, name, code, *now, *expires,
            ))
        })
        .await
    }

    async fn redeem_enrollment(
        &self,
        code_hash: &str,
        device_id: Uuid,
        token_hash: &str,
        now: DateTime<Utc>,
    ) -> Result<Option<DeviceRecord>> {
        let args = (code_hash.to_owned(), device_id, token_hash.to_owned(), now);
        let outcome = run(self, Write, args, |tx, (code, device, token, now)| {
            Box::pin(devices::redeem_enrollment(tx, code, *device, token, *now))
        })
        .await;
        match outcome {
            Err(StorageError::Invalid(why)) if why == devices::ALREADY_ENROLLED => Ok(None),
            other => other,
        }
    }

    async fn device_by_token(&self, token_hash: &str) -> Result<Option<DeviceRecord>> {
        run(self, Read, token_hash.to_owned(), |tx, token| {
            Box::pin(devices::by_token(tx, token))
        })
        .await
    }

    async fn device_by_token_even_revoked(&self, token_hash: &str) -> Result<Option<DeviceRecord>> {
        run(self, Read, token_hash.to_owned(), |tx, token| {
            Box::pin(devices::by_token_even_revoked(tx, token))
        })
        .await
    }

    async fn device(&self, device_id: Uuid) -> Result<Option<DeviceRecord>> {
        run(self, Read, device_id, |tx, id| {
            Box::pin(devices::by_id(tx, *id))
        })
        .await
    }

    async fn devices(&self) -> Result<Vec<DeviceRecord>> {
        run(self, Read, (), |tx, ()| Box::pin(devices::all(tx))).await
    }

    async fn register_tablet(
        &self,
        hub: Uuid,
        tablet: Uuid,
        name: &str,
        now: DateTime<Utc>,
    ) -> Result<Result<DeviceRecord, Message>> {
        let args = (hub, tablet, name.to_owned(), now);
        run(self, Write, args, |tx, (hub, tablet, name, now)| {
            Box::pin(devices::register_tablet(tx, *hub, *tablet, name, *now))
        })
        .await
    }

    async fn revoke_device(
        &self,
        id_or_name: &str,
        now: DateTime<Utc>,
    ) -> Result<Option<DeviceRecord>> {
        run(
            self,
            Write,
            (id_or_name.to_owned(), now),
            |tx, (who, now)| Box::pin(devices::revoke(tx, who, *now)),
        )
        .await
    }

    async fn push(
        &self,
        device_id: Uuid,
        entries: Vec<LocalChange>,
        audit_head: Option<AuditHead>,
        now: DateTime<Utc>,
        policy: Policy,
    ) -> Result<PushOutcome> {
        let args = (device_id, entries, audit_head, now, policy);
        run(
            self,
            Write,
            args,
            |tx, (device, entries, head, now, policy)| {
                Box::pin(ingest::push(
                    tx,
                    *device,
                    entries,
                    head.as_ref(),
                    *now,
                    *policy,
                ))
            },
        )
        .await
    }

    async fn pull(
        &self,
        device_id: Uuid,
        after: u64,
        bound: PageBound,
        lease: Option<LeaseNeed>,
    ) -> Result<PullPage> {
        let lease_refused = match lease {
            None => None,
            Some(need) => lease_or_why(self, device_id, need).await,
        };
        let mut page = run(
            self,
            Read,
            (device_id, after, bound),
            |tx, (device, after, bound)| Box::pin(feed::pull_page(tx, *device, *after, *bound)),
        )
        .await?;
        page.lease_refused = lease_refused;
        Ok(page)
    }

    async fn resume_pull(
        &self,
        device_id: Uuid,
        after: u64,
        leases: Vec<HeldLease>,
        policy: Option<LeasePolicy>,
        now: DateTime<Utc>,
    ) -> Result<u64> {
        let args = (device_id, after, leases, policy, now);
        run(
            self,
            Write,
            args,
            |tx, (device, after, leases, policy, now)| {
                Box::pin(restore::resume(
                    tx,
                    *device,
                    *after,
                    leases,
                    policy.as_ref(),
                    *now,
                ))
            },
        )
        .await
    }

    async fn record_pulled(&self, device_id: Uuid, cursor: u64) -> Result<()> {
        run(self, Write, (device_id, cursor), |tx, (device, cursor)| {
            Box::pin(restore::pulled(tx, *device, *cursor))
        })
        .await
    }

    async fn publish_reference(
        &self,
        kind: &str,
        version: &str,
        document: &serde_json::Value,
        now: DateTime<Utc>,
    ) -> Result<bool> {
        let args = (kind.to_owned(), version.to_owned(), document.clone(), now);
        run(self, Write, args, |tx, (kind, version, document, now)| {
            Box::pin(feed::publish_reference(tx, kind, version, document, *now))
        })
        .await
    }

    async fn publish_appointments(
        &self,
        appointments: &[Appointment],
        now: DateTime<Utc>,
    ) -> Result<u32> {
        run(
            self,
            Write,
            (appointments.to_vec(), now),
            |tx, (list, now)| Box::pin(appointments::publish(tx, list, *now)),
        )
        .await
    }

    async fn appointments_on(&self, date: NaiveDate) -> Result<Vec<Appointment>> {
        run(self, Read, date, |tx, date| {
            Box::pin(appointments::on(tx, *date))
        })
        .await
    }

    async fn counts(&self) -> Result<Counts> {
        run(self, Read, (), |tx, ()| {
            Box::pin(async move {
                let r = tx
                    .query_one(
                        "SELECT (SELECT COUNT(*) FROM device WHERE revoked_at IS NULL),
                                (SELECT COUNT(*) FROM device WHERE revoked_at IS NOT NULL),
                                (SELECT COUNT(*) FROM change_entry),
                                (SELECT COUNT(*) FROM feed),
                                (SELECT COUNT(*) FROM donor_state),
                                (SELECT COUNT(*) FROM din_lease)",
                        &[],
                    )
                    .await?;
                Ok(Counts {
                    devices: r.count(0)?,
                    revoked_devices: r.count(1)?,
                    change_entries: r.count(2)?,
                    feed_records: r.count(3)?,
                    donors: r.count(4)?,
                    din_leases: r.count(5)?,
                })
            })
        })
        .await
    }

    async fn entries(&self, device_id: Uuid) -> Result<Vec<StoredEntry>> {
        run(self, Read, device_id, |tx, device| {
            Box::pin(async move {
                tx.query(
                    &format!("{} ORDER BY seq", ingest::HELD_ENTRIES),
                    params![*device],
                )
                .await?
                .iter()
                .map(|r| {
                    let (seq, digest) = ingest::held_digest(r)?;
                    Ok(StoredEntry { seq, digest })
                })
                .collect()
            })
        })
        .await
    }

    async fn donor(&self, donor_id: Uuid) -> Result<Option<String>> {
        run(self, Read, donor_id, |tx, donor| {
            Box::pin(async move {
                tx.query_opt(
                    "SELECT body FROM donor_state WHERE donor_id = ?1",
                    params![*donor],
                )
                .await?
                .map(|mut r| r.text(0))
                .transpose()
            })
        })
        .await
    }

    async fn put_manifest_qr(
        &self,
        manifest: &Manifest,
        now: DateTime<Utc>,
    ) -> Result<ManifestRow> {
        let body = serde_json::to_string(manifest)?;
        run(
            self,
            Write,
            (manifest.clone(), body, now),
            |tx, (m, body, now)| Box::pin(manifests::arrive(tx, m, body, true, *now)),
        )
        .await
    }

    async fn manifest_row(&self, manifest_id: Uuid) -> Result<Option<ManifestRow>> {
        run(self, Read, manifest_id, |tx, id| {
            Box::pin(manifests::load(tx, *id, false))
        })
        .await
    }

    async fn manifest_rows(&self, limit: u32) -> Result<Vec<ManifestRow>> {
        run(self, Read, limit, |tx, limit| {
            Box::pin(manifests::latest(tx, *limit))
        })
        .await
    }

    async fn add_staff(&self, staff: &StaffRow) -> Result<bool> {
        run(self, Write, staff.clone(), |tx, s| {
            Box::pin(staff::add(tx, s))
        })
        .await
    }

    async fn staff_by_name(&self, name: &str) -> Result<Option<StaffRow>> {
        run(self, Read, name.to_owned(), |tx, name| {
            Box::pin(staff::by_name(tx, name))
        })
        .await
    }

    async fn staff_list(&self) -> Result<Vec<StaffRow>> {
        run(self, Read, (), |tx, ()| Box::pin(staff::list(tx))).await
    }

    async fn update_staff(&self, staff: &StaffRow, now: DateTime<Utc>) -> Result<bool> {
        run(self, Write, (staff.clone(), now), |tx, (s, now)| {
            Box::pin(staff::update(tx, s, *now))
        })
        .await
    }

    async fn open_receipt(&self, receipt: &ReceiptRow) -> Result<()> {
        run(self, Write, receipt.clone(), |tx, r| {
            Box::pin(desk::receipts::open_receipt(tx, r))
        })
        .await
    }

    async fn receipt(&self, receipt_id: Uuid) -> Result<Option<ReceiptRow>> {
        run(self, Read, receipt_id, |tx, id| {
            Box::pin(desk::receipts::receipt(tx, *id))
        })
        .await
    }

    async fn add_desk_scan(
        &self,
        receipt_id: Uuid,
        scan_id: Uuid,
        scan: &DeskScan,
        scanned_by: Uuid,
    ) -> Result<bool> {
        let args = (receipt_id, scan_id, scan.clone(), scanned_by);
        run(self, Write, args, |tx, (receipt, scan_id, scan, by)| {
            Box::pin(desk::receipts::add_scan(tx, *receipt, *scan_id, scan, *by))
        })
        .await
    }

    async fn sign_receipt(&self, receipt_id: Uuid, record: &HandoffRecord) -> Result<bool> {
        run(
            self,
            Write,
            (receipt_id, record.clone()),
            |tx, (id, record)| Box::pin(desk::receipts::sign(tx, *id, record)),
        )
        .await
    }

    async fn handoff_of(&self, receipt_id: Uuid) -> Result<Option<String>> {
        run(self, Read, receipt_id, |tx, id| {
            Box::pin(desk::receipts::handoff_of(tx, *id))
        })
        .await
    }

    async fn statistics_sources(&self) -> Result<StatisticsSources> {
        run(self, Read, (), |tx, ()| Box::pin(statistics_sources(tx))).await
    }

    async fn statistics(&self, date: NaiveDate) -> Result<Statistics> {
        run(self, Read, date, |tx, date| {
            Box::pin(crate::statistics::tally::statistics(tx, *date))
        })
        .await
    }

    async fn latest_reference(&self, kind: &str) -> Result<Option<String>> {
        run(self, Read, kind.to_owned(), |tx, kind| {
            Box::pin(feed::latest_reference(tx, kind))
        })
        .await
    }

    async fn register_roll(
        &self,
        range: &DinRange,
        device: Option<&str>,
        now: DateTime<Utc>,
    ) -> Result<Result<RollRow, Message>> {
        let args = (range.clone(), device.map(str::to_owned), now);
        run(self, Write, args, |tx, (range, device, now)| {
            Box::pin(rolls::register(tx, range, device.as_deref(), *now))
        })
        .await
    }

    async fn assign_roll(
        &self,
        roll_id: Uuid,
        device: Option<&str>,
    ) -> Result<Result<RollRow, Message>> {
        let args = (roll_id, device.map(str::to_owned));
        run(self, Write, args, |tx, (roll, device)| {
            Box::pin(rolls::assign(tx, *roll, device.as_deref()))
        })
        .await
    }

    async fn rolls(&self) -> Result<Vec<RollRow>> {
        run(self, Read, (), |tx, ()| Box::pin(rolls::list(tx))).await
    }

    async fn hub_upstream(&self) -> Result<Option<hub::store::Upstream>> {
        run(self, Read, (), |tx, ()| Box::pin(hub::store::upstream(tx))).await
    }

    async fn hub_set_upstream(&self, link: hub::store::Upstream) -> Result<bool> {
        run(self, Write, link, |tx, link| {
            Box::pin(hub::store::set_upstream(tx, link))
        })
        .await
    }

    async fn hub_set_paused(&self, paused: bool) -> Result<bool> {
        run(self, Write, paused, |tx, paused| {
            Box::pin(hub::store::set_paused(tx, *paused))
        })
        .await
    }

    async fn hub_tablets(&self) -> Result<Vec<hub::store::Tablet>> {
        run(self, Read, (), |tx, ()| Box::pin(hub::store::tablets(tx))).await
    }

    async fn hub_note_relay(
        &self,
        device: Uuid,
        held_upstream: Option<u64>,
        registered_now: Option<DateTime<Utc>>,
        error: Option<String>,
    ) -> Result<()> {
        let args = (device, held_upstream, registered_now, error);
        run(
            self,
            Write,
            args,
            |tx, (device, held, registered, error)| {
                Box::pin(hub::store::note_relay(
                    tx,
                    *device,
                    *held,
                    *registered,
                    error.as_deref(),
                ))
            },
        )
        .await
    }

    async fn hub_entries_after(
        &self,
        device: Uuid,
        after: u64,
        limit: u32,
    ) -> Result<Vec<LocalChange>> {
        run(self, Read, (device, after, limit), |tx, (d, a, l)| {
            Box::pin(hub::store::entries_after(tx, *d, *a, *l))
        })
        .await
    }

    async fn hub_import(
        &self,
        records: Vec<lifebridge_protocol::records::RemoteRecord>,
        cursor: u64,
        now: DateTime<Utc>,
    ) -> Result<hub::store::ImportOutcome> {
        run(self, Write, (records, cursor, now), |tx, (r, c, now)| {
            Box::pin(hub::store::import(tx, r, *c, *now))
        })
        .await
    }

    async fn hub_unleased(
        &self,
        facility: lifebridge_domain::din::FacilityId,
        year: u8,
    ) -> Result<u64> {
        run(self, Read, (facility, year), |tx, (f, y)| {
            Box::pin(hub::store::unleased(tx, f, *y))
        })
        .await
    }
}

/// Leases in its own transaction; what to tell the device when no lease was made. A
/// failure is logged and told as such: the pull that asked goes on (new deferrals must
/// still reach the device).
async fn lease_or_why<B: Backend>(
    backend: &B,
    device_id: Uuid,
    need: LeaseNeed,
) -> Option<lifebridge_domain::messages::Message> {
    let outcome = run(backend, Write, (device_id, need), |tx, (device, need)| {
        Box::pin(leases::lease(tx, *device, need))
    })
    .await;
    match outcome {
        Ok(LeaseOutcome::Refused(why)) => Some(why),
        Ok(LeaseOutcome::NotNeeded | LeaseOutcome::Leased(_)) => None,
        Err(e) => {
            tracing::error!(%device_id, "DIN lease failed; the pull goes on: {e}");
            Some(lifebridge_domain::messages::Message::new(
                "din_lease.failed",
            ))
        }
    }
}

async fn statistics_sources(tx: &mut dyn Tx) -> Result<StatisticsSources> {
    let mut latest = Vec::new();
    for entity in ["donation", "screening", "drive"] {
        let rows = tx
            .query(
                "SELECT entity_id, body FROM change_entry WHERE entity = ?1 ORDER BY device_id, seq",
                params![entity],
            )
            .await?
            .into_iter()
            .map(|mut r| Ok((r.text(0)?, r.text(1)?)))
            .collect::<Result<Vec<_>>>()?;
        latest.push(latest_bodies(rows));
    }
    let donors = tx
        .query("SELECT body FROM donor_state ORDER BY donor_id", &[])
        .await?
        .into_iter()
        .map(|mut r| r.text(0))
        .collect::<Result<Vec<_>>>()?;
    let [donations, screenings, drives]: [Vec<String>; 3] = latest
        .try_into()
        .map_err(|_| StorageError::Database("three entity kinds read".into()))?;
    Ok(StatisticsSources {
        donations,
        screenings,
        drives,
        donors,
    })
}
