//! Outbound webhooks over real HTTP (seed 002, "Webhook events and signing", "Webhook event
//! replay"): a Node receiver on loopback verifies every delivery with the seed's own
//! `verifyDialogeWebhook` (TypeScript, compiled at start; `cargo xtask setup` installs it).

mod common;

use common::receiver::Receiver;

use dgbot_server::core::store::{ConversationStore as _, OutboxStore as _};
use dgbot_testkit::TestServer;
use std::path::PathBuf;
use std::time::Duration;

use dgbot_server::config::{DEMO_API_KEY, DEMO_CHATBOT_ID};
use dgbot_server::core::ConversationKey;

use dgbot_server::model::Database;
use dgbot_server::{Clock, ServerConfig};
use serde_json::{Value, json};

const SECRET: &str = "whsec_test_0123456789abcdef";

/// Retries 100 ms apart, a fixed token secret, then `configure`; on the SQLite file `store`
/// when given (in memory otherwise).
fn webhook_server(
    configure: impl Fn(&mut ServerConfig) + Send + Sync + 'static,
    store: Option<PathBuf>,
) -> TestServer {
    let mut builder = TestServer::builder()
        .configure(|config| {
            config.webhook_retry_base = Duration::from_millis(100);
            config.token_secret = b"a fixed secret for webhook tests".to_vec();
        })
        .configure(configure);
    if let Some(path) = store {
        builder = builder.database(Database::Sqlite(path));
    }
    builder.start()
}

/// The setup API's webhooks, and a visitor whose doings make events.
trait Hooks {
    /// A setup API call with the demo chatbot's API key.
    async fn setup(&self, method: reqwest::Method, path: &str, body: Option<Value>)
    -> (u16, Value);
    /// A setup API call with `key`.
    async fn setup_as(
        &self,
        key: &str,
        method: reqwest::Method,
        path: &str,
        body: Option<Value>,
    ) -> (u16, Value);
    /// `PUT /webhooks`: deliver `events` (all when empty) to `receiver`.
    async fn hooks(&self, receiver: &Receiver, events: Value) -> Value;
    /// A new visitor's widget token.
    async fn visitor(&self) -> String;
    /// A chat API call as the visitor of `token`.
    async fn visitor_call(
        &self,
        token: &str,
        method: reqwest::Method,
        path: &str,
        body: Value,
    ) -> (u16, Value);
    /// Ask the assistant and read the answer to its end.
    async fn ask(&self, token: &str, text: &str);
    /// The visitor asks for a person: the livechat session's id.
    async fn handover(&self, token: &str) -> String;
}

impl Hooks for TestServer {
    async fn setup(
        &self,
        method: reqwest::Method,
        path: &str,
        body: Option<Value>,
    ) -> (u16, Value) {
        self.setup_as(DEMO_API_KEY, method, path, body).await
    }

    async fn setup_as(
        &self,
        key: &str,
        method: reqwest::Method,
        path: &str,
        body: Option<Value>,
    ) -> (u16, Value) {
        let mut req = self
            .api
            .http
            .request(method, self.api.chat_url(path))
            .basic_auth(key, Some(""));
        if let Some(b) = body {
            req = req.json(&b);
        }
        let res = req.send().await.unwrap();
        (
            res.status().as_u16(),
            res.json().await.unwrap_or(Value::Null),
        )
    }

    async fn hooks(&self, receiver: &Receiver, events: Value) -> Value {
        let (status, body) = self
            .setup(
                reqwest::Method::PUT,
                "/webhooks",
                Some(json!({ "url": receiver.url(), "secret": SECRET, "events": events })),
            )
            .await;
        assert_eq!(status, 200, "{body}");
        body
    }

    async fn visitor(&self) -> String {
        dgbot_testkit::Api::new(&self.base).visitor().await.token
    }

    async fn visitor_call(
        &self,
        token: &str,
        method: reqwest::Method,
        path: &str,
        body: Value,
    ) -> (u16, Value) {
        let res = self
            .api
            .http
            .request(method, self.api.chat_url(path))
            .bearer_auth(token)
            .json(&body)
            .send()
            .await
            .unwrap();
        (
            res.status().as_u16(),
            res.json().await.unwrap_or(Value::Null),
        )
    }

    async fn ask(&self, token: &str, text: &str) {
        let res = self
            .api
            .http
            .post(self.api.chat_url("/messages"))
            .bearer_auth(token)
            .json(&json!({ "message": { "parts": [{ "type": "text", "text": text }] } }))
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), 200);
        let body = res.text().await.unwrap();
        assert!(body.contains("event: done"), "{body}");
    }

    async fn handover(&self, token: &str) -> String {
        let (status, body) = self
            .visitor_call(
                token,
                reqwest::Method::POST,
                "/livechat/handover",
                json!({ "platform": "website", "source": "manual_button" }),
            )
            .await;
        assert_eq!(status, 200, "{body}");
        body["livechat_session_id"].as_str().unwrap().to_owned()
    }
}

fn assert_signed(d: &Value, event_type: &str) {
    assert_eq!(
        d["verified"], true,
        "the seed's verifyDialogeWebhook accepts it: {d}"
    );
    let h = &d["headers"];
    assert_eq!(h["x-di-event"], event_type);
    assert_eq!(d["body"]["type"], event_type);
    for name in [
        "x-di-timestamp",
        "x-di-signature",
        "x-di-delivery-id",
        "x-di-attempt",
        "x-di-environment",
    ] {
        assert!(
            h[name].as_str().is_some_and(|v| !v.is_empty()),
            "{name} in {h}"
        );
    }
    assert_eq!(h["x-di-environment"], "live");
    assert!(d["body"]["event_id"].as_str().unwrap().starts_with("evt_"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_event_arrives_signed_with_the_six_headers() {
    let s = webhook_server(|_| {}, None);
    let mut r = Receiver::listen(SECRET, 0, 0).await;
    s.hooks(&r, json!([])).await;
    let visitor = s.visitor().await;
    s.ask(&visitor, "Where is my order?").await;
    let session = s.handover(&visitor).await;

    let handover = r.until("livechat.handover.requested").await;
    assert_signed(&handover, "livechat.handover.requested");
    let b = &handover["body"];
    assert_eq!(b["livechat_session"]["id"], session.as_str());
    assert_eq!(b["language"], "english");
    assert!(b["visitor"]["id"].as_str().is_some());
    assert!(
        b["context"]["messages"].as_array().unwrap().len() >= 2,
        "the conversation so far"
    );
    // The short-lived token in the payload works for the agent system.
    let agent = b["livechat_session"]["token"].as_str().unwrap().to_owned();
    let context = s
        .api
        .http
        .get(s.api.chat_url("/livechat/agent/context"))
        .bearer_auth(&agent)
        .send()
        .await
        .unwrap();
    assert_eq!(context.status(), 200);

    s.ask(&visitor, "What are your opening hours?").await; // while waiting
    assert_signed(
        &r.until("livechat.waiting.customer.message.created").await,
        "livechat.waiting.customer.message.created",
    );
    let assistant = r.until("livechat.waiting.assistant.message.created").await;
    assert_signed(&assistant, "livechat.waiting.assistant.message.created");
    assert_eq!(assistant["body"]["message"]["role"], "assistant");

    let agent_says = |text: &str| json!({ "agent_id": "agent-alice", "message": { "parts": [{ "type": "text", "text": text }] } });
    let res = s
        .api
        .http
        .post(s.api.chat_url("/livechat/agent/messages"))
        .bearer_auth(&agent)
        .json(&agent_says("Hi!"))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    let (status, _) = s
        .visitor_call(
            &visitor,
            reqwest::Method::POST,
            "/livechat/messages",
            json!({ "message": { "parts": [{ "type": "text", "text": "Order 1234" }] } }),
        )
        .await;
    assert_eq!(status, 200);
    let customer = r.until("livechat.customer.message.created").await;
    assert_signed(&customer, "livechat.customer.message.created");
    assert_eq!(
        customer["body"]["message"]["parts"][0]["text"],
        "Order 1234"
    );
    for (typing, event) in [
        (true, "livechat.customer.typing.started"),
        (false, "livechat.customer.typing.stopped"),
    ] {
        s.visitor_call(
            &visitor,
            reqwest::Method::POST,
            "/livechat/typing",
            json!({ "is_typing": typing }),
        )
        .await;
        assert_signed(&r.until(event).await, event);
    }
    s.visitor_call(
        &visitor,
        reqwest::Method::POST,
        "/livechat/close",
        json!({ "reason": "Thanks" }),
    )
    .await;
    let closed = r.until("livechat.session.closed").await;
    assert_signed(&closed, "livechat.session.closed");
    assert_eq!(closed["body"]["livechat_session"]["closed_by"], "visitor");
    s.visitor_call(
        &visitor,
        reqwest::Method::POST,
        "/livechat/feedback",
        json!({ "rating": 4 }),
    )
    .await;
    let feedback = r.until("livechat.feedback.submitted").await;
    assert_signed(&feedback, "livechat.feedback.submitted");
    assert_eq!(feedback["body"]["feedback"]["rating"], 4);

    let (status, counts) = s
        .visitor_call(&visitor, reqwest::Method::DELETE, "", json!({}))
        .await;
    assert_eq!(status, 200);
    let deleted = r.until("visitor.data.deleted").await;
    assert_signed(&deleted, "visitor.data.deleted");
    let b = &deleted["body"];
    assert_eq!(b["deletion"]["reason"], "user_request");
    assert_eq!(
        b["deletion"]["counts"], counts,
        "the counts of what was removed"
    );
    assert_eq!(b["chatbot"]["id"], DEMO_CHATBOT_ID);
    let visitor_id = b["visitor"]["id"].as_str().unwrap();
    assert!(b["visitor"]["session_id"].is_string());
    assert!(
        s.state
            .store
            .messages(&ConversationKey::new(DEMO_CHATBOT_ID, visitor_id))
            .unwrap()
            .is_empty(),
        "sent after the data is gone"
    );
    drop(s);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_failing_receiver_gets_the_same_event_until_it_answers_and_replay_sends_it_again() {
    let s = webhook_server(|_| {}, None);
    let mut r = Receiver::listen(SECRET, 0, 2).await;
    s.hooks(&r, json!([])).await;
    let visitor = s.visitor().await;
    s.handover(&visitor).await;
    let attempts: Vec<Value> = vec![r.next().await, r.next().await, r.next().await];
    let ids: Vec<&Value> = attempts.iter().map(|d| &d["body"]["event_id"]).collect();
    assert!(
        ids.iter().all(|id| *id == ids[0]),
        "one event_id on every attempt: {ids:?}"
    );
    let numbers: Vec<&str> = attempts
        .iter()
        .map(|d| d["headers"]["x-di-attempt"].as_str().unwrap())
        .collect();
    assert_eq!(numbers, ["1", "2", "3"]);
    let statuses: Vec<u64> = attempts
        .iter()
        .map(|d| d["status"].as_u64().unwrap())
        .collect();
    assert_eq!(statuses, [500, 500, 200]);
    let deliveries: std::collections::HashSet<&str> = attempts
        .iter()
        .map(|d| d["headers"]["x-di-delivery-id"].as_str().unwrap())
        .collect();
    assert_eq!(deliveries.len(), 3, "a new delivery id per attempt");

    let event_id = ids[0].as_str().unwrap().to_owned();
    tokio::time::sleep(Duration::from_millis(200)).await; // the third attempt is recorded
    let (status, detail) = s
        .setup(reqwest::Method::GET, &format!("/events/{event_id}"), None)
        .await;
    assert_eq!(status, 200, "{detail}");
    assert_eq!(detail["state"], "delivered");
    let codes: Vec<&Value> = detail["delivery_attempts"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| &a["status_code"])
        .collect();
    assert_eq!(codes, [&json!(500), &json!(500), &json!(200)]);
    assert_eq!(detail["payload"]["event_id"], event_id.as_str());

    let (status, list) = s
        .setup(
            reqwest::Method::GET,
            "/events?type=livechat.handover.requested&state=delivered",
            None,
        )
        .await;
    assert_eq!(status, 200);
    assert_eq!(list["events"][0]["event_id"], event_id.as_str());

    let (status, replayed) = s
        .setup(
            reqwest::Method::POST,
            &format!("/events/{event_id}/replay"),
            None,
        )
        .await;
    assert_eq!(status, 202, "{replayed}");
    let again = r.next().await;
    assert_eq!(
        again["body"]["event_id"],
        event_id.as_str(),
        "replay keeps the event_id"
    );
    assert_eq!(again["headers"]["x-di-attempt"], "4");
    assert_eq!(again["verified"], true);
    drop(s);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_event_survives_a_server_restart_while_the_receiver_is_down() {
    let db = std::env::temp_dir().join(format!(
        "dgbot-webhooks-restart-{}.sqlite",
        std::process::id()
    ));
    let _ = std::fs::remove_file(&db);
    // A port with no one listening yet.
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let s = webhook_server(|_| {}, Some(db.clone()));
    let (status, _) = s
        .setup(
            reqwest::Method::PUT,
            "/webhooks",
            Some(json!({ "url": format!("http://127.0.0.1:{port}/hooks"), "secret": SECRET })),
        )
        .await;
    assert_eq!(status, 200);
    let visitor = s.visitor().await;
    let session = s.handover(&visitor).await;
    tokio::time::sleep(Duration::from_millis(300)).await; // a failed attempt or two
    drop(s); // a crash: every connection ends at once

    let s = webhook_server(|_| {}, Some(db.clone()));
    let mut r = Receiver::listen(SECRET, port, 0).await;
    let d = r.until("livechat.handover.requested").await;
    assert_signed(&d, "livechat.handover.requested");
    assert_eq!(d["body"]["livechat_session"]["id"], session.as_str());
    assert!(
        d["headers"]["x-di-attempt"]
            .as_str()
            .unwrap()
            .parse::<u32>()
            .unwrap()
            >= 2
    );
    drop(s);
    let _ = std::fs::remove_file(&db);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn events_expire_after_30_days_and_undelivered_ones_die() {
    let clock = Clock::manual_at("2026-11-23T10:00:00Z");
    let c = clock.clone();
    let s = webhook_server(
        move |config| {
            config.clock = c.clone();
            config.webhook_max_attempts = 2;
        },
        None,
    );
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    s.setup(
        reqwest::Method::PUT,
        "/webhooks",
        Some(json!({ "url": format!("http://127.0.0.1:{port}/nobody"), "secret": SECRET })),
    )
    .await;
    let visitor = s.visitor().await;
    s.handover(&visitor).await;
    let (_, list) = s.setup(reqwest::Method::GET, "/events", None).await;
    let event_id = list["events"][0]["event_id"].as_str().unwrap().to_owned();
    // The two attempts fail (nobody listens); the retry waits on the manual clock, so move it.
    let failed = tokio::time::timeout(Duration::from_secs(20), async {
        loop {
            let (_, detail) = s
                .setup(reqwest::Method::GET, &format!("/events/{event_id}"), None)
                .await;
            if detail["state"] == "failed" {
                return detail;
            }
            clock.advance(Duration::from_secs(1));
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    })
    .await
    .expect("the event fails after its attempts");
    assert_eq!(failed["attempts"], 2);

    clock.advance(Duration::from_secs(29 * 86_400));
    let (status, _) = s
        .setup(reqwest::Method::GET, &format!("/events/{event_id}"), None)
        .await;
    assert_eq!(status, 200, "still kept before 30 days");
    clock.advance(Duration::from_secs(86_400));
    tokio::time::sleep(Duration::from_millis(1500)).await; // the worker's expiry pass
    let (status, body) = s
        .setup(reqwest::Method::GET, &format!("/events/{event_id}"), None)
        .await;
    assert_eq!((status, &body["error"]["code"]), (404, &json!("not_found")));
    let (status, _) = s
        .setup(
            reqwest::Method::POST,
            &format!("/events/{event_id}/replay"),
            None,
        )
        .await;
    assert_eq!(status, 404, "not replayable");
    let (_, list) = s.setup(reqwest::Method::GET, "/events", None).await;
    assert!(
        list["events"].as_array().unwrap().is_empty(),
        "not listable"
    );
    assert_eq!(
        s.state
            .store
            .webhook_event_any(&event_id)
            .unwrap()
            .unwrap()
            .state,
        "dead",
        "marked dead before cleanup"
    );
    clock.advance(Duration::from_secs(8 * 86_400));
    tokio::time::sleep(Duration::from_millis(1500)).await;
    assert!(
        s.state
            .store
            .webhook_event_any(&event_id)
            .unwrap()
            .is_none(),
        "cleaned up"
    );
    drop(s);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn required_events_are_kept_and_bad_configurations_are_refused() {
    let s = webhook_server(|_| {}, None);
    let mut r = Receiver::listen(SECRET, 0, 0).await;
    let (status, _) = s.setup(reqwest::Method::GET, "/webhooks", None).await;
    assert_eq!(status, 404, "none set yet");
    let view = s.hooks(&r, json!(["livechat.feedback.submitted"])).await;
    assert_eq!(
        view["events"],
        json!([
            "livechat.handover.requested",
            "livechat.waiting.customer.message.created",
            "livechat.customer.message.created",
            "livechat.session.closed",
            "livechat.feedback.submitted"
        ])
    );
    assert!(
        !view["secret"].as_str().unwrap().contains("0123456789"),
        "masked"
    );
    let (status, body) = s
        .setup(
            reqwest::Method::PUT,
            "/webhooks",
            Some(json!({ "url": "http://hooks.example.com/x", "secret": "short", "events": ["nope"] })),
        )
        .await;
    assert_eq!(status, 422);
    let fields: Vec<&str> = body["error"]["params"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["field"].as_str().unwrap())
        .collect();
    assert_eq!(fields, ["url", "secret", "events.0"]);
    let (status, _) = s
        .setup_as("wrong-key-123", reqwest::Method::GET, "/events", None)
        .await;
    assert_eq!(status, 401);

    // Not subscribed: typing events are not sent; the test key's endpoint says `test`.
    let (status, view) = s
        .setup_as(
            "demo-test-key",
            reqwest::Method::PUT,
            "/webhooks",
            Some(json!({ "url": r.url(), "secret": SECRET, "events": ["livechat.handover.requested"] })),
        )
        .await;
    assert_eq!((status, &view["environment"]), (200, &json!("test")));
    let visitor = s.visitor().await;
    s.handover(&visitor).await;
    let d = r.next().await;
    assert_eq!(d["headers"]["x-di-environment"], "test");
    assert_eq!(d["body"]["environment"], "test");
    drop(s);
}
