//! What the server's HTTP tests share.

#![allow(dead_code)]

use std::io::BufRead;

use serde_json::{Value, json};

/// A visitor token for a new visitor of the demo chatbot, the way the widget gets one
/// (`POST /api/v1/chat/auth/public` from an allowed host page).
pub async fn visitor_token(http: &reqwest::Client, base: &str) -> String {
    let res = http
        .post(format!("{base}/api/v1/chat/auth/public"))
        .json(&json!({ "chatbot_id": "demo-shop", "host_origin": "http://localhost:5173" }))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    res.json::<Value>().await.unwrap()["token"]
        .as_str()
        .unwrap()
        .to_owned()
}

/// The release server on a free port with the shipped configuration and a fresh database
/// (`env` may name another, `DGBOT_DATABASE_URL`), and no per-IP limit on visitor tokens
/// unless `env` sets one; killed and its files removed on drop.
pub struct ReleaseServer {
    pub child: std::process::Child,
    pub base: String,
    pub pid: u32,
    pub dir: std::path::PathBuf,
}

impl ReleaseServer {
    pub fn start(name: &str) -> ReleaseServer {
        Self::start_with(name, &[])
    }

    pub fn start_with(name: &str, env: &[(&str, &str)]) -> ReleaseServer {
        let dir = std::env::temp_dir().join(format!("dgbot-load-{name}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        let shipped = std::fs::read_to_string(dgbot_server::config::repo_config()).unwrap();
        let server_dir = dgbot_server::config::repo_config()
            .parent()
            .unwrap()
            .to_path_buf();
        let config = shipped
            .replace(
                "database = \"../target/dgbot.sqlite\"",
                &format!("database = {:?}", dir.join("load.sqlite")),
            )
            .replace(
                "faq = \"demo/kb\"",
                &format!("faq = {:?}", server_dir.join("demo/kb")),
            )
            .replace(
                "catalogue = \"demo/catalogue.json\"",
                &format!("catalogue = {:?}", server_dir.join("demo/catalogue.json")),
            );
        std::fs::write(dir.join("load.toml"), config).unwrap();
        let mut child = std::process::Command::new(env!("CARGO_BIN_EXE_dgbot-server"))
            // The benchmarks' thousand visitors ask for their tokens from one address.
            .env("DGBOT_AUTH_PUBLIC_PER_MINUTE", "1000000")
            .envs(env.iter().copied())
            .env("PORT", "0")
            .env("DGBOT_CONFIG", dir.join("load.toml"))
            .stdout(std::process::Stdio::piped())
            .spawn()
            .unwrap();
        let pid = child.id();
        let mut line = String::new();
        std::io::BufReader::new(child.stdout.take().unwrap())
            .read_line(&mut line)
            .unwrap();
        let base = line
            .split_whitespace()
            .find(|w| w.starts_with("http://127.0.0.1:"))
            .expect("the widget URL")
            .trim_end_matches([')', ';'])
            .to_owned();
        ReleaseServer {
            child,
            base,
            pid,
            dir,
        }
    }
}

impl Drop for ReleaseServer {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

/// The server as `main` runs it (`serve`: each request knows its peer address) on a free
/// loopback port, with `configure` applied and `bots`: its base URL and state.
pub async fn start_server(
    configure: impl FnOnce(&mut dgbot_server::ServerConfig),
    bots: Vec<dgbot_server::Chatbot>,
) -> (String, dgbot_server::SharedState) {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    let mut config = dgbot_server::ServerConfig::for_repo(&base);
    configure(&mut config);
    let state = dgbot_server::AppState::new(config, bots);
    let served = state.clone();
    tokio::spawn(async move { dgbot_server::serve(listener, served).await.unwrap() });
    (base, state)
}

/// The questions the load benchmarks ask, in turn (FAQ answers, products, a table).
pub const QUESTIONS: &[&str] = &[
    "How long does shipping take?",
    "Which lamps do you recommend?",
    "Can I return a lamp?",
    "When are you open on Saturday?",
    "Compare your lamps",
    "Where is my order?",
];

/// The API-key call of the demo chatbot's backend (`None`) or a Bearer token's: status, JSON.
pub async fn call(
    http: &reqwest::Client,
    method: reqwest::Method,
    url: String,
    bearer: Option<&str>,
    body: Option<Value>,
) -> (u16, Value) {
    let mut req = http.request(method, url);
    req = match bearer {
        Some(token) => req.bearer_auth(token),
        None => req.basic_auth(dgbot_server::config::DEMO_API_KEY, Some("")),
    };
    if let Some(body) = body {
        req = req.json(&body);
    }
    let res = req.send().await.unwrap();
    (
        res.status().as_u16(),
        res.json().await.unwrap_or(Value::Null),
    )
}

/// A new visitor asks for a person on `visitor_base`; an agent takes the session on
/// `agent_base` (its queue shows the visitor) and sends `n` messages, each while the visitor's
/// long poll (`wait=10`) waits on `visitor_base`, which must return it. The time from each
/// send (the agent's request included) to the poll's answer. With two instances on one
/// database, this is the hub's cross-instance delivery.
pub async fn agent_to_visitor(
    http: &reqwest::Client,
    visitor_base: &str,
    agent_base: &str,
    n: usize,
) -> Vec<std::time::Duration> {
    use reqwest::Method;
    let api = |base: &str, path: &str| format!("{base}/api/v1/chat{path}");
    let visitor = visitor_token(http, visitor_base).await;
    // The visitor's token works on the agent's instance too (one signing key).
    let (status, _) = call(
        http,
        Method::GET,
        api(agent_base, "/messages"),
        Some(&visitor),
        None,
    )
    .await;
    assert_eq!(status, 200, "a token from one instance works on the other");
    let body = json!({ "platform": "website", "source": "manual_button" });
    let (status, handover) = call(
        http,
        Method::POST,
        api(visitor_base, "/livechat/handover"),
        Some(&visitor),
        Some(body),
    )
    .await;
    assert_eq!(status, 200, "{handover}");
    let session = handover["livechat_session_id"].as_str().unwrap().to_owned();
    let (status, queue) = call(
        http,
        Method::GET,
        api(agent_base, "/livechat/sessions?status=waiting"),
        None,
        None,
    )
    .await;
    assert_eq!(status, 200, "{queue}");
    assert!(
        queue.to_string().contains(&session),
        "the queue shows the visitor: {queue}"
    );
    let path = format!("/livechat/sessions/{session}/token");
    let (status, token) = call(
        http,
        Method::POST,
        api(agent_base, &path),
        None,
        Some(json!({})),
    )
    .await;
    assert_eq!(status, 200, "{token}");
    let agent = token["token"].as_str().unwrap().to_owned();

    let mut after = String::new();
    let mut latencies = Vec::with_capacity(n);
    for i in 0..n {
        let poll = http
            .get(api(
                visitor_base,
                &format!("/livechat/messages?wait=10{after}"),
            ))
            .bearer_auth(&visitor)
            .send();
        let poll = tokio::spawn(async move {
            let res = poll.await.unwrap();
            let got = std::time::Instant::now();
            (res.json::<Value>().await.unwrap(), got)
        });
        // Let the poll reach its instance and wait there.
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
        let text = format!("Hello from the other instance, {i}");
        let sent = std::time::Instant::now();
        let body = json!({ "agent_id": "agent-alice", "message": { "parts": [{ "type": "text", "text": text }] } });
        let (status, reply) = call(
            http,
            Method::POST,
            api(agent_base, "/livechat/agent/messages"),
            Some(&agent),
            Some(body),
        )
        .await;
        assert_eq!(status, 200, "{reply}");
        let (polled, got) = poll.await.unwrap();
        let last = polled["messages"]
            .as_array()
            .and_then(|m| m.last())
            .unwrap_or_else(|| panic!("the agent's message reached the visitor: {polled}"));
        assert_eq!(last["parts"][0]["text"], text, "{polled}");
        after = format!("&after={}", last["message_id"].as_str().unwrap());
        latencies.push(got.saturating_duration_since(sent));
    }
    let (_, state) = call(
        http,
        Method::GET,
        api(visitor_base, "/livechat/state"),
        Some(&visitor),
        None,
    )
    .await;
    assert_eq!(state["status"], "active", "{state}");
    latencies
}

pub mod postgres;
