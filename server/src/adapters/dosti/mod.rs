//! Seed 004: Dosti, Socket.IO on `/socket.io/` and the REST pipeline `/api/chat/send` and
//! `/api/chat/poll` (wire shapes in `dgbot_protocol::dosti`), over the conversation core.
//!
//! - [`visitor`]: what both share: `apiKey` + `visitorId` → conversation key, sending (to the
//!   assistant and into the agents' queue, or to the agent who has the chat), the conversation
//!   with millisecond timestamps, failures.
//! - [`rest`]: `POST /api/chat/send`, `GET|POST /api/chat/poll`.
//! - [`socket`]: the Socket.IO server (socketioxide) and the relay from the conversation's hub.
//!
//! The decisions where the seed is silent are in docs/protocol.md, "Dosti (seed 004)".

pub mod rest;
pub mod socket;
pub mod visitor;

use axum::Router;
use axum::extract::DefaultBodyLimit;
use axum::http::{Method, header};
use axum::routing::post;
use tower_http::cors::{AllowOrigin, CorsLayer};

use crate::SharedState;
use crate::http::security::some_chatbot_allows;

/// The largest REST body: a message is at most 4,000 characters.
const MAX_BODY: usize = 64 * 1024;

pub fn routes(state: &SharedState) -> Router<SharedState> {
    Router::new()
        .route("/api/chat/send", post(rest::send))
        .route("/api/chat/poll", post(rest::poll_post).get(rest::poll_get))
        .layer(DefaultBodyLimit::max(MAX_BODY))
        .layer(cors(state.clone()))
}

/// A browser on a site some chatbot allows may call the REST pipeline (the handlers then
/// check the origin against the chatbot the `apiKey` names); servers and apps need no CORS.
fn cors(state: SharedState) -> CorsLayer {
    CorsLayer::new()
        .allow_origin(AllowOrigin::predicate(move |origin, _| {
            origin
                .to_str()
                .is_ok_and(|origin| some_chatbot_allows(&state, origin))
        }))
        .allow_methods([Method::GET, Method::POST])
        .allow_headers([header::CONTENT_TYPE])
        .expose_headers([header::RETRY_AFTER])
        .max_age(std::time::Duration::from_secs(600))
}

/// The Socket.IO server, as a layer around the whole app (it answers `/socket.io/` only).
pub fn socket_io(app: Router, state: &SharedState) -> Router {
    app.layer(socket::layer(state))
        .layer(axum::middleware::from_fn_with_state(
            state.clone(),
            socket::polling_cors,
        ))
}
