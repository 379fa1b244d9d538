//! `/prefill`: the page a donor opens on their phone before coming to the bus. They
//! enter their identity document, the day they will come and their answers to the
//! current questionnaire, and get a QR (`lifebridge_protocol::prefill_code`) to show at
//! check-in (docs/prefill.md).
//!
//! The page is one self-contained HTML document: its CSS, its JavaScript, the vendored
//! QR encoder, the questionnaire and the catalogue messages it shows are all inlined, so
//! "Save page as…" on a phone keeps one file that works with no network, and the page
//! never sends anything anywhere (no fetch, no external script, font or image). Served
//! without sign-in by `serve` and `hub` alike.

use std::sync::Arc;

use axum::http::header;
use axum::response::{IntoResponse, Response};

use crate::state::AppState;

const HTML: &str = include_str!("../../ui/prefill.html");
const CSS: &str = include_str!("../../ui/prefill.css");
const JS: &str = include_str!("../../ui/prefill.js");
/// qrcode-generator 2.0.4 (Kazuhiko Arase, MIT), as published on npm: a maintained QR
/// encoder rather than a hand-written one.
const QR_JS: &str = include_str!("../../ui/vendor/qrcode.js");

/// Whatever the page would load or send, the browser refuses: the donor's answers cannot
/// leave the phone through it. Sent as a header and, for the saved copy, in a `<meta>`.
const CSP: &str = "default-src 'none'; script-src 'unsafe-inline'; style-src 'unsafe-inline'; img-src data:; connect-src 'none'; form-action 'none'; base-uri 'none'";

/// The catalogue namespace of the messages the page renders (its refusals); only these
/// are inlined.
const PAGE_NAMESPACE: &str = "prefill_page";

pub async fn page(app: Arc<AppState>) -> Response {
    let questionnaire = match app.storage.latest_reference("questionnaire").await {
        Ok(Some(body)) => usable(&body).unwrap_or_else(built_in),
        Ok(None) => built_in(),
        Err(e) => {
            // The page still works with the embedded questionnaire; the donor's code says
            // which version they answered, and the tablet checks it holds that one.
            tracing::warn!(error = %e, "published questionnaire unreadable; the page offers the built-in one");
            built_in()
        }
    };
    (
        [
            (header::CONTENT_TYPE, "text/html; charset=utf-8"),
            (header::CONTENT_SECURITY_POLICY, CSP),
            (header::CACHE_CONTROL, "no-store"),
        ],
        render(&questionnaire),
    )
        .into_response()
}

/// The published questionnaire, if it is one the page can render.
fn usable(body: &str) -> Option<String> {
    match lifebridge_domain::questionnaire::Questionnaire::from_json(body) {
        Ok(_) => Some(body.to_owned()),
        Err(e) => {
            tracing::warn!(error = %e, "published questionnaire invalid; the page offers the built-in one");
            None
        }
    }
}

fn built_in() -> String {
    lifebridge_domain::questionnaire::BUILT_IN_JSON.to_owned()
}

/// The page with everything inlined. JSON goes into `<script type="application/json">`
/// with `<` escaped, so no text in a questionnaire can close the element. The template
/// is walked once, marker by marker in document order, so nothing inserted is searched
/// for a later marker.
pub fn render(questionnaire_json: &str) -> String {
    let messages: serde_json::Map<String, serde_json::Value> =
        serde_json::from_str::<serde_json::Map<String, serde_json::Value>>(
            lifebridge_domain::messages::CATALOGUE_JSON,
        )
        .unwrap_or_default()
        .into_iter()
        .filter(|(code, _)| code.split('.').next() == Some(PAGE_NAMESPACE))
        .collect();
    let messages = serde_json::Value::Object(messages).to_string();
    let parts: [(&str, String); 6] = [
        ("/*csp*/", CSP.to_owned()),
        ("/*prefill.css*/", CSS.to_owned()),
        ("/*questionnaire.json*/", json_in_html(questionnaire_json)),
        ("/*messages.json*/", json_in_html(&messages)),
        ("/*qrcode.js*/", QR_JS.to_owned()),
        ("/*prefill.js*/", JS.to_owned()),
    ];
    let mut out =
        String::with_capacity(HTML.len() + parts.iter().map(|(_, p)| p.len()).sum::<usize>());
    let mut rest = HTML;
    for (marker, part) in &parts {
        if let Some((before, after)) = rest.split_once(marker) {
            out.push_str(before);
            out.push_str(part);
            rest = after;
        }
    }
    out.push_str(rest);
    out
}

fn json_in_html(json: &str) -> String {
    json.replace('<', "\\u003c")
}
