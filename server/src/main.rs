//! `dgbot-server`: binds `DGBOT_BIND` (default `127.0.0.1:PORT`, `PORT` default 8080) and
//! prints the demo URL. Every setting is a command-line option and an environment variable
//! (`dgbot-server --help` lists them; docs/deploy.md explains them); `--check-config`
//! validates the settings and the configuration file, then exits.
//!
//! On SIGTERM or Ctrl-C it stops taking connections, lets requests in flight finish (at most
//! `DGBOT_DRAIN_SECS`), lets the webhook worker record the deliveries it started, and exits 0.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Duration;

use clap::Parser;
use dgbot_server::config::{Settings, repo_config};
use dgbot_server::http::security::TrustedProxies;
use dgbot_server::ops::LogFormat;
use dgbot_server::store::{Database, Store};
use dgbot_server::{AppState, ServerConfig};

/// dgbot reference server: the chat API, the widget's files and the demo.
#[derive(Debug, Parser)]
#[command(
    version,
    after_help = "Every option can be set by its environment variable instead. API keys and \
                  model keys named in the configuration file (`*_env`) are read from the \
                  environment too. See docs/deploy.md."
)]
struct Cli {
    /// The address and port to listen on (wins over PORT), e.g. 0.0.0.0:8080.
    #[arg(long, env = "DGBOT_BIND")]
    bind: Option<SocketAddr>,
    /// The port on 127.0.0.1 when DGBOT_BIND is not set (the demo's setting).
    #[arg(long, env = "PORT", default_value_t = 8080)]
    port: u16,
    /// The chatbots and the database (TOML) [default: server/dgbot.toml of the repository].
    #[arg(long, env = "DGBOT_CONFIG")]
    config: Option<PathBuf>,
    /// The database, winning over the configuration file's `database`: a SQLite path or
    /// `sqlite://path`, or `postgres://user:password@host:port/name`, which several instances
    /// can share (docs/deploy.md).
    #[arg(long, env = "DGBOT_DATABASE_URL", hide_env_values = true)]
    database_url: Option<String>,
    /// Check the settings and the configuration file, print a summary, and exit (0: valid).
    #[arg(long)]
    check_config: bool,
    /// The origin the widget is served from, as host pages name it
    /// [default: http://127.0.0.1:PORT, or http://BIND].
    #[arg(long, env = "DGBOT_PUBLIC_BASE")]
    public_base: Option<String>,
    /// Pause between streamed events of the demo bot, in milliseconds.
    #[arg(long, env = "DGBOT_STREAM_DELAY_MS", default_value_t = 35)]
    stream_delay_ms: u64,
    /// Time to classify a conversation after an answer, in milliseconds.
    #[arg(long, env = "DGBOT_CLASSIFY_DELAY_MS", default_value_t = 1500)]
    classify_delay_ms: u64,
    /// The widget's iframe app (`cargo xtask build` output) [default: dist/ of the repository].
    #[arg(long, env = "DGBOT_DIST")]
    dist: Option<PathBuf>,
    /// The host-page loader [default: loader/ of the repository].
    #[arg(long, env = "DGBOT_LOADER")]
    loader: Option<PathBuf>,
    /// The demo host pages [default: server/demo/ of the repository].
    #[arg(long, env = "DGBOT_DEMO")]
    demo: Option<PathBuf>,
    /// Visitor-token signing key; when unset, one made once and kept in the database, so a
    /// restart keeps visitors' tokens valid.
    #[arg(long, env = "DGBOT_TOKEN_SECRET", hide_env_values = true)]
    token_secret: Option<String>,
    /// The first wait before a webhook retry, in milliseconds (it doubles, with jitter).
    #[arg(long, env = "DGBOT_WEBHOOK_RETRY_BASE_MS", default_value_t = 10_000)]
    webhook_retry_base_ms: u64,
    /// Visitor tokens `/auth/public` gives one IP address a minute.
    #[arg(long, env = "DGBOT_AUTH_PUBLIC_PER_MINUTE", default_value_t = 120,
          value_parser = clap::value_parser!(u32).range(1..))]
    auth_public_per_minute: u32,
    /// Reverse proxies whose `Forwarded` / `X-Forwarded-For` are believed: addresses and CIDR
    /// blocks, comma-separated (e.g. 127.0.0.1,10.0.0.0/8). None by default.
    #[arg(long, env = "DGBOT_TRUSTED_PROXIES", default_value = "")]
    trusted_proxies: TrustedProxies,
    /// On shutdown, how long requests in flight and webhook deliveries may take, in seconds.
    #[arg(long, env = "DGBOT_DRAIN_SECS", default_value_t = 10)]
    drain_secs: u64,
    /// Sources (websites, feeds) may be on loopback and private addresses. Default: only when
    /// the public base is a loopback origin (development).
    #[arg(long, env = "DGBOT_PRIVATE_SOURCES")]
    private_sources: Option<bool>,
    /// Sources are synced again this many hours after their last sync.
    #[arg(long, env = "DGBOT_RESYNC_HOURS", default_value_t = 24)]
    resync_hours: u64,
    /// Log format: `human` lines or one `json` object a line.
    #[arg(long, env = "DGBOT_LOG_FORMAT", value_enum, default_value_t = LogFormat::Human)]
    log_format: LogFormat,
    /// Log filter, `RUST_LOG`-style (`info`, `dgbot_server=debug,warn`).
    #[arg(long, env = "DGBOT_LOG", default_value = "info")]
    log: String,
}

#[tokio::main]
async fn main() {
    let cli = Cli::parse();
    if std::env::var_os("DGBOT_TRUST_PROXY").is_some() {
        fail(
            "DGBOT_TRUST_PROXY is gone: list your proxies in DGBOT_TRUSTED_PROXIES \
             (e.g. DGBOT_TRUSTED_PROXIES=127.0.0.1)",
        );
    }
    let config_path = cli.config.clone().unwrap_or_else(repo_config);
    let mut settings =
        Settings::load(&config_path).unwrap_or_else(|e| fail(&format!("configuration: {e}")));
    if let Some(url) = &cli.database_url {
        settings.database = Database::parse(url, &std::env::current_dir().unwrap_or_default());
    }
    let bind = cli
        .bind
        .unwrap_or_else(|| SocketAddr::from(([127, 0, 0, 1], cli.port)));
    if cli.check_config {
        println!(
            "dgbot-server: configuration OK ({}: {} chatbot(s), database {}; listening on {bind})",
            config_path.display(),
            settings.chatbots.len(),
            settings.database
        );
        return;
    }
    if let Err(e) = dgbot_server::ops::init_logging(cli.log_format, &cli.log) {
        fail(&e);
    }

    // A backlog of 4,096 (tokio's default is 1,024): a thousand visitors connecting at once
    // must not have their connections dropped and retried a second later (BENCHMARKS.md).
    let listener = listen(bind).unwrap_or_else(|e| fail(&format!("cannot listen on {bind}: {e}")));
    let bound = listener.local_addr().expect("bound");
    let port = bound.port();
    let public_base = cli.public_base.clone().unwrap_or_else(|| {
        if bound.ip().is_unspecified() || bound.ip().is_loopback() {
            format!("http://127.0.0.1:{port}")
        } else {
            format!("http://{bound}")
        }
    });

    let mut config = ServerConfig::for_repo(public_base);
    config.stream_delay = Duration::from_millis(cli.stream_delay_ms);
    config.classify_delay = Duration::from_millis(cli.classify_delay_ms);
    for (value, dir) in [
        (cli.dist, &mut config.dist_dir),
        (cli.loader, &mut config.loader_dir),
        (cli.demo, &mut config.demo_dir),
    ] {
        if let Some(v) = value {
            *dir = v;
        }
    }
    config.webhook_retry_base = Duration::from_millis(cli.webhook_retry_base_ms);
    config.trusted_proxies = cli.trusted_proxies;
    config.auth_public_limit.messages = cli.auth_public_per_minute;
    config.drain_timeout = Duration::from_secs(cli.drain_secs);
    if let Some(private) = cli.private_sources {
        config.sources.policy.allow_private = private;
    }
    config.sources.resync = Duration::from_secs(cli.resync_hours.max(1) * 3600);
    if let Some(secret) = cli.token_secret {
        config.token_secret = secret.into_bytes();
    }
    if !config.dist_dir.join("index.html").exists() {
        tracing::warn!(
            "{} has no index.html; build the widget first (cargo xtask build)",
            config.dist_dir.display()
        );
    }

    let store = Store::connect(&settings.database).unwrap_or_else(|e| fail(&e.to_string()));
    let state = AppState::start(config, settings.chatbots, store).unwrap_or_else(|e| fail(&e));
    // The demo page is opened on `localhost` while the widget is served from `127.0.0.1`, so the
    // host page and the widget are different origins, as on a real customer site.
    println!(
        "dgbot demo: open http://localhost:{port}/demo/  (widget served from http://127.0.0.1:{port}; agent console at http://127.0.0.1:{port}/agent/)"
    );
    tracing::info!("listening on {bound}");
    dgbot_server::serve_until(listener, state, shutdown_signal())
        .await
        .unwrap_or_else(|e| fail(&format!("server error: {e}")));
    tracing::info!("stopped");
}

/// SIGTERM (a service manager, a container runtime) or Ctrl-C.
async fn shutdown_signal() {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{SignalKind, signal};
        let mut term = signal(SignalKind::terminate()).expect("a SIGTERM handler");
        tokio::select! {
            _ = term.recv() => {}
            _ = tokio::signal::ctrl_c() => {}
        }
    }
    #[cfg(not(unix))]
    {
        let _ = tokio::signal::ctrl_c().await;
    }
}

fn listen(addr: SocketAddr) -> std::io::Result<tokio::net::TcpListener> {
    let socket = match addr {
        SocketAddr::V4(_) => tokio::net::TcpSocket::new_v4()?,
        SocketAddr::V6(_) => tokio::net::TcpSocket::new_v6()?,
    };
    socket.set_reuseaddr(true)?;
    socket.bind(addr)?;
    socket.listen(4096)
}

fn fail(msg: &str) -> ! {
    eprintln!("dgbot-server: {msg}");
    std::process::exit(1)
}
