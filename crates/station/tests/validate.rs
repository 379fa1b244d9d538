//! The station trusts no device (docs/security.md, "What the station checks on every
//! push"): every pushed entry is checked before anything of its batch is written, and a
//! refused entry refuses the batch with 422 naming it and why, for both backends.
#![allow(clippy::unwrap_used)]

mod common;
mod fixture;

use chrono::{Duration, Utc};
use common::records::*;
use common::{Backend, Device, TestStation, enroll, start};
use lifebridge_domain::Din;
use lifebridge_domain::entities::{Deferral, EntityKind};
use lifebridge_domain::hlc::Hlc;
use lifebridge_domain::merge::FieldClocks;
use lifebridge_protocol::records::LocalChange;
use lifebridge_protocol::wire::MAX_CLOCK_LEAD_MS;
use lifebridge_station::staff::new_staff;
use lifebridge_station::validate::Policy;
use lifebridge_sync::SyncError;
use uuid::Uuid;

async fn metrics(ts: &TestStation) -> String {
    // reqwest is built without a default TLS provider; the builder insists on one.
    let _ = rustls::crypto::ring::default_provider().install_default();
    reqwest::Client::new()
        .get(format!("{}/metrics", ts.url()))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap()
}

/// A station with two enrolled buses, A and B.
async fn two_buses(backend: Backend) -> Option<(TestStation, Device, Device)> {
    let ts = start(backend, None).await?;
    let url = ts.url();
    let a = enroll(&ts, &url, "BUS-A").await;
    let b = enroll(&ts, &url, "BUS-B").await;
    Some((ts, a, b))
}

async fn physician(ts: &TestStation, name: &str, roles: &str) -> Uuid {
    let row = new_staff(name, roles, "246813", Utc::now()).unwrap();
    assert!(ts.storage.add_staff(&row).await.unwrap());
    row.staff_id
}

async fn a_lift_of_another_vehicles_permanent_deferral_is_refused_and_never_reaches_another_device(
    backend: Backend,
) {
    let Some(ts) = start(backend, None).await else {
        return;
    };
    let url = ts.url();
    let (a, b, c) = (
        enroll(&ts, &url, "BUS-A").await,
        enroll(&ts, &url, "BUS-B").await,
        enroll(&ts, &url, "BUS-C").await,
    );
    let doctor = physician(&ts, "体检医生 王强", "physician").await;
    let d = Uuid::now_v7();
    let permanent = deferral(d, None, None, doctor);
    let now = now_ms();
    push(
        &ts,
        &a,
        vec![
            entry(a.id, 1, EntityKind::Donor, d, &donor(d), now),
            entry(a.id, 2, EntityKind::Deferral, permanent.id, &permanent, now),
        ],
    )
    .await
    .unwrap();
    // Bus B, even signed by a physician the station issued, cannot lift it.
    let lift = deferral(d, Some(today()), Some(permanent.id), doctor);
    let before = ts.storage.counts().await.unwrap();
    let why = refused(push_one(&ts, &b, 1, EntityKind::Deferral, lift.id, &lift).await);
    assert_eq!(
        (why.seq, why.entity, why.entity_id),
        (1, EntityKind::Deferral, lift.id)
    );
    assert_eq!(why.reason.code, "push_refused.lift_permanent");
    assert_eq!(
        ts.storage.counts().await.unwrap(),
        before,
        "nothing was written"
    );
    assert!(ts.storage.entries(b.id).await.unwrap().is_empty());
    // The other device still gets the deferral, and never the lift.
    let ids = pulled_ids(&ts, &c).await;
    assert!(ids.contains(&permanent.id));
    assert!(!ids.contains(&lift.id));
    assert!(
        metrics(&ts)
            .await
            .contains("lifebridge_push_refusals_total{reason=\"push_refused.lift_permanent\"} 1"),
    );
}

async fn a_lift_names_a_deferral_of_the_same_donor_and_a_station_physician(backend: Backend) {
    let Some((ts, a, b)) = two_buses(backend).await else {
        return;
    };
    let doctor = physician(&ts, "体检医生 王强", "physician").await;
    let driver = physician(&ts, "司机 周勇", "driver").await;
    let (d, other) = (Uuid::now_v7(), Uuid::now_v7());
    let temporary = deferral(d, Some(today() + Duration::days(30)), None, doctor);
    let now = now_ms();
    push(
        &ts,
        &a,
        vec![
            entry(a.id, 1, EntityKind::Donor, d, &donor(d), now),
            entry(a.id, 2, EntityKind::Donor, other, &donor(other), now),
            entry(a.id, 3, EntityKind::Deferral, temporary.id, &temporary, now),
        ],
    )
    .await
    .unwrap();
    let attempt = |lift: Deferral| entry(b.id, 1, EntityKind::Deferral, lift.id, &lift, now_ms());
    for (lift, code) in [
        (
            deferral(other, Some(today()), Some(temporary.id), doctor),
            "push_refused.lift_other_donor",
        ),
        (
            deferral(d, Some(today()), Some(Uuid::now_v7()), doctor),
            "push_refused.lift_unknown",
        ),
        (
            deferral(d, Some(today()), Some(temporary.id), driver),
            "push_refused.lift_not_physician",
        ),
        (
            // An account the device made itself is not one the station knows.
            deferral(d, Some(today()), Some(temporary.id), Uuid::now_v7()),
            "push_refused.lift_not_physician",
        ),
    ] {
        let why = refused(push(&ts, &b, vec![attempt(lift)]).await);
        assert_eq!(why.reason.code, code);
    }
    // A station physician lifting a temporary deferral of the same donor is accepted,
    // and a lift of that lift is not a deferral to lift.
    let lift = deferral(d, Some(today()), Some(temporary.id), doctor);
    assert_eq!(push(&ts, &b, vec![attempt(lift.clone())]).await.unwrap(), 1);
    assert!(pulled_ids(&ts, &a).await.contains(&lift.id));
    let again = deferral(d, Some(today()), Some(lift.id), doctor);
    let why = refused(push_one(&ts, &b, 2, EntityKind::Deferral, again.id, &again).await);
    assert_eq!(why.reason.code, "push_refused.lift_of_lift");
}

async fn a_future_clock_donor_version_is_refused(backend: Backend) {
    let Some(ts) = start(backend, None).await else {
        return;
    };
    let url = ts.url();
    let a = enroll(&ts, &url, "BUS-A").await;
    let d = Uuid::now_v7();
    let mut year_ahead = donor(d);
    year_ahead.phone = Some("13800000000".into());
    let ahead = now_ms() + 365 * 86_400_000;
    let why = refused(
        push(
            &ts,
            &a,
            vec![entry(a.id, 1, EntityKind::Donor, d, &year_ahead, ahead)],
        )
        .await,
    );
    assert_eq!(why.reason.code, "push_refused.clock_ahead");
    assert!(ts.storage.donor(d).await.unwrap().is_none());
    assert!(ts.storage.entries(a.id).await.unwrap().is_empty());
    // Field clocks are clocks too: one far ahead refuses the entry as well.
    let mut sneaky = entry(a.id, 1, EntityKind::Donor, d, &year_ahead, now_ms());
    let clocks: FieldClocks = [(
        "phone".to_owned(),
        Hlc {
            wall_ms: ahead,
            counter: 0,
            node: a.id,
        },
    )]
    .into();
    sneaky.field_clocks = Some(clocks);
    let why = refused(push(&ts, &a, vec![sneaky]).await);
    assert_eq!(why.reason.code, "push_refused.field_clocks_invalid");
    // A clock a little fast (inside the bound) is accepted: it is a warning, not a refusal.
    let fast = now_ms() + MAX_CLOCK_LEAD_MS / 2;
    assert_eq!(
        push(
            &ts,
            &a,
            vec![entry(a.id, 1, EntityKind::Donor, d, &donor(d), fast)]
        )
        .await
        .unwrap(),
        1
    );
    // An entry stamped by another device's clock is not this device's to push.
    let other = Uuid::now_v7();
    let mut forged = entry(a.id, 2, EntityKind::Donor, other, &donor(other), now_ms());
    forged.hlc.node = Uuid::now_v7();
    let why = refused(push(&ts, &a, vec![forged]).await);
    assert_eq!(why.reason.code, "push_refused.other_writer");
}

async fn a_donation_with_a_din_outside_the_devices_leases_is_refused(backend: Backend) {
    let Some((ts, a, b)) = two_buses(backend).await else {
        return;
    };
    let d = Uuid::now_v7();
    let now = now_ms();
    let register = entry(a.id, 1, EntityKind::Donor, d, &donor(d), now);
    let training: Din = Din::new(&"Z9999".parse().unwrap(), 26, 1).unwrap();
    for din in [leased_din(&b, 0), training.clone()] {
        let stolen = donation(d, din);
        let why = refused(
            push(
                &ts,
                &a,
                vec![
                    register.clone(),
                    entry(a.id, 2, EntityKind::Donation, stolen.id, &stolen, now),
                ],
            )
            .await,
        );
        assert_eq!(
            (why.seq, why.reason.code.as_str()),
            (2, "push_refused.din_not_leased")
        );
        assert!(
            ts.storage.entries(a.id).await.unwrap().is_empty(),
            "nothing was written"
        );
    }
    let own = donation(d, leased_din(&a, 0));
    assert_eq!(
        push(
            &ts,
            &a,
            vec![
                register,
                entry(a.id, 2, EntityKind::Donation, own.id, &own, now)
            ],
        )
        .await
        .unwrap(),
        2
    );
    assert!(pulled_ids(&ts, &b).await.contains(&own.id));
    // A station run for demos and training takes the training facility's numbers too.
    let demo = donation(d, training);
    let outcome = ts
        .storage
        .push(
            a.id,
            vec![entry(
                a.id,
                3,
                EntityKind::Donation,
                demo.id,
                &demo,
                now_ms(),
            )],
            None,
            Utc::now(),
            Policy { training: true },
        )
        .await
        .unwrap();
    assert_eq!(outcome.held_seq, 3);
    // A donation for a donor neither the station nor the batch knows is refused too.
    let nobody = donation(Uuid::now_v7(), leased_din(&a, 1));
    let why = refused(push_one(&ts, &a, 4, EntityKind::Donation, nobody.id, &nobody).await);
    assert_eq!(why.reason.code, "push_refused.donor_unknown");
}

async fn a_malformed_body_is_refused_with_nothing_written(backend: Backend) {
    let Some((ts, a, b)) = two_buses(backend).await else {
        return;
    };
    let d = Uuid::now_v7();
    let now = now_ms();
    let register = entry(a.id, 1, EntityKind::Donor, d, &donor(d), now);
    let before = ts.storage.counts().await.unwrap();
    let mut broken = entry(a.id, 2, EntityKind::Donation, Uuid::now_v7(), &(), now);
    broken.body = r#"{"id": "not a uuid", "din": 5"#.into();
    let renamed = entry(a.id, 2, EntityKind::Donor, Uuid::now_v7(), &donor(d), now);
    let manifest = common_manifest(b.id);
    let foreign = entry(a.id, 2, EntityKind::Manifest, manifest.id, &manifest, now);
    let mut huge = entry(a.id, 2, EntityKind::Donor, d, &donor(d), now);
    huge.body = format!(
        "{{\"pad\": \"{}\"}}",
        "x".repeat(lifebridge_protocol::wire::MAX_ENTRY_BODY_BYTES)
    );
    for (bad, code) in [
        (broken, "push_refused.body_unreadable"),
        (renamed, "push_refused.id_mismatch"),
        (foreign, "push_refused.other_device"),
        (huge, "push_refused.body_too_large"),
    ] {
        let why = refused(push(&ts, &a, vec![register.clone(), bad]).await);
        assert_eq!((why.seq, why.reason.code.as_str()), (2, code));
        assert_eq!(
            ts.storage.counts().await.unwrap(),
            before,
            "{code}: nothing was written"
        );
    }
    assert!(ts.storage.donor(d).await.unwrap().is_none());
}

/// A manifest as `device` would sign it (the receiving fixture's shape).
fn common_manifest(device: Uuid) -> lifebridge_domain::cold_chain::Manifest {
    fixture::manifest(device, 1, 2, Utc::now() - Duration::hours(1))
}

async fn a_refused_entry_is_shown_and_the_pull_goes_on(backend: Backend) {
    // One number per lease, so the device runs out and the demo seeder numbers the
    // next donation from a training range, which no station accepts.
    let din = lifebridge_station::config::DinConfig {
        facility: "A9999".into(),
        reserve: 1,
        lease_size: 1,
        start_sequence: 1,
        ..Default::default()
    };
    let Some(ts) = start(backend, Some(din)).await else {
        return;
    };
    let url = ts.url();
    let (a, b) = (
        enroll(&ts, &url, "BUS-A").await,
        enroll(&ts, &url, "BUS-B").await,
    );
    a.seed(1);
    a.seed(1);
    let replicator = a.replicator(&url);
    let status = replicator.status();
    // Meanwhile bus B defers a donor: bus A must still receive it.
    let doctor = physician(&ts, "体检医生 王强", "physician").await;
    let d = Uuid::now_v7();
    let permanent = deferral(d, None, None, doctor);
    let now = now_ms();
    push(
        &ts,
        &b,
        vec![
            entry(b.id, 1, EntityKind::Donor, d, &donor(d), now),
            entry(b.id, 2, EntityKind::Deferral, permanent.id, &permanent, now),
        ],
    )
    .await
    .unwrap();
    for attempt in 0..2 {
        let err = replicator.sync_once().await.unwrap_err();
        let SyncError::Refused(why) = &err else {
            panic!("expected a refusal, got {err}");
        };
        assert_eq!(why.entity, EntityKind::Donation);
        assert_eq!(why.reason.code, "push_refused.din_not_leased");
        // What came before the refused entry is at the station; nothing after it.
        let held = ts.storage.entries(a.id).await.unwrap();
        assert_eq!(
            held.last().map(|e| e.seq),
            Some(why.seq - 1),
            "attempt {attempt}"
        );
        // The crew sees the refusal and the pending entries, and the pull went on.
        let st = status.borrow().clone();
        assert_eq!(st.refused.as_ref().map(|r| r.seq), Some(why.seq));
        assert!(st.pending > 0);
        assert_eq!(st.consecutive_failures, attempt + 1);
        let deferrals: i64 = a
            .store
            .lock()
            .unwrap()
            .connection()
            .query_row(
                "SELECT COUNT(*) FROM deferral WHERE id = ?1",
                [permanent.id.to_string()],
                |r| r.get(0),
            )
            .unwrap();
        assert_eq!(deferrals, 1, "the deferral from the other bus arrived");
    }
}

/// A NUL character (U+0000) in any text of a body: PostgreSQL cannot store it in a text
/// column, and no name, document or note has one. Refused as a named entry on both
/// backends (it was a 5xx on PostgreSQL once a donor's fields reached the statistics).
async fn a_nul_character_in_a_body_is_refused_with_nothing_written(backend: Backend) {
    let Some((ts, a, _)) = two_buses(backend).await else {
        return;
    };
    let d = Uuid::now_v7();
    let mut body = donor(d);
    body.name = "张\u{0}三".into();
    let before = ts.storage.counts().await.unwrap();
    let why = refused(push_one(&ts, &a, 1, EntityKind::Donor, d, &body).await);
    assert_eq!((why.seq, why.entity_id), (1, d));
    assert_eq!(why.reason.code, "push_refused.body_nul");
    assert_eq!(
        ts.storage.counts().await.unwrap(),
        before,
        "nothing was written"
    );
    // A backslash the person typed followed by "u0000" is text, not a NUL.
    let mut typed = donor(d);
    typed.name = "张\\u0000三".into();
    push_one(&ts, &a, 1, EntityKind::Donor, d, &typed)
        .await
        .unwrap();
}

/// A screening that accepts the donor carries the donor's consent, well formed, and a
/// witness the station knows; a donation starts from a screening with a consent.
async fn an_acceptance_without_a_valid_consent_is_refused(backend: Backend) {
    use lifebridge_domain::consent::{Consent, ConsentSignature};
    use lifebridge_domain::entities::PhysicianDecision;
    let Some((ts, a, _b)) = two_buses(backend).await else {
        return;
    };
    let witness = physician(&ts, "登记护士 李敏", "registration").await;
    let d = Uuid::now_v7();
    let now = now_ms();
    push(
        &ts,
        &a,
        vec![entry(a.id, 1, EntityKind::Donor, d, &donor(d), now)],
    )
    .await
    .unwrap();
    let signed = lifebridge_store::demo::signed_consent("GB18467-2011-C1");
    let witnessed = |by: Uuid| Consent {
        signature: ConsentSignature::Witnessed {
            witness_id: by,
            reason: "右手受伤，无法签名".into(),
        },
        ..signed.clone()
    };
    let dot = Consent {
        signature: ConsentSignature::Signed {
            strokes: vec![vec![[500, 200]; 20]],
        },
        ..signed.clone()
    };
    let before = ts.storage.counts().await.unwrap();
    for (consent, code, field) in [
        (None, "push_refused.consent_missing", None),
        (
            Some(dot),
            "push_refused.consent_invalid",
            Some("consent.signature.strokes"),
        ),
        (
            Some(witnessed(Uuid::now_v7())),
            "push_refused.consent_witness_unknown",
            None,
        ),
    ] {
        let s = screening(d, PhysicianDecision::Accept, consent);
        let why = refused(push_one(&ts, &a, 2, EntityKind::Screening, s.id, &s).await);
        assert_eq!(
            (why.seq, why.entity, why.entity_id, why.reason.code.as_str()),
            (2, EntityKind::Screening, s.id, code)
        );
        if let Some(field) = field {
            let text = why.reason.render(lifebridge_domain::messages::Lang::En);
            assert!(text.contains(field) && text.contains("too small"), "{text}");
        }
        assert_eq!(
            ts.storage.counts().await.unwrap(),
            before,
            "{code}: nothing written"
        );
    }
    // A witness the station issued, and a deferral the donor did not sign for.
    let accepted = screening(d, PhysicianDecision::Accept, Some(witnessed(witness)));
    let deferred = screening(
        d,
        PhysicianDecision::Defer {
            code: "HBSAG_POSITIVE".into(),
            until: None,
        },
        None,
    );
    push(
        &ts,
        &a,
        vec![
            entry(
                a.id,
                2,
                EntityKind::Screening,
                accepted.id,
                &accepted,
                now_ms(),
            ),
            entry(
                a.id,
                3,
                EntityKind::Screening,
                deferred.id,
                &deferred,
                now_ms(),
            ),
        ],
    )
    .await
    .unwrap();
    // A donation from the held screening without consent is refused; from the
    // consented one it is taken.
    let mut bad = donation(d, leased_din(&a, 0));
    bad.screening_id = deferred.id;
    let why = refused(push_one(&ts, &a, 4, EntityKind::Donation, bad.id, &bad).await);
    assert_eq!(why.reason.code, "push_refused.donation_without_consent");
    let mut good = donation(d, leased_din(&a, 0));
    good.screening_id = accepted.id;
    assert_eq!(
        push_one(&ts, &a, 4, EntityKind::Donation, good.id, &good)
            .await
            .unwrap(),
        1
    );
}

both_backends! {
    an_acceptance_without_a_valid_consent_is_refused =>
        super::an_acceptance_without_a_valid_consent_is_refused;
    a_refused_entry_is_shown_and_the_pull_goes_on =>
        super::a_refused_entry_is_shown_and_the_pull_goes_on;
    a_lift_of_another_vehicles_permanent_deferral_is_refused_and_never_reaches_another_device =>
        super::a_lift_of_another_vehicles_permanent_deferral_is_refused_and_never_reaches_another_device;
    a_lift_names_a_deferral_of_the_same_donor_and_a_station_physician =>
        super::a_lift_names_a_deferral_of_the_same_donor_and_a_station_physician;
    a_future_clock_donor_version_is_refused => super::a_future_clock_donor_version_is_refused;
    a_donation_with_a_din_outside_the_devices_leases_is_refused =>
        super::a_donation_with_a_din_outside_the_devices_leases_is_refused;
    a_malformed_body_is_refused_with_nothing_written =>
        super::a_malformed_body_is_refused_with_nothing_written;
    a_nul_character_in_a_body_is_refused_with_nothing_written =>
        super::a_nul_character_in_a_body_is_refused_with_nothing_written;
}

/// Arbitrary and mutated bodies of every entity kind, pushed straight to the storage
/// after a valid donor in the same batch: the station never panics, and a batch is
/// either stored whole or not at all.
mod bodies {
    use super::*;
    use lifebridge_protocol::ingest::Refusal;
    use lifebridge_station::storage::StorageError;
    use proptest::prelude::*;

    /// Bodies the station accepts as they are, about donor `d`.
    fn valid_bodies(device: Uuid, d: Uuid, din: Din) -> Vec<(EntityKind, String)> {
        let doctor = Uuid::now_v7();
        let temporary = deferral(d, Some(today() + Duration::days(7)), None, doctor);
        vec![
            (EntityKind::Donor, serde_json::to_string(&donor(d)).unwrap()),
            (
                EntityKind::Deferral,
                serde_json::to_string(&temporary).unwrap(),
            ),
            (
                EntityKind::Donation,
                serde_json::to_string(&donation(d, din)).unwrap(),
            ),
            (
                EntityKind::Manifest,
                serde_json::to_string(&common_manifest(device)).unwrap(),
            ),
        ]
    }

    #[derive(Debug, Clone)]
    enum Mutation {
        Arbitrary(String),
        Splice {
            at: usize,
            len: usize,
            text: String,
        },
        Truncate(usize),
        Field {
            nth: usize,
            value: serde_json::Value,
        },
    }

    fn json_value() -> impl Strategy<Value = serde_json::Value> {
        prop_oneof![
            Just(serde_json::Value::Null),
            any::<bool>().prop_map(serde_json::Value::from),
            any::<i64>().prop_map(serde_json::Value::from),
            ".{0,20}".prop_map(serde_json::Value::from),
            Just(serde_json::json!({"id": "00000000-0000-0000-0000-000000000000"})),
            Just(serde_json::json!([1, "a", null])),
        ]
    }

    fn mutation() -> impl Strategy<Value = Mutation> {
        prop_oneof![
            ".{0,200}".prop_map(Mutation::Arbitrary),
            (any::<usize>(), 0usize..8, ".{0,8}").prop_map(|(at, len, text)| Mutation::Splice {
                at,
                len,
                text
            }),
            any::<usize>().prop_map(Mutation::Truncate),
            (any::<usize>(), json_value()).prop_map(|(nth, value)| Mutation::Field { nth, value }),
        ]
    }

    fn mutate(body: &str, m: &Mutation) -> String {
        let chars: Vec<char> = body.chars().collect();
        match m {
            Mutation::Arbitrary(text) => text.clone(),
            Mutation::Splice { at, len, text } => {
                let at = at % (chars.len() + 1);
                let end = (at + len).min(chars.len());
                let mut out: String = chars[..at].iter().collect();
                out.push_str(text);
                out.extend(&chars[end..]);
                out
            }
            Mutation::Truncate(n) => chars[..n % (chars.len() + 1)].iter().collect(),
            Mutation::Field { nth, value } => {
                let mut v: serde_json::Value = serde_json::from_str(body).unwrap();
                if let Some(map) = v.as_object_mut() {
                    let keys: Vec<String> = map.keys().cloned().collect();
                    let key = &keys[nth % keys.len()];
                    map.insert(key.clone(), value.clone());
                }
                v.to_string()
            }
        }
    }

    /// A runtime for the property's cases to block on, a station and one enrolled bus.
    fn station_and_bus(backend: Backend) -> Option<(tokio::runtime::Runtime, TestStation, Device)> {
        let rt = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .enable_all()
            .build()
            .unwrap();
        let (ts, a) = rt.block_on(async {
            let ts = start(backend, None).await?;
            let a = enroll(&ts, &ts.url(), "BUS-A").await;
            Some((ts, a))
        })?;
        Some((rt, ts, a))
    }

    fn run(backend: Backend) {
        let Some((rt, ts, a)) = station_and_bus(backend) else {
            return;
        };
        let d = Uuid::now_v7();
        let mut bodies = valid_bodies(a.id, d, leased_din(&a, 0));
        // Every other kind a tablet writes, as its store wrote it (staff, drive,
        // screening, visit, labels, release, DIN range, ...): mutated, they reach each
        // kind's reading and checks, not only the JSON parser.
        crate::common::collect_donations(&a, 1);
        let written = a.store.lock().unwrap().changes_after(0, u32::MAX).unwrap();
        for change in written {
            if !bodies.iter().any(|(kind, _)| *kind == change.entity) {
                bodies.push((change.entity, change.body));
            }
        }
        assert!(
            bodies.len() >= 8,
            "kinds: {:?}",
            bodies.iter().map(|b| b.0).collect::<Vec<_>>()
        );
        let held = std::cell::Cell::new(0u64);
        let config = ProptestConfig {
            cases: 96,
            failure_persistence: None,
            ..ProptestConfig::default()
        };
        let mut runner = proptest::test_runner::TestRunner::new(config);
        let kinds = proptest::sample::select(EntityKind::ALL.to_vec());
        runner
            .run(
                &(0..bodies.len(), mutation(), kinds, any::<bool>()),
                |(which, m, kind, same_kind)| {
                    let (valid_kind, body) = &bodies[which];
                    let body = mutate(body, &m);
                    let kind = if same_kind { *valid_kind } else { kind };
                    let id = serde_json::from_str::<serde_json::Value>(&body)
                        .ok()
                        .and_then(|v| {
                            v.get("id")
                                .and_then(|i| i.as_str())
                                .and_then(|i| i.parse().ok())
                        })
                        .unwrap_or_else(Uuid::now_v7);
                    let seq = held.get() + 1;
                    let batch = vec![
                        entry(a.id, seq, EntityKind::Donor, d, &donor(d), now_ms()),
                        LocalChange {
                            body,
                            ..entry(a.id, seq + 1, kind, id, &(), now_ms())
                        },
                    ];
                    rt.block_on(async {
                        let before = ts.storage.counts().await.unwrap();
                        match ts
                            .storage
                            .push(a.id, batch, None, Utc::now(), Policy::default())
                            .await
                        {
                            Ok(outcome) => {
                                prop_assert_eq!(outcome.stored, 2);
                                held.set(outcome.held_seq);
                                let after = ts.storage.counts().await.unwrap();
                                prop_assert_eq!(after.change_entries, before.change_entries + 2);
                            }
                            Err(StorageError::Refused(Refusal::Entry(refused))) => {
                                prop_assert_eq!(refused.seq, seq + 1);
                                prop_assert_eq!(ts.storage.counts().await.unwrap(), before);
                            }
                            Err(other) => prop_assert!(false, "not a refusal: {other}"),
                        }
                        Ok(())
                    })
                },
            )
            .unwrap();
    }

    /// The kinds a tablet writes at the chair and on the road that the bodies above
    /// leave out (they come from the store only after labelling and packing).
    const CHAIR_AND_ROAD: [EntityKind; 7] = [
        EntityKind::DinRange,
        EntityKind::LabelPrint,
        EntityKind::LabelScan,
        EntityKind::DonationRelease,
        EntityKind::TransportBox,
        EntityKind::BoxPacking,
        EntityKind::TemperatureReading,
    ];

    /// A body of each of [`CHAIR_AND_ROAD`] as `device`'s store wrote it: a pre-printed
    /// range loaded, a donation labelled, scanned and released, its bag packed into a
    /// box and a temperature read.
    fn chair_and_road_bodies(device: &Device) -> Vec<(EntityKind, Uuid, String)> {
        use lifebridge_domain::din::DinRange;
        use lifebridge_domain::entities::DinRangeSource;
        use lifebridge_domain::product::ProductClass;
        use lifebridge_store::Actor;

        device.seed(1);
        let mut s = device.store.lock().unwrap();
        let today = today();
        let drive = s.drives_on(today).unwrap().pop().unwrap();
        let driver = Actor::staff(s.staff_by_name("司机 刘洋").unwrap().unwrap().id);
        let boxed = s
            .open_box(driver, drive.id, "BOX-F1", ProductClass::RedCellWholeBlood)
            .unwrap();
        let din = s.drive_donations(drive.id).unwrap().pop().unwrap().din;
        s.pack_bag(driver, boxed.id, &format!("]C0={din}01"))
            .unwrap();
        s.record_temperature(driver, boxed.id, Utc::now(), 4.5)
            .unwrap();
        let roll = DinRange::new(din.facility().clone(), din.year(), 900_000, 900_099).unwrap();
        s.register_din_range(Actor::system(), roll, DinRangeSource::PrePrinted)
            .unwrap();
        let written = s.changes_after(0, u32::MAX).unwrap();
        CHAIR_AND_ROAD
            .iter()
            .map(|kind| {
                let c = written.iter().find(|c| c.entity == *kind).unwrap();
                (c.entity, c.entity_id, c.body.clone())
            })
            .collect()
    }

    /// Whether the domain's own type for `kind` reads `body`.
    fn domain_reads(kind: EntityKind, body: &str) -> bool {
        use lifebridge_domain::cold_chain::{BoxPacking, TemperatureReading, TransportBox};
        use lifebridge_domain::entities::{DinRangeRecord, DonationRelease, LabelPrint, LabelScan};
        fn reads<T: serde::de::DeserializeOwned>(body: &str) -> bool {
            serde_json::from_str::<T>(body).is_ok()
        }
        match kind {
            EntityKind::DinRange => reads::<DinRangeRecord>(body),
            EntityKind::LabelPrint => reads::<LabelPrint>(body),
            EntityKind::LabelScan => reads::<LabelScan>(body),
            EntityKind::DonationRelease => reads::<DonationRelease>(body),
            EntityKind::TransportBox => reads::<TransportBox>(body),
            EntityKind::BoxPacking => reads::<BoxPacking>(body),
            EntityKind::TemperatureReading => reads::<TemperatureReading>(body),
            other => panic!("{other:?} is not one of the chair-and-road kinds"),
        }
    }

    /// A near-valid body: one field of a valid one changed the way a broken or hostile
    /// device would change it. `nth` picks the field among those the change applies to.
    #[derive(Debug, Clone)]
    enum NearValid {
        /// A field left out.
        Removed { nth: usize },
        /// A field of another JSON type (`as_` picks which).
        WrongType { nth: usize, as_: usize },
        /// A number past what any field holds, or negative, or past 64 bits.
        OutOfRange { nth: usize, raw: &'static str },
        /// A string longer than a whole entry may be.
        Huge { nth: usize },
        /// An id that is not one, or another record's.
        BadId { nth: usize, raw: usize },
        /// A value no enumeration has.
        UnknownEnum { nth: usize },
    }

    fn near_valid() -> impl Strategy<Value = NearValid> {
        prop_oneof![
            any::<usize>().prop_map(|nth| NearValid::Removed { nth }),
            (any::<usize>(), 0usize..4).prop_map(|(nth, as_)| NearValid::WrongType { nth, as_ }),
            (
                any::<usize>(),
                proptest::sample::select(vec![
                    "1e400",
                    "-1e400",
                    "-1",
                    "18446744073709551616",
                    "256",
                    "1000000",
                    "0.5"
                ])
            )
                .prop_map(|(nth, raw)| NearValid::OutOfRange { nth, raw }),
            any::<usize>().prop_map(|nth| NearValid::Huge { nth }),
            (any::<usize>(), 0usize..4).prop_map(|(nth, raw)| NearValid::BadId { nth, raw }),
            any::<usize>().prop_map(|nth| NearValid::UnknownEnum { nth }),
        ]
    }

    /// Every field of `v` at any depth, as a JSON pointer with its value.
    fn fields(v: &serde_json::Value, at: &str, out: &mut Vec<(String, serde_json::Value)>) {
        match v {
            serde_json::Value::Object(map) => {
                for (k, child) in map {
                    let path = format!("{at}/{k}");
                    out.push((path.clone(), child.clone()));
                    fields(child, &path, out);
                }
            }
            serde_json::Value::Array(items) => {
                for (i, child) in items.iter().enumerate() {
                    let path = format!("{at}/{i}");
                    out.push((path.clone(), child.clone()));
                    fields(child, &path, out);
                }
            }
            _ => {}
        }
    }

    /// Stands for a raw number serde_json cannot hold, until the body is text.
    const RAW: &str = "@raw-number@";

    /// `body` changed by `m`; the change kind falls back to removing a field when the
    /// body has no field it applies to.
    fn apply(body: &str, m: &NearValid) -> String {
        let mut v: serde_json::Value = serde_json::from_str(body).unwrap();
        let mut all = Vec::new();
        fields(&v, "", &mut all);
        let is_id = |f: &serde_json::Value| f.as_str().is_some_and(|s| s.parse::<Uuid>().is_ok());
        let is_enum = |f: &serde_json::Value| {
            f.as_str().is_some_and(|s| {
                !s.is_empty()
                    && s.starts_with(|c: char| c.is_ascii_lowercase())
                    && s.chars()
                        .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_')
            })
        };
        let pick = |nth: usize, keep: &dyn Fn(&str, &serde_json::Value) -> bool| {
            let chosen: Vec<&(String, serde_json::Value)> =
                all.iter().filter(|(p, f)| keep(p, f)).collect();
            (!chosen.is_empty()).then(|| chosen[nth % chosen.len()].0.clone())
        };
        let set = |v: &mut serde_json::Value, path: &str, to: serde_json::Value| {
            *v.pointer_mut(path).unwrap() = to;
        };
        let remove = |v: &mut serde_json::Value, nth: usize| {
            // Only object members: an array one item shorter is still a list.
            let members: Vec<&String> = all
                .iter()
                .map(|(p, _)| p)
                .filter(|p| {
                    let parent = &p[..p.rfind('/').unwrap()];
                    v.pointer(parent).is_some_and(|x| x.is_object())
                })
                .collect();
            let path = members[nth % members.len()];
            let (parent, key) = path.rsplit_once('/').unwrap();
            if let Some(map) = v.pointer_mut(parent).and_then(|x| x.as_object_mut()) {
                map.remove(key);
            }
        };
        let mut raw = None;
        match m {
            NearValid::Removed { nth } => remove(&mut v, *nth),
            NearValid::WrongType { nth, as_ } => {
                match pick(*nth, &|_, f| {
                    !f.is_null() && !f.is_object() && !f.is_array()
                }) {
                    Some(path) => {
                        let field = v.pointer(&path).unwrap().clone();
                        let others: Vec<serde_json::Value> = [
                            serde_json::json!(7),
                            serde_json::json!("7"),
                            serde_json::json!(true),
                            serde_json::json!({"a": 1}),
                            serde_json::json!([]),
                        ]
                        .into_iter()
                        .filter(|o| std::mem::discriminant(o) != std::mem::discriminant(&field))
                        .collect();
                        set(&mut v, &path, others[*as_ % others.len()].clone());
                    }
                    None => remove(&mut v, *nth),
                }
            }
            NearValid::OutOfRange { nth, raw: number } => match pick(*nth, &|_, f| f.is_number()) {
                Some(path) => {
                    set(&mut v, &path, serde_json::Value::from(RAW));
                    raw = Some(*number);
                }
                None => remove(&mut v, *nth),
            },
            NearValid::Huge { nth } => match pick(*nth, &|_, f| f.is_string()) {
                Some(path) => set(
                    &mut v,
                    &path,
                    serde_json::Value::from(
                        "字".repeat(lifebridge_protocol::wire::MAX_ENTRY_BODY_BYTES / 3 + 1),
                    ),
                ),
                None => remove(&mut v, *nth),
            },
            NearValid::BadId { nth, raw: which } => match pick(*nth, &|_, f| is_id(f)) {
                Some(path) => {
                    let id = v.pointer(&path).unwrap().as_str().unwrap().to_owned();
                    let bad = match which {
                        0 => "not-an-id".to_owned(),
                        1 => String::new(),
                        2 => format!("{}g", &id[..id.len() - 1]),
                        _ => Uuid::now_v7().to_string(),
                    };
                    set(&mut v, &path, serde_json::Value::from(bad));
                }
                None => remove(&mut v, *nth),
            },
            NearValid::UnknownEnum { nth } => match pick(*nth, &|_, f| is_enum(f)) {
                Some(path) => set(&mut v, &path, serde_json::Value::from("no_such_variant")),
                None => remove(&mut v, *nth),
            },
        }
        let text = v.to_string();
        match raw {
            Some(number) => text.replace(&format!("\"{RAW}\""), number),
            None => text,
        }
    }

    /// Near-valid bodies of every kind a tablet writes at the chair and on the road,
    /// pushed over HTTP: the station never panics; a body the domain cannot read is
    /// refused with 422 naming the entry and nothing is written; one it can read is
    /// stored whole or refused the same way.
    fn near_valid_run(backend: Backend) {
        let Some((rt, ts, a)) = station_and_bus(backend) else {
            return;
        };
        let bodies = chair_and_road_bodies(&a);
        let held = std::cell::Cell::new(0u64);
        // Each body as the store wrote it is taken: the changes below are what is refused.
        for (kind, id, body) in &bodies {
            let seq = held.get() + 1;
            let mut e = entry(a.id, seq, *kind, *id, &(), now_ms());
            e.body = body.clone();
            assert_eq!(rt.block_on(push(&ts, &a, vec![e])).unwrap(), 1, "{kind:?}");
            held.set(seq);
        }
        let refusals = std::cell::Cell::new(0u32);
        let config = ProptestConfig {
            cases: 24,
            failure_persistence: None,
            ..ProptestConfig::default()
        };
        for (kind, id, body) in &bodies {
            let mut runner = proptest::test_runner::TestRunner::new(config.clone());
            runner
                .run(&near_valid(), |m| {
                    let mutated = apply(body, &m);
                    let readable = domain_reads(*kind, &mutated);
                    let seq = held.get() + 1;
                    let mut e = entry(a.id, seq, *kind, *id, &(), now_ms());
                    e.body = mutated;
                    rt.block_on(async {
                        let before = ts.storage.counts().await.unwrap();
                        match push(&ts, &a, vec![e]).await {
                            Ok(stored) => {
                                prop_assert!(
                                    readable,
                                    "{kind:?} {m:?}: stored a body the domain cannot read"
                                );
                                prop_assert_eq!(stored, 1);
                                held.set(seq);
                                let after = ts.storage.counts().await.unwrap();
                                prop_assert_eq!(after.change_entries, before.change_entries + 1);
                            }
                            Err(SyncError::Station { status, body }) => {
                                prop_assert_eq!(status, 422, "{:?} {:?}: {:?}", kind, m, body);
                                let why = body.refused.expect("the refusal names the entry");
                                prop_assert_eq!(
                                    (why.seq, why.entity, why.entity_id),
                                    (seq, *kind, *id)
                                );
                                if !readable {
                                    prop_assert!(
                                        [
                                            "push_refused.body_unreadable",
                                            "push_refused.body_too_large"
                                        ]
                                        .contains(&why.reason.code.as_str()),
                                        "{:?}",
                                        why.reason
                                    );
                                }
                                prop_assert_eq!(ts.storage.counts().await.unwrap(), before);
                                refusals.set(refusals.get() + 1);
                            }
                            Err(other) => {
                                prop_assert!(false, "{kind:?} {m:?}: not a refusal: {other}")
                            }
                        }
                        Ok(())
                    })
                })
                .unwrap();
        }
        // Most changes break the body: the property is about refusals, not acceptance.
        assert!(
            refusals.get() >= 24 * 7 / 2,
            "only {} of {} near-valid bodies were refused",
            refusals.get(),
            24 * 7
        );
        assert_eq!(
            rt.block_on(ts.storage.entries(a.id)).unwrap().len() as u64,
            held.get(),
            "the station holds exactly what it stored"
        );
    }

    #[test]
    fn near_valid_bodies_of_the_chair_and_road_kinds_are_refused_whole_sqlite() {
        near_valid_run(Backend::Sqlite);
    }

    #[test]
    fn near_valid_bodies_of_the_chair_and_road_kinds_are_refused_whole_postgres() {
        near_valid_run(Backend::Postgres);
    }

    #[test]
    fn arbitrary_and_mutated_bodies_never_panic_nor_write_in_part_sqlite() {
        run(Backend::Sqlite);
    }

    #[test]
    fn arbitrary_and_mutated_bodies_never_panic_nor_write_in_part_postgres() {
        run(Backend::Postgres);
    }
}
