//! The visitor-facing chat API of seed 002 ("Chatbot API Flow"):
//! `POST /api/v1/chat/auth`, `GET /api/v1/chat/config`, `POST /api/v1/chat/messages` (SSE),
//! plus our public widget auth `POST /api/v1/chat/auth/public` (see docs/protocol.md).

use axum::extract::{DefaultBodyLimit, State};
use axum::http::HeaderMap;
use axum::http::header::AUTHORIZATION;
use axum::response::sse::{Event, KeepAlive, Sse};
use axum::routing::{get, post};
use axum::{Json, Router};
use dgbot_protocol::api::{
    Action, ActionRequest, ActionResponse, ApiError, ApiErrorCode, AuthRequest, AuthResponse,
    ChatConfig, ClassificationResponse, DeleteResponse, HistoryPage, IdentifyRequest,
    IdentifyResponse, RateRequest, RateResponse, SendMessageRequest,
};
use dgbot_protocol::forms::{check_attachments, check_fields, decoded_len};
use dgbot_protocol::message::{IMAGE_MIME_TYPES, ImagePart};
use dgbot_protocol::stream::{DoneEvent, PartEvent, part_deltas};
use dgbot_protocol::{Message, Part, Role, StreamEvent};
use tokio_stream::wrappers::ReceiverStream;

use crate::auth::{Visitor, basic_api_key, is_valid_visitor_id, new_visitor_id, origin_allowed};
use crate::error::{ApiJson, Failure};
use crate::store::{Rating, Submission};
use crate::{ScriptedEvent, SharedState, demo_bot};

/// Longest visitor message accepted, in characters.
pub const MAX_MESSAGE_CHARS: usize = 4000;
/// Largest `POST /messages` body: a 5 MB image as base64, plus the rest.
pub const MAX_MESSAGE_BODY: usize = 8 * 1024 * 1024;
/// Largest `POST /actions` body: three 5 MB attachments as base64, plus the fields.
pub const MAX_ACTION_BODY: usize = 24 * 1024 * 1024;

/// How long `GET /classification` waits for a pending classification.
pub const CLASSIFICATION_WAIT: std::time::Duration = std::time::Duration::from_secs(10);

pub fn routes() -> Router<SharedState> {
    Router::new()
        .route("/api/v1/chat/auth", post(auth))
        .route("/api/v1/chat/auth/public", post(auth_public))
        .route("/api/v1/chat/config", get(config))
        // Bodies up to what the markers allow: a 5 MB photo in a message (base64), three 5 MB
        // attachments on a ticket. Everything else keeps axum's 2 MB default.
        .route(
            "/api/v1/chat/messages",
            post(send_message)
                .layer(DefaultBodyLimit::max(MAX_MESSAGE_BODY))
                .get(history),
        )
        .route(
            "/api/v1/chat/actions",
            post(submit_action).layer(DefaultBodyLimit::max(MAX_ACTION_BODY)),
        )
        .route("/api/v1/chat/rate", post(rate))
        .route("/api/v1/chat/identify", post(identify))
        .route("/api/v1/chat/classification", get(classification))
        .route("/api/v1/chat", axum::routing::delete(delete_visitor_data))
}

/// Seed 002: the site owner's backend exchanges its API key (HTTP Basic user name, empty
/// password) for a visitor token.
async fn auth(
    State(state): State<SharedState>,
    headers: HeaderMap,
    ApiJson(req): ApiJson<AuthRequest>,
) -> Result<Json<AuthResponse>, Failure> {
    let key = basic_api_key(headers.get(AUTHORIZATION).and_then(|h| h.to_str().ok())).ok_or_else(
        || Failure::unauthorized("Expected HTTP Basic auth with the API key as user name"),
    )?;
    let bot = state
        .chatbot(&req.chatbot_id)
        .filter(|bot| bot.api_keys.iter().any(|k| k == &key))
        .ok_or_else(|| Failure::unauthorized("Unknown chatbot or wrong API key"))?;
    Ok(Json(AuthResponse {
        token: state.tokens.issue(&bot.id, &new_visitor_id()),
    }))
}

/// The widget holds no API key: it gets a visitor token from its public chatbot id, for host
/// pages on the chatbot's allowed origins.
async fn auth_public(
    State(state): State<SharedState>,
    ApiJson(req): ApiJson<AuthRequest>,
) -> Result<Json<AuthResponse>, Failure> {
    let bot = state.chatbot(&req.chatbot_id).ok_or_else(|| {
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

async fn config(
    State(state): State<SharedState>,
    visitor: Visitor,
) -> Result<Json<ChatConfig>, Failure> {
    let bot = state
        .chatbot(&visitor.chatbot_id)
        .ok_or_else(|| Failure::new(ApiErrorCode::NotFound, "No such chatbot"))?;
    Ok(Json(bot.config.clone()))
}

/// Largest image a visitor may send in a message, decoded.
pub const MAX_IMAGE_BYTES: usize = 5 * 1024 * 1024;

fn check_image(i: usize, image: &ImagePart) -> Result<(), Failure> {
    let field = |f: &str| format!("message.parts.{i}.{f}");
    let mime = image.mime.as_deref().unwrap_or("");
    if !IMAGE_MIME_TYPES.contains(&mime) {
        return Err(Failure::validation(
            &field("mime"),
            "Images must be PNG, JPEG, WebP or GIF",
        ));
    }
    let data = image.data.as_deref().unwrap_or("");
    if data.is_empty() || image.safe_src().is_none() {
        return Err(Failure::validation(
            &field("data"),
            "Image data must be base64",
        ));
    }
    if decoded_len(data) > MAX_IMAGE_BYTES as u64 {
        return Err(Failure::validation(
            &field("data"),
            "Images must be at most 5 MB",
        ));
    }
    Ok(())
}

/// The visitor's text: the `text` parts joined; 422 with a field path when there is neither
/// text nor an image, when the text is too long, or when an image is not acceptable.
fn visitor_text(req: &SendMessageRequest) -> Result<String, Failure> {
    let mut text = String::new();
    let mut first_text_part = None;
    let mut images = 0;
    for (i, part) in req.message.parts.iter().enumerate() {
        match part {
            Part::Text(t) => {
                first_text_part.get_or_insert(i);
                text.push_str(&t.text);
            }
            Part::Image(image) => {
                check_image(i, image)?;
                images += 1;
            }
            _ => {}
        }
    }
    let field = format!("message.parts.{}.text", first_text_part.unwrap_or(0));
    if text.trim().is_empty() && images == 0 {
        return Err(Failure::validation(&field, "Text is required"));
    }
    if text.chars().count() > MAX_MESSAGE_CHARS {
        return Err(Failure::validation(
            &field,
            &format!("Text must be at most {MAX_MESSAGE_CHARS} characters"),
        ));
    }
    Ok(text)
}

/// Seed 002's `429 rate_limited`, per visitor and endpoint, by the chatbot's `rate_limit`.
fn rate_limit(state: &SharedState, visitor: &Visitor, what: &'static str) -> Result<(), Failure> {
    let limit = state
        .chatbot(&visitor.chatbot_id)
        .map(|c| c.rate_limit)
        .unwrap_or_default();
    state
        .limiter
        .check(visitor, what, limit)
        .map_err(Failure::rate_limited)
}

type SseStream =
    Sse<axum::response::sse::KeepAliveStream<ReceiverStream<Result<Event, std::io::Error>>>>;

async fn send_message(
    State(state): State<SharedState>,
    visitor: Visitor,
    ApiJson(req): ApiJson<SendMessageRequest>,
) -> Result<SseStream, Failure> {
    let text = visitor_text(&req)?;
    rate_limit(&state, &visitor, "messages")?;
    let has_image = req
        .message
        .parts
        .iter()
        .any(|p| matches!(p, Part::Image(_)));
    let store = &state.store;
    store.push(
        &visitor,
        &Message {
            message_id: store.next_id("msg"),
            role: Role::User,
            parts: req.message.parts,
            created_at: None,
        },
    )?; // not stored: 500 before the stream starts, and the widget keeps the message to resend

    let (tx, rx) = tokio::sync::mpsc::channel::<Result<Event, std::io::Error>>(16);
    let delay = state.config.stream_delay;
    if let Some(script) = state
        .config
        .scripted_replies
        .iter()
        .find(|s| s.trigger == text.trim())
    {
        let events = script.events.clone();
        tokio::spawn(async move {
            for ev in events {
                let item = match ev {
                    ScriptedEvent::Sse(name, data) => Ok(Event::default().event(name).data(data)),
                    ScriptedEvent::Drop => {
                        // Let what was sent reach the client first, as on a real connection.
                        tokio::time::sleep(std::time::Duration::from_millis(150)).await;
                        Err(std::io::Error::other("scripted connection drop"))
                    }
                };
                let stop = item.is_err();
                if tx.send(item).await.is_err() || stop {
                    return;
                }
                if !delay.is_zero() {
                    tokio::time::sleep(delay).await;
                }
            }
        });
        return Ok(Sse::new(ReceiverStream::new(rx)).keep_alive(KeepAlive::default()));
    }

    let message_id = store.next_id("msg");
    let question = if text.trim().is_empty() && has_image {
        "photo received"
    } else {
        text.as_str()
    };
    let parts = if has_image {
        vec![Part::RichText(dgbot_protocol::RichText {
            part_id: format!("{message_id}_part_1"),
            blocks: vec![dgbot_protocol::Block::paragraph(vec![
                dgbot_protocol::Span::text(
                    "Thank you for the photo. We've added it to your case and will get back to you by email.",
                ),
            ])],
        })]
    } else {
        let kb = state
            .chatbot(&visitor.chatbot_id)
            .map(|c| c.knowledge.clone())
            .unwrap_or_default();
        demo_bot::answer(question, &message_id, &state.config.public_base, &kb)
    };
    let mut events = vec![
        StreamEvent::status("connected"),
        StreamEvent::status("processing"),
    ];
    for part in &parts {
        match part_deltas(part) {
            Some(deltas) => {
                let id = part.part_id().unwrap_or_default();
                events.extend(deltas.into_iter().map(|d| StreamEvent::delta(id, d)));
            }
            None => events.push(StreamEvent::Part(PartEvent { part: part.clone() })),
        }
    }
    let topic = store.expect_classification(&visitor, &message_id);
    let reply = Message {
        message_id,
        role: Role::Assistant,
        parts,
        created_at: None,
    };
    events.push(StreamEvent::Done(DoneEvent {
        message: reply.clone(),
    }));

    let state = state.clone();
    tokio::spawn(async move {
        let count = events.len();
        for (i, ev) in events.into_iter().enumerate() {
            let sse = Event::default().event(ev.name()).data(ev.data());
            if tx.send(Ok(sse)).await.is_err() {
                return; // the visitor went away; the reply was not delivered, so it is not stored
            }
            // Pace the answer like a model would, word by word (not after the last event).
            if !delay.is_zero()
                && i + 1 < count
                && matches!(ev, StreamEvent::PartDelta(_) | StreamEvent::Part(_))
            {
                tokio::time::sleep(delay).await;
            }
        }
        if let Err(e) = state.store.push(&visitor, &reply) {
            eprintln!("dgbot-server: answer {} not stored: {e}", reply.message_id);
        }
        // Seed 002: the conversation is classified a few seconds after each response.
        tokio::time::sleep(state.config.classify_delay).await;
        let label = match state.store.messages(&visitor) {
            Ok(messages) => Some(crate::classify::classify(&messages)),
            Err(e) => {
                eprintln!(
                    "dgbot-server: classification of {} failed: {e}",
                    reply.message_id
                );
                None
            }
        };
        if let Err(e) = state.store.classified(&visitor, &reply.message_id, label) {
            eprintln!(
                "dgbot-server: classification of {} not stored: {e}",
                reply.message_id
            );
        }
        let _ = topic.send(Some(label.map(str::to_owned)));
    });
    Ok(Sse::new(ReceiverStream::new(rx)).keep_alive(KeepAlive::default()))
}

/// Longest rating feedback accepted, in characters.
pub const MAX_FEEDBACK_CHARS: usize = 2000;

/// Seed 002: `POST /api/v1/chat/rate`, a 1–5 rating with optional feedback.
async fn rate(
    State(state): State<SharedState>,
    visitor: Visitor,
    ApiJson(req): ApiJson<RateRequest>,
) -> Result<Json<RateResponse>, Failure> {
    if !(1..=5).contains(&req.rating) {
        return Err(Failure::validation("rating", "Choose a rating from 1 to 5"));
    }
    let feedback = req
        .feedback
        .map(|f| f.trim().to_owned())
        .filter(|f| !f.is_empty());
    if feedback
        .as_ref()
        .is_some_and(|f| f.chars().count() > MAX_FEEDBACK_CHARS)
    {
        return Err(Failure::validation(
            "feedback",
            &format!("At most {MAX_FEEDBACK_CHARS} characters"),
        ));
    }
    state.store.rate(&Rating {
        chatbot_id: visitor.chatbot_id,
        visitor_id: visitor.visitor_id,
        rating: req.rating,
        feedback,
        created_at: now_rfc3339(),
    })?;
    Ok(Json(RateResponse {
        message: "Thank you for your feedback!".into(),
    }))
}

#[derive(serde::Deserialize)]
struct ClassificationQuery {
    message_id: String,
}

/// The topic of the conversation after answer `message_id` (seed 002 `conversationClassified`).
/// Waits up to [`CLASSIFICATION_WAIT`] while it is being classified; `classification` is `null`
/// when classification failed or took longer. `404 not_found` for an answer this visitor never got.
async fn classification(
    State(state): State<SharedState>,
    visitor: Visitor,
    query: Result<
        axum::extract::Query<ClassificationQuery>,
        axum::extract::rejection::QueryRejection,
    >,
) -> Result<Json<ClassificationResponse>, Failure> {
    let axum::extract::Query(query) =
        query.map_err(|_| Failure::validation("message_id", "message_id is required"))?;
    let found = state
        .store
        .classification(&visitor, &query.message_id)?
        .ok_or_else(|| Failure::new(ApiErrorCode::NotFound, "No answer with this message_id"))?;
    let classification = match found {
        Ok(topic) => topic,
        Err(mut pending) => {
            match tokio::time::timeout(CLASSIFICATION_WAIT, pending.wait_for(Option::is_some)).await
            {
                Ok(Ok(topic)) => topic.clone().flatten(),
                _ => None, // failed (the answer never finished) or too slow
            }
        }
    };
    Ok(Json(ClassificationResponse {
        message_id: query.message_id,
        classification,
    }))
}

/// Longest `user_id`, `name`, `email` or `user_hash` accepted, in characters.
pub const MAX_IDENTITY_CHARS: usize = 256;

/// `window.DGbot.identify(user)` (seed 000): keep who the visitor is for the conversation.
/// `user_hash` is stored; verifying it against the chatbot's secret comes with the security work.
async fn identify(
    State(state): State<SharedState>,
    visitor: Visitor,
    ApiJson(user): ApiJson<IdentifyRequest>,
) -> Result<Json<IdentifyResponse>, Failure> {
    let user_id = user.user_id.trim();
    if user_id.is_empty() {
        return Err(Failure::validation("user_id", "user_id is required"));
    }
    for (field, value) in [
        ("user_id", Some(user_id)),
        ("name", user.name.as_deref()),
        ("email", user.email.as_deref()),
        ("user_hash", user.user_hash.as_deref()),
    ] {
        if value.is_some_and(|v| v.chars().count() > MAX_IDENTITY_CHARS) {
            return Err(Failure::validation(
                field,
                &format!("At most {MAX_IDENTITY_CHARS} characters"),
            ));
        }
    }
    if user
        .email
        .as_deref()
        .is_some_and(|e| !dgbot_protocol::forms::is_email(e))
    {
        return Err(Failure::validation("email", "Enter a valid email address"));
    }
    let user_id = user_id.to_owned();
    state.store.identify(
        &visitor,
        &IdentifyRequest {
            user_id: user_id.clone(),
            ..user
        },
    )?;
    Ok(Json(IdentifyResponse {
        user_id,
        verified: false,
    }))
}

/// Seed 002: `DELETE /api/v1/chat` removes all data kept for the visitor.
async fn delete_visitor_data(
    State(state): State<SharedState>,
    visitor: Visitor,
) -> Result<Json<DeleteResponse>, Failure> {
    Ok(Json(state.store.delete_visitor(&visitor)?))
}

/// The current time as RFC 3339 UTC (`2026-11-22T01:02:03Z`).
pub fn now_rfc3339() -> String {
    let secs = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0);
    let (days, rem) = ((secs / 86_400) as i64, secs % 86_400);
    // Civil date from days since 1970-01-01 (Howard Hinnant's algorithm).
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    format!(
        "{year:04}-{month:02}-{day:02}T{:02}:{:02}:{:02}Z",
        rem / 3600,
        rem % 3600 / 60,
        rem % 60
    )
}

#[derive(serde::Deserialize)]
struct HistoryQuery {
    limit: Option<usize>,
    before: Option<String>,
}

/// Seed 002: `GET /api/v1/chat/messages`, the visitor's history, a page at a time (newest page
/// first; oldest message first within a page). `limit` 1–100 (default 50); `before` a message id.
async fn history(
    State(state): State<SharedState>,
    visitor: Visitor,
    query: Result<axum::extract::Query<HistoryQuery>, axum::extract::rejection::QueryRejection>,
) -> Result<Json<HistoryPage>, Failure> {
    let axum::extract::Query(query) =
        query.map_err(|_| Failure::validation("limit", "limit must be a number from 1 to 100"))?;
    let limit = query.limit.unwrap_or(50);
    if !(1..=100).contains(&limit) {
        return Err(Failure::validation(
            "limit",
            "limit must be a number from 1 to 100",
        ));
    }
    let all = state.store.messages(&visitor)?;
    let end = match &query.before {
        Some(id) => all
            .iter()
            .position(|m| &m.message_id == id)
            .ok_or_else(|| Failure::validation("before", "No such message"))?,
        None => all.len(),
    };
    let start = end.saturating_sub(limit);
    Ok(Json(HistoryPage {
        messages: all[start..end].to_vec(),
        has_more: start > 0,
    }))
}

/// Seed 002: the visitor completed a `show_contact_form` or `show_support_ticket` marker.
async fn submit_action(
    State(state): State<SharedState>,
    visitor: Visitor,
    ApiJson(req): ApiJson<ActionRequest>,
) -> Result<Json<ActionResponse>, Failure> {
    rate_limit(&state, &visitor, "actions")?;
    let marker = state
        .store
        .find_part(&visitor, &req.part_id)?
        .ok_or_else(|| Failure::new(ApiErrorCode::NotFound, "That form is no longer available"))?;
    let mut errors = match (&marker, &req.action) {
        (Part::ShowContactForm(m), Action::ContactForm { fields }) => {
            check_fields(&m.fields, fields)
        }
        (
            Part::ShowSupportTicket(m),
            Action::SupportTicket {
                fields,
                attachments,
            },
        ) => {
            let mut errors = check_fields(&m.fields, fields);
            errors.extend(check_attachments(&m.attachments, attachments));
            errors
        }
        _ => {
            return Err(Failure::validation(
                "action.type",
                &format!("Part {} does not take this action", req.part_id),
            ));
        }
    };
    if !errors.is_empty() {
        errors.truncate(20);
        return Err(ApiError::new(ApiErrorCode::Validation, "Validation failed")
            .with_params(errors)
            .into());
    }
    let action_id = state.store.next_id("action");
    let message = match req.action {
        Action::ContactForm { .. } => "Thank you! We'll get back to you within one business day.",
        Action::SupportTicket { .. } => {
            "Thank you! Your support ticket has been created; we've sent a confirmation by email."
        }
    };
    state.store.submit(&Submission {
        action_id: action_id.clone(),
        chatbot_id: visitor.chatbot_id,
        visitor_id: visitor.visitor_id,
        part_id: req.part_id,
        action: req.action,
    })?;
    Ok(Json(ActionResponse {
        action_id,
        message: message.into(),
    }))
}
