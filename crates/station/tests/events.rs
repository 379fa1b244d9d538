//! `GET /v1/events`: the feed's head, streamed to devices as it advances, on both
//! storage backends.
#![allow(clippy::unwrap_used)]

mod common;

use std::time::{Duration, Instant};

use common::{Backend, collect_donations, enroll, start_with, test_din};
use lifebridge_protocol::wire::ErrorCode;
use lifebridge_sync::client::{ClientError, Events, StationClient, Trust};

/// The next cursor, failing the test after `within`.
async fn next_cursor(events: &mut Events, within: Duration) -> u64 {
    tokio::time::timeout(within, events.next())
        .await
        .expect("an event in time")
        .expect("the stream is open")
        .unwrap()
}

async fn a_push_reaches_an_open_stream_at_once(backend: Backend) {
    let Some(ts) = start_with(backend, |c| {
        c.din = Some(test_din());
        // Shorter than the stream stays open below: the deadline must not end it.
        c.request_timeout_secs = 1;
    })
    .await
    else {
        return;
    };
    let url = ts.url();
    let writer = enroll(&ts, &url, "BUS-W").await;
    let reader = enroll(&ts, &url, "BUS-R").await;
    let mut events = reader.client(&url).events().await.unwrap();
    let head = ts.storage.counts().await.unwrap().feed_records;
    assert_eq!(
        next_cursor(&mut events, Duration::from_secs(5)).await,
        head,
        "the stream opens with the current head"
    );
    tokio::time::sleep(Duration::from_millis(1500)).await;
    collect_donations(&writer, 1);
    let pushed = Instant::now();
    writer.replicator(&url).sync_once().await.unwrap();
    let cursor = next_cursor(&mut events, Duration::from_secs(5)).await;
    assert!(cursor > head, "{cursor} after {head}");
    assert!(
        pushed.elapsed() < Duration::from_secs(2),
        "the event came {:?} after the push began",
        pushed.elapsed()
    );
    // Whatever further events come, the last one names the feed's end.
    let end = ts.storage.counts().await.unwrap().feed_records;
    let mut last = cursor;
    while last < end {
        last = next_cursor(&mut events, Duration::from_secs(5)).await;
    }
    assert_eq!(last, end);
    let stopping = Instant::now();
    ts.station.unwrap().stop().await.unwrap();
    assert!(
        stopping.elapsed() < Duration::from_secs(5),
        "an open stream held the shutdown for {:?}",
        stopping.elapsed()
    );
    assert!(
        matches!(
            tokio::time::timeout(Duration::from_secs(5), events.next()).await,
            Ok(None | Some(Err(_)))
        ),
        "a stopping station ends its streams"
    );
}

async fn open_streams_are_bounded_and_need_a_device(backend: Backend) {
    let Some(ts) = start_with(backend, |c| {
        c.din = Some(test_din());
        c.max_event_streams = 1;
    })
    .await
    else {
        return;
    };
    let url = ts.url();
    let device = enroll(&ts, &url, "BUS-1").await;
    let anonymous = StationClient::new(&url, Trust::LoopbackHttp, Duration::from_secs(5)).unwrap();
    match anonymous.events().await {
        Err(ClientError::Station { status, body }) => {
            assert_eq!((status, body.error), (401, ErrorCode::Unauthorized));
        }
        other => panic!("an anonymous stream: {other:?}"),
    }
    let mut first = device.client(&url).events().await.unwrap();
    next_cursor(&mut first, Duration::from_secs(5)).await;
    match device.client(&url).events().await {
        Err(ClientError::Station { status, body }) => {
            assert_eq!((status, body.error), (503, ErrorCode::Unavailable));
        }
        other => panic!("a stream beyond the bound: {other:?}"),
    }
    // The device went away: its place is free again once the station notices.
    drop(first);
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        match device.client(&url).events().await {
            Ok(mut again) => {
                next_cursor(&mut again, Duration::from_secs(5)).await;
                break;
            }
            Err(e) if Instant::now() < deadline => {
                let _ = e;
                tokio::time::sleep(Duration::from_millis(50)).await;
            }
            Err(e) => panic!("the bound was not given back: {e}"),
        }
    }
}

/// Every writer of the feed tells the stream, not only a push: here a rules table
/// published through the storage API (as the desk's writes and the leases are).
async fn every_feed_writer_moves_the_head(backend: Backend) {
    let Some(ts) = start_with(backend, |c| c.din = Some(test_din())).await else {
        return;
    };
    let url = ts.url();
    let device = enroll(&ts, &url, "BUS-1").await;
    let mut events = device.client(&url).events().await.unwrap();
    let head = next_cursor(&mut events, Duration::from_secs(5)).await;
    let mut rules =
        serde_json::to_value(lifebridge_domain::rules::RuleSet::gb18467_2011()).unwrap();
    rules["version"] = "GB18467-2011/events".into();
    assert!(
        ts.storage
            .publish_reference("rules", "GB18467-2011/events", &rules, chrono::Utc::now())
            .await
            .unwrap()
    );
    let cursor = next_cursor(&mut events, Duration::from_secs(5)).await;
    assert_eq!(cursor, head + 1);
    assert_eq!(*ts.storage.feed_head().borrow(), cursor);
}

both_backends! {
    every_feed_writer_moves_the_head => super::every_feed_writer_moves_the_head;
    a_push_reaches_an_open_stream_at_once => super::a_push_reaches_an_open_stream_at_once;
    open_streams_are_bounded_and_need_a_device => super::open_streams_are_bounded_and_need_a_device;
}
