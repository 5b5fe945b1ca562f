//! The demo shop's own backend, as a site owner's server would be behind a custom API action
//! (seed 000): `POST /demo/api/order-status` answers where an order is. The demo chatbot's
//! `order_status` action (server/dgbot.toml) calls it when a visitor asks "Where is my order
//! 1042?".
//!
//! And the shop's help pages, `/demo/help/{name}`: each FAQ file of `server/demo/kb/` as a
//! page, a section per heading with its `id`, so that an answer citing
//! `/demo/help/shipping#shipping-outside-the-eu` opens on the section it quotes.

use axum::Json;
use axum::Router;
use axum::extract::{Path, State};
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use serde_json::{Value, json};

use crate::SharedState;
use crate::http::error::{ApiJson, Failure};

pub fn routes() -> Router<SharedState> {
    Router::new()
        .route("/demo/api/order-status", post(order_status))
        .route("/demo/help/{name}", get(help_page))
}

fn escape(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

/// `GET /demo/help/{name}`: `server/demo/kb/{name}.md`, read as the assistant reads it (its
/// passages), as an HTML page with the widget on it.
async fn help_page(State(state): State<SharedState>, Path(name): Path<String>) -> Response {
    let valid = !name.is_empty()
        && name
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-');
    let path = state.config.demo_dir.join("kb").join(format!("{name}.md"));
    let read = match valid {
        true => tokio::fs::read(&path).await.ok(),
        false => None,
    };
    let Some(doc) = read.and_then(|bytes| {
        dgbot_core::knowledge::fetch::file(&format!("{name}.md"), "text/markdown", &bytes, None)
            .ok()
    }) else {
        return (StatusCode::NOT_FOUND, "No such help page").into_response();
    };
    let lang = doc
        .passages
        .first()
        .map(|p| p.lang.clone())
        .unwrap_or_else(|| "en".into());
    let mut body = format!("<h1>{}</h1>\n", escape(&doc.title));
    for passage in &doc.passages {
        if let Some(anchor) = &passage.anchor {
            let heading = passage.heading.rsplit(" › ").next().unwrap_or_default();
            body.push_str(&format!(
                "<h2 id=\"{}\">{}</h2>\n",
                escape(anchor),
                escape(heading)
            ));
        }
        let mut in_list = false;
        for line in passage
            .text
            .lines()
            .map(str::trim)
            .filter(|l| !l.is_empty())
        {
            match line.strip_prefix("- ") {
                Some(item) => {
                    if !in_list {
                        body.push_str("<ul>\n");
                        in_list = true;
                    }
                    body.push_str(&format!("<li>{}</li>\n", escape(item)));
                }
                None => {
                    if in_list {
                        body.push_str("</ul>\n");
                        in_list = false;
                    }
                    body.push_str(&format!("<p>{}</p>\n", escape(line)));
                }
            }
        }
        if in_list {
            body.push_str("</ul>\n");
        }
    }
    let page = format!(
        "<!doctype html>\n<html lang=\"{lang}\"><head><meta charset=\"utf-8\"><meta name=\"viewport\" content=\"width=device-width, initial-scale=1\"><title>{title} · Nordlys</title><link rel=\"stylesheet\" href=\"/demo/demo.css\"></head>\n<body><header class=\"help-header\"><a href=\"/demo/\">Nordlys</a> · Help</header><main class=\"help\">\n{body}</main>\n<script src=\"{base}/widget.js\" data-chatbot-id=\"demo-shop\" async></script>\n</body></html>\n",
        title = escape(&doc.title),
        base = state.config.public_base,
    );
    (
        [
            (header::CONTENT_TYPE, "text/html; charset=utf-8"),
            (header::CACHE_CONTROL, "no-cache"),
        ],
        page,
    )
        .into_response()
}

#[derive(serde::Deserialize)]
struct Lookup {
    order_number: String,
}

/// Orders 1000–1999 exist, each in a state that follows from its number; any other number is
/// unknown.
async fn order_status(ApiJson(q): ApiJson<Lookup>) -> Result<Json<Value>, Failure> {
    let number = q.order_number.trim();
    let known = number
        .parse::<u32>()
        .ok()
        .filter(|n| (1000..2000).contains(n));
    let (status, detail) = match known.map(|n| n % 3) {
        Some(0) => (
            "being packed",
            "It leaves our warehouse today, and you get a tracking link by email when it does.",
        ),
        Some(1) => (
            "on its way with PostNord",
            "It should reach you within 2 business days.",
        ),
        Some(_) => (
            "delivered",
            "It was delivered to your parcel box. Not there? Ask for a person and we'll sort it out.",
        ),
        None => (
            "not in our system",
            "Please check the number in your order confirmation email.",
        ),
    };
    Ok(Json(json!({
        "order_number": number,
        "status": status,
        "detail": detail,
    })))
}
