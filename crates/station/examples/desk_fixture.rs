//! Test fixture for the receiving desk's browser test (tests/desk): prints, as JSON, a
//! manifest written as if by the device `<device-id>` (40 bags by default, two boxes,
//! one excursion, two sample tubes per bag, one slow draw), the change entry that carries
//! it, its manifest QR, and the text a hand scanner types for each bag, each of its tubes
//! and for one bag on no manifest.
//!
//! `cargo run -p lifebridge-station --example desk_fixture -- <device-id> [first-din-seq] [bags]`
//!
//! `desk_fixture activity <donations>` prints instead a demo drive's whole change log
//! (a real device store, seeded as the demo crew would work), for the statistics page.
#![allow(clippy::unwrap_used)]

#[path = "../tests/fixture/mod.rs"]
mod fixture;

use serde_json::json;

fn main() {
    let mut args = std::env::args().skip(1).peekable();
    if args.peek().map(String::as_str) == Some("activity") {
        let donations: u32 = args.nth(1).and_then(|a| a.parse().ok()).unwrap_or(12);
        let dir = tempfile::tempdir().unwrap();
        let key = lifebridge_store::StoreKey::new("desk fixture passphrase").unwrap();
        let mut store =
            lifebridge_store::Store::create(&dir.path().join("bus.db"), &key, "BUS-STATS").unwrap();
        lifebridge_store::demo::seed(&mut store, donations, |_| Ok(())).unwrap();
        let out = json!({
            "device_id": store.device_id(),
            "entries": store.changes_after(0, u32::MAX).unwrap(),
            "client": lifebridge_protocol::wire::ClientInfo::current(),
        });
        println!("{out}");
        return;
    }
    let Some(device) = args.next().and_then(|a| a.parse::<uuid::Uuid>().ok()) else {
        eprintln!("usage: desk_fixture <device-id> [first-din-seq] [bags]");
        std::process::exit(2);
    };
    let first: u32 = args.next().and_then(|a| a.parse().ok()).unwrap_or(100);
    let bags: u32 = args.next().and_then(|a| a.parse().ok()).unwrap_or(40);
    let now = chrono::Utc::now();
    let mut manifest = fixture::manifest(device, first, bags, now - chrono::Duration::minutes(30));
    // The bus found the second bag's draw slow: it travels in the red-cell box, and the
    // manifest says why.
    if let Some(bag) = manifest.boxes[0].bags.get_mut(1) {
        use lifebridge_domain::cold_chain::{UnitAssessment, UnitFinding};
        bag.unit = UnitAssessment::new(vec![UnitFinding::SlowDraw {
            volume_ml: 400,
            seconds: 660,
            limit_minutes: 10.0,
        }]);
    }
    let scans: Vec<_> = manifest
        .boxes
        .iter()
        .flat_map(|b| {
            b.bags.iter().map(move |bag| {
                let tubes: Vec<String> = bag
                    .tubes
                    .iter()
                    .map(|t| fixture::tube_scan(&bag.din, *t))
                    .collect();
                // What a scanner sends (AIM identifier first), and what a person types
                // from the eye-readable DIN (with its check character).
                json!({"din": bag.din.as_str(), "text": format!("]C0{}", bag.din.barcode_data()),
                       "typed": format!("{} {}", bag.din.as_str(), bag.din.check_char()),
                       "box": b.code, "tubes": tubes})
            })
        })
        .collect();
    let extra = fixture::din(first + 900);
    let out = json!({
        "manifest": manifest,
        "entry": fixture::entry(&manifest, 1),
        "qr": lifebridge_protocol::manifest_code::encode(&manifest),
        "scans": scans,
        "extra": {"din": extra.as_str(), "text": format!("]C0{}", extra.barcode_data())},
        // Versions and clock a device sends with every request.
        "client": lifebridge_protocol::wire::ClientInfo::current(),
    });
    println!("{out}");
}
