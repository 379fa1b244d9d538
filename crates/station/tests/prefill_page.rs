//! `/prefill`, the donor's pre-fill page: one self-contained document that carries the
//! station's current questionnaire (or the built-in one) and nothing that would make the
//! browser load anything or send anything. Its behaviour in a browser — filling it in, the
//! QR, the saved copy offline — is tests/desk/prefill.test.mjs.
#![allow(clippy::unwrap_used)]

mod common;

use chrono::Utc;
use common::{Backend, start};
use serde_json::Value;

async fn get_page(url: &str) -> (reqwest::header::HeaderMap, String) {
    // reqwest is built without a default TLS provider; loopback HTTP needs none, but
    // the builder insists on one being installed.
    let _ = rustls::crypto::ring::default_provider().install_default();
    let res = reqwest::Client::new()
        .get(format!("{url}/prefill"))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    let headers = res.headers().clone();
    (headers, res.text().await.unwrap())
}

/// The JSON inlined in `<script id="{id}" type="application/json">`.
fn inlined(html: &str, id: &str) -> Value {
    let open = format!("<script id=\"{id}\" type=\"application/json\">");
    let start = html.find(&open).unwrap() + open.len();
    let len = html[start..].find("</script>").unwrap();
    serde_json::from_str(&html[start..start + len]).unwrap()
}

#[tokio::test]
async fn the_page_carries_everything_and_loads_nothing() {
    let ts = start(Backend::Sqlite, None).await.unwrap();
    let (headers, html) = get_page(&ts.url()).await;
    assert!(
        headers[reqwest::header::CONTENT_TYPE]
            .to_str()
            .unwrap()
            .starts_with("text/html")
    );
    // The browser itself refuses any load or connection the page might attempt.
    let csp = headers[reqwest::header::CONTENT_SECURITY_POLICY]
        .to_str()
        .unwrap();
    assert!(csp.contains("default-src 'none'") && csp.contains("connect-src 'none'"));
    // The same policy travels inside the document, for the copy saved on the phone.
    assert!(html.contains(&format!(
        "<meta http-equiv=\"Content-Security-Policy\" content=\"{csp}\">"
    )));

    // Before any is published: the built-in questionnaire.
    let q = inlined(&html, "questionnaire");
    assert_eq!(
        q,
        serde_json::from_str::<Value>(lifebridge_domain::questionnaire::BUILT_IN_JSON).unwrap()
    );
    // The page's refusals, from the catalogue, in both languages.
    let messages = inlined(&html, "messages");
    let check = &messages["prefill_page.resident_id_check"];
    assert!(check["zh-CN"].is_string() && check["en"].is_string());
    assert!(
        messages.get("receiving.wrong_pin").is_none(),
        "only the page's own"
    );

    // Self-contained: no attribute that loads anything, no API that sends anything.
    for loads in [" src=", " href=", "<link", "@import", "url("] {
        assert!(!html.contains(loads), "the page holds {loads:?}");
    }
    for sends in [
        "fetch(",
        "XMLHttpRequest",
        "WebSocket",
        "sendBeacon",
        "EventSource",
        "import(",
        ".submit(",
        "<form",
    ] {
        assert!(!html.contains(sends), "the page holds {sends:?}");
    }
    // The QR encoder is the vendored one, with its licence.
    assert!(html.contains("QR Code Generator for JavaScript"));
    assert!(html.contains("Licensed under the MIT license"));
}

#[tokio::test]
async fn the_page_offers_the_questionnaire_the_station_published() {
    the_published_questionnaire(Backend::Sqlite).await;
}

#[tokio::test]
async fn the_page_offers_the_questionnaire_the_station_published_postgres() {
    the_published_questionnaire(Backend::Postgres).await;
}

async fn the_published_questionnaire(backend: Backend) {
    let Some(ts) = start(backend, None).await else {
        return;
    };
    let mut q: Value =
        serde_json::from_str(lifebridge_domain::questionnaire::BUILT_IN_JSON).unwrap();
    q["version"] = "GB18467-2011-Q2".into();
    // Text a questionnaire carries cannot end the script element it is inlined in.
    q["intro"]["en"] = "Answer truthfully. </script><script>alert(1)</script>".into();
    ts.storage
        .publish_reference("questionnaire", "GB18467-2011-Q2", &q, Utc::now())
        .await
        .unwrap();
    let (_, html) = get_page(&ts.url()).await;
    assert!(!html.contains("</script><script>alert(1)"));
    let shown = inlined(&html, "questionnaire");
    assert_eq!(shown["version"], "GB18467-2011-Q2");
    assert_eq!(shown, q);

    // A published document the page cannot render: the built-in one, not a broken page.
    let broken = serde_json::json!({"version": "BROKEN-1", "sections": "none"});
    ts.storage
        .publish_reference(
            "questionnaire",
            "BROKEN-1",
            &broken,
            Utc::now() + chrono::Duration::seconds(1),
        )
        .await
        .unwrap();
    let (_, html) = get_page(&ts.url()).await;
    assert_eq!(
        inlined(&html, "questionnaire")["version"],
        serde_json::from_str::<Value>(lifebridge_domain::questionnaire::BUILT_IN_JSON).unwrap()["version"]
    );
}

/// On the bus, the hub serves the page with the questionnaire its station published: a
/// donor who saved no copy can still open it from the bus's network.
#[tokio::test]
async fn a_hub_serves_the_page_with_its_stations_questionnaire() {
    let station = start(Backend::Sqlite, None).await.unwrap();
    let mut q: Value =
        serde_json::from_str(lifebridge_domain::questionnaire::BUILT_IN_JSON).unwrap();
    q["version"] = "GB18467-2011-Q3".into();
    station
        .storage
        .publish_reference("questionnaire", "GB18467-2011-Q3", &q, Utc::now())
        .await
        .unwrap();
    let (hub, relay) = common::linked_hub(&station, "BUS-HUB", None).await;
    relay.round().await.unwrap();
    let (_, html) = get_page(&hub.url()).await;
    assert_eq!(
        inlined(&html, "questionnaire")["version"],
        "GB18467-2011-Q3"
    );
}
