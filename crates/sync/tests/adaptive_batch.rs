//! The replicator's push batch adapts to the link: it grows after acknowledged round
//! trips up to its cap, and a 413 halves it, against a stand-in station that refuses
//! requests of more than a set number of entries.
#![allow(clippy::unwrap_used)]

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use lifebridge_protocol::compress::gunzip_limited;
use lifebridge_protocol::wire::{
    ErrorBody, ErrorCode, PullResponse, PushRequest, PushResponse, StationClock,
};
use lifebridge_store::{Store, StoreKey};
use lifebridge_sync::client::{StationClient, Trust};
use lifebridge_sync::replicator::{Replicator, ReplicatorConfig};

/// A station over plain HTTP/1.1 that records the size of every push and answers 413
/// to one of more than `limit` entries; its feed is empty.
fn station(limit: usize) -> (String, Arc<Mutex<Vec<usize>>>) {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    let sizes = Arc::new(Mutex::new(Vec::new()));
    let seen = sizes.clone();
    std::thread::spawn(move || {
        for stream in listener.incoming() {
            let Ok(stream) = stream else { return };
            let seen = seen.clone();
            std::thread::spawn(move || serve(stream, limit, &seen));
        }
    });
    (url, sizes)
}

fn serve(stream: TcpStream, limit: usize, seen: &Mutex<Vec<usize>>) {
    let mut reader = BufReader::new(stream.try_clone().unwrap());
    let mut out = stream;
    loop {
        let mut line = String::new();
        if reader.read_line(&mut line).unwrap_or(0) == 0 {
            return;
        }
        let path = line.split_whitespace().nth(1).unwrap_or("").to_owned();
        let mut length = 0;
        loop {
            let mut header = String::new();
            reader.read_line(&mut header).unwrap();
            let header = header.trim_end();
            if header.is_empty() {
                break;
            }
            if let Some((name, value)) = header.split_once(':')
                && name.eq_ignore_ascii_case("content-length")
            {
                length = value.trim().parse().unwrap();
            }
        }
        let mut body = vec![0; length];
        reader.read_exact(&mut body).unwrap();
        let json = gunzip_limited(&body, 1 << 30).unwrap();
        let clock = StationClock {
            station_time: chrono::Utc::now(),
            clock_warning: None,
        };
        let (status, answer) = if path == "/v1/push" {
            let req: PushRequest = serde_json::from_slice(&json).unwrap();
            let n = req.entries.len();
            seen.lock().unwrap().push(n);
            if n > limit {
                let refusal = ErrorBody::new(ErrorCode::BodyTooLarge, "the body is too large");
                (
                    "413 Payload Too Large",
                    serde_json::to_vec(&refusal).unwrap(),
                )
            } else {
                let answer = PushResponse {
                    held_seq: req.entries.last().unwrap().seq,
                    stored: n as u32,
                    clock,
                };
                ("200 OK", serde_json::to_vec(&answer).unwrap())
            }
        } else {
            let page = PullResponse {
                records: Vec::new(),
                cursor: 0,
                more: false,
                lease_refused: None,
                held_seq: None,
                clock,
            };
            ("200 OK", serde_json::to_vec(&page).unwrap())
        };
        write!(
            out,
            "HTTP/1.1 {status}\r\nContent-Type: application/json\r\nContent-Length: {}\r\n\r\n",
            answer.len()
        )
        .unwrap();
        out.write_all(&answer).unwrap();
    }
}

/// A device store holding the change log of a few demo donations.
fn device(dir: &std::path::Path) -> Arc<Mutex<Store>> {
    let mut store = Store::create(
        &dir.join("device.db"),
        &StoreKey::new("correct horse battery").unwrap(),
        "BUS-01",
    )
    .unwrap();
    lifebridge_store::demo::seed(&mut store, 12, |_| Ok(())).unwrap();
    Arc::new(Mutex::new(store))
}

fn replicator(store: &Arc<Mutex<Store>>, url: &str, start: u32, max: u32) -> Replicator {
    let client = StationClient::new(url, Trust::LoopbackHttp, Duration::from_secs(10))
        .unwrap()
        .with_token("token");
    let config = ReplicatorConfig {
        batch_size: start,
        max_batch_size: max,
        ..ReplicatorConfig::default()
    };
    Replicator::new(store.clone(), client, config).0
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_batch_grows_to_its_cap_and_a_413_halves_it() {
    let dir = tempfile::tempdir().unwrap();
    let store = device(dir.path());
    let total = store.lock().unwrap().pending_changes().unwrap();
    assert!(
        total > 100,
        "the demo wrote {total} entries; the test needs more"
    );
    let (url, sizes) = station(40);
    let report = replicator(&store, &url, 8, 64).sync_once().await.unwrap();
    assert_eq!(report.pushed, total);
    assert_eq!(store.lock().unwrap().pending_changes().unwrap(), 0);
    let sizes = sizes.lock().unwrap().clone();
    // 8, 16, 32 acknowledged; 64 refused; halved to 32, which is now the cap.
    assert_eq!(sizes[..5], [8, 16, 32, 64, 32], "{sizes:?}");
    assert!(sizes[5..].iter().all(|&n| n <= 32), "{sizes:?}");
    let last = sizes.len() - 1;
    assert!(sizes[5..last].iter().all(|&n| n == 32), "{sizes:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_batch_never_grows_past_its_cap() {
    let dir = tempfile::tempdir().unwrap();
    let store = device(dir.path());
    let total = store.lock().unwrap().pending_changes().unwrap();
    let (url, sizes) = station(usize::MAX);
    let r = replicator(&store, &url, 5, 24);
    let report = r.sync_once().await.unwrap();
    assert_eq!(report.pushed, total);
    let sizes = sizes.lock().unwrap().clone();
    assert_eq!(sizes[..4], [5, 10, 20, 24], "{sizes:?}");
    assert!(sizes.iter().all(|&n| n <= 24), "{sizes:?}");
    assert_eq!(report.push_requests as usize, sizes.len());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_single_entry_too_large_is_reported_not_retried_forever() {
    let dir = tempfile::tempdir().unwrap();
    let store = device(dir.path());
    let (url, sizes) = station(0);
    let err = replicator(&store, &url, 4, 16)
        .sync_once()
        .await
        .unwrap_err();
    assert!(
        matches!(err, lifebridge_sync::SyncError::Station { status: 413, .. }),
        "{err}"
    );
    assert_eq!(*sizes.lock().unwrap(), [4, 2, 1]);
}
