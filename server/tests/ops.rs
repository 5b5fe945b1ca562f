//! Running it for real (docs/deploy.md), over real HTTP: health and readiness, request ids,
//! Prometheus metrics, trusted proxies, graceful shutdown, and the binary's `--help` and
//! `--check-config`.

mod common;

use std::time::{Duration, Instant};

use dgbot_server::ServerConfig;
use dgbot_server::model::Database;
use dgbot_server::store::Store;
use dgbot_testkit::TestServer;
use futures_util::StreamExt;
use serde_json::{Value, json};

/// The demo server, with `configure` applied.
fn ops_server(configure: impl Fn(&mut ServerConfig) + Send + Sync + 'static) -> TestServer {
    TestServer::builder().configure(configure).start()
}

/// The calls these tests make, over real HTTP.
trait Ops {
    /// `GET path`.
    async fn get(&self, path: &str) -> reqwest::Response;
    /// Ask over SSE; the response, its stream unread.
    async fn ask(&self, token: &str, text: &str) -> reqwest::Response;
    /// `GET /metrics`, checked to be Prometheus text.
    async fn metrics(&self) -> String;
    /// `POST /auth/public` with `headers`; its status.
    async fn auth_public(&self, headers: &[(&str, &str)]) -> u16;
}

impl Ops for TestServer {
    async fn get(&self, path: &str) -> reqwest::Response {
        self.api
            .http
            .get(format!("{}{path}", self.base))
            .send()
            .await
            .unwrap()
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

    async fn metrics(&self) -> String {
        let res = self.get("/metrics").await;
        assert_eq!(res.status(), 200);
        assert!(
            res.headers()["content-type"]
                .to_str()
                .unwrap()
                .starts_with("text/plain")
        );
        res.text().await.unwrap()
    }

    async fn auth_public(&self, headers: &[(&str, &str)]) -> u16 {
        let mut req = self
            .api
            .http
            .post(format!("{}/api/v1/chat/auth/public", self.base))
            .json(&json!({ "chatbot_id": "demo-shop", "host_origin": "http://localhost:5173" }));
        for (k, v) in headers {
            req = req.header(*k, *v);
        }
        req.send().await.unwrap().status().as_u16()
    }
}

/// The value of the series whose line starts with `series` (name and labels as rendered).
fn value_of(metrics: &str, series: &str) -> Option<f64> {
    metrics
        .lines()
        .find_map(|l| l.strip_prefix(series)?.strip_prefix(' '))
        .map(|v| v.trim().parse().unwrap())
}

#[tokio::test]
async fn health_and_readiness() {
    let s = ops_server(|_| {});
    let res = s.get("/healthz").await;
    assert_eq!(res.status(), 200);
    assert_eq!(
        res.json::<Value>().await.unwrap(),
        json!({ "status": "ok" })
    );
    let res = s.get("/readyz").await;
    assert_eq!(res.status(), 200);
    assert_eq!(res.json::<Value>().await.unwrap()["status"], "ready");
}

#[tokio::test]
async fn not_ready_when_the_database_is_gone_or_not_migrated() {
    let dir = std::env::temp_dir().join(format!("dgbot-ops-ready-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    let path = dir.join("dgbot.sqlite");
    let s = TestServer::builder()
        .database(Database::Sqlite(path.clone()))
        .start();
    assert_eq!(s.get("/readyz").await.status(), 200);

    let other = rusqlite::Connection::open(&path).unwrap();
    other.execute_batch("PRAGMA user_version = 1;").unwrap();
    let res = s.get("/readyz").await;
    assert_eq!(res.status(), 503);
    let body: Value = res.json().await.unwrap();
    assert_eq!(body["status"], "unavailable");
    assert!(body["reason"].as_str().unwrap().contains("schema version"));

    let version: i64 = {
        let fresh = Store::open(&dir.join("fresh.sqlite")).unwrap();
        drop(fresh);
        rusqlite::Connection::open(dir.join("fresh.sqlite"))
            .unwrap()
            .pragma_query_value(None, "user_version", |r| r.get(0))
            .unwrap()
    };
    other
        .execute_batch(&format!(
            "PRAGMA user_version = {version}; DROP TABLE messages;"
        ))
        .unwrap();
    assert_eq!(s.get("/readyz").await.status(), 503);
    // The process itself is still up.
    assert_eq!(s.get("/healthz").await.status(), 200);
    std::fs::remove_dir_all(&dir).unwrap();
}

#[tokio::test]
async fn request_ids_are_echoed_or_made() {
    let s = ops_server(|_| {});
    let res = s
        .api
        .http
        .get(format!("{}/healthz", s.base))
        .header("x-request-id", "proxy-set-4711")
        .send()
        .await
        .unwrap();
    assert_eq!(res.headers()["x-request-id"], "proxy-set-4711");

    let mut ids = Vec::new();
    for _ in 0..2 {
        let res = s.get("/healthz").await;
        ids.push(res.headers()["x-request-id"].to_str().unwrap().to_owned());
    }
    for id in &ids {
        assert_eq!(id.len(), 32, "{id}");
        assert!(id.bytes().all(|b| b.is_ascii_hexdigit()));
    }
    assert_ne!(ids[0], ids[1]);
    // On errors and unknown paths too.
    let res = s.get("/nowhere").await;
    assert_eq!(res.status(), 404);
    assert!(res.headers().contains_key("x-request-id"));
    // A header that is not a plain token is replaced.
    let res = s
        .api
        .http
        .get(format!("{}/healthz", s.base))
        .header("x-request-id", "a b")
        .send()
        .await
        .unwrap();
    assert_ne!(res.headers()["x-request-id"], "a b");
}

#[tokio::test]
async fn metrics_show_the_traffic() {
    let s = ops_server(|c| c.auth_public_limit.messages = 1);
    let token = dgbot_testkit::Api::new(&s.base).visitor().await.token;
    assert_eq!(s.auth_public(&[]).await, 429);

    // An answer over SSE.
    let answer = s.ask(&token, "Hello").await;
    assert_eq!(answer.status(), 200);
    assert!(answer.text().await.unwrap().contains("event: done"));

    // A /ws connection: counted while open.
    let url = format!(
        "{}/ws?key=demo-shop&visitor_id=visitor-metrics",
        s.base.replace("http://", "ws://")
    );
    let (mut ws, _) = tokio_tungstenite::connect_async(url).await.unwrap();
    let open_ws = "dgbot_open_connections{kind=\"ws\"}";
    // Counted once the upgraded socket's task runs, a moment after the handshake.
    let deadline = Instant::now() + Duration::from_secs(5);
    loop {
        let m = s.metrics().await;
        if value_of(&m, open_ws) == Some(1.0) {
            break;
        }
        assert!(Instant::now() < deadline, "{m}");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    ws.close(None).await.unwrap();
    while let Some(Ok(_)) = ws.next().await {}
    let deadline = Instant::now() + Duration::from_secs(5);
    loop {
        let m = s.metrics().await;
        if value_of(&m, open_ws) == Some(0.0) {
            break;
        }
        assert!(Instant::now() < deadline, "the /ws gauge stays up:\n{m}");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }

    let m = s.metrics().await;
    for series in [
        "dgbot_http_requests_total{method=\"POST\",route=\"/api/v1/chat/messages\",status=\"200\"}",
        "dgbot_http_requests_total{method=\"POST\",route=\"/api/v1/chat/auth/public\",status=\"429\"}",
        "dgbot_rate_limited_total{limit=\"auth_public\"}",
        "dgbot_answers_streamed_total",
        "dgbot_time_to_first_event_seconds_count",
        "dgbot_http_request_duration_seconds_count{route=\"/api/v1/chat/messages\"}",
        "dgbot_open_connections{kind=\"sse\"}",
        "dgbot_livechat_sessions{state=\"waiting\"}",
        "dgbot_webhook_queue_depth",
    ] {
        assert!(value_of(&m, series).is_some(), "{series} missing:\n{m}");
    }
    assert!(value_of(&m, "dgbot_rate_limited_total{limit=\"auth_public\"}").unwrap() >= 1.0);
    assert!(value_of(&m, "dgbot_answers_streamed_total").unwrap() >= 1.0);
    assert!(m.contains("dgbot_http_request_duration_seconds_bucket{"));
    // Routes are patterns, never paths with ids or message text in them.
    assert!(!m.contains("visitor-metrics"));
}

#[tokio::test]
async fn forwarding_headers_are_believed_only_from_trusted_proxies() {
    // The test client connects from 127.0.0.1: a trusted proxy here.
    let s = ops_server(|c| {
        c.auth_public_limit.messages = 1;
        c.trusted_proxies = "127.0.0.1, 10.0.0.0/8".parse().unwrap();
    });
    let fwd = |v: &'static str| [("Forwarded", v)];
    assert_eq!(s.auth_public(&fwd("for=198.51.100.1")).await, 200);
    assert_eq!(s.auth_public(&fwd("for=198.51.100.1")).await, 429);
    // A client's own made-up entry on the left is not believed over the first untrusted one.
    assert_eq!(
        s.auth_public(&fwd(
            "for=203.0.113.50, for=198.51.100.1;proto=https, for=10.0.0.7"
        ))
        .await,
        429
    );
    assert_eq!(s.auth_public(&fwd("for=\"[2001:db8::1]:4711\"")).await, 200);
    assert_eq!(
        s.auth_public(&[("X-Forwarded-For", "198.51.100.2, 10.0.0.7")])
            .await,
        200
    );

    // 127.0.0.1 is not trusted here: its headers are ignored, so it is one client.
    let s = ops_server(|c| {
        c.auth_public_limit.messages = 1;
        c.trusted_proxies = "10.0.0.0/8".parse().unwrap();
    });
    assert_eq!(s.auth_public(&fwd("for=198.51.100.1")).await, 200);
    assert_eq!(s.auth_public(&fwd("for=198.51.100.2")).await, 429);
    assert_eq!(
        s.auth_public(&[("X-Forwarded-For", "198.51.100.3")]).await,
        429
    );
}

#[tokio::test]
async fn shutdown_lets_a_stream_in_flight_finish() {
    let mut s = ops_server(|c| {
        c.stream_delay = Duration::from_millis(40);
        c.drain_timeout = Duration::from_secs(8);
    });
    let token = dgbot_testkit::Api::new(&s.base).visitor().await.token;
    let res = s.ask(&token, "Hello").await;
    assert_eq!(res.status(), 200);
    let mut body = res.bytes_stream();
    let first = body.next().await.unwrap().unwrap();
    assert!(!first.is_empty());

    let asked = Instant::now();
    let served = s.shut_down();
    let mut text = String::from_utf8_lossy(&first).into_owned();
    while let Some(chunk) = body.next().await {
        text.push_str(&String::from_utf8_lossy(&chunk.unwrap()));
    }
    assert!(text.contains("event: done"), "the stream was cut:\n{text}");
    tokio::time::timeout(Duration::from_secs(8), served)
        .await
        .expect("serve returns within the drain bound");
    assert!(asked.elapsed() < Duration::from_secs(8));
    // No new connection is taken.
    assert!(
        reqwest::Client::new()
            .get(format!("{}/healthz", s.base))
            .send()
            .await
            .is_err()
    );
}

#[tokio::test]
async fn shutdown_is_bounded() {
    let mut s = ops_server(|c| {
        // An answer that would take far longer than the bound.
        c.stream_delay = Duration::from_secs(3);
        c.drain_timeout = Duration::from_millis(700);
    });
    let token = dgbot_testkit::Api::new(&s.base).visitor().await.token;
    let res = s.ask(&token, "Hello").await;
    assert_eq!(res.status(), 200);
    let mut body = res.bytes_stream();
    body.next().await.unwrap().unwrap();

    let asked = Instant::now();
    tokio::time::timeout(Duration::from_secs(5), s.shut_down())
        .await
        .expect("serve returns once the bound has passed");
    let took = asked.elapsed();
    assert!(
        took >= Duration::from_millis(600) && took < Duration::from_secs(3),
        "{took:?}"
    );
}

fn binary() -> std::process::Command {
    let mut cmd = std::process::Command::new(env!("CARGO_BIN_EXE_dgbot-server"));
    for (k, _) in std::env::vars() {
        if k.starts_with("DGBOT_") || k == "PORT" {
            cmd.env_remove(k);
        }
    }
    cmd
}

#[test]
fn check_config_accepts_a_good_file_and_refuses_a_bad_one() {
    let good = concat!(env!("CARGO_MANIFEST_DIR"), "/dgbot.toml");
    let out = binary()
        .args(["--check-config", "--config", good])
        .output()
        .unwrap();
    assert!(out.status.success(), "{out:?}");
    let said = String::from_utf8_lossy(&out.stdout);
    assert!(said.contains("configuration OK"), "{said}");

    let dir = std::env::temp_dir().join(format!("dgbot-ops-check-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let bad = dir.join("bad.toml");
    std::fs::write(&bad, "database = \"x.sqlite\"\n[[chatbot]]\nid = 7\n").unwrap();
    let out = binary()
        .arg("--check-config")
        .env("DGBOT_CONFIG", &bad)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1), "{out:?}");
    assert!(String::from_utf8_lossy(&out.stderr).contains("configuration"));

    // A bad setting is refused before anything starts.
    let out = binary()
        .args(["--check-config", "--config", good])
        .env("DGBOT_TRUSTED_PROXIES", "10.0.0.0/99")
        .output()
        .unwrap();
    assert!(!out.status.success());
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("DGBOT_TRUSTED_PROXIES")
            || String::from_utf8_lossy(&out.stderr).contains("trusted-proxies")
    );
    let out = binary()
        .args(["--check-config", "--config", good])
        .env("DGBOT_BIND", "nowhere")
        .output()
        .unwrap();
    assert!(!out.status.success());
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn help_lists_every_setting() {
    let out = binary().arg("--help").output().unwrap();
    assert!(out.status.success());
    let help = String::from_utf8_lossy(&out.stdout);
    for var in [
        "DGBOT_BIND",
        "PORT",
        "DGBOT_CONFIG",
        "DGBOT_PUBLIC_BASE",
        "DGBOT_STREAM_DELAY_MS",
        "DGBOT_CLASSIFY_DELAY_MS",
        "DGBOT_DIST",
        "DGBOT_LOADER",
        "DGBOT_DEMO",
        "DGBOT_TOKEN_SECRET",
        "DGBOT_WEBHOOK_RETRY_BASE_MS",
        "DGBOT_AUTH_PUBLIC_PER_MINUTE",
        "DGBOT_TRUSTED_PROXIES",
        "DGBOT_DRAIN_SECS",
        "DGBOT_LOG_FORMAT",
        "DGBOT_LOG",
        "--check-config",
    ] {
        assert!(help.contains(var), "{var} missing from --help:\n{help}");
    }
}
