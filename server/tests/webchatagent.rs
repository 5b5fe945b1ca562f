//! Seed 003 (WebChatAgent) over real HTTP and WebSockets: the seed's own cURL pair run by
//! `curl`, `POST /api/chat` (sources, modes, errors as text, CORS), the WebSocket
//! `/api/livechat` (join, messages, echo, status, typing, the session guard, refused frames,
//! pings and idle close, reconnection), and a hand-over that reaches an agent through seed
//! 002's agent API, whose reply comes back on the WebSocket.

use dgbot_server::core::store::ConversationStore as _;
use dgbot_testkit::TestServer;
use std::time::Duration;

use dgbot_server::Chatbot;
use dgbot_server::adapters::webchatagent::Timings;
use dgbot_server::config::{DEMO_API_KEY, DEMO_CHATBOT_ID};
use dgbot_server::core::ConversationKey;
use futures_util::{SinkExt, StreamExt};
use serde_json::{Value, json};
use tokio_tungstenite::tungstenite::client::IntoClientRequest;
use tokio_tungstenite::tungstenite::protocol::frame::coding::CloseCode;
use tokio_tungstenite::tungstenite::{self, Message as Frame};

const ALICE: &str = "agent-alice";
/// A chatbot that allows one site only, to check origins against.
const OTHER_BOT: &str = "other-shop";

/// The server as `main` runs it, the demo chatbot allowed on `http://localhost:*` only, plus
/// [`OTHER_BOT`] on `https://other.example`.
fn webchat_server() -> TestServer {
    webchat_server_with(|_| {})
}

/// The same, with `bot` applied to the demo chatbot.
fn webchat_server_with(bot: impl FnOnce(&mut Chatbot)) -> TestServer {
    builder(bot).start()
}

/// With the WebSocket's timings shortened.
fn webchat_server_timed(timings: Timings) -> TestServer {
    builder(|_| {})
        .configure(move |c| c.webchatagent_timings = timings)
        .start()
}

fn builder(bot: impl FnOnce(&mut Chatbot)) -> dgbot_testkit::Builder {
    let mut other = dgbot_server::config::demo_chatbot();
    other.id = OTHER_BOT.into();
    other.api_keys = vec!["other-key".into()];
    other.test_api_keys = vec![];
    other.public_keys = vec![];
    other.allowed_origins = vec!["https://other.example".into()];
    TestServer::builder()
        .chatbot(|demo| {
            demo.allowed_origins = vec!["http://localhost:*".into()];
            bot(demo);
        })
        .also(other)
}

/// A reply of `POST /api/chat`: status, `X-Chat-Session-Id`, body (JSON or text).
#[derive(Debug)]
struct Reply {
    status: u16,
    session: Option<String>,
    headers: reqwest::header::HeaderMap,
    text: String,
}

impl Reply {
    fn json(&self) -> Value {
        assert_eq!(self.status, 200, "{self:?}");
        serde_json::from_str(&self.text).unwrap()
    }

    fn session(&self) -> String {
        self.session.clone().expect("X-Chat-Session-Id")
    }
}

/// Seed 003's calls, and an agent through seed 002's setup and agent APIs.
trait WebChatAgent {
    /// The conversation of a seed 003 session, as the server keys it.
    fn key(&self, session: &str) -> ConversationKey;
    /// `POST /api/chat` with `message`, in `session` when given.
    async fn chat(&self, message: &str, session: Option<&str>) -> Reply;
    /// `POST /api/chat` with `body` as written, from `origin` when given.
    async fn chat_raw(&self, body: String, session: Option<&str>, origin: Option<&str>) -> Reply;
    /// A new session that asked the assistant something: its id.
    async fn session(&self) -> String;
    /// A WebSocket on `/api/livechat` (no `Origin`).
    async fn socket(&self) -> Socket;
    /// An agent token for the session's (waiting) live chat, through the setup API.
    async fn agent_token(&self, session: &str) -> String;
    /// `POST` to the agent API's `path` with the agent's `token`; the JSON answer.
    async fn agent(&self, token: &str, path: &str, body: Value) -> Value;
    /// The agent (Alice) writes `text`.
    async fn agent_say(&self, token: &str, text: &str) -> Value;
    /// The transcript the agent sees.
    async fn agent_transcript(&self, token: &str) -> String;
}

impl WebChatAgent for TestServer {
    fn key(&self, session: &str) -> ConversationKey {
        ConversationKey::new(DEMO_CHATBOT_ID, session)
    }

    async fn chat(&self, message: &str, session: Option<&str>) -> Reply {
        let body = json!({ "message": message, "chatbotId": DEMO_CHATBOT_ID });
        self.chat_raw(body.to_string(), session, None).await
    }

    async fn chat_raw(&self, body: String, session: Option<&str>, origin: Option<&str>) -> Reply {
        let mut req = self
            .api
            .http
            .post(format!("{}/api/chat", self.base))
            .header("Content-Type", "application/json")
            .body(body);
        if let Some(s) = session {
            req = req.header("X-Chat-Session-Id", s);
        }
        if let Some(o) = origin {
            req = req.header("Origin", o);
        }
        let res = req.send().await.unwrap();
        Reply {
            status: res.status().as_u16(),
            session: res
                .headers()
                .get("x-chat-session-id")
                .map(|v| v.to_str().unwrap().to_owned()),
            headers: res.headers().clone(),
            text: res.text().await.unwrap(),
        }
    }

    async fn session(&self) -> String {
        self.chat("What are your shipping times?", None)
            .await
            .session()
    }

    async fn socket(&self) -> Socket {
        Socket::open(&self.base, None).await.unwrap()
    }

    async fn agent_token(&self, session: &str) -> String {
        let list: Value = self
            .api
            .http
            .get(format!("{}/api/v1/chat/livechat/sessions", self.base))
            .basic_auth(DEMO_API_KEY, Some(""))
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        let id = list["sessions"]
            .as_array()
            .unwrap()
            .iter()
            .find(|s| s["visitor_id"] == session)
            .unwrap_or_else(|| panic!("a live chat for {session}: {list}"))["livechat_session_id"]
            .as_str()
            .unwrap()
            .to_owned();
        dgbot_testkit::Api::new(&self.base)
            .backend()
            .agent_for(&id)
            .await
            .token
    }

    async fn agent(&self, token: &str, path: &str, body: Value) -> Value {
        let res = self
            .api
            .http
            .post(format!("{}/api/v1/chat/livechat/agent/{path}", self.base))
            .bearer_auth(token)
            .json(&body)
            .send()
            .await
            .unwrap();
        assert!(res.status().is_success(), "{path}: {}", res.status());
        res.json().await.unwrap()
    }

    async fn agent_say(&self, token: &str, text: &str) -> Value {
        let body = json!({ "agent_id": ALICE, "message": { "parts": [{ "type": "text", "text": text }] } });
        self.agent(token, "messages", body).await
    }

    async fn agent_transcript(&self, token: &str) -> String {
        let context: Value = self
            .api
            .http
            .get(format!("{}/api/v1/chat/livechat/agent/context", self.base))
            .bearer_auth(token)
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        context["transcript"].to_string()
    }
}

type Ws =
    tokio_tungstenite::WebSocketStream<tokio_tungstenite::MaybeTlsStream<tokio::net::TcpStream>>;

/// A WebSocket client of `/api/livechat`. Every event it reads must carry `sessionId` (the
/// seed's session guard drops those that do not).
struct Socket {
    ws: Ws,
}

impl Socket {
    async fn open(base: &str, origin: Option<&str>) -> Result<Socket, tungstenite::Error> {
        let url = format!("{}/api/livechat", base.replacen("http", "ws", 1));
        let mut req = url.into_client_request().unwrap();
        if let Some(o) = origin {
            req.headers_mut().insert("Origin", o.parse().unwrap());
        }
        let (ws, _) = tokio_tungstenite::connect_async(req).await?;
        Ok(Socket { ws })
    }

    async fn send(&mut self, frame: Value) {
        self.ws
            .send(Frame::Text(frame.to_string().into()))
            .await
            .unwrap();
    }

    async fn join(&mut self, session: &str) -> Value {
        self.send(json!({ "type": "client:join", "chatbotId": DEMO_CHATBOT_ID, "sessionId": session, "as": "user" }))
            .await;
        let status = self.next().await;
        assert_eq!(status["type"], "livechat:status", "{status}");
        status
    }

    async fn say(&mut self, session: &str, text: &str) {
        self.send(json!({ "type": "client:message", "chatbotId": DEMO_CHATBOT_ID, "sessionId": session, "sender": "user", "content": text }))
            .await;
    }

    /// The next event (pings skipped); panics after 5 s.
    async fn next(&mut self) -> Value {
        self.within(Duration::from_secs(5))
            .await
            .expect("an event within 5 s")
    }

    async fn within(&mut self, wait: Duration) -> Option<Value> {
        let deadline = tokio::time::Instant::now() + wait;
        loop {
            let frame = tokio::time::timeout_at(deadline, self.ws.next())
                .await
                .ok()?;
            match frame {
                Some(Ok(Frame::Text(t))) => {
                    let v: Value = serde_json::from_str(&t).unwrap();
                    assert!(
                        v.as_object().unwrap().contains_key("sessionId"),
                        "no sessionId: {v}"
                    );
                    return Some(v);
                }
                Some(Ok(Frame::Ping(_) | Frame::Pong(_))) => continue,
                other => panic!("the socket ended: {other:?}"),
            }
        }
    }

    /// The next event of type `kind`, and those skipped before it.
    async fn next_of(&mut self, kind: &str) -> (Value, Vec<Value>) {
        let mut skipped = vec![];
        loop {
            let v = self.next().await;
            if v["type"] == kind {
                return (v, skipped);
            }
            skipped.push(v);
        }
    }

    /// Nothing arrives for a moment.
    async fn quiet(&mut self) {
        if let Some(v) = self.within(Duration::from_millis(300)).await {
            panic!("expected nothing, got {v}");
        }
    }
}

fn text_of(v: &Value) -> String {
    v.as_str().unwrap_or_default().to_owned()
}

// ----- the seed's examples -----

/// The seed's cURL pair, as it is written but for the host, the chatbot and the session id.
const SEED_CURL_1: &str = r#"curl -i -X POST https://webchatagent.com/api/chat \
-H "Content-Type: application/json" \
-d '{
"message": "Hello, how can you help me?",
"chatbotId": "<your-chatbot-id>"
}'"#;
const SEED_CURL_2: &str = r#"curl -X POST https://webchatagent.com/api/chat \
-H "Content-Type: application/json" \
-H "X-Chat-Session-Id: <session-id-from-response>" \
-d '{
"message": "Continue the conversation.",
"chatbotId": "<your-chatbot-id>"
}'"#;

async fn shell(base: &str, command: &str, session: &str) -> String {
    let command = command
        .replace("https://webchatagent.com", base)
        .replace("<your-chatbot-id>", DEMO_CHATBOT_ID)
        .replace("<session-id-from-response>", session);
    let out = tokio::process::Command::new("sh")
        .args(["-c", &format!("{command} --silent --show-error")])
        .output()
        .await
        .expect("curl runs");
    assert!(out.status.success(), "{command}: {out:?}");
    String::from_utf8(out.stdout).unwrap()
}

#[tokio::test]
async fn the_seeds_curl_pair_starts_and_continues_a_session() {
    let s = webchat_server();
    let first = shell(&s.base, SEED_CURL_1, "").await;
    let (head, body) = first
        .split_once("\r\n\r\n")
        .expect("headers, then the body");
    assert!(head.starts_with("HTTP/1.1 200"), "{head}");
    let session = head
        .lines()
        .find_map(|l| l.strip_prefix("x-chat-session-id: "))
        .expect("the session id in a header")
        .trim()
        .to_owned();
    let reply: Value = serde_json::from_str(body).unwrap();
    assert_eq!(
        (reply["mode"].as_str(), reply["status"].as_str()),
        (Some("bot"), Some("inactive"))
    );
    assert!(!text_of(&reply["reply"]).is_empty(), "{reply}");
    assert!(reply["sources"].is_array());

    let second: Value = serde_json::from_str(&shell(&s.base, SEED_CURL_2, &session).await).unwrap();
    // "Continue the conversation." is nothing the shop's pages answer: the assistant says so
    // and, livechat being live, hands the session to a person (issue 26).
    assert!(text_of(&second["reply"]).contains("don't know"), "{second}");
    assert_eq!(
        (second["mode"].as_str(), second["status"].as_str()),
        (Some("human"), Some("waiting")),
        "{second}"
    );
    // One conversation: both questions and both answers.
    let stored = s.state.store.messages(&s.key(&session)).unwrap();
    assert_eq!(stored.len(), 4);
    assert_eq!(stored[2].plain_text(), "Continue the conversation.");
}

// ----- POST /api/chat -----

#[tokio::test]
async fn answers_name_their_sources_with_links_that_work() {
    let s = webchat_server();
    let shipping = s.chat("What are your shipping times?", None).await;
    let reply = shipping.json();
    assert!(
        text_of(&reply["reply"]).contains("2–4 business days"),
        "{reply}"
    );
    // The answer's `sources` part: the section it quotes first, on the shop's help page.
    assert_eq!(
        reply["sources"][0],
        json!({ "type": "document", "title": "Shipping and delivery",
                "url": format!("{}/demo/help/shipping", s.base) })
    );
    let doc = s
        .api
        .http
        .get(reply["sources"][0]["url"].as_str().unwrap())
        .send()
        .await
        .unwrap();
    assert_eq!(doc.status(), 200);
    assert!(doc.text().await.unwrap().contains("2–4 business days"));

    let lamps = s
        .chat("Lamps under 1000 kr", Some(&shipping.session()))
        .await
        .json();
    let titles: Vec<&str> = lamps["sources"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["title"].as_str().unwrap())
        .collect();
    assert_eq!(titles, ["Fjord table lamp", "Lys wall lamp"], "{lamps}");
    assert!(lamps["sources"].as_array().unwrap().iter().all(|p| {
        p["type"] == "product"
            && p["url"]
                .as_str()
                .unwrap()
                .starts_with(&format!("{}/demo/?product=", s.base))
    }));
    let picture = s
        .chat("Show me a picture of the Fjord", Some(&shipping.session()))
        .await
        .json();
    assert_eq!(
        picture["sources"][0]["title"], "Fjord table lamp",
        "{picture}"
    );
    let form = s.chat("Please contact me", None).await.json();
    assert_eq!(form["sources"], json!([]), "{form}");
}

#[tokio::test]
async fn errors_are_text_with_a_status_and_keep_the_message() {
    let s = webchat_server_with(|bot| bot.rate_limit.messages = 3);
    let bad = s.chat_raw("{not json".into(), None, None).await;
    assert_eq!(bad.status, 400);
    assert!(bad.text.contains("must be JSON"), "{bad:?}");
    assert!(bad.session.is_none());
    let no_bot = s
        .chat_raw(
            json!({ "message": "Hi", "chatbotId": "nope" }).to_string(),
            None,
            None,
        )
        .await;
    assert_eq!(
        (no_bot.status, no_bot.text.as_str()),
        (404, "No chatbot with id \"nope\"")
    );
    let empty = s.chat("   ", None).await;
    assert_eq!(empty.status, 422, "{empty:?}");
    assert_eq!(empty.headers["content-type"], "text/plain; charset=utf-8");
    assert!(empty.session.is_none(), "nothing was kept: no session");
    let long = s.chat(&"x".repeat(4001), None).await;
    assert_eq!(long.status, 422, "{long:?}");
    let malformed = s.chat("Hi", Some("not a session id!")).await;
    assert_eq!(malformed.status, 400);
    assert!(
        malformed.text.contains("X-Chat-Session-Id"),
        "{malformed:?}"
    );

    // An id this server never made: a new session, whose id the client takes from the header.
    let unknown = s.chat("Hi", Some("v_0123456789abcdef")).await;
    assert_eq!(unknown.status, 200);
    assert_ne!(unknown.session(), "v_0123456789abcdef");

    // The chatbot's rate limit, as on every protocol: 3 a minute.
    let session = unknown.session();
    s.chat("Hello", Some(&session)).await.json();
    s.chat("Hello again", Some(&session)).await.json();
    let limited = s.chat("And again", Some(&session)).await;
    assert_eq!(limited.status, 429, "{limited:?}");
    assert!(limited.headers.contains_key("retry-after"));
    assert!(limited.text.contains("wait"), "{limited:?}");
    assert_eq!(limited.session.as_deref(), Some(session.as_str()));
}

#[tokio::test]
async fn browsers_on_the_chatbots_sites_may_call_and_read_the_session_header() {
    let s = webchat_server();
    let preflight = |origin: &'static str| {
        s.api
            .http
            .request(reqwest::Method::OPTIONS, format!("{}/api/chat", s.base))
            .header("Origin", origin)
            .header("Access-Control-Request-Method", "POST")
            .header(
                "Access-Control-Request-Headers",
                "content-type,x-chat-session-id",
            )
            .send()
    };
    let allowed = preflight("http://localhost:5173").await.unwrap();
    assert_eq!(
        allowed.headers()["access-control-allow-origin"],
        "http://localhost:5173"
    );
    let allow_headers = allowed.headers()["access-control-allow-headers"]
        .to_str()
        .unwrap();
    assert!(
        allow_headers.contains("x-chat-session-id"),
        "{allow_headers}"
    );
    let other = preflight("https://evil.example").await.unwrap();
    assert!(!other.headers().contains_key("access-control-allow-origin"));

    let body = json!({ "message": "Hi", "chatbotId": DEMO_CHATBOT_ID }).to_string();
    let ok = s
        .chat_raw(body.clone(), None, Some("http://localhost:5173"))
        .await;
    assert_eq!(ok.status, 200);
    let exposed = ok.headers["access-control-expose-headers"]
        .to_str()
        .unwrap();
    assert!(exposed.contains("x-chat-session-id"), "{exposed}");
    // A site this chatbot does not allow (another chatbot does): refused, nothing kept.
    let refused = s.chat_raw(body, None, Some("https://other.example")).await;
    assert_eq!(refused.status, 403, "{refused:?}");
    assert!(refused.session.is_none());
}

// ----- hand-over, both protocols, agents -----

#[tokio::test]
async fn asking_for_a_person_reaches_an_agent_whose_reply_comes_back_on_the_websocket() {
    let s = webchat_server();
    let session = s.session().await;
    let mut ws = s.socket().await;
    let status = ws.join(&session).await;
    assert_eq!(
        status,
        json!({ "type": "livechat:status", "sessionId": session, "mode": "bot", "status": "inactive" })
    );

    // The seed: asking for a person turns the session to human / waiting.
    let asked = s
        .chat("Can I talk to a person?", Some(&session))
        .await
        .json();
    assert_eq!(
        (asked["mode"].as_str(), asked["status"].as_str()),
        (Some("human"), Some("waiting"))
    );
    assert!(text_of(&asked["reply"]).contains("colleague"), "{asked}");
    // The socket heard the answer stream and the change.
    let (answer, _chunks) = ws.next_of("livechat:message").await;
    assert_eq!(
        (answer["sender"].as_str(), answer["sources"].clone()),
        (Some("bot"), json!([]))
    );
    let (waiting, _) = ws.next_of("livechat:status").await;
    assert_eq!(
        (waiting["mode"].as_str(), waiting["status"].as_str()),
        (Some("human"), Some("waiting"))
    );

    // The agent, through seed 002's agent API, sees what the visitor asked here.
    let agent = s.agent_token(&session).await;
    assert!(
        s.agent_transcript(&agent)
            .await
            .contains("What are your shipping times?")
    );
    s.agent(
        &agent,
        "typing",
        json!({ "agent_id": ALICE, "is_typing": true }),
    )
    .await;
    let (open, _) = ws.next_of("livechat:status").await;
    assert_eq!(open["status"], "open");
    assert_eq!(
        open["agent"],
        json!({ "id": ALICE, "name": "Alice from Nordlys" })
    );
    let (typing, _) = ws.next_of("livechat:typing").await;
    assert_eq!(
        (typing["sender"].as_str(), typing["isTyping"].as_bool()),
        (Some("agent"), Some(true))
    );
    s.agent_say(&agent, "Hi, Alice here. How can I help?").await;
    let (reply, _) = ws.next_of("livechat:message").await;
    assert_eq!(reply["sessionId"], session);
    assert_eq!(reply["sender"], "agent");
    assert_eq!(reply["content"], "Hi, Alice here. How can I help?");
    assert_eq!(reply["agent"]["name"], "Alice from Nordlys");

    // The visitor writes on the socket: echoed, and the agent has it.
    ws.say(&session, "My lamp arrived broken").await;
    let (echo, _) = ws.next_of("livechat:message").await;
    assert_eq!(
        (echo["sender"].as_str(), echo["content"].as_str()),
        (Some("user"), Some("My lamp arrived broken"))
    );
    assert!(
        s.agent_transcript(&agent)
            .await
            .contains("My lamp arrived broken")
    );
    // … or over REST while a person is in the chat: to the person, not the assistant.
    let via_rest = s.chat("Order 1234", Some(&session)).await.json();
    assert_eq!(
        via_rest,
        json!({ "reply": "", "sources": [], "mode": "human", "status": "open" })
    );
    let (echo, _) = ws.next_of("livechat:message").await;
    assert_eq!(echo["content"], "Order 1234");
    assert!(s.agent_transcript(&agent).await.contains("Order 1234"));

    // The agent ends the chat: back to the assistant.
    s.agent(
        &agent,
        "close",
        json!({ "agent_id": ALICE, "reason": "Resolved" }),
    )
    .await;
    let (closed, _) = ws.next_of("livechat:status").await;
    assert_eq!(
        closed,
        json!({ "type": "livechat:status", "sessionId": session, "mode": "bot", "status": "closed", "reason": "Resolved" })
    );
    let after = s.chat("Thanks! And returns?", Some(&session)).await.json();
    assert_eq!(
        (after["mode"].as_str(), after["status"].as_str()),
        (Some("bot"), Some("closed"))
    );
    assert!(text_of(&after["reply"]).contains("30 days"), "{after}");

    // The same conversation is the visitor's history on seed 002's API.
    let token = s.state.tokens.issue(DEMO_CHATBOT_ID, &session);
    let history: Value = s
        .api
        .http
        .get(format!("{}/api/v1/chat/messages?limit=100", s.base))
        .bearer_auth(token)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let history = history["messages"].to_string();
    for said in [
        "What are your shipping times?",
        "Hi, Alice here",
        "My lamp arrived broken",
        "Order 1234",
    ] {
        assert!(history.contains(said), "{said}: {history}");
    }
}

#[tokio::test]
async fn a_hand_over_asked_on_the_websocket_and_two_tabs_hear_everything() {
    let s = webchat_server();
    let session = s.session().await;
    let (mut tab1, mut tab2) = (s.socket().await, s.socket().await);
    tab1.join(&session).await;
    tab2.join(&session).await;

    // In bot mode the assistant answers on the socket, streamed, to both tabs.
    tab1.say(&session, "Can someone help me? I want to talk to a person")
        .await;
    for tab in [&mut tab1, &mut tab2] {
        let (answer, chunks) = tab.next_of("livechat:message").await;
        assert_eq!(answer["sender"], "bot");
        assert!(
            !chunks.is_empty() && chunks.iter().all(|c| c["type"] == "livechat:chunk"),
            "{chunks:?}"
        );
        let (waiting, _) = tab.next_of("livechat:status").await;
        assert_eq!(waiting["status"], "waiting");
    }
    let agent = s.agent_token(&session).await;
    s.agent_say(&agent, "Alice here").await;
    for tab in [&mut tab1, &mut tab2] {
        let (open, _) = tab.next_of("livechat:status").await;
        assert_eq!(open["status"], "open");
        let (m, _) = tab.next_of("livechat:message").await;
        assert_eq!(
            (m["sender"].as_str(), m["content"].as_str()),
            (Some("agent"), Some("Alice here"))
        );
    }
    tab2.say(&session, "from the second tab").await;
    for tab in [&mut tab1, &mut tab2] {
        let (m, _) = tab.next_of("livechat:message").await;
        assert_eq!(
            (m["sender"].as_str(), m["content"].as_str()),
            (Some("user"), Some("from the second tab"))
        );
    }
    // The visitor types on one tab: the agent's side hears it, the other tab too.
    tab1.send(json!({ "type": "client:typing", "chatbotId": DEMO_CHATBOT_ID, "sessionId": session, "isTyping": true })).await;
    let (typing, _) = tab2.next_of("livechat:typing").await;
    assert_eq!(typing["sender"], "user");
    let context: Value = s
        .api
        .http
        .get(format!("{}/api/v1/chat/livechat/agent/context", s.base))
        .bearer_auth(&agent)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(context["visitor_typing"], true);
}

// ----- the WebSocket's rules -----

#[tokio::test]
async fn the_session_guard_and_refused_frames_change_nothing() {
    let s = webchat_server();
    let session = s.session().await;
    let other = s.session().await;
    let mut ws = s.socket().await;

    // A join to an unknown session: an error naming it, and the socket follows nothing.
    ws.send(json!({ "type": "client:join", "chatbotId": DEMO_CHATBOT_ID, "sessionId": "v_0123456789abcdef", "as": "user" })).await;
    let e = ws.next().await;
    assert_eq!(
        (e["type"].as_str(), e["code"].as_str()),
        (Some("livechat:error"), Some("unknown_session"))
    );
    assert_eq!(
        (e["sessionId"].as_str(), e["request"].as_str()),
        (Some("v_0123456789abcdef"), Some("client:join"))
    );
    ws.say(&session, "not joined yet").await;
    assert_eq!(ws.next().await["code"], "not_joined");

    ws.join(&session).await;
    let before = s.state.store.messages(&s.key(&other)).unwrap().len();
    // A message for a session this socket did not join.
    ws.say(&other, "let me in").await;
    let e = ws.next().await;
    assert_eq!(
        (e["code"].as_str(), e["sessionId"].as_str()),
        (Some("not_joined"), Some(other.as_str()))
    );
    assert_eq!(
        s.state.store.messages(&s.key(&other)).unwrap().len(),
        before
    );
    // A failed join keeps the session joined before.
    ws.send(
        json!({ "type": "client:join", "chatbotId": "nope", "sessionId": other, "as": "user" }),
    )
    .await;
    assert_eq!(ws.next().await["code"], "unknown_chatbot");
    ws.send(json!({ "type": "client:join", "chatbotId": DEMO_CHATBOT_ID, "sessionId": other, "as": "agent" })).await;
    assert_eq!(ws.next().await["code"], "forbidden");
    ws.send(json!({ "type": "client:message", "chatbotId": DEMO_CHATBOT_ID, "sessionId": session, "sender": "agent", "content": "I am the agent" })).await;
    assert_eq!(ws.next().await["code"], "forbidden");

    // Malformed frames: an error each, the socket stays.
    for (frame, code) in [
        (Frame::Text("{not json".into()), "malformed"),
        (Frame::Text("[1,2]".into()), "malformed"),
        (Frame::Binary(vec![1u8, 2, 3].into()), "malformed"),
        (Frame::Text(json!({ "sessionId": session }).to_string().into()), "malformed"),
        (Frame::Text(json!({ "type": "client:shout", "sessionId": session }).to_string().into()), "unknown_type"),
        (Frame::Text(json!({ "type": "client:message", "chatbotId": DEMO_CHATBOT_ID, "sessionId": session, "sender": "user" }).to_string().into()), "malformed"),
    ] {
        ws.ws.send(frame.clone()).await.unwrap();
        let e = ws.next().await;
        assert_eq!((e["type"].as_str(), e["code"].as_str()), (Some("livechat:error"), Some(code)), "{frame:?}: {e}");
    }
    // Validation as everywhere: an empty message is refused.
    ws.say(&session, "  ").await;
    let e = ws.next().await;
    assert_eq!(
        (e["code"].as_str(), e["sessionId"].as_str()),
        (Some("validation"), Some(session.as_str()))
    );
    ws.quiet().await;
    assert_eq!(
        s.state.store.messages(&s.key(&session)).unwrap().len(),
        2,
        "nothing stored"
    );
    // Still joined, still answering.
    ws.send(json!({ "type": "client:ping", "sessionId": session }))
        .await;
    assert_eq!(
        ws.next().await,
        json!({ "type": "livechat:pong", "sessionId": session })
    );
    // A frame over 64 KiB ends the socket; nothing is stored.
    let _ = ws.ws.send(Frame::Text("x".repeat(70 * 1024).into())).await;
    let end = tokio::time::timeout(Duration::from_secs(5), ws.ws.next())
        .await
        .unwrap();
    assert!(!matches!(end, Some(Ok(Frame::Text(_)))), "{end:?}");
    assert_eq!(s.state.store.messages(&s.key(&session)).unwrap().len(), 2);
}

#[tokio::test]
async fn browser_pages_must_be_on_the_chatbots_sites() {
    let s = webchat_server();
    let session = s.session().await;
    let refused = Socket::open(&s.base, Some("https://evil.example")).await;
    match refused {
        Err(tungstenite::Error::Http(res)) => assert_eq!(res.status(), 403),
        other => panic!("expected 403, got {:?}", other.map(|_| ())),
    }
    // A site of another chatbot may connect, but not join this chatbot's sessions.
    let mut ws = Socket::open(&s.base, Some("https://other.example"))
        .await
        .unwrap();
    ws.send(json!({ "type": "client:join", "chatbotId": DEMO_CHATBOT_ID, "sessionId": session, "as": "user" })).await;
    assert_eq!(ws.next().await["code"], "forbidden");
    let mut ws = Socket::open(&s.base, Some("http://localhost:3000"))
        .await
        .unwrap();
    ws.join(&session).await;
}

#[tokio::test]
async fn a_client_that_reconnects_with_its_session_id_gets_what_it_missed() {
    let s = webchat_server();
    let session = s.session().await;
    s.chat("I want to talk to a person", Some(&session))
        .await
        .json();
    let agent = s.agent_token(&session).await;
    let mut ws = s.socket().await;
    ws.join(&session).await;
    s.agent_say(&agent, "first").await;
    let (first, _) = ws.next_of("livechat:message").await;
    drop(ws);

    s.agent_say(&agent, "second, while you were away").await;
    s.agent_say(&agent, "third").await;
    let mut ws = s.socket().await;
    ws.send(json!({ "type": "client:join", "chatbotId": DEMO_CHATBOT_ID, "sessionId": session, "as": "user", "after": first["messageId"] })).await;
    let status = ws.next().await;
    assert_eq!(
        (status["type"].as_str(), status["status"].as_str()),
        (Some("livechat:status"), Some("open"))
    );
    assert_eq!(ws.next().await["content"], "second, while you were away");
    assert_eq!(ws.next().await["content"], "third");
    // A resent message with the same clientMessageId is kept once.
    for _ in 0..2 {
        ws.send(json!({ "type": "client:message", "chatbotId": DEMO_CHATBOT_ID, "sessionId": session, "sender": "user", "content": "sent twice", "clientMessageId": "c-42" })).await;
    }
    let (echo, _) = ws.next_of("livechat:message").await;
    assert_eq!(echo["content"], "sent twice");
    ws.quiet().await;
    let transcript = s.agent_transcript(&agent).await;
    assert_eq!(transcript.matches("sent twice").count(), 1, "{transcript}");
}

#[tokio::test]
async fn pings_keep_live_sockets_and_idle_ones_are_closed() {
    let s = webchat_server_timed(Timings {
        ping_every: Duration::from_millis(100),
        idle_after: Duration::from_millis(600),
        join_within: Duration::from_millis(400),
    });
    let session = s.session().await;

    // A client that reads answers the server's pings (tungstenite does, as browsers do).
    let mut live = s.socket().await;
    live.join(&session).await;
    let mut pings = 0;
    let until = tokio::time::Instant::now() + Duration::from_millis(1200);
    while let Ok(Some(frame)) = tokio::time::timeout_at(until, live.ws.next()).await {
        match frame.unwrap() {
            Frame::Ping(_) => pings += 1,
            other => panic!("{other:?}"),
        }
    }
    assert!(pings >= 5, "{pings} pings");
    live.send(json!({ "type": "client:ping" })).await;
    assert_eq!(
        live.next().await,
        json!({ "type": "livechat:pong", "sessionId": null })
    );

    // One that never joins is closed (1008); one that stops answering is closed as idle (1001).
    let mut lurker = s.socket().await;
    assert_eq!(close_code(&mut lurker).await, CloseCode::Policy);
    let mut silent = s.socket().await;
    silent.join(&session).await;
    tokio::time::sleep(Duration::from_millis(900)).await; // not reading: no pongs go out
    assert_eq!(close_code(&mut silent).await, CloseCode::Away);
}

/// Read until the server closes the socket: its close code.
async fn close_code(ws: &mut Socket) -> CloseCode {
    let deadline = tokio::time::Instant::now() + Duration::from_secs(5);
    loop {
        match tokio::time::timeout_at(deadline, ws.ws.next())
            .await
            .expect("closed in time")
        {
            Some(Ok(Frame::Close(Some(frame)))) => return frame.code,
            Some(Ok(_)) => continue,
            other => panic!("no close frame: {other:?}"),
        }
    }
}
