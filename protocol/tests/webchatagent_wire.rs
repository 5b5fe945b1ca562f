//! Golden-JSON tests for WebChatAgent (seed 003), built from the seed's own examples where it
//! shows one, and from docs/protocol.md ("WebChatAgent (seed 003)") where it is silent.

use dgbot_protocol::webchatagent::*;
use serde_json::{Value, json};

fn round_trip<T: serde::Serialize + serde::de::DeserializeOwned>(golden: Value) -> T {
    let typed: T = serde_json::from_str(&golden.to_string()).expect("decodes");
    assert_eq!(
        serde_json::to_value(&typed).unwrap(),
        golden,
        "re-encodes identically"
    );
    typed
}

#[test]
fn the_seeds_curl_bodies() {
    // `curl -i -X POST https://webchatagent.com/api/chat … -d '{…}'`, both requests.
    let first: ChatRequest = round_trip(json!({
        "message": "Hello, how can you help me?",
        "chatbotId": "<your-chatbot-id>"
    }));
    assert_eq!(first.chatbot_id, "<your-chatbot-id>");
    let second: ChatRequest = round_trip(json!({
        "message": "Continue the conversation.",
        "chatbotId": "<your-chatbot-id>"
    }));
    assert_eq!(second.message, "Continue the conversation.");
    assert_eq!(SESSION_HEADER, "X-Chat-Session-Id");
}

#[test]
fn the_seeds_reply_when_switching_to_live_chat() {
    // "Example response when switching to live chat".
    let reply: ChatReply = round_trip(json!({
        "reply": "...", "sources": [], "mode": "human", "status": "waiting"
    }));
    assert_eq!((reply.mode, reply.status), (Mode::Human, Status::Waiting));
    let open: ChatReply = round_trip(json!({
        "reply": "", "sources": [], "mode": "human", "status": "open"
    }));
    assert_eq!(open.status.mode(), Mode::Human);
}

#[test]
fn a_bot_reply_with_its_sources() {
    let reply: ChatReply = round_trip(json!({
        "reply": "Standard shipping takes 2–4 business days…",
        "sources": [
            { "type": "document", "title": "Shipping and delivery", "url": "https://example.com/shipping" },
            { "type": "product", "title": "Fjord table lamp", "url": "http://127.0.0.1:8080/demo/?product=fjord" }
        ],
        "mode": "bot",
        "status": "inactive"
    }));
    assert_eq!(reply.sources[1].kind, SourceKind::Product);
    assert_eq!(Status::Inactive.mode(), Mode::Bot);
    assert_eq!(Status::Closed.mode(), Mode::Bot);
}

#[test]
fn the_seeds_join_and_message_frames() {
    let join: ClientEvent = round_trip(json!({
        "type": "client:join",
        "chatbotId": "<your-chatbot-id>",
        "sessionId": "<your-session-id>",
        "as": "user"
    }));
    let ClientEvent::Join(j) = &join else {
        panic!("a join")
    };
    assert_eq!((j.role.as_str(), j.after.as_deref()), ("user", None));
    assert_eq!(join.name(), "client:join");
    let message: ClientEvent = round_trip(json!({
        "type": "client:message",
        "chatbotId": "<your-chatbot-id>",
        "sessionId": "<your-session-id>",
        "sender": "user",
        "content": "Hello, is anyone there?"
    }));
    let ClientEvent::Message(m) = message else {
        panic!("a message")
    };
    assert_eq!(
        (m.sender.as_str(), m.content.as_str()),
        ("user", "Hello, is anyone there?")
    );
}

#[test]
fn our_other_client_frames() {
    round_trip::<ClientEvent>(json!({
        "type": "client:join", "chatbotId": "demo-shop", "sessionId": "v_1", "as": "user",
        "after": "msg_3f9c0a1b2d4e5f60"
    }));
    round_trip::<ClientEvent>(json!({
        "type": "client:message", "chatbotId": "demo-shop", "sessionId": "v_1", "sender": "user",
        "content": "Hi", "clientMessageId": "c-1"
    }));
    round_trip::<ClientEvent>(json!({
        "type": "client:typing", "chatbotId": "demo-shop", "sessionId": "v_1", "isTyping": true
    }));
    round_trip::<ClientEvent>(json!({ "type": "client:ping" }));
    round_trip::<ClientEvent>(json!({ "type": "client:ping", "sessionId": "v_1" }));
    for bad in [
        json!({ "type": "client:shout", "sessionId": "v_1" }),
        json!({ "type": "client:message", "chatbotId": "demo-shop", "sessionId": "v_1" }),
        json!({ "chatbotId": "demo-shop" }),
    ] {
        assert!(
            serde_json::from_value::<ClientEvent>(bad.clone()).is_err(),
            "{bad}"
        );
    }
}

#[test]
fn the_seeds_livechat_message_carries_what_its_guard_reads() {
    // The seed: `data.type === 'livechat:message'`; `data.sessionId` guard.
    let agent: ServerEvent = round_trip(json!({
        "type": "livechat:message",
        "sessionId": "v_1",
        "sender": "agent",
        "content": "Hi, I'm Alice. How can I help?",
        "messageId": "msg_1",
        "createdAt": "2026-11-22T01:02:03Z",
        "agent": { "id": "agent-alice", "name": "Alice from Nordlys" }
    }));
    assert_eq!(agent.session_id(), Some("v_1"));
    round_trip::<ServerEvent>(json!({
        "type": "livechat:message", "sessionId": "v_1", "sender": "user", "content": "Thanks!",
        "messageId": "msg_2", "createdAt": "2026-11-22T01:02:04Z"
    }));
    round_trip::<ServerEvent>(json!({
        "type": "livechat:message", "sessionId": "v_1", "sender": "bot",
        "content": "Standard shipping takes…", "messageId": "msg_3",
        "sources": [{ "type": "document", "title": "Shipping and delivery", "url": "https://example.com/shipping" }]
    }));
}

#[test]
fn our_other_server_events_all_carry_the_session() {
    for golden in [
        json!({ "type": "livechat:chunk", "sessionId": "v_1", "content": "Standard " }),
        json!({ "type": "livechat:status", "sessionId": "v_1", "mode": "human", "status": "waiting" }),
        json!({ "type": "livechat:status", "sessionId": "v_1", "mode": "human", "status": "open",
                "agent": { "id": "agent-alice", "name": "Alice", "avatarUrl": "https://x.dk/a.png" } }),
        json!({ "type": "livechat:status", "sessionId": "v_1", "mode": "bot", "status": "closed", "reason": "Resolved" }),
        json!({ "type": "livechat:typing", "sessionId": "v_1", "sender": "agent", "isTyping": true }),
        json!({ "type": "livechat:pong", "sessionId": "v_1" }),
        json!({ "type": "livechat:error", "sessionId": "v_1", "code": "not_joined",
                "message": "Join this session first", "request": "client:message" }),
        json!({ "type": "livechat:error", "sessionId": "v_1", "code": "rate_limited",
                "message": "Too many messages", "request": "client:message", "retryAfter": 12 }),
    ] {
        let event: ServerEvent = round_trip(golden.clone());
        assert_eq!(event.session_id(), Some("v_1"), "{golden}");
    }
    // About a frame that named no session: `sessionId` is there, and null.
    let none: ServerEvent = round_trip(json!({
        "type": "livechat:error", "sessionId": null, "code": "malformed", "message": "Not JSON"
    }));
    assert_eq!(none.session_id(), None);
    round_trip::<ServerEvent>(json!({ "type": "livechat:pong", "sessionId": null }));
}
