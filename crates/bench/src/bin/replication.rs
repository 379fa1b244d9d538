//! Replication benchmark (not a test): figures for docs/benchmarks.md "Replication".
//!
//! `cargo run --release -p lifebridge-bench --bin lifebridge-replication-bench`
//! (with `scripts/with-postgres.sh` in front to include PostgreSQL).
//!
//! Device change logs are synthesised in memory from the change-log entries of real
//! demo donations (same entities, same body sizes, fresh ids, clocks and seqs) and
//! pushed with the protocol client as the replicator pushes them: seeding 10,000
//! donations through the crew's actions would take minutes of fsyncs and measure the
//! device, not replication. No device store is written outside its own actions.

#[path = "replication/city_year.rs"]
mod city_year;
#[path = "../../../station/tests/common/proxy.rs"]
mod proxy;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::{Duration, Instant};

use clap::Parser;
use lifebridge_domain::hlc::Hlc;
use lifebridge_protocol::records::LocalChange;
use lifebridge_protocol::wire::MAX_BATCH_ENTRIES;
use lifebridge_station::config::Config;
use lifebridge_station::db::Storage;
use lifebridge_station::{auth, open_storage, server};
use lifebridge_store::{Store, StoreKey};
use lifebridge_sync::client::{StationClient, Trust};
use lifebridge_sync::replicator::BatchSize;
use uuid::Uuid;

type BoxError = Box<dyn std::error::Error + Send + Sync>;

#[derive(Parser)]
struct Args {
    /// Donations pushed by the single device (and through the fault proxy).
    #[arg(long, default_value_t = 10_000)]
    donations: u32,
    /// Devices pushing at once.
    #[arg(long, default_value_t = 50)]
    devices: u32,
    /// Donations per device in the concurrent run.
    #[arg(long, default_value_t = 200)]
    per_device: u32,
    /// Entries in the first push request; later ones grow as the replicator's do
    /// ([`BatchSize`]), up to `--max-batch`.
    #[arg(long, default_value_t = 500)]
    batch: u32,
    /// The most entries per push request (`--max-batch 500` keeps every request at 500).
    #[arg(long, default_value_t = MAX_BATCH_ENTRIES as u32)]
    max_batch: u32,
    /// Side-by-side rounds of the single-device push, ingest and bare insert (fresh
    /// databases each); the medians and every round's ratio are printed.
    #[arg(long, default_value_t = 3)]
    repeat: u32,
    /// Only the single-device runs (no 50 devices at once, no fault proxy).
    #[arg(long)]
    single_only: bool,
    /// Donations in the city-year statistics run (0 skips it).
    #[arg(long, default_value_t = 50_000)]
    city_donations: u32,
    /// Sites in the city-year statistics run.
    #[arg(long, default_value_t = 5)]
    city_sites: u32,
    /// Tablets of the bus in the hub relay run.
    #[arg(long, default_value_t = 4)]
    hub_tablets: u32,
    /// Donations per tablet in the hub relay run.
    #[arg(long, default_value_t = 250)]
    hub_donations: u32,
    /// Only the hub relay run (relay throughput beside a direct push).
    #[arg(long)]
    hub_only: bool,
    /// Scratch folder (default: the system temp folder).
    #[arg(long)]
    dir: Option<PathBuf>,
    /// PostgreSQL server for the PostgreSQL runs (a database is created per run).
    #[arg(long, env = "LIFEBRIDGE_TEST_PG_URL")]
    pg_url: Option<String>,
}

fn key() -> Result<StoreKey, BoxError> {
    Ok(StoreKey::new("benchmark-device-key")?)
}

/// The change-log entries one demo donation writes (donor, visit, screening, donation…).
fn donation_template(dir: &Path) -> Result<Vec<LocalChange>, BoxError> {
    let mut store = Store::create(&dir.join("template.db"), &key()?, "TEMPLATE")?;
    lifebridge_store::demo::seed(&mut store, 2, |_| Ok(()))?;
    let all = store.changes_after(0, u32::MAX)?;
    let donors: Vec<usize> = all
        .iter()
        .enumerate()
        .filter(|(_, e)| e.entity == lifebridge_domain::entities::EntityKind::Donor)
        .map(|(i, _)| i)
        .collect();
    let (first, second) = match donors.as_slice() {
        [a, b, ..] => (*a, *b),
        _ => return Err("the demo seeder wrote fewer than two donors".into()),
    };
    Ok(all[first..second].to_vec())
}

/// A device's change log, made of `donations` copies of the template (fresh ids, clocks
/// and seqs), held in memory.
struct Device {
    id: Uuid,
    entries: Vec<LocalChange>,
}

///
/// Each copy is a different person: the donor's resident ID is replaced by
/// `synthetic_resident_id(first_person + n)`. (With the template's one ID every donation
/// was the same person's, and the statistics upkeep, which reads a person's donations,
/// read all of them at every push: a workload no station has.)
fn synth_device(
    template: &[LocalChange],
    donations: u32,
    first_person: u64,
) -> Result<Device, BoxError> {
    let id = Uuid::now_v7();
    let ids: Vec<String> = template.iter().map(|e| e.entity_id.to_string()).collect();
    let document = template
        .iter()
        .find(|e| e.entity == lifebridge_domain::entities::EntityKind::Donor)
        .map(|e| serde_json::from_str::<lifebridge_domain::entities::Donor>(&e.body))
        .ok_or("the template has no donor")??
        .document
        .number()
        .to_owned();
    let today = lifebridge_domain::china_date(chrono::Utc::now());
    let mut entries = Vec::with_capacity(template.len() * donations as usize);
    let base = 1_764_000_000_000u64;
    for n in 0..u64::from(donations) {
        let fresh: BTreeMap<&str, Uuid> =
            ids.iter().map(|id| (id.as_str(), Uuid::now_v7())).collect();
        let person = lifebridge_store::demo::synthetic_resident_id(first_person + n, today);
        for entry in template {
            let seq = entries.len() as u64 + 1;
            let mut body = entry.body.replace(&document, &person);
            for (old, new) in &fresh {
                body = body.replace(old, &new.to_string());
            }
            entries.push(LocalChange {
                seq,
                hlc: Hlc {
                    wall_ms: base + seq,
                    counter: 0,
                    node: id,
                },
                entity: entry.entity,
                entity_id: fresh[entry.entity_id.to_string().as_str()],
                body,
                field_clocks: None,
            });
        }
    }
    Ok(Device { id, entries })
}

struct Station {
    running: server::RunningStation,
    storage: Arc<dyn Storage>,
}

async fn start_station(dir: &Path, pg: Option<&str>) -> Result<Station, BoxError> {
    let config = Config {
        listen: "127.0.0.1:0".parse()?,
        data_dir: dir.to_owned(),
        database_url: pg.map(str::to_owned),
        max_body_bytes: 32 * 1024 * 1024,
        max_inflated_bytes: 256 * 1024 * 1024,
        // The synthetic devices copy a demo donation, numbered from the training facility.
        training: true,
        ..Config::default()
    };
    let storage = open_storage(&config).await?;
    let running = server::start(config, storage.clone()).await?;
    Ok(Station { running, storage })
}

async fn enroll(
    station: &Station,
    url: &str,
    device: &Device,
    name: &str,
) -> Result<StationClient, BoxError> {
    let code = auth::new_enrollment_code();
    let now = chrono::Utc::now();
    station
        .storage
        .create_enrollment(
            name,
            &auth::enrollment_code_hash(&code),
            now,
            now + chrono::Duration::hours(1),
        )
        .await?;
    let client = StationClient::new(url, Trust::LoopbackHttp, Duration::from_secs(120))?;
    let answer = client.enroll(&code, device.id, name).await?;
    Ok(client.with_token(answer.token))
}

/// What one device's push phase did.
struct Pushed {
    entries: u64,
    /// Compressed bytes of the acknowledged requests.
    bytes: u64,
    requests: u64,
    /// The size of each acknowledged batch, in order.
    batches: Vec<usize>,
}

/// The replicator's push phase: batches after the acknowledged cursor until none are
/// left, sized as the replicator sizes them ([`BatchSize`]). Errors are retried.
async fn push_all(
    device: &Device,
    client: &StationClient,
    mut batch: BatchSize,
) -> Result<Pushed, BoxError> {
    let (mut bytes, mut requests, mut failures) = (0u64, 0u64, 0u32);
    let mut batches = Vec::new();
    let mut cursor = 0usize;
    loop {
        // Seqs run 1, 2, …: the entries after cursor `c` start at index `c`.
        let entries = &device.entries[cursor.min(device.entries.len())..];
        if entries.is_empty() {
            return Ok(Pushed {
                entries: device.entries.len() as u64,
                bytes,
                requests,
                batches,
            });
        }
        let take = entries.len().min(batch.get() as usize);
        requests += 1;
        match client.push(entries[..take].to_vec()).await {
            Ok((answer, sent)) => {
                batch.acknowledged();
                bytes += sent as u64;
                let held = usize::try_from(answer.held_seq)?;
                batches.push(held.saturating_sub(cursor));
                cursor = held;
            }
            Err(e) => {
                batch.failed(take as u32);
                failures += 1;
                if failures > 10_000 {
                    return Err(format!("giving up: {e}").into());
                }
                tokio::time::sleep(Duration::from_millis(5)).await;
            }
        }
    }
}

/// The station's ingest alone: the same batches straight into a fresh station's
/// storage, without HTTP, JSON or gzip.
async fn ingest_only(
    storage: &dyn Storage,
    device: &Device,
    batches: &[usize],
) -> Result<Duration, BoxError> {
    let start = Instant::now();
    let mut rest = device.entries.as_slice();
    for &n in batches {
        let (chunk, tail) = rest.split_at(n.min(rest.len()));
        rest = tail;
        storage
            .push(
                device.id,
                chunk.to_vec(),
                // The benchmark's device keeps no audit chain; the HTTP push sends none
                // either, so both measure the same work.
                None,
                chrono::Utc::now(),
                lifebridge_station::validate::Policy { training: true },
            )
            .await?;
    }
    Ok(start.elapsed())
}

fn batch_size(args: &Args) -> BatchSize {
    BatchSize::new(args.batch, args.max_batch)
}

fn bare_insert_sqlite(
    dir: &Path,
    entries: &[LocalChange],
    device: Uuid,
) -> Result<Duration, BoxError> {
    let path = dir.join("bare.db");
    let mut conn = rusqlite::Connection::open(&path)?;
    // The station's own connection settings (WAL, synchronous=FULL, page cache), so the
    // baseline and the push differ only in what the station does per entry.
    lifebridge_station::storage::sqlite::configure(&conn, &path)?;
    lifebridge_station::migrations::apply_sqlite(&mut conn)?;
    let start = Instant::now();
    let tx = conn.transaction()?;
    {
        let mut stmt = tx.prepare(
            "INSERT INTO change_entry (device_id, seq, hlc, entity, entity_id, body, field_clocks, received_at)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, NULL, '')",
        )?;
        let dev = device.to_string();
        for e in entries {
            stmt.execute((
                &dev,
                e.seq as i64,
                e.hlc.to_string(),
                e.entity.as_str(),
                e.entity_id.to_string(),
                &e.body,
            ))?;
        }
    }
    tx.commit()?;
    Ok(start.elapsed())
}

async fn bare_insert_pg(
    url: &str,
    entries: &[LocalChange],
    device: Uuid,
) -> Result<Duration, BoxError> {
    let (mut client, conn) = tokio_postgres::connect(url, tokio_postgres::NoTls).await?;
    tokio::spawn(conn);
    client
        .batch_execute("CREATE TABLE bare_entry (device_id TEXT, seq BIGINT, hlc TEXT, entity TEXT, entity_id TEXT, body TEXT, PRIMARY KEY (device_id, seq))")
        .await?;
    // Multi-row INSERTs of 500 rows, as fast as plain SQL gets without COPY.
    let start = Instant::now();
    let tx = client.transaction().await?;
    let dev = device.to_string();
    for chunk in entries.chunks(500) {
        let mut values: Vec<Box<dyn tokio_postgres::types::ToSql + Sync + Send>> = Vec::new();
        let mut rows = Vec::new();
        for (i, e) in chunk.iter().enumerate() {
            rows.push(format!(
                "(${}, ${}, ${}, ${}, ${}, ${})",
                i * 6 + 1,
                i * 6 + 2,
                i * 6 + 3,
                i * 6 + 4,
                i * 6 + 5,
                i * 6 + 6
            ));
            values.push(Box::new(dev.clone()));
            values.push(Box::new(e.seq as i64));
            values.push(Box::new(e.hlc.to_string()));
            values.push(Box::new(e.entity.as_str()));
            values.push(Box::new(e.entity_id.to_string()));
            values.push(Box::new(e.body.clone()));
        }
        let params: Vec<&(dyn tokio_postgres::types::ToSql + Sync)> = values
            .iter()
            .map(|v| v.as_ref() as &(dyn tokio_postgres::types::ToSql + Sync))
            .collect();
        tx.execute(
            &format!(
                "INSERT INTO bare_entry (device_id, seq, hlc, entity, entity_id, body) VALUES {}",
                rows.join(", ")
            ),
            &params,
        )
        .await?;
    }
    tx.commit().await?;
    Ok(start.elapsed())
}

async fn pg_database(url: &str, name: &str) -> Result<String, BoxError> {
    let (client, conn) = tokio_postgres::connect(url, tokio_postgres::NoTls).await?;
    tokio::spawn(conn);
    let db = format!("lb_bench_{name}_{}", Uuid::now_v7().simple());
    client
        .batch_execute(&format!("CREATE DATABASE {db}"))
        .await?;
    let base = url.rsplit_once('/').map_or(url, |(b, _)| b);
    Ok(format!("{base}/{db}"))
}

/// One side-by-side round on fresh databases: push over HTTP, the same batches straight
/// into `Storage::push`, and the bare insert of the same rows.
struct Round {
    push: Duration,
    ingest: Duration,
    bare: Duration,
}

/// The station's backend in a figure's title.
fn backend_label(pg: Option<&str>) -> &'static str {
    if pg.is_some() { "PostgreSQL" } else { "SQLite" }
}

fn median(mut xs: Vec<f64>) -> f64 {
    xs.sort_by(f64::total_cmp);
    match xs.len() {
        0 => 0.0,
        n if n % 2 == 1 => xs[n / 2],
        n => (xs[n / 2 - 1] + xs[n / 2]) / 2.0,
    }
}

async fn single_device(
    args: &Args,
    dir: &Path,
    template: &[LocalChange],
    pg_server: Option<&str>,
) -> Result<(), BoxError> {
    let label = backend_label(pg_server);
    let device = synth_device(template, args.donations, 0)?;
    let json_bytes: usize = device
        .entries
        .iter()
        .map(|e| serde_json::to_vec(e).map_or(0, |v| v.len()))
        .sum();
    let mut rounds = Vec::new();
    let mut last: Option<(Station, Pushed)> = None;
    for round in 0..args.repeat.max(1) {
        if let Some((station, _)) = last.take() {
            station.running.stop().await?;
        }
        let sdir = dir.join(format!("single-{label}-{round}"));
        std::fs::create_dir_all(&sdir)?;
        let pg = match pg_server {
            Some(server) => Some(pg_database(server, "single").await?),
            None => None,
        };
        let station = start_station(&sdir.join("station"), pg.as_deref()).await?;
        let url = station.running.base_url();
        let client = enroll(&station, &url, &device, "BUS-01").await?;
        let start = Instant::now();
        let pushed = push_all(&device, &client, batch_size(args)).await?;
        let push = start.elapsed();
        // The same batches into a second, fresh station database, without the network.
        let ingest = {
            let pg = match pg_server {
                Some(server) => Some(pg_database(server, "ingest").await?),
                None => None,
            };
            let config = Config {
                data_dir: sdir.join("ingest"),
                database_url: pg,
                ..Config::default()
            };
            let storage = open_storage(&config).await?;
            let now = chrono::Utc::now();
            storage
                .create_enrollment(
                    "BUS-01",
                    "bench-code",
                    now,
                    now + chrono::Duration::hours(1),
                )
                .await?;
            storage
                .redeem_enrollment("bench-code", device.id, "bench-token", now)
                .await?
                .ok_or("the benchmark's enrollment was refused")?;
            ingest_only(storage.as_ref(), &device, &pushed.batches).await?
        };
        let bare = match pg.as_deref() {
            None => bare_insert_sqlite(&sdir, &device.entries, device.id)?,
            Some(url) => bare_insert_pg(url, &device.entries, device.id).await?,
        };
        rounds.push(Round { push, ingest, bare });
        last = Some((station, pushed));
    }
    let Some((station, pushed)) = last else {
        return Err("no benchmark round ran".into());
    };
    let (n, bytes, requests) = (pushed.entries, pushed.bytes, pushed.requests);
    let secs =
        |f: fn(&Round) -> Duration| median(rounds.iter().map(|r| f(r).as_secs_f64()).collect());
    let ratios = |f: fn(&Round) -> Duration| {
        let mut rs: Vec<f64> = rounds
            .iter()
            .map(|r| f(r).as_secs_f64() / r.bare.as_secs_f64())
            .collect();
        rs.sort_by(f64::total_cmp);
        let each = rs
            .iter()
            .map(|r| format!("{r:.2}"))
            .collect::<Vec<_>>()
            .join(", ");
        (median(rs), each)
    };
    let (push, ingest, bare) = (secs(|r| r.push), secs(|r| r.ingest), secs(|r| r.bare));
    let (push_ratio, push_each) = ratios(|r| r.push);
    let (ingest_ratio, ingest_each) = ratios(|r| r.ingest);
    println!(
        "one device, {} donations ({n} change-log entries, {requests} requests of {} growing to {}), {label}, median of {} rounds:",
        args.donations,
        args.batch,
        batch_size(args).cap(),
        rounds.len()
    );
    println!(
        "  push over loopback:                 {:>9.2} s  ({:.0} entries/s)",
        push,
        n as f64 / push
    );
    println!(
        "  bytes on the wire per donation:     {:>9.0}    (gzip; JSON before compression {:.0})",
        bytes as f64 / f64::from(args.donations),
        json_bytes as f64 / f64::from(args.donations)
    );
    println!(
        "  station ingest alone (no HTTP):     {ingest:>9.3} s  (same batches, fresh database)"
    );
    println!(
        "  bare bulk insert of the same rows:  {bare:>9.3} s  (one transaction, same settings)"
    );
    println!("  ratio push / bare insert:           {push_ratio:>9.2}  (each round: {push_each})");
    println!(
        "  ratio ingest / bare insert:         {ingest_ratio:>9.2}  (each round: {ingest_each})"
    );
    let today = lifebridge_domain::china_date(chrono::Utc::now());
    statistics_lines(station.storage.as_ref(), today).await?;
    station.running.stop().await?;
    Ok(())
}

/// The statistics page on `date`, both ways: the baseline (the full read of every
/// donation, screening and drive the station holds, computed in memory: what the page
/// did on each request before the tally), then what the page reads now (the per-day
/// sums kept at each push). The first request warms the statement cache; the figure is
/// the best of five.
async fn statistics_lines(storage: &dyn Storage, date: chrono::NaiveDate) -> Result<(), BoxError> {
    let start = Instant::now();
    let sources = storage.statistics_sources().await?;
    let read = start.elapsed();
    let figures = lifebridge_station::statistics::compute(&sources, date);
    let total = start.elapsed();
    println!(
        "  statistics page: read {:.3} s + compute {:.3} s = {:.3} s  ({} donations counted this year)",
        read.as_secs_f64(),
        (total - read).as_secs_f64(),
        total.as_secs_f64(),
        figures.year.donations
    );
    let mut best = std::time::Duration::MAX;
    let mut tallied = None;
    for _ in 0..5 {
        let start = Instant::now();
        tallied = Some(storage.statistics(date).await?);
        best = best.min(start.elapsed());
    }
    let same = tallied.as_ref() == Some(&figures);
    println!(
        "  statistics page (incremental): {:.4} s  (best of 5; {} donations this year; {})",
        best.as_secs_f64(),
        tallied.map_or(0, |t| t.year.donations),
        if same {
            "equal to the full read"
        } else {
            "DIFFERS from the full read"
        }
    );
    Ok(())
}

async fn many_devices(
    args: &Args,
    dir: &Path,
    template: &[LocalChange],
    pg: Option<&str>,
) -> Result<(), BoxError> {
    let label = backend_label(pg);
    let mdir = dir.join(format!("many-{label}"));
    std::fs::create_dir_all(&mdir)?;
    let station = start_station(&mdir.join("station"), pg).await?;
    let url = station.running.base_url();
    let mut devices = Vec::new();
    for i in 0..args.devices {
        let name = format!("BUS-{i:02}");
        let first = 1_000_000 + u64::from(i) * u64::from(args.per_device);
        let device = synth_device(template, args.per_device, first)?;
        let client = enroll(&station, &url, &device, &name).await?;
        devices.push((Arc::new(device), client));
    }
    let (devices, clients): (Vec<_>, Vec<_>) = devices.into_iter().unzip();
    let start = Instant::now();
    let total = push_concurrently(&devices, clients, args).await?;
    let wall = start.elapsed();
    let held = station.storage.counts().await?.change_entries;
    if held != total {
        return Err(format!("station holds {held} entries, devices pushed {total}").into());
    }
    println!(
        "{} devices x {} donations at once, {label}: {total} entries in {:.2} s = {:.0} records/s at the station",
        args.devices,
        args.per_device,
        wall.as_secs_f64(),
        total as f64 / wall.as_secs_f64()
    );
    station.running.stop().await?;
    Ok(())
}

async fn through_faults(args: &Args, dir: &Path, template: &[LocalChange]) -> Result<(), BoxError> {
    let fdir = dir.join("faults");
    std::fs::create_dir_all(&fdir)?;
    let device = synth_device(template, args.donations, 2_000_000)?;
    let station = start_station(&fdir.join("station"), None).await?;
    let fault_percent = 10;
    let proxy = proxy::start(station.running.addr, 0x5eed, fault_percent).await;
    let client = enroll(&station, &proxy.url(), &device, "BUS-99").await?;
    let start = Instant::now();
    let pushed = push_all(&device, &client, batch_size(args)).await?;
    let (n, bytes_acked, requests) = (pushed.entries, pushed.bytes, pushed.requests);
    let wall = start.elapsed();
    let s = &proxy.stats;
    let through = s.request_bytes.load(Ordering::Relaxed);
    println!(
        "one device, {} donations through the fault proxy ({fault_percent}% each: delay, cut request, duplicate, cut answer), SQLite:",
        args.donations
    );
    println!(
        "  time:                               {:>9.2} s  ({n} entries, {requests} requests)",
        wall.as_secs_f64()
    );
    println!(
        "  faults: {} cut mid-request, {} cut mid-answer, {} duplicated, {} delayed",
        s.dropped_mid_request.load(Ordering::Relaxed),
        s.dropped_mid_response.load(Ordering::Relaxed),
        s.duplicated.load(Ordering::Relaxed),
        s.delayed.load(Ordering::Relaxed)
    );
    println!(
        "  request bytes through the proxy:    {through} (HTTP, incl. headers); in acknowledged requests: {bytes_acked} body bytes; re-sent or wasted: {} ({:.0}%)",
        through.saturating_sub(bytes_acked),
        100.0 * through.saturating_sub(bytes_acked) as f64 / through.max(1) as f64
    );
    let held = station.storage.counts().await?.change_entries;
    if held != n {
        return Err(format!("station holds {held} entries, device has {n}").into());
    }
    station.running.stop().await?;
    Ok(())
}

/// Pushes every device's log at once, each with its own client; the entries pushed.
async fn push_concurrently(
    devices: &[Arc<Device>],
    clients: Vec<StationClient>,
    args: &Args,
) -> Result<u64, BoxError> {
    let mut tasks = Vec::new();
    for (device, client) in devices.iter().cloned().zip(clients) {
        let batch = batch_size(args);
        tasks.push(tokio::spawn(async move {
            push_all(&device, &client, batch)
                .await
                .map_err(|e| e.to_string())
        }));
    }
    let mut total = 0;
    for t in tasks {
        total += t.await?.map_err(|e| -> BoxError { e.into() })?.entries;
    }
    Ok(total)
}

/// Relay throughput (issue 10): a bus's tablets push their logs to their hub, then the
/// hub's relay takes them to the city station (timed from its first round to the round
/// that leaves nothing unacknowledged); beside it, the same tablets push the same
/// entries straight to a fresh city station, all at once, as at the yard.
async fn hub_relay(
    args: &Args,
    dir: &Path,
    template: &[LocalChange],
    pg_server: Option<&str>,
) -> Result<(), BoxError> {
    let label = backend_label(pg_server);
    let hdir = dir.join(format!("hub-{label}"));
    std::fs::create_dir_all(&hdir)?;
    let mut devices = Vec::new();
    for i in 0..args.hub_tablets {
        let first = 3_000_000 + u64::from(i) * u64::from(args.hub_donations);
        devices.push(Arc::new(synth_device(template, args.hub_donations, first)?));
    }
    let total: u64 = devices.iter().map(|d| d.entries.len() as u64).sum();
    let pg = |name: &'static str| async move {
        match pg_server {
            Some(url) => pg_database(url, name).await.map(Some),
            None => Ok(None),
        }
    };

    // Straight to the station.
    let direct = start_station(&hdir.join("direct"), pg("hubdirect").await?.as_deref()).await?;
    let url = direct.running.base_url();
    let mut clients = Vec::new();
    for (i, d) in devices.iter().enumerate() {
        clients.push(enroll(&direct, &url, d, &format!("TAB-{i}")).await?);
    }
    let start = Instant::now();
    let pushed = push_concurrently(&devices, clients, args).await?;
    let direct_wall = start.elapsed();
    let held = direct.storage.counts().await?.change_entries;
    if held != total || pushed != total {
        return Err(format!("direct: the station holds {held} of {total} entries").into());
    }
    direct.running.stop().await?;

    // Through a hub (its own database SQLite, as on a bus's laptop).
    let city = start_station(&hdir.join("city"), pg("hubcity").await?.as_deref()).await?;
    let hub = start_station(&hdir.join("hub"), None).await?;
    let code = auth::new_enrollment_code();
    let now = chrono::Utc::now();
    city.storage
        .create_enrollment_as(
            lifebridge_station::devices::DeviceKind::Hub,
            "BUS-HUB",
            &auth::enrollment_code_hash(&code),
            now,
            now + chrono::Duration::hours(1),
        )
        .await?;
    let enrollment = lifebridge_station::hub::Enrollment {
        url: city.running.base_url(),
        code,
        name: "BUS-HUB".into(),
        cert_pem: None,
    };
    // The hub asks the station for no DINs (the synthetic logs are training-numbered).
    let relay =
        lifebridge_station::hub::connect(hub.storage.clone(), Some(enrollment), &Config::default())
            .await?;
    let hub_url = hub.running.base_url();
    let mut clients = Vec::new();
    for (i, d) in devices.iter().enumerate() {
        clients.push(enroll(&hub, &hub_url, d, &format!("TAB-{i}")).await?);
    }
    let start = Instant::now();
    push_concurrently(&devices, clients, args).await?;
    let to_hub = start.elapsed();
    let start = Instant::now();
    let mut rounds = 0;
    let mut relayed = 0;
    while relayed < total {
        let round = relay.round().await?;
        rounds += 1;
        relayed += round.relayed;
        if round.relayed == 0 {
            return Err(format!("the hub relayed {relayed} of {total} entries and stopped").into());
        }
    }
    let relay_wall = start.elapsed();
    let held = city.storage.counts().await?.change_entries;
    if held != total {
        return Err(format!("relay: the station holds {held} of {total} entries").into());
    }
    let rate = |wall: Duration| total as f64 / wall.as_secs_f64();
    println!(
        "hub relay, {} tablets x {} donations ({total} entries), station {label}, hub SQLite:",
        args.hub_tablets, args.hub_donations
    );
    let line = |what: String, wall: Duration| {
        println!(
            "  {what:<36} {:>7.2} s = {:>7.0} entries/s",
            wall.as_secs_f64(),
            rate(wall)
        );
    };
    line("direct push, all tablets at once:".into(), direct_wall);
    line("tablets -> hub, all at once:".into(), to_hub);
    line(
        format!(
            "hub -> station (relay, {rounds} round{}):",
            if rounds == 1 { "" } else { "s" }
        ),
        relay_wall,
    );
    println!(
        "  ratio relay / direct:                {:>7.2}",
        relay_wall.as_secs_f64() / direct_wall.as_secs_f64()
    );
    city.running.stop().await?;
    hub.running.stop().await?;
    Ok(())
}

#[tokio::main]
async fn main() -> Result<(), BoxError> {
    let args = Args::parse();
    let root = args
        .dir
        .clone()
        .unwrap_or_else(std::env::temp_dir)
        .join(format!("lifebridge-repl-bench-{}", Uuid::now_v7().simple()));
    std::fs::create_dir_all(&root)?;
    let template = donation_template(&root)?;
    println!(
        "Lifebridge replication benchmark: {} change-log entries per donation ({})",
        template.len(),
        template
            .iter()
            .map(|e| e.entity.as_str())
            .collect::<Vec<_>>()
            .join(", ")
    );
    let result = async {
        if args.hub_only {
            hub_relay(&args, &root, &template, None).await?;
            if let Some(url) = &args.pg_url {
                hub_relay(&args, &root, &template, Some(url)).await?;
            }
            return Ok(());
        }
        single_device(&args, &root, &template, None).await?;
        if let Some(url) = &args.pg_url {
            single_device(&args, &root, &template, Some(url)).await?;
        }
        city_year::run(
            &root,
            args.city_donations,
            args.city_sites,
            args.pg_url.as_deref(),
        )
        .await?;
        if args.single_only {
            return Ok(());
        }
        many_devices(&args, &root, &template, None).await?;
        match &args.pg_url {
            Some(url) => {
                let db = pg_database(url, "many").await?;
                many_devices(&args, &root, &template, Some(&db)).await?;
            }
            None => println!("(PostgreSQL runs skipped: set LIFEBRIDGE_TEST_PG_URL or --pg-url)"),
        }
        through_faults(&args, &root, &template).await?;
        hub_relay(&args, &root, &template, None).await?;
        if let Some(url) = &args.pg_url {
            hub_relay(&args, &root, &template, Some(url)).await?;
        }
        Ok(())
    }
    .await;
    let _ = std::fs::remove_dir_all(&root);
    result
}
