//! Outbound webhooks, seed 002 ("Webhook events and signing", "Webhook event replay"): every
//! event is persisted in an outbox before the first attempt ([`crate::store::OutboxStore`]), signed
//! ([`signing`]), and delivered by a background worker with retries ([`delivery`]); API-key
//! callers list, inspect and replay events for 30 days.
//!
//! Payload (our decision where the seed is silent; docs/protocol.md):
//! `{"event_id", "type", "created_at", "environment", "chatbot": {"id"}, …event fields}`.

pub mod delivery;
pub mod events;
pub mod signing;

use serde_json::{Value, json};

use crate::model::ids;
use crate::model::{Attempt, OutboxEvent};
use crate::{Core, CoreError};

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

    /// A page of the chatbot's events of the last [`RETENTION_SECS`], newest first, optionally
    /// of one type and state; `before`: an event id from the previous page. One more than
    /// `limit` tells the caller there is another page.
    pub fn webhook_events(
        &self,
        chatbot_id: &str,
        event_type: Option<&str>,
        state: Option<&str>,
        before: Option<&str>,
        limit: usize,
    ) -> Result<Vec<OutboxEvent>, CoreError> {
        let since = self.clock.unix().saturating_sub(RETENTION_SECS);
        Ok(self
            .store
            .webhook_events(chatbot_id, since, event_type, state, before, limit)?)
    }

    /// One of the chatbot's unexpired events.
    pub fn webhook_event(
        &self,
        chatbot_id: &str,
        event_id: &str,
    ) -> Result<Option<OutboxEvent>, CoreError> {
        let since = self.clock.unix().saturating_sub(RETENTION_SECS);
        Ok(self.store.webhook_event(chatbot_id, event_id, since)?)
    }

    /// The delivery attempts of one of the chatbot's unexpired events (`None`: no such event).
    pub fn webhook_attempts(
        &self,
        chatbot_id: &str,
        event_id: &str,
    ) -> Result<Option<Vec<Attempt>>, CoreError> {
        if self.webhook_event(chatbot_id, event_id)?.is_none() {
            return Ok(None);
        }
        Ok(Some(self.store.webhook_attempts(event_id)?))
    }

    /// Deliver one of the chatbot's events again now, with the same `event_id`; the event as it
    /// is then (`None`: no such event).
    pub fn replay_webhook(
        &self,
        chatbot_id: &str,
        event_id: &str,
    ) -> Result<Option<OutboxEvent>, CoreError> {
        if self.webhook_event(chatbot_id, event_id)?.is_none() {
            return Ok(None);
        }
        self.store.replay_webhook(event_id, self.clock.unix_ms())?;
        self.webhook_wake.notify_one();
        self.webhook_event(chatbot_id, event_id)
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
