//! Seed 003: WebChatAgent's `POST /api/chat` bodies and `/api/livechat` WebSocket events.
//!
//! The seed shows the REST request `{message, chatbotId}`, the reply `{reply, sources, mode,
//! status}`, the `X-Chat-Session-Id` header, the client frames `client:join` and
//! `client:message`, and the server's `livechat:message`. Everything else here is our decision,
//! written down in `docs/protocol.md` ("WebChatAgent (seed 003)"): the status values, the
//! shape of a source, `livechat:status`, `livechat:typing`, `livechat:chunk`, `livechat:pong`,
//! `livechat:error`, `client:typing` and `client:ping`. Field names are camelCase, as the
//! seed's are. Every server event carries `sessionId` (the seed's session guard drops events
//! without it), `null` only on an error about a frame that named no session.

use serde::{Deserialize, Serialize};

/// The header that carries the session id both ways.
pub const SESSION_HEADER: &str = "X-Chat-Session-Id";

/// `POST /api/chat`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ChatRequest {
    pub message: String,
    pub chatbot_id: String,
}

/// The answer to `POST /api/chat`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ChatReply {
    /// The whole answer as text (empty when the message went to a person instead).
    pub reply: String,
    /// The knowledge-base documents and products the answer used.
    pub sources: Vec<Source>,
    pub mode: Mode,
    pub status: Status,
}

pub use crate::message::{Source, SourceKind};

/// Who answers the session: the assistant, or a person (waiting for one, or with one).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Mode {
    Bot,
    Human,
}

/// Where the session's hand-over stands: `inactive` (never handed over) and `closed` (the last
/// live chat ended) go with mode `bot`; `waiting` (queued for a person) and `open` (a person
/// joined) with mode `human`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Status {
    Inactive,
    Waiting,
    Open,
    Closed,
}

impl Status {
    /// The mode that goes with the status.
    pub fn mode(self) -> Mode {
        match self {
            Status::Waiting | Status::Open => Mode::Human,
            Status::Inactive | Status::Closed => Mode::Bot,
        }
    }
}

// ----- the WebSocket: client → server -----

/// A frame the client sends on `/api/livechat`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type")]
pub enum ClientEvent {
    #[serde(rename = "client:join")]
    Join(Join),
    #[serde(rename = "client:message")]
    Message(ClientMessage),
    #[serde(rename = "client:typing")]
    Typing(ClientTyping),
    #[serde(rename = "client:ping")]
    Ping(Ping),
}

impl ClientEvent {
    /// The frame's `type`, as on the wire.
    pub fn name(&self) -> &'static str {
        match self {
            ClientEvent::Join(_) => "client:join",
            ClientEvent::Message(_) => "client:message",
            ClientEvent::Typing(_) => "client:typing",
            ClientEvent::Ping(_) => "client:ping",
        }
    }
}

/// `client:join {chatbotId, sessionId, as: "user"}`: follow a session (one per socket; a
/// later join replaces it). `after` (a `messageId`) asks for the live-chat messages after it,
/// for a client that reconnects.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Join {
    pub chatbot_id: String,
    pub session_id: String,
    #[serde(rename = "as")]
    pub role: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub after: Option<String>,
}

/// `client:message {chatbotId, sessionId, sender: "user", content}`. `clientMessageId`, when
/// given, makes a resend after a reconnect safe (stored once).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ClientMessage {
    pub chatbot_id: String,
    pub session_id: String,
    pub sender: String,
    pub content: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub client_message_id: Option<String>,
}

/// `client:typing {chatbotId, sessionId, isTyping}`: the visitor types (shared with the agent
/// while a person is in the chat).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ClientTyping {
    pub chatbot_id: String,
    pub session_id: String,
    pub is_typing: bool,
}

/// `client:ping`: answered by `livechat:pong` (for clients that cannot see protocol pings).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Ping {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub session_id: Option<String>,
}

// ----- the WebSocket: server → client -----

/// A frame the server sends on `/api/livechat`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type")]
pub enum ServerEvent {
    /// A whole message: the agent's, the visitor's own (echoed to every socket of the
    /// session), or the assistant's.
    #[serde(rename = "livechat:message")]
    Message(LivechatMessage),
    /// Text of an assistant answer as it streams; the next `livechat:message` from the bot
    /// is the whole answer (the chunks are a preview: blocks are not separated).
    #[serde(rename = "livechat:chunk")]
    Chunk(Chunk),
    /// The session's mode and status: on join, and whenever they change.
    #[serde(rename = "livechat:status")]
    Status(StatusChange),
    #[serde(rename = "livechat:typing")]
    Typing(Typing),
    #[serde(rename = "livechat:pong")]
    Pong(Pong),
    /// A frame was refused; nothing changed.
    #[serde(rename = "livechat:error")]
    Error(ErrorEvent),
}

impl ServerEvent {
    /// The session the event is about.
    pub fn session_id(&self) -> Option<&str> {
        match self {
            ServerEvent::Message(e) => Some(&e.session_id),
            ServerEvent::Chunk(e) => Some(&e.session_id),
            ServerEvent::Status(e) => Some(&e.session_id),
            ServerEvent::Typing(e) => Some(&e.session_id),
            ServerEvent::Pong(e) => e.session_id.as_deref(),
            ServerEvent::Error(e) => e.session_id.as_deref(),
        }
    }
}

/// Who wrote a message or types.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Sender {
    User,
    Agent,
    Bot,
}

/// An agent as the visitor sees them.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Agent {
    pub id: String,
    pub name: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub avatar_url: Option<String>,
}

/// `livechat:message`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct LivechatMessage {
    pub session_id: String,
    pub sender: Sender,
    pub content: String,
    pub message_id: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub created_at: Option<String>,
    /// The agent who wrote it (`sender: "agent"`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub agent: Option<Agent>,
    /// What the assistant's answer used (`sender: "bot"`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sources: Option<Vec<Source>>,
}

/// `livechat:chunk`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Chunk {
    pub session_id: String,
    pub content: String,
}

/// `livechat:status`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct StatusChange {
    pub session_id: String,
    pub mode: Mode,
    pub status: Status,
    /// The agent in the chat (`open`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub agent: Option<Agent>,
    /// Why the live chat closed, when someone said (`closed`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
}

/// `livechat:typing`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Typing {
    pub session_id: String,
    pub sender: Sender,
    pub is_typing: bool,
}

/// `livechat:pong`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Pong {
    pub session_id: Option<String>,
}

/// `livechat:error`: `sessionId` is the session the refused frame named (`null` when it named
/// none), `request` the refused frame's `type` when it had one.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ErrorEvent {
    pub session_id: Option<String>,
    pub code: ErrorCode,
    pub message: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub request: Option<String>,
    /// Seconds to wait (`rate_limited`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub retry_after: Option<u64>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ErrorCode {
    /// Not a JSON object of a known shape (or a binary frame).
    Malformed,
    /// A `type` this server does not know.
    UnknownType,
    UnknownChatbot,
    /// No conversation with this session id (start one with `POST /api/chat`).
    UnknownSession,
    /// The frame names a session this socket has not joined.
    NotJoined,
    /// The page's origin may not use this chatbot, or `as`/`sender` is not `user`.
    Forbidden,
    Validation,
    RateLimited,
    /// The frame clashes with the session's state (e.g. typing with no person in the chat).
    Conflict,
    /// Something failed on the server; send again.
    Internal,
}
