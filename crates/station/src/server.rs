//! The HTTP API (docs/api.md): enrollment, push, pull, status, health and metrics.
//!
//! Every request body is read with a size limit, inflated with a second limit, and
//! parsed into the protocol types; anything else gets a 4xx JSON error and writes
//! nothing. Handlers never panic on input.

use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::Duration;

use axum::Extension;
use axum::Router;
use axum::body::Bytes;
use axum::extract::rejection::BytesRejection;
use axum::extract::{DefaultBodyLimit, Request, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::middleware::{Next, from_fn, from_fn_with_state};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use chrono::Utc;
use lifebridge_protocol::compress::{DecompressError, gunzip_limited, gzip};
use lifebridge_protocol::ingest::Refusal;
use lifebridge_protocol::wire::{
    ClientInfo, DeviceStatus, EVENTS_PATH, EnrollRequest, EnrollResponse, ErrorBody, ErrorCode,
    MAX_PULL_PAGE, PullRequest, PullResponse, PushRequest, PushResponse, StationClock,
    check_versions,
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

/// Largest body a route that is not a device's data takes (enrollment, the desk's
/// forms and manifest QR parts): such a body is read before anyone is known, so it stays
/// small whatever `max_body_bytes` allows pushes.
pub const FORM_BODY_BYTES: usize = 256 * 1024;

pub fn router(state: Arc<AppState>) -> Router {
    let limit = state.config.max_body_bytes;
    // Device data: the body limit is checked from Content-Length, then the credential
    // from the headers, and only then is a body read.
    let devices = Router::new()
        .route("/v1/push", post(push))
        .route("/v1/pull", post(pull))
        .route("/v1/status", post(status))
        .route("/v1/hub/tablets", post(crate::relay::register_tablet))
        .route_layer(from_fn_with_state(state.clone(), require_device))
        .with_state(state.clone())
        .route_layer(from_fn(move |req: Request, next: Next| {
            refuse_oversized(limit, req, next)
        }))
        .layer(DefaultBodyLimit::max(limit));
    let mut forms = Router::new().route("/v1/enroll", post(enroll));
    if state.config.metrics_listen.is_none() {
        // Otherwise served on its own address only (see `start`).
        forms = forms.route("/metrics", get(metrics));
    }
    let forms = forms
        .with_state(state.clone())
        // The receiving desk and statistics pages (crate::desk).
        .merge(crate::desk::api::router(state.clone()))
        .route_layer(from_fn(|req: Request, next: Next| {
            refuse_oversized(FORM_BODY_BYTES, req, next)
        }))
        .layer(DefaultBodyLimit::max(FORM_BODY_BYTES));
    let limits = Arc::new(Limits {
        working: Arc::new(tokio::sync::Semaphore::new(
            state.config.max_concurrent_requests,
        )),
        timeout: Duration::from_secs(state.config.request_timeout_secs),
    });
    let limited = devices
        .merge(forms)
        .layer(from_fn_with_state(limits.clone(), one_of_many));
    // Open for hours and working no database: neither a deadline nor a turn, but a
    // bound of their own (crate::events).
    let events = Router::new()
        .route(EVENTS_PATH, get(crate::events::events))
        .route_layer(from_fn_with_state(state.clone(), require_device))
        .with_state(state.clone());
    // /healthz waits for no other request, so a monitor sees the station while it is
    // busy; every other route has the same deadline.
    Router::new()
        .route("/healthz", get(healthz))
        .with_state(state)
        .merge(limited)
        .fallback(not_found)
        .layer(from_fn(crate::relay::only_where_relayed))
        .layer(from_fn_with_state(limits, deadline))
        .merge(events)
}

/// `/metrics` alone, for the separate address `metrics_listen` names.
pub fn metrics_router(state: Arc<AppState>) -> Router {
    Router::new()
        .route("/metrics", get(metrics))
        .with_state(state)
        .fallback(not_found)
}

async fn not_found() -> ApiError {
    ApiError::new(ErrorCode::NotFound, "no such endpoint; see docs/api.md")
}

/// The request deadline and the count of requests handled at once.
struct Limits {
    working: Arc<tokio::sync::Semaphore>,
    timeout: Duration,
}

/// Answers 503 once a request has taken longer than the configured deadline (its body
/// upload and its wait for a turn included), so a slow client holds nothing for long.
async fn deadline(State(limits): State<Arc<Limits>>, req: Request, next: Next) -> Response {
    match tokio::time::timeout(limits.timeout, next.run(req)).await {
        Ok(response) => response,
        Err(_) => ApiError::new(
            ErrorCode::Unavailable,
            format!(
                "the request took longer than {} seconds; try again (a push that was stored is recognised when resent)",
                limits.timeout.as_secs()
            ),
        )
        .into_response(),
    }
}

/// At most `max_concurrent_requests` requests are worked on at once; the others wait
/// their turn (within the deadline).
async fn one_of_many(State(limits): State<Arc<Limits>>, req: Request, next: Next) -> Response {
    let Ok(_turn) = limits.working.clone().acquire_owned().await else {
        return ApiError::new(ErrorCode::Unavailable, "the station is shutting down")
            .into_response();
    };
    next.run(req).await
}

/// 413 from the declared length, before any byte of the body is read or anyone is
/// authenticated (a body sent without a length is cut off at the limit when read).
async fn refuse_oversized(limit: usize, req: Request, next: Next) -> Response {
    let declared = req
        .headers()
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.trim().parse::<u64>().ok());
    if declared.is_some_and(|n| n > limit as u64) {
        return too_large(limit).into_response();
    }
    next.run(req).await
}

fn too_large(limit: usize) -> ApiError {
    ApiError::new(
        ErrorCode::BodyTooLarge,
        format!(
            "the request body is larger than the {limit} bytes this station accepts here; send smaller batches"
        ),
    )
}

/// Device routes: the device named by the bearer token, found from the headers alone
/// (or the tablet a hub relays for, [`crate::relay::acting_for`]).
async fn require_device(
    State(state): State<Arc<AppState>>,
    mut req: Request,
    next: Next,
) -> Response {
    let acting = match authenticate(&state, req.headers()).await {
        Ok(device) => crate::relay::acting_for(&state, device, req.headers()).await,
        Err(e) => {
            Err(crate::relay::revoked_hub_or(&state, req.headers(), req.uri().path(), e).await)
        }
    };
    match acting {
        Ok(device) => {
            req.extensions_mut().insert(device);
            next.run(req).await
        }
        Err(e) => {
            let route = match req.uri().path() {
                "/v1/push" => "push",
                "/v1/pull" => "pull",
                "/v1/hub/tablets" => "hub_tablets",
                EVENTS_PATH => "events",
                _ => "status",
            };
            finish(&state, route, Err(e))
        }
    }
}

/// Reads, inflates and parses a request body.
pub(crate) fn decode<T: DeserializeOwned>(
    state: &AppState,
    headers: &HeaderMap,
    body: Result<Bytes, BytesRejection>,
) -> ApiResult<T> {
    let body = body.map_err(|rejection| {
        if rejection.status() == StatusCode::PAYLOAD_TOO_LARGE {
            // Sent without a length: cut off at the route's limit (`router`).
            let limit = match headers.get(header::AUTHORIZATION) {
                Some(_) => state.config.max_body_bytes,
                None => FORM_BODY_BYTES,
            };
            too_large(limit)
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
pub(crate) fn reply<T: Serialize>(headers: &HeaderMap, value: &T) -> Response {
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

/// The bearer token a request carries, if any.
pub(crate) fn bearer(headers: &HeaderMap) -> Option<&str> {
    headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "))
        .map(str::trim)
}

async fn authenticate(state: &AppState, headers: &HeaderMap) -> ApiResult<DeviceRecord> {
    let token = bearer(headers).ok_or_else(|| {
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

pub(crate) fn clock(state: &AppState, client: &ClientInfo) -> StationClock {
    StationClock::compare(
        Utc::now(),
        client.device_time,
        state.config.clock_skew_bound_secs.saturating_mul(1000),
    )
}

pub(crate) fn versions(client: &ClientInfo) -> ApiResult<()> {
    check_versions(client).map_err(ApiError)
}

pub(crate) fn finish(
    state: &AppState,
    route: &'static str,
    result: ApiResult<Response>,
) -> Response {
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
    Extension(device): Extension<DeviceRecord>,
    headers: HeaderMap,
    body: Result<Bytes, BytesRejection>,
) -> Response {
    let result = async {
        let req: PushRequest = decode(&state, &headers, body)?;
        versions(&req.client)?;
        let outcome = match state.storage.push(device.device_id, req.entries, req.audit_head.clone(), Utc::now(), crate::validate::Policy::of(&state.config)).await {
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
    Extension(device): Extension<DeviceRecord>,
    headers: HeaderMap,
    body: Result<Bytes, BytesRejection>,
) -> Response {
    let result = async {
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
        // A cursor past what this database handed the device: restored from a backup.
        let after = if req.after > device.pulled_seq {
            state
                .storage
                .resume_pull(
                    device.device_id,
                    req.after,
                    req.leases,
                    state.lease.clone(),
                    now,
                )
                .await?
        } else {
            req.after
        };
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
            .pull(
                device.device_id,
                after,
                crate::feed::PageBound {
                    records: req.limit,
                    bytes: state.config.max_pull_page_bytes,
                },
                lease,
            )
            .await?;
        // Remembered before the page leaves, so a restore can always tell (crate::restore).
        if page.cursor > device.pulled_seq {
            state
                .storage
                .record_pulled(device.device_id, page.cursor)
                .await?;
        }
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
                lease_refused: page.lease_refused,
                held_seq: Some(device.held_seq),
                clock: clock(&state, &req.client),
            },
        ))
    }
    .await;
    finish(&state, "pull", result)
}

async fn status(
    State(state): State<Arc<AppState>>,
    Extension(device): Extension<DeviceRecord>,
    headers: HeaderMap,
    body: Result<Bytes, BytesRejection>,
) -> Response {
    let result = async {
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
pub(crate) fn nominal_year(now: chrono::DateTime<Utc>) -> u8 {
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
    let _ = writeln!(
        out,
        "# HELP lifebridge_event_streams_open /v1/events streams open.\n# TYPE lifebridge_event_streams_open gauge\nlifebridge_event_streams_open {}",
        state.events.open_count(state.config.max_event_streams)
    );
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
    /// Where `/metrics` is served when `metrics_listen` is configured.
    pub metrics_addr: Option<SocketAddr>,
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
    start_with(config, storage, Router::new()).await
}

/// [`start`], also serving `extra` (a hub's page, crate::hub::page).
pub async fn start_with(
    config: Config,
    storage: Arc<dyn Storage>,
    extra: Router,
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
            caps: crate::leases::LeaseCaps {
                max_outstanding: din.max_outstanding,
                max_per_day: din.max_per_day,
            },
        }),
        None => None,
    };
    storage.ping().await?;
    let (listener, addr) = bind(config.listen)?;
    let metrics = config.metrics_listen.map(bind).transpose()?;
    let metrics_addr = metrics.as_ref().map(|(_, a)| *a);
    let tls = config.tls.clone();
    let is_tls = tls.is_some();
    let header_timeout = Duration::from_secs(config.header_read_timeout_secs);
    let state = Arc::new(AppState {
        storage,
        events: crate::events::Streams::new(config.max_event_streams),
        config,
        lease,
        metrics: Metrics::default(),
    });
    let app = router(state.clone())
        .merge(extra)
        .into_make_service_with_connect_info::<SocketAddr>();
    let (tx, rx) = tokio::sync::oneshot::channel::<()>();
    let handle = axum_server::Handle::new();
    let h = handle.clone();
    let stopping = state.clone();
    tokio::spawn(async move {
        let _ = rx.await;
        // Event streams never end by themselves: end them, or the shutdown waits.
        stopping.events.stop();
        h.graceful_shutdown(Some(Duration::from_secs(10)));
    });
    // hyper closes a connection whose request headers do not arrive in time: a client
    // that stalls mid-header holds a socket for that long, never a worker or a turn.
    let main = match tls {
        None => {
            let mut server = axum_server::from_tcp(listener)
                .map_err(|source| StartError::Bind { addr, source })?
                .handle(handle.clone());
            limit_header_read(&mut server, header_timeout);
            tokio::spawn(async move { server.serve(app).await })
        }
        Some(tls) => {
            let rustls = crate::tls::server_config(&tls.cert, &tls.key).map_err(StartError::Tls)?;
            let mut server = axum_server::from_tcp_rustls(
                listener,
                axum_server::tls_rustls::RustlsConfig::from_config(rustls),
            )
            .map_err(|source| StartError::Bind { addr, source })?
            .handle(handle.clone());
            limit_header_read(&mut server, header_timeout);
            tokio::spawn(async move { server.serve(app).await })
        }
    };
    let task = match metrics {
        None => main,
        Some((listener, maddr)) => {
            let mut server = axum_server::from_tcp(listener)
                .map_err(|source| StartError::Bind {
                    addr: maddr,
                    source,
                })?
                .handle(handle);
            limit_header_read(&mut server, header_timeout);
            let app = metrics_router(state).into_make_service();
            let side = tokio::spawn(async move { server.serve(app).await });
            tracing::info!(addr = %maddr, "metrics listening");
            tokio::spawn(async move {
                let (main, side) = tokio::join!(main, side);
                for ended in [main, side] {
                    ended.map_err(|e| std::io::Error::other(e.to_string()))??;
                }
                Ok(())
            })
        }
    };
    tracing::info!(%addr, "station listening");
    Ok(RunningStation {
        addr,
        metrics_addr,
        tls: is_tls,
        shutdown: Some(tx),
        task,
    })
}

fn bind(at: SocketAddr) -> Result<(std::net::TcpListener, SocketAddr), StartError> {
    let err = |source| StartError::Bind { addr: at, source };
    let listener = std::net::TcpListener::bind(at).map_err(err)?;
    listener.set_nonblocking(true).map_err(err)?;
    let addr = listener.local_addr().map_err(err)?;
    Ok((listener, addr))
}

/// hyper closes a connection whose request headers do not arrive within `timeout`; the
/// same for every listener (plain, TLS, metrics).
fn limit_header_read<Acc>(server: &mut axum_server::Server<SocketAddr, Acc>, timeout: Duration) {
    server.http_builder().http1().header_read_timeout(timeout);
}
