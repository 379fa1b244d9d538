//! The station's own doors, on both backends: desk sign-in under parallel guessing,
//! slow and oversized requests, and what needs a desk session (docs/security.md).
#![allow(clippy::unwrap_used)]

mod common;

use common::{Backend, start, start_with};
use lifebridge_domain::pin::MAX_FAILED_ATTEMPTS;
use lifebridge_station::desk::auth::ADDRESS_MAX_FAILURES;
use lifebridge_station::staff::new_staff;
use serde_json::{Value, json};

fn http() -> reqwest::Client {
    // reqwest is built without a default TLS provider; loopback HTTP needs none, but
    // the builder insists on one being installed.
    let _ = rustls::crypto::ring::default_provider().install_default();
    reqwest::Client::new()
}

async fn add_staff(ts: &common::TestStation, name: &str, role: &str, pin: &str) {
    let staff = new_staff(name, role, pin, chrono::Utc::now()).unwrap();
    assert!(ts.storage.add_staff(&staff).await.unwrap());
}

async fn sign_in(http: &reqwest::Client, url: &str, name: &str, pin: &str) -> (u16, Value) {
    let res = http
        .post(format!("{url}/desk/api/sign-in"))
        .json(&json!({"name": name, "pin": pin}))
        .send()
        .await
        .unwrap();
    (
        res.status().as_u16(),
        res.json().await.unwrap_or(Value::Null),
    )
}

async fn parallel_guesses_get_exactly_the_allowed_attempts(backend: Backend) {
    let Some(ts) = start(backend, None).await else {
        return;
    };
    let url = ts.url();
    add_staff(&ts, "赵敏", "receiving", "246802").await;
    let http = http();
    // Twenty wrong guesses at once: only the allowed number is ever checked.
    let guesses = (0..20).map(|i| {
        let (http, url) = (http.clone(), url.clone());
        async move { sign_in(&http, &url, "赵敏", &format!("{:04}", 1000 + i)).await }
    });
    let answers = futures_join_all(guesses).await;
    let wrong = answers
        .iter()
        .filter(|(s, b)| *s == 401 && b["error"] == "wrong_pin");
    let locked = answers
        .iter()
        .filter(|(s, b)| *s == 429 && b["error"] == "locked_out");
    assert_eq!(wrong.count(), MAX_FAILED_ATTEMPTS as usize, "{answers:?}");
    assert_eq!(
        locked.count(),
        20 - MAX_FAILED_ATTEMPTS as usize,
        "{answers:?}"
    );
    // The name is locked: the right PIN is refused too, without being checked.
    let (status, body) = sign_in(&http, &url, "赵敏", "246802").await;
    assert_eq!((status, body["error"].as_str()), (429, Some("locked_out")));
}

async fn every_failure_answers_the_same(backend: Backend) {
    let Some(ts) = start(backend, None).await else {
        return;
    };
    let url = ts.url();
    add_staff(&ts, "李司机", "driver", "135791").await;
    add_staff(&ts, "王收", "receiving", "246802").await;
    let closed = new_staff("钱关", "receiving", "975310", chrono::Utc::now()).unwrap();
    let closed = lifebridge_station::staff::StaffRow {
        active: false,
        ..closed
    };
    assert!(ts.storage.add_staff(&closed).await.unwrap());
    let http = http();
    // A driver's right PIN, a closed account's right PIN, a wrong PIN and an unknown
    // name: one answer, which says only how many attempts are left.
    let answers = [
        sign_in(&http, &url, "李司机", "135791").await,
        sign_in(&http, &url, "钱关", "975310").await,
        sign_in(&http, &url, "王收", "0000").await,
        sign_in(&http, &url, "无此人", "135791").await,
    ];
    for (status, body) in &answers {
        assert_eq!(*status, 401, "{body}");
        assert_eq!(body["error"], "wrong_pin", "{body}");
        assert_eq!(
            body["text"]["params"]["left"],
            (MAX_FAILED_ATTEMPTS - 1).to_string(),
            "{body}"
        );
    }
    let texts: Vec<&Value> = answers.iter().map(|(_, b)| &b["message"]).collect();
    assert!(texts.windows(2).all(|w| w[0] == w[1]), "{texts:?}");
    let (status, body) = sign_in(&http, &url, "王收", "246802").await;
    assert_eq!(status, 200, "{body}");
}

async fn one_address_cannot_walk_the_staff_list(backend: Backend) {
    let Some(ts) = start(backend, None).await else {
        return;
    };
    let url = ts.url();
    add_staff(&ts, "王收", "receiving", "246802").await;
    let http = http();
    // A few wrong PINs for many names never reaches any name's lock-out, but the
    // address runs out of failures.
    for i in 0..ADDRESS_MAX_FAILURES {
        let (status, body) = sign_in(&http, &url, &format!("name {}", i / 2), "0000").await;
        assert_eq!(status, 401, "#{i}: {body}");
    }
    let (status, body) = sign_in(&http, &url, "王收", "246802").await;
    assert_eq!(status, 429, "{body}");
    assert_eq!(body["error"], "too_many_attempts", "{body}");
}

/// `futures::future::join_all` without the dependency: every future on its own task.
async fn futures_join_all<F, T>(futures: impl IntoIterator<Item = F>) -> Vec<T>
where
    F: std::future::Future<Output = T> + Send + 'static,
    T: Send + 'static,
{
    let handles: Vec<_> = futures.into_iter().map(tokio::spawn).collect();
    let mut out = Vec::new();
    for h in handles {
        out.push(h.await.unwrap());
    }
    out
}

/// Writes `head` on a new connection and leaves it there, as a slow or stalled client.
async fn stalled(url: &str, head: &str) -> tokio::net::TcpStream {
    use tokio::io::AsyncWriteExt;
    let addr = url.trim_start_matches("http://");
    let mut stream = tokio::net::TcpStream::connect(addr).await.unwrap();
    stream.write_all(head.as_bytes()).await.unwrap();
    stream
}

/// What the station sends on `stream` before it closes it, waiting at most `secs`
/// (`None` if the connection is still open by then).
async fn answer_within(stream: &mut tokio::net::TcpStream, secs: u64) -> Option<String> {
    use tokio::io::AsyncReadExt;
    let mut out = Vec::new();
    let read = tokio::time::timeout(
        std::time::Duration::from_secs(secs),
        stream.read_to_end(&mut out),
    )
    .await;
    match read {
        Ok(_) => Some(String::from_utf8_lossy(&out).into_owned()),
        Err(_) => None,
    }
}

async fn healthz(http: &reqwest::Client, url: &str) -> u16 {
    tokio::time::timeout(
        std::time::Duration::from_secs(2),
        http.get(format!("{url}/healthz")).send(),
    )
    .await
    .expect("/healthz answers at once")
    .unwrap()
    .status()
    .as_u16()
}

async fn a_slow_header_client_stops_neither_healthz_nor_a_push(backend: Backend) {
    let Some(ts) = start_with(backend, |c| {
        c.header_read_timeout_secs = 1;
        c.max_concurrent_requests = 2;
    })
    .await
    else {
        return;
    };
    let url = ts.url();
    let dev = common::enroll(&ts, &url, "BUS-SLOW").await;
    dev.seed(1);
    // Half a header, then nothing, on more connections than there are turns.
    let mut slow = Vec::new();
    for _ in 0..4 {
        slow.push(stalled(&url, "POST /v1/push HTTP/1.1\r\nHost: station\r\nAuthoriza").await);
    }
    let http = http();
    assert_eq!(healthz(&http, &url).await, 200);
    dev.replicator(&url).sync_once().await.unwrap();
    common::assert_station_holds_exactly(&ts, &dev).await;
    // And the station closes the stalled connections once their headers are late.
    for stream in &mut slow {
        assert!(
            answer_within(stream, 5).await.is_some(),
            "a connection stalled inside its headers stays open"
        );
    }
}

async fn a_stalled_body_holds_its_turn_only_until_the_deadline(backend: Backend) {
    let Some(ts) = start_with(backend, |c| {
        c.request_timeout_secs = 2;
        c.max_concurrent_requests = 1;
    })
    .await
    else {
        return;
    };
    let url = ts.url();
    let dev = common::enroll(&ts, &url, "BUS-STALL").await;
    dev.seed(1);
    // An enrolled device's push whose body stops after a few bytes: it has the one turn.
    let mut stuck = stalled(
        &url,
        &format!(
            "POST /v1/push HTTP/1.1\r\nHost: station\r\nAuthorization: Bearer {}\r\n\
             Content-Length: 1000\r\n\r\n{{\"client\"",
            dev.token
        ),
    )
    .await;
    tokio::time::sleep(std::time::Duration::from_millis(200)).await;
    let http = http();
    // /healthz waits for no turn.
    assert_eq!(healthz(&http, &url).await, 200);
    // The stalled request gets 503 at its deadline, and the next push gets the turn.
    let answer = answer_within(&mut stuck, 5)
        .await
        .expect("a stalled body is answered at the deadline");
    assert!(answer.starts_with("HTTP/1.1 503"), "{answer}");
    dev.replicator(&url).sync_once().await.unwrap();
    common::assert_station_holds_exactly(&ts, &dev).await;
}

async fn bodies_are_limited_before_anyone_is_authenticated(backend: Backend) {
    // The default push limit (8 MiB), so the smaller limit of the forms shows.
    let Some(ts) = start_with(backend, |c| {
        c.max_body_bytes = 8 * 1024 * 1024;
        c.max_inflated_bytes = 64 * 1024 * 1024;
    })
    .await
    else {
        return;
    };
    let url = ts.url();
    // A huge declared body without a credential: refused at once, nothing read.
    for (path, extra) in [
        ("/v1/push", ""),
        ("/v1/push", "Authorization: Bearer lbs_0000\r\n"),
        ("/v1/enroll", ""),
        ("/desk/api/sign-in", ""),
    ] {
        let mut stream = stalled(
            &url,
            &format!(
                "POST {path} HTTP/1.1\r\nHost: station\r\n{extra}Content-Length: 100000000\r\n\
                 Connection: close\r\n\r\n"
            ),
        )
        .await;
        let answer = answer_within(&mut stream, 3)
            .await
            .unwrap_or_else(|| panic!("{path}: no answer without reading the body"));
        assert!(answer.starts_with("HTTP/1.1 413"), "{path}: {answer}");
        assert!(answer.contains("body_too_large"), "{path}: {answer}");
    }
    // A sign-in is a name and a PIN: a megabyte of it is refused, not parsed.
    let pad = "x".repeat(1024 * 1024);
    let res = http()
        .post(format!("{url}/desk/api/sign-in"))
        .json(&json!({"name": pad, "pin": "1234"}))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status().as_u16(), 413);
    // A body sent without a length (chunked) is cut off at the limit too.
    let size = 300 * 1024;
    let mut stream = stalled(
        &url,
        &format!(
            "POST /v1/enroll HTTP/1.1\r\nHost: station\r\nTransfer-Encoding: chunked\r\n\
             Connection: close\r\n\r\n{size:x}\r\n{}\r\n0\r\n\r\n",
            " ".repeat(size)
        ),
    )
    .await;
    let answer = answer_within(&mut stream, 5).await.unwrap();
    assert!(answer.starts_with("HTTP/1.1 413"), "{answer}");
}

async fn statistics_need_a_desk_session(backend: Backend) {
    let Some(ts) = start(backend, None).await else {
        return;
    };
    let url = ts.url();
    add_staff(&ts, "王收", "receiving", "246802").await;
    let http = http();
    let res = http
        .get(format!("{url}/desk/api/statistics"))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status().as_u16(), 401);
    let (_, body) = sign_in(&http, &url, "王收", "246802").await;
    let token = body["token"].as_str().unwrap();
    let res = http
        .get(format!("{url}/desk/api/statistics"))
        .bearer_auth(token)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status().as_u16(), 200);
}

async fn metrics_can_have_their_own_address(backend: Backend) {
    let Some(ts) = start_with(backend, |c| {
        c.metrics_listen = Some("127.0.0.1:0".parse().unwrap());
    })
    .await
    else {
        return;
    };
    let url = ts.url();
    let http = http();
    let res = http.get(format!("{url}/metrics")).send().await.unwrap();
    assert_eq!(res.status().as_u16(), 404, "not on the devices' address");
    let metrics = ts.station.as_ref().unwrap().metrics_addr.unwrap();
    let res = http
        .get(format!("http://{metrics}/metrics"))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status().as_u16(), 200);
    assert!(res.text().await.unwrap().contains("lifebridge_devices"));
    let res = http.get(format!("http://{metrics}/v1/status")).send().await;
    assert_eq!(
        res.unwrap().status().as_u16(),
        404,
        "and nothing else there"
    );
}

#[cfg(unix)]
#[tokio::test]
async fn the_sqlite_file_is_readable_by_the_station_user_only() {
    use std::os::unix::fs::PermissionsExt;
    let ts = start(Backend::Sqlite, None).await.unwrap();
    let dir = &ts.config.data_dir;
    let mode = |p: &std::path::Path| std::fs::metadata(p).unwrap().permissions().mode() & 0o777;
    assert_eq!(mode(dir), 0o700);
    for name in ["station.db", "station.db-wal", "station.db-shm"] {
        let path = dir.join(name);
        assert!(path.exists(), "{name}");
        assert_eq!(mode(&path), 0o600, "{name}");
    }
    // A file an earlier version left readable is narrowed when the station opens it.
    let ts2 = start_with(Backend::Sqlite, |_| {}).await.unwrap();
    let dir2 = ts2.config.data_dir.clone();
    drop(ts2.station);
    let db = dir2.join("station.db");
    std::fs::set_permissions(&db, std::fs::Permissions::from_mode(0o644)).unwrap();
    let config = ts2.config.clone();
    let _storage = lifebridge_station::open_storage(&config).await.unwrap();
    assert_eq!(mode(&db), 0o600);
}

both_backends! {
    parallel_guesses_get_exactly_the_allowed_attempts => super::parallel_guesses_get_exactly_the_allowed_attempts;
    every_failure_answers_the_same => super::every_failure_answers_the_same;
    one_address_cannot_walk_the_staff_list => super::one_address_cannot_walk_the_staff_list;
    a_slow_header_client_stops_neither_healthz_nor_a_push => super::a_slow_header_client_stops_neither_healthz_nor_a_push;
    a_stalled_body_holds_its_turn_only_until_the_deadline => super::a_stalled_body_holds_its_turn_only_until_the_deadline;
    bodies_are_limited_before_anyone_is_authenticated => super::bodies_are_limited_before_anyone_is_authenticated;
    statistics_need_a_desk_session => super::statistics_need_a_desk_session;
    metrics_can_have_their_own_address => super::metrics_can_have_their_own_address;
}
