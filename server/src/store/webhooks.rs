//! The webhook outbox in SQLite: events (written before their first attempt, so a crash or a
//! restart never loses one), their delivery attempts, and endpoints set through the API.

use rusqlite::{OptionalExtension, params};

use super::{Result, Store};
use crate::webhooks::WebhookConfig;

/// One event on its way to (or delivered to) the chatbot's endpoint.
#[derive(Debug, Clone, PartialEq)]
pub struct OutboxEvent {
    pub event_id: String,
    pub chatbot_id: String,
    pub event_type: String,
    /// The JSON body, as signed and sent.
    pub payload: String,
    /// Unix seconds.
    pub created_at: u64,
    /// `pending` (to be tried, or retried), `delivered`, `failed` (attempts used up), `dead`
    /// (expired without delivery).
    pub state: String,
    pub attempts: u32,
    pub next_attempt_at: u64,
    pub delivered_at: Option<u64>,
}

/// One HTTP delivery attempt.
#[derive(Debug, Clone, PartialEq)]
pub struct Attempt {
    pub delivery_id: String,
    pub event_id: String,
    pub attempt: u32,
    /// Unix milliseconds.
    pub at_ms: u64,
    pub status: Option<u16>,
    pub error: Option<String>,
    pub duration_ms: u64,
}

const EVENT_COLUMNS: &str = "event_id, chatbot_id, type, payload, created_at, state, attempts, next_attempt_at, delivered_at";

fn event_row(r: &rusqlite::Row<'_>) -> rusqlite::Result<OutboxEvent> {
    Ok(OutboxEvent {
        event_id: r.get(0)?,
        chatbot_id: r.get(1)?,
        event_type: r.get(2)?,
        payload: r.get(3)?,
        created_at: r.get(4)?,
        state: r.get(5)?,
        attempts: r.get(6)?,
        next_attempt_at: r.get(7)?,
        delivered_at: r.get(8)?,
    })
}

impl Store {
    pub fn webhook_config(&self, chatbot_id: &str) -> Result<Option<WebhookConfig>> {
        let json: Option<String> = self
            .db()
            .query_row(
                "SELECT config FROM webhook_configs WHERE chatbot_id = ?1",
                params![chatbot_id],
                |r| r.get(0),
            )
            .optional()?;
        Ok(json.map(|j| serde_json::from_str(&j)).transpose()?)
    }

    pub fn put_webhook_config(&self, chatbot_id: &str, config: &WebhookConfig) -> Result<()> {
        self.db().execute(
            "INSERT OR REPLACE INTO webhook_configs (chatbot_id, config, updated_at) VALUES (?1, ?2, ?3)",
            params![chatbot_id, serde_json::to_string(config)?, self.now()],
        )?;
        Ok(())
    }

    pub fn enqueue_webhook(&self, e: &OutboxEvent) -> Result<()> {
        self.db().execute(
            &format!("INSERT INTO webhook_events ({EVENT_COLUMNS}) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)"),
            params![e.event_id, e.chatbot_id, e.event_type, e.payload, e.created_at, e.state, e.attempts, e.next_attempt_at, e.delivered_at],
        )?;
        Ok(())
    }

    /// Pending events due by `now`, oldest first, claimed: their next attempt moves `lease`
    /// seconds ahead, so a second worker (or a slow attempt) does not send them twice.
    pub fn claim_due_webhooks(
        &self,
        now: u64,
        lease: u64,
        limit: usize,
    ) -> Result<Vec<OutboxEvent>> {
        let mut db = self.db();
        let tx = db.transaction()?;
        let due: Vec<OutboxEvent> = {
            let mut stmt = tx.prepare_cached(&format!(
                "SELECT {EVENT_COLUMNS} FROM webhook_events WHERE state = 'pending' AND next_attempt_at <= ?1 ORDER BY next_attempt_at, created_at LIMIT ?2"
            ))?;
            let rows = stmt.query_map(params![now, limit as u64], event_row)?;
            rows.collect::<rusqlite::Result<_>>()?
        };
        for e in &due {
            tx.execute(
                "UPDATE webhook_events SET next_attempt_at = ?2 WHERE event_id = ?1",
                params![e.event_id, now + lease],
            )?;
        }
        tx.commit()?;
        Ok(due)
    }

    /// The earliest next attempt of a pending event (the worker sleeps until then).
    pub fn next_webhook_due(&self) -> Result<Option<u64>> {
        Ok(self.db().query_row(
            "SELECT MIN(next_attempt_at) FROM webhook_events WHERE state = 'pending'",
            [],
            |r| r.get(0),
        )?)
    }

    /// Record an attempt and the event's new state.
    pub fn webhook_attempted(
        &self,
        attempt: &Attempt,
        state: &str,
        next_attempt_at: u64,
        delivered_at: Option<u64>,
    ) -> Result<()> {
        let mut db = self.db();
        let tx = db.transaction()?;
        tx.execute(
            "INSERT INTO webhook_attempts (delivery_id, event_id, attempt, at_ms, status, error, duration_ms) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
            params![attempt.delivery_id, attempt.event_id, attempt.attempt, attempt.at_ms, attempt.status, attempt.error, attempt.duration_ms],
        )?;
        tx.execute(
            "UPDATE webhook_events SET attempts = ?2, state = ?3, next_attempt_at = ?4, delivered_at = COALESCE(?5, delivered_at) WHERE event_id = ?1",
            params![attempt.event_id, attempt.attempt, state, next_attempt_at, delivered_at],
        )?;
        tx.commit()?;
        Ok(())
    }

    /// An event of `chatbot_id` created after `since` (older ones have expired).
    pub fn webhook_event(
        &self,
        chatbot_id: &str,
        event_id: &str,
        since: u64,
    ) -> Result<Option<OutboxEvent>> {
        Ok(self
            .db()
            .query_row(
                &format!("SELECT {EVENT_COLUMNS} FROM webhook_events WHERE event_id = ?1 AND chatbot_id = ?2 AND created_at > ?3"),
                params![event_id, chatbot_id, since],
                event_row,
            )
            .optional()?)
    }

    /// Any event by id, expired or not (for the worker and for tests of expiry).
    pub fn webhook_event_any(&self, event_id: &str) -> Result<Option<OutboxEvent>> {
        Ok(self
            .db()
            .query_row(
                &format!("SELECT {EVENT_COLUMNS} FROM webhook_events WHERE event_id = ?1"),
                params![event_id],
                event_row,
            )
            .optional()?)
    }

    pub fn webhook_attempts(&self, event_id: &str) -> Result<Vec<Attempt>> {
        let db = self.db();
        let mut stmt = db.prepare_cached(
            "SELECT delivery_id, event_id, attempt, at_ms, status, error, duration_ms FROM webhook_attempts WHERE event_id = ?1 ORDER BY attempt, at_ms",
        )?;
        let rows = stmt.query_map(params![event_id], |r| {
            Ok(Attempt {
                delivery_id: r.get(0)?,
                event_id: r.get(1)?,
                attempt: r.get(2)?,
                at_ms: r.get(3)?,
                status: r.get(4)?,
                error: r.get(5)?,
                duration_ms: r.get(6)?,
            })
        })?;
        Ok(rows.collect::<rusqlite::Result<_>>()?)
    }

    /// A page of a chatbot's unexpired events, newest first, optionally of one type and state;
    /// `before`: an event id from the previous page.
    pub fn webhook_events(
        &self,
        chatbot_id: &str,
        since: u64,
        event_type: Option<&str>,
        state: Option<&str>,
        before: Option<&str>,
        limit: usize,
    ) -> Result<Vec<OutboxEvent>> {
        let db = self.db();
        let before_rowid: i64 = match before {
            Some(id) => db
                .query_row(
                    "SELECT rowid FROM webhook_events WHERE event_id = ?1",
                    params![id],
                    |r| r.get(0),
                )
                .optional()?
                .unwrap_or(i64::MAX),
            None => i64::MAX,
        };
        let mut stmt = db.prepare_cached(&format!(
            "SELECT {EVENT_COLUMNS} FROM webhook_events WHERE chatbot_id = ?1 AND created_at > ?2 AND (?3 IS NULL OR type = ?3) AND (?4 IS NULL OR state = ?4) AND rowid < ?5 ORDER BY rowid DESC LIMIT ?6"
        ))?;
        let rows = stmt.query_map(
            params![
                chatbot_id,
                since,
                event_type,
                state,
                before_rowid,
                limit as u64
            ],
            event_row,
        )?;
        Ok(rows.collect::<rusqlite::Result<_>>()?)
    }

    /// Deliver event `event_id` again now (`pending`, due at `now`).
    pub fn replay_webhook(&self, event_id: &str, now: u64) -> Result<()> {
        self.db().execute(
            "UPDATE webhook_events SET state = 'pending', next_attempt_at = ?2 WHERE event_id = ?1",
            params![event_id, now],
        )?;
        Ok(())
    }

    /// Expiry: events created before `expired_before` that were never delivered become
    /// `dead`; those created before `delete_before` are removed with their attempts.
    pub fn expire_webhooks(
        &self,
        expired_before: u64,
        delete_before: u64,
    ) -> Result<(usize, usize)> {
        let mut db = self.db();
        let tx = db.transaction()?;
        let dead = tx.execute(
            "UPDATE webhook_events SET state = 'dead' WHERE created_at <= ?1 AND state IN ('pending', 'failed')",
            params![expired_before],
        )?;
        tx.execute(
            "DELETE FROM webhook_attempts WHERE event_id IN (SELECT event_id FROM webhook_events WHERE created_at <= ?1)",
            params![delete_before],
        )?;
        let deleted = tx.execute(
            "DELETE FROM webhook_events WHERE created_at <= ?1",
            params![delete_before],
        )?;
        tx.commit()?;
        Ok((dead, deleted))
    }
}
