//! Seed 003 (WebChatAgent) in a real browser: the seed's own `sendChatMessage` and its
//! WebSocket snippet, pasted unchanged (but for the host and the placeholders) into a page on
//! another origin, talk to the server across origins: a bot answer, the switch to live chat
//! when the visitor asks for a person, an agent's reply arriving on the WebSocket and the
//! visitor's answer reaching the agent. The same page on a site the chatbot does not allow
//! gets nothing.

mod support;

use axum::extract::State;
use axum::response::Html;
use dgbot_protocol::Part;
use dgbot_server::core::store::ConversationStore as _;
use serde_json::{Value, json};
use support::{Harness, Options};

/// A second site: `/page.html` is `html`.
async fn other_site(html: String) -> u16 {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    let app = axum::Router::new()
        .route(
            "/page.html",
            axum::routing::get(|State(html): State<String>| async move { Html(html) }),
        )
        .with_state(html);
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    port
}

/// Seed 003's `sendChatMessage`, as the seed has it.
const SEED_SEND_CHAT_MESSAGE: &str = r#"async function sendChatMessage({ baseUrl, chatbotId, message, sessionId }) {
const res = await fetch(`${baseUrl}/api/chat`, {
method: 'POST',
headers: {
'Content-Type': 'application/json',
'X-Chat-Session-Id': sessionId || ''
},
body: JSON.stringify({ message, chatbotId })
});
const nextSessionId = res.headers.get('X-Chat-Session-Id') || sessionId || '';
if (!res.ok) throw new Error(await res.text());
const data = await res.json();
// data: { reply, sources, mode, status }
// If mode === 'human' and status === 'waiting' or 'open', switch to WebSocket
if (data.mode === 'human' && (data.status === 'waiting' || data.status === 'open')) {
// Switch to WebSocket for live chat
connectToLiveChat(nextSessionId, chatbotId);
}
return { data, sessionId: nextSessionId };
}"#;

/// Seed 003's live-chat snippet, as the seed has it.
const SEED_WEBSOCKET: &str = r#"// Use the same base URL as your REST calls (WebChatAgent domain).
const ws = new WebSocket('wss://webchatagent.com/api/livechat');
ws.onopen = () => {
ws.send(JSON.stringify({
type: 'client:join',
chatbotId: '<your-chatbot-id>',
sessionId: '<your-session-id>',
as: 'user'
}));
};
function sendLiveChatMessage(text) {
ws.send(JSON.stringify({
type: 'client:message',
chatbotId: '<your-chatbot-id>',
sessionId: '<your-session-id>',
sender: 'user',
content: text
}));
}
ws.onmessage = (event) => {
const data = JSON.parse(event.data || '{}');
// data.type === 'livechat:message'
// data.sessionId guard recommended (handle only current session)
};"#;

/// A desktop-app-like page: the seed's two pieces, `connectToLiveChat` (which the seed's
/// `sendChatMessage` calls) wrapping the WebSocket snippet with the session it is given, and
/// a log for the test (events kept only for the current session: the seed's guard).
fn page(api: &str) -> String {
    let ws = SEED_WEBSOCKET
        .replace(
            "wss://webchatagent.com",
            &api.replacen("http://", "ws://", 1),
        )
        .replace("'<your-chatbot-id>'", "chatbotId")
        .replace("'<your-session-id>'", "sessionId");
    format!(
        r#"<!doctype html><meta charset="utf-8"><title>Support</title>
<script type="module">
window.__log = [];
window.__events = [];
function connectToLiveChat(sessionId, chatbotId) {{
{ws}
window.__send = sendLiveChatMessage;
ws.addEventListener("message", (e) => {{ const d = JSON.parse(e.data); if (d.sessionId === sessionId) __events.push(d); }});
ws.addEventListener("close", (e) => __log.push("close " + e.code));
ws.addEventListener("error", () => __log.push("socket error"));
}}
window.connectToLiveChat = connectToLiveChat;
{SEED_SEND_CHAT_MESSAGE}
const baseUrl = "{api}", chatbotId = "demo-shop";
try {{
  const first = await sendChatMessage({{ baseUrl, chatbotId, message: "What are your shipping times?", sessionId: "" }});
  __log.push(first);
  const second = await sendChatMessage({{ baseUrl, chatbotId, message: "Can I talk to a person?", sessionId: first.sessionId }});
  __log.push(second);
  window.__session = second.sessionId;
}} catch (e) {{ window.__failed = String(e); }}
</script>"#
    )
}

/// The events the page kept so far.
async fn events(h: &Harness) -> Vec<Value> {
    h.js("return window.__events || [];", vec![])
        .await
        .as_array()
        .cloned()
        .unwrap_or_default()
}

async fn event_where(h: &Harness, what: &str, test: impl Fn(&Value) -> bool) -> Value {
    h.eventually(what, || async {
        events(h).await.into_iter().find(|e| test(e))
    })
    .await
}

#[tokio::test]
async fn the_seeds_fetch_and_websocket_clients_work_from_another_origin() {
    let h = Harness::start_full(
        |_| {},
        |bot| bot.allowed_origins = vec!["http://localhost:*".into()],
        Options::default(),
    )
    .await;
    let port = other_site(page(&h.widget_base)).await;
    h.client
        .goto(&format!("http://localhost:{port}/page.html"))
        .await
        .unwrap();
    let session = h
        .eventually("both answers", || async {
            let v = h
                .js(
                    "return window.__session || window.__failed || null;",
                    vec![],
                )
                .await;
            v.as_str().map(str::to_owned)
        })
        .await;
    assert!(session.starts_with("v_"), "{session}");
    let log = h.js("return window.__log;", vec![]).await;
    let (bot, human) = (&log[0], &log[1]);
    assert_eq!(bot["sessionId"], session, "the header was readable: {log}");
    assert_eq!(
        (bot["data"]["mode"].as_str(), bot["data"]["status"].as_str()),
        (Some("bot"), Some("inactive"))
    );
    assert!(
        bot["data"]["reply"]
            .as_str()
            .unwrap()
            .contains("2–4 business days")
    );
    assert_eq!(bot["data"]["sources"][0]["title"], "Shipping and delivery");
    assert_eq!(
        (
            human["data"]["mode"].as_str(),
            human["data"]["status"].as_str()
        ),
        (Some("human"), Some("waiting"))
    );

    // The seed's client switched to the WebSocket and joined.
    let joined = event_where(&h, "the join's status", |e| e["type"] == "livechat:status").await;
    assert_eq!(joined["status"], "waiting");

    // An agent takes the chat and writes: the page hears it on the socket.
    let core = &h.state.core;
    let waiting = core
        .list_sessions("demo-shop", Some("waiting"), None)
        .unwrap()
        .into_iter()
        .find(|s| s.visitor_id == session)
        .expect("the visitor waits for a person");
    let live = core
        .session_of_chatbot("demo-shop", &waiting.session.livechat_session_id)
        .unwrap();
    core.agent_message(&live, "agent-alice", vec![Part::text("Hi, Alice here!")])
        .unwrap();
    let reply = event_where(&h, "the agent's message", |e| {
        e["type"] == "livechat:message" && e["sender"] == "agent"
    })
    .await;
    assert_eq!(reply["content"], "Hi, Alice here!");
    assert_eq!(reply["sessionId"], session);

    // The visitor answers through the seed's sendLiveChatMessage: the agent has it.
    h.js("window.__send('Thanks, Alice!'); return true;", vec![])
        .await;
    event_where(&h, "the echo", |e| {
        e["type"] == "livechat:message" && e["sender"] == "user"
    })
    .await;
    let key = dgbot_server::core::ConversationKey::new("demo-shop", &session);
    let transcript = json!(h.state.store.messages(&key).unwrap()).to_string();
    assert!(transcript.contains("Thanks, Alice!"), "{transcript}");

    // The same page on a site the chatbot does not allow: the fetch is stopped by CORS, and
    // the server refuses its WebSocket.
    let before = h.state.store.messages(&key).unwrap().len();
    h.client
        .goto(&format!("http://127.0.0.1:{port}/page.html"))
        .await
        .unwrap();
    let failed = h
        .eventually("the refused fetch", || async {
            let v = h.js("return window.__failed || null;", vec![]).await;
            v.as_str().map(str::to_owned)
        })
        .await;
    assert!(failed.contains("Failed to fetch"), "{failed}");
    h.js(
        "window.connectToLiveChat(arguments[0], 'demo-shop'); return true;",
        vec![json!(session)],
    )
    .await;
    let closed = h
        .eventually("the refused socket", || async {
            let log = h.js("return window.__log;", vec![]).await;
            log.as_array()?
                .iter()
                .find(|l| l.as_str().is_some_and(|l| l.starts_with("close")))
                .cloned()
        })
        .await;
    assert_eq!(closed, "close 1006");
    assert!(events(&h).await.is_empty());
    assert_eq!(h.state.store.messages(&key).unwrap().len(), before);
    h.finish().await;
}
