//! dgbot reference backend: the composition of the layers (docs/architecture.md).
//!
//! Each seed protocol is a thin adapter over one conversation core:
//!
//! - [`core`] (the `dgbot-core` crate, `server/core/`: no HTTP, no database): the domain model,
//!   conversations and their responders, livechat, the webhook outbox, the per-conversation hub,
//!   and the store traits it needs.
//! - [`store`]: SQLite, or PostgreSQL for several instances, implementing the core's store
//!   traits (and its hub across instances).
//! - [`http`]: the `ApiError` envelope and core errors' codes, the extractors (visitor token, API
//!   key, livechat session token), origins, the browser policies, the widget's static files.
//! - [`adapters`]: one folder per seed protocol (`dialog_v1`: seed 002's `/api/v1/chat/*`;
//!   `dgbot_ws`: seed 001's `/ws`; `webchatagent`: seed 003; `dosti`: seed 004). They call the
//!   core, never the store.
//! - [`config`]: the chatbots, from `server/dgbot.toml`, as model types.
//! - [`ops`]: logs, metrics, health.
//!
//! It serves the widget too: the loader at `/widget.js` (and seed 000's `/static/widget.js`),
//! the iframe app under `/chat/`, demo host pages under `/demo/` and the agent console under
//! `/agent/`. `app(state)` is separate from `main`, and [`serve_until`] is the one way to serve
//! it (tests use it through `dgbot-testkit`).

pub mod adapters;
pub mod config;
pub mod http;
pub mod ops;
pub mod store;

use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use axum::Router;

/// The conversation core (its own crate, `server/core/`), as `dgbot_server::core`.
pub use dgbot_core as core;
/// The domain's plain types, as `dgbot_server::model`.
pub use dgbot_core::model;
pub use dgbot_core::responder::scripted::{ScriptedEvent, ScriptedReply};
pub use dgbot_core::{Clock, Core};
pub use model::Chatbot;

/// Where things are and how the server behaves. `main` fills it from the environment.
#[derive(Debug, Clone)]
pub struct ServerConfig {
    /// The built iframe app (`dist/`, written by `cargo xtask build`).
    pub dist_dir: PathBuf,
    /// The host-page code (`loader/`).
    pub loader_dir: PathBuf,
    /// Demo host pages (`server/demo/`).
    pub demo_dir: PathBuf,
    /// The origin the widget is served from, as host pages must name it
    /// (e.g. `http://127.0.0.1:8080`); substituted into demo pages.
    pub public_base: String,
    /// Pause between streamed events of the demo bot (0 in tests).
    pub stream_delay: Duration,
    /// How long classifying a conversation takes after an answer (seed 002: "a few seconds").
    pub classify_delay: Duration,
    /// Key for signing visitor tokens and attachment links. Empty (the default): a key the
    /// server makes once and keeps in its database, so restarts keep every token valid.
    pub token_secret: Vec<u8>,
    /// Visitor token lifetime.
    pub token_ttl: Duration,
    /// Canned replies for tests and demos: a visitor message equal to `trigger` gets exactly
    /// these SSE events instead of the demo bot's answer (malformed ones included).
    pub scripted_replies: Vec<ScriptedReply>,
    /// The time (tests use a manual clock to move it).
    pub clock: Clock,
    /// Lifetime of a livechat session (agent) token.
    pub livechat_token_ttl: Duration,
    /// Lifetime of a signed attachment URL.
    pub attachment_url_ttl: Duration,
    /// Webhook retries: the first wait (it doubles, with jitter), the attempts in all, and
    /// the time one attempt may take (docs/protocol.md).
    pub webhook_retry_base: Duration,
    pub webhook_max_attempts: u32,
    pub webhook_timeout: Duration,
    /// The reverse proxies whose `Forwarded` / `X-Forwarded-For` name the client, for per-IP
    /// limits (`DGBOT_TRUSTED_PROXIES`; none by default).
    pub trusted_proxies: http::security::TrustedProxies,
    /// Visitor tokens `/auth/public` gives one IP address (`DGBOT_AUTH_PUBLIC_PER_MINUTE`).
    pub auth_public_limit: config::RateLimit,
    /// A WebSocket client silent this long is closed (seed 001 pings every 25–30 s).
    pub ws_idle_timeout: Duration,
    /// Seed 003's `/api/livechat` socket: how often it pings, when a silent client or one that
    /// joins no session is closed.
    pub webchatagent_timings: adapters::webchatagent::Timings,
    /// The time a client has to send a request's head (method, path, headers).
    pub header_timeout: Duration,
    /// How sources are fetched and re-synced: private addresses allowed when the server's own
    /// origin is a loopback one (development) unless `DGBOT_PRIVATE_SOURCES` says otherwise,
    /// the re-sync interval (`DGBOT_RESYNC_HOURS`, 24 by default).
    pub sources: core::knowledge::sync::SourceSettings,
    /// On shutdown, how long requests in flight (SSE answers included) and the webhook worker's
    /// current deliveries may take to finish (`DGBOT_DRAIN_SECS`).
    pub drain_timeout: Duration,
}

impl ServerConfig {
    /// Paths relative to the repository root (the crate's parent directory).
    pub fn for_repo(public_base: impl Into<String>) -> Self {
        let root = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("..");
        let public_base = public_base.into();
        let sources = core::knowledge::sync::SourceSettings {
            policy: core::knowledge::fetch::FetchPolicy {
                allow_private: core::model::chatbot::url_allowed(&public_base)
                    && public_base.starts_with("http://"),
                ..Default::default()
            },
            ..Default::default()
        };
        ServerConfig {
            dist_dir: root.join("dist"),
            loader_dir: root.join("loader"),
            demo_dir: root.join("server/demo"),
            public_base,
            stream_delay: Duration::ZERO,
            classify_delay: Duration::ZERO,
            token_secret: vec![],
            token_ttl: Duration::from_secs(60 * 60),
            scripted_replies: vec![],
            clock: Clock::system(),
            livechat_token_ttl: Duration::from_secs(60 * 60),
            attachment_url_ttl: Duration::from_secs(15 * 60),
            webhook_retry_base: Duration::from_secs(10),
            webhook_max_attempts: 10,
            webhook_timeout: Duration::from_secs(10),
            trusted_proxies: Default::default(),
            // A page view asks for one token; an office or a mobile carrier puts many
            // visitors behind one address.
            auth_public_limit: config::RateLimit {
                messages: 120,
                per_seconds: 60,
            },
            ws_idle_timeout: Duration::from_secs(90),
            webchatagent_timings: Default::default(),
            header_timeout: Duration::from_secs(10),
            drain_timeout: Duration::from_secs(10),
            sources,
        }
    }
}

/// What the HTTP adapters share: the settings, the visitor-token keys and the core. Adapters
/// call the core; `store` is the composition's own handle on the database (for the server's
/// start-up and for tests), which adapters never touch (`server/tests/layers.rs`).
pub struct AppState {
    pub config: ServerConfig,
    pub tokens: http::auth::Tokens,
    pub core: Arc<Core>,
    pub store: Arc<store::Store>,
    /// The newest CSP violation reports from chat pages (`http::security::csp_report`).
    pub csp_reports: std::sync::Mutex<Vec<String>>,
}

pub type SharedState = Arc<AppState>;

impl AppState {
    /// With an in-memory database (tests).
    pub fn new(config: ServerConfig, chatbots: Vec<Chatbot>) -> SharedState {
        Self::with_store(config, chatbots, store::Store::in_memory())
    }

    /// With `store`; panics (naming what failed) where [`AppState::start`] fails.
    pub fn with_store(
        config: ServerConfig,
        chatbots: Vec<Chatbot>,
        store: store::Store,
    ) -> SharedState {
        Self::start(config, chatbots, store).unwrap_or_else(|e| panic!("dgbot-server: {e}"))
    }

    /// Everything the server needs, from its settings, chatbots and store: the token secret
    /// (made once and kept in the database unless configured, so that restarts and every
    /// instance on one database accept the same tokens), the hub (PostgreSQL's LISTEN/NOTIFY
    /// when the store is there, so instances hear each other), and the core. Fails when the
    /// database cannot give the secret or keep the agent profiles, or a chatbot's knowledge
    /// does not load: a server that started anyway would split its instances or answer from
    /// nothing.
    pub fn start(
        mut config: ServerConfig,
        chatbots: Vec<Chatbot>,
        mut store: store::Store,
    ) -> Result<SharedState, String> {
        if config.token_secret.is_empty() {
            config.token_secret = store
                .secret("token_secret")
                .map_err(|e| format!("the token secret cannot be read from the database: {e}"))?;
        }
        let tokens = http::auth::Tokens::new(config.token_secret.clone(), config.token_ttl);
        store.use_clock(config.clock.clone());
        let hub: Arc<dyn core::hub::Hub> = match store.postgres() {
            Some(pg) => Arc::new(store::hub::PostgresHub::start(pg.url(), pg.handle())),
            None => Arc::new(core::hub::InProcessHub::default()),
        };
        let settings = core::CoreSettings {
            public_base: config.public_base.clone(),
            stream_delay: config.stream_delay,
            classify_delay: config.classify_delay,
            livechat_token_ttl: config.livechat_token_ttl,
            attachment_url_ttl: config.attachment_url_ttl,
            secret: config.token_secret.clone(),
            webhook_retry_base: config.webhook_retry_base,
            webhook_max_attempts: config.webhook_max_attempts,
            webhook_timeout: config.webhook_timeout,
            sources: config.sources.clone(),
        };
        let store = Arc::new(store);
        let core = Core::new(
            settings,
            chatbots,
            store.clone(),
            hub,
            config.clock.clone(),
            config.scripted_replies.clone(),
        )?;
        Ok(Arc::new(AppState {
            config,
            tokens,
            core: Arc::new(core),
            store,
            csp_reports: Default::default(),
        }))
    }
}

pub fn app(state: SharedState) -> Router {
    ops::metrics_handle(); // the recorder, before anything is counted
    let app = Router::new()
        .merge(adapters::dialog_v1::routes(&state))
        .merge(adapters::dgbot_ws::routes(&state))
        .merge(adapters::webchatagent::routes(&state))
        .merge(adapters::dosti::routes(&state))
        .merge(http::assets::routes(&state.config))
        .merge(http::demo_shop::routes())
        .route(
            "/csp-report",
            axum::routing::post(http::security::csp_report)
                .layer(axum::extract::DefaultBodyLimit::max(16 * 1024)),
        )
        .route("/healthz", axum::routing::get(ops::healthz))
        .route("/readyz", axum::routing::get(ops::readyz))
        .route("/metrics", axum::routing::get(ops::metrics))
        .layer(axum::middleware::from_fn_with_state(
            state.clone(),
            http::security::chat_page_policy,
        ))
        .with_state(state.clone());
    // The request log is outermost, so it sees Socket.IO's requests and every final status.
    adapters::dosti::socket_io(app, &state).layer(axum::middleware::from_fn_with_state(
        state.clone(),
        ops::request_log,
    ))
}

/// Serve `app(state)` on `listener` until the future is dropped, with the background work
/// (webhook delivery, attachment retention) running beside it.
pub async fn serve(listener: tokio::net::TcpListener, state: SharedState) -> std::io::Result<()> {
    serve_until(listener, state, std::future::pending()).await
}

/// [`serve`] until `shutdown` completes, then shut down gracefully: no new connection is
/// taken, requests in flight (SSE answers included) finish, keep-alive connections close, and
/// the webhook worker finishes the deliveries it has started (each attempt is recorded in the
/// outbox as it ends); all bounded by [`ServerConfig::drain_timeout`], after which what is left
/// is cut. Upgraded connections (WebSockets, Socket.IO) are not waited for: their clients
/// reconnect. Returns once drained.
///
/// HTTP/1.1 with upgrades (WebSockets, Socket.IO), each request knowing its peer address
/// (`ConnectInfo`, for per-IP limits). A client has [`ServerConfig::header_timeout`] to send a
/// request's head: one that trickles or stalls (slowloris) is cut off, which `axum::serve`
/// cannot do. Bodies have their own pace limit (`http::error::ApiJson`).
pub async fn serve_until(
    listener: tokio::net::TcpListener,
    state: SharedState,
    shutdown: impl std::future::Future<Output = ()>,
) -> std::io::Result<()> {
    use hyper_util::rt::{TokioIo, TokioTimer};
    use tower::ServiceExt;

    let (stop_tx, stop) = tokio::sync::watch::channel(false);
    let webhooks = core::outbox::delivery::spawn(state.core.clone(), stop.clone());
    let retention = spawn_retention(state.core.clone());
    let sources = tokio::spawn(state.core.clone().run_sources_worker());
    let header_timeout = state.config.header_timeout;
    let drain_timeout = state.config.drain_timeout;
    let app = app(state);
    // Each connection's task holds a sender; all dropped = all connections done.
    let (open_tx, mut all_closed) = tokio::sync::mpsc::channel::<()>(1);
    let mut shutdown = std::pin::pin!(shutdown);
    loop {
        let (stream, peer) = tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok(connection) => connection,
                Err(e) => {
                    // Out of file descriptors and the like: wait, then take connections again.
                    tracing::warn!("accept: {e}");
                    tokio::time::sleep(Duration::from_millis(100)).await;
                    continue;
                }
            },
            _ = &mut shutdown => break,
        };
        let _ = stream.set_nodelay(true);
        let app = app.clone();
        let mut stop = stop.clone();
        let open = open_tx.clone();
        tokio::spawn(async move {
            let _open = open;
            let service = hyper::service::service_fn(
                move |mut req: axum::extract::Request<hyper::body::Incoming>| {
                    req.extensions_mut()
                        .insert(axum::extract::ConnectInfo(peer));
                    app.clone().oneshot(req)
                },
            );
            let connection = hyper::server::conn::http1::Builder::new()
                .timer(TokioTimer::new())
                .header_read_timeout(header_timeout)
                .serve_connection(TokioIo::new(stream), service)
                .with_upgrades();
            let mut connection = std::pin::pin!(connection);
            // A client that goes away mid-request is not the server's error.
            tokio::select! {
                _ = connection.as_mut() => return,
                _ = stop.wait_for(|stop| *stop) => {}
            }
            // Shutting down: finish the response in flight, then close.
            connection.as_mut().graceful_shutdown();
            let _ = connection.await;
        });
    }
    drop(listener);
    tracing::info!("shutting down: draining for at most {drain_timeout:?}");
    let _ = stop_tx.send(true);
    drop(open_tx);
    let drained = tokio::time::timeout(drain_timeout, async {
        let _ = all_closed.recv().await;
        let _ = webhooks.await;
    })
    .await;
    if drained.is_err() {
        tracing::warn!("shutdown: still busy after {drain_timeout:?}; cutting off the rest");
    }
    retention.abort();
    sources.abort();
    Ok(())
}

/// The server's background tasks: the webhook worker and attachment retention (for as long as
/// the runtime runs).
pub fn spawn_background(core: Arc<Core>) -> Vec<tokio::task::JoinHandle<()>> {
    let (stop_tx, stop) = tokio::sync::watch::channel(false);
    // Never stopped: the sender lives as long as the worker.
    let worker = core::outbox::delivery::spawn(core.clone(), stop);
    let keep = tokio::spawn(async move {
        let _ = worker.await;
        drop(stop_tx);
    });
    let sources = tokio::spawn(core.clone().run_sources_worker());
    vec![keep, spawn_retention(core), sources]
}

/// Delete livechat attachments past their retention now and then every hour, for as long as
/// the server runs (fetching one past its retention also finds it gone).
pub fn spawn_retention(core: Arc<Core>) -> tokio::task::JoinHandle<()> {
    tokio::spawn(async move {
        let mut every = tokio::time::interval(Duration::from_secs(3600));
        loop {
            every.tick().await;
            if let Err(e) = core.purge_attachments() {
                tracing::warn!("attachment retention: {e}");
            }
        }
    })
}
