//! The conversation core every protocol adapter shares. No axum here: adapters decode their wire
//! format into calls on [`Core`], subscribe to a conversation's [`hub`] and encode events back.
//!
//! - [`ids`]: the conversation key (chatbot id + visitor id), ids, timestamps.
//! - [`clock`]: the time, injectable so tests move it.
//! - [`conversation`]: post a visitor message (answered by a [`responder`]), history, actions,
//!   rating, identify, delete.
//! - [`livechat`]: seed 002's livechat state machine, agents, availability, attachments.
//! - [`hub`]: per-conversation broadcast of conversation events, behind a trait.
//! - [`validation`], [`rate_limit`], [`classify`].

pub mod actions;
pub mod classify;
pub mod clock;
pub mod conversation;
pub mod error;
pub mod hub;
pub mod identity;
pub mod ids;
pub mod livechat;
pub mod rate_limit;
pub mod responder;
pub mod validation;

use std::sync::Arc;
use std::time::Duration;

pub use clock::Clock;
pub use error::CoreError;
pub use ids::ConversationKey;

use crate::config::Chatbot;
use crate::store::Store;

/// How the core behaves; filled from [`crate::ServerConfig`].
#[derive(Debug, Clone)]
pub struct CoreSettings {
    /// The server's public origin (image and product URLs, attachment links).
    pub public_base: String,
    /// Pause between streamed answer events (0 in tests).
    pub stream_delay: Duration,
    /// How long classifying a conversation takes after an answer.
    pub classify_delay: Duration,
    /// Lifetime of a livechat session (agent) token.
    pub livechat_token_ttl: Duration,
    /// Lifetime of a signed attachment URL.
    pub attachment_url_ttl: Duration,
    /// Key that signs attachment URLs.
    pub secret: Vec<u8>,
    /// Webhook retries: the first wait (doubling each time), the attempts in all, and the time
    /// one attempt may take.
    pub webhook_retry_base: Duration,
    pub webhook_max_attempts: u32,
    pub webhook_timeout: Duration,
}

/// Everything a conversation needs, shared by every adapter.
pub struct Core {
    pub settings: CoreSettings,
    pub chatbots: Vec<Chatbot>,
    /// Conversations, submissions, ratings, identities, classifications, livechat (SQLite or PostgreSQL).
    pub store: Store,
    pub hub: Arc<dyn hub::Hub>,
    pub clock: Clock,
    pub limiter: rate_limit::RateLimiter,
    /// Asked in order; the first that answers a visitor message does.
    pub responders: Vec<Arc<dyn responder::Responder>>,
    /// Wakes the webhook worker when an event is queued.
    pub webhook_wake: tokio::sync::Notify,
    /// Outbound HTTP: custom API actions (and a language model's API).
    pub http: reqwest::Client,
}

impl Core {
    pub fn chatbot(&self, id: &str) -> Option<&Chatbot> {
        self.chatbots.iter().find(|c| c.id == id)
    }

    pub(crate) fn chatbot_of(&self, key: &ConversationKey) -> Result<&Chatbot, CoreError> {
        self.chatbot(&key.chatbot_id)
            .ok_or_else(|| CoreError::NotFound("No such chatbot".into()))
    }
}
