//! Outbound webhooks, seed 002 ("Webhook events and signing", "Webhook event replay"): every
//! event is persisted in an outbox before the first attempt ([`crate::store::webhooks`]), signed
//! ([`signing`]), and delivered by a background worker with retries ([`delivery`]); API-key
//! callers list, inspect and replay events for 30 days.
//!
//! Payload (our decision where the seed is silent; docs/protocol.md):
//! `{"event_id", "type", "created_at", "environment", "chatbot": {"id"}, …event fields}`.

pub mod delivery;
pub mod events;
pub mod signing;

use dgbot_protocol::api::FieldError;
use serde_json::{Value, json};

use crate::core::{Core, CoreError, ids};
use crate::store::webhooks::OutboxEvent;

pub const HANDOVER_REQUESTED: &str = "livechat.handover.requested";
pub const WAITING_CUSTOMER_MESSAGE: &str = "livechat.waiting.customer.message.created";
pub const WAITING_ASSISTANT_MESSAGE: &str = "livechat.waiting.assistant.message.created";
pub const CUSTOMER_MESSAGE: &str = "livechat.customer.message.created";
pub const CUSTOMER_TYPING_STARTED: &str = "livechat.customer.typing.started";
pub const CUSTOMER_TYPING_STOPPED: &str = "livechat.customer.typing.stopped";
pub const SESSION_CLOSED: &str = "livechat.session.closed";
pub const FEEDBACK_SUBMITTED: &str = "livechat.feedback.submitted";
pub const VISITOR_DATA_DELETED: &str = "visitor.data.deleted";

/// Every event type, in the seed's order.
pub const EVENT_TYPES: [&str; 9] = [
    HANDOVER_REQUESTED,
    WAITING_CUSTOMER_MESSAGE,
    WAITING_ASSISTANT_MESSAGE,
    CUSTOMER_MESSAGE,
    CUSTOMER_TYPING_STARTED,
    CUSTOMER_TYPING_STOPPED,
    SESSION_CLOSED,
    FEEDBACK_SUBMITTED,
    VISITOR_DATA_DELETED,
];

/// Always in the subscription while delivery is on, whatever the caller sends (seed: "Required
/// livechat events are always kept … so the downstream system can maintain a coherent session
/// state"): a session starts, the visitor writes (waiting or active), a session ends.
pub const REQUIRED_EVENTS: [&str; 4] = [
    HANDOVER_REQUESTED,
    WAITING_CUSTOMER_MESSAGE,
    CUSTOMER_MESSAGE,
    SESSION_CLOSED,
];

/// Events are kept (listable, fetchable, replayable) this long after creation.
pub const RETENTION_SECS: u64 = 30 * 86_400;

pub use dgbot_protocol::webhooks::{WebhookConfig, WebhookView};

/// Whether `url` may receive webhooks: https, or http to a loopback host.
pub fn acceptable_url(url: &str) -> bool {
    let Some((scheme, rest)) = url.split_once("://") else {
        return false;
    };
    let host = rest.split(['/', '?', '#']).next().unwrap_or("");
    let host = host.rsplit_once('@').map_or(host, |(_, h)| h);
    let name = if host.starts_with('[') {
        host.split(']')
            .next()
            .map(|h| format!("{h}]"))
            .unwrap_or_default()
    } else {
        host.split(':').next().unwrap_or("").to_owned()
    };
    match scheme {
        "https" => !name.is_empty(),
        "http" => matches!(name.as_str(), "localhost" | "[::1]") || name.starts_with("127."),
        _ => false,
    }
}

/// Checks and completes a configuration.
pub trait Normalize: Sized {
    /// Checked, with the required events added and the list in the seed's order.
    fn normalized(self) -> Result<Self, CoreError>;
    fn wants(&self, event_type: &str) -> bool;
}

impl Normalize for WebhookConfig {
    fn normalized(mut self) -> Result<WebhookConfig, CoreError> {
        let mut errors = vec![];
        if !acceptable_url(&self.url) {
            errors.push(FieldError {
                field: "url".into(),
                message: "Use an https:// URL (http:// only for localhost or 127.0.0.1)".into(),
            });
        }
        if self.secret.len() < 16 {
            errors.push(FieldError {
                field: "secret".into(),
                message: "Use a signing secret of at least 16 characters".into(),
            });
        }
        for (i, e) in self.events.iter().enumerate() {
            if !EVENT_TYPES.contains(&e.as_str()) {
                errors.push(FieldError {
                    field: format!("events.{i}"),
                    message: format!("Unknown event type; use one of {}", EVENT_TYPES.join(", ")),
                });
            }
        }
        if !matches!(self.environment.as_str(), "live" | "test") {
            errors.push(FieldError {
                field: "environment".into(),
                message: "Use live or test".into(),
            });
        }
        if !errors.is_empty() {
            return Err(CoreError::Validation(errors));
        }
        let all = self.events.is_empty();
        self.events = EVENT_TYPES
            .iter()
            .filter(|t| all || REQUIRED_EVENTS.contains(t) || self.events.iter().any(|e| e == *t))
            .map(|t| (*t).to_owned())
            .collect();
        Ok(self)
    }

    fn wants(&self, event_type: &str) -> bool {
        self.events.iter().any(|e| e == event_type)
    }
}

/// The configuration as `GET /api/v1/chat/webhooks` shows it: the secret masked.
pub fn view(c: &WebhookConfig) -> WebhookView {
    {
        let tail: String = c
            .secret
            .chars()
            .rev()
            .take(4)
            .collect::<Vec<_>>()
            .into_iter()
            .rev()
            .collect();
        WebhookView {
            url: c.url.clone(),
            secret: format!("••••{tail}"),
            events: c.events.clone(),
            environment: c.environment.clone(),
            required_events: REQUIRED_EVENTS.iter().map(|e| (*e).to_owned()).collect(),
        }
    }
}

impl Core {
    /// The chatbot's webhook delivery: set through the API (kept in the database), else the
    /// configuration file's; `None` when it has none.
    pub fn webhook_config(&self, chatbot_id: &str) -> Result<Option<WebhookConfig>, CoreError> {
        if let Some(c) = self.store.webhook_config(chatbot_id)? {
            return Ok(Some(c));
        }
        Ok(self.chatbot(chatbot_id).and_then(|c| c.webhooks.clone()))
    }

    pub fn put_webhook_config(
        &self,
        chatbot_id: &str,
        config: WebhookConfig,
    ) -> Result<WebhookConfig, CoreError> {
        let config = config.normalized()?;
        self.store.put_webhook_config(chatbot_id, &config)?;
        Ok(config)
    }

    /// Queue event `event_type` with `fields` for the chatbot's endpoint, if it has one that
    /// wants it. Stored before anything is sent; a failure here is logged and never fails the
    /// visitor's or the agent's request.
    pub fn emit(&self, chatbot_id: &str, event_type: &str, fields: Value) {
        let config = match self.webhook_config(chatbot_id) {
            Ok(Some(c)) if c.wants(event_type) => c,
            Ok(_) => return,
            Err(e) => {
                tracing::warn!("webhook {event_type} not queued: {e}");
                return;
            }
        };
        let now = self.clock.unix();
        let event_id = ids::new_id("evt");
        let mut payload = json!({
            "event_id": event_id,
            "type": event_type,
            "created_at": ids::rfc3339(now),
            "environment": config.environment,
            "chatbot": { "id": chatbot_id },
        });
        if let (Some(p), Value::Object(f)) = (payload.as_object_mut(), fields) {
            p.extend(f);
        }
        let event = OutboxEvent {
            event_id,
            chatbot_id: chatbot_id.to_owned(),
            event_type: event_type.to_owned(),
            payload: payload.to_string(),
            created_at: now,
            state: "pending".into(),
            attempts: 0,
            next_attempt_at: self.clock.unix_ms(),
            delivered_at: None,
        };
        match self.store.enqueue_webhook(&event) {
            Ok(()) => self.webhook_wake.notify_one(),
            Err(e) => tracing::warn!("webhook {event_type} not queued: {e}"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn urls_are_https_or_loopback() {
        assert!(acceptable_url("https://hooks.example.com/dgbot"));
        assert!(acceptable_url("http://127.0.0.1:9000/hook"));
        assert!(acceptable_url("http://localhost/hook"));
        assert!(acceptable_url("http://[::1]:8080/"));
        assert!(!acceptable_url("http://hooks.example.com/"));
        assert!(!acceptable_url("http://localhost.evil.com/"));
        assert!(!acceptable_url("http://127.0.0.1@evil.com/"));
        assert!(!acceptable_url("ftp://x"));
    }

    #[test]
    fn required_events_are_always_kept() {
        let c = WebhookConfig {
            url: "https://x.example".into(),
            secret: "0123456789abcdef".into(),
            events: vec![FEEDBACK_SUBMITTED.into()],
            environment: "live".into(),
        }
        .normalized()
        .unwrap();
        assert_eq!(
            c.events,
            [
                HANDOVER_REQUESTED,
                WAITING_CUSTOMER_MESSAGE,
                CUSTOMER_MESSAGE,
                SESSION_CLOSED,
                FEEDBACK_SUBMITTED
            ]
        );
        let all = WebhookConfig {
            events: vec![],
            ..c.clone()
        }
        .normalized()
        .unwrap();
        assert_eq!(all.events.len(), EVENT_TYPES.len());
        let bad = WebhookConfig {
            events: vec!["livechat.nope".into()],
            url: "http://x.example".into(),
            ..c
        }
        .normalized()
        .unwrap_err();
        let CoreError::Validation(errors) = bad else {
            panic!()
        };
        let fields: Vec<_> = errors.iter().map(|e| e.field.as_str()).collect();
        assert_eq!(fields, ["url", "events.0"]);
    }
}
