//! Seed 004: Dosti's Socket.IO events and REST pipeline bodies.
//!
//! Socket.IO (default `/socket.io/` path, engine.io v4): the client connects with the query
//! [`ConnectQuery`] and emits [`SendMessage`] (`send_message`) and [`TypingSignal`] (`typing`,
//! `stop_typing`); the server emits the [`ServerEvent`]s. REST: `POST /api/chat/send` takes a
//! [`SendRequest`], `GET|POST /api/chat/poll` a [`PollRequest`] and answers a [`PollResponse`];
//! every failure is a [`Failure`]. Field names are the seed's (camelCase); where the seed is
//! silent (acks, errors, `agent_joined`'s payload, `agent_left`) docs/protocol.md says what we
//! decided and why.

use serde::{Deserialize, Deserializer, Serialize};

/// The only `type` the seed's client events carry.
pub const CHANNEL_SAAS: &str = "saas";
/// The seed's `deviceId` for the support side's typing events.
pub const DEVICE_AGENT: &str = "agent";

/// The Socket.IO connection query (`?apiKey=…&role=visitor&visitorId=…&visitorName=…`). Every
/// field is optional here so that a missing one gets a refusal that names it, not a parse
/// error; engine.io's own parameters (`EIO`, `transport`, `t`) are ignored.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ConnectQuery {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub api_key: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub role: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub visitor_id: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub visitor_name: Option<String>,
}

/// Client event `send_message`: `{"type": "saas", "message": "text"}`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SendMessage {
    /// `saas` in every seed example; a missing `type` is taken as `saas`.
    #[serde(rename = "type", default, skip_serializing_if = "Option::is_none")]
    pub channel: Option<String>,
    pub message: String,
}

/// Client events `typing` and `stop_typing`: `{"type": "saas"}`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TypingSignal {
    #[serde(rename = "type", default, skip_serializing_if = "Option::is_none")]
    pub channel: Option<String>,
}

/// Server event `receive_message`: an answer of the assistant or a reply of an agent.
/// `visitorId` is the conversation's visitor; `visitorName` the sender's display name
/// (the seed's `"Support"`: the agent's name, or the chatbot's name for the assistant).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ReceiveMessage {
    pub visitor_id: String,
    pub visitor_name: String,
    pub message: String,
}

/// Server events `partner_typing` and `partner_stopped_typing`: `{"deviceId": "agent"}`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct PartnerTyping {
    pub device_id: String,
}

impl PartnerTyping {
    pub fn agent() -> Self {
        PartnerTyping {
            device_id: DEVICE_AGENT.into(),
        }
    }
}

/// Server event `agent_joined`. The seed gives no payload; ours says who joined (clients that
/// expect none ignore it).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct AgentJoined {
    pub device_id: String,
    pub agent_id: String,
    pub agent_name: String,
}

/// Server event `agent_left` (ours, not the seed's): the agent closed the chat, or it closed
/// while an agent had it. The visitor's next message alerts the agents again.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct AgentLeft {
    pub device_id: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
}

/// Every server event, by the name it is emitted under.
#[derive(Debug, Clone, PartialEq)]
pub enum ServerEvent {
    ReceiveMessage(ReceiveMessage),
    PartnerTyping(PartnerTyping),
    PartnerStoppedTyping(PartnerTyping),
    AgentJoined(AgentJoined),
    AgentLeft(AgentLeft),
    /// `chat_error`: what the client sent was refused, or an answer failed.
    Error(Failure),
}

impl ServerEvent {
    /// The Socket.IO event name.
    pub fn name(&self) -> &'static str {
        match self {
            ServerEvent::ReceiveMessage(_) => "receive_message",
            ServerEvent::PartnerTyping(_) => "partner_typing",
            ServerEvent::PartnerStoppedTyping(_) => "partner_stopped_typing",
            ServerEvent::AgentJoined(_) => "agent_joined",
            ServerEvent::AgentLeft(_) => "agent_left",
            ServerEvent::Error(_) => "chat_error",
        }
    }

    /// The event's one argument.
    pub fn payload(&self) -> serde_json::Value {
        let value = match self {
            ServerEvent::ReceiveMessage(m) => serde_json::to_value(m),
            ServerEvent::PartnerTyping(t) | ServerEvent::PartnerStoppedTyping(t) => {
                serde_json::to_value(t)
            }
            ServerEvent::AgentJoined(a) => serde_json::to_value(a),
            ServerEvent::AgentLeft(a) => serde_json::to_value(a),
            ServerEvent::Error(f) => serde_json::to_value(f),
        };
        value.expect("plain structs serialize")
    }
}

/// `POST /api/chat/send`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct SendRequest {
    pub api_key: String,
    pub visitor_id: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub visitor_name: Option<String>,
    pub message: String,
}

/// The answer to `POST /api/chat/send` (the seed shows none): the visitor's message as a poll
/// would show it, so a client can take its `timestamp` as its next `lastTimestamp`. Also the
/// ack of `send_message` when the client asks for one.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SendResponse {
    pub success: bool,
    pub message: ChatMessage,
}

/// `GET /api/chat/poll?apiKey&visitorId&lastTimestamp`, or the same as a JSON body of
/// `POST /api/chat/poll`. `lastTimestamp` (milliseconds since 1970) may be a number or a string
/// of digits (a query string has only strings).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct PollRequest {
    pub api_key: String,
    pub visitor_id: String,
    #[serde(
        default,
        deserialize_with = "millis",
        skip_serializing_if = "Option::is_none"
    )]
    pub last_timestamp: Option<u64>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PollResponse {
    pub success: bool,
    pub messages: Vec<ChatMessage>,
}

/// One message of the conversation as the REST pipeline shows it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ChatMessage {
    pub id: String,
    pub sender: Sender,
    /// `You` for the visitor (as the seed shows), the agent's name, or the chatbot's name.
    pub sender_name: String,
    pub message: String,
    /// Milliseconds since 1970; strictly increasing within a conversation.
    pub timestamp: u64,
}

/// Who wrote a message: the visitor, or the support side (an agent or the assistant).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Sender {
    Visitor,
    Agent,
}

/// `{"success": false, "error": "…"}`, the REST pipeline's failure (with a 4xx/5xx status), the
/// `chat_error` event and a refused `send_message`'s ack. `code` is seed 002's error code
/// (`validation`, `unauthorized`, `rate_limited`, …); `retryAfter` comes with `rate_limited`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Failure {
    pub success: bool,
    pub error: String,
    pub code: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub retry_after: Option<u64>,
}

impl Failure {
    pub fn new(code: impl Into<String>, error: impl Into<String>) -> Self {
        Failure {
            success: false,
            error: error.into(),
            code: code.into(),
            retry_after: None,
        }
    }
}

/// `lastTimestamp` as a number, a string of digits, or `null` / absent.
fn millis<'de, D: Deserializer<'de>>(d: D) -> Result<Option<u64>, D::Error> {
    #[derive(Deserialize)]
    #[serde(untagged)]
    enum Millis {
        Number(u64),
        Text(String),
        Other(serde::de::IgnoredAny),
    }
    let wrong = || {
        serde::de::Error::custom("lastTimestamp must be milliseconds since 1970, a whole number")
    };
    match Option::<Millis>::deserialize(d)? {
        None => Ok(None),
        Some(Millis::Number(n)) => Ok(Some(n)),
        Some(Millis::Text(s)) if s.is_empty() => Ok(None),
        Some(Millis::Text(s)) => s.parse().map(Some).map_err(|_| wrong()),
        Some(Millis::Other(_)) => Err(wrong()),
    }
}
