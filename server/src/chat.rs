//! The visitor-facing chat API of seed 002 ("Chatbot API Flow"):
//! `POST /api/v1/chat/auth`, `GET /api/v1/chat/config`, `POST /api/v1/chat/messages` (SSE),
//! plus our public widget auth `POST /api/v1/chat/auth/public` (see docs/protocol.md).

use std::collections::HashMap;
use std::convert::Infallible;
use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, Ordering};

use axum::extract::State;
use axum::http::HeaderMap;
use axum::http::header::AUTHORIZATION;
use axum::response::sse::{Event, KeepAlive, Sse};
use axum::routing::{get, post};
use axum::{Json, Router};
use dgbot_protocol::api::{ApiErrorCode, AuthRequest, AuthResponse, ChatConfig, SendMessageRequest};
use dgbot_protocol::stream::{DoneEvent, rich_text_deltas};
use dgbot_protocol::{Message, Part, Role, StreamEvent};
use tokio_stream::Stream;
use tokio_stream::wrappers::ReceiverStream;

use crate::auth::{Visitor, basic_api_key, is_valid_visitor_id, new_visitor_id, origin_allowed};
use crate::error::{ApiJson, Failure};
use crate::{SharedState, demo_bot};

/// Longest visitor message accepted, in characters.
pub const MAX_MESSAGE_CHARS: usize = 4000;

/// Conversations by (chatbot id, visitor id). In memory for the walking skeleton; SQLite
/// storage comes with the reference-server work (issue 5).
#[derive(Default)]
pub struct Conversations {
    by_visitor: Mutex<HashMap<(String, String), Vec<Message>>>,
    next_id: AtomicU64,
}

impl Conversations {
    pub fn next_id(&self, prefix: &str) -> String {
        format!("{prefix}_{}", self.next_id.fetch_add(1, Ordering::Relaxed) + 1)
    }

    pub fn push(&self, visitor: &Visitor, message: Message) {
        let mut map = self.by_visitor.lock().expect("conversation lock");
        map.entry((visitor.chatbot_id.clone(), visitor.visitor_id.clone())).or_default().push(message);
    }

    pub fn messages(&self, visitor: &Visitor) -> Vec<Message> {
        let map = self.by_visitor.lock().expect("conversation lock");
        map.get(&(visitor.chatbot_id.clone(), visitor.visitor_id.clone())).cloned().unwrap_or_default()
    }
}

pub fn routes() -> Router<SharedState> {
    Router::new()
        .route("/api/v1/chat/auth", post(auth))
        .route("/api/v1/chat/auth/public", post(auth_public))
        .route("/api/v1/chat/config", get(config))
        .route("/api/v1/chat/messages", post(send_message))
}

/// Seed 002: the site owner's backend exchanges its API key (HTTP Basic user name, empty
/// password) for a visitor token.
async fn auth(
    State(state): State<SharedState>,
    headers: HeaderMap,
    ApiJson(req): ApiJson<AuthRequest>,
) -> Result<Json<AuthResponse>, Failure> {
    let key = basic_api_key(headers.get(AUTHORIZATION).and_then(|h| h.to_str().ok()))
        .ok_or_else(|| Failure::unauthorized("Expected HTTP Basic auth with the API key as user name"))?;
    let bot = state
        .chatbot(&req.chatbot_id)
        .filter(|bot| bot.api_keys.iter().any(|k| k == &key))
        .ok_or_else(|| Failure::unauthorized("Unknown chatbot or wrong API key"))?;
    Ok(Json(AuthResponse { token: state.tokens.issue(&bot.id, &new_visitor_id()) }))
}

/// The widget holds no API key: it gets a visitor token from its public chatbot id, for host
/// pages on the chatbot's allowed origins.
async fn auth_public(
    State(state): State<SharedState>,
    ApiJson(req): ApiJson<AuthRequest>,
) -> Result<Json<AuthResponse>, Failure> {
    let bot = state
        .chatbot(&req.chatbot_id)
        .ok_or_else(|| Failure::new(ApiErrorCode::NotFound, format!("No chatbot with id {:?}", req.chatbot_id)))?;
    let origin = req.host_origin.as_deref().unwrap_or("");
    if !origin_allowed(&bot.allowed_origins, origin) {
        return Err(Failure::new(
            ApiErrorCode::Forbidden,
            format!("This chatbot is not enabled on {origin:?}; add the origin to its allowed origins"),
        ));
    }
    let visitor_id = req.visitor_id.filter(|id| is_valid_visitor_id(id)).unwrap_or_else(new_visitor_id);
    Ok(Json(AuthResponse { token: state.tokens.issue(&bot.id, &visitor_id) }))
}

async fn config(State(state): State<SharedState>, visitor: Visitor) -> Result<Json<ChatConfig>, Failure> {
    let bot = state.chatbot(&visitor.chatbot_id).ok_or_else(|| Failure::new(ApiErrorCode::NotFound, "No such chatbot"))?;
    Ok(Json(bot.config.clone()))
}

/// The visitor's text: the `text` parts joined; 422 with a field path when it is empty or long.
fn visitor_text(req: &SendMessageRequest) -> Result<String, Failure> {
    let mut text = String::new();
    let mut first_text_part = None;
    for (i, part) in req.message.parts.iter().enumerate() {
        if let Part::Text(t) = part {
            first_text_part.get_or_insert(i);
            text.push_str(&t.text);
        }
    }
    let field = format!("message.parts.{}.text", first_text_part.unwrap_or(0));
    if text.trim().is_empty() {
        return Err(Failure::validation(&field, "Text is required"));
    }
    if text.chars().count() > MAX_MESSAGE_CHARS {
        return Err(Failure::validation(&field, &format!("Text must be at most {MAX_MESSAGE_CHARS} characters")));
    }
    Ok(text)
}

async fn send_message(
    State(state): State<SharedState>,
    visitor: Visitor,
    ApiJson(req): ApiJson<SendMessageRequest>,
) -> Result<Sse<impl Stream<Item = Result<Event, Infallible>>>, Failure> {
    let text = visitor_text(&req)?;
    let conversations = &state.conversations;
    conversations.push(&visitor, Message {
        message_id: conversations.next_id("msg"),
        role: Role::User,
        parts: req.message.parts,
        created_at: None,
    });

    let message_id = conversations.next_id("msg");
    let part = demo_bot::answer(&text, &format!("{message_id}_part_1"));
    let mut events = vec![StreamEvent::status("connected"), StreamEvent::status("processing")];
    events.extend(rich_text_deltas(&part).into_iter().map(|d| StreamEvent::delta(&part.part_id, d)));
    let reply = Message { message_id, role: Role::Assistant, parts: vec![Part::RichText(part)], created_at: None };
    events.push(StreamEvent::Done(DoneEvent { message: reply.clone() }));

    let (tx, rx) = tokio::sync::mpsc::channel::<Result<Event, Infallible>>(16);
    let delay = state.config.stream_delay;
    let state = state.clone();
    tokio::spawn(async move {
        let count = events.len();
        for (i, ev) in events.into_iter().enumerate() {
            let sse = Event::default().event(ev.name()).data(ev.data());
            if tx.send(Ok(sse)).await.is_err() {
                return; // the visitor went away; the reply was not delivered, so it is not stored
            }
            // Pace the answer like a model would, word by word (not after the last event).
            if !delay.is_zero() && i + 1 < count && matches!(ev, StreamEvent::PartDelta(_)) {
                tokio::time::sleep(delay).await;
            }
        }
        state.conversations.push(&visitor, reply);
    });
    Ok(Sse::new(ReceiverStream::new(rx)).keep_alive(KeepAlive::default()))
}
