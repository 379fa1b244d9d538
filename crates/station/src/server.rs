//! The HTTP API (docs/api.md): enrollment, push, pull, status, health and metrics.
//!
//! Every request body is read with a size limit, inflated with a second limit, and
//! parsed into the protocol types; anything else gets a 4xx JSON error and writes
//! nothing. Handlers never panic on input.

use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::Ordering;

use axum::Router;
use axum::body::Bytes;
use axum::extract::rejection::BytesRejection;
use axum::extract::{DefaultBodyLimit, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use chrono::Utc;
use lifebridge_protocol::compress::{DecompressError, gunzip_limited, gzip};
use lifebridge_protocol::ingest::Refusal;
use lifebridge_protocol::wire::{
    ClientInfo, DeviceStatus, EnrollRequest, EnrollResponse, ErrorBody, ErrorCode, MAX_PULL_PAGE,
    PullRequest, PullResponse, PushRequest, PushResponse, StationClock, check_versions,
};
use serde::Serialize;
use serde::de::DeserializeOwned;

use crate::auth;
use crate::config::Config;
use crate::db::Storage;
use crate::devices::DeviceRecord;
use crate::leases::{LeaseNeed, LeasePolicy};
use crate::state::{AppState, Metrics};
use crate::storage::StorageError;

/// An error answer: status code and [`ErrorBody`].
#[derive(Debug)]
pub struct ApiError(pub ErrorBody);

impl ApiError {
    fn new(code: ErrorCode, message: impl Into<String>) -> ApiError {
        ApiError(ErrorBody::new(code, message))
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let status = StatusCode::from_u16(self.0.error.http_status())
            .unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
        (status, axum::Json(self.0)).into_response()
    }
}

impl From<StorageError> for ApiError {
    fn from(e: StorageError) -> ApiError {
        match e {
            StorageError::Refused(Refusal::InvalidBatch(why)) => {
                ApiError::new(ErrorCode::InvalidBatch, why)
            }
            StorageError::Refused(r @ Refusal::Gap { expected, .. }) => {
                let mut body = ErrorBody::new(ErrorCode::SequenceGap, r.to_string());
                body.expected_seq = Some(expected);
                body.held_seq = Some(expected.saturating_sub(1));
                ApiError(body)
            }
            StorageError::Refused(r @ Refusal::Conflict { seq }) => {
                let mut body = ErrorBody::new(ErrorCode::SequenceConflict, r.to_string());
                body.conflicting_seq = Some(seq);
                ApiError(body)
            }
            StorageError::Refused(Refusal::Entry(refused)) => {
                let mut body = ErrorBody::new(ErrorCode::EntryRefused, refused.reason.to_string());
                body.refused = Some(refused);
                ApiError(body)
            }
            StorageError::Invalid(why) => ApiError::new(ErrorCode::MalformedBody, why),
            other => {
                tracing::error!(error = %other, "storage failure");
                ApiError::new(
                    ErrorCode::Unavailable,
                    "the station database is unavailable; nothing was written, try again later",
                )
            }
        }
    }
}

type ApiResult<T> = Result<T, ApiError>;

pub fn router(state: Arc<AppState>) -> Router {
    let limit = state.config.max_body_bytes;
    Router::new()
        .route("/healthz", get(healthz))
        .route("/metrics", get(metrics))
        .route("/v1/enroll", post(enroll))
        .route("/v1/push", post(push))
        .route("/v1/pull", post(pull))
        .route("/v1/status", post(status))
        .fallback(|| async {
            ApiError::new(ErrorCode::NotFound, "no such endpoint; see docs/api.md")
        })
        .with_state(state.clone())
        // The receiving desk and statistics pages (crate::receiving).
        .merge(crate::handoff::router(state))
        .layer(DefaultBodyLimit::max(limit))
}

/// Reads, inflates and parses a request body.
fn decode<T: DeserializeOwned>(
    state: &AppState,
    headers: &HeaderMap,
    body: Result<Bytes, BytesRejection>,
) -> ApiResult<T> {
    let body = body.map_err(|rejection| {
        if rejection.status() == StatusCode::PAYLOAD_TOO_LARGE {
            ApiError::new(
                ErrorCode::BodyTooLarge,
                format!(
                    "the request body is larger than the {} bytes this station accepts; send smaller batches",
                    state.config.max_body_bytes
                ),
            )
        } else {
            ApiError::new(ErrorCode::MalformedBody, rejection.body_text())
        }
    })?;
    state
        .metrics
        .bytes_received
        .fetch_add(body.len() as u64, Ordering::Relaxed);
    let encoding = headers
        .get(header::CONTENT_ENCODING)
        .map(|v| v.to_str().unwrap_or("?").trim().to_ascii_lowercase());
    let raw = match encoding.as_deref() {
        None | Some("identity") => body.to_vec(),
        Some("gzip") => gunzip_limited(&body, state.config.max_inflated_bytes).map_err(|e| match e {
            DecompressError::TooLarge { limit } => ApiError::new(
                ErrorCode::BodyTooLarge,
                format!("the request body inflates to more than the {limit} bytes this station accepts"),
            ),
            DecompressError::Corrupt(why) => {
                ApiError::new(ErrorCode::MalformedBody, format!("Content-Encoding is gzip but {why}"))
            }
        })?,
        Some(other) => {
            return Err(ApiError::new(
                ErrorCode::UnsupportedEncoding,
                format!("Content-Encoding {other:?} is not supported: use gzip or none"),
            ));
        }
    };
    serde_json::from_slice(&raw).map_err(|e| {
        ApiError::new(
            ErrorCode::MalformedBody,
            format!("the request body is not valid for this endpoint: {e}"),
        )
    })
}

/// A JSON answer, gzip-compressed when the client accepts it.
fn reply<T: Serialize>(headers: &HeaderMap, value: &T) -> Response {
    let json = match serde_json::to_vec(value) {
        Ok(j) => j,
        Err(e) => {
            tracing::error!(error = %e, "could not encode an answer");
            return ApiError::new(ErrorCode::Internal, "could not encode the answer")
                .into_response();
        }
    };
    let gzip_ok = headers
        .get(header::ACCEPT_ENCODING)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.split(',').any(|p| p.trim().starts_with("gzip")));
    let mut response = if gzip_ok {
        let mut r = gzip(&json).into_response();
        r.headers_mut()
            .insert(header::CONTENT_ENCODING, HeaderValue::from_static("gzip"));
        r
    } else {
        json.into_response()
    };
    response.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/json"),
    );
    response
}

async fn authenticate(state: &AppState, headers: &HeaderMap) -> ApiResult<DeviceRecord> {
    let token = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "))
        .map(str::trim)
        .ok_or_else(|| {
            ApiError::new(
                ErrorCode::Unauthorized,
                "missing credential: send Authorization: Bearer <device token> (enroll the device first)",
            )
        })?;
    state
        .storage
        .device_by_token(&auth::token_hash(token))
        .await?
        .ok_or_else(|| {
            ApiError::new(
                ErrorCode::Unauthorized,
                "this device is not enrolled at this station, or it was revoked; ask the station administrator",
            )
        })
}

fn clock(state: &AppState, client: &ClientInfo) -> StationClock {
    StationClock::compare(
        Utc::now(),
        client.device_time,
        state.config.clock_skew_bound_secs.saturating_mul(1000),
    )
}

fn versions(client: &ClientInfo) -> ApiResult<()> {
    check_versions(client).map_err(ApiError)
}

fn finish(state: &AppState, route: &'static str, result: ApiResult<Response>) -> Response {
    let response = result.unwrap_or_else(IntoResponse::into_response);
    state.metrics.count(route, response.status());
    response
}

async fn healthz(State(state): State<Arc<AppState>>) -> Response {
    let result = match state.storage.ping().await {
        Ok(()) => Ok(axum::Json(serde_json::json!({"status": "ok"})).into_response()),
        Err(e) => Err(ApiError::from(e)),
    };
    finish(&state, "healthz", result)
}

async fn enroll(
    State(state): State<Arc<AppState>>,
    headers: HeaderMap,
    body: Result<Bytes, BytesRejection>,
) -> Response {
    let result = async {
        let req: EnrollRequest = decode(&state, &headers, body)?;
        versions(&req.client)?;
        let token = auth::new_token();
        let now = Utc::now();
        let device = state
            .storage
            .redeem_enrollment(&auth::enrollment_code_hash(&req.code), req.device_id, &auth::token_hash(&token), now)
            .await?
            .ok_or_else(|| {
                ApiError::new(
                    ErrorCode::EnrollmentRefused,
                    "the enrollment code is unknown, already used or expired (or this device is already enrolled); \
                     ask the station administrator for a new code",
                )
            })?;
        tracing::info!(device_id = %device.device_id, name = %device.name, "device enrolled");
        Ok(reply(
            &headers,
            &EnrollResponse {
                device_id: device.device_id,
                device_name: device.name,
                token,
                station_id: state.storage.station_id().await?,
                clock: clock(&state, &req.client),
            },
        ))
    }
    .await;
    finish(&state, "enroll", result)
}

async fn push(
    State(state): State<Arc<AppState>>,
    headers: HeaderMap,
    body: Result<Bytes, BytesRejection>,
) -> Response {
    let result = async {
        let device = authenticate(&state, &headers).await?;
        let req: PushRequest = decode(&state, &headers, body)?;
        versions(&req.client)?;
        let outcome = match state.storage.push(device.device_id, req.entries, Utc::now(), crate::validate::Policy::of(&state.config)).await {
            Ok(o) => o,
            Err(e) => {
                match &e {
                    StorageError::Refused(Refusal::Conflict { seq }) => {
                        state.metrics.sequence_conflicts.fetch_add(1, Ordering::Relaxed);
                        tracing::error!(device_id = %device.device_id, device = %device.name, seq,
                            "SEQUENCE CONFLICT: the device sent different content for a seq the station already holds; \
                             it has probably lost data and reused numbers. Batch refused.");
                    }
                    StorageError::Refused(Refusal::Gap { first, expected }) => {
                        state.metrics.sequence_gaps.fetch_add(1, Ordering::Relaxed);
                        tracing::warn!(device_id = %device.device_id, first, expected, "push refused: sequence gap");
                    }
                    StorageError::Refused(Refusal::Entry(refused)) => {
                        state.metrics.count_refusal(&refused.reason.code);
                        tracing::warn!(device_id = %device.device_id, device = %device.name, seq = refused.seq,
                            entity = refused.entity.as_str(), id = %refused.entity_id, reason = %refused.reason,
                            "push refused: an entry failed the station's checks; nothing written");
                    }
                    _ => {}
                }
                return Err(e.into());
            }
        };
        if outcome.stored == 0 {
            state.metrics.batches_resent.fetch_add(1, Ordering::Relaxed);
        }
        state
            .metrics
            .entries_stored
            .fetch_add(u64::from(outcome.stored), Ordering::Relaxed);
        Ok(reply(
            &headers,
            &PushResponse {
                held_seq: outcome.held_seq,
                stored: outcome.stored,
                clock: clock(&state, &req.client),
            },
        ))
    }
    .await;
    finish(&state, "push", result)
}

async fn pull(
    State(state): State<Arc<AppState>>,
    headers: HeaderMap,
    body: Result<Bytes, BytesRejection>,
) -> Response {
    let result = async {
        let device = authenticate(&state, &headers).await?;
        let req: PullRequest = decode(&state, &headers, body)?;
        versions(&req.client)?;
        if req.limit == 0 || req.limit > MAX_PULL_PAGE {
            return Err(ApiError::new(
                ErrorCode::MalformedBody,
                format!(
                    "limit is {} but must be between 1 and {MAX_PULL_PAGE}",
                    req.limit
                ),
            ));
        }
        let now = Utc::now();
        let lease = match (&state.lease, req.unused_dins) {
            (Some(policy), Some(unused)) => Some(LeaseNeed {
                policy: policy.clone(),
                unused,
                year: nominal_year(now),
                now,
            }),
            _ => None,
        };
        let page = state
            .storage
            .pull(device.device_id, req.after, req.limit, lease)
            .await?;
        state
            .metrics
            .records_pulled
            .fetch_add(page.records.len() as u64, Ordering::Relaxed);
        Ok(reply(
            &headers,
            &PullResponse {
                records: page.records,
                cursor: page.cursor,
                more: page.more,
                clock: clock(&state, &req.client),
            },
        ))
    }
    .await;
    finish(&state, "pull", result)
}

async fn status(
    State(state): State<Arc<AppState>>,
    headers: HeaderMap,
    body: Result<Bytes, BytesRejection>,
) -> Response {
    let result = async {
        let device = authenticate(&state, &headers).await?;
        let client: ClientInfo = decode(&state, &headers, body)?;
        versions(&client)?;
        Ok(reply(
            &headers,
            &DeviceStatus {
                device_id: device.device_id,
                device_name: device.name,
                held_seq: device.held_seq,
                clock: clock(&state, &client),
            },
        ))
    }
    .await;
    finish(&state, "status", result)
}

/// The ISBT 128 nominal year: the year of the collection date where the drives work.
fn nominal_year(now: chrono::DateTime<Utc>) -> u8 {
    use chrono::Datelike;
    (lifebridge_domain::china_date(now).year().rem_euclid(100)) as u8
}

async fn metrics(State(state): State<Arc<AppState>>) -> Response {
    use std::fmt::Write;
    let m = &state.metrics;
    let mut out = String::new();
    let _ = writeln!(
        out,
        "# HELP lifebridge_http_requests_total HTTP requests by route and status."
    );
    let _ = writeln!(out, "# TYPE lifebridge_http_requests_total counter");
    if let Ok(requests) = m.requests.lock() {
        for ((route, status), n) in requests.iter() {
            let _ = writeln!(
                out,
                "lifebridge_http_requests_total{{route=\"{route}\",status=\"{status}\"}} {n}"
            );
        }
    }
    for (name, help, v) in [
        (
            "lifebridge_push_entries_stored_total",
            "Change-log entries newly stored.",
            m.entries_stored.load(Ordering::Relaxed),
        ),
        (
            "lifebridge_push_batches_resent_total",
            "Push batches the station already held entirely.",
            m.batches_resent.load(Ordering::Relaxed),
        ),
        (
            "lifebridge_push_sequence_gaps_total",
            "Push batches refused for a sequence gap.",
            m.sequence_gaps.load(Ordering::Relaxed),
        ),
        (
            "lifebridge_push_sequence_conflicts_total",
            "Push batches refused because a held seq came with other content.",
            m.sequence_conflicts.load(Ordering::Relaxed),
        ),
        (
            "lifebridge_pull_records_total",
            "Records sent to devices.",
            m.records_pulled.load(Ordering::Relaxed),
        ),
        (
            "lifebridge_request_body_bytes_total",
            "Request body bytes received (as sent, compressed).",
            m.bytes_received.load(Ordering::Relaxed),
        ),
    ] {
        let _ = writeln!(
            out,
            "# HELP {name} {help}\n# TYPE {name} counter\n{name} {v}"
        );
    }
    m.write_refusals(&mut out);
    if let Ok(c) = state.storage.counts().await {
        for (name, help, v) in [
            (
                "lifebridge_devices",
                "Enrolled devices not revoked.",
                c.devices,
            ),
            (
                "lifebridge_devices_revoked",
                "Revoked devices.",
                c.revoked_devices,
            ),
            (
                "lifebridge_change_entries",
                "Change-log entries held.",
                c.change_entries,
            ),
            (
                "lifebridge_feed_records",
                "Records in the station's change sequence.",
                c.feed_records,
            ),
            ("lifebridge_donors", "Donors held (merged).", c.donors),
            ("lifebridge_din_leases", "DIN ranges leased.", c.din_leases),
        ] {
            let _ = writeln!(out, "# HELP {name} {help}\n# TYPE {name} gauge\n{name} {v}");
        }
    }
    let mut response = out.into_response();
    response.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("text/plain; version=0.0.4"),
    );
    response
}

/// Where a started station listens, and how to stop it.
pub struct RunningStation {
    pub addr: SocketAddr,
    pub tls: bool,
    shutdown: Option<tokio::sync::oneshot::Sender<()>>,
    task: tokio::task::JoinHandle<std::io::Result<()>>,
}

impl RunningStation {
    pub fn base_url(&self) -> String {
        format!(
            "{}://{}",
            if self.tls { "https" } else { "http" },
            self.addr
        )
    }

    /// Stops accepting connections, lets requests in progress finish, and waits.
    pub async fn stop(mut self) -> std::io::Result<()> {
        if let Some(tx) = self.shutdown.take() {
            let _ = tx.send(());
        }
        self.task
            .await
            .map_err(|e| std::io::Error::other(e.to_string()))?
    }

    /// Serves until `signal` completes (then stops gracefully) or the server fails.
    pub async fn serve_until(
        mut self,
        signal: impl std::future::Future<Output = ()>,
    ) -> std::io::Result<()> {
        let ended = tokio::select! {
            r = &mut self.task => Some(r),
            () = signal => None,
        };
        match ended {
            Some(r) => r.map_err(|e| std::io::Error::other(e.to_string()))?,
            None => self.stop().await,
        }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum StartError {
    #[error(transparent)]
    Config(#[from] crate::config::ConfigError),
    #[error("cannot listen on {addr}: {source}")]
    Bind {
        addr: SocketAddr,
        source: std::io::Error,
    },
    #[error("TLS: {0}")]
    Tls(String),
    #[error(transparent)]
    Storage(#[from] StorageError),
}

/// Starts serving `storage` as configured; returns once the socket is bound.
pub async fn start(
    config: Config,
    storage: Arc<dyn Storage>,
) -> Result<RunningStation, StartError> {
    config.validate()?;
    let lease = match &config.din {
        Some(din) => Some(LeasePolicy {
            facility: din
                .facility
                .parse()
                .map_err(
                    |e: lifebridge_domain::DinError| crate::config::ConfigError::Invalid {
                        field: "din.facility",
                        problem: e.to_string(),
                    },
                )?,
            reserve: din.reserve,
            lease_size: din.lease_size,
            start_sequence: din.start_sequence,
        }),
        None => None,
    };
    storage.ping().await?;
    let listener =
        std::net::TcpListener::bind(config.listen).map_err(|source| StartError::Bind {
            addr: config.listen,
            source,
        })?;
    listener
        .set_nonblocking(true)
        .map_err(|source| StartError::Bind {
            addr: config.listen,
            source,
        })?;
    let addr = listener.local_addr().map_err(|source| StartError::Bind {
        addr: config.listen,
        source,
    })?;
    let tls = config.tls.clone();
    let is_tls = tls.is_some();
    let state = Arc::new(AppState {
        storage,
        config,
        lease,
        metrics: Metrics::default(),
    });
    let app = router(state);
    let (tx, rx) = tokio::sync::oneshot::channel::<()>();
    let task = match tls {
        None => {
            let listener = tokio::net::TcpListener::from_std(listener)
                .map_err(|source| StartError::Bind { addr, source })?;
            tokio::spawn(async move {
                axum::serve(listener, app)
                    .with_graceful_shutdown(async move {
                        let _ = rx.await;
                    })
                    .await
            })
        }
        Some(tls) => {
            let rustls = crate::tls::server_config(&tls.cert, &tls.key).map_err(StartError::Tls)?;
            let handle = axum_server::Handle::new();
            let h = handle.clone();
            tokio::spawn(async move {
                let _ = rx.await;
                h.graceful_shutdown(Some(std::time::Duration::from_secs(10)));
            });
            let server = axum_server::from_tcp_rustls(
                listener,
                axum_server::tls_rustls::RustlsConfig::from_config(rustls),
            )
            .map_err(|source| StartError::Bind { addr, source })?
            .handle(handle);
            tokio::spawn(async move { server.serve(app.into_make_service()).await })
        }
    };
    tracing::info!(%addr, "station listening");
    Ok(RunningStation {
        addr,
        tls: is_tls,
        shutdown: Some(tx),
        task,
    })
}
