//! What the server keeps, in SQLite: conversations (messages with their parts), form
//! submissions, ratings, identities and classifications. The database file is named in the
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

use crate::auth::Visitor;

/// The schema, one migration per entry; `PRAGMA user_version` counts those applied.
const MIGRATIONS: &[&str] = &["CREATE TABLE messages (
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
    CREATE INDEX classifications_by_visitor ON classifications (chatbot_id, visitor_id);"];

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
            pending: Mutex::new(HashMap::new()),
        })
    }

    fn db(&self) -> std::sync::MutexGuard<'_, Connection> {
        self.db.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// A new id, unique across restarts: `msg_3f9c0a1b2d4e5f60`.
    pub fn next_id(&self, prefix: &str) -> String {
        let mut bytes = [0u8; 8];
        getrandom::fill(&mut bytes).expect("the OS has a random source");
        format!(
            "{prefix}_{}",
            bytes.iter().map(|b| format!("{b:02x}")).collect::<String>()
        )
    }

    pub fn push(&self, visitor: &Visitor, message: &Message) -> Result<()> {
        let created_at = message
            .created_at
            .clone()
            .unwrap_or_else(crate::chat::now_rfc3339);
        self.db().execute(
            "INSERT INTO messages (chatbot_id, visitor_id, message_id, role, parts, created_at) VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
            params![visitor.chatbot_id, visitor.visitor_id, message.message_id, role_name(message.role), serde_json::to_string(&message.parts)?, created_at],
        )?;
        Ok(())
    }

    /// The visitor's conversation, oldest first.
    pub fn messages(&self, visitor: &Visitor) -> Result<Vec<Message>> {
        let db = self.db();
        let mut stmt = db.prepare_cached(
            "SELECT message_id, role, parts, created_at FROM messages WHERE chatbot_id = ?1 AND visitor_id = ?2 ORDER BY seq",
        )?;
        let rows = stmt.query_map(params![visitor.chatbot_id, visitor.visitor_id], |r| {
            Ok((
                r.get::<_, String>(0)?,
                r.get::<_, String>(1)?,
                r.get::<_, String>(2)?,
                r.get::<_, String>(3)?,
            ))
        })?;
        let mut messages = vec![];
        for row in rows {
            let (message_id, role, parts, created_at) = row?;
            let parts: Vec<Part> = serde_json::from_str(&parts)?;
            messages.push(Message {
                message_id,
                role: role_of(&role),
                parts,
                created_at: Some(created_at),
            });
        }
        Ok(messages)
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
            params![s.action_id, s.chatbot_id, s.visitor_id, s.part_id, serde_json::to_string(&s.action)?, crate::chat::now_rfc3339()],
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
    pub fn identify(&self, visitor: &Visitor, user: &IdentifyRequest) -> Result<()> {
        self.db().execute(
            "INSERT OR REPLACE INTO identities (chatbot_id, visitor_id, user_id, name, email, user_hash, updated_at) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
            params![visitor.chatbot_id, visitor.visitor_id, user.user_id, user.name, user.email, user.user_hash, crate::chat::now_rfc3339()],
        )?;
        Ok(())
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
                },
            ))
        })?;
        Ok(rows.collect::<std::result::Result<_, _>>()?)
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
            params![message_id, visitor.chatbot_id, visitor.visitor_id, topic, crate::chat::now_rfc3339()],
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
        })
    }
}
