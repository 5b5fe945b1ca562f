//! Custom API actions (seed 000) over real HTTP: the demo shop's order lookup, a site owner's
//! endpoint on loopback that records what it receives (only the listed fields, signed), the
//! tool events on seed 002's SSE and seed 001's `/ws`, and the failure paths (a slow endpoint,
//! a server error, a redirect, an oversized or non-JSON response), which all end in a polite
//! answer and `status: "error"`, never a broken stream.

mod common;

use dgbot_server::core::store::ConversationStore as _;
use dgbot_testkit::TestServer;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::http::HeaderMap;
use dgbot_protocol::sse::SseParser;
use dgbot_server::Chatbot;
use dgbot_server::config::ActionFile;
use futures_util::{SinkExt, StreamExt};
use serde_json::{Value, json};
use tokio_tungstenite::tungstenite::Message as Ws;

const SECRET: &str = "the shop's action signing secret";

/// What the site owner's endpoint received: headers and body, in order.
type Received = Arc<Mutex<Vec<(HeaderMap, String)>>>;

/// A site owner's endpoint: `/orders` answers an order's status, `/slow` takes 3 s, `/broken`
/// answers 500, `/moved` redirects to `/orders`, `/huge` sends 100 KB, `/text` is not JSON,
/// `/echo` is JSON without the fields the answer needs.
async fn shop_backend() -> (String, Received) {
    use axum::routing::post;
    let received: Received = Arc::default();
    let log = |r: Received| {
        move |headers: HeaderMap, body: String| {
            let r = r.clone();
            async move {
                r.lock().unwrap().push((headers, body.clone()));
                body
            }
        }
    };
    let orders = {
        let r = received.clone();
        move |headers: HeaderMap, body: String| {
            let r = r.clone();
            async move {
                r.lock().unwrap().push((headers, body.clone()));
                let q: Value = serde_json::from_str(&body).unwrap();
                axum::Json(
                    json!({ "order_number": q["order_number"], "status": "on its way", "eta": { "day": "Wednesday" } }),
                )
            }
        }
    };
    let app = axum::Router::new()
        .route("/orders", post(orders))
        .route(
            "/slow",
            post(|| async {
                tokio::time::sleep(Duration::from_secs(3)).await;
                axum::Json(json!({ "status": "late" }))
            }),
        )
        .route(
            "/broken",
            post(|| async { (axum::http::StatusCode::INTERNAL_SERVER_ERROR, "oops") }),
        )
        .route(
            "/moved",
            post(|| async {
                (
                    axum::http::StatusCode::TEMPORARY_REDIRECT,
                    [("location", "/orders")],
                )
            }),
        )
        .route(
            "/huge",
            post(|| async { axum::Json(json!({ "status": "x".repeat(100_000) })) }),
        )
        .route("/echo", post(log(received.clone())))
        .route("/text", post(|| async { "order 1042: on its way" }));
    (dgbot_testkit::side::serve(app), received)
}

/// The demo chatbot with one `order_status` action calling `url`.
fn bot_with_action(url: &str) -> Chatbot {
    let mut bot = dgbot_server::config::demo_chatbot();
    bot.identity_secret = Some("identity secret".into());
    let file: ActionFile = toml::from_str(&format!(
        r#"
        name = "order_status"
        description = "Look up an order"
        label = "order status"
        url = "{url}"
        send = ["order_number", "page", "identity"]
        keywords = ["order"]
        answer = "Order {{{{order_number}}}} is {{{{status}}}}, arriving {{{{eta.day}}}}."
        failure_answer = "Sorry, the order lookup is not working right now."
        timeout_ms = 1000
        headers = {{ Authorization = "env:SHOP_TOKEN" }}
        signing_secret = "env:SHOP_SIGNING"
        "#
    ))
    .unwrap();
    let action = file
        .resolve(|name| match name {
            "SHOP_TOKEN" => Some("Bearer shop-token".into()),
            "SHOP_SIGNING" => Some(SECRET.into()),
            _ => None,
        })
        .unwrap();
    bot.actions = vec![action];
    bot
}

/// The server with `bot` as its one chatbot.
fn serve_bot(bot: Chatbot) -> TestServer {
    TestServer::builder().chatbots(vec![bot]).start()
}

/// Asking the chatbot over seed 002's SSE.
trait Ask {
    /// Ask over SSE; every event as (name, data).
    async fn ask(&self, token: &str, text: &str) -> Vec<(String, Value)>;
}

impl Ask for TestServer {
    async fn ask(&self, token: &str, text: &str) -> Vec<(String, Value)> {
        let body = self
            .api
            .http
            .post(format!("{}/api/v1/chat/messages", self.base))
            .bearer_auth(token)
            .json(&json!({
                "message": { "parts": [{ "type": "text", "text": text }] },
                "context": { "page": "https://shop.example.com/account/orders" },
            }))
            .send()
            .await
            .unwrap()
            .bytes()
            .await
            .unwrap();
        let (mut parser, mut events) = (SseParser::new(), vec![]);
        parser.feed(&body, &mut events);
        events
            .into_iter()
            .map(|e| (e.event, serde_json::from_str(&e.data).unwrap()))
            .collect()
    }
}

fn answer_text(events: &[(String, Value)]) -> String {
    let done = &events.iter().find(|(n, _)| n == "done").expect("done").1;
    done["message"]["parts"][0]["blocks"][0]["spans"][0]["text"]
        .as_str()
        .unwrap()
        .to_owned()
}

#[tokio::test]
async fn the_demo_shop_answers_where_an_order_is() {
    let s = serve_bot(dgbot_server::config::demo_chatbot());
    let token = dgbot_testkit::Api::new(&s.base).visitor().await.token;
    let events = s.ask(&token, "Where is my order 1042?").await;
    let status = events
        .iter()
        .find(|(n, d)| n == "status" && d["status"] == "tool_call")
        .expect("a tool_call status");
    assert_eq!(
        status.1,
        json!({ "status": "tool_call", "tool": "order_status", "label": "order status" })
    );
    assert_eq!(
        answer_text(&events),
        "Order 1042 is on its way with PostNord. It should reach you within 2 business days."
    );
    // Without a number, the FAQ answers (no lookup).
    let events = s.ask(&token, "Where is my order?").await;
    assert!(!events.iter().any(|(_, d)| d["status"] == "tool_call"));
}

#[tokio::test]
async fn an_action_sends_only_its_fields_signed_and_answers_from_the_response() {
    let (shop, received) = shop_backend().await;
    let s = serve_bot(bot_with_action(&format!("{shop}/orders")));
    let token = dgbot_testkit::Api::new(&s.base).visitor().await.token;
    let events = s.ask(&token, "Hi, where is order #1077?").await;
    assert_eq!(
        answer_text(&events),
        "Order 1077 is on its way, arriving Wednesday."
    );
    let (headers, body) = received.lock().unwrap().pop().expect("a request");
    let sent: Value = serde_json::from_str(&body).unwrap();
    let claims = s.state.tokens.verify(&token).unwrap();
    assert_eq!(
        sent,
        json!({
            "action": "order_status",
            "chatbot_id": "demo-shop",
            "visitor_id": claims.sub,
            "order_number": "1077",
            "page": "https://shop.example.com/account/orders",
            "identity": null,
        }),
        "the listed fields and nothing more: no question, no unverified identity"
    );
    assert_eq!(headers["authorization"], "Bearer shop-token");
    let timestamp = headers["x-dgbot-timestamp"].to_str().unwrap();
    assert_eq!(
        headers["x-dgbot-signature"].to_str().unwrap(),
        dgbot_server::core::outbox::signing::sign(SECRET, timestamp, &body)
    );

    // A verified identity (seed 000's user_hash) is sent; an unverified one never is.
    let unverified = json!({ "user_id": "42", "name": "Ada", "user_hash": "00" });
    let res = s
        .api
        .http
        .post(format!("{}/api/v1/chat/identify", s.base))
        .bearer_auth(&token)
        .json(&unverified)
        .send()
        .await
        .unwrap();
    assert!(res.status().is_success());
    s.ask(&token, "order 1078?").await;
    let sent: Value = serde_json::from_str(&received.lock().unwrap().pop().unwrap().1).unwrap();
    assert_eq!(sent["identity"], Value::Null);
    let hash = dgbot_server::core::identity::user_hash("identity secret", "42");
    let verified =
        json!({ "user_id": "42", "name": "Ada", "email": "ada@example.com", "user_hash": hash });
    s.api
        .http
        .post(format!("{}/api/v1/chat/identify", s.base))
        .bearer_auth(&token)
        .json(&verified)
        .send()
        .await
        .unwrap();
    s.ask(&token, "order 1079?").await;
    let sent: Value = serde_json::from_str(&received.lock().unwrap().pop().unwrap().1).unwrap();
    assert_eq!(
        sent["identity"],
        json!({ "user_id": "42", "name": "Ada", "email": "ada@example.com", "verified": true })
    );
}

#[tokio::test]
async fn a_failing_endpoint_gives_a_polite_answer_and_an_error_tool_event() {
    let (shop, received) = shop_backend().await;
    for path in ["/slow", "/broken", "/moved", "/huge", "/text", "/echo"] {
        let s = serve_bot(bot_with_action(&format!("{shop}{path}")));
        let token = dgbot_testkit::Api::new(&s.base).visitor().await.token;
        let before = received.lock().unwrap().len();
        let events = s.ask(&token, "where is order 1042").await;
        assert_eq!(
            answer_text(&events),
            "Sorry, the order lookup is not working right now.",
            "{path}"
        );
        assert!(
            !events.iter().any(|(n, _)| n == "error"),
            "{path}: no broken stream"
        );
        // The redirect is not followed: /orders never hears of it.
        if path == "/moved" {
            assert_eq!(received.lock().unwrap().len(), before);
        }
        // Stored as the answer, like any other.
        let claims = s.state.tokens.verify(&token).unwrap();
        let key = dgbot_server::core::ConversationKey::new(claims.cid, claims.sub);
        assert_eq!(s.state.store.messages(&key).unwrap().len(), 2, "{path}");
    }

    // On seed 001's /ws: tool_action calling, then tool_action_result with status error.
    let s = serve_bot(bot_with_action(&format!("{shop}/broken")));
    let url = format!(
        "{}/ws?key=demo-shop&visitor_id=visitor-actions",
        s.base.replace("http://", "ws://")
    );
    let (mut ws, _) = tokio_tungstenite::connect_async(url).await.unwrap();
    ws.send(Ws::text(
        json!({ "type": "message", "content": "where is order 1042" }).to_string(),
    ))
    .await
    .unwrap();
    let mut tools = vec![];
    loop {
        let Some(Ok(Ws::Text(t))) = tokio::time::timeout(Duration::from_secs(10), ws.next())
            .await
            .unwrap()
        else {
            panic!("the socket closed");
        };
        let f: Value = serde_json::from_str(&t).unwrap();
        if f["type"].as_str().unwrap().starts_with("tool_action") {
            tools.push(f.clone());
        }
        if f["type"] == "stream_end" {
            break;
        }
    }
    assert_eq!(
        tools,
        [
            json!({ "type": "tool_action", "tool": "order_status", "status": "calling" }),
            json!({ "type": "tool_action_result", "tool": "order_status", "status": "error" }),
        ]
    );
}

#[test]
fn actions_are_checked_when_the_configuration_loads() {
    let file = |extra: &str| -> ActionFile {
        toml::from_str(&format!(
            "name = \"lookup\"\ndescription = \"d\"\nanswer = \"a\"\n{extra}"
        ))
        .unwrap()
    };
    let env = |_: &str| None;
    for (extra, field) in [
        ("url = \"http://shop.example.com/api\"", "url"),
        ("url = \"file:///etc/passwd\"", "url"),
        ("url = \"//evil.example/x\"", "url"),
        (
            "url = \"https://shop.example.com\"\nmethod = \"GET\"",
            "method",
        ),
        (
            "url = \"https://shop.example.com\"\nsend = [\"password\"]",
            "send",
        ),
        (
            "url = \"https://shop.example.com\"\nheaders = { X = \"env:NOPE\" }",
            "headers.X",
        ),
        (
            "url = \"https://shop.example.com\"\nsigning_secret = \"in the file\"",
            "signing_secret",
        ),
    ] {
        assert_eq!(file(extra).resolve(env).unwrap_err().0, field, "{extra}");
    }
    assert!(
        file("url = \"https://shop.example.com/api\"")
            .resolve(env)
            .is_ok()
    );
}
