//! Seed 001, DGbot's WebSocket (`/ws`), over a real socket: the seed's own Python example,
//! unchanged but for the host; the streamed frames and their text; tools; structured parts on
//! request; ping/pong and the idle close; malformed frames and refused connections; the same
//! visitor reconnecting and attached twice; and a hand-over to an agent of the agent API and
//! back.

mod common;

use dgbot_server::core::store::ConversationStore as _;
use dgbot_testkit::TestServer;
use std::time::Duration;

use dgbot_server::ServerConfig;
use dgbot_server::core::ConversationKey;
use futures_util::{SinkExt, StreamExt};
use serde_json::{Value, json};
use tokio_tungstenite::tungstenite::Message as Ws;
use tokio_tungstenite::tungstenite::client::IntoClientRequest;

type Socket =
    tokio_tungstenite::WebSocketStream<tokio_tungstenite::MaybeTlsStream<tokio::net::TcpStream>>;

/// The demo server, with `configure` applied.
fn ws_server(configure: impl Fn(&mut ServerConfig) + Send + Sync + 'static) -> TestServer {
    TestServer::builder().configure(configure).start()
}

/// The server's `/ws`, for a visitor's socket.
trait WsServer {
    fn ws_url(&self, query: &str) -> String;
    async fn connect(&self, query: &str) -> Socket;
    async fn connect_from(&self, query: &str, origin: &str) -> Socket;
}

impl WsServer for TestServer {
    fn ws_url(&self, query: &str) -> String {
        format!("{}/ws?{query}", self.base.replace("http://", "ws://"))
    }

    async fn connect(&self, query: &str) -> Socket {
        tokio_tungstenite::connect_async(self.ws_url(query))
            .await
            .unwrap()
            .0
    }

    async fn connect_from(&self, query: &str, origin: &str) -> Socket {
        let mut req = self.ws_url(query).into_client_request().unwrap();
        req.headers_mut().insert("Origin", origin.parse().unwrap());
        tokio_tungstenite::connect_async(req).await.unwrap().0
    }
}

async fn send(ws: &mut Socket, frame: Value) {
    ws.send(Ws::text(frame.to_string())).await.unwrap();
}

/// The next text frame, as JSON (10 s at most).
async fn next(ws: &mut Socket) -> Value {
    loop {
        let msg = tokio::time::timeout(Duration::from_secs(10), ws.next())
            .await
            .expect("a frame within 10 s")
            .expect("the connection open")
            .unwrap();
        match msg {
            Ws::Text(t) => return serde_json::from_str(&t).unwrap(),
            Ws::Close(c) => panic!("closed: {c:?}"),
            _ => {}
        }
    }
}

/// Frames up to and including the first of `kind`.
async fn until(ws: &mut Socket, kind: &str) -> Vec<Value> {
    let mut frames = Vec::new();
    loop {
        let f = next(ws).await;
        let done = f["type"] == kind;
        frames.push(f);
        if done {
            return frames;
        }
    }
}

/// The close frame that ends the connection: (code, reason).
async fn closed(ws: &mut Socket) -> (u16, String) {
    loop {
        match tokio::time::timeout(Duration::from_secs(10), ws.next())
            .await
            .expect("a close within 10 s")
        {
            Some(Ok(Ws::Close(Some(c)))) => return (c.code.into(), c.reason.to_string()),
            Some(Ok(Ws::Close(None))) | None => return (0, String::new()),
            Some(Ok(_)) => {}
            Some(Err(e)) => return (0, e.to_string()),
        }
    }
}

fn text_of(frames: &[Value]) -> String {
    frames
        .iter()
        .filter(|f| f["type"] == "stream_chunk")
        .map(|f| f["content"].as_str().unwrap())
        .collect()
}

#[tokio::test]
async fn the_seeds_python_example_prints_the_streamed_answer() {
    let s = ws_server(|_| {});
    let example = include_str!("dgbot_ws_client/example.py")
        .replace(
            "wss://dgbot.dgtech.co.in",
            &s.base.replace("http://", "ws://"),
        )
        .replace("YOUR_ID", "demo-shop");
    let script = std::env::temp_dir().join(format!("dgbot-seed001-{}.py", std::process::id()));
    std::fs::write(&script, example).unwrap();
    let python_path = std::env::var("DGBOT_PYTHONPATH").unwrap_or_else(|_| {
        concat!(env!("CARGO_MANIFEST_DIR"), "/../target/tools/python").to_owned()
    });
    let out = tokio::process::Command::new("python3")
        .arg(&script)
        .env("PYTHONPATH", python_path)
        .output()
        .await
        .expect("python3 (cargo xtask setup installs websockets for it)");
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{stdout}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let (streamed, full) = stdout.split_once("\n\nFull response: ").expect(&stdout);
    assert_eq!(streamed, full.trim_end());
    assert!(full.contains("2–4 business days"), "{full}");
    // The same conversation as every other protocol's: in the history, as the stored answer.
    let key = ConversationKey::new("demo-shop", "test_001");
    let stored = dgbot_testkit::eventually("the answer kept", || {
        s.state.store.messages(&key).ok().filter(|m| m.len() >= 2)
    })
    .await;
    assert_eq!(stored.len(), 2);
    assert_eq!(stored[1].plain_text(), full.trim_end());
}

#[tokio::test]
async fn answers_stream_as_frames_with_tools_and_parts_on_request() {
    let s = ws_server(|_| {});
    let mut ws = s.connect("key=demo-shop&visitor_id=visitor-frames").await;
    send(
        &mut ws,
        json!({ "type": "message", "content": "What are your shipping times?" }),
    )
    .await;
    let frames = until(&mut ws, "stream_end").await;
    let kinds: Vec<&str> = frames.iter().map(|f| f["type"].as_str().unwrap()).collect();
    assert_eq!(kinds[0], "stream_start", "{kinds:?}");
    let id = frames[0]["message_id"].as_str().unwrap();
    assert!(
        frames
            .iter()
            .filter(|f| f.get("message_id").is_some())
            .all(|f| f["message_id"] == id)
    );
    assert_eq!(
        frames
            .iter()
            .filter(|f| f["type"].as_str().unwrap().starts_with("tool_action"))
            .cloned()
            .collect::<Vec<_>>(),
        [
            json!({ "type": "tool_action", "tool": "search_knowledge_base", "status": "calling" }),
            json!({ "type": "tool_action_result", "tool": "search_knowledge_base", "status": "done" }),
        ]
    );
    assert!(
        kinds.iter().filter(|k| **k == "stream_chunk").count() > 3,
        "{kinds:?}"
    );
    let key = ConversationKey::new("demo-shop", "visitor-frames");
    // The answer is kept once its stream has been delivered.
    let stored = dgbot_testkit::eventually("the answer kept", || {
        s.state.store.messages(&key).ok().filter(|m| m.len() >= 2)
    })
    .await;
    assert_eq!(stored[1].message_id, id);
    assert_eq!(text_of(&frames), stored[1].plain_text());
    assert!(!kinds.contains(&"message_parts"), "only on request");

    // `parts=1`: products, tables and markers beside the text, right before `stream_end`.
    let mut ws = s
        .connect("key=demo-shop&visitor_id=visitor-parts&parts=1")
        .await;
    send(
        &mut ws,
        json!({ "type": "message", "content": "lamps under 1000 kr" }),
    )
    .await;
    let frames = until(&mut ws, "stream_end").await;
    let parts = &frames[frames.len() - 2];
    assert_eq!(parts["type"], "message_parts");
    assert_eq!(parts["parts"][1]["type"], "products");
    assert!(text_of(&frames).contains("Fjord table lamp"));
}

#[tokio::test]
async fn pings_malformed_frames_and_refused_connections() {
    let s = ws_server(|c| c.ws_idle_timeout = Duration::from_millis(1500));
    let mut ws = s.connect("key=demo-shop&visitor_id=visitor-pings").await;
    send(&mut ws, json!({ "type": "ping" })).await;
    assert_eq!(next(&mut ws).await, json!({ "type": "pong" }));

    // Bad frames get an error frame each, and the connection stays.
    for (bad, words) in [
        ("not json", "not JSON"),
        (r#"{"content":"hi"}"#, "\"type\""),
        (r#"{"type":"mesage","content":"hi"}"#, "unknown frame type"),
        (r#"{"type":"message"}"#, "content"),
        (
            r#"{"type":"message","content":42}"#,
            "bad \"message\" frame",
        ),
        (r#"{"type":"message","content":""}"#, ""),
    ] {
        ws.send(Ws::text(bad)).await.unwrap();
        let f = next(&mut ws).await;
        assert_eq!(f["type"], "error", "{bad}: {f}");
        assert!(f["message"].as_str().unwrap().contains(words), "{bad}: {f}");
    }
    ws.send(Ws::binary(vec![1, 2, 3])).await.unwrap();
    assert_eq!(next(&mut ws).await["code"], "bad_frame");
    send(&mut ws, json!({ "type": "ping" })).await;
    assert_eq!(next(&mut ws).await["type"], "pong");
    assert!(
        s.state
            .store
            .messages(&ConversationKey::new("demo-shop", "visitor-pings"))
            .unwrap()
            .is_empty()
    );

    // Silent for longer than the idle time: closed, with the reason.
    let (code, reason) = closed(&mut ws).await;
    assert_eq!(code, 1001);
    assert!(reason.contains("idle"), "{reason}");

    // A frame larger than a chat message closes the connection (1009), and nothing is stored.
    let mut ws = s.connect("key=demo-shop&visitor_id=visitor-huge").await;
    let huge = json!({ "type": "message", "content": "x".repeat(100_000) }).to_string();
    let _ = ws.send(Ws::text(huge)).await;
    let (code, _) = closed(&mut ws).await;
    assert!(code == 1009 || code == 0, "{code}");

    // Refused: an error frame that says why, then a policy close.
    for (query, origin, code) in [
        ("key=nope&visitor_id=visitor-x1", None, "unknown_chatbot"),
        ("key=demo-shop", None, "bad_visitor_id"),
        ("key=demo-shop&visitor_id=../../etc", None, "bad_visitor_id"),
        (
            "key=demo-shop&visitor_id=visitor-x2",
            Some("https://evil.example"),
            "origin_not_allowed",
        ),
    ] {
        let mut ws = match origin {
            Some(o) => s.connect_from(query, o).await,
            None => s.connect(query).await,
        };
        let f = next(&mut ws).await;
        assert_eq!(
            (f["type"].as_str(), f["code"].as_str()),
            (Some("error"), Some(code)),
            "{f}"
        );
        assert_eq!(closed(&mut ws).await.0, 1008);
    }
    // A page on an allowed site connects.
    let mut ws = s
        .connect_from(
            "key=demo-shop&visitor_id=visitor-x3",
            "http://localhost:3000",
        )
        .await;
    send(&mut ws, json!({ "type": "ping" })).await;
    assert_eq!(next(&mut ws).await["type"], "pong");
}

#[tokio::test]
async fn one_visitor_reconnects_and_is_attached_twice() {
    let s = ws_server(|_| {});
    let query = "key=demo-shop&visitor_id=visitor-two-tabs";
    let mut first = s.connect(query).await;
    send(
        &mut first,
        json!({ "type": "message", "content": "Can I return a lamp?" }),
    )
    .await;
    until(&mut first, "stream_end").await;
    drop(first);

    // Back with the same visitor_id, in two tabs: both see the answer to either.
    let mut a = s.connect(query).await;
    let mut b = s.connect(query).await;
    // A pong means the tab is attached (the server attaches before it reads a frame).
    for tab in [&mut a, &mut b] {
        send(tab, json!({ "type": "ping" })).await;
        assert_eq!(until(tab, "pong").await.last().unwrap()["type"], "pong");
    }
    send(
        &mut a,
        json!({ "type": "message", "content": "When are you open on Saturday?" }),
    )
    .await;
    let in_a = text_of(&until(&mut a, "stream_end").await);
    let in_b = text_of(&until(&mut b, "stream_end").await);
    assert_eq!(in_a, in_b);
    assert!(in_a.contains("10:00–16:00"), "{in_a}");
    // The answer is kept once its stream has been delivered.
    let key = ConversationKey::new("demo-shop", "visitor-two-tabs");
    let stored = dgbot_testkit::eventually("the second answer kept", || {
        s.state.store.messages(&key).ok().filter(|m| m.len() >= 4)
    })
    .await;
    assert_eq!(stored.len(), 4, "one conversation across the reconnect");

    // Rate limits apply as on every protocol: past the demo's 20 a minute, an error frame.
    let mut last = Value::Null;
    for _ in 0..20 {
        send(&mut a, json!({ "type": "message", "content": "hi" })).await;
    }
    for _ in 0..200 {
        let f = next(&mut a).await;
        if f["type"] == "error" {
            last = f;
            break;
        }
    }
    assert_eq!(last["code"], "rate_limited", "{last}");
    assert!(last["retry_after"].as_u64().unwrap() >= 1);
}

#[tokio::test]
async fn a_hand_over_reaches_an_agent_and_the_reply_comes_back_on_the_socket() {
    let s = ws_server(|_| {});
    let http = reqwest::Client::new();
    let key = ConversationKey::new("demo-shop", "visitor-handover");
    let mut ws = s.connect("key=demo-shop&visitor_id=visitor-handover").await;
    send(
        &mut ws,
        json!({ "type": "message", "content": "Can I talk to a person?" }),
    )
    .await;
    let frames = until(&mut ws, "handoff_offered").await;
    let offer = frames.last().unwrap();
    assert!(
        offer["message"].as_str().unwrap().contains("colleague"),
        "{offer}"
    );

    // Accepting the offer starts a hand-over from that marker.
    send(&mut ws, json!({ "type": "handoff_accept" })).await;
    assert_eq!(
        until(&mut ws, "livechat_status").await.last().unwrap()["status"],
        "waiting"
    );
    let session = s.state.core.livechat_state(&key).unwrap().session.unwrap();
    let token = dgbot_testkit::Api::new(&s.base)
        .backend()
        .agent_for(&session.livechat_session_id)
        .await
        .token;

    // The agent writes through the agent API: joined, then the message, on the socket.
    let res = http
        .post(format!("{}/api/v1/chat/livechat/agent/messages", s.base))
        .bearer_auth(&token)
        .json(&json!({ "agent_id": "agent-alice", "message": { "parts": [{ "type": "text", "text": "Hi, I'm Alice." }] } }))
        .send()
        .await
        .unwrap();
    assert!(res.status().is_success(), "{}", res.text().await.unwrap());
    let frames = until(&mut ws, "agent_message").await;
    let joined = frames
        .iter()
        .find(|f| f["type"] == "agent_joined")
        .expect("agent_joined");
    let name = joined["agent_name"].as_str().unwrap().to_owned();
    assert_eq!(
        frames.last().unwrap(),
        &json!({ "type": "agent_message", "content": "Hi, I'm Alice.", "agent_name": name })
    );

    // Now the visitor's messages go to the agent, not the bot; typing too.
    send(&mut ws, json!({ "type": "typing", "is_typing": true })).await;
    send(
        &mut ws,
        json!({ "type": "message", "content": "My order 1234 has not arrived" }),
    )
    .await;
    let context: Value = loop {
        let c: Value = http
            .get(format!("{}/api/v1/chat/livechat/agent/context", s.base))
            .bearer_auth(&token)
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        if c.to_string().contains("My order 1234") {
            break c;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    };
    assert!(!context.to_string().contains("tool_action"));
    let stored = s.state.store.messages(&key).unwrap();
    assert!(
        stored
            .last()
            .unwrap()
            .plain_text()
            .contains("My order 1234")
    );

    // The agent closes: `agent_left`.
    let res = http
        .post(format!("{}/api/v1/chat/livechat/agent/close", s.base))
        .bearer_auth(&token)
        .json(&json!({ "agent_id": "agent-alice", "reason": "Solved" }))
        .send()
        .await
        .unwrap();
    assert!(res.status().is_success(), "{}", res.text().await.unwrap());
    until(&mut ws, "agent_left").await;
}
