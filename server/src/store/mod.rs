//! What the server keeps: conversations (messages with their parts), form submissions,
//! ratings, identities, classifications, livechat (`livechat.rs`: sessions, agent tokens, agent
//! profiles, settings, attachments) and the webhook outbox (`webhooks.rs`). Takes a
//! [`ConversationKey`] and returns domain types; knows nothing of HTTP. The database is named
//! in the configuration (`database`), created and migrated on start; tests use an in-memory
//! one. A restart loses nothing; `DELETE /api/v1/chat` deletes a visitor's rows from every
//! table.
//!
//! Two databases, one set of queries (`db.rs`): SQLite by default (one file, one connection
//! behind a mutex, WAL journal: every statement is a short indexed read or write, so the lock
//! is held for microseconds even with a thousand streams open), or PostgreSQL
//! (`postgres://…`), which several server instances can share (docs/deploy.md).

use std::path::Path;
use std::sync::Mutex;

use dgbot_protocol::api::{AnswerFeedback, DeleteResponse, FeedbackValue, IdentifyRequest};
use dgbot_protocol::{Message, Role};

use db::{Conn, Db, Dialect, Row, args, sqlite_error, upsert};
use dgbot_core::model::{
    Clock, ConversationKey, OpsCounts, Rating, StoreError, StoreErrorKind, Submission,
};
use dgbot_core::store::{ConversationStore, HealthStore};

pub mod db;
pub mod hub;
mod knowledge;
pub mod livechat;
mod rate_limits;
pub mod schema;
pub mod webhooks;

type Visitor = ConversationKey;

pub use dgbot_core::model::Database;

type Result<T> = std::result::Result<T, StoreError>;

pub struct Store {
    db: Db,
    /// Stamps `created_at` and friends (a manual clock in tests).
    clock: Clock,
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

/// The columns [`message_of`] reads.
const MESSAGE_COLUMNS: &str = "message_id, role, parts, created_at, author";

fn message_of(r: &Row) -> Result<Message> {
    Ok(Message {
        message_id: r.get(0)?,
        role: role_of(&r.get::<String>(1)?),
        parts: serde_json::from_str(&r.get::<String>(2)?)?,
        created_at: Some(r.get(3)?),
        author: r
            .get::<Option<String>>(4)?
            .map(|a| serde_json::from_str(&a))
            .transpose()?,
        feedback: None,
    })
}

/// A vote as [`ConversationStore::put_answer_feedback`] keeps it: columns `value, reason,
/// comment, updated_at` from 0.
fn feedback_of(r: &Row) -> Result<AnswerFeedback> {
    let value: String = r.get(0)?;
    Ok(AnswerFeedback {
        value: match value.as_str() {
            "up" => FeedbackValue::Up,
            "down" => FeedbackValue::Down,
            other => {
                return Err(StoreError::new(
                    StoreErrorKind::Corrupt,
                    format!("answer_feedback.value {other:?}"),
                ));
            }
        },
        reason: r.get(1)?,
        comment: r.get(2)?,
        updated_at: r.get(3)?,
    })
}

fn identity_of(r: &Row, from: usize) -> Result<IdentifyRequest> {
    Ok(IdentifyRequest {
        user_id: r.get(from)?,
        name: r.get(from + 1)?,
        email: r.get(from + 2)?,
        user_hash: r.get(from + 3)?,
        token: None,
    })
}

/// The kind of a file system failure: a full disk, or another.
fn io_kind(e: &std::io::Error) -> StoreErrorKind {
    match e.kind() {
        std::io::ErrorKind::StorageFull | std::io::ErrorKind::QuotaExceeded => StoreErrorKind::Full,
        _ => StoreErrorKind::Unavailable,
    }
}

/// Connections a PostgreSQL store keeps open (per server instance).
const POSTGRES_POOL: usize = 16;

impl Store {
    /// Open (creating if needed) and migrate `database`.
    pub fn connect(database: &Database) -> Result<Store> {
        match database {
            Database::Sqlite(path) => Self::open(path),
            Database::Postgres(url) => {
                Self::with(Db::Postgres(db::Pg::connect(url, POSTGRES_POOL)?))
            }
        }
    }

    /// Open (creating if needed) and migrate the SQLite database at `path`.
    pub fn open(path: &Path) -> Result<Store> {
        if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
            std::fs::create_dir_all(dir)
                .map_err(|e| StoreError::new(io_kind(&e), format!("{}: {e}", dir.display())))?;
        }
        let conn = rusqlite::Connection::open(path).map_err(|e| {
            StoreError::new(
                StoreErrorKind::Unavailable,
                format!("{}: {e}", path.display()),
            )
        })?;
        conn.pragma_update(None, "journal_mode", "WAL")
            .map_err(sqlite_error)?;
        conn.pragma_update(None, "synchronous", "NORMAL")
            .map_err(sqlite_error)?;
        Self::sqlite(conn)
    }

    /// A database that lives as long as the server (tests).
    pub fn in_memory() -> Store {
        Self::sqlite(rusqlite::Connection::open_in_memory().expect("SQLite in memory"))
            .expect("the schema")
    }

    fn sqlite(conn: rusqlite::Connection) -> Result<Store> {
        conn.busy_timeout(std::time::Duration::from_secs(5))
            .map_err(sqlite_error)?;
        Self::with(Db::Sqlite(Mutex::new(conn)))
    }

    fn with(db: Db) -> Result<Store> {
        let store = Store {
            db,
            clock: Clock::system(),
        };
        store.migrate()?;
        Ok(store)
    }

    /// Apply the migrations not applied yet, each in its own transaction. On PostgreSQL an
    /// advisory lock makes instances that start together take turns.
    fn migrate(&self) -> Result<()> {
        match &self.db {
            Db::Sqlite(m) => {
                let conn = m.lock().unwrap_or_else(|e| e.into_inner());
                let version: i64 = conn
                    .pragma_query_value(None, "user_version", |r| r.get(0))
                    .map_err(sqlite_error)?;
                for (i, sql) in schema::SQLITE.iter().enumerate().skip(version as usize) {
                    conn.execute_batch(&format!(
                        "BEGIN; {sql}; PRAGMA user_version = {}; COMMIT;",
                        i + 1
                    ))
                    .map_err(sqlite_error)?;
                }
            }
            Db::Postgres(pg) => {
                let mut conn = pg.conn()?;
                conn.batch(
                    "SELECT pg_advisory_lock(7420001);
                     CREATE TABLE IF NOT EXISTS dgbot_schema (version BIGINT NOT NULL);
                     INSERT INTO dgbot_schema SELECT 0 WHERE NOT EXISTS (SELECT 1 FROM dgbot_schema);",
                )?;
                let applied = (|| -> Result<()> {
                    let version: u64 = conn
                        .row("SELECT version FROM dgbot_schema", &[])?
                        .map_or(Ok(0), |r| r.get(0))?;
                    for (i, sql) in schema::POSTGRES.iter().enumerate().skip(version as usize) {
                        conn.batch(&format!(
                            "BEGIN; {sql}; UPDATE dgbot_schema SET version = {}; COMMIT;",
                            i + 1
                        ))?;
                    }
                    Ok(())
                })();
                let unlocked = conn.batch("SELECT pg_advisory_unlock(7420001)");
                applied.and(unlocked)?;
            }
        }
        Ok(())
    }

    /// Which database this is.
    pub fn dialect(&self) -> Dialect {
        self.db.dialect()
    }

    /// The PostgreSQL pool, when the store is on PostgreSQL (the hub listens there too).
    pub fn postgres(&self) -> Option<&db::Pg> {
        match &self.db {
            Db::Postgres(pg) => Some(pg),
            Db::Sqlite(_) => None,
        }
    }

    /// Run statements on one connection (each commits on its own).
    fn run<R>(&self, work: impl FnOnce(&mut dyn Conn) -> Result<R>) -> Result<R> {
        self.db.with(work)
    }

    fn exec(&self, sql: &str, args: &[db::Value]) -> Result<u64> {
        self.run(|c| c.exec(sql, args))
    }

    fn rows(&self, sql: &str, args: &[db::Value]) -> Result<Vec<Row>> {
        self.run(|c| c.rows(sql, args))
    }

    fn row(&self, sql: &str, args: &[db::Value]) -> Result<Option<Row>> {
        self.run(|c| c.row(sql, args))
    }

    /// Statements in one transaction (see [`Db::tx`]).
    fn tx<R, E: From<StoreError>>(
        &self,
        work: impl FnOnce(&mut dyn Conn) -> std::result::Result<R, E>,
    ) -> std::result::Result<R, E> {
        self.db.tx(work)
    }

    /// The JSON column of the row `sql` finds by one key (settings kept as JSON).
    fn json<T: serde::de::DeserializeOwned>(&self, sql: &str, key: &str) -> Result<Option<T>> {
        self.row(sql, args![key])?
            .map(|r| Ok(serde_json::from_str(&r.get::<String>(0)?)?))
            .transpose()
    }

    /// Stamp rows with this clock's time from now on.
    pub fn use_clock(&mut self, clock: Clock) {
        self.clock = clock;
    }

    fn now(&self) -> String {
        self.clock.rfc3339()
    }

    /// The server secret called `name`, made (32 random bytes) and kept the first time it is
    /// asked for, so it outlives restarts (and every instance on one database shares it).
    pub fn secret(&self, name: &str) -> Result<Vec<u8>> {
        let mut fresh = vec![0u8; 32];
        getrandom::fill(&mut fresh).expect("the OS has a random source");
        self.run(|c| {
            c.exec(
                "INSERT INTO secrets (name, value) VALUES (?1, ?2) ON CONFLICT DO NOTHING",
                args![name, fresh],
            )?;
            c.row("SELECT value FROM secrets WHERE name = ?1", args![name])?
                .ok_or_else(|| StoreError::other(format!("secret {name} not kept")))?
                .get(0)
        })
    }

    pub fn submissions(&self) -> Result<Vec<Submission>> {
        self.rows(
            "SELECT action_id, chatbot_id, visitor_id, part_id, action FROM submissions ORDER BY rowid",
            &[],
        )?
        .iter()
        .map(|r| {
            Ok(Submission {
                action_id: r.get(0)?,
                chatbot_id: r.get(1)?,
                visitor_id: r.get(2)?,
                part_id: r.get(3)?,
                action: serde_json::from_str(&r.get::<String>(4)?)?,
            })
        })
        .collect()
    }

    pub fn ratings(&self) -> Result<Vec<Rating>> {
        self.rows(
            "SELECT chatbot_id, visitor_id, rating, feedback, created_at FROM ratings",
            &[],
        )?
        .iter()
        .map(|r| {
            Ok(Rating {
                chatbot_id: r.get(0)?,
                visitor_id: r.get(1)?,
                rating: r.get(2)?,
                feedback: r.get(3)?,
                created_at: r.get(4)?,
            })
        })
        .collect()
    }

    /// Every stored identity, as (chatbot id, visitor id, identity).
    pub fn identities(&self) -> Result<Vec<(String, String, IdentifyRequest)>> {
        self.rows(
            "SELECT chatbot_id, visitor_id, user_id, name, email, user_hash FROM identities",
            &[],
        )?
        .iter()
        .map(|r| Ok((r.get(0)?, r.get(1)?, identity_of(r, 2)?)))
        .collect()
    }

    /// The visitor's identity from `identify()`, if any.
    pub fn identities_of(&self, visitor: &Visitor) -> Result<Option<IdentifyRequest>> {
        Ok(self.identity_of(visitor)?.map(|(identity, _)| identity))
    }
}

impl HealthStore for Store {
    /// Readiness (`GET /readyz`): the database answers, every migration is applied, and the
    /// tables the requests use are there.
    fn ready(&self) -> Result<()> {
        let (version, expected): (i64, usize) = match &self.db {
            Db::Sqlite(m) => (
                m.lock()
                    .unwrap_or_else(|e| e.into_inner())
                    .pragma_query_value(None, "user_version", |r| r.get(0))
                    .map_err(sqlite_error)?,
                schema::SQLITE.len(),
            ),
            Db::Postgres(_) => (
                self.row("SELECT version FROM dgbot_schema", &[])?
                    .map_or(Ok(0), |r| r.get(0))?,
                schema::POSTGRES.len(),
            ),
        };
        if version != expected as i64 {
            return Err(StoreError::other(format!(
                "schema version {version}, expected {expected}"
            )));
        }
        self.rows(
            "SELECT 1 FROM messages, livechat_sessions, webhook_events, attachments LIMIT 0",
            &[],
        )?;
        Ok(())
    }

    /// What `/metrics` reads from the database: livechat sessions by state, and webhook
    /// events waiting for a (first or next) delivery.
    fn ops_counts(&self) -> Result<OpsCounts> {
        self.run(|c| {
            let sessions = c
                .rows(
                    "SELECT status, COUNT(*) FROM livechat_sessions GROUP BY status",
                    &[],
                )?
                .iter()
                .map(|r| Ok((r.get(0)?, r.get(1)?)))
                .collect::<Result<_>>()?;
            let webhook_queue = c
                .row(
                    "SELECT COUNT(*) FROM webhook_events WHERE state = 'pending'",
                    &[],
                )?
                .map_or(Ok(0), |r| r.get(0))?;
            Ok(OpsCounts {
                sessions,
                webhook_queue,
            })
        })
    }
}

impl ConversationStore for Store {
    fn push(&self, visitor: &Visitor, message: &Message) -> Result<()> {
        self.push_in(visitor, None, None, message).map(|_| ())
    }

    /// Keep what an answer said before it failed. It is history like any message, but a retry
    /// of its question (the same `Idempotency-Key`) gets a new answer, not this one again.
    fn push_partial(&self, visitor: &Visitor, message: &Message) -> Result<()> {
        self.push(visitor, message)?;
        self.exec(
            "UPDATE messages SET partial = 1 WHERE chatbot_id = ?1 AND visitor_id = ?2 AND message_id = ?3",
            args![visitor.chatbot_id, visitor.visitor_id, message.message_id],
        )?;
        Ok(())
    }

    /// Keep `message`, written in livechat session `livechat_session_id` when given. With a
    /// `client_id` the visitor already used, nothing is written and this answers `false`.
    fn push_in(
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
        let written = self.exec(
            "INSERT INTO messages (chatbot_id, visitor_id, message_id, role, parts, created_at, livechat_session_id, author, client_id) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9) ON CONFLICT DO NOTHING",
            args![visitor.chatbot_id, visitor.visitor_id, message.message_id, role_name(message.role), serde_json::to_string(&message.parts)?, created_at, livechat_session_id, author, client_id],
        )?;
        Ok(written == 1)
    }

    /// The visitor's message sent with `client_id`, and the message that came right after it
    /// (its answer, when there is one; an answer cut off by a failure does not count).
    fn by_client_id(
        &self,
        visitor: &Visitor,
        client_id: &str,
    ) -> Result<Option<(Message, Option<Message>)>> {
        let found = self
            .rows(
                &format!("SELECT {MESSAGE_COLUMNS} FROM messages WHERE chatbot_id = ?1 AND visitor_id = ?2 AND seq >= (SELECT seq FROM messages WHERE chatbot_id = ?1 AND visitor_id = ?2 AND client_id = ?3) AND partial = 0 ORDER BY seq LIMIT 2"),
                args![visitor.chatbot_id, visitor.visitor_id, client_id],
            )?
            .iter()
            .map(message_of)
            .collect::<Result<Vec<_>>>()?;
        let mut found = found.into_iter();
        Ok(found.next().map(|sent| (sent, found.next())))
    }

    /// The visitor's conversation, oldest first.
    fn messages(&self, visitor: &Visitor) -> Result<Vec<Message>> {
        self.rows(
            &format!("SELECT {MESSAGE_COLUMNS} FROM messages WHERE chatbot_id = ?1 AND visitor_id = ?2 ORDER BY seq"),
            args![visitor.chatbot_id, visitor.visitor_id],
        )?
        .iter()
        .map(message_of)
        .collect()
    }

    fn submit(&self, s: &Submission) -> Result<()> {
        self.exec(
            "INSERT INTO submissions (action_id, chatbot_id, visitor_id, part_id, action, created_at) VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
            args![s.action_id, s.chatbot_id, s.visitor_id, s.part_id, serde_json::to_string(&s.action)?, self.now()],
        )?;
        Ok(())
    }

    /// Keep the visitor's rating, replacing an earlier one.
    fn rate(&self, r: &Rating) -> Result<()> {
        self.exec(
            &upsert(
                "ratings",
                "chatbot_id, visitor_id, rating, feedback, created_at",
                "chatbot_id, visitor_id",
            ),
            args![
                r.chatbot_id,
                r.visitor_id,
                r.rating,
                r.feedback,
                r.created_at
            ],
        )?;
        Ok(())
    }

    /// Keep who the visitor is on the host site (the latest `identify` counts).
    fn identify(&self, visitor: &Visitor, user: &IdentifyRequest, verified: bool) -> Result<()> {
        self.exec(
            &upsert(
                "identities",
                "chatbot_id, visitor_id, user_id, name, email, user_hash, updated_at, verified",
                "chatbot_id, visitor_id",
            ),
            args![
                visitor.chatbot_id,
                visitor.visitor_id,
                user.user_id,
                user.name,
                user.email,
                user.user_hash,
                self.now(),
                verified
            ],
        )?;
        Ok(())
    }

    /// The visitor's identity and whether it was verified.
    fn identity_of(&self, visitor: &Visitor) -> Result<Option<(IdentifyRequest, bool)>> {
        self.row(
            "SELECT user_id, name, email, user_hash, verified FROM identities WHERE chatbot_id = ?1 AND visitor_id = ?2",
            args![visitor.chatbot_id, visitor.visitor_id],
        )?
        .map(|r| Ok((identity_of(&r, 0)?, r.get(4)?)))
        .transpose()
    }

    /// The visitor's form submissions, oldest first.
    fn submissions_of(&self, visitor: &Visitor) -> Result<Vec<Submission>> {
        Ok(self
            .submissions()?
            .into_iter()
            .filter(|s| s.chatbot_id == visitor.chatbot_id && s.visitor_id == visitor.visitor_id)
            .collect())
    }

    /// Write the topic of the conversation after answer `message_id`.
    fn classified(&self, visitor: &Visitor, message_id: &str, topic: Option<&str>) -> Result<()> {
        self.exec(
            &upsert(
                "classifications",
                "message_id, chatbot_id, visitor_id, topic, created_at",
                "message_id",
            ),
            args![
                message_id,
                visitor.chatbot_id,
                visitor.visitor_id,
                topic,
                self.now()
            ],
        )?;
        Ok(())
    }

    fn classification(
        &self,
        visitor: &Visitor,
        message_id: &str,
    ) -> Result<Option<Option<String>>> {
        self.row(
            "SELECT topic FROM classifications WHERE message_id = ?1 AND chatbot_id = ?2 AND visitor_id = ?3",
            args![message_id, visitor.chatbot_id, visitor.visitor_id],
        )?
        .map(|r| r.get(0))
        .transpose()
    }

    fn put_answer_feedback(
        &self,
        visitor: &Visitor,
        message_id: &str,
        f: &AnswerFeedback,
        next: Option<&str>,
    ) -> Result<(Option<AnswerFeedback>, bool)> {
        self.tx(|c| {
            // Two votes on one answer at once (two instances) take turns.
            c.lock(&format!("answer_feedback:{message_id}"))?;
            let before = c.row(
                &format!(
                    "SELECT value, reason, comment, updated_at, next_message_id FROM answer_feedback WHERE message_id = ?1 AND chatbot_id = ?2 AND visitor_id = ?3{}",
                    c.dialect().for_update()
                ),
                args![message_id, visitor.chatbot_id, visitor.visitor_id],
            )?;
            let (previous, had_next) = match &before {
                Some(r) => (Some(feedback_of(r)?), r.get::<Option<String>>(4)?.is_some()),
                None => (None, false),
            };
            let keep_next = next.is_some() && !had_next;
            c.exec(
                "INSERT INTO answer_feedback (message_id, chatbot_id, visitor_id, value, reason, comment, updated_at, next_message_id) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8) \
                 ON CONFLICT (message_id) DO UPDATE SET value = excluded.value, reason = excluded.reason, comment = excluded.comment, updated_at = excluded.updated_at, \
                 next_message_id = COALESCE(answer_feedback.next_message_id, excluded.next_message_id)",
                args![
                    message_id,
                    visitor.chatbot_id,
                    visitor.visitor_id,
                    f.value.as_str(),
                    f.reason,
                    f.comment,
                    f.updated_at,
                    next.filter(|_| keep_next)
                ],
            )?;
            Ok((previous, keep_next))
        })
    }

    fn answer_feedback(
        &self,
        visitor: &Visitor,
    ) -> Result<std::collections::HashMap<String, AnswerFeedback>> {
        self.rows(
            "SELECT value, reason, comment, updated_at, message_id FROM answer_feedback WHERE chatbot_id = ?1 AND visitor_id = ?2",
            args![visitor.chatbot_id, visitor.visitor_id],
        )?
        .iter()
        .map(|r| Ok((r.get(4)?, feedback_of(r)?)))
        .collect()
    }

    fn delete_from(&self, visitor: &Visitor, message_id: &str) -> Result<usize> {
        self.tx(|c| {
            let who = args![visitor.chatbot_id, visitor.visitor_id, message_id];
            let from = "SELECT message_id FROM messages WHERE chatbot_id = ?1 AND visitor_id = ?2 AND seq >= (SELECT seq FROM messages WHERE chatbot_id = ?1 AND visitor_id = ?2 AND message_id = ?3)";
            for table in ["answer_feedback", "classifications"] {
                c.exec(
                    &format!("DELETE FROM {table} WHERE chatbot_id = ?1 AND visitor_id = ?2 AND message_id IN ({from})"),
                    who,
                )?;
            }
            let gone = c.exec(
                "DELETE FROM messages WHERE chatbot_id = ?1 AND visitor_id = ?2 AND seq >= (SELECT seq FROM messages WHERE chatbot_id = ?1 AND visitor_id = ?2 AND message_id = ?3)",
                who,
            )?;
            Ok(gone as usize)
        })
    }

    /// Remove everything kept about the visitor; returns what was removed.
    fn delete_visitor(&self, visitor: &Visitor) -> Result<DeleteResponse> {
        let counts = self.tx(|c| {
            let who = args![visitor.chatbot_id, visitor.visitor_id];
            // The session's agent tokens first: they are found through the sessions.
            c.exec(
                "DELETE FROM livechat_tokens WHERE session_id IN (SELECT id FROM livechat_sessions WHERE chatbot_id = ?1 AND visitor_id = ?2)",
                who,
            )?;
            let mut delete = |table: &str| {
                c.exec(
                    &format!("DELETE FROM {table} WHERE chatbot_id = ?1 AND visitor_id = ?2"),
                    who,
                )
                .map(|n| n as usize)
            };
            let messages = delete("messages")?;
            let submissions = delete("submissions")?;
            let ratings = delete("ratings")?;
            delete("identities")?;
            delete("classifications")?;
            delete("answer_feedback")?;
            let livechat_sessions = delete("livechat_sessions")?;
            let attachments = delete("attachments")?;
            delete("unanswered")?;
            Ok::<_, StoreError>(DeleteResponse {
                messages,
                submissions,
                ratings,
                livechat_sessions,
                attachments,
            })
        })?;
        Ok(counts)
    }
}
