//! A custom API action in the browser (seed 000, seed 001's `tool_action`): "Where is my order
//! 1042?" shows "Looking up order status…" while the shop's endpoint answers, then the answer
//! from its response; the host page hears `tool_action` through `DGbot.on`.

mod support;

use std::time::Duration;

use dgbot_server::config::ActionFile;
use serde_json::json;
use support::{Harness, Options};

/// The shop's order endpoint, on loopback, taking `delay` to answer.
async fn slow_order_endpoint(delay: Duration) -> String {
    let app = axum::Router::new().route(
        "/orders",
        axum::routing::post(move |body: String| async move {
            tokio::time::sleep(delay).await;
            let q: serde_json::Value = serde_json::from_str(&body).unwrap();
            axum::Json(json!({ "order_number": q["order_number"], "status": "on its way" }))
        }),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    base
}

#[tokio::test]
async fn an_order_lookup_shows_what_it_is_doing_then_answers() {
    let shop = slow_order_endpoint(Duration::from_millis(2000)).await;
    let h = Harness::start_full(
        |_| {},
        |bot| {
            let file: ActionFile = toml_action(&format!("{shop}/orders"));
            bot.actions = vec![file.resolve(|_| None).unwrap()];
        },
        Options::default(),
    )
    .await;
    h.goto("/demo/").await;
    h.js(
        "window.__tools = []; DGbot.on('tool_action', (d) => window.__tools.push(d));",
        vec![],
    )
    .await;
    h.launcher().await.click().await.unwrap();
    h.enter_chat().await;
    h.ask("Where is my order 1042?").await;
    let note = h.wait_css("[data-testid=looking-up]").await;
    assert_eq!(note.text().await.unwrap(), "Looking up order status…");
    let answer = h.finished_answer().await;
    assert_eq!(answer, "Order 1042 is on its way.");
    assert_eq!(h.count("[data-testid=looking-up]").await, 0);
    h.client.enter_parent_frame().await.unwrap();
    let tools = h.js("return window.__tools;", vec![]).await;
    assert_eq!(
        tools,
        json!([{ "tool": "order_status", "status": "calling", "label": "order status" }])
    );
    h.finish().await;
}

/// The action as `[[chatbot.actions]]` would say it.
fn toml_action(url: &str) -> ActionFile {
    serde_json::from_value(json!({
        "name": "order_status",
        "description": "Look up an order",
        "label": "order status",
        "url": url,
        "send": ["order_number"],
        "keywords": ["order"],
        "answer": "Order {{order_number}} is {{status}}.",
        "timeout_ms": 5000,
    }))
    .unwrap()
}
