//! Outbound webhooks, seed 002 ("Webhook events and signing", "Webhook event replay"): the
//! endpoint configuration (`GET|PUT /api/v1/chat/webhooks`) and the event listing, detail and
//! replay bodies (`/api/v1/chat/events`). The events themselves are JSON documented in
//! docs/protocol.md.

use serde::{Deserialize, Serialize};

/// A chatbot's webhook delivery (`PUT /api/v1/chat/webhooks`, or `[chatbot.webhooks]`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct WebhookConfig {
    /// `https://…`; `http://` only for loopback hosts (development and tests).
    pub url: String,
    /// The signing secret (`x-di-signature`).
    pub secret: String,
    /// Event types to send; empty or absent: all. The required ones are always added.
    #[serde(default)]
    pub events: Vec<String>,
    /// `live` or `test`: the environment of the API key that set it (`x-di-environment`).
    #[serde(default = "live")]
    pub environment: String,
}

fn live() -> String {
    "live".into()
}

/// `GET /api/v1/chat/webhooks`: the configuration with the secret masked.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct WebhookView {
    pub url: String,
    /// `••••` and the last four characters.
    pub secret: String,
    pub events: Vec<String>,
    pub environment: String,
    /// Kept in `events` whatever is sent.
    pub required_events: Vec<String>,
}

/// One event in `GET /api/v1/chat/events`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct EventSummary {
    pub event_id: String,
    #[serde(rename = "type")]
    pub event_type: String,
    pub created_at: String,
    /// `pending`, `delivered`, `failed` (attempts used up) or `dead` (expired undelivered).
    pub state: String,
    pub attempts: u32,
    pub delivered_at: Option<String>,
}

/// `GET /api/v1/chat/events?type=&state=&limit=&before=`, newest first.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct EventList {
    pub events: Vec<EventSummary>,
    /// More, older events: ask again with `before` = the last event's id.
    pub has_more: bool,
}

/// One HTTP delivery attempt.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AttemptView {
    pub delivery_id: String,
    pub attempt: u32,
    pub at: String,
    pub status_code: Option<u16>,
    pub error: Option<String>,
    pub duration_ms: u64,
}

/// `GET /api/v1/chat/events/{event_id}`: the event, its payload and its attempts.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct EventDetail {
    #[serde(flatten)]
    pub event: EventSummary,
    pub payload: serde_json::Value,
    pub delivery_attempts: Vec<AttemptView>,
}
