//! Dosti (seed 004) over real HTTP and real Socket.IO: the seed's REST calls (curl, as the
//! seed shows them), `socket.io-client` 4.x from npm driven by Node (`dosti_client/`), and an
//! agent on seed 002's agent API answering whichever protocol the visitor used.
//!
//! Node finds `socket.io-client` in `DGBOT_SEED_CLIENTS` (a `node_modules` folder), else in
//! `<repo>/target/tools/seed-clients/node_modules` (`cargo xtask setup` installs it there).

mod common;

use dgbot_testkit::TestServer;
use std::path::PathBuf;
use std::process::Stdio;
use std::time::Duration;

use serde_json::{Value, json};
use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};
use tokio::process::{Child, ChildStdin, Command};
use tokio::sync::mpsc;

const PUBLIC_KEY: &str = "dosti_pub_demo";
const API_KEY: &str = "demo-secret-key";
const AGENT: &str = "agent-alice";
const AGENT_NAME: &str = "Alice from Nordlys";
const BOT_NAME: &str = "Nordlys Assistant";
/// How long any one expected thing may take.
const WAIT: Duration = Duration::from_secs(10);

/// The server as `main` runs it, with the demo chatbot (livechat on and live, `dosti_pub_demo`).
fn dosti_server() -> TestServer {
    TestServer::builder()
        .configure(|config| config.stream_delay = Duration::from_millis(2))
        .start()
}

type Reply = (u16, Value);

/// A response's status and JSON body.
async fn reply_of(res: reqwest::Response) -> Reply {
    let status = res.status().as_u16();
    let text = res.text().await.unwrap();
    let body =
        serde_json::from_str(&text).unwrap_or_else(|_| panic!("not JSON ({status}): {text}"));
    (status, body)
}

/// Seed 004's REST calls, and an agent through seed 002's setup and agent APIs.
trait Dosti {
    async fn post(&self, path: &str, body: Value) -> Reply;
    async fn get(&self, path: &str) -> Reply;
    /// `POST /api/chat/send` as the seed shows it.
    async fn send(&self, visitor_id: &str, message: &str) -> Reply;
    /// `GET /api/chat/poll` → the messages.
    async fn poll(&self, visitor_id: &str, last: Option<u64>) -> Vec<Value>;
    /// Polls until `pred` holds for the conversation (the answer is stored once it is done).
    async fn poll_until(&self, visitor_id: &str, pred: impl Fn(&[Value]) -> bool) -> Vec<Value>;
    async fn api_key_get(&self, path: &str) -> Value;
    /// The livechat session of `visitor_id` in the agents' queue (`status` waiting / active).
    async fn session_of(&self, visitor_id: &str, status: &str) -> Option<Value>;
    /// An agent token for the waiting session of `visitor_id`, as the console gets one.
    async fn agent_for(&self, visitor_id: &str) -> String;
    async fn agent_post(&self, token: &str, path: &str, body: Value) -> Value;
    async fn agent_says(&self, token: &str, text: &str);
    async fn agent_types(&self, token: &str, is_typing: bool);
    async fn agent_context(&self, token: &str) -> Value;
}

impl Dosti for TestServer {
    async fn post(&self, path: &str, body: Value) -> Reply {
        reply_of(
            self.api
                .http
                .post(self.url(path))
                .json(&body)
                .send()
                .await
                .unwrap(),
        )
        .await
    }

    async fn get(&self, path: &str) -> Reply {
        reply_of(self.api.http.get(self.url(path)).send().await.unwrap()).await
    }

    async fn send(&self, visitor_id: &str, message: &str) -> Reply {
        let body = json!({
            "apiKey": PUBLIC_KEY, "visitorId": visitor_id, "visitorName": "John Doe", "message": message
        });
        self.post("/api/chat/send", body).await
    }

    async fn poll(&self, visitor_id: &str, last: Option<u64>) -> Vec<Value> {
        let mut path = format!("/api/chat/poll?apiKey={PUBLIC_KEY}&visitorId={visitor_id}");
        if let Some(last) = last {
            path += &format!("&lastTimestamp={last}");
        }
        let (status, body) = self.get(&path).await;
        assert_eq!((status, &body["success"]), (200, &json!(true)), "{body}");
        body["messages"].as_array().unwrap().clone()
    }

    async fn poll_until(&self, visitor_id: &str, pred: impl Fn(&[Value]) -> bool) -> Vec<Value> {
        let deadline = tokio::time::Instant::now() + WAIT;
        loop {
            let messages = self.poll(visitor_id, None).await;
            if pred(&messages) {
                return messages;
            }
            assert!(
                tokio::time::Instant::now() < deadline,
                "gave up polling; last: {messages:#?}"
            );
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }

    // ----- the agent, through seed 002's setup and agent APIs -----

    async fn api_key_get(&self, path: &str) -> Value {
        let res = self
            .api
            .http
            .get(self.url(path))
            .basic_auth(API_KEY, Some(""))
            .send()
            .await
            .unwrap();
        let (status, body) = reply_of(res).await;
        assert_eq!(status, 200, "{body}");
        body
    }

    async fn session_of(&self, visitor_id: &str, status: &str) -> Option<Value> {
        let list = self
            .api_key_get(&format!("/api/v1/chat/livechat/sessions?status={status}"))
            .await;
        list["sessions"]
            .as_array()
            .unwrap()
            .iter()
            .find(|s| s["visitor_id"] == visitor_id)
            .cloned()
    }

    async fn agent_for(&self, visitor_id: &str) -> String {
        let session = self
            .session_of(visitor_id, "waiting")
            .await
            .unwrap_or_else(|| panic!("{visitor_id} is not waiting in the queue"));
        assert_eq!(session["platform"], "dosti", "{session}");
        let id = session["livechat_session_id"].as_str().unwrap();
        dgbot_testkit::Api::new(&self.base)
            .backend_with(API_KEY)
            .agent_for(id)
            .await
            .token
    }

    async fn agent_post(&self, token: &str, path: &str, body: Value) -> Value {
        let res = self
            .api
            .http
            .post(self.url(&format!("/api/v1/chat/livechat/agent/{path}")))
            .bearer_auth(token)
            .json(&body)
            .send()
            .await
            .unwrap();
        let (status, body) = reply_of(res).await;
        assert_eq!(status, 200, "{body}");
        body
    }

    async fn agent_says(&self, token: &str, text: &str) {
        let body = json!({ "agent_id": AGENT, "message": { "parts": [{ "type": "text", "text": text }] } });
        self.agent_post(token, "messages", body).await;
    }

    async fn agent_types(&self, token: &str, is_typing: bool) {
        let body = json!({ "agent_id": AGENT, "is_typing": is_typing });
        self.agent_post(token, "typing", body).await;
    }

    async fn agent_context(&self, token: &str) -> Value {
        let res = self
            .api
            .http
            .get(self.url("/api/v1/chat/livechat/agent/context"))
            .bearer_auth(token)
            .send()
            .await
            .unwrap();
        let (status, body) = reply_of(res).await;
        assert_eq!(status, 200, "{body}");
        body
    }
}

/// The texts of transcript messages with `role`.
fn texts_of(transcript: &Value, role: &str) -> Vec<String> {
    transcript
        .as_array()
        .unwrap()
        .iter()
        .filter(|m| m["role"] == role)
        .map(|m| m["parts"][0]["text"].as_str().unwrap_or("").to_owned())
        .collect()
}

fn node_modules() -> PathBuf {
    std::env::var_os("DGBOT_SEED_CLIENTS")
        .map(PathBuf::from)
        .unwrap_or_else(|| {
            PathBuf::from(env!("CARGO_MANIFEST_DIR"))
                .join("../target/tools/seed-clients/node_modules")
        })
}

fn client_script(name: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("tests/dosti_client")
        .join(name)
}

/// `node <script> <args>` with `socket.io-client` on its path.
fn node(script: &str, args: &[&str]) -> Command {
    let modules = node_modules();
    assert!(
        modules.join("socket.io-client").is_dir(),
        "socket.io-client is not in {}: run `cargo xtask setup` or set DGBOT_SEED_CLIENTS",
        modules.display()
    );
    let mut cmd = Command::new("node");
    cmd.arg(client_script(script))
        .args(args)
        .env("NODE_PATH", modules)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .kill_on_drop(true);
    cmd
}

/// `dosti_client/driver.js`: Socket.IO visitors (tabs) driven by JSON lines.
struct Driver {
    _child: Child,
    stdin: ChildStdin,
    lines: mpsc::UnboundedReceiver<Value>,
    /// Lines read but not yet expected.
    seen: Vec<Value>,
    url: String,
}

impl Driver {
    /// Start `driver.js` for `server`.
    async fn spawn(server: &TestServer) -> Driver {
        let mut child = node("driver.js", &[]).spawn().expect("node runs");
        let stdin = child.stdin.take().unwrap();
        let mut out = BufReader::new(child.stdout.take().unwrap()).lines();
        let (tx, lines) = mpsc::unbounded_channel();
        tokio::spawn(async move {
            while let Ok(Some(line)) = out.next_line().await {
                let value: Value = serde_json::from_str(&line)
                    .unwrap_or_else(|_| json!({ "event": "not_json", "line": line }));
                if tx.send(value).is_err() {
                    return;
                }
            }
        });
        Driver {
            _child: child,
            stdin,
            lines,
            seen: vec![],
            url: server.base.clone(),
        }
    }

    async fn command(&mut self, cmd: Value) {
        let line = format!("{cmd}\n");
        self.stdin.write_all(line.as_bytes()).await.unwrap();
        self.stdin.flush().await.unwrap();
    }

    async fn connect_with(&mut self, tab: &str, query: Value) {
        let url = self.url.clone();
        self.command(json!({ "cmd": "connect", "tab": tab, "url": url, "query": query }))
            .await;
    }

    /// Connect `tab` as `visitor_id` with the public key and wait until it is connected.
    async fn visitor(&mut self, tab: &str, visitor_id: &str) {
        let query = json!({
            "apiKey": PUBLIC_KEY, "role": "visitor", "visitorId": visitor_id, "visitorName": "John Doe"
        });
        self.connect_with(tab, query).await;
        self.expect(tab, "connect").await;
    }

    async fn emit(&mut self, tab: &str, event: &str, args: Value) {
        self.command(json!({ "cmd": "emit", "tab": tab, "event": event, "args": args }))
            .await;
    }

    /// Emit with an ack callback and return what the server acked.
    async fn emit_ack(&mut self, tab: &str, event: &str, args: Value) -> Value {
        self.command(
            json!({ "cmd": "emit", "tab": tab, "event": event, "args": args, "ack": true }),
        )
        .await;
        self.expect(tab, "ack").await["args"][0].clone()
    }

    async fn say(&mut self, tab: &str, text: &str) -> Value {
        let ack = self
            .emit_ack(
                tab,
                "send_message",
                json!([{ "type": "saas", "message": text }]),
            )
            .await;
        assert_eq!(ack["success"], true, "{ack}");
        ack
    }

    /// The next line of `tab` with `event` (earlier lines of other events are kept).
    async fn expect(&mut self, tab: &str, event: &str) -> Value {
        self.expect_where(|l| l["tab"] == tab && l["event"] == event)
            .await
            .unwrap_or_else(|| panic!("{tab}: no {event} within {WAIT:?}; seen: {:#?}", self.seen))
    }

    /// The first `receive_message` of `tab` whose text contains `text`.
    async fn expect_message(&mut self, tab: &str, text: &str) -> Value {
        self.expect_where(|l| {
            l["tab"] == tab
                && l["event"] == "receive_message"
                && l["args"][0]["message"].as_str().unwrap_or("").contains(text)
        })
        .await
        .unwrap_or_else(|| panic!("{tab}: no message with {text:?}; seen: {:#?}", self.seen))["args"][0]
            .clone()
    }

    async fn expect_where(&mut self, pred: impl Fn(&Value) -> bool) -> Option<Value> {
        if let Some(i) = self.seen.iter().position(&pred) {
            return Some(self.seen.remove(i));
        }
        let deadline = tokio::time::Instant::now() + WAIT;
        loop {
            let line = tokio::time::timeout_at(deadline, self.lines.recv())
                .await
                .ok()??;
            assert_ne!(line["event"], "driver_error", "{line}");
            if pred(&line) {
                return Some(line);
            }
            self.seen.push(line);
        }
    }

    /// Wait `quiet` and return (and forget) every line that came meanwhile.
    async fn drain(&mut self, quiet: Duration) -> Vec<Value> {
        tokio::time::sleep(quiet).await;
        while let Ok(line) = self.lines.try_recv() {
            self.seen.push(line);
        }
        std::mem::take(&mut self.seen)
    }
}

fn events_of<'a>(lines: &'a [Value], tab: &str) -> Vec<&'a str> {
    lines
        .iter()
        .filter(|l| l["tab"] == tab)
        .filter_map(|l| l["event"].as_str())
        .collect()
}

/// `curl` with the seed's request, as a separate process; returns (status, body).
async fn curl(args: &[&str]) -> Reply {
    let out = Command::new("curl")
        .args(["-s", "-w", "\n%{http_code}"])
        .args(args)
        .output()
        .await
        .expect("curl runs");
    let text = String::from_utf8(out.stdout).unwrap();
    let (body, status) = text.rsplit_once('\n').unwrap();
    (
        status.parse().unwrap(),
        serde_json::from_str(body).unwrap_or_else(|_| panic!("not JSON: {body}")),
    )
}

fn now_ms() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_millis() as u64
}

// ----- the REST pipeline -----

#[tokio::test]
async fn the_seeds_rest_calls_send_poll_and_queue_the_visitor() {
    let server = dosti_server();
    let before = now_ms() - 10_000; // the PHP example's "10 seconds ago"

    // Endpoint 1, exactly as the seed shows it (the key is the demo chatbot's public key).
    let send_body = r#"{
  "apiKey": "dosti_pub_demo",
  "visitorId": "android_user_789",
  "visitorName": "John Doe",
  "message": "Hello from my custom chat interface!"
}"#;
    let url = server.url("/api/chat/send");
    let (status, sent) = curl(&[
        "-X",
        "POST",
        &url,
        "-H",
        "Content-Type: application/json",
        "-d",
        send_body,
    ])
    .await;
    assert_eq!(status, 200, "{sent}");
    assert_eq!(sent["success"], true);
    assert_eq!(sent["message"]["sender"], "visitor");
    assert_eq!(sent["message"]["senderName"], "You");
    assert_eq!(
        sent["message"]["message"],
        "Hello from my custom chat interface!"
    );
    let sent_at = sent["message"]["timestamp"].as_u64().unwrap();
    assert!(sent_at >= before, "{sent}");

    // "This will immediately display the visitor in the Agent Console": waiting, named.
    let queued = server
        .session_of("android_user_789", "waiting")
        .await
        .expect("the visitor waits in the agents' queue");
    assert_eq!(
        (&queued["platform"], &queued["turn"]),
        (&json!("dosti"), &json!("agent"))
    );

    // The assistant answers meanwhile (`sender` agent, the chatbot's name).
    let all = server
        .poll_until("android_user_789", |m| m.len() >= 2)
        .await;
    assert_eq!(all[0]["id"], sent["message"]["id"]);
    assert_eq!(
        (&all[1]["sender"], &all[1]["senderName"]),
        (&json!("agent"), &json!(BOT_NAME))
    );
    assert!(all[1]["timestamp"].as_u64().unwrap() > sent_at);

    // Endpoint 2, GET, with the seed's parameters: only messages after lastTimestamp.
    let poll_url = server.url(&format!(
        "/api/chat/poll?apiKey=dosti_pub_demo&visitorId=android_user_789&lastTimestamp={sent_at}"
    ));
    let (status, newer) = curl(&[&poll_url]).await;
    assert_eq!((status, &newer["success"]), (200, &json!(true)), "{newer}");
    assert_eq!(newer["messages"].as_array().unwrap().len(), all.len() - 1);
    assert_eq!(newer["messages"][0]["id"], all[1]["id"]);

    // The PHP example's poll: everything of the last ten seconds.
    let since = server.poll("android_user_789", Some(before)).await;
    assert_eq!(since.len(), all.len());
    let last = all.last().unwrap()["timestamp"].as_u64().unwrap();
    assert!(server.poll("android_user_789", Some(last)).await.is_empty());

    // Endpoint 2, POST, the seed's body.
    let poll_body = json!({
        "apiKey": "dosti_pub_demo", "visitorId": "android_user_789", "lastTimestamp": sent_at
    })
    .to_string();
    let (status, posted) = curl(&[
        "-X",
        "POST",
        &server.url("/api/chat/poll"),
        "-H",
        "Content-Type: application/json",
        "-d",
        &poll_body,
    ])
    .await;
    assert_eq!(status, 200, "{posted}");
    assert_eq!(posted["messages"], newer["messages"]);

    // The chatbot's public id works as the apiKey too: the same conversation.
    let (_, by_id) = server
        .get("/api/chat/poll?apiKey=demo-shop&visitorId=android_user_789")
        .await;
    assert_eq!(by_id["messages"].as_array().unwrap().len(), all.len());
}

#[tokio::test]
async fn rest_refuses_bad_keys_and_bodies_with_a_reason() {
    let server = dosti_server();
    let ok_body = json!({ "apiKey": PUBLIC_KEY, "visitorId": "rest_user_0001", "message": "hi" });
    let with = |change: Value| {
        let mut body = ok_body.clone();
        body.as_object_mut()
            .unwrap()
            .extend(change.as_object().unwrap().clone());
        body
    };
    let cases = [
        (
            with(json!({ "apiKey": "dosti_pub_nope" })),
            401,
            "Unknown apiKey",
        ),
        (
            with(json!({ "apiKey": "demo-secret-key" })),
            401,
            "Unknown apiKey",
        ), // secret keys are not public
        (with(json!({ "visitorId": "short" })), 422, "visitorId"),
        (
            with(json!({ "visitorId": "has spaces in it" })),
            422,
            "visitorId",
        ),
        (
            with(json!({ "message": "   " })),
            422,
            "message: Text is required",
        ),
        (
            with(json!({ "message": "x".repeat(4001) })),
            422,
            "message: At most 4000",
        ),
        (with(json!({ "message": 42 })), 422, "Invalid request body"),
        (
            json!({ "apiKey": PUBLIC_KEY, "visitorId": "rest_user_0001" }),
            422,
            "missing field `message`",
        ),
        (json!([1, 2]), 422, "Invalid request body"),
    ];
    for (body, status, error) in cases {
        let (got, reply) = server.post("/api/chat/send", body.clone()).await;
        assert_eq!(got, status, "{body}: {reply}");
        assert_eq!(reply["success"], false, "{reply}");
        assert!(
            reply["error"].as_str().unwrap().contains(error),
            "{body}: {reply}"
        );
    }
    // Not JSON at all.
    let res = server
        .api
        .http
        .post(server.url("/api/chat/send"))
        .body("apiKey=dosti_pub_demo&message=hi")
        .send()
        .await
        .unwrap();
    let (status, reply) = reply_of(res).await;
    assert_eq!(
        (status, &reply["error"]),
        (400, &json!("Request body is not valid JSON"))
    );
    // Polls.
    for (path, status, error) in [
        ("/api/chat/poll?visitorId=rest_user_0001", 422, "apiKey"),
        (
            "/api/chat/poll?apiKey=nope&visitorId=rest_user_0001",
            401,
            "Unknown apiKey",
        ),
        (
            "/api/chat/poll?apiKey=dosti_pub_demo&visitorId=rest_user_0001&lastTimestamp=yesterday",
            422,
            "lastTimestamp",
        ),
    ] {
        let (got, reply) = server.get(path).await;
        assert_eq!(
            (got, &reply["success"]),
            (status, &json!(false)),
            "{path}: {reply}"
        );
        assert!(reply["error"].as_str().unwrap().contains(error), "{reply}");
    }
    let (status, reply) = server
        .post(
            "/api/chat/poll",
            json!({ "apiKey": PUBLIC_KEY, "visitorId": "rest_user_0001", "lastTimestamp": -5 }),
        )
        .await;
    assert_eq!(status, 422, "{reply}");
    // A browser on a site the chatbot does not allow.
    let res = server
        .api
        .http
        .post(server.url("/api/chat/send"))
        .header("Origin", "https://evil.example")
        .json(&ok_body)
        .send()
        .await
        .unwrap();
    let (status, reply) = reply_of(res).await;
    assert_eq!((status, &reply["success"]), (403, &json!(false)), "{reply}");
    // Nothing refused was kept, and the visitor was never queued.
    assert!(server.poll("rest_user_0001", None).await.is_empty());
    assert!(
        server
            .session_of("rest_user_0001", "waiting")
            .await
            .is_none()
    );
}

#[tokio::test]
async fn the_same_rate_limit_on_rest_and_socket_io() {
    let server = dosti_server();
    // The demo chatbot: 20 messages a minute per visitor, however they are sent.
    for i in 0..15 {
        let (status, reply) = server
            .send("limited_visitor", &format!("message {i}"))
            .await;
        assert_eq!(status, 200, "{reply}");
    }
    let mut driver = Driver::spawn(&server).await;
    driver.visitor("a", "limited_visitor").await;
    for i in 15..20 {
        driver.say("a", &format!("message {i}")).await;
    }
    let refused = driver
        .emit_ack(
            "a",
            "send_message",
            json!([{ "type": "saas", "message": "one too many" }]),
        )
        .await;
    assert_eq!(
        (&refused["success"], &refused["code"]),
        (&json!(false), &json!("rate_limited")),
        "{refused}"
    );
    assert!(refused["retryAfter"].as_u64().unwrap() > 0);
    let error = driver.expect("a", "chat_error").await;
    assert_eq!(error["args"][0]["code"], "rate_limited");
    let res = server.send("limited_visitor", "and one more").await;
    assert_eq!(res.0, 429, "{:?}", res.1);
    assert_eq!(res.1["code"], "rate_limited");
}

// ----- Socket.IO -----

#[tokio::test]
async fn the_seeds_android_example_gets_an_answer() {
    let server = dosti_server();
    let mut child = node("seed_android.js", &[&server.base, PUBLIC_KEY])
        .spawn()
        .unwrap();
    let mut out = BufReader::new(child.stdout.take().unwrap()).lines();
    let mut lines = vec![];
    let read = async {
        while let Some(line) = out.next_line().await.unwrap() {
            lines.push(serde_json::from_str::<Value>(&line).unwrap());
        }
    };
    tokio::time::timeout(Duration::from_secs(25), read)
        .await
        .expect("the example finishes");
    assert!(child.wait().await.unwrap().success(), "{lines:#?}");
    assert_eq!(lines[0]["event"], "connect");
    let reply = &lines[1];
    assert_eq!(reply["event"], "receive_message", "{lines:#?}");
    assert_eq!(reply["senderName"], BOT_NAME);
    assert_eq!(reply["visitorId"], "android_user_789");
    assert!(!reply["message"].as_str().unwrap().is_empty());
    // Sending alerted the agents; the name the app gave is the one the console shows.
    assert!(
        server
            .session_of("android_user_789", "waiting")
            .await
            .is_some()
    );
    let agent = server.agent_for("android_user_789").await;
    let context = server.agent_context(&agent).await;
    assert_eq!(context["visitor"]["name"], "JohnDoe");
    assert_eq!(
        texts_of(&context["transcript"], "user"),
        ["Hello from Android Native App!"]
    );
}

#[tokio::test]
async fn connections_are_refused_with_a_reason_the_client_sees() {
    let server = dosti_server();
    let mut driver = Driver::spawn(&server).await;
    let cases = [
        (
            json!({ "apiKey": "dosti_pub_wrong", "role": "visitor", "visitorId": "ios_user_555" }),
            "Unknown apiKey",
        ),
        (
            json!({ "role": "visitor", "visitorId": "ios_user_555" }),
            "apiKey is required",
        ),
        (
            json!({ "apiKey": PUBLIC_KEY, "role": "visitor" }),
            "visitorId",
        ),
        (
            json!({ "apiKey": PUBLIC_KEY, "role": "visitor", "visitorId": "bad id!" }),
            "visitorId",
        ),
        (
            json!({ "apiKey": PUBLIC_KEY, "role": "agent", "visitorId": "ios_user_555" }),
            "role",
        ),
        (
            json!({ "apiKey": PUBLIC_KEY, "visitorId": "ios_user_555", "visitorName": "x".repeat(300) }),
            "visitorName",
        ),
    ];
    for (i, (query, reason)) in cases.into_iter().enumerate() {
        let tab = format!("refused{i}");
        driver.connect_with(&tab, query.clone()).await;
        let refused = driver.expect(&tab, "connect_error").await;
        assert!(
            refused["message"].as_str().unwrap().contains(reason),
            "{query}: {refused}"
        );
    }
    // A browser on a site the chatbot does not allow (Node sends the Origin it is told to).
    let url = driver.url.clone();
    driver
        .command(json!({
            "cmd": "connect", "tab": "evil", "url": url,
            "extraHeaders": { "Origin": "https://evil.example" },
            "query": { "apiKey": PUBLIC_KEY, "role": "visitor", "visitorId": "ios_user_555" }
        }))
        .await;
    let refused = driver.expect("evil", "connect_error").await;
    assert!(
        refused["message"]
            .as_str()
            .unwrap()
            .contains("not enabled on"),
        "{refused}"
    );
    // The seed's iOS parameters, by public key and by chatbot id; websocket-only too.
    let ios = json!({ "apiKey": PUBLIC_KEY, "role": "visitor", "visitorId": "ios_user_555", "visitorName": "iOS User" });
    driver.connect_with("ios", ios).await;
    driver.expect("ios", "connect").await;
    driver
        .command(json!({
            "cmd": "connect", "tab": "ws", "url": url, "transports": ["websocket"],
            "query": { "apiKey": "demo-shop", "role": "visitor", "visitorId": "ios_user_555" }
        }))
        .await;
    let ws = driver.expect("ws", "connect").await;
    assert_eq!(ws["transport"], "websocket");
}

#[tokio::test]
async fn a_hand_over_on_socket_io_reaches_an_agent_and_back() {
    let server = dosti_server();
    let mut driver = Driver::spawn(&server).await;
    driver.visitor("a", "sio_visitor_1").await;

    let ack = driver.say("a", "What are your shipping times?").await;
    assert_eq!(ack["message"]["sender"], "visitor");
    // The assistant composes (typing), then answers in one message.
    driver.expect("a", "partner_typing").await;
    driver.expect("a", "partner_stopped_typing").await;
    let answer = driver.expect("a", "receive_message").await["args"][0].clone();
    assert_eq!(answer["visitorName"], BOT_NAME);
    assert_eq!(answer["visitorId"], "sio_visitor_1");

    // The agent finds the visitor in the queue and answers through the agent API.
    let agent = server.agent_for("sio_visitor_1").await;
    server.agent_types(&agent, true).await;
    let joined = driver.expect("a", "agent_joined").await;
    assert_eq!(
        joined["args"][0],
        json!({ "deviceId": "agent", "agentId": AGENT, "agentName": AGENT_NAME })
    );
    assert_eq!(
        driver.expect("a", "partner_typing").await["args"][0],
        json!({ "deviceId": "agent" })
    );
    server.agent_types(&agent, false).await;
    driver.expect("a", "partner_stopped_typing").await;
    server
        .agent_says(&agent, "Hi John! How can I help you today?")
        .await;
    let reply = driver
        .expect_message("a", "How can I help you today?")
        .await;
    assert_eq!(reply["visitorName"], AGENT_NAME);

    // The visitor's typing and messages now reach the agent, not the assistant.
    driver
        .emit("a", "typing", json!([{ "type": "saas" }]))
        .await;
    let deadline = tokio::time::Instant::now() + WAIT;
    while server.agent_context(&agent).await["visitor_typing"] != true {
        assert!(
            tokio::time::Instant::now() < deadline,
            "the agent never saw typing"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    driver
        .emit("a", "stop_typing", json!([{ "type": "saas" }]))
        .await;
    driver.say("a", "Where is my order 1234?").await;
    let context = server.agent_context(&agent).await;
    assert_eq!(context["visitor_typing"], false);
    assert_eq!(
        texts_of(&context["transcript"], "user"),
        ["What are your shipping times?", "Where is my order 1234?"]
    );
    let after = driver.drain(Duration::from_millis(300)).await;
    assert!(
        !events_of(&after, "a").contains(&"receive_message"),
        "the assistant stays out of a chat an agent has: {after:#?}"
    );

    // The agent ends the chat.
    server
        .agent_post(
            &agent,
            "close",
            json!({ "agent_id": AGENT, "reason": "resolved" }),
        )
        .await;
    let left = driver.expect("a", "agent_left").await;
    assert_eq!(
        left["args"][0],
        json!({ "deviceId": "agent", "reason": "resolved" })
    );
}

#[tokio::test]
async fn a_hand_over_on_rest_reaches_an_agent_and_back() {
    let server = dosti_server();
    let (status, _) = server
        .send("rest_visitor_1", "Can I talk to a person?")
        .await;
    assert_eq!(status, 200);
    // The assistant answers first (the stream is stored once it is done).
    server.poll_until("rest_visitor_1", |m| m.len() == 2).await;
    let agent = server.agent_for("rest_visitor_1").await;
    server.agent_says(&agent, "Hi John! Alice here.").await;
    let messages = server
        .poll_until("rest_visitor_1", |m| {
            m.iter().any(|m| m["message"] == "Hi John! Alice here.")
        })
        .await;
    let reply = messages.last().unwrap();
    assert_eq!(
        (&reply["sender"], &reply["senderName"]),
        (&json!("agent"), &json!(AGENT_NAME))
    );
    // While the agent has the chat, the visitor's message is theirs.
    let (status, sent) = server
        .send("rest_visitor_1", "Thanks, my order is late")
        .await;
    assert_eq!(status, 200, "{sent}");
    let context = server.agent_context(&agent).await;
    assert_eq!(
        texts_of(&context["transcript"], "user").last().unwrap(),
        "Thanks, my order is late"
    );
    tokio::time::sleep(Duration::from_millis(300)).await;
    let newer = server
        .poll("rest_visitor_1", sent["message"]["timestamp"].as_u64())
        .await;
    assert!(newer.is_empty(), "no assistant answer: {newer:#?}");
}

#[tokio::test]
async fn two_tabs_get_every_event_whichever_protocol_caused_it() {
    let server = dosti_server();
    let mut driver = Driver::spawn(&server).await;
    driver.visitor("a", "two_tab_visitor").await;
    driver.visitor("b", "two_tab_visitor").await;

    driver.say("a", "What are your opening hours?").await;
    let on_a = driver.expect("a", "receive_message").await;
    let on_b = driver.expect("b", "receive_message").await;
    assert_eq!(on_a["args"], on_b["args"]);

    // A message sent by REST for the same visitor: both tabs hear its answer.
    server
        .send("two_tab_visitor", "Do you have a floor lamp?")
        .await;
    let a2 = driver.expect("a", "receive_message").await;
    let b2 = driver.expect("b", "receive_message").await;
    assert_eq!(a2["args"], b2["args"]);

    let agent = server.agent_for("two_tab_visitor").await;
    server.agent_says(&agent, "Both tabs see me").await;
    for tab in ["a", "b"] {
        driver.expect(tab, "agent_joined").await;
        driver.expect_message(tab, "Both tabs see me").await;
    }
}

#[tokio::test]
async fn a_visitor_reconnects_with_the_same_visitor_id() {
    let server = dosti_server();
    let mut driver = Driver::spawn(&server).await;
    driver.visitor("first", "returning_visitor").await;
    driver.say("first", "Where is my order?").await;
    driver.expect("first", "receive_message").await;
    driver
        .command(json!({ "cmd": "disconnect", "tab": "first" }))
        .await;
    driver.expect("first", "disconnect").await;

    // The agent answers while the visitor is away.
    let agent = server.agent_for("returning_visitor").await;
    server.agent_says(&agent, "Your order left today").await;

    // Back with the same visitorId: the agent is there, the conversation goes on.
    driver.visitor("second", "returning_visitor").await;
    let joined = driver.expect("second", "agent_joined").await;
    assert_eq!(joined["args"][0]["agentId"], AGENT);
    server.agent_says(&agent, "Anything else?").await;
    driver.expect_message("second", "Anything else?").await;
    let history = server.poll("returning_visitor", None).await;
    let texts: Vec<&str> = history
        .iter()
        .map(|m| m["message"].as_str().unwrap())
        .collect();
    assert_eq!(texts[0], "Where is my order?");
    assert_eq!(
        &texts[texts.len() - 2..],
        ["Your order left today", "Anything else?"]
    );

    // The same conversation in seed 002's history, for the widget of the same visitor.
    let res = server
        .api
        .http
        .post(server.url("/api/v1/chat/auth/public"))
        .json(&json!({
            "chatbot_id": "demo-shop", "host_origin": "http://localhost:5173",
            "visitor_id": "returning_visitor"
        }))
        .send()
        .await
        .unwrap();
    let token = res.json::<Value>().await.unwrap()["token"]
        .as_str()
        .unwrap()
        .to_owned();
    let page = server
        .api
        .http
        .get(server.url("/api/v1/chat/messages"))
        .bearer_auth(token)
        .send()
        .await
        .unwrap()
        .json::<Value>()
        .await
        .unwrap();
    assert_eq!(
        page["messages"].as_array().unwrap().len(),
        history.len(),
        "{page}"
    );
}

#[tokio::test]
async fn malformed_frames_get_an_error_and_lose_nothing() {
    let server = dosti_server();
    let mut driver = Driver::spawn(&server).await;
    driver.visitor("a", "malformed_visitor").await;

    let cases = [
        (
            "send_message",
            json!(["just a string"]),
            "send_message takes one argument",
        ),
        ("send_message", json!([]), "send_message takes one argument"),
        (
            "send_message",
            json!([{ "type": "saas" }]),
            "missing field `message`",
        ),
        (
            "send_message",
            json!([{ "type": "saas", "message": ["a"] }]),
            "send_message takes",
        ),
        (
            "send_message",
            json!([{ "type": "sms", "message": "hi" }]),
            "type must be \"saas\"",
        ),
        (
            "send_message",
            json!([{ "type": "saas", "message": "" }]),
            "message: Text is required",
        ),
        (
            "send_message",
            json!([{ "type": "saas", "message": "y".repeat(4001) }]),
            "At most 4000",
        ),
        ("typing", json!([42]), "typing takes one argument"),
        (
            "stop_typing",
            json!([{ "type": "voice" }]),
            "type must be \"saas\"",
        ),
        (
            "join_room",
            json!([{ "room": "agents" }]),
            "Unknown event \"join_room\"",
        ),
    ];
    for (event, args, error) in cases {
        driver.emit("a", event, args.clone()).await;
        let refused = driver.expect("a", "chat_error").await;
        let failure = &refused["args"][0];
        assert_eq!(failure["success"], false);
        assert!(
            failure["error"].as_str().unwrap().contains(error),
            "{event} {args}: {failure}"
        );
    }
    // The same refusal in the ack when the client asks for one.
    let ack = driver
        .emit_ack("a", "send_message", json!([{ "message": 7 }]))
        .await;
    assert_eq!(
        (&ack["success"], &ack["code"]),
        (&json!(false), &json!("validation"))
    );
    driver.expect("a", "chat_error").await;

    // A broken Socket.IO packet ends that connection only; the server carries on.
    driver
        .command(json!({ "cmd": "raw", "tab": "a", "data": "2[\"send_message\"" }))
        .await;
    driver.expect("a", "disconnect").await;
    driver.visitor("b", "malformed_visitor").await;
    driver.say("b", "Still there?").await;
    driver.expect("b", "receive_message").await;
    let kept = server.poll("malformed_visitor", None).await;
    assert_eq!(
        kept[0]["message"], "Still there?",
        "nothing refused was kept"
    );
    // Typing before an agent joins is dropped quietly; a send_message without `type` is fine.
    driver
        .emit("b", "typing", json!([{ "type": "saas" }]))
        .await;
    driver.emit("b", "typing", json!([])).await;
    driver
        .emit("b", "send_message", json!([{ "message": "No type" }]))
        .await;
    driver.expect_message("b", "").await;
    let quiet = driver.drain(Duration::from_millis(200)).await;
    assert!(
        !events_of(&quiet, "b").contains(&"chat_error"),
        "{quiet:#?}"
    );
}

#[tokio::test]
async fn browsers_on_allowed_sites_may_long_poll() {
    let server = dosti_server();
    let path = "/socket.io/?EIO=4&transport=polling&apiKey=dosti_pub_demo&visitorId=web_visitor_1";
    let preflight = |origin: &'static str| {
        server
            .api
            .http
            .request(reqwest::Method::OPTIONS, server.url(path))
            .header("Origin", origin)
            .header("Access-Control-Request-Method", "POST")
            .header("Access-Control-Request-Headers", "content-type")
            .send()
    };
    let allowed = preflight("http://localhost:5173").await.unwrap();
    assert_eq!(allowed.status(), 204);
    assert_eq!(
        allowed.headers()["access-control-allow-origin"],
        "http://localhost:5173"
    );
    let foreign = preflight("https://evil.example").await.unwrap();
    assert!(
        foreign
            .headers()
            .get("access-control-allow-origin")
            .is_none(),
        "{:?}",
        foreign.headers()
    );
    // The engine.io handshake itself carries the header for an allowed site.
    let open = server
        .api
        .http
        .get(server.url(path))
        .header("Origin", "http://localhost:5173")
        .send()
        .await
        .unwrap();
    assert_eq!(open.status(), 200);
    assert_eq!(
        open.headers()["access-control-allow-origin"],
        "http://localhost:5173"
    );
    assert!(open.text().await.unwrap().starts_with("0{\"sid\""));
    // Other paths keep their own CORS (seed 002's API answers its own preflights).
    let api = server
        .api
        .http
        .request(reqwest::Method::OPTIONS, server.url("/api/v1/chat/config"))
        .header("Origin", "http://localhost:5173")
        .header("Access-Control-Request-Method", "GET")
        .header("Access-Control-Request-Headers", "authorization")
        .send()
        .await
        .unwrap();
    assert_eq!(
        api.headers()["access-control-allow-origin"],
        "http://localhost:5173"
    );
}
