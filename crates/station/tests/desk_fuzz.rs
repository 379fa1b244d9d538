//! Fuzzing of the receiving desk's API with a signed-in session: random methods, paths
//! (real and made-up receipts, odd segments, query strings) and bodies (JSON of any
//! shape with the desk's field names, and bytes that are no JSON). No request panics the
//! station or gets a 5xx, and one that is refused (4xx) writes nothing: every table of
//! the station's database reads the same before and after it.
#![allow(clippy::unwrap_used)]

mod common;
mod fixture;

use std::path::Path;

use common::{Backend, enroll, start};
use lifebridge_station::staff::new_staff;
use proptest::prelude::*;
use proptest::test_runner::{Config as RunnerConfig, TestRunner};
use serde_json::{Value, json};

fn http() -> reqwest::Client {
    let _ = rustls::crypto::ring::default_provider().install_default();
    reqwest::Client::new()
}

async fn post(url: &str, path: &str, token: Option<&str>, body: Value) -> Value {
    let mut req = http().post(format!("{url}{path}")).json(&body);
    if let Some(token) = token {
        req = req.bearer_auth(token);
    }
    req.send().await.unwrap().json().await.unwrap()
}

/// Every row of every table, sorted: equal before and after a request that wrote nothing.
fn snapshot(db: &Path) -> Vec<String> {
    let conn =
        rusqlite::Connection::open_with_flags(db, rusqlite::OpenFlags::SQLITE_OPEN_READ_ONLY)
            .unwrap();
    let tables: Vec<String> = conn
        .prepare("SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name")
        .unwrap()
        .query_map([], |r| r.get(0))
        .unwrap()
        .collect::<Result<_, _>>()
        .unwrap();
    let mut rows = Vec::new();
    for table in tables {
        let mut stmt = conn.prepare(&format!("SELECT * FROM \"{table}\"")).unwrap();
        let columns = stmt.column_count();
        let mut found: Vec<String> = stmt
            .query_map([], |r| {
                let mut line = format!("{table}:");
                for i in 0..columns {
                    let v: rusqlite::types::Value = r.get(i)?;
                    line.push_str(&format!("{v:?}|"));
                }
                Ok(line)
            })
            .unwrap()
            .collect::<Result<_, _>>()
            .unwrap();
        found.sort();
        rows.extend(found);
    }
    rows
}

const FIELDS: &[&str] = &[
    "name",
    "pin",
    "text",
    "box_code",
    "parts",
    "manifest_ids",
    "receiver_pin",
    "driver_name",
    "driver_pin",
    "reasons",
    "box_reasons",
    "din",
    "reason",
    "piece",
    "witness_name",
    "witness_pin",
    "from",
    "to",
];

fn json_value() -> impl Strategy<Value = Value> {
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::from),
        any::<i64>().prop_map(Value::from),
        any::<f64>().prop_map(|f| json!(f)),
        any::<String>().prop_map(Value::from),
        "[=&\\]A-Z0-9 :/-]{0,30}".prop_map(Value::from),
        Just(Value::from("赵敏")),
        Just(Value::from("246802")),
    ];
    leaf.prop_recursive(3, 24, 6, |inner| {
        prop_oneof![
            proptest::collection::vec(inner.clone(), 0..5).prop_map(Value::from),
            proptest::collection::btree_map(
                prop_oneof![
                    proptest::sample::select(FIELDS).prop_map(str::to_owned),
                    any::<String>()
                ],
                inner,
                0..6
            )
            .prop_map(|m| Value::Object(m.into_iter().collect())),
        ]
    })
}

#[derive(Debug, Clone)]
enum Body {
    None,
    Json(Value),
    Bytes(Vec<u8>),
}

fn body() -> impl Strategy<Value = Body> {
    prop_oneof![
        1 => Just(Body::None),
        6 => json_value().prop_map(Body::Json),
        2 => proptest::collection::vec(any::<u8>(), 0..200).prop_map(Body::Bytes),
    ]
}

/// A path under the desk's API; `{R}` is replaced by a receipt id.
fn path() -> impl Strategy<Value = String> {
    let route = proptest::sample::select(vec![
        "/desk/api/sign-in",
        "/desk/api/manifests",
        "/desk/api/manifests/qr",
        "/desk/api/receipts",
        "/desk/api/receipts/{R}",
        "/desk/api/receipts/{R}/scans",
        "/desk/api/receipts/{R}/manual",
        "/desk/api/receipts/{R}/sign",
        "/desk/api/statistics",
        "/desk/api/{R}",
    ]);
    let receipt = prop_oneof![
        Just("REAL".to_owned()),
        Just(uuid::Uuid::nil().to_string()),
        "[0-9a-f-]{0,40}",
        "[%./a-zA-Z0-9]{1,12}",
        Just("%00".to_owned()),
        Just("..".to_owned()),
    ];
    let query = prop_oneof![
        Just(String::new()),
        "[a-z_]{1,8}=[0-9a-zA-Z%-]{0,12}".prop_map(|q| format!("?{q}")),
    ];
    (route, receipt, query).prop_map(|(r, id, q)| format!("{}{q}", r.replace("{R}", &id)))
}

#[test]
fn the_desk_api_survives_arbitrary_requests_and_refusals_write_nothing() {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    let (ts, token, receipt) = rt.block_on(async {
        let ts = start(Backend::Sqlite, None).await.unwrap();
        let url = ts.url();
        let bus = enroll(&ts, &url, "BUS-FUZZ").await;
        let now = chrono::Utc::now();
        let manifest = fixture::manifest(bus.id, 100, 6, now - chrono::Duration::minutes(30));
        bus.client(&url)
            .push(vec![fixture::entry(&manifest, 1)])
            .await
            .unwrap();
        for (name, role, pin) in [
            ("赵敏", "receiving", "246802"),
            ("李司机", "driver", "135791"),
        ] {
            let staff = new_staff(name, role, pin, now).unwrap();
            assert!(ts.storage.add_staff(&staff).await.unwrap());
        }
        let body = post(
            &url,
            "/desk/api/sign-in",
            None,
            json!({"name": "赵敏", "pin": "246802"}),
        )
        .await;
        let token = body["token"].as_str().unwrap().to_owned();
        let opened = json!({"manifest_ids": [manifest.id]});
        let body = post(&url, "/desk/api/receipts", Some(&token), opened).await;
        let receipt = body["receipt_id"].as_str().unwrap().to_owned();
        (ts, token, receipt)
    });
    let url = ts.url();
    let db = ts.config.data_dir.join("station.db");
    let http = http();
    let mut runner = TestRunner::new(RunnerConfig {
        cases: 300,
        failure_persistence: None,
        ..RunnerConfig::default()
    });
    let strategy = (any::<bool>(), path(), body(), any::<u8>());
    runner
        .run(&strategy, |(post, path, body, auth)| {
            let path = path.replace("REAL", &receipt);
            let before = snapshot(&db);
            let status = rt.block_on(async {
                let target = format!("{url}{path}");
                let mut req = if post {
                    http.post(&target)
                } else {
                    http.get(&target)
                };
                // Mostly signed in; sometimes no session or a made-up one.
                req = match auth % 8 {
                    0 => req,
                    1 => req.bearer_auth("lbs_made_up"),
                    _ => req.bearer_auth(&token),
                };
                req = match &body {
                    Body::None => req,
                    Body::Json(v) => req.json(v),
                    Body::Bytes(b) => req
                        .header("content-type", "application/json")
                        .body(b.clone()),
                };
                match req.send().await {
                    Ok(res) => res.status().as_u16(),
                    // A URL reqwest itself refuses never reached the station.
                    Err(e) if e.is_builder() => 400,
                    Err(e) => panic!("{path}: {e}"),
                }
            });
            prop_assert!(status < 500, "{path} answered {status}");
            if status >= 400 {
                prop_assert!(
                    snapshot(&db) == before,
                    "{path} was refused ({status}) but changed the database"
                );
            }
            Ok(())
        })
        .unwrap();
    // The station still answers.
    let health = rt.block_on(async { http.get(format!("{url}/healthz")).send().await.unwrap() });
    assert!(health.status().is_success());
}
