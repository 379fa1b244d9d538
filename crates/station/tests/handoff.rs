//! The receiving desk over HTTP, on both backends: a manifest arriving by QR and by
//! replication, desk sign-in, scans, the discrepancies shown, signing refused without
//! reasons, and the signed hand-off reaching the bus on its next pull.
#![allow(clippy::unwrap_used)]

mod common;
mod fixture;

use std::collections::BTreeMap;

use common::{Backend, enroll, start};
use lifebridge_domain::messages::{Lang, Message};
use lifebridge_protocol::records::RemoteKind;
use lifebridge_station::staff::new_staff;
use serde_json::{Value, json};

/// A message the desk was sent (`{code, params}`), as the page shows it in each
/// language: "中文 / English".
fn said(v: &Value) -> String {
    let m: Message = serde_json::from_value(v.clone()).unwrap();
    format!("{} / {}", m.render(Lang::ZhCn), m.render(Lang::En))
}

/// A plain HTTP client for the desk's JSON API (as the page's `fetch` would call it).
fn http() -> reqwest::Client {
    // reqwest is built without a default TLS provider; loopback HTTP needs none, but
    // the builder insists on one being installed.
    let _ = rustls::crypto::ring::default_provider().install_default();
    reqwest::Client::new()
}

struct Desk {
    http: reqwest::Client,
    url: String,
    token: String,
}

impl Desk {
    async fn call(&self, method: &str, path: &str, body: Option<Value>) -> (u16, Value) {
        let url = format!("{}{path}", self.url);
        let req = match method {
            "GET" => self.http.get(url),
            _ => self.http.post(url),
        }
        .bearer_auth(&self.token);
        let req = match body {
            Some(b) => req.json(&b),
            None => req,
        };
        let res = req.send().await.unwrap();
        let status = res.status().as_u16();
        (status, res.json().await.unwrap_or(Value::Null))
    }

    async fn post(&self, path: &str, body: Value) -> (u16, Value) {
        self.call("POST", path, Some(body)).await
    }

    /// One scan at the desk, as the page posts it: the scanner's text and the box it is in.
    async fn scan(&self, scans_path: &str, text: &str, box_code: &str) -> (u16, Value) {
        self.post(scans_path, json!({"text": text, "box_code": box_code}))
            .await
    }
}

async fn add_staff(ts: &common::TestStation, name: &str, role: &str, pin: &str) {
    let staff = new_staff(name, role, pin, chrono::Utc::now()).unwrap();
    assert!(ts.storage.add_staff(&staff).await.unwrap());
}

async fn sign_in(url: &str, name: &str, pin: &str) -> (u16, Value) {
    let res = http()
        .post(format!("{url}/desk/api/sign-in"))
        .json(&json!({"name": name, "pin": pin}))
        .send()
        .await
        .unwrap();
    (res.status().as_u16(), res.json().await.unwrap())
}

async fn hand_off_at_the_desk(backend: Backend) {
    let Some(ts) = start(backend, None).await else {
        return;
    };
    let url = ts.url();
    let bus = enroll(&ts, &url, "BUS-RECV").await;
    let other_bus = enroll(&ts, &url, "BUS-OTHER").await;
    let now = chrono::Utc::now();
    let mut manifest = fixture::manifest(bus.id, 100, 40, now - chrono::Duration::minutes(30));
    // What the bus knew of one bag's collection travels to the desk with it.
    use lifebridge_domain::cold_chain::{UnitAssessment, UnitFinding};
    manifest.boxes[0].bags[1].unit = UnitAssessment::new(vec![UnitFinding::SlowDraw {
        volume_ml: 400,
        seconds: 660,
        limit_minutes: 10.0,
    }]);

    add_staff(&ts, "赵敏", "receiving", "246802").await;
    add_staff(&ts, "李司机", "driver", "135791").await;
    // A name signs hand-offs, so it is unique.
    let dup = new_staff("赵敏", "driver", "111111", now).unwrap();
    assert!(!ts.storage.add_staff(&dup).await.unwrap());
    assert!(new_staff("王", "cook", "1234", now).is_err());
    assert!(new_staff("王", "driver", "12a4", now).is_err());

    let (status, body) = sign_in(&url, "赵敏", "0000").await;
    assert_eq!(status, 401, "{body}");
    assert_eq!(body["error"], "wrong_pin");
    // A driver cannot sign in at the desk, and their right PIN answers as a wrong one.
    let (status, body) = sign_in(&url, "李司机", "135791").await;
    assert_eq!(status, 401, "a driver cannot sign in at the desk: {body}");
    assert_eq!(body["error"], "wrong_pin");
    let (status, body) = sign_in(&url, "赵敏", "246802").await;
    assert_eq!(status, 200, "{body}");
    let desk = Desk {
        http: http(),
        url: url.clone(),
        token: body["token"].as_str().unwrap().to_owned(),
    };
    let anonymous = Desk {
        token: "lbs_nope".into(),
        ..Desk {
            http: http(),
            url: url.clone(),
            token: String::new(),
        }
    };
    assert_eq!(
        anonymous.call("GET", "/desk/api/manifests", None).await.0,
        401
    );

    // The bus had no signal: the manifest arrives by QR first...
    let parts = lifebridge_protocol::manifest_code::encode(&manifest);
    assert_eq!(parts.len(), 1);
    let (status, body) = desk
        .post(
            "/desk/api/manifests/qr",
            json!({"parts": ["LBM1:1/2:0123456789ABCDEF:BB8"]}),
        )
        .await;
    assert_eq!(status, 422, "{body}");
    assert_eq!(body["error"], "manifest_qr_incomplete");
    assert_eq!(body["missing_parts"], json!([2]));
    let (status, body) = desk
        .post("/desk/api/manifests/qr", json!({"parts": parts}))
        .await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["bags"], 40);
    assert_eq!(body["by_qr"], true);
    assert_eq!(body["replicated"], false);
    assert_eq!(body["qr_matches"], Value::Null);

    // ...and later by replication: the same manifest.
    let pushed = bus
        .client(&url)
        .push(vec![fixture::entry(&manifest, 1)])
        .await
        .unwrap();
    assert_eq!(pushed.0.held_seq, 1);
    let row = ts.storage.manifest_row(manifest.id).await.unwrap().unwrap();
    assert_eq!(row.qr_matches, Some(true));
    assert_eq!(row.manifest().unwrap(), manifest);

    // A QR whose content differs from the replicated copy is flagged, not merged.
    let second = fixture::manifest(other_bus.id, 500, 4, now);
    other_bus
        .client(&url)
        .push(vec![fixture::entry(&second, 1)])
        .await
        .unwrap();
    let mut altered = second.clone();
    altered.boxes[0].bags.pop();
    let (status, body) = desk
        .post(
            "/desk/api/manifests/qr",
            json!({"parts": lifebridge_protocol::manifest_code::encode(&altered)}),
        )
        .await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["qr_matches"], false);
    assert_eq!(
        body["bags"], 4,
        "the replicated copy stays the working copy"
    );

    let (status, list) = desk.call("GET", "/desk/api/manifests", None).await;
    assert_eq!(status, 200);
    assert_eq!(list.as_array().unwrap().len(), 2);

    // Receiving: every bag but one, one in the wrong box, one not on the manifest.
    let (status, body) = desk
        .post("/desk/api/receipts", json!({"manifest_ids": [manifest.id]}))
        .await;
    assert_eq!(status, 201, "{body}");
    let receipt = body["receipt_id"].as_str().unwrap().to_owned();
    let missing = fixture::din(100 + 7);
    let wrong_box = fixture::din(100 + 3);
    let extra = fixture::din(999);
    let short_of_tubes = fixture::din(100 + 25);
    let scans_path = format!("/desk/api/receipts/{receipt}/scans");
    for b in &manifest.boxes {
        for bag in &b.bags {
            if bag.din == missing {
                continue;
            }
            let box_code = if bag.din == wrong_box {
                "BOX-2"
            } else {
                b.code.as_str()
            };
            let (status, body) = desk
                .scan(
                    &scans_path,
                    &format!("]C0{}\r", bag.din.barcode_data()),
                    box_code,
                )
                .await;
            assert_eq!(status, 200, "{body}");
            // Its sample tubes come with it, except the second tube of one bag.
            for tube in &bag.tubes {
                if bag.din == short_of_tubes && tube.piece == 2 {
                    continue;
                }
                let (status, body) = desk
                    .scan(&scans_path, &fixture::tube_scan(&bag.din, *tube), box_code)
                    .await;
                assert_eq!(status, 200, "{body}");
            }
        }
    }
    let (status, body) = desk.scan(&scans_path, "BOX-9", "BOX-1").await;
    assert_eq!(status, 422, "{body}");
    assert_eq!(body["error"], "unreadable_scan");
    let (status, body) = desk
        .scan(&scans_path, &fixture::bag_scan(&extra), "BOX-7")
        .await;
    assert_eq!(status, 422, "{body}");
    assert_eq!(body["error"], "unknown_box");
    let (status, view) = desk
        .scan(&scans_path, &fixture::bag_scan(&extra), "BOX-2")
        .await;
    assert_eq!(status, 200, "{view}");
    let tally = &view["reconciliation"]["tally"];
    assert_eq!(tally["expected"], 40);
    assert_eq!(tally["received"], 39);
    assert_eq!(tally["missing"], 1);
    assert_eq!(tally["extra"], 1);
    assert_eq!(tally["wrong_box"], 1);
    // BOX-1's 20 bags minus the missing one travelled through the excursion: one
    // decision for the box, and each of its bags quarantined.
    assert_eq!(tally["excursion"], 19);
    assert_eq!(tally["over_time_limit"], 0);
    assert_eq!(tally["tubes_missing"], 1);
    assert_eq!(
        tally["quarantined"], 20,
        "19 in the hot box, 1 without its tube"
    );
    assert_eq!(tally.get("downgraded"), None, "none downgraded: {tally}");
    let excursions = view["reconciliation"]["box_excursions"].as_array().unwrap();
    assert_eq!(excursions.len(), 1);
    assert_eq!(excursions[0]["box_code"], "BOX-1");
    assert_eq!(excursions[0]["bags"].as_array().unwrap().len(), 19);
    assert!(
        said(&view["box_descriptions"][0]).contains("its 19 bags are quarantined"),
        "{view}"
    );
    let lines = view["reconciliation"]["lines"].as_array().unwrap();
    let line = |din: &lifebridge_domain::Din| {
        lines
            .iter()
            .find(|l| l["din"] == din.as_str())
            .unwrap()
            .clone()
    };
    assert_eq!(line(&missing)["status"], "missing");
    assert_eq!(line(&extra)["status"], "extra");
    assert_eq!(line(&wrong_box)["discrepancies"][0]["kind"], "wrong_box");
    // The unit's status is on the desk, with why.
    let hot = line(&fixture::din(100 + 1));
    assert!(hot["discrepancies"].as_array().unwrap().is_empty(), "{hot}");
    assert_eq!(hot["unit"]["status"], "quarantined");
    let kinds: Vec<&str> = hot["unit"]["findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["kind"].as_str().unwrap())
        .collect();
    assert_eq!(kinds, ["slow_draw", "excursion"]);
    let short = line(&short_of_tubes);
    assert_eq!(short["discrepancies"][0]["kind"], "tubes_missing");
    assert_eq!(short["unit"]["status"], "quarantined");
    assert_eq!(short["tubes_received"].as_array().unwrap().len(), 1);
    let index = lines
        .iter()
        .position(|l| l["din"] == short_of_tubes.as_str())
        .unwrap();
    let text = said(&view["unit_descriptions"][index]);
    assert!(text.starts_with("隔离"), "{text}");
    assert!(text.contains("cannot be tested"), "{text}");
    let fine = line(&fixture::din(100 + 30));
    assert_eq!(fine["unit"]["status"], "suitable");

    // Signing without reasons is refused, naming the first bag that needs one.
    let sign_path = format!("/desk/api/receipts/{receipt}/sign");
    let mut reasons = BTreeMap::new();
    let mut box_reasons = BTreeMap::new();
    let signing = |reasons: &BTreeMap<String, String>,
                   boxes: &BTreeMap<String, String>,
                   driver_pin: &str| json!({"receiver_pin": "246802", "driver_name": "李司机", "driver_pin": driver_pin, "reasons": reasons, "box_reasons": boxes});
    let (status, body) = desk
        .post(&sign_path, signing(&reasons, &box_reasons, "135791"))
        .await;
    assert_eq!(status, 422, "{body}");
    assert_eq!(body["error"], "box_decision_missing");
    assert_eq!(body["box_code"], "BOX-1");
    box_reasons.insert(
        "BOX-1".to_owned(),
        "整箱隔离，送质控评估 / whole box quarantined for QA".to_owned(),
    );
    let (status, body) = desk
        .post(&sign_path, signing(&reasons, &box_reasons, "135791"))
        .await;
    assert_eq!(status, 422, "{body}");
    assert_eq!(body["error"], "reason_missing");
    assert!(body["din"].is_string());
    for l in lines {
        if !l["discrepancies"].as_array().unwrap().is_empty() {
            reasons.insert(
                l["din"].as_str().unwrap().to_owned(),
                "已与司机核对 / checked with the driver".to_owned(),
            );
        }
    }
    reasons.remove(extra.as_str());
    let (status, body) = desk
        .post(&sign_path, signing(&reasons, &box_reasons, "135791"))
        .await;
    assert_eq!(status, 422, "{body}");
    assert_eq!(body["din"], extra.as_str());
    reasons.insert(
        extra.as_str().to_owned(),
        "其他车次的血袋 / from another bus".into(),
    );
    let (status, body) = desk
        .post(&sign_path, signing(&reasons, &box_reasons, "9999"))
        .await;
    assert_eq!(status, 401, "wrong driver PIN: {body}");
    assert!(
        ts.storage
            .handoff_of(receipt.parse().unwrap())
            .await
            .unwrap()
            .is_none()
    );
    let (status, record) = desk
        .post(&sign_path, signing(&reasons, &box_reasons, "135791"))
        .await;
    assert_eq!(status, 200, "{record}");
    assert_eq!(record["receiver"]["name"], "赵敏");
    assert_eq!(record["driver"]["name"], "李司机");
    assert_eq!(record["received"].as_array().unwrap().len(), 39);
    // Missing, wrong box, extra, tubes missing: four reasons, not one per hot bag.
    assert_eq!(record["discrepancies"].as_array().unwrap().len(), 4);
    assert_eq!(record["box_decisions"].as_array().unwrap().len(), 1);
    assert_eq!(record["units"].as_array().unwrap().len(), 20);
    let (status, _) = desk
        .post(&sign_path, signing(&reasons, &box_reasons, "135791"))
        .await;
    assert_eq!(status, 409, "signed once");
    let (status, _) = desk
        .scan(&scans_path, &fixture::bag_scan(&missing), "BOX-1")
        .await;
    assert_eq!(status, 409, "no scans after signing");
    let (_, view) = desk
        .call("GET", &format!("/desk/api/receipts/{receipt}"), None)
        .await;
    assert_eq!(view["signed"]["id"], record["id"]);

    // The result reaches the bus on its next pull, and only that bus.
    let page = bus.client(&url).pull(0, 100, None).await.unwrap();
    let handoffs: Vec<_> = page
        .records
        .iter()
        .filter(|r| r.kind == RemoteKind::Handoff)
        .cloned()
        .collect();
    assert_eq!(handoffs.len(), 1);
    let report = bus
        .store
        .lock()
        .unwrap()
        .apply_remote(&page.records, page.cursor)
        .unwrap();
    assert!(report.skipped.is_empty(), "{:?}", report.skipped);
    let held = bus
        .store
        .lock()
        .unwrap()
        .manifest_handoffs(manifest.id)
        .unwrap();
    assert_eq!(held.len(), 1);
    assert_eq!(held[0].id.to_string(), record["id"].as_str().unwrap());
    assert_eq!(held[0].tally.missing, 1);
    assert_eq!(
        held[0]
            .discrepancies
            .iter()
            .find(|d| d.din == extra)
            .unwrap()
            .reason,
        "其他车次的血袋 / from another bus"
    );
    let other = other_bus.client(&url).pull(0, 100, None).await.unwrap();
    assert!(other.records.iter().all(|r| r.kind != RemoteKind::Handoff));

    // The time limits are the station's: once it publishes a table with a 1-hour limit
    // for whole blood meant for platelets, a bag collected two hours ago is over it.
    let mut rules = lifebridge_domain::rules::RuleSet::gb18467_2011();
    for class in &mut rules.cold_chain.classes {
        if class.class == lifebridge_domain::product::ProductClass::PlateletWholeBlood {
            class.processing_limit_hours = 1;
        }
    }
    let (_, body) = desk
        .post("/desk/api/receipts", json!({"manifest_ids": [second.id]}))
        .await;
    let late = format!(
        "/desk/api/receipts/{}/scans",
        body["receipt_id"].as_str().unwrap()
    );
    let platelet_bag = &second.boxes[1].bags[0];
    let scan_late = json!({"text": fixture::bag_scan(&platelet_bag.din), "box_code": "BOX-2"});
    let (_, view) = desk.post(&late, scan_late.clone()).await;
    assert_eq!(view["reconciliation"]["tally"]["over_time_limit"], 0);
    assert!(
        ts.storage
            .publish_reference(
                "rules",
                "station-1h",
                &serde_json::to_value(&rules).unwrap(),
                chrono::Utc::now()
            )
            .await
            .unwrap()
    );
    let (_, view) = desk.post(&late, scan_late).await;
    assert_eq!(
        view["reconciliation"]["tally"]["over_time_limit"], 1,
        "{view}"
    );

    // The statistics page's figures come from the station's records.
    let (status, stats) = desk.call("GET", "/desk/api/statistics", None).await;
    assert_eq!(status, 200, "{stats}");
    assert!(stats["year"]["donations"].is_number());
}

/// At the desk, as at the chair, a label is verified only by a scan: a typed DIN or
/// scanner data without the symbology identifier is refused; typing is the exception
/// path, per piece, with the check character, a reason and a second station account's
/// PIN (here the driver who hands over), shown as manual on the line and in the signed
/// hand-off, with the labels the manifest says were typed before dispatch.
async fn typed_dins_at_the_desk_need_a_second_pin(backend: Backend) {
    use lifebridge_domain::label_piece::{LabelKind, LabelPiece};
    let Some(ts) = start(backend, None).await else {
        return;
    };
    let url = ts.url();
    let bus = enroll(&ts, &url, "BUS-MANUAL").await;
    let now = chrono::Utc::now();
    let mut manifest = fixture::manifest(bus.id, 300, 4, now - chrono::Duration::minutes(30));
    let tube1 = LabelPiece::new(LabelKind::Tube, 1);
    let bag_piece = LabelPiece::new(LabelKind::Bag, 1);
    // One tube label of the first bag was typed at the chair.
    manifest.boxes[0].bags[0].manual_labels = vec![tube1];
    bus.client(&url)
        .push(vec![fixture::entry(&manifest, 1)])
        .await
        .unwrap();
    add_staff(&ts, "赵敏", "receiving", "246802").await;
    add_staff(&ts, "李司机", "driver", "135791").await;
    let (_, body) = sign_in(&url, "赵敏", "246802").await;
    let desk = Desk {
        http: http(),
        url: url.clone(),
        token: body["token"].as_str().unwrap().to_owned(),
    };
    let (status, body) = desk
        .post("/desk/api/receipts", json!({"manifest_ids": [manifest.id]}))
        .await;
    assert_eq!(status, 201, "{body}");
    let receipt = body["receipt_id"].as_str().unwrap().to_owned();
    let scans_path = format!("/desk/api/receipts/{receipt}/scans");
    let manual_path = format!("/desk/api/receipts/{receipt}/manual");
    let view_path = format!("/desk/api/receipts/{receipt}");
    let first = manifest.boxes[0].bags[0].din.clone();
    let typed_bag = manifest.boxes[0].bags[1].din.clone();
    let box1 = manifest.boxes[0].code.clone();
    let typed = format!("{} {}", typed_bag.as_str(), typed_bag.check_char());

    // In the scan field: unprefixed data and the typed DIN are refused, naming manual entry.
    let (status, body) = desk
        .scan(&scans_path, &typed_bag.barcode_data(), &box1)
        .await;
    assert_eq!(status, 422, "{body}");
    assert_eq!(body["error"], "not_a_scan");
    assert!(
        body["message"].as_str().unwrap().contains("manual entry"),
        "{body}"
    );
    let (status, body) = desk.scan(&scans_path, &typed, &box1).await;
    assert_eq!(status, 422, "{body}");
    assert_eq!(body["error"], "typed_not_scanned");
    assert_eq!(body["din"], typed_bag.as_str());

    // Manual entry refused without a reason, without the check character, with the
    // signed-in receiver as the second person, with a wrong PIN, for an unlisted piece.
    let manual = |typed: &str, reason: &str, name: &str, pin: &str, piece: LabelPiece| {
        json!({"piece": piece, "typed": typed, "reason": reason, "witness_name": name,
               "witness_pin": pin, "box_code": box1})
    };
    for (body, status_code, error) in [
        (
            manual(&typed, " ", "李司机", "135791", bag_piece),
            422,
            "reason_missing",
        ),
        (
            manual(
                typed_bag.as_str(),
                "label wet",
                "李司机",
                "135791",
                bag_piece,
            ),
            422,
            "typed_din",
        ),
        (
            manual(&typed, "label wet", "赵敏", "246802", bag_piece),
            422,
            "same_person",
        ),
        (
            manual(&typed, "label wet", "李司机", "0000", bag_piece),
            401,
            "wrong_pin",
        ),
        (
            manual(&typed, "label wet", "李司机", "", bag_piece),
            401,
            "wrong_pin",
        ),
        (
            manual(
                &typed,
                "label wet",
                "李司机",
                "135791",
                LabelPiece::new(LabelKind::Tube, 5),
            ),
            422,
            "piece_not_listed",
        ),
    ] {
        let (status, answer) = desk.post(&manual_path, body).await;
        assert_eq!(status, status_code, "{answer}");
        assert_eq!(answer["error"], error, "{answer}");
    }
    let (_, view) = desk.call("GET", &view_path, None).await;
    let line = |view: &Value, din: &lifebridge_domain::Din| {
        view["reconciliation"]["lines"]
            .as_array()
            .unwrap()
            .iter()
            .find(|l| l["din"] == din.as_str())
            .unwrap()
            .clone()
    };
    assert_eq!(
        line(&view, &typed_bag)["status"],
        "missing",
        "nothing was written"
    );
    assert_eq!(view["reconciliation"]["tally"]["received"], 0);
    // What the manifest says was typed before dispatch is on the line.
    assert_eq!(line(&view, &first)["manual_labels"], json!([tube1]));

    // With the check character, a reason and the driver's PIN: received, marked manual.
    let (status, view) = desk
        .post(
            &manual_path,
            manual(
                &typed,
                "label wet / 标签受潮",
                "李司机",
                "135791",
                bag_piece,
            ),
        )
        .await;
    assert_eq!(status, 200, "{view}");
    let l = line(&view, &typed_bag);
    assert_eq!(l["status"], "received");
    assert_eq!(l["manual_at_desk"][0]["piece"], json!(bag_piece));
    assert_eq!(l["manual_at_desk"][0]["reason"], "label wet / 标签受潮");
    assert_eq!(l["manual_at_desk"][0]["authorised_by"]["name"], "李司机");

    // Everything else scanned; the hand-off signed carries both kinds of manual entry.
    for b in &manifest.boxes {
        for bag in &b.bags {
            if bag.din != typed_bag {
                let (status, body) = desk
                    .scan(&scans_path, &fixture::bag_scan(&bag.din), &b.code)
                    .await;
                assert_eq!(status, 200, "{body}");
            }
            for tube in &bag.tubes {
                let (status, body) = desk
                    .scan(&scans_path, &fixture::tube_scan(&bag.din, *tube), &b.code)
                    .await;
                assert_eq!(status, 200, "{body}");
            }
        }
    }
    let (status, record) = desk
        .post(
            &format!("/desk/api/receipts/{receipt}/sign"),
            json!({"receiver_pin": "246802", "driver_name": "李司机", "driver_pin": "135791",
                        "box_reasons": {"BOX-1": "whole box quarantined for QA"}}),
        )
        .await;
    assert_eq!(status, 200, "{record}");
    let manual_labels = record["manual_labels"].as_array().unwrap();
    assert_eq!(manual_labels.len(), 2, "{record}");
    let typed_entry = manual_labels
        .iter()
        .find(|m| m["din"] == typed_bag.as_str())
        .unwrap();
    assert_eq!(typed_entry["at_desk"][0]["authorised_by"]["name"], "李司机");
    let first_entry = manual_labels
        .iter()
        .find(|m| m["din"] == first.as_str())
        .unwrap();
    assert_eq!(first_entry["before_dispatch"], json!([tube1]));
    // The scan record reads back the same after a reload (from the database).
    let (_, view) = desk.call("GET", &view_path, None).await;
    assert_eq!(
        line(&view, &typed_bag)["manual_at_desk"][0]["reason"],
        "label wet / 标签受潮"
    );
}

/// The station's staff directory on a tablet: a crew account reaches the bus by sync and
/// signs in there offline; a new PIN set at the station replaces the old one on the bus;
/// a closed account signs nothing at the desk and can no longer sign in on the bus.
async fn staff_directory_reaches_the_tablets(backend: Backend) {
    use lifebridge_domain::entities::Role;
    use lifebridge_station::staff::{with_new_pin, with_roles};
    use lifebridge_store::session::SignInError;

    let Some(ts) = start(backend, None).await else {
        return;
    };
    let url = ts.url();
    let bus = enroll(&ts, &url, "BUS-STAFF").await;
    assert_eq!(
        lifebridge_sync::replicator::enrolled_name(&bus.store.lock().unwrap())
            .unwrap()
            .as_deref(),
        Some("BUS-STAFF"),
        "the tablet keeps the name the station enrolled it under"
    );
    add_staff(&ts, "赵敏", "receiving", "246802").await;
    add_staff(&ts, "司机 周勇", "driver", "135791").await;
    add_staff(&ts, "采血护士 周丽", "registration,phlebotomist", "3579").await;
    bus.replicator(&url).sync_once().await.unwrap();
    let (driver_id, nurse_id) = {
        let mut s = bus.store.lock().unwrap();
        assert!(s.staff_by_name("赵敏").unwrap().is_none());
        let driver = s.staff_by_name("司机 周勇").unwrap().unwrap();
        let nurse = s.staff_by_name("采血护士 周丽").unwrap().unwrap();
        assert!(s.sign_in(driver.id, "135791").unwrap().is_ok());
        assert!(s.sign_in(nurse.id, "3579").unwrap().is_ok());
        (driver.id, nurse.id)
    };

    // The driver forgot the PIN: reset at the station, on the bus after the next sync.
    let driver = ts
        .storage
        .staff_by_name("司机 周勇")
        .await
        .unwrap()
        .unwrap();
    // He also learns phlebotomy.
    let reset = with_roles(
        &with_new_pin(&driver, "864200").unwrap(),
        "driver,phlebotomist",
    )
    .unwrap();
    assert!(
        ts.storage
            .update_staff(&reset, chrono::Utc::now())
            .await
            .unwrap()
    );
    // The nurse leaves: her account is closed.
    let nurse = ts
        .storage
        .staff_by_name("采血护士 周丽")
        .await
        .unwrap()
        .unwrap();
    let closed = lifebridge_station::staff::StaffRow {
        active: false,
        ..nurse
    };
    assert!(
        ts.storage
            .update_staff(&closed, chrono::Utc::now())
            .await
            .unwrap()
    );
    bus.replicator(&url).sync_once().await.unwrap();
    {
        let mut s = bus.store.lock().unwrap();
        assert!(s.sign_in(driver_id, "135791").unwrap().is_err());
        let driver = s.sign_in(driver_id, "864200").unwrap().unwrap();
        assert!(driver.has_role(Role::Phlebotomist) && driver.has_role(Role::Driver));
        assert!(matches!(
            s.sign_in(nurse_id, "3579").unwrap(),
            Err(SignInError::Inactive)
        ));
        let names: Vec<String> = s
            .staff_list()
            .unwrap()
            .into_iter()
            .map(|m| m.display_name)
            .collect();
        assert!(names.contains(&"司机 周勇".to_owned()), "{names:?}");
        assert!(
            !names.contains(&"采血护士 周丽".to_owned()),
            "a closed account is not offered at sign-in: {names:?}"
        );
    }

    // At the desk: the new PIN works, a closed receiving account signs nothing.
    let (status, body) = sign_in(&url, "赵敏", "246802").await;
    assert_eq!(status, 200, "{body}");
    let desk_staff = ts.storage.staff_by_name("赵敏").await.unwrap().unwrap();
    assert!(
        ts.storage
            .update_staff(
                &lifebridge_station::staff::StaffRow {
                    active: false,
                    ..desk_staff
                },
                chrono::Utc::now()
            )
            .await
            .unwrap()
    );
    // A closed account's right PIN answers as a wrong one (it tells nothing).
    let (status, body) = sign_in(&url, "赵敏", "246802").await;
    assert_eq!(status, 401, "{body}");
    assert_eq!(body["error"], "wrong_pin", "{body}");
    let (status, body) = sign_in(&url, "赵敏", "0000").await;
    assert_eq!(status, 401, "a wrong PIN tells nothing more: {body}");
    // Sorted here: the order of names is the database's collation.
    let mut names: Vec<(String, bool)> = ts
        .storage
        .staff_list()
        .await
        .unwrap()
        .into_iter()
        .map(|s| (s.name, s.active))
        .collect();
    names.sort();
    assert_eq!(
        names,
        [
            ("司机 周勇".to_owned(), true),
            ("赵敏".to_owned(), false),
            ("采血护士 周丽".to_owned(), false)
        ]
    );
}

backend_pair! {
    hand_off_at_the_desk => hand_off_at_the_desk_sqlite, hand_off_at_the_desk_postgres;
    typed_dins_at_the_desk_need_a_second_pin =>
        typed_dins_at_the_desk_need_a_second_pin_sqlite,
        typed_dins_at_the_desk_need_a_second_pin_postgres;
    staff_directory_reaches_the_tablets =>
        staff_directory_reaches_the_tablets_sqlite,
        staff_directory_reaches_the_tablets_postgres;
}
