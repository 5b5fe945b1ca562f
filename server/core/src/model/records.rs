//! What the store keeps and returns: plain records, with no behaviour beyond their fields.

use dgbot_protocol::api::Action;
use dgbot_protocol::livechat::{ClosedBy, FeedbackStatus, LivechatStatus};

use super::ids::ConversationKey;

/// A livechat session (seed 002's state model), as kept.
#[derive(Debug, Clone, PartialEq)]
pub struct Session {
    pub id: String,
    pub key: ConversationKey,
    pub status: LivechatStatus,
    pub platform: String,
    pub source: String,
    pub part_id: Option<String>,
    pub language: String,
    pub requested_at: String,
    pub updated_at: String,
    pub closed_at: Option<String>,
    pub closed_by: Option<ClosedBy>,
    pub closed_by_agent_id: Option<String>,
    pub close_reason: Option<String>,
    pub agent_id: Option<String>,
    pub state_version: u64,
    /// Unix seconds until which the agent / the visitor shows as typing (0: not typing).
    pub agent_typing_until: u64,
    pub visitor_typing_until: u64,
    pub feedback_status: Option<FeedbackStatus>,
    pub feedback_rating: Option<u8>,
    pub feedback_comment: Option<String>,
    /// `visitor` or `agent`: who wrote the last livechat message (the `turn` filter).
    pub last_author: Option<String>,
    /// Livechat messages written in the session.
    pub message_count: u64,
}

/// A stored attachment's description (the bytes come separately).
#[derive(Debug, Clone, PartialEq)]
pub struct AttachmentMeta {
    pub id: String,
    pub key: ConversationKey,
    pub session_id: String,
    pub filename: String,
    pub mime_type: String,
    pub size_bytes: u64,
    /// Unix seconds.
    pub created_at: u64,
}

/// A visitor's rating of their conversation (the latest one counts).
#[derive(Debug, Clone)]
pub struct Rating {
    pub chatbot_id: String,
    pub visitor_id: String,
    pub rating: u8,
    pub feedback: Option<String>,
    pub created_at: String,
}

/// A completed contact form or support ticket.
#[derive(Debug, Clone)]
pub struct Submission {
    pub action_id: String,
    pub chatbot_id: String,
    pub visitor_id: String,
    pub part_id: String,
    pub action: Action,
}

/// One event on its way to (or delivered to) the chatbot's endpoint.
#[derive(Debug, Clone, PartialEq)]
pub struct OutboxEvent {
    pub event_id: String,
    pub chatbot_id: String,
    pub event_type: String,
    /// The JSON body, as signed and sent.
    pub payload: String,
    /// Unix seconds.
    pub created_at: u64,
    /// `pending` (to be tried, or retried), `delivered`, `failed` (attempts used up), `dead`
    /// (expired without delivery).
    pub state: String,
    pub attempts: u32,
    pub next_attempt_at: u64,
    pub delivered_at: Option<u64>,
}

/// One HTTP delivery attempt.
#[derive(Debug, Clone, PartialEq)]
pub struct Attempt {
    pub delivery_id: String,
    pub event_id: String,
    pub attempt: u32,
    /// Unix milliseconds.
    pub at_ms: u64,
    pub status: Option<u16>,
    pub error: Option<String>,
    pub duration_ms: u64,
}

/// Counts for the metrics (the store's `ops_counts`).
#[derive(Debug, Default)]
pub struct OpsCounts {
    /// `(status, sessions)`, e.g. `("waiting", 2)`.
    pub sessions: Vec<(String, u64)>,
    /// Webhook events pending delivery.
    pub webhook_queue: u64,
}
