//! The HTTP client for one station (or a bus hub, which speaks the same protocol): every
//! call is one request, JSON bodies gzipped both ways, the device credential as a bearer
//! token. Used by the tablet's replicator (`lifebridge-sync`) and by a hub relaying
//! upstream (`lifebridge-station hub`); it depends on the wire types only, so the station
//! never links the device store through it.

use std::pin::Pin;
use std::time::Duration;

use eventsource_stream::{EventStreamError, Eventsource};
use futures_core::Stream;
use reqwest::header::{self, HeaderValue};
use rustls::pki_types::CertificateDer;
use rustls::pki_types::pem::PemObject;
use serde::Serialize;
use serde::de::DeserializeOwned;
use uuid::Uuid;

use lifebridge_protocol::compress::{gunzip_limited, gzip};
use lifebridge_protocol::records::{HeldLease, LocalChange};
use lifebridge_protocol::wire::{
    AuditHead, ClientInfo, DeviceStatus, EVENTS_PATH, EnrollRequest, EnrollResponse, ErrorBody,
    ErrorCode, FEED_EVENT, FeedEvent, PullRequest, PullResponse, PushRequest, PushResponse,
    RELAY_FOR_HEADER, RegisterTabletRequest, RegisterTabletResponse,
};

/// What a call to the station can fail with.
#[derive(Debug, thiserror::Error)]
pub enum ClientError {
    #[error("the station cannot be reached: {0}")]
    Unreachable(String),
    #[error("the station refused the request ({status}, {code}): {message}", code = serde_json::to_string(&body.error).unwrap_or_default(), message = body.message)]
    Station { status: u16, body: ErrorBody },
    #[error("the station's answer makes no sense: {0}")]
    Protocol(String),
    #[error("sync settings: {0}")]
    Config(String),
}

/// Largest answer the device accepts once inflated.
const MAX_ANSWER_BYTES: usize = 256 * 1024 * 1024;

/// How the device decides to trust the station.
#[derive(Debug, Clone)]
pub enum Trust {
    /// `http://` to a loopback address only (tests, a station on the same machine).
    LoopbackHttp,
    /// `https://` to a station whose certificate is, or is signed by, one of these PEM
    /// certificates. Nothing else is trusted: the station is pinned.
    PinnedPem(String),
}

/// How long an event stream may stay silent before the device takes the link for lost:
/// the station sends a keep-alive comment every 15 s (docs/api.md `/v1/events`).
pub const EVENTS_SILENCE: Duration = Duration::from_secs(45);

#[derive(Clone)]
pub struct StationClient {
    http: reqwest::Client,
    /// For `/v1/events`: no deadline for the whole answer (it streams for hours), but one
    /// for each read ([`EVENTS_SILENCE`]).
    events_http: reqwest::Client,
    base: String,
    token: Option<String>,
    /// A hub acting for one of its tablets ([`lifebridge_protocol::wire::RELAY_FOR_HEADER`]).
    relay_for: Option<Uuid>,
}

impl std::fmt::Debug for StationClient {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("StationClient")
            .field("base", &self.base)
            .finish_non_exhaustive()
    }
}

fn tls_config(roots: rustls::RootCertStore) -> Result<rustls::ClientConfig, ClientError> {
    Ok(
        rustls::ClientConfig::builder_with_provider(std::sync::Arc::new(
            rustls::crypto::ring::default_provider(),
        ))
        .with_safe_default_protocol_versions()
        .map_err(|e| ClientError::Config(format!("TLS: {e}")))?
        .with_root_certificates(roots)
        .with_no_client_auth(),
    )
}

impl StationClient {
    pub fn new(
        base_url: &str,
        trust: Trust,
        timeout: Duration,
    ) -> Result<StationClient, ClientError> {
        let base = base_url.trim_end_matches('/').to_owned();
        let url = reqwest::Url::parse(&base)
            .map_err(|e| ClientError::Config(format!("station address {base_url:?}: {e}")))?;
        let mut roots = rustls::RootCertStore::empty();
        match (&trust, url.scheme()) {
            (Trust::LoopbackHttp, "http") => {
                let loopback = match url.host() {
                    Some(url::Host::Domain(d)) => d == "localhost",
                    Some(url::Host::Ipv4(ip)) => ip.is_loopback(),
                    Some(url::Host::Ipv6(ip)) => ip.is_loopback(),
                    None => false,
                };
                if !loopback {
                    return Err(ClientError::Config(format!(
                        "station address {base_url:?}: plain http is allowed only to a loopback address; use https"
                    )));
                }
            }
            (Trust::PinnedPem(pem), "https") => {
                for cert in CertificateDer::pem_slice_iter(pem.as_bytes()) {
                    let cert =
                        cert.map_err(|e| ClientError::Config(format!("station certificate: {e}")))?;
                    roots
                        .add(cert)
                        .map_err(|e| ClientError::Config(format!("station certificate: {e}")))?;
                }
                if roots.is_empty() {
                    return Err(ClientError::Config(
                        "station certificate: no PEM certificate given".into(),
                    ));
                }
            }
            (_, scheme) => {
                return Err(ClientError::Config(format!(
                    "station address {base_url:?}: scheme {scheme} does not match the trust setting (https needs a pinned certificate, http is for loopback only)"
                )));
            }
        }
        let connect = timeout.min(Duration::from_secs(10));
        let http = reqwest::Client::builder()
            .tls_backend_preconfigured(tls_config(roots.clone())?)
            .timeout(timeout)
            .connect_timeout(connect)
            .build()
            .map_err(|e| ClientError::Config(format!("HTTP client: {e}")))?;
        let events_http = reqwest::Client::builder()
            .tls_backend_preconfigured(tls_config(roots)?)
            .connect_timeout(connect)
            .read_timeout(EVENTS_SILENCE)
            .build()
            .map_err(|e| ClientError::Config(format!("HTTP client: {e}")))?;
        Ok(StationClient {
            http,
            events_http,
            base,
            token: None,
            relay_for: None,
        })
    }

    pub fn with_token(mut self, token: impl Into<String>) -> StationClient {
        self.token = Some(token.into());
        self
    }

    /// The same client acting for `tablet` (a hub relaying it; the token stays the hub's).
    pub fn relaying_for(&self, tablet: Uuid) -> StationClient {
        StationClient {
            relay_for: Some(tablet),
            ..self.clone()
        }
    }

    pub fn base_url(&self) -> &str {
        &self.base
    }

    async fn call<Req: Serialize, Resp: DeserializeOwned>(
        &self,
        path: &str,
        body: &Req,
    ) -> Result<(Resp, usize), ClientError> {
        let json = serde_json::to_vec(body).map_err(|e| ClientError::Protocol(e.to_string()))?;
        let compressed = gzip(&json);
        let sent = compressed.len();
        let mut request = self
            .http
            .post(format!("{}{path}", self.base))
            .header(
                header::CONTENT_TYPE,
                HeaderValue::from_static("application/json"),
            )
            .header(header::CONTENT_ENCODING, HeaderValue::from_static("gzip"))
            .header(header::ACCEPT_ENCODING, HeaderValue::from_static("gzip"))
            .body(compressed);
        if let Some(token) = &self.token {
            request = request.bearer_auth(token);
        }
        if let Some(tablet) = self.relay_for {
            request = request.header(RELAY_FOR_HEADER, tablet.to_string());
        }
        let response = request
            .send()
            .await
            .map_err(|e| ClientError::Unreachable(describe(&e)))?;
        let status = response.status();
        let gzipped = response
            .headers()
            .get(header::CONTENT_ENCODING)
            .is_some_and(|v| v.as_bytes().eq_ignore_ascii_case(b"gzip"));
        let bytes = response.bytes().await.map_err(|e| {
            ClientError::Unreachable(format!("the answer was cut off: {}", describe(&e)))
        })?;
        let bytes = if gzipped {
            gunzip_limited(&bytes, MAX_ANSWER_BYTES)
                .map_err(|e| ClientError::Protocol(format!("answer from {path}: {e}")))?
        } else {
            bytes.to_vec()
        };
        if status.is_success() {
            let value = serde_json::from_slice(&bytes)
                .map_err(|e| ClientError::Protocol(format!("answer from {path}: {e}")))?;
            Ok((value, sent))
        } else {
            Err(refusal(status, &bytes))
        }
    }

    /// `GET /v1/events`: the station's feed cursor each time it advances, starting with
    /// the current one. Ends when the station closes the stream; reconnecting (with a
    /// backoff) is the caller's business.
    pub async fn events(&self) -> Result<Events, ClientError> {
        let mut request = self
            .events_http
            .get(format!("{}{EVENTS_PATH}", self.base))
            .header(
                header::ACCEPT,
                HeaderValue::from_static("text/event-stream"),
            );
        if let Some(token) = &self.token {
            request = request.bearer_auth(token);
        }
        let response = request
            .send()
            .await
            .map_err(|e| ClientError::Unreachable(describe(&e)))?;
        let status = response.status();
        if !status.is_success() {
            let bytes = response.bytes().await.map_err(|e| {
                ClientError::Unreachable(format!("the answer was cut off: {}", describe(&e)))
            })?;
            return Err(refusal(status, &bytes));
        }
        Ok(Events {
            inner: Box::pin(response.bytes_stream().eventsource()),
        })
    }

    /// `GET /healthz`: is the station reachable and its database up?
    pub async fn probe(&self) -> Result<(), ClientError> {
        let response = self
            .http
            .get(format!("{}/healthz", self.base))
            .send()
            .await
            .map_err(|e| ClientError::Unreachable(describe(&e)))?;
        if response.status().is_success() {
            Ok(())
        } else {
            Err(ClientError::Unreachable(format!(
                "station health check answered {}",
                response.status()
            )))
        }
    }

    pub async fn enroll(
        &self,
        code: &str,
        device_id: Uuid,
        device_name: &str,
    ) -> Result<EnrollResponse, ClientError> {
        let req = EnrollRequest {
            client: ClientInfo::current(),
            code: code.to_owned(),
            device_id,
            device_name: device_name.to_owned(),
        };
        Ok(self.call("/v1/enroll", &req).await?.0)
    }

    /// Pushes one batch; also returns the compressed bytes sent.
    pub async fn push(
        &self,
        entries: Vec<LocalChange>,
    ) -> Result<(PushResponse, usize), ClientError> {
        self.push_with_head(entries, None).await
    }

    /// Pushes one batch with the head of this device's audit chain.
    pub async fn push_with_head(
        &self,
        entries: Vec<LocalChange>,
        audit_head: Option<AuditHead>,
    ) -> Result<(PushResponse, usize), ClientError> {
        self.call(
            "/v1/push",
            &PushRequest {
                client: ClientInfo::current(),
                entries,
                audit_head,
            },
        )
        .await
    }

    pub async fn pull(
        &self,
        after: u64,
        limit: u32,
        unused_dins: Option<u64>,
    ) -> Result<PullResponse, ClientError> {
        self.pull_reporting(after, limit, unused_dins, Vec::new())
            .await
    }

    /// A pull that also reports the leases this device holds (a station restored from
    /// a backup learns the ones it lost from them).
    pub async fn pull_reporting(
        &self,
        after: u64,
        limit: u32,
        unused_dins: Option<u64>,
        leases: Vec<HeldLease>,
    ) -> Result<PullResponse, ClientError> {
        Ok(self
            .call(
                "/v1/pull",
                &PullRequest {
                    client: ClientInfo::current(),
                    after,
                    limit,
                    unused_dins,
                    leases,
                },
            )
            .await?
            .0)
    }

    /// `POST /v1/hub/tablets`: a hub registers a tablet that enrolled with it.
    pub async fn register_tablet(
        &self,
        device_id: Uuid,
        device_name: &str,
    ) -> Result<RegisterTabletResponse, ClientError> {
        let req = RegisterTabletRequest {
            client: ClientInfo::current(),
            device_id,
            device_name: device_name.to_owned(),
        };
        Ok(self.call("/v1/hub/tablets", &req).await?.0)
    }

    pub async fn status(&self) -> Result<DeviceStatus, ClientError> {
        Ok(self.call("/v1/status", &ClientInfo::current()).await?.0)
    }
}

/// The error an unsuccessful answer carries (its [`ErrorBody`], or one made from the
/// status when the body is not one).
fn refusal(status: reqwest::StatusCode, bytes: &[u8]) -> ClientError {
    let body: ErrorBody = serde_json::from_slice(bytes).unwrap_or_else(|_| {
        ErrorBody::new(
            if status.is_server_error() {
                ErrorCode::Unavailable
            } else {
                ErrorCode::MalformedBody
            },
            format!(
                "HTTP {status}: {}",
                String::from_utf8_lossy(bytes)
                    .chars()
                    .take(200)
                    .collect::<String>()
            ),
        )
    });
    ClientError::Station {
        status: status.as_u16(),
        body,
    }
}

type RawEvents = Pin<
    Box<
        dyn Stream<Item = Result<eventsource_stream::Event, EventStreamError<reqwest::Error>>>
            + Send,
    >,
>;

/// An open `/v1/events` stream ([`StationClient::events`]).
pub struct Events {
    inner: RawEvents,
}

impl std::fmt::Debug for Events {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Events").finish_non_exhaustive()
    }
}

impl Events {
    /// The next feed cursor the station announces; `None` once it ended the stream, an
    /// error when the link failed (then the stream is over too).
    pub async fn next(&mut self) -> Option<Result<u64, ClientError>> {
        loop {
            let event = std::future::poll_fn(|cx| self.inner.as_mut().poll_next(cx)).await?;
            return Some(match event {
                // Events of other names are for later versions of the protocol.
                Ok(event) if event.event != FEED_EVENT => continue,
                Ok(event) => serde_json::from_str::<FeedEvent>(&event.data)
                    .map(|e| e.cursor)
                    .map_err(|e| {
                        ClientError::Protocol(format!("a {FEED_EVENT} event {:?}: {e}", event.data))
                    }),
                Err(EventStreamError::Transport(e)) => Err(ClientError::Unreachable(format!(
                    "the event stream broke: {}",
                    describe(&e)
                ))),
                Err(e) => Err(ClientError::Protocol(format!("the event stream: {e}"))),
            });
        }
    }
}

fn describe(e: &reqwest::Error) -> String {
    use std::error::Error;
    let mut text = e.to_string();
    let mut source = e.source();
    while let Some(s) = source {
        text.push_str(": ");
        text.push_str(&s.to_string());
        source = s.source();
    }
    text
}
