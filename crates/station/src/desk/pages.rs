//! The receiving desk and statistics pages: plain HTML, CSS and JavaScript embedded in
//! the binary (crates/station/ui). No build step, so the station compiles and serves its
//! pages without Node, and a station PC needs nothing but a browser.

use axum::extract::Path;
use axum::http::{StatusCode, header};
use axum::response::{Html, IntoResponse, Response};

const DESK_HTML: &str = include_str!("../../ui/desk.html");
const STATS_HTML: &str = include_str!("../../ui/stats.html");
const DESK_JS: &str = include_str!("../../ui/desk.js");
const STATS_JS: &str = include_str!("../../ui/stats.js");
const I18N_JS: &str = include_str!("../../ui/i18n.js");
const HUB_JS: &str = include_str!("../../ui/hub.js");
const CSS: &str = include_str!("../../ui/desk.css");

pub async fn desk_page() -> Html<&'static str> {
    Html(DESK_HTML)
}

pub async fn stats_page() -> Html<&'static str> {
    Html(STATS_HTML)
}

pub async fn asset(Path(file): Path<String>) -> Response {
    let (body, kind) = match file.as_str() {
        "desk.js" => (DESK_JS, "text/javascript; charset=utf-8"),
        "stats.js" => (STATS_JS, "text/javascript; charset=utf-8"),
        "i18n.js" => (I18N_JS, "text/javascript; charset=utf-8"),
        "hub.js" => (HUB_JS, "text/javascript; charset=utf-8"),
        "desk.css" => (CSS, "text/css; charset=utf-8"),
        // The one message catalogue, which the pages render server messages from.
        "messages.json" => (
            lifebridge_domain::messages::CATALOGUE_JSON,
            "application/json; charset=utf-8",
        ),
        _ => return (StatusCode::NOT_FOUND, "no such file").into_response(),
    };
    ([(header::CONTENT_TYPE, kind)], body).into_response()
}
