//! What the server keeps, in SQLite: conversations (messages with their parts), form
//! submissions, ratings, identities, classifications, and livechat (`livechat.rs`: sessions,
//! agent tokens, agent profiles, settings, attachments). Takes a [`ConversationKey`] and returns
//! domain types; knows nothing of HTTP. The database file is named in the
//! configuration (`database`), created and migrated on start; tests use an in-memory one.
//! A restart loses nothing; `DELETE /api/v1/chat` deletes a visitor's rows from every table.
//!
//! One connection behind a mutex, WAL journal: every statement is a short indexed read or
//! write, so the lock is held for microseconds even with a thousand streams open.

use std::collections::HashMap;
use std::path::Path;
use std::sync::Mutex;

use dgbot_protocol::api::{Action, DeleteResponse, IdentifyRequest};
use dgbot_protocol::{Message, Part, Role};
use rusqlite::{Connection, OptionalExtension, params};
use tokio::sync::watch;

use crate::core::{Clock, ConversationKey};

pub mod livechat;
pub mod webhooks;

type Visitor = ConversationKey;

/// The schema, one migration per entry; `PRAGMA user_version` counts those applied.
const MIGRATIONS: &[&str] = &[
    "CREATE TABLE messages (
        seq INTEGER PRIMARY KEY,
        chatbot_id TEXT NOT NULL,
        visitor_id TEXT NOT NULL,
        message_id TEXT NOT NULL UNIQUE,
        role TEXT NOT NULL,
        parts TEXT NOT NULL,
        created_at TEXT NOT NULL
    );
    CREATE INDEX messages_by_visitor ON messages (chatbot_id, visitor_id, seq);
    CREATE TABLE submissions (
        action_id TEXT PRIMARY KEY,
        chatbot_id TEXT NOT NULL,
        visitor_id TEXT NOT NULL,
        part_id TEXT NOT NULL,
        action TEXT NOT NULL,
        created_at TEXT NOT NULL
    );
    CREATE INDEX submissions_by_visitor ON submissions (chatbot_id, visitor_id);
    CREATE TABLE ratings (
        chatbot_id TEXT NOT NULL,
        visitor_id TEXT NOT NULL,
        rating INTEGER NOT NULL,
        feedback TEXT,
        created_at TEXT NOT NULL,
        PRIMARY KEY (chatbot_id, visitor_id)
    );
    CREATE TABLE identities (
        chatbot_id TEXT NOT NULL,
        visitor_id TEXT NOT NULL,
        user_id TEXT NOT NULL,
        name TEXT,
        email TEXT,
        user_hash TEXT,
        updated_at TEXT NOT NULL,
        PRIMARY KEY (chatbot_id, visitor_id)
    );
    CREATE TABLE classifications (
        message_id TEXT PRIMARY KEY,
        chatbot_id TEXT NOT NULL,
        visitor_id TEXT NOT NULL,
        topic TEXT,
        created_at TEXT NOT NULL
    );
    CREATE INDEX classifications_by_visitor ON classifications (chatbot_id, visitor_id);",
    // Livechat (seed 002): messages written in a livechat session carry its id; agent messages
    // their author (agent id, display name, avatar) as JSON.
    "ALTER TABLE messages ADD COLUMN livechat_session_id TEXT;
    ALTER TABLE messages ADD COLUMN author TEXT;
    CREATE INDEX messages_by_livechat_session ON messages (livechat_session_id, seq);
    CREATE TABLE livechat_sessions (
        id TEXT PRIMARY KEY,
        chatbot_id TEXT NOT NULL,
        visitor_id TEXT NOT NULL,
        status TEXT NOT NULL,
        platform TEXT NOT NULL,
        source TEXT NOT NULL,
        part_id TEXT,
        language TEXT NOT NULL,
        requested_at TEXT NOT NULL,
        updated_at TEXT NOT NULL,
        closed_at TEXT,
        closed_by TEXT,
        closed_by_agent_id TEXT,
        close_reason TEXT,
        agent_id TEXT,
        state_version INTEGER NOT NULL,
        agent_typing_until INTEGER NOT NULL DEFAULT 0,
        visitor_typing_until INTEGER NOT NULL DEFAULT 0,
        feedback_status TEXT,
        feedback_rating INTEGER,
        feedback_comment TEXT,
        last_author TEXT,
        message_count INTEGER NOT NULL DEFAULT 0
    );
    CREATE INDEX livechat_sessions_by_visitor ON livechat_sessions (chatbot_id, visitor_id);
    CREATE INDEX livechat_sessions_by_status ON livechat_sessions (chatbot_id, status);
    CREATE TABLE livechat_tokens (
        token_hash TEXT PRIMARY KEY,
        session_id TEXT NOT NULL,
        expires_at INTEGER NOT NULL
    );
    CREATE INDEX livechat_tokens_by_session ON livechat_tokens (session_id);
    CREATE TABLE livechat_agents (
        chatbot_id TEXT NOT NULL,
        agent_id TEXT NOT NULL,
        display_name TEXT NOT NULL,
        avatar_url TEXT,
        updated_at TEXT NOT NULL,
        PRIMARY KEY (chatbot_id, agent_id)
    );
    CREATE TABLE livechat_settings (
        chatbot_id TEXT PRIMARY KEY,
        settings TEXT NOT NULL,
        updated_at TEXT NOT NULL
    );
    CREATE TABLE attachments (
        id TEXT PRIMARY KEY,
        chatbot_id TEXT NOT NULL,
        visitor_id TEXT NOT NULL,
        session_id TEXT NOT NULL,
        filename TEXT NOT NULL,
        mime_type TEXT NOT NULL,
        size_bytes INTEGER NOT NULL,
        data BLOB NOT NULL,
        created_at INTEGER NOT NULL
    );
    CREATE INDEX attachments_by_visitor ON attachments (chatbot_id, visitor_id);
    CREATE INDEX attachments_by_age ON attachments (chatbot_id, created_at);",
    // Idempotent sends: a visitor message's client-generated id (`Idempotency-Key`) is stored
    // once per visitor. Server secrets that must outlive a restart (the token key).
    "ALTER TABLE messages ADD COLUMN client_id TEXT;
    CREATE UNIQUE INDEX messages_by_client_id ON messages (chatbot_id, visitor_id, client_id)
        WHERE client_id IS NOT NULL;
    CREATE TABLE secrets (
        name TEXT PRIMARY KEY,
        value BLOB NOT NULL
    );",
    // Outbound webhooks (seed 002): endpoints set through the API, the outbox, the attempts.
    "CREATE TABLE webhook_configs (
        chatbot_id TEXT PRIMARY KEY,
        config TEXT NOT NULL,
        updated_at TEXT NOT NULL
    );
    CREATE TABLE webhook_events (
        event_id TEXT PRIMARY KEY,
        chatbot_id TEXT NOT NULL,
        type TEXT NOT NULL,
        payload TEXT NOT NULL,
        created_at INTEGER NOT NULL,
        state TEXT NOT NULL,
        attempts INTEGER NOT NULL,
        next_attempt_at INTEGER NOT NULL,
        delivered_at INTEGER
    );
    CREATE INDEX webhook_events_due ON webhook_events (state, next_attempt_at);
    CREATE INDEX webhook_events_by_chatbot ON webhook_events (chatbot_id, created_at);
    CREATE TABLE webhook_attempts (
        delivery_id TEXT PRIMARY KEY,
        event_id TEXT NOT NULL,
        attempt INTEGER NOT NULL,
        at_ms INTEGER NOT NULL,
        status INTEGER,
        error TEXT,
        duration_ms INTEGER NOT NULL
    );
    CREATE INDEX webhook_attempts_by_event ON webhook_attempts (event_id, attempt);",
    // Identities checked against the chatbot's identity secret (seed 000).
    "ALTER TABLE identities ADD COLUMN verified INTEGER NOT NULL DEFAULT 0;",
    // Answers cut off by a failure (kept, but never replayed as a retry's answer).
    "ALTER TABLE messages ADD COLUMN partial INTEGER NOT NULL DEFAULT 0;",
];

/// Counts for the metrics ([`Store::ops_counts`]).
#[derive(Debug, Default)]
pub struct OpsCounts {
    /// `(status, sessions)`, e.g. `("waiting", 2)`.
    pub sessions: Vec<(String, u64)>,
    /// Webhook events pending delivery.
    pub webhook_queue: u64,
}

/// A database failure (disk full, a broken file): the request fails with `500 internal`.
#[derive(Debug)]
pub struct StoreError(pub String);

impl std::fmt::Display for StoreError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "database: {}", self.0)
    }
}

impl From<rusqlite::Error> for StoreError {
    fn from(e: rusqlite::Error) -> Self {
        StoreError(e.to_string())
    }
}

impl From<serde_json::Error> for StoreError {
    fn from(e: serde_json::Error) -> Self {
        StoreError(e.to_string())
    }
}

type Result<T> = std::result::Result<T, StoreError>;

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

/// A classification being made: the topic arrives on the channel (`Some(None)`: it failed).
type Pending = watch::Receiver<Option<Option<String>>>;

pub struct Store {
    db: Mutex<Connection>,
    /// Stamps `created_at` and friends (a manual clock in tests).
    clock: Clock,
    /// Classifications not yet written, by answer id, with the visitor they belong to.
    pending: Mutex<HashMap<String, ((String, String), Pending)>>,
}

fn role_name(role: Role) -> &'static str {
    match role {
        Role::User => "user",
        Role::Assistant => "assistant",
        Role::System => "system",
        Role::Agent => "agent",
    }
}

fn role_of(name: &str) -> Role {
    match name {
        "user" => Role::User,
        "system" => Role::System,
        "agent" => Role::Agent,
        _ => Role::Assistant,
    }
}

type MessageRow = (String, String, String, String, Option<String>);

/// `SELECT message_id, role, parts, created_at, author`.
fn message_row(r: &rusqlite::Row<'_>) -> rusqlite::Result<MessageRow> {
    Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?, r.get(4)?))
}

fn message_of((message_id, role, parts, created_at, author): MessageRow) -> Result<Message> {
    Ok(Message {
        message_id,
        role: role_of(&role),
        parts: serde_json::from_str(&parts)?,
        created_at: Some(created_at),
        author: author.map(|a| serde_json::from_str(&a)).transpose()?,
    })
}

impl Store {
    /// Open (creating if needed) and migrate the database at `path`.
    pub fn open(path: &Path) -> Result<Store> {
        if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
            std::fs::create_dir_all(dir)
                .map_err(|e| StoreError(format!("{}: {e}", dir.display())))?;
        }
        let conn =
            Connection::open(path).map_err(|e| StoreError(format!("{}: {e}", path.display())))?;
        conn.pragma_update(None, "journal_mode", "WAL")?;
        conn.pragma_update(None, "synchronous", "NORMAL")?;
        Self::with(conn)
    }

    /// A database that lives as long as the server (tests).
    pub fn in_memory() -> Store {
        Self::with(Connection::open_in_memory().expect("SQLite in memory")).expect("the schema")
    }

    fn with(conn: Connection) -> Result<Store> {
        conn.busy_timeout(std::time::Duration::from_secs(5))?;
        let version: i64 = conn.pragma_query_value(None, "user_version", |r| r.get(0))?;
        for (i, sql) in MIGRATIONS.iter().enumerate().skip(version as usize) {
            conn.execute_batch(&format!(
                "BEGIN; {sql}; PRAGMA user_version = {}; COMMIT;",
                i + 1
            ))?;
        }
        Ok(Store {
            db: Mutex::new(conn),
            clock: Clock::system(),
            pending: Mutex::new(HashMap::new()),
        })
    }

    /// Readiness (`GET /readyz`): the database answers, every migration is applied, and the
    /// tables the requests use are there.
    pub fn ready(&self) -> Result<()> {
        let db = self.db();
        let version: i64 = db.pragma_query_value(None, "user_version", |r| r.get(0))?;
        if version != MIGRATIONS.len() as i64 {
            return Err(StoreError(format!(
                "schema version {version}, expected {}",
                MIGRATIONS.len()
            )));
        }
        db.prepare_cached(
            "SELECT 1 FROM messages, livechat_sessions, webhook_events, attachments LIMIT 0",
        )?
        .query([])?
        .next()?;
        Ok(())
    }

    /// What `/metrics` reads from the database: livechat sessions by state, and webhook
    /// events waiting for a (first or next) delivery.
    pub fn ops_counts(&self) -> Result<OpsCounts> {
        let db = self.db();
        let sessions = db
            .prepare_cached("SELECT status, COUNT(*) FROM livechat_sessions GROUP BY status")?
            .query_map([], |r| Ok((r.get::<_, String>(0)?, r.get::<_, u64>(1)?)))?
            .collect::<rusqlite::Result<Vec<_>>>()?;
        let webhook_queue = db.query_row(
            "SELECT COUNT(*) FROM webhook_events WHERE state = 'pending'",
            [],
            |r| r.get(0),
        )?;
        Ok(OpsCounts {
            sessions,
            webhook_queue,
        })
    }

    /// Stamp rows with this clock's time from now on.
    pub fn use_clock(&mut self, clock: Clock) {
        self.clock = clock;
    }

    fn now(&self) -> String {
        self.clock.rfc3339()
    }

    fn db(&self) -> std::sync::MutexGuard<'_, Connection> {
        self.db.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// A new id, unique across restarts: `msg_3f9c0a1b2d4e5f60`.
    pub fn next_id(&self, prefix: &str) -> String {
        crate::core::ids::new_id(prefix)
    }

    pub fn push(&self, visitor: &Visitor, message: &Message) -> Result<()> {
        self.push_in(visitor, None, None, message).map(|_| ())
    }

    /// Keep what an answer said before it failed. It is history like any message, but a retry
    /// of its question (the same `Idempotency-Key`) gets a new answer, not this one again.
    pub fn push_partial(&self, visitor: &Visitor, message: &Message) -> Result<()> {
        self.push(visitor, message)?;
        self.db().execute(
            "UPDATE messages SET partial = 1 WHERE chatbot_id = ?1 AND visitor_id = ?2 AND message_id = ?3",
            params![visitor.chatbot_id, visitor.visitor_id, message.message_id],
        )?;
        Ok(())
    }

    /// Keep `message`, written in livechat session `livechat_session_id` when given. With a
    /// `client_id` the visitor already used, nothing is written and this answers `false`.
    pub fn push_in(
        &self,
        visitor: &Visitor,
        livechat_session_id: Option<&str>,
        client_id: Option<&str>,
        message: &Message,
    ) -> Result<bool> {
        let created_at = message.created_at.clone().unwrap_or_else(|| self.now());
        let author = message
            .author
            .as_ref()
            .map(serde_json::to_string)
            .transpose()?;
        let written = self.db().execute(
            "INSERT OR IGNORE INTO messages (chatbot_id, visitor_id, message_id, role, parts, created_at, livechat_session_id, author, client_id) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)",
            params![visitor.chatbot_id, visitor.visitor_id, message.message_id, role_name(message.role), serde_json::to_string(&message.parts)?, created_at, livechat_session_id, author, client_id],
        )?;
        Ok(written == 1)
    }

    /// The visitor's message sent with `client_id`, and the message that came right after it
    /// (its answer, when there is one; an answer cut off by a failure does not count).
    pub fn by_client_id(
        &self,
        visitor: &Visitor,
        client_id: &str,
    ) -> Result<Option<(Message, Option<Message>)>> {
        let db = self.db();
        let mut stmt = db.prepare_cached(
            "SELECT message_id, role, parts, created_at, author FROM messages WHERE chatbot_id = ?1 AND visitor_id = ?2 AND seq >= (SELECT seq FROM messages WHERE chatbot_id = ?1 AND visitor_id = ?2 AND client_id = ?3) AND partial = 0 ORDER BY seq LIMIT 2",
        )?;
        let rows = stmt.query_map(
            params![visitor.chatbot_id, visitor.visitor_id, client_id],
            message_row,
        )?;
        let found: Vec<Message> = rows.map(|row| message_of(row?)).collect::<Result<_>>()?;
        let mut found = found.into_iter();
        Ok(found.next().map(|sent| (sent, found.next())))
    }

    /// The server secret called `name`, made (32 random bytes) and kept the first time it is
    /// asked for, so it outlives restarts.
    pub fn secret(&self, name: &str) -> Result<Vec<u8>> {
        let db = self.db();
        let mut fresh = vec![0u8; 32];
        getrandom::fill(&mut fresh).expect("the OS has a random source");
        db.execute(
            "INSERT OR IGNORE INTO secrets (name, value) VALUES (?1, ?2)",
            params![name, fresh],
        )?;
        Ok(db.query_row(
            "SELECT value FROM secrets WHERE name = ?1",
            params![name],
            |r| r.get(0),
        )?)
    }

    /// The visitor's conversation, oldest first.
    pub fn messages(&self, visitor: &Visitor) -> Result<Vec<Message>> {
        let db = self.db();
        let mut stmt = db.prepare_cached(
            "SELECT message_id, role, parts, created_at, author FROM messages WHERE chatbot_id = ?1 AND visitor_id = ?2 ORDER BY seq",
        )?;
        let rows = stmt.query_map(params![visitor.chatbot_id, visitor.visitor_id], message_row)?;
        rows.map(|row| message_of(row?)).collect()
    }

    /// The marker part with `part_id` in this visitor's conversation.
    pub fn find_part(&self, visitor: &Visitor, part_id: &str) -> Result<Option<Part>> {
        Ok(self
            .messages(visitor)?
            .into_iter()
            .flat_map(|m| m.parts)
            .find(|p| p.part_id() == Some(part_id)))
    }

    pub fn submit(&self, s: &Submission) -> Result<()> {
        self.db().execute(
            "INSERT INTO submissions (action_id, chatbot_id, visitor_id, part_id, action, created_at) VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
            params![s.action_id, s.chatbot_id, s.visitor_id, s.part_id, serde_json::to_string(&s.action)?, self.now()],
        )?;
        Ok(())
    }

    pub fn submissions(&self) -> Result<Vec<Submission>> {
        let db = self.db();
        let mut stmt = db.prepare("SELECT action_id, chatbot_id, visitor_id, part_id, action FROM submissions ORDER BY rowid")?;
        let rows = stmt.query_map([], |r| {
            Ok((
                r.get::<_, String>(0)?,
                r.get::<_, String>(1)?,
                r.get::<_, String>(2)?,
                r.get::<_, String>(3)?,
                r.get::<_, String>(4)?,
            ))
        })?;
        let mut out = vec![];
        for row in rows {
            let (action_id, chatbot_id, visitor_id, part_id, action) = row?;
            out.push(Submission {
                action_id,
                chatbot_id,
                visitor_id,
                part_id,
                action: serde_json::from_str(&action)?,
            });
        }
        Ok(out)
    }

    /// Keep the visitor's rating, replacing an earlier one.
    pub fn rate(&self, r: &Rating) -> Result<()> {
        self.db().execute(
            "INSERT OR REPLACE INTO ratings (chatbot_id, visitor_id, rating, feedback, created_at) VALUES (?1, ?2, ?3, ?4, ?5)",
            params![r.chatbot_id, r.visitor_id, r.rating, r.feedback, r.created_at],
        )?;
        Ok(())
    }

    pub fn ratings(&self) -> Result<Vec<Rating>> {
        let db = self.db();
        let mut stmt =
            db.prepare("SELECT chatbot_id, visitor_id, rating, feedback, created_at FROM ratings")?;
        let rows = stmt.query_map([], |r| {
            Ok(Rating {
                chatbot_id: r.get(0)?,
                visitor_id: r.get(1)?,
                rating: r.get(2)?,
                feedback: r.get(3)?,
                created_at: r.get(4)?,
            })
        })?;
        Ok(rows.collect::<std::result::Result<_, _>>()?)
    }

    /// Keep who the visitor is on the host site (the latest `identify` counts).
    pub fn identify(
        &self,
        visitor: &Visitor,
        user: &IdentifyRequest,
        verified: bool,
    ) -> Result<()> {
        self.db().execute(
            "INSERT OR REPLACE INTO identities (chatbot_id, visitor_id, user_id, name, email, user_hash, updated_at, verified) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)",
            params![visitor.chatbot_id, visitor.visitor_id, user.user_id, user.name, user.email, user.user_hash, self.now(), verified],
        )?;
        Ok(())
    }

    /// The visitor's identity and whether it was verified.
    pub fn identity_of(&self, visitor: &Visitor) -> Result<Option<(IdentifyRequest, bool)>> {
        Ok(self
            .db()
            .query_row(
                "SELECT user_id, name, email, user_hash, verified FROM identities WHERE chatbot_id = ?1 AND visitor_id = ?2",
                params![visitor.chatbot_id, visitor.visitor_id],
                |r| {
                    Ok((
                        IdentifyRequest {
                            user_id: r.get(0)?,
                            name: r.get(1)?,
                            email: r.get(2)?,
                            user_hash: r.get(3)?,
                            token: None,
                        },
                        r.get(4)?,
                    ))
                },
            )
            .optional()?)
    }

    /// Every stored identity, as (chatbot id, visitor id, identity).
    pub fn identities(&self) -> Result<Vec<(String, String, IdentifyRequest)>> {
        let db = self.db();
        let mut stmt = db.prepare(
            "SELECT chatbot_id, visitor_id, user_id, name, email, user_hash FROM identities",
        )?;
        let rows = stmt.query_map([], |r| {
            Ok((
                r.get(0)?,
                r.get(1)?,
                IdentifyRequest {
                    user_id: r.get(2)?,
                    name: r.get(3)?,
                    email: r.get(4)?,
                    user_hash: r.get(5)?,
                    token: None,
                },
            ))
        })?;
        Ok(rows.collect::<std::result::Result<_, _>>()?)
    }

    /// The visitor's identity from `identify()`, if any.
    pub fn identities_of(&self, visitor: &Visitor) -> Result<Option<IdentifyRequest>> {
        Ok(self
            .db()
            .query_row(
                "SELECT user_id, name, email, user_hash FROM identities WHERE chatbot_id = ?1 AND visitor_id = ?2",
                params![visitor.chatbot_id, visitor.visitor_id],
                |r| {
                    Ok(IdentifyRequest {
                        user_id: r.get(0)?,
                        name: r.get(1)?,
                        email: r.get(2)?,
                        user_hash: r.get(3)?,
                        token: None,
                    })
                },
            )
            .optional()?)
    }

    /// The visitor's form submissions, oldest first.
    pub fn submissions_of(&self, visitor: &Visitor) -> Result<Vec<Submission>> {
        Ok(self
            .submissions()?
            .into_iter()
            .filter(|s| s.chatbot_id == visitor.chatbot_id && s.visitor_id == visitor.visitor_id)
            .collect())
    }

    /// Start a classification after answer `message_id`; send the topic on the returned sender
    /// (dropping it unsent means classification failed), then [`Store::classified`] keeps it.
    pub fn expect_classification(
        &self,
        visitor: &Visitor,
        message_id: &str,
    ) -> watch::Sender<Option<Option<String>>> {
        let (tx, rx) = watch::channel(None);
        let key = (visitor.chatbot_id.clone(), visitor.visitor_id.clone());
        self.pending
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .insert(message_id.to_owned(), (key, rx));
        tx
    }

    /// Write the topic of the conversation after answer `message_id`.
    pub fn classified(
        &self,
        visitor: &Visitor,
        message_id: &str,
        topic: Option<&str>,
    ) -> Result<()> {
        self.db().execute(
            "INSERT OR REPLACE INTO classifications (message_id, chatbot_id, visitor_id, topic, created_at) VALUES (?1, ?2, ?3, ?4, ?5)",
            params![message_id, visitor.chatbot_id, visitor.visitor_id, topic, self.now()],
        )?;
        self.pending
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .remove(message_id);
        Ok(())
    }

    /// The classification after answer `message_id` of this visitor: finished (`Ok(Some(Ok))`),
    /// under way (`Ok(Some(Err(receiver)))`), or unknown (`Ok(None)`).
    pub fn classification(
        &self,
        visitor: &Visitor,
        message_id: &str,
    ) -> Result<Option<std::result::Result<Option<String>, Pending>>> {
        let key = (visitor.chatbot_id.clone(), visitor.visitor_id.clone());
        if let Some((owner, rx)) = self
            .pending
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .get(message_id)
        {
            return Ok((*owner == key).then(|| Err(rx.clone())));
        }
        let topic: Option<Option<String>> = self
            .db()
            .query_row(
                "SELECT topic FROM classifications WHERE message_id = ?1 AND chatbot_id = ?2 AND visitor_id = ?3",
                params![message_id, key.0, key.1],
                |r| r.get(0),
            )
            .optional()?;
        Ok(topic.map(Ok))
    }

    /// Remove everything kept about the visitor; returns what was removed.
    pub fn delete_visitor(&self, visitor: &Visitor) -> Result<DeleteResponse> {
        let mut db = self.db();
        let tx = db.transaction()?;
        let who = params![visitor.chatbot_id, visitor.visitor_id];
        let messages = tx.execute(
            "DELETE FROM messages WHERE chatbot_id = ?1 AND visitor_id = ?2",
            who,
        )?;
        let submissions = tx.execute(
            "DELETE FROM submissions WHERE chatbot_id = ?1 AND visitor_id = ?2",
            who,
        )?;
        let ratings = tx.execute(
            "DELETE FROM ratings WHERE chatbot_id = ?1 AND visitor_id = ?2",
            who,
        )?;
        tx.execute(
            "DELETE FROM identities WHERE chatbot_id = ?1 AND visitor_id = ?2",
            who,
        )?;
        tx.execute(
            "DELETE FROM classifications WHERE chatbot_id = ?1 AND visitor_id = ?2",
            who,
        )?;
        tx.execute(
            "DELETE FROM livechat_tokens WHERE session_id IN (SELECT id FROM livechat_sessions WHERE chatbot_id = ?1 AND visitor_id = ?2)",
            who,
        )?;
        let livechat_sessions = tx.execute(
            "DELETE FROM livechat_sessions WHERE chatbot_id = ?1 AND visitor_id = ?2",
            who,
        )?;
        let attachments = tx.execute(
            "DELETE FROM attachments WHERE chatbot_id = ?1 AND visitor_id = ?2",
            who,
        )?;
        tx.commit()?;
        let key = (visitor.chatbot_id.clone(), visitor.visitor_id.clone());
        self.pending
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .retain(|_, (owner, _)| *owner != key);
        Ok(DeleteResponse {
            messages,
            submissions,
            ratings,
            livechat_sessions,
            attachments,
        })
    }
}
