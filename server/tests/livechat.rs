//! Livechat (seed 002, "Livechat end-to-end") over real HTTP on port 0, as its three actors see
//! it: the visitor (visitor token), the agent app (a session token) and the site owner's backend
//! (the API key). The lifecycle, assignment races, token scope, availability at fixed times,
//! attachments and their links, restarts, the session list, the long poll and bad input. Every
//! failure is checked for its status and the `error.code` of the `ApiError` envelope.

use dgbot_testkit::{Api, TestServer};
use std::collections::BTreeSet;
use std::path::PathBuf;
use std::time::{Duration, Instant};

use base64::Engine;
use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use dgbot_server::Clock;
use dgbot_server::config::{DEMO_API_KEY, DEMO_CHATBOT_ID};
use dgbot_server::model::Database;
use reqwest::Method;
use reqwest::header::HeaderMap;
use serde_json::{Value, json};

/// Fixed, so visitor tokens and attachment links outlive a restart.
const SECRET: &[u8] = b"livechat tests: a fixed secret so tokens outlive a restart";
/// A Monday: 11:00 in Copenhagen (UTC+1 in November).
const MONDAY_MORNING: &str = "2026-11-23T10:00:00Z";
const ALICE: &str = "agent-alice";
const ALICE_NAME: &str = "Alice from Nordlys";
const BOB: &str = "agent-bob";
const LIVECHAT_MESSAGES: &str = "/api/v1/chat/livechat/messages";
const PDF: &[u8] =
    b"%PDF-1.4\n1 0 obj << /Type /Catalog >> endobj\ntrailer << /Root 1 0 R >>\n%%EOF\n";
const PNG: &[u8] =
    b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x00\x01\x00\x00\x00\x01\x08\x06\x00\x00\x00";

/// A status and the JSON body (`null` when the body is not JSON, e.g. an SSE stream).
type Reply = (u16, Value);

#[derive(Clone, Copy)]
enum Auth<'a> {
    Anonymous,
    /// A visitor token, an agent (session) token, or anything else sent as Bearer.
    Bearer(&'a str),
    /// The demo chatbot's API key (HTTP Basic, empty password).
    ApiKey,
    /// Some other string as the Basic user name.
    Basic(&'a str),
}
use Auth::{Anonymous, ApiKey, Basic, Bearer};

/// On `database` (in memory when `None`) and `clock`.
fn livechat_on(database: Option<Database>, clock: Clock) -> TestServer {
    let mut builder = TestServer::builder().configure(move |config| {
        config.token_secret = SECRET.to_vec();
        config.clock = clock.clone();
    });
    if let Some(database) = database {
        builder = builder.database(database);
    }
    builder.start()
}

/// In memory, on the system clock.
fn livechat_server() -> TestServer {
    livechat_on(None, Clock::system())
}

/// In memory, on a manual clock standing at `at`.
fn livechat_at(at: &str) -> TestServer {
    livechat_on(None, Clock::manual_at(at))
}

fn temp_db(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("dgbot-livechat-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    dir.join("dgbot.sqlite")
}

/// The calls of livechat's three actors: the visitor, the agent and the site owner's backend.
trait Livechat {
    /// The server's clock (the one it was started on).
    fn clock(&self) -> &Clock;
    /// The same database file, a new server (same port, same secret, same clock).
    fn restarted(self) -> TestServer;
    async fn call(&self, method: Method, path: &str, auth: Auth<'_>, body: Option<Value>) -> Reply;
    async fn get(&self, path: &str, auth: Auth<'_>) -> Reply;
    async fn post(&self, path: &str, auth: Auth<'_>, body: Value) -> Reply;
    /// A new visitor's token.
    async fn visitor(&self) -> String;
    /// The `livechat` block of the visitor's config.
    async fn availability(&self, visitor: &str) -> Value;
    async fn handover(&self, visitor: &str) -> Reply;
    /// A new visitor who requested a hand-over: (visitor token, session id).
    async fn waiting_visitor(&self) -> (String, String);
    async fn agent_token(&self, session_id: &str) -> String;
    async fn state(&self, visitor: &str) -> Value;
    /// The visitor writes in livechat.
    async fn say(&self, visitor: &str, parts: Value) -> Reply;
    async fn visitor_typing(&self, visitor: &str, is_typing: bool) -> Reply;
    /// The visitor's livechat messages, `query` as in `?after=…`.
    async fn livechat_messages(&self, visitor: &str, query: &str) -> Value;
    /// `POST /api/v1/chat/messages` to the assistant, the stream read to its end.
    async fn ask(&self, visitor: &str, text: &str) -> Reply;
    async fn context(&self, agent: &str) -> Value;
    async fn agent_say(&self, agent: &str, agent_id: &str, text: &str) -> Reply;
    async fn agent_send(&self, agent: &str, agent_id: &str, parts: Value) -> Reply;
    async fn agent_typing(&self, agent: &str, agent_id: &str, is_typing: bool) -> Reply;
    async fn close(&self, visitor: &str, body: Value) -> Reply;
    async fn feedback(&self, visitor: &str, body: Value) -> Reply;
    async fn agent_close(&self, agent: &str, body: Value) -> Reply;
    async fn put_agent(&self, agent_id: &str, display_name: &str) -> Value;
    async fn put_settings(&self, settings: Value) -> Reply;
    async fn settings(&self) -> Value;
    /// The session ids of `GET /livechat/sessions{query}`, newest first.
    async fn session_ids(&self, query: &str) -> Vec<String>;
    async fn session_count(&self, query: &str) -> Value;
    /// An attachment link, as a browser would follow it (no credentials).
    async fn download(&self, url: &str) -> (u16, HeaderMap, Vec<u8>);
    /// A link that must fail: its status and `error.code`.
    async fn download_fails(&self, url: &str, status: u16, code: &str);
}

impl Livechat for TestServer {
    fn clock(&self) -> &Clock {
        &self.state.config.clock
    }

    fn restarted(mut self) -> TestServer {
        self.restart();
        // The old server's keep-alive connections died with it.
        self.api = Api::new(&self.base);
        self
    }

    async fn call(&self, method: Method, path: &str, auth: Auth<'_>, body: Option<Value>) -> Reply {
        let mut req = self.api.http.request(method, self.url(path));
        req = match auth {
            Anonymous => req,
            Bearer(token) => req.bearer_auth(token),
            ApiKey => req.basic_auth(DEMO_API_KEY, Some("")),
            Basic(user) => req.basic_auth(user, Some("")),
        };
        if let Some(body) = body {
            req = req.json(&body);
        }
        let res = req.send().await.unwrap();
        let status = res.status().as_u16();
        let bytes = res.bytes().await.unwrap();
        (
            status,
            serde_json::from_slice(&bytes).unwrap_or(Value::Null),
        )
    }

    async fn get(&self, path: &str, auth: Auth<'_>) -> Reply {
        self.call(Method::GET, path, auth, None).await
    }

    async fn post(&self, path: &str, auth: Auth<'_>, body: Value) -> Reply {
        self.call(Method::POST, path, auth, Some(body)).await
    }

    async fn visitor(&self) -> String {
        let body = json!({ "chatbot_id": DEMO_CHATBOT_ID, "host_origin": "http://localhost:5173" });
        ok(self.post("/api/v1/chat/auth/public", Anonymous, body).await)["token"]
            .as_str()
            .unwrap()
            .to_owned()
    }

    async fn availability(&self, visitor: &str) -> Value {
        ok(self.get("/api/v1/chat/config", Bearer(visitor)).await)["livechat"].clone()
    }

    async fn handover(&self, visitor: &str) -> Reply {
        let body = json!({ "platform": "website", "source": "manual_button" });
        self.post("/api/v1/chat/livechat/handover", Bearer(visitor), body)
            .await
    }

    async fn waiting_visitor(&self) -> (String, String) {
        let visitor = self.visitor().await;
        let session = ok(self.handover(&visitor).await);
        (
            visitor,
            session["livechat_session_id"].as_str().unwrap().to_owned(),
        )
    }

    async fn agent_token(&self, session_id: &str) -> String {
        let path = format!("/api/v1/chat/livechat/sessions/{session_id}/token");
        let token = ok(self.post(&path, ApiKey, json!({})).await);
        assert!(token["expires_at"].is_string(), "{token}");
        token["token"].as_str().unwrap().to_owned()
    }

    async fn state(&self, visitor: &str) -> Value {
        ok(self
            .get("/api/v1/chat/livechat/state", Bearer(visitor))
            .await)
    }

    async fn say(&self, visitor: &str, parts: Value) -> Reply {
        let body = json!({ "message": { "parts": parts } });
        self.post(LIVECHAT_MESSAGES, Bearer(visitor), body).await
    }

    async fn visitor_typing(&self, visitor: &str, is_typing: bool) -> Reply {
        let body = json!({ "is_typing": is_typing });
        self.post("/api/v1/chat/livechat/typing", Bearer(visitor), body)
            .await
    }

    async fn livechat_messages(&self, visitor: &str, query: &str) -> Value {
        ok(self
            .get(&format!("{LIVECHAT_MESSAGES}{query}"), Bearer(visitor))
            .await)
    }

    async fn ask(&self, visitor: &str, text: &str) -> Reply {
        let body = json!({ "message": { "parts": text_parts(text) } });
        self.post("/api/v1/chat/messages", Bearer(visitor), body)
            .await
    }

    async fn context(&self, agent: &str) -> Value {
        ok(self
            .get("/api/v1/chat/livechat/agent/context", Bearer(agent))
            .await)
    }

    async fn agent_say(&self, agent: &str, agent_id: &str, text: &str) -> Reply {
        self.agent_send(agent, agent_id, text_parts(text)).await
    }

    async fn agent_send(&self, agent: &str, agent_id: &str, parts: Value) -> Reply {
        let body = json!({ "agent_id": agent_id, "message": { "parts": parts } });
        self.post("/api/v1/chat/livechat/agent/messages", Bearer(agent), body)
            .await
    }

    async fn agent_typing(&self, agent: &str, agent_id: &str, is_typing: bool) -> Reply {
        let body = json!({ "agent_id": agent_id, "is_typing": is_typing });
        self.post("/api/v1/chat/livechat/agent/typing", Bearer(agent), body)
            .await
    }

    async fn close(&self, visitor: &str, body: Value) -> Reply {
        self.post("/api/v1/chat/livechat/close", Bearer(visitor), body)
            .await
    }

    async fn feedback(&self, visitor: &str, body: Value) -> Reply {
        self.post("/api/v1/chat/livechat/feedback", Bearer(visitor), body)
            .await
    }

    async fn agent_close(&self, agent: &str, body: Value) -> Reply {
        self.post("/api/v1/chat/livechat/agent/close", Bearer(agent), body)
            .await
    }

    async fn put_agent(&self, agent_id: &str, display_name: &str) -> Value {
        let path = format!("/api/v1/chat/livechat/agents/{agent_id}");
        let body = json!({ "display_name": display_name });
        ok(self.call(Method::PUT, &path, ApiKey, Some(body)).await)
    }

    async fn put_settings(&self, settings: Value) -> Reply {
        self.call(
            Method::PUT,
            "/api/v1/chat/livechat/settings",
            ApiKey,
            Some(settings),
        )
        .await
    }

    async fn settings(&self) -> Value {
        ok(self.get("/api/v1/chat/livechat/settings", ApiKey).await)
    }

    async fn session_ids(&self, query: &str) -> Vec<String> {
        let list = ok(self
            .get(&format!("/api/v1/chat/livechat/sessions{query}"), ApiKey)
            .await);
        list["sessions"]
            .as_array()
            .unwrap()
            .iter()
            .map(|s| s["livechat_session_id"].as_str().unwrap().to_owned())
            .collect()
    }

    async fn session_count(&self, query: &str) -> Value {
        let path = format!("/api/v1/chat/livechat/sessions/count{query}");
        ok(self.get(&path, ApiKey).await)
    }

    async fn download(&self, url: &str) -> (u16, HeaderMap, Vec<u8>) {
        assert!(url.starts_with(&self.base), "{url}");
        let res = self.api.http.get(url).send().await.unwrap();
        let (status, headers) = (res.status().as_u16(), res.headers().clone());
        (status, headers, res.bytes().await.unwrap().to_vec())
    }

    async fn download_fails(&self, url: &str, status: u16, code: &str) {
        let (got, _, bytes) = self.download(url).await;
        let body: Value = serde_json::from_slice(&bytes).unwrap_or(Value::Null);
        fails((got, body), status, code);
    }
}

#[track_caller]
fn ok((status, body): Reply) -> Value {
    assert_eq!(status, 200, "{body}");
    body
}

/// A failure with this status and `error.code`, in the envelope; returns the body.
#[track_caller]
fn fails((status, body): Reply, expected: u16, code: &str) -> Value {
    assert_eq!(
        (status, body["error"]["code"].as_str()),
        (expected, Some(code)),
        "{body}"
    );
    assert!(
        body["error"]["message"]
            .as_str()
            .is_some_and(|m| !m.is_empty()),
        "{body}"
    );
    body
}

/// `422 validation` whose `params` name `field`.
#[track_caller]
fn invalid(reply: Reply, field: &str) {
    let body = fails(reply, 422, "validation");
    let fields: Vec<&str> = body["error"]["params"]
        .as_array()
        .map(|p| p.iter().filter_map(|f| f["field"].as_str()).collect())
        .unwrap_or_default();
    assert!(fields.contains(&field), "no {field} in {body}");
}

fn text_parts(text: &str) -> Value {
    json!([{ "type": "text", "text": text }])
}

fn file_part(bytes: &[u8], mime: &str, filename: &str) -> Value {
    json!({ "type": "file", "data": STANDARD.encode(bytes), "mime": mime, "filename": filename })
}

fn image_part(bytes: &[u8]) -> Value {
    json!({ "type": "image", "data": STANDARD.encode(bytes), "mime": "image/png", "filename": "photo.png" })
}

/// The demo chatbot's settings (`server/dgbot.toml`) with `changes` on top.
fn settings_with(changes: Value) -> Value {
    let mut s = json!({
        "enabled": true,
        "working_hours": [],
        "timezone": "Europe/Copenhagen",
        "attachments_enabled": true,
        "max_attachment_size_bytes": 10485760,
        "attachment_retention_days": 30,
    });
    for (k, v) in changes.as_object().unwrap() {
        s[k] = v.clone();
    }
    s
}

fn weekdays_nine_to_five() -> Value {
    ["monday", "tuesday", "wednesday", "thursday", "friday"]
        .iter()
        .map(|day| json!({ "day": day, "start": "09:00", "end": "17:00" }))
        .collect()
}

fn message_ids(messages: &Value) -> Vec<&str> {
    messages["messages"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["message_id"].as_str().unwrap())
        .collect()
}

fn id_of(message: &Value) -> String {
    message["message_id"].as_str().unwrap().to_owned()
}

/// Whether `transcript` holds a message by `role` whose first part says `text`.
fn has_message(transcript: &Value, role: &str, text: &str) -> bool {
    transcript
        .as_array()
        .unwrap()
        .iter()
        .any(|m| m["role"] == role && m["parts"][0]["text"] == text)
}

/// The part with `attachment_id` among the visitor's livechat messages.
fn attachment_in(messages: &Value, attachment_id: &str) -> Value {
    messages["messages"]
        .as_array()
        .unwrap()
        .iter()
        .flat_map(|m| m["parts"].as_array().unwrap())
        .find(|p| p["attachment_id"] == attachment_id)
        .unwrap_or_else(|| panic!("no attachment {attachment_id} in {messages}"))
        .clone()
}

fn url_of(part: &Value) -> String {
    part["url"].as_str().unwrap().to_owned()
}

/// The visitor id inside a visitor token (its `sub`).
fn visitor_id(token: &str) -> String {
    let claims = URL_SAFE_NO_PAD
        .decode(token.split('.').nth(1).unwrap())
        .unwrap();
    serde_json::from_slice::<Value>(&claims).unwrap()["sub"]
        .as_str()
        .unwrap()
        .to_owned()
}

/// The values at `fields` (space-separated; dots go into objects), as an array, `null` where
/// missing: `pick(&state, "status agent.agent_id")`.
fn pick(value: &Value, fields: &str) -> Value {
    fields
        .split(' ')
        .map(|f| {
            value
                .pointer(&format!("/{}", f.replace('.', "/")))
                .cloned()
                .unwrap_or(Value::Null)
        })
        .collect()
}

/// `state_version` must grow at every step.
struct Versions(u64);

impl Versions {
    #[track_caller]
    fn rose(&mut self, state: &Value) {
        let v = state["state_version"].as_u64().expect("a state_version");
        assert!(v > self.0, "state_version {v} did not grow past {}", self.0);
        self.0 = v;
    }
}

#[tokio::test]
async fn the_whole_livechat_lifecycle() {
    let s = livechat_server();
    let visitor = s.visitor().await;
    let lc = s.availability(&visitor).await;
    assert_eq!(
        pick(&lc, "enabled availability_status availability_reason"),
        json!([true, "live", "always_on"])
    );
    let inactive = s.state(&visitor).await;
    assert_eq!(pick(&inactive, "status session"), json!(["inactive", null]));

    // Hand-over: the seed's response, exactly.
    let session = ok(s.handover(&visitor).await);
    let keys: BTreeSet<&str> = session
        .as_object()
        .unwrap()
        .keys()
        .map(String::as_str)
        .collect();
    assert_eq!(
        keys,
        BTreeSet::from([
            "livechat_session_id",
            "status",
            "platform",
            "language",
            "requested_at",
            "closed_at",
            "closed_by",
            "closed_by_agent_id",
            "close_reason",
        ])
    );
    assert_eq!(
        pick(&session, "status platform language"),
        json!(["waiting", "website", "english"])
    );
    assert!(
        session["requested_at"]
            .as_str()
            .is_some_and(|t| t.ends_with('Z'))
    );
    for key in [
        "closed_at",
        "closed_by",
        "closed_by_agent_id",
        "close_reason",
    ] {
        assert_eq!(session[key], Value::Null, "{key}");
    }
    let session_id = session["livechat_session_id"].as_str().unwrap().to_owned();
    assert_eq!(
        ok(s.handover(&visitor).await),
        session,
        "a second hand-over starts nothing"
    );
    let mut versions = Versions(0);
    let waiting = s.state(&visitor).await;
    assert_eq!(waiting["status"], "waiting");
    assert_eq!(
        waiting["session"]["livechat_session_id"],
        session_id.as_str()
    );
    versions.rose(&waiting);

    // While waiting, the assistant still answers, and the visitor may write to the agent.
    assert_eq!(s.ask(&visitor, "How long does shipping take?").await.0, 200);
    let hello = ok(s.say(&visitor, text_parts("Hello, is anyone there?")).await);
    assert_eq!(hello["message"]["role"], "user");
    versions.rose(&hello);

    // The agent app: the context, then the first message assigns Alice.
    let agent = s.agent_token(&session_id).await;
    let context = s.context(&agent).await;
    assert_eq!(context["chatbot_id"], DEMO_CHATBOT_ID);
    assert_eq!(
        context["livechat_session"]["livechat_session_id"],
        session_id.as_str()
    );
    assert_eq!(context["visitor"]["id"], visitor_id(&visitor).as_str());
    assert_eq!(pick(&context, "agent visitor_typing"), json!([null, false]));
    assert!(has_message(
        &context["transcript"],
        "user",
        "How long does shipping take?"
    ));
    assert!(has_message(
        &context["transcript"],
        "user",
        "Hello, is anyone there?"
    ));
    assert!(
        context["transcript"]
            .as_array()
            .unwrap()
            .iter()
            .any(|m| m["role"] == "assistant")
    );

    let reply = ok(s
        .agent_say(&agent, ALICE, "Hi, I'm Alice. I can help from here.")
        .await);
    assert_eq!(reply["message"]["role"], "agent");
    assert_eq!(reply["message"]["author"]["display_name"], ALICE_NAME);
    versions.rose(&reply);
    let active = s.state(&visitor).await;
    assert_eq!(active["status"], "active");
    assert_eq!(
        pick(&active, "agent.agent_id agent.display_name"),
        json!([ALICE, ALICE_NAME])
    );
    assert_eq!(active["state_version"], reply["state_version"]);

    // The visitor's livechat messages, all and after one.
    let all = s.livechat_messages(&visitor, "").await;
    let (hello_id, reply_id) = (id_of(&hello["message"]), id_of(&reply["message"]));
    assert_eq!(message_ids(&all), [hello_id.as_str(), reply_id.as_str()]);
    let from_alice = &all["messages"][1];
    assert_eq!(
        pick(from_alice, "role author.agent_id author.display_name"),
        json!(["agent", ALICE, ALICE_NAME])
    );
    assert_eq!(all["state_version"], active["state_version"]);
    let newer = s
        .livechat_messages(&visitor, &format!("?after={hello_id}"))
        .await;
    assert_eq!(message_ids(&newer), [reply_id.as_str()]);
    let none = s
        .livechat_messages(&visitor, &format!("?after={reply_id}"))
        .await;
    assert_eq!(message_ids(&none), Vec::<&str>::new());

    // Typing, both ways.
    ok(s.agent_typing(&agent, ALICE, true).await);
    let typing = s.state(&visitor).await;
    assert_eq!(typing["agent_typing"], true);
    versions.rose(&typing);
    ok(s.visitor_typing(&visitor, true).await);
    assert_eq!(s.context(&agent).await["visitor_typing"], true);
    versions.rose(&s.state(&visitor).await);

    // The visitor writes to Alice; the assistant is closed to them now.
    let question = ok(s
        .say(&visitor, text_parts("My order 123 never arrived"))
        .await);
    versions.rose(&question);
    let context = s.context(&agent).await;
    assert!(has_message(
        &context["transcript"],
        "user",
        "My order 123 never arrived"
    ));
    assert_eq!(
        context["visitor_typing"], false,
        "a message ends the visitor's typing"
    );
    let refused = fails(s.ask(&visitor, "Are you a bot?").await, 409, "conflict");
    assert!(
        refused["error"]["message"]
            .as_str()
            .unwrap()
            .contains(LIVECHAT_MESSAGES),
        "{refused}"
    );

    // The visitor closes, twice.
    let close = json!({ "reason": "Conversation completed" });
    let closed = ok(s.close(&visitor, close.clone()).await);
    assert_eq!(
        pick(&closed, "livechat_session_id status closed_by"),
        json!([session_id, "closed", "visitor"])
    );
    assert_eq!(
        pick(&closed, "close_reason closed_by_agent_id"),
        json!(["Conversation completed", null])
    );
    assert!(closed["closed_at"].is_string());
    let after_close = s.state(&visitor).await;
    assert_eq!(
        pick(&after_close, "status feedback.status agent_typing"),
        json!(["closed", "pending", false])
    );
    versions.rose(&after_close);
    let again = json!({ "reason": "Something else" });
    assert_eq!(ok(s.close(&visitor, again).await), closed);
    assert_eq!(
        s.state(&visitor).await["state_version"],
        after_close["state_version"]
    );
    fails(
        s.say(&visitor, text_parts("One more thing")).await,
        409,
        "conflict",
    );
    fails(s.visitor_typing(&visitor, true).await, 409, "conflict");
    fails(
        s.agent_say(&agent, ALICE, "Still here").await,
        409,
        "conflict",
    );

    // Feedback, once.
    let feedback = json!({ "rating": 5, "comment": "Great" });
    let rated = ok(s.feedback(&visitor, feedback.clone()).await);
    assert_eq!(
        rated["feedback"],
        json!({ "status": "submitted", "rating": 5, "comment": "Great" })
    );
    versions.rose(&rated);
    fails(s.feedback(&visitor, feedback).await, 409, "conflict");

    // A new hand-over starts a new session; the version keeps growing.
    let next = ok(s.handover(&visitor).await);
    assert_ne!(next["livechat_session_id"], session_id.as_str());
    assert_eq!(next["status"], "waiting");
    let next_state = s.state(&visitor).await;
    assert_eq!(
        pick(&next_state, "status agent feedback"),
        json!(["waiting", null, null])
    );
    versions.rose(&next_state);

    // The history has Alice's message as an agent message.
    let history = ok(s.get("/api/v1/chat/messages", Bearer(&visitor)).await);
    let agent_message = history["messages"]
        .as_array()
        .unwrap()
        .iter()
        .find(|m| m["message_id"] == reply_id.as_str())
        .unwrap_or_else(|| panic!("no agent message in {history}"));
    assert_eq!(
        pick(agent_message, "role author.display_name"),
        json!(["agent", ALICE_NAME])
    );
}

#[tokio::test]
async fn one_agent_per_session_and_races_have_one_winner() {
    let s = livechat_server();
    let bob = s.put_agent(BOB, "Bob").await;
    assert_eq!(bob, json!({ "agent_id": BOB, "display_name": "Bob" }));

    let (visitor, session_id) = s.waiting_visitor().await;
    let agent = s.agent_token(&session_id).await;
    invalid(
        s.agent_say(&agent, "agent-nobody", "Hello").await,
        "agent_id",
    );
    invalid(
        s.agent_typing(&agent, "agent-nobody", true).await,
        "agent_id",
    );
    invalid(
        s.agent_close(&agent, json!({ "agent_id": "agent-nobody" }))
            .await,
        "agent_id",
    );
    assert_eq!(
        s.state(&visitor).await["status"],
        "waiting",
        "no one was assigned"
    );
    ok(s.agent_say(&agent, ALICE, "Alice here").await);
    fails(s.agent_say(&agent, BOB, "Bob here").await, 409, "conflict");
    fails(s.agent_typing(&agent, BOB, true).await, 409, "conflict");
    let close = json!({ "agent_id": BOB, "reason": "Not mine" });
    fails(s.agent_close(&agent, close).await, 409, "conflict");
    let state = s.state(&visitor).await;
    assert_eq!(
        pick(&state, "status agent.agent_id agent_typing"),
        json!(["active", ALICE, false])
    );
    assert_eq!(
        s.livechat_messages(&visitor, "").await["messages"]
            .as_array()
            .unwrap()
            .len(),
        1
    );

    // Alice closes as the agent.
    let close = json!({ "agent_id": ALICE, "reason": "Solved" });
    let closed = ok(s.agent_close(&agent, close).await);
    assert_eq!(
        pick(&closed, "closed_by closed_by_agent_id close_reason"),
        json!(["agent", ALICE, "Solved"])
    );

    // Two agents answer the same waiting visitor at once: exactly one gets the session. (A
    // double-clicked hand-over button starts one session, too.)
    for round in 0..10 {
        let visitor = s.visitor().await;
        let (first, second) = tokio::join!(s.handover(&visitor), s.handover(&visitor));
        let (first, second) = (ok(first), ok(second));
        assert_eq!(
            first["livechat_session_id"], second["livechat_session_id"],
            "round {round}"
        );
        let session_id = first["livechat_session_id"].as_str().unwrap().to_owned();
        let agent = s.agent_token(&session_id).await;
        let (alice, bob) = tokio::join!(
            s.agent_say(&agent, ALICE, "Alice here"),
            s.agent_say(&agent, BOB, "Bob here")
        );
        let (winner, loser) = match (alice.0, bob.0) {
            (200, 409) => (ALICE, bob),
            (409, 200) => (BOB, alice),
            other => panic!("round {round}: {other:?}, {alice:?} {bob:?}"),
        };
        fails(loser, 409, "conflict");
        let state = s.state(&visitor).await;
        assert_eq!(state["agent"]["agent_id"], winner, "round {round}");
        let messages = s.livechat_messages(&visitor, "").await;
        let authors: Vec<&Value> = messages["messages"]
            .as_array()
            .unwrap()
            .iter()
            .map(|m| &m["author"]["agent_id"])
            .collect();
        assert_eq!(
            authors,
            [&json!(winner)],
            "round {round}: only the winner's message is kept"
        );
    }
}

#[tokio::test]
async fn agent_tokens_are_scoped_short_lived_and_not_interchangeable() {
    let s = livechat_at(MONDAY_MORNING);
    let (visitor_a, session_a) = s.waiting_visitor().await;
    let (visitor_b, session_b) = s.waiting_visitor().await;
    let agent_a = s.agent_token(&session_a).await;
    let agent_b = s.agent_token(&session_b).await;
    let context = s.context(&agent_a).await;
    assert_eq!(
        context["livechat_session"]["livechat_session_id"],
        session_a.as_str()
    );
    assert_eq!(context["visitor"]["id"], visitor_id(&visitor_a).as_str());
    assert_eq!(
        s.context(&agent_b).await["livechat_session"]["livechat_session_id"],
        session_b.as_str()
    );
    ok(s.agent_say(&agent_a, ALICE, "For A only").await);
    assert_eq!(
        message_ids(&s.livechat_messages(&visitor_b, "").await).len(),
        0
    );
    assert_eq!(
        message_ids(&s.livechat_messages(&visitor_a, "").await).len(),
        1
    );
    assert_eq!(s.state(&visitor_b).await["status"], "waiting");

    // Typing shows for 15 s on the server's clock.
    ok(s.agent_typing(&agent_a, ALICE, true).await);
    assert_eq!(s.state(&visitor_a).await["agent_typing"], true);
    s.clock().advance(Duration::from_secs(16));
    assert_eq!(s.state(&visitor_a).await["agent_typing"], false);

    // Neither the visitor token nor the API key opens the agent endpoints.
    for auth in [
        Bearer(&visitor_a),
        ApiKey,
        Bearer("lcs_not-a-real-token"),
        Anonymous,
    ] {
        fails(
            s.get("/api/v1/chat/livechat/agent/context", auth).await,
            401,
            "unauthorized",
        );
        let typing = json!({ "agent_id": ALICE, "is_typing": true });
        fails(
            s.post("/api/v1/chat/livechat/agent/typing", auth, typing)
                .await,
            401,
            "unauthorized",
        );
    }

    // Expiry on the server's clock; a new token works again.
    s.clock().advance(Duration::from_secs(60 * 60 + 1));
    fails(
        s.get("/api/v1/chat/livechat/agent/context", Bearer(&agent_a))
            .await,
        401,
        "unauthorized",
    );
    fails(
        s.agent_say(&agent_a, ALICE, "Too late").await,
        401,
        "unauthorized",
    );
    let fresh = s.agent_token(&session_a).await;
    assert_ne!(fresh, agent_a);
    assert_eq!(
        s.context(&fresh).await["livechat_session"]["livechat_session_id"],
        session_a.as_str()
    );

    // The setup endpoints want the API key.
    let token_path = format!("/api/v1/chat/livechat/sessions/{session_a}/token");
    for auth in [
        Anonymous,
        Basic("wrong-key"),
        Bearer(&visitor_a),
        Bearer(&fresh),
    ] {
        fails(
            s.get("/api/v1/chat/livechat/settings", auth).await,
            401,
            "unauthorized",
        );
        fails(
            s.get("/api/v1/chat/livechat/sessions", auth).await,
            401,
            "unauthorized",
        );
        fails(
            s.post(&token_path, auth, json!({})).await,
            401,
            "unauthorized",
        );
        let agent = json!({ "display_name": "Mallory" });
        let put = s.call(
            Method::PUT,
            "/api/v1/chat/livechat/agents/mallory",
            auth,
            Some(agent),
        );
        fails(put.await, 401, "unauthorized");
    }
    let unknown = "/api/v1/chat/livechat/sessions/livechat_session_nope/token";
    fails(s.post(unknown, ApiKey, json!({})).await, 404, "not_found");
}

#[tokio::test]
async fn availability_follows_working_hours_overrides_and_survives_a_restart() {
    let db = temp_db("availability");
    let s = livechat_on(
        Some(Database::Sqlite(db)),
        Clock::manual_at("2026-11-23T08:30:00Z"),
    );
    let hours = settings_with(json!({ "working_hours": weekdays_nine_to_five() }));
    assert_eq!(ok(s.put_settings(hours.clone()).await), hours);
    assert_eq!(s.settings().await, hours);

    // Monday 09:30 in Copenhagen.
    let early = s.visitor().await;
    let lc = s.availability(&early).await;
    assert_eq!(
        pick(&lc, "availability_status availability_reason configured"),
        json!(["live", "working_hours", true])
    );
    let session = ok(s.handover(&early).await);

    // Monday 17:30 in Copenhagen: no new hand-overs; the waiting one stays.
    s.clock().advance(Duration::from_secs(8 * 3600));
    let late = s.visitor().await;
    let lc = s.availability(&late).await;
    assert_eq!(
        pick(&lc, "enabled availability_status availability_reason"),
        json!([true, "offline", "outside_working_hours"])
    );
    fails(s.handover(&late).await, 403, "forbidden");
    assert_eq!(s.state(&late).await["status"], "inactive");
    assert_eq!(ok(s.handover(&early).await), session);

    // Manual overrides win over the hours.
    let live = settings_with(
        json!({ "working_hours": weekdays_nine_to_five(), "manual_override": "live" }),
    );
    ok(s.put_settings(live).await);
    let lc = s.availability(&late).await;
    assert_eq!(
        pick(&lc, "availability_status availability_reason"),
        json!(["live", "manual_override"])
    );
    ok(s.handover(&late).await);
    let offline = settings_with(
        json!({ "working_hours": weekdays_nine_to_five(), "manual_override": "offline" }),
    );
    ok(s.put_settings(offline).await);
    let lc = s.availability(&late).await;
    assert_eq!(
        pick(&lc, "availability_status availability_reason"),
        json!(["offline", "manual_override"])
    );
    fails(s.handover(&s.visitor().await).await, 403, "forbidden");

    // Disabled.
    let disabled = settings_with(json!({ "enabled": false }));
    ok(s.put_settings(disabled.clone()).await);
    let lc = s.availability(&late).await;
    assert_eq!(
        pick(&lc, "enabled availability_status availability_reason"),
        json!([false, "offline", "disabled"])
    );
    fails(s.handover(&s.visitor().await).await, 403, "forbidden");

    // Bad settings name their fields and change nothing.
    let bad = settings_with(json!({
        "timezone": "Mars/Olympus",
        "working_hours": [{ "day": "monday", "start": "9am", "end": "17:00" }],
    }));
    let reply = s.put_settings(bad).await;
    invalid(reply.clone(), "timezone");
    invalid(reply, "working_hours.0.start");
    invalid(
        s.put_settings(settings_with(json!({ "max_attachment_size_bytes": 0 })))
            .await,
        "max_attachment_size_bytes",
    );
    fails(
        s.put_settings(json!({ "enabled": "yes" })).await,
        422,
        "validation",
    );
    assert_eq!(s.settings().await, disabled);

    // A restart keeps them.
    let s = s.restarted();
    assert_eq!(s.settings().await, disabled);
    assert_eq!(
        s.availability(&late).await["availability_reason"],
        "disabled"
    );
}

#[tokio::test]
async fn attachments_are_stored_served_safely_expire_and_are_deleted() {
    let s = livechat_at(MONDAY_MORNING);
    let (visitor, _) = s.waiting_visitor().await;
    let parts = json!([
        { "type": "text", "text": "Here is the invoice you asked for." },
        file_part(PDF, "application/pdf", "invoice.pdf"),
        image_part(PNG),
    ]);
    let sent = ok(s.say(&visitor, parts).await);
    let pdf = sent["message"]["parts"][1].clone();
    let attachment_id = pdf["attachment_id"].as_str().unwrap().to_owned();
    assert_eq!(
        pick(&pdf, "type filename mime_type size_bytes"),
        json!(["file", "invoice.pdf", "application/pdf", PDF.len()])
    );
    assert_eq!(pdf["url_expires_at"], "2026-11-23T10:15:00Z", "15 minutes");
    assert_eq!(pdf["data"], Value::Null, "the base64 is not echoed");
    let pdf_url = url_of(&pdf);
    assert!(
        pdf_url.starts_with(&s.url(&format!(
            "/api/v1/chat/livechat/attachments/{attachment_id}?token="
        ))),
        "{pdf_url}"
    );
    let png = &sent["message"]["parts"][2];
    assert_eq!(
        pick(png, "type mime_type size_bytes filename"),
        json!(["image", "image/png", PNG.len(), "photo.png"])
    );
    assert!(png["attachment_id"].is_string() && png["url_expires_at"].is_string());

    let (status, headers, bytes) = s.download(&pdf_url).await;
    assert_eq!((status, bytes.as_slice()), (200, PDF));
    assert_eq!(headers["content-type"], "application/pdf");
    assert!(
        headers["content-disposition"]
            .to_str()
            .unwrap()
            .starts_with("attachment")
    );
    assert_eq!(headers["x-content-type-options"], "nosniff");
    let (status, headers, bytes) = s.download(&url_of(png)).await;
    assert_eq!((status, bytes.as_slice()), (200, PNG));
    assert_eq!(headers["content-type"], "image/png");

    // HTML is never served as a page of our origin.
    let html = b"<script>alert(1)</script>";
    let page = ok(s
        .say(
            &visitor,
            json!([file_part(html, "text/html", "../../pa\"ge;.html")]),
        )
        .await);
    let page = &page["message"]["parts"][0];
    assert_eq!(page["filename"], "page.html", "no path, quote or semicolon");
    let (status, headers, bytes) = s.download(&url_of(page)).await;
    assert_eq!((status, bytes.as_slice()), (200, html.as_slice()));
    assert_eq!(headers["content-type"], "application/octet-stream");
    assert_eq!(
        headers["content-disposition"],
        "attachment; filename=\"page.html\""
    );
    assert_eq!(headers["x-content-type-options"], "nosniff");

    // A tampered or missing token.
    let tampered = format!(
        "{}{}",
        &pdf_url[..pdf_url.len() - 1],
        if pdf_url.ends_with('0') { '1' } else { '0' }
    );
    s.download_fails(&tampered, 403, "forbidden").await;
    let unsigned = s.url(&format!(
        "/api/v1/chat/livechat/attachments/{attachment_id}?token=nope"
    ));
    s.download_fails(&unsigned, 403, "forbidden").await;

    // The chatbot's limit, and attachments switched off.
    ok(
        s.put_settings(settings_with(json!({ "max_attachment_size_bytes": 100 })))
            .await,
    );
    assert_eq!(
        s.availability(&visitor).await["max_attachment_size_bytes"],
        100
    );
    let too_big = json!([file_part(&[b'x'; 101], "text/plain", "big.txt")]);
    invalid(s.say(&visitor, too_big).await, "message.parts.0.data");
    ok(s.say(
        &visitor,
        json!([file_part(&[b'x'; 100], "text/plain", "fits.txt")]),
    )
    .await);
    ok(
        s.put_settings(settings_with(json!({ "attachments_enabled": false })))
            .await,
    );
    assert_eq!(s.availability(&visitor).await["attachments_enabled"], false);
    let refused = s
        .say(
            &visitor,
            json!([file_part(PDF, "application/pdf", "invoice.pdf")]),
        )
        .await;
    fails(refused, 422, "validation");
    ok(s.put_settings(settings_with(json!({}))).await);

    // The link expires; refetching the messages gives a fresh one.
    s.clock().advance(Duration::from_secs(15 * 60 + 1));
    s.download_fails(&pdf_url, 403, "forbidden").await;
    let fresh = attachment_in(&s.livechat_messages(&visitor, "").await, &attachment_id);
    assert_ne!(url_of(&fresh), pdf_url);
    let (status, _, bytes) = s.download(&url_of(&fresh)).await;
    assert_eq!((status, bytes.as_slice()), (200, PDF));

    // Deleting the visitor's data deletes the files.
    let (other, theirs_session) = s.waiting_visitor().await;
    let theirs = ok(s
        .say(
            &other,
            json!([file_part(PDF, "application/pdf", "theirs.pdf")]),
        )
        .await);
    let theirs_id = theirs["message"]["parts"][0]["attachment_id"]
        .as_str()
        .unwrap()
        .to_owned();
    let theirs_url = url_of(&attachment_in(
        &s.livechat_messages(&other, "").await,
        &theirs_id,
    ));
    let their_agent = s.agent_token(&theirs_session).await;
    let deleted = ok(s
        .call(Method::DELETE, "/api/v1/chat", Bearer(&other), None)
        .await);
    assert_eq!(
        pick(&deleted, "livechat_sessions attachments"),
        json!([1, 1])
    );
    s.download_fails(&theirs_url, 404, "not_found").await;
    assert_eq!(s.state(&other).await["status"], "inactive");
    fails(
        s.get("/api/v1/chat/livechat/agent/context", Bearer(&their_agent))
            .await,
        401,
        "unauthorized",
    );

    // Past the retention (30 days), gone.
    s.clock().advance(Duration::from_secs(30 * 86_400));
    let late = attachment_in(&s.livechat_messages(&visitor, "").await, &attachment_id);
    s.download_fails(&url_of(&late), 404, "not_found").await;
}

#[tokio::test]
async fn a_restart_keeps_the_session_messages_and_agent_token() {
    let db = temp_db("restart");
    let s = livechat_on(Some(Database::Sqlite(db.clone())), Clock::system());
    let (visitor, session_id) = s.waiting_visitor().await;
    let agent = s.agent_token(&session_id).await;
    let parts = json!([
        { "type": "text", "text": "Here is your receipt." },
        file_part(PDF, "application/pdf", "receipt.pdf"),
    ]);
    let sent = ok(s.agent_send(&agent, ALICE, parts).await);
    let attachment_id = sent["message"]["parts"][1]["attachment_id"]
        .as_str()
        .unwrap()
        .to_owned();
    let before = s.state(&visitor).await;

    let s = s.restarted();
    let after = s.state(&visitor).await;
    assert_eq!(after, before);
    assert_eq!(
        pick(&after, "status agent.agent_id"),
        json!(["active", ALICE])
    );
    let messages = s.livechat_messages(&visitor, "").await;
    assert_eq!(message_ids(&messages), [id_of(&sent["message"]).as_str()]);
    let (status, _, bytes) = s
        .download(&url_of(&attachment_in(&messages, &attachment_id)))
        .await;
    assert_eq!((status, bytes.as_slice()), (200, PDF));
    let context = s.context(&agent).await;
    assert_eq!(
        context["livechat_session"]["livechat_session_id"],
        session_id.as_str()
    );
    assert!(has_message(
        &context["transcript"],
        "agent",
        "Here is your receipt."
    ));
    ok(s.agent_say(&agent, ALICE, "Still here after the restart")
        .await);
}

#[tokio::test]
async fn sessions_list_by_status_and_whose_turn_it_is() {
    let s = livechat_server();
    let (_, waiting) = s.waiting_visitor().await;
    let (answered_visitor, answered) = s.waiting_visitor().await;
    ok(
        s.agent_say(&s.agent_token(&answered).await, ALICE, "How can I help?")
            .await,
    );
    let (closed_visitor, closed) = s.waiting_visitor().await;
    ok(s.close(&closed_visitor, json!({})).await);

    assert_eq!(s.session_ids("?turn=agent").await, [waiting.as_str()]);
    assert_eq!(s.session_ids("?turn=visitor").await, [answered.as_str()]);
    assert_eq!(s.session_ids("?status=closed").await, [closed.as_str()]);
    assert_eq!(s.session_ids("?status=waiting").await, [waiting.as_str()]);
    assert_eq!(s.session_ids("?status=active").await, [answered.as_str()]);
    let mut all = s.session_ids("").await;
    all.sort();
    let mut expected = vec![waiting.clone(), answered.clone(), closed.clone()];
    expected.sort();
    assert_eq!(all, expected);
    assert_eq!(s.session_count("?turn=agent").await, json!({ "count": 1 }));

    // The visitor answers: the agent's move again.
    ok(s.say(&answered_visitor, text_parts("Where is my parcel?"))
        .await);
    let mut agent_turn = s.session_ids("?turn=agent").await;
    agent_turn.sort();
    let mut expected = vec![waiting.clone(), answered.clone()];
    expected.sort();
    assert_eq!(agent_turn, expected);
    assert_eq!(s.session_count("?turn=agent").await, json!({ "count": 2 }));
    assert_eq!(
        s.session_count("?turn=visitor").await,
        json!({ "count": 0 })
    );

    invalid(
        s.get("/api/v1/chat/livechat/sessions?status=foo", ApiKey)
            .await,
        "status",
    );
    invalid(
        s.get("/api/v1/chat/livechat/sessions?turn=foo", ApiKey)
            .await,
        "turn",
    );
    invalid(
        s.get("/api/v1/chat/livechat/sessions/count?status=foo", ApiKey)
            .await,
        "status",
    );
}

#[tokio::test]
async fn the_long_poll_returns_as_soon_as_the_agent_writes() {
    let s = livechat_server();
    let (visitor, session_id) = s.waiting_visitor().await;
    let agent = s.agent_token(&session_id).await;
    let first = ok(s.agent_say(&agent, ALICE, "Hello!").await);
    let after = id_of(&first["message"]);
    let poll = format!("{LIVECHAT_MESSAGES}?after={after}&wait=10");

    let started = Instant::now();
    let (polled, sent) = tokio::join!(s.get(&poll, Bearer(&visitor)), async {
        tokio::time::sleep(Duration::from_millis(300)).await;
        ok(s.agent_say(&agent, ALICE, "Are you still there?").await)
    });
    let elapsed = started.elapsed();
    let polled = ok(polled);
    assert!(elapsed < Duration::from_secs(5), "took {elapsed:?}");
    assert!(
        elapsed >= Duration::from_millis(300),
        "returned before the message: {polled}"
    );
    assert_eq!(message_ids(&polled), [id_of(&sent["message"]).as_str()]);
    assert_eq!(polled["state_version"], sent["state_version"]);

    // Nothing new: held for `wait`, then empty.
    let last = id_of(&sent["message"]);
    let started = Instant::now();
    let quiet = s
        .livechat_messages(&visitor, &format!("?after={last}&wait=1"))
        .await;
    assert!(started.elapsed() >= Duration::from_millis(900), "not held");
    assert_eq!(message_ids(&quiet), Vec::<&str>::new());

    invalid(
        s.get(&format!("{LIVECHAT_MESSAGES}?wait=31"), Bearer(&visitor))
            .await,
        "wait",
    );
    invalid(
        s.get(&format!("{LIVECHAT_MESSAGES}?wait=soon"), Bearer(&visitor))
            .await,
        "wait",
    );
}

#[tokio::test]
async fn bad_livechat_input_is_refused_with_the_right_code() {
    let s = livechat_server();
    let visitor = s.visitor().await;
    let handover = "/api/v1/chat/livechat/handover";
    fails(
        s.post(
            handover,
            Bearer(&visitor),
            json!({ "source": "manual_button" }),
        )
        .await,
        422,
        "validation",
    );
    invalid(
        s.post(
            handover,
            Bearer(&visitor),
            json!({ "platform": " ", "source": "manual_button" }),
        )
        .await,
        "platform",
    );
    let marker = json!({ "platform": "website", "source": "marker", "part_id": "part_nope" });
    invalid(s.post(handover, Bearer(&visitor), marker).await, "part_id");
    fails(s.handover("not-a-token").await, 401, "unauthorized");

    // No session yet.
    fails(s.say(&visitor, text_parts("Hello?")).await, 409, "conflict");
    fails(s.close(&visitor, json!({})).await, 404, "not_found");
    assert_eq!(s.state(&visitor).await["status"], "inactive");

    ok(s.handover(&visitor).await);
    invalid(s.say(&visitor, json!([])).await, "message.parts");
    invalid(
        s.say(&visitor, text_parts("   ")).await,
        "message.parts.0.text",
    );
    let products = json!([{ "type": "products", "part_id": "p1", "products": [] }]);
    invalid(s.say(&visitor, products).await, "message.parts.0.type");
    let not_an_image =
        json!([{ "type": "image", "data": STANDARD.encode(PDF), "mime": "application/pdf" }]);
    invalid(s.say(&visitor, not_an_image).await, "message.parts.0.mime");
    let not_base64 =
        json!([{ "type": "file", "data": "***", "mime": "application/pdf", "filename": "x.pdf" }]);
    invalid(s.say(&visitor, not_base64).await, "message.parts.0.data");
    let res = s
        .api
        .http
        .post(s.url(LIVECHAT_MESSAGES))
        .bearer_auth(&visitor)
        .header("content-type", "application/json")
        .body("{not json")
        .send()
        .await
        .unwrap();
    let status = res.status().as_u16();
    fails((status, res.json().await.unwrap()), 422, "validation");
    fails(s.visitor_typing(&visitor, true).await, 409, "conflict");
    fails(
        s.feedback(&visitor, json!({ "rating": 5 })).await,
        409,
        "conflict",
    );

    ok(s.close(&visitor, json!({})).await);
    invalid(s.feedback(&visitor, json!({ "rating": 9 })).await, "rating");
    invalid(s.feedback(&visitor, json!({ "rating": 0 })).await, "rating");
    assert_eq!(
        s.state(&visitor).await["feedback"]["status"],
        "pending",
        "still open"
    );
    ok(s.feedback(&visitor, json!({ "rating": 4 })).await);

    // A hand-over from the assistant's `request_human_agent` marker names its part.
    assert_eq!(s.ask(&visitor, "Can I talk to a person?").await.0, 200);
    let history = ok(s.get("/api/v1/chat/messages", Bearer(&visitor)).await);
    let marker = history["messages"]
        .as_array()
        .unwrap()
        .iter()
        .flat_map(|m| m["parts"].as_array().unwrap())
        .find(|p| p["type"] == "request_human_agent")
        .unwrap_or_else(|| panic!("no request_human_agent part in {history}"));
    let body = json!({ "platform": "website", "source": "marker", "part_id": marker["part_id"] });
    let session = ok(s.post(handover, Bearer(&visitor), body).await);
    assert_eq!(session["status"], "waiting");
}
