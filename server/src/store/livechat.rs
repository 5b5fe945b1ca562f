//! Livechat in the database: sessions (one row each, changed only through
//! `update_session`, which reads, changes and writes a row in one transaction holding
//! the row's lock, so two agents racing for one session, on one instance or two, cannot both
//! win), agent tokens (kept as SHA-256 hashes), agent profiles, settings
//! changed through the API, and attachments (bytes in a BLOB).

use super::db::{Conn, Row, args, upsert};
use super::{MESSAGE_COLUMNS, Result, Store, message_of};
use dgbot_core::CoreError;
use dgbot_core::model::{AttachmentMeta, ConversationKey, Session, StoreError};
use dgbot_core::store::{ConversationStore, LivechatStore};
use dgbot_protocol::Message;
use dgbot_protocol::livechat::{ClosedBy, FeedbackStatus, LivechatSettings, LivechatStatus};
use dgbot_protocol::message::Author;

const SESSION_COLUMNS: &str = "id, chatbot_id, visitor_id, status, platform, source, part_id, language, requested_at, updated_at, closed_at, closed_by, closed_by_agent_id, close_reason, agent_id, state_version, agent_typing_until, visitor_typing_until, feedback_status, feedback_rating, feedback_comment, last_author, message_count";

fn closed_by_name(c: ClosedBy) -> &'static str {
    match c {
        ClosedBy::Visitor => "visitor",
        ClosedBy::Agent => "agent",
        ClosedBy::System => "system",
    }
}

fn closed_by_of(s: &str) -> Option<ClosedBy> {
    match s {
        "visitor" => Some(ClosedBy::Visitor),
        "agent" => Some(ClosedBy::Agent),
        "system" => Some(ClosedBy::System),
        _ => None,
    }
}

fn feedback_name(f: FeedbackStatus) -> &'static str {
    match f {
        FeedbackStatus::Pending => "pending",
        FeedbackStatus::Submitted => "submitted",
    }
}

fn session_of(r: &Row) -> Result<Session> {
    let status: String = r.get(3)?;
    Ok(Session {
        id: r.get(0)?,
        key: ConversationKey::new(r.get::<String>(1)?, r.get::<String>(2)?),
        status: LivechatStatus::parse(&status).unwrap_or(LivechatStatus::Closed),
        platform: r.get(4)?,
        source: r.get(5)?,
        part_id: r.get(6)?,
        language: r.get(7)?,
        requested_at: r.get(8)?,
        updated_at: r.get(9)?,
        closed_at: r.get(10)?,
        closed_by: r
            .get::<Option<String>>(11)?
            .as_deref()
            .and_then(closed_by_of),
        closed_by_agent_id: r.get(12)?,
        close_reason: r.get(13)?,
        agent_id: r.get(14)?,
        state_version: r.get(15)?,
        agent_typing_until: r.get(16)?,
        visitor_typing_until: r.get(17)?,
        feedback_status: r.get::<Option<String>>(18)?.as_deref().map(|f| match f {
            "submitted" => FeedbackStatus::Submitted,
            _ => FeedbackStatus::Pending,
        }),
        feedback_rating: r.get(19)?,
        feedback_comment: r.get(20)?,
        last_author: r.get(21)?,
        message_count: r.get(22)?,
    })
}

fn write_session(c: &mut dyn Conn, s: &Session) -> Result<()> {
    c.exec(
        &upsert("livechat_sessions", SESSION_COLUMNS, "id"),
        args![
            s.id,
            s.key.chatbot_id,
            s.key.visitor_id,
            s.status.as_str(),
            s.platform,
            s.source,
            s.part_id,
            s.language,
            s.requested_at,
            s.updated_at,
            s.closed_at,
            s.closed_by.map(closed_by_name),
            s.closed_by_agent_id,
            s.close_reason,
            s.agent_id,
            s.state_version,
            s.agent_typing_until,
            s.visitor_typing_until,
            s.feedback_status.map(feedback_name),
            s.feedback_rating,
            s.feedback_comment,
            s.last_author,
            s.message_count
        ],
    )?;
    Ok(())
}

fn latest(c: &mut dyn Conn, key: &ConversationKey) -> Result<Option<Session>> {
    c.row(
        &format!("SELECT {SESSION_COLUMNS} FROM livechat_sessions WHERE chatbot_id = ?1 AND visitor_id = ?2 ORDER BY state_version DESC LIMIT 1"),
        args![key.chatbot_id, key.visitor_id],
    )?
    .as_ref()
    .map(session_of)
    .transpose()
}

impl Store {
    /// Change session `id` with `change`, atomically: `change` sees the current row and either
    /// edits it (then it is written with `state_version` one higher) or refuses with its own
    /// error. `Ok(None)`: no such session.
    fn update_session_with<E: From<StoreError>>(
        &self,
        id: &str,
        change: impl FnOnce(&mut Session) -> std::result::Result<(), E>,
    ) -> std::result::Result<Option<Session>, E> {
        self.tx(|c| {
            let sql = format!(
                "SELECT {SESSION_COLUMNS} FROM livechat_sessions WHERE id = ?1{}",
                c.dialect().for_update()
            );
            let Some(mut s) = c
                .row(&sql, args![id])?
                .as_ref()
                .map(session_of)
                .transpose()?
            else {
                return Ok(None);
            };
            let before = s.clone();
            change(&mut s)?;
            if s != before {
                s.state_version = before.state_version + 1;
                s.updated_at = self.now();
                write_session(c, &s)?;
            }
            Ok(Some(s))
        })
    }
}

impl LivechatStore for Store {
    /// The visitor's current or last session.
    fn latest_session(&self, key: &ConversationKey) -> Result<Option<Session>> {
        self.run(|c| latest(c, key))
    }

    fn session(&self, id: &str) -> Result<Option<Session>> {
        self.row(
            &format!("SELECT {SESSION_COLUMNS} FROM livechat_sessions WHERE id = ?1"),
            args![id],
        )?
        .as_ref()
        .map(session_of)
        .transpose()
    }

    /// Start `new` unless the visitor has a waiting or active session, which is returned
    /// instead (`false`: nothing was created). The new session's `state_version` continues from
    /// the visitor's last one, so a client's version never goes back.
    fn start_session(&self, mut new: Session) -> Result<(Session, bool)> {
        self.tx(|c| {
            c.lock(&format!(
                "livechat:{}:{}",
                new.key.chatbot_id, new.key.visitor_id
            ))?;
            let last = latest(c, &new.key)?;
            if let Some(s) = &last
                && matches!(s.status, LivechatStatus::Waiting | LivechatStatus::Active)
            {
                return Ok((s.clone(), false));
            }
            new.state_version = last.map_or(1, |s| s.state_version + 1);
            write_session(c, &new)?;
            Ok((new, true))
        })
    }
    fn update_session(
        &self,
        id: &str,
        change: &mut dyn FnMut(&mut Session) -> std::result::Result<(), CoreError>,
    ) -> std::result::Result<Option<Session>, CoreError> {
        self.update_session_with(id, change)
    }

    /// Keep a livechat message and mark who wrote last; returns the session's new
    /// `state_version`, or `None` when the visitor sent this `client_id` before.
    fn push_livechat(
        &self,
        session: &Session,
        author: &str,
        client_id: Option<&str>,
        message: &Message,
    ) -> Result<Option<u64>> {
        if !self.push_in(&session.key, Some(&session.id), client_id, message)? {
            return Ok(None); // sent before with this client id: nothing changes
        }
        let s = self.update_session_with::<StoreError>(&session.id, |s| {
            s.last_author = Some(author.to_owned());
            // A message also ends its author's typing.
            match author {
                "agent" => s.agent_typing_until = 0,
                _ => s.visitor_typing_until = 0,
            }
            s.message_count += 1;
            Ok(())
        })?;
        Ok(Some(s.map_or(0, |s| s.state_version)))
    }

    /// Livechat messages of the visitor (all sessions), oldest first; only those after message
    /// `after` when given (an unknown id: all of them).
    fn livechat_messages(
        &self,
        key: &ConversationKey,
        after: Option<&str>,
    ) -> Result<Vec<Message>> {
        self.run(|c| {
            let after_seq: i64 = match after {
                Some(id) => c
                    .row(
                        "SELECT seq FROM messages WHERE message_id = ?1 AND chatbot_id = ?2 AND visitor_id = ?3",
                        args![id, key.chatbot_id, key.visitor_id],
                    )?
                    .map_or(Ok(0), |r| r.get(0))?,
                None => 0,
            };
            c.rows(
                &format!("SELECT {MESSAGE_COLUMNS} FROM messages WHERE chatbot_id = ?1 AND visitor_id = ?2 AND livechat_session_id IS NOT NULL AND seq > ?3 ORDER BY seq"),
                args![key.chatbot_id, key.visitor_id, after_seq],
            )?
            .iter()
            .map(message_of)
            .collect()
        })
    }

    /// Sessions of a chatbot, newest first, optionally of one status.
    fn sessions(&self, chatbot_id: &str, status: Option<LivechatStatus>) -> Result<Vec<Session>> {
        self.rows(
            &format!("SELECT {SESSION_COLUMNS} FROM livechat_sessions WHERE chatbot_id = ?1 AND (CAST(?2 AS TEXT) IS NULL OR status = ?2) ORDER BY requested_at DESC, rowid DESC"),
            args![chatbot_id, status.map(LivechatStatus::as_str)],
        )?
        .iter()
        .map(session_of)
        .collect()
    }

    /// Keep an agent token (its SHA-256 hash) for `session_id` until `expires_at` (unix s).
    fn add_session_token(&self, token_hash: &str, session_id: &str, expires_at: u64) -> Result<()> {
        self.run(|c| {
            // Forget expired tokens as we go.
            c.exec(
                "DELETE FROM livechat_tokens WHERE expires_at < ?1",
                args![expires_at.saturating_sub(7 * 86_400)],
            )?;
            c.exec(
                "INSERT INTO livechat_tokens (token_hash, session_id, expires_at) VALUES (?1, ?2, ?3)",
                args![token_hash, session_id, expires_at],
            )?;
            Ok(())
        })
    }

    /// The session and expiry (unix s) of an agent token, by its hash.
    fn session_token(&self, token_hash: &str) -> Result<Option<(String, u64)>> {
        self.row(
            "SELECT session_id, expires_at FROM livechat_tokens WHERE token_hash = ?1",
            args![token_hash],
        )?
        .map(|r| Ok((r.get(0)?, r.get(1)?)))
        .transpose()
    }

    fn put_agent(&self, chatbot_id: &str, agent: &Author) -> Result<()> {
        self.exec(
            &upsert(
                "livechat_agents",
                "chatbot_id, agent_id, display_name, avatar_url, updated_at",
                "chatbot_id, agent_id",
            ),
            args![
                chatbot_id,
                agent.agent_id,
                agent.display_name,
                agent.avatar_url,
                self.now()
            ],
        )?;
        Ok(())
    }

    fn agent(&self, chatbot_id: &str, agent_id: &str) -> Result<Option<Author>> {
        self.row(
            "SELECT agent_id, display_name, avatar_url FROM livechat_agents WHERE chatbot_id = ?1 AND agent_id = ?2",
            args![chatbot_id, agent_id],
        )?
        .map(|r| {
            Ok(Author {
                agent_id: r.get(0)?,
                display_name: r.get(1)?,
                avatar_url: r.get(2)?,
            })
        })
        .transpose()
    }

    /// Livechat settings set through the API (they win over the configuration file).
    fn livechat_settings(&self, chatbot_id: &str) -> Result<Option<LivechatSettings>> {
        self.json(
            "SELECT settings FROM livechat_settings WHERE chatbot_id = ?1",
            chatbot_id,
        )
    }

    fn put_livechat_settings(&self, chatbot_id: &str, settings: &LivechatSettings) -> Result<()> {
        self.exec(
            &upsert(
                "livechat_settings",
                "chatbot_id, settings, updated_at",
                "chatbot_id",
            ),
            args![chatbot_id, serde_json::to_string(settings)?, self.now()],
        )?;
        Ok(())
    }

    fn put_attachment(&self, meta: &AttachmentMeta, data: &[u8]) -> Result<()> {
        self.exec(
            "INSERT INTO attachments (id, chatbot_id, visitor_id, session_id, filename, mime_type, size_bytes, data, created_at) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)",
            args![meta.id, meta.key.chatbot_id, meta.key.visitor_id, meta.session_id, meta.filename, meta.mime_type, meta.size_bytes, data, meta.created_at],
        )?;
        Ok(())
    }

    /// An attachment and its bytes.
    fn attachment(&self, id: &str) -> Result<Option<(AttachmentMeta, Vec<u8>)>> {
        self.row(
            "SELECT id, chatbot_id, visitor_id, session_id, filename, mime_type, size_bytes, created_at, data FROM attachments WHERE id = ?1",
            args![id],
        )?
        .map(|r| {
            Ok((
                AttachmentMeta {
                    id: r.get(0)?,
                    key: ConversationKey::new(r.get::<String>(1)?, r.get::<String>(2)?),
                    session_id: r.get(3)?,
                    filename: r.get(4)?,
                    mime_type: r.get(5)?,
                    size_bytes: r.get(6)?,
                    created_at: r.get(7)?,
                },
                r.get(8)?,
            ))
        })
        .transpose()
    }

    /// Delete a chatbot's attachments created before `before` (unix s); returns how many.
    fn purge_attachments(&self, chatbot_id: &str, before: u64) -> Result<usize> {
        Ok(self.exec(
            "DELETE FROM attachments WHERE chatbot_id = ?1 AND created_at < ?2",
            args![chatbot_id, before],
        )? as usize)
    }
}
