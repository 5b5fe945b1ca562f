//! Seed 003: WebChatAgent, `POST /api/chat` and the WebSocket `/api/livechat` (wire shapes in
//! `dgbot_protocol::webchatagent`; decisions in docs/protocol.md, "WebChatAgent (seed 003)").
//!
//! A session is a conversation of the core: its id (`X-Chat-Session-Id`, `sessionId`) is the
//! conversation's visitor id, made by the server. So a session started here is in the
//! visitor's history, in the agents' queue and transcript, and reachable from every other
//! protocol, and an agent's reply reaches it on the WebSocket like any conversation event.
//!
//! - [`rest`]: `POST /api/chat` (the assistant; the person, once one is in the chat).
//! - [`socket`]: `/api/livechat` (join, messages, typing, status, pings).
//! - [`session`]: what both share: session ids, mode and status, asking the assistant and
//!   taking up its offer of a person, refusals.
//! - [`events`]: the conversation's events as `livechat:*` events.
//! - [`sources`]: the documents and products an answer used.

pub mod events;
pub mod rest;
pub mod session;
pub mod socket;
pub mod sources;

use axum::Router;
use axum::http::{HeaderName, Method, header};
use axum::routing::{get, post};
use tower_http::cors::{AllowOrigin, CorsLayer};

use crate::SharedState;
use crate::http::security::some_chatbot_allows;
pub use socket::Timings;

pub fn routes(state: &SharedState) -> Router<SharedState> {
    // The WebSocket's pings and time-outs (tests shorten them).
    let timings = state.config.webchatagent_timings;
    Router::new()
        .route("/api/chat", post(rest::chat).layer(cors(state.clone())))
        .route(
            "/api/livechat",
            get(move |s, p, ws| socket::upgrade(s, p, ws, timings)),
        )
}

/// CORS for `POST /api/chat`: the seed's browser client (`fetch` from a page on one of the
/// chatbot's allowed origins) may send `Content-Type`, `X-Chat-Session-Id` and
/// `Idempotency-Key`, and read `X-Chat-Session-Id` and `Retry-After`. The preflight cannot
/// say which chatbot it is for, so it is answered for an origin some chatbot allows; the
/// request itself is refused (`403`) unless its chatbot allows the origin. No cookies.
fn cors(state: SharedState) -> CorsLayer {
    CorsLayer::new()
        .allow_origin(AllowOrigin::predicate(move |origin, _| {
            origin
                .to_str()
                .is_ok_and(|origin| some_chatbot_allows(&state, origin))
        }))
        .allow_methods([Method::POST])
        .allow_headers([
            header::CONTENT_TYPE,
            rest::SESSION_HEADER,
            HeaderName::from_static("idempotency-key"),
        ])
        .expose_headers([rest::SESSION_HEADER, header::RETRY_AFTER])
        .max_age(std::time::Duration::from_secs(600))
}
