//! The conversation core every protocol adapter shares, a crate of its own so that the compiler
//! keeps the layers: no axum and no database here (neither is a dependency). The server's
//! adapters decode their wire format into calls on [`Core`], subscribe to a conversation's
//! [`hub`] and encode events back; its store implements the traits of [`store`]. Within this
//! crate, [`model`] is the leaf (docs/architecture.md).
//!
//! - [`model`]: the domain's plain types, a leaf that imports nothing else of the crate.
//! - [`conversation`]: post a visitor message (answered by a [`responder`]), history, rating,
//!   identify, classification, delete.
//! - [`feedback`]: the visitor's vote on one answer, and the next step after "not helpful".
//! - [`actions`]: seed 000's custom API actions.
//! - [`livechat`]: seed 002's livechat: the visitor's side, the agents' side, the site owner's
//!   setup, attachments.
//! - [`outbox`]: outbound webhooks: events kept, signed and delivered.
//! - [`hub`]: per-conversation broadcast of conversation events, behind a trait.
//! - [`store`]: what the core needs from a store, one trait per concern.
//! - [`identity`], [`validation`], [`rate_limit`], [`classify`].

pub mod actions;
pub mod classify;
pub mod conversation;
pub mod error;
pub mod feedback;
pub mod hub;
pub mod identity;
pub mod knowledge;
pub mod livechat;
pub mod model;
pub mod outbox;
pub mod rate_limit;
pub mod responder;
pub mod store;
pub mod validation;

use std::sync::Arc;
use std::time::Duration;

pub use crate::model::{Clock, ConversationKey};
pub use error::CoreError;

use crate::model::Chatbot;
use store::Store;

/// How the core behaves (the server fills it from its own settings).
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
    /// How the chatbots' sources are fetched and re-synced.
    pub sources: knowledge::sync::SourceSettings,
}

/// Everything a conversation needs, shared by every adapter. Its fields are its own: adapters
/// call its methods.
pub struct Core {
    settings: CoreSettings,
    chatbots: Vec<Chatbot>,
    /// Conversations, submissions, ratings, identities, classifications, livechat, the webhook
    /// outbox (SQLite or PostgreSQL, behind [`store::Store`]).
    store: Arc<dyn Store>,
    hub: Arc<dyn hub::Hub>,
    clock: Clock,
    limiter: rate_limit::RateLimiter,
    /// Asked in order; the first that answers a visitor message does.
    responders: Vec<Arc<dyn responder::Responder>>,
    /// Wakes the webhook worker when an event is queued.
    webhook_wake: tokio::sync::Notify,
    /// Outbound HTTP: custom API actions (and a language model's API).
    http: reqwest::Client,
    /// What each chatbot knows, rebuilt when its sources change (`knowledge::sync`).
    library: knowledge::sync::Library,
    /// Classifications being made, by answer id (`conversation`).
    classifying: conversation::Classifying,
}

/// A read that a webhook payload or a prompt can do without: its value, or (logged) the
/// default. A failing database never stops an event from going out or an answer from being
/// written; it shows in the log instead of silently shortening them.
pub(crate) fn logged<T: Default>(what: &str, read: Result<T, crate::model::StoreError>) -> T {
    read.unwrap_or_else(|e| {
        tracing::warn!("{what}: {e}; going on without it");
        T::default()
    })
}

impl Core {
    /// The core of a server with these chatbots: each one's knowledge loaded and its agent
    /// profiles written to the store. Fails, naming the chatbot, when a knowledge base does not
    /// load or the store refuses the profiles.
    pub fn new(
        settings: CoreSettings,
        chatbots: Vec<Chatbot>,
        store: Arc<dyn Store>,
        hub: Arc<dyn hub::Hub>,
        clock: Clock,
        scripted_replies: Vec<responder::scripted::ScriptedReply>,
    ) -> Result<Core, String> {
        for bot in &chatbots {
            for agent in &bot.agents {
                store.put_agent(&bot.id, agent).map_err(|e| {
                    format!(
                        "chatbot {}: agent {} not stored: {e}",
                        bot.id, agent.agent_id
                    )
                })?;
            }
        }
        let core = Core {
            settings,
            chatbots,
            store,
            hub,
            clock,
            limiter: Default::default(),
            responders: vec![
                Arc::new(responder::Scripted(scripted_replies)),
                Arc::new(responder::model::ModelResponder),
                Arc::new(responder::DemoBot),
            ],
            webhook_wake: tokio::sync::Notify::new(),
            // No redirects: an action calls its configured URL and nowhere else.
            http: reqwest::Client::builder()
                .redirect(reqwest::redirect::Policy::none())
                .build()
                .map_err(|e| format!("an HTTP client: {e}"))?,
            library: Default::default(),
            classifying: Default::default(),
        };
        core.install_config_sources()?;
        Ok(core)
    }

    pub fn chatbots(&self) -> &[Chatbot] {
        &self.chatbots
    }

    pub fn settings(&self) -> &CoreSettings {
        &self.settings
    }

    /// The server's public origin (image and product URLs, attachment links).
    pub fn public_base(&self) -> &str {
        &self.settings.public_base
    }

    pub fn clock(&self) -> &Clock {
        &self.clock
    }

    /// Attach to a conversation: what happens in it from now on, whichever adapter caused it.
    pub fn subscribe(
        &self,
        key: &ConversationKey,
    ) -> tokio::sync::broadcast::Receiver<hub::ConversationEvent> {
        self.hub.subscribe(key)
    }

    /// Tell whoever is attached to `key` (an adapter's own event, such as a visitor typing on a
    /// socket).
    pub fn publish(&self, key: &ConversationKey, event: hub::ConversationEvent) {
        self.hub.publish(key, event)
    }

    /// Whether the database answers and is migrated (`/readyz`).
    pub fn ready(&self) -> Result<(), crate::model::StoreError> {
        self.store.ready()
    }

    /// What `/metrics` reads from the database.
    pub fn ops_counts(&self) -> Result<crate::model::OpsCounts, crate::model::StoreError> {
        self.store.ops_counts()
    }

    pub fn chatbot(&self, id: &str) -> Option<&Chatbot> {
        self.chatbots.iter().find(|c| c.id == id)
    }

    /// The chatbot of a conversation (`404` when there is none).
    pub fn chatbot_of(&self, key: &ConversationKey) -> Result<&Chatbot, CoreError> {
        self.chatbot(&key.chatbot_id)
            .ok_or_else(|| CoreError::NotFound("No such chatbot".into()))
    }
}
