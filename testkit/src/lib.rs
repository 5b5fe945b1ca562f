//! The one test kit (issue 25): what the server's tests (`server/tests/`) and the end-to-end
//! tests (`tests/`) share.
//!
//! - [`TestServer`]: the real server on a free port, started through the production path
//!   (`serve_until`: each request knows its peer address, a request's head must arrive within
//!   the header timeout, shutdown drains), on its own thread and runtime, so a test can stop it
//!   gracefully, crash it (every connection ends at once), start it again on the same port and
//!   database, or fail over to a second instance on PostgreSQL.
//! - [`api`]: a typed client for the seeds' calls: a visitor (token, a question and its
//!   streamed answer, history, hand-over, livechat), the site owner's backend (API key: session
//!   tokens, the queue, settings) and an agent (session token: context, messages, typing,
//!   closing).
//! - [`postgres::Postgres`]: a throwaway PostgreSQL cluster for one test binary.
//! - [`release::ReleaseServer`]: the release binary as a process, for load tests.
//! - [`side::serve`]: a side server the real one calls out to (a webhook receiver, an action
//!   endpoint, a fake model API, a website), any axum router on a free loopback port.
//! - [`source`]: the project's Rust sources as text, for the layer rules' tests.

pub mod api;
pub mod postgres;
pub mod release;
mod server;
pub mod side;
pub mod source;

pub use api::{Agent, Answer, Api, Backend, Visitor};
pub use server::{Builder, TestServer};

/// The demo chatbot's id and API key (`server/dgbot.toml`).
pub const DEMO: &str = dgbot_server::config::DEMO_CHATBOT_ID;
pub const DEMO_KEY: &str = dgbot_server::config::DEMO_API_KEY;
/// A host page origin the demo chatbot allows.
pub const HOST_ORIGIN: &str = "http://localhost:5173";

/// Wait (up to 10 s, checking every 20 ms) until `check` finds what it looks for; panics
/// naming `what` when it never does. For what the server does right after it answers (an
/// answer is kept once its stream has been delivered, a webhook goes out from a worker).
pub async fn eventually<T>(what: &str, mut check: impl FnMut() -> Option<T>) -> T {
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
    loop {
        if let Some(found) = check() {
            return found;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "waited 10 s for {what}"
        );
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
}
