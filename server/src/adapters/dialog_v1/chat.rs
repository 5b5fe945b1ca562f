//! Seed 002, "Chatbot API Flow" and "History, feedback, and deletion": `POST /auth`,
//! `GET /config`, `POST /messages` (SSE), `GET /messages`, `POST /actions`, `POST /rate`,
//! `DELETE /api/v1/chat`; plus our public widget auth `POST /auth/public`, `POST /identify`
//! (seed 000's `identify(user)`), `GET /classification` and a vote on one answer,
//! `POST /messages/{message_id}/feedback` (see docs/protocol.md).

use axum::Json;
use axum::extract::rejection::{PathRejection, QueryRejection};
use axum::extract::{Path, Query, State};
use axum::http::HeaderMap;
use axum::http::header::AUTHORIZATION;
use axum::response::sse::{Event, KeepAlive, Sse};
use dgbot_protocol::api::{
    ActionRequest, ActionResponse, AnswerFeedbackRequest, AnswerFeedbackResponse, ApiErrorCode,
    AuthRequest, AuthResponse, ChatConfig, ClassificationResponse, DeleteResponse, HistoryPage,
    IdentifyRequest, IdentifyResponse, RateRequest, RateResponse, SendMessageRequest,
};
use tokio_stream::StreamExt;
use tokio_stream::wrappers::ReceiverStream;

use crate::SharedState;
use crate::http::auth::{Visitor, basic_api_key, is_valid_visitor_id, key_in, new_visitor_id};
use crate::http::error::{ApiJson, Failure, path, query};
use crate::http::origin::origin_allowed;
use dgbot_core::responder::AnswerItem;

/// Largest `POST /messages` body: a 5 MB image as base64, plus the rest.
pub const MAX_MESSAGE_BODY: usize = 8 * 1024 * 1024;
/// Largest `POST /actions` body: three 5 MB attachments as base64, plus the fields.
pub const MAX_ACTION_BODY: usize = 24 * 1024 * 1024;

/// The `Idempotency-Key` header: the client's id for the message it sends, so a retry is
/// stored once (docs/protocol.md).
pub fn idempotency_key(headers: &HeaderMap) -> Option<&str> {
    headers
        .get("idempotency-key")
        .map(|v| v.to_str().unwrap_or("\u{fffd}"))
}

/// Seed 002: the site owner's backend exchanges its API key (HTTP Basic user name, empty
/// password) for a visitor token.
pub async fn auth(
    State(state): State<SharedState>,
    headers: HeaderMap,
    ApiJson(req): ApiJson<AuthRequest>,
) -> Result<Json<AuthResponse>, Failure> {
    let key = basic_api_key(headers.get(AUTHORIZATION).and_then(|h| h.to_str().ok())).ok_or_else(
        || Failure::unauthorized("Expected HTTP Basic auth with the API key as user name"),
    )?;
    let bot = state
        .core
        .chatbot(&req.chatbot_id)
        .filter(|bot| key_in(&bot.api_keys, &key) || key_in(&bot.test_api_keys, &key))
        .ok_or_else(|| Failure::unauthorized("Unknown chatbot or wrong API key"))?;
    Ok(Json(AuthResponse {
        token: state.tokens.issue(&bot.id, &new_visitor_id()),
    }))
}

/// The widget holds no API key: it gets a visitor token from its public chatbot id, for host
/// pages on the chatbot's allowed origins.
pub async fn auth_public(
    State(state): State<SharedState>,
    ApiJson(req): ApiJson<AuthRequest>,
) -> Result<Json<AuthResponse>, Failure> {
    let bot = state.core.chatbot(&req.chatbot_id).ok_or_else(|| {
        Failure::new(
            ApiErrorCode::NotFound,
            format!("No chatbot with id {:?}", req.chatbot_id),
        )
    })?;
    let origin = req.host_origin.as_deref().unwrap_or("");
    if !origin_allowed(&bot.allowed_origins, origin) {
        return Err(Failure::new(
            ApiErrorCode::Forbidden,
            format!(
                "This chatbot is not enabled on {origin:?}; add the origin to its allowed origins"
            ),
        ));
    }
    let visitor_id = req
        .visitor_id
        .filter(|id| is_valid_visitor_id(id))
        .unwrap_or_else(new_visitor_id);
    Ok(Json(AuthResponse {
        token: state.tokens.issue(&bot.id, &visitor_id),
    }))
}

/// The chatbot's public configuration, with the `livechat` block computed now (working hours,
/// override).
///
/// `language` is the visitor's (`"auto"` follows their browser's `Accept-Language`), `strings`
/// the widget's words in it (issue 17, `dgbot_core::model::i18n`) and `starter_prompts` the
/// chatbot's in it (else in its default language).
pub async fn config(
    State(state): State<SharedState>,
    Visitor(key): Visitor,
    headers: axum::http::HeaderMap,
) -> Result<Json<ChatConfig>, Failure> {
    let bot = state
        .core
        .chatbot(&key.chatbot_id)
        .ok_or_else(|| Failure::new(ApiErrorCode::NotFound, "No such chatbot"))?;
    let mut config = bot.config.clone();
    config.livechat = state.core.livechat_config(&key.chatbot_id)?;
    config.language = crate::http::language::visitor_language(bot, &headers);
    config.strings = bot.strings.strings(&config.language);
    config.starter_prompts = bot
        .starter_prompts
        .for_language(&config.language, &bot.default_language);
    Ok(Json(config))
}

type SseStream = Sse<
    axum::response::sse::KeepAliveStream<
        std::pin::Pin<Box<dyn tokio_stream::Stream<Item = Result<Event, std::io::Error>> + Send>>,
    >,
>;

/// `POST /messages`: the visitor's message is stored, then the answer streams as SSE
/// (`status`, `part_delta`, `part`, `done`, or a terminal `error`). With `replaces`, the
/// conversation's last answer and its question are replaced first ("ask again", "edit").
pub async fn send_message(
    State(state): State<SharedState>,
    Visitor(key): Visitor,
    headers: HeaderMap,
    ApiJson(req): ApiJson<SendMessageRequest>,
) -> Result<SseStream, Failure> {
    let rx = state.core.post_message_replacing(
        &key,
        req.message.parts,
        idempotency_key(&headers),
        req.context.as_ref().and_then(|c| c.page.as_deref()),
        req.replaces.as_deref(),
    )?;
    let open = crate::ops::OpenConnection::new("sse");
    let events = ReceiverStream::new(rx).filter_map(move |item| {
        let _open = &open; // counted while the stream lives
        match item {
            AnswerItem::Event(ev) => Some(Ok(Event::default().event(ev.name()).data(ev.data()))),
            AnswerItem::Raw { name, data } => Some(Ok(Event::default().event(name).data(data))),
            // Seed 002's stream has no tool events: the parts say what the tools found.
            AnswerItem::Tool(_) => None,
            AnswerItem::Drop => Some(Err(std::io::Error::other("scripted connection drop"))),
        }
    });
    let stream: std::pin::Pin<Box<dyn tokio_stream::Stream<Item = _> + Send>> = Box::pin(events);
    Ok(Sse::new(stream).keep_alive(KeepAlive::default()))
}

#[derive(serde::Deserialize)]
pub struct HistoryQuery {
    limit: Option<usize>,
    before: Option<String>,
}

/// Seed 002: `GET /messages`, the visitor's history a page at a time. `limit` 1–100 (default
/// 50); `before` a message id.
pub async fn history(
    State(state): State<SharedState>,
    Visitor(key): Visitor,
    q: Result<Query<HistoryQuery>, QueryRejection>,
) -> Result<Json<HistoryPage>, Failure> {
    let q = query(q, "limit", "limit must be a number from 1 to 100")?;
    Ok(Json(state.core.history(
        &key,
        q.limit.unwrap_or(50),
        q.before.as_deref(),
    )?))
}

/// Seed 002: the visitor completed a `show_contact_form` or `show_support_ticket` marker.
pub async fn submit_action(
    State(state): State<SharedState>,
    Visitor(key): Visitor,
    ApiJson(req): ApiJson<ActionRequest>,
) -> Result<Json<ActionResponse>, Failure> {
    Ok(Json(state.core.submit_action(&key, req)?))
}

/// `POST /messages/{message_id}/feedback`: the visitor's vote on one answer (issue 27).
pub async fn answer_feedback(
    State(state): State<SharedState>,
    Visitor(key): Visitor,
    message_id: Result<Path<String>, PathRejection>,
    ApiJson(req): ApiJson<AnswerFeedbackRequest>,
) -> Result<Json<AnswerFeedbackResponse>, Failure> {
    let message_id = path(message_id, "message")?;
    Ok(Json(state.core.answer_feedback(&key, &message_id, req)?))
}

/// Seed 002: `POST /rate`, a 1–5 rating with optional feedback.
pub async fn rate(
    State(state): State<SharedState>,
    Visitor(key): Visitor,
    ApiJson(req): ApiJson<RateRequest>,
) -> Result<Json<RateResponse>, Failure> {
    Ok(Json(state.core.rate(&key, req)?))
}

#[derive(serde::Deserialize)]
pub struct ClassificationQuery {
    message_id: String,
}

/// The topic of the conversation after answer `message_id` (seed 002 `conversationClassified`).
pub async fn classification(
    State(state): State<SharedState>,
    Visitor(key): Visitor,
    q: Result<Query<ClassificationQuery>, QueryRejection>,
) -> Result<Json<ClassificationResponse>, Failure> {
    let q = query(q, "message_id", "message_id is required")?;
    Ok(Json(state.core.classification(&key, q.message_id).await?))
}

/// `window.DGbot.identify(user)` (seed 000).
pub async fn identify(
    State(state): State<SharedState>,
    Visitor(key): Visitor,
    ApiJson(user): ApiJson<IdentifyRequest>,
) -> Result<Json<IdentifyResponse>, Failure> {
    let (mut res, moved) = state.core.identify(&key, user)?;
    if let Some(new) = moved {
        res.visitor_token = Some(state.tokens.issue(&new.chatbot_id, &new.visitor_id));
    }
    Ok(Json(res))
}

/// Seed 002: `DELETE /api/v1/chat` removes all data kept for the visitor.
pub async fn delete_visitor_data(
    State(state): State<SharedState>,
    Visitor(key): Visitor,
) -> Result<Json<DeleteResponse>, Failure> {
    Ok(Json(state.core.delete_visitor(&key)?))
}
