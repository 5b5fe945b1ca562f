//! The domain's plain types, a leaf: nothing here imports anything else of the crate, and every
//! other layer may import it (docs/architecture.md).
//!
//! - [`ids`]: the conversation key (chatbot id + visitor id), ids, timestamps.
//! - [`clock`]: the time, injectable so tests move it.
//! - [`chatbot`]: a chatbot's settings as checked domain values (the configuration file's
//!   parser produces them).
//! - [`records`]: what the store keeps and returns (livechat sessions, attachments, ratings,
//!   submissions, webhook outbox events).
//! - [`database`]: where the rows are kept (SQLite file or PostgreSQL URL).
//! - [`error`]: [`StoreError`], a database failure with its kind and cause.
//! - [`webhook`]: seed 002's webhook events ([`WebhookEvent`]) and the configuration's rules.
//! - [`livechat`]: livechat settings' rules and when livechat is live.
//! - [`i18n`]: the widget's languages and words.
//! - [`knowledge`]: a chatbot's sources and the documents and passages they yield.

pub mod chatbot;
pub mod clock;
pub mod database;
pub mod error;
pub mod i18n;
pub mod ids;
pub mod knowledge;
pub mod livechat;
pub mod records;
pub mod webhook;

pub use chatbot::{Action, Chatbot, Launcher, ModelConfig, RateLimit};
pub use clock::Clock;
pub use database::Database;
pub use error::{StoreError, StoreErrorKind};
pub use ids::ConversationKey;
pub use records::{AttachmentMeta, Attempt, OpsCounts, OutboxEvent, Rating, Session, Submission};
pub use webhook::WebhookEvent;
