//! What the core needs from a store: one trait per concern, implemented by the server's `store` (SQLite
//! and PostgreSQL) the way its `store::hub` implements [`super::hub::Hub`]. The core holds a
//! `dyn` [`Store`] and never names a database; every call takes a [`ConversationKey`] or an id
//! and returns the model's records.

use dgbot_protocol::api::{AnswerFeedback, DeleteResponse, IdentifyRequest};
use dgbot_protocol::livechat::{LivechatSettings, LivechatStatus};
use dgbot_protocol::message::Author;
use dgbot_protocol::webhooks::WebhookConfig;
use dgbot_protocol::{Message, Part};

use super::CoreError;
use crate::model::knowledge::{DocumentRecord, SourceRecord, SourceStatus, Unanswered};
use crate::model::{
    AttachmentMeta, Attempt, ConversationKey, OpsCounts, OutboxEvent, RateLimit, Rating, Session,
    StoreError, Submission,
};

pub type Result<T> = std::result::Result<T, StoreError>;

/// Conversations: messages with their parts, form submissions, ratings, identities, topics.
pub trait ConversationStore {
    /// Keep `message`, written in livechat session `livechat_session_id` when given. With a
    /// `client_id` the visitor already used, nothing is written and this answers `false`.
    fn push_in(
        &self,
        key: &ConversationKey,
        livechat_session_id: Option<&str>,
        client_id: Option<&str>,
        message: &Message,
    ) -> Result<bool>;

    fn push(&self, key: &ConversationKey, message: &Message) -> Result<()> {
        self.push_in(key, None, None, message).map(|_| ())
    }

    /// Keep what an answer said before it failed: history like any message, but a retry of its
    /// question (the same client id) gets a new answer, not this one again.
    fn push_partial(&self, key: &ConversationKey, message: &Message) -> Result<()>;

    /// The visitor's message sent with `client_id`, and the message that came right after it
    /// (its answer, when there is one; an answer cut off by a failure does not count).
    fn by_client_id(
        &self,
        key: &ConversationKey,
        client_id: &str,
    ) -> Result<Option<(Message, Option<Message>)>>;

    /// The visitor's conversation, oldest first.
    fn messages(&self, key: &ConversationKey) -> Result<Vec<Message>>;

    /// The marker part with `part_id` in this visitor's conversation.
    fn find_part(&self, key: &ConversationKey, part_id: &str) -> Result<Option<Part>> {
        Ok(self
            .messages(key)?
            .into_iter()
            .flat_map(|m| m.parts)
            .find(|p| p.part_id() == Some(part_id)))
    }

    fn submit(&self, submission: &Submission) -> Result<()>;

    /// The visitor's form submissions, oldest first.
    fn submissions_of(&self, key: &ConversationKey) -> Result<Vec<Submission>>;

    /// Keep the visitor's rating, replacing an earlier one.
    fn rate(&self, rating: &Rating) -> Result<()>;

    /// Keep who the visitor is on the host site (the latest `identify` counts).
    fn identify(&self, key: &ConversationKey, user: &IdentifyRequest, verified: bool)
    -> Result<()>;

    /// The visitor's identity and whether it was verified.
    fn identity_of(&self, key: &ConversationKey) -> Result<Option<(IdentifyRequest, bool)>>;

    /// Keep the topic of the conversation after answer `message_id` (`None`: it failed).
    fn classified(
        &self,
        key: &ConversationKey,
        message_id: &str,
        topic: Option<&str>,
    ) -> Result<()>;

    /// The kept topic after answer `message_id` of this visitor: `Some(topic)` once
    /// classified, `None` when there is none.
    fn classification(
        &self,
        key: &ConversationKey,
        message_id: &str,
    ) -> Result<Option<Option<String>>>;

    /// Keep the visitor's vote on answer `message_id`, replacing an earlier one, in one
    /// transaction. `next` (the id of a message offering the next step) is kept only when the
    /// answer has none yet. Returns the vote replaced, and whether `next` was kept (`false`:
    /// the answer offered a next step before, or none was given).
    fn put_answer_feedback(
        &self,
        key: &ConversationKey,
        message_id: &str,
        feedback: &AnswerFeedback,
        next: Option<&str>,
    ) -> Result<(Option<AnswerFeedback>, bool)>;

    /// The visitor's votes, by the id of the answer they are on.
    fn answer_feedback(
        &self,
        key: &ConversationKey,
    ) -> Result<std::collections::HashMap<String, AnswerFeedback>>;

    /// Remove message `message_id` of the visitor's conversation and every message after it,
    /// with their votes and topics, in one transaction; how many messages went (0: no such
    /// message).
    fn delete_from(&self, key: &ConversationKey, message_id: &str) -> Result<usize>;

    /// Remove everything kept about the visitor, in one transaction; what was removed.
    fn delete_visitor(&self, key: &ConversationKey) -> Result<DeleteResponse>;
}

/// Livechat: sessions, agent tokens, agent profiles, settings changed through the API,
/// attachments.
pub trait LivechatStore {
    /// The visitor's current or last session.
    fn latest_session(&self, key: &ConversationKey) -> Result<Option<Session>>;

    fn session(&self, id: &str) -> Result<Option<Session>>;

    /// Start `new` unless the visitor has a waiting or active session, which is returned
    /// instead (`false`: nothing was created). The new session's `state_version` continues
    /// from the visitor's last one, so a client's version never goes back.
    fn start_session(&self, new: Session) -> Result<(Session, bool)>;

    /// Change session `id` with `change`, atomically (the row locked, so that two agents
    /// racing for one session, on one instance or two, cannot both win): `change` sees the
    /// current row and either edits it (then it is written with `state_version` one higher)
    /// or refuses with its own error. `Ok(None)`: no such session.
    fn update_session(
        &self,
        id: &str,
        change: &mut dyn FnMut(&mut Session) -> std::result::Result<(), CoreError>,
    ) -> std::result::Result<Option<Session>, CoreError>;

    /// Keep a livechat message and mark who wrote last; the session's new `state_version`,
    /// or `None` when the visitor sent this `client_id` before.
    fn push_livechat(
        &self,
        session: &Session,
        author: &str,
        client_id: Option<&str>,
        message: &Message,
    ) -> Result<Option<u64>>;

    /// Livechat messages of the visitor (all sessions), oldest first; only those after
    /// message `after` when given (an unknown id: all of them).
    fn livechat_messages(&self, key: &ConversationKey, after: Option<&str>)
    -> Result<Vec<Message>>;

    /// The chatbot's sessions, newest first, optionally in one state.
    fn sessions(&self, chatbot_id: &str, status: Option<LivechatStatus>) -> Result<Vec<Session>>;

    /// Keep an agent token (as its hash) for session `session_id` until `expires_at`.
    fn add_session_token(&self, token_hash: &str, session_id: &str, expires_at: u64) -> Result<()>;

    /// The session and expiry of the token with this hash.
    fn session_token(&self, token_hash: &str) -> Result<Option<(String, u64)>>;

    fn put_agent(&self, chatbot_id: &str, agent: &Author) -> Result<()>;
    fn agent(&self, chatbot_id: &str, agent_id: &str) -> Result<Option<Author>>;

    /// Settings changed through the API (they win over the configuration file's).
    fn livechat_settings(&self, chatbot_id: &str) -> Result<Option<LivechatSettings>>;
    fn put_livechat_settings(&self, chatbot_id: &str, settings: &LivechatSettings) -> Result<()>;

    fn put_attachment(&self, meta: &AttachmentMeta, data: &[u8]) -> Result<()>;
    fn attachment(&self, id: &str) -> Result<Option<(AttachmentMeta, Vec<u8>)>>;
    /// Delete the chatbot's attachments created before `before` (Unix seconds); how many.
    fn purge_attachments(&self, chatbot_id: &str, before: u64) -> Result<usize>;
}

/// The webhook outbox: endpoints set through the API, events (kept before their first
/// attempt), their attempts.
pub trait OutboxStore {
    fn webhook_config(&self, chatbot_id: &str) -> Result<Option<WebhookConfig>>;
    fn put_webhook_config(&self, chatbot_id: &str, config: &WebhookConfig) -> Result<()>;
    fn enqueue_webhook(&self, event: &OutboxEvent) -> Result<()>;

    /// Pending events due by `now`, oldest first, claimed: their next attempt moves `lease`
    /// ahead, so that a second worker (of this instance or another) does not send them twice.
    fn claim_due_webhooks(&self, now: u64, lease: u64, limit: usize) -> Result<Vec<OutboxEvent>>;

    /// The earliest next attempt of a pending event (the worker sleeps until then).
    fn next_webhook_due(&self) -> Result<Option<u64>>;

    /// Record an attempt and the event's new state.
    fn webhook_attempted(
        &self,
        attempt: &Attempt,
        state: &str,
        next_attempt_at: u64,
        delivered_at: Option<u64>,
    ) -> Result<()>;

    /// An event of `chatbot_id` created after `since` (older ones have expired).
    fn webhook_event(
        &self,
        chatbot_id: &str,
        event_id: &str,
        since: u64,
    ) -> Result<Option<OutboxEvent>>;

    /// Any event by id, expired or not.
    fn webhook_event_any(&self, event_id: &str) -> Result<Option<OutboxEvent>>;

    fn webhook_attempts(&self, event_id: &str) -> Result<Vec<Attempt>>;

    /// A page of a chatbot's unexpired events, newest first, optionally of one type and state;
    /// `before`: an event id from the previous page.
    #[allow(clippy::too_many_arguments)]
    fn webhook_events(
        &self,
        chatbot_id: &str,
        since: u64,
        event_type: Option<&str>,
        state: Option<&str>,
        before: Option<&str>,
        limit: usize,
    ) -> Result<Vec<OutboxEvent>>;

    /// Deliver event `event_id` again (`pending`, due at `now`).
    fn replay_webhook(&self, event_id: &str, now: u64) -> Result<()>;

    /// Events created before `expired_before` that were never delivered become `dead`; those
    /// created before `delete_before` are removed with their attempts. `(dead, deleted)`.
    fn expire_webhooks(&self, expired_before: u64, delete_before: u64) -> Result<(usize, usize)>;
}

/// Rate limits that hold across instances.
pub trait LimitStore {
    /// Count one `what` request of (`scope`, `who`) at `now_ms` against `limit`, where the
    /// store is shared by several instances: `Some(Err(seconds to wait))` when over it (then
    /// nothing is counted). `None` when the store is one process's own (SQLite): the core
    /// counts in memory, which is cheaper.
    fn rate_hit(
        &self,
        scope: &str,
        who: &str,
        what: &str,
        limit: RateLimit,
        now_ms: u64,
    ) -> Option<Result<std::result::Result<(), u64>>>;
}

/// What operators ask of the database.
pub trait HealthStore {
    /// The database answers, every migration is applied, the tables the requests use are there.
    fn ready(&self) -> Result<()>;
    /// Livechat sessions by state and the webhook events waiting for delivery (`/metrics`).
    fn ops_counts(&self) -> Result<OpsCounts>;
}

/// What each chatbot knows: its sources, the documents they yield, and the questions it could
/// not answer. Every instance builds its index from here; syncs are claimed with a lease, so
/// with several instances on one database each source is fetched by one of them.
pub trait KnowledgeStore {
    /// Add a source, or replace one of the same id (the configuration's, on start) with its
    /// status, counts and documents kept when its spec did not change.
    fn put_source(&self, source: &SourceRecord) -> Result<()>;
    /// A chatbot's sources, oldest first.
    fn sources(&self, chatbot_id: &str) -> Result<Vec<SourceRecord>>;
    fn source(&self, chatbot_id: &str, source_id: &str) -> Result<Option<SourceRecord>>;
    /// Remove a source and its documents (`false`: there was none).
    fn delete_source(&self, chatbot_id: &str, source_id: &str) -> Result<bool>;
    /// Ask for a sync now (`false`: no such source).
    fn queue_source(&self, chatbot_id: &str, source_id: &str) -> Result<bool>;
    /// Sources to sync, claimed until `now + lease` (ms): queued ones, ones whose sync was
    /// interrupted, and ones last synced before `due_before`.
    fn claim_sources(
        &self,
        now: u64,
        due_before: u64,
        lease: u64,
        limit: usize,
    ) -> Result<Vec<SourceRecord>>;
    /// A sync ended: its status and error, and (when it yielded any) the documents that
    /// replace the source's. A source deleted meanwhile stays deleted.
    fn finish_sync(
        &self,
        source_id: &str,
        status: SourceStatus,
        error: Option<&str>,
        documents: Option<&[DocumentRecord]>,
        now: u64,
    ) -> Result<()>;
    /// A source's documents, in the order the sync found them.
    fn documents(&self, source_id: &str) -> Result<Vec<DocumentRecord>>;
    /// Every document of the chatbot's sources, with its source's id (what an index is built from).
    fn knowledge(&self, chatbot_id: &str) -> Result<Vec<(String, DocumentRecord)>>;
    /// Moves on whenever the chatbot's documents change (an index older than it is rebuilt).
    fn knowledge_version(&self, chatbot_id: &str) -> Result<u64>;
    fn put_unanswered(&self, question: &Unanswered) -> Result<()>;
    /// The newest questions first.
    fn unanswered(&self, chatbot_id: &str, limit: usize) -> Result<Vec<Unanswered>>;
}

/// Everything the core keeps: the concerns together.
pub trait Store:
    ConversationStore
    + LivechatStore
    + OutboxStore
    + LimitStore
    + HealthStore
    + KnowledgeStore
    + Send
    + Sync
{
}

impl<T> Store for T where
    T: ConversationStore
        + LivechatStore
        + OutboxStore
        + LimitStore
        + HealthStore
        + KnowledgeStore
        + Send
        + Sync
{
}
