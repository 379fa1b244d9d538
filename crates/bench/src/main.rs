//! `make bench`: the device store's figures, each beside a baseline measured in the same
//! run on the same disk, so the ratios mean something on any machine.
//!
//! Figures are medians over many runs; nothing here asserts a speed.

use std::path::Path;
use std::time::{Duration, Instant};

use anyhow::{Context, Result};
use chrono::{Days, NaiveDate};
use clap::Parser;
use lifebridge_domain::Procedure;
use lifebridge_domain::eligibility::{self, EligibilityRequest};
use lifebridge_domain::entities::Role;
use lifebridge_domain::resident_id::IdentityDocument;
use lifebridge_domain::rules::RuleSet;
use lifebridge_store::records::{DonorDetails, NewDonor, NewStaff};
use lifebridge_store::{Actor, Store, StoreKey, china_today, demo};

#[derive(Parser)]
#[command(about = "Lifebridge device-store benchmarks")]
struct Args {
    /// Donors in the store for the lookup benchmark.
    #[arg(long, default_value_t = 1_000_000)]
    donors: u64,
    /// Committed actions (and bare inserts) to time.
    #[arg(long, default_value_t = 300)]
    commits: u32,
    /// Where to put the stores: use the disk the devices use.
    #[arg(long)]
    dir: Option<std::path::PathBuf>,
}

fn median(mut samples: Vec<Duration>) -> Duration {
    samples.sort();
    samples.get(samples.len() / 2).copied().unwrap_or_default()
}

fn micros(d: Duration) -> f64 {
    d.as_secs_f64() * 1e6
}

fn main() -> Result<()> {
    let args = Args::parse();
    let tmp = tempfile::tempdir_in(args.dir.as_deref().unwrap_or(Path::new(".")))
        .context("cannot make a scratch folder")?;
    let key = StoreKey::new("benchmark-key")?;
    println!(
        "Lifebridge device store benchmark ({} donors, {} commits)",
        args.donors, args.commits
    );

    // 1. One user action vs a bare single-row insert, both committed with WAL +
    //    synchronous=FULL on the same disk.
    let mut store = Store::create(&tmp.path().join("actions.db"), &key, "BENCH")?;
    let nurse = store.add_staff(
        Actor::system(),
        NewStaff {
            display_name: "bench nurse".into(),
            roles: vec![Role::Registration],
            pin: "1234".into(),
        },
    )?;
    let today = china_today();
    let mut action_times = Vec::new();
    for n in 0..u64::from(args.commits) {
        let number = demo::synthetic_resident_id(n, today);
        let document = IdentityDocument::parse("resident_id", &number, today)?;
        let started = Instant::now();
        store.register_donor(
            Actor::staff(nurse.id),
            NewDonor {
                document,
                details: DonorDetails::named(format!("bench {n}")),
            },
        )?;
        action_times.push(started.elapsed());
    }
    let bare_plain = bare_insert_median(&tmp.path().join("bare.db"), None, args.commits)?;
    let bare_encrypted = bare_insert_median(
        &tmp.path().join("bare-encrypted.db"),
        Some("benchmark-key"),
        args.commits,
    )?;
    let action = median(action_times);
    println!();
    println!("commit latency (median of {})", args.commits);
    println!(
        "  register donor action (encrypted, rows + change log + audit): {:>9.0} µs",
        micros(action)
    );
    println!(
        "  bare single-row insert, plain SQLite, same disk:               {:>9.0} µs",
        micros(bare_plain)
    );
    println!(
        "  bare single-row insert, SQLCipher, same disk:                  {:>9.0} µs",
        micros(bare_encrypted)
    );
    println!(
        "  ratio action / bare plain:                                     {:>9.2}",
        micros(action) / micros(bare_plain).max(1.0)
    );
    println!(
        "  ratio action / bare SQLCipher:                                 {:>9.2}",
        micros(action) / micros(bare_encrypted).max(1.0)
    );
    drop(store);

    // 2. Donor lookup by resident ID in a large store.
    let path = tmp.path().join("registry.db");
    let store = Store::create(&path, &key, "BENCH")?;
    let seeding = Instant::now();
    seed_donors(&store, args.donors, today)?;
    println!();
    println!(
        "seeded {} donors in {:.1} s",
        args.donors,
        seeding.elapsed().as_secs_f64()
    );
    let mut lookups = Vec::new();
    let mut probe = 0x9E37_79B9_7F4A_7C15_u64;
    for _ in 0..2000 {
        probe = probe
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        let number = demo::synthetic_resident_id(probe % args.donors.max(1), today);
        let started = Instant::now();
        let found = store.donor_by_document("resident_id", &number)?;
        lookups.push(started.elapsed());
        anyhow::ensure!(
            found.is_some(),
            "donor {number} missing from the seeded store"
        );
    }
    println!(
        "donor lookup by resident ID (median of 2000):                  {:>9.1} µs",
        micros(median(lookups))
    );

    // 3. Eligibility for a donor with 50 prior donations.
    let rules = RuleSet::gb18467_2011();
    let request = fifty_donation_request(today)?;
    let mut evals = Vec::new();
    for _ in 0..5000 {
        let started = Instant::now();
        let decision = eligibility::evaluate(&rules, &request)?;
        evals.push(started.elapsed());
        std::hint::black_box(decision);
    }
    println!(
        "eligibility, 50 prior donations (median of 5000):              {:>9.1} µs",
        micros(median(evals))
    );
    Ok(())
}

/// Median commit time of a one-row insert in its own transaction, WAL + synchronous=FULL.
fn bare_insert_median(path: &Path, key: Option<&str>, commits: u32) -> Result<Duration> {
    let bare = rusqlite::Connection::open(path)?;
    if let Some(key) = key {
        bare.pragma_update(None, "key", key)?;
    }
    bare.execute_batch(
        "PRAGMA journal_mode = WAL; PRAGMA synchronous = FULL;
         CREATE TABLE t (id INTEGER PRIMARY KEY, v TEXT NOT NULL);",
    )?;
    let mut times = Vec::new();
    for n in 0..commits {
        let started = Instant::now();
        bare.execute("INSERT INTO t (v) VALUES (?1)", [format!("row {n}")])?;
        times.push(started.elapsed());
    }
    Ok(median(times))
}

/// Bulk-loads synthetic donors straight into the donor table in one transaction:
/// the lookup figure is about reading, so the load need not go through actions.
fn seed_donors(store: &Store, count: u64, today: NaiveDate) -> Result<()> {
    // The store's own handle is read-only; this is the bypass it offers for bulk loads.
    store.raw_write_for_tests(|conn| seed_donor_rows(conn, count, today))
}

fn seed_donor_rows(conn: &rusqlite::Connection, count: u64, today: NaiveDate) -> Result<()> {
    conn.execute_batch("BEGIN")?;
    {
        let mut insert = conn.prepare(
            "INSERT INTO donor (id, doc_kind, doc_number, name, birth_date, phone, field_clocks, body)
             VALUES (?1, 'resident_id', ?2, ?3, ?4, ?5, '{}', ?6)",
        )?;
        for n in 0..count {
            let number = demo::synthetic_resident_id(n, today);
            let id = uuid::Uuid::now_v7();
            let body = serde_json::json!({
                "id": id, "document": {"kind": "resident_id", "number": number},
                "name": format!("献血者{n}"), "sex": "male", "birth_date": "1990-01-01",
                "phone": format!("138{n:08}"), "address": null, "abo_rh": null, "rural": true,
                "registered_at": "2026-01-01T00:00:00Z"
            });
            insert.execute((
                id.to_string(),
                &number,
                format!("献血者{n}"),
                "1990-01-01",
                format!("138{n:08}"),
                body.to_string(),
            ))?;
        }
    }
    conn.execute_batch("COMMIT")?;
    Ok(())
}

fn fifty_donation_request(today: NaiveDate) -> Result<EligibilityRequest> {
    let history: Vec<serde_json::Value> = (1..=50u64)
        .map(|i| {
            let date = today.checked_sub_days(Days::new(i * 190)).unwrap_or(today);
            serde_json::json!({"date": date, "procedure": Procedure::WholeBlood, "volume_ml": 400})
        })
        .collect();
    let request = serde_json::json!({
        "date": today,
        "donor": {"sex": "male", "birth_date": "1975-03-01"},
        "procedure": "whole_blood", "volume_ml": 400,
        "vitals": {"weight_kg": 70, "systolic_mmhg": 120, "diastolic_mmhg": 80, "pulse_bpm": 70, "temperature_c": 36.5},
        "tests": {"hemoglobin_g_l": 140, "alt_u_l": 20, "hbsag": "negative"},
        "history": history,
        "deferrals": [{"code": "TATTOO", "until": "2020-01-01"}]
    });
    Ok(serde_json::from_value(request)?)
}
