//! The HTTP API against a real station on a loopback port, for both storage backends.
#![allow(clippy::unwrap_used)]

mod common;

use common::{Backend, assert_station_holds_exactly, enroll, start};
use lifebridge_protocol::compress::gzip;
use lifebridge_protocol::records::LocalChange;
use lifebridge_protocol::wire::{ClientInfo, ErrorCode, PushRequest};
use lifebridge_station::config::DinConfig;
use lifebridge_sync::client::ClientError as SyncError;
use tokio::io::{AsyncReadExt, AsyncWriteExt};

/// One raw HTTP/1.1 request, so tests can send what no well-behaved client would.
async fn raw(
    url: &str,
    path: &str,
    headers: &[(&str, &str)],
    body: &[u8],
) -> (u16, serde_json::Value) {
    let addr = url.trim_start_matches("http://");
    let mut stream = tokio::net::TcpStream::connect(addr).await.unwrap();
    let mut head = format!(
        "POST {path} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\nContent-Length: {}\r\n",
        body.len()
    );
    for (k, v) in headers {
        head.push_str(&format!("{k}: {v}\r\n"));
    }
    head.push_str("\r\n");
    stream.write_all(head.as_bytes()).await.unwrap();
    // The station may answer 413 and close before reading everything.
    let _ = stream.write_all(body).await;
    let mut response = Vec::new();
    let _ = stream.read_to_end(&mut response).await;
    let text = String::from_utf8_lossy(&response).to_string();
    let status: u16 = text
        .split_whitespace()
        .nth(1)
        .and_then(|s| s.parse().ok())
        .unwrap_or(0);
    let body = text.split_once("\r\n\r\n").map(|(_, b)| b).unwrap_or("");
    // Chunked or not, the JSON object is between the first '{' and the last '}'.
    let json = match (body.find('{'), body.rfind('}')) {
        (Some(a), Some(b)) => serde_json::from_str(&body[a..=b]).unwrap_or(serde_json::Value::Null),
        _ => serde_json::Value::Null,
    };
    (status, json)
}

fn entries(device: &common::Device, after: u64, n: u32) -> Vec<LocalChange> {
    device
        .store
        .lock()
        .unwrap()
        .changes_after(after, n)
        .unwrap()
}

fn code(err: &SyncError) -> ErrorCode {
    match err {
        SyncError::Station { body, .. } => body.error,
        other => panic!("expected a station refusal, got {other}"),
    }
}

async fn exact_push_and_pull(backend: Backend) {
    let Some(ts) = start(backend, None).await else {
        return;
    };
    let url = ts.url();
    let a = enroll(&ts, &url, "BUS-01").await;
    let b = enroll(&ts, &url, "BUS-02").await;
    a.seed(6);
    let report = a.replicator(&url).sync_once().await.unwrap();
    assert_eq!(report.pushed, a.last_seq());
    assert!(report.push_requests > 1, "small batches: several requests");
    assert_station_holds_exactly(&ts, &a).await;
    assert_eq!(a.store.lock().unwrap().pending_changes().unwrap(), 0);

    // B pulls A's donors and donations: eligibility on B sees A's collections.
    b.replicator(&url).sync_once().await.unwrap();
    let donors: Vec<(String,)> = {
        let s = a.store.lock().unwrap();
        let mut stmt = s.connection().prepare("SELECT id FROM donor").unwrap();
        stmt.query_map([], |r| Ok((r.get(0)?,)))
            .unwrap()
            .map(Result::unwrap)
            .collect()
    };
    assert_eq!(donors.len(), 6);
    for (id,) in donors {
        let id = id.parse().unwrap();
        let on_b = b.store.lock().unwrap().donor_history(id).unwrap().unwrap();
        let on_a = a.store.lock().unwrap().donor_history(id).unwrap().unwrap();
        assert_eq!(on_b.donor, on_a.donor);
        assert_eq!(on_b.donations, on_a.donations);
    }
    // B's own pushes do not come back to B, and A receives nothing of its own.
    let again = a.replicator(&url).sync_once().await.unwrap();
    assert_eq!(again.pushed, 0);
    assert!(
        again.pulled <= 6,
        "A may see its merged donors again, never its donations: {again:?}"
    );

    // A second device's store holds no change-log entries from replication.
    assert_eq!(b.last_seq(), 0);
}

async fn resent_batches_gaps_and_conflicts(backend: Backend) {
    let Some(ts) = start(backend, None).await else {
        return;
    };
    let url = ts.url();
    let dev = enroll(&ts, &url, "BUS-03").await;
    dev.seed(4);
    let client = dev.client(&url);
    let all = entries(&dev, 0, 1000);
    assert!(all.len() >= 20);

    let (r, _) = client.push(all[0..10].to_vec()).await.unwrap();
    assert_eq!((r.held_seq, r.stored), (10, 10));
    let (r, _) = client.push(all[0..10].to_vec()).await.unwrap();
    assert_eq!(
        (r.held_seq, r.stored),
        (10, 0),
        "a re-sent batch changes nothing"
    );
    let (r, _) = client.push(all[4..15].to_vec()).await.unwrap();
    assert_eq!(
        (r.held_seq, r.stored),
        (15, 5),
        "an overlapping batch stores only the new part"
    );

    let err = client.push(all[17..20].to_vec()).await.unwrap_err();
    assert_eq!(code(&err), ErrorCode::SequenceGap);
    if let SyncError::Station { status, body } = &err {
        assert_eq!(*status, 409);
        assert_eq!(body.expected_seq, Some(16));
    }

    let mut forged = all[12..17].to_vec();
    forged[0].body = forged[0].body.replace('"', "'");
    let err = client.push(forged).await.unwrap_err();
    assert_eq!(code(&err), ErrorCode::SequenceConflict);
    if let SyncError::Station { status, body } = &err {
        assert_eq!(*status, 409);
        assert_eq!(body.conflicting_seq, Some(13));
    }
    assert_eq!(
        ts.storage.entries(dev.id).await.unwrap().len(),
        15,
        "refused batches write nothing"
    );

    let mut skipping = all[15..18].to_vec();
    skipping.remove(1);
    assert_eq!(
        code(&client.push(skipping).await.unwrap_err()),
        ErrorCode::InvalidBatch
    );
    assert_eq!(
        code(&client.push(vec![]).await.unwrap_err()),
        ErrorCode::InvalidBatch
    );

    // The replicator resumes from the station's answer.
    dev.store.lock().unwrap().set_push_cursor(3).unwrap();
    dev.replicator(&url).sync_once().await.unwrap();
    assert_station_holds_exactly(&ts, &dev).await;

    // A device whose cursor is ahead of the station (station restored from an older
    // backup) is told where to resume.
    let other = enroll(&ts, &url, "BUS-04").await;
    other.seed(2);
    let last = other.last_seq();
    other
        .store
        .lock()
        .unwrap()
        .set_push_cursor(last - 3)
        .unwrap();
    other.seed(1);
    other.replicator(&url).sync_once().await.unwrap();
    assert_station_holds_exactly(&ts, &other).await;
}

async fn revoked_and_unknown_devices_get_401(backend: Backend) {
    let Some(ts) = start(backend, None).await else {
        return;
    };
    let url = ts.url();
    let dev = enroll(&ts, &url, "BUS-05").await;
    dev.seed(1);
    let before = ts.storage.counts().await.unwrap();
    let stranger = dev.client(&url).with_token("lbs_0000");
    let err = stranger.push(entries(&dev, 0, 5)).await.unwrap_err();
    assert!(
        matches!(err, SyncError::Station { status: 401, .. }),
        "{err}"
    );
    let (status, body) = raw(&url, "/v1/push", &[], b"{}").await;
    assert_eq!(status, 401);
    assert_eq!(body["error"], "unauthorized");

    let revoked = ts
        .storage
        .revoke_device("BUS-05", chrono::Utc::now())
        .await
        .unwrap()
        .unwrap();
    assert_eq!(revoked.device_id, dev.id);
    let err = dev
        .client(&url)
        .push(entries(&dev, 0, 5))
        .await
        .unwrap_err();
    assert!(
        matches!(err, SyncError::Station { status: 401, .. }),
        "{err}"
    );
    let err = dev.client(&url).pull(0, 10, None).await.unwrap_err();
    assert!(
        matches!(err, SyncError::Station { status: 401, .. }),
        "{err}"
    );
    assert_eq!(
        ts.storage.counts().await.unwrap().change_entries,
        before.change_entries
    );
    assert_eq!(ts.storage.entries(dev.id).await.unwrap().len(), 0);

    // A used code cannot enroll again.
    let code = common::new_code(&ts.storage, "BUS-06").await;
    let client = lifebridge_sync::client::StationClient::new(
        &url,
        lifebridge_sync::client::Trust::LoopbackHttp,
        std::time::Duration::from_secs(5),
    )
    .unwrap();
    client
        .enroll(&code, uuid::Uuid::now_v7(), "BUS-06")
        .await
        .unwrap();
    let err = client
        .enroll(&code, uuid::Uuid::now_v7(), "BUS-06")
        .await
        .unwrap_err();
    assert!(
        matches!(err, SyncError::Station { status: 403, .. }),
        "{err}"
    );
    // An expired code is refused, and so is a code nobody issued.
    let expired = lifebridge_station::auth::new_enrollment_code();
    let then = chrono::Utc::now() - chrono::Duration::hours(2);
    ts.storage
        .create_enrollment(
            "BUS-08",
            &lifebridge_station::auth::enrollment_code_hash(&expired),
            then,
            then + chrono::Duration::hours(1),
        )
        .await
        .unwrap();
    for code in [expired.as_str(), "AAAA-BBBB-CCCC"] {
        let err = client
            .enroll(code, uuid::Uuid::now_v7(), "BUS-08")
            .await
            .unwrap_err();
        assert!(
            matches!(err, SyncError::Station { status: 403, .. }),
            "{err}"
        );
    }
}

async fn malformed_and_oversized_bodies(backend: Backend) {
    let Some(ts) = start(backend, None).await else {
        return;
    };
    let url = ts.url();
    let dev = enroll(&ts, &url, "BUS-07").await;
    dev.seed(1);
    let auth = format!("Bearer {}", dev.token);
    let auth = auth.as_str();
    let gz = [("Authorization", auth), ("Content-Encoding", "gzip")];
    let plain = [("Authorization", auth)];
    let before = ts.storage.counts().await.unwrap();

    type Case<'a> = (&'a str, Vec<(&'a str, &'a str)>, Vec<u8>, u16, &'a str);
    let cases: Vec<Case> = vec![
        (
            "not json",
            plain.to_vec(),
            b"{not json".to_vec(),
            400,
            "malformed_body",
        ),
        (
            "wrong shape",
            plain.to_vec(),
            br#"{"entries": 5}"#.to_vec(),
            400,
            "malformed_body",
        ),
        (
            "not gzip",
            gz.to_vec(),
            b"plain text".to_vec(),
            400,
            "malformed_body",
        ),
        (
            "oversized",
            plain.to_vec(),
            vec![b' '; 300 * 1024],
            413,
            "body_too_large",
        ),
        (
            "gzip bomb",
            gz.to_vec(),
            gzip(&vec![b' '; 8 * 1024 * 1024]),
            413,
            "body_too_large",
        ),
        (
            "brotli",
            vec![("Authorization", auth), ("Content-Encoding", "br")],
            b"{}".to_vec(),
            415,
            "unsupported_encoding",
        ),
        ("empty", plain.to_vec(), Vec::new(), 400, "malformed_body"),
        (
            "binary",
            gz.to_vec(),
            vec![0x1f, 0x8b, 0xff, 0x00, 0x13],
            400,
            "malformed_body",
        ),
    ];
    for (what, headers, body, status, error) in cases {
        let (got, json) = raw(&url, "/v1/push", &headers, &body).await;
        assert_eq!(got, status, "{what}: {json}");
        assert_eq!(json["error"], error, "{what}: {json}");
        assert!(
            json["message"].as_str().is_some_and(|m| !m.is_empty()),
            "{what}"
        );
    }

    // Versions outside the window: 426 and a message saying what to update.
    let mut client = ClientInfo::current();
    client.protocol_version = 99;
    let req = PushRequest {
        client,
        entries: entries(&dev, 0, 3),
        audit_head: None,
    };
    let (status, json) = raw(&url, "/v1/push", &plain, &serde_json::to_vec(&req).unwrap()).await;
    assert_eq!(status, 426, "{json}");
    assert!(
        json["message"]
            .as_str()
            .unwrap()
            .contains("update the station")
    );
    let mut client = ClientInfo::current();
    client.schema_version = 0;
    let req = PushRequest {
        client,
        entries: entries(&dev, 0, 3),
        audit_head: None,
    };
    let (status, json) = raw(&url, "/v1/push", &plain, &serde_json::to_vec(&req).unwrap()).await;
    assert_eq!(status, 426, "{json}");
    assert!(json["message"].as_str().unwrap().contains("update the app"));

    let (status, json) = raw(&url, "/v1/nothing", &plain, b"{}").await;
    assert_eq!((status, json["error"].as_str()), (404, Some("not_found")));

    assert_eq!(
        ts.storage.counts().await.unwrap(),
        before,
        "nothing was written"
    );
    // And the station still works.
    dev.replicator(&url).sync_once().await.unwrap();
    assert_station_holds_exactly(&ts, &dev).await;
}

async fn din_ranges_are_leased_ahead_and_never_twice(backend: Backend) {
    let din = DinConfig {
        facility: "W1234".into(),
        reserve: 30,
        lease_size: 25,
        start_sequence: 100,
        ..DinConfig::default()
    };
    let Some(ts) = start(backend, Some(din)).await else {
        return;
    };
    let url = ts.url();
    let a = enroll(&ts, &url, "BUS-10").await;
    let b = enroll(&ts, &url, "BUS-11").await;
    for _ in 0..3 {
        a.replicator(&url).sync_once().await.unwrap();
        b.replicator(&url).sync_once().await.unwrap();
    }
    let usage = |d: &common::Device| {
        d.store
            .lock()
            .unwrap()
            .din_usage()
            .unwrap()
            .into_iter()
            .map(|u| u.record.range)
            .collect::<Vec<_>>()
    };
    let (ra, rb) = (usage(&a), usage(&b));
    // Reserve 30 in blocks of 25: one lease of two blocks each, leased once (not on
    // every sync, although each sync reports the same unused count).
    assert_eq!(ra.len(), 1, "{ra:?}");
    assert_eq!(rb.len(), 1, "{rb:?}");
    assert_eq!(ra[0].len(), 50);
    assert_eq!(a.store.lock().unwrap().unused_leased_dins().unwrap(), 50);
    let mut all: Vec<u32> = ra
        .iter()
        .chain(&rb)
        .flat_map(|r| r.first()..=r.last())
        .collect();
    let n = all.len();
    all.sort_unstable();
    all.dedup();
    assert_eq!(all.len(), n, "a DIN was leased twice");
    assert_eq!(all.first(), Some(&100));
    assert_eq!(ts.storage.counts().await.unwrap().din_leases, 2);
    // Once numbers are issued below the reserve, the next sync leases more.
    a.seed(25);
    a.replicator(&url).sync_once().await.unwrap();
    assert_eq!(usage(&a).len(), 2);
    assert_eq!(
        a.store.lock().unwrap().unused_leased_dins().unwrap(),
        25 + 25
    );
}

async fn clock_skew_is_reported_and_records_still_sync(backend: Backend) {
    let Some(ts) = start(backend, None).await else {
        return;
    };
    let url = ts.url();
    let dev = enroll(&ts, &url, "BUS-12").await;
    dev.seed(1);
    let mut client = ClientInfo::current();
    client.device_time -= chrono::Duration::hours(3);
    let req = PushRequest {
        client,
        entries: entries(&dev, 0, 5),
        audit_head: None,
    };
    let auth = format!("Bearer {}", dev.token);
    let (status, json) = raw(
        &url,
        "/v1/push",
        &[("Authorization", &auth)],
        &serde_json::to_vec(&req).unwrap(),
    )
    .await;
    assert_eq!(status, 200, "{json}");
    assert_eq!(json["held_seq"], 5);
    let warning = &json["clock_warning"];
    assert!(warning["skew_ms"].as_i64().unwrap() < -3 * 3600 * 1000 + 60_000);
    assert!(warning["message"].as_str().unwrap().contains("behind"));

    let mut replicator = dev.replicator(&url);
    let status = replicator.status();
    replicator.sync_once().await.unwrap();
    assert!(
        status.borrow().clock_warning.is_none(),
        "an accurate clock gets no warning"
    );
    assert!(status.borrow().last_success.is_some());
    let _ = &mut replicator;
}

async fn health_metrics_and_status(backend: Backend) {
    let Some(ts) = start(backend, None).await else {
        return;
    };
    let url = ts.url();
    let dev = enroll(&ts, &url, "BUS-13").await;
    dev.seed(1);
    dev.replicator(&url).sync_once().await.unwrap();
    let status = dev.client(&url).status().await.unwrap();
    assert_eq!(status.held_seq, dev.last_seq());
    assert_eq!(status.device_name, "BUS-13");
    dev.client(&url).probe().await.unwrap();
    let addr = url.trim_start_matches("http://");
    let mut stream = tokio::net::TcpStream::connect(addr).await.unwrap();
    stream
        .write_all(
            format!("GET /metrics HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n\r\n")
                .as_bytes(),
        )
        .await
        .unwrap();
    let mut text = String::new();
    stream.read_to_string(&mut text).await.unwrap();
    assert!(
        text.contains("lifebridge_push_entries_stored_total"),
        "{text}"
    );
    assert!(text.contains("route=\"push\",status=\"200\""), "{text}");
    assert!(
        text.contains(&format!("lifebridge_change_entries {}", dev.last_seq())),
        "{text}"
    );
}

async fn two_vehicles_edit_the_same_donor_offline_and_converge(backend: Backend) {
    use lifebridge_store::records::DonorEdit;
    let Some(ts) = start(backend, None).await else {
        return;
    };
    let url = ts.url();
    let a = enroll(&ts, &url, "BUS-20").await;
    let b = enroll(&ts, &url, "BUS-21").await;
    a.seed(1);
    a.replicator(&url).sync_once().await.unwrap();
    b.replicator(&url).sync_once().await.unwrap();
    let (donor_id, nurse_a) = {
        let s = a.store.lock().unwrap();
        let id: String = s
            .connection()
            .query_row("SELECT id FROM donor", [], |r| r.get(0))
            .unwrap();
        (
            id.parse::<uuid::Uuid>().unwrap(),
            s.staff_by_name("登记护士 李敏").unwrap().unwrap().id,
        )
    };
    // B needs a registration nurse of its own.
    b.seed(0);
    let nurse_b = b
        .store
        .lock()
        .unwrap()
        .staff_by_name("登记护士 李敏")
        .unwrap()
        .unwrap()
        .id;
    let actor = lifebridge_store::Actor::staff;

    // Offline: A changes the phone, then B changes the address and (later) the phone.
    // Each edit a few milliseconds after the last, so the field clocks order them.
    let edits = [
        (
            &a,
            nurse_a,
            DonorEdit {
                phone: Some(Some("13911112222".into())),
                ..Default::default()
            },
        ),
        (
            &b,
            nurse_b,
            DonorEdit {
                address: Some(Some("云南省 大理 喜洲镇".into())),
                ..Default::default()
            },
        ),
        (
            &a,
            nurse_a,
            DonorEdit {
                name: Some("王芳".into()),
                ..Default::default()
            },
        ),
        (
            &b,
            nurse_b,
            DonorEdit {
                phone: Some(Some("13733334444".into())),
                ..Default::default()
            },
        ),
    ];
    for (i, (device, nurse, edit)) in edits.into_iter().enumerate() {
        if i > 0 {
            std::thread::sleep(std::time::Duration::from_millis(5));
        }
        device
            .store
            .lock()
            .unwrap()
            .edit_donor(actor(nurse), donor_id, edit)
            .unwrap();
    }

    // Back in signal, in either order, twice.
    for d in [&b, &a, &b, &a] {
        d.replicator(&url).sync_once().await.unwrap();
    }
    let on_a = a.store.lock().unwrap().donor(donor_id).unwrap().unwrap();
    let on_b = b.store.lock().unwrap().donor(donor_id).unwrap().unwrap();
    let on_station: lifebridge_domain::entities::Donor =
        serde_json::from_str(&ts.storage.donor(donor_id).await.unwrap().unwrap()).unwrap();
    assert_eq!(on_a, on_b);
    assert_eq!(on_a, on_station);
    assert_eq!(
        on_a.phone.as_deref(),
        Some("13733334444"),
        "B's later phone wins"
    );
    assert_eq!(
        on_a.address.as_deref(),
        Some("云南省 大理 喜洲镇"),
        "B's address kept"
    );
    assert_eq!(on_a.name, "王芳", "A's name kept");
    // A merged donor is ahead of the device's own change log, not out of step with it.
    for d in [&a, &b] {
        let report = d.store.lock().unwrap().check().unwrap();
        assert!(report.is_ok(), "{report:#?}");
    }
}

async fn reference_documents_reach_every_device(backend: Backend) {
    let Some(ts) = start(backend, None).await else {
        return;
    };
    let url = ts.url();
    let dev = enroll(&ts, &url, "BUS-40").await;
    let mut rules: serde_json::Value =
        serde_json::to_value(lifebridge_domain::rules::RuleSet::gb18467_2011()).unwrap();
    rules["version"] = "GB18467-2011/station-2".into();
    let now = chrono::Utc::now();
    assert!(
        ts.storage
            .publish_reference("rules", "GB18467-2011/station-2", &rules, now)
            .await
            .unwrap()
    );
    assert!(
        !ts.storage
            .publish_reference("rules", "GB18467-2011/station-2", &rules, now)
            .await
            .unwrap()
    );
    // A broken table reaches the device but is not adopted.
    let broken = serde_json::json!({"version": "broken"});
    ts.storage
        .publish_reference("rules", "broken", &broken, now)
        .await
        .unwrap();
    // A questionnaire is a document the device can read (a broken one is skipped too,
    // as the store's own tests show); this one is the built-in under a new version.
    let questionnaire: serde_json::Value = serde_json::from_str(
        &lifebridge_domain::questionnaire::BUILT_IN_JSON
            .replace("\"GB18467-2011-Q1\"", "\"q-2026-2\""),
    )
    .unwrap();
    ts.storage
        .publish_reference("questionnaire", "q-2026-2", &questionnaire, now)
        .await
        .unwrap();
    let report = dev.replicator(&url).sync_once().await.unwrap();
    assert_eq!(report.skipped.len(), 1, "{:?}", report.skipped);
    assert!(
        report.skipped[0].contains("rules table broken is invalid"),
        "{:?}",
        report.skipped
    );
    let s = dev.store.lock().unwrap();
    assert_eq!(s.rules().unwrap().version, "GB18467-2011/station-2");
    let n: i64 = s
        .connection()
        .query_row("SELECT COUNT(*) FROM reference_document", [], |r| r.get(0))
        .unwrap();
    assert_eq!(n, 2);
    // The page that skipped it is in the audit trail.
    let audited: i64 = s
        .connection()
        .query_row(
            "SELECT COUNT(*) FROM audit_log WHERE action = 'replication.pull' AND detail LIKE '%is invalid%'",
            [],
            |r| r.get(0),
        )
        .unwrap();
    assert_eq!(audited, 1);
}

async fn replicator_backs_off_and_resumes_when_the_station_returns(backend: Backend) {
    use lifebridge_sync::replicator::Phase;
    let Some(mut ts) = start(backend, None).await else {
        return;
    };
    let url = ts.url();
    let addr = ts.station.as_ref().unwrap().addr;
    let dev = enroll(&ts, &url, "BUS-41").await;
    ts.station.take().unwrap().stop().await.unwrap();
    dev.seed(2);
    let replicator = dev.replicator(&url);
    let mut status = replicator.status();
    let (stop, shutdown) = tokio::sync::watch::channel(false);
    let task = tokio::spawn(replicator.run(shutdown));
    // The station is away: failures pile up, the crew sees the error and the backlog.
    loop {
        tokio::time::timeout(std::time::Duration::from_secs(60), status.changed())
            .await
            .expect("no status change within a minute")
            .unwrap();
        let s = status.borrow().clone();
        if s.consecutive_failures >= 3 {
            assert!(
                s.last_error
                    .as_deref()
                    .unwrap()
                    .contains("cannot be reached"),
                "{s:?}"
            );
            assert_eq!(s.pending, dev.last_seq());
            assert!(s.last_success.is_none());
            break;
        }
    }
    let config = lifebridge_station::config::Config {
        listen: addr,
        ..ts.config.clone()
    };
    ts.station = Some(
        lifebridge_station::server::start(config, ts.storage.clone())
            .await
            .unwrap(),
    );
    loop {
        tokio::time::timeout(std::time::Duration::from_secs(60), status.changed())
            .await
            .expect("the replicator did not resume within a minute")
            .unwrap();
        let s = status.borrow().clone();
        if s.last_success.is_some() && s.pending == 0 && s.phase == Phase::Idle {
            assert!(s.last_error.is_none());
            break;
        }
    }
    stop.send(true).unwrap();
    task.await.unwrap();
    assert_station_holds_exactly(&ts, &dev).await;
}

/// Arbitrary bytes, plain or gzipped, to every endpoint: always a 4xx JSON error, never
/// a 5xx, a hang or a dropped connection, and nothing written.
async fn arbitrary_bodies_get_4xx_and_write_nothing(backend: Backend) {
    let Some(ts) = start(backend, None).await else {
        return;
    };
    let url = ts.url();
    let dev = enroll(&ts, &url, "BUS-60").await;
    dev.seed(1);
    let before = ts.storage.counts().await.unwrap();
    let auth = format!("Bearer {}", dev.token);
    let valid = serde_json::to_vec(&PushRequest {
        client: ClientInfo::current(),
        entries: entries(&dev, 0, 3),
        audit_head: None,
    })
    .unwrap();
    let mut rng = common::proxy::Rng::new(0xfeed);
    for i in 0..120u64 {
        let body: Vec<u8> = match i % 4 {
            // Random bytes.
            0 => (0..rng.below(300)).map(|_| rng.next() as u8).collect(),
            // A valid request with bytes flipped.
            1 => {
                let mut v = valid.clone();
                for _ in 0..=rng.below(4) {
                    let at = rng.below(v.len() as u64) as usize;
                    v[at] = rng.next() as u8;
                }
                v
            }
            // A valid request cut short.
            2 => valid[..rng.below(valid.len() as u64) as usize].to_vec(),
            // JSON of the wrong shape.
            _ => serde_json::to_vec(
                &serde_json::json!({"entries": [{"seq": rng.next()}], "protocol_version": "x"}),
            )
            .unwrap(),
        };
        let gzipped = rng.below(2) == 0;
        let body = if gzipped { gzip(&body) } else { body };
        let mut headers = vec![("Authorization", auth.as_str())];
        if gzipped {
            headers.push(("Content-Encoding", "gzip"));
        }
        let path = ["/v1/push", "/v1/pull", "/v1/status", "/v1/enroll"][rng.below(4) as usize];
        let (status, json) = raw(&url, path, &headers, &body).await;
        if status == 200 {
            // A flipped byte inside a string can leave a valid request.
            continue;
        }
        assert!((400..500).contains(&status), "{path} #{i}: {status} {json}");
        assert!(json["error"].is_string(), "{path} #{i}: {json}");
    }
    let after = ts.storage.counts().await.unwrap();
    assert!(
        after.change_entries <= 3,
        "only the valid prefix may ever be stored"
    );
    assert_eq!(after.devices, before.devices);
}

both_backends! {
    arbitrary_bodies_get_4xx_and_write_nothing => super::arbitrary_bodies_get_4xx_and_write_nothing;
    reference_documents_reach_every_device => super::reference_documents_reach_every_device;
    replicator_backs_off_and_resumes_when_the_station_returns => super::replicator_backs_off_and_resumes_when_the_station_returns;
    exact_push_and_pull => super::exact_push_and_pull;
    resent_batches_gaps_and_conflicts => super::resent_batches_gaps_and_conflicts;
    revoked_and_unknown_devices_get_401 => super::revoked_and_unknown_devices_get_401;
    malformed_and_oversized_bodies => super::malformed_and_oversized_bodies;
    din_ranges_are_leased_ahead_and_never_twice => super::din_ranges_are_leased_ahead_and_never_twice;
    clock_skew_is_reported_and_records_still_sync => super::clock_skew_is_reported_and_records_still_sync;
    health_metrics_and_status => super::health_metrics_and_status;
    two_vehicles_edit_the_same_donor_offline_and_converge => super::two_vehicles_edit_the_same_donor_offline_and_converge;
}
