//! The whole hand-off, with nothing built by hand: a bus's own store packs its released
//! bags and the driver signs the dispatch; the manifest reaches the desk first by its QR
//! (no signal) and then by replication (identical); the desk scans every bag and both
//! parties sign; the signed hand-off comes back to the bus's store on its next sync.
#![allow(clippy::unwrap_used)]

mod common;

use common::{Backend, enroll, start};
use lifebridge_domain::china_date;
use lifebridge_domain::product::ProductClass;
use lifebridge_station::staff::new_staff;
use lifebridge_store::Actor;
use serde_json::{Value, json};

async fn post(url: &str, path: &str, token: Option<&str>, body: Value) -> (u16, Value) {
    let _ = rustls::crypto::ring::default_provider().install_default();
    let mut req = reqwest::Client::new()
        .post(format!("{url}{path}"))
        .json(&body);
    if let Some(t) = token {
        req = req.bearer_auth(t);
    }
    let res = req.send().await.unwrap();
    let status = res.status().as_u16();
    (status, res.json().await.unwrap_or(Value::Null))
}

async fn bus_to_desk_and_back(backend: Backend) {
    let Some(ts) = start(backend, None).await else {
        return;
    };
    let url = ts.url();
    let bus = enroll(&ts, &url, "BUS-FLOW").await;
    bus.seed(5);

    // The station issues the desk's account and the driver's: one name and one PIN for
    // the driver, on the tablet and at the desk. The bus syncs once before it leaves.
    let now = chrono::Utc::now();
    assert!(
        ts.storage
            .add_staff(&new_staff("赵敏", "receiving", "246802", now).unwrap())
            .await
            .unwrap()
    );
    assert!(
        ts.storage
            .add_staff(&new_staff("司机 周勇", "driver", "135791", now).unwrap())
            .await
            .unwrap()
    );
    bus.replicator(&url).sync_once().await.unwrap();
    {
        let mut s = bus.store.lock().unwrap();
        assert!(
            s.staff_by_name("赵敏").unwrap().is_none(),
            "receiving accounts stay at the station"
        );
        let driver = s.staff_by_name("司机 周勇").unwrap().unwrap();
        assert!(s.sign_in(driver.id, "135791").unwrap().is_ok());
    }

    // On the bus, offline: one red-cell box, every released bag scanned in, a reading,
    // and the station-issued driver signs the dispatch with the PIN the station set.
    let signed = {
        let mut s = bus.store.lock().unwrap();
        let today = china_date(chrono::Utc::now());
        let drive = s.drives_on(today).unwrap().pop().unwrap();
        let driver = s.staff_by_name("司机 周勇").unwrap().unwrap();
        let as_driver = Actor::staff(driver.id);
        let boxed = s
            .open_box(
                as_driver,
                drive.id,
                "BOX-R7",
                ProductClass::RedCellWholeBlood,
            )
            .unwrap();
        let dins: Vec<_> = s
            .drive_donations(drive.id)
            .unwrap()
            .into_iter()
            .map(|d| d.din)
            .collect();
        assert_eq!(dins.len(), 5);
        for din in &dins {
            s.pack_bag(as_driver, boxed.id, &format!("]C0={din}01"))
                .unwrap();
        }
        s.record_temperature(as_driver, boxed.id, chrono::Utc::now(), 4.5)
            .unwrap();
        assert!(s.dispatch(as_driver, drive.id, driver.id, "1234").is_err());
        s.dispatch(as_driver, drive.id, driver.id, "135791")
            .unwrap()
    };
    let manifest = signed.manifest;
    assert_eq!(manifest.boxes[0].bags.len(), 5);

    // At the station, before the bus has synced again: the manifest is loaded from its QR.
    let (status, body) = post(
        &url,
        "/desk/api/sign-in",
        None,
        json!({"name": "赵敏", "pin": "246802"}),
    )
    .await;
    assert_eq!(status, 200, "{body}");
    let token = body["token"].as_str().unwrap().to_owned();
    let token = Some(token.as_str());
    let parts = lifebridge_protocol::manifest_code::encode(&manifest);
    let (status, body) = post(
        &url,
        "/desk/api/manifests/qr",
        token,
        json!({"parts": parts}),
    )
    .await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["bags"], 5);
    assert_eq!(body["replicated"], false);

    // The bus finds a signal: the replicated manifest is the very one the QR carried.
    bus.replicator(&url).sync_once().await.unwrap();
    let row = ts.storage.manifest_row(manifest.id).await.unwrap().unwrap();
    assert_eq!(row.qr_matches, Some(true));
    assert_eq!(row.manifest().unwrap(), manifest);

    // The desk scans every bag into the box it came in, and both parties sign.
    let (status, body) = post(
        &url,
        "/desk/api/receipts",
        token,
        json!({"manifest_ids": [manifest.id]}),
    )
    .await;
    assert_eq!(status, 201, "{body}");
    let receipt = body["receipt_id"].as_str().unwrap().to_owned();
    let mut view = Value::Null;
    for bag in &manifest.boxes[0].bags {
        let (status, body) = post(
            &url,
            &format!("/desk/api/receipts/{receipt}/scans"),
            token,
            json!({"text": format!("]C0={}01", bag.din), "box_code": "BOX-R7"}),
        )
        .await;
        assert_eq!(status, 200, "{body}");
        view = body;
        // The sample tubes released with the bag travel with it and are scanned too.
        assert_eq!(bag.tubes.len(), 2);
        for tube in &bag.tubes {
            let (status, body) = post(
                &url,
                &format!("/desk/api/receipts/{receipt}/scans"),
                token,
                json!({"text": format!("]C0={}{}", bag.din, tube.flags()), "box_code": "BOX-R7"}),
            )
            .await;
            assert_eq!(status, 200, "{body}");
            view = body;
        }
    }
    let tally = &view["reconciliation"]["tally"];
    assert_eq!(
        (tally["received"].clone(), tally["missing"].clone()),
        (json!(5), json!(0))
    );
    assert_eq!(tally.get("tubes_missing"), None, "{tally}");
    let (status, record) = post(
        &url,
        &format!("/desk/api/receipts/{receipt}/sign"),
        token,
        json!({"receiver_pin": "246802", "driver_name": "司机 周勇", "driver_pin": "135791", "reasons": {}}),
    )
    .await;
    assert_eq!(status, 200, "{record}");

    // Back on the bus: its store holds the station's signed record for its manifest.
    bus.replicator(&url).sync_once().await.unwrap();
    let s = bus.store.lock().unwrap();
    let handoffs = s.manifest_handoffs(manifest.id).unwrap();
    assert_eq!(handoffs.len(), 1);
    assert_eq!(handoffs[0].receiver.name, "赵敏");
    assert_eq!(handoffs[0].received.len(), 5);
    assert!(handoffs[0].discrepancies.is_empty());
    assert!(
        s.check().unwrap().is_ok(),
        "the bus's store still checks clean"
    );
}

both_backends! {
    bus_to_desk_and_back => crate::bus_to_desk_and_back;
}
