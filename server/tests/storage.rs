//! Storage, configuration and rate limiting over real HTTP: a restart loses nothing, deletion
//! really deletes, a bad configuration stops the server naming the field, and a visitor who
//! sends too fast gets `429` with `Retry-After`.

use std::path::PathBuf;

use dgbot_server::Chatbot;
use dgbot_server::config::{DEMO_CHATBOT_ID, RateLimit};
use dgbot_server::model::Database;
use dgbot_server::store::Store;
use dgbot_testkit::TestServer;
use serde_json::{Value, json};

/// `chatbot` on the SQLite file `database` (in memory when `None`), with a fixed token secret
/// so that tokens outlive a restart.
fn storage_server(database: Option<PathBuf>, chatbot: Chatbot) -> TestServer {
    let mut builder = TestServer::builder()
        .chatbots(vec![chatbot])
        .configure(|config| {
            config.token_secret = b"a fixed secret, so tokens outlive a restart".to_vec()
        });
    if let Some(path) = database {
        builder = builder.database(Database::Sqlite(path));
    }
    builder.start()
}

/// A visitor's calls over real HTTP.
trait Visit {
    /// A visitor's token (`POST /auth/public`), as `visitor_id` when given.
    async fn token(&self, visitor_id: Option<&str>) -> String;
    /// Ask over SSE; the response, its stream unread.
    async fn ask(&self, token: &str, text: &str) -> reqwest::Response;
    /// `GET path` as the visitor of `token`; the JSON body.
    async fn get(&self, token: &str, path: &str) -> Value;
}

impl Visit for TestServer {
    async fn token(&self, visitor_id: Option<&str>) -> String {
        let body = json!({ "chatbot_id": DEMO_CHATBOT_ID, "host_origin": "http://localhost:3000", "visitor_id": visitor_id });
        let res = self
            .api
            .http
            .post(format!("{}/api/v1/chat/auth/public", self.base))
            .json(&body)
            .send()
            .await
            .unwrap();
        res.json::<Value>().await.unwrap()["token"]
            .as_str()
            .unwrap()
            .to_owned()
    }

    async fn ask(&self, token: &str, text: &str) -> reqwest::Response {
        self.api
            .http
            .post(format!("{}/api/v1/chat/messages", self.base))
            .bearer_auth(token)
            .json(&json!({ "message": { "parts": [{ "type": "text", "text": text }] } }))
            .send()
            .await
            .unwrap()
    }

    async fn get(&self, token: &str, path: &str) -> Value {
        self.api
            .http
            .get(format!("{}{path}", self.base))
            .bearer_auth(token)
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap()
    }
}

fn temp_db(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("dgbot-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    dir.join("nested/dgbot.sqlite") // the folder is created too
}

/// The visitor id inside a token (its `sub`).
fn visitor_of(token: &str) -> String {
    use base64::Engine;
    let claims = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(token.split('.').nth(1).unwrap())
        .unwrap();
    serde_json::from_slice::<Value>(&claims).unwrap()["sub"]
        .as_str()
        .unwrap()
        .to_owned()
}

#[tokio::test]
async fn a_restart_loses_nothing_and_deletion_really_deletes() {
    let path = temp_db("restart");
    let server = storage_server(Some(path.clone()), dgbot_server::config::demo_chatbot());
    let token = server.token(None).await;
    let visitor = visitor_of(&token);
    server
        .ask(&token, "How long does shipping take?")
        .await
        .bytes()
        .await
        .unwrap();
    server
        .ask(&token, "Please contact me")
        .await
        .bytes()
        .await
        .unwrap();
    let history = server.get(&token, "/api/v1/chat/messages").await;
    let messages = history["messages"].as_array().unwrap().clone();
    assert_eq!(messages.len(), 4);
    let answer_id = messages[1]["message_id"].as_str().unwrap().to_owned();
    let topic = server
        .get(
            &token,
            &format!("/api/v1/chat/classification?message_id={answer_id}"),
        )
        .await;
    assert_eq!(topic["classification"], "Shipping");
    let form = messages[3]["parts"]
        .as_array()
        .unwrap()
        .iter()
        .find(|p| p["type"] == "show_contact_form")
        .unwrap()["part_id"]
        .clone();
    let submitted = server
        .api.http
        .post(format!("{}/api/v1/chat/actions", server.base))
        .bearer_auth(&token)
        .json(&json!({ "part_id": form, "action": { "type": "contact_form", "fields": { "name": "Ada", "email": "ada@example.com" } } }))
        .send()
        .await
        .unwrap();
    assert_eq!(submitted.status(), 200);
    let rated = server
        .api
        .http
        .post(format!("{}/api/v1/chat/rate", server.base))
        .bearer_auth(&token)
        .json(&json!({ "rating": 5 }))
        .send()
        .await
        .unwrap();
    assert_eq!(rated.status(), 200);
    let identified = server
        .api
        .http
        .post(format!("{}/api/v1/chat/identify", server.base))
        .bearer_auth(&token)
        .json(&json!({ "user_id": "u-1", "email": "ada@example.com" }))
        .send()
        .await
        .unwrap();
    assert_eq!(identified.status(), 200);
    drop(server);

    // A new server on the same file: everything is still there, for the same visitor.
    let store = Store::open(&path).unwrap();
    assert_eq!(store.submissions().unwrap().len(), 1);
    assert_eq!(store.ratings().unwrap()[0].rating, 5);
    assert_eq!(store.identities().unwrap()[0].2.user_id, "u-1");
    let server = storage_server(Some(path.clone()), dgbot_server::config::demo_chatbot());
    let token = server.token(Some(&visitor)).await;
    assert_eq!(visitor_of(&token), visitor);
    assert_eq!(
        server.get(&token, "/api/v1/chat/messages").await["messages"],
        json!(messages)
    );
    let topic = server
        .get(
            &token,
            &format!("/api/v1/chat/classification?message_id={answer_id}"),
        )
        .await;
    assert_eq!(topic["classification"], "Shipping", "the topic was stored");

    // Deleting removes every row of the visitor, and says how many.
    let deleted: Value = server
        .api
        .http
        .delete(format!("{}/api/v1/chat", server.base))
        .bearer_auth(&token)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(
        deleted,
        json!({ "messages": 4, "submissions": 1, "ratings": 1, "livechat_sessions": 0, "attachments": 0 })
    );
    drop(server);
    let store = Store::open(&path).unwrap();
    assert!(
        store.submissions().unwrap().is_empty()
            && store.ratings().unwrap().is_empty()
            && store.identities().unwrap().is_empty()
    );
    let server = storage_server(Some(path.clone()), dgbot_server::config::demo_chatbot());
    let token = server.token(Some(&visitor)).await;
    assert_eq!(
        server.get(&token, "/api/v1/chat/messages").await["messages"],
        json!([])
    );
    let gone = server
        .api
        .http
        .get(format!(
            "{}/api/v1/chat/classification?message_id={answer_id}",
            server.base
        ))
        .bearer_auth(&token)
        .send()
        .await
        .unwrap();
    assert_eq!(gone.status(), 404);
}

#[tokio::test]
async fn too_many_messages_get_429_with_retry_after() {
    let mut chatbot = dgbot_server::config::demo_chatbot();
    chatbot.rate_limit = RateLimit {
        messages: 2,
        per_seconds: 30,
    };
    let server = storage_server(None, chatbot);
    let token = server.token(None).await;
    for _ in 0..2 {
        let answer = server.ask(&token, "Hello").await;
        assert_eq!(answer.status(), 200);
        answer.text().await.unwrap(); // read to its end, as the visitor's widget does
    }
    let limited = server.ask(&token, "Hello").await;
    assert_eq!(limited.status(), 429);
    let wait: u64 = limited.headers()["retry-after"]
        .to_str()
        .unwrap()
        .parse()
        .unwrap();
    assert!((1..=30).contains(&wait), "{wait}");
    let body: Value = limited.json().await.unwrap();
    assert_eq!(body["error"]["code"], "rate_limited");
    // Per visitor: another visitor is not held up; the limited message was not stored.
    let other = server.token(None).await;
    let answer = server.ask(&other, "Hello").await;
    assert_eq!(answer.status(), 200);
    answer.text().await.unwrap();
    // The answers are kept once their streams have been delivered.
    let mut kept = 0;
    for _ in 0..100 {
        kept = server.get(&token, "/api/v1/chat/messages").await["messages"]
            .as_array()
            .unwrap()
            .len();
        if kept == 4 {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    assert_eq!(kept, 4);
}

#[test]
fn a_bad_configuration_stops_the_server_naming_the_field() {
    let dir = std::env::temp_dir().join(format!("dgbot-badconfig-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let shipped = std::fs::read_to_string(dgbot_server::config::repo_config()).unwrap();
    let server_dir = dgbot_server::config::repo_config()
        .parent()
        .unwrap()
        .to_path_buf();
    let bad = shipped
        .replace("primary_color = \"#1f5f5b\"", "primary_color = \"green\"")
        .replace(
            "faq = \"demo/kb\"",
            &format!("faq = {:?}", server_dir.join("demo/kb")),
        )
        .replace(
            "catalogue = \"demo/catalogue.json\"",
            &format!("catalogue = {:?}", server_dir.join("demo/catalogue.json")),
        );
    let file = dir.join("bad.toml");
    std::fs::write(&file, bad).unwrap();
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_dgbot-server"))
        .env("DGBOT_CONFIG", &file)
        .env("PORT", "0")
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{stderr}");
    assert!(
        stderr.contains("chatbot[0].theme.primary_color") && stderr.contains("\"green\""),
        "{stderr}"
    );
    std::fs::remove_dir_all(&dir).unwrap();
}

#[tokio::test]
async fn a_database_failure_is_a_500_in_the_envelope_and_streams_nothing() {
    let path = temp_db("broken");
    let server = storage_server(Some(path.clone()), dgbot_server::config::demo_chatbot());
    let token = server.token(None).await;
    // Break the database under the running server.
    let other = rusqlite::Connection::open(&path).unwrap();
    other
        .execute_batch("DROP TABLE messages; DROP TABLE ratings;")
        .unwrap();
    let res = server.ask(&token, "Hello").await;
    assert_eq!(res.status(), 500);
    let body: Value = res.json().await.unwrap();
    assert_eq!(body["error"]["code"], "internal");
    let rated = server
        .api
        .http
        .post(format!("{}/api/v1/chat/rate", server.base))
        .bearer_auth(&token)
        .json(&json!({ "rating": 4 }))
        .send()
        .await
        .unwrap();
    assert_eq!(rated.status(), 500);
    let history = server
        .api
        .http
        .get(format!("{}/api/v1/chat/messages", server.base))
        .bearer_auth(&token)
        .send()
        .await
        .unwrap();
    assert_eq!(history.status(), 500);
}
