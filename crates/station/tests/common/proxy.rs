//! A fault-injecting HTTP proxy on loopback: between the devices and the station it
//! drops connections mid-request and mid-response, delays, and sends requests twice.
//! Each request gets its own upstream connection (`Connection: close`), so faults hit
//! exactly one request.
#![allow(dead_code, clippy::unwrap_used)]

use std::net::SocketAddr;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};

/// A small deterministic generator, so a failing run can be replayed from its seed.
pub struct Rng(u64);

impl Rng {
    pub fn new(seed: u64) -> Rng {
        Rng(seed.max(1))
    }

    pub fn next(&mut self) -> u64 {
        let mut x = self.0;
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        self.0 = x;
        x
    }

    pub fn below(&mut self, n: u64) -> u64 {
        self.next() % n.max(1)
    }
}

/// The seed of a randomized run: LIFEBRIDGE_FAULT_SEED to replay one, else the clock.
pub fn seed_value() -> u64 {
    match std::env::var("LIFEBRIDGE_FAULT_SEED") {
        Ok(s) => s.parse().unwrap(),
        Err(_) => {
            let t = std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .unwrap();
            t.as_nanos() as u64
        }
    }
}

#[derive(Default)]
pub struct FaultStats {
    pub requests: AtomicU64,
    pub dropped_mid_request: AtomicU64,
    pub dropped_mid_response: AtomicU64,
    pub duplicated: AtomicU64,
    pub delayed: AtomicU64,
    /// Request bytes that reached the station more than once or were cut off.
    pub resent_bytes: AtomicU64,
    pub request_bytes: AtomicU64,
}

impl FaultStats {
    /// What was injected, for a run's log.
    pub fn summary(&self) -> String {
        format!(
            "{} requests, {} cut mid-request, {} cut mid-response, {} duplicated, {} delayed",
            self.requests.load(Ordering::Relaxed),
            self.dropped_mid_request.load(Ordering::Relaxed),
            self.dropped_mid_response.load(Ordering::Relaxed),
            self.duplicated.load(Ordering::Relaxed),
            self.delayed.load(Ordering::Relaxed),
        )
    }
}

pub struct FaultProxy {
    pub addr: SocketAddr,
    pub healed: Arc<AtomicBool>,
    pub stats: Arc<FaultStats>,
    /// Percent chance of each fault per request.
    pub fault_percent: u64,
}

impl FaultProxy {
    pub fn url(&self) -> String {
        format!("http://{}", self.addr)
    }

    pub fn heal(&self) {
        self.healed.store(true, Ordering::SeqCst);
    }
}

async fn read_request(client: &mut TcpStream) -> Option<Vec<u8>> {
    let mut buf = Vec::new();
    let mut chunk = [0u8; 16 * 1024];
    let header_end = loop {
        if let Some(i) = buf.windows(4).position(|w| w == b"\r\n\r\n") {
            break i + 4;
        }
        let n = client.read(&mut chunk).await.ok()?;
        if n == 0 {
            return None;
        }
        buf.extend_from_slice(&chunk[..n]);
    };
    let head = String::from_utf8_lossy(&buf[..header_end]).to_ascii_lowercase();
    let length: usize = head
        .lines()
        .find_map(|l| l.strip_prefix("content-length:"))
        .and_then(|v| v.trim().parse().ok())
        .unwrap_or(0);
    while buf.len() < header_end + length {
        let n = client.read(&mut chunk).await.ok()?;
        if n == 0 {
            return None;
        }
        buf.extend_from_slice(&chunk[..n]);
    }
    // One request per upstream connection: ask the station to close after answering.
    let first_line_end = buf.windows(2).position(|w| w == b"\r\n")? + 2;
    let mut out = buf[..first_line_end].to_vec();
    out.extend_from_slice(b"Connection: close\r\n");
    out.extend_from_slice(&buf[first_line_end..]);
    Some(out)
}

async fn exchange(upstream: SocketAddr, request: &[u8]) -> Option<Vec<u8>> {
    let mut up = TcpStream::connect(upstream).await.ok()?;
    up.write_all(request).await.ok()?;
    let mut response = Vec::new();
    up.read_to_end(&mut response).await.ok()?;
    Some(response)
}

pub async fn start(upstream: SocketAddr, seed: u64, fault_percent: u64) -> FaultProxy {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let healed = Arc::new(AtomicBool::new(false));
    let stats = Arc::new(FaultStats::default());
    let rng = Arc::new(Mutex::new(Rng::new(seed)));
    let (h, s) = (healed.clone(), stats.clone());
    tokio::spawn(async move {
        loop {
            let Ok((mut client, _)) = listener.accept().await else {
                return;
            };
            let (healed, stats, rng) = (h.clone(), s.clone(), rng.clone());
            tokio::spawn(async move {
                let Some(request) = read_request(&mut client).await else {
                    return;
                };
                stats.requests.fetch_add(1, Ordering::Relaxed);
                stats
                    .request_bytes
                    .fetch_add(request.len() as u64, Ordering::Relaxed);
                let roll = |n: u64| rng.lock().unwrap().below(n);
                let faulty = !healed.load(Ordering::SeqCst);
                let hit = |p: u64| faulty && roll(100) < p;
                if hit(fault_percent) {
                    stats.delayed.fetch_add(1, Ordering::Relaxed);
                    tokio::time::sleep(Duration::from_millis(roll(150))).await;
                }
                if hit(fault_percent) {
                    // Part of the request reaches the station, then the link dies.
                    stats.dropped_mid_request.fetch_add(1, Ordering::Relaxed);
                    let cut = roll(request.len() as u64) as usize;
                    stats
                        .resent_bytes
                        .fetch_add(request.len() as u64, Ordering::Relaxed);
                    if let Ok(mut up) = TcpStream::connect(upstream).await {
                        let _ = up.write_all(&request[..cut]).await;
                    }
                    return;
                }
                if hit(fault_percent) {
                    // The same request arrives twice (a retrying middlebox).
                    stats.duplicated.fetch_add(1, Ordering::Relaxed);
                    stats
                        .resent_bytes
                        .fetch_add(request.len() as u64, Ordering::Relaxed);
                    let copy = request.clone();
                    tokio::spawn(async move {
                        let _ = exchange(upstream, &copy).await;
                    });
                }
                let Some(response) = exchange(upstream, &request).await else {
                    return;
                };
                if hit(fault_percent) {
                    // The station answered, but the answer is lost on the way back.
                    stats.dropped_mid_response.fetch_add(1, Ordering::Relaxed);
                    let cut = roll(response.len() as u64) as usize;
                    let _ = client.write_all(&response[..cut]).await;
                    return;
                }
                let _ = client.write_all(&response).await;
                let _ = client.shutdown().await;
            });
        }
    });
    FaultProxy {
        addr,
        healed,
        stats,
        fault_percent,
    }
}
