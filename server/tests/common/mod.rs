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

/// The release server on a free port with the shipped configuration and a fresh database;
/// killed and its files removed on drop.
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
pub mod postgres;
