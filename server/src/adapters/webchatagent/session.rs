//! What `POST /api/chat` and the WebSocket share: the session (a conversation of the core,
//! its id the visitor id), its mode and status, asking the assistant and taking up its offer
//! of a person, and refusals in words both transports can send.

use std::sync::Arc;
use std::time::Duration;

use dgbot_protocol::livechat::{HandoverRequest, LivechatState, LivechatStatus};
use dgbot_protocol::message::{Author, TextPart};
use dgbot_protocol::webchatagent::{Agent, ErrorCode, Mode, Status};
use dgbot_protocol::{Message, Part, StreamEvent};
use tokio::sync::broadcast::error::RecvError;
use tokio::sync::mpsc;

use dgbot_core::hub::ConversationEvent;
use dgbot_core::model::ids::is_valid_visitor_id;
use dgbot_core::responder::AnswerItem;
use dgbot_core::{ConversationKey, Core, CoreError};

/// How long to wait for an answer with an offer of a person to be stored, so the hand-over
/// can name the offer (it is stored right after its last event).
const OFFER_STORED_WAIT: Duration = Duration::from_secs(2);

/// A request this adapter refuses, in the words both transports send: `POST /api/chat` as a
/// non-2xx status with the message as text, the WebSocket as `livechat:error`.
#[derive(Debug, Clone, PartialEq)]
pub struct Refusal {
    pub code: ErrorCode,
    pub message: String,
    /// Seconds to wait (`rate_limited`).
    pub retry_after: Option<u64>,
}

impl Refusal {
    pub fn new(code: ErrorCode, message: impl Into<String>) -> Self {
        Refusal {
            code,
            message: message.into(),
            retry_after: None,
        }
    }

    /// The HTTP status of the refusal.
    pub fn status(&self) -> u16 {
        match self.code {
            ErrorCode::Malformed => 400,
            ErrorCode::UnknownType => 400,
            ErrorCode::UnknownChatbot | ErrorCode::UnknownSession => 404,
            ErrorCode::NotJoined => 409,
            ErrorCode::Forbidden => 403,
            ErrorCode::Validation => 422,
            ErrorCode::RateLimited => 429,
            ErrorCode::Conflict => 409,
            ErrorCode::Internal => 500,
        }
    }
}

impl From<CoreError> for Refusal {
    /// The core's words, without seed 002's field paths (`message.parts.0.text`): a
    /// WebChatAgent client sent one text.
    fn from(e: CoreError) -> Self {
        match e {
            CoreError::Validation(fields) => Refusal::new(
                ErrorCode::Validation,
                fields
                    .iter()
                    .map(|f| f.message.as_str())
                    .collect::<Vec<_>>()
                    .join("; "),
            ),
            CoreError::RateLimited(secs) => Refusal {
                retry_after: Some(secs),
                ..Refusal::new(
                    ErrorCode::RateLimited,
                    crate::http::error::message_of(&CoreError::RateLimited(secs)),
                )
            },
            CoreError::Store(e) => {
                tracing::warn!("webchatagent: {e}");
                Refusal::new(
                    ErrorCode::Internal,
                    "Something went wrong on our side. Please send your message again.",
                )
            }
            CoreError::NotFound(m) => Refusal::new(ErrorCode::UnknownSession, m),
            CoreError::Unauthorized(m) | CoreError::Forbidden(m) => {
                Refusal::new(ErrorCode::Forbidden, m)
            }
            CoreError::Conflict(m) => Refusal::new(ErrorCode::Conflict, m),
        }
    }
}

/// The conversation a session id names, if the id has the shape of one.
pub fn key_of(chatbot_id: &str, session_id: &str) -> Option<ConversationKey> {
    is_valid_visitor_id(session_id).then(|| ConversationKey::new(chatbot_id, session_id))
}

/// Whether the session was started: it has messages (or a live chat). Session ids are only
/// ever made by the server, so a client cannot start a session under an id of its choosing.
pub fn exists(core: &Core, key: &ConversationKey) -> Result<bool, CoreError> {
    Ok(core.current_session(key)?.is_some() || !core.transcript(key)?.is_empty())
}

/// The session's status, from its latest live chat.
pub fn status_of(state: &LivechatState) -> Status {
    match state.status {
        LivechatStatus::Inactive => Status::Inactive,
        LivechatStatus::Waiting => Status::Waiting,
        LivechatStatus::Active => Status::Open,
        LivechatStatus::Closed => Status::Closed,
    }
}

pub fn mode_status(core: &Core, key: &ConversationKey) -> Result<(Mode, Status), CoreError> {
    let status = status_of(&core.livechat_state(key)?);
    Ok((status.mode(), status))
}

pub fn agent_of(author: &Author) -> Agent {
    Agent {
        id: author.agent_id.clone(),
        name: author.display_name.clone(),
        avatar_url: author.avatar_url.clone(),
    }
}

/// The visitor's text as the core's message parts.
pub fn text_parts(text: &str) -> Vec<Part> {
    vec![Part::Text(TextPart {
        text: text.to_owned(),
    })]
}

/// The assistant's whole answer, and why a person could not take over when it offered one.
pub struct Answered {
    pub message: Message,
    pub handover_refused: Option<String>,
}

/// Ask the assistant: the visitor's message is stored, the answer drained to its end (the
/// core stores it only once it was delivered), and an offer of a person in it taken up at
/// once: a WebChatAgent client has no button to accept it with.
pub async fn ask(
    core: &Arc<Core>,
    key: &ConversationKey,
    text: &str,
    client_id: Option<&str>,
) -> Result<Answered, Refusal> {
    let rx = core.post_message(key, text_parts(text), client_id)?;
    answered(core, key, rx).await
}

/// The rest of [`ask`] once the message is posted: the answer drained, the offer taken up.
pub async fn answered(
    core: &Arc<Core>,
    key: &ConversationKey,
    rx: mpsc::Receiver<AnswerItem>,
) -> Result<Answered, Refusal> {
    let message = whole_answer(rx).await?;
    let handover_refused = match offer_in(&message) {
        Some(part_id) => take_up_offer(core, key, part_id).await.err(),
        None => None,
    };
    Ok(Answered {
        message,
        handover_refused: handover_refused.map(|r| r.message),
    })
}

/// Read an answer's stream to its `done`; a stream that ends without one broke off.
async fn whole_answer(mut rx: mpsc::Receiver<AnswerItem>) -> Result<Message, Refusal> {
    while let Some(item) = rx.recv().await {
        match item {
            AnswerItem::Event(StreamEvent::Done(done)) => return Ok(done.message),
            AnswerItem::Event(StreamEvent::Error(e)) => {
                return Err(Refusal::new(ErrorCode::Internal, e.message));
            }
            AnswerItem::Drop => break,
            AnswerItem::Event(_) | AnswerItem::Raw { .. } | AnswerItem::Tool(_) => {}
        }
    }
    Err(Refusal::new(
        ErrorCode::Internal,
        "The answer broke off. Your message was kept; send it again for an answer.",
    ))
}

/// The `request_human_agent` part of an answer, if it offers a person.
fn offer_in(message: &Message) -> Option<&str> {
    message.parts.iter().find_map(|p| match p {
        Part::RequestHumanAgent(m) => Some(m.part_id.as_str()),
        _ => None,
    })
}

/// Hand the session over to a person, naming the offer once the answer holding it is stored
/// (the core announces that on the hub; attach first, then look, so it is not missed).
async fn take_up_offer(core: &Core, key: &ConversationKey, part_id: &str) -> Result<(), Refusal> {
    let mut events = core.subscribe(key);
    let stored = |core: &Core| core.find_part(key, part_id).ok().flatten().is_some();
    let mut named = stored(core);
    let deadline = tokio::time::Instant::now() + OFFER_STORED_WAIT;
    while !named {
        match tokio::time::timeout_at(deadline, events.recv()).await {
            Ok(Ok(ConversationEvent::HandoffOffered { part_id: p })) if p == part_id => {
                named = true
            }
            Ok(Ok(_)) => {}
            Ok(Err(RecvError::Lagged(_))) => named = stored(core),
            Ok(Err(RecvError::Closed)) | Err(_) => break,
        }
    }
    core.handover(
        key,
        HandoverRequest {
            platform: "webchatagent".into(),
            source: "marker".into(),
            // Not stored in time (a slow database): hand over all the same, unlinked.
            part_id: named.then(|| part_id.to_owned()),
        },
    )?;
    Ok(())
}

/// The page a browser request comes from (its `Origin`), checked against a chatbot's allowed
/// origins. Requests without an `Origin` come from servers, desktop apps and terminals, and
/// are not browsers' to police; the server's own pages are always allowed.
#[derive(Debug, Clone)]
pub struct Page {
    origin: Option<String>,
    same_site: bool,
}

impl Page {
    pub fn of(parts: &axum::http::request::Parts, public_base: &str) -> Page {
        let origin = parts
            .headers
            .get(axum::http::header::ORIGIN)
            .map(|o| o.to_str().unwrap_or("\u{fffd}").to_owned());
        let same_site = origin
            .as_deref()
            .is_some_and(|o| crate::http::origin::same_origin(parts, o, public_base));
        Page { origin, same_site }
    }

    /// Whether the page may use `bot`.
    pub fn allowed_for(&self, bot: &dgbot_core::model::Chatbot) -> Result<(), Refusal> {
        match &self.origin {
            None => Ok(()),
            Some(_) if self.same_site => Ok(()),
            Some(o) if crate::http::origin::origin_allowed(&bot.allowed_origins, o) => Ok(()),
            Some(o) => Err(Refusal::new(
                ErrorCode::Forbidden,
                format!("This chatbot does not accept requests from pages on {o:?}"),
            )),
        }
    }

    /// Whether the page may use any of the chatbots (before a request says which).
    pub fn allowed_by_any(&self, bots: &[dgbot_core::model::Chatbot]) -> bool {
        bots.iter().any(|bot| self.allowed_for(bot).is_ok())
    }
}
