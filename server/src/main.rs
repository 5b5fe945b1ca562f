//! `dgbot-server`: binds 127.0.0.1 on `PORT` (default 8080) and prints the demo URL.
//!
//! Environment: `PORT`; `DGBOT_STREAM_DELAY_MS` (pause between streamed events, default 35);
//! `DGBOT_CLASSIFY_DELAY_MS` (time to classify a conversation after an answer, default 1500);
//! `DGBOT_DIST`, `DGBOT_LOADER`, `DGBOT_DEMO` (directories, default the repository's);
//! `DGBOT_TOKEN_SECRET` (visitor-token signing key; when unset, one made once and kept in the
//! database, so a restart keeps visitors' tokens valid);
//! `DGBOT_CONFIG` (the chatbots and the database, default `server/dgbot.toml`);
//! `DGBOT_WEBHOOK_RETRY_BASE_MS` (the first wait before a webhook retry, default 10000);
//! `DGBOT_AUTH_PUBLIC_PER_MINUTE` (visitor tokens `/auth/public` gives one IP address a
//! minute, default 120); `DGBOT_TRUST_PROXY=1` (behind a reverse proxy: the client's address
//! is the last `X-Forwarded-For` entry).

use std::time::Duration;

use dgbot_server::config::{Settings, repo_config};
use dgbot_server::store::Store;
use dgbot_server::{AppState, ServerConfig};

#[tokio::main]
async fn main() {
    let port: u16 = match std::env::var("PORT") {
        Ok(p) => p
            .parse()
            .unwrap_or_else(|_| fail(&format!("PORT must be a port number, got {p:?}"))),
        Err(_) => 8080,
    };
    // A backlog of 4,096 (tokio's default is 1,024): a thousand visitors connecting at once
    // must not have their connections dropped and retried a second later (BENCHMARKS.md).
    let listener =
        listen(port).unwrap_or_else(|e| fail(&format!("cannot listen on 127.0.0.1:{port}: {e}")));
    let port = listener.local_addr().expect("bound").port();

    let mut config = ServerConfig::for_repo(format!("http://127.0.0.1:{port}"));
    let delay_ms = std::env::var("DGBOT_STREAM_DELAY_MS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(35);
    config.stream_delay = Duration::from_millis(delay_ms);
    let classify_ms = std::env::var("DGBOT_CLASSIFY_DELAY_MS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(1500);
    config.classify_delay = Duration::from_millis(classify_ms);
    for (var, dir) in [
        ("DGBOT_DIST", &mut config.dist_dir),
        ("DGBOT_LOADER", &mut config.loader_dir),
        ("DGBOT_DEMO", &mut config.demo_dir),
    ] {
        if let Ok(v) = std::env::var(var) {
            *dir = v.into();
        }
    }
    if let Some(ms) = std::env::var("DGBOT_WEBHOOK_RETRY_BASE_MS")
        .ok()
        .and_then(|v| v.parse().ok())
    {
        config.webhook_retry_base = Duration::from_millis(ms);
    }
    config.trust_proxy = std::env::var("DGBOT_TRUST_PROXY").is_ok_and(|v| v == "1");
    if let Some(n) = std::env::var("DGBOT_AUTH_PUBLIC_PER_MINUTE")
        .ok()
        .and_then(|v| v.parse().ok())
        .filter(|n| *n > 0)
    {
        config.auth_public_limit.messages = n;
    }
    if let Ok(secret) = std::env::var("DGBOT_TOKEN_SECRET") {
        config.token_secret = secret.into_bytes();
    }
    if !config.dist_dir.join("index.html").exists() {
        eprintln!(
            "warning: {} has no index.html; build the widget first (cargo xtask build)",
            config.dist_dir.display()
        );
    }

    let config_path = std::env::var_os("DGBOT_CONFIG")
        .map(Into::into)
        .unwrap_or_else(repo_config);
    let settings =
        Settings::load(&config_path).unwrap_or_else(|e| fail(&format!("configuration: {e}")));
    let store = Store::open(&settings.database).unwrap_or_else(|e| fail(&e.to_string()));
    let state = AppState::with_store(config, settings.chatbots, store);
    // The demo page is opened on `localhost` while the widget is served from `127.0.0.1`, so the
    // host page and the widget are different origins, as on a real customer site.
    println!(
        "dgbot demo: open http://localhost:{port}/demo/  (widget served from http://127.0.0.1:{port}; agent console at http://127.0.0.1:{port}/agent/)"
    );
    dgbot_server::serve_until(listener, state, async {
        let _ = tokio::signal::ctrl_c().await;
    })
    .await
    .unwrap_or_else(|e| fail(&format!("server error: {e}")));
}

fn listen(port: u16) -> std::io::Result<tokio::net::TcpListener> {
    let socket = tokio::net::TcpSocket::new_v4()?;
    socket.set_reuseaddr(true)?;
    socket.bind(std::net::SocketAddr::from(([127, 0, 0, 1], port)))?;
    socket.listen(4096)
}

fn fail(msg: &str) -> ! {
    eprintln!("dgbot-server: {msg}");
    std::process::exit(1)
}
