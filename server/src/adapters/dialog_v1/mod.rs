//! Seed 002: the Dialog Intelligens chat API under `/api/v1/chat/`.
//!
//! - [`chat`]: auth, config, messages (SSE), history, actions, rating, identify,
//!   classification, deletion (visitor token; `/auth` with the API key).
//! - [`livechat`]: the visitor's livechat endpoints and attachment links.
//! - [`agent`]: the external agent app (livechat session token).
//! - [`setup`]: the site owner's backend (API key): agents, settings, sessions, tokens.
//! - [`webhooks`]: the site owner's backend (API key): webhook endpoint, events, replay.
//! - [`sources`]: the site owner's backend (API key): what the assistant knows.

pub mod agent;
pub mod chat;
pub mod livechat;
pub mod setup;
pub mod sources;
pub mod webhooks;

use axum::Router;
use axum::extract::{DefaultBodyLimit, Request, State};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::routing::{any, delete, get, post, put};
use dgbot_protocol::api::ApiErrorCode;

use crate::SharedState;
use crate::http::error::Failure;
use crate::http::security::{self, ClientIp};

/// Every route of the seed: the visitor-token ones with CORS for the chatbots' allowed origins
/// (the seed's browser client), the rest (API key, agent token, signed links) for servers.
pub fn routes(state: &SharedState) -> Router<SharedState> {
    with_envelope(visitor_routes())
        .layer(security::visitor_cors(state.clone()))
        .merge(with_envelope(server_routes()))
        // A path under the API that names no endpoint: the seed's envelope, not an empty 404.
        .route(
            "/api/v1/chat/{*rest}",
            any(|| async { Failure::new(ApiErrorCode::NotFound, "No such endpoint") }),
        )
        .route(
            "/api/v1/chat/auth/public",
            post(chat::auth_public).layer(middleware::from_fn_with_state(
                state.clone(),
                limit_auth_public,
            )),
        )
}

/// Past [`ServerConfig::auth_public_limit`](crate::ServerConfig) tokens a minute from one IP
/// address, `/auth/public` answers `429 rate_limited` with `Retry-After`: minting visitors
/// (and their conversations) is not free.
async fn limit_auth_public(
    State(state): State<SharedState>,
    ClientIp(ip): ClientIp,
    req: Request,
    next: Next,
) -> Response {
    let who = ip.map(|ip| ip.to_string()).unwrap_or_default();
    match state.core.count_request(
        &dgbot_core::ConversationKey::new("ip", who),
        "auth_public",
        state.config.auth_public_limit,
    ) {
        Ok(()) => next.run(req).await,
        Err(secs) => Failure::rate_limited(secs).into_response(),
    }
}

/// A method the path does not take answers `405` in the seed's envelope, code `not_found`
/// (the seed has no code of its own for it), with axum's `Allow` header.
fn with_envelope(routes: Router<SharedState>) -> Router<SharedState> {
    routes.method_not_allowed_fallback(|| async {
        let mut failure = Failure::new(
            ApiErrorCode::NotFound,
            "This endpoint does not take this method",
        );
        failure.status = Some(axum::http::StatusCode::METHOD_NOT_ALLOWED);
        failure
    })
}

/// The endpoints a visitor token opens: a browser on the chatbot's site may call them.
fn visitor_routes() -> Router<SharedState> {
    Router::new()
        .route("/api/v1/chat/config", get(chat::config))
        // Bodies up to what the markers allow: a 5 MB photo in a message (base64), three 5 MB
        // attachments on a ticket. Everything else keeps axum's 2 MB default.
        .route(
            "/api/v1/chat/messages",
            post(chat::send_message)
                .layer(DefaultBodyLimit::max(chat::MAX_MESSAGE_BODY))
                .get(chat::history),
        )
        .route(
            "/api/v1/chat/actions",
            post(chat::submit_action).layer(DefaultBodyLimit::max(chat::MAX_ACTION_BODY)),
        )
        .route(
            "/api/v1/chat/messages/{message_id}/feedback",
            post(chat::answer_feedback),
        )
        .route("/api/v1/chat/rate", post(chat::rate))
        .route("/api/v1/chat/identify", post(chat::identify))
        .route("/api/v1/chat/classification", get(chat::classification))
        .route("/api/v1/chat", delete(chat::delete_visitor_data))
        // Livechat: the visitor.
        .route("/api/v1/chat/livechat/handover", post(livechat::handover))
        .route("/api/v1/chat/livechat/state", get(livechat::livechat_state))
        .route(
            "/api/v1/chat/livechat/messages",
            get(livechat::livechat_messages)
                .post(livechat::post_livechat_message)
                .layer(DefaultBodyLimit::max(livechat::MAX_LIVECHAT_BODY)),
        )
        .route("/api/v1/chat/livechat/typing", post(livechat::typing))
        .route("/api/v1/chat/livechat/close", post(livechat::close))
        .route("/api/v1/chat/livechat/feedback", post(livechat::feedback))
}

/// The endpoints for servers: the site owner's backend (API key), the agent app (livechat
/// session token) and signed attachment links. No CORS: browsers on other sites get nothing.
fn server_routes() -> Router<SharedState> {
    Router::new()
        .route("/api/v1/chat/auth", post(chat::auth))
        .route(
            "/api/v1/chat/livechat/attachments/{id}",
            get(livechat::attachment),
        )
        // Livechat: the agent app.
        .route("/api/v1/chat/livechat/agent/context", get(agent::context))
        .route(
            "/api/v1/chat/livechat/agent/messages",
            post(agent::message).layer(DefaultBodyLimit::max(livechat::MAX_LIVECHAT_BODY)),
        )
        .route("/api/v1/chat/livechat/agent/typing", post(agent::typing))
        .route("/api/v1/chat/livechat/agent/close", post(agent::close))
        // Livechat: the setup backend.
        .route(
            "/api/v1/chat/livechat/agents/{agent_id}",
            put(setup::put_agent),
        )
        .route(
            "/api/v1/chat/livechat/settings",
            get(setup::get_settings).put(setup::put_settings),
        )
        .route("/api/v1/chat/livechat/sessions", get(setup::sessions))
        .route("/api/v1/chat/livechat/sessions/count", get(setup::count))
        .route(
            "/api/v1/chat/livechat/sessions/{livechat_session_id}/token",
            post(setup::token),
        )
        // What the assistant knows.
        .route(
            "/api/v1/chat/sources",
            post(sources::add)
                .layer(DefaultBodyLimit::max(sources::MAX_SOURCE_BODY))
                .get(sources::list),
        )
        .route(
            "/api/v1/chat/sources/{source_id}",
            get(sources::detail).delete(sources::remove),
        )
        .route("/api/v1/chat/sources/{source_id}/sync", post(sources::sync))
        // Webhooks.
        .route(
            "/api/v1/chat/webhooks",
            get(webhooks::get_config).put(webhooks::put_config),
        )
        .route("/api/v1/chat/events", get(webhooks::list))
        .route("/api/v1/chat/events/{event_id}", get(webhooks::detail))
        .route(
            "/api/v1/chat/events/{event_id}/replay",
            post(webhooks::replay),
        )
}
