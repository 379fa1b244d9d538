//! Property tests: the wire types survive a JSON round trip, and the station's batch
//! rule makes re-sent, duplicated and reordered batches harmless.
#![allow(clippy::unwrap_used)]

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};
use lifebridge_domain::entities::EntityKind;
use lifebridge_domain::hlc::Hlc;
use lifebridge_protocol::compress::{gunzip_limited, gzip};
use lifebridge_protocol::ingest::{Refusal, entry_digest, plan};
use lifebridge_protocol::records::{LocalChange, RemoteKind, RemoteRecord};
use lifebridge_protocol::wire::{
    AuditHead, ClientInfo, ErrorBody, ErrorCode, PullRequest, PullResponse, PushRequest,
    PushResponse, StationClock,
};
use proptest::prelude::*;
use uuid::Uuid;

fn hlc() -> impl Strategy<Value = Hlc> {
    (0u64..999_999_999_999_999, any::<u32>(), any::<u128>()).prop_map(|(wall_ms, counter, n)| Hlc {
        wall_ms,
        counter,
        node: Uuid::from_u128(n),
    })
}

fn instant() -> impl Strategy<Value = DateTime<Utc>> {
    (0i64..4_000_000_000_000).prop_map(|ms| DateTime::from_timestamp_millis(ms).unwrap())
}

fn clocks() -> impl Strategy<Value = Option<BTreeMap<String, Hlc>>> {
    proptest::option::of(proptest::collection::btree_map("[a-z_]{1,8}", hlc(), 0..4))
}

fn change(seq: u64) -> impl Strategy<Value = LocalChange> {
    (
        hlc(),
        proptest::sample::select(EntityKind::ALL.to_vec()),
        any::<u128>(),
        ".{0,40}",
        clocks(),
    )
        .prop_map(move |(hlc, entity, id, body, field_clocks)| LocalChange {
            seq,
            hlc,
            entity,
            entity_id: Uuid::from_u128(id),
            body,
            field_clocks,
        })
}

fn client() -> impl Strategy<Value = ClientInfo> {
    (any::<u32>(), any::<u32>(), instant()).prop_map(|(p, s, t)| ClientInfo {
        protocol_version: p,
        schema_version: s,
        device_time: t,
    })
}

fn station_clock() -> impl Strategy<Value = StationClock> {
    (instant(), instant(), 0u64..10_000_000)
        .prop_map(|(station, device, bound)| StationClock::compare(station, device, bound))
}

fn remote() -> impl Strategy<Value = RemoteRecord> {
    (
        proptest::sample::select(vec![
            RemoteKind::Donor,
            RemoteKind::Deferral,
            RemoteKind::Donation,
            RemoteKind::DinRange,
            RemoteKind::ReferenceDocument,
        ]),
        any::<u128>(),
        any::<u128>(),
        hlc(),
        ".{0,40}",
        clocks(),
    )
        .prop_map(|(kind, id, origin, hlc, body, field_clocks)| RemoteRecord {
            kind,
            id: Uuid::from_u128(id),
            origin_device: Uuid::from_u128(origin),
            hlc,
            body,
            field_clocks,
            target_device: None,
        })
}

fn round_trip<T>(value: &T)
where
    T: serde::Serialize + serde::de::DeserializeOwned + PartialEq + std::fmt::Debug,
{
    let json = serde_json::to_vec(value).unwrap();
    let back: T = serde_json::from_slice(&gunzip_limited(&gzip(&json), 1 << 24).unwrap()).unwrap();
    assert_eq!(&back, value);
}

proptest! {
    #[test]
    fn push_request_round_trips(client in client(), start in 1u64..1_000_000, n in 0usize..5,
                                seed in proptest::collection::vec(change(0), 5)) {
        let entries = seed.into_iter().take(n).enumerate()
            .map(|(i, mut e)| { e.seq = start + i as u64; e }).collect();
        round_trip(&PushRequest { client, entries, audit_head: Some(AuditHead { seq: start, hash: "ab".repeat(32) }) });
    }

    #[test]
    fn push_and_pull_answers_round_trip(held in any::<u64>(), stored in any::<u32>(),
                                        clock in station_clock(),
                                        records in proptest::collection::vec(remote(), 0..5),
                                        cursor in any::<u64>(), more in any::<bool>()) {
        round_trip(&PushResponse { held_seq: held, stored, clock: clock.clone() });
        round_trip(&PullResponse { records, cursor, more, lease_refused: None, held_seq: Some(held), clock });
    }

    #[test]
    fn pull_request_and_errors_round_trip(client in client(), after in any::<u64>(),
                                          limit in any::<u32>(),
                                          unused in proptest::option::of(any::<u64>()),
                                          expected in proptest::option::of(any::<u64>()),
                                          message in ".{0,30}") {
        round_trip(&PullRequest { client, after, limit, unused_dins: unused, leases: Vec::new() });
        round_trip(&ErrorBody { error: ErrorCode::SequenceGap, message,
                                expected_seq: expected, held_seq: None, conflicting_seq: None,
                                refused: None });
    }
}

/// A station reduced to its batch rule: what it holds per device.
#[derive(Default, Debug, PartialEq)]
struct ModelStation {
    held: BTreeMap<u32, u64>,
    entries: BTreeMap<(u32, u64), LocalChange>,
}

impl ModelStation {
    fn push(&mut self, device: u32, batch: &[LocalChange]) -> Result<u64, Refusal> {
        let held = self.held.get(&device).copied().unwrap_or(0);
        let digests = batch
            .iter()
            .filter_map(|e| self.entries.get(&(device, e.seq)))
            .map(|e| (e.seq, entry_digest(e)))
            .collect();
        let p = plan(held, batch, &digests)?;
        for e in &batch[p.new_from..] {
            assert!(self.entries.insert((device, e.seq), e.clone()).is_none());
        }
        self.held.insert(device, p.held_after);
        Ok(p.held_after)
    }
}

fn logs() -> impl Strategy<Value = Vec<Vec<LocalChange>>> {
    proptest::collection::vec(
        (1usize..30).prop_flat_map(|n| (1..=n as u64).map(change).collect::<Vec<_>>()),
        1..4,
    )
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(200))]

    /// Any interleaving of batches (re-sent, duplicated, out of order, some refused for
    /// gaps), followed by each device resuming from what the station says it holds,
    /// leaves the station with exactly each device's log: the same state as one clean
    /// in-order push.
    #[test]
    fn any_interleaving_of_resent_batches_yields_the_same_state(
        logs in logs(),
        deliveries in proptest::collection::vec((any::<u32>(), any::<u32>(), 1usize..10), 0..60),
    ) {
        let mut station = ModelStation::default();
        for (dev_pick, start_pick, len) in deliveries {
            let device = dev_pick as usize % logs.len();
            let log = &logs[device];
            let start = start_pick as usize % log.len();
            let end = (start + len).min(log.len());
            match station.push(device as u32, &log[start..end]) {
                Ok(_) | Err(Refusal::Gap { .. }) => {}
                Err(other) => prop_assert!(false, "unexpected refusal {other}"),
            }
        }
        // The network heals: each device resumes after what the station holds.
        for (device, log) in logs.iter().enumerate() {
            loop {
                let held = station.held.get(&(device as u32)).copied().unwrap_or(0) as usize;
                if held >= log.len() { break; }
                let end = (held + 7).min(log.len());
                station.push(device as u32, &log[held..end]).unwrap();
            }
        }
        let mut clean = ModelStation::default();
        for (device, log) in logs.iter().enumerate() {
            clean.push(device as u32, log).unwrap();
        }
        prop_assert_eq!(&station, &clean);
        for (device, log) in logs.iter().enumerate() {
            prop_assert_eq!(station.held[&(device as u32)], log.len() as u64);
        }
    }

    /// A held seq that comes back with other content is refused and changes nothing.
    #[test]
    fn a_reused_seq_with_other_content_is_refused(log in (2usize..10).prop_flat_map(|n| {
            (1..=n as u64).map(change).collect::<Vec<_>>()
        }), pick in any::<usize>()) {
        let mut station = ModelStation::default();
        station.push(0, &log).unwrap();
        let i = pick % log.len();
        let mut forged = log[i..].to_vec();
        forged[0].body.push('!');
        let before = station.entries.clone();
        prop_assert_eq!(station.push(0, &forged), Err(Refusal::Conflict { seq: log[i].seq }));
        prop_assert_eq!(station.entries, before);
    }
}
