//! What travels inside the requests and answers of [`crate::wire`]: the entries of a
//! device's change log it pushes, the records a station sends down, and the bodies of the
//! kinds only the station writes (staff accounts, reference documents).

use lifebridge_domain::entities::{EntityKind, RecordId};
use lifebridge_domain::hlc::Hlc;
use lifebridge_domain::merge::FieldClocks;
use serde::{Deserialize, Serialize};
use uuid::Uuid;

/// One entry of this device's change log, as pushed to the station.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LocalChange {
    pub seq: u64,
    pub hlc: Hlc,
    pub entity: EntityKind,
    pub entity_id: RecordId,
    /// The row's JSON exactly as stored, so a re-sent entry can be compared byte for byte.
    pub body: String,
    /// Donors only: which fields this device changed when, derived from its change log.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub field_clocks: Option<FieldClocks>,
}

/// What a pulled record is, and so where it goes in the device store.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RemoteKind {
    /// The station's merged donor (per-field last-writer-wins).
    Donor,
    Deferral,
    /// A donation made on another device, so eligibility works offline. One writer:
    /// a later version from it (the collection finished) replaces the earlier by clock.
    Donation,
    /// A DIN range the station leased to this device.
    DinRange,
    /// A rules table or questionnaire: body is `{"kind", "version", "document"}`.
    ReferenceDocument,
    /// A donor booked for a site and day; a later record with the same id replaces it.
    Appointment,
    /// The hand-off the station's receiving desk signed for this device's manifest
    /// (`lifebridge_domain::handoff::HandoffRecord`); final once written.
    Handoff,
    /// A staff account the station issued ([`StaffAccount`]), so one person has one
    /// name and one PIN on every tablet and at the receiving desk. The station is its
    /// only writer: the record pulled last is its latest word.
    Staff,
    /// A drive opened on another tablet of the same bus (one writer: the tablet that
    /// opened it; its later version, the drive ended, replaces the earlier by clock), so
    /// every tablet of the bus works in the one drive the crew lead opened. Only a hub
    /// sends it (`feed::bus_item`); a city station keeps drives.
    Drive,
    /// A donor checked in on another tablet of the bus: the queue's entry. Written once.
    Visit,
    /// The physician's screening and decision recorded on another tablet of the bus, so
    /// the chair sees who was accepted and eligibility sees it. Written once
    /// (corrections are new records with `supersedes`).
    Screening,
    /// The chair's release of a bag (every label scanned back) on another tablet of the
    /// bus, so the crew lead's tablet can end the drive. Written once.
    DonationRelease,
}

impl RemoteKind {
    pub const ALL: [RemoteKind; 12] = [
        RemoteKind::Donor,
        RemoteKind::Deferral,
        RemoteKind::Donation,
        RemoteKind::DinRange,
        RemoteKind::ReferenceDocument,
        RemoteKind::Appointment,
        RemoteKind::Handoff,
        RemoteKind::Staff,
        RemoteKind::Drive,
        RemoteKind::Visit,
        RemoteKind::Screening,
        RemoteKind::DonationRelease,
    ];

    /// The name in the feed, reports and audit entries.
    pub fn as_str(self) -> &'static str {
        match self {
            RemoteKind::Donor => "donor",
            RemoteKind::Deferral => "deferral",
            RemoteKind::Donation => "donation",
            RemoteKind::DinRange => "din_range",
            RemoteKind::ReferenceDocument => "reference_document",
            RemoteKind::Appointment => "appointment",
            RemoteKind::Handoff => "handoff",
            RemoteKind::Staff => "staff",
            RemoteKind::Drive => "drive",
            RemoteKind::Visit => "visit",
            RemoteKind::Screening => "screening",
            RemoteKind::DonationRelease => "donation_release",
        }
    }

    pub fn parse(text: &str) -> Option<RemoteKind> {
        RemoteKind::ALL
            .into_iter()
            .find(|kind| kind.as_str() == text)
    }
}

/// The body of a [`RemoteKind::Staff`] record: the account and its argon2id PIN hash.
/// Hashes of accounts made on a device never leave it; the station's own accounts
/// carry theirs down, so staff can sign in on a tablet that has never seen them, offline.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct StaffAccount {
    pub staff: lifebridge_domain::entities::Staff,
    pub pin_hash: String,
}

/// One record pulled from the station.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RemoteRecord {
    pub kind: RemoteKind,
    pub id: RecordId,
    /// The device that wrote the record (the station's own id for leases and documents).
    pub origin_device: Uuid,
    pub hlc: Hlc,
    pub body: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub field_clocks: Option<FieldClocks>,
    /// The one device the record is addressed to (a DIN lease, a hand-off), when the
    /// station sends it to a hub for one of its tablets; absent on records for every
    /// device and on those addressed to the puller itself. A tablet ignores it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub target_device: Option<Uuid>,
}

/// A DIN range a device holds from a station's lease ([`crate::wire::PullRequest::leases`]):
/// the lease's id as the station sent it and its numbers.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct HeldLease {
    pub lease_id: Uuid,
    pub range: lifebridge_domain::din::DinRange,
}

/// The body of a [`RemoteKind::ReferenceDocument`] record.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ReferenceDocumentBody {
    /// `rules` or `questionnaire`.
    pub kind: String,
    pub version: String,
    pub document: serde_json::Value,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_remote_kind_parses_back_from_its_name_and_its_json() {
        for kind in RemoteKind::ALL {
            assert_eq!(RemoteKind::parse(kind.as_str()), Some(kind));
            assert_eq!(
                serde_json::to_value(kind).ok(),
                Some(serde_json::json!(kind.as_str()))
            );
        }
        assert_eq!(RemoteKind::parse("nothing"), None);
    }
}
