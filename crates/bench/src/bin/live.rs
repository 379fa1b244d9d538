//! Live-update benchmark (not a test): tablet-to-tablet latency on one station, for
//! docs/benchmarks.md "Live updates".
//!
//! `cargo run --release -p lifebridge-bench --bin lifebridge-live-bench`
//!
//! 1, 2, 4 and 8 tablets, each a real encrypted store with a running replicator, on one
//! station (SQLite, loopback). Every tablet also registers a donor every `--load-ms` in
//! the background. A measured donor is registered on one tablet (in turn) and timed until
//! every other tablet holds it (with one tablet: until the station holds it). Each
//! configuration runs twice in the same process: live (the event stream, periodic sync
//! 60 s) and the baseline without events (periodic sync every second); both wake the
//! replicator after the commit, as the app does.
//!
//! `--hub`: the tablets' station is a bus hub (`lifebridge_station::hub`, its relay
//! running) enrolled with a city station in the same process: the latency between the
//! tablets of one bus over their hub while it relays upstream.

#[path = "../../../sync/tests/live/bus.rs"]
mod bus;

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use bus::{Bus, Tablet, percentile, replicator_config};
use clap::Parser;
use lifebridge_station::db::Storage;

#[derive(Parser)]
struct Args {
    /// Tablet counts to run.
    #[arg(long, value_delimiter = ',', default_value = "1,2,4,8")]
    tablets: Vec<usize>,
    /// Measured donors per configuration.
    #[arg(long, default_value_t = 40)]
    samples: usize,
    /// Every tablet registers a background donor this often (0: no background load).
    #[arg(long, default_value_t = 500)]
    load_ms: u64,
    /// The tablets' station is a bus hub relaying to a city station.
    #[arg(long)]
    hub: bool,
}

/// A city station, and the bus's station enrolled with it as its hub with the relay
/// running, as `lifebridge-station hub` runs it. Dropped with the run: the city station
/// stops, the relay stops.
struct City {
    _station: lifebridge_station::server::RunningStation,
    _dir: tempfile::TempDir,
    stop: tokio::sync::watch::Sender<bool>,
    relay: tokio::task::JoinHandle<()>,
}

async fn make_hub(bus: &Bus) -> anyhow::Result<City> {
    use lifebridge_station::config::Config;
    let dir = tempfile::tempdir()?;
    let config = Config {
        listen: "127.0.0.1:0".parse()?,
        data_dir: dir.path().join("city"),
        ..Config::default()
    };
    let storage = lifebridge_station::open_storage(&config).await?;
    let station = lifebridge_station::server::start(config, storage.clone()).await?;
    let code = lifebridge_station::auth::new_enrollment_code();
    let now = chrono::Utc::now();
    storage
        .create_enrollment_as(
            lifebridge_station::devices::DeviceKind::Hub,
            "BUS-HUB",
            &lifebridge_station::auth::enrollment_code_hash(&code),
            now,
            now + chrono::Duration::hours(1),
        )
        .await?;
    let enrollment = lifebridge_station::hub::Enrollment {
        url: station.base_url(),
        code,
        name: "BUS-HUB".into(),
        cert_pem: None,
    };
    let relay =
        lifebridge_station::hub::connect(bus.storage.clone(), Some(enrollment), &bus.config)
            .await?;
    let (stop, stopped) = tokio::sync::watch::channel(false);
    let relay = tokio::spawn(relay.run(stopped));
    Ok(City {
        _station: station,
        _dir: dir,
        stop,
        relay,
    })
}

struct Figures {
    p50: Duration,
    p99: Duration,
    max: Duration,
}

/// Until the station holds `donor` (one tablet alone has no other tablet to reach).
async fn at_station(storage: &Arc<dyn Storage>, donor: uuid::Uuid, since: Instant) -> Duration {
    loop {
        if matches!(storage.donor(donor).await, Ok(Some(_))) {
            return since.elapsed();
        }
        assert!(
            since.elapsed() < Duration::from_secs(30),
            "the station never got {donor}"
        );
        tokio::time::sleep(Duration::from_millis(2)).await;
    }
}

async fn run(n: usize, live: bool, args: &Args) -> Figures {
    let bus = Bus::start().await;
    let city = match args.hub {
        true => Some(
            make_hub(&bus)
                .await
                .unwrap_or_else(|e| panic!("starting the bus hub: {e}")),
        ),
        false => None,
    };
    let interval = if live {
        Duration::from_secs(60)
    } else {
        Duration::from_secs(1)
    };
    let mut tablets = Vec::with_capacity(n);
    for i in 0..n {
        tablets.push(Arc::new(
            bus.tablet(&format!("BUS-{i}"), replicator_config(interval, live))
                .await,
        ));
    }
    // Everyone enrolled, leased and (live) listening before anything is timed.
    for t in &tablets {
        while t.status.borrow().last_success.is_none() {
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
    }
    tokio::time::sleep(Duration::from_millis(200)).await;
    let stop = Arc::new(AtomicBool::new(false));
    let mut load = Vec::new();
    if args.load_ms > 0 {
        for t in &tablets {
            let (t, stop, every) = (t.clone(), stop.clone(), args.load_ms);
            load.push(tokio::spawn(async move {
                while !stop.load(Ordering::Relaxed) {
                    t.register().await;
                    tokio::time::sleep(Duration::from_millis(every)).await;
                }
            }));
        }
    }
    let mut samples = Vec::with_capacity(args.samples);
    for round in 0..args.samples {
        let writer = &tablets[round % n];
        let since = Instant::now();
        let donor = writer.register().await;
        let took = if n == 1 {
            at_station(&bus.storage, donor, since).await
        } else {
            let mut slowest = Duration::ZERO;
            for other in tablets.iter().filter(|t| !Arc::ptr_eq(t, writer)) {
                let took = other
                    .wait_for(donor, since, Duration::from_secs(30))
                    .await
                    .unwrap_or_else(|| panic!("{} never got the donor", other.name));
                slowest = slowest.max(took);
            }
            slowest
        };
        samples.push(took);
        // Spread the measured commits over the periodic sync's second (and the load's
        // rhythm): back to back, they lock onto one phase of the baseline's polling.
        tokio::time::sleep(Duration::from_millis((round as u64 * 389) % 1000)).await;
    }
    stop.store(true, Ordering::Relaxed);
    for l in load {
        let _ = l.await;
    }
    for t in tablets {
        if let Ok(t) = Arc::try_unwrap(t) {
            Tablet::stop(t).await;
        }
    }
    if let Some(city) = city {
        city.stop.send_replace(true);
        let _ = city.relay.await;
    }
    Figures {
        p50: percentile(&samples, 50.0),
        p99: percentile(&samples, 99.0),
        max: percentile(&samples, 100.0),
    }
}

fn ms(d: Duration) -> String {
    format!("{:.0} ms", d.as_secs_f64() * 1000.0)
}

#[tokio::main(flavor = "multi_thread")]
async fn main() {
    let args = Args::parse();
    println!(
        "tablet-to-tablet latency{}, {} measured donors per run, background load one donor per tablet every {} ms",
        if args.hub {
            " over a bus hub relaying to a city station"
        } else {
            ""
        },
        args.samples,
        args.load_ms
    );
    println!(
        "{:>7}  {:>28}  {:>28}",
        "tablets", "live: p50 / p99 / max", "baseline 1 s poll: p50 / p99 / max"
    );
    for &n in &args.tablets {
        let n = n.max(1);
        let live = run(n, true, &args).await;
        let base = run(n, false, &args).await;
        println!(
            "{n:>7}  {:>28}  {:>28}{}",
            format!("{} / {} / {}", ms(live.p50), ms(live.p99), ms(live.max)),
            format!("{} / {} / {}", ms(base.p50), ms(base.p99), ms(base.max)),
            if n == 1 && args.hub {
                "  (one tablet: commit to the hub)"
            } else if n == 1 {
                "  (one tablet: commit to the station)"
            } else {
                ""
            }
        );
    }
}
