//! The server over real HTTP on port 0: auth, config, the SSE message stream, errors, assets.

mod common;

use std::path::PathBuf;

use dgbot_protocol::sse::SseParser;
use dgbot_protocol::stream::StreamEvent;
use dgbot_protocol::transcript::{Change, Transcript};
use dgbot_server::config::{DEMO_API_KEY, DEMO_CHATBOT_ID};
use dgbot_testkit::TestServer;
use futures_util::StreamExt;
use serde_json::{Value, json};

/// The server serving the widget's files from `dist`.
fn serving_dist(dist: PathBuf) -> TestServer {
    TestServer::builder()
        .configure(move |config| config.dist_dir = dist.clone())
        .start()
}

/// The demo server, without a built widget.
fn demo_server() -> TestServer {
    serving_dist(PathBuf::from("/nonexistent"))
}

trait WidgetToken {
    /// A new visitor's widget token.
    async fn widget_token(&self) -> String;
}

impl WidgetToken for TestServer {
    async fn widget_token(&self) -> String {
        self.api.visitor().await.token
    }
}

async fn error_of(res: reqwest::Response) -> (u16, Value) {
    (res.status().as_u16(), res.json::<Value>().await.unwrap())
}

#[tokio::test]
async fn seed_curl_auth_then_config() {
    let s = demo_server();
    // curl -X POST .../api/v1/chat/auth -u "$CHATBOT_API_KEY:" -d '{ "chatbot_id": "…" }'
    let res = s
        .api
        .http
        .post(s.url("/api/v1/chat/auth"))
        .basic_auth(DEMO_API_KEY, Some(""))
        .json(&json!({ "chatbot_id": DEMO_CHATBOT_ID }))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    let token = res.json::<Value>().await.unwrap()["token"]
        .as_str()
        .unwrap()
        .to_owned();
    assert_eq!(token.split('.').count(), 3, "a JWT");

    let config: Value = s
        .api
        .http
        .get(s.url("/api/v1/chat/config"))
        .bearer_auth(&token)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(config["name"], "Nordlys Assistant");
    assert_eq!(config["chat_type"], "shopping_assistant");

    let (status, body) = error_of(
        s.api
            .http
            .post(s.url("/api/v1/chat/auth"))
            .basic_auth("wrong", Some(""))
            .json(&json!({ "chatbot_id": DEMO_CHATBOT_ID }))
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(
        (status, body["error"]["code"].as_str()),
        (401, Some("unauthorized"))
    );
}

#[tokio::test]
async fn public_auth_checks_the_host_origin() {
    let s = demo_server();
    for origin in [
        "http://localhost:3000",
        "http://127.0.0.1:8080",
        "http://localhost",
    ] {
        let res = s
            .api
            .http
            .post(s.url("/api/v1/chat/auth/public"))
            .json(&json!({ "chatbot_id": DEMO_CHATBOT_ID, "host_origin": origin }))
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), 200, "{origin}");
    }
    let (status, body) = error_of(
        s.api
            .http
            .post(s.url("/api/v1/chat/auth/public"))
            .json(&json!({ "chatbot_id": DEMO_CHATBOT_ID, "host_origin": "https://evil.example" }))
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(
        (status, body["error"]["code"].as_str()),
        (403, Some("forbidden"))
    );
    let (status, body) = error_of(
        s.api
            .http
            .post(s.url("/api/v1/chat/auth/public"))
            .json(&json!({ "chatbot_id": "nope", "host_origin": "http://localhost" }))
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(
        (status, body["error"]["code"].as_str()),
        (404, Some("not_found"))
    );
}

#[tokio::test]
async fn visitor_endpoints_need_a_valid_bearer_token() {
    let s = demo_server();
    for auth in [None, Some("Bearer nonsense"), Some("Basic Zm9vOg==")] {
        let mut req = s.api.http.get(s.url("/api/v1/chat/config"));
        if let Some(a) = auth {
            req = req.header("Authorization", a);
        }
        let (status, body) = error_of(req.send().await.unwrap()).await;
        assert_eq!(
            (status, body["error"]["code"].as_str()),
            (401, Some("unauthorized")),
            "{auth:?}"
        );
    }
}

/// A client shaped like the seed's `fetchEventSource` example: POST, read the SSE body in
/// whatever chunks arrive, switch on the event name, replace the draft on `done`.
#[tokio::test]
async fn messages_stream_the_seed_events_and_done_replaces_the_draft() {
    let s = demo_server();
    let token = s.widget_token().await;
    let res = s
        .api.http
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
        let ev = StreamEvent::decode(&sse.event, &sse.data)
            .unwrap()
            .expect("only known events");
        names.push(ev.name());
        last = Some(transcript.apply(&ev).unwrap());
    }
    // The draft the deltas built already equalled done.message.
    assert_eq!(
        last,
        Some(Change::Done {
            message: 0,
            same: true
        })
    );
    assert_eq!(&names[..3], &["status", "status", "part_delta"]);
    assert_eq!(names.last(), Some(&"done"));
    assert!(
        names.iter().filter(|n| **n == "part_delta").count() > 20,
        "streamed word by word: {names:?}"
    );
    let answer = transcript.messages()[0].plain_text();
    assert!(
        answer.contains("Standard shipping takes 2–4 business days"),
        "{answer}"
    );
}

#[tokio::test]
async fn message_errors_use_the_api_error_envelope() {
    let s = demo_server();
    let token = s.widget_token().await;
    let post = |body: String| {
        s.api
            .http
            .post(s.url("/api/v1/chat/messages"))
            .bearer_auth(&token)
            .header("content-type", "application/json")
            .body(body)
            .send()
    };

    let (status, body) = error_of(
        post(r#"{"message":{"parts":[{"type":"text","text":"  "}]}}"#.into())
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(status, 422);
    assert_eq!(
        body,
        json!({ "error": { "code": "validation", "message": "Validation failed",
        "params": [{ "field": "message.parts.0.text", "message": "Text is required" }] } })
    );

    let (status, body) = error_of(post("{not json".into()).await.unwrap()).await;
    assert_eq!(
        (status, body["error"]["code"].as_str()),
        (422, Some("validation"))
    );

    let long = "x".repeat(4001);
    let (status, body) = error_of(
        post(json!({ "message": { "parts": [{ "type": "text", "text": long }] } }).to_string())
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(
        (status, body["error"]["params"][0]["field"].as_str()),
        (422, Some("message.parts.0.text"))
    );
}

#[tokio::test]
async fn serves_the_loader_the_app_and_demo_pages() {
    let dist = std::env::temp_dir().join(format!("dgbot-dist-{}", std::process::id()));
    std::fs::create_dir_all(&dist).unwrap();
    std::fs::write(dist.join("index.html"), "<!doctype html><title>app</title>").unwrap();
    std::fs::write(
        dist.join("dgbot-0123456789abcdef_bg.wasm"),
        b"\0asm\x01\0\0\0",
    )
    .unwrap();
    let s = serving_dist(dist);

    for path in ["/widget.js", "/static/widget.js"] {
        let res = s
            .api
            .http
            .get(s.url(path))
            .header("accept-encoding", "gzip")
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), 200, "{path}");
        assert!(
            res.headers()["content-type"]
                .to_str()
                .unwrap()
                .contains("javascript"),
            "{path}"
        );
        assert_eq!(res.headers()["cache-control"], "public, max-age=300");
        assert_eq!(
            res.headers()["content-encoding"],
            "gzip",
            "{path} is compressed"
        );
    }
    let res = s
        .api
        .http
        .get(s.url("/chat/dgbot-0123456789abcdef_bg.wasm"))
        .send()
        .await
        .unwrap();
    assert_eq!(res.headers()["content-type"], "application/wasm");
    assert_eq!(
        res.headers()["cache-control"],
        "public, max-age=31536000, immutable"
    );
    let res = s.api.http.get(s.url("/chat/")).send().await.unwrap();
    assert_eq!(res.headers()["cache-control"], "no-cache");
    assert!(res.text().await.unwrap().contains("<title>app</title>"));

    let page = s
        .api
        .http
        .get(s.url("/demo/"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(
        page.contains(&format!(
            r#"<script src="{}/widget.js" data-chatbot-id="demo-shop""#,
            s.base
        )),
        "{page}"
    );
    assert_eq!(
        s.api
            .http
            .get(s.url("/demo/..%2FCargo.toml"))
            .send()
            .await
            .unwrap()
            .status(),
        404
    );
}

#[tokio::test]
async fn serves_the_agent_console_and_its_modules_beside_it() {
    let s = demo_server();
    let get = |path: &str| s.api.http.get(s.url(path)).send();
    let res = get("/agent/").await.unwrap();
    assert_eq!(res.status(), 200);
    assert!(res.headers().contains_key("content-security-policy"));
    let page = res.text().await.unwrap();
    assert!(
        page.contains(r#"<script type="module" src="/agent/main.js"></script>"#),
        "{page}"
    );
    // Every module the page names, from the folder beside it.
    let modules: Vec<&str> = page
        .split('"')
        .filter(|w| w.starts_with("/agent/") && w.ends_with(".js"))
        .collect();
    assert!(modules.len() >= 4, "{modules:?}");
    for path in modules {
        let res = get(path).await.unwrap();
        assert_eq!(res.status(), 200, "{path}");
        assert_eq!(
            res.headers()["content-type"],
            "text/javascript; charset=utf-8",
            "{path}"
        );
        assert!(
            res.headers().contains_key("content-security-policy"),
            "{path}"
        );
    }
    // Nothing else: not Node's package.json beside the modules, not the folder they were in.
    for path in [
        "/agent/package.json",
        "/agent/js/main.js",
        "/agent/Main.js",
        "/agent/.js",
        "/agent/..%2Fdgbot.toml",
    ] {
        assert_eq!(get(path).await.unwrap().status(), 404, "{path}");
    }
}

/// Ask `question` and return the finished assistant message (via the SSE stream).
async fn ask(s: &TestServer, token: &str, question: &str) -> dgbot_protocol::Message {
    let res = s
        .api
        .http
        .post(s.url("/api/v1/chat/messages"))
        .bearer_auth(token)
        .json(&json!({ "message": { "parts": [{ "type": "text", "text": question }] } }))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    let mut parser = SseParser::new();
    let mut events = vec![];
    parser.feed(&res.bytes().await.unwrap(), &mut events);
    let mut t = Transcript::new();
    for sse in events {
        t.apply(&StreamEvent::decode(&sse.event, &sse.data).unwrap().unwrap())
            .unwrap();
    }
    t.messages().last().cloned().expect("a done message")
}

#[tokio::test]
async fn contact_form_round_trip_validates_against_its_marker() {
    let s = demo_server();
    let token = s.widget_token().await;
    let reply = ask(&s, &token, "Please contact me").await;
    let form = reply
        .parts
        .iter()
        .find(|p| p.type_name() == "show_contact_form")
        .expect("a contact form marker");
    let part_id = form.part_id().unwrap().to_owned();
    let post = |body: Value| {
        s.api
            .http
            .post(s.url("/api/v1/chat/actions"))
            .bearer_auth(&token)
            .json(&body)
            .send()
    };

    let (status, body) = error_of(
        post(json!({ "part_id": part_id, "action": { "type": "contact_form", "fields": { "email": "not-an-email" } } })).await.unwrap(),
    )
    .await;
    assert_eq!(status, 422);
    let fields: Vec<&str> = body["error"]["params"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["field"].as_str().unwrap())
        .collect();
    assert_eq!(fields, ["action.fields.name", "action.fields.email"]);

    let ok = post(json!({ "part_id": part_id, "action": { "type": "contact_form",
        "fields": { "name": "Jane Doe", "email": "jane@example.com", "message": "I need help with my order" } } }))
    .await
    .unwrap();
    assert_eq!(ok.status(), 200);
    let ok: Value = ok.json().await.unwrap();
    assert!(ok["action_id"].as_str().unwrap().starts_with("action_"));

    let (status, _) = error_of(
        post(json!({ "part_id": "nope", "action": { "type": "contact_form", "fields": {} } }))
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(status, 404);
    let (status, body) = error_of(
        post(json!({ "part_id": part_id, "action": { "type": "support_ticket", "fields": {} } }))
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(
        (status, body["error"]["params"][0]["field"].as_str()),
        (422, Some("action.type"))
    );
}

#[tokio::test]
async fn support_ticket_attachments_follow_the_marker_rules() {
    let s = demo_server();
    let token = s.widget_token().await;
    let reply = ask(&s, &token, "I need to open a support ticket").await;
    let part_id = reply
        .parts
        .iter()
        .find(|p| p.type_name() == "show_support_ticket")
        .unwrap()
        .part_id()
        .unwrap()
        .to_owned();
    let ticket = |attachments: Value| {
        s.api.http.post(s.url("/api/v1/chat/actions")).bearer_auth(&token).json(&json!({ "part_id": part_id, "action": {
            "type": "support_ticket", "fields": { "email": "jane@example.com", "description": "The lamp arrived cracked." },
            "attachments": attachments } })).send()
    };
    let (status, body) = error_of(
        ticket(json!([{ "filename": "x.html", "mime": "text/html", "data": "PGI+" }]))
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(
        (status, body["error"]["params"][0]["field"].as_str()),
        (422, Some("action.attachments.0"))
    );
    let res =
        ticket(json!([{ "filename": "crack.png", "mime": "image/png", "data": "iVBORw0KGgo=" }]))
            .await
            .unwrap();
    assert_eq!(res.status(), 200);
}

#[tokio::test]
async fn every_part_type_streams_from_the_demo_bot() {
    let s = demo_server();
    let token = s.widget_token().await;
    for (question, expected) in [
        ("Compare your lamps", "table"),
        ("Which lamp do you recommend?", "products"),
        ("Show me a picture of the Fjord", "image"),
        ("Please contact me", "show_contact_form"),
        ("I need to open a support ticket", "show_support_ticket"),
        ("Here is a photo of the damage", "request_image_upload"),
        ("Can I talk to a person?", "request_human_agent"),
        ("Can I book a demo?", "custom"),
    ] {
        let reply = ask(&s, &token, question).await;
        assert!(
            reply.parts.iter().any(|p| p.type_name() == expected),
            "{question}: {:?}",
            reply.parts
        );
    }
}

#[tokio::test]
async fn an_image_message_is_accepted_and_checked() {
    let s = demo_server();
    let token = s.widget_token().await;
    let send = |part: Value| {
        s.api
            .http
            .post(s.url("/api/v1/chat/messages"))
            .bearer_auth(&token)
            .json(&json!({ "message": { "parts": [part] } }))
            .send()
    };
    let ok = send(json!({ "type": "image", "data": "iVBORw0KGgo=", "mime": "image/png", "filename": "damage.png" })).await.unwrap();
    assert_eq!(ok.status(), 200);
    assert!(ok.text().await.unwrap().contains("Thank you for the photo"));
    let (status, body) = error_of(
        send(json!({ "type": "image", "data": "PHN2Zz4=", "mime": "image/svg+xml" }))
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(
        (status, body["error"]["params"][0]["field"].as_str()),
        (422, Some("message.parts.0.mime"))
    );
}

#[tokio::test]
async fn a_scripted_drop_kills_the_connection_mid_stream() {
    use dgbot_server::{ScriptedEvent, ScriptedReply};
    let s = TestServer::builder()
        .configure(|config| {
            config.scripted_replies = vec![ScriptedReply {
                trigger: "drop".into(),
                events: vec![
                    ScriptedEvent::Sse("status".into(), r#"{"status":"connected"}"#.into()),
                    ScriptedEvent::Drop,
                ],
            }]
        })
        .start();
    let token = s.widget_token().await;
    let res = s
        .api
        .http
        .post(s.url("/api/v1/chat/messages"))
        .bearer_auth(&token)
        .json(&json!({ "message": { "parts": [{ "type": "text", "text": "drop" }] } }))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    let mut body = res.bytes_stream();
    let mut got = vec![];
    let outcome = tokio::time::timeout(std::time::Duration::from_secs(5), async {
        while let Some(chunk) = body.next().await {
            match chunk {
                Ok(c) => got.extend_from_slice(&c),
                Err(_) => return "error",
            }
        }
        "clean end"
    })
    .await;
    assert!(String::from_utf8_lossy(&got).contains("connected"));
    assert_eq!(
        outcome,
        Ok("error"),
        "the client must see a broken connection, not a clean end"
    );
}

#[tokio::test]
async fn a_large_photo_within_the_limit_is_accepted_and_an_oversized_body_gets_the_envelope() {
    let s = demo_server();
    let token = s.widget_token().await;
    // A 4 MB image (base64 ≈ 5.3 MB): within the 5 MB the image-upload marker allows.
    let data = "A".repeat(4 * 1024 * 1024 / 3 * 4);
    let res = s.api.http.post(s.url("/api/v1/chat/messages")).bearer_auth(&token)
        .json(&json!({ "message": { "parts": [{ "type": "image", "data": data, "mime": "image/jpeg", "filename": "big.jpg" }] } }))
        .send().await.unwrap();
    assert_eq!(res.status(), 200);
    // Far over any limit: refused in the envelope, not as plain text.
    let huge = "A".repeat(30 * 1024 * 1024);
    let (status, body) = error_of(
        s.api
            .http
            .post(s.url("/api/v1/chat/messages"))
            .bearer_auth(&token)
            .header("content-type", "application/json")
            .body(format!(
                r#"{{"message":{{"parts":[{{"type":"text","text":"{huge}"}}]}}}}"#
            ))
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(
        (status, body["error"]["code"].as_str()),
        (413, Some("validation"))
    );
}

#[tokio::test]
async fn history_pages_back_through_the_conversation() {
    let s = demo_server();
    let token = s.widget_token().await;
    for q in [
        "What are your shipping times?",
        "Can I return a lamp?",
        "When are you open?",
    ] {
        ask(&s, &token, q).await;
    }
    tokio::time::sleep(std::time::Duration::from_millis(50)).await; // the reply is stored as its stream ends
    let page: Value = s
        .api
        .http
        .get(s.url("/api/v1/chat/messages?limit=4"))
        .bearer_auth(&token)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let messages = page["messages"].as_array().unwrap();
    assert_eq!(messages.len(), 4);
    assert_eq!(page["has_more"], true);
    assert_eq!(messages[0]["role"], "user");
    assert_eq!(messages[0]["parts"][0]["text"], "Can I return a lamp?");
    assert_eq!(messages[3]["role"], "assistant");
    assert!(messages[3]["created_at"].as_str().unwrap().ends_with('Z'));
    let before = messages[0]["message_id"].as_str().unwrap();
    let older: Value = s
        .api
        .http
        .get(s.url(&format!("/api/v1/chat/messages?limit=4&before={before}")))
        .bearer_auth(&token)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(older["messages"].as_array().unwrap().len(), 2);
    assert_eq!(older["has_more"], false);
    let (status, _) = error_of(
        s.api
            .http
            .get(s.url("/api/v1/chat/messages?limit=0"))
            .bearer_auth(&token)
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(status, 422);
    // Another visitor sees nothing of it.
    let other = s.widget_token().await;
    let page: Value = s
        .api
        .http
        .get(s.url("/api/v1/chat/messages"))
        .bearer_auth(&other)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(page["messages"].as_array().unwrap().len(), 0);
}

#[test]
fn rfc3339_now_looks_right() {
    let now = dgbot_server::model::ids::now_rfc3339();
    println!("now: {now}");
    assert_eq!(now.len(), 20, "{now}");
    assert!(
        now.starts_with("20") && now.as_bytes()[10] == b'T' && now.ends_with('Z'),
        "{now}"
    );
}

#[tokio::test]
async fn rating_and_deleting_the_visitors_data() {
    let s = demo_server();
    let token = s.widget_token().await;
    let reply = ask(&s, &token, "Please contact me").await;
    let part_id = reply.parts[1].part_id().unwrap().to_owned();
    tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    let res = s.api.http.post(s.url("/api/v1/chat/actions")).bearer_auth(&token)
        .json(&json!({ "part_id": part_id, "action": { "type": "contact_form", "fields": { "name": "Jane", "email": "jane@example.com" } } }))
        .send().await.unwrap();
    assert_eq!(res.status(), 200);

    let rate = |body: Value| {
        s.api
            .http
            .post(s.url("/api/v1/chat/rate"))
            .bearer_auth(&token)
            .json(&body)
            .send()
    };
    let (status, body) = error_of(rate(json!({ "rating": 6 })).await.unwrap()).await;
    assert_eq!(
        (status, body["error"]["params"][0]["field"].as_str()),
        (422, Some("rating"))
    );
    let ok = rate(json!({ "rating": 4, "feedback": "Quick and helpful" }))
        .await
        .unwrap();
    assert_eq!(ok.status(), 200);
    assert_eq!(
        rate(json!({ "rating": 5 })).await.unwrap().status(),
        200,
        "a new rating replaces the old one"
    );

    let deleted: Value = s
        .api
        .http
        .delete(s.url("/api/v1/chat"))
        .bearer_auth(&token)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(
        deleted,
        json!({ "messages": 2, "submissions": 1, "ratings": 1, "livechat_sessions": 0, "attachments": 0 })
    );
    let page: Value = s
        .api
        .http
        .get(s.url("/api/v1/chat/messages"))
        .bearer_auth(&token)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(
        page["messages"].as_array().unwrap().len(),
        0,
        "deletion really deletes"
    );
    let again: Value = s
        .api
        .http
        .delete(s.url("/api/v1/chat"))
        .bearer_auth(&token)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(
        again,
        json!({ "messages": 0, "submissions": 0, "ratings": 0, "livechat_sessions": 0, "attachments": 0 })
    );
}

#[tokio::test]
async fn each_answer_is_classified_and_the_topic_follows_the_conversation() {
    let s = demo_server();
    let token = s.widget_token().await;
    let first = ask(&s, &token, "How long does shipping take?").await;
    let url = |id: &str| s.url(&format!("/api/v1/chat/classification?message_id={id}"));
    let c: Value = s
        .api
        .http
        .get(url(&first.message_id))
        .bearer_auth(&token)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(
        c,
        json!({ "message_id": first.message_id, "classification": "Shipping" })
    );
    let second = ask(&s, &token, "My Aurora lamp arrived broken").await;
    let c: Value = s
        .api
        .http
        .get(url(&second.message_id))
        .bearer_auth(&token)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(c["classification"], "Complaint");

    // Another visitor cannot read it; an unknown answer is 404; the query is required.
    let other = s.widget_token().await;
    let (status, body) = error_of(
        s.api
            .http
            .get(url(&first.message_id))
            .bearer_auth(&other)
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(
        (status, body["error"]["code"].as_str()),
        (404, Some("not_found"))
    );
    let (status, _) = error_of(
        s.api
            .http
            .get(url("msg_999"))
            .bearer_auth(&token)
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(status, 404);
    let (status, body) = error_of(
        s.api
            .http
            .get(s.url("/api/v1/chat/classification"))
            .bearer_auth(&token)
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(
        (status, body["error"]["params"][0]["field"].as_str()),
        (422, Some("message_id"))
    );
}

#[tokio::test]
async fn identify_keeps_the_visitors_identity_until_deletion() {
    let s = demo_server();
    let token = s.widget_token().await;
    let user = json!({ "user_id": "u-42", "name": "Ada", "email": "ada@example.com", "user_hash": "3f1c" });
    let res = s
        .api
        .http
        .post(s.url("/api/v1/chat/identify"))
        .bearer_auth(&token)
        .json(&user)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    assert_eq!(
        res.json::<Value>().await.unwrap(),
        json!({ "user_id": "u-42", "verified": false })
    );

    for (bad, field) in [
        (json!({ "user_id": " " }), "user_id"),
        (json!({ "user_id": "u", "email": "nope" }), "email"),
        (json!({ "user_id": "u", "name": "x".repeat(300) }), "name"),
    ] {
        let (status, body) = error_of(
            s.api
                .http
                .post(s.url("/api/v1/chat/identify"))
                .bearer_auth(&token)
                .json(&bad)
                .send()
                .await
                .unwrap(),
        )
        .await;
        assert_eq!(
            (status, body["error"]["params"][0]["field"].as_str()),
            (422, Some(field)),
            "{bad}"
        );
    }
    let (status, body) = error_of(
        s.api
            .http
            .post(s.url("/api/v1/chat/identify"))
            .bearer_auth(&token)
            .header("content-type", "application/json")
            .body("{")
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(
        (status, body["error"]["code"].as_str()),
        (422, Some("validation"))
    );
    let (status, _) = error_of(
        s.api
            .http
            .post(s.url("/api/v1/chat/identify"))
            .json(&user)
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(status, 401);
}
