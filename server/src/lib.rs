//! dgbot reference backend.
//!
//! Speaks the visitor-facing chat API of seed 002 (`/api/v1/chat/*`: auth, config, messages as
//! SSE) with a demo bot, and serves the widget: the loader at `/widget.js` (and seed 000's
//! `/static/widget.js`), the iframe app under `/chat/`, and demo host pages under `/demo/`.
//! `app(state)` is separate from `main` so tests bind port 0 and talk real HTTP.

pub mod assets;
pub mod auth;
pub mod chat;
pub mod chatbots;
pub mod classify;
pub mod demo_bot;
pub mod error;
pub mod knowledge;
pub mod rate_limit;
pub mod store;

use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use axum::Router;

pub use chatbots::Chatbot;

/// Where things are and how the server behaves. `main` fills it from the environment.
#[derive(Debug, Clone)]
pub struct ServerConfig {
    /// Trunk's output: the iframe app (`dist/`).
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
    /// Key for signing visitor tokens.
    pub token_secret: Vec<u8>,
    /// Visitor token lifetime.
    pub token_ttl: Duration,
    /// Canned replies for tests and demos: a visitor message equal to `trigger` gets exactly
    /// these SSE events instead of the demo bot's answer (malformed ones included).
    pub scripted_replies: Vec<ScriptedReply>,
}

/// A reply streamed verbatim (see [`ServerConfig::scripted_replies`]).
#[derive(Debug, Clone)]
pub struct ScriptedReply {
    pub trigger: String,
    pub events: Vec<ScriptedEvent>,
}

#[derive(Debug, Clone)]
pub enum ScriptedEvent {
    /// `event: {0}` / `data: {1}`, sent as is.
    Sse(String, String),
    /// Kill the connection mid-stream (the client sees a network error, not a clean end).
    Drop,
}

impl ServerConfig {
    /// Paths relative to the repository root (the crate's parent directory).
    pub fn for_repo(public_base: impl Into<String>) -> Self {
        let root = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("..");
        let mut secret = vec![0u8; 32];
        getrandom::fill(&mut secret).expect("the OS has a random source");
        ServerConfig {
            dist_dir: root.join("dist"),
            loader_dir: root.join("loader"),
            demo_dir: root.join("server/demo"),
            public_base: public_base.into(),
            stream_delay: Duration::ZERO,
            classify_delay: Duration::ZERO,
            token_secret: secret,
            token_ttl: Duration::from_secs(60 * 60),
            scripted_replies: vec![],
        }
    }
}

pub struct AppState {
    pub config: ServerConfig,
    pub chatbots: Vec<Chatbot>,
    pub tokens: auth::Tokens,
    /// Conversations, submissions, ratings, identities, classifications (SQLite).
    pub store: store::Store,
    pub limiter: rate_limit::RateLimiter,
}

pub type SharedState = Arc<AppState>;

impl AppState {
    /// With an in-memory database (tests).
    pub fn new(config: ServerConfig, chatbots: Vec<Chatbot>) -> SharedState {
        Self::with_store(config, chatbots, store::Store::in_memory())
    }

    pub fn with_store(
        config: ServerConfig,
        chatbots: Vec<Chatbot>,
        store: store::Store,
    ) -> SharedState {
        let tokens = auth::Tokens::new(config.token_secret.clone(), config.token_ttl);
        Arc::new(AppState {
            config,
            chatbots,
            tokens,
            store,
            limiter: Default::default(),
        })
    }

    pub fn chatbot(&self, id: &str) -> Option<&Chatbot> {
        self.chatbots.iter().find(|c| c.id == id)
    }
}

pub fn app(state: SharedState) -> Router {
    Router::new()
        .merge(chat::routes())
        .merge(assets::routes(&state.config))
        .with_state(state)
}

/// Serve `app(state)` on `listener` until the future is dropped.
pub async fn serve(listener: tokio::net::TcpListener, state: SharedState) -> std::io::Result<()> {
    axum::serve(listener, app(state)).await
}
