//! `POST /api/chat` `{message, chatbotId}` → `{reply, sources, mode, status}`, the session in
//! `X-Chat-Session-Id` both ways. Errors are a non-2xx status with the reason as plain text,
//! which the seed's client throws (`throw new Error(await res.text())`).

use axum::Json;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::request::Parts;
use axum::http::{HeaderMap, HeaderName, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use dgbot_protocol::webchatagent::{ChatReply, ChatRequest, ErrorCode, Mode, Status};

use super::events::text_of;
use super::session::{Page, Refusal, ask, exists, key_of, mode_status, text_parts};
use super::sources::sources_of;
use crate::SharedState;
use crate::http::security::ClientIp;
use dgbot_core::model::ids::new_visitor_id;
use dgbot_core::{ConversationKey, CoreError};

/// `X-Chat-Session-Id`, as `http` spells header names.
pub const SESSION_HEADER: HeaderName = HeaderName::from_static("x-chat-session-id");

/// A refusal, with the session id when the session exists (the message was kept in it).
type Refused = (Option<String>, Refusal);

/// `POST /api/chat`.
pub async fn chat(
    State(state): State<SharedState>,
    ClientIp(ip): ClientIp,
    parts: Parts,
    body: Bytes,
) -> Response {
    match answer(&state, ip, &parts, &body).await {
        Ok((session_id, reply)) => with_session(Json(reply).into_response(), Some(&session_id)),
        Err((session_id, refusal)) => refused(refusal, session_id.as_deref()),
    }
}

async fn answer(
    state: &SharedState,
    ip: Option<std::net::IpAddr>,
    parts: &Parts,
    body: &[u8],
) -> Result<(String, ChatReply), Refused> {
    let req: ChatRequest = serde_json::from_slice(body).map_err(|e| {
        let why =
            format!("The body must be JSON {{\"message\": \"…\", \"chatbotId\": \"…\"}} ({e})");
        (None, Refusal::new(ErrorCode::Malformed, why))
    })?;
    let bot = state.core.chatbot(&req.chatbot_id).ok_or_else(|| {
        let why = format!("No chatbot with id {:?}", req.chatbot_id);
        (None, Refusal::new(ErrorCode::UnknownChatbot, why))
    })?;
    Page::of(parts, &state.config.public_base)
        .allowed_for(bot)
        .map_err(|r| (None, r))?;
    let (key, new) = session(state, ip, &parts.headers, &bot.id).map_err(|r| (None, r))?;
    match reply_to(state, &key, &req.message, idempotency_key(&parts.headers)).await {
        Ok(reply) => Ok((key.visitor_id, reply)),
        Err(refusal) => {
            let kept = !new || exists(&state.core, &key).unwrap_or(false);
            Err((kept.then_some(key.visitor_id), refusal))
        }
    }
}

/// The session `X-Chat-Session-Id` names, or a new one (`true`) when it names none (or one
/// this server does not know: the client takes the new id from the response's header).
fn session(
    state: &SharedState,
    ip: Option<std::net::IpAddr>,
    headers: &HeaderMap,
    chatbot_id: &str,
) -> Result<(ConversationKey, bool), Refusal> {
    let given = headers
        .get(SESSION_HEADER)
        .map(|v| v.to_str().unwrap_or("\u{fffd}").trim())
        .filter(|v| !v.is_empty());
    if let Some(id) = given {
        let key = key_of(chatbot_id, id).ok_or_else(|| {
            Refusal::new(
                ErrorCode::Malformed,
                "X-Chat-Session-Id is not a session id: send it empty to start a new session",
            )
        })?;
        if exists(&state.core, &key)? {
            return Ok((key, false));
        }
    }
    // A new session is a new visitor: as many a minute from one address as `/auth/public`
    // gives the widget.
    let who = ip.map(|ip| ip.to_string()).unwrap_or_default();
    state
        .core
        .count_request(
            &dgbot_core::ConversationKey::new("ip", who),
            "auth_public",
            state.config.auth_public_limit,
        )
        .map_err(CoreError::RateLimited)?;
    Ok((ConversationKey::new(chatbot_id, new_visitor_id()), true))
}

/// The assistant's answer; or, while a person is in the chat, the message goes to them (as it
/// would over the WebSocket) and the reply is empty.
async fn reply_to(
    state: &SharedState,
    key: &ConversationKey,
    text: &str,
    client_id: Option<&str>,
) -> Result<ChatReply, Refusal> {
    if mode_status(&state.core, key)?.1 == Status::Open {
        return to_person(state, key, text, client_id);
    }
    let answered = match ask(&state.core, key, text, client_id).await {
        // An agent joined between the look and the message.
        Err(r) if r.code == ErrorCode::Conflict => return to_person(state, key, text, client_id),
        other => other?,
    };
    let mut reply = text_of(&answered.message);
    if let Some(why) = answered.handover_refused {
        reply.push_str("\n\n");
        reply.push_str(&why);
    }
    let sources = sources_of(&answered.message);
    let (mode, status) = mode_status(&state.core, key)?;
    Ok(ChatReply {
        reply,
        sources,
        mode,
        status,
    })
}

fn to_person(
    state: &SharedState,
    key: &ConversationKey,
    text: &str,
    client_id: Option<&str>,
) -> Result<ChatReply, Refusal> {
    state
        .core
        .visitor_livechat_message(key, text_parts(text), client_id)?;
    Ok(ChatReply {
        reply: String::new(),
        sources: vec![],
        mode: Mode::Human,
        status: Status::Open,
    })
}

/// `Idempotency-Key`: the client's id for its message, so a retry is stored once (as in
/// seed 002's API).
fn idempotency_key(headers: &HeaderMap) -> Option<&str> {
    headers
        .get("idempotency-key")
        .map(|v| v.to_str().unwrap_or("\u{fffd}"))
}

fn with_session(mut res: Response, session_id: Option<&str>) -> Response {
    if let Some(v) = session_id.and_then(|id| HeaderValue::from_str(id).ok()) {
        res.headers_mut().insert(SESSION_HEADER, v);
    }
    res
}

/// A refusal as plain text with its status (and `Retry-After` when it says to wait).
pub fn refused(refusal: Refusal, session_id: Option<&str>) -> Response {
    let status =
        StatusCode::from_u16(refusal.status()).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    let mut res = (
        status,
        [(header::CONTENT_TYPE, "text/plain; charset=utf-8")],
        refusal.message,
    )
        .into_response();
    if let Some(secs) = refusal.retry_after {
        res.headers_mut().insert(header::RETRY_AFTER, secs.into());
    }
    with_session(res, session_id)
}
