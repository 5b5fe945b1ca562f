//! Seed 002, "Visitor handover flow" and "Attachments": the visitor's livechat endpoints under
//! `/api/v1/chat/livechat/` (visitor Bearer token), and the signed attachment links.

use std::time::Duration;

use axum::Json;
use axum::body::Body;
use axum::extract::rejection::{PathRejection, QueryRejection};
use axum::extract::{Path, Query, State};
use axum::http::{HeaderValue, header};
use axum::response::{IntoResponse, Response};
use dgbot_protocol::livechat::{
    CloseRequest, FeedbackRequest, HandoverRequest, LivechatMessageRequest,
    LivechatMessageResponse, LivechatMessages, LivechatSession, LivechatState, TypingRequest,
};

use crate::SharedState;
use crate::http::auth::Visitor;
use crate::http::error::{ApiJson, Failure, path, query};
use dgbot_core::livechat::attachments::served_as;

/// Largest livechat message body: a few attachments of the largest size the settings allow
/// (25 MB), as base64.
pub const MAX_LIVECHAT_BODY: usize = 40 * 1024 * 1024;

/// `POST /livechat/handover` `{platform, source, part_id?}`.
pub async fn handover(
    State(state): State<SharedState>,
    Visitor(key): Visitor,
    ApiJson(req): ApiJson<HandoverRequest>,
) -> Result<Json<LivechatSession>, Failure> {
    Ok(Json(state.core.handover(&key, req)?))
}

/// `GET /livechat/state`.
pub async fn livechat_state(
    State(state): State<SharedState>,
    Visitor(key): Visitor,
) -> Result<Json<LivechatState>, Failure> {
    Ok(Json(state.core.livechat_state(&key)?))
}

#[derive(serde::Deserialize)]
pub struct MessagesQuery {
    after: Option<String>,
    /// Seconds to hold the request while nothing is new (0–30; default 0).
    wait: Option<u64>,
    /// The `state_version` the client last saw: held only while the session is still there.
    since: Option<u64>,
}

/// `GET /livechat/messages?after=<message_id>&wait=<seconds>&since=<state_version>`.
pub async fn livechat_messages(
    State(state): State<SharedState>,
    Visitor(key): Visitor,
    q: Result<Query<MessagesQuery>, QueryRejection>,
) -> Result<Json<LivechatMessages>, Failure> {
    let q = query(q, "wait", "wait must be a number of seconds from 0 to 30")?;
    let wait = q.wait.unwrap_or(0);
    if wait > 30 {
        return Err(Failure::validation(
            "wait",
            "wait must be a number of seconds from 0 to 30",
        ));
    }
    Ok(Json(
        state
            .core
            .livechat_messages(&key, q.after.as_deref(), q.since, Duration::from_secs(wait))
            .await?,
    ))
}

/// `POST /livechat/messages` `{message: {parts}, context}`: the visitor writes to the agent.
pub async fn post_livechat_message(
    State(state): State<SharedState>,
    Visitor(key): Visitor,
    headers: axum::http::HeaderMap,
    ApiJson(req): ApiJson<LivechatMessageRequest>,
) -> Result<Json<LivechatMessageResponse>, Failure> {
    let (message, state_version) = state.core.visitor_livechat_message(
        &key,
        req.message.parts,
        super::chat::idempotency_key(&headers),
    )?;
    Ok(Json(LivechatMessageResponse {
        message,
        state_version,
    }))
}

/// `POST /livechat/typing` `{is_typing}`.
pub async fn typing(
    State(state): State<SharedState>,
    Visitor(key): Visitor,
    ApiJson(req): ApiJson<TypingRequest>,
) -> Result<Json<LivechatState>, Failure> {
    Ok(Json(state.core.visitor_typing(&key, req.is_typing)?))
}

/// `POST /livechat/close` `{reason}`: idempotent.
pub async fn close(
    State(state): State<SharedState>,
    Visitor(key): Visitor,
    ApiJson(req): ApiJson<CloseRequest>,
) -> Result<Json<LivechatSession>, Failure> {
    Ok(Json(state.core.visitor_close(&key, req.reason)?))
}

/// `POST /livechat/feedback` `{rating, comment?}`: once, after the session closed.
pub async fn feedback(
    State(state): State<SharedState>,
    Visitor(key): Visitor,
    ApiJson(req): ApiJson<FeedbackRequest>,
) -> Result<Json<LivechatState>, Failure> {
    Ok(Json(state.core.livechat_feedback(
        &key,
        req.rating,
        req.comment,
    )?))
}

#[derive(serde::Deserialize)]
pub struct AttachmentQuery {
    token: String,
}

/// `GET /livechat/attachments/{id}?token=…`: the bytes, with a safe type. Images may show
/// inline; everything else downloads; nothing is ever rendered as a page of our origin.
pub async fn attachment(
    State(state): State<SharedState>,
    id: Result<Path<String>, PathRejection>,
    q: Result<Query<AttachmentQuery>, QueryRejection>,
) -> Result<Response, Failure> {
    let id = path(id, "attachment")?;
    let q = query(q, "token", "token is required")?;
    let (meta, bytes) = state.core.attachment(&id, &q.token)?;
    let (content_type, inline) = served_as(&meta.mime_type);
    let disposition = format!(
        "{}; filename=\"{}\"",
        if inline { "inline" } else { "attachment" },
        meta.filename
            .replace(|c: char| !c.is_ascii() || c == '\\', "_")
    );
    let mut res = Body::from(bytes).into_response();
    let h = res.headers_mut();
    h.insert(header::CONTENT_TYPE, HeaderValue::from_static(content_type));
    if let Ok(v) = HeaderValue::from_str(&disposition) {
        h.insert(header::CONTENT_DISPOSITION, v);
    }
    h.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    h.insert(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static("default-src 'none'; sandbox"),
    );
    h.insert(
        header::CACHE_CONTROL,
        HeaderValue::from_static("private, no-store"),
    );
    Ok(res)
}
