//! The server over real HTTP on port 0: auth, config, the SSE message stream, errors, assets.

use std::path::PathBuf;

use dgbot_protocol::sse::SseParser;
use dgbot_protocol::stream::StreamEvent;
use dgbot_protocol::transcript::{Change, Transcript};
use dgbot_server::chatbots::{DEMO_API_KEY, DEMO_CHATBOT_ID};
use dgbot_server::{AppState, Chatbot, ServerConfig, app};
use futures_util::StreamExt;
use serde_json::{Value, json};

struct Server {
    base: String,
    http: reqwest::Client,
}

async fn start_with(dist: PathBuf) -> Server {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    let mut config = ServerConfig::for_repo(&base);
    config.dist_dir = dist;
    let state = AppState::new(config, vec![Chatbot::demo()]);
    tokio::spawn(async move { axum::serve(listener, app(state)).await.unwrap() });
    Server { base, http: reqwest::Client::new() }
}

async fn start() -> Server {
    start_with(PathBuf::from("/nonexistent")).await
}

impl Server {
    fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }

    async fn widget_token(&self) -> String {
        let res = self
            .http
            .post(self.url("/api/v1/chat/auth/public"))
            .json(&json!({ "chatbot_id": DEMO_CHATBOT_ID, "host_origin": "http://localhost:5173" }))
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), 200);
        res.json::<Value>().await.unwrap()["token"].as_str().unwrap().to_owned()
    }
}

async fn error_of(res: reqwest::Response) -> (u16, Value) {
    (res.status().as_u16(), res.json::<Value>().await.unwrap())
}

#[tokio::test]
async fn seed_curl_auth_then_config() {
    let s = start().await;
    // curl -X POST .../api/v1/chat/auth -u "$CHATBOT_API_KEY:" -d '{ "chatbot_id": "…" }'
    let res = s
        .http
        .post(s.url("/api/v1/chat/auth"))
        .basic_auth(DEMO_API_KEY, Some(""))
        .json(&json!({ "chatbot_id": DEMO_CHATBOT_ID }))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    let token = res.json::<Value>().await.unwrap()["token"].as_str().unwrap().to_owned();
    assert_eq!(token.split('.').count(), 3, "a JWT");

    let config: Value = s.http.get(s.url("/api/v1/chat/config")).bearer_auth(&token).send().await.unwrap().json().await.unwrap();
    assert_eq!(config["name"], "Nordlys Assistant");
    assert_eq!(config["chat_type"], "shopping_assistant");

    let (status, body) = error_of(
        s.http.post(s.url("/api/v1/chat/auth")).basic_auth("wrong", Some("")).json(&json!({ "chatbot_id": DEMO_CHATBOT_ID })).send().await.unwrap(),
    )
    .await;
    assert_eq!((status, body["error"]["code"].as_str()), (401, Some("unauthorized")));
}

#[tokio::test]
async fn public_auth_checks_the_host_origin() {
    let s = start().await;
    for origin in ["http://localhost:3000", "http://127.0.0.1:8080", "http://localhost"] {
        let res = s.http.post(s.url("/api/v1/chat/auth/public")).json(&json!({ "chatbot_id": DEMO_CHATBOT_ID, "host_origin": origin })).send().await.unwrap();
        assert_eq!(res.status(), 200, "{origin}");
    }
    let (status, body) = error_of(
        s.http.post(s.url("/api/v1/chat/auth/public")).json(&json!({ "chatbot_id": DEMO_CHATBOT_ID, "host_origin": "https://evil.example" })).send().await.unwrap(),
    )
    .await;
    assert_eq!((status, body["error"]["code"].as_str()), (403, Some("forbidden")));
    let (status, body) = error_of(
        s.http.post(s.url("/api/v1/chat/auth/public")).json(&json!({ "chatbot_id": "nope", "host_origin": "http://localhost" })).send().await.unwrap(),
    )
    .await;
    assert_eq!((status, body["error"]["code"].as_str()), (404, Some("not_found")));
}

#[tokio::test]
async fn visitor_endpoints_need_a_valid_bearer_token() {
    let s = start().await;
    for auth in [None, Some("Bearer nonsense"), Some("Basic Zm9vOg==")] {
        let mut req = s.http.get(s.url("/api/v1/chat/config"));
        if let Some(a) = auth {
            req = req.header("Authorization", a);
        }
        let (status, body) = error_of(req.send().await.unwrap()).await;
        assert_eq!((status, body["error"]["code"].as_str()), (401, Some("unauthorized")), "{auth:?}");
    }
}

/// A client shaped like the seed's `fetchEventSource` example: POST, read the SSE body in
/// whatever chunks arrive, switch on the event name, replace the draft on `done`.
#[tokio::test]
async fn messages_stream_the_seed_events_and_done_replaces_the_draft() {
    let s = start().await;
    let token = s.widget_token().await;
    let res = s
        .http
        .post(s.url("/api/v1/chat/messages"))
        .bearer_auth(&token)
        .json(&json!({ "message": { "parts": [{ "type": "text", "text": "What are your shipping times?" }] }, "context": { "page": "http://localhost:5173/" } }))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    assert_eq!(res.headers()["content-type"], "text/event-stream");

    let mut parser = SseParser::new();
    let mut names = vec![];
    let mut transcript = Transcript::new();
    let mut body = res.bytes_stream();
    let mut events = vec![];
    while let Some(chunk) = body.next().await {
        parser.feed(&chunk.unwrap(), &mut events);
    }
    let mut last = None;
    for sse in events {
        let ev = StreamEvent::decode(&sse.event, &sse.data).unwrap().expect("only known events");
        names.push(ev.name());
        last = Some(transcript.apply(&ev).unwrap());
    }
    // The draft the deltas built already equalled done.message.
    assert_eq!(last, Some(Change::Done { message: 0, same: true }));
    assert_eq!(&names[..3], &["status", "status", "part_delta"]);
    assert_eq!(names.last(), Some(&"done"));
    assert!(names.iter().filter(|n| **n == "part_delta").count() > 20, "streamed word by word: {names:?}");
    let answer = transcript.messages()[0].plain_text();
    assert!(answer.starts_with("Standard shipping takes 2–4 business days"), "{answer}");
}

#[tokio::test]
async fn message_errors_use_the_api_error_envelope() {
    let s = start().await;
    let token = s.widget_token().await;
    let post = |body: String| s.http.post(s.url("/api/v1/chat/messages")).bearer_auth(&token).header("content-type", "application/json").body(body).send();

    let (status, body) = error_of(post(r#"{"message":{"parts":[{"type":"text","text":"  "}]}}"#.into()).await.unwrap()).await;
    assert_eq!(status, 422);
    assert_eq!(body, json!({ "error": { "code": "validation", "message": "Validation failed",
        "params": [{ "field": "message.parts.0.text", "message": "Text is required" }] } }));

    let (status, body) = error_of(post("{not json".into()).await.unwrap()).await;
    assert_eq!((status, body["error"]["code"].as_str()), (422, Some("validation")));

    let long = "x".repeat(4001);
    let (status, body) = error_of(post(json!({ "message": { "parts": [{ "type": "text", "text": long }] } }).to_string()).await.unwrap()).await;
    assert_eq!((status, body["error"]["params"][0]["field"].as_str()), (422, Some("message.parts.0.text")));
}

#[tokio::test]
async fn serves_the_loader_the_app_and_demo_pages() {
    let dist = std::env::temp_dir().join(format!("dgbot-dist-{}", std::process::id()));
    std::fs::create_dir_all(&dist).unwrap();
    std::fs::write(dist.join("index.html"), "<!doctype html><title>app</title>").unwrap();
    std::fs::write(dist.join("dgbot-0123456789abcdef_bg.wasm"), b"\0asm\x01\0\0\0").unwrap();
    let s = start_with(dist).await;

    for path in ["/widget.js", "/static/widget.js"] {
        let res = s.http.get(s.url(path)).header("accept-encoding", "gzip").send().await.unwrap();
        assert_eq!(res.status(), 200, "{path}");
        assert!(res.headers()["content-type"].to_str().unwrap().contains("javascript"), "{path}");
        assert_eq!(res.headers()["cache-control"], "public, max-age=300");
        assert_eq!(res.headers()["content-encoding"], "gzip", "{path} is compressed");
    }
    let res = s.http.get(s.url("/chat/dgbot-0123456789abcdef_bg.wasm")).send().await.unwrap();
    assert_eq!(res.headers()["content-type"], "application/wasm");
    assert_eq!(res.headers()["cache-control"], "public, max-age=31536000, immutable");
    let res = s.http.get(s.url("/chat/")).send().await.unwrap();
    assert_eq!(res.headers()["cache-control"], "no-cache");
    assert!(res.text().await.unwrap().contains("<title>app</title>"));

    let page = s.http.get(s.url("/demo/")).send().await.unwrap().text().await.unwrap();
    assert!(page.contains(&format!(r#"<script src="{}/widget.js" data-chatbot-id="demo-shop""#, s.base)), "{page}");
    assert_eq!(s.http.get(s.url("/demo/..%2FCargo.toml")).send().await.unwrap().status(), 404);
}
