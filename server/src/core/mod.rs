//! The conversation core every protocol adapter shares. No axum here: adapters decode their wire
//! format into calls on [`Core`], subscribe to a conversation's [`hub`] and encode events back.
//!
//! - [`conversation`]: post a visitor message (answered by a [`responder`]), history, actions,
//!   rating, identify, delete.
//! - [`livechat`]: seed 002's livechat state machine, agents, availability, attachments.
//! - [`hub`]: per-conversation broadcast of conversation events, behind a trait.
//! - [`validation`], [`rate_limit`], [`classify`].

pub mod actions;
pub mod classify;
pub mod conversation;
pub mod error;
pub mod hub;
pub mod identity;
pub mod livechat;
pub mod rate_limit;
pub mod responder;
pub mod validation;

use std::sync::Arc;
use std::time::Duration;

pub use crate::model::{Clock, ConversationKey};
pub use error::CoreError;

use crate::model::Chatbot;
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
    /// What each chatbot knows (its FAQ documents and catalogue), by chatbot id.
    pub knowledge: std::collections::HashMap<String, Arc<responder::knowledge::KnowledgeBase>>,
}

impl Core {
    /// The core of a server with these chatbots: each one's knowledge loaded and its agent
    /// profiles written to the store. Fails, naming the chatbot, when a knowledge base does not
    /// load or the store refuses the profiles.
    pub fn new(
        settings: CoreSettings,
        chatbots: Vec<Chatbot>,
        store: Store,
        hub: Arc<dyn hub::Hub>,
        clock: Clock,
        scripted_replies: Vec<responder::scripted::ScriptedReply>,
    ) -> Result<Core, String> {
        let mut knowledge = std::collections::HashMap::new();
        for bot in &chatbots {
            let files = &bot.knowledge_base;
            let kb = responder::knowledge::KnowledgeBase::load(&files.faq, &files.catalogue)
                .map_err(|e| format!("chatbot {}: knowledge_base: {e}", bot.id))?;
            knowledge.insert(bot.id.clone(), Arc::new(kb));
            for agent in &bot.agents {
                store.put_agent(&bot.id, agent).map_err(|e| {
                    format!("chatbot {}: agent {} not stored: {e}", bot.id, agent.agent_id)
                })?;
            }
        }
        Ok(Core {
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
            knowledge,
        })
    }

    pub fn chatbot(&self, id: &str) -> Option<&Chatbot> {
        self.chatbots.iter().find(|c| c.id == id)
    }

    /// What the chatbot knows.
    pub fn knowledge_of(
        &self,
        chatbot_id: &str,
    ) -> Result<&Arc<responder::knowledge::KnowledgeBase>, CoreError> {
        self.knowledge
            .get(chatbot_id)
            .ok_or_else(|| CoreError::NotFound("No such chatbot".into()))
    }

    pub(crate) fn chatbot_of(&self, key: &ConversationKey) -> Result<&Chatbot, CoreError> {
        self.chatbot(&key.chatbot_id)
            .ok_or_else(|| CoreError::NotFound("No such chatbot".into()))
    }
}
