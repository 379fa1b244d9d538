//! A bus hub's requests for its tablets (issue 10, docs/api.md "Bus hubs"): a hub is
//! enrolled here like a device but of kind hub; it registers each tablet that enrolled
//! with it (`POST /v1/hub/tablets`) and then relays that tablet's pushes and status
//! requests with its own token and the header [`RELAY_FOR_HEADER`] naming the tablet.
//! Such a request runs exactly as the tablet's own: [`acting_for`] hands the handler the
//! tablet's device row, so every check, the held seq and exactly-once are the tablet's.

use std::sync::Arc;

use axum::Extension;
use axum::body::Bytes;
use axum::extract::rejection::BytesRejection;
use axum::extract::{Request, State};
use axum::http::HeaderMap;
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use chrono::Utc;
use lifebridge_domain::messages::{Lang, Message};
use lifebridge_protocol::wire::{
    ErrorCode, RELAY_FOR_HEADER, RegisterTabletRequest, RegisterTabletResponse,
};
use uuid::Uuid;

use crate::devices::{DeviceKind, DeviceRecord, hub_refusal};
use crate::server::{ApiError, clock, decode, finish, reply, versions};
use crate::state::AppState;

/// The routes a hub may relay on; the header anywhere else is refused ([`only_where_relayed`]).
pub const RELAYED_ROUTES: [&str; 2] = ["/v1/push", "/v1/status"];

/// The longest tablet name a hub may register (as `device enroll --name`).
const MAX_NAME_CHARS: usize = 64;

fn refused(code: ErrorCode, message: Message) -> ApiError {
    // Logs and scripts read the English; the code is the catalogue's.
    ApiError(lifebridge_protocol::wire::ErrorBody::new(
        code,
        message.render(Lang::En),
    ))
}

/// The tablet the header names, if it is present: 400 when it is not one device id.
fn relayed_tablet(headers: &HeaderMap) -> Result<Option<Uuid>, ApiError> {
    let mut values = headers.get_all(RELAY_FOR_HEADER).iter();
    let Some(value) = values.next() else {
        return Ok(None);
    };
    let text = value.to_str().unwrap_or("");
    let parsed = Uuid::parse_str(text.trim()).ok();
    match parsed {
        Some(tablet) if values.next().is_none() => Ok(Some(tablet)),
        _ => Err(refused(
            ErrorCode::MalformedBody,
            Message::new("relay_header.malformed")
                .with("header", RELAY_FOR_HEADER)
                .with(
                    "value",
                    String::from_utf8_lossy(value.as_bytes()).into_owned(),
                ),
        )),
    }
}

/// Every route: the relay header is accepted on [`RELAYED_ROUTES`] only (400 elsewhere,
/// before anything is read or written).
pub async fn only_where_relayed(req: Request, next: Next) -> Response {
    let path = req.uri().path();
    if req.headers().contains_key(RELAY_FOR_HEADER) && !RELAYED_ROUTES.contains(&path) {
        return refused(
            ErrorCode::MalformedBody,
            Message::new("relay_header.wrong_route")
                .with("header", RELAY_FOR_HEADER)
                .with("path", path.to_owned()),
        )
        .into_response();
    }
    next.run(req).await
}

/// Who a device request acts as: the caller itself, or — with the relay header — the
/// tablet it names, when the caller is a hub and the tablet is registered through it and
/// not revoked (403 `relay_refused` otherwise).
pub async fn acting_for(
    state: &AppState,
    caller: DeviceRecord,
    headers: &HeaderMap,
) -> Result<DeviceRecord, ApiError> {
    let Some(tablet) = relayed_tablet(headers)? else {
        return Ok(caller);
    };
    if let Some(why) = hub_refusal(&caller) {
        return Err(refused(ErrorCode::RelayRefused, why));
    }
    let why = match state.storage.device(tablet).await? {
        Some(t) if t.revoked_at.is_some() => Message::new("relay_refused.tablet_revoked")
            .with("tablet", tablet.to_string())
            .with("name", t.name),
        Some(t) if t.via_hub == Some(caller.device_id) => {
            tracing::debug!(hub = %caller.device_id, %tablet, "relayed request");
            return Ok(t);
        }
        _ => Message::new("relay_refused.not_registered")
            .with("tablet", tablet.to_string())
            .with("hub", caller.name.clone()),
    };
    tracing::warn!(hub = %caller.device_id, hub_name = %caller.name, %tablet,
        code = %why.code, "relay refused");
    Err(refused(ErrorCode::RelayRefused, why))
}

/// A credential that failed authentication: when it is a revoked hub's and it asked to
/// act as a hub (relay or register), 403 saying the hub was revoked, else `original`.
pub async fn revoked_hub_or(
    state: &AppState,
    headers: &HeaderMap,
    path: &str,
    original: ApiError,
) -> ApiError {
    let as_hub = path == "/v1/hub/tablets" || headers.contains_key(RELAY_FOR_HEADER);
    let Some(token) = crate::server::bearer(headers).filter(|_| as_hub) else {
        return original;
    };
    match state
        .storage
        .device_by_token_even_revoked(&crate::auth::token_hash(token))
        .await
    {
        Ok(Some(hub)) if hub.kind == DeviceKind::Hub => match hub_refusal(&hub) {
            Some(why) => refused(ErrorCode::RelayRefused, why),
            None => original,
        },
        _ => original,
    }
}

/// `POST /v1/hub/tablets`: the calling hub registers a tablet that enrolled with it and
/// learns the tablet's held seq ([`crate::devices::register_tablet`]).
pub async fn register_tablet(
    State(state): State<Arc<AppState>>,
    Extension(hub): Extension<DeviceRecord>,
    headers: HeaderMap,
    body: Result<Bytes, BytesRejection>,
) -> Response {
    let result = async {
        let req: RegisterTabletRequest = decode(&state, &headers, body)?;
        versions(&req.client)?;
        if let Some(why) = hub_refusal(&hub) {
            return Err(refused(ErrorCode::RelayRefused, why));
        }
        let name = req.device_name.trim();
        if name.is_empty() || name.chars().count() > MAX_NAME_CHARS {
            return Err(refused(
                ErrorCode::MalformedBody,
                Message::new("relay_refused.tablet_name").with("max", MAX_NAME_CHARS.to_string()),
            ));
        }
        let tablet = state
            .storage
            .register_tablet(hub.device_id, req.device_id, name, Utc::now())
            .await?
            .map_err(|why| {
                tracing::warn!(hub = %hub.device_id, hub_name = %hub.name, tablet = %req.device_id,
                    code = %why.code, "tablet registration refused");
                refused(ErrorCode::RelayRefused, why)
            })?;
        Ok(reply(
            &headers,
            &RegisterTabletResponse {
                device_id: tablet.device_id,
                held_seq: tablet.held_seq,
                clock: clock(&state, &req.client),
            },
        ))
    }
    .await;
    finish(&state, "hub_tablets", result)
}
