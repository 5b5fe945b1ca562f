//! Livechat, seed 002 ("Livechat end-to-end", "Livechat state model"): the bodies of the
//! visitor's, the external agent system's and the setup backend's endpoints under
//! `/api/v1/chat/livechat/`. Paths the seed leaves to its API reference are our decisions,
//! written down in `docs/protocol.md`.

use serde::{Deserialize, Serialize};

use crate::api::{InputMessage, MessageContext};
use crate::message::{Author, Message};

/// `inactive -> waiting -> active -> closed`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum LivechatStatus {
    /// No current livechat session.
    Inactive,
    /// Hand-over requested; no agent has joined yet.
    Waiting,
    /// A human agent is assigned; visitor input belongs on the livechat message endpoint.
    Active,
    /// Terminal for that session.
    Closed,
}

impl LivechatStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            LivechatStatus::Inactive => "inactive",
            LivechatStatus::Waiting => "waiting",
            LivechatStatus::Active => "active",
            LivechatStatus::Closed => "closed",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        Some(match s {
            "inactive" => LivechatStatus::Inactive,
            "waiting" => LivechatStatus::Waiting,
            "active" => LivechatStatus::Active,
            "closed" => LivechatStatus::Closed,
            _ => return None,
        })
    }
}

/// Who closed a session.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ClosedBy {
    Visitor,
    Agent,
    /// The server (the visitor deleted their data, or the chatbot turned livechat off).
    System,
}

/// `POST /api/v1/chat/livechat/handover` body.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct HandoverRequest {
    /// `website` for the widget.
    pub platform: String,
    /// `manual_button` (the widget's menu) or `marker` (a `request_human_agent` part).
    pub source: String,
    /// The `request_human_agent` part that prompted the hand-over.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub part_id: Option<String>,
}

/// A livechat session as the seed's hand-over response shows it. The `null`s are sent.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct LivechatSession {
    pub livechat_session_id: String,
    pub status: LivechatStatus,
    pub platform: String,
    /// The conversation's language by name (`english`, `danish`).
    pub language: String,
    pub requested_at: String,
    pub closed_at: Option<String>,
    pub closed_by: Option<ClosedBy>,
    pub closed_by_agent_id: Option<String>,
    pub close_reason: Option<String>,
}

/// `feedback` of the state: `pending` once a session has closed, `submitted` after
/// `POST /livechat/feedback`; absent before the session closes.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct FeedbackState {
    pub status: FeedbackStatus,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rating: Option<u8>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub comment: Option<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum FeedbackStatus {
    Pending,
    Submitted,
}

/// `GET /api/v1/chat/livechat/state`: the visitor's current (or last) session.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct LivechatState {
    pub status: LivechatStatus,
    /// The current session, or the last closed one (for its feedback); `null` when there never
    /// was one.
    pub session: Option<LivechatSession>,
    /// The assigned agent (display name and avatar from the agent's profile).
    pub agent: Option<Author>,
    pub agent_typing: bool,
    /// Grows on every change of the session (status, assignment, typing, messages, feedback).
    pub state_version: u64,
    pub updated_at: Option<String>,
    pub feedback: Option<FeedbackState>,
}

/// `GET /api/v1/chat/livechat/messages?after=<message_id>&wait=<seconds>`: the livechat
/// messages of the visitor's sessions (visitor and agent), oldest first; with `after`, only those
/// newer than that message. `wait` (0–30 s) holds the request until there is something new.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct LivechatMessages {
    pub messages: Vec<Message>,
    pub state_version: u64,
}

/// `POST /api/v1/chat/livechat/messages` body: `text`, `image` and `file` parts.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct LivechatMessageRequest {
    pub message: InputMessage,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub context: Option<MessageContext>,
}

/// The stored message (attachments with signed URLs) and the session after it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct LivechatMessageResponse {
    pub message: Message,
    pub state_version: u64,
}

/// `POST /api/v1/chat/livechat/typing` body.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TypingRequest {
    pub is_typing: bool,
}

/// `POST /api/v1/chat/livechat/close` body (also the agent's, with `agent_id`).
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct CloseRequest {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
}

/// `POST /api/v1/chat/livechat/feedback` body.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct FeedbackRequest {
    /// 1–5.
    pub rating: u8,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub comment: Option<String>,
}

/// `POST /api/v1/chat/livechat/agent/messages` body.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AgentMessageRequest {
    pub agent_id: String,
    pub message: InputMessage,
}

/// `POST /api/v1/chat/livechat/agent/typing` body.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AgentTypingRequest {
    pub agent_id: String,
    pub is_typing: bool,
}

/// `POST /api/v1/chat/livechat/agent/close` body.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AgentCloseRequest {
    pub agent_id: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
}

/// Who the visitor is, for the agent: the id, and the identity from `identify()` if any.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct VisitorInfo {
    pub id: String,
    pub user_id: Option<String>,
    pub name: Option<String>,
    pub email: Option<String>,
    /// Whether the identity was verified (HMAC); unverified identities are labelled so.
    pub verified: bool,
}

/// `GET /api/v1/chat/livechat/agent/context`: the session, who the visitor is, the page they
/// were on, session values, and the whole transcript (assistant, visitor and agent messages).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AgentContext {
    pub chatbot_id: String,
    pub livechat_session: LivechatSession,
    pub state_version: u64,
    pub agent: Option<Author>,
    pub visitor: VisitorInfo,
    pub visitor_typing: bool,
    /// Values the visitor gave (forms submitted, the page of the last message), by key.
    pub session_values: serde_json::Map<String, serde_json::Value>,
    pub transcript: Vec<Message>,
}

/// `PUT /api/v1/chat/livechat/agents/{agent_id}` body.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AgentProfileRequest {
    pub display_name: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub avatar_url: Option<String>,
}

/// A weekly opening window, in the settings' `timezone`: `day` is `monday` … `sunday`,
/// `start` and `end` are `HH:MM` (24 h, `end` after `start`; `24:00` ends at midnight).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct WorkingHours {
    pub day: String,
    pub start: String,
    pub end: String,
}

/// `GET|PUT /api/v1/chat/livechat/settings` (and `[chatbot.livechat]` in `dgbot.toml`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LivechatSettings {
    pub enabled: bool,
    /// Empty: always live while enabled.
    #[serde(default)]
    pub working_hours: Vec<WorkingHours>,
    /// An IANA time zone (`Europe/Copenhagen`).
    #[serde(default = "default_timezone")]
    pub timezone: String,
    /// `live` or `offline` wins over the working hours; absent: the hours decide.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub manual_override: Option<String>,
    #[serde(default)]
    pub attachments_enabled: bool,
    #[serde(default = "default_max_attachment")]
    pub max_attachment_size_bytes: u64,
    #[serde(default = "default_retention")]
    pub attachment_retention_days: u32,
}

fn default_timezone() -> String {
    "UTC".into()
}
fn default_max_attachment() -> u64 {
    10 * 1024 * 1024
}
fn default_retention() -> u32 {
    30
}

impl Default for LivechatSettings {
    fn default() -> Self {
        LivechatSettings {
            enabled: false,
            working_hours: vec![],
            timezone: default_timezone(),
            manual_override: None,
            attachments_enabled: false,
            max_attachment_size_bytes: default_max_attachment(),
            attachment_retention_days: default_retention(),
        }
    }
}

/// One row of `GET /api/v1/chat/livechat/sessions`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SessionSummary {
    #[serde(flatten)]
    pub session: LivechatSession,
    pub visitor_id: String,
    pub agent_id: Option<String>,
    /// Whose move it is: `agent` when the visitor wrote last (or no one has yet), `visitor`
    /// when the agent did; `null` for closed sessions.
    pub turn: Option<String>,
    pub state_version: u64,
    pub updated_at: String,
}

/// `GET /api/v1/chat/livechat/sessions?status=&turn=`, newest first.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SessionList {
    pub sessions: Vec<SessionSummary>,
}

/// `GET /api/v1/chat/livechat/sessions/count?status=&turn=`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SessionCount {
    pub count: u64,
}

/// `POST /api/v1/chat/livechat/sessions/{livechat_session_id}/token`: a session-scoped agent
/// token, as the hand-over webhook carries it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SessionToken {
    pub token: String,
    pub expires_at: String,
}
