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

use serde_json::{Value, json};

use crate::core::{Core, CoreError};
use crate::model::ids;
use crate::model::OutboxEvent;

pub use crate::model::webhook::{Normalize, RETENTION_SECS, WebhookEvent, acceptable_url, view};
pub use dgbot_protocol::webhooks::{WebhookConfig, WebhookView};

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
        let config = config.normalized().map_err(CoreError::Validation)?;
        self.store.put_webhook_config(chatbot_id, &config)?;
        Ok(config)
    }

    /// Queue `event` with `fields` for the chatbot's endpoint, if it has one that
    /// wants it. Stored before anything is sent; a failure here is logged and never fails the
    /// visitor's or the agent's request.
    pub fn emit(&self, chatbot_id: &str, event: WebhookEvent, fields: Value) {
        let config = match self.webhook_config(chatbot_id) {
            Ok(Some(c)) if c.wants(event) => c,
            Ok(_) => return,
            Err(e) => {
                tracing::warn!("webhook {event} not queued: {e}");
                return;
            }
        };
        let now = self.clock.unix();
        let event_id = ids::new_id("evt");
        let mut payload = json!({
            "event_id": event_id,
            "type": event.as_str(),
            "created_at": ids::rfc3339(now),
            "environment": config.environment,
            "chatbot": { "id": chatbot_id },
        });
        if let (Some(p), Value::Object(f)) = (payload.as_object_mut(), fields) {
            p.extend(f);
        }
        let outbox = OutboxEvent {
            event_id,
            chatbot_id: chatbot_id.to_owned(),
            event_type: event.as_str().to_owned(),
            payload: payload.to_string(),
            created_at: now,
            state: "pending".into(),
            attempts: 0,
            next_attempt_at: self.clock.unix_ms(),
            delivered_at: None,
        };
        match self.store.enqueue_webhook(&outbox) {
            Ok(()) => self.webhook_wake.notify_one(),
            Err(e) => tracing::warn!("webhook {event} not queued: {e}"),
        }
    }
}
