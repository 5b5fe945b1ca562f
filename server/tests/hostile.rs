//! Issue 14 ("Trust"), item 6: hostile input, tried in bulk, over real HTTP on port 0. The
//! corpus in `tests/hostile/` (script and event-handler injection, unsafe URLs, path traversal
//! in ids and file names, NUL bytes, bad and deeply nested JSON, invalid UTF-8, wrong types,
//! SVG and HTML uploads) goes against every endpoint of seed 002's API: the visitor's, the
//! livechat visitor's, the agent app's, the setup backend's and the webhook endpoints, with bad
//! credentials, bad bodies, bad query values and bad path ids; then oversized bodies, bodies
//! sent a byte at a time, and requests that are not HTTP at all.
//!
//! What must hold: every bad request gets a non-2xx answer in the seed's `ApiError` envelope
//! whose code fits its status (never a 500 for a client's mistake); the server answers other
//! requests while it happens and after; a conversation stored before the barrage (assistant
//! answers, a livechat session, attachments) comes back identical; hostile text that is
//! accepted comes back exactly as it was sent (escaping is the renderer's job, not the
//! store's); and uploaded SVG and HTML are never served as something a browser renders.

use dgbot_testkit::TestServer;
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, OnceLock};
use std::time::{Duration, Instant};

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use dgbot_server::Clock;
use dgbot_server::config::{DEMO_API_KEY, DEMO_CHATBOT_ID, RateLimit};
use reqwest::Method;
use reqwest::header::{HeaderMap, HeaderValue};
use serde_json::{Value, json};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

/// Fixed, and the clock stands still, so signed attachment links are the same before and after
/// the barrage and the stored conversation can be compared whole.
const SECRET: &[u8] = b"hostile tests: a fixed secret for stable signed links";
const NOW: &str = "2026-11-23T10:00:00Z";
const ALICE: &str = "agent-alice";
const PDF: &[u8] =
    b"%PDF-1.4\n1 0 obj << /Type /Catalog >> endobj\ntrailer << /Root 1 0 R >>\n%%EOF\n";
const PNG: &[u8] =
    b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x00\x01\x00\x00\x00\x01\x08\x06\x00\x00\x00";

// ----- the corpus -----

fn hostile_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../tests/hostile")
}

fn corpus() -> &'static Value {
    static CORPUS: OnceLock<Value> = OnceLock::new();
    CORPUS.get_or_init(|| {
        let text = std::fs::read_to_string(hostile_dir().join("corpus.json")).unwrap();
        serde_json::from_str(&text).expect("tests/hostile/corpus.json is JSON")
    })
}

/// A list of strings of the corpus.
fn strings(list: &str) -> Vec<String> {
    corpus()[list]
        .as_array()
        .unwrap_or_else(|| panic!("no list {list} in the corpus"))
        .iter()
        .map(|s| s.as_str().unwrap().to_owned())
        .collect()
}

fn upload(name: &str) -> Vec<u8> {
    std::fs::read(hostile_dir().join("uploads").join(name)).unwrap()
}

/// Request bodies that are not JSON a server should take: the corpus' bad bodies, its invalid
/// UTF-8 files, and its deeply nested documents, built.
fn bad_bodies() -> Vec<(String, Vec<u8>)> {
    let mut all: Vec<(String, Vec<u8>)> = strings("bodies")
        .into_iter()
        .map(|b| (format!("body {b:?}"), b.into_bytes()))
        .collect();
    let mut files: Vec<_> = std::fs::read_dir(hostile_dir().join("invalid_utf8"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    files.sort();
    assert!(files.len() >= 5, "the invalid UTF-8 bodies");
    for f in files {
        let name = f.file_name().unwrap().to_string_lossy().into_owned();
        all.push((format!("invalid UTF-8 {name}"), std::fs::read(&f).unwrap()));
    }
    for n in corpus()["nested"].as_array().unwrap() {
        let depth = n["depth"].as_u64().unwrap() as usize;
        let body = format!(
            "{}{}",
            n["open"].as_str().unwrap().repeat(depth),
            n["close"].as_str().unwrap().repeat(depth)
        );
        all.push((format!("nested: {}", n["about"]), body.into_bytes()));
    }
    all
}

/// Every byte but `[A-Za-z0-9_~-]` as `%XX`, so an id reaches the server as one path segment
/// whatever it holds (`/`, `..`, NUL, CR LF).
fn segment(id: &str) -> String {
    id.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'_' | b'~' | b'-' => (b as char).to_string(),
            _ => format!("%{b:02X}"),
        })
        .collect()
}

// ----- the server -----

/// How long one request may take (the client gives up after it).
const PATIENCE: Duration = Duration::from_secs(60);

/// The demo chatbot, its rate limit raised so that the barrage meets the checks under test
/// rather than `429`, on a clock that stands still.
fn hostile_server() -> TestServer {
    let clock = Clock::manual_at(NOW);
    TestServer::builder()
        .configure(move |config| {
            config.token_secret = SECRET.to_vec();
            config.clock = clock.clone();
        })
        .chatbot(|bot| {
            bot.rate_limit = RateLimit {
                messages: 1_000_000,
                per_seconds: 60,
            }
        })
        .start()
}

/// How a request authenticates.
#[derive(Clone, Debug)]
enum Cred {
    Anonymous,
    Bearer(String),
    /// The string as the HTTP Basic user name (the API key scheme).
    Basic(String),
    /// `Authorization` exactly as given (not even UTF-8, say).
    Raw(Vec<u8>),
}

fn api_key() -> Cred {
    Cred::Basic(DEMO_API_KEY.into())
}

/// A status, the headers and the body.
struct Reply {
    status: u16,
    headers: HeaderMap,
    bytes: Vec<u8>,
}

impl Reply {
    fn json(&self) -> Value {
        serde_json::from_slice(&self.bytes).unwrap_or(Value::Null)
    }
}

/// Requests of every kind, as an attacker (or a confused client) sends them.
trait Hostile {
    /// The server's socket address, for raw connections.
    fn addr(&self) -> std::net::SocketAddr;
    /// `path` is sent as written (percent-escapes included).
    async fn send(
        &self,
        method: Method,
        path: &str,
        cred: &Cred,
        content_type: Option<&str>,
        body: Option<Vec<u8>>,
    ) -> Reply;
    async fn json_call(&self, method: Method, path: &str, cred: &Cred, body: &Value) -> Reply;
    async fn get(&self, path: &str, cred: &Cred) -> Reply;
    async fn post(&self, path: &str, cred: &Cred, body: Value) -> Reply;
    /// A new visitor, the way the site owner's backend makes one (`POST /auth`, API key).
    async fn visitor(&self) -> String;
    /// Ask the demo assistant; the stream is read to its end.
    async fn ask(&self, visitor: &str, text: &str);
    async fn history(&self, visitor: &str) -> Value;
    /// The `part_id` of the first part of type `kind` in the visitor's history.
    async fn part_of(&self, visitor: &str, kind: &str) -> String;
    /// A hand-over for the visitor: its session id and an agent token for it.
    async fn handover(&self, visitor: &str) -> (String, String);
    /// An HTTP/1.1 request written as given on a fresh connection, and the answer read as
    /// it comes, while the request is still being written (a server may answer an oversized
    /// body before it has all of it).
    async fn raw(&self, request: Vec<u8>) -> Option<Reply>;
    /// Is the server still answering? A visitor's config, within five seconds.
    async fn alive(&self, visitor: &str);
}

impl Hostile for TestServer {
    fn addr(&self) -> std::net::SocketAddr {
        ([127, 0, 0, 1], self.port).into()
    }

    async fn send(
        &self,
        method: Method,
        path: &str,
        cred: &Cred,
        content_type: Option<&str>,
        body: Option<Vec<u8>>,
    ) -> Reply {
        let mut req = self
            .api
            .http
            .request(method, self.url(path))
            .timeout(PATIENCE);
        req = match cred {
            Cred::Anonymous => req,
            Cred::Bearer(t) => req.header("authorization", format!("Bearer {t}")),
            Cred::Basic(user) => req.header(
                "authorization",
                format!("Basic {}", STANDARD.encode(format!("{user}:"))),
            ),
            Cred::Raw(bytes) => {
                req.header("authorization", HeaderValue::from_bytes(bytes).unwrap())
            }
        };
        if let Some(ct) = content_type {
            req = req.header("content-type", ct);
        }
        if let Some(body) = body {
            req = req.body(body);
        }
        let res = req
            .send()
            .await
            .unwrap_or_else(|e| panic!("{path}: no answer ({e})"));
        let (status, headers) = (res.status().as_u16(), res.headers().clone());
        let bytes = res.bytes().await.unwrap_or_default().to_vec();
        Reply {
            status,
            headers,
            bytes,
        }
    }

    async fn json_call(&self, method: Method, path: &str, cred: &Cred, body: &Value) -> Reply {
        self.send(
            method,
            path,
            cred,
            Some("application/json"),
            Some(body.to_string().into_bytes()),
        )
        .await
    }

    async fn get(&self, path: &str, cred: &Cred) -> Reply {
        self.send(Method::GET, path, cred, None, None).await
    }

    async fn post(&self, path: &str, cred: &Cred, body: Value) -> Reply {
        self.json_call(Method::POST, path, cred, &body).await
    }

    async fn visitor(&self) -> String {
        let r = self
            .post(
                "/api/v1/chat/auth",
                &api_key(),
                json!({ "chatbot_id": DEMO_CHATBOT_ID }),
            )
            .await;
        ok(&r)["token"].as_str().unwrap().to_owned()
    }

    async fn ask(&self, visitor: &str, text: &str) {
        let r = self
            .post(
                "/api/v1/chat/messages",
                &Cred::Bearer(visitor.into()),
                json!({ "message": { "parts": [{ "type": "text", "text": text }] } }),
            )
            .await;
        assert_eq!(
            r.status,
            200,
            "{text}: {}",
            String::from_utf8_lossy(&r.bytes)
        );
    }

    async fn history(&self, visitor: &str) -> Value {
        ok(&self
            .get(
                "/api/v1/chat/messages?limit=100",
                &Cred::Bearer(visitor.into()),
            )
            .await)
    }

    async fn part_of(&self, visitor: &str, kind: &str) -> String {
        let history = self.history(visitor).await;
        history["messages"]
            .as_array()
            .unwrap()
            .iter()
            .flat_map(|m| m["parts"].as_array().unwrap())
            .find(|p| p["type"] == kind)
            .unwrap_or_else(|| panic!("no {kind} part in {history}"))["part_id"]
            .as_str()
            .unwrap()
            .to_owned()
    }

    async fn handover(&self, visitor: &str) -> (String, String) {
        let session = ok(&self
            .post(
                "/api/v1/chat/livechat/handover",
                &Cred::Bearer(visitor.into()),
                json!({ "platform": "website", "source": "manual_button" }),
            )
            .await)["livechat_session_id"]
            .as_str()
            .unwrap()
            .to_owned();
        let token = ok(&self
            .post(
                &format!("/api/v1/chat/livechat/sessions/{session}/token"),
                &api_key(),
                json!({}),
            )
            .await)["token"]
            .as_str()
            .unwrap()
            .to_owned();
        (session, token)
    }

    async fn raw(&self, request: Vec<u8>) -> Option<Reply> {
        let n = request.len();
        raw_exchange(self.addr(), request, n, Duration::ZERO).await
    }

    async fn alive(&self, visitor: &str) {
        let started = Instant::now();
        let r = self
            .get("/api/v1/chat/config", &Cred::Bearer(visitor.into()))
            .await;
        assert_eq!(r.status, 200, "the server stopped answering");
        assert!(
            started.elapsed() < Duration::from_secs(5),
            "the server is stalled"
        );
    }
}

/// Write `request` to a new connection, its first `fast` bytes at once and the rest a byte
/// every `pace`, while reading the answer; the answer, or `None` when the server closed
/// without one.
async fn raw_exchange(
    addr: std::net::SocketAddr,
    request: Vec<u8>,
    fast: usize,
    pace: Duration,
) -> Option<Reply> {
    let stream = TcpStream::connect(addr).await.unwrap();
    let (mut read, mut write) = stream.into_split();
    let writer = tokio::spawn(async move {
        let (head, tail) = request.split_at(fast.min(request.len()));
        if write.write_all(head).await.is_err() {
            return;
        }
        for b in tail {
            tokio::time::sleep(pace).await;
            if write.write_all(&[*b]).await.is_err() {
                return;
            }
        }
        // Keep the write half open: closing it would end the body early.
        std::future::pending::<()>().await;
    });
    let mut buf = Vec::new();
    let mut chunk = vec![0u8; 64 * 1024];
    let reply = loop {
        match read.read(&mut chunk).await {
            Ok(0) | Err(_) => break parse_reply(&buf),
            Ok(n) => buf.extend_from_slice(&chunk[..n]),
        }
        if let Some(reply) = parse_reply(&buf)
            && reply.bytes.len()
                >= reply.headers["content-length"]
                    .to_str()
                    .ok()
                    .and_then(|l| l.parse().ok())
                    .unwrap_or(usize::MAX)
        {
            break Some(reply);
        }
    };
    writer.abort();
    reply
}

/// A whole response head and what there is of its body.
fn parse_reply(buf: &[u8]) -> Option<Reply> {
    let end = buf.windows(4).position(|w| w == b"\r\n\r\n")?;
    let head = String::from_utf8_lossy(&buf[..end]).into_owned();
    let mut lines = head.split("\r\n");
    let status = lines.next()?.split(' ').nth(1)?.parse().ok()?;
    let mut headers = HeaderMap::new();
    for line in lines {
        if let Some((k, v)) = line.split_once(':') {
            headers.insert(
                reqwest::header::HeaderName::from_bytes(k.trim().as_bytes()).ok()?,
                HeaderValue::from_str(v.trim()).ok()?,
            );
        }
    }
    if !headers.contains_key("content-length") {
        headers.insert(
            "content-length",
            HeaderValue::from_static("18446744073709551615"),
        );
    }
    Some(Reply {
        status,
        headers,
        bytes: buf[end + 4..].to_vec(),
    })
}

/// A request's head with `Content-Length` for `body`, and the body.
fn http_request(method: &str, path: &str, headers: &[(&str, String)], body: &[u8]) -> Vec<u8> {
    let mut req = format!("{method} {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n");
    for (k, v) in headers {
        req.push_str(&format!("{k}: {v}\r\n"));
    }
    req.push_str(&format!("Content-Length: {}\r\n\r\n", body.len()));
    let mut bytes = req.into_bytes();
    bytes.extend_from_slice(body);
    bytes
}

// ----- what a good answer looks like -----

#[track_caller]
fn ok(r: &Reply) -> Value {
    assert!(
        (200..300).contains(&r.status),
        "expected success, got {}: {}",
        r.status,
        String::from_utf8_lossy(&r.bytes)
    );
    r.json()
}

/// The statuses an `ApiError` code goes with (seed 002's table; `validation` also answers a
/// body too large, `413`, or too slow, `408`).
fn fits(code: &str, status: u16) -> bool {
    match code {
        "unauthorized" => status == 401,
        "forbidden" => status == 403,
        // `405`: a method the path does not take (see `unknown_paths_and_methods_get_the_envelope`).
        "not_found" => matches!(status, 404 | 405),
        "conflict" => status == 409,
        "rate_limited" => status == 429,
        "validation" => matches!(status, 422 | 413 | 408),
        _ => false,
    }
}

/// A client's mistake, refused properly: a 4xx in the envelope (`{"error": {"code", "message",
/// "params"?}}`, JSON) whose code fits the status. Returns the code.
#[track_caller]
fn refused(r: &Reply, what: &str) -> String {
    let body = r.json();
    let text = String::from_utf8_lossy(&r.bytes[..r.bytes.len().min(500)]).into_owned();
    assert!(
        (400..500).contains(&r.status),
        "{what}: expected a 4xx refusal, got {}: {text}",
        r.status
    );
    let error = body["error"].as_object().unwrap_or_else(|| {
        panic!(
            "{what}: {} without the ApiError envelope: {text:?}",
            r.status
        )
    });
    let code = error["code"].as_str().unwrap_or_default().to_owned();
    assert!(
        fits(&code, r.status),
        "{what}: code {code:?} does not fit status {}: {text}",
        r.status
    );
    assert!(
        error["message"].as_str().is_some_and(|m| !m.is_empty()),
        "{what}: no message: {text}"
    );
    assert!(
        error
            .keys()
            .all(|k| matches!(k.as_str(), "code" | "message" | "params")),
        "{what}: {text}"
    );
    if let Some(params) = error.get("params") {
        assert!(
            params.as_array().is_some_and(|p| p
                .iter()
                .all(|f| f["field"].is_string() && f["message"].is_string())),
            "{what}: params: {text}"
        );
    }
    assert!(
        r.headers
            .get("content-type")
            .and_then(|v| v.to_str().ok())
            .is_some_and(|v| v.starts_with("application/json")),
        "{what}: the envelope is JSON"
    );
    code
}

/// Refused with this status and code.
#[track_caller]
fn refused_as(r: &Reply, what: &str, status: u16, code: &str) {
    let got = refused(r, what);
    assert_eq!((r.status, got.as_str()), (status, code), "{what}");
}

/// Anything but a server error, and a refusal only in the envelope.
#[track_caller]
fn answered(r: &Reply, what: &str) {
    if !(200..300).contains(&r.status) {
        refused(r, what);
    }
}

// ----- the endpoints -----

#[derive(Clone, Copy, Debug, PartialEq)]
enum Who {
    /// `/auth`: the API key, as the Basic user name.
    Key,
    /// `/auth/public`: nobody in particular.
    Public,
    Visitor,
    Agent,
    /// The setup backend and the webhook endpoints: the API key.
    Owner,
    /// Signed attachment links: the token is in the query.
    Link,
}

#[derive(Clone, Debug)]
struct Endpoint {
    method: Method,
    /// With its query string, if any.
    path: String,
    who: Who,
    /// A body the endpoint takes (checked first), to break one way at a time.
    body: Option<Value>,
    /// Query parameters it reads.
    query: &'static [&'static str],
}

/// One visitor with a conversation, a contact form to answer and a livechat session, and the
/// agent token of that session: a fresh one for each endpoint, so that what one endpoint does
/// (close, delete) changes nothing for another.
struct Actor {
    visitor: String,
    session: String,
    agent: String,
    form: String,
}

impl Actor {
    async fn new(s: &TestServer) -> Actor {
        let visitor = s.visitor().await;
        s.ask(&visitor, "Please contact me").await;
        let form = s.part_of(&visitor, "show_contact_form").await;
        let (session, agent) = s.handover(&visitor).await;
        Actor {
            visitor,
            session,
            agent,
            form,
        }
    }

    fn cred(&self, who: Who) -> Cred {
        match who {
            Who::Visitor => Cred::Bearer(self.visitor.clone()),
            Who::Agent => Cred::Bearer(self.agent.clone()),
            Who::Key | Who::Owner => api_key(),
            Who::Public | Who::Link => Cred::Anonymous,
        }
    }
}

fn text_message(text: &str) -> Value {
    json!({ "parts": [{ "type": "text", "text": text }] })
}

/// Every endpoint of `server/src/adapters/dialog_v1/mod.rs` but `PUT /livechat/settings` (which
/// changes what every other visitor gets; see `settings_and_webhooks_refuse_hostile_input`).
fn endpoints(a: &Actor, event_id: &str, attachment: &str) -> Vec<Endpoint> {
    use Who::*;
    let e = |method: Method, path: &str, who: Who, body: Option<Value>, query| Endpoint {
        method,
        path: path.to_owned(),
        who,
        body,
        query,
    };
    let lc = "/api/v1/chat/livechat";
    vec![
        e(
            Method::POST,
            "/api/v1/chat/auth",
            Key,
            Some(json!({ "chatbot_id": DEMO_CHATBOT_ID })),
            &[],
        ),
        e(
            Method::POST,
            "/api/v1/chat/auth/public",
            Public,
            Some(json!({ "chatbot_id": DEMO_CHATBOT_ID, "host_origin": "http://localhost:5173" })),
            &[],
        ),
        e(Method::GET, "/api/v1/chat/config", Visitor, None, &[]),
        e(
            Method::POST,
            "/api/v1/chat/messages",
            Visitor,
            Some(json!({ "message": text_message("Hi") })),
            &[],
        ),
        e(
            Method::GET,
            "/api/v1/chat/messages",
            Visitor,
            None,
            &["limit", "before"],
        ),
        e(
            Method::POST,
            "/api/v1/chat/actions",
            Visitor,
            Some(
                json!({ "part_id": a.form, "action": { "type": "contact_form", "fields": { "name": "Jane", "email": "jane@example.com", "message": "Hi" } } }),
            ),
            &[],
        ),
        e(
            Method::POST,
            // The answer that showed the contact form (its part ids are `{message_id}_part_{n}`).
            &format!(
                "/api/v1/chat/messages/{}/feedback",
                a.form.rsplit_once("_part_").map_or("", |(id, _)| id)
            ),
            Visitor,
            Some(json!({ "value": "down", "reason": "incorrect", "comment": "Not what I asked" })),
            &[],
        ),
        e(
            Method::POST,
            "/api/v1/chat/rate",
            Visitor,
            Some(json!({ "rating": 5, "feedback": "Good" })),
            &[],
        ),
        e(
            Method::POST,
            "/api/v1/chat/identify",
            Visitor,
            Some(json!({ "user_id": "42", "name": "Ada", "email": "ada@example.com" })),
            &[],
        ),
        e(
            Method::GET,
            "/api/v1/chat/classification",
            Visitor,
            None,
            &["message_id"],
        ),
        e(
            Method::POST,
            &format!("{lc}/handover"),
            Visitor,
            Some(json!({ "platform": "website", "source": "manual_button" })),
            &[],
        ),
        e(Method::GET, &format!("{lc}/state"), Visitor, None, &[]),
        e(
            Method::GET,
            &format!("{lc}/messages"),
            Visitor,
            None,
            &["after", "wait"],
        ),
        e(
            Method::POST,
            &format!("{lc}/messages"),
            Visitor,
            Some(
                json!({ "message": text_message("Hello?"), "context": { "page": "https://shop.example.com/" } }),
            ),
            &[],
        ),
        e(
            Method::POST,
            &format!("{lc}/typing"),
            Visitor,
            Some(json!({ "is_typing": true })),
            &[],
        ),
        e(Method::GET, attachment, Link, None, &["token"]),
        e(
            Method::GET,
            &format!("{lc}/agent/context"),
            Agent,
            None,
            &[],
        ),
        e(
            Method::POST,
            &format!("{lc}/agent/messages"),
            Agent,
            Some(json!({ "agent_id": ALICE, "message": text_message("Alice here") })),
            &[],
        ),
        e(
            Method::POST,
            &format!("{lc}/agent/typing"),
            Agent,
            Some(json!({ "agent_id": ALICE, "is_typing": true })),
            &[],
        ),
        e(
            Method::PUT,
            &format!("{lc}/agents/agent-mallory"),
            Owner,
            Some(json!({ "display_name": "Mallory", "avatar_url": "https://example.com/m.png" })),
            &[],
        ),
        e(Method::GET, &format!("{lc}/settings"), Owner, None, &[]),
        e(
            Method::GET,
            &format!("{lc}/sessions"),
            Owner,
            None,
            &["status", "turn"],
        ),
        e(
            Method::GET,
            &format!("{lc}/sessions/count"),
            Owner,
            None,
            &["status", "turn"],
        ),
        e(
            Method::POST,
            &format!("{lc}/sessions/{}/token", a.session),
            Owner,
            None,
            &[],
        ),
        e(Method::GET, "/api/v1/chat/webhooks", Owner, None, &[]),
        e(
            Method::GET,
            "/api/v1/chat/events",
            Owner,
            None,
            &["type", "state", "limit", "before"],
        ),
        e(
            Method::GET,
            &format!("/api/v1/chat/events/{event_id}"),
            Owner,
            None,
            &[],
        ),
        e(
            Method::POST,
            &format!("/api/v1/chat/events/{event_id}/replay"),
            Owner,
            None,
            &[],
        ),
        // Last for their actor: they end its session or its data.
        e(
            Method::POST,
            &format!("{lc}/close"),
            Visitor,
            Some(json!({ "reason": "Done" })),
            &[],
        ),
        e(
            Method::POST,
            &format!("{lc}/feedback"),
            Visitor,
            Some(json!({ "rating": 4, "comment": "Thanks" })),
            &[],
        ),
        e(
            Method::POST,
            &format!("{lc}/agent/close"),
            Agent,
            Some(json!({ "agent_id": ALICE, "reason": "Resolved" })),
            &[],
        ),
        e(Method::DELETE, "/api/v1/chat", Visitor, None, &[]),
    ]
}

/// Credentials that are not the endpoint's: the corpus' bad bearers, the other callers' tokens,
/// hostile Basic user names, bytes that are not UTF-8, and a very long token.
fn bad_creds(who: Who, a: &Actor) -> Vec<Cred> {
    let mut creds = vec![Cred::Anonymous];
    creds.extend(strings("bad_bearers").into_iter().map(Cred::Bearer));
    creds.extend([
        Cred::Raw(b"Bearer \xff\xfe\xfd".to_vec()),
        Cred::Raw(b"Basic \xff\xfe".to_vec()),
        Cred::Raw(b"Bearer".to_vec()),
        Cred::Raw(format!("Basic {}", STANDARD.encode(b"\xff\xfe:")).into_bytes()),
        Cred::Raw(b"Basic ***".to_vec()),
        Cred::Raw(format!("Basic {}", STANDARD.encode(b":")).into_bytes()),
        Cred::Bearer("x".repeat(8 * 1024)),
        Cred::Basic("wrong-key".into()),
        Cred::Basic("demo-secret-key ".into()),
        Cred::Basic("' OR '1'='1".into()),
        Cred::Basic("<script>window.__pwned='basic'</script>".into()),
    ]);
    // The other callers' credentials.
    if who != Who::Visitor {
        creds.push(Cred::Bearer(a.visitor.clone()));
    }
    if who != Who::Agent {
        creds.push(Cred::Bearer(a.agent.clone()));
    }
    if !matches!(who, Who::Key | Who::Owner) {
        creds.push(api_key());
        creds.push(Cred::Bearer(DEMO_API_KEY.into()));
    }
    creds
}

/// Every member of `template` (objects at any depth, the first element of arrays), as JSON
/// pointers.
fn pointers(template: &Value, at: String, out: &mut Vec<String>) {
    match template {
        Value::Object(map) => {
            for (k, v) in map {
                let p = format!("{at}/{k}");
                out.push(p.clone());
                pointers(v, p, out);
            }
        }
        Value::Array(items) if !items.is_empty() => {
            let p = format!("{at}/0");
            out.push(p.clone());
            pointers(&items[0], p, out);
        }
        _ => {}
    }
}

/// Whether `bytes` are one JSON document that is an object (however deep or odd inside).
fn json_object(bytes: &[u8]) -> bool {
    bytes.iter().find(|b| !b" \t\r\n".contains(b)) == Some(&b'{')
        && serde_json::from_slice::<serde::de::IgnoredAny>(bytes).is_ok()
}

fn same_kind(a: &Value, b: &Value) -> bool {
    std::mem::discriminant(a) == std::mem::discriminant(b)
}

/// All the hostile requests for one endpoint, with the actor's own credentials where the
/// point is something else. Returns how many were sent.
async fn barrage(s: &TestServer, ep: &Endpoint, a: &Actor) -> usize {
    let mut sent = 0;
    let cred = a.cred(ep.who);
    let template = ep.body.as_ref().map(|b| b.to_string().into_bytes());
    let ct = ep.body.as_ref().map(|_| "application/json");
    let what = |how: &str| format!("{} {} ({how})", ep.method, ep.path);
    // `/auth/public` may be limited per address before the body is read: a `429` is a
    // refusal in the envelope too.
    let limited =
        |r: &Reply| ep.who == Who::Public && r.status == 429 && refused(r, "") == "rate_limited";

    // Who may call it.
    if !matches!(ep.who, Who::Public | Who::Link) {
        for bad in bad_creds(ep.who, a) {
            let r = s
                .send(ep.method.clone(), &ep.path, &bad, ct, template.clone())
                .await;
            refused_as(
                &r,
                &what(&format!("credentials {bad:?}")),
                401,
                "unauthorized",
            );
            sent += 1;
        }
    }

    if let Some(body) = &ep.body {
        // Bodies that are not a JSON object: refused as a whole; the rest must be answered.
        for (name, bytes) in bad_bodies() {
            let r = s
                .send(
                    ep.method.clone(),
                    &ep.path,
                    &cred,
                    Some("application/json"),
                    Some(bytes.clone()),
                )
                .await;
            match json_object(&bytes) {
                true => answered(&r, &what(&name)),
                _ if limited(&r) => {}
                _ => refused_as(&r, &what(&name), 422, "validation"),
            }
            sent += 1;
        }
        // The right body under the wrong content type.
        for content_type in corpus()["content_types"].as_array().unwrap() {
            let r = s
                .send(
                    ep.method.clone(),
                    &ep.path,
                    &cred,
                    content_type.as_str(),
                    template.clone(),
                )
                .await;
            if !limited(&r) {
                refused_as(
                    &r,
                    &what(&format!("content type {content_type}")),
                    422,
                    "validation",
                );
            }
            sent += 1;
        }
        // Each field of the right body, in turn, of every wrong type.
        let mut fields = vec![];
        pointers(body, String::new(), &mut fields);
        for pointer in &fields {
            let good = body.pointer(pointer).unwrap();
            for wrong in corpus()["wrong_types"].as_array().unwrap() {
                let mut changed = body.clone();
                *changed.pointer_mut(pointer).unwrap() = wrong.clone();
                let r = s
                    .json_call(ep.method.clone(), &ep.path, &cred, &changed)
                    .await;
                let how = what(&format!("{pointer} = {wrong}"));
                // serde takes an array for an object nested in the body (the struct's fields
                // in order, as its sequence form): a lenient reading, not a hole.
                let seq_form = good.is_object() && wrong.is_array();
                if !wrong.is_null() && !same_kind(good, wrong) && !seq_form {
                    refused(&r, &how);
                } else {
                    answered(&r, &how);
                }
                sent += 1;
            }
        }
    }

    // Every parameter it reads, with every hostile value (sent unescaped: `%ff` is a byte).
    for param in ep.query {
        for value in strings("query_values") {
            let sep = if ep.path.contains('?') { '&' } else { '?' };
            let path = format!("{}{sep}{param}={value}", ep.path);
            let r = s.send(ep.method.clone(), &path, &cred, None, None).await;
            answered(&r, &format!("{} {path}", ep.method));
            sent += 1;
        }
    }
    sent
}

/// A visitor's conversation as every reader sees it: the history, the livechat messages and
/// state, the agent's context, and the bytes behind each attachment link.
async fn snapshot(s: &TestServer, visitor: &str, agent: &str) -> Value {
    let v = Cred::Bearer(visitor.into());
    let history = s.history(visitor).await;
    let livechat = ok(&s.get("/api/v1/chat/livechat/messages", &v).await);
    let state = ok(&s.get("/api/v1/chat/livechat/state", &v).await);
    let context = ok(&s
        .get(
            "/api/v1/chat/livechat/agent/context",
            &Cred::Bearer(agent.into()),
        )
        .await);
    let mut files = vec![];
    for m in livechat["messages"].as_array().unwrap() {
        for p in m["parts"].as_array().unwrap() {
            if let Some(url) = p["url"].as_str() {
                let r = s
                    .get(url.strip_prefix(&s.base).unwrap(), &Cred::Anonymous)
                    .await;
                assert_eq!(r.status, 200, "{url}");
                files.push(STANDARD.encode(&r.bytes));
            }
        }
    }
    json!({ "history": history, "livechat": livechat, "state": state, "context": context, "files": files })
}

/// `GET /config` over and over while `stop` is false: how many answered, and how many did not.
fn heartbeat(
    s: &TestServer,
    visitor: &str,
    stop: Arc<AtomicBool>,
) -> tokio::task::JoinHandle<(usize, Vec<String>)> {
    let (http, url, token) = (
        s.api.http.clone(),
        s.url("/api/v1/chat/config"),
        visitor.to_owned(),
    );
    tokio::spawn(async move {
        let (mut answered, mut failures) = (0, vec![]);
        while !stop.load(Ordering::Relaxed) {
            let started = Instant::now();
            match http
                .get(&url)
                .bearer_auth(&token)
                .timeout(PATIENCE)
                .send()
                .await
            {
                Ok(r) if r.status() == 200 && started.elapsed() < Duration::from_secs(5) => {
                    answered += 1
                }
                Ok(r) => failures.push(format!("{} after {:?}", r.status(), started.elapsed())),
                Err(e) => failures.push(e.to_string()),
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        (answered, failures)
    })
}

// ----- the tests -----

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_endpoint_refuses_the_corpus_and_the_stored_conversation_survives() {
    let s = hostile_server();

    // A conversation stored before the barrage: assistant answers, a livechat session with
    // the agent's and the visitor's messages and attachments.
    let precious = s.visitor().await;
    s.ask(&precious, "What are your shipping times?").await;
    s.ask(&precious, "Which lamp do you recommend?").await;
    let (_, precious_agent) = s.handover(&precious).await;
    let agent_parts = json!([
        { "type": "text", "text": "Alice here: the invoice." },
        { "type": "file", "data": STANDARD.encode(PDF), "mime": "application/pdf", "filename": "invoice.pdf" },
    ]);
    ok(&s
        .post(
            "/api/v1/chat/livechat/agent/messages",
            &Cred::Bearer(precious_agent.clone()),
            json!({ "agent_id": ALICE, "message": { "parts": agent_parts } }),
        )
        .await);
    let visitor_parts = json!([
        { "type": "text", "text": "Thanks, here is a photo." },
        { "type": "image", "data": STANDARD.encode(PNG), "mime": "image/png", "filename": "photo.png" },
    ]);
    ok(&s
        .post(
            "/api/v1/chat/livechat/messages",
            &Cred::Bearer(precious.clone()),
            json!({ "message": { "parts": visitor_parts } }),
        )
        .await);
    let before = snapshot(&s, &precious, &precious_agent).await;
    assert_eq!(
        before["history"]["messages"].as_array().unwrap().len(),
        6,
        "{before}"
    );
    assert_eq!(before["files"].as_array().unwrap().len(), 2);

    // Something for the event and attachment endpoints to find.
    ok(&s
        .json_call(
            Method::PUT,
            "/api/v1/chat/webhooks",
            &api_key(),
            &json!({ "url": "http://127.0.0.1:9/hook", "secret": "0123456789abcdef0123" }),
        )
        .await);
    let probe = s.visitor().await;
    s.handover(&probe).await;
    let events = ok(&s.get("/api/v1/chat/events", &api_key()).await);
    let event_id = events["events"][0]["event_id"].as_str().unwrap().to_owned();
    let attachment = before["livechat"]["messages"]
        .as_array()
        .unwrap()
        .iter()
        .flat_map(|m| m["parts"].as_array().unwrap())
        .find_map(|p| p["url"].as_str())
        .unwrap()
        .strip_prefix(&s.base)
        .unwrap()
        .to_owned();

    // The barrage: each endpoint with its own actor, all at once, while the precious visitor's
    // config is asked for again and again.
    let stop = Arc::new(AtomicBool::new(false));
    let beat = heartbeat(&s, &precious, stop.clone());
    let s = Arc::new(s);
    let mut tasks = tokio::task::JoinSet::new();
    for i in 0..endpoints(&Actor::placeholder(), "", "").len() {
        let (s, event_id, attachment) = (s.clone(), event_id.clone(), attachment.clone());
        tasks.spawn(async move {
            let actor = Actor::new(&s).await;
            let ep = endpoints(&actor, &event_id, &attachment).remove(i);
            barrage(&s, &ep, &actor).await
        });
    }
    let mut sent = 0;
    while let Some(n) = tasks.join_next().await {
        sent += n.unwrap_or_else(|e| std::panic::resume_unwind(e.into_panic()));
    }
    stop.store(true, Ordering::Relaxed);
    let (beats, failures) = beat.await.unwrap();
    assert!(
        failures.is_empty(),
        "the server did not answer during the barrage: {failures:?}"
    );
    assert!(beats >= 10, "only {beats} answers during the barrage");
    assert!(sent > 2000, "{sent} hostile requests");

    s.alive(&precious).await;
    let after = snapshot(&s, &precious, &precious_agent).await;
    assert_eq!(after, before, "the stored conversation changed");
}

impl Actor {
    /// Enough of an actor to count the endpoints.
    fn placeholder() -> Actor {
        Actor {
            visitor: String::new(),
            session: String::new(),
            agent: String::new(),
            form: String::new(),
        }
    }
}

/// Whether an agent id is one the setup backend may create: letters, digits, `-`, `_`, `.`
/// and `@`, not starting with a dot.
fn plain_id(id: &str) -> bool {
    !id.is_empty()
        && !id.starts_with('.')
        && id.len() <= 200
        && id
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.' | b'@'))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn hostile_ids_and_paths_name_nothing() {
    let s = hostile_server();
    let visitor = s.visitor().await;
    let (session, _) = s.handover(&visitor).await;
    let lc = "/api/v1/chat/livechat";
    let key = (
        "Authorization",
        format!("Basic {}", STANDARD.encode(format!("{DEMO_API_KEY}:"))),
    );
    let json_ct = ("Content-Type", "application/json".to_owned());
    let mut ids: Vec<(String, Option<String>)> = strings("ids")
        .into_iter()
        .chain([
            "a".repeat(5000),
            format!("{session}x"),
            format!("{session}/../{session}"),
        ])
        .map(|id| (segment(&id), Some(id)))
        .collect();
    // Segments that do not decode (not UTF-8) and escapes that are not escapes.
    ids.extend(
        strings("raw_path_segments")
            .into_iter()
            .map(|raw| (raw, None)),
    );
    // Sent on a raw connection: an HTTP client would resolve `%2E%2E` before sending.
    for (sent, id) in &ids {
        let what = |p: &str| format!("{p} (id {id:?})");
        let p = format!(
            "{lc}/attachments/{sent}?token=9999999999.{}",
            "0".repeat(64)
        );
        let r = s.raw(http_request("GET", &p, &[], b"")).await.unwrap();
        let code = refused(&r, &what(&p));
        assert!(
            matches!(code.as_str(), "forbidden" | "not_found"),
            "{}",
            what(&p)
        );
        for (method, p) in [
            ("GET", format!("/api/v1/chat/events/{sent}")),
            ("POST", format!("/api/v1/chat/events/{sent}/replay")),
            ("POST", format!("{lc}/sessions/{sent}/token")),
        ] {
            let r = s
                .raw(http_request(method, &p, std::slice::from_ref(&key), b""))
                .await
                .unwrap();
            refused_as(&r, &what(&p), 404, "not_found");
        }
        // An agent profile's id is a name people and tools write and read back: path tricks,
        // control characters, markup and spaces are refused; plain names are taken.
        let p = format!("{lc}/agents/{sent}");
        let body = br#"{"display_name":"Mallory"}"#;
        let r = s
            .raw(http_request(
                "PUT",
                &p,
                &[key.clone(), json_ct.clone()],
                body,
            ))
            .await
            .unwrap();
        if id.as_deref().is_some_and(plain_id) {
            ok(&r);
        } else {
            let code = refused(&r, &what(&p));
            assert_eq!(code, "validation", "{}", what(&p));
        }
    }

    // Paths that climb out of the static folders, as a raw client sends them (no
    // normalisation on the way): nothing outside them is served, the secrets least of all.
    for path in [
        "/chat/../../server/dgbot.toml",
        "/chat/..%2F..%2Fserver%2Fdgbot.toml",
        "/chat/%2e%2e/%2e%2e/Cargo.toml",
        "/demo/..%2Fdgbot.toml",
        "/demo/....%2F%2Fdgbot.toml",
        "/demo/img/..%2F..%2Fdgbot.toml",
        "/agent/..%2Fdgbot.toml",
        "/agent/..%5Cdgbot.toml",
        "/static/..%2F..%2FCargo.toml",
        "/api/v1/chat/livechat/attachments/..%2F..%2F..%2Fserver%2Fdgbot.toml?token=1.1",
        "/api/v1/chat/../../../server/dgbot.toml",
    ] {
        let r = s.raw(http_request("GET", path, &[], b"")).await;
        let Some(r) = r else { continue };
        let body = String::from_utf8_lossy(&r.bytes);
        assert!(
            r.status >= 400 && !body.contains(DEMO_API_KEY) && !body.contains("[workspace]"),
            "{path}: {} {body}",
            r.status
        );
    }
    s.alive(&visitor).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn settings_and_webhooks_refuse_hostile_input() {
    let s = hostile_server();
    let visitor = s.visitor().await;
    let a = Actor {
        visitor: visitor.clone(),
        session: String::new(),
        agent: String::new(),
        form: String::new(),
    };
    let settings = ok(&s.get("/api/v1/chat/livechat/settings", &api_key()).await);
    let webhooks = json!({ "url": "http://127.0.0.1:9/hook", "secret": "0123456789abcdef0123", "events": ["livechat.session.closed"] });
    let put = |path: &str, body: &Value| Endpoint {
        method: Method::PUT,
        path: path.to_owned(),
        who: Who::Owner,
        body: Some(body.clone()),
        query: &[],
    };
    for ep in [
        put("/api/v1/chat/livechat/settings", &settings),
        put("/api/v1/chat/webhooks", &webhooks),
    ] {
        ok(&s
            .json_call(Method::PUT, &ep.path, &api_key(), ep.body.as_ref().unwrap())
            .await);
        barrage(&s, &ep, &a).await;
    }
    // Values of the right type that are still wrong, and text that must not become a URL.
    for (field, value) in [
        ("timezone", json!("../../../../etc/passwd")),
        ("timezone", json!("Europe/Copenhagen\u{0}")),
        ("manual_override", json!("<script>")),
        (
            "working_hours",
            json!([{ "day": "monday", "start": "9:00", "end": "17:00" }]),
        ),
        (
            "working_hours",
            json!([{ "day": "funday", "start": "09:00", "end": "17:00" }]),
        ),
        (
            "working_hours",
            json!([{ "day": "monday", "start": "١٢:٠٠", "end": "17:00" }]),
        ),
        (
            "working_hours",
            json!([{ "day": "monday", "start": "09:00", "end": "17:00", "x": 1 }]),
        ),
        ("max_attachment_size_bytes", json!(0)),
        ("max_attachment_size_bytes", json!(u64::MAX)),
        ("attachment_retention_days", json!(0)),
        ("attachment_retention_days", json!(u32::MAX)),
        ("unknown_field", json!(true)),
    ] {
        let mut body = settings.clone();
        body[field] = value.clone();
        let r = s
            .json_call(
                Method::PUT,
                "/api/v1/chat/livechat/settings",
                &api_key(),
                &body,
            )
            .await;
        refused_as(
            &r,
            &format!("settings {field} = {value}"),
            422,
            "validation",
        );
    }
    for url in strings("unsafe_urls").into_iter().chain([
        "http://evil.example/hook".into(),
        "ftp://127.0.0.1/hook".into(),
        "https://".into(),
    ]) {
        let mut body = webhooks.clone();
        body["url"] = json!(url);
        let r = s
            .json_call(Method::PUT, "/api/v1/chat/webhooks", &api_key(), &body)
            .await;
        refused_as(&r, &format!("webhook url {url:?}"), 422, "validation");
    }
    for (field, value) in [
        ("secret", json!("short")),
        ("events", json!(["<script>"])),
        ("events", json!(["livechat.session.closed\u{0}"])),
        ("events", json!("livechat.session.closed")),
    ] {
        let mut body = webhooks.clone();
        body[field] = value.clone();
        let r = s
            .json_call(Method::PUT, "/api/v1/chat/webhooks", &api_key(), &body)
            .await;
        refused_as(
            &r,
            &format!("webhooks {field} = {value}"),
            422,
            "validation",
        );
    }
    // Nothing of it stuck.
    assert_eq!(
        ok(&s.get("/api/v1/chat/livechat/settings", &api_key()).await),
        settings
    );
    let kept = ok(&s.get("/api/v1/chat/webhooks", &api_key()).await);
    assert_eq!(kept["url"], webhooks["url"]);
    s.alive(&visitor).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn hostile_text_is_stored_and_returned_exactly_as_sent() {
    let s = hostile_server();
    let texts = strings("text");
    let visitor = s.visitor().await;
    let v = Cred::Bearer(visitor.clone());

    // To the assistant: each text as a message, and the structured parts a client may send,
    // full of unsafe URLs: kept as they came.
    for t in &texts {
        s.ask(&visitor, t).await;
    }
    let urls = strings("unsafe_urls");
    let structured = json!([
        { "type": "text", "text": texts[0] },
        { "type": "rich_text", "part_id": "p1", "blocks": [{ "type": "paragraph", "spans":
            urls.iter().map(|u| json!({ "type": "link", "text": texts[1], "url": u })).collect::<Vec<_>>() }] },
        { "type": "products", "part_id": "p2", "products":
            urls.iter().map(|u| json!({ "title": texts[2], "url": u, "image_url": u })).collect::<Vec<_>>() },
        { "type": "custom", "part_id": "p3", "key": texts[3], "payload": { "html": texts[4] } },
    ]);
    ok(&s
        .post(
            "/api/v1/chat/messages",
            &v,
            json!({ "message": { "parts": structured } }),
        )
        .await);
    let history = s.history(&visitor).await;
    let sent: Vec<&Value> = history["messages"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|m| m["role"] == "user")
        .collect();
    assert_eq!(sent.len(), texts.len() + 1);
    for (m, t) in sent.iter().zip(&texts) {
        assert_eq!(m["parts"], json!([{ "type": "text", "text": t }]));
    }
    assert_eq!(sent[texts.len()]["parts"], structured);

    // Who the visitor says they are, and a hand-over whose labels are hostile too.
    let name = &texts[1];
    ok(&s
        .post(
            "/api/v1/chat/identify",
            &v,
            json!({ "user_id": texts[0], "name": name }),
        )
        .await);
    let session = ok(&s
        .post(
            "/api/v1/chat/livechat/handover",
            &v,
            json!({ "platform": texts[5], "source": texts[6] }),
        )
        .await);
    assert_eq!(session["platform"], json!(texts[5]));
    let id = session["livechat_session_id"].as_str().unwrap();
    let agent = ok(&s
        .post(
            &format!("/api/v1/chat/livechat/sessions/{id}/token"),
            &api_key(),
            json!({}),
        )
        .await)["token"]
        .as_str()
        .unwrap()
        .to_owned();
    let a = Cred::Bearer(agent.clone());

    // An agent whose display name is hostile writes every text; the visitor writes them back.
    let display = &texts[2];
    let profile = ok(&s
        .json_call(
            Method::PUT,
            "/api/v1/chat/livechat/agents/agent-mallory",
            &api_key(),
            &json!({ "display_name": display, "avatar_url": "https://example.com/a.png?\"onerror=\"window.__pwned=1" }),
        )
        .await);
    assert_eq!(profile["display_name"], json!(display));
    for chunk in texts.chunks(10) {
        let parts: Vec<Value> = chunk
            .iter()
            .map(|t| json!({ "type": "text", "text": t }))
            .collect();
        ok(&s
            .post(
                "/api/v1/chat/livechat/agent/messages",
                &a,
                json!({ "agent_id": "agent-mallory", "message": { "parts": parts } }),
            )
            .await);
        ok(&s
            .post(
                "/api/v1/chat/livechat/messages",
                &v,
                json!({ "message": { "parts": parts } }),
            )
            .await);
    }
    let livechat = ok(&s.get("/api/v1/chat/livechat/messages", &v).await);
    let context = ok(&s.get("/api/v1/chat/livechat/agent/context", &a).await);
    for role in ["agent", "user"] {
        let written: Vec<String> = livechat["messages"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|m| m["role"] == role)
            .flat_map(|m| m["parts"].as_array().unwrap().clone())
            .map(|p| p["text"].as_str().unwrap().to_owned())
            .collect();
        assert_eq!(written, texts, "the {role}'s livechat messages");
    }
    let agent_messages: Vec<&Value> = livechat["messages"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|m| m["role"] == "agent")
        .collect();
    assert!(
        agent_messages
            .iter()
            .all(|m| m["author"]["display_name"] == json!(display))
    );
    assert_eq!(context["visitor"]["name"], json!(name));
    assert_eq!(context["visitor"]["user_id"], json!(texts[0]));
    let transcript = context["transcript"].as_array().unwrap();
    assert!(
        texts
            .iter()
            .all(|t| transcript.iter().any(|m| m["role"] == "agent"
                && m["parts"]
                    .as_array()
                    .unwrap()
                    .iter()
                    .any(|p| p["text"] == json!(t)))),
        "the agent's transcript keeps every text"
    );

    // Closed with a hostile reason, rated with a hostile comment.
    let reason = &texts[7];
    let closed = ok(&s
        .post(
            "/api/v1/chat/livechat/close",
            &v,
            json!({ "reason": reason }),
        )
        .await);
    assert_eq!(closed["close_reason"], json!(reason));
    let comment = &texts[8];
    let state = ok(&s
        .post(
            "/api/v1/chat/livechat/feedback",
            &v,
            json!({ "rating": 3, "comment": comment }),
        )
        .await);
    assert_eq!(state["feedback"]["comment"], json!(comment));
    assert_eq!(state["session"]["close_reason"], json!(reason));
}

/// A header value a download may carry: a `filename` without path, quote, semicolon, control
/// character or anything a browser would take as a place on disk.
#[track_caller]
fn safe_disposition(headers: &HeaderMap, inline: bool) -> String {
    let d = headers["content-disposition"].to_str().unwrap().to_owned();
    let kind = if inline { "inline; " } else { "attachment; " };
    let name = d
        .strip_prefix(kind)
        .and_then(|rest| rest.strip_prefix("filename=\""))
        .and_then(|rest| rest.strip_suffix('"'))
        .unwrap_or_else(|| panic!("{d}"));
    assert!(!name.is_empty() && name != "." && name != "..", "{d}");
    assert!(
        !name
            .chars()
            .any(|c| c.is_control() || matches!(c, '"' | ';' | '/' | '\\')),
        "{d}"
    );
    name.to_owned()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn svg_and_html_uploads_are_never_served_as_something_to_render() {
    let s = hostile_server();
    let visitor = s.visitor().await;
    let v = Cred::Bearer(visitor.clone());
    s.ask(&visitor, "I need to open a support ticket").await;
    let ticket = s.part_of(&visitor, "show_support_ticket").await;
    let (_, agent) = s.handover(&visitor).await;
    let a = Cred::Bearer(agent);
    let (svg, html) = (upload("evil.svg"), upload("evil.html"));
    let part = |kind: &str, bytes: &[u8], mime: &str, filename: &str| json!({ "type": kind, "data": STANDARD.encode(bytes), "mime": mime, "filename": filename });

    // Images must be images by type: SVG and HTML are refused as images, by the visitor and
    // by the agent, in a message to the assistant too.
    for (bytes, mime) in [
        (&svg, "image/svg+xml"),
        (&html, "text/html"),
        (&svg, "image/svg+xml; charset=utf-8"),
        (&svg, "image/png; x=<svg>"),
    ] {
        let parts = json!([part("image", bytes, mime, "pic.svg")]);
        for (path, cred, body) in [
            (
                "/api/v1/chat/livechat/messages",
                &v,
                json!({ "message": { "parts": parts } }),
            ),
            (
                "/api/v1/chat/messages",
                &v,
                json!({ "message": { "parts": parts } }),
            ),
            (
                "/api/v1/chat/livechat/agent/messages",
                &a,
                json!({ "agent_id": ALICE, "message": { "parts": parts } }),
            ),
        ] {
            let r = s.post(path, cred, body).await;
            refused_as(
                &r,
                &format!("{path}: {mime} as an image"),
                422,
                "validation",
            );
        }
    }

    // What is taken is served so that no browser renders it as a page or a picture with
    // script: SVG and HTML as files download as octet-stream; SVG or HTML that claims to be a
    // PNG is served as a PNG (nosniff: never sniffed into SVG). Always nosniff and a sandbox.
    let names = strings("file_names");
    let mut sent = vec![
        (
            part("file", &svg, "image/svg+xml", "evil.svg"),
            "application/octet-stream",
            false,
        ),
        (
            part("file", &html, "text/html", "evil.html"),
            "application/octet-stream",
            false,
        ),
        (
            part("file", &html, "application/xhtml+xml", "evil.xhtml"),
            "application/octet-stream",
            false,
        ),
        (
            part("file", &html, "TEXT/HTML", "evil.htm"),
            "application/octet-stream",
            false,
        ),
        (
            part("file", &html, "text/plain", "evil.html"),
            "text/plain",
            false,
        ),
        (
            part("file", &svg, "image/png", "evil.png"),
            "image/png",
            true,
        ),
        (
            part("image", &svg, "image/png", "evil.png"),
            "image/png",
            true,
        ),
        (
            part("image", &html, "image/gif", "evil.gif"),
            "image/gif",
            true,
        ),
    ];
    for name in &names {
        sent.push((
            part("file", &html, "text/html", name),
            "application/octet-stream",
            false,
        ));
    }
    for (i, chunk) in sent.chunks(5).enumerate() {
        let parts: Vec<Value> = chunk.iter().map(|(p, _, _)| p.clone()).collect();
        let (path, cred, body) = if i % 2 == 0 {
            (
                "/api/v1/chat/livechat/messages",
                &v,
                json!({ "message": { "parts": parts } }),
            )
        } else {
            (
                "/api/v1/chat/livechat/agent/messages",
                &a,
                json!({ "agent_id": ALICE, "message": { "parts": parts } }),
            )
        };
        let stored = ok(&s.post(path, cred, body).await);
        for (j, (p, content_type, inline)) in chunk.iter().enumerate() {
            let got = &stored["message"]["parts"][j];
            let what = format!(
                "{} sent as {} {:?}",
                got["filename"], p["mime"], p["filename"]
            );
            assert_eq!(got["data"], Value::Null, "{what}: the base64 is not echoed");
            let url = got["url"].as_str().unwrap();
            let r = s
                .get(url.strip_prefix(&s.base).unwrap(), &Cred::Anonymous)
                .await;
            assert_eq!(r.status, 200, "{what}");
            assert_eq!(
                STANDARD.encode(&r.bytes),
                p["data"].as_str().unwrap(),
                "{what}: the bytes as sent"
            );
            assert_eq!(r.headers["content-type"], *content_type, "{what}");
            assert_eq!(r.headers["x-content-type-options"], "nosniff", "{what}");
            let csp = r.headers["content-security-policy"].to_str().unwrap();
            assert!(
                csp.contains("sandbox") && csp.contains("default-src 'none'"),
                "{what}: {csp}"
            );
            let name = safe_disposition(&r.headers, *inline);
            // The stored name, with what is not ASCII as `_` (a plain `filename` is ASCII).
            let stored: String = got["filename"]
                .as_str()
                .unwrap()
                .chars()
                .map(|c| if c.is_ascii() { c } else { '_' })
                .collect();
            assert_eq!(name, stored, "{what}: the stored name is the served one");
        }
    }

    // A support ticket takes only its marker's types: SVG and HTML are refused there too.
    for (bytes, mime, filename) in [
        (&svg, "image/svg+xml", "evil.svg"),
        (&html, "text/html", "evil.html"),
        (&html, "application/xhtml+xml", "../../evil.html"),
    ] {
        let body = json!({ "part_id": ticket, "action": { "type": "support_ticket",
            "fields": { "email": "jane@example.com", "description": "Broken" },
            "attachments": [{ "filename": filename, "mime": mime, "data": STANDARD.encode(bytes) }] } });
        let r = s.post("/api/v1/chat/actions", &v, body).await;
        refused_as(&r, &format!("a ticket with {mime}"), 422, "validation");
    }
    s.alive(&visitor).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn oversized_bodies_are_refused_with_413() {
    let s = hostile_server();
    let visitor = s.visitor().await;
    let (_, agent) = s.handover(&visitor).await;
    let bearer = |t: &str| {
        vec![
            ("Authorization", format!("Bearer {t}")),
            ("Content-Type", "application/json".to_owned()),
        ]
    };
    let basic = vec![
        (
            "Authorization",
            format!("Basic {}", STANDARD.encode(format!("{DEMO_API_KEY}:"))),
        ),
        ("Content-Type", "application/json".to_owned()),
    ];
    // One byte over each route's limit: 2 MB by default, 8 MB for messages, 24 MB for
    // actions, 40 MB for livechat messages.
    const MB: usize = 1024 * 1024;
    for (method, path, headers, limit) in [
        ("POST", "/api/v1/chat/rate", bearer(&visitor), 2 * MB),
        ("POST", "/api/v1/chat/identify", bearer(&visitor), 2 * MB),
        ("POST", "/api/v1/chat/auth/public", bearer(&visitor), 2 * MB),
        (
            "PUT",
            "/api/v1/chat/livechat/settings",
            basic.clone(),
            2 * MB,
        ),
        ("PUT", "/api/v1/chat/webhooks", basic.clone(), 2 * MB),
        ("POST", "/api/v1/chat/messages", bearer(&visitor), 8 * MB),
        ("POST", "/api/v1/chat/actions", bearer(&visitor), 24 * MB),
        (
            "POST",
            "/api/v1/chat/livechat/messages",
            bearer(&visitor),
            40 * MB,
        ),
        (
            "POST",
            "/api/v1/chat/livechat/agent/messages",
            bearer(&agent),
            40 * MB,
        ),
    ] {
        let mut body = b"{\"text\":\"".to_vec();
        body.resize(limit + 1, b'A');
        let r = s
            .raw(http_request(method, path, &headers, &body))
            .await
            .unwrap_or_else(|| panic!("{path}: no answer to an oversized body"));
        refused_as(
            &r,
            &format!("{path} with {} bytes", body.len()),
            413,
            "validation",
        );
    }
    s.alive(&visitor).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn slow_bodies_stall_neither_the_server_nor_forever() {
    let s = hostile_server();
    let visitor = s.visitor().await;
    // The head at once, then the body a byte at a time.
    let rate = |body: &[u8], length: usize| {
        let mut r = format!(
            "POST /api/v1/chat/rate HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\
             Authorization: Bearer {visitor}\r\nContent-Type: application/json\r\n\
             Content-Length: {length}\r\n\r\n"
        )
        .into_bytes();
        let head = r.len();
        r.extend_from_slice(body);
        (r, head)
    };

    // A body sent a byte at a time, slowly but steadily, is a request like any other.
    let body = br#"{"rating":4,"feedback":"slow but fine"}"#;
    let (request, head) = rate(body, body.len());
    let slow = tokio::spawn(raw_exchange(
        s.addr(),
        request,
        head,
        Duration::from_millis(50),
    ));
    // One that trickles a byte every half second into a long body, slowloris style, and one
    // that stops after its head: each gets a 408 once it falls behind (docs: 10 s, then 1 KB/s).
    let started = Instant::now();
    let (request, head) = rate(&[b' '; 200], 100_000);
    let trickle = tokio::spawn(raw_exchange(
        s.addr(),
        request,
        head,
        Duration::from_millis(500),
    ));
    let (request, _) = rate(b"{\"rat", 1_000_000_000);
    let n = request.len();
    let stalled = tokio::spawn(raw_exchange(s.addr(), request, n, Duration::ZERO));
    // Meanwhile a hundred connections hold half a request head open.
    let mut heads = vec![];
    for _ in 0..100 {
        let mut c = TcpStream::connect(s.addr()).await.unwrap();
        c.write_all(b"POST /api/v1/chat/rate HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Le")
            .await
            .unwrap();
        heads.push(c);
    }
    // The server answers everyone else all the while.
    while !slow.is_finished() {
        s.alive(&visitor).await;
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let slow = slow.await.unwrap().expect("an answer to the slow body");
    assert_eq!(slow.status, 200, "{}", String::from_utf8_lossy(&slow.bytes));
    for (name, task) in [("trickled", trickle), ("stalled", stalled)] {
        while !task.is_finished() {
            s.alive(&visitor).await;
            assert!(
                started.elapsed() < Duration::from_secs(30),
                "the {name} body is still held"
            );
            tokio::time::sleep(Duration::from_millis(250)).await;
        }
        let r = task
            .await
            .unwrap()
            .unwrap_or_else(|| panic!("no answer to the {name} body"));
        refused_as(&r, &format!("a {name} body"), 408, "validation");
    }
    assert!(
        started.elapsed() >= Duration::from_secs(9),
        "not cut before the grace period"
    );
    drop(heads);
    s.alive(&visitor).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn requests_that_are_not_http_leave_the_server_up() {
    let s = hostile_server();
    let visitor = s.visitor().await;
    for request in [
        b"\x00\x00\x00\x00\r\n\r\n".to_vec(),
        b"\xff\xfe\xfd garbage\r\n\r\n".to_vec(),
        b"GET /api/v1/chat/config\x00 HTTP/1.1\r\nHost: x\r\n\r\n".to_vec(),
        b"GET /api/v1/chat/config HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer a\x00b\r\n\r\n".to_vec(),
        b"GET /api/v1/chat/config HTTP/9.9\r\nHost: x\r\n\r\n".to_vec(),
        b"POST /api/v1/chat/rate HTTP/1.1\r\nHost: x\r\nContent-Length: -1\r\n\r\n".to_vec(),
        b"POST /api/v1/chat/rate HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\nContent-Length: 6\r\n\r\nhello!".to_vec(),
        b"POST /api/v1/chat/rate HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\nFFFFFFFFFFFFFFFFFFFF\r\n".to_vec(),
        format!("GET /{} HTTP/1.1\r\nHost: x\r\n\r\n", "a".repeat(100_000)).into_bytes(),
        format!("GET / HTTP/1.1\r\nHost: x\r\nX: {}\r\n\r\n", "a".repeat(1_000_000)).into_bytes(),
    ] {
        let shown = String::from_utf8_lossy(&request[..request.len().min(60)]).into_owned();
        let answer = tokio::time::timeout(Duration::from_secs(10), s.raw(request))
            .await
            .unwrap_or_else(|_| panic!("{shown:?}: held for 10 s without an answer"));
        if let Some(r) = answer {
            // Answered by the HTTP layer itself, before any route: a client error (or `505`
            // for an HTTP version that does not exist), never a `500`.
            assert!(
                (400..500).contains(&r.status) || r.status == 505,
                "{shown:?}: {}",
                r.status
            );
        }
        s.alive(&visitor).await;
    }
}

/// Found by `tests/hostile_e2e.rs`: a widget reads the state, the agent closes the chat, and
/// only then does the widget's next long poll arrive. Held from the time of the request, that
/// poll slept through the change it had not seen (the "ended the chat" note came up to 25 s
/// late). With `since`, the state version the client last saw, it answers at once; without a
/// change, it is still held.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_long_poll_answers_at_once_for_a_change_the_client_has_not_seen() {
    let s = hostile_server();
    let visitor = s.visitor().await;
    let v = Cred::Bearer(visitor.clone());
    let (_, agent) = s.handover(&visitor).await;
    let seen = ok(&s.get("/api/v1/chat/livechat/state", &v).await)["state_version"]
        .as_u64()
        .unwrap();
    ok(&s
        .post(
            "/api/v1/chat/livechat/agent/close",
            &Cred::Bearer(agent),
            json!({ "agent_id": ALICE, "reason": "Resolved" }),
        )
        .await);
    let started = Instant::now();
    let polled = ok(&s
        .get(
            &format!("/api/v1/chat/livechat/messages?wait=5&since={seen}"),
            &v,
        )
        .await);
    assert!(
        started.elapsed() < Duration::from_secs(2),
        "held {:?}",
        started.elapsed()
    );
    assert!(polled["state_version"].as_u64().unwrap() > seen);
    let now = polled["state_version"].as_u64().unwrap();
    let started = Instant::now();
    ok(&s
        .get(
            &format!("/api/v1/chat/livechat/messages?wait=1&since={now}"),
            &v,
        )
        .await);
    assert!(
        started.elapsed() >= Duration::from_millis(900),
        "nothing new: held"
    );
}

/// Where the router itself answers, it answers in the seed's envelope too: a method the path
/// does not take (`405`, code `not_found`: the seed has no code of its own for it) and a path
/// under `/api/v1/chat/` that names no endpoint (`404 not_found`).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn unknown_paths_and_methods_get_the_envelope() {
    let s = hostile_server();
    let visitor = Cred::Bearer(s.visitor().await);
    for (method, path) in [
        (Method::PATCH, "/api/v1/chat/messages"),
        (Method::PUT, "/api/v1/chat/config"),
        (Method::DELETE, "/api/v1/chat/livechat/settings"),
        (Method::GET, "/api/v1/chat/auth"),
    ] {
        let r = s.send(method.clone(), path, &visitor, None, None).await;
        refused(&r, &format!("{method} {path}"));
    }
    for path in [
        "/api/v1/chat/nope",
        "/api/v1/chat/livechat/agent",
        "/api/v1/chat/events/x/y",
    ] {
        refused_as(&s.get(path, &visitor).await, path, 404, "not_found");
    }
}

/// A connection that never finishes its request head (slowloris) is cut off after
/// `header_timeout` (10 s by default, 1 s here).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_request_head_that_never_ends_is_cut_off() {
    let server = TestServer::builder()
        .configure(|config| config.header_timeout = Duration::from_secs(1))
        .start();
    let mut c = TcpStream::connect(("127.0.0.1", server.port))
        .await
        .unwrap();
    c.write_all(b"POST /api/v1/chat/rate HTTP/1.1\r\nHost: 127.0.0.1\r\n")
        .await
        .unwrap();
    let mut buf = [0u8; 1024];
    let closed = tokio::time::timeout(Duration::from_secs(10), c.read(&mut buf)).await;
    drop(server);
    assert!(
        closed.is_ok(),
        "the half-sent request head is still held after 10 s"
    );
}
