//! What the server's HTTP tests share.

#![allow(dead_code)]

use serde_json::{Value, json};

/// A visitor token for a new visitor of the demo chatbot, the way the widget gets one
/// (`POST /api/v1/chat/auth/public` from an allowed host page).
pub async fn visitor_token(http: &reqwest::Client, base: &str) -> String {
    let res = http
        .post(format!("{base}/api/v1/chat/auth/public"))
        .json(&json!({ "chatbot_id": "demo-shop", "host_origin": "http://localhost:5173" }))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    res.json::<Value>().await.unwrap()["token"]
        .as_str()
        .unwrap()
        .to_owned()
}
