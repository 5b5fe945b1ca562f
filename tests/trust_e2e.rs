//! Trust in a real browser (docs/security.md): only the chatbot's allowed sites can frame the
//! chat page (`frame-ancestors`, enforced by the browser whatever the page claims); the chat
//! page runs under its strict CSP with nothing blocked, and anything that would run script
//! outside it is blocked and reported; the seed's own browser client (`fetchEventSource`,
//! pasted from seed 002) streams an answer from a page on an allowed site, and another site's
//! page gets nothing.
//!
//! The other sites are a second small server in the test, reached as `localhost` (allowed) or
//! `127.0.0.1` (not allowed: the chatbot here allows `http://localhost:*` only).

mod support;

use dgbot_server::core::store::ConversationStore as _;
use std::time::Duration;

use axum::extract::{Path, State};
use axum::http::header;
use axum::response::{Html, IntoResponse};
use fantoccini::Locator;
use serde_json::{Value, json};
use support::{Harness, Options};

/// A second site: `/page.html` is `html`; `/fes/{file}` is the `@microsoft/fetch-event-source`
/// ES module build (its imports name files without `.js`, as a bundler would resolve them).
async fn other_site(html: String) -> u16 {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    let app = axum::Router::new()
        .route(
            "/page.html",
            axum::routing::get(|State(html): State<String>| async move { Html(html) }),
        )
        .route("/fes/{file}", axum::routing::get(fetch_event_source))
        .with_state(html);
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    port
}

async fn fetch_event_source(Path(file): Path<String>) -> axum::response::Response {
    let dir = std::env::var_os("DGBOT_SEED_CLIENTS")
        .map(std::path::PathBuf::from)
        .unwrap_or_else(|| support::repo_root().join("target/tools/seed-clients/node_modules"))
        .join("@microsoft/fetch-event-source/lib/esm");
    let name = if file.ends_with(".js") {
        file
    } else {
        format!("{file}.js")
    };
    if !name.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'.') {
        return axum::http::StatusCode::NOT_FOUND.into_response();
    }
    match std::fs::read(dir.join(&name)) {
        Ok(js) => ([(header::CONTENT_TYPE, "text/javascript")], js).into_response(),
        Err(e) => panic!(
            "{}: {e}; `cargo xtask setup` installs @microsoft/fetch-event-source",
            dir.join(&name).display()
        ),
    }
}

async fn start_localhost_only() -> Harness {
    Harness::start_full(
        |_| {},
        |bot| bot.allowed_origins = vec!["http://localhost:*".into()],
        Options::default(),
    )
    .await
}

#[tokio::test]
async fn only_the_chatbots_sites_can_frame_the_chat_page() {
    let mut h = start_localhost_only().await;
    // A page that frames the chat page directly and says it is `http://localhost:PORT` (`host=`),
    // as anyone could in a browser without `ancestorOrigins`. Opened on `localhost`, that is
    // true (an allowed site); opened on `127.0.0.1`, it is a lie.
    let port = other_site(format!(
        "<!doctype html><title>Framer</title><script>
         const f = document.createElement('iframe'); f.id = 'chat';
         f.style.cssText = 'width:400px;height:600px';
         f.src = '{}/chat/?chatbot_id=demo-shop&host=' + encodeURIComponent('http://localhost:' + location.port);
         document.documentElement.append(f);</script>",
        h.widget_base
    ))
    .await;
    // On an allowed site, the chat comes up.
    h.client
        .goto(&format!("http://localhost:{port}/page.html"))
        .await
        .unwrap();
    h.client
        .wait()
        .for_element(Locator::Id("chat"))
        .await
        .unwrap()
        .enter_frame()
        .await
        .unwrap();
    h.wait_css(support::pages::widget::COMPOSER).await;
    h.client.enter_parent_frame().await.unwrap();

    // On another site, claiming to be the allowed one, the browser refuses to render it: the
    // frame holds Chromium's error page, not ours, and the refusal is reported to us.
    h.client
        .goto(&format!("http://127.0.0.1:{port}/page.html"))
        .await
        .unwrap();
    tokio::time::sleep(Duration::from_millis(1500)).await;
    h.client
        .find(Locator::Id("chat"))
        .await
        .unwrap()
        .enter_frame()
        .await
        .unwrap();
    let inside = h
        .js(
            "return [location.href, document.querySelectorAll('[data-testid=composer]').length];",
            vec![],
        )
        .await;
    assert_eq!(
        inside[1], 0,
        "the chat page rendered in a foreign frame: {inside}"
    );
    assert!(
        inside[0].as_str().unwrap().starts_with("chrome-error:"),
        "{inside}"
    );
    h.client.enter_parent_frame().await.unwrap();
    let reports = h
        .eventually("the frame-ancestors report", || {
            let reports = h.state.csp_reports.lock().unwrap().clone();
            async move { (!reports.is_empty()).then_some(reports) }
        })
        .await;
    assert!(
        reports.iter().all(|r| r.contains("frame-ancestors")),
        "{reports:#?}"
    );
    h.take_csp_reports();

    // The loader's floating and inline embeds on the allowed host page still work.
    for page in ["/demo/", "/demo/inline.html"] {
        h.goto(page).await;
        if page == "/demo/" {
            h.launcher().await.click().await.unwrap();
            h.enter_chat().await;
        } else {
            h.client
                .find(Locator::Css("iframe"))
                .await
                .unwrap()
                .enter_frame()
                .await
                .unwrap();
        }
        h.ask("What are your opening hours?").await;
        assert!(!h.finished_answer().await.is_empty());
        h.client.enter_parent_frame().await.unwrap();
    }
    h.finish().await;
}

#[tokio::test]
async fn the_chat_page_runs_under_its_policy_and_anything_else_is_blocked() {
    let mut h = Harness::start().await;
    // The page's own headers, read from its origin.
    h.client
        .goto(&format!("{}/widget.js", h.widget_base))
        .await
        .unwrap();
    let csp = h
        .js(
            "return fetch('/chat/?chatbot_id=demo-shop').then(r => r.headers.get('content-security-policy'));",
            vec![],
        )
        .await;
    let csp = csp.as_str().unwrap();
    assert!(
        csp.contains("'wasm-unsafe-eval'") && !csp.contains("unsafe-inline"),
        "{csp}"
    );

    // The chat works under it: the answer streams, the theme colours (set through the CSSOM)
    // apply, and no report has come in (`finish` checks again at the end).
    h.open_chat().await;
    h.ask("What are your opening hours?").await;
    assert!(!h.finished_answer().await.is_empty());
    let primary = h
        .js(
            "return getComputedStyle(document.querySelector('.chat')).getPropertyValue('--dg-primary').trim();",
            vec![],
        )
        .await;
    let want = h
        .state
        .core
        .chatbot("demo-shop")
        .unwrap()
        .config
        .theme
        .primary_color
        .clone();
    assert_eq!(
        primary.as_str().unwrap().to_lowercase(),
        want.to_lowercase()
    );
    assert!(h.take_csp_reports().is_empty());

    // Script that does not come from the page itself is blocked and reported: an injected
    // inline script, an event handler attribute, a `javascript:` URL.
    let ran = h
        .js(
            "window.__pwned = 0;
             const s = document.createElement('script'); s.textContent = 'window.__pwned = 1';
             document.head.appendChild(s);
             const img = document.createElement('img'); img.setAttribute('onerror', 'window.__pwned = 2');
             img.src = 'data:,x'; document.body.appendChild(img);
             const a = document.createElement('a'); a.href = 'javascript:window.__pwned=3'; document.body.appendChild(a); a.click();
             return new Promise(r => setTimeout(() => r(window.__pwned), 300));",
            vec![],
        )
        .await;
    assert_eq!(ran, json!(0), "script ran in the chat page");
    h.eventually("the reports", || {
        let n = h.state.csp_reports.lock().unwrap().len();
        async move { (n >= 3).then_some(()) }
    })
    .await;
    let reports = h.take_csp_reports();
    assert!(
        reports.iter().all(|r| r.contains("script-src")),
        "{reports:#?}"
    );
    h.finish().await;
}

/// Seed 002's "Example: consume the message stream", unchanged but for the host name and the
/// token (the site's backend got it from `/auth`); the page defines the functions it calls.
const SEED_CLIENT: &str = r#"<!doctype html><meta charset="utf-8"><title>Shop</title>
<script type="module">
import { fetchEventSource } from "/fes/index.js";
const token = "{{TOKEN}}";
window.__stream = { status: [], deltas: 0, parts: [], done: null, errors: [] };
// A plain call first: readable from an allowed site, blocked by the browser on any other.
window.__plain = await fetch("{{API}}/api/v1/chat/config", { headers: { Authorization: `Bearer ${token}` } })
  .then((r) => r.status, (e) => "blocked: " + e.message);
const updateStatus = (s) => __stream.status.push(s);
const applyPartDelta = (id, delta) => { __stream.deltas++; };
const renderFinalPart = (part) => __stream.parts.push(part.type);
const replaceDraftMessage = (message) => { __stream.done = message; };
const showError = (message, info) => __stream.errors.push([message, info]);
try {
await fetchEventSource("{{API}}/api/v1/chat/messages", {
  method: "POST",
  headers: {
    Authorization: `Bearer ${token}`,
    "Content-Type": "application/json",
  },
  body: JSON.stringify({
    message: {
      parts: [{ type: "text", text: "What is your return policy?" }],
    },
    context: {
      page: window.location.href,
    },
  }),
  onmessage(event) {
    const data = JSON.parse(event.data);
    switch (event.event) {
      case "status":
        updateStatus(data.status);
        break;
      case "part_delta":
        applyPartDelta(data.part_id, data.delta);
        break;
      case "part":
        renderFinalPart(data.part);
        break;
      case "done":
        replaceDraftMessage(data.message);
        break;
      case "error":
        showError(data.message, {
          code: data.code,
          retryable: data.retryable,
        });
        break;
    }
  },
});
} catch (e) { __stream.errors.push(String(e)); }
</script>"#;

#[tokio::test]
async fn the_seeds_fetch_event_source_client_streams_from_an_allowed_site_only() {
    let h = start_localhost_only().await;
    let token = h.state.tokens.issue("demo-shop", "v-browser-client");
    let page = SEED_CLIENT
        .replace("{{TOKEN}}", &token)
        .replace("{{API}}", &h.widget_base);
    let port = other_site(page).await;

    h.client
        .goto(&format!("http://localhost:{port}/page.html"))
        .await
        .unwrap();
    let stream: Value = h
        .eventually("the stream's done event", || async {
            let s = h
                .js(
                    "return window.__stream && window.__stream.done && window.__stream;",
                    vec![],
                )
                .await;
            (!s.is_null()).then_some(s)
        })
        .await;
    assert_eq!(stream["errors"], json!([]), "{stream}");
    assert_eq!(
        stream["status"],
        json!(["connected", "processing"]),
        "{stream}"
    );
    assert!(stream["deltas"].as_u64().unwrap() > 0, "{stream}");
    assert_eq!(stream["done"]["role"], "assistant");
    let text = stream["done"].to_string().to_lowercase();
    assert!(text.contains("return"), "{text}");
    let plain = h
        .eventually("the plain fetch", || async {
            let v = h.js("return window.__plain;", vec![]).await;
            (!v.is_null()).then_some(v)
        })
        .await;
    assert_eq!(plain, json!(200));

    // The same page on a site the chatbot does not allow: the browser stops both calls at the
    // preflight, and the server stores nothing.
    let visitor = dgbot_server::core::ConversationKey::new("demo-shop", "v-browser-client");
    let before = h.state.store.messages(&visitor).unwrap().len();
    assert_eq!(before, 2, "the question and the answer");
    h.client
        .goto(&format!("http://127.0.0.1:{port}/page.html"))
        .await
        .unwrap();
    let plain = h
        .eventually("the plain fetch", || async {
            let v = h.js("return window.__plain;", vec![]).await;
            (!v.is_null()).then_some(v)
        })
        .await;
    assert!(
        plain.as_str().is_some_and(|s| s.starts_with("blocked")),
        "{plain}"
    );
    assert_eq!(h.state.store.messages(&visitor).unwrap().len(), before);
    h.finish().await;
}
